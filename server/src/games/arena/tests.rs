//! Behaviour of the whole simulation, driven through its public API (plus placing players by hand).

use super::config::{
    ArenaConfig, MapDef, OrbTuning, PlayerTuning, Point, ScoringTuning, Wall, WeaponTuning,
    parse_game, parse_map,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shared::Tick;
use shared::games::arena::{
    ArenaEntity as EntityState, ArenaEvent as Event, ArenaInput as PlayerInput,
    ArenaKind as EntityKind, buttons, flags,
};

use super::*;

/// At 10 Hz: walk 128 fixed/tick, radius 160; dash 640/tick for 3 ticks, every 10; fire every 5
/// ticks, projectiles 320/tick, radius 32, for 10 ticks; 3 hits kill; respawn after 10 ticks;
/// orbs worth 3, back after 20 ticks; a match is 300 ticks.
fn game() -> ArenaConfig {
    ArenaConfig {
        tick_rate: 10,
        match_length_s: 30.0,
        players_per_match: 8,
        respawn_delay_s: 1.0,
        default_map: "test".into(),
        player: PlayerTuning {
            speed: 80.0,
            radius: 10.0,
            max_health: 100,
            dash_speed: 400.0,
            dash_duration_s: 0.3,
            dash_cooldown_s: 1.0,
        },
        weapon: WeaponTuning {
            fire_cooldown_s: 0.5,
            projectile_speed: 200.0,
            projectile_radius: 2.0,
            projectile_lifetime_s: 1.0,
            damage: 40,
        },
        orbs: OrbTuning {
            radius: 8.0,
            points: 3,
            respawn_s: 2.0,
        },
        scoring: ScoringTuning { kill_points: 10 },
    }
}

/// 1000×1000 with one wall (x 500..550, y 400..600), one spawn at (100, 900) and one orb
/// spawner at (800, 800).
fn map() -> MapDef {
    MapDef {
        width: 1000.0,
        height: 1000.0,
        walls: vec![Wall {
            x: 500.0,
            y: 400.0,
            w: 50.0,
            h: 200.0,
        }],
        spawns: vec![Point { x: 100.0, y: 900.0 }],
        orb_spawners: vec![Point { x: 800.0, y: 800.0 }],
        drones: 0,
        max_players: None,
        view: None,
    }
}

const SPAWN: Vec2 = (100 * 16, 900 * 16);
const RADIUS: i32 = 160;

fn sim() -> Arena {
    Arena::new(&game(), &map(), 42)
}

fn fixed(x: i32, y: i32) -> Vec2 {
    (x * 16, y * 16)
}

fn place(sim: &mut Arena, player_id: u32, pos: Vec2) {
    let key = sim.player_key(player_id).expect("player is in the match");
    sim.entities[key].pos = pos;
}

fn state(sim: &Arena, player_id: u32) -> EntityState {
    let id = sim
        .player_net_id(player_id)
        .expect("player is in the match");
    sim.snapshot()
        .entities::<EntityState>()
        .find(|(i, _)| *i == id)
        .map(|(_, e)| e)
        .expect("player is in the snapshot")
}

fn input(buttons: u8, move_dir: u8, aim: u16) -> PlayerInput {
    PlayerInput {
        buttons,
        move_dir,
        aim,
    }
}

fn count(world: &World, kind: EntityKind) -> usize {
    world
        .entities::<EntityState>()
        .filter(|(_, e)| e.kind == kind)
        .count()
}

/// Steps `n` times, returning every event with its tick.
fn run(sim: &mut Arena, n: u32) -> Vec<(u32, Event)> {
    let mut events = Vec::new();
    for _ in 0..n {
        sim.step();
        let tick = sim.tick().0;
        events.extend(sim.drain_events().map(|e| (tick, e)));
    }
    events
}

// ---------------------------------------------------------------------------------------------
// Movement

#[test]
fn a_player_walking_into_a_wall_stops_at_it() {
    let mut sim = sim();
    sim.add_player(1);
    place(&mut sim, 1, fixed(400, 500));
    sim.handle_input(1, input(0, 1, 0));
    run(&mut sim, 5);
    assert_eq!(
        (state(&sim, 1).x, state(&sim, 1).y),
        (400 * 16 + 5 * 128, 500 * 16),
        "walks east at 128 fixed units a tick"
    );
    run(&mut sim, 50);
    let s = state(&sim, 1);
    assert_eq!(
        (s.x, s.y),
        (500 * 16 - RADIUS, 500 * 16),
        "stops touching the wall's west face"
    );
}

#[test]
fn a_player_slides_along_a_wall_it_walks_into_diagonally() {
    let mut sim = sim();
    sim.add_player(1);
    place(&mut sim, 1, (500 * 16 - RADIUS, 450 * 16));
    sim.handle_input(1, input(0, 2, 0)); // south-east, into the west face
    run(&mut sim, 4);
    let s = state(&sim, 1);
    assert_eq!(s.x, 500 * 16 - RADIUS, "held at the face");
    assert_eq!(s.y, 450 * 16 + 4 * 91, "slides south at the diagonal speed");
}

#[test]
fn diagonal_moves_are_normalised() {
    let mut sim = sim();
    sim.add_player(1);
    sim.add_player(2);
    place(&mut sim, 1, fixed(200, 200));
    place(&mut sim, 2, fixed(200, 300));
    sim.handle_input(1, input(0, 1, 0));
    sim.handle_input(2, input(0, 8, 0));
    run(&mut sim, 10);
    let straight = state(&sim, 1);
    let diagonal = state(&sim, 2);
    assert_eq!(straight.x - 200 * 16, 1280, "straight: 10 × 128");
    assert_eq!(
        (diagonal.x - 200 * 16, 300 * 16 - diagonal.y),
        (910, 910),
        "north-east: 10 × 91 on each axis, about the same distance as straight"
    );
}

#[test]
fn players_cannot_leave_the_arena() {
    let mut sim = sim();
    sim.add_player(1);
    place(&mut sim, 1, fixed(50, 50));
    sim.handle_input(1, input(0, 6, 0)); // north-west
    run(&mut sim, 20);
    let s = state(&sim, 1);
    assert_eq!((s.x, s.y), (RADIUS, RADIUS), "held in the top-left corner");
}

#[test]
fn input_is_held_until_replaced() {
    let mut sim = sim();
    sim.add_player(1);
    place(&mut sim, 1, fixed(200, 200));
    sim.handle_input(1, input(0, 3, 777));
    run(&mut sim, 3);
    let s = state(&sim, 1);
    assert_eq!(
        s.y,
        200 * 16 + 3 * 128,
        "keeps walking south on the old input"
    );
    assert_eq!(s.aim, 777, "keeps its aim");
    sim.handle_input(1, input(0, 0, 777));
    run(&mut sim, 3);
    assert_eq!(state(&sim, 1).y, s.y, "stands still once told to");
}

// Inputs out of their declared ranges never reach the game: see `game::erased`'s tests.

#[test]
fn input_for_an_unknown_player_is_ignored() {
    let mut sim = sim();
    sim.add_player(1);
    place(&mut sim, 1, fixed(200, 200));
    sim.handle_input(7, input(buttons::FIRE, 1, 0));
    run(&mut sim, 1);
    assert_eq!(
        count(&sim.snapshot(), EntityKind::Projectile),
        0,
        "input for an unknown player is ignored"
    );
}

// ---------------------------------------------------------------------------------------------
// Combat

#[test]
fn hits_cost_health_and_a_kill_scores_then_the_victim_respawns() {
    let mut sim = sim();
    sim.add_player(1);
    sim.add_player(2);
    place(&mut sim, 1, fixed(200, 200));
    place(&mut sim, 2, fixed(300, 200));
    sim.handle_input(1, input(buttons::FIRE, 0, 0)); // hold fire, aim east

    let events = run(&mut sim, 1);
    assert!(
        events.is_empty(),
        "nothing happens on the first tick: {events:?}"
    );
    let world = sim.snapshot();
    assert_eq!(
        count(&world, EntityKind::Projectile),
        1,
        "one projectile fired"
    );
    assert_ne!(
        state(&sim, 1).flags & flags::FIRING,
        0,
        "shooter shows FIRING"
    );

    run(&mut sim, 4);
    assert_eq!(state(&sim, 2).health, 60, "the first hit costs 40");

    let events = run(&mut sim, 10);
    let kill_tick = events
        .iter()
        .find(|(_, e)| {
            *e == Event::Kill {
                killer: 1,
                victim: 2,
            }
        })
        .map(|(t, _)| *t)
        .expect("the third hit kills");
    let victim = state(&sim, 2);
    assert_eq!(victim.health, 0, "dead at 0 health");
    assert_ne!(victim.flags & flags::DEAD, 0, "victim shows DEAD");
    let results = sim.results();
    assert_eq!(
        (results[0].score, results[0].kills, results[0].deaths),
        (10, 1, 0),
        "killer gets the kill points and a kill"
    );
    assert_eq!(
        (results[1].score, results[1].kills, results[1].deaths),
        (0, 0, 1),
        "victim gets a death"
    );

    let events = run(&mut sim, 10);
    assert_eq!(
        events,
        vec![(kill_tick + 10, Event::Respawn { player: 2 })],
        "respawns exactly 10 ticks after dying, and nothing else happens"
    );
    let back = state(&sim, 2);
    assert_eq!(back.health, 100, "full health again");
    assert_eq!(back.flags & flags::DEAD, 0, "alive again");
    assert_eq!((back.x, back.y), SPAWN, "at the spawn point");
}

#[test]
fn fire_cooldown_limits_the_rate_of_fire() {
    let mut sim = sim();
    sim.add_player(1);
    place(&mut sim, 1, fixed(100, 100));
    sim.handle_input(1, input(buttons::FIRE, 0, 16384)); // aim south, open floor
    let mut fired_on = Vec::new();
    for _ in 0..11 {
        sim.step();
        if state(&sim, 1).flags & flags::FIRING != 0 {
            fired_on.push(sim.tick().0);
        }
    }
    assert_eq!(fired_on, vec![1, 6, 11], "one shot per 5-tick cooldown");
}

#[test]
fn projectiles_die_on_walls_and_after_their_lifetime() {
    let mut sim = sim();
    sim.add_player(1);
    place(&mut sim, 1, fixed(400, 500));
    sim.handle_input(1, input(buttons::FIRE, 0, 0)); // at the wall 100 units east
    run(&mut sim, 1);
    sim.handle_input(1, input(0, 0, 0));
    run(&mut sim, 3);
    assert_eq!(
        count(&sim.snapshot(), EntityKind::Projectile),
        1,
        "still in flight after 80 units"
    );
    run(&mut sim, 1);
    assert_eq!(
        count(&sim.snapshot(), EntityKind::Projectile),
        0,
        "gone once it reaches the wall"
    );

    place(&mut sim, 1, fixed(100, 100));
    sim.handle_input(1, input(buttons::FIRE, 0, 16384)); // south: 800 units of open floor
    run(&mut sim, 1);
    sim.handle_input(1, input(0, 0, 16384));
    run(&mut sim, 9);
    assert_eq!(
        count(&sim.snapshot(), EntityKind::Projectile),
        1,
        "alive for its 10-tick lifetime"
    );
    run(&mut sim, 1);
    assert_eq!(
        count(&sim.snapshot(), EntityKind::Projectile),
        0,
        "expired after its lifetime"
    );
}

#[test]
fn a_projectile_never_hits_its_owner() {
    let mut sim = sim();
    sim.add_player(1);
    place(&mut sim, 1, fixed(200, 200));
    // Fire east while walking east behind the projectile.
    sim.handle_input(1, input(buttons::FIRE, 1, 0));
    run(&mut sim, 20);
    assert_eq!(state(&sim, 1).health, 100, "own projectiles pass through");
}

#[test]
fn a_dash_moves_fast_for_its_duration_then_waits_for_its_cooldown() {
    let mut sim = sim();
    sim.add_player(1);
    place(&mut sim, 1, fixed(100, 200));
    sim.handle_input(1, input(buttons::DASH, 1, 0)); // hold dash, walk east
    let mut moves = Vec::new();
    let mut dashing = Vec::new();
    let mut x = state(&sim, 1).x;
    for _ in 0..12 {
        sim.step();
        let s = state(&sim, 1);
        moves.push(s.x - x);
        dashing.push(s.flags & flags::DASHING != 0);
        x = s.x;
    }
    assert_eq!(
        moves,
        vec![640, 640, 640, 128, 128, 128, 128, 128, 128, 128, 640, 640],
        "3 dash ticks, then walking until the 10-tick cooldown is over"
    );
    assert_eq!(
        dashing,
        vec![
            true, true, true, false, false, false, false, false, false, false, true, true
        ],
        "DASHING shows exactly while dashing"
    );
}

#[test]
fn a_dash_from_standing_goes_along_the_aim() {
    let mut sim = sim();
    sim.add_player(1);
    place(&mut sim, 1, fixed(200, 200));
    sim.handle_input(1, input(buttons::DASH, 0, 16384)); // aim south
    run(&mut sim, 1);
    let s = state(&sim, 1);
    assert_eq!((s.x, s.y), (200 * 16, 200 * 16 + 640), "dashed south");
}

// ---------------------------------------------------------------------------------------------
// Orbs

#[test]
fn an_orb_scores_when_touched_and_its_spawner_brings_it_back() {
    let mut sim = sim();
    sim.add_player(1);
    assert_eq!(
        count(&sim.snapshot(), EntityKind::Orb),
        1,
        "orb present at start"
    );
    place(&mut sim, 1, fixed(810, 800));
    let events = run(&mut sim, 1);
    assert_eq!(
        events,
        vec![(
            1,
            Event::Pickup {
                player: 1,
                points: 3
            }
        )],
        "touching the orb picks it up"
    );
    assert_eq!(state(&sim, 1).score, 3, "the orb's points are scored");
    assert_eq!(count(&sim.snapshot(), EntityKind::Orb), 0, "orb taken");

    place(&mut sim, 1, fixed(200, 200));
    run(&mut sim, 19);
    assert_eq!(count(&sim.snapshot(), EntityKind::Orb), 0, "not back yet");
    run(&mut sim, 1);
    assert_eq!(
        count(&sim.snapshot(), EntityKind::Orb),
        1,
        "back 20 ticks after it was taken"
    );
}

// ---------------------------------------------------------------------------------------------
// The match

#[test]
fn the_match_ends_after_its_length() {
    let mut sim = sim();
    sim.add_player(1);
    assert_eq!(sim.tick(), Tick::ZERO, "nothing simulated yet");
    assert_eq!(sim.ticks_remaining(), 300, "30 s at 10 Hz");
    run(&mut sim, 299);
    assert!(!sim.is_over(), "one tick to go");
    assert_eq!(sim.ticks_remaining(), 1, "one tick remaining");
    run(&mut sim, 1);
    assert!(sim.is_over(), "over after 300 ticks");
    assert_eq!(sim.ticks_remaining(), 0, "no ticks remaining");
    let hash = sim.state_hash();
    run(&mut sim, 5);
    assert_eq!(
        sim.tick(),
        Tick(300),
        "stepping a finished match does nothing"
    );
    assert_eq!(sim.state_hash(), hash, "state frozen once over");
}

#[test]
fn a_reused_slot_gives_a_different_net_id() {
    let mut sim = sim();
    sim.add_player(1);
    let first = sim.player_net_id(1).expect("player 1 is in");
    sim.remove_player(1);
    assert!(!sim.has_player(1), "player 1 left");
    sim.add_player(2);
    let second = sim.player_net_id(2).expect("player 2 is in");
    assert_eq!(first.index, second.index, "the freed slot was reused");
    assert_ne!(first, second, "with a new network id");
    assert!(sim.snapshot().get(first).is_none(), "the old id is gone");
}

#[test]
fn results_list_every_player_including_those_who_left() {
    let mut sim = sim();
    sim.add_player(3);
    sim.add_player(1);
    place(&mut sim, 3, fixed(810, 800));
    run(&mut sim, 1);
    sim.remove_player(3);
    sim.add_player(1); // already in: no effect
    let results = sim.results();
    assert_eq!(
        results.iter().map(|r| r.player_id).collect::<Vec<_>>(),
        vec![1, 3],
        "sorted by player id, the one who left included"
    );
    assert_eq!(results[1].score, 3, "the leaver keeps its orb point");
    sim.add_player(3);
    assert_eq!(state(&sim, 3).score, 3, "and has it again on coming back");
}

#[test]
fn the_snapshot_shows_every_entity_sorted_by_id() {
    let mut sim = sim();
    sim.add_player(1);
    sim.add_player(2);
    sim.handle_input(1, input(buttons::FIRE, 1, 0));
    run(&mut sim, 1);
    let world = sim.snapshot();
    assert_eq!(world.len(), 4, "two players, an orb, a projectile");
    assert!(
        world.ids().windows(2).all(|w| w[0] < w[1]),
        "sorted by NetId"
    );
    let p1 = state(&sim, 1);
    assert_eq!(
        (p1.kind, p1.owner, p1.health),
        (EntityKind::Player, 1, 100),
        "player fields"
    );
    let projectile = world
        .entities::<EntityState>()
        .find(|(_, e)| e.kind == EntityKind::Projectile)
        .expect("projectile in the snapshot")
        .1;
    assert_eq!(projectile.owner, 1, "projectile owned by its shooter");
}

// ---------------------------------------------------------------------------------------------
// Determinism

#[derive(Debug, Clone)]
enum Action {
    Join(u32),
    Leave(u32),
    Input(u32, PlayerInput),
}

/// A pseudo-random session: 6 player ids joining and leaving, present players sending a new
/// input every 8 ticks or so (any value the declaration admits).
fn input_log(ticks: u32) -> Vec<Vec<Action>> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x7100_57ab);
    let mut present = [false; 6];
    (0..ticks)
        .map(|tick| {
            let mut actions = Vec::new();
            for (i, here) in present.iter_mut().enumerate() {
                let id = i as u32 + 1;
                let toggle = if tick == 0 {
                    i < 4
                } else {
                    rng.random_ratio(1, 150)
                };
                if toggle {
                    *here = !*here;
                    actions.push(if *here {
                        Action::Join(id)
                    } else {
                        Action::Leave(id)
                    });
                }
                if *here && (toggle || rng.random_ratio(1, 8)) {
                    let raw = PlayerInput {
                        buttons: rng.random_range(0..=buttons::ALL),
                        move_dir: rng.random_range(0..=8),
                        aim: rng.random(),
                    };
                    actions.push(Action::Input(id, raw));
                }
            }
            actions
        })
        .collect()
}

/// Plays the log from `seed`; returns the state hash after every tick and the events seen.
fn replay(seed: u64, log: &[Vec<Action>]) -> (Vec<u64>, Vec<Event>) {
    let game = ArenaConfig {
        match_length_s: 60.0,
        ..game()
    };
    let mut sim = Arena::new(&game, &map_with_spawns(), seed);
    let mut hashes = Vec::new();
    let mut events = Vec::new();
    for actions in log {
        for action in actions {
            match *action {
                Action::Join(id) => sim.add_player(id),
                Action::Leave(id) => sim.remove_player(id),
                Action::Input(id, input) => sim.handle_input(id, input),
            }
        }
        sim.step();
        events.extend(sim.drain_events());
        hashes.push(sim.state_hash());
    }
    (hashes, events)
}

/// A small arena (300×300, a pillar in the middle) with eight spawns and four orbs, so players
/// meet and fight.
fn map_with_spawns() -> MapDef {
    let mut map = map();
    map.width = 300.0;
    map.height = 300.0;
    map.walls = vec![Wall {
        x: 130.0,
        y: 130.0,
        w: 40.0,
        h: 40.0,
    }];
    map.spawns = (0..8)
        .map(|i| Point {
            x: 30.0 + 34.0 * i as f32,
            y: if i % 2 == 0 { 30.0 } else { 270.0 },
        })
        .collect();
    map.orb_spawners = vec![
        Point { x: 60.0, y: 150.0 },
        Point { x: 240.0, y: 150.0 },
        Point { x: 150.0, y: 60.0 },
        Point { x: 150.0, y: 240.0 },
    ];
    map
}

#[test]
fn replaying_the_same_inputs_from_the_same_seed_gives_the_same_hash_every_tick() {
    let log = input_log(400);
    let (first, events) = replay(99, &log);
    let (second, _) = replay(99, &log);
    assert_eq!(first.len(), 400, "one hash per tick");
    for (tick, (a, b)) in first.iter().zip(&second).enumerate() {
        assert_eq!(a, b, "hashes differ at tick {}", tick + 1);
    }
    let kills = events
        .iter()
        .filter(|e| matches!(e, Event::Kill { .. }))
        .count();
    let pickups = events
        .iter()
        .filter(|e| matches!(e, Event::Pickup { .. }))
        .count();
    let respawns = events
        .iter()
        .filter(|e| matches!(e, Event::Respawn { .. }))
        .count();
    assert!(
        kills > 0 && pickups > 0 && respawns > 0,
        "the log exercises combat and orbs: {kills} kills, {pickups} pickups, {respawns} respawns"
    );

    let (other_seed, _) = replay(100, &log);
    assert_ne!(first, other_seed, "another seed gives another match");
}

// ---------------------------------------------------------------------------------------------
// The shipped assets

fn shipped(map: &str) -> (ArenaConfig, MapDef) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/arena");
    let read = |path: String| std::fs::read_to_string(&path).expect("shipped asset readable");
    let game = parse_game("game.toml", &read(format!("{root}/game.toml"))).expect("valid game");
    let map = parse_map(map, &read(format!("{root}/maps/{map}.toml"))).expect("valid map");
    (game, map)
}

#[test]
fn a_full_arena_match_keeps_players_out_of_walls_and_ends() {
    let (game, map) = shipped("arena");
    let mut sim = Arena::new(&game, &map, 5);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for id in 1..=16 {
        sim.add_player(id);
    }
    let mut kills = 0;
    while !sim.is_over() {
        for id in 1..=16 {
            if rng.random_ratio(1, 10) {
                sim.handle_input(
                    id,
                    input(rng.random(), rng.random_range(0..=8), rng.random()),
                );
            }
        }
        sim.step();
        kills += sim
            .drain_events()
            .filter(|e| matches!(e, Event::Kill { .. }))
            .count();
        for (_, e) in sim.snapshot().entities::<EntityState>() {
            if e.kind == EntityKind::Player {
                assert!(
                    !sim.walls.blocks((e.x, e.y), sim.tuning.player_radius),
                    "player {} overlaps a wall or leaves the arena at tick {}: ({}, {})",
                    e.owner,
                    sim.tick(),
                    e.x,
                    e.y
                );
            }
        }
    }
    assert_eq!(sim.tick(), Tick(5400), "3 minutes at 30 Hz");
    let results = sim.results();
    assert_eq!(results.len(), 16, "a result per player");
    assert_eq!(
        results.iter().map(|r| r.kills as usize).sum::<usize>(),
        kills,
        "results count every kill event"
    );
}

#[test]
fn bench_map_drones_all_move_every_tick() {
    let (game, map) = shipped("bench");
    let mut sim = Arena::new(&game, &map, 1);
    let before = sim.snapshot();
    assert_eq!(count(&before, EntityKind::Drone), 100, "100 drones");
    sim.step();
    let after = sim.snapshot();
    let moved = before
        .entities::<EntityState>()
        .zip(after.entities::<EntityState>())
        .filter(|((_, a), (_, b))| a.kind == EntityKind::Drone && (a.x, a.y) != (b.x, b.y))
        .count();
    assert_eq!(moved, 100, "every drone moved");
}

/// The edge of what `parse_game` accepts (every size and speed at its largest, at the slowest
/// tick rate, so each tick moves the most) on the largest map: a match starts and plays without
/// overflowing the fixed point. The fuzzer's `assets` target found sizes and speeds past any map
/// that did overflow (see `config::tests::sizes_and_speeds_past_the_fixed_point_are_refused`).
#[test]
fn the_largest_accepted_sizes_and_speeds_play() {
    let game = parse_game(
        "game.toml",
        "tick_rate = 10\nmatch_length_s = 30.0\nplayers_per_match = 8\nrespawn_delay_s = 1.0\n\
         default_map = \"big\"\n[player]\nspeed = 100000.0\nradius = 100000.0\nmax_health = 100\n\
         dash_speed = 100000.0\ndash_duration_s = 0.3\ndash_cooldown_s = 1.0\n[weapon]\n\
         fire_cooldown_s = 0.1\nprojectile_speed = 100000.0\nprojectile_radius = 100000.0\n\
         projectile_lifetime_s = 1.0\ndamage = 40\n[orbs]\nradius = 100000.0\npoints = 3\n\
         respawn_s = 2.0\n[scoring]\nkill_points = 10\n",
    )
    .expect("the largest sizes and speeds are accepted");
    let map = parse_map(
        "big.toml",
        "width = 100000.0\nheight = 100000.0\n\
         walls = [{ x = 50000.0, y = 0.0, w = 100.0, h = 99999.0 }]\n\
         spawns = [{ x = 99990.0, y = 99990.0 }, { x = 10.0, y = 10.0 }]\n\
         orb_spawners = [{ x = 99999.0, y = 1.0 }]\ndrones = 3\n",
    )
    .expect("the largest map is accepted");
    let mut sim = Arena::new(&game, &map, 9);
    for player in 1..=4 {
        sim.add_player(player);
    }
    for tick in 0..30u16 {
        for player in 1..=4u16 {
            let aim = tick.wrapping_mul(9_000).wrapping_add(player * 16_000);
            let dir = ((player + tick) % 9) as u8;
            sim.handle_input(u32::from(player), input(buttons::ALL, dir, aim));
        }
        sim.step();
        for (id, e) in sim.snapshot().entities::<EntityState>() {
            assert!(
                (0..=1_600_000).contains(&e.x) && (0..=1_600_000).contains(&e.y),
                "{id:?} at ({}, {}) stays in the arena",
                e.x,
                e.y
            );
        }
    }
}
