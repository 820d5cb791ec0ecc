//! `--agones` against a fake Agones SDK sidecar on loopback (the REST API the real sidecar
//! serves): the node takes its public address from the GameServer status, reports Ready once
//! registered, Health on a timer, Allocated (and its player count) while it hosts a match, and
//! when told to stop it drains (not ready, no new match) and only then reports Shutdown.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post, put};
use serde_json::{Value, json};
use server::config::ClusterSettings;
use tests::player::Client;
use tests::{Options, TestServer};
use tokio::sync::mpsc;

/// Bound on every wait: generous for a busy 2-core machine.
const PATIENCE: Duration = Duration::from_secs(30);
/// The host port the fake Agones gives the game server.
const AGONES_PORT: u16 = 7777;

/// One call the server made to the sidecar.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    method: Method,
    path: String,
    body: Value,
}

type Calls = mpsc::UnboundedSender<Call>;

async fn record(
    State(calls): State<Calls>,
    method: Method,
    uri: axum::http::Uri,
    body: Option<Json<Value>>,
) -> Json<Value> {
    let _ = calls.send(Call {
        method,
        path: uri.path().to_string(),
        body: body.map_or(Value::Null, |Json(b)| b),
    });
    Json(json!({}))
}

async fn game_server(State(calls): State<Calls>) -> Json<Value> {
    let _ = calls.send(Call {
        method: Method::GET,
        path: "/gameserver".into(),
        body: Value::Null,
    });
    Json(json!({
        "object_meta": { "name": "tickwire-game-abcde", "namespace": "default" },
        "status": { "state": "Scheduled", "address": "127.0.0.1",
            "ports": [{ "name": "default", "port": AGONES_PORT }] }
    }))
}

/// Starts the fake sidecar; answers its base URL and the calls it receives.
async fn fake_sdk() -> anyhow::Result<(String, mpsc::UnboundedReceiver<Call>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route("/ready", post(record))
        .route("/health", post(record))
        .route("/allocate", post(record))
        .route("/shutdown", post(record))
        .route("/metadata/label", put(record))
        .route("/gameserver", get(game_server))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{addr}"), rx))
}

/// Reads calls (keeping them in `log`) until one to `path` arrives.
async fn until(
    rx: &mut mpsc::UnboundedReceiver<Call>,
    log: &mut Vec<Call>,
    path: &str,
) -> anyhow::Result<Call> {
    loop {
        let call = tokio::time::timeout(PATIENCE, rx.recv())
            .await
            .map_err(|_| anyhow::anyhow!("no call to {path}; got {log:?}"))?
            .ok_or_else(|| anyhow::anyhow!("the fake sidecar stopped"))?;
        log.push(call.clone());
        if call.path == path {
            return Ok(call);
        }
    }
}

fn paths(log: &[Call]) -> Vec<&str> {
    log.iter().map(|c| c.path.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_node_reports_its_life_to_agones() -> anyhow::Result<()> {
    let (sdk, mut rx) = fake_sdk().await?;
    let srv = TestServer::start_with(Options {
        tls: false,
        agones: true,
        cluster: ClusterSettings {
            agones_sdk_url: Some(sdk),
            agones_health_s: 0.2,
            drain_timeout_s: 60.0,
            ..ClusterSettings::default()
        },
        // A short match, so the drain below waits for it to finish on its own.
        game_edits: vec![("match_length_s", "match_length_s = 3.0".into())],
        ..Options::default()
    })
    .await?;
    let mut log = Vec::new();

    // Ready once registered (after the address lookup), then Health on a timer.
    until(&mut rx, &mut log, "/ready").await?;
    assert_eq!(
        paths(&log),
        ["/gameserver", "/ready"],
        "the address first, then Ready, before anything else"
    );
    for _ in 0..3 {
        until(&mut rx, &mut log, "/health").await?;
    }

    // Tickets send players to the address Agones gave.
    let (_, token, _) = srv
        .register_and_login("agones_player", "correct horse battery")
        .await?;
    let match_id = srv.create_match(&token, None).await?;
    let (ticket, url) = srv.ticket(&token, &match_id).await?;
    assert_eq!(url, format!("ws://127.0.0.1:{AGONES_PORT}/v1/realtime"));

    // Hosting a player: Allocated, and the count as a label.
    let real = srv.url("/v1/realtime").replacen("http://", "ws://", 1);
    let mut player = Client::connect(&real, &ticket).await?;
    player.snapshot_after(shared::Tick::ZERO).await?;
    until(&mut rx, &mut log, "/allocate").await?;
    loop {
        let label = until(&mut rx, &mut log, "/metadata/label").await?;
        if label.body == json!({ "key": "players", "value": "1" }) {
            break;
        }
    }

    // Told to stop: not ready, the match plays to its end, then Shutdown and nothing after.
    let node = srv.server.state.node.clone();
    let draining = tokio::spawn(async move { node.drain().await });
    let (status, body) = srv
        .call(reqwest::Method::GET, "/readyz", None, None)
        .await?;
    assert_eq!(status.as_u16(), 503, "a draining node is not ready: {body}");
    assert_eq!(body["error"]["code"], "draining");
    let ending = player.ending().await?;
    assert!(
        ending.results.is_some(),
        "the match finished with results: {ending:?}"
    );
    assert!(
        tokio::time::timeout(PATIENCE, draining).await??,
        "the drain saw every match finish"
    );
    let seen = log.len();
    srv.stop().await;
    until(&mut rx, &mut log, "/shutdown").await?;
    assert!(
        !paths(&log[seen..]).contains(&"/ready"),
        "no Ready while leaving: {:?}",
        paths(&log[seen..])
    );
    // Nothing after Shutdown: the node's loops have ended.
    assert!(
        tokio::time::timeout(Duration::from_millis(600), rx.recv())
            .await
            .map_or(true, |c| c.is_none()),
        "a call after Shutdown"
    );
    Ok(())
}
