//! The realtime half against a real server: tickets from the REST lobby, sessions over wss,
//! worlds rebuilt from deltas and proven by the server's checksums, bad input ending only the
//! offender, slow readers skipped and dropped, and dropped players resuming their seat.

use std::time::Duration;

use bot_client::conn::{Connection, Received};
use bot_client::session::{Detached, JoinError, Session, SessionEvent};
use reqwest::Method;
use server::config::Limits;
use shared::games::arena::{self, ArenaEntity, ArenaInput, ArenaKind, buttons};
use shared::protocol::{ClientMessage, Hello, Input};
use shared::{InputValues, PROTOCOL_VERSION, Tick, close, codec};
use tests::{Options, TESTBOX_MAP, TestServer};
use tokio::time::timeout;

/// Upper bound for anything a test waits for: generous for a busy 2-core machine.
const PATIENCE: Duration = Duration::from_secs(30);

async fn join(
    srv: &TestServer,
    token: &str,
    match_id: &str,
) -> anyhow::Result<(Session, shared::Welcome)> {
    let (ticket, url) = srv.ticket(token, match_id).await?;
    Ok(Session::join(&url, &ticket, &arena::PROTOCOL, true).await?)
}

/// Reads until the next snapshot (answering nothing else), sending one input per snapshot.
async fn next_snapshot(
    session: &mut Session,
) -> anyhow::Result<bot_client::session::SnapshotEvent> {
    loop {
        match timeout(PATIENCE, session.next_event()).await?? {
            SessionEvent::Snapshot(s) => return Ok(s),
            SessionEvent::Closed { code, reason } => anyhow::bail!("closed {code}: {reason}"),
            _ => {}
        }
    }
}

/// Reads until the connection closes; answers the close code and reason.
async fn closed(conn: &mut Connection) -> anyhow::Result<(u16, String)> {
    loop {
        match timeout(PATIENCE, conn.recv()).await?? {
            Received::Closed { code, reason } => return Ok((code, reason)),
            Received::Message(_) => {}
        }
    }
}

fn input(seq: u32, ack: Tick) -> ClientMessage {
    ClientMessage::Input(Input {
        seq,
        ack_tick: ack,
        values: arena_input(0, 1, 0),
    })
}

fn arena_input(buttons: u8, move_dir: u8, aim: u16) -> InputValues {
    InputValues::of(&ArenaInput {
        buttons,
        move_dir,
        aim,
    })
}

#[tokio::test]
async fn clients_replicate_a_whole_match_over_wss_and_results_are_stored() -> anyhow::Result<()> {
    whole_match(30, 4.0).await
}

#[tokio::test]
async fn a_128_hz_match_replicates_too() -> anyhow::Result<()> {
    whole_match(128, 1.5).await
}

#[tokio::test]
async fn a_10_hz_match_replicates_too() -> anyhow::Result<()> {
    whole_match(10, 12.0).await
}

/// Three clients play a whole match at `rate` Hz lasting `seconds`.
async fn whole_match(rate: u16, seconds: f32) -> anyhow::Result<()> {
    let srv = TestServer::start_with(Options {
        game_edits: vec![
            ("match_length_s", format!("match_length_s = {seconds:.1}")),
            ("tick_rate", format!("tick_rate = {rate}")),
        ],
        ..Options::default()
    })
    .await?;
    let match_ticks = (f32::from(rate) * seconds) as u32;
    let (_, owner) = srv.guest("device-owner-0001").await?;
    let match_id = srv.create_match(&owner, None).await?;

    let mut players = Vec::new();
    for i in 0..3 {
        let (account_id, token) = srv.guest(&format!("device-player-{i:04}")).await?;
        let (session, welcome) = join(&srv, &token, &match_id).await?;
        assert_eq!(welcome.match_id, match_id, "welcome names the match");
        assert_eq!(welcome.tick_rate, rate, "tick rate from game.toml");
        players.push((account_id, session, welcome.player_id));
    }
    let ids: std::collections::BTreeSet<u32> = players.iter().map(|p| p.2).collect();
    assert_eq!(ids.len(), 3, "three distinct player ids");

    let mut tasks = Vec::new();
    for (account_id, mut session, player_id) in players {
        tasks.push(tokio::spawn(async move {
            let mut first = None;
            let mut results = None;
            let mut last_tick = Tick::ZERO;
            let (code, _) = loop {
                match timeout(PATIENCE, session.next_event()).await?? {
                    SessionEvent::Snapshot(s) => {
                        first.get_or_insert(s.applied.keyframe);
                        anyhow::ensure!(s.applied.tick > last_tick, "ticks increase");
                        last_tick = s.applied.tick;
                        let dir = (s.applied.tick.0 / 15 % 8 + 1) as u8;
                        let dir = if s.applied.tick.0 % 40 < 5 { 0 } else { dir };
                        let fire = if s.applied.tick.0 % 3 == 0 {
                            buttons::FIRE
                        } else {
                            0
                        };
                        // The server may close right after the last tick; the close that follows
                        // is what the test checks, so a send into a closing socket is not an error.
                        let _ = session
                            .send_input(arena_input(fire, dir, (s.applied.tick.0 * 700) as u16))
                            .await;
                    }
                    SessionEvent::MatchEnd(r) => results = Some(r),
                    SessionEvent::Closed { code, reason } => break (code, reason),
                    _ => {}
                }
            };
            anyhow::Ok((
                account_id,
                player_id,
                first,
                results,
                code,
                session.replica().counters(),
                last_tick,
            ))
        }));
    }
    let mut seen_results = None;
    for task in tasks {
        let (account_id, player_id, first, results, code, counters, last_tick) = task.await??;
        assert_eq!(
            first,
            Some(true),
            "player {player_id}: the first snapshot is a keyframe"
        );
        assert_eq!(counters.desyncs, 0, "player {player_id}: no desyncs");
        assert!(
            counters.checksums_verified as u32 >= match_ticks / 20,
            "player {player_id}: checksums verified: {counters:?}"
        );
        assert!(
            counters.deltas as u32 > match_ticks / 2,
            "player {player_id}: mostly deltas: {counters:?}"
        );
        assert!(
            last_tick.0 + 2 >= match_ticks,
            "player {player_id}: played to the end (tick {last_tick} of {match_ticks})"
        );
        assert_eq!(
            code,
            close::MATCH_ENDED,
            "player {player_id}: closed as match ended"
        );
        let results = results.expect("MatchEnd received");
        assert_eq!(results.len(), 3, "results for every player");
        assert!(
            results
                .iter()
                .any(|r| r.player_id == player_id && r.account_id == account_id),
            "own line"
        );
        seen_results = Some(results);
    }
    // The deltas above predicted positions from each client's older acknowledgement, and every
    // checksum still matched.
    let predicted = srv.server.state.metrics.predicted_deltas_sent.get();
    assert!(
        predicted as u32 > match_ticks,
        "most deltas predict positions: {predicted} for 3 clients × {match_ticks} ticks"
    );
    let stored = srv.server.state.store.match_results(&match_id).await?;
    let sent = seen_results.expect("results");
    assert_eq!(stored.len(), 3, "three stored result rows");
    for r in &sent {
        let row = stored
            .iter()
            .find(|s| s.account_id == r.account_id)
            .expect("stored row");
        assert_eq!(
            (row.score, &row.stats),
            (r.score, &r.stats),
            "stored = sent"
        );
    }
    let row = srv
        .server
        .state
        .store
        .match_by_id(&match_id)
        .await?
        .expect("match row");
    assert_eq!(row.state, "ended", "match marked ended");
    for r in &sent {
        let (status, record) = srv
            .call(
                Method::GET,
                &format!("/v1/leaderboards/score/accounts/{}", r.account_id),
                None,
                None,
            )
            .await?;
        assert_eq!(
            status, 200,
            "the match end put a record on the score board: {record}"
        );
        assert_eq!(
            record["score"].as_i64(),
            Some(r.score),
            "the board holds the match score"
        );
    }
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn handshake_refusals_close_with_a_code_and_reason() -> anyhow::Result<()> {
    let limits = Limits {
        handshake_timeout_s: 0.5,
        ..Limits::default()
    };
    let srv = TestServer::start_with(Options {
        limits,
        ..Options::default()
    })
    .await?;
    let (_, token) = srv.guest("device-hand-0001").await?;
    let match_id = srv.create_match(&token, None).await?;
    let url = format!("wss://{}/v1/realtime", srv.server.addr);

    let mut silent = Connection::connect(&url, true).await?;
    let (code, reason) = closed(&mut silent).await?;
    assert_eq!(code, close::HANDSHAKE_TIMEOUT, "no Hello: {reason}");
    assert!(
        reason.contains("Hello"),
        "reason says what was expected: {reason}"
    );

    let refused = |r: Result<(Session, shared::Welcome), JoinError>| match r {
        Err(JoinError::Refused { code, reason }) => (code, reason),
        Err(other) => panic!("expected a refusal, got {other}"),
        Ok(_) => panic!("expected a refusal, got a Welcome"),
    };
    let (code, reason) = refused(Session::join(&url, "tk_made_up", &arena::PROTOCOL, true).await);
    assert_eq!(code, close::INVALID_TICKET, "made-up ticket: {reason}");

    let (ticket, _) = srv.ticket(&token, &match_id).await?;
    let (first, _) = Session::join(&url, &ticket, &arena::PROTOCOL, true).await?;
    let (code, reason) = refused(Session::join(&url, &ticket, &arena::PROTOCOL, true).await);
    assert_eq!(code, close::TICKET_USED, "reused ticket: {reason}");
    drop(first);

    let (late, _) = srv.ticket(&token, &match_id).await?;
    srv.clock.advance(Duration::from_secs(31));
    let (code, reason) = refused(Session::join(&url, &late, &arena::PROTOCOL, true).await);
    assert_eq!(code, close::TICKET_EXPIRED, "expired ticket: {reason}");

    let mut not_hello = Connection::connect(&url, true).await?;
    not_hello.send(&input(1, Tick::ZERO)).await?;
    let (code, reason) = closed(&mut not_hello).await?;
    assert_eq!(code, close::EXPECTED_HELLO, "input before Hello: {reason}");

    let (ticket, _) = srv.ticket(&token, &match_id).await?;
    let mut old_client = Connection::connect(&url, true).await?;
    old_client
        .send(&ClientMessage::Hello(Hello {
            protocol_version: PROTOCOL_VERSION + 1,
            ticket,
            resume: None,
            game_hash: None,
        }))
        .await?;
    let (code, reason) = closed(&mut old_client).await?;
    assert_eq!(
        code,
        close::PROTOCOL_VERSION,
        "other protocol version: {reason}"
    );

    let (code, reason) = refused(
        Session::resume(
            &url,
            &format!("{match_id}.forged"),
            Detached::new(&arena::PROTOCOL),
            true,
        )
        .await,
    );
    assert_eq!(
        code,
        close::INVALID_RECONNECT,
        "forged reconnect token: {reason}"
    );
    let (code, reason) = refused(
        Session::resume(&url, "m_nope.forged", Detached::new(&arena::PROTOCOL), true).await,
    );
    assert_eq!(
        code,
        close::INVALID_RECONNECT,
        "token for no live match: {reason}"
    );

    let plain = srv.http.get(srv.url("/v1/realtime")).send().await?;
    assert_eq!(plain.status(), 426, "a plain GET is told to upgrade");
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn bad_input_ends_only_the_offending_connection() -> anyhow::Result<()> {
    let srv = TestServer::start().await?;
    let (_, token) = srv.guest("device-good-0001").await?;
    let match_id = srv.create_match(&token, None).await?;
    let (mut good, _) = join(&srv, &token, &match_id).await?;
    for _ in 0..5 {
        let s = next_snapshot(&mut good).await?;
        good.send_input(arena_input(0, 3, 0)).await?;
        assert!(!s.applied.stale, "fresh snapshot");
    }

    // Each offender joins properly, then misbehaves in its own way.
    type Offence = fn(
        &Connection,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = anyhow::Result<()>> + '_>,
    >;
    let offences: Vec<(&str, u16, Offence)> = vec![
        ("garbage bytes", close::MALFORMED, |c| {
            Box::pin(async move { Ok(c.writer().send_raw_binary(&[0xff; 12]).await?) })
        }),
        ("text frame", close::UNSUPPORTED_DATA, |c| {
            Box::pin(async move { Ok(c.writer().send_text("hello?").await?) })
        }),
        ("oversized frame", close::MESSAGE_TOO_BIG, |c| {
            Box::pin(async move { Ok(c.writer().send_raw_binary(&vec![0u8; 5000]).await?) })
        }),
        ("input flood", close::INPUT_FLOOD, |c| {
            Box::pin(async move {
                for seq in 1..=400u32 {
                    c.writer().queue(&input(seq, Tick::ZERO)).await?;
                }
                Ok(c.writer().flush().await?)
            })
        }),
        ("out-of-range input", close::INVALID_INPUT, |c| {
            Box::pin(async move {
                let bad = ClientMessage::Input(Input {
                    seq: 1,
                    ack_tick: Tick::ZERO,
                    values: InputValues::new(&[0x80, 42, 0]).expect("three values"),
                });
                Ok(c.writer().send(&bad).await?)
            })
        }),
        ("second Hello", close::EXPECTED_HELLO, |c| {
            Box::pin(async move {
                let hello = ClientMessage::Hello(Hello {
                    protocol_version: PROTOCOL_VERSION,
                    ticket: String::new(),
                    resume: None,
                    game_hash: None,
                });
                Ok(c.writer().send(&hello).await?)
            })
        }),
    ];
    let mut good_ticks = Vec::new();
    for (i, (what, expected, offend)) in offences.into_iter().enumerate() {
        let (_, bad_token) = srv.guest(&format!("device-bad-{i:05}")).await?;
        let (ticket, url) = srv.ticket(&bad_token, &match_id).await?;
        let mut bad = Connection::connect(&url, true).await?;
        bad.send(&ClientMessage::Hello(Hello {
            protocol_version: PROTOCOL_VERSION,
            ticket,
            resume: None,
            game_hash: None,
        }))
        .await?;
        offend(&bad).await?;
        let (code, reason) = closed(&mut bad).await?;
        assert_eq!(code, expected, "{what}: closed with {code} ({reason})");
        assert!(!reason.is_empty(), "{what}: a reason is given");
        // The good client plays on through every offence.
        for _ in 0..3 {
            let s = next_snapshot(&mut good).await?;
            good.send_input(arena_input(0, 3, 0)).await?;
            good_ticks.push(s.applied.tick);
        }
    }
    for _ in 0..30 {
        let s = next_snapshot(&mut good).await?;
        good.send_input(arena_input(0, 3, 0)).await?;
        good_ticks.push(s.applied.tick);
    }
    assert!(
        good_ticks.windows(2).all(|w| w[0] < w[1]),
        "good client's ticks keep increasing"
    );
    let span = good_ticks.last().expect("ticks").since(good_ticks[0]) as usize + 1;
    assert!(
        good_ticks.len() * 2 >= span,
        "good client got {} of {span} ticks",
        good_ticks.len()
    );
    assert_eq!(
        good.replica().counters().desyncs,
        0,
        "good client never desynced"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_client_that_stops_reading_is_skipped_then_dropped() -> anyhow::Result<()> {
    use tokio::io::AsyncReadExt;
    let limits = Limits {
        socket_send_buffer_bytes: 4096,
        max_ticks_behind: 15,
        ..Limits::default()
    };
    let srv = TestServer::start_with(Options {
        limits,
        tls: false,
        ..Options::default()
    })
    .await?;
    let (_, token) = srv.guest("device-reader-01").await?;
    // The bench map: 100 drones move every tick, so every delta is large and a stalled socket
    // fills within a second.
    let match_id = srv.create_match(&token, Some("bench")).await?;
    let (mut good, _) = join(&srv, &token, &match_id).await?;

    let (_, slow_token) = srv.guest("device-slow-0001").await?;
    let (ticket, _) = srv.ticket(&slow_token, &match_id).await?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let mut stream = socket.connect(srv.server.addr).await?;
    let key = fastwebsockets::handshake::generate_key();
    let hello = codec::encode_client(&ClientMessage::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        ticket,
        resume: None,
        game_hash: None,
    }));
    // A hand-written upgrade and one masked binary frame: this client then never reads again.
    let request = format!(
        "GET /v1/realtime HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        srv.server.addr
    );
    let mut frame = vec![0x82u8, 0x80 | hello.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(&hello);
    use tokio::io::AsyncWriteExt;
    stream.write_all(request.as_bytes()).await?;
    let mut response = [0u8; 12];
    stream.read_exact(&mut response).await?;
    assert_eq!(&response[9..12], b"101", "upgrade accepted");
    stream.write_all(&frame).await?;

    let metrics = srv.server.state.metrics.clone();
    let dropped_before = metrics.clients_dropped.get();
    let mut ticks = Vec::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while metrics.clients_dropped.get() == dropped_before {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "slow client never dropped"
        );
        let s = next_snapshot(&mut good).await?;
        good.send_input(arena_input(0, 1, 0)).await?;
        ticks.push(s.applied.tick);
    }
    assert!(
        metrics.snapshots_skipped.get() > 0,
        "the slow client's snapshots were skipped first"
    );
    for _ in 0..30 {
        let s = next_snapshot(&mut good).await?;
        good.send_input(arena_input(0, 1, 0)).await?;
        ticks.push(s.applied.tick);
    }
    assert!(
        ticks.windows(2).all(|w| w[0] < w[1]),
        "the good client's ticks keep increasing"
    );
    let span = ticks.last().expect("ticks").since(ticks[0]) as usize + 1;
    assert!(
        ticks.len() * 2 >= span,
        "good client got {} of {span} ticks while the other stalled",
        ticks.len()
    );
    assert_eq!(
        good.replica().counters().desyncs,
        0,
        "good client never desynced"
    );
    let handle = srv
        .server
        .state
        .registry
        .get(&match_id)
        .expect("match live");
    let summary = handle.describe().await.expect("describe");
    let slow = summary.players.iter().filter(|p| !p.connected).count();
    assert_eq!(
        slow, 1,
        "the slow player is disconnected (its seat waits out the grace): {summary:?}"
    );
    srv.stop().await;
    Ok(())
}

/// The player's own entity in the replica.
fn own_score(session: &Session, player_id: u32) -> Option<i32> {
    session
        .replica()
        .world()
        .entities::<ArenaEntity>()
        .find(|(_, e)| e.kind == ArenaKind::Player && e.owner == player_id)
        .map(|(_, e)| e.score)
}

#[tokio::test]
async fn a_dropped_client_resumes_its_player_and_score() -> anyhow::Result<()> {
    let srv = TestServer::start_with(Options {
        extra_maps: vec![("testbox.toml", TESTBOX_MAP.into())],
        ..Options::default()
    })
    .await?;
    let (_, token) = srv.guest("device-resume-01").await?;
    let match_id = srv.create_match(&token, Some("testbox")).await?;
    let (mut session, welcome) = join(&srv, &token, &match_id).await?;
    let score = loop {
        next_snapshot(&mut session).await?;
        session.send_input(arena_input(0, 0, 0)).await?;
        if let Some(score) = own_score(&session, welcome.player_id).filter(|s| *s > 0) {
            break score;
        }
    };
    let held = session.replica().ack_tick();
    let url = format!("wss://{}/v1/realtime", srv.server.addr);
    // Drop the socket without Leave, as a lost connection would.
    let detached = session.detach();
    let (mut back, again) = Session::resume(&url, &welcome.reconnect_token, detached, true).await?;
    assert_eq!(again.player_id, welcome.player_id, "the same player");
    let first = next_snapshot(&mut back).await?;
    assert!(
        first.baseline_tick == held || first.applied.keyframe,
        "a delta against the held tick {held} or a keyframe, got baseline {}",
        first.baseline_tick
    );
    let resumed = own_score(&back, welcome.player_id).expect("own player in the world");
    assert!(resumed >= score, "score kept: {resumed} >= {score}");
    assert_eq!(
        back.replica().counters().desyncs,
        0,
        "no desync across the resume"
    );
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_resumed_client_is_not_kicked_by_its_old_connection() -> anyhow::Result<()> {
    let limits = Limits {
        idle_timeout_s: 1.0,
        ..Limits::default()
    };
    let srv = TestServer::start_with(Options {
        limits,
        ..Options::default()
    })
    .await?;
    let (_, token) = srv.guest("device-twice-001").await?;
    let match_id = srv.create_match(&token, None).await?;
    let (mut old, welcome) = join(&srv, &token, &match_id).await?;
    next_snapshot(&mut old).await?;
    let url = format!("wss://{}/v1/realtime", srv.server.addr);
    let (mut new, again) = Session::resume(
        &url,
        &welcome.reconnect_token,
        Detached::new(&arena::PROTOCOL),
        true,
    )
    .await?;
    assert_eq!(again.player_id, welcome.player_id, "same player");
    // The old connection is told it was replaced; it then goes silent past the idle timeout.
    let code = loop {
        if let SessionEvent::Closed { code, .. } = timeout(PATIENCE, old.next_event()).await?? {
            break code;
        }
    };
    assert_eq!(code, close::REPLACED, "old connection replaced");
    // The new one plays on for longer than the idle timeout without being disturbed.
    let start = next_snapshot(&mut new).await?.applied.tick;
    new.send_input(arena_input(0, 1, 0)).await?;
    loop {
        let s = next_snapshot(&mut new).await?;
        new.send_input(arena_input(0, 1, 0)).await?;
        if s.applied.tick.since(start) > 60 {
            break;
        }
    }
    let summary = srv
        .server
        .state
        .registry
        .get(&match_id)
        .expect("live")
        .describe()
        .await
        .expect("describe");
    assert_eq!(summary.players.len(), 1, "one seat, not two: {summary:?}");
    assert!(summary.players[0].connected, "and it is connected");
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_forged_reconnect_token_does_not_hold_a_seat_and_grace_releases_seats()
-> anyhow::Result<()> {
    let limits = Limits {
        reconnect_grace_s: 1.0,
        ..Limits::default()
    };
    let srv = TestServer::start_with(Options {
        limits,
        ..Options::default()
    })
    .await?;
    let (account, token) = srv.guest("device-grace-001").await?;
    let match_id = srv.create_match(&token, None).await?;
    let (mut session, welcome) = join(&srv, &token, &match_id).await?;
    next_snapshot(&mut session).await?;
    let url = format!("wss://{}/v1/realtime", srv.server.addr);
    let forged = format!("{match_id}.{}", "A".repeat(32));
    match Session::resume(&url, &forged, Detached::new(&arena::PROTOCOL), true).await {
        Err(JoinError::Refused { code, .. }) => {
            assert_eq!(code, close::INVALID_RECONNECT, "forged token refused")
        }
        other => panic!("forged token accepted: {:?}", other.map(|(_, w)| w)),
    }
    let handle = srv.server.state.registry.get(&match_id).expect("live");
    assert_eq!(
        handle.describe().await.expect("describe").players.len(),
        1,
        "no seat for the forger"
    );

    drop(session.detach());
    // After the grace the seat is released: gone from the match and from the lobby's count.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let players = handle.describe().await.expect("describe").players.len();
        let row = srv
            .server
            .state
            .store
            .match_by_id(&match_id)
            .await?
            .expect("row");
        if players == 0 && row.players == 0 {
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "seat never released"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    match Session::resume(
        &url,
        &welcome.reconnect_token,
        Detached::new(&arena::PROTOCOL),
        true,
    )
    .await
    {
        Err(JoinError::Refused { code, .. }) => {
            assert_eq!(code, close::INVALID_RECONNECT, "expired seat cannot resume")
        }
        other => panic!("resume after grace accepted: {:?}", other.map(|(_, w)| w)),
    }
    let _ = account;
    srv.stop().await;
    Ok(())
}
