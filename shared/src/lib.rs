//! The Tickwire protocol crate: realtime messages, the bincode codec, game declarations
//! ([`schema`]), world snapshots, delta compression, fixed-point quantisation, checksums and asset parsing. No I/O: the server and the
//! bot client both build on it, and it is the one place the wire format is written down.

pub mod assets;
pub mod checksum;
pub mod close;
pub mod codec;
pub mod delta;
pub mod events;
pub mod games;
pub mod protocol;
pub mod quant;
pub mod replica;
pub mod sample;
pub mod schema;
pub mod tick;
pub mod world;

#[cfg(test)]
mod testing;

pub use checksum::checksum;
pub use codec::CodecError;
pub use delta::{
    Delta, DeltaError, Entry, Prediction, apply, apply_into, apply_predicted, apply_predicted_into,
    diff, diff_predicted, keyframe,
};
pub use protocol::*;
pub use schema::{GameProtocol, InputValues, NetEvent, Replicated, Scalar, Schema};
pub use tick::Tick;
pub use world::{NetId, World};
