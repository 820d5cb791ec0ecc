//! A world snapshot: every networked entity at one tick, in the quantised form the wire carries.

use bincode::de::Decoder;
use bincode::error::DecodeError;
use bincode::{Decode, Encode};

/// An entity's network id. The server derives it from the entity's slotmap key, so `version`
/// changes whenever a slot is reused and a client can never mistake a new entity for the one that
/// held the slot before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct NetId {
    pub index: u32,
    pub version: u32,
}

impl NetId {
    pub fn new(index: u32, version: u32) -> NetId {
        NetId { index, version }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub enum EntityKind {
    Player,
    Projectile,
    Orb,
    Drone,
}

/// Bits of [`EntityState::flags`].
pub mod flags {
    pub const DEAD: u8 = 1 << 0;
    pub const DASHING: u8 = 1 << 1;
    pub const FIRING: u8 = 1 << 2;
}

/// The networked state of one entity. Positions are fixed point (see [`crate::quant`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub struct EntityState {
    pub kind: EntityKind,
    /// The player id that owns it (players, projectiles); 0 for none.
    pub owner: u32,
    pub x: i32,
    pub y: i32,
    pub aim: u16,
    pub health: i32,
    pub score: i32,
    pub flags: u8,
}

impl EntityState {
    pub fn new(kind: EntityKind, x: i32, y: i32) -> EntityState {
        EntityState {
            kind,
            owner: 0,
            x,
            y,
            aim: 0,
            health: 0,
            score: 0,
            flags: 0,
        }
    }
}

/// Every entity at one tick, sorted by [`NetId`] so diffs are a linear merge and the checksum is
/// independent of insertion order.
///
/// At most one entity per [`NetId::index`]: the slotmap holds one live version per slot. So an
/// index alone names an entity of a given world, which is what lets a delta refer to the
/// baseline's entities by index only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode)]
pub struct World {
    entities: Vec<(NetId, EntityState)>,
}

impl World {
    pub fn new() -> World {
        World::default()
    }

    /// Builds a world from entities in any order. A later entity with the same index (the same
    /// id, or another version of its slot) replaces an earlier one.
    pub fn from_entities(mut entities: Vec<(NetId, EntityState)>) -> World {
        // A stable sort keeps input order among equal indexes; reversed, the latest comes first
        // and `dedup` keeps it.
        entities.sort_by_key(|(id, _)| id.index);
        entities.reverse();
        entities.dedup_by_key(|(id, _)| id.index);
        entities.reverse();
        World { entities }
    }

    /// Builds a world from entities already sorted by strictly increasing index (so at most one
    /// per index), as the simulation produces them. Returns `None` if they are not.
    pub fn from_sorted(entities: Vec<(NetId, EntityState)>) -> Option<World> {
        entities
            .windows(2)
            .all(|w| w[0].0.index < w[1].0.index)
            .then_some(World { entities })
    }

    pub fn entities(&self) -> &[(NetId, EntityState)] {
        &self.entities
    }

    pub fn len(&self) -> usize {
        self.entities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    pub fn get(&self, id: NetId) -> Option<&EntityState> {
        self.entities
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .map(|at| &self.entities[at].1)
    }

    /// The entity in slot `index`, whatever its version.
    pub fn get_index(&self, index: u32) -> Option<&(NetId, EntityState)> {
        self.entities
            .binary_search_by_key(&index, |(i, _)| i.index)
            .ok()
            .map(|at| &self.entities[at])
    }

    pub(crate) fn from_sorted_unchecked(entities: Vec<(NetId, EntityState)>) -> World {
        debug_assert!(entities.windows(2).all(|w| w[0].0.index < w[1].0.index));
        World { entities }
    }
}

/// Decoding checks the invariants, so a decoded world is as good as a built one.
impl<Context> Decode<Context> for World {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        let entities = Vec::<(NetId, EntityState)>::decode(decoder)?;
        World::from_sorted(entities).ok_or(DecodeError::Other(
            "world entities not sorted by strictly increasing index",
        ))
    }
}

bincode::impl_borrow_decode!(World);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_entities_sorts_and_keeps_the_later_duplicate() {
        let a = NetId::new(2, 1);
        let b = NetId::new(1, 1);
        let world = World::from_entities(vec![
            (a, EntityState::new(EntityKind::Orb, 1, 1)),
            (b, EntityState::new(EntityKind::Orb, 2, 2)),
            (a, EntityState::new(EntityKind::Orb, 3, 3)),
        ]);
        assert_eq!(world.len(), 2, "duplicate id collapsed");
        assert_eq!(world.entities()[0].0, b, "sorted by id");
        assert_eq!(world.get(a).map(|e| e.x), Some(3), "later duplicate wins");
    }

    #[test]
    fn from_entities_keeps_one_entity_per_slot_the_later_one() {
        let world = World::from_entities(vec![
            (NetId::new(4, 2), EntityState::new(EntityKind::Orb, 1, 1)),
            (NetId::new(4, 1), EntityState::new(EntityKind::Orb, 2, 2)),
            (NetId::new(3, 1), EntityState::new(EntityKind::Orb, 3, 3)),
        ]);
        assert_eq!(world.len(), 2, "two versions of slot 4 collapsed to one");
        assert_eq!(
            world.get_index(4).map(|(id, e)| (*id, e.x)),
            Some((NetId::new(4, 1), 2)),
            "the later version of slot 4 wins"
        );
    }

    #[test]
    fn from_sorted_rejects_unsorted_input() {
        let e = EntityState::new(EntityKind::Orb, 0, 0);
        assert!(
            World::from_sorted(vec![(NetId::new(2, 1), e), (NetId::new(1, 1), e)]).is_none(),
            "unsorted input must be refused"
        );
    }

    #[test]
    fn from_sorted_rejects_two_versions_of_one_slot() {
        let e = EntityState::new(EntityKind::Orb, 0, 0);
        assert!(
            World::from_sorted(vec![(NetId::new(2, 1), e), (NetId::new(2, 2), e)]).is_none(),
            "one live version per slot"
        );
    }

    #[test]
    fn decoding_a_world_checks_its_invariant() {
        let e = EntityState::new(EntityKind::Orb, 0, 0);
        let world = World::from_entities(vec![(NetId::new(1, 1), e), (NetId::new(2, 1), e)]);
        let bytes = crate::codec::encode_value(&world);
        assert_eq!(
            crate::codec::decode_value::<World>(&bytes, 1024),
            Ok(world),
            "a valid world round-trips"
        );
        let bad = crate::codec::encode_value(&vec![(NetId::new(2, 1), e), (NetId::new(2, 2), e)]);
        assert!(
            crate::codec::decode_value::<World>(&bad, 1024).is_err(),
            "two versions of one slot refused"
        );
    }
}
