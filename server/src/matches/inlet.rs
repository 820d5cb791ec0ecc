//! A connection's reading side as the match sees it.
//!
//! The tick reads every client itself, without blocking, just before it takes inputs: in steady
//! play no task wakes per input and no channel carries it. What a message means on the wire
//! (framing, pings, rate limits, the input declaration) is `net`'s business; the match only
//! learns the inputs and whether the connection is over.

use shared::protocol::Input;
use tokio::time::Instant;

/// Why a connection is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEnd {
    /// The player left on purpose (`Leave`): the seat is released.
    Left,
    /// The connection ended otherwise (closed, broken, refused): the seat waits out the grace.
    Dropped,
}

pub trait Inlet: Send + std::fmt::Debug {
    /// Reads what the client sent since the last call, without waiting. Inputs that passed
    /// every check go to `input`, in order. `Some` once the connection is over; its close, if
    /// one is due, has been asked of the outbox.
    fn read(&mut self, now: Instant, input: &mut dyn FnMut(Input)) -> Option<LinkEnd>;
}
