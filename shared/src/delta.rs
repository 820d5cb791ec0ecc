//! Delta compression between two [`World`]s.
//!
//! A delta lists removed ids, created entities (in full) and changed entities. A changed entity
//! carries a field mask and, for each set bit, the field's difference from the baseline value:
//! bincode's zigzag varints put a small movement in one or two bytes. A keyframe is a delta
//! against the empty world.

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};

use crate::world::{EntityKind, EntityState, NetId, World};

/// Field bits of [`EntityChange::mask`], in wire order.
pub mod field {
    pub const KIND: u8 = 1 << 0;
    pub const OWNER: u8 = 1 << 1;
    pub const X: u8 = 1 << 2;
    pub const Y: u8 = 1 << 3;
    pub const AIM: u8 = 1 << 4;
    pub const HEALTH: u8 = 1 << 5;
    pub const SCORE: u8 = 1 << 6;
    pub const FLAGS: u8 = 1 << 7;
}

const FIELD_COUNT: usize = 8;

/// What changed in one entity: the mask says which slots of `values` are meaningful. `kind`,
/// `owner` and `flags` travel as new values; the rest as wrapping differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityChange {
    pub id: NetId,
    pub mask: u8,
    values: [i32; FIELD_COUNT],
}

impl EntityChange {
    /// The change from `old` to `new`, or `None` if they are equal.
    pub fn between(id: NetId, old: &EntityState, new: &EntityState) -> Option<EntityChange> {
        let mut values = [0i32; FIELD_COUNT];
        let mut mask = 0u8;
        let mut set = |bit: usize, changed: bool, value: i32| {
            if changed {
                mask |= 1 << bit;
                values[bit] = value;
            }
        };
        set(0, old.kind != new.kind, kind_to_i32(new.kind));
        set(1, old.owner != new.owner, new.owner as i32);
        set(2, old.x != new.x, new.x.wrapping_sub(old.x));
        set(3, old.y != new.y, new.y.wrapping_sub(old.y));
        set(
            4,
            old.aim != new.aim,
            new.aim.wrapping_sub(old.aim) as i16 as i32,
        );
        set(
            5,
            old.health != new.health,
            new.health.wrapping_sub(old.health),
        );
        set(6, old.score != new.score, new.score.wrapping_sub(old.score));
        set(7, old.flags != new.flags, new.flags as i32);
        (mask != 0).then_some(EntityChange { id, mask, values })
    }

    /// Applies this change to the baseline state of the same entity.
    pub fn apply_to(&self, old: &EntityState) -> Result<EntityState, DeltaError> {
        let mut s = *old;
        let has = |bit: u8| self.mask & bit != 0;
        if has(field::KIND) {
            s.kind = kind_from_i32(self.values[0]).ok_or(DeltaError::BadKind)?;
        }
        if has(field::OWNER) {
            s.owner = self.values[1] as u32;
        }
        if has(field::X) {
            s.x = s.x.wrapping_add(self.values[2]);
        }
        if has(field::Y) {
            s.y = s.y.wrapping_add(self.values[3]);
        }
        if has(field::AIM) {
            s.aim = s.aim.wrapping_add(self.values[4] as i16 as u16);
        }
        if has(field::HEALTH) {
            s.health = s.health.wrapping_add(self.values[5]);
        }
        if has(field::SCORE) {
            s.score = s.score.wrapping_add(self.values[6]);
        }
        if has(field::FLAGS) {
            s.flags = u8::try_from(self.values[7]).map_err(|_| DeltaError::BadFlags)?;
        }
        Ok(s)
    }
}

fn kind_to_i32(kind: EntityKind) -> i32 {
    match kind {
        EntityKind::Player => 0,
        EntityKind::Projectile => 1,
        EntityKind::Orb => 2,
        EntityKind::Drone => 3,
    }
}

fn kind_from_i32(v: i32) -> Option<EntityKind> {
    Some(match v {
        0 => EntityKind::Player,
        1 => EntityKind::Projectile,
        2 => EntityKind::Orb,
        3 => EntityKind::Drone,
        _ => return None,
    })
}

impl Encode for EntityChange {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        self.id.encode(encoder)?;
        self.mask.encode(encoder)?;
        for (bit, value) in self.values.iter().enumerate() {
            if self.mask & (1 << bit) != 0 {
                value.encode(encoder)?;
            }
        }
        Ok(())
    }
}

impl<Context> Decode<Context> for EntityChange {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        let id = NetId::decode(decoder)?;
        let mask = u8::decode(decoder)?;
        if mask == 0 {
            return Err(DecodeError::Other("entity change with an empty field mask"));
        }
        let mut values = [0i32; FIELD_COUNT];
        for (bit, value) in values.iter_mut().enumerate() {
            if mask & (1 << bit) != 0 {
                *value = i32::decode(decoder)?;
            }
        }
        Ok(EntityChange { id, mask, values })
    }
}

bincode::impl_borrow_decode!(EntityChange);

/// The difference between a baseline world and a current one. Every list is sorted by id.
#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode)]
pub struct Delta {
    pub removed: Vec<NetId>,
    pub created: Vec<(NetId, EntityState)>,
    pub changed: Vec<EntityChange>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.created.is_empty() && self.changed.is_empty()
    }
}

/// Why a delta could not be applied to a baseline: the client holds a different baseline than the
/// server assumed, or the delta is corrupt. Either way the client needs a keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeltaError {
    #[error("delta lists are not sorted by entity id")]
    Unsorted,
    #[error("delta removes or changes an entity the baseline does not have")]
    UnknownEntity,
    #[error("delta creates an entity the baseline already has")]
    DuplicateEntity,
    #[error("delta both removes and changes one entity")]
    RemovedAndChanged,
    #[error("delta carries an unknown entity kind")]
    BadKind,
    #[error("delta carries flags out of range")]
    BadFlags,
}

/// The delta that turns `baseline` into `current`.
pub fn diff(baseline: &World, current: &World) -> Delta {
    let mut delta = Delta::default();
    let (old, new) = (baseline.entities(), current.entities());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some((oid, o)), Some((nid, n))) if oid == nid => {
                if let Some(change) = EntityChange::between(*oid, o, n) {
                    delta.changed.push(change);
                }
                i += 1;
                j += 1;
            }
            (Some((oid, _)), Some((nid, _))) if oid < nid => {
                delta.removed.push(*oid);
                i += 1;
            }
            (Some((oid, _)), None) => {
                delta.removed.push(*oid);
                i += 1;
            }
            (_, Some(created)) => {
                delta.created.push(*created);
                j += 1;
            }
            (None, None) => unreachable!("loop condition guarantees one side has entities"),
        }
    }
    delta
}

/// A keyframe: the whole world as a delta against the empty world.
pub fn keyframe(current: &World) -> Delta {
    Delta {
        removed: Vec::new(),
        created: current.entities().to_vec(),
        changed: Vec::new(),
    }
}

/// Applies `delta` to `baseline`, giving the world the server diffed against.
pub fn apply(baseline: &World, delta: &Delta) -> Result<World, DeltaError> {
    let sorted = delta.removed.windows(2).all(|w| w[0] < w[1])
        && delta.created.windows(2).all(|w| w[0].0 < w[1].0)
        && delta.changed.windows(2).all(|w| w[0].id < w[1].id);
    if !sorted {
        return Err(DeltaError::Unsorted);
    }

    let mut kept = Vec::with_capacity(baseline.len() + delta.created.len());
    let mut removed = delta.removed.iter().peekable();
    let mut changed = delta.changed.iter().peekable();
    for (id, state) in baseline.entities() {
        if removed.peek() == Some(&id) {
            removed.next();
            if changed.peek().is_some_and(|c| c.id == *id) {
                return Err(DeltaError::RemovedAndChanged);
            }
            continue;
        }
        match changed.peek() {
            Some(c) if c.id == *id => {
                kept.push((*id, c.apply_to(state)?));
                changed.next();
            }
            _ => kept.push((*id, *state)),
        }
    }
    if removed.next().is_some() || changed.next().is_some() {
        return Err(DeltaError::UnknownEntity);
    }

    // Merge the created entities (sorted) into the kept ones (sorted).
    let mut out = Vec::with_capacity(kept.len() + delta.created.len());
    let mut created = delta.created.iter().peekable();
    for entry in kept {
        while let Some(c) = created.next_if(|c| c.0 < entry.0) {
            out.push(*c);
        }
        if created.peek().is_some_and(|c| c.0 == entry.0) {
            return Err(DeltaError::DuplicateEntity);
        }
        out.push(entry);
    }
    out.extend(created.copied());
    Ok(World::from_sorted_unchecked(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;
    use crate::testing::{arb_world_pair, world_with};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn apply_of_diff_reproduces_current((base, current) in arb_world_pair()) {
            let delta = diff(&base, &current);
            prop_assert_eq!(apply(&base, &delta), Ok(current));
        }

        #[test]
        fn keyframe_applies_to_the_empty_world((_, current) in arb_world_pair()) {
            prop_assert_eq!(apply(&World::new(), &keyframe(&current)), Ok(current.clone()));
            prop_assert_eq!(diff(&World::new(), &current), keyframe(&current));
        }

        #[test]
        fn delta_survives_the_codec((base, current) in arb_world_pair()) {
            let delta = diff(&base, &current);
            let bytes = codec::encode_value(&delta);
            let back: Delta = codec::decode_value(&bytes, codec::MAX_SERVER_MESSAGE).unwrap();
            prop_assert_eq!(apply(&base, &back), Ok(current));
        }
    }

    #[test]
    fn delta_against_a_different_baseline_is_refused_not_misapplied() {
        let base = world_with(10, 0);
        let current = world_with(10, 3);
        let delta = diff(&base, &current);
        let other = world_with(5, 0);
        assert!(
            apply(&other, &delta).is_err()
                || delta.changed.iter().all(|c| other.get(c.id).is_some()),
            "a delta naming entities the baseline lacks must fail"
        );
        let wrong_baseline = World::new();
        if !delta.changed.is_empty() {
            assert_eq!(
                apply(&wrong_baseline, &delta),
                Err(DeltaError::UnknownEntity),
                "changes against the empty world refer to unknown entities"
            );
        }
    }

    #[test]
    fn a_tenth_moving_costs_under_a_quarter_of_the_keyframe() {
        let base = world_with(200, 0);
        let current = world_with(200, 20);
        let delta = diff(&base, &current);
        assert_eq!(delta.changed.len(), 20, "exactly 20 of 200 entities moved");
        let delta_bytes = codec::encode_value(&delta).len();
        let key_bytes = codec::encode_value(&keyframe(&current)).len();
        println!("200 entities, 10% moved: delta {delta_bytes} B, keyframe {key_bytes} B");
        assert!(
            delta_bytes * 4 <= key_bytes,
            "delta {delta_bytes} B exceeds 25% of keyframe {key_bytes} B"
        );
    }

    #[test]
    fn unsorted_delta_is_refused() {
        let base = world_with(3, 0);
        let mut delta = diff(&World::new(), &base);
        delta.created.swap(0, 2);
        assert_eq!(
            apply(&World::new(), &delta),
            Err(DeltaError::Unsorted),
            "unsorted created list"
        );
    }

    #[test]
    fn creating_an_existing_entity_is_refused() {
        let base = world_with(3, 0);
        let delta = keyframe(&base);
        assert_eq!(
            apply(&base, &delta),
            Err(DeltaError::DuplicateEntity),
            "keyframe over itself"
        );
    }
}
