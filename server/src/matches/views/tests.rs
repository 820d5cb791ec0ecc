//! Interest management end to end on the 100-player map, without sockets: the real game, the
//! real views, frames, history and snapshot encoding, and a real client replica per player.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shared::games::arena::{ArenaEntity, PROTOCOL};
use shared::protocol::ServerMessage;
use shared::replica::Replica;
use shared::schema::{InputValues, Replicated};
use shared::{Tick, World, codec};

use super::*;
use crate::game::{GameSet, Games};
use crate::matches::frame::{History, TickFrame};
use crate::matches::outbox::{Acks, PendingSnapshot, TickOut};
use crate::matches::wire::parse_frames;
use crate::metrics::Metrics;

fn games() -> Games {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
    GameSet::shipped().load(&assets).expect("shipped assets")
}

/// A simulated client: its replica and the acknowledgements the server has heard.
struct Client {
    replica: Replica,
    acks: Acks,
    bytes: u64,
}

/// What a run measured.
#[derive(Debug, Default)]
struct Run {
    /// Downstream bytes per client per tick, over every client and tick.
    bytes_per_client_tick: f64,
    snapshots: u64,
    bodies: u64,
    /// Entities in a client's world, summed over clients and ticks, and the same for the
    /// whole world.
    seen: u64,
    world: u64,
    /// Entities that entered a client's view after its first snapshot, and that left one.
    entered: u64,
    left: u64,
    checksums: u64,
}

/// Plays `ticks` ticks of a 100-player match on `expanse`, every client acknowledging (most
/// ticks) what it applied, some players leaving and new ones joining; checks every snapshot
/// against the server's own view of that client. Inputs are seeded, so both runs of a
/// comparison play the same match.
fn play(interest_on: bool, ticks: u32, seed: u64) -> Run {
    let games = games();
    let mut game = games
        .start("arena", "expanse", seed)
        .expect("the expanse map");
    let interest = game.interest();
    let Interest::Radius(radius) = interest else {
        panic!("expanse declares a radius view, not {interest:?}");
    };
    let mut keeper = ViewKeeper::new(interest, interest_on);
    let history = History::new(64);
    let metrics = Metrics::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let who = |id: u32| crate::game::JoinInfo {
        account_id: i64::from(id),
        username: "bot",
    };
    let mut clients: BTreeMap<u32, Client> = BTreeMap::new();
    let mut next_id = 1u32;
    let join = |game: &mut Box<dyn AnyGame>, clients: &mut BTreeMap<u32, Client>, id: u32| {
        game.join(id, &who(id)).expect("seated");
        let mut replica = Replica::new(&PROTOCOL);
        replica.set_pruning(true);
        clients.insert(
            id,
            Client {
                replica,
                acks: Acks::default(),
                bytes: 0,
            },
        );
    };
    for _ in 0..100 {
        join(&mut game, &mut clients, next_id);
        next_id += 1;
    }
    // Each player walks one way for a while, so views change.
    let mut heading: BTreeMap<u32, i32> = BTreeMap::new();
    let mut run = Run::default();
    let mut buf = Vec::new();
    let mut players = Vec::new();
    for t in 1..=ticks {
        // Every 40 ticks one player leaves and a new one joins: it gets a keyframe first.
        if t % 40 == 0 {
            let leaving = *clients
                .keys()
                .nth(rng.random_range(0..clients.len()))
                .expect("players");
            game.leave(leaving);
            keeper.forget(leaving);
            clients.remove(&leaving);
            join(&mut game, &mut clients, next_id);
            next_id += 1;
        }
        for id in clients.keys() {
            let dir = heading.entry(*id).or_insert(rng.random_range(1..=8));
            if rng.random_ratio(1, 30) {
                *dir = rng.random_range(1..=8);
            }
            let fire = i32::from(rng.random_ratio(1, 8));
            let aim = rng.random_range(0..65_536);
            let values = InputValues::new(&[fire, *dir, aim]).expect("three values");
            assert!(game.input(*id, &values), "a valid input");
        }
        let mut events = Vec::new();
        game.step(&mut events);
        let tick = Tick(t);
        let world = game.world();
        players.clear();
        players.extend(clients.keys().copied());
        let with_checksum = t % 10 == 0;
        let views = keeper.views(&*game, &world, &players, with_checksum);
        assert_eq!(views.is_some(), interest_on, "views only when limited");
        let frame = Arc::new(
            TickFrame::new(tick, world, Vec::new().into(), with_checksum).with_views(views),
        );
        history.push(frame.clone());
        let mut out = TickOut::new(&history, &metrics, std::mem::take(&mut buf));
        for (id, client) in &mut clients {
            let pending = PendingSnapshot {
                frame: frame.clone(),
                viewer: Viewer::Player(*id),
                last_input_seq: t,
            };
            out.assemble(client.acks, &pending);
            client.bytes += out.buf.len() as u64;
            let frames = parse_frames(&out.buf);
            let [(_, payload)] = &frames[..] else {
                panic!("one frame per snapshot, got {}", frames.len());
            };
            let Ok(ServerMessage::Snapshot(snapshot)) = codec::decode_server(payload) else {
                panic!("not a snapshot");
            };
            let before: Vec<_> = client.replica.world().ids().to_vec();
            let applied = client
                .replica
                .apply(&snapshot)
                .unwrap_or_else(|e| panic!("player {id} tick {t}: {e}"));
            assert_ne!(applied.checksum, Some(false), "player {id} desynced at {t}");
            run.checksums += u64::from(applied.checksum == Some(true));
            let got = client.replica.world();
            let server_view = frame
                .seen_by(Viewer::Player(*id))
                .expect("every player has a view")
                .world;
            assert_eq!(got, server_view, "player {id} at {t}: exactly its view");
            if interest_on {
                within_sight(got, &radius, game.viewpoint(*id), *id, t);
            } else {
                assert_eq!(got, &frame.world, "the whole world when not limited");
            }
            if !applied.keyframe {
                run.entered += got.ids().iter().filter(|i| !before.contains(i)).count() as u64;
                run.left += before.iter().filter(|i| got.get(**i).is_none()).count() as u64;
            }
            run.seen += got.len() as u64;
            run.world += frame.world.len() as u64;
            run.snapshots += 1;
            // Most acks arrive before the next tick; some are late, so baselines differ.
            if rng.random_ratio(4, 5) {
                client.acks = Acks {
                    older: client.acks.newest,
                    newest: tick,
                };
            }
        }
        buf = out.buf;
        frame.release_bodies();
        let oldest = clients
            .values()
            .map(|c| c.acks.older)
            .filter(|t| !t.is_zero())
            .min()
            .unwrap_or(tick);
        history.forget_before(oldest);
    }
    let bytes: u64 = clients.values().map(|c| c.bytes).sum();
    run.bytes_per_client_tick = bytes as f64 / (clients.len() as f64 * f64::from(ticks));
    run.bodies = metrics.bodies_encoded.get();
    run
}

/// Every entity a client holds lies in a cell within the radius plus the margin of the
/// player's viewpoint: checked with the geometry, not with the keeper that chose them.
fn within_sight(world: &World, radius: &Radius, viewpoint: Option<(i32, i32)>, id: u32, t: u32) {
    let Some((x, y)) = viewpoint else { return };
    let reach = i64::from(radius.radius + radius.margin);
    for (eid, row) in world.iter() {
        let cell = radius.cell_of_row(row);
        let side = i64::from(radius.cell);
        let near = |c: i32, p: i32| {
            let lo = i64::from(c) * side;
            (lo - i64::from(p)).max(i64::from(p) - lo - side).max(0)
        };
        let (dx, dy) = (near(cell.x, x), near(cell.y, y));
        assert!(
            dx * dx + dy * dy <= reach * reach,
            "player {id} at tick {t} holds {eid:?} in {cell:?}, out of sight of ({x}, {y})"
        );
        let entity = ArenaEntity::read_row(row).expect("an arena row");
        assert!(entity.x >= 0 && entity.y >= 0, "inside the map");
    }
}

#[test]
fn on_the_big_map_each_client_holds_exactly_its_view_and_bytes_drop_threefold() {
    let ticks = 150;
    let limited = play(true, ticks, 7);
    let whole = play(false, ticks, 7);
    assert!(
        limited.checksums > 0 && whole.checksums > 0,
        "checksums were verified"
    );
    assert!(
        limited.entered > 0 && limited.left > 0,
        "entities entered and left views: {limited:?}"
    );
    let share = limited.seen as f64 / limited.world as f64;
    assert!(
        (0.1..=0.4).contains(&share),
        "a player sees about a quarter of the map, saw {share:.3}"
    );
    let ratio = whole.bytes_per_client_tick / limited.bytes_per_client_tick;
    eprintln!(
        "bytes per client-tick: {:.1} limited vs {:.1} whole ({ratio:.2}x); \
         share seen {share:.3}; bodies {} for {} snapshots limited, {} for {} whole",
        limited.bytes_per_client_tick,
        whole.bytes_per_client_tick,
        limited.bodies,
        limited.snapshots,
        whole.bodies,
        whole.snapshots
    );
    assert!(ratio >= 3.0, "at least 3x fewer bytes, got {ratio:.2}x");
}

#[test]
fn players_with_the_same_cells_share_one_view_and_one_body() {
    let games = games();
    let mut game = games.start("arena", "expanse", 3).expect("the expanse map");
    let mut keeper = ViewKeeper::new(game.interest(), true);
    for id in 1..=40 {
        game.join(
            id,
            &crate::game::JoinInfo {
                account_id: i64::from(id),
                username: "p",
            },
        )
        .expect("seated");
    }
    let mut events = Vec::new();
    game.step(&mut events);
    let world = game.world();
    let players: Vec<u32> = (1..=40).collect();
    let views = keeper
        .views(&*game, &world, &players, true)
        .expect("limited");
    assert_eq!(views.players(), 40);
    // 40 players on 32 spawn points: some stand on the same spot, so share a view.
    assert!(views.distinct() < 40, "{} distinct views", views.distinct());
    let frame = TickFrame::new(Tick(1), world, Vec::new().into(), true).with_views(Some(views));
    let metrics = Metrics::new();
    let bodies: Vec<_> = players
        .iter()
        .map(|p| frame.body(Viewer::Player(*p), None, None, &metrics))
        .collect();
    let distinct = frame.views.as_ref().map_or(0, Views::distinct) as u64;
    assert_eq!(metrics.bodies_encoded.get(), distinct, "one body per view");
    let spectator = frame.body(Viewer::Everything, None, None, &metrics);
    assert!(
        bodies.iter().all(|b| b.len() < spectator.len()),
        "a spectator's whole world is bigger than any player's view"
    );
}

#[test]
fn a_game_with_its_own_rules_shows_only_what_it_admits() {
    // The arena with everything visible, filtered by a custom rule: odd slots only.
    struct OddSlots(Box<dyn AnyGame>);
    impl AnyGame for OddSlots {
        fn protocol(&self) -> &'static shared::schema::GameProtocol {
            self.0.protocol()
        }
        fn join(
            &mut self,
            player: PlayerId,
            who: &crate::game::JoinInfo<'_>,
        ) -> Result<(), crate::game::Refusal> {
            self.0.join(player, who)
        }
        fn leave(&mut self, player: PlayerId) {
            self.0.leave(player);
        }
        fn input(&mut self, player: PlayerId, values: &InputValues) -> bool {
            self.0.input(player, values)
        }
        fn step(&mut self, events: &mut Vec<shared::Event>) {
            self.0.step(events);
        }
        fn world(&self) -> World {
            self.0.world()
        }
        fn is_over(&self) -> bool {
            self.0.is_over()
        }
        fn ticks_remaining(&self) -> u32 {
            self.0.ticks_remaining()
        }
        fn results(&self) -> Vec<crate::game::Outcome> {
            self.0.results()
        }
        fn state_hash(&self) -> u64 {
            self.0.state_hash()
        }
        fn interest(&self) -> Interest {
            Interest::Custom
        }
        fn viewpoint(&self, _: PlayerId) -> Option<(i32, i32)> {
            None
        }
        fn sees(&self, player: PlayerId, id: shared::NetId, _: &[i32]) -> bool {
            id.index % 2 == 1 || player == 99
        }
    }
    let games = games();
    let game = OddSlots(games.start("arena", "arena", 1).expect("arena"));
    let mut keeper = ViewKeeper::new(game.interest(), true);
    let world = game.world();
    assert!(world.len() > 4, "orbs to see");
    let views = keeper
        .views(&game, &world, &[1, 2, 99], false)
        .expect("limited");
    assert_eq!(views.distinct(), 2, "players 1 and 2 share theirs");
    let (_, one) = views.of(1).expect("player 1");
    assert!(one.world.ids().iter().all(|id| id.index % 2 == 1));
    assert_eq!(views.of(99).map(|(_, v)| v.world.len()), Some(world.len()));
    assert!(views.of(5).is_none(), "not a player");
    let mut off = ViewKeeper::new(game.interest(), false);
    assert!(
        off.views(&game, &world, &[1], false).is_none(),
        "switched off"
    );
}
