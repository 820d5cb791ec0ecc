//! Deterministic sample worlds for tests and benchmarks.

use crate::games::arena::{ArenaEntity, ArenaKind};
use crate::world::{NetId, World};

/// `count` entities (the first 16 players, then projectiles, orbs and drones) spread over a
/// 2000×2000 arena; the first `moved` of them nudged a few steps as one tick of play would.
pub fn world(count: u32, moved: u32) -> World {
    let entities = (0..count)
        .map(|i| {
            let kind = match i {
                0..16 => ArenaKind::Player,
                _ if i % 3 == 0 => ArenaKind::Projectile,
                _ if i % 3 == 1 => ArenaKind::Orb,
                _ => ArenaKind::Drone,
            };
            let mut e =
                ArenaEntity::new(kind, (i as i32 * 977) % 32_000, (i as i32 * 613) % 32_000);
            e.aim = (i as u16).wrapping_mul(1021);
            if kind == ArenaKind::Player {
                e.owner = i + 1;
                e.health = 100;
                e.score = (i * 7) as i32;
            }
            if i < moved {
                e.x += 3 + (i as i32 % 5);
                e.y -= 2 + (i as i32 % 3);
                e.aim = e.aim.wrapping_add(40);
            }
            (NetId::new(i, 1), e)
        })
        .collect();
    World::from_entities(entities)
}
