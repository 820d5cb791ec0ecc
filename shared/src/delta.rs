//! Delta compression between [`World`]s.
//!
//! A delta lists removed slots, created entities (in full) and changed entities. A changed entity
//! carries a field mask and, for each set bit, the field's difference from the value the delta
//! expects: bincode's zigzag varints put a difference within ±125 in one byte (three up to
//! ±32767). A keyframe is a delta against the empty world.
//!
//! A world holds at most one entity per slot index, so removed and changed entries name only the
//! index (the baseline's entity in that slot); created entries add the version. Every list is
//! sorted by index and written as gaps: the first entry's index, then each entry's index minus
//! the previous entry's.
//!
//! A delta may also predict positions from a second, older baseline ([`Prediction`]): an entity
//! present with the same id in both baselines is expected to keep the velocity it had between
//! them, and its entry carries only the residual. An entity that moved exactly as predicted, and
//! changed nothing else, has no entry at all. Without prediction the expected value is the
//! baseline's.
//!
//! Wire format of a [`Delta`] (bincode varints; `len` counts entries):
//!
//! ```text
//! span: u16 (0 = no prediction)  [ahead: u16, only if span > 0]
//! removed: len, then per entry: index gap
//! created: len, then per entry: index gap, version, EntityState
//! changed: len, then per entry: index gap, mask: u8, then one i32 per set mask bit
//! ```

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};

use crate::tick::Tick;
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

/// Entries a decoder reserves room for before it has read them: a length prefix alone never
/// allocates more than this (the decoder's limit is claimed on top).
const PREALLOCATE_AT_MOST: usize = 1024;

/// How a delta predicts positions: from an older baseline, `span` ticks before the baseline, to
/// the delta's tick, `ahead` ticks after it. Both sides compute the prediction with
/// [`Prediction::predict`], in integers, so they agree to the bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prediction {
    span: u16,
    ahead: u16,
}

impl Prediction {
    /// A prediction over `span` ticks (at least 1) carried `ahead` ticks on; `None` if either is
    /// out of range (`u16`), which keeps the arithmetic well inside `i64`.
    pub fn new(span: u32, ahead: u32) -> Option<Prediction> {
        let span = u16::try_from(span).ok().filter(|s| *s > 0)?;
        let ahead = u16::try_from(ahead).ok()?;
        Some(Prediction { span, ahead })
    }

    /// The prediction for a delta at `tick` against `baseline`, from `older`; `None` unless
    /// `older < baseline <= tick` within range.
    pub fn between(older: Tick, baseline: Tick, tick: Tick) -> Option<Prediction> {
        let span = u32::try_from(baseline.since(older)).ok()?;
        let ahead = u32::try_from(tick.since(baseline)).ok()?;
        Prediction::new(span, ahead)
    }

    /// Ticks from the older baseline to the baseline.
    pub fn span(self) -> u32 {
        u32::from(self.span)
    }

    /// Ticks from the baseline to the delta's tick.
    pub fn ahead(self) -> u32 {
        u32::from(self.ahead)
    }

    /// The older baseline's tick, given the baseline's.
    pub fn older_tick(self, baseline: Tick) -> Tick {
        Tick(baseline.0.wrapping_sub(self.span()))
    }

    /// The state an entity is expected to have `ahead` ticks after `baseline`, given its state
    /// `older` (`span` ticks before): the position moves on at the velocity it had between them;
    /// every other field stays.
    pub fn predict(self, older: &EntityState, baseline: &EntityState) -> EntityState {
        let mut s = *baseline;
        s.x = self.extrapolate(older.x, baseline.x);
        s.y = self.extrapolate(older.y, baseline.y);
        s
    }

    /// `x1 + (x1 - x0) * ahead / span`, in `i64` with truncating division, wrapped to `i32` as
    /// every position difference on the wire is. |x1 - x0| < 2^33 and ahead < 2^16, so nothing
    /// overflows.
    fn extrapolate(self, x0: i32, x1: i32) -> i32 {
        let moved = i64::from(x1) - i64::from(x0);
        let step = moved * i64::from(self.ahead) / i64::from(self.span);
        (i64::from(x1) + step) as i32
    }
}

/// What changed in one entity: the mask says which slots of `values` are meaningful. `kind`,
/// `owner` and `flags` travel as new values; the rest as wrapping differences from the expected
/// value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityChange {
    /// The slot of the baseline entity this changes.
    pub index: u32,
    pub mask: u8,
    values: [i32; FIELD_COUNT],
}

impl EntityChange {
    /// The change from `old` to `new`, or `None` if they are equal.
    pub fn between(index: u32, old: &EntityState, new: &EntityState) -> Option<EntityChange> {
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
        (mask != 0).then_some(EntityChange {
            index,
            mask,
            values,
        })
    }

    /// Applies this change to the expected state of the same entity.
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

    /// The mask and the values it selects; the index is written by the list.
    fn encode_fields<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        self.mask.encode(encoder)?;
        for (bit, value) in self.values.iter().enumerate() {
            if self.mask & (1 << bit) != 0 {
                value.encode(encoder)?;
            }
        }
        Ok(())
    }

    fn decode_fields<D: Decoder>(index: u32, decoder: &mut D) -> Result<Self, DecodeError> {
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
        Ok(EntityChange {
            index,
            mask,
            values,
        })
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

/// The difference between a baseline world and a current one. Every list is sorted by strictly
/// increasing slot index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delta {
    /// Set when positions are predicted from an older baseline; see [`apply_predicted`].
    pub prediction: Option<Prediction>,
    /// Slots whose baseline entity is gone (removed, or its slot reused: then the new entity is
    /// in `created`).
    pub removed: Vec<u32>,
    pub created: Vec<(NetId, EntityState)>,
    /// Changes to baseline entities, against their expected state.
    pub changed: Vec<EntityChange>,
}

impl Delta {
    /// No entries: without prediction, the world did not change.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.created.is_empty() && self.changed.is_empty()
    }
}

impl Encode for Delta {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        match self.prediction {
            None => 0u16.encode(encoder)?,
            Some(p) => {
                p.span.encode(encoder)?;
                p.ahead.encode(encoder)?;
            }
        }
        let mut gaps = Gaps::default();
        (self.removed.len() as u64).encode(encoder)?;
        for index in &self.removed {
            gaps.encode(*index, encoder)?;
        }
        let mut gaps = Gaps::default();
        (self.created.len() as u64).encode(encoder)?;
        for (id, state) in &self.created {
            gaps.encode(id.index, encoder)?;
            id.version.encode(encoder)?;
            state.encode(encoder)?;
        }
        let mut gaps = Gaps::default();
        (self.changed.len() as u64).encode(encoder)?;
        for change in &self.changed {
            gaps.encode(change.index, encoder)?;
            change.encode_fields(encoder)?;
        }
        Ok(())
    }
}

impl<Context> Decode<Context> for Delta {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        let prediction = match u16::decode(decoder)? {
            0 => None,
            span => Some(Prediction {
                span,
                ahead: u16::decode(decoder)?,
            }),
        };
        let removed = decode_list(decoder, |index, _| Ok(index))?;
        let created = decode_list(decoder, |index, decoder| {
            let version = u32::decode(decoder)?;
            Ok((NetId::new(index, version), EntityState::decode(decoder)?))
        })?;
        let changed = decode_list(decoder, EntityChange::decode_fields)?;
        Ok(Delta {
            prediction,
            removed,
            created,
            changed,
        })
    }
}

bincode::impl_borrow_decode!(Delta);

/// Writes strictly increasing indexes as gaps from the previous one.
#[derive(Default)]
struct Gaps {
    previous: Option<u32>,
}

impl Gaps {
    fn encode<E: Encoder>(&mut self, index: u32, encoder: &mut E) -> Result<(), EncodeError> {
        let gap = match self.previous {
            None => index,
            Some(previous) if previous < index => index - previous,
            Some(_) => {
                return Err(EncodeError::Other(
                    "delta list not sorted by strictly increasing index",
                ));
            }
        };
        self.previous = Some(index);
        gap.encode(encoder)
    }

    fn decode<D: Decoder>(&mut self, decoder: &mut D) -> Result<u32, DecodeError> {
        let gap = u32::decode(decoder)?;
        let index = match self.previous {
            None => gap,
            Some(_) if gap == 0 => {
                return Err(DecodeError::Other("delta list index does not increase"));
            }
            Some(previous) => previous
                .checked_add(gap)
                .ok_or(DecodeError::Other("delta list index overflows"))?,
        };
        self.previous = Some(index);
        Ok(index)
    }
}

/// Decodes a length-prefixed, gap-indexed list. The length is claimed against the decoder's
/// limit as bincode's own `Vec` does, and never reserves more than [`PREALLOCATE_AT_MOST`]
/// entries up front: a lying length prefix runs out of bytes, not memory.
fn decode_list<T, D: Decoder>(
    decoder: &mut D,
    mut entry: impl FnMut(u32, &mut D) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let len = usize::try_from(u64::decode(decoder)?).map_err(|_| DecodeError::LimitExceeded)?;
    decoder.claim_container_read::<T>(len)?;
    let mut out = Vec::with_capacity(len.min(PREALLOCATE_AT_MOST));
    let mut gaps = Gaps::default();
    for _ in 0..len {
        decoder.unclaim_bytes_read(std::mem::size_of::<T>());
        let index = gaps.decode(decoder)?;
        out.push(entry(index, decoder)?);
    }
    Ok(out)
}

/// Why a delta could not be applied to a baseline: the client holds a different baseline than the
/// server assumed, or the delta is corrupt. Either way the client needs a keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeltaError {
    #[error("delta lists are not sorted by entity index")]
    Unsorted,
    #[error("delta removes or changes an entity the baseline does not have")]
    UnknownEntity,
    #[error("delta creates an entity in a slot the baseline still holds")]
    DuplicateEntity,
    #[error("delta both removes and changes one entity")]
    RemovedAndChanged,
    #[error("delta carries an unknown entity kind")]
    BadKind,
    #[error("delta carries flags out of range")]
    BadFlags,
    #[error("delta predicts from an older baseline that was not given")]
    MissingOlderBaseline,
    #[error("delta predicts for another tick than its snapshot's")]
    WrongTick,
}

/// The delta that turns `baseline` into `current`, without prediction.
pub fn diff(baseline: &World, current: &World) -> Delta {
    diff_inner(None, baseline, current)
}

/// The delta that turns `baseline` into `current`, predicting positions from `older` as
/// `prediction` says (`older` is `prediction.span()` ticks before `baseline`, `current`
/// `prediction.ahead()` ticks after it).
pub fn diff_predicted(
    older: &World,
    baseline: &World,
    current: &World,
    prediction: Prediction,
) -> Delta {
    diff_inner(Some((older, prediction)), baseline, current)
}

fn diff_inner(older: Option<(&World, Prediction)>, baseline: &World, current: &World) -> Delta {
    let mut delta = Delta {
        prediction: older.map(|(_, p)| p),
        ..Delta::default()
    };
    let mut expect = Expectation::new(older);
    let (old, new) = (baseline.entities(), current.entities());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some((oid, o)), Some((nid, n))) if oid.index == nid.index => {
                if oid == nid {
                    let expected = expect.state(*oid, o);
                    if let Some(change) = EntityChange::between(oid.index, &expected, n) {
                        delta.changed.push(change);
                    }
                } else {
                    // The slot was reused: the old entity is gone, a new one is born.
                    delta.removed.push(oid.index);
                    delta.created.push((*nid, *n));
                }
                i += 1;
                j += 1;
            }
            (Some((oid, _)), Some((nid, _))) if oid.index < nid.index => {
                delta.removed.push(oid.index);
                i += 1;
            }
            (Some((oid, _)), None) => {
                delta.removed.push(oid.index);
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
        prediction: None,
        removed: Vec::new(),
        created: current.entities().to_vec(),
        changed: Vec::new(),
    }
}

/// Applies `delta` to `baseline`, giving the world the server diffed against. A delta that
/// predicts from an older baseline needs [`apply_predicted`].
pub fn apply(baseline: &World, delta: &Delta) -> Result<World, DeltaError> {
    if delta.prediction.is_some() {
        return Err(DeltaError::MissingOlderBaseline);
    }
    apply_inner(None, baseline, delta)
}

/// Applies `delta` to `baseline`, predicting from `older` if the delta says so (otherwise
/// `older` is not used). Every entity of `baseline` the delta keeps takes its expected state
/// (with prediction: its predicted position), then its entry, if any.
pub fn apply_predicted(
    older: &World,
    baseline: &World,
    delta: &Delta,
) -> Result<World, DeltaError> {
    apply_inner(delta.prediction.map(|p| (older, p)), baseline, delta)
}

fn apply_inner(
    older: Option<(&World, Prediction)>,
    baseline: &World,
    delta: &Delta,
) -> Result<World, DeltaError> {
    let sorted = delta.removed.windows(2).all(|w| w[0] < w[1])
        && delta
            .created
            .windows(2)
            .all(|w| w[0].0.index < w[1].0.index)
        && delta.changed.windows(2).all(|w| w[0].index < w[1].index);
    if !sorted {
        return Err(DeltaError::Unsorted);
    }

    let mut expect = Expectation::new(older);
    let mut kept = Vec::with_capacity(baseline.len() + delta.created.len());
    let mut removed = delta.removed.iter().peekable();
    let mut changed = delta.changed.iter().peekable();
    for (id, state) in baseline.entities() {
        if removed.next_if(|r| **r == id.index).is_some() {
            if changed.peek().is_some_and(|c| c.index == id.index) {
                return Err(DeltaError::RemovedAndChanged);
            }
            continue;
        }
        let expected = expect.state(*id, state);
        match changed.next_if(|c| c.index == id.index) {
            Some(change) => kept.push((*id, change.apply_to(&expected)?)),
            None => kept.push((*id, expected)),
        }
    }
    if removed.next().is_some() || changed.next().is_some() {
        return Err(DeltaError::UnknownEntity);
    }

    // Merge the created entities (sorted) into the kept ones (sorted), one per slot.
    let mut out = Vec::with_capacity(kept.len() + delta.created.len());
    let mut created = delta.created.iter().peekable();
    for entry in kept {
        while let Some(c) = created.next_if(|c| c.0.index < entry.0.index) {
            out.push(*c);
        }
        if created.peek().is_some_and(|c| c.0.index == entry.0.index) {
            return Err(DeltaError::DuplicateEntity);
        }
        out.push(entry);
    }
    out.extend(created.copied());
    Ok(World::from_sorted_unchecked(out))
}

/// The state a delta expects each baseline entity to have before its own entry applies: with
/// prediction, the position carried on from the older baseline's entity of the same id; without
/// (or for an entity the older baseline lacks), the baseline state. `diff` and `apply` both ask
/// it, for baseline entities in increasing index order, so they expect the same.
struct Expectation<'a> {
    older: &'a [(NetId, EntityState)],
    prediction: Option<Prediction>,
}

impl<'a> Expectation<'a> {
    fn new(older: Option<(&'a World, Prediction)>) -> Expectation<'a> {
        match older {
            Some((world, p)) => Expectation {
                older: world.entities(),
                prediction: Some(p),
            },
            None => Expectation {
                older: &[],
                prediction: None,
            },
        }
    }

    /// Called with increasing `id.index`.
    fn state(&mut self, id: NetId, baseline: &EntityState) -> EntityState {
        let Some(prediction) = self.prediction else {
            return *baseline;
        };
        let skip = self
            .older
            .iter()
            .take_while(|(o, _)| o.index < id.index)
            .count();
        self.older = &self.older[skip..];
        match self.older.first() {
            Some((o, older)) if *o == id => prediction.predict(older, baseline),
            _ => *baseline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;
    use crate::testing::{arb_world_pair, arb_world_triple, world_with};
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
            prop_assert_eq!(&back, &delta);
            prop_assert_eq!(apply(&base, &back), Ok(current));
        }

        #[test]
        fn predicted_apply_of_predicted_diff_reproduces_current(
            (older, base, current, prediction) in arb_world_triple()
        ) {
            let delta = diff_predicted(&older, &base, &current, prediction);
            let rebuilt = apply_predicted(&older, &base, &delta);
            prop_assert_eq!(rebuilt.as_ref(), Ok(&current));
            prop_assert_eq!(
                crate::checksum(&rebuilt.unwrap()),
                crate::checksum(&current)
            );
        }

        #[test]
        fn predicted_delta_survives_the_codec(
            (older, base, current, prediction) in arb_world_triple()
        ) {
            let delta = diff_predicted(&older, &base, &current, prediction);
            let bytes = codec::encode_value(&delta);
            let back: Delta = codec::decode_value(&bytes, codec::MAX_SERVER_MESSAGE).unwrap();
            prop_assert_eq!(&back, &delta);
            prop_assert_eq!(apply_predicted(&older, &base, &back), Ok(current));
        }

        #[test]
        fn mutated_or_truncated_deltas_never_panic(
            (older, base, current, prediction) in arb_world_triple(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = codec::encode_value(&diff_predicted(&older, &base, &current, prediction));
            let whole = bytes.clone();
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            for candidate in [&bytes[..], &whole[..cut.index(whole.len())]] {
                if let Ok(delta) = codec::decode_value::<Delta>(candidate, codec::MAX_SERVER_MESSAGE) {
                    // Whatever decodes applies or is refused; it never panics.
                    let _ = apply_predicted(&older, &base, &delta);
                    let _ = apply(&base, &delta);
                }
            }
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
                || delta
                    .changed
                    .iter()
                    .all(|c| other.get_index(c.index).is_some()),
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

    #[test]
    fn a_reused_slot_is_a_removal_and_a_creation_of_the_same_index() {
        let e = EntityState::new(EntityKind::Projectile, 10, 10);
        let base = World::from_entities(vec![(NetId::new(3, 1), e)]);
        let current = World::from_entities(vec![(NetId::new(3, 2), e)]);
        let delta = diff(&base, &current);
        assert_eq!(delta.removed, vec![3], "old version removed by index");
        assert_eq!(
            delta.created,
            vec![(NetId::new(3, 2), e)],
            "new version created"
        );
        assert_eq!(apply(&base, &delta), Ok(current), "applies");
    }

    #[test]
    fn changed_entries_cost_one_byte_of_index() {
        let base = world_with(200, 0);
        let current = world_with(200, 200);
        let bytes = codec::encode_value(&diff(&base, &current)).len();
        // Per entry: 1 B index gap, 1 B mask, then x, y and aim differences of 1 B each.
        assert!(
            bytes <= 200 * 5 + 8,
            "200 changed entities in {bytes} B: more than 5 B each"
        );
    }

    #[test]
    fn decoding_refuses_non_increasing_indexes() {
        // No prediction, one removed list of two entries: index 5, then a gap of 0.
        let bytes = [0u8, 2, 5, 0, 0, 0];
        assert!(
            codec::decode_value::<Delta>(&bytes, codec::MAX_SERVER_MESSAGE).is_err(),
            "a zero gap repeats an index"
        );
        let bytes = [0u8, 2, 5, 1, 0, 0];
        assert_eq!(
            codec::decode_value::<Delta>(&bytes, codec::MAX_SERVER_MESSAGE).map(|d| d.removed),
            Ok(vec![5, 6]),
            "a gap of one is the next slot"
        );
    }

    #[test]
    fn decoding_refuses_an_index_past_u32_max() {
        let mut bytes = vec![0u8, 2];
        bytes.extend(codec::encode_value(&u32::MAX));
        bytes.extend([1u8, 0, 0]);
        assert!(
            codec::decode_value::<Delta>(&bytes, codec::MAX_SERVER_MESSAGE).is_err(),
            "u32::MAX + 1 overflows"
        );
    }

    #[test]
    fn a_huge_length_prefix_is_refused_without_allocating() {
        // No prediction, then a removed list claiming u64::MAX / 2 entries.
        let mut bytes = vec![0u8];
        bytes.extend(codec::encode_value(&(u64::MAX / 2)));
        bytes.extend([1u8, 1, 1]);
        assert!(
            codec::decode_value::<Delta>(&bytes, codec::MAX_SERVER_MESSAGE).is_err(),
            "claim beyond the limit"
        );
    }

    #[test]
    fn a_predicted_delta_needs_its_older_baseline() {
        let older = world_with(10, 0);
        let base = world_with(10, 5);
        let delta = diff_predicted(
            &older,
            &base,
            &base,
            Prediction::new(1, 1).expect("in range"),
        );
        assert_eq!(
            apply(&base, &delta),
            Err(DeltaError::MissingOlderBaseline),
            "refused, not applied as if nothing moved"
        );
    }

    /// Moves every entity by `(dx, dy)` steps per tick, `ticks` ticks on.
    fn advance(world: &World, ticks: i32, velocity: impl Fn(u32) -> (i32, i32)) -> World {
        World::from_entities(
            world
                .entities()
                .iter()
                .map(|(id, e)| {
                    let (dx, dy) = velocity(id.index);
                    let mut e = *e;
                    e.x += dx * ticks;
                    e.y += dy * ticks;
                    (*id, e)
                })
                .collect(),
        )
    }

    #[test]
    fn an_entity_moving_at_constant_velocity_has_no_entry_with_prediction() {
        let velocity = |i: u32| (i as i32 % 7 - 3, 40 - i as i32);
        let older = world_with(30, 0);
        let base = advance(&older, 2, velocity);
        let current = advance(&base, 3, velocity);
        let plain = diff(&base, &current);
        assert!(
            plain.changed.len() >= 29,
            "without prediction nearly every entity has an entry"
        );
        let prediction = Prediction::new(2, 3).expect("in range");
        let predicted = diff_predicted(&older, &base, &current, prediction);
        assert!(
            predicted.is_empty(),
            "straight-line motion is fully predicted: {predicted:?}"
        );
        assert_eq!(
            apply_predicted(&older, &base, &predicted),
            Ok(current),
            "and the empty delta rebuilds it"
        );
    }

    #[test]
    fn an_entity_new_since_the_older_baseline_predicts_no_motion() {
        let e = EntityState::new(EntityKind::Player, 100, 100);
        let moved = EntityState { x: 150, ..e };
        let older = World::from_entities(vec![(NetId::new(1, 1), e)]);
        // Slot 1 reused between the baselines: no velocity carries over.
        let base = World::from_entities(vec![(NetId::new(1, 2), moved)]);
        let current = World::from_entities(vec![(NetId::new(1, 2), moved)]);
        let delta = diff_predicted(&older, &base, &current, Prediction::new(1, 1).expect("ok"));
        assert!(
            delta.is_empty(),
            "a standing entity of another version: {delta:?}"
        );
    }

    #[test]
    fn prediction_arithmetic_truncates_towards_zero_and_wraps() {
        let p = Prediction::new(2, 3).expect("in range");
        let at = |x0, x1| p.extrapolate(x0, x1);
        assert_eq!(at(0, 10), 25, "10 over 2 ticks, 3 more: +15");
        assert_eq!(at(0, 5), 12, "7.5 truncates to 7");
        assert_eq!(at(0, -5), -12, "-7.5 truncates to -7");
        assert_eq!(
            at(i32::MIN, i32::MAX),
            (i64::from(i32::MAX) + (i64::from(u32::MAX) * 3 / 2)) as i32,
            "far outside i32 wraps, deterministically"
        );
        assert_eq!(Prediction::new(0, 1), None, "a zero span predicts nothing");
        assert_eq!(Prediction::new(1, 70_000), None, "out of range");
    }

    /// The `bench` workload: 100 drones on circles (drone i: radius 50 + 3i units around the
    /// centre, angle i·2π/100 + tick·0.02·(1 + i mod 5)) and 25 players running straight, in
    /// fixed point at 1/16 unit.
    fn bench_world(tick: u32) -> World {
        let mut entities = Vec::new();
        for i in 0..100u32 {
            let radius = (50.0 + 3.0 * f64::from(i)) * 16.0;
            let angle = f64::from(i) * std::f64::consts::TAU / 100.0
                + f64::from(tick) * 0.02 * f64::from(1 + i % 5);
            let x = (16_000.0 + radius * angle.cos()).round() as i32;
            let y = (16_000.0 + radius * angle.sin()).round() as i32;
            entities.push((NetId::new(i, 1), EntityState::new(EntityKind::Drone, x, y)));
        }
        for p in 0..25u32 {
            let (vx, vy) = ((p as i32 % 5 - 2) * 37, (p as i32 % 3 - 1) * 53);
            let mut e = EntityState::new(
                EntityKind::Player,
                2_000 + p as i32 * 900 + vx * tick as i32,
                9_000 + vy * tick as i32,
            );
            e.owner = p + 1;
            e.health = 100;
            entities.push((NetId::new(100 + p, 1), e));
        }
        World::from_entities(entities)
    }

    #[test]
    fn bench_like_delta_sizes_with_and_without_prediction() {
        let tick = 600;
        let current = bench_world(tick);
        let key = codec::encode_value(&keyframe(&current)).len();
        println!("bench-like: 100 drones on circles + 25 players in straight lines");
        println!("  keyframe {key} B");
        for ahead in [1u32, 2, 3] {
            let base = bench_world(tick - ahead);
            let older = bench_world(tick - ahead - 1);
            let plain = diff(&base, &current);
            let prediction = Prediction::new(1, ahead).expect("in range");
            let predicted = diff_predicted(&older, &base, &current, prediction);
            assert_eq!(
                apply_predicted(&older, &base, &predicted).as_ref(),
                Ok(&current),
                "rebuilds"
            );
            let plain_bytes = codec::encode_value(&plain).len();
            let predicted_bytes = codec::encode_value(&predicted).len();
            println!(
                "  baseline {ahead} tick(s) back: plain {plain_bytes} B ({} entries), \
                 predicted {predicted_bytes} B ({} entries)",
                plain.changed.len(),
                predicted.changed.len()
            );
            assert!(
                predicted.changed.iter().all(|c| c.index < 100),
                "players running straight have no entry"
            );
            assert!(
                predicted_bytes * 3 < plain_bytes * 2,
                "prediction saves at least a third: {predicted_bytes} B vs {plain_bytes} B"
            );
        }
    }
}
