//! The Tickwire protocol crate: realtime messages, the bincode codec, world snapshots, delta
//! compression, fixed-point quantisation, checksums and asset parsing. No I/O: the server and the
//! bot client both build on it, and it is the one place the wire format is written down.

pub mod assets;
pub mod checksum;
pub mod close;
pub mod codec;
pub mod delta;
pub mod protocol;
pub mod quant;
pub mod sample;
pub mod tick;
pub mod world;

#[cfg(test)]
mod testing;

pub use checksum::checksum;
pub use codec::CodecError;
pub use delta::{
    Delta, DeltaError, EntityChange, Prediction, apply, apply_predicted, diff, diff_predicted,
    keyframe,
};
pub use protocol::*;
pub use tick::Tick;
pub use world::{EntityKind, EntityState, NetId, World};
