//! Every message of the realtime protocol. The codec in [`crate::codec`] is the only place that
//! turns them into bytes.

use bincode::{Decode, Encode};

use crate::delta::Delta;
use crate::tick::Tick;

/// Bumped on any change to the wire format. A client with another version is refused at `Hello`.
pub const PROTOCOL_VERSION: u16 = 2;

/// Bits of [`Input::buttons`].
pub mod buttons {
    pub const FIRE: u8 = 1 << 0;
    pub const DASH: u8 = 1 << 1;
    /// Every defined bit; the server rejects inputs with others set.
    pub const ALL: u8 = FIRE | DASH;
}

/// Movement directions of [`Input::move_dir`]: 0 is "stand still", 1..=8 are the eight compass
/// directions clockwise from east.
pub const MOVE_DIRECTIONS: u8 = 8;

// ---------------------------------------------------------------------------------------------
// Client → server

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum ClientMessage {
    Hello(Hello),
    Input(Input),
    Ping(Ping),
    /// The answer to a server [`ServerMessage::Ping`], echoing its fields.
    Pong(Ping),
    Leave,
}

/// The first frame of every connection.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Hello {
    pub protocol_version: u16,
    /// The single-use join ticket from the lobby. Ignored when `resume` is set.
    pub ticket: String,
    /// Set to resume a dropped session instead of joining.
    pub resume: Option<Resume>,
}

/// Resuming a session after a dropped connection.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Resume {
    /// The token from [`Welcome::reconnect_token`].
    pub reconnect_token: String,
    /// The newest snapshot the client still holds; the server deltas against it if it can.
    pub ack_tick: Tick,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Input {
    /// Increases by one per input; echoed back as `last_input_seq`.
    pub seq: u32,
    /// The newest snapshot the client has applied: the baseline for its next delta.
    pub ack_tick: Tick,
    pub buttons: u8,
    pub move_dir: u8,
    pub aim: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Ping {
    pub id: u32,
    /// The sender's clock in microseconds; only the sender interprets it.
    pub sent_us: u64,
}

// ---------------------------------------------------------------------------------------------
// Server → client

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum ServerMessage {
    Welcome(Welcome),
    Snapshot(Snapshot),
    Event(Event),
    Ping(Ping),
    /// The answer to a client [`ClientMessage::Ping`], echoing its fields.
    Pong(Ping),
    MatchEnd(MatchEnd),
    Kicked {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Welcome {
    pub player_id: u32,
    pub match_id: String,
    pub tick_rate: u16,
    pub map: String,
    /// Present this in [`Resume`] to take this player back after a dropped connection.
    pub reconnect_token: String,
    /// Seconds a dropped player's seat is kept for a resume.
    pub reconnect_grace_s: u16,
    /// The match's current tick.
    pub tick: Tick,
    /// Ticks the match has left.
    pub ticks_remaining: u32,
}

/// One tick for one client: a small per-client header and a body shared by every client with
/// the same baseline. bincode writes struct fields back to back, so a frame can be assembled from
/// an encoded header and an encoded body (see [`crate::codec::snapshot_frame`]).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Snapshot {
    pub header: SnapshotHeader,
    pub body: SnapshotBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct SnapshotHeader {
    pub tick: Tick,
    /// The tick this delta is against; [`Tick::ZERO`] for a keyframe.
    pub baseline_tick: Tick,
    /// The newest input of this client the simulation has applied.
    pub last_input_seq: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Encode, Decode)]
pub struct SnapshotBody {
    pub delta: Delta,
    /// What happened this tick, in the order it happened.
    pub events: Vec<Event>,
    /// [`crate::checksum::checksum`] of the world after applying this delta, on some ticks.
    pub checksum: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Event {
    Kill { killer: u32, victim: u32 },
    Pickup { player: u32, points: u32 },
    Respawn { player: u32 },
    Chat { from: u32, text: String },
    PlayerJoined { player: u32, name: String },
    PlayerLeft { player: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct MatchEnd {
    pub results: Vec<PlayerResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct PlayerResult {
    pub player_id: u32,
    pub account_id: i64,
    pub username: String,
    pub score: i32,
    pub kills: u32,
    pub deaths: u32,
}
