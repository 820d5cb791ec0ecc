//! Games as plug-ins, against a real server: the second shipped game replicated over wss with
//! its results on a stat board, a third game defined outside the server served and played by
//! bots, every event reaching a client that skipped snapshots, and the lobby and handshake
//! refusing what does not match.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Context;
use bot_client::behaviour::Behaviour;
use bot_client::conn::{Connection, Received};
use bot_client::session::{JoinError, Session, SessionEvent};
use bot_client::{Args, RunOptions};
use reqwest::{Method, StatusCode};
use serde_json::json;
use server::game::GameSet;
use shared::games::{arena, cycles};
use shared::protocol::{ClientMessage, Event, Hello, Input, ServerMessage};
use shared::{InputValues, PROTOCOL_VERSION, Tick, close};
use tests::{Options, TESTBOX_MAP, TestServer, assert_error, coins};
use tokio::time::timeout;

/// Upper bound for anything a test waits for: generous for a busy 2-core machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// The shipped cycles config with matches `seconds` long.
fn short_cycles(seconds: f32) -> (String, String) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/cycles/game.toml");
    let text = std::fs::read_to_string(path).expect("cycles/game.toml");
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("match_length_s") {
                format!("match_length_s = {seconds:.1}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    ("cycles/game.toml".into(), text)
}

#[tokio::test]
async fn cycles_replicates_a_whole_match_over_wss_and_its_results_reach_a_stat_board()
-> anyhow::Result<()> {
    let cells_board = serde_json::from_value(json!({
        "id": "cycles_cells", "game": "cycles", "metric": "cells", "operator": "sum"
    }))?;
    let srv = TestServer::start_with(Options {
        extra_assets: vec![short_cycles(6.0)],
        leaderboards: vec![cells_board],
        ..Options::default()
    })
    .await?;
    let (_, owner) = srv.guest("device-cycles-owner").await?;
    let (status, created) = srv
        .call(
            Method::POST,
            "/v1/matches",
            Some(&owner),
            Some(json!({ "game": "cycles" })),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "created: {created}");
    assert_eq!(created["game"], "cycles", "the match's game: {created}");
    assert_eq!(created["map"], "grid", "cycles' default map: {created}");
    let match_id = created["match_id"].as_str().expect("id").to_string();

    let mut tasks = Vec::new();
    for i in 0..3u32 {
        let (account_id, token) = srv.guest(&format!("device-cycle-{i:04}")).await?;
        let (ticket, url) = srv.ticket(&token, &match_id).await?;
        let (mut session, welcome) = Session::join(&url, &ticket, &cycles::PROTOCOL, true).await?;
        assert_eq!(welcome.game, "cycles", "Welcome names the game");
        assert_eq!(
            welcome.game_hash,
            cycles::PROTOCOL.hash(),
            "and its protocol hash"
        );
        tasks.push(tokio::spawn(async move {
            let mut bot = Behaviour::for_game(&cycles::PROTOCOL, 11, i);
            let mut first = None;
            let mut events = 0usize;
            let mut results = None;
            let code = loop {
                match timeout(PATIENCE, session.next_event()).await?? {
                    SessionEvent::Snapshot(s) => {
                        first.get_or_insert(s.applied.keyframe);
                        events += s.events.len();
                        let input = bot.decide(session.replica().world(), welcome.player_id);
                        // The match may end right after this tick; a send into the closing
                        // socket is not what this test checks.
                        let _ = session.send_input(input).await;
                    }
                    SessionEvent::MatchEnd(r) => results = Some(r),
                    SessionEvent::Closed { code, .. } => break code,
                    _ => {}
                }
            };
            anyhow::Ok((
                account_id,
                first,
                events,
                results,
                code,
                session.replica().counters(),
            ))
        }));
    }
    let mut stored_cells = Vec::new();
    for task in tasks {
        let (account_id, first, events, results, code, counters) = task.await??;
        assert_eq!(first, Some(true), "the first snapshot is a keyframe");
        assert_eq!(counters.desyncs, 0, "no desyncs: {counters:?}");
        assert!(
            counters.checksums_verified >= 10,
            "checksums verified all match long: {counters:?}"
        );
        assert!(events >= 3, "at least the three joins arrived as events");
        assert_eq!(code, close::MATCH_ENDED, "closed as the match ended");
        let results = results.expect("MatchEnd received");
        let mine = results
            .iter()
            .find(|r| r.account_id == account_id)
            .expect("own result line");
        let names: Vec<&str> = mine.stats.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, cycles::STATS, "cycles' own stats, in its order");
        stored_cells.push((account_id, mine.stats[2].1));
    }
    assert!(
        stored_cells.iter().any(|(_, cells)| *cells > 0),
        "cycles moved: {stored_cells:?}"
    );
    for (account_id, cells) in stored_cells {
        let (status, record) = srv
            .call(
                Method::GET,
                &format!("/v1/leaderboards/cycles_cells/accounts/{account_id}"),
                None,
                None,
            )
            .await?;
        assert_eq!(
            status,
            StatusCode::OK,
            "a record on the cells board: {record}"
        );
        assert_eq!(
            record["score"].as_i64(),
            Some(cells),
            "the board ranks by the cells stat"
        );
        let (status, arena_board) = srv
            .call(
                Method::GET,
                &format!("/v1/leaderboards/score/accounts/{account_id}"),
                None,
                None,
            )
            .await?;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "an arena board takes nothing from a cycles match: {arena_board}"
        );
    }
    srv.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_defined_outside_the_server_is_served_and_played_by_bots() -> anyhow::Result<()> {
    let srv = TestServer::start_with(Options {
        tls: false,
        games: Some(GameSet::shipped().with::<coins::Coins>()),
        extra_assets: coins::assets(100_000),
        ..Options::default()
    })
    .await?;
    let (status, games) = srv.call(Method::GET, "/v1/games", None, None).await?;
    assert_eq!(status, StatusCode::OK, "games listed");
    let listed: Vec<&str> = games["games"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|g| g["id"].as_str())
        .collect();
    assert_eq!(
        listed,
        ["arena", "cycles", "coins"],
        "the shipped games and the registered one"
    );
    let coins_info = &games["games"][2];
    assert_eq!(
        coins_info["maps"][0]["name"], "yard",
        "its map: {coins_info}"
    );
    assert_eq!(coins_info["seats"], 8, "its seats: {coins_info}");
    assert_eq!(
        coins_info["protocol_hash"],
        format!("{:016x}", coins::PROTOCOL.hash()),
        "its protocol hash"
    );

    let mut args = Args::new(&srv.base);
    args.bots = 6;
    args.duration = Duration::from_secs(6);
    args.seed = 3;
    let options = RunOptions {
        game: Some(&coins::PROTOCOL),
        ..RunOptions::default()
    };
    let report = timeout(
        args.duration + Duration::from_secs(60),
        bot_client::run_with(args, options),
    )
    .await??;
    assert_eq!(report.game, "coins", "the bots played coins");
    assert_eq!(report.desyncs, 0, "no desyncs");
    assert!(report.errors.is_empty(), "no errors: {:?}", report.errors);
    assert!(
        report.checksums_verified > 0,
        "checksums verified: {}",
        report.checksums_verified
    );
    assert!(
        report.delivery_ratio >= 0.99,
        "snapshots delivered: {}",
        report.delivery_ratio
    );
    assert!(
        report.events.delivered > 0,
        "events delivered: {:?}",
        report.events
    );
    let live = srv.server.state.registry.live();
    assert!(!live.is_empty(), "a coins match ran on the server");
    assert!(
        live.iter().all(|m| m.protocol.name == "coins"),
        "every match it ran is a coins match"
    );
    srv.stop().await;
    Ok(())
}

/// Reads frames until the next snapshot; answers (tick, its events as (tick, event)).
async fn raw_snapshot(conn: &mut Connection) -> anyhow::Result<(Tick, Vec<(Tick, Event)>)> {
    loop {
        match timeout(PATIENCE, conn.recv()).await?? {
            Received::Message(ServerMessage::Snapshot(s)) => {
                let tick = s.header.tick;
                let events = s
                    .body
                    .events
                    .into_iter()
                    .map(|e| (Tick(tick.0 - u32::from(e.ago)), e.event))
                    .collect();
                return Ok((tick, events));
            }
            Received::Message(_) => {}
            Received::Closed { code, reason } => anyhow::bail!("closed {code}: {reason}"),
        }
    }
}

#[tokio::test]
async fn a_client_that_skipped_snapshots_still_receives_every_event() -> anyhow::Result<()> {
    // The test box puts an orb next to the only spawn point and the orb comes back after a
    // tenth of a second: pickups (events) come every few ticks while the players stand still.
    let srv = TestServer::start_with(Options {
        extra_maps: vec![("testbox.toml", TESTBOX_MAP.into())],
        game_edits: vec![("respawn_s =", "respawn_s = 0.1".into())],
        ..Options::default()
    })
    .await?;
    let (_, token) = srv.guest("device-events-fast").await?;
    let match_id = srv.create_match(&token, Some("testbox")).await?;
    let (ticket, url) = srv.ticket(&token, &match_id).await?;
    let (mut fast, _) = Session::join(&url, &ticket, &arena::PROTOCOL, true).await?;
    let idle = InputValues::of(&arena::ArenaInput::IDLE);
    // The fast client applies every snapshot and acknowledges each: its events are the truth.
    // It plays until the skipping client says which tick it stopped at.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(None::<Tick>);
    let fast_task = tokio::spawn(async move {
        let mut seen: Vec<(Tick, String)> = Vec::new();
        loop {
            match timeout(PATIENCE, fast.next_event()).await?? {
                SessionEvent::Snapshot(s) => {
                    for e in s.events {
                        seen.push((e.tick, format!("{:?}", e.event)));
                    }
                    fast.send_input(idle).await?;
                    let stop = *stop_rx.borrow_and_update();
                    if stop.is_some_and(|t| s.applied.tick >= t) {
                        return anyhow::Ok(seen);
                    }
                }
                SessionEvent::Closed { code, reason } => anyhow::bail!("closed {code}: {reason}"),
                _ => {}
            }
        }
    });

    // The skipping client looks at only every fifth snapshot (the other four never reached it,
    // as if the server had skipped them) and acknowledges that one: each delta it reads is
    // against a tick several snapshots back, and must carry the skipped ticks' events.
    let (_, slow_token) = srv.guest("device-events-slow").await?;
    let (ticket, url) = srv.ticket(&slow_token, &match_id).await?;
    let mut slow = Connection::connect(&url, true).await?;
    slow.send(&ClientMessage::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        ticket,
        resume: None,
        game_hash: Some(arena::PROTOCOL.hash()),
    }))
    .await?;
    let mut slow_events: BTreeSet<(u32, String)> = BTreeSet::new();
    let mut acked = Tick::ZERO;
    let mut first_tick = None;
    let mut last_tick = Tick::ZERO;
    for n in 0..150u32 {
        let (tick, events) = raw_snapshot(&mut slow).await?;
        if n % 5 == 0 {
            first_tick.get_or_insert(tick);
            last_tick = tick;
            for (t, e) in events {
                slow_events.insert((t.0, format!("{e:?}")));
            }
            acked = tick;
        }
        slow.send(&ClientMessage::Input(Input {
            seq: n + 1,
            ack_tick: acked,
            values: idle,
        }))
        .await?;
    }
    let first_tick = first_tick.expect("snapshots arrived");
    stop_tx.send(Some(last_tick))?;
    let fast_events: BTreeSet<(u32, String)> = fast_task
        .await??
        .into_iter()
        .filter(|(t, _)| *t > first_tick && *t <= last_tick)
        .map(|(t, e)| (t.0, e))
        .collect();
    let pickups = fast_events
        .iter()
        .filter(|(_, e)| e.contains("Game"))
        .count();
    assert!(pickups >= 3, "the fast client saw pickups: {fast_events:?}");
    let slow_window: BTreeSet<(u32, String)> = slow_events
        .into_iter()
        .filter(|(t, _)| *t > first_tick.0 && *t <= last_tick.0)
        .collect();
    assert_eq!(
        slow_window, fast_events,
        "the skipping client received exactly the events the fast one did"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_late_joiner_is_told_who_is_already_playing() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let (_, first_token) = srv.guest("device-roster-1").await?;
    let (_, second_token) = srv.guest("device-roster-2").await?;
    let names = |token: &str| {
        let token = token.to_string();
        let srv = &srv;
        async move {
            let (_, me) = srv
                .call(Method::GET, "/v1/accounts/me", Some(&token), None)
                .await?;
            anyhow::Ok(me["username"].as_str().context("username")?.to_string())
        }
    };
    let (first_name, second_name) = (names(&first_token).await?, names(&second_token).await?);
    let match_id = srv.create_match(&first_token, None).await?;
    let (ticket, url) = srv.ticket(&first_token, &match_id).await?;
    let (_first, welcome) = Session::join(&url, &ticket, &arena::PROTOCOL, true).await?;
    assert_eq!(
        welcome.players,
        vec![(welcome.player_id, first_name.clone())],
        "the first player is alone, and named"
    );
    let (ticket, url) = srv.ticket(&second_token, &match_id).await?;
    let (_second, late) = Session::join(&url, &ticket, &arena::PROTOCOL, true).await?;
    let roster: BTreeSet<(u32, String)> = late.players.iter().cloned().collect();
    assert_eq!(
        roster,
        BTreeSet::from([
            (welcome.player_id, first_name),
            (late.player_id, second_name)
        ]),
        "the late joiner learns the first player's name without having seen it join"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_client_built_for_another_game_is_refused_with_a_reason() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let (_, token) = srv.guest("device-mismatch-1").await?;
    let match_id = srv.create_match(&token, None).await?;
    let (ticket, url) = srv.ticket(&token, &match_id).await?;
    // A cycles client presents its hash to an arena match.
    match Session::join(&url, &ticket, &cycles::PROTOCOL, true).await {
        Err(JoinError::Refused { code, reason }) => {
            assert_eq!(code, close::GAME_MISMATCH, "its own close code: {reason}");
            assert!(
                reason.contains("arena")
                    && reason.contains(&format!("{:016x}", cycles::PROTOCOL.hash())),
                "the reason names the match's game and the client's hash: {reason}"
            );
        }
        Err(other) => panic!("expected a refusal, got {other}"),
        Ok(_) => panic!("a cycles client was let into an arena match"),
    }
    // A client that sends no hash is not checked.
    let (ticket, url) = srv.ticket(&token, &match_id).await?;
    let mut plain = Connection::connect(&url, true).await?;
    plain
        .send(&ClientMessage::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            ticket,
            resume: None,
            game_hash: None,
        }))
        .await?;
    match timeout(PATIENCE, plain.recv()).await?? {
        Received::Message(ServerMessage::Welcome(w)) => {
            assert_eq!(w.game, "arena", "welcomed into the arena");
        }
        other => panic!("expected a Welcome, got {other:?}"),
    }
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_server_serves_the_browser_client_with_its_content_types() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()?;
    let public = tests::assets_dir().join("web/public");
    for (path, file, content_type) in [
        ("/", "index.html", "text/html"),
        ("/tickwire.wasm", "tickwire.wasm", "application/wasm"),
        ("/sdk.js", "sdk.js", "javascript"),
        ("/app.js", "app.js", "javascript"),
        ("/app.css", "app.css", "text/css"),
    ] {
        let got = client.get(srv.url(path)).send().await?;
        assert_eq!(got.status(), StatusCode::OK, "{path} is served");
        let served_as = got.headers()["content-type"].to_str()?.to_string();
        assert!(
            served_as.contains(content_type),
            "{path} as {content_type} (browsers compile wasm streaming only as application/wasm): {served_as}"
        );
        let shipped = std::fs::read(public.join(file))?;
        assert_eq!(
            got.bytes().await?.as_ref(),
            &shipped[..],
            "{path}: the committed file"
        );
    }
    let demo = client.get(srv.url("/?play=guest")).send().await?;
    assert_eq!(demo.status(), StatusCode::OK, "the demo link is the page");
    for outside in [
        "/../arena/game.toml",
        "/%2e%2e/arena/game.toml",
        "/src/sdk/core.ts",
        "/package.json",
        "/golden/arena.json",
    ] {
        let got = client.get(srv.url(outside)).send().await?;
        assert_eq!(
            got.status(),
            StatusCode::NOT_FOUND,
            "{outside}: only the built files of web/public are served"
        );
    }
    let missing = srv.call(Method::GET, "/nothing.wasm", None, None).await?;
    assert_error(
        &missing,
        StatusCode::NOT_FOUND,
        "not_found",
        "a file web/public lacks",
    );
    let unknown = srv
        .call(Method::GET, "/v1/no-such-route", None, None)
        .await?;
    assert_error(
        &unknown,
        StatusCode::NOT_FOUND,
        "not_found",
        "an unknown API route is still a JSON 404",
    );
    let plain = srv.call(Method::GET, "/v1/realtime", None, None).await?;
    assert_error(
        &plain,
        StatusCode::UPGRADE_REQUIRED,
        "upgrade_required",
        "a plain GET of the realtime endpoint",
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_lobby_refuses_unknown_games_and_maps_and_lists_matches_by_game() -> anyhow::Result<()>
{
    let srv = TestServer::start().await?;
    let (_, token) = srv.guest("device-lobby-games").await?;
    let got = srv
        .call(
            Method::POST,
            "/v1/matchmaking/quick-join",
            Some(&token),
            Some(json!({ "game": "chess" })),
        )
        .await?;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_game",
        "quick-join chess",
    );
    assert!(
        got.1["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("chess") && m.contains("arena")),
        "the message names the game and what is served: {}",
        got.1
    );
    let got = srv
        .call(
            Method::POST,
            "/v1/matches",
            Some(&token),
            Some(json!({ "game": "cycles", "map": "bench" })),
        )
        .await?;
    assert_error(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_map",
        "bench is an arena map",
    );

    let (status, duel) = srv
        .call(Method::GET, "/v1/games/cycles/maps/duel", None, None)
        .await?;
    assert_eq!(status, StatusCode::OK, "a map's layout: {duel}");
    assert_eq!(
        (duel["seats"].as_i64(), duel["layout"]["width"].as_i64()),
        (Some(2), Some(32)),
        "its seats and its file's fields: {duel}"
    );
    let got = srv
        .call(Method::GET, "/v1/games/cycles/maps/nowhere", None, None)
        .await?;
    assert_error(
        &got,
        StatusCode::NOT_FOUND,
        "unknown_map",
        "a map cycles lacks",
    );

    let (status, joined) = srv
        .call(
            Method::POST,
            "/v1/matchmaking/quick-join",
            Some(&token),
            Some(json!({ "game": "cycles", "map": "duel" })),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "quick-join into cycles: {joined}");
    let (_, list) = srv.call(Method::GET, "/v1/matches", None, None).await?;
    let m = list["matches"]
        .as_array()
        .and_then(|l| l.iter().find(|m| m["match_id"] == joined["match_id"]))
        .expect("the new match is listed");
    assert_eq!(
        (
            m["game"].as_str(),
            m["map"].as_str(),
            m["capacity"].as_i64()
        ),
        (Some("cycles"), Some("duel"), Some(2)),
        "listed with its game, map and the map's seats: {m}"
    );

    // A second player asking for cycles joins that match, not an arena one.
    let (_, other) = srv.guest("device-lobby-games2").await?;
    let (_, second) = srv
        .call(
            Method::POST,
            "/v1/matchmaking/quick-join",
            Some(&other),
            Some(json!({ "game": "cycles" })),
        )
        .await?;
    assert_eq!(
        second["match_id"], joined["match_id"],
        "quick-join fills the cycles match"
    );
    srv.stop().await;
    Ok(())
}
