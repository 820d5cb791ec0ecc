//! A world snapshot: every networked entity at one tick, in the quantised form the wire carries.

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
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode)]
pub struct World {
    entities: Vec<(NetId, EntityState)>,
}

impl World {
    pub fn new() -> World {
        World::default()
    }

    /// Builds a world from entities in any order; a later duplicate id replaces an earlier one.
    pub fn from_entities(mut entities: Vec<(NetId, EntityState)>) -> World {
        entities.sort_by_key(|(id, _)| *id);
        // Keep the last of equal ids, matching "later replaces earlier".
        entities.reverse();
        entities.dedup_by_key(|(id, _)| *id);
        entities.reverse();
        World { entities }
    }

    /// Builds a world from entities already sorted by id with no duplicates, as the simulation
    /// produces them. Returns `None` if they are not.
    pub fn from_sorted(entities: Vec<(NetId, EntityState)>) -> Option<World> {
        entities
            .windows(2)
            .all(|w| w[0].0 < w[1].0)
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

    pub(crate) fn from_sorted_unchecked(entities: Vec<(NetId, EntityState)>) -> World {
        debug_assert!(entities.windows(2).all(|w| w[0].0 < w[1].0));
        World { entities }
    }
}

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
    fn from_sorted_rejects_unsorted_input() {
        let e = EntityState::new(EntityKind::Orb, 0, 0);
        assert!(
            World::from_sorted(vec![(NetId::new(2, 1), e), (NetId::new(1, 1), e)]).is_none(),
            "unsorted input must be refused"
        );
    }
}
