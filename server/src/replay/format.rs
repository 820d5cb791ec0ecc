//! The stored form of a replay: everything a re-simulation needs (game, map, seed and every call
//! the driver made into the game, in order) and the state hashes that prove it ends where the
//! match did. bincode 2 with varint integers: a run of ticks without any join, leave or input is
//! one `Steps(n)`, and inputs are a player id and a few small numbers each.

use bincode::config::{self, Configuration, Limit, LittleEndian, Varint};
use bincode::{Decode, Encode};
use shared::{InputValues, Tick};

/// Bumped on any change to [`Replay`]'s layout; a replay of another version is refused by name
/// rather than misread.
pub const FORMAT_VERSION: u16 = 1;

/// Ticks between recorded state hashes unless configured otherwise.
pub const DEFAULT_HASH_INTERVAL: u32 = 10;

/// The largest replay [`Replay::decode`] reads. Also bounds what a hostile length prefix can
/// make the decoder allocate. A three-minute match of 16 players sending an input every tick
/// is about 1 MiB.
pub const MAX_REPLAY_BYTES: usize = 256 << 20;

/// A recorded match.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Replay {
    /// [`FORMAT_VERSION`] when written; first, so that a reader can check it before the rest.
    pub version: u16,
    pub match_id: String,
    pub game: String,
    /// The game's [`shared::GameProtocol::hash`] when recorded: a game whose declarations have
    /// changed since cannot be trusted to re-simulate the same way.
    pub game_hash: u64,
    /// [`crate::replay::assets_hash`] of the game's `game.toml` and the map when recorded: the
    /// rules read their numbers from them, so other tuning re-simulates differently.
    pub assets_hash: u64,
    pub map: String,
    pub seed: u64,
    pub tick_rate: u16,
    /// Every this many ticks the state hash was recorded.
    pub hash_interval: u32,
    /// What the driver did to the game, in the order it did it.
    pub ops: Vec<Op>,
    /// The state hash after every `hash_interval`-th tick, in tick order.
    pub hashes: Vec<Checkpoint>,
    /// The tick the match ended on (the number of steps), and the state hash then.
    pub final_tick: Tick,
    pub final_hash: u64,
}

/// One call into the game.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Op {
    /// A player the game seated (refused joins changed nothing and are not recorded).
    Join {
        player: u32,
        account_id: i64,
        username: String,
    },
    Leave {
        player: u32,
    },
    /// An input the game accepted: one value per field of its declared input.
    Input {
        player: u32,
        values: InputValues,
    },
    /// This many steps in a row.
    Steps(u32),
}

/// The state hash after a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Checkpoint {
    pub tick: Tick,
    pub hash: u64,
}

/// Why bytes are not a replay this build can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the replay is {len} bytes, more than the {limit} this reader accepts")]
    TooLarge { len: usize, limit: usize },
    #[error("replay format version {found}, this build reads version {FORMAT_VERSION}")]
    Version { found: u16 },
    #[error("not a replay, or a damaged one: {0}")]
    Malformed(String),
    #[error("{0} unexpected bytes after the replay")]
    TrailingBytes(usize),
}

fn standard() -> Configuration<LittleEndian, Varint> {
    config::standard()
}

fn limited() -> Configuration<LittleEndian, Varint, Limit<MAX_REPLAY_BYTES>> {
    config::standard().with_limit::<MAX_REPLAY_BYTES>()
}

/// Appends the encoding of one operation, as it is inside an encoded replay.
pub(crate) fn encode_op(op: &Op, out: &mut Vec<u8>) {
    // Writing to a Vec has no I/O error, and an `Op` never refuses to encode.
    bincode::encode_into_std_write(op, out, standard()).expect("encoding into a Vec");
}

/// Reads the operation `bytes` start with; answers it and the bytes it took.
pub(crate) fn decode_op(bytes: &[u8]) -> Result<(Op, usize), DecodeError> {
    bincode::decode_from_slice(bytes, limited()).map_err(|e| DecodeError::Malformed(e.to_string()))
}

impl Replay {
    pub fn encode(&self) -> Vec<u8> {
        // Writing to a Vec has no I/O error, and none of the replay's types refuses to encode.
        bincode::encode_to_vec(self, standard()).expect("encoding a replay into a Vec")
    }

    /// Reads a replay, checking its version before anything else.
    pub fn decode(bytes: &[u8]) -> Result<Replay, DecodeError> {
        if bytes.len() > MAX_REPLAY_BYTES {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                limit: MAX_REPLAY_BYTES,
            });
        }
        let malformed = |e: bincode::error::DecodeError| DecodeError::Malformed(e.to_string());
        let (version, _): (u16, usize) =
            bincode::decode_from_slice(bytes, limited()).map_err(malformed)?;
        if version != FORMAT_VERSION {
            return Err(DecodeError::Version { found: version });
        }
        let (replay, used): (Replay, usize) =
            bincode::decode_from_slice(bytes, limited()).map_err(malformed)?;
        if used != bytes.len() {
            return Err(DecodeError::TrailingBytes(bytes.len() - used));
        }
        Ok(replay)
    }

    /// The players who ever joined, in order of joining.
    pub fn players(&self) -> impl Iterator<Item = (u32, i64, &str)> + '_ {
        self.ops.iter().filter_map(|op| match op {
            Op::Join {
                player,
                account_id,
                username,
            } => Some((*player, *account_id, username.as_str())),
            _ => None,
        })
    }
}
