//! Every message of the realtime protocol. The codec in [`crate::codec`] is the only place that
//! turns them into bytes.

use bincode::{Decode, Encode};

use crate::delta::Delta;
use crate::schema::InputValues;
use crate::tick::Tick;

/// Bumped on any change to the framing shared by every game. A client with another version is
/// refused at `Hello`; what differs between games is checked by the game's protocol hash
/// ([`crate::schema::GameProtocol::hash`]).
pub const PROTOCOL_VERSION: u16 = 4;

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
    /// The newest snapshot applied, from a client with no input to send: a spectator (whose
    /// seat takes no inputs) acknowledges with this, so its deltas stay deltas.
    Ack(Tick),
}

/// The first frame of every connection.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Hello {
    pub protocol_version: u16,
    /// The single-use join ticket from the lobby. Ignored when `resume` is set.
    pub ticket: String,
    /// Set to resume a dropped session instead of joining.
    pub resume: Option<Resume>,
    /// The [`crate::schema::GameProtocol::hash`] of the game this client was built for; a
    /// match of a game with another hash refuses it. `None` skips the check.
    pub game_hash: Option<u64>,
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
    /// One value per field of the game's declared input, checked against its ranges.
    pub values: InputValues,
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
    /// The game this match plays, and the hash of its declarations.
    pub game: String,
    pub game_hash: u64,
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
    /// The players seated in the match (this one included), by id, with the names they joined
    /// with: a late joiner (or a resumed one) names everyone it draws without having seen them
    /// join.
    pub players: Vec<(u32, String)>,
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
    /// Every event since the baseline's tick (the tick of a keyframe only), oldest first. A
    /// client that skipped snapshots still gets each one; one that saw some already drops those
    /// whose tick it has passed.
    pub events: Vec<TimedEvent>,
    /// [`crate::checksum::checksum`] of the world after applying this delta, on some ticks.
    pub checksum: Option<u64>,
}

/// An event and the tick it happened on, `ago` ticks before the snapshot's.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct TimedEvent {
    pub ago: u16,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Event {
    /// An event of the match's game: its declared kind and fields
    /// ([`crate::schema::NetEvent`]).
    Game {
        kind: u16,
        values: Vec<i32>,
    },
    PlayerJoined {
        player: u32,
        name: String,
    },
    PlayerLeft {
        player: u32,
    },
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
    pub score: i64,
    /// The game's declared stats, by name, in declaration order.
    pub stats: Vec<(String, i64)>,
}
