//! Light cycles: 2–8 players steer cycles across a grid, turning left or right; every cell a
//! cycle leaves becomes a trail wall. Running into a wall, a trail or another cycle crashes it;
//! a crashed cycle's trail is cleared and it respawns. A different shape from the arena on
//! purpose: grid cells instead of fixed point, many entities (trails) that never change once
//! created, a one-field input that is a press, not a held state.

use crate::schema::{GameProtocol, NetEvent, Replicated};

crate::wire_enum! {
    /// What a cycles entity is.
    pub enum CyclesKind {
        Cycle = 0,
        Trail = 1,
    }
}

crate::wire_enum! {
    /// Where a cycle is heading, clockwise on a screen whose y axis points down.
    pub enum Heading {
        East = 0,
        South = 1,
        West = 2,
        North = 3,
    }
}

impl Heading {
    /// The cell step of one move.
    pub fn step(self) -> (i32, i32) {
        match self {
            Heading::East => (1, 0),
            Heading::South => (0, 1),
            Heading::West => (-1, 0),
            Heading::North => (0, -1),
        }
    }

    pub fn turned(self, turn: Turn) -> Heading {
        let h = self as u8;
        let h = match turn {
            Turn::Straight => h,
            Turn::Left => (h + 3) % 4,
            Turn::Right => (h + 1) % 4,
        };
        match h {
            0 => Heading::East,
            1 => Heading::South,
            2 => Heading::West,
            _ => Heading::North,
        }
    }
}

crate::wire_enum! {
    /// A steering press.
    pub enum Turn {
        Straight = 0,
        Left = 1,
        Right = 2,
    }
}

crate::replicated! {
    /// A cycle (one per player in the match) or one cell of a trail.
    pub struct CyclesEntity {
        kind: CyclesKind = value,
        /// The player the cycle or trail belongs to.
        owner: u32 = value,
        /// The grid cell.
        x: i16 = predicted,
        y: i16 = predicted,
        heading: Heading = value,
        /// False while a crashed cycle waits to respawn (trails are always alive).
        alive: bool = value,
    }
}

crate::replicated! {
    /// A turn to make at the cycle's next move. A later turn before that move replaces it;
    /// `Straight` (what a client sends on ticks without a press) leaves it pending.
    pub struct CyclesInput {
        turn: Turn = value,
    }
}

crate::net_events! {
    /// What happens in a cycles match.
    pub enum CyclesEvent {
        /// `player` crashed; `by` is the player whose trail or cycle it hit (0: a wall, the
        /// edge, or its own trail).
        Crash = 0 { player: u32, by: u32 },
        Respawn = 1 { player: u32 },
    }
}

/// The cycles stats, besides the score: other cycles cut off by your trail, your own crashes,
/// and cells travelled.
pub const STATS: &[&str] = &["cuts", "crashes", "cells"];

pub static PROTOCOL: GameProtocol = GameProtocol {
    name: "cycles",
    entity: <CyclesEntity as Replicated>::SCHEMA,
    input: <CyclesInput as Replicated>::SCHEMA,
    events: <CyclesEvent as NetEvent>::SCHEMA,
    stats: STATS,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turning_goes_round_the_compass() {
        assert_eq!(Heading::East.turned(Turn::Right), Heading::South, "right");
        assert_eq!(Heading::East.turned(Turn::Left), Heading::North, "left");
        assert_eq!(Heading::North.turned(Turn::Right), Heading::East, "wraps");
        assert_eq!(
            Heading::West.turned(Turn::Straight),
            Heading::West,
            "straight"
        );
    }

    #[test]
    fn the_cycles_declaration_differs_from_the_arena() {
        assert_eq!(PROTOCOL.check(), Ok(()), "within limits");
        assert_ne!(
            PROTOCOL.hash(),
            super::super::arena::PROTOCOL.hash(),
            "its own hash"
        );
        assert!(CyclesInput::read_row(&[3]).is_none(), "turn 3 is no turn");
    }
}
