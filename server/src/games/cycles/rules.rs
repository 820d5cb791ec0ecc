//! [`CyclesConfig`] in the simulation's units, converted once when a match is created: every
//! duration in ticks, so no float is touched after this point.

use super::config::{CyclesConfig, CyclesMap};
use crate::game::GameConfig;

#[derive(Debug, Clone)]
pub(crate) struct Rules {
    /// At least 1.
    pub(crate) match_ticks: u32,
    /// At least 1: a crashed cycle misses at least one tick.
    pub(crate) respawn_ticks: u32,
    /// At least 1.
    pub(crate) move_every: u32,
    /// At least 1.
    pub(crate) max_trail: usize,
    pub(crate) cut_points: i64,
    /// At least 1.
    pub(crate) cells_per_point: i64,
    pub(crate) seats: usize,
}

impl Rules {
    pub(crate) fn new(config: &CyclesConfig, map: &CyclesMap) -> Rules {
        let ticks = |seconds: f64| seconds_to_ticks(seconds, config.tick_rate);
        Rules {
            match_ticks: ticks(config.match_length_s).max(1),
            respawn_ticks: ticks(config.respawn_delay_s).max(1),
            move_every: u32::from(config.move_every_ticks).max(1),
            max_trail: usize::try_from(config.max_trail)
                .unwrap_or(usize::MAX)
                .max(1),
            cut_points: i64::from(config.cut_points),
            cells_per_point: i64::from(config.cells_per_point).max(1),
            seats: usize::from(config.seats(map)),
        }
    }
}

/// Whole ticks nearest to `seconds` (validated finite and at most a day, so the product fits;
/// `as` saturates anything else rather than wrapping).
fn seconds_to_ticks(seconds: f64, tick_rate: u16) -> u32 {
    (seconds * f64::from(tick_rate)).round() as u32
}
