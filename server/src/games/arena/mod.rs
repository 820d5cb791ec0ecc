//! The arena game: the rules and nothing else (its wire declarations are in
//! [`shared::games::arena`]). Pure and deterministic: no I/O, no
//! clock, no unseeded randomness, no hash-map iteration and no floats in anything that feeds the
//! state hash, so a match replayed from its seed and its ordered inputs reaches the same state
//! hash on every tick. The tick driver in `matches/` owns a [`Arena`] and feeds it.
//!
//! Coordinates are fixed point ([`shared::quant::POS_SCALE`] steps per world unit) on a screen
//! whose y axis points down: `(0, 0)` is the arena's top-left corner, aim 0 is east and aims and
//! `move_dir`s go clockwise.

mod config;
mod digest;
mod drones;
mod entity;
mod roster;
mod trig;
mod tuning;
mod walls;

#[cfg(test)]
mod golden_motion;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shared::games::arena::{ArenaEntity, ArenaEvent, ArenaInput, PROTOCOL, STATS, flags};
use shared::quant::pos_to_fixed;
use shared::schema::{GameProtocol, Replicated};
use shared::{NetId, Tick, World};
use slotmap::SlotMap;

use crate::game::{
    Events, Game, Interest, JoinInfo, Outcome, PlayerId, Radius, Refusal, WorldWriter, net_id,
};
use digest::Digest;
use entity::{Body, Entity, EntityKey, Player, Projectile};
use roster::Seat;
use trig::aim_vector;
use tuning::Tuning;
use walls::{Vec2, Walls, circles_touch, part};

pub(crate) use config::{ArenaConfig, MapDef};
pub(crate) use roster::PlayerScore;

/// One match's world and rules.
///
/// Call order, once per tick, from the match's tick driver:
///
/// 1. [`add_player`](Arena::add_player) / [`remove_player`](Arena::remove_player) for joins and
///    leaves;
/// 2. [`handle_input`](Arena::handle_input), at most once per player (a later call replaces an
///    earlier one);
/// 3. [`step`](Arena::step), which advances to the next tick;
/// 4. [`drain_events`](Arena::drain_events) and [`snapshot`](Arena::snapshot) (and
///    [`state_hash`](Arena::state_hash) where determinism is checked).
///
/// Once [`is_over`](Arena::is_over), `step` does nothing and [`results`](Arena::results) are final.
///
/// A player without a new input keeps its last one: its `move_dir` and `aim` and its buttons,
/// which are "held" bits (holding FIRE fires whenever the cooldown allows; holding DASH dashes
/// whenever the dash cooldown allows).
///
/// Each step runs, in order: drones; players (respawn timers, cooldowns, dash, movement, firing —
/// a new projectile starts at its owner's centre); projectiles (movement, walls and bounds, hits,
/// lifetime); orbs (pickups, spawner timers).
#[derive(Debug, Clone)]
pub(crate) struct Arena {
    tuning: Tuning,
    walls: Walls,
    /// Spawn points in fixed point; never empty.
    spawns: Vec<Vec2>,
    /// The drones' centre in world units.
    centre: (f64, f64),
    /// Substeps per projectile move, so it cannot pass through a wall or a player.
    projectile_substeps: i32,
    entities: SlotMap<EntityKey, Entity>,
    roster: BTreeMap<u32, Seat>,
    /// Drone `i` is `drones[i]`.
    drones: Vec<EntityKey>,
    spawners: Vec<Spawner>,
    rng: ChaCha8Rng,
    tick: Tick,
    events: Vec<ArenaEvent>,
    /// What each player sees: everything, or what is near it on maps with a `[view]`.
    interest: Interest,
    /// Scratch buffers reused every step.
    targets: Vec<Target>,
    new_projectiles: Vec<Entity>,
    expired: Vec<EntityKey>,
}

/// An orb spawner: holds at most one orb.
#[derive(Debug, Clone)]
struct Spawner {
    pos: Vec2,
    orb: Option<EntityKey>,
    /// Ticks until a new orb appears, while `orb` is `None`.
    respawn_in: u32,
}

/// A living player as projectiles and orbs see it during a step.
#[derive(Debug, Clone, Copy)]
struct Target {
    key: EntityKey,
    player_id: u32,
    pos: Vec2,
    /// Health after this step's hits; 0 = killed this step.
    health: i32,
    hit: bool,
}

impl Arena {
    /// A match at tick 0 with every orb in place and every drone at its start, and no players.
    /// `game` and `map` are expected to be validated (`config::parse_*`).
    ///
    /// # Panics
    /// If the map has no spawn point (`parse_map` refuses such maps).
    pub(crate) fn new(game: &ArenaConfig, map: &MapDef, seed: u64) -> Arena {
        assert!(!map.spawns.is_empty(), "a map without a spawn point");
        let tuning = Tuning::new(game);
        let walls = Walls::new(map);
        let reach = walls
            .thinnest_wall()
            .saturating_add(2 * tuning.projectile_radius)
            .min(2 * (tuning.player_radius + tuning.projectile_radius));
        let max_step = (reach / 2).max(1);
        let projectile_substeps = tuning
            .projectile_speed
            .unsigned_abs()
            .div_ceil(max_step.unsigned_abs())
            .max(1) as i32;
        let mut sim = Arena {
            spawns: map
                .spawns
                .iter()
                .map(|p| (pos_to_fixed(p.x), pos_to_fixed(p.y)))
                .collect(),
            centre: (f64::from(map.width) / 2.0, f64::from(map.height) / 2.0),
            projectile_substeps,
            entities: SlotMap::with_key(),
            roster: BTreeMap::new(),
            drones: Vec::with_capacity(usize::from(map.drones)),
            spawners: Vec::with_capacity(map.orb_spawners.len()),
            rng: ChaCha8Rng::seed_from_u64(seed),
            tick: Tick::ZERO,
            events: Vec::new(),
            interest: map.view.map_or(Interest::Everything, |v| {
                Radius::new(
                    ArenaEntity::SCHEMA,
                    "x",
                    "y",
                    pos_to_fixed(v.cell),
                    pos_to_fixed(v.radius),
                    pos_to_fixed(v.margin),
                )
                .map_or(Interest::Everything, Interest::Radius)
            }),
            targets: Vec::new(),
            new_projectiles: Vec::new(),
            expired: Vec::new(),
            tuning,
            walls,
        };
        let count = u32::from(map.drones);
        for i in 0..count {
            let pos = drones::drone_position(sim.centre, i, count, Tick::ZERO);
            let key = sim.entities.insert(Entity {
                pos,
                body: Body::Drone,
            });
            sim.drones.push(key);
        }
        for p in &map.orb_spawners {
            let pos = (pos_to_fixed(p.x), pos_to_fixed(p.y));
            let orb = sim.entities.insert(Entity {
                pos,
                body: Body::Orb,
            });
            sim.spawners.push(Spawner {
                pos,
                orb: Some(orb),
                respawn_in: 0,
            });
        }
        sim
    }

    /// Puts a player into the arena at a random spawn point, with full health. A player that left
    /// and comes back keeps its score; adding a player already in the match does nothing. Player
    /// ids should be non-zero (owner 0 means "nobody" on the wire).
    pub(crate) fn add_player(&mut self, player_id: u32) {
        if self.has_player(player_id) {
            return;
        }
        let pos = self.random_spawn();
        let key = self.entities.insert(Entity {
            pos,
            body: Body::Player(Player::new(player_id, self.tuning.max_health)),
        });
        self.roster
            .entry(player_id)
            .or_insert_with(|| Seat::new(player_id))
            .entity = Some(key);
    }

    /// Takes a player out of the arena. Its projectiles fly on; its score stays in the results.
    pub(crate) fn remove_player(&mut self, player_id: u32) {
        if let Some(key) = self
            .roster
            .get_mut(&player_id)
            .and_then(|s| s.entity.take())
        {
            self.entities.remove(key);
        }
    }

    /// Whether the player is in the arena now.
    pub(crate) fn has_player(&self, player_id: u32) -> bool {
        self.player_key(player_id).is_some()
    }

    /// The network id of the player's entity, while it is in the arena.
    #[cfg(test)]
    pub(crate) fn player_net_id(&self, player_id: u32) -> Option<NetId> {
        self.player_key(player_id).map(net_id)
    }

    /// Sets the input the player's next steps apply (see the type's doc); input for a player not
    /// in the arena is ignored. Its values are in their declared ranges (the server checks them
    /// on arrival).
    pub(crate) fn handle_input(&mut self, player_id: u32, input: ArenaInput) {
        let Some(key) = self.player_key(player_id) else {
            return;
        };
        if let Some(Entity {
            body: Body::Player(p),
            ..
        }) = self.entities.get_mut(key)
        {
            p.input = input;
        }
    }

    /// Advances one tick (the first step simulates tick 1). Does nothing once the match is over.
    /// Events from the previous step that were not drained are dropped.
    pub(crate) fn step(&mut self) {
        if self.is_over() {
            return;
        }
        self.events.clear();
        self.tick = self.tick.next();
        self.step_drones();
        self.step_players();
        self.collect_targets();
        self.step_projectiles();
        self.step_orbs();
    }

    /// The tick last simulated; [`Tick::ZERO`] before the first step.
    #[cfg(test)]
    pub(crate) fn tick(&self) -> Tick {
        self.tick
    }

    /// Whether the match has run its full length.
    pub(crate) fn is_over(&self) -> bool {
        self.tick.0 >= self.tuning.match_ticks
    }

    /// Steps left until the match is over.
    pub(crate) fn ticks_remaining(&self) -> u32 {
        self.tuning.match_ticks.saturating_sub(self.tick.0)
    }

    /// This tick's events (kills, pickups, respawns), in the order they happened.
    #[cfg(test)]
    pub(crate) fn drain_events(&mut self) -> std::vec::Drain<'_, ArenaEvent> {
        self.events.drain(..)
    }

    /// The networked view of every entity, sorted by [`NetId`].
    pub(crate) fn snapshot(&self) -> World {
        let mut world = World::with_capacity(ArenaEntity::SCHEMA, self.entities.len());
        for (id, state) in self.states() {
            // A slotmap iterates by ascending slot index with one live version per slot, so
            // every push is in order and accepted.
            world.push_entity(id, &state);
        }
        world
    }

    /// Every entity's networked state, in slot order.
    fn states(&self) -> impl Iterator<Item = (NetId, ArenaEntity)> + '_ {
        self.entities.iter().map(|(key, entity)| {
            let score = match &entity.body {
                Body::Player(p) => self.roster.get(&p.player_id).map_or(0, |s| s.score.score),
                _ => 0,
            };
            (net_id(key), entity.state(score))
        })
    }

    /// A hash of the whole simulation state: the snapshot's [`shared::checksum`] plus the hidden
    /// state (tick, cooldowns, held inputs, velocities, timers, scores of departed players and the
    /// random generator's position). Equal for equal seeds and equal input histories.
    pub(crate) fn state_hash(&self) -> u64 {
        let mut d = Digest::new();
        d.u64(shared::checksum(&self.snapshot()))
            .u32(self.tick.0)
            .u128(self.rng.get_word_pos());
        for entity in self.entities.values() {
            match &entity.body {
                Body::Player(p) => {
                    d.u32(p.fire_cooldown)
                        .u32(p.dash_cooldown)
                        .u32(p.dash_left)
                        .i32(p.dash_velocity.0)
                        .i32(p.dash_velocity.1)
                        .u32(p.respawn_in.unwrap_or(u32::MAX))
                        .bytes(&[p.input.buttons, p.input.move_dir])
                        .bytes(&p.input.aim.to_le_bytes());
                }
                Body::Projectile(p) => {
                    d.i32(p.velocity.0).i32(p.velocity.1).u32(p.ticks_left);
                }
                Body::Orb | Body::Drone => {}
            }
        }
        for s in &self.spawners {
            d.u32(s.respawn_in).u32(u32::from(s.orb.is_some()));
        }
        for seat in self.roster.values() {
            let s = seat.score;
            d.u32(s.player_id)
                .i32(s.score)
                .u32(s.kills)
                .u32(s.deaths)
                .u32(u32::from(seat.entity.is_some()));
        }
        d.finish()
    }

    /// Every player who was in the match (including those who left), sorted by player id.
    pub(crate) fn results(&self) -> Vec<PlayerScore> {
        self.roster.values().map(|s| s.score).collect()
    }

    // -----------------------------------------------------------------------------------------
    // Helpers

    fn player_key(&self, player_id: u32) -> Option<EntityKey> {
        self.roster.get(&player_id).and_then(|s| s.entity)
    }

    fn random_spawn(&mut self) -> Vec2 {
        let spawn = self.spawns[self.rng.random_range(0..self.spawns.len())];
        self.walls.resolve(spawn, self.tuning.player_radius)
    }

    fn step_drones(&mut self) {
        let count = self.drones.len() as u32;
        for (i, key) in self.drones.iter().enumerate() {
            if let Some(drone) = self.entities.get_mut(*key) {
                drone.pos = drones::drone_position(self.centre, i as u32, count, self.tick);
            }
        }
    }

    fn step_players(&mut self) {
        let t = &self.tuning;
        for entity in self.entities.values_mut() {
            let Body::Player(p) = &mut entity.body else {
                continue;
            };
            p.action_flags = 0;
            if let Some(left) = p.respawn_in {
                if left > 1 {
                    p.respawn_in = Some(left - 1);
                } else {
                    let spawn = self.spawns[self.rng.random_range(0..self.spawns.len())];
                    entity.pos = self.walls.resolve(spawn, t.player_radius);
                    let input = p.input;
                    *p = Player {
                        input,
                        aim: input.aim,
                        ..Player::new(p.player_id, t.max_health)
                    };
                    self.events.push(ArenaEvent::Respawn {
                        player: p.player_id,
                    });
                }
                continue;
            }
            let input = p.input;
            let dir = usize::from(input.move_dir);
            p.aim = input.aim;
            p.fire_cooldown = p.fire_cooldown.saturating_sub(1);
            p.dash_cooldown = p.dash_cooldown.saturating_sub(1);
            if input.dash() && p.dash_cooldown == 0 && p.dash_left == 0 && t.dash_ticks > 0 {
                p.dash_velocity = if dir == 0 {
                    aim_vector(input.aim, t.dash_speed)
                } else {
                    t.dash[dir]
                };
                p.dash_left = t.dash_ticks;
                p.dash_cooldown = t.dash_cooldown_ticks;
            }
            let velocity = if p.dash_left > 0 {
                p.dash_left -= 1;
                p.action_flags |= flags::DASHING;
                p.dash_velocity
            } else {
                t.walk[dir]
            };
            if velocity != (0, 0) {
                entity.pos = self
                    .walls
                    .move_circle(entity.pos, velocity, t.player_radius);
            }
            if input.fire() && p.fire_cooldown == 0 {
                p.fire_cooldown = t.fire_cooldown_ticks;
                p.action_flags |= flags::FIRING;
                self.new_projectiles.push(Entity {
                    pos: entity.pos,
                    body: Body::Projectile(Projectile {
                        owner: p.player_id,
                        aim: input.aim,
                        velocity: aim_vector(input.aim, t.projectile_speed),
                        ticks_left: t.projectile_ticks,
                    }),
                });
            }
        }
        for projectile in self.new_projectiles.drain(..) {
            self.entities.insert(projectile);
        }
    }

    /// Lists the living players for this step's hits and pickups.
    fn collect_targets(&mut self) {
        self.targets.clear();
        for (key, entity) in &self.entities {
            match &entity.body {
                Body::Player(p) if p.is_alive() => self.targets.push(Target {
                    key,
                    player_id: p.player_id,
                    pos: entity.pos,
                    health: p.health,
                    hit: false,
                }),
                _ => {}
            }
        }
    }

    fn step_projectiles(&mut self) {
        let t = &self.tuning;
        let steps = self.projectile_substeps;
        self.expired.clear();
        for (key, entity) in self.entities.iter_mut() {
            let Body::Projectile(p) = &mut entity.body else {
                continue;
            };
            if p.ticks_left == 0 {
                self.expired.push(key);
                continue;
            }
            p.ticks_left -= 1;
            let start = entity.pos;
            let mut expired = false;
            for k in 1..=steps {
                let pos = (
                    start.0 + part(p.velocity.0, k, steps),
                    start.1 + part(p.velocity.1, k, steps),
                );
                entity.pos = pos;
                if self.walls.blocks(pos, t.projectile_radius) {
                    expired = true;
                    break;
                }
                let victim = self.targets.iter_mut().find(|v| {
                    v.health > 0
                        && v.player_id != p.owner
                        && circles_touch(pos, t.projectile_radius, v.pos, t.player_radius)
                });
                if let Some(victim) = victim {
                    victim.hit = true;
                    victim.health = (victim.health - t.damage).max(0);
                    if victim.health == 0 {
                        self.events.push(ArenaEvent::Kill {
                            killer: p.owner,
                            victim: victim.player_id,
                        });
                        if let Some(killer) = self.roster.get_mut(&p.owner) {
                            killer.score.kills += 1;
                            killer.add_points(t.kill_points);
                        }
                        if let Some(dead) = self.roster.get_mut(&victim.player_id) {
                            dead.score.deaths += 1;
                        }
                    }
                    expired = true;
                    break;
                }
            }
            if expired {
                self.expired.push(key);
            }
        }
        for key in self.expired.drain(..) {
            self.entities.remove(key);
        }
        for victim in self.targets.iter().filter(|v| v.hit) {
            if let Some(Entity {
                body: Body::Player(p),
                ..
            }) = self.entities.get_mut(victim.key)
            {
                p.health = victim.health;
                if victim.health == 0 {
                    p.respawn_in = Some(t.respawn_ticks);
                    p.dash_left = 0;
                    p.action_flags &= !flags::DASHING;
                }
            }
        }
    }

    fn step_orbs(&mut self) {
        let t = &self.tuning;
        for spawner in &mut self.spawners {
            match spawner.orb {
                Some(orb) => {
                    let taker = self.targets.iter().find(|v| {
                        v.health > 0
                            && circles_touch(spawner.pos, t.orb_radius, v.pos, t.player_radius)
                    });
                    if let Some(taker) = taker {
                        self.entities.remove(orb);
                        spawner.orb = None;
                        spawner.respawn_in = t.orb_respawn_ticks;
                        if let Some(seat) = self.roster.get_mut(&taker.player_id) {
                            seat.add_points(t.orb_points);
                        }
                        self.events.push(ArenaEvent::Pickup {
                            player: taker.player_id,
                            points: t.orb_points,
                        });
                    }
                }
                None => {
                    spawner.respawn_in = spawner.respawn_in.saturating_sub(1);
                    if spawner.respawn_in == 0 {
                        spawner.orb = Some(self.entities.insert(Entity {
                            pos: spawner.pos,
                            body: Body::Orb,
                        }));
                    }
                }
            }
        }
    }
}

impl Game for Arena {
    type Entity = ArenaEntity;
    type Input = ArenaInput;
    type Event = ArenaEvent;
    type Config = ArenaConfig;

    const PROTOCOL: &'static GameProtocol = &PROTOCOL;

    fn new(config: &ArenaConfig, map: &MapDef, seed: u64) -> Arena {
        Arena::new(config, map, seed)
    }

    fn join(&mut self, player: PlayerId, _who: &JoinInfo<'_>) -> Result<(), Refusal> {
        self.add_player(player);
        Ok(())
    }

    fn leave(&mut self, player: PlayerId) {
        self.remove_player(player);
    }

    fn input(&mut self, player: PlayerId, input: ArenaInput) {
        self.handle_input(player, input);
    }

    fn step(&mut self, events: &mut Events<ArenaEvent>) {
        Arena::step(self);
        for e in self.events.drain(..) {
            events.push(e);
        }
    }

    fn world(&self, out: &mut WorldWriter<ArenaEntity>) {
        for (id, state) in self.states() {
            out.push(id, state);
        }
    }

    fn is_over(&self) -> bool {
        Arena::is_over(self)
    }

    fn ticks_remaining(&self) -> u32 {
        Arena::ticks_remaining(self)
    }

    fn results(&self) -> Vec<Outcome> {
        debug_assert_eq!(STATS, ["kills", "deaths"]);
        Arena::results(self)
            .into_iter()
            .map(|r| Outcome {
                player: r.player_id,
                score: i64::from(r.score),
                stats: vec![i64::from(r.kills), i64::from(r.deaths)],
            })
            .collect()
    }

    fn state_hash(&self) -> u64 {
        Arena::state_hash(self)
    }

    fn interest(&self) -> Interest {
        self.interest
    }

    fn viewpoint(&self, player: PlayerId) -> Option<(i32, i32)> {
        let key = self.roster.get(&player)?.entity?;
        Some(self.entities.get(key)?.pos)
    }
}
