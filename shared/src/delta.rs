//! Delta compression between [`World`]s of one schema.
//!
//! A delta lists removed slots, created entities (in full) and changed entities. A changed entity
//! carries a field mask and, for each set bit, either the field's new value (fields declared
//! [`Encoding::Value`]) or its difference from the value the delta expects, wrapped to the
//! field's width: bincode's zigzag varints put a difference within ±125 in one byte (three up to
//! ±32767). A keyframe is a delta against the empty world.
//!
//! A world holds at most one entity per slot index, so removed and changed entries name only the
//! index (the baseline's entity in that slot); created entries add the version. Every list is
//! sorted by index and written as gaps: the first entry's index, then each entry's index minus
//! the previous entry's.
//!
//! A delta may also predict fields declared [`Encoding::Predicted`] from a second, older
//! baseline ([`Prediction`]): an entity present with the same id in both baselines is expected
//! to keep the velocity it had between them, and its entry carries only the residual. An entity
//! that moved exactly as predicted, and changed nothing else, has no entry at all. Without
//! prediction the expected value is the baseline's.
//!
//! The wire format does not depend on the schema (a created entity lists its non-zero fields by
//! mask), so a frame decodes without knowing the game; applying it checks every value against
//! the schema.
//!
//! Wire format of a [`Delta`] (bincode varints; `len` counts entries):
//!
//! ```text
//! span: u16 (0 = no prediction)  [ahead: u16, only if span > 0]
//! removed: len, then per entry: index gap
//! created: len, then per entry: index gap, version, mask: u32, one i32 per set mask bit
//! changed: len, then per entry: index gap, mask: u32 (non-zero), one i32 per set mask bit
//! ```

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};

use crate::schema::{Encoding, FieldType, MAX_FIELDS, Schema};
use crate::tick::Tick;
use crate::world::{NetId, World};

/// Entries a decoder reserves room for before it has read them: a length prefix alone never
/// allocates more than this (the decoder's limit is claimed on top).
const PREALLOCATE_AT_MOST: usize = 1024;

/// How a delta predicts fields: from an older baseline, `span` ticks before the baseline, to
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

    /// The row an entity is expected to have `ahead` ticks after `baseline`, given its row
    /// `older` (`span` ticks before), written into `out`: every predicted field moves on at the
    /// velocity it had between them; every other field stays.
    pub fn predict(self, schema: &Schema, older: &[i32], baseline: &[i32], out: &mut [i32]) {
        self.predict_fields(schema, predicted_mask(schema), older, baseline, out);
    }

    /// The predicted value of one field of type `ty`, from its values in the older baseline and
    /// the baseline.
    #[inline(always)]
    fn predict_one(self, ty: FieldType, older: i32, baseline: i32) -> i32 {
        ty.wrap(self.extrapolate(ty.value(older), ty.value(baseline)))
    }

    /// [`Prediction::predict`] with the schema's predicted fields already found.
    #[inline]
    fn predict_fields(
        self,
        schema: &Schema,
        predicted: u32,
        older: &[i32],
        baseline: &[i32],
        out: &mut [i32],
    ) {
        for (o, b) in out.iter_mut().zip(baseline) {
            *o = *b;
        }
        for k in bits(predicted) {
            out[k] = self.predict_one(schema.fields[k].ty, older[k], baseline[k]);
        }
    }

    /// `x1 + (x1 - x0) * ahead / span`, in `i64` with truncating division. |x1 - x0| < 2^33 and
    /// ahead < 2^16, so nothing overflows; the caller wraps the result into the field's type.
    #[inline(always)]
    fn extrapolate(self, x0: i64, x1: i64) -> i64 {
        let moved = (x1 - x0) * i64::from(self.ahead);
        // Clients ack every tick, so the span is nearly always 1: skip the division then (the
        // result is the same), it is most of the cost of predicting.
        let step = if self.span == 1 {
            moved
        } else {
            moved / i64::from(self.span)
        };
        x1 + step
    }
}

/// One created or changed entity: which fields it carries (`mask`) and where their values start
/// in the delta's value list of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The slot: for a change, of the baseline entity it changes.
    pub index: u32,
    /// The new entity's version (created entries; 0 in changed ones).
    pub version: u32,
    pub mask: u32,
    at: u32,
}

impl Entry {
    pub fn id(&self) -> NetId {
        NetId::new(self.index, self.version)
    }

    fn count(&self) -> usize {
        self.mask.count_ones() as usize
    }
}

/// The difference between a baseline world and a current one. Every list is sorted by strictly
/// increasing slot index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delta {
    /// Set when fields are predicted from an older baseline; see [`apply_predicted`].
    pub prediction: Option<Prediction>,
    /// Slots whose baseline entity is gone (removed, or its slot reused: then the new entity is
    /// in `created`).
    pub removed: Vec<u32>,
    /// New entities: the mask names their non-zero fields.
    pub created: Vec<Entry>,
    /// Changes to baseline entities, against their expected state.
    pub changed: Vec<Entry>,
    created_values: Vec<i32>,
    changed_values: Vec<i32>,
}

impl Delta {
    /// No entries: without prediction, the world did not change.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.created.is_empty() && self.changed.is_empty()
    }

    /// The values a created entry carries, one per set mask bit.
    pub fn created_values(&self, entry: &Entry) -> &[i32] {
        values_of(&self.created_values, entry)
    }

    /// The values a changed entry carries, one per set mask bit.
    pub fn changed_values(&self, entry: &Entry) -> &[i32] {
        values_of(&self.changed_values, entry)
    }

    fn push_created(&mut self, id: NetId, row: &[i32]) {
        let at = self.created_values.len() as u32;
        let mut mask = 0u32;
        for (k, v) in row.iter().enumerate() {
            if *v != 0 {
                mask |= 1 << k;
                self.created_values.push(*v);
            }
        }
        self.created.push(Entry {
            index: id.index,
            version: id.version,
            mask,
            at,
        });
    }
}

fn values_of<'a>(values: &'a [i32], entry: &Entry) -> &'a [i32] {
    let at = entry.at as usize;
    values.get(at..at + entry.count()).unwrap_or(&[])
}

impl Delta {
    /// Appends the delta's wire form (bincode's varint format, byte for byte: the `Encode`
    /// impl and every decoder agree with it) to `out`. Written by hand because deltas are
    /// the server's hottest encoding: going through bincode's generic writer costs a call per
    /// integer, which a profile showed as a third of encoding a delta.
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.reserve(
            16 + self.removed.len() * 2
                + (self.created.len() + self.changed.len()) * 4
                + (self.created_values.len() + self.changed_values.len()) * 3,
        );
        match self.prediction {
            None => out.push(0),
            Some(p) => {
                wire::put_u64(out, u64::from(p.span));
                wire::put_u64(out, u64::from(p.ahead));
            }
        }
        let mut gaps = Gaps::default();
        wire::put_u64(out, self.removed.len() as u64);
        for index in &self.removed {
            wire::put_u64(out, u64::from(gaps.next(*index)?));
        }
        let mut gaps = Gaps::default();
        wire::put_u64(out, self.created.len() as u64);
        for entry in &self.created {
            wire::put_u64(out, u64::from(gaps.next(entry.index)?));
            wire::put_u64(out, u64::from(entry.version));
            wire::put_u64(out, u64::from(entry.mask));
            for v in self.created_values(entry) {
                wire::put_i32(out, *v);
            }
        }
        let mut gaps = Gaps::default();
        wire::put_u64(out, self.changed.len() as u64);
        for entry in &self.changed {
            wire::put_u64(out, u64::from(gaps.next(entry.index)?));
            wire::put_u64(out, u64::from(entry.mask));
            for v in self.changed_values(entry) {
                wire::put_i32(out, *v);
            }
        }
        Ok(())
    }
}

/// bincode 2's varint integer format (`config::standard()`), for [`Delta::write_to`].
mod wire {
    /// Unsigned: below 251 one byte; then a marker byte and the value little-endian in 2, 4
    /// or 8 bytes.
    #[inline(always)]
    pub(super) fn put_u64(out: &mut Vec<u8>, v: u64) {
        if v < 251 {
            out.push(v as u8);
        } else if v <= u64::from(u16::MAX) {
            out.push(251);
            out.extend_from_slice(&(v as u16).to_le_bytes());
        } else if v <= u64::from(u32::MAX) {
            out.push(252);
            out.extend_from_slice(&(v as u32).to_le_bytes());
        } else {
            out.push(253);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// Signed: zigzag, then as unsigned.
    #[inline(always)]
    pub(super) fn put_i32(out: &mut Vec<u8>, v: i32) {
        put_u64(out, u64::from(((v << 1) ^ (v >> 31)) as u32));
    }
}

impl Encode for Delta {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        let mut bytes = Vec::new();
        self.write_to(&mut bytes)?;
        bincode::enc::write::Writer::write(encoder.writer(), &bytes)
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
        let mut created_values = Vec::new();
        let created = decode_list(decoder, |index, decoder| {
            let version = u32::decode(decoder)?;
            decode_entry(index, version, false, &mut created_values, decoder)
        })?;
        let mut changed_values = Vec::new();
        let changed = decode_list(decoder, |index, decoder| {
            decode_entry(index, 0, true, &mut changed_values, decoder)
        })?;
        Ok(Delta {
            prediction,
            removed,
            created,
            changed,
            created_values,
            changed_values,
        })
    }
}

bincode::impl_borrow_decode!(Delta);

fn decode_entry<D: Decoder>(
    index: u32,
    version: u32,
    changed: bool,
    values: &mut Vec<i32>,
    decoder: &mut D,
) -> Result<Entry, DecodeError> {
    let mask = u32::decode(decoder)?;
    if changed && mask == 0 {
        return Err(DecodeError::Other("entity change with an empty field mask"));
    }
    let at = values.len() as u32;
    for _ in 0..mask.count_ones() {
        values.push(i32::decode(decoder)?);
    }
    Ok(Entry {
        index,
        version,
        mask,
        at,
    })
}

/// Writes strictly increasing indexes as gaps from the previous one.
#[derive(Default)]
struct Gaps {
    previous: Option<u32>,
}

impl Gaps {
    /// The gap to write for `index`, the next entry of a list.
    fn next(&mut self, index: u32) -> Result<u32, EncodeError> {
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
        Ok(gap)
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
    #[error("delta names a field the game does not declare")]
    UnknownField,
    #[error("delta carries a value out of its field's declared range")]
    BadValue,
    #[error("delta predicts from an older baseline that was not given")]
    MissingOlderBaseline,
    #[error("delta predicts for another tick than its snapshot's")]
    WrongTick,
    #[error("delta worlds are of different games")]
    WrongSchema,
}

/// The delta that turns `baseline` into `current`, without prediction.
pub fn diff(baseline: &World, current: &World) -> Delta {
    diff_inner(None, baseline, current)
}

/// The delta that turns `baseline` into `current`, predicting fields from `older` as
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
    // Rows of a width known at compile time compare, copy and predict in unrolled code with no
    // library calls; games declare a handful of fields, so the common widths are instantiated.
    match current.schema().len() {
        1 => diff_rows::<1>(older, baseline, current),
        2 => diff_rows::<2>(older, baseline, current),
        3 => diff_rows::<3>(older, baseline, current),
        4 => diff_rows::<4>(older, baseline, current),
        5 => diff_rows::<5>(older, baseline, current),
        6 => diff_rows::<6>(older, baseline, current),
        7 => diff_rows::<7>(older, baseline, current),
        8 => diff_rows::<8>(older, baseline, current),
        9 => diff_rows::<9>(older, baseline, current),
        10 => diff_rows::<10>(older, baseline, current),
        11 => diff_rows::<11>(older, baseline, current),
        12 => diff_rows::<12>(older, baseline, current),
        _ => diff_rows::<0>(older, baseline, current),
    }
}

/// A row of `world`: the `at`-th, `N` wide when `N > 0` (the compiler then knows the length).
#[inline(always)]
fn row_of<const N: usize>(world: &World, at: usize) -> &[i32] {
    if N > 0 {
        &world.values()[at * N..at * N + N]
    } else {
        world.row(at)
    }
}

/// [`changed_mask`] for rows `N` wide (`N == 0`: any width).
#[inline(always)]
fn mask_of<const N: usize>(a: &[i32], b: &[i32]) -> u32 {
    match (<&[i32; N]>::try_from(a), <&[i32; N]>::try_from(b)) {
        (Ok(a), Ok(b)) if N > 0 => a
            .iter()
            .zip(b)
            .enumerate()
            .fold(0, |mask, (k, (x, y))| mask | (u32::from(x != y) << k)),
        _ => changed_mask(a, b),
    }
}

fn diff_rows<const N: usize>(
    older: Option<(&World, Prediction)>,
    baseline: &World,
    current: &World,
) -> Delta {
    let schema = current.schema();
    debug_assert!(Schema::same(schema, baseline.schema()) || baseline.is_empty());
    let mut delta = Delta {
        prediction: older.map(|(_, p)| p),
        ..Delta::default()
    };
    // Room for a few changed fields per entity up front, so pushes rarely reallocate.
    delta.changed_values.reserve(current.len() * 2);
    let mut expect = Expectation::<N>::new(schema, older);
    let (old, new) = (baseline.ids(), current.ids());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(oid), Some(nid)) if oid.index == nid.index => {
                if oid == nid {
                    let base = row_of::<N>(baseline, i);
                    let now = row_of::<N>(current, j);
                    // Which fields differ from what the client expects: the baseline's value,
                    // or for predicted fields the prediction. Compared field by field rather
                    // than by building the expected row: reading back a row just written
                    // stalls on store forwarding, which a profile showed dominating `diff`.
                    let older_row = expect.older_row(*oid);
                    let mut mask = mask_of::<N>(base, now);
                    if let Some((older_row, prediction)) = older_row {
                        mask &= !expect.predicted;
                        for &(k, ty) in expect.predicted_fields() {
                            let e = prediction.predict_one(ty, older_row[k], base[k]);
                            mask |= u32::from(e != now[k]) << k;
                        }
                    }
                    if mask != 0 {
                        let at = delta.changed_values.len() as u32;
                        for k in bits(mask) {
                            let f = &schema.fields[k];
                            let n = now[k];
                            let e = match older_row {
                                Some((o, p)) if expect.predicted & (1 << k) != 0 => {
                                    p.predict_one(f.ty, o[k], base[k])
                                }
                                _ => base[k],
                            };
                            delta.changed_values.push(match f.encoding {
                                Encoding::Value => n,
                                Encoding::Diff | Encoding::Predicted => f.ty.diff(e, n),
                            });
                        }
                        delta.changed.push(Entry {
                            index: oid.index,
                            version: 0,
                            mask,
                            at,
                        });
                    }
                } else {
                    // The slot was reused: the old entity is gone, a new one is born.
                    delta.removed.push(oid.index);
                    delta.push_created(*nid, current.row(j));
                }
                i += 1;
                j += 1;
            }
            (Some(oid), Some(nid)) if oid.index < nid.index => {
                delta.removed.push(oid.index);
                i += 1;
            }
            (Some(oid), None) => {
                delta.removed.push(oid.index);
                i += 1;
            }
            (_, Some(nid)) => {
                delta.push_created(*nid, current.row(j));
                j += 1;
            }
            (None, None) => unreachable!("loop condition guarantees one side has entities"),
        }
    }
    delta
}

/// The bit mask of a schema's predicted fields.
fn predicted_mask(schema: &Schema) -> u32 {
    schema
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.encoding == Encoding::Predicted)
        .fold(0, |mask, (k, _)| mask | 1 << k)
}

/// The bit mask of the fields where two rows differ.
#[inline]
fn changed_mask(a: &[i32], b: &[i32]) -> u32 {
    a.iter()
        .zip(b)
        .enumerate()
        .fold(0, |mask, (k, (x, y))| mask | (u32::from(x != y) << k))
}

/// The indexes of the set bits of `mask`, lowest first.
#[inline]
fn bits(mut mask: u32) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let k = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            k
        })
    })
}

/// A keyframe: the whole world as a delta against the empty world.
pub fn keyframe(current: &World) -> Delta {
    let mut delta = Delta::default();
    delta.created.reserve(current.len());
    delta
        .created_values
        .reserve(current.len() * current.schema().len());
    for (id, row) in current.iter() {
        delta.push_created(id, row);
    }
    delta
}

/// Applies `delta` to `baseline`, giving the world the server diffed against. A delta that
/// predicts from an older baseline needs [`apply_predicted`].
pub fn apply(baseline: &World, delta: &Delta) -> Result<World, DeltaError> {
    let mut out = World::new(baseline.schema());
    apply_into(baseline, delta, &mut out)?;
    Ok(out)
}

/// [`apply`] into `out`, whose allocation is reused (a client applying 30 deltas a second need
/// not allocate a world for each). On error `out` holds a partial world.
pub fn apply_into(baseline: &World, delta: &Delta, out: &mut World) -> Result<(), DeltaError> {
    if delta.prediction.is_some() {
        return Err(DeltaError::MissingOlderBaseline);
    }
    apply_inner(None, baseline, delta, out)
}

/// Applies `delta` to `baseline`, predicting from `older` if the delta says so (otherwise
/// `older` is not used). Every entity of `baseline` the delta keeps takes its expected state
/// (with prediction: its predicted fields carried on), then its entry, if any.
pub fn apply_predicted(
    older: &World,
    baseline: &World,
    delta: &Delta,
) -> Result<World, DeltaError> {
    let mut out = World::new(baseline.schema());
    apply_predicted_into(older, baseline, delta, &mut out)?;
    Ok(out)
}

/// [`apply_predicted`] into `out`, whose allocation is reused. On error `out` holds a partial
/// world.
pub fn apply_predicted_into(
    older: &World,
    baseline: &World,
    delta: &Delta,
    out: &mut World,
) -> Result<(), DeltaError> {
    if delta.prediction.is_some() && !Schema::same(older.schema(), baseline.schema()) {
        return Err(DeltaError::WrongSchema);
    }
    apply_inner(delta.prediction.map(|p| (older, p)), baseline, delta, out)
}

fn apply_inner(
    older: Option<(&World, Prediction)>,
    baseline: &World,
    delta: &Delta,
    out: &mut World,
) -> Result<(), DeltaError> {
    let schema = baseline.schema();
    let fields = schema.len();
    let sorted = delta.removed.windows(2).all(|w| w[0] < w[1])
        && delta.created.windows(2).all(|w| w[0].index < w[1].index)
        && delta.changed.windows(2).all(|w| w[0].index < w[1].index);
    if !sorted {
        return Err(DeltaError::Unsorted);
    }
    let known = if fields >= 32 {
        u32::MAX
    } else {
        (1u32 << fields) - 1
    };
    if delta
        .created
        .iter()
        .chain(&delta.changed)
        .any(|e| e.mask & !known != 0)
    {
        return Err(DeltaError::UnknownField);
    }

    out.reset(schema, baseline.len() + delta.created.len());
    let mut expect = Expectation::<0>::new(schema, older);
    let mut removed = delta.removed.iter().peekable();
    let mut changed = delta.changed.iter().peekable();
    let mut created = delta.created.iter().peekable();
    let mut row = [0i32; MAX_FIELDS];
    let row = &mut row[..fields];
    for (id, state) in baseline.iter() {
        while let Some(c) = created.next_if(|c| c.index < id.index) {
            push_created(delta, c, schema, row, out)?;
        }
        let gone = removed.next_if(|r| **r == id.index).is_some();
        if gone {
            if changed.peek().is_some_and(|c| c.index == id.index) {
                return Err(DeltaError::RemovedAndChanged);
            }
            continue;
        }
        if created.peek().is_some_and(|c| c.index == id.index) {
            return Err(DeltaError::DuplicateEntity);
        }
        for (r, e) in row.iter_mut().zip(expect.row(id, state)) {
            *r = *e;
        }
        if let Some(change) = changed.next_if(|c| c.index == id.index) {
            let mut values = delta.changed_values(change).iter();
            for k in bits(change.mask) {
                let f = &schema.fields[k];
                let v = *values.next().ok_or(DeltaError::BadValue)?;
                row[k] = match f.encoding {
                    Encoding::Value => v,
                    Encoding::Diff | Encoding::Predicted => f.ty.add(row[k], v),
                };
                if !f.admits(row[k]) {
                    return Err(DeltaError::BadValue);
                }
            }
        }
        out.push_unchecked(id, row);
    }
    if removed.next().is_some() || changed.next().is_some() {
        return Err(DeltaError::UnknownEntity);
    }
    for c in created {
        push_created(delta, c, schema, row, out)?;
    }
    Ok(())
}

/// Expands a created entry into a full row (absent fields are 0) and appends it.
fn push_created(
    delta: &Delta,
    entry: &Entry,
    schema: &Schema,
    row: &mut [i32],
    out: &mut World,
) -> Result<(), DeltaError> {
    row.fill(0);
    let mut values = delta.created_values(entry).iter();
    for (k, slot) in row.iter_mut().enumerate() {
        if entry.mask & (1 << k) != 0 {
            *slot = *values.next().ok_or(DeltaError::BadValue)?;
        }
    }
    if !schema.admits(row) {
        return Err(DeltaError::BadValue);
    }
    out.push_unchecked(entry.id(), row);
    Ok(())
}

/// The row a delta expects each baseline entity to have before its own entry applies: with
/// prediction, the predicted fields carried on from the older baseline's entity of the same id;
/// without (or for an entity the older baseline lacks), the baseline row. `diff` and `apply` both
/// ask it, for baseline entities in increasing index order, so they expect the same.
struct Expectation<'a, const N: usize = 0> {
    schema: &'a Schema,
    /// The bit mask of the schema's predicted fields.
    predicted: u32,
    /// The predicted fields (index and type), the first `predicted_count` of them: read once
    /// here rather than from the schema for every entity.
    predicted_list: [(usize, FieldType); MAX_FIELDS],
    predicted_count: usize,
    older: Option<(&'a World, Prediction)>,
    /// Position in the older world's ids: everything before it has a lower index.
    at: usize,
    scratch: [i32; MAX_FIELDS],
}

impl<'a, const N: usize> Expectation<'a, N> {
    fn new(schema: &'a Schema, older: Option<(&'a World, Prediction)>) -> Expectation<'a, N> {
        let predicted = predicted_mask(schema);
        let mut predicted_list = [(0, FieldType::I32); MAX_FIELDS];
        let mut predicted_count = 0;
        for k in bits(predicted) {
            predicted_list[predicted_count] = (k, schema.fields[k].ty);
            predicted_count += 1;
        }
        Expectation {
            schema,
            predicted,
            predicted_list,
            predicted_count,
            // Nothing to predict in a schema without predicted fields.
            older: older.filter(|_| predicted != 0),
            at: 0,
            scratch: [0; MAX_FIELDS],
        }
    }

    #[inline(always)]
    fn predicted_fields(&self) -> &[(usize, FieldType)] {
        &self.predicted_list[..self.predicted_count]
    }

    /// The older baseline's row of the entity `id`, with the prediction, if the delta predicts
    /// and the older baseline holds that very entity. Called with increasing `id.index`.
    #[inline(always)]
    fn older_row(&mut self, id: NetId) -> Option<(&'a [i32], Prediction)> {
        let (world, prediction) = self.older?;
        let ids = world.ids();
        while self.at < ids.len() && ids[self.at].index < id.index {
            self.at += 1;
        }
        (self.at < ids.len() && ids[self.at] == id)
            .then(|| (row_of::<N>(world, self.at), prediction))
    }

    /// Called with increasing `id.index`.
    fn row<'r>(&'r mut self, id: NetId, baseline: &'r [i32]) -> &'r [i32] {
        let Some((world, prediction)) = self.older else {
            return baseline;
        };
        let ids = world.ids();
        while self.at < ids.len() && ids[self.at].index < id.index {
            self.at += 1;
        }
        if self.at < ids.len() && ids[self.at] == id {
            let width = if N > 0 { N } else { self.schema.len() };
            let out = &mut self.scratch[..width];
            prediction.predict_fields(
                self.schema,
                self.predicted,
                row_of::<N>(world, self.at),
                baseline,
                out,
            );
            out
        } else {
            baseline
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;
    use crate::games::arena::{ArenaEntity, ArenaKind};
    use crate::schema::Replicated;
    use crate::testing::{arb_world_pair, arb_world_triple, world_with};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn apply_of_diff_reproduces_current((base, current) in arb_world_pair()) {
            let delta = diff(&base, &current);
            prop_assert_eq!(apply(&base, &delta), Ok(current));
        }

        #[test]
        fn applying_into_a_used_world_forgets_what_it_held((base, current) in arb_world_pair()) {
            // The reused allocation starts out holding another world entirely.
            let mut out = base.clone();
            apply_into(&base, &diff(&base, &current), &mut out).unwrap();
            prop_assert_eq!(&out, &current);
            prop_assert_eq!(crate::checksum(&out), crate::checksum(&current));
        }

        #[test]
        fn keyframe_applies_to_the_empty_world((_, current) in arb_world_pair()) {
            prop_assert_eq!(apply(&World::new(ArenaEntity::SCHEMA), &keyframe(&current)), Ok(current.clone()));
            prop_assert_eq!(diff(&World::new(ArenaEntity::SCHEMA), &current), keyframe(&current));
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
        let wrong_baseline = World::new(ArenaEntity::SCHEMA);
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
        let mut delta = diff(&World::new(ArenaEntity::SCHEMA), &base);
        delta.created.swap(0, 2);
        assert_eq!(
            apply(&World::new(ArenaEntity::SCHEMA), &delta),
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
        let e = ArenaEntity::new(ArenaKind::Projectile, 10, 10);
        let base = World::from_entities(vec![(NetId::new(3, 1), e)]);
        let current = World::from_entities(vec![(NetId::new(3, 2), e)]);
        let delta = diff(&base, &current);
        assert_eq!(delta.removed, vec![3], "old version removed by index");
        assert_eq!(
            delta.created.iter().map(Entry::id).collect::<Vec<_>>(),
            vec![NetId::new(3, 2)],
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
                .entities::<ArenaEntity>()
                .map(|(id, e)| {
                    let (dx, dy) = velocity(id.index);
                    let mut e = e;
                    e.x += dx * ticks;
                    e.y += dy * ticks;
                    (id, e)
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
        let e = ArenaEntity::new(ArenaKind::Player, 100, 100);
        let moved = ArenaEntity { x: 150, ..e };
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
        let at = |x0: i32, x1: i32| {
            crate::schema::FieldType::I32.wrap(p.extrapolate(i64::from(x0), i64::from(x1)))
        };
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
            entities.push((NetId::new(i, 1), ArenaEntity::new(ArenaKind::Drone, x, y)));
        }
        for p in 0..25u32 {
            let (vx, vy) = ((p as i32 % 5 - 2) * 37, (p as i32 % 3 - 1) * 53);
            let mut e = ArenaEntity::new(
                ArenaKind::Player,
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
