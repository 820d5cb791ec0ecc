//! Leaderboards: board definitions and seasons, and per-board-season rank indexes kept in step
//! with the database. Records are written only with match results (see `store::results`).

mod board;
mod ranks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use board::{BoardDef, Metric, Operator, Order, Reset, default_boards};
pub use ranks::{RankIndex, RankKey};

use crate::store::{Store, StoreError};

/// A board season's rank index and the board version it reflects.
#[derive(Debug, Default)]
struct Cached {
    index: RankIndex,
    version: i64,
    loaded_at: Option<Instant>,
    used_at: Option<Instant>,
}

/// A board season: (board id, season start).
type SeasonKey = (String, i64);

/// The configured boards and their rank caches.
#[derive(Debug)]
pub struct Leaderboards {
    boards: Vec<BoardDef>,
    caches: Mutex<HashMap<SeasonKey, Arc<tokio::sync::Mutex<Cached>>>>,
    /// A rank index is rebuilt from scratch after this long, well before the closed record
    /// versions its incremental updates rely on are purged.
    reload_after: Duration,
}

impl Leaderboards {
    pub fn new(boards: Vec<BoardDef>, history_keep: Duration) -> Leaderboards {
        Leaderboards {
            boards,
            caches: Mutex::new(HashMap::new()),
            reload_after: history_keep / 2,
        }
    }

    pub fn boards(&self) -> &[BoardDef] {
        &self.boards
    }

    pub fn get(&self, id: &str) -> Option<&BoardDef> {
        self.boards.iter().find(|b| b.id == id)
    }

    fn cache(&self, board: &str, season: i64) -> Arc<tokio::sync::Mutex<Cached>> {
        // A std mutex: a map lookup or insert, never held across an await.
        let mut caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        caches
            .entry((board.to_string(), season))
            .or_default()
            .clone()
    }

    /// Runs `f` on the board season's rank index after bringing it up to date: one version read
    /// when nothing changed, the changed records when something did, everything on first use.
    pub async fn with_ranks<R>(
        &self,
        store: &Store,
        board: &str,
        season: i64,
        f: impl FnOnce(&RankIndex) -> R,
    ) -> Result<R, StoreError> {
        let cache = self.cache(board, season);
        let mut cached = cache.lock().await;
        // Read the version before the records: a write landing in between is re-applied on the
        // next refresh, which is harmless (setting a key is idempotent).
        let version = store.board_version(board, season).await?;
        let fresh = cached
            .loaded_at
            .is_some_and(|t| t.elapsed() < self.reload_after);
        if !fresh {
            cached.index = RankIndex::from_sorted(store.board_keys(board, season).await?);
            cached.version = version;
            cached.loaded_at = Some(Instant::now());
        } else if version != cached.version {
            let changes = store.board_changes(board, season, cached.version).await?;
            for (account, key) in changes.accounts {
                cached.index.set(account, key);
            }
            cached.version = version;
        }
        cached.used_at = Some(Instant::now());
        Ok(f(&cached.index))
    }

    /// Drops rank indexes nobody asked for in `idle`, so old seasons do not hold memory.
    pub fn forget_idle(&self, idle: Duration) {
        let mut caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        caches.retain(|_, cache| match cache.try_lock() {
            Ok(c) => c.used_at.is_some_and(|t| t.elapsed() < idle),
            // In use right now.
            Err(_) => true,
        });
    }
}
