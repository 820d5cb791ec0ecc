//! What a game replicates, described once: its entity fields, its input fields, its events and
//! its stats. The delta engine, the checksum, input validation and every replica work from these
//! descriptions, so no game writes wire code by hand.
//!
//! A game declares its types with [`crate::replicated!`] (entities and inputs: a struct of scalar
//! fields, each with its encoding and range) and [`crate::net_events!`] (events: an enum whose
//! variants carry scalar fields), then names them in a [`GameProtocol`]. Every field travels as
//! an `i32` in its type's canonical form (an unsigned 32-bit value as its bits), so a world is a
//! table of `i32` rows whatever the game.

use xxhash_rust::xxh3::Xxh3;

/// Fields a schema may declare: a changed entity carries a `u32` bit mask of them.
pub const MAX_FIELDS: usize = 32;
/// Fields an input may declare (inputs are decoded on every tick, into a fixed array).
pub const MAX_INPUT_FIELDS: usize = 8;

/// A field's Rust type, which fixes its width and how differences wrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    U8,
    U16,
    U32,
    I8,
    I16,
    I32,
}

/// Width and signedness by [`FieldType`] discriminant: table lookups keep the per-field
/// arithmetic of the delta engine free of jump tables.
const BITS: [u32; 7] = [1, 8, 16, 32, 8, 16, 32];
const SIGNED: [bool; 7] = [false, false, false, false, true, true, true];

impl FieldType {
    pub const fn bits(self) -> u32 {
        BITS[self as usize]
    }

    pub const fn signed(self) -> bool {
        SIGNED[self as usize]
    }

    /// The smallest value of the type.
    pub const fn min(self) -> i64 {
        if self.signed() {
            -(1i64 << (self.bits() - 1))
        } else {
            0
        }
    }

    /// The largest value of the type.
    pub const fn max(self) -> i64 {
        if self.signed() {
            (1i64 << (self.bits() - 1)) - 1
        } else {
            (1i64 << self.bits()) - 1
        }
    }

    /// The value a canonical wire `i32` stands for (a `u32` travels as its bits).
    #[inline]
    pub const fn value(self, raw: i32) -> i64 {
        if matches!(self, FieldType::U32) {
            raw as u32 as i64
        } else {
            raw as i64
        }
    }

    /// Whether `raw` is the canonical wire form of some value of this type.
    #[inline]
    pub const fn is_canonical(self, raw: i32) -> bool {
        self.wrap(raw as i64) == raw
    }

    /// Any integer wrapped into the type, in canonical wire form: the low `bits` bits,
    /// sign-extended for signed types (and for 32 bits, where a `u32` travels as its bits).
    #[inline]
    pub const fn wrap(self, v: i64) -> i32 {
        let shift = 64 - self.bits();
        if self.signed() || self.bits() == 32 {
            ((v << shift) >> shift) as i32
        } else {
            (((v as u64) << shift) >> shift) as i32
        }
    }

    /// The difference `new - old`, wrapped to the type's width and sign-extended, so an angle
    /// crossing zero differs by a small number.
    #[inline]
    pub const fn diff(self, old: i32, new: i32) -> i32 {
        let shift = 64 - self.bits();
        let d = (new as i64).wrapping_sub(old as i64);
        ((d << shift) >> shift) as i32
    }

    /// `old + diff`, wrapped into the type: the inverse of [`FieldType::diff`].
    #[inline]
    pub const fn add(self, old: i32, diff: i32) -> i32 {
        self.wrap(old as i64 + diff as i64)
    }

    /// The type's Rust name (`u8`, `i32`, ...), as SDKs show it.
    pub const fn name(self) -> &'static str {
        match self {
            FieldType::Bool => "bool",
            FieldType::U8 => "u8",
            FieldType::U16 => "u16",
            FieldType::U32 => "u32",
            FieldType::I8 => "i8",
            FieldType::I16 => "i16",
            FieldType::I32 => "i32",
        }
    }

    const fn code(self) -> u8 {
        match self {
            FieldType::Bool => 0,
            FieldType::U8 => 1,
            FieldType::U16 => 2,
            FieldType::U32 => 3,
            FieldType::I8 => 4,
            FieldType::I16 => 5,
            FieldType::I32 => 6,
        }
    }
}

/// How a changed field travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The new value (kinds, flags, ids: a difference means nothing).
    Value,
    /// The difference from the baseline's value (counters, health, angles).
    Diff,
    /// The difference from a linear prediction: the field is expected to keep the velocity it
    /// had between the client's two newest baselines (positions).
    Predicted,
}

impl Encoding {
    /// As a declaration spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::Value => "value",
            Encoding::Diff => "diff",
            Encoding::Predicted => "predicted",
        }
    }
}

/// One declared field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub encoding: Encoding,
    /// Inclusive range of the field's value ([`FieldType::value`]).
    pub min: i64,
    pub max: i64,
}

impl Field {
    /// Whether a canonical wire value is a value of this field.
    pub const fn admits(&self, raw: i32) -> bool {
        if !self.ty.is_canonical(raw) {
            return false;
        }
        let v = self.ty.value(raw);
        v >= self.min && v <= self.max
    }
}

/// A struct of scalar fields: an entity, or an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    pub name: &'static str,
    pub fields: &'static [Field],
}

impl Schema {
    pub const fn len(&self) -> usize {
        self.fields.len()
    }

    pub const fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Whether `row` has one admitted value per field.
    pub fn admits(&self, row: &[i32]) -> bool {
        row.len() == self.fields.len() && self.fields.iter().zip(row).all(|(f, v)| f.admits(*v))
    }

    /// Whether two schemas are the same declaration (the same static, or equal field by field:
    /// a `const` may be placed at more than one address).
    pub fn same(a: &Schema, b: &Schema) -> bool {
        std::ptr::eq(a, b) || a == b
    }

    fn describe(&self, h: &mut Xxh3) {
        h.update(self.name.as_bytes());
        h.update(&(self.fields.len() as u32).to_le_bytes());
        for f in self.fields {
            h.update(&(f.name.len() as u32).to_le_bytes());
            h.update(f.name.as_bytes());
            h.update(&[f.ty.code(), f.encoding as u8]);
            h.update(&f.min.to_le_bytes());
            h.update(&f.max.to_le_bytes());
        }
    }

    /// A fingerprint of the layout, mixed into every checksum of a world of this schema.
    pub fn fingerprint(&self) -> u64 {
        let mut h = Xxh3::new();
        self.describe(&mut h);
        h.digest()
    }
}

/// One variant of a game's event enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventVariant {
    pub name: &'static str,
    /// The variant's number on the wire.
    pub kind: u16,
    pub fields: &'static [Field],
}

/// A game's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSchema {
    pub name: &'static str,
    pub variants: &'static [EventVariant],
}

impl EventSchema {
    pub fn variant(&self, kind: u16) -> Option<&EventVariant> {
        self.variants.iter().find(|v| v.kind == kind)
    }

    /// Whether `values` are a valid event of variant `kind`.
    pub fn admits(&self, kind: u16, values: &[i32]) -> bool {
        self.variant(kind).is_some_and(|v| {
            values.len() == v.fields.len() && v.fields.iter().zip(values).all(|(f, x)| f.admits(*x))
        })
    }
}

/// Everything a client and the server must agree on to play a game: its name, what it
/// replicates, what it takes as input, its events and the stats its results carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GameProtocol {
    pub name: &'static str,
    pub entity: &'static Schema,
    pub input: &'static Schema,
    pub events: &'static EventSchema,
    /// Named stats of a player's results, besides the score (leaderboards rank by them).
    pub stats: &'static [&'static str],
}

impl GameProtocol {
    /// A hash of every declaration: `Welcome` carries it, and a client built against other
    /// declarations is refused at `Hello` instead of misreading the game's frames.
    pub fn hash(&self) -> u64 {
        let mut h = Xxh3::new();
        h.update(b"tickwire-game\0");
        h.update(self.name.as_bytes());
        self.entity.describe(&mut h);
        self.input.describe(&mut h);
        h.update(self.events.name.as_bytes());
        for v in self.events.variants {
            h.update(&v.kind.to_le_bytes());
            Schema {
                name: v.name,
                fields: v.fields,
            }
            .describe(&mut h);
        }
        for s in self.stats {
            h.update(&(s.len() as u32).to_le_bytes());
            h.update(s.as_bytes());
        }
        h.digest()
    }

    /// Checks the limits the wire format puts on declarations.
    pub fn check(&self) -> Result<(), String> {
        if self.entity.len() > MAX_FIELDS {
            return Err(format!(
                "{}: {} entity fields, at most {MAX_FIELDS}",
                self.name,
                self.entity.len()
            ));
        }
        if self.input.len() > MAX_INPUT_FIELDS {
            return Err(format!(
                "{}: {} input fields, at most {MAX_INPUT_FIELDS}",
                self.name,
                self.input.len()
            ));
        }
        for s in [self.entity, self.input] {
            for f in s.fields {
                if f.min > f.max || f.min < f.ty.min() || f.max > f.ty.max() {
                    return Err(format!(
                        "{}: field {}.{}: range {}..={} does not fit its type",
                        self.name, s.name, f.name, f.min, f.max
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A scalar a declared field can hold. Implemented for the integer types and `bool`; a game can
/// implement it for its own enums (see [`crate::wire_enum!`]).
pub trait Scalar: Sized + Copy {
    const TYPE: FieldType;
    /// The range of values this type admits, by default its type's whole range.
    const MIN: i64 = Self::TYPE.min();
    const MAX: i64 = Self::TYPE.max();
    fn to_wire(self) -> i32;
    /// `None` for a value this type does not have.
    fn from_wire(raw: i32) -> Option<Self>;
}

macro_rules! scalar_int {
    ($($t:ty => $ft:ident),* $(,)?) => {$(
        impl Scalar for $t {
            const TYPE: FieldType = FieldType::$ft;
            fn to_wire(self) -> i32 {
                self as i32
            }
            fn from_wire(raw: i32) -> Option<Self> {
                FieldType::$ft.is_canonical(raw).then_some(raw as $t)
            }
        }
    )*};
}

scalar_int!(u8 => U8, u16 => U16, u32 => U32, i8 => I8, i16 => I16, i32 => I32);

impl Scalar for bool {
    const TYPE: FieldType = FieldType::Bool;
    fn to_wire(self) -> i32 {
        i32::from(self)
    }
    fn from_wire(raw: i32) -> Option<Self> {
        match raw {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

/// A declared struct of scalar fields (see [`crate::replicated!`]): a game's entity or input.
pub trait Replicated: Sized + Copy + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    const SCHEMA: &'static Schema;
    /// Writes one value per field, in declaration order, into `row` (of the schema's length).
    fn write_row(&self, row: &mut [i32]);
    /// Reads a row back; `None` unless every value is admitted by its field.
    fn read_row(row: &[i32]) -> Option<Self>;
    /// Appends the row to a table of rows.
    fn append_row(&self, table: &mut Vec<i32>) {
        let start = table.len();
        table.resize(start + Self::SCHEMA.len(), 0);
        self.write_row(&mut table[start..]);
    }
}

/// A declared event enum (see [`crate::net_events!`]).
pub trait NetEvent: Sized + Clone + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    const SCHEMA: &'static EventSchema;
    fn kind(&self) -> u16;
    /// The variant's fields in declaration order.
    fn values(&self) -> Vec<i32>;
    /// `None` for an unknown kind or values the variant does not admit.
    fn from_wire(kind: u16, values: &[i32]) -> Option<Self>;
}

/// Declares a struct of scalar fields and implements [`Replicated`] for it.
///
/// ```
/// shared::replicated! {
///     /// A ball.
///     pub struct Ball {
///         x: i32 = predicted,
///         y: i32 = predicted,
///         spin: u16 = diff,
///         colour: u8 = value [0, 5],
///     }
/// }
/// ```
///
/// Each field is `name: type [= value | diff | predicted] [[min, max]]`; the encoding defaults
/// to `diff` and the range to the type's (or the [`Scalar`]'s) whole range.
#[macro_export]
macro_rules! replicated {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty $(= $enc:ident)? $([$lo:expr, $hi:expr])?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::schema::Replicated for $name {
            const SCHEMA: &'static $crate::schema::Schema = &$crate::schema::Schema {
                name: stringify!($name),
                fields: &[$(
                    $crate::schema::Field {
                        name: stringify!($field),
                        ty: <$ty as $crate::schema::Scalar>::TYPE,
                        encoding: $crate::replicated!(@enc $($enc)?),
                        min: $crate::replicated!(@min $ty $(, $lo)?),
                        max: $crate::replicated!(@max $ty $(, $hi)?),
                    },
                )*],
            };

            fn write_row(&self, row: &mut [i32]) {
                let values = [$( $crate::schema::Scalar::to_wire(self.$field) ),*];
                row[..values.len()].copy_from_slice(&values);
            }

            fn append_row(&self, table: &mut Vec<i32>) {
                table.extend_from_slice(&[$( $crate::schema::Scalar::to_wire(self.$field) ),*]);
            }

            fn read_row(row: &[i32]) -> Option<Self> {
                if !<Self as $crate::schema::Replicated>::SCHEMA.admits(row) {
                    return None;
                }
                let mut values = row.iter().copied();
                Some($name {
                    $( $field: <$ty as $crate::schema::Scalar>::from_wire(values.next()?)?, )*
                })
            }
        }
    };
    (@enc) => { $crate::schema::Encoding::Diff };
    (@enc value) => { $crate::schema::Encoding::Value };
    (@enc diff) => { $crate::schema::Encoding::Diff };
    (@enc predicted) => { $crate::schema::Encoding::Predicted };
    (@min $ty:ty) => { <$ty as $crate::schema::Scalar>::MIN };
    (@min $ty:ty, $lo:expr) => { ($lo) as i64 };
    (@max $ty:ty) => { <$ty as $crate::schema::Scalar>::MAX };
    (@max $ty:ty, $hi:expr) => { ($hi) as i64 };
}

/// Declares an event enum whose variants carry scalar fields, numbered explicitly (the number is
/// the variant's wire kind, so reordering the source never changes the wire), and implements
/// [`NetEvent`] for it.
///
/// ```
/// shared::net_events! {
///     pub enum BallEvent {
///         Goal = 0 { scorer: u32 },
///         Out = 1 {},
///     }
/// }
/// ```
#[macro_export]
macro_rules! net_events {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $kind:literal { $( $field:ident : $ty:ty ),* $(,)? }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant { $( $field: $ty ),* }, )*
        }

        impl $crate::schema::NetEvent for $name {
            const SCHEMA: &'static $crate::schema::EventSchema = &$crate::schema::EventSchema {
                name: stringify!($name),
                variants: &[$(
                    $crate::schema::EventVariant {
                        name: stringify!($variant),
                        kind: $kind,
                        fields: &[$(
                            $crate::schema::Field {
                                name: stringify!($field),
                                ty: <$ty as $crate::schema::Scalar>::TYPE,
                                encoding: $crate::schema::Encoding::Value,
                                min: <$ty as $crate::schema::Scalar>::MIN,
                                max: <$ty as $crate::schema::Scalar>::MAX,
                            },
                        )*],
                    },
                )*],
            };

            fn kind(&self) -> u16 {
                match self {
                    $( $name::$variant { .. } => $kind, )*
                }
            }

            fn values(&self) -> Vec<i32> {
                match *self {
                    $( $name::$variant { $( $field ),* } => {
                        vec![$( $crate::schema::Scalar::to_wire($field) ),*]
                    } )*
                }
            }

            fn from_wire(kind: u16, values: &[i32]) -> Option<Self> {
                if !<Self as $crate::schema::NetEvent>::SCHEMA.admits(kind, values) {
                    return None;
                }
                #[allow(unused_mut, unused_variables)]
                let mut values = values.iter().copied();
                match kind {
                    $( $kind => Some($name::$variant {
                        $( $field: <$ty as $crate::schema::Scalar>::from_wire(values.next()?)?, )*
                    }), )*
                    _ => None,
                }
            }
        }
    };
}

/// Declares a field-less enum with explicit discriminants and implements [`Scalar`] for it as a
/// `u8` admitting exactly those values.
///
/// ```
/// shared::wire_enum! {
///     pub enum Colour { Red = 0, Green = 1 }
/// }
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $value:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        $vis enum $name { $( $(#[$vmeta])* $variant = $value ),* }

        impl $crate::schema::Scalar for $name {
            const TYPE: $crate::schema::FieldType = $crate::schema::FieldType::U8;
            const MIN: i64 = {
                let all = [$( $value as i64 ),*];
                let mut min = all[0];
                let mut i = 1;
                while i < all.len() {
                    if all[i] < min { min = all[i]; }
                    i += 1;
                }
                min
            };
            const MAX: i64 = {
                let all = [$( $value as i64 ),*];
                let mut max = all[0];
                let mut i = 1;
                while i < all.len() {
                    if all[i] > max { max = all[i]; }
                    i += 1;
                }
                max
            };
            fn to_wire(self) -> i32 {
                self as i32
            }
            fn from_wire(raw: i32) -> Option<Self> {
                match raw {
                    $( $value => Some($name::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

/// An input's values as they travel: one per declared input field, at most
/// [`MAX_INPUT_FIELDS`], held inline so decoding an input never allocates.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct InputValues {
    len: u8,
    values: [i32; MAX_INPUT_FIELDS],
}

impl InputValues {
    /// `None` if there are more than [`MAX_INPUT_FIELDS`] values.
    pub fn new(values: &[i32]) -> Option<InputValues> {
        if values.len() > MAX_INPUT_FIELDS {
            return None;
        }
        let mut out = InputValues {
            len: values.len() as u8,
            values: [0; MAX_INPUT_FIELDS],
        };
        out.values[..values.len()].copy_from_slice(values);
        Some(out)
    }

    /// The values of a declared input.
    pub fn of<T: Replicated>(input: &T) -> InputValues {
        let mut row = [0i32; MAX_INPUT_FIELDS];
        let n = T::SCHEMA.len().min(MAX_INPUT_FIELDS);
        input.write_row(&mut row[..n]);
        InputValues {
            len: n as u8,
            values: row,
        }
    }

    pub fn as_slice(&self) -> &[i32] {
        &self.values[..usize::from(self.len)]
    }

    /// The declared input these values are, if the schema admits them.
    pub fn read<T: Replicated>(&self) -> Option<T> {
        T::read_row(self.as_slice())
    }
}

impl std::fmt::Debug for InputValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl bincode::Encode for InputValues {
    fn encode<E: bincode::enc::Encoder>(
        &self,
        encoder: &mut E,
    ) -> Result<(), bincode::error::EncodeError> {
        self.len.encode(encoder)?;
        for v in self.as_slice() {
            v.encode(encoder)?;
        }
        Ok(())
    }
}

impl<Context> bincode::Decode<Context> for InputValues {
    fn decode<D: bincode::de::Decoder<Context = Context>>(
        decoder: &mut D,
    ) -> Result<Self, bincode::error::DecodeError> {
        let len = u8::decode(decoder)?;
        if usize::from(len) > MAX_INPUT_FIELDS {
            return Err(bincode::error::DecodeError::Other("too many input values"));
        }
        let mut out = InputValues {
            len,
            values: [0; MAX_INPUT_FIELDS],
        };
        for v in &mut out.values[..usize::from(len)] {
            *v = i32::decode(decoder)?;
        }
        Ok(out)
    }
}

bincode::impl_borrow_decode!(InputValues);

#[cfg(test)]
mod tests {
    use super::*;

    crate::wire_enum! {
        enum Colour { Red = 2, Green = 5 }
    }

    crate::replicated! {
        struct Probe {
            x: i32 = predicted,
            aim: u16,
            colour: Colour = value,
            small: u8 = value [1, 9],
            on: bool = value,
            big: u32,
        }
    }

    crate::net_events! {
        enum ProbeEvent {
            Hit = 3 { by: u32, damage: i16 },
            Quiet = 7 {},
        }
    }

    #[test]
    fn a_declared_struct_round_trips_through_its_row() {
        let p = Probe {
            x: -5,
            aim: 65_000,
            colour: Colour::Green,
            small: 4,
            on: true,
            big: u32::MAX,
        };
        let mut row = [0i32; 6];
        p.write_row(&mut row);
        assert_eq!(Probe::read_row(&row), Some(p), "round trip");
        let mut bad = row;
        bad[3] = 10;
        assert_eq!(Probe::read_row(&bad), None, "small is declared 1..=9");
        let mut bad = row;
        bad[2] = 3;
        assert_eq!(Probe::read_row(&bad), None, "3 is no colour");
        assert_eq!(Probe::read_row(&row[..5]), None, "a short row is refused");
    }

    #[test]
    fn declarations_give_encodings_and_ranges() {
        let f = Probe::SCHEMA.fields;
        assert_eq!(f[0].encoding, Encoding::Predicted, "x predicted");
        assert_eq!(f[1].encoding, Encoding::Diff, "diff is the default");
        assert_eq!(
            (f[2].min, f[2].max),
            (2, 5),
            "an enum's range is its values"
        );
        assert_eq!((f[3].min, f[3].max), (1, 9), "a declared range");
        assert_eq!((f[5].min, f[5].max), (0, i64::from(u32::MAX)), "u32");
    }

    #[test]
    fn events_round_trip_and_refuse_what_they_do_not_declare() {
        let e = ProbeEvent::Hit { by: 7, damage: -3 };
        assert_eq!(
            ProbeEvent::from_wire(e.kind(), &e.values()),
            Some(e),
            "round trip"
        );
        assert_eq!(
            ProbeEvent::from_wire(7, &[]),
            Some(ProbeEvent::Quiet {}),
            "empty"
        );
        assert_eq!(ProbeEvent::from_wire(4, &[]), None, "unknown kind");
        assert_eq!(ProbeEvent::from_wire(3, &[1]), None, "missing value");
        assert_eq!(ProbeEvent::from_wire(3, &[1, 40_000]), None, "i16 range");
    }

    #[test]
    fn differences_wrap_in_the_fields_width() {
        let t = FieldType::U16;
        assert_eq!(t.diff(65_530, 4), 10, "an angle crossing zero");
        assert_eq!(t.add(65_530, 10), 4, "and back");
        assert_eq!(FieldType::I8.wrap(130), -126, "i8 wraps");
        assert_eq!(FieldType::U32.diff(-1, 0), 1, "u32 as bits");
        assert_eq!(FieldType::I32.add(i32::MAX, 1), i32::MIN, "i32 wraps");
    }

    #[test]
    fn the_protocol_hash_changes_with_any_declaration() {
        static A: GameProtocol = GameProtocol {
            name: "probe",
            entity: Probe::SCHEMA,
            input: Probe::SCHEMA,
            events: ProbeEvent::SCHEMA,
            stats: &["hits"],
        };
        let b = GameProtocol {
            stats: &["misses"],
            ..A
        };
        let c = GameProtocol { name: "other", ..A };
        assert_eq!(A.hash(), A.hash(), "stable");
        assert_ne!(A.hash(), b.hash(), "stats are part of it");
        assert_ne!(A.hash(), c.hash(), "the name is part of it");
        assert_eq!(A.check(), Ok(()), "within the wire's limits");
    }

    #[test]
    fn input_values_decode_without_allocating_and_refuse_too_many() {
        let v = InputValues::new(&[1, -2, 3]).expect("three fit");
        let bytes = crate::codec::encode_value(&v);
        let back: InputValues = crate::codec::decode_value(&bytes, 64).expect("decodes");
        assert_eq!(back.as_slice(), &[1, -2, 3], "round trip");
        let too_many = [9u8, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(
            crate::codec::decode_value::<InputValues>(&too_many, 64).is_err(),
            "nine values refused"
        );
        assert!(InputValues::new(&[0; 9]).is_none(), "nine values refused");
    }
}
