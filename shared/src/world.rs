//! A world snapshot: every networked entity of one game at one tick, as rows of the game's
//! declared fields ([`crate::schema`]) in the quantised form the wire carries.

use crate::schema::{Replicated, Schema};

/// An entity's network id. The server derives it from the entity's slotmap key, so `version`
/// changes whenever a slot is reused and a client can never mistake a new entity for the one that
/// held the slot before.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode,
)]
pub struct NetId {
    pub index: u32,
    pub version: u32,
}

impl NetId {
    pub fn new(index: u32, version: u32) -> NetId {
        NetId { index, version }
    }
}

/// Every entity at one tick, sorted by [`NetId`] so diffs are a linear merge and the checksum is
/// independent of insertion order. Each entity is a row of `i32`s, one per field of the schema.
///
/// At most one entity per [`NetId::index`]: the slotmap holds one live version per slot. So an
/// index alone names an entity of a given world, which is what lets a delta refer to the
/// baseline's entities by index only.
#[derive(Clone, PartialEq, Eq)]
pub struct World {
    schema: &'static Schema,
    ids: Vec<NetId>,
    /// `ids.len()` rows of `schema.len()` values.
    values: Vec<i32>,
}

impl World {
    /// The empty world of a schema.
    pub fn new(schema: &'static Schema) -> World {
        World::with_capacity(schema, 0)
    }

    pub fn with_capacity(schema: &'static Schema, entities: usize) -> World {
        World {
            schema,
            ids: Vec::with_capacity(entities),
            values: Vec::with_capacity(entities * schema.len()),
        }
    }

    /// Builds a world of declared entities in any order. A later entity with the same index (the
    /// same id, or another version of its slot) replaces an earlier one.
    pub fn from_entities<T: Replicated>(entities: Vec<(NetId, T)>) -> World {
        let mut entities = entities;
        // A stable sort keeps input order among equal indexes; reversed, the latest comes first
        // and `dedup` keeps it.
        entities.sort_by_key(|(id, _)| id.index);
        entities.reverse();
        entities.dedup_by_key(|(id, _)| id.index);
        entities.reverse();
        let mut world = World::with_capacity(T::SCHEMA, entities.len());
        for (id, e) in &entities {
            world.push_entity(*id, e);
        }
        world
    }

    pub fn schema(&self) -> &'static Schema {
        self.schema
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn ids(&self) -> &[NetId] {
        &self.ids
    }

    /// The row of the `at`-th entity (in index order).
    pub fn row(&self, at: usize) -> &[i32] {
        let n = self.schema.len();
        &self.values[at * n..(at + 1) * n]
    }

    /// Every row back to back, in index order.
    pub fn values(&self) -> &[i32] {
        &self.values
    }

    /// Every entity with its row, in index order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (NetId, &[i32])> + '_ {
        (0..self.len()).map(move |at| (self.ids[at], self.row(at)))
    }

    /// Every entity read as the declared type `T`; rows `T` does not admit (another schema) are
    /// skipped.
    pub fn entities<T: Replicated>(&self) -> impl Iterator<Item = (NetId, T)> + '_ {
        (0..self.len()).filter_map(move |at| Some((self.ids[at], T::read_row(self.row(at))?)))
    }

    pub fn get(&self, id: NetId) -> Option<&[i32]> {
        self.ids.binary_search(&id).ok().map(|at| self.row(at))
    }

    /// The entity in slot `index`, whatever its version.
    pub fn get_index(&self, index: u32) -> Option<(NetId, &[i32])> {
        self.ids
            .binary_search_by_key(&index, |id| id.index)
            .ok()
            .map(|at| (self.ids[at], self.row(at)))
    }

    /// Appends an entity whose index is above every index already here. Returns `false` (and
    /// changes nothing) if it is not, or if the row has the wrong length.
    pub fn push(&mut self, id: NetId, row: &[i32]) -> bool {
        if row.len() != self.schema.len() || self.ids.last().is_some_and(|l| l.index >= id.index) {
            return false;
        }
        self.ids.push(id);
        self.values.extend_from_slice(row);
        true
    }

    /// [`World::push`] of a declared entity.
    pub fn push_entity<T: Replicated>(&mut self, id: NetId, entity: &T) -> bool {
        // The row length keeps the table sound; that `T` is this world's game is the caller's
        // to know (comparing whole schemas per entity would cost more than the push).
        if T::SCHEMA.len() != self.schema.len()
            || self.ids.last().is_some_and(|l| l.index >= id.index)
        {
            return false;
        }
        entity.append_row(&mut self.values);
        self.ids.push(id);
        true
    }

    /// Appends without the checks of [`World::push`]; callers keep the invariants.
    pub(crate) fn push_unchecked(&mut self, id: NetId, row: &[i32]) {
        debug_assert!(self.ids.last().is_none_or(|l| l.index < id.index));
        debug_assert_eq!(row.len(), self.schema.len());
        self.ids.push(id);
        self.values.extend_from_slice(row);
    }

    /// Empties the world and makes it one of `schema` with room for `entities`, keeping the
    /// allocation.
    pub fn reset(&mut self, schema: &'static Schema, entities: usize) {
        self.schema = schema;
        self.clear();
        self.ids.reserve(entities);
        self.values.reserve(entities * schema.len());
    }

    /// Removes every entity, keeping the allocation.
    pub fn clear(&mut self) {
        self.ids.clear();
        self.values.clear();
    }
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("schema", &self.schema.name)
            .field("entities", &self.iter().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::games::arena::{ArenaEntity, ArenaKind};

    fn orb(x: i32) -> ArenaEntity {
        ArenaEntity::new(ArenaKind::Orb, x, x)
    }

    #[test]
    fn from_entities_sorts_and_keeps_the_later_duplicate() {
        let a = NetId::new(2, 1);
        let b = NetId::new(1, 1);
        let world = World::from_entities(vec![(a, orb(1)), (b, orb(2)), (a, orb(3))]);
        assert_eq!(world.len(), 2, "duplicate id collapsed");
        assert_eq!(world.ids()[0], b, "sorted by id");
        let got: Vec<(NetId, ArenaEntity)> = world.entities().collect();
        assert_eq!(got[1], (a, orb(3)), "later duplicate wins");
    }

    #[test]
    fn from_entities_keeps_one_entity_per_slot_the_later_one() {
        let world = World::from_entities(vec![
            (NetId::new(4, 2), orb(1)),
            (NetId::new(4, 1), orb(2)),
            (NetId::new(3, 1), orb(3)),
        ]);
        assert_eq!(world.len(), 2, "two versions of slot 4 collapsed to one");
        assert_eq!(
            world.get_index(4).map(|(id, _)| id),
            Some(NetId::new(4, 1)),
            "the later version of slot 4 wins"
        );
    }

    #[test]
    fn push_refuses_what_would_break_the_order_or_the_row_length() {
        let mut world = World::new(ArenaEntity::SCHEMA);
        assert!(world.push_entity(NetId::new(2, 1), &orb(0)), "first");
        assert!(
            !world.push_entity(NetId::new(1, 1), &orb(0)),
            "a lower index"
        );
        assert!(
            !world.push_entity(NetId::new(2, 2), &orb(0)),
            "two versions of one slot"
        );
        assert!(!world.push(NetId::new(3, 1), &[1, 2]), "a short row");
        assert_eq!(world.len(), 1, "nothing refused was added");
    }
}
