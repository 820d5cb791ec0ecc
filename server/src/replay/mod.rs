//! Deterministic match replays. Every match is recorded as it is played ([`record`]): its seed,
//! game and map, and every join, leave, input and step in the order the tick driver made them,
//! with the game's state hash every few ticks. A replay is stored with the match's results and
//! re-simulates to the same hash on every recorded tick ([`verify()`]), which proves a match was
//! played by the rules and lets it be watched again ([`playback`]).
//!
//! The format is in [`format`]; `docs/replays.md` describes it and the playback stream.

pub mod format;
pub(crate) mod record;
pub mod source;
mod verify;

use serde::Deserialize;

use crate::game::GameInfo;

pub use format::{Checkpoint, DEFAULT_HASH_INTERVAL, DecodeError, FORMAT_VERSION, Op, Replay};
pub use verify::{ReplayError, Verified, playback, read_playback, verify};

/// The `[replays]` section of the config file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplaySettings {
    /// Record every match and store its replay with its results.
    pub enabled: bool,
    /// Replays older than this many days are deleted (0 keeps them forever).
    pub retention_days: u32,
    /// Ticks between recorded state hashes: fewer catch a divergence closer to where it
    /// happened, at 12 bytes and one state hash per recorded tick.
    pub hash_interval_ticks: u32,
}

impl Default for ReplaySettings {
    fn default() -> ReplaySettings {
        ReplaySettings {
            enabled: true,
            retention_days: 30,
            hash_interval_ticks: DEFAULT_HASH_INTERVAL,
        }
    }
}

impl ReplaySettings {
    /// Checks the ranges serde cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.hash_interval_ticks == 0 {
            return Err("replays.hash_interval_ticks: must be at least 1".into());
        }
        Ok(())
    }

    /// How long a replay is kept, in milliseconds; `None` keeps it forever.
    pub fn retention_ms(&self) -> Option<i64> {
        (self.retention_days > 0).then(|| i64::from(self.retention_days) * 24 * 3_600_000)
    }
}

/// A hash of what a match of `game` on `map` reads its numbers from: the game's `game.toml` and
/// the map file, as loaded (comments and layout of the files do not count). `None` if the game
/// has no such map.
pub(crate) fn assets_hash(game: &GameInfo, map: &str) -> Option<u64> {
    let map = game.map(map)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(game.tuning.to_string().as_bytes());
    h.update(b"\0");
    h.update(map.layout.to_string().as_bytes());
    Some(h.digest())
}

/// Stores `replay` (its match has ended at `now`). A replay that cannot be stored is logged and
/// lost, and the match's results stand.
pub(crate) async fn save(store: &crate::store::Store, replay: &Replay, now: i64) {
    let bytes = replay.encode();
    if let Err(e) = store.save_replay(&replay.match_id, &bytes, now).await {
        tracing::error!(match_id = %replay.match_id, error = %e, bytes = bytes.len(), "storing the replay failed");
    }
}

#[cfg(test)]
mod tests;
