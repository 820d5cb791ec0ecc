//! The golden frames: a recorded stream of server frames per shipped game, with what a client
//! must see after each, checked in under `assets/web/golden/` so the JavaScript SDK's tests
//! decode the very bytes the server's encoder writes. The Rust test below regenerates the
//! stream and fails when it differs from the checked-in one (the protocol changed: rerun with
//! `TICKWIRE_UPDATE_GOLDEN=1` and commit), and plays it through [`crate::Client`]; the SDK's
//! `node --test` plays the same files through the wasm build.
//!
//! File format: `<game>.frames` is frames back to back, each a little-endian `u32` length then
//! the bytes; `<game>.json` lists per frame what the client sees after it, then the `Ack` it
//! encodes and the results it holds at the end. `arena-replay.frames` is a match as the server's
//! replay playback writes it (`GET /v1/matches/{id}/replay?format=snapshots`, the same format):
//! what the SDK's `ReplayPlayer` is tested with.

use shared::games::arena::{ArenaEntity, ArenaEvent, ArenaKind};
use shared::games::cycles::{CyclesEntity, CyclesEvent, CyclesKind, Heading};
use shared::protocol::{
    Event, MatchEnd, PlayerResult, ServerMessage, SnapshotBody, SnapshotHeader, TimedEvent, Welcome,
};
use shared::schema::NetEvent;
use shared::{GameProtocol, NetId, Prediction, Tick, World, codec, diff, diff_predicted, keyframe};

/// One recorded frame: its bytes and the tick it carries (0 for a Welcome).
pub(crate) struct Recorded {
    pub(crate) bytes: Vec<u8>,
}

fn welcome(game: &GameProtocol) -> Recorded {
    let msg = ServerMessage::Welcome(Welcome {
        player_id: 1,
        match_id: "m_golden".into(),
        game: game.name.into(),
        game_hash: game.hash(),
        tick_rate: 30,
        map: "golden".into(),
        reconnect_token: "m_golden.token".into(),
        reconnect_grace_s: 10,
        tick: Tick::ZERO,
        ticks_remaining: 100,
        players: vec![(2, "rival".into())],
    });
    Recorded {
        bytes: codec::encode_server(&msg),
    }
}

/// A snapshot at `tick` against `baseline` (keyframe if `None`), predicting from `older`.
fn snapshot(
    tick: u32,
    current: &World,
    baseline: Option<(u32, &World)>,
    older: Option<(u32, &World)>,
    events: Vec<TimedEvent>,
) -> Recorded {
    let delta = match (baseline, older) {
        (None, _) => keyframe(current),
        (Some((b, base)), Some((o, old))) => {
            let p = Prediction::between(Tick(o), Tick(b), Tick(tick)).expect("ticks in order");
            diff_predicted(old, base, current, p)
        }
        (Some((_, base)), None) => diff(base, current),
    };
    let header = SnapshotHeader {
        tick: Tick(tick),
        baseline_tick: Tick(baseline.map_or(0, |(b, _)| b)),
        last_input_seq: tick,
    };
    let body = codec::encode_snapshot_body(&SnapshotBody {
        delta,
        events,
        checksum: Some(shared::checksum(current)),
    });
    let mut bytes = Vec::new();
    codec::snapshot_frame(&header, &body, &mut bytes);
    Recorded { bytes }
}

fn game_event<E: NetEvent>(ago: u16, e: E) -> TimedEvent {
    TimedEvent {
        ago,
        event: Event::Game {
            kind: e.kind(),
            values: e.values(),
        },
    }
}

/// The arena's world at `tick`: four players running straight (predicted), an orb until tick 3,
/// a projectile from tick 4.
fn arena_world(tick: i32) -> World {
    let mut e = Vec::new();
    for p in 0..4u32 {
        let mut s = ArenaEntity::new(
            ArenaKind::Player,
            1000 + 37 * tick * p as i32,
            2000 - 11 * tick,
        );
        s.owner = p + 1;
        s.health = 100;
        s.aim = (tick as u16).wrapping_mul(900);
        e.push((NetId::new(p, 1), s));
    }
    if tick < 3 {
        e.push((NetId::new(4, 1), ArenaEntity::new(ArenaKind::Orb, 500, 500)));
    }
    if tick >= 4 {
        let mut s = ArenaEntity::new(ArenaKind::Projectile, 1200 + 90 * tick, 2100);
        s.owner = 2;
        e.push((NetId::new(5, 3), s));
    }
    World::from_entities(e)
}

/// The arena: players running straight (predicted), an orb taken, a projectile fired.
pub(crate) fn arena() -> Vec<Recorded> {
    let w: Vec<World> = (0..=6).map(arena_world).collect();
    vec![
        welcome(&shared::games::arena::PROTOCOL),
        snapshot(1, &w[1], None, None, vec![]),
        snapshot(2, &w[2], Some((1, &w[1])), None, vec![]),
        snapshot(
            3,
            &w[3],
            Some((2, &w[2])),
            Some((1, &w[1])),
            vec![game_event(
                0,
                ArenaEvent::Pickup {
                    player: 1,
                    points: 5,
                },
            )],
        ),
        // The client acks 3 but this frame is against 2 again: the pickup repeats, and must
        // be delivered once.
        snapshot(
            4,
            &w[4],
            Some((2, &w[2])),
            Some((1, &w[1])),
            vec![game_event(
                1,
                ArenaEvent::Pickup {
                    player: 1,
                    points: 5,
                },
            )],
        ),
        snapshot(
            6,
            &w[6],
            Some((4, &w[4])),
            Some((3, &w[3])),
            vec![game_event(
                1,
                ArenaEvent::Kill {
                    killer: 2,
                    victim: 3,
                },
            )],
        ),
    ]
}

/// Cycles: two cycles moving a cell a tick and leaving trail cells.
pub(crate) fn cycles() -> Vec<Recorded> {
    let world = |tick: i16| {
        let mut e = Vec::new();
        for (i, (x, y, h)) in [(2i16, 2i16, Heading::East), (20, 10, Heading::North)]
            .into_iter()
            .enumerate()
        {
            let (dx, dy) = match h {
                Heading::East => (1, 0),
                _ => (0, -1),
            };
            let owner = i as u32 + 1;
            e.push((
                NetId::new(i as u32, 1),
                CyclesEntity {
                    kind: CyclesKind::Cycle,
                    owner,
                    x: x + dx * tick,
                    y: y + dy * tick,
                    heading: h,
                    alive: true,
                },
            ));
            for t in 0..tick {
                e.push((
                    NetId::new(10 + 100 * i as u32 + t as u32, 1),
                    CyclesEntity {
                        kind: CyclesKind::Trail,
                        owner,
                        x: x + dx * t,
                        y: y + dy * t,
                        heading: h,
                        alive: true,
                    },
                ));
            }
        }
        World::from_entities(e)
    };
    let w: Vec<World> = (0..=5).map(world).collect();
    vec![
        welcome(&shared::games::cycles::PROTOCOL),
        snapshot(1, &w[1], None, None, vec![]),
        snapshot(2, &w[2], Some((1, &w[1])), None, vec![]),
        snapshot(
            3,
            &w[3],
            Some((2, &w[2])),
            Some((1, &w[1])),
            vec![game_event(0, CyclesEvent::Respawn { player: 2 })],
        ),
        snapshot(5, &w[5], Some((3, &w[3])), Some((2, &w[2])), vec![]),
    ]
}

/// The arena world of [`arena`] as the server's replay playback writes a match: a `Welcome` to
/// player 0 (no reconnect token, no roster: the players join as events), one snapshot per tick
/// from 1 to 6, each a delta against the tick before (the first a keyframe) with that tick's
/// events and a checksum, then `MatchEnd`.
pub(crate) fn arena_replay() -> Vec<Recorded> {
    let game = &shared::games::arena::PROTOCOL;
    let names = ["ada", "rival", "cyd", "dot"];
    let mut frames = vec![Recorded {
        bytes: codec::encode_server(&ServerMessage::Welcome(Welcome {
            player_id: 0,
            match_id: "m_replay".into(),
            game: game.name.into(),
            game_hash: game.hash(),
            tick_rate: 30,
            map: "golden".into(),
            reconnect_token: String::new(),
            reconnect_grace_s: 0,
            tick: Tick::ZERO,
            ticks_remaining: 6,
            players: Vec::new(),
        })),
    }];
    let now = |event: Event| TimedEvent { ago: 0, event };
    let mut previous: Option<World> = None;
    for tick in 1..=6u32 {
        let world = arena_world(tick as i32);
        let mut events = Vec::new();
        if tick == 1 {
            events.extend(names.iter().zip(1u32..).map(|(name, player)| {
                now(Event::PlayerJoined {
                    player,
                    name: (*name).into(),
                })
            }));
        }
        if tick == 3 {
            events.push(game_event(
                0,
                ArenaEvent::Pickup {
                    player: 1,
                    points: 5,
                },
            ));
        }
        if tick == 5 {
            events.push(game_event(
                0,
                ArenaEvent::Kill {
                    killer: 2,
                    victim: 3,
                },
            ));
        }
        let (baseline_tick, delta) = match &previous {
            Some(before) => (Tick(tick - 1), diff(before, &world)),
            None => (Tick::ZERO, keyframe(&world)),
        };
        let header = SnapshotHeader {
            tick: Tick(tick),
            baseline_tick,
            last_input_seq: 0,
        };
        let body = codec::encode_snapshot_body(&SnapshotBody {
            delta,
            events,
            checksum: Some(shared::checksum(&world)),
        });
        let mut bytes = Vec::new();
        codec::snapshot_frame(&header, &body, &mut bytes);
        frames.push(Recorded { bytes });
        previous = Some(world);
    }
    let results = names
        .iter()
        .zip(1u32..)
        .map(|(name, player)| PlayerResult {
            player_id: player,
            account_id: i64::from(player) + 100,
            username: (*name).into(),
            score: i64::from(10 * (5 - player)),
            stats: game
                .stats
                .iter()
                .zip(0..)
                .map(|(stat, i)| ((*stat).into(), i64::from(player) + i))
                .collect(),
        })
        .collect();
    frames.push(Recorded {
        bytes: codec::encode_server(&ServerMessage::MatchEnd(MatchEnd { results })),
    });
    frames
}

/// The frames as the `.frames` file holds them.
pub(crate) fn to_file(frames: &[Recorded]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        out.extend_from_slice(&(f.bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&f.bytes);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use shared::protocol::ClientMessage;

    use super::*;
    use crate::Client;

    fn dir() -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/web/golden"
        ))
    }

    /// What a client sees after each frame, as the JSON the SDK's tests read.
    fn expectations(game: &'static GameProtocol, frames: &[Recorded]) -> String {
        let mut client = Client::new(game);
        let mut lines = Vec::new();
        for f in frames {
            let code = client
                .receive(&f.bytes)
                .map_or_else(|e| e.code(), |f| f.code());
            let world = client.world();
            let sum = world.values().iter().fold(0i32, |s, v| s.wrapping_add(*v));
            lines.push(format!(
                "    {{\"code\": {code}, \"tick\": {}, \"checksum\": {}, \"entities\": {}, \"sum\": {sum}, \"events\": {:?}}}",
                client.tick().0,
                client.last_checksum(),
                world.len(),
                client.events(),
            ));
        }
        // What a spectator answers the last frame with.
        let ack = client.ack().to_vec();
        format!(
            "{{\n  \"game\": \"{}\",\n  \"hash\": \"{:016x}\",\n  \"fields\": {},\n  \"player_2\": \"{}\",\n  \"frames\": [\n{}\n  ],\n  \"ack\": {:?},\n  \"results\": {}\n}}\n",
            game.name,
            game.hash(),
            game.entity.len(),
            // The Welcome's roster names players this client never saw join.
            client.player_name(2).unwrap_or_default(),
            lines.join(",\n"),
            ack,
            crate::json::results(client.results()),
        )
    }

    /// Compares `frames` and what a client sees after them with `<name>.frames` and
    /// `<name>.json`.
    fn check(name: &str, game: &'static GameProtocol, frames: Vec<Recorded>) {
        let bytes = to_file(&frames);
        let json = expectations(game, &frames);
        let (frames_path, json_path) = (
            dir().join(format!("{name}.frames")),
            dir().join(format!("{name}.json")),
        );
        if std::env::var_os("TICKWIRE_UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(dir()).expect("golden dir");
            std::fs::write(&frames_path, &bytes).expect("write frames");
            std::fs::write(&json_path, &json).expect("write expectations");
        }
        let stored = std::fs::read(&frames_path).expect("golden frames checked in");
        assert!(
            stored == bytes,
            "{name}: the encoder's frames differ from the checked-in golden set; if the protocol \
             changed on purpose, rerun with TICKWIRE_UPDATE_GOLDEN=1 and commit"
        );
        let stored = std::fs::read_to_string(&json_path).expect("golden expectations");
        assert_eq!(stored, json, "{name}: what a client sees changed");
    }

    #[test]
    fn the_arena_golden_frames_match_the_encoder_and_replicate_without_desync() {
        let frames = arena();
        let mut client = Client::new(&shared::games::arena::PROTOCOL);
        let mut pickups = 0;
        for f in &frames {
            client
                .receive(&f.bytes)
                .expect("every golden frame applies");
            pickups += client
                .events()
                .chunks(5)
                .filter(|e| e.get(1) == Some(&1))
                .count();
        }
        assert_eq!(client.desyncs(), 0, "no desync");
        assert_eq!(client.checksums_verified(), 5, "every snapshot verified");
        assert_eq!(pickups, 1, "the repeated pickup is delivered once");
        check("arena", &shared::games::arena::PROTOCOL, frames);
    }

    #[test]
    fn the_cycles_golden_frames_match_the_encoder_and_replicate_without_desync() {
        let frames = cycles();
        let mut client = Client::new(&shared::games::cycles::PROTOCOL);
        for f in &frames {
            client
                .receive(&f.bytes)
                .expect("every golden frame applies");
        }
        assert_eq!(client.desyncs(), 0, "no desync");
        assert_eq!(client.world().len(), 12, "two cycles and ten trail cells");
        check("cycles", &shared::games::cycles::PROTOCOL, frames);
    }

    #[test]
    fn the_replay_playback_stream_replicates_to_the_results_without_desync() {
        let frames = arena_replay();
        let mut client = Client::new(&shared::games::arena::PROTOCOL);
        let codes: Vec<i32> = frames
            .iter()
            .map(|f| {
                client
                    .receive(&f.bytes)
                    .map_or_else(|e| e.code(), |f| f.code())
            })
            .collect();
        assert_eq!(
            codes,
            [1, 2, 2, 2, 2, 2, 2, 5],
            "a Welcome, six snapshots, the end"
        );
        assert_eq!(client.player_id(), 0, "a replay is watched, not played");
        assert_eq!(client.desyncs(), 0, "no desync");
        assert_eq!(client.checksums_verified(), 6, "every snapshot verified");
        assert_eq!(client.player_name(2), Some("rival"), "names from the joins");
        assert_eq!(client.results().len(), 4, "every player's result");
        check("arena-replay", &shared::games::arena::PROTOCOL, frames);
    }

    #[test]
    fn a_spectator_acknowledges_the_newest_applied_snapshot() {
        let mut client = Client::new(&shared::games::arena::PROTOCOL);
        let before = codec::decode_client(client.ack()).expect("an ack decodes");
        assert_eq!(
            before,
            ClientMessage::Ack(Tick::ZERO),
            "nothing applied yet"
        );
        for f in arena() {
            client
                .receive(&f.bytes)
                .expect("every golden frame applies");
        }
        let after = codec::decode_client(client.ack()).expect("an ack decodes");
        assert_eq!(
            after,
            ClientMessage::Ack(Tick(6)),
            "the newest snapshot's tick"
        );
        assert_eq!(
            client.next_seq(),
            1,
            "an ack is no input: no sequence number taken"
        );
    }

    #[test]
    fn a_client_of_one_game_refuses_the_welcome_of_another() {
        let mut client = Client::new(&shared::games::cycles::PROTOCOL);
        let welcome = &arena()[0];
        assert_eq!(
            client.receive(&welcome.bytes).map_err(|e| e.code()),
            Err(-3),
            "wrong game"
        );
    }

    #[test]
    fn inputs_outside_the_declaration_are_not_encoded() {
        let mut client = Client::new(&shared::games::arena::PROTOCOL);
        assert!(client.input(&[1, 3, 100]).is_ok(), "a valid arena input");
        assert!(client.input(&[9, 3, 100]).is_err(), "buttons out of range");
        assert!(client.input(&[1, 3]).is_err(), "a field missing");
    }
}
