//! Spectators against a real server: a read-only seat from `POST /v1/matches/{id}/spectate`
//! that takes no seat, gets snapshots (deltas, once it acknowledges), is closed when it sends an
//! input, can follow one player's view, and with a delay sees each tick that much later.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bot_client::session::{Session, SessionEvent, SnapshotEvent};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::config::Limits;
use shared::games::arena::{self, ArenaInput};
use shared::{InputValues, Tick, close};
use tests::player::Client;
use tests::{Options, TestServer, assert_error};
use tokio::time::timeout;

/// Upper bound for anything a test waits for: generous for a busy 2-core machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// A map with one seat: a full match, to show a spectator needs none.
const SOLO_MAP: &str = r#"
width = 400.0
height = 400.0
max_players = 1
spawns = [{ x = 200.0, y = 200.0 }]
orb_spawners = [{ x = 210.0, y = 200.0 }]
"#;

async fn spectate(
    srv: &TestServer,
    token: &str,
    match_id: &str,
    body: Option<Value>,
) -> anyhow::Result<(StatusCode, Value)> {
    srv.rest()
        .call(
            Method::POST,
            &format!("/v1/matches/{match_id}/spectate"),
            Some(token),
            body,
        )
        .await
}

/// Takes a seat in `match_id` and connects.
async fn play(srv: &TestServer, token: &str, match_id: &str) -> (Session, shared::Welcome) {
    let (ticket, url) = srv.ticket(token, match_id).await.expect("ticket");
    Session::join(&url, &ticket, &arena::PROTOCOL, true)
        .await
        .expect("a player joins")
}

/// Connects with a spectator ticket.
async fn watch(srv: &TestServer, token: &str, match_id: &str, body: Option<Value>) -> Session {
    let (status, ticket) = spectate(srv, token, match_id, body)
        .await
        .expect("spectate call");
    assert_eq!(status, StatusCode::OK, "spectate: {ticket}");
    let (session, welcome) = Session::join(
        ticket["url"].as_str().expect("url"),
        ticket["ticket"].as_str().expect("ticket"),
        &arena::PROTOCOL,
        true,
    )
    .await
    .expect("a spectator is welcomed");
    assert_eq!(welcome.player_id, 0, "a spectator is no player");
    assert!(
        welcome.reconnect_token.is_empty(),
        "and holds no seat to resume"
    );
    session
}

/// The next snapshot, acknowledged the way a spectator does (no input).
async fn next_snapshot(session: &mut Session) -> SnapshotEvent {
    next_snapshot_answered(session, None).await
}

/// The next snapshot of a player, answered with an input that walks east.
async fn next_snapshot_playing(session: &mut Session) -> SnapshotEvent {
    let east = ArenaInput {
        move_dir: 1,
        ..ArenaInput::IDLE
    };
    next_snapshot_answered(session, Some(east)).await
}

/// The next snapshot, answered with `input`, or with an ack when there is none.
async fn next_snapshot_answered(session: &mut Session, input: Option<ArenaInput>) -> SnapshotEvent {
    loop {
        match timeout(PATIENCE, session.next_event())
            .await
            .expect("within the bound")
            .expect("the session goes on")
        {
            SessionEvent::Snapshot(s) => {
                match input {
                    Some(input) => session
                        .send_input(InputValues::of(&input))
                        .await
                        .map(|_| ()),
                    None => session.send_ack().await,
                }
                .expect("answered");
                return s;
            }
            SessionEvent::Closed { code, reason } => panic!("closed {code}: {reason}"),
            _ => {}
        }
    }
}

fn players_in(list: &Value, match_id: &str) -> i64 {
    list["matches"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["match_id"] == match_id))
        .and_then(|m| m["players"].as_i64())
        .unwrap_or(-1)
}

#[tokio::test]
async fn a_spectator_watches_a_full_match_without_a_seat_and_cannot_send_inputs() {
    let srv = TestServer::start_with(Options {
        extra_maps: vec![("solo.toml", SOLO_MAP.into())],
        ..Options::default()
    })
    .await
    .expect("server");
    let (_, alice) = srv.guest("alice-device").await.expect("alice");
    let (_, bob) = srv.guest("bob-device").await.expect("bob");
    let (_, carol) = srv.guest("carol-device").await.expect("carol");
    let match_id = srv.create_match(&alice, Some("solo")).await.expect("match");

    // Nobody plays yet: watching would show nothing, and never starts a match.
    let (status, ticket) = spectate(&srv, &bob, &match_id, None).await.expect("call");
    assert_eq!(status, StatusCode::OK, "{ticket}");
    let refused = Session::join(
        ticket["url"].as_str().expect("url"),
        ticket["ticket"].as_str().expect("ticket"),
        &arena::PROTOCOL,
        true,
    )
    .await;
    match refused {
        Err(bot_client::session::JoinError::Refused { code, .. }) => {
            assert_eq!(code, close::MATCH_UNAVAILABLE, "not running yet");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|(_, w)| w)),
    }

    let mut player = Client::join(&srv, &alice, &match_id)
        .await
        .expect("alice plays");
    let seen = player
        .snapshot_after(Tick::ZERO)
        .await
        .expect("alice's snapshot");
    assert_error(
        &srv.rest()
            .call(
                Method::POST,
                &format!("/v1/matches/{match_id}/join"),
                Some(&bob),
                None,
            )
            .await
            .expect("call"),
        StatusCode::CONFLICT,
        "match_full",
        "the one seat is taken",
    );
    assert_error(
        &spectate(&srv, &bob, "no-such-match", None)
            .await
            .expect("call"),
        StatusCode::NOT_FOUND,
        "match_not_found",
        "unknown match",
    );
    let anonymous = srv
        .rest()
        .call(
            Method::POST,
            &format!("/v1/matches/{match_id}/spectate"),
            None,
            None,
        )
        .await
        .expect("call");
    assert_eq!(anonymous.0, StatusCode::UNAUTHORIZED, "{}", anonymous.1);
    assert_error(
        &spectate(&srv, &bob, &match_id, Some(json!({"follow": "alice"})))
            .await
            .expect("call"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
        "follow is a player id",
    );

    // Two spectators on a one-seat match.
    let mut bob_watch = watch(&srv, &bob, &match_id, None).await;
    let mut carol_watch = watch(&srv, &carol, &match_id, Some(json!({}))).await;
    let first = next_snapshot(&mut bob_watch).await;
    assert!(first.applied.keyframe, "a spectator starts from a keyframe");
    let (mut deltas, mut verified) = (0, 0);
    for _ in 0..40 {
        let s = next_snapshot(&mut bob_watch).await;
        assert_ne!(s.applied.checksum, Some(false), "no desync");
        deltas += u32::from(!s.applied.keyframe);
        verified += u32::from(s.applied.checksum == Some(true));
        if deltas >= 5 && verified >= 1 {
            break;
        }
    }
    assert!(
        deltas >= 5,
        "acknowledged snapshots come as deltas ({deltas})"
    );
    assert!(verified >= 1, "checksums verified");
    let everything = bob_watch.replica().world().len();
    assert!(
        everything >= 1,
        "the whole world, alice in it ({everything})"
    );
    next_snapshot(&mut carol_watch).await;

    let (status, list) = srv
        .rest()
        .call(Method::GET, "/v1/matches", Some(&alice), None)
        .await
        .expect("list");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        players_in(&list, &match_id),
        1,
        "spectators take no seat: {list}"
    );

    // An input from a spectator closes it alone.
    bob_watch
        .send_input(InputValues::of(&ArenaInput::IDLE))
        .await
        .expect("sent");
    let code = loop {
        match timeout(PATIENCE, bob_watch.next_event())
            .await
            .expect("within the bound")
        {
            Ok(SessionEvent::Closed { code, reason }) => {
                assert!(reason.contains("spectator"), "{reason}");
                break code;
            }
            Ok(_) => {}
            Err(e) => panic!("session error before the close: {e}"),
        }
    };
    assert_eq!(code, close::READ_ONLY, "refused as read-only");
    let later = player.snapshot_after(seen).await.expect("alice plays on");
    assert!(later > seen);
    let s = next_snapshot(&mut carol_watch).await;
    assert_ne!(s.applied.checksum, Some(false), "carol watches on");
    srv.stop().await;
}

#[tokio::test]
async fn a_spectator_following_a_player_on_the_big_map_sees_exactly_that_players_view() {
    let srv = TestServer::start().await.expect("server");
    let (_, alice) = srv.guest("alice-device").await.expect("alice");
    let (_, bob) = srv.guest("bob-device").await.expect("bob");
    let (_, carol) = srv.guest("carol-device").await.expect("carol");
    let match_id = srv
        .create_match(&alice, Some("expanse"))
        .await
        .expect("match");
    let (mut alice_s, welcome) = play(&srv, &alice, &match_id).await;
    let (mut bob_s, _) = play(&srv, &bob, &match_id).await;
    let mut follower = watch(
        &srv,
        &carol,
        &match_id,
        Some(json!({"follow": welcome.player_id})),
    )
    .await;
    let mut whole = watch(&srv, &carol, &match_id, None).await;

    // Everyone's worlds by tick; the follower's must equal alice's on every tick both hold.
    let mut alice_worlds = BTreeMap::new();
    let mut follower_worlds = BTreeMap::new();
    let mut compared = 0;
    let mut smaller = false;
    for _ in 0..300 {
        tokio::select! {
            s = next_snapshot_playing(&mut alice_s) => {
                alice_worlds.insert(s.applied.tick, alice_s.replica().world().clone());
            }
            s = next_snapshot_playing(&mut bob_s) => { let _ = s; }
            s = next_snapshot(&mut follower) => {
                assert_ne!(s.applied.checksum, Some(false), "the follower never desyncs");
                follower_worlds.insert(s.applied.tick, follower.replica().world().clone());
            }
            s = next_snapshot(&mut whole) => {
                assert_ne!(s.applied.checksum, Some(false));
                let full = whole.replica().world().len();
                if let Some(w) = follower_worlds.get(&s.applied.tick) {
                    smaller |= w.len() < full;
                }
            }
        }
        for (tick, world) in &follower_worlds {
            if let Some(seen) = alice_worlds.get(tick) {
                assert_eq!(world, seen, "tick {tick:?}: the follower sees alice's view");
                compared += 1;
            }
        }
        follower_worlds.retain(|t, _| !alice_worlds.contains_key(t));
        if compared >= 20 && smaller {
            break;
        }
    }
    assert!(compared >= 20, "compared {compared} ticks");
    assert!(smaller, "a view is smaller than the whole 5000 x 5000 map");
    srv.stop().await;
}

#[tokio::test]
async fn a_delayed_spectator_sees_tick_t_no_earlier_than_the_delay_after_the_players() {
    let delay = Duration::from_secs(2);
    let srv = TestServer::start_with(Options {
        limits: Limits {
            spectator_delay_s: delay.as_secs_f32(),
            ..Limits::default()
        },
        ..Options::default()
    })
    .await
    .expect("server");
    let (_, alice) = srv.guest("alice-device").await.expect("alice");
    let (_, bob) = srv.guest("bob-device").await.expect("bob");
    let match_id = srv.create_match(&alice, None).await.expect("match");
    let (mut alice_s, _) = play(&srv, &alice, &match_id).await;
    next_snapshot_playing(&mut alice_s).await;
    let mut spectator = watch(&srv, &bob, &match_id, None).await;
    let watched_at = Instant::now();

    // When alice (live) and the spectator got each tick, as their readers saw the frames.
    let mut live: BTreeMap<Tick, Instant> = BTreeMap::new();
    let mut late: Vec<(Tick, Instant)> = Vec::new();
    while late.len() < 30 {
        tokio::select! {
            s = next_snapshot_playing(&mut alice_s) => {
                live.insert(s.applied.tick, s.received_at);
            }
            s = next_snapshot(&mut spectator) => {
                assert_ne!(s.applied.checksum, Some(false));
                late.push((s.applied.tick, s.received_at));
            }
        }
        assert!(
            watched_at.elapsed() < PATIENCE * 2,
            "spectator snapshots within the bound"
        );
    }
    let ticks: Vec<Tick> = late.iter().map(|(t, _)| *t).collect();
    assert!(ticks.windows(2).all(|w| w[0] < w[1]), "in order: {ticks:?}");
    let mut checked = 0;
    for (tick, at) in &late {
        let Some(live_at) = live.get(tick) else {
            continue;
        };
        // The server holds tick T until tick T + delay exists; half the delay absorbs a reader
        // that got the live frame late on a busy machine.
        let gap = at.saturating_duration_since(*live_at);
        assert!(
            gap >= delay / 2,
            "tick {tick:?} reached the spectator {gap:?} after alice"
        );
        checked += 1;
    }
    assert!(checked >= 20, "compared {checked} ticks");
    assert!(
        late[0].1.duration_since(watched_at) >= delay / 2,
        "nothing to see before the delay"
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_delayed_follower_joining_late_sees_its_player_and_is_told_when_it_leaves() {
    let srv = TestServer::start_with(Options {
        limits: Limits {
            spectator_delay_s: 1.0,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await
    .expect("server");
    let (_, alice) = srv.guest("alice-device").await.expect("alice");
    let (_, bob) = srv.guest("bob-device").await.expect("bob");
    let (_, carol) = srv.guest("carol-device").await.expect("carol");
    let match_id = srv
        .create_match(&alice, Some("expanse"))
        .await
        .expect("match");
    let (mut alice_s, welcome) = play(&srv, &alice, &match_id).await;
    next_snapshot_playing(&mut alice_s).await;
    // Bob watches first, so frames are already waiting out the delay when carol comes.
    let mut bob_watch = watch(&srv, &bob, &match_id, None).await;
    next_snapshot(&mut bob_watch).await;
    let mut carol_watch = watch(
        &srv,
        &carol,
        &match_id,
        Some(json!({"follow": welcome.player_id})),
    )
    .await;
    let mut seen = 0;
    while seen < 10 {
        tokio::select! {
            _ = next_snapshot_playing(&mut alice_s) => {}
            _ = next_snapshot(&mut bob_watch) => {}
            s = next_snapshot(&mut carol_watch) => {
                assert_ne!(s.applied.checksum, Some(false));
                let owners: Vec<u32> = carol_watch
                    .replica()
                    .world()
                    .entities::<shared::games::arena::ArenaEntity>()
                    .filter(|(_, e)| e.kind == shared::games::arena::ArenaKind::Player)
                    .map(|(_, e)| e.owner)
                    .collect();
                assert!(owners.contains(&welcome.player_id), "alice is in her own view");
                seen += 1;
            }
        }
    }
    alice_s.send_leave().await.expect("alice leaves");
    let (code, reason) = loop {
        tokio::select! {
            _ = next_snapshot(&mut bob_watch) => {}
            event = timeout(PATIENCE, carol_watch.next_event()) => {
                match event.expect("within the bound").expect("the session goes on") {
                    SessionEvent::Snapshot(_) => carol_watch.send_ack().await.expect("ack"),
                    SessionEvent::Closed { code, reason } => break (code, reason),
                    _ => {}
                }
            }
        }
    };
    assert_eq!(code, close::MATCH_UNAVAILABLE, "{reason}");
    assert!(reason.contains("left"), "told why: {reason}");
    let s = next_snapshot(&mut bob_watch).await;
    assert_ne!(s.applied.checksum, Some(false), "bob watches on");
    srv.stop().await;
}
