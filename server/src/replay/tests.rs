//! Replays of every shipped game: recorded through the [`Recorder`] as the driver would drive a
//! match, encoded and decoded, re-simulated to the same hashes; and tampered replays refused
//! with the reason.

use std::path::Path;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shared::games::arena::ArenaInput;
use shared::games::cycles::{CyclesInput, Turn};
use shared::replica::Replica;
use shared::schema::InputValues;
use shared::{ServerMessage, Tick};

use super::record::{Recorder, Recording, ReplayHeader};
use super::*;
use crate::game::{AnyGame, GameSet, Games, JoinInfo};

const GAMES: [&str; 2] = ["arena", "cycles"];

fn games() -> Games {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
    GameSet::shipped().load(&assets).expect("shipped assets")
}

/// A recorder over a new match of `game` on its default map.
fn start(games: &Games, game: &str, seed: u64) -> (Recorder, Recording) {
    let info = games.get(game).expect("a shipped game");
    let inner = games
        .start(game, &info.default_map, seed)
        .expect("the default map");
    Recorder::new(
        inner,
        ReplayHeader {
            match_id: format!("m_{game}_{seed}"),
            map: info.default_map.clone(),
            assets_hash: assets_hash(info, &info.default_map).expect("its map"),
            seed,
            tick_rate: info.tick_rate,
            hash_interval: DEFAULT_HASH_INTERVAL,
        },
    )
}

fn join(game: &mut dyn AnyGame, player: u32, account_id: i64) -> bool {
    let name = format!("p{account_id}");
    let who = JoinInfo {
        account_id,
        username: &name,
    };
    game.join(player, &who).is_ok()
}

/// Values the game's input declaration admits, drawn field by field from its ranges.
fn random_input(game: &dyn AnyGame, rng: &mut ChaCha8Rng) -> InputValues {
    let values: Vec<i32> = game
        .protocol()
        .input
        .fields
        .iter()
        .map(|f| {
            let (min, max) = (
                f.min.max(i64::from(i32::MIN)),
                f.max.min(i64::from(i32::MAX)),
            );
            rng.random_range(min..=max) as i32
        })
        .collect();
    InputValues::new(&values).expect("a declaration has few fields")
}

/// Plays `ticks` ticks as the driver would: players join (ids never reused), leave and come
/// back under a new id, and send random inputs on random ticks; joins and leaves come between
/// steps, inputs just before one. Answers the replay and the live state hash after every tick.
fn play(games: &Games, game: &str, seed: u64, script: u64, ticks: u32) -> (Replay, Vec<u64>) {
    let (mut recorder, recording) = start(games, game, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(script);
    // (player id, account id) of the seated players.
    let mut seated: Vec<(u32, i64)> = Vec::new();
    let mut next_player = 1;
    let mut live = Vec::new();
    for tick in 0..ticks {
        let arrivals: &[i64] = match tick {
            0 => &[101, 102, 103, 104],
            37 => &[105],
            90 => &[106],
            // The account that left at 60 comes back, as a new player.
            140 => &[102],
            _ => &[],
        };
        for &account in arrivals {
            if join(&mut recorder, next_player, account) {
                seated.push((next_player, account));
            }
            next_player += 1;
        }
        let leaving = match tick {
            60 => seated.iter().position(|(_, account)| *account == 102),
            120 => (!seated.is_empty()).then_some(0),
            _ => None,
        };
        if let Some(at) = leaving {
            let (player, _) = seated.remove(at);
            recorder.leave(player);
        }
        for &(player, _) in &seated {
            if rng.random_ratio(2, 3) {
                let values = random_input(&recorder, &mut rng);
                assert!(recorder.input(player, &values), "a declared input is taken");
            }
        }
        if recorder.is_over() {
            break;
        }
        recorder.step(&mut Vec::new());
        live.push(recorder.state_hash());
    }
    let replay = recording.finish(&recorder);
    (replay, live)
}

#[test]
fn every_shipped_game_replays_to_the_same_hash_on_every_recorded_tick() {
    let games = games();
    for game in GAMES {
        let (replay, live) = play(&games, game, 42, 7, 300);
        assert_eq!(replay.final_tick, Tick(300), "{game}: every tick recorded");
        assert_eq!(replay.hashes.len(), 30, "{game}: a hash every 10 ticks");
        for c in &replay.hashes {
            assert_eq!(
                c.hash,
                live[c.tick.0 as usize - 1],
                "{game}: the recorded hash of tick {} is the live one",
                c.tick
            );
        }
        assert!(
            replay.ops.iter().any(|op| matches!(op, Op::Leave { .. })),
            "{game}: the script has leaves"
        );
        assert_eq!(
            replay
                .players()
                .filter(|(_, account, _)| *account == 102)
                .count(),
            2,
            "{game}: account 102 joined twice"
        );

        let bytes = replay.encode();
        let decoded = Replay::decode(&bytes).expect("decodes");
        assert_eq!(
            decoded, replay,
            "{game}: encode then decode is the identity"
        );
        let verified = verify(&decoded, &games).expect("verifies");
        assert_eq!(verified.ticks, Tick(300), "{game}: ticks");
        assert_eq!(
            verified.hashes_checked, 31,
            "{game}: 30 recorded and the final"
        );
        assert_eq!(verified.final_hash, live[299], "{game}: final hash");
        assert!(
            verified.inputs > 500,
            "{game}: inputs re-applied: {verified:?}"
        );
    }
}

#[test]
fn steps_without_anything_between_them_are_one_run() {
    let games = games();
    let (mut recorder, recording) = start(&games, "arena", 1);
    assert!(join(&mut recorder, 1, 1), "seated");
    for _ in 0..25 {
        recorder.step(&mut Vec::new());
    }
    recorder.leave(1);
    recorder.step(&mut Vec::new());
    let replay = recording.finish(&recorder);
    assert_eq!(
        replay.ops,
        vec![
            Op::Join {
                player: 1,
                account_id: 1,
                username: "p1".into()
            },
            Op::Steps(25),
            Op::Leave { player: 1 },
            Op::Steps(1),
        ],
        "run-length encoded steps"
    );
    assert_eq!(
        replay.hashes.iter().map(|c| c.tick.0).collect::<Vec<_>>(),
        vec![10, 20],
        "hashes every 10 ticks"
    );
    assert_eq!(replay.final_tick, Tick(26), "final tick");
}

#[test]
fn refused_joins_and_refused_inputs_are_not_recorded() {
    let games = games();
    // Cycles refuses a player when no spawn is free.
    let (mut recorder, recording) = start(&games, "cycles", 1);
    let seated = (1..=200)
        .take_while(|&player| join(&mut recorder, player, i64::from(player)))
        .count();
    assert!(seated < 200, "the game refused a player once full");
    let bad = InputValues::new(&[3]).expect("one value");
    assert!(!recorder.input(1, &bad), "turn 3 is no turn");
    let replay = recording.finish(&recorder);
    assert_eq!(
        replay.ops.len(),
        seated,
        "only the seated joins: {:?}",
        replay.ops.last()
    );
}

/// Replaces the values of the first input of `player` in `replay`.
fn tamper_first_input(replay: &mut Replay, player: u32, values: InputValues) {
    let input = replay
        .ops
        .iter_mut()
        .find_map(|op| match op {
            Op::Input { player: p, values } if *p == player => Some(values),
            _ => None,
        })
        .expect("the player sent an input");
    *input = values;
}

#[test]
fn a_changed_movement_of_a_live_player_is_caught_at_the_next_recorded_tick() {
    let games = games();
    for game in GAMES {
        let (mut recorder, recording) = start(&games, game, 9);
        assert!(join(&mut recorder, 1, 1), "{game}: seated");
        assert!(join(&mut recorder, 2, 2), "{game}: seated");
        // Player 1 turns (cycles) or walks east (arena) on the first tick, then goes on
        // straight; a tampered replay makes it turn the other way (walk west) instead.
        let (first, then, tampered) = match game {
            "arena" => {
                let east = ArenaInput {
                    move_dir: 1,
                    ..ArenaInput::IDLE
                };
                let west = ArenaInput {
                    move_dir: 5,
                    ..ArenaInput::IDLE
                };
                (
                    InputValues::of(&east),
                    InputValues::of(&east),
                    InputValues::of(&west),
                )
            }
            _ => (
                InputValues::of(&CyclesInput { turn: Turn::Left }),
                InputValues::of(&CyclesInput {
                    turn: Turn::Straight,
                }),
                InputValues::of(&CyclesInput { turn: Turn::Right }),
            ),
        };
        for tick in 0..40 {
            let values = if tick == 0 { first } else { then };
            assert!(recorder.input(1, &values), "{game}: input taken");
            recorder.step(&mut Vec::new());
        }
        let mut replay = recording.finish(&recorder);
        verify(&replay, &games).expect("the untouched replay verifies");

        tamper_first_input(&mut replay, 1, tampered);
        match verify(&replay, &games) {
            Err(ReplayError::Mismatch { tick, .. }) => assert_eq!(
                tick,
                Tick(10),
                "{game}: caught at the first recorded hash after the change"
            ),
            other => panic!("{game}: a tampered input must be caught, got {other:?}"),
        }
    }
}

#[test]
fn a_changed_hash_is_named_by_its_tick() {
    let games = games();
    for game in GAMES {
        let (mut replay, _) = play(&games, game, 3, 4, 120);
        replay.hashes[4].hash ^= 1;
        let expected = ReplayError::Mismatch {
            tick: Tick(50),
            recorded: replay.hashes[4].hash,
            replayed: replay.hashes[4].hash ^ 1,
        };
        assert_eq!(verify(&replay, &games), Err(expected), "{game}");

        let (mut replay, _) = play(&games, game, 3, 4, 120);
        replay.final_hash ^= 1;
        assert!(
            matches!(verify(&replay, &games), Err(ReplayError::Mismatch { tick, .. }) if tick == Tick(120)),
            "{game}: a changed final hash is caught at the final tick"
        );
    }
}

#[test]
fn truncated_or_foreign_bytes_are_a_decode_error() {
    let games = games();
    let (replay, _) = play(&games, "arena", 5, 6, 60);
    let bytes = replay.encode();
    for cut in [0, 1, 2, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            matches!(
                Replay::decode(&bytes[..cut]),
                Err(DecodeError::Malformed(_))
            ),
            "cut to {cut} of {} bytes",
            bytes.len()
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        Replay::decode(&longer),
        Err(DecodeError::TrailingBytes(1)),
        "a byte too many"
    );
    let mut future = bytes.clone();
    future[0] = 2;
    assert_eq!(
        Replay::decode(&future),
        Err(DecodeError::Version { found: 2 }),
        "another format version is refused by name"
    );
    assert!(
        Replay::decode(b"{\"error\": \"not a replay\"}").is_err(),
        "JSON is not a replay"
    );
}

#[test]
fn another_games_declarations_unknown_games_and_maps_are_refused() {
    let games = games();
    let (replay, _) = play(&games, "cycles", 5, 6, 30);
    let arena_hash = games.get("arena").expect("arena").hash;

    let mut wrong = replay.clone();
    wrong.game_hash = arena_hash;
    assert!(
        matches!(
            verify(&wrong, &games),
            Err(ReplayError::ProtocolMismatch { recorded, .. }) if recorded == arena_hash
        ),
        "a replay recorded with other declarations is refused"
    );
    let mut unknown = replay.clone();
    unknown.game = "tetris".into();
    assert_eq!(
        verify(&unknown, &games),
        Err(ReplayError::UnknownGame("tetris".into())),
        "unknown game"
    );
    let mut nowhere = replay.clone();
    nowhere.map = "atlantis".into();
    assert!(
        matches!(
            verify(&nowhere, &games),
            Err(ReplayError::UnknownMap { .. })
        ),
        "unknown map"
    );
    let mut bad = replay.clone();
    let input = bad
        .ops
        .iter_mut()
        .find_map(|op| match op {
            Op::Input { values, .. } => Some(values),
            _ => None,
        })
        .expect("an input");
    *input = InputValues::new(&[7]).expect("one value");
    assert!(
        matches!(verify(&bad, &games), Err(ReplayError::BadInput { .. })),
        "an input out of the declared range is refused"
    );
    let mut longer = replay.clone();
    longer.ops.push(Op::Steps(5));
    assert!(
        matches!(verify(&longer, &games), Err(ReplayError::Inconsistent(_))),
        "steps past the final tick"
    );
}

/// The shipped games loaded from a copy of the assets whose `arena/game.toml` has `line`
/// instead of the one starting with `key`.
fn games_with_arena_tuning(dir: &Path, key: &str, line: &str) -> Games {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
    for game in GAMES {
        std::fs::create_dir_all(dir.join(game).join("maps")).expect("a folder");
        let toml = std::fs::read_to_string(shipped.join(game).join("game.toml")).expect("toml");
        let toml: Vec<String> = toml
            .lines()
            .map(|l| {
                if game == "arena" && l.starts_with(key) {
                    line.to_string()
                } else {
                    l.to_string()
                }
            })
            .collect();
        std::fs::write(dir.join(game).join("game.toml"), toml.join("\n")).expect("written");
        for map in std::fs::read_dir(shipped.join(game).join("maps")).expect("maps") {
            let map = map.expect("a map").path();
            let name = map.file_name().expect("a file name");
            std::fs::copy(&map, dir.join(game).join("maps").join(name)).expect("copied");
        }
    }
    GameSet::shipped().load(dir).expect("edited assets")
}

#[test]
fn a_replay_recorded_with_other_tuning_is_refused_by_name() {
    let games = games();
    let (replay, _) = play(&games, "arena", 5, 6, 30);
    let dir = tempfile::tempdir().expect("a temp dir");
    let same = games_with_arena_tuning(dir.path(), "tick_rate", "tick_rate = 30");
    assert!(verify(&replay, &same).is_ok(), "the same numbers verify");
    let dir = tempfile::tempdir().expect("a temp dir");
    let longer = games_with_arena_tuning(dir.path(), "match_length_s", "match_length_s = 60.0");
    assert_eq!(
        verify(&replay, &longer),
        Err(ReplayError::AssetsMismatch {
            game: "arena".into(),
            map: replay.map.clone()
        }),
        "another match length"
    );
}

#[test]
fn the_playback_stream_rebuilds_every_tick_with_matching_checksums() {
    let games = games();
    for game in GAMES {
        let (replay, _) = play(&games, game, 11, 12, 150);
        let stream = playback(&replay, &games).expect("plays back");
        let messages = read_playback(&stream).expect("records of server messages");
        let Some(ServerMessage::Welcome(welcome)) = messages.first() else {
            panic!("{game}: a Welcome first, got {:?}", messages.first());
        };
        assert_eq!(
            (welcome.player_id, welcome.game.as_str(), welcome.game_hash),
            (0, game, replay.game_hash),
            "{game}: welcome"
        );
        let protocol = games.get(game).expect("served").protocol;
        let mut replica = Replica::new(protocol);
        let mut snapshots = 0;
        let mut joined = 0;
        for message in &messages[1..messages.len() - 1] {
            let ServerMessage::Snapshot(snapshot) = message else {
                panic!("{game}: snapshots between Welcome and MatchEnd, got {message:?}");
            };
            snapshots += 1;
            assert_eq!(
                snapshot.header.baseline_tick,
                Tick(snapshot.header.tick.0 - 1),
                "{game}: each a delta against the tick before (the first a keyframe)"
            );
            let applied = replica.apply(snapshot).expect("applies");
            assert_eq!(
                applied.checksum,
                Some(true),
                "{game}: tick {}",
                applied.tick
            );
            joined += snapshot
                .body
                .events
                .iter()
                .filter(|e| matches!(e.event, shared::Event::PlayerJoined { .. }))
                .count();
        }
        assert_eq!(snapshots, 150, "{game}: one snapshot per tick");
        assert_eq!(
            joined,
            replay.players().count(),
            "{game}: every join announced"
        );
        let Some(ServerMessage::MatchEnd(end)) = messages.last() else {
            panic!("{game}: MatchEnd last");
        };
        assert_eq!(
            end.results.len(),
            replay.players().count(),
            "{game}: a result for every player who joined"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn any_recorded_match_verifies(
        game in 0..GAMES.len(),
        seed in any::<u64>(),
        script in any::<u64>(),
        ticks in 1u32..160,
    ) {
        let games = games();
        let (replay, _) = play(&games, GAMES[game], seed, script, ticks);
        let decoded = Replay::decode(&replay.encode()).expect("decodes");
        let verified = verify(&decoded, &games);
        prop_assert!(verified.is_ok(), "{}: {verified:?}", GAMES[game]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn damaged_or_cut_bytes_are_an_error_never_a_panic(
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..), 1..4),
    ) {
        let games = games();
        let (replay, _) = play(&games, "cycles", 1, 2, 40);
        let bytes = replay.encode();
        let cut = cut.index(bytes.len());
        prop_assert!(Replay::decode(&bytes[..cut]).is_err(), "a cut replay is incomplete");
        let mut damaged = bytes;
        for (at, xor) in flips {
            let i = at.index(damaged.len());
            damaged[i] ^= xor;
        }
        // Decoded or not, verified or not: an answer, never a panic. (A damaged final tick far
        // beyond the match would only make the run long.)
        if let Ok(damaged) = Replay::decode(&damaged)
            && damaged.final_tick.0 <= 1_000
        {
            let _ = verify(&damaged, &games);
        }
    }
}

#[test]
fn a_recorded_game_keeps_its_view_rules() {
    let games = games();
    let info = games.get("arena").expect("arena");
    let inner = games.start("arena", "expanse", 5).expect("the expanse map");
    let want = inner.interest();
    let (mut recorder, _) = Recorder::new(
        inner,
        ReplayHeader {
            match_id: "m_views".into(),
            map: "expanse".into(),
            assets_hash: assets_hash(info, "expanse").expect("its map"),
            seed: 5,
            tick_rate: info.tick_rate,
            hash_interval: DEFAULT_HASH_INTERVAL,
        },
    );
    assert!(
        matches!(want, crate::game::Interest::Radius(_)),
        "expanse limits views"
    );
    assert_eq!(recorder.interest(), want, "the recorder passes the rule on");
    assert!(join(&mut recorder, 1, 1));
    assert!(
        recorder.viewpoint(1).is_some(),
        "and the players' viewpoints"
    );
}
