//! Replays of matches played on a real server: an arena match played to its end (a player
//! leaving and coming back) and a cycles match ended early by an admin are each stored when they
//! end, verify by re-simulation, and play back as snapshots that rebuild every tick's world; a
//! running match and an unknown one have none. `server replay` checks one by URL and refuses a
//! tampered file. On SQLite and on PostgreSQL.

use std::time::Duration;

use bot_client::session::{Session, SessionEvent};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::{Method, StatusCode};
use server::replay::{Replay, ReplayError, playback, read_playback, verify};
use shared::replica::Replica;
use shared::schema::{GameProtocol, InputValues};
use shared::{Event, PlayerResult, ServerMessage, Tick};
use tests::{Db, Options, TestServer, assert_error, postgres_url};
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;

const PASSWORD: &str = "correct horse battery";

/// Upper bound for anything waited for: generous for a busy 2-core machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// The arena match's length: long enough for a player to leave and come back.
const ARENA_MATCH_S: f32 = 6.0;

/// A connected player sending random inputs the game admits, one per snapshot, and passing on
/// everything that happens.
struct Player {
    player_id: u32,
    events: mpsc::UnboundedReceiver<SessionEvent>,
    leave: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Player {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Player {
    async fn join(
        srv: &TestServer,
        token: &str,
        match_id: &str,
        game: &'static GameProtocol,
        seed: u64,
    ) -> anyhow::Result<Player> {
        let (ticket, url) = srv.ticket(token, match_id).await?;
        let (mut session, welcome) = Session::join(&url, &ticket, game, true).await?;
        let (tx, events) = mpsc::unbounded_channel();
        let (leave, mut leave_rx) = oneshot::channel();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let task = tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    _ = &mut leave_rx => {
                        let _ = session.send_leave().await;
                        return;
                    }
                    event = session.next_event() => event,
                };
                let Ok(event) = event else { return };
                if matches!(event, SessionEvent::Snapshot(_)) {
                    // A send into a closing socket is not what the tests look at.
                    let _ = session.send_input(random_input(game, &mut rng)).await;
                }
                let closed = matches!(event, SessionEvent::Closed { .. });
                if tx.send(event).is_err() || closed {
                    return;
                }
            }
        });
        Ok(Player {
            player_id: welcome.player_id,
            events,
            leave: Some(leave),
            task,
        })
    }

    /// Reads until an event `wanted` picks something from; fails if the connection closes first.
    async fn until<T>(
        &mut self,
        what: &str,
        mut wanted: impl FnMut(&SessionEvent) -> Option<T>,
    ) -> anyhow::Result<T> {
        loop {
            let event = timeout(PATIENCE, self.events.recv())
                .await
                .map_err(|_| anyhow::anyhow!("waiting for {what}: timed out"))?;
            match event {
                None => anyhow::bail!("waiting for {what}: the session ended"),
                Some(event) => {
                    if let Some(found) = wanted(&event) {
                        return Ok(found);
                    }
                    if let SessionEvent::Closed { code, reason } = event {
                        anyhow::bail!("waiting for {what}: closed {code}: {reason}");
                    }
                }
            }
        }
    }

    async fn tick_at_least(&mut self, tick: u32) -> anyhow::Result<()> {
        self.until(&format!("tick {tick}"), |e| match e {
            SessionEvent::Snapshot(s) if s.applied.tick.0 >= tick => Some(()),
            _ => None,
        })
        .await
    }

    /// Reads until the match's results.
    async fn results(&mut self) -> anyhow::Result<Vec<PlayerResult>> {
        self.until("MatchEnd", |e| match e {
            SessionEvent::MatchEnd(results) => Some(results.clone()),
            _ => None,
        })
        .await
    }

    fn leave(&mut self) {
        if let Some(leave) = self.leave.take() {
            let _ = leave.send(());
        }
    }
}

/// Values the game's input declaration admits, drawn field by field from its ranges.
fn random_input(game: &GameProtocol, rng: &mut ChaCha8Rng) -> InputValues {
    let values: Vec<i32> = game
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

async fn get_replay(
    srv: &TestServer,
    match_id: &str,
    query: &str,
) -> anyhow::Result<reqwest::Response> {
    Ok(srv
        .http
        .get(srv.url(&format!("/v1/matches/{match_id}/replay{query}")))
        .send()
        .await?)
}

/// `GET` the replay and check it is the JSON 404 `replay_not_found`.
async fn assert_no_replay(srv: &TestServer, match_id: &str, what: &str) -> anyhow::Result<()> {
    let resp = get_replay(srv, match_id, "").await?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await?;
    assert_error(
        &(status, body),
        StatusCode::NOT_FOUND,
        "replay_not_found",
        what,
    );
    Ok(())
}

/// The stored replay of an ended match, checked to be served as bytes.
async fn stored_replay(srv: &TestServer, match_id: &str) -> anyhow::Result<(Vec<u8>, Replay)> {
    let resp = get_replay(srv, match_id, "").await?;
    assert_eq!(resp.status(), StatusCode::OK, "{match_id}: replay served");
    assert_eq!(
        resp.headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/octet-stream"),
        "{match_id}: as bytes"
    );
    let bytes = resp.bytes().await?.to_vec();
    let replay = Replay::decode(&bytes)?;
    assert_eq!(replay.match_id, match_id, "the replay names its match");
    Ok((bytes, replay))
}

/// Plays the snapshots stream of `match_id` into a replica: a Welcome, then every tick of the
/// replay rebuilt with a matching checksum, then the results (answered).
async fn check_snapshots(
    srv: &TestServer,
    match_id: &str,
    replay: &Replay,
) -> anyhow::Result<Vec<PlayerResult>> {
    let resp = get_replay(srv, match_id, "?format=snapshots").await?;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "{match_id}: snapshots served"
    );
    let messages = read_playback(&resp.bytes().await?)?;
    let Some(ServerMessage::Welcome(welcome)) = messages.first() else {
        anyhow::bail!(
            "{match_id}: the stream starts with a Welcome, not {:?}",
            messages.first()
        );
    };
    assert_eq!(welcome.player_id, 0, "{match_id}: a spectator's welcome");
    assert_eq!(welcome.game, replay.game, "{match_id}: the game");
    let protocol = srv
        .server
        .state
        .games
        .get(&replay.game)
        .expect("a served game")
        .protocol;
    let mut replica = Replica::new(protocol);
    let mut ticks = Vec::new();
    for message in &messages[1..messages.len() - 1] {
        let ServerMessage::Snapshot(snapshot) = message else {
            anyhow::bail!("{match_id}: snapshots after the Welcome, not {message:?}");
        };
        let applied = replica.apply(snapshot)?;
        assert_eq!(
            applied.checksum,
            Some(true),
            "{match_id}: the world rebuilt at tick {} has the server's checksum",
            applied.tick
        );
        ticks.push(applied.tick.0);
    }
    let expected: Vec<u32> = (1..=replay.final_tick.0).collect();
    assert_eq!(
        ticks, expected,
        "{match_id}: one snapshot per tick, in order"
    );
    let Some(ServerMessage::MatchEnd(end)) = messages.last() else {
        anyhow::bail!(
            "{match_id}: the stream ends with MatchEnd, not {:?}",
            messages.last()
        );
    };
    Ok(end.results.clone())
}

async fn start(db: Db) -> anyhow::Result<Option<TestServer>> {
    if db == Db::Postgres && postgres_url().is_none() {
        return Ok(None);
    }
    let srv = TestServer::start_with(Options {
        db,
        game_edits: vec![(
            "match_length_s",
            format!("match_length_s = {ARENA_MATCH_S:.1}"),
        )],
        ..Options::default()
    })
    .await?;
    Ok(Some(srv))
}

/// An arena match played to its end, one player leaving and coming back as a new player.
async fn a_match_played_to_its_end(srv: &TestServer) -> anyhow::Result<Replay> {
    let arena = &shared::games::arena::PROTOCOL;
    let (_, ann) = srv
        .register_and_login("ann", PASSWORD)
        .await
        .map(|(a, t, _)| (a, t))?;
    let (_, bob) = srv
        .register_and_login("bob", PASSWORD)
        .await
        .map(|(a, t, _)| (a, t))?;
    let match_id = srv.create_match(&ann, None).await?;
    assert_no_replay(srv, &match_id, "a match not started yet").await?;

    let mut a = Player::join(srv, &ann, &match_id, arena, 1).await?;
    let mut b = Player::join(srv, &bob, &match_id, arena, 2).await?;
    b.tick_at_least(20).await?;
    let first_id = b.player_id;
    b.leave();
    // Back only once the match has let the first one go: else the seat would simply be resumed.
    a.until("bob leaving", |e| match e {
        SessionEvent::Snapshot(s) => s
            .events
            .iter()
            .any(|t| t.event == Event::PlayerLeft { player: first_id })
            .then_some(()),
        _ => None,
    })
    .await?;
    assert_no_replay(srv, &match_id, "a running match").await?;
    let mut b = Player::join(srv, &bob, &match_id, arena, 3).await?;
    assert_ne!(b.player_id, first_id, "back as a new player");

    let live = a.results().await?;
    assert_eq!(
        b.results().await?,
        live,
        "both players got the same results"
    );

    let (_, replay) = stored_replay(srv, &match_id).await?;
    let verified = verify(&replay, &srv.server.state.games)?;
    let tick_rate = f32::from(replay.tick_rate);
    assert_eq!(
        verified.ticks,
        Tick((ARENA_MATCH_S * tick_rate) as u32),
        "the whole match replayed"
    );
    assert_eq!(
        (verified.joins, verified.leaves),
        (3, 1),
        "ann, bob, bob again; bob's leave"
    );
    assert!(verified.inputs > 50, "inputs replayed: {verified:?}");
    assert_eq!(
        verified.hashes_checked,
        replay.hashes.len() + 1,
        "every recorded hash and the final one"
    );
    assert_eq!(
        check_snapshots(srv, &match_id, &replay).await?,
        live,
        "the playback ends with the results the players got"
    );
    Ok(replay)
}

/// A cycles match (three minutes long) ended by an admin after a few ticks.
async fn a_match_ended_early(srv: &TestServer) -> anyhow::Result<()> {
    let cycles = &shared::games::cycles::PROTOCOL;
    let (_, cid) = srv
        .register_and_login("cid", PASSWORD)
        .await
        .map(|(a, t, _)| (a, t))?;
    let (status, created) = srv
        .call(
            Method::POST,
            "/v1/matches",
            Some(&cid),
            Some(serde_json::json!({"game": "cycles"})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "cycles match: {created}");
    let match_id = created["match_id"].as_str().expect("match_id").to_string();
    let mut c = Player::join(srv, &cid, &match_id, cycles, 4).await?;
    c.tick_at_least(30).await?;
    assert_no_replay(srv, &match_id, "a running match").await?;

    let key = srv.server.state.admin_key.clone();
    let (status, body) = srv
        .call(
            Method::DELETE,
            &format!("/v1/admin/matches/{match_id}"),
            Some(&key),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::ACCEPTED, "ended by the admin: {body}");
    let live = c.results().await?;

    let (_, replay) = stored_replay(srv, &match_id).await?;
    let verified = verify(&replay, &srv.server.state.games)?;
    assert!(
        verified.ticks >= Tick(30) && verified.ticks.0 < 180 * u32::from(replay.tick_rate),
        "stored though ended early, at tick {}",
        verified.ticks
    );
    assert_eq!(
        check_snapshots(srv, &match_id, &replay).await?,
        live,
        "the playback ends with the results the player got"
    );
    Ok(())
}

async fn replays_of_real_matches(db: Db) -> anyhow::Result<()> {
    let Some(srv) = start(db).await? else {
        return Ok(());
    };
    assert_no_replay(&srv, "m_nope", "an unknown match").await?;
    let replay = a_match_played_to_its_end(&srv).await?;
    a_match_ended_early(&srv).await?;

    let resp = get_replay(&srv, &replay.match_id, "?format=nonsense").await?;
    let status = resp.status();
    assert_error(
        &(status, resp.json().await?),
        StatusCode::BAD_REQUEST,
        "bad_request",
        "an unknown format",
    );
    // The replay is the same re-simulated on this side as on the server.
    let local = read_playback(&playback(&replay, &srv.server.state.games)?)?;
    let served = read_playback(
        &get_replay(&srv, &replay.match_id, "?format=snapshots")
            .await?
            .bytes()
            .await?,
    )?;
    assert_eq!(local, served, "the served playback is the re-simulation's");
    srv.stop().await;
    Ok(())
}

#[tokio::test]
async fn replays_of_real_matches_on_sqlite() -> anyhow::Result<()> {
    replays_of_real_matches(Db::Sqlite).await
}

#[tokio::test]
async fn replays_of_real_matches_on_postgres() -> anyhow::Result<()> {
    replays_of_real_matches(Db::Postgres).await
}

/// Runs `server replay ARGS...` with the test server's assets; answers (success, stdout, stderr).
async fn replay_command(srv: &TestServer, args: &[&str]) -> anyhow::Result<(bool, String, String)> {
    let assets = srv.data_dir.join("assets");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tickwire-server"))
        .arg("replay")
        .args(args)
        .arg("--assets")
        .arg(&assets)
        .env_remove("TICKWIRE_CONFIG")
        .env_remove("TICKWIRE_ASSETS")
        .output();
    let out = timeout(PATIENCE, out).await??;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[tokio::test]
async fn the_replay_command_verifies_by_url_and_refuses_a_tampered_file() -> anyhow::Result<()> {
    let Some(srv) = start(Db::Sqlite).await? else {
        return Ok(());
    };
    let replay = a_match_played_to_its_end(&srv).await?;
    let url = srv.url(&format!("/v1/matches/{}/replay", replay.match_id));

    let (ok, stdout, stderr) = replay_command(&srv, &[&url, "--insecure"]).await?;
    assert!(ok, "verified by URL: {stdout}\n{stderr}");
    eprintln!("DEBUG {stdout}");
    assert!(
        stdout.contains(&format!("ticks           {}", replay.final_tick))
            && stdout.contains(&format!("hashes checked  {}", replay.hashes.len() + 1))
            && stdout.contains(&format!("final hash      {:016x}", replay.final_hash)),
        "the summary: {stdout}"
    );

    let dir = tempfile::tempdir()?;
    let file = dir.path().join("tampered.replay");
    let mut tampered = replay.clone();
    tampered.hashes[2].hash ^= 1;
    std::fs::write(&file, tampered.encode())?;
    let expected = ReplayError::Mismatch {
        tick: tampered.hashes[2].tick,
        recorded: tampered.hashes[2].hash,
        replayed: replay.hashes[2].hash,
    };
    let (ok, stdout, stderr) = replay_command(&srv, &[file.to_str().expect("utf-8")]).await?;
    assert!(!ok, "a tampered replay fails: {stdout}");
    eprintln!("DEBUG2 {stdout} {stderr}");
    assert!(
        stderr.contains(&expected.to_string()),
        "the error names the tick: {stderr}"
    );

    let (ok, _, stderr) =
        replay_command(&srv, &[&srv.url("/v1/matches/m_nope/replay"), "--insecure"]).await?;
    assert!(!ok && stderr.contains("404"), "an unknown match: {stderr}");
    srv.stop().await;
    Ok(())
}
