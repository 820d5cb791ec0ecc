//! The arena: a top-down shooter. Players move (8-way), aim, fire projectiles, dash and pick up
//! orbs; drones circle the centre on the `bench` map.
//!
//! Coordinates are fixed point ([`crate::quant::POS_SCALE`] steps per world unit) on a screen
//! whose y axis points down: aim 0 is east and aims and `move_dir`s go clockwise.

use crate::schema::{GameProtocol, NetEvent, Replicated};

crate::wire_enum! {
    /// What an arena entity is.
    pub enum ArenaKind {
        Player = 0,
        Projectile = 1,
        Orb = 2,
        Drone = 3,
    }
}

/// Bits of [`ArenaEntity::flags`].
pub mod flags {
    pub const DEAD: u8 = 1 << 0;
    pub const DASHING: u8 = 1 << 1;
    pub const FIRING: u8 = 1 << 2;
    pub const ALL: u8 = DEAD | DASHING | FIRING;
}

crate::replicated! {
    /// The networked state of one arena entity.
    pub struct ArenaEntity {
        kind: ArenaKind = value,
        /// The player id that owns it (players, projectiles); 0 for none.
        owner: u32 = value,
        x: i32 = predicted,
        y: i32 = predicted,
        aim: u16 = diff,
        health: i32 = diff,
        score: i32 = diff,
        flags: u8 = value [0, 7],
    }
}

impl ArenaEntity {
    /// An entity of `kind` at `(x, y)` with every other field zero.
    pub fn new(kind: ArenaKind, x: i32, y: i32) -> ArenaEntity {
        ArenaEntity {
            kind,
            owner: 0,
            x,
            y,
            aim: 0,
            health: 0,
            score: 0,
            flags: 0,
        }
    }
}

/// Bits of [`ArenaInput::buttons`]: "held" bits, not presses.
pub mod buttons {
    pub const FIRE: u8 = 1 << 0;
    pub const DASH: u8 = 1 << 1;
    /// Every defined bit; the declared range of `buttons` allows no other.
    pub const ALL: u8 = FIRE | DASH;
}

/// Movement directions of [`ArenaInput::move_dir`]: 0 is "stand still", 1..=8 are the eight
/// compass directions clockwise from east.
pub const MOVE_DIRECTIONS: u8 = 8;

crate::replicated! {
    /// One player's controls for a tick.
    pub struct ArenaInput {
        /// Bits of [`buttons`].
        buttons: u8 = value [0, 3],
        /// 0 = still, 1..=8 = compass directions clockwise from east.
        move_dir: u8 = value [0, 8],
        /// Facing, 65536 steps per turn, 0 = east, clockwise on screen.
        aim: u16 = value,
    }
}

impl ArenaInput {
    pub const IDLE: ArenaInput = ArenaInput {
        buttons: 0,
        move_dir: 0,
        aim: 0,
    };

    pub fn fire(self) -> bool {
        self.buttons & buttons::FIRE != 0
    }

    pub fn dash(self) -> bool {
        self.buttons & buttons::DASH != 0
    }
}

crate::net_events! {
    /// What happens in an arena match.
    pub enum ArenaEvent {
        Kill = 0 { killer: u32, victim: u32 },
        Pickup = 1 { player: u32, points: u32 },
        Respawn = 2 { player: u32 },
    }
}

/// The arena's stats, besides the score.
pub const STATS: &[&str] = &["kills", "deaths"];

pub static PROTOCOL: GameProtocol = GameProtocol {
    name: "arena",
    entity: <ArenaEntity as Replicated>::SCHEMA,
    input: <ArenaInput as Replicated>::SCHEMA,
    events: <ArenaEvent as NetEvent>::SCHEMA,
    stats: STATS,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arena_declaration_fits_the_wire() {
        assert_eq!(PROTOCOL.check(), Ok(()), "within limits");
        assert_eq!(ArenaEntity::SCHEMA.len(), 8, "eight fields");
        assert!(
            ArenaInput::read_row(&[4, 0, 0]).is_none(),
            "an unknown button bit is out of range"
        );
        assert!(
            ArenaInput::read_row(&[3, 9, 0]).is_none(),
            "direction 9 is out of range"
        );
    }
}
