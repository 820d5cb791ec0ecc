//! The knobs of a live match, from its game and map and the server's limits.

use std::time::Duration;

use crate::config::Limits;

#[derive(Debug, Clone)]
pub struct MatchSettings {
    pub tick_rate: u16,
    pub capacity: usize,
    /// Inputs a player may have queued; older ones are dropped past it.
    pub input_queue: usize,
    /// Snapshots a client may skip in a row before it is dropped.
    pub max_ticks_behind: u32,
    pub reconnect_grace: Duration,
    /// Every this many ticks a snapshot carries the world's checksum.
    pub checksum_interval: u32,
    /// Ticks of history kept as delta baselines.
    pub history_ticks: usize,
    /// Whether each player gets only what the game says it sees (off: everyone sees the whole
    /// world, whatever the game asks).
    pub interest_management: bool,
    /// Spectators see the match this many ticks late.
    pub spectator_delay_ticks: u32,
    /// Spectators a match takes at once.
    pub max_spectators: usize,
}

impl MatchSettings {
    pub fn new(tick_rate: u16, seats: u16, limits: &Limits) -> MatchSettings {
        MatchSettings {
            tick_rate,
            capacity: usize::from(seats),
            input_queue: 4,
            max_ticks_behind: limits.max_ticks_behind,
            reconnect_grace: Duration::from_secs_f32(limits.reconnect_grace_s),
            checksum_interval: 10,
            // An ack older than the span gets a keyframe; clients size their history by it.
            history_ticks: shared::replica::baseline_span_ticks(tick_rate),
            interest_management: limits.interest_management,
            spectator_delay_ticks: (limits.spectator_delay_s.max(0.0) * f32::from(tick_rate))
                .round() as u32,
            max_spectators: limits.max_spectators_per_match as usize,
        }
    }
}
