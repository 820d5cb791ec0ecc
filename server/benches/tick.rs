//! Cost of one tick for one match: the simulation alone (`sim_tick`), and the whole tick the
//! server runs (`match_tick`: simulate, snapshot, encode shared delta bodies, per-client frames).
//! `cargo bench -p server --bench tick`
//!
//! - `arena_16_players`: the default map, 16 players moving, aiming and firing on pseudo-random
//!   inputs (FIRE held nine times in ten). The fire cooldown is shortened to one tick so that
//!   about 200 entities are alive (16 players, 8 orbs, ~190 projectiles), the size the delta
//!   benches in `shared` use.
//! - `bench_25_players`: the `bench` map, 25 players on the same inputs plus its 100 drones.
//!
//! Matches are made long enough never to end during a measurement.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use server::sim::{PlayerInput, Sim};
use shared::assets::{GameConfig, MapDef, parse_game, parse_map};
use shared::protocol::buttons;

fn assets(map: &str) -> (GameConfig, MapDef) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets");
    let read = |path: String| std::fs::read_to_string(&path).expect("shipped asset readable");
    let mut game = parse_game("game.toml", &read(format!("{root}/game.toml"))).expect("game.toml");
    game.match_length_s = 1.0e6;
    let map = parse_map(map, &read(format!("{root}/maps/{map}.toml"))).expect("map");
    (game, map)
}

/// Players with pseudo-random inputs: each changes direction and aim every 10 ticks or so and
/// holds FIRE most of the time.
struct Players {
    rng: ChaCha8Rng,
    count: u32,
}

impl Players {
    fn drive(&mut self, sim: &mut Sim) {
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
                sim.handle_input(
                    id,
                    PlayerInput {
                        buttons: fire | dash,
                        move_dir: self.rng.random_range(0..=8),
                        aim: self.rng.random(),
                    },
                );
            }
        }
    }
}

/// A match with `players` players, warmed up for 300 ticks so projectiles are in flight.
fn warm_match(game: &GameConfig, map: &MapDef, players: u32) -> (Sim, Players) {
    let mut sim = Sim::new(game, map, 1);
    for id in 1..=players {
        sim.add_player(id);
    }
    let mut driver = Players {
        rng: ChaCha8Rng::seed_from_u64(2),
        count: players,
    };
    for _ in 0..300 {
        driver.drive(&mut sim);
        sim.step();
        sim.drain_events().for_each(drop);
    }
    (sim, driver)
}

fn tick_benches(c: &mut Criterion) {
    let (mut arena_game, arena_map) = assets("arena");
    arena_game.weapon.fire_cooldown_s = 1.0 / 30.0;
    let (bench_game, bench_map) = assets("bench");
    let cases = [
        ("arena_16_players", &arena_game, &arena_map, 16),
        ("bench_25_players", &bench_game, &bench_map, 25),
    ];

    let mut group = c.benchmark_group("sim_tick");
    group.throughput(Throughput::Elements(1));
    for (name, game, map, players) in cases {
        let (mut sim, mut driver) = warm_match(game, map, players);
        println!("{name}: {} entities", sim.snapshot().len());
        group.bench_function(name, |b| {
            b.iter(|| {
                if sim.is_over() {
                    (sim, driver) = warm_match(game, map, players);
                }
                driver.drive(&mut sim);
                sim.step();
                sim.drain_events().for_each(drop);
                black_box(sim.snapshot())
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
    use server::matches::frame::{History, TickFrame};
    use server::metrics::Metrics;
    use shared::protocol::SnapshotHeader;
    use shared::{Tick, codec};
    use std::sync::Arc;

    // The shipped tuning keeps ~64 entities alive; a one-tick fire cooldown brings the arena
    // match to ~215 (players, projectiles, orbs), the size the issue asks the tick cost for.
    let (mut arena_game, arena_map) = assets("arena");
    arena_game.weapon.fire_cooldown_s = 1.0 / 30.0;
    let (bench_game, bench_map) = assets("bench");
    let cases = [
        ("arena_16_clients", &arena_game, &arena_map, 16u32),
        ("bench_25_clients", &bench_game, &bench_map, 25u32),
    ];
    let metrics = Metrics::new();
    let mut group = c.benchmark_group("match_tick");
    group.throughput(Throughput::Elements(1));
    for (name, game, map, clients) in cases {
        let (mut sim, mut driver) = warm_match(game, map, clients);
        let history = History::new(60);
        let mut frame_buf = Vec::with_capacity(8192);
        let publish = |sim: &mut Sim, driver: &mut Players| {
            driver.drive(sim);
            sim.step();
            let events: Vec<_> = sim.drain_events().collect();
            let tick = sim.tick();
            let frame = Arc::new(TickFrame::new(
                tick,
                sim.snapshot(),
                events,
                tick.0.is_multiple_of(10),
            ));
            history.push(frame.clone());
            frame
        };
        for _ in 0..5 {
            publish(&mut sim, &mut driver);
        }
        // Sizes a client sees in this match: a keyframe and a steady-state delta against the
        // tick it acked three ticks ago, plain and predicting from the ack before.
        let frame = publish(&mut sim, &mut driver);
        let base = history.get(Tick(frame.tick.0 - 3)).expect("held");
        let older = history.get(Tick(frame.tick.0 - 4)).expect("held");
        let key = frame.body(None, None, &metrics).len();
        let plain = frame.body(Some(&base), None, &metrics).len();
        let delta = frame.body(Some(&base), Some(&older), &metrics).len();
        let rate = f64::from(game.tick_rate);
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
            let plain = frame.body(Some(&base), None, &metrics).len();
            let delta = frame.body(Some(&base), Some(&older), &metrics).len();
            println!(
                "  ack {age} tick(s) old: plain {plain} B ({:.1} KB/s), predicted {delta} B \
                 ({:.1} KB/s)",
                per_client(plain),
                per_client(delta),
            );
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                if sim.is_over() {
                    (sim, driver) = warm_match(game, map, clients);
                }
                let frame = publish(&mut sim, &mut driver);
                let mut bytes = 0;
                for client in 0..clients {
                    let ack = Tick(frame.tick.0.saturating_sub(2 + client % 2));
                    let baseline = history.get(ack);
                    let older = history.get(Tick(ack.0.saturating_sub(1)));
                    let body = frame.body(baseline.as_deref(), older.as_deref(), &metrics);
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

criterion_group!(benches, tick_benches, match_tick_benches);
criterion_main!(benches);
