//! The rules, driven through the `Game` trait (plus placing cycles by hand), the shipped assets,
//! and determinism over whole matches.

use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shared::games::cycles::{CyclesEvent, CyclesKind, Heading, Turn};

use super::config::{Facing, Rect};
use super::*;
use crate::game::GameConfig;

/// At 10 Hz: a move every tick, trails of 5 cells, respawn after 10 ticks, a match of 600
/// ticks; a cut is worth 10, two cells 1.
fn config() -> CyclesConfig {
    CyclesConfig {
        tick_rate: 10,
        match_length_s: 60.0,
        players_per_match: 8,
        respawn_delay_s: 1.0,
        move_every_ticks: 1,
        max_trail: 5,
        cut_points: 10,
        cells_per_point: 2,
        default_map: "test".into(),
    }
}

const RESPAWN_TICKS: u32 = 10;

/// 20 × 12 with a 2 × 2 wall at (10, 5); spawns on the left edge heading east and on the right
/// edge heading west, in rows 1, 3, 8 and 10.
fn map() -> CyclesMap {
    let mut spawns = Vec::new();
    for y in [1, 3, 8, 10] {
        spawns.push(Spawn {
            x: 1,
            y,
            heading: Facing::East,
        });
        spawns.push(Spawn {
            x: 18,
            y,
            heading: Facing::West,
        });
    }
    CyclesMap {
        width: 20,
        height: 12,
        walls: vec![Rect {
            x: 10,
            y: 5,
            w: 2,
            h: 2,
        }],
        spawns,
        max_players: None,
    }
}

/// The test map with only its first spawn, (1, 1) heading east (below what a map file may have,
/// to make spawns scarce).
fn one_spawn_map() -> CyclesMap {
    let mut map = map();
    map.spawns.truncate(1);
    map
}

fn game() -> Cycles {
    Cycles::new(&config(), &map(), 42)
}

fn join(game: &mut Cycles, player: PlayerId) -> Result<(), Refusal> {
    let who = JoinInfo {
        account_id: i64::from(player),
        username: "tester",
    };
    game.join(player, &who)
}

fn joined(player: PlayerId, game: &mut Cycles) {
    join(game, player).unwrap_or_else(|r| panic!("player {player} refused: {r:?}"));
}

fn turn(game: &mut Cycles, player: PlayerId, turn: Turn) {
    game.input(player, CyclesInput { turn });
}

/// Moves a living cycle to a cell by hand, keeping the grid in step.
fn place(game: &mut Cycles, player: PlayerId, (x, y): (i16, i16), heading: Heading) {
    let key = game.roster[&player].cycle.expect("player is seated");
    let cycle = game.entities[key];
    assert!(cycle.alive, "only a living cycle is placed");
    game.grid
        .set((i32::from(cycle.x), i32::from(cycle.y)), Cell::Free);
    game.grid
        .set((i32::from(x), i32::from(y)), Cell::Taken(player));
    game.entities[key] = CyclesEntity {
        x,
        y,
        heading,
        ..cycle
    };
}

fn cycle(game: &Cycles, player: PlayerId) -> CyclesEntity {
    let key = game.roster[&player].cycle.expect("player is seated");
    game.entities[key]
}

fn at(game: &Cycles, player: PlayerId) -> (i16, i16) {
    let c = cycle(game, player);
    (c.x, c.y)
}

/// The player's trail cells, oldest first.
fn trail(game: &Cycles, player: PlayerId) -> Vec<CyclesEntity> {
    game.roster[&player]
        .trail
        .iter()
        .map(|&k| game.entities[k])
        .collect()
}

fn trail_cells(game: &Cycles, player: PlayerId) -> Vec<(i16, i16)> {
    trail(game, player).iter().map(|e| (e.x, e.y)).collect()
}

fn stats(game: &Cycles, player: PlayerId) -> Outcome {
    game.results()
        .into_iter()
        .find(|o| o.player == player)
        .expect("player is in the results")
}

/// Steps `n` times, returning every event with its tick.
fn run(game: &mut Cycles, n: u32) -> Vec<(u32, CyclesEvent)> {
    let mut events = Events::new();
    let mut out = Vec::new();
    for _ in 0..n {
        game.step(&mut events);
        let tick = game.tick().0;
        out.extend(events.drain().map(|e| (tick, e)));
    }
    out
}

/// Two players seated and placed.
fn two(a: ((i16, i16), Heading), b: ((i16, i16), Heading)) -> Cycles {
    let mut game = game();
    joined(1, &mut game);
    joined(2, &mut game);
    place(&mut game, 1, a.0, a.1);
    place(&mut game, 2, b.0, b.1);
    game
}

fn assets_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/cycles")
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn shipped_config() -> CyclesConfig {
    let text = read(&assets_root().join("game.toml"));
    CyclesConfig::parse("game.toml", &text).expect("the shipped game.toml is valid")
}

// ---------------------------------------------------------------------------------------------
// Movement and input

#[test]
fn moving_straight_leaves_a_trail_cell_behind_each_move() {
    let mut game = game();
    joined(1, &mut game);
    place(&mut game, 1, (2, 2), Heading::East);
    let events = run(&mut game, 3);
    assert!(events.is_empty(), "nothing happens: {events:?}");
    assert_eq!(at(&game, 1), (5, 2), "three cells east");
    assert_eq!(
        trail_cells(&game, 1),
        vec![(2, 2), (3, 2), (4, 2)],
        "one trail cell per cell left, oldest first"
    );
    for t in trail(&game, 1) {
        assert_eq!(
            (t.kind, t.owner, t.heading, t.alive),
            (CyclesKind::Trail, 1, Heading::East, true),
            "a trail cell shows its owner and the heading it was left with: {t:?}"
        );
    }
    let mut world = WorldWriter::new();
    game.world(&mut world);
    assert_eq!(world.finish().len(), 4, "the cycle and three trail cells");
    assert_eq!(
        stats(&game, 1).stats,
        vec![0, 0, 3],
        "three cells travelled"
    );
}

#[test]
fn a_cycle_moves_one_cell_every_move_every_ticks() {
    let config = CyclesConfig {
        move_every_ticks: 3,
        ..config()
    };
    let mut game = Cycles::new(&config, &map(), 42);
    joined(1, &mut game);
    place(&mut game, 1, (2, 2), Heading::East);
    run(&mut game, 2);
    assert_eq!(at(&game, 1), (2, 2), "no move on ticks 1 and 2");
    run(&mut game, 1);
    assert_eq!(at(&game, 1), (3, 2), "a move on tick 3");
    run(&mut game, 3);
    assert_eq!(at(&game, 1), (4, 2), "and the next on tick 6");
}

#[test]
fn a_turn_is_made_once_at_the_next_move() {
    let mut game = game();
    joined(1, &mut game);
    place(&mut game, 1, (2, 2), Heading::East);
    turn(&mut game, 1, Turn::Right);
    run(&mut game, 1);
    let c = cycle(&game, 1);
    assert_eq!(
        ((c.x, c.y), c.heading),
        ((2, 3), Heading::South),
        "turned right, then moved"
    );
    assert_eq!(
        trail(&game, 1)[0].heading,
        Heading::South,
        "the trail cell carries the heading its cycle left it with"
    );
    run(&mut game, 2);
    assert_eq!(
        at(&game, 1),
        (2, 5),
        "straight on after the turn: it is not held"
    );
}

#[test]
fn a_later_turn_before_the_move_replaces_the_earlier_and_straight_keeps_it() {
    let config = CyclesConfig {
        move_every_ticks: 2,
        ..config()
    };
    let mut game = Cycles::new(&config, &map(), 42);
    joined(1, &mut game);
    place(&mut game, 1, (5, 5), Heading::East);
    turn(&mut game, 1, Turn::Left);
    run(&mut game, 1);
    assert_eq!(at(&game, 1), (5, 5), "no move yet: the turn waits");
    turn(&mut game, 1, Turn::Right);
    run(&mut game, 1);
    assert_eq!(
        cycle(&game, 1).heading,
        Heading::South,
        "the later right replaced the left"
    );
    turn(&mut game, 1, Turn::Left);
    turn(&mut game, 1, Turn::Straight);
    run(&mut game, 2);
    assert_eq!(
        cycle(&game, 1).heading,
        Heading::East,
        "a straight input does not cancel a pending turn"
    );
}

// ---------------------------------------------------------------------------------------------
// Crashes

#[test]
fn running_off_the_edge_crashes_with_nobody_to_blame() {
    let mut game = game();
    joined(1, &mut game);
    place(&mut game, 1, (18, 2), Heading::East);
    let events = run(&mut game, 2);
    assert_eq!(
        events,
        vec![(2, CyclesEvent::Crash { player: 1, by: 0 })],
        "crashes on the second move, out of the 20-wide grid"
    );
    let c = cycle(&game, 1);
    assert!(!c.alive, "the cycle is down");
    assert_eq!((c.x, c.y), (19, 2), "it stays on the last cell it reached");
    assert!(trail(&game, 1).is_empty(), "its trail is gone");
    assert!(
        game.grid.is_free((19, 2)) && game.grid.is_free((18, 2)),
        "cells freed"
    );
    assert_eq!(stats(&game, 1).stats, vec![0, 1, 1], "one crash, one cell");
}

#[test]
fn running_into_a_wall_crashes() {
    let mut game = game();
    joined(1, &mut game);
    place(&mut game, 1, (8, 5), Heading::East);
    let events = run(&mut game, 2);
    assert_eq!(
        events,
        vec![(2, CyclesEvent::Crash { player: 1, by: 0 })],
        "the wall at x 10 stops it on the second move"
    );
    assert_eq!(at(&game, 1), (9, 5), "it stands before the wall");
}

#[test]
fn running_into_its_own_trail_crashes_without_a_cut() {
    let mut game = game();
    joined(1, &mut game);
    place(&mut game, 1, (5, 5), Heading::East);
    let mut events = Vec::new();
    // Right four times: south, west, north, then east into the first cell it left.
    for _ in 0..4 {
        turn(&mut game, 1, Turn::Right);
        events.extend(run(&mut game, 1));
    }
    assert_eq!(
        events,
        vec![(4, CyclesEvent::Crash { player: 1, by: 0 })],
        "its own trail: by 0"
    );
    assert_eq!(stats(&game, 1).stats, vec![0, 1, 3], "no cut for itself");
}

#[test]
fn running_into_anothers_trail_scores_a_cut_for_its_owner() {
    // 1 runs east along row 2; 2 runs north up column 3 into 1's trail.
    let mut game = two(((2, 2), Heading::East), ((3, 5), Heading::North));
    let events = run(&mut game, 3);
    assert_eq!(
        events,
        vec![(3, CyclesEvent::Crash { player: 2, by: 1 })],
        "2 hits the trail 1 left at (3, 2)"
    );
    assert!(cycle(&game, 1).alive, "1 runs on");
    assert_eq!(trail(&game, 1).len(), 3, "1's trail stands");
    assert!(trail(&game, 2).is_empty(), "2's trail is gone");
    let one = stats(&game, 1);
    assert_eq!(one.stats, vec![1, 0, 3], "1: a cut, three cells");
    assert_eq!(one.score, 10 + 3 / 2, "a cut is 10, two cells a point");
    assert_eq!(
        stats(&game, 2).stats,
        vec![0, 1, 2],
        "2: a crash, two cells"
    );
}

#[test]
fn a_head_on_collision_crashes_both_and_each_cuts_the_other() {
    let mut game = two(((2, 2), Heading::East), ((4, 2), Heading::West));
    let events = run(&mut game, 1);
    assert_eq!(
        events,
        vec![
            (1, CyclesEvent::Crash { player: 1, by: 2 }),
            (1, CyclesEvent::Crash { player: 2, by: 1 }),
        ],
        "both enter (3, 2): both crash, in player order"
    );
    assert!(
        !cycle(&game, 1).alive && !cycle(&game, 2).alive,
        "both down"
    );
    assert!(game.grid.is_free((3, 2)), "nobody took the contested cell");
    for p in [1, 2] {
        assert_eq!(
            stats(&game, p).stats,
            vec![1, 1, 0],
            "player {p}: a cut and a crash"
        );
    }
}

#[test]
fn two_cycles_swapping_cells_both_crash() {
    let mut game = two(((2, 2), Heading::East), ((3, 2), Heading::West));
    let events = run(&mut game, 1);
    assert_eq!(
        events,
        vec![
            (1, CyclesEvent::Crash { player: 1, by: 2 }),
            (1, CyclesEvent::Crash { player: 2, by: 1 }),
        ],
        "each runs into the cell the other just left"
    );
}

#[test]
fn a_trail_keeps_at_most_max_trail_cells() {
    let mut game = game();
    joined(1, &mut game);
    place(&mut game, 1, (1, 2), Heading::East);
    run(&mut game, 8);
    assert_eq!(
        trail_cells(&game, 1),
        vec![(4, 2), (5, 2), (6, 2), (7, 2), (8, 2)],
        "the five newest cells"
    );
    assert!(
        (1..4).all(|x| game.grid.is_free((x, 2))),
        "the dropped cells are free again"
    );
    assert_eq!(game.entities.len(), 6, "the cycle and five trail cells");
}

#[test]
fn a_crashed_cycle_respawns_after_the_delay_on_a_spawn() {
    let mut game = game();
    joined(1, &mut game);
    place(&mut game, 1, (19, 6), Heading::East);
    let crash = run(&mut game, 1);
    assert_eq!(
        crash,
        vec![(1, CyclesEvent::Crash { player: 1, by: 0 })],
        "off the edge"
    );
    turn(&mut game, 1, Turn::Left);
    let waiting = run(&mut game, RESPAWN_TICKS - 1);
    assert!(waiting.is_empty(), "nothing during the delay: {waiting:?}");
    assert!(!cycle(&game, 1).alive, "still down");
    let back = run(&mut game, 1);
    assert_eq!(
        back,
        vec![(1 + RESPAWN_TICKS, CyclesEvent::Respawn { player: 1 })],
        "back exactly respawn_delay_s after the crash"
    );
    let c = cycle(&game, 1);
    assert!(c.alive, "alive again");
    let spawn = map()
        .spawns
        .into_iter()
        .find(|s| (i32::from(c.x), i32::from(c.y)) == s.cell())
        .expect("respawned on a spawn point");
    assert_eq!(
        c.heading,
        Heading::from(spawn.heading),
        "facing the spawn's way"
    );
    assert_eq!(
        game.roster[&1].pending,
        Turn::Straight,
        "input while down was ignored"
    );
}

#[test]
fn a_respawn_waits_for_a_free_spawn() {
    let mut game = Cycles::new(&config(), &one_spawn_map(), 42);
    joined(1, &mut game);
    place(&mut game, 1, (5, 5), Heading::East);
    joined(2, &mut game);
    place(&mut game, 2, (7, 5), Heading::West);
    run(&mut game, 1);
    let events = run(&mut game, RESPAWN_TICKS);
    assert_eq!(
        events,
        vec![(1 + RESPAWN_TICKS, CyclesEvent::Respawn { player: 1 })],
        "one spawn: 1 (the lower id) gets it, 2 waits"
    );
    assert_eq!(at(&game, 1), (1, 1), "1 on the spawn");
    game.leave(1);
    let events = run(&mut game, 1);
    assert_eq!(
        events,
        vec![(2 + RESPAWN_TICKS, CyclesEvent::Respawn { player: 2 })],
        "2 respawns on the first tick the spawn is free"
    );
}

// ---------------------------------------------------------------------------------------------
// Joining and leaving

#[test]
fn leaving_removes_the_cycle_and_its_trail_but_keeps_the_results() {
    let mut game = two(((2, 2), Heading::East), ((2, 6), Heading::East));
    run(&mut game, 3);
    game.leave(1);
    assert!(game.roster[&1].cycle.is_none(), "no longer seated");
    assert!(
        game.entities.values().all(|e| e.owner == 2),
        "only 2's cycle and trail remain"
    );
    assert!(
        (2..=5).all(|x| game.grid.is_free((x, 2))),
        "its cells are free"
    );
    turn(&mut game, 1, Turn::Left);
    run(&mut game, 1);
    let results = game.results();
    assert_eq!(
        results.iter().map(|o| o.player).collect::<Vec<_>>(),
        vec![1, 2],
        "everyone who joined, by id"
    );
    assert_eq!(results[0].stats, vec![0, 0, 3], "1's stats stay");
    joined(1, &mut game);
    assert_eq!(
        stats(&game, 1).stats,
        vec![0, 0, 3],
        "and carry on after a rejoin"
    );
}

#[test]
fn a_join_is_refused_when_no_spawn_is_free() {
    let mut game = Cycles::new(&config(), &one_spawn_map(), 42);
    joined(1, &mut game);
    let refused = Err(Refusal("no free spawn point".into()));
    assert_eq!(join(&mut game, 2), refused, "1 stands on the only spawn");
    place(&mut game, 1, (2, 1), Heading::East);
    assert_eq!(
        join(&mut game, 2),
        refused,
        "1 stands on the spawn's next cell"
    );
    assert!(
        !game.roster.contains_key(&2),
        "a refused player is not in the results"
    );
    place(&mut game, 1, (5, 5), Heading::East);
    assert_eq!(join(&mut game, 2), Ok(()), "free again");
    assert_eq!(join(&mut game, 2), Ok(()), "joining twice is harmless");
    assert_eq!(game.seated(), 2, "and seats once");
}

#[test]
fn a_join_is_refused_when_the_match_is_full() {
    let map = CyclesMap {
        max_players: Some(2),
        ..map()
    };
    let mut game = Cycles::new(&config(), &map, 42);
    joined(1, &mut game);
    joined(2, &mut game);
    assert_eq!(
        join(&mut game, 3),
        Err(Refusal("the match is full".into())),
        "two seats"
    );
}

// ---------------------------------------------------------------------------------------------
// Match length

#[test]
fn the_match_ends_after_match_length_s() {
    let mut game = game();
    joined(1, &mut game);
    assert_eq!(game.ticks_remaining(), 600, "60 s at 10 Hz");
    run(&mut game, 599);
    assert!(!game.is_over(), "one tick to go");
    assert_eq!(game.ticks_remaining(), 1, "one tick to go");
    run(&mut game, 1);
    assert!(game.is_over(), "over at tick 600");
    let hash = game.state_hash();
    run(&mut game, 5);
    assert_eq!(game.tick().0, 600, "a step after the end does nothing");
    assert_eq!(game.state_hash(), hash, "nothing changes");
}

// ---------------------------------------------------------------------------------------------
// Assets

#[test]
fn the_shipped_assets_load() {
    let config = shipped_config();
    assert_eq!(
        (config.tick_rate, config.move_every_ticks, config.max_trail),
        (30, 2, 60),
        "the shipped tuning"
    );
    let mut maps = Vec::new();
    let dir = assets_root().join("maps");
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a name");
        let file = format!("maps/{name}.toml");
        let map = config
            .parse_map(&file, &read(&path))
            .unwrap_or_else(|e| panic!("{e}"));
        maps.push((name.to_string(), config.seats(&map), map));
    }
    maps.sort_by(|a, b| a.0.cmp(&b.0));
    let seats: Vec<(&str, u16)> = maps.iter().map(|(n, s, _)| (n.as_str(), *s)).collect();
    for shipped in [("duel", 2), ("grid", 8)] {
        assert!(seats.contains(&shipped), "{shipped:?} among {seats:?}");
    }
    assert!(
        maps.iter().any(|(n, _, _)| *n == config.default_map),
        "the default map {} exists",
        config.default_map
    );
    for (name, seats, map) in &maps {
        let mut game = Cycles::new(&config, map, 1);
        for p in 1..=u32::from(*seats) {
            join(&mut game, p).unwrap_or_else(|r| panic!("{name}: player {p} refused: {r:?}"));
        }
        let events = run(&mut game, 4);
        assert!(
            events.is_empty(),
            "{name}: every spawn leads somewhere: {events:?}"
        );
    }
}

#[test]
fn a_config_error_names_the_file_and_the_field() {
    let text = read(&assets_root().join("game.toml"));
    let bad = text.replace("move_every_ticks = 2", "move_every_ticks = 0");
    assert_ne!(bad, text, "the shipped file sets move_every_ticks = 2");
    let err = CyclesConfig::parse("cycles/game.toml", &bad)
        .expect_err("0 is refused")
        .to_string();
    assert!(
        err.contains("cycles/game.toml") && err.contains("move_every_ticks"),
        "names file and field: {err}"
    );
    let typo = format!("{text}\nmax_trial = 3\n");
    let err = CyclesConfig::parse("cycles/game.toml", &typo)
        .expect_err("unknown field")
        .to_string();
    assert!(err.contains("max_trial"), "names the typo: {err}");
}

#[test]
fn a_map_error_names_the_file_and_the_field() {
    let config = shipped_config();
    let map = r#"
        width = 16
        height = 16
        max_players = 2
        walls = [{ x = 4, y = 4, w = 2, h = 2 }]
        spawns = [{ x = 1, y = 1, heading = "east" }, { x = 15, y = 14, heading = "west" }]
    "#;
    config
        .parse_map("maps/t.toml", map)
        .expect("the base map is valid");
    let cases = [
        ("x = 1, y = 1", "x = 5, y = 5", "spawns[0]", "walls[0]"),
        ("x = 1, y = 1", "x = 16, y = 1", "spawns[0]", "outside"),
        ("\"west\"", "\"east\"", "spawns[1]", "edge"),
        ("w = 2, h = 2", "w = 20, h = 2", "walls[0]", "outside"),
        ("width = 16", "width = 4", "width", "between"),
        ("max_players = 2", "max_players = 3", "spawns", "seats"),
        ("\"east\"", "\"up\"", "maps/t.toml", "up"),
    ];
    for (from, to, field, says) in cases {
        let text = map.replacen(from, to, 1);
        let err = config
            .parse_map("maps/t.toml", &text)
            .expect_err(&format!("{to} is refused"))
            .to_string();
        assert!(
            err.contains("maps/t.toml") && err.contains(field) && err.contains(says),
            "{to}: names the file, `{field}` and says `{says}`: {err}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism

/// A whole match of 8 players with random presses (and one player leaving and coming back):
/// the state hash after every tick, and every event.
fn replay(seed: u64) -> (Vec<u64>, Vec<(u32, CyclesEvent)>) {
    let mut game = Cycles::new(&config(), &map(), seed);
    let mut inputs = ChaCha8Rng::seed_from_u64(7);
    for p in 1..=8 {
        joined(p, &mut game);
    }
    let mut hashes = vec![game.state_hash()];
    let mut events = Vec::new();
    while !game.is_over() {
        for p in 1..=8 {
            if inputs.random_ratio(1, 3) {
                let t = [Turn::Straight, Turn::Left, Turn::Right][inputs.random_range(0..3)];
                turn(&mut game, p, t);
            }
        }
        match game.tick().0 {
            200 => game.leave(3),
            250 => {
                // May be refused if no spawn is free; the same way in every replay.
                let _ = join(&mut game, 3);
            }
            _ => {}
        }
        events.extend(run(&mut game, 1));
        hashes.push(game.state_hash());
    }
    (hashes, events)
}

#[test]
fn the_same_seed_and_inputs_give_the_same_hash_on_every_tick() {
    let (a, events) = replay(1);
    let (b, _) = replay(1);
    assert_eq!(a.len(), 601, "tick 0 and the 600 ticks of the match");
    let first_difference = a.iter().zip(&b).position(|(x, y)| x != y);
    assert_eq!(first_difference, None, "equal on every tick");
    let crashes = events
        .iter()
        .filter(|(_, e)| matches!(e, CyclesEvent::Crash { by, .. } if *by != 0))
        .count();
    let respawns = events
        .iter()
        .filter(|(_, e)| matches!(e, CyclesEvent::Respawn { .. }))
        .count();
    assert!(
        crashes > 0 && respawns > 0,
        "the match exercised cuts ({crashes}) and respawns ({respawns})"
    );
    let (c, _) = replay(2);
    assert_ne!(a.last(), c.last(), "another seed ends elsewhere");
    assert!(
        a.iter().zip(&c).any(|(x, y)| x != y),
        "another seed differs"
    );
}
