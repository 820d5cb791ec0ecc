//! The golden movement record: a lone player driven through scripted inputs on the shipped maps
//! by the real simulation (through the [`Game`] seam, as a match drives it), its position after
//! every tick checked in as `assets/web/golden/arena-motion.json`. The browser SDK's port of the
//! movement (`assets/web/src/sdk/games/arena-motion.ts`) replays the same inputs from the same
//! start in `assets/web/test/arena-motion.test.mjs` and must land on the same fixed-point
//! position every tick, so a change on either side that the other does not follow fails a test.
//!
//! The test fails when the simulation no longer produces the checked-in record; when the
//! movement changed on purpose, rerun with `TICKWIRE_UPDATE_GOLDEN=1`, port the change to the
//! SDK and commit both.
//!
//! File format: `tuning` is `game.toml` and `layouts` each map used, as JSON exactly as the
//! server serves them (`GET /v1/games`, `GET /v1/games/{game}/maps/{map}`); each case names its
//! map, the tick rate, the spawn it started from and, per tick, `[[buttons, move_dir, aim],
//! [x, y]]`: the input held for the tick and the position after it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use shared::games::arena::{ArenaEntity, ArenaInput, ArenaKind, buttons, flags};
use shared::quant::pos_to_fixed;

use super::tuning::Tuning;
use super::walls::{Vec2, Walls};
use super::{Arena, ArenaConfig, MapDef};
use crate::assets::load_game;
use crate::game::{Events, Game, GameConfig, JoinInfo, WorldWriter};

const PLAYER: u32 = 1;
const DASH: u8 = buttons::DASH;

/// Directions of `move_dir`.
const STILL: u8 = 0;
const E: u8 = 1;
const SE: u8 = 2;
const S: u8 = 3;
const SW: u8 = 4;
const W: u8 = 5;
const NW: u8 = 6;
const N: u8 = 7;
const NE: u8 = 8;

/// An input held for `ticks` ticks.
#[derive(Debug, Clone, Copy)]
struct Hold {
    buttons: u8,
    move_dir: u8,
    aim: u16,
    ticks: u32,
}

fn hold(buttons: u8, move_dir: u8, aim: u16, ticks: u32) -> Hold {
    Hold {
        buttons,
        move_dir,
        aim,
        ticks,
    }
}

struct Case {
    name: &'static str,
    map: &'static str,
    /// Index into the map's spawns: the start is chosen by seed, so the test looks for a seed
    /// that puts the player there (the routes below are drawn from that spot).
    spawn: usize,
    script: Vec<Hold>,
}

/// Routes drawn on the shipped maps at the shipped tuning (30 Hz: a walk is 117 fixed units a
/// tick, 83 on each axis diagonally; a dash 480 a tick for 5 ticks, then 60 ticks of cooldown).
fn cases() -> Vec<Case> {
    let compass = [E, SE, S, SW, W, NW, N, NE].map(|d| hold(0, d, 0, 4));
    vec![
        Case {
            name: "arena: the compass, the top-left bounds, a pillar, dashes along aims",
            map: "arena",
            spawn: 0,
            script: [
                vec![hold(0, STILL, 0, 4)],
                compass.to_vec(),
                vec![
                    // Into the corner of two bounds, then along the top one.
                    hold(0, NW, 0, 30),
                    hold(0, NE, 0, 12),
                    hold(0, N, 0, 3),
                    // A dash from standing goes along the aim, and runs its course once the
                    // button is let go.
                    hold(DASH, STILL, 10_000, 1),
                    hold(0, STILL, 10_000, 4),
                    // Onto the top face of the pillar at (400, 400) and along it.
                    hold(0, SE, 0, 52),
                    // Dash held through the last ticks of the cooldown, then steeply into the
                    // pillar: the dash slides along its face.
                    hold(DASH, STILL, 12_000, 4),
                    hold(0, STILL, 12_000, 4),
                    // Round the pillar's corner, down its east face, then a dash up and left,
                    // into that face.
                    hold(0, SE, 0, 10),
                    hold(0, SW, 0, 20),
                    hold(DASH, STILL, 36_000, 36),
                ],
            ]
            .concat(),
        },
        Case {
            name: "arena: dash held, the central cross's faces and corners",
            map: "arena",
            spawn: 1,
            script: vec![
                // Dash and walk south into the top of the vertical bar; the dash held through
                // its cooldown fires again into the wall.
                hold(DASH, S, 0, 70),
                // Slide west along the top face and round its corner.
                hold(0, SW, 0, 20),
                // Into the west face, down it into the corner with the horizontal bar.
                hold(0, SE, 0, 45),
                // A dash from standing, down into the horizontal bar's top: slides west.
                hold(DASH, STILL, 28_000, 1),
                hold(0, STILL, 28_000, 9),
            ],
        },
        Case {
            name: "corridors: a diagonal dash held, up a wall's face to the top bound",
            map: "corridors",
            spawn: 4,
            script: vec![
                hold(DASH, NW, 0, 165),
                // Along the top bound, then a dash down and left into the wall's face.
                hold(0, E, 0, 5),
                hold(DASH, STILL, 20_000, 16),
            ],
        },
    ]
}

/// The player's entity as the game shows it.
fn player(game: &Arena) -> ArenaEntity {
    let mut out = WorldWriter::new();
    Game::world(game, &mut out);
    let players: Vec<ArenaEntity> = out
        .finish()
        .entities::<ArenaEntity>()
        .map(|(_, e)| e)
        .filter(|e| e.kind == ArenaKind::Player)
        .collect();
    assert_eq!(players.len(), 1, "the player is alone");
    players[0]
}

/// A match with the player in it at the case's spawn.
fn start(config: &ArenaConfig, map: &MapDef, spawn: usize) -> (Arena, u64) {
    let radius = Tuning::new(config).player_radius;
    let p = map.spawns[spawn];
    let wanted = Walls::new(map).resolve((pos_to_fixed(p.x), pos_to_fixed(p.y)), radius);
    for seed in 0..1000 {
        let mut game = <Arena as Game>::new(config, map, seed);
        let who = JoinInfo {
            account_id: 1,
            username: "golden",
        };
        game.join(PLAYER, &who)
            .expect("an empty match seats a player");
        let e = player(&game);
        if (e.x, e.y) == wanted {
            return (game, seed);
        }
    }
    panic!("no seed below 1000 starts the player at spawn {spawn}");
}

/// One case run: its seed, start, and per tick the input and the position after it.
struct Run {
    seed: u64,
    start: Vec2,
    ticks: Vec<(ArenaInput, Vec2, u8)>,
}

fn run(config: &ArenaConfig, map: &MapDef, case: &Case) -> Run {
    let (mut game, seed) = start(config, map, case.spawn);
    let first = player(&game);
    let mut ticks = Vec::new();
    let mut events = Events::new();
    for h in &case.script {
        let input = ArenaInput {
            buttons: h.buttons,
            move_dir: h.move_dir,
            aim: h.aim,
        };
        for _ in 0..h.ticks {
            Game::input(&mut game, PLAYER, input);
            Game::step(&mut game, &mut events);
            // Orb pickups only score; anything else (a death, a respawn) would move the player
            // in ways the port does not model.
            for e in events.drain() {
                assert!(
                    matches!(e, super::ArenaEvent::Pickup { .. }),
                    "{}: only pickups happen, got {e:?}",
                    case.name
                );
            }
            assert!(
                !Game::is_over(&game),
                "{}: the match outlasts it",
                case.name
            );
            let e = player(&game);
            assert_eq!(e.flags & flags::DEAD, 0, "{}: the player lives", case.name);
            ticks.push((input, (e.x, e.y), e.flags));
        }
    }
    Run {
        seed,
        start: (first.x, first.y),
        ticks,
    }
}

/// What the golden record exercises, so a change of spawns, maps or tuning that walks the
/// scripts past their walls is noticed rather than leaving the record toothless.
#[derive(Debug, Default)]
struct Coverage {
    /// `move_dir`s seen moving at their full, unobstructed speed.
    free_dirs: BTreeSet<u8>,
    stood: bool,
    /// Slowed but not stopped while touching a wall: sliding along it.
    slid_on_wall: bool,
    slid_on_bounds: bool,
    /// Stopped while touching two walls or bounds at once.
    cornered: bool,
    dashes_along_a_direction: u32,
    /// Aims of dashes from standing.
    dash_aims: BTreeSet<u16>,
    /// Dashing but slowed by a wall or a bound.
    dash_blocked: bool,
    /// A hold of the dash button long enough to dash twice.
    dashed_again_while_held: bool,
}

/// A wall's box in fixed point, as `Walls::new` makes it.
fn wall_boxes(map: &MapDef) -> Vec<(i32, i32, i32, i32)> {
    map.walls
        .iter()
        .map(|w| {
            (
                pos_to_fixed(w.x),
                pos_to_fixed(w.y),
                pos_to_fixed(w.x + w.w),
                pos_to_fixed(w.y + w.h),
            )
        })
        .collect()
}

fn cover(coverage: &mut Coverage, t: &Tuning, map: &MapDef, run: &Run) {
    let (width, height) = (pos_to_fixed(map.width), pos_to_fixed(map.height));
    let walls = wall_boxes(map);
    let r = t.player_radius;
    // Pushes out of a corner round outwards, so "touching" allows a step or two of slack.
    let reach = i64::from(r + 2) * i64::from(r + 2);
    let touching = |(x, y): Vec2| {
        let on_walls = walls
            .iter()
            .filter(|&&(x0, y0, x1, y1)| {
                let dx = i64::from(x - x.clamp(x0, x1));
                let dy = i64::from(y - y.clamp(y0, y1));
                dx * dx + dy * dy <= reach
            })
            .count();
        let on_bounds = [x - r, y - r, width - r - x, height - r - y]
            .iter()
            .filter(|gap| **gap <= 1)
            .count();
        (on_walls, on_bounds)
    };
    let mut prev = run.start;
    let mut was_dashing = false;
    let mut dashes_in_hold = 0;
    for (input, pos, entity_flags) in &run.ticks {
        let moved = (pos.0 - prev.0, pos.1 - prev.1);
        let dashing = entity_flags & flags::DASHING != 0;
        let dir = usize::from(input.move_dir);
        let (on_walls, on_bounds) = touching(*pos);
        if input.dash() {
            if dashing && !was_dashing {
                dashes_in_hold += 1;
                coverage.dashed_again_while_held |= dashes_in_hold >= 2;
            }
        } else {
            dashes_in_hold = 0;
        }
        if dashing && !was_dashing {
            if dir == 0 {
                coverage.dash_aims.insert(input.aim);
            } else {
                coverage.dashes_along_a_direction += 1;
            }
        }
        if dashing {
            coverage.dash_blocked |=
                on_walls + on_bounds > 0 && moved.0.abs() + moved.1.abs() < 300;
        } else if dir == 0 {
            coverage.stood |= moved == (0, 0);
        } else if moved == t.walk[dir] {
            coverage.free_dirs.insert(input.move_dir);
        } else if moved == (0, 0) {
            coverage.cornered |= on_walls + on_bounds >= 2;
        } else {
            coverage.slid_on_wall |= on_walls > 0;
            coverage.slid_on_bounds |= on_walls == 0 && on_bounds > 0;
        }
        was_dashing = dashing;
        prev = *pos;
    }
}

fn check_coverage(coverage: &Coverage, maps: &BTreeSet<&str>) {
    assert!(
        maps.contains("arena") && maps.contains("corridors"),
        "both maps: {maps:?}"
    );
    assert_eq!(
        coverage.free_dirs,
        (1..=8).collect::<BTreeSet<u8>>(),
        "every direction walked freely"
    );
    let non_axis = coverage
        .dash_aims
        .iter()
        .filter(|a| **a % 16_384 != 0)
        .count();
    assert!(
        coverage.dash_aims.len() >= 3 && non_axis >= 2,
        "dashes from standing along several aims, some off the axes: {:?}",
        coverage.dash_aims
    );
    assert!(coverage.stood, "standing still: {coverage:?}");
    assert!(coverage.slid_on_wall, "sliding along a wall: {coverage:?}");
    assert!(
        coverage.slid_on_bounds,
        "sliding along a bound: {coverage:?}"
    );
    assert!(coverage.cornered, "stopped in a corner: {coverage:?}");
    assert!(
        coverage.dashes_along_a_direction >= 2,
        "dashes along a direction: {coverage:?}"
    );
    assert!(coverage.dash_blocked, "a dash into a wall: {coverage:?}");
    assert!(
        coverage.dashed_again_while_held,
        "a dash held through its cooldown: {coverage:?}"
    );
}

fn golden_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/web/golden/arena-motion.json"
    ))
}

fn to_json(value: &serde_json::Value) -> String {
    serde_json::to_string(value).expect("JSON values serialise")
}

#[test]
fn the_arena_motion_golden_record_matches_the_simulation() {
    let assets = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets"));
    let (config, tuning, maps) =
        load_game::<ArenaConfig>(&assets, "arena").expect("the shipped arena loads");
    let cases = cases();
    let used: BTreeSet<&str> = cases.iter().map(|c| c.map).collect();
    let layouts: Vec<String> = used
        .iter()
        .map(|name| {
            let layout = &maps.get(*name).expect("the map is shipped").layout;
            format!("    {}: {}", to_json(&(*name).into()), to_json(layout))
        })
        .collect();
    let tuning_units = Tuning::new(&config);
    let mut coverage = Coverage::default();
    let mut runs = Vec::new();
    for case in &cases {
        let map = &maps.get(case.map).expect("the map is shipped").map;
        let r = run(&config, map, case);
        cover(&mut coverage, &tuning_units, map, &r);
        runs.push(r);
    }
    check_coverage(&coverage, &used);
    let mut out = String::new();
    out.push_str("{\n");
    out.push_str(&format!("  \"tuning\": {},\n", to_json(&tuning)));
    out.push_str(&format!(
        "  \"layouts\": {{\n{}\n  }},\n",
        layouts.join(",\n")
    ));
    out.push_str("  \"cases\": [\n");
    for (i, (case, r)) in cases.iter().zip(&runs).enumerate() {
        let ticks: Vec<String> = r
            .ticks
            .iter()
            .map(|(input, (x, y), _)| {
                format!(
                    "        [[{}, {}, {}], [{x}, {y}]]",
                    input.buttons, input.move_dir, input.aim
                )
            })
            .collect();
        out.push_str(&format!(
            "    {{\n      \"name\": {},\n      \"map\": {},\n      \"tick_rate\": {},\n      \
             \"seed\": {},\n      \"start\": [{}, {}],\n      \"ticks\": [\n{}\n      ]\n    }}{}\n",
            to_json(&case.name.into()),
            to_json(&case.map.into()),
            config.tick_rate(),
            r.seed,
            r.start.0,
            r.start.1,
            ticks.join(",\n"),
            if i + 1 < cases.len() { "," } else { "" }
        ));
    }
    out.push_str("  ]\n}\n");

    let path = golden_path();
    if std::env::var_os("TICKWIRE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &out).expect("write the golden motion record");
    }
    let stored = std::fs::read_to_string(&path).expect("the golden motion record is checked in");
    if stored != out {
        let first = stored
            .lines()
            .zip(out.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(stored.lines().count().min(out.lines().count()));
        panic!(
            "{}: the simulation's movement differs from the checked-in record from line {}:\n  \
             stored:    {}\n  simulated: {}\nif the movement changed on purpose, rerun with \
             TICKWIRE_UPDATE_GOLDEN=1, port the change to the SDK's arena-motion.ts and commit",
            path.display(),
            first + 1,
            stored.lines().nth(first).unwrap_or("<end of file>"),
            out.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}
