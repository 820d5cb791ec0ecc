//! The match's players by id: each one's cycle, trail and hidden state while seated, and the
//! stats everyone keeps after leaving, for the results.

use std::collections::VecDeque;

use shared::Tick;
use shared::games::cycles::Turn;

use super::EntityKey;

/// One player's place in the match.
#[derive(Debug, Clone)]
pub(crate) struct Seat {
    /// The player's cycle (alive or waiting to respawn) while seated; `None` after leaving.
    pub(crate) cycle: Option<EntityKey>,
    /// Trail cells, oldest first.
    pub(crate) trail: VecDeque<EntityKey>,
    /// The turn the cycle's next move makes.
    pub(crate) pending: Turn,
    /// The tick at or after which a crashed cycle respawns; `None` while alive or away.
    pub(crate) respawn_at: Option<Tick>,
    pub(crate) stats: Stats,
}

/// Counters for the results, in the order of [`shared::games::cycles::STATS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Other cycles that crashed into this player's trail or cycle.
    pub(crate) cuts: u32,
    pub(crate) crashes: u32,
    /// Cells travelled.
    pub(crate) cells: u32,
}

impl Seat {
    pub(crate) fn new() -> Seat {
        Seat {
            cycle: None,
            trail: VecDeque::new(),
            pending: Turn::Straight,
            respawn_at: None,
            stats: Stats::default(),
        }
    }
}

impl Stats {
    /// Cut points plus one point per `cells_per_point` cells (at least 1).
    pub(crate) fn score(&self, cut_points: i64, cells_per_point: i64) -> i64 {
        i64::from(self.cuts) * cut_points + i64::from(self.cells) / cells_per_point.max(1)
    }
}
