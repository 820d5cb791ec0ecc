//! WebSocket close codes the server uses, with the reason a person reads. Codes 4000–4999 are
//! private to this protocol; the rest are the standard ones (RFC 6455 §7.4.1).

/// A normal end: the client left, or the match ended and results were sent.
pub const NORMAL: u16 = 1000;
/// The server is shutting down.
pub const GOING_AWAY: u16 = 1001;
/// A frame that breaks RFC 6455 (an unmasked client frame, a bad continuation).
pub const PROTOCOL_ERROR: u16 = 1002;
/// A text frame, or another frame type the protocol does not use.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// A text message (or a close reason) that is not UTF-8.
pub const INVALID_PAYLOAD: u16 = 1007;
/// A frame over the inbound size limit.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// The server failed; try again later.
pub const INTERNAL_ERROR: u16 = 1011;

/// The first frame was not a `Hello`, or a `Hello` came later.
pub const EXPECTED_HELLO: u16 = 4000;
/// No `Hello` within the handshake timeout.
pub const HANDSHAKE_TIMEOUT: u16 = 4001;
/// The client speaks another protocol version.
pub const PROTOCOL_VERSION: u16 = 4002;
/// The join ticket is unknown.
pub const INVALID_TICKET: u16 = 4003;
/// The join ticket was already used.
pub const TICKET_USED: u16 = 4004;
/// The join ticket expired.
pub const TICKET_EXPIRED: u16 = 4005;
/// The reconnect token is invalid, or the seat it names is gone.
pub const INVALID_RECONNECT: u16 = 4006;
/// Bytes that do not decode as a client message.
pub const MALFORMED: u16 = 4007;
/// More inputs per second than allowed.
pub const INPUT_FLOOD: u16 = 4008;
/// The client fell too many snapshots behind.
pub const TOO_SLOW: u16 = 4009;
/// Nothing heard from the client for too long.
pub const IDLE_TIMEOUT: u16 = 4010;
/// An admin kicked the player.
pub const KICKED: u16 = 4011;
/// The match ended (or was ended by an admin).
pub const MATCH_ENDED: u16 = 4012;
/// A newer connection resumed this player.
pub const REPLACED: u16 = 4013;
/// The match is full, gone, or the seat cannot be taken.
pub const MATCH_UNAVAILABLE: u16 = 4014;
/// The account is banned.
pub const BANNED: u16 = 4015;
/// An input that breaks the rules (values out of range).
pub const INVALID_INPUT: u16 = 4016;
/// The client was built for another game, or another version of its declarations (its
/// `Hello.game_hash` differs from the match's).
pub const GAME_MISMATCH: u16 = 4017;
/// A spectator sent an input: its seat is read-only.
pub const READ_ONLY: u16 = 4018;

/// A short name for a close code, for logs and reports.
pub fn name(code: u16) -> &'static str {
    match code {
        NORMAL => "normal",
        GOING_AWAY => "going_away",
        PROTOCOL_ERROR => "protocol_error",
        UNSUPPORTED_DATA => "unsupported_data",
        INVALID_PAYLOAD => "invalid_payload",
        MESSAGE_TOO_BIG => "message_too_big",
        INTERNAL_ERROR => "internal_error",
        EXPECTED_HELLO => "expected_hello",
        HANDSHAKE_TIMEOUT => "handshake_timeout",
        PROTOCOL_VERSION => "protocol_version",
        INVALID_TICKET => "invalid_ticket",
        TICKET_USED => "ticket_used",
        TICKET_EXPIRED => "ticket_expired",
        INVALID_RECONNECT => "invalid_reconnect",
        MALFORMED => "malformed",
        INPUT_FLOOD => "input_flood",
        TOO_SLOW => "too_slow",
        IDLE_TIMEOUT => "idle_timeout",
        KICKED => "kicked",
        MATCH_ENDED => "match_ended",
        REPLACED => "replaced",
        MATCH_UNAVAILABLE => "match_unavailable",
        BANNED => "banned",
        INVALID_INPUT => "invalid_input",
        GAME_MISMATCH => "game_mismatch",
        READ_ONLY => "read_only",
        _ => "other",
    }
}
