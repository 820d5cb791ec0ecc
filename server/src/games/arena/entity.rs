//! Entities as the simulation keeps them: the networked part plus the hidden state (cooldowns,
//! velocities, timers) that only the simulation sees.

use shared::games::arena::{ArenaEntity, ArenaInput, ArenaKind, flags};

use super::walls::Vec2;

slotmap::new_key_type! {
    /// A slot in the simulation's entity map.
    pub(crate) struct EntityKey;
}

#[derive(Debug, Clone)]
pub(crate) struct Entity {
    pub(crate) pos: Vec2,
    pub(crate) body: Body,
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    Player(Player),
    Projectile(Projectile),
    Orb,
    Drone,
}

#[derive(Debug, Clone)]
pub(crate) struct Player {
    pub(crate) player_id: u32,
    /// The input applied on every step until replaced.
    pub(crate) input: ArenaInput,
    /// The aim the player showed on its last step (a dead player keeps its last one).
    pub(crate) aim: u16,
    /// 0 while dead.
    pub(crate) health: i32,
    /// Ticks until the player respawns; `None` while alive.
    pub(crate) respawn_in: Option<u32>,
    /// Ticks until the player may fire again; 0 = ready.
    pub(crate) fire_cooldown: u32,
    /// Ticks until the player may dash again; 0 = ready.
    pub(crate) dash_cooldown: u32,
    /// Dash ticks left, moving at `dash_velocity`.
    pub(crate) dash_left: u32,
    pub(crate) dash_velocity: Vec2,
    /// `FIRING` / `DASHING` for what the player did on the last step.
    pub(crate) action_flags: u8,
}

#[derive(Debug, Clone)]
pub(crate) struct Projectile {
    /// The player id that fired it (it never hits them).
    pub(crate) owner: u32,
    pub(crate) aim: u16,
    pub(crate) velocity: Vec2,
    /// Moves left: it shows for exactly the projectile lifetime in ticks, and is removed on the
    /// step after its last move.
    pub(crate) ticks_left: u32,
}

impl Player {
    pub(crate) fn new(player_id: u32, health: i32) -> Player {
        Player {
            player_id,
            input: ArenaInput::IDLE,
            aim: 0,
            health,
            respawn_in: None,
            fire_cooldown: 0,
            dash_cooldown: 0,
            dash_left: 0,
            dash_velocity: (0, 0),
            action_flags: 0,
        }
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.respawn_in.is_none()
    }
}

impl Entity {
    /// The networked view; `score` is the player's score (0 for anything else).
    pub(crate) fn state(&self, score: i32) -> ArenaEntity {
        let (x, y) = self.pos;
        match &self.body {
            Body::Player(p) => ArenaEntity {
                kind: ArenaKind::Player,
                owner: p.player_id,
                x,
                y,
                aim: p.aim,
                health: p.health,
                score,
                flags: p.action_flags | if p.is_alive() { 0 } else { flags::DEAD },
            },
            Body::Projectile(p) => ArenaEntity {
                owner: p.owner,
                aim: p.aim,
                ..ArenaEntity::new(ArenaKind::Projectile, x, y)
            },
            Body::Orb => ArenaEntity::new(ArenaKind::Orb, x, y),
            Body::Drone => ArenaEntity::new(ArenaKind::Drone, x, y),
        }
    }
}
