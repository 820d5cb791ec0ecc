//! Cost of one tick for one match, through the same generic path the server takes (the game
//! behind `AnyGame`, its world written as declared rows): the game alone (`sim_tick`: inputs,
//! step, world), and the whole tick the server runs (`match_tick`: that, plus publishing the
//! frame, encoding shared delta bodies and every client's frame).
//! `cargo bench -p server --bench tick`
//!
//! - `arena_16_players`: the arena map, 16 players moving, aiming and firing on pseudo-random
//!   inputs (FIRE held nine times in ten). The fire cooldown is shortened to one tick so that
//!   about 200 entities are alive (16 players, 8 orbs, ~190 projectiles), the size the delta
//!   benches in `shared` use.
//! - `bench_25_players`: the `bench` map, 25 players on the same inputs plus its 100 drones.
//!
//! Matches are made long enough never to end during a measurement.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use server::game::{AnyGame, GameSet, Games};
use shared::InputValues;
use shared::games::arena::{ArenaInput, buttons};

/// The shipped games, with the arena's matches made endless and, when `fast_fire`, its fire
/// cooldown cut to one tick.
fn games(dir: &Path, fast_fire: bool) -> Games {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
    for game in ["arena", "cycles"] {
        let maps = dir.join(game).join("maps");
        std::fs::create_dir_all(&maps).expect("temp assets");
        let mut toml = std::fs::read_to_string(shipped.join(game).join("game.toml")).expect("read");
        if game == "arena" {
            toml = edit(&toml, "match_length_s", "match_length_s = 1000000.0");
            if fast_fire {
                toml = edit(&toml, "fire_cooldown_s", "fire_cooldown_s = 0.0333");
            }
        }
        std::fs::write(dir.join(game).join("game.toml"), toml).expect("write");
        for map in std::fs::read_dir(shipped.join(game).join("maps")).expect("maps") {
            let map = map.expect("map").path();
            std::fs::copy(&map, maps.join(map.file_name().expect("name"))).expect("copy");
        }
    }
    GameSet::shipped().load(dir).expect("assets load")
}

fn edit(toml: &str, key: &str, line: &str) -> String {
    toml.lines()
        .map(|l| if l.starts_with(key) { line } else { l })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Players with pseudo-random inputs: each changes direction and aim every 10 ticks or so and
/// holds FIRE most of the time.
struct Players {
    rng: ChaCha8Rng,
    count: u32,
}

impl Players {
    fn drive(&mut self, game: &mut dyn AnyGame) {
        for id in 1..=self.count {
            if self.rng.random_ratio(1, 10) {
                let fire = if self.rng.random_ratio(9, 10) {
                    buttons::FIRE
                } else {
                    0
                };
                let dash = if self.rng.random_ratio(1, 20) {
                    buttons::DASH
                } else {
                    0
                };
                let input = ArenaInput {
                    buttons: fire | dash,
                    move_dir: self.rng.random_range(0..=8),
                    aim: self.rng.random(),
                };
                game.input(id, &InputValues::of(&input));
            }
        }
    }
}

/// A match with `players` players, warmed up for 300 ticks so projectiles are in flight.
fn warm_match(games: &Games, map: &str, players: u32) -> (Box<dyn AnyGame>, Players) {
    let mut game = games.start("arena", map, 1).expect("arena map");
    for id in 1..=players {
        let who = server::game::JoinInfo {
            account_id: i64::from(id),
            username: "bench",
        };
        game.join(id, &who).expect("the arena seats everyone");
    }
    let mut driver = Players {
        rng: ChaCha8Rng::seed_from_u64(2),
        count: players,
    };
    let mut events = Vec::new();
    for _ in 0..300 {
        driver.drive(game.as_mut());
        game.step(&mut events);
        events.clear();
    }
    (game, driver)
}

fn tick_benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let fast = games(&dir.path().join("fast"), true);
    let plain = games(&dir.path().join("plain"), false);
    let cases = [
        ("arena_16_players", &fast, "arena", 16),
        ("bench_25_players", &plain, "bench", 25),
    ];

    let mut group = c.benchmark_group("sim_tick");
    group.throughput(Throughput::Elements(1));
    for (name, games, map, players) in cases {
        let (mut game, mut driver) = warm_match(games, map, players);
        println!("{name}: {} entities", game.world().len());
        let mut events = Vec::new();
        group.bench_function(name, |b| {
            b.iter(|| {
                driver.drive(game.as_mut());
                game.step(&mut events);
                events.clear();
                black_box(game.world())
            })
        });
    }
    group.finish();
}

/// The whole server-side cost of a tick for one match, apart from socket writes: simulate,
/// build the snapshot, publish it, encode the delta bodies (clients ack one of two recent ticks,
/// as they do in steady play at a few ticks of round trip, each a tick after their previous ack,
/// which the bodies predict from) and assemble every client's frame.
fn match_tick_benches(c: &mut Criterion) {
    use server::matches::Viewer;
    use server::matches::frame::{History, TickFrame};
    use server::metrics::Metrics;
    use shared::protocol::SnapshotHeader;
    use shared::{Tick, codec};
    use std::sync::Arc;

    let dir = tempfile::tempdir().expect("temp dir");
    let fast = games(&dir.path().join("fast"), true);
    let plain = games(&dir.path().join("plain"), false);
    let cases = [
        ("arena_16_clients", &fast, "arena", 16u32),
        ("bench_25_clients", &plain, "bench", 25u32),
    ];
    let metrics = Metrics::new();
    let mut group = c.benchmark_group("match_tick");
    group.throughput(Throughput::Elements(1));
    for (name, games, map, clients) in cases {
        let rate = f64::from(games.get("arena").expect("arena").tick_rate);
        let (mut game, mut driver) = warm_match(games, map, clients);
        let history = History::new(60);
        let mut frame_buf = Vec::with_capacity(8192);
        let mut tick = Tick(300);
        let mut publish = |game: &mut Box<dyn AnyGame>, driver: &mut Players| {
            driver.drive(game.as_mut());
            let mut events = Vec::new();
            game.step(&mut events);
            tick = tick.next();
            let frame = Arc::new(TickFrame::new(
                tick,
                game.world(),
                vec![(tick, events.into())].into(),
                tick.0.is_multiple_of(10),
            ));
            history.push(frame.clone());
            frame
        };
        for _ in 0..5 {
            publish(&mut game, &mut driver);
        }
        // Sizes a client sees in this match: a keyframe and a steady-state delta against the
        // tick it acked three ticks ago, plain and predicting from the ack before.
        let frame = publish(&mut game, &mut driver);
        let base = history.get(Tick(frame.tick.0 - 3)).expect("held");
        let older = history.get(Tick(frame.tick.0 - 4)).expect("held");
        let key = frame.body(Viewer::Everything, None, None, &metrics).len();
        let plain = frame
            .body(Viewer::Everything, Some(&base), None, &metrics)
            .len();
        let delta = frame
            .body(Viewer::Everything, Some(&base), Some(&older), &metrics)
            .len();
        let per_client = |body: usize| (body + 8) as f64 * rate / 1000.0;
        println!(
            "{name}: {} entities; keyframe {key} B ({:.1} KB/s per client at {rate} Hz), \
             plain delta {plain} B ({:.1} KB/s), predicted delta {delta} B ({:.1} KB/s)",
            frame.world.len(),
            per_client(key),
            per_client(plain),
            per_client(delta),
        );
        for age in 1..=3 {
            let base = history.get(Tick(frame.tick.0 - age)).expect("held");
            let older = history.get(Tick(frame.tick.0 - age - 1)).expect("held");
            let plain = frame
                .body(Viewer::Everything, Some(&base), None, &metrics)
                .len();
            let delta = frame
                .body(Viewer::Everything, Some(&base), Some(&older), &metrics)
                .len();
            println!(
                "  ack {age} tick(s) old: plain {plain} B ({:.1} KB/s), predicted {delta} B \
                 ({:.1} KB/s)",
                per_client(plain),
                per_client(delta),
            );
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                let frame = publish(&mut game, &mut driver);
                let mut bytes = 0;
                for client in 0..clients {
                    let ack = Tick(frame.tick.0.saturating_sub(2 + client % 2));
                    let baseline = history.get(ack);
                    let older = history.get(Tick(ack.0.saturating_sub(1)));
                    let body = frame.body(
                        Viewer::Everything,
                        baseline.as_deref(),
                        older.as_deref(),
                        &metrics,
                    );
                    let header = SnapshotHeader {
                        tick: frame.tick,
                        baseline_tick: baseline.as_ref().map_or(Tick::ZERO, |b| b.tick),
                        last_input_seq: client,
                    };
                    frame_buf.clear();
                    codec::snapshot_frame(&header, &body, &mut frame_buf);
                    bytes += frame_buf.len();
                }
                black_box(bytes)
            })
        });
    }
    group.finish();
}

/// The 100-player `expanse` map with and without interest management: the same match tick as
/// `match_tick` (simulate, publish, every client's body and frame), plus each player's view when
/// on. Bytes per client-tick are printed; the time per iteration is the tick's CPU.
fn interest_benches(c: &mut Criterion) {
    use server::matches::frame::{History, TickFrame};
    use server::matches::views::{ViewKeeper, Viewer};
    use server::metrics::Metrics;
    use shared::protocol::SnapshotHeader;
    use shared::{Tick, codec};
    use std::sync::Arc;

    let dir = tempfile::tempdir().expect("temp dir");
    let plain = games(&dir.path().join("plain"), false);
    let metrics = Metrics::new();
    let clients = 100u32;
    let players: Vec<u32> = (1..=clients).collect();
    let mut group = c.benchmark_group("interest");
    group.throughput(Throughput::Elements(u64::from(clients)));
    for on in [true, false] {
        let name = if on {
            "expanse_100_views"
        } else {
            "expanse_100_whole"
        };
        let (mut game, mut driver) = warm_match(&plain, "expanse", clients);
        let mut keeper = ViewKeeper::new(game.interest(), on);
        let history = History::new(60);
        let mut frame_buf = Vec::with_capacity(8192);
        let mut tick = Tick(300);
        let mut publish = |game: &mut Box<dyn AnyGame>, driver: &mut Players| {
            driver.drive(game.as_mut());
            let mut events = Vec::new();
            game.step(&mut events);
            tick = tick.next();
            let world = game.world();
            let checksum = tick.0.is_multiple_of(10);
            let views = keeper.views(game.as_ref(), &world, &players, checksum);
            let frame = Arc::new(
                TickFrame::new(tick, world, vec![(tick, events.into())].into(), checksum)
                    .with_views(views),
            );
            history.push(frame.clone());
            frame
        };
        for _ in 0..5 {
            publish(&mut game, &mut driver);
        }
        let serve = |frame: &TickFrame, frame_buf: &mut Vec<u8>| {
            let mut bytes = 0;
            for client in 1..=clients {
                let viewer = Viewer::Player(client);
                let ack = Tick(frame.tick.0.saturating_sub(2 + client % 2));
                let baseline = history.get(ack);
                let older = history.get(Tick(ack.0.saturating_sub(1)));
                let body = frame.body(viewer, baseline.as_deref(), older.as_deref(), &metrics);
                let header = SnapshotHeader {
                    tick: frame.tick,
                    baseline_tick: baseline.as_ref().map_or(Tick::ZERO, |b| b.tick),
                    last_input_seq: client,
                };
                frame_buf.clear();
                codec::snapshot_frame(&header, &body, frame_buf);
                bytes += frame_buf.len();
            }
            frame.release_bodies();
            bytes
        };
        let mut sampled = 0;
        for _ in 0..30 {
            let frame = publish(&mut game, &mut driver);
            sampled += serve(&frame, &mut frame_buf);
        }
        let frame = publish(&mut game, &mut driver);
        let distinct = frame.views.as_ref().map_or(1, |v| v.distinct());
        println!(
            "{name}: {} entities, {distinct} distinct views; {:.0} B per client-tick",
            frame.world.len(),
            sampled as f64 / (30.0 * f64::from(clients)),
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                let frame = publish(&mut game, &mut driver);
                black_box(serve(&frame, &mut frame_buf))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, tick_benches, match_tick_benches, interest_benches);
criterion_main!(benches);
