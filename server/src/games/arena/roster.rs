//! The match's players by id: who is in the arena now, and everyone's score so far (players who
//! left keep theirs, for the results).

use super::entity::EntityKey;

/// One player's result line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlayerScore {
    pub player_id: u32,
    /// Kill points plus orb points.
    pub score: i32,
    /// Other players this player's projectiles killed.
    pub kills: u32,
    /// Times this player was killed.
    pub deaths: u32,
}

/// A player's place in the match.
#[derive(Debug, Clone)]
pub(crate) struct Seat {
    /// The player's entity while it is in the match; `None` after it left.
    pub(crate) entity: Option<EntityKey>,
    pub(crate) score: PlayerScore,
}

impl Seat {
    pub(crate) fn new(player_id: u32) -> Seat {
        Seat {
            entity: None,
            score: PlayerScore {
                player_id,
                score: 0,
                kills: 0,
                deaths: 0,
            },
        }
    }

    pub(crate) fn add_points(&mut self, points: u32) {
        let points = i32::try_from(points).unwrap_or(i32::MAX);
        self.score.score = self.score.score.saturating_add(points);
    }
}
