//! Several nodes on one PostgreSQL, as separate processes on loopback: two API nodes
//! (`--role api`) and two game nodes (`--role game`). Accounts made on one API node log in on
//! the other; matches spread over both game nodes and bots play on both without a desync; a
//! ban through either API node closes the player's socket on either game node (by NOTIFY, and
//! by the poll when there was no notification); a game node killed with SIGKILL leaves
//! placement within the heartbeat timeout, its matches are ended and its players' next
//! quick-join goes to the survivor; a game node sent SIGTERM drains (not ready, no new match),
//! ends what is left at its drain timeout and deregisters. Each role serves only its routes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::{Method, StatusCode};
use serde_json::json;
use shared::close;
use sqlx::{PgPool, Row};
use tests::player::Client;
use tests::process::ServerProcess;
use tests::{Rest, drop_postgres_schema, fresh_postgres_schema, postgres_url};

const ADMIN_KEY: &str = "twadmin_cluster_test_0123456789abcdef";
const SIGNING_KEY: &str = "cluster-test-signing-key-0123456789abcdef0123456789";
const PASSWORD: &str = "correct horse battery";
/// Heartbeat timeout of the game nodes, seconds.
const TIMEOUT_S: f64 = 3.0;
/// Bound on every wait: generous for a busy 2-core machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// The config every node shares (keys, limits), with the game node's event poll interval.
fn config(event_poll_s: f64) -> String {
    format!(
        "admin_key = \"{ADMIN_KEY}\"\nsigning_key = \"{SIGNING_KEY}\"\n\n\
         [limits]\nauth_attempts_per_address_per_minute = 100000\n\
         auth_attempts_per_username_per_minute = 100000\n\
         guest_logins_per_address_per_minute = 100000\n\
         reconnect_grace_s = 1.0\n\n\
         [cluster]\nheartbeat_interval_s = 0.5\nheartbeat_timeout_s = {TIMEOUT_S}\n\
         event_poll_s = {event_poll_s}\ndrain_timeout_s = 4\n"
    )
}

struct Node {
    process: ServerProcess,
    rest: Rest,
}

struct Cluster {
    http: reqwest::Client,
    api: [Node; 2],
    game: Vec<Node>,
    dir: tempfile::TempDir,
}

async fn start_node(
    dir: &Path,
    name: &str,
    role: &str,
    database_url: &str,
    config: &Path,
    http: &reqwest::Client,
) -> anyhow::Result<Node> {
    let data = dir.join(name);
    std::fs::create_dir_all(&data)?;
    let args: Vec<std::ffi::OsString> = vec![
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--no-tls".into(),
        "--role".into(),
        role.into(),
        "--data-dir".into(),
        data.into(),
        "--assets".into(),
        tests::assets_dir().into(),
        "--config".into(),
        config.into(),
        "--database-url".into(),
        database_url.into(),
    ];
    let binary = Path::new(env!("CARGO_BIN_EXE_tickwire-server"));
    let process = ServerProcess::start(binary, args, &[], &dir.join(format!("{name}.log")), http)
        .await
        .with_context(|| format!("starting {name}"))?;
    let rest = Rest {
        http: http.clone(),
        base: process.base.clone(),
    };
    Ok(Node { process, rest })
}

impl Node {
    /// The realtime URL a ticket names for this (game) node.
    fn realtime_url(&self) -> String {
        format!(
            "{}/v1/realtime",
            self.process.base.replacen("http://", "ws://", 1)
        )
    }

    /// Threads named `tickwire-ticks` in the process (Linux).
    fn tick_threads(&self) -> anyhow::Result<usize> {
        let pid = self.process.process.id().context("a running process")?;
        let mut count = 0;
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
            let comm = std::fs::read_to_string(task?.path().join("comm")).unwrap_or_default();
            if comm.trim() == "tickwire-ticks" {
                count += 1;
            }
        }
        Ok(count)
    }
}

impl Cluster {
    /// The registered nodes, by realtime URL → node id.
    async fn nodes(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let (status, list) = self.api[0]
            .rest
            .call(Method::GET, "/v1/admin/nodes", Some(ADMIN_KEY), None)
            .await?;
        anyhow::ensure!(status == StatusCode::OK, "nodes: {status} {list}");
        Ok(list["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| Some((n["url"].as_str()?.into(), n["node_id"].as_str()?.into())))
            .collect())
    }

    async fn ban(&self, api: usize, account_id: i64, reason: &str) -> anyhow::Result<()> {
        let (status, ban) = self.api[api]
            .rest
            .call(
                Method::POST,
                &format!("/v1/admin/accounts/{account_id}/ban"),
                Some(ADMIN_KEY),
                Some(json!({ "reason": reason })),
            )
            .await?;
        anyhow::ensure!(status == StatusCode::OK, "ban: {status} {ban}");
        Ok(())
    }
}

async fn node_of(db: &PgPool, match_id: &str) -> anyhow::Result<String> {
    Ok(sqlx::query("SELECT node_id FROM matches WHERE id = $1")
        .bind(match_id)
        .fetch_one(db)
        .await?
        .try_get("node_id")?)
}

/// Seats taken in live matches, per node.
async fn seats(db: &PgPool) -> anyhow::Result<BTreeMap<String, i64>> {
    let rows = sqlx::query(
        "SELECT node_id, CAST(SUM(players) AS BIGINT) AS seats FROM matches \
         WHERE state <> 'ended' GROUP BY node_id",
    )
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("node_id")?, r.try_get("seats")?)))
        .collect()
}

/// The highest `tickwire_clients_connected` each game node reports while `run` runs.
async fn watch_players<T>(
    http: &reqwest::Client,
    urls: &[String],
    run: impl std::future::Future<Output = T>,
) -> (T, Vec<i64>) {
    let mut most = vec![0; urls.len()];
    tokio::pin!(run);
    let mut every = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            out = &mut run => return (out, most),
            _ = every.tick() => {}
        }
        for (i, url) in urls.iter().enumerate() {
            let Ok(resp) = http.get(url).send().await else {
                continue;
            };
            let text = resp.text().await.unwrap_or_default();
            let connected = text
                .lines()
                .find_map(|l| l.strip_prefix("tickwire_clients_connected "))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0) as i64;
            most[i] = most[i].max(connected);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_nodes_and_two_game_nodes_share_one_postgres() -> anyhow::Result<()> {
    in_fresh_schema(|url| async move { cluster_flow(&url).await }).await
}

/// Runs `test` on the URL of a fresh PostgreSQL schema, dropped afterwards (nothing when no
/// PostgreSQL is configured, which `postgres_url` makes a failure under `CI=true`).
async fn in_fresh_schema<F, Fut>(test: F) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let Some(base) = postgres_url() else {
        return Ok(());
    };
    let (url, schema) = fresh_postgres_schema(&base).await?;
    let outcome = test(url).await;
    if let Err(e) = drop_postgres_schema(&base, &schema).await {
        eprintln!("could not drop test schema {schema}: {e}");
    }
    outcome
}

async fn cluster_flow(database_url: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // The first game node hears of bans only by NOTIFY (its poll is slower than any wait
    // here); the second polls every second, for the event written without a notification.
    let listening = dir.path().join("listening.toml");
    let polling = dir.path().join("polling.toml");
    std::fs::write(&listening, config(300.0))?;
    std::fs::write(&polling, config(1.0))?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let d = dir.path();
    // The game nodes first, so the API nodes find the schema migrated either way.
    let game = vec![
        start_node(d, "game1", "game", database_url, &listening, &http).await?,
        start_node(d, "game2", "game", database_url, &polling, &http).await?,
    ];
    let api = [
        start_node(d, "api1", "api", database_url, &listening, &http).await?,
        start_node(d, "api2", "api", database_url, &listening, &http).await?,
    ];
    let mut cluster = Cluster {
        http,
        api,
        game,
        dir,
    };
    let result = scenario(&mut cluster, database_url).await;
    if result.is_err() {
        for name in ["game1", "game2", "api1", "api2"] {
            let log = std::fs::read_to_string(cluster.dir.path().join(format!("{name}.log")))
                .unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            eprintln!(
                "---- {name} log (last lines, newest first) ----\n{}",
                tail.join("\n")
            );
        }
    }
    result
}

async fn scenario(c: &mut Cluster, database_url: &str) -> anyhow::Result<()> {
    let db = PgPool::connect(database_url).await?;
    let http = &c.http.clone();

    // ---- roles ----
    let (status, _) = c.api[0]
        .rest
        .call(Method::GET, "/v1/realtime", None, None)
        .await?;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an API node has no realtime endpoint"
    );
    let (status, _) = c.game[0]
        .rest
        .call(
            Method::POST,
            "/v1/accounts",
            None,
            Some(json!({"username": "nobody", "password": PASSWORD})),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a game node has no account routes"
    );
    let (status, _) = c.game[0]
        .rest
        .call(Method::GET, "/v1/games", None, None)
        .await?;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a game node has no lobby routes"
    );
    for node in c.api.iter().chain(&c.game) {
        for path in ["/healthz", "/readyz", "/metrics"] {
            let status = http.get(node.process.url(path)).send().await?.status();
            assert_eq!(status, StatusCode::OK, "{path} on every node");
        }
    }
    assert_eq!(
        c.api[0].tick_threads()?,
        0,
        "an API node runs no tick threads"
    );
    assert!(
        c.game[0].tick_threads()? > 0,
        "a game node runs tick threads"
    );

    // ---- the registry ----
    let nodes = c.nodes().await?;
    let game_urls: Vec<String> = c.game.iter().map(Node::realtime_url).collect();
    assert_eq!(
        nodes.keys().cloned().collect::<BTreeSet<_>>(),
        game_urls.iter().cloned().collect::<BTreeSet<_>>(),
        "both game nodes registered with their URLs, and no API node"
    );
    let ids: Vec<String> = game_urls.iter().map(|u| nodes[u].clone()).collect();

    // ---- accounts are shared ----
    let body = json!({"username": "roamer", "password": PASSWORD});
    let (status, made) = c.api[0]
        .rest
        .call(Method::POST, "/v1/accounts", None, Some(body.clone()))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "register on api1: {made}");
    let (status, session) = c.api[1]
        .rest
        .call(Method::POST, "/v1/sessions", None, Some(body))
        .await?;
    assert_eq!(status, StatusCode::OK, "log in on api2: {session}");
    let roamer_token = session["access_token"].as_str().context("token")?;
    let (status, me) = c.api[0]
        .rest
        .call(Method::GET, "/v1/accounts/me", Some(roamer_token), None)
        .await?;
    assert_eq!(status, StatusCode::OK, "api2's token is good on api1: {me}");
    assert_eq!(me["username"], "roamer");

    // ---- matches spread over both game nodes ----
    let mut placed = BTreeMap::<String, Vec<String>>::new();
    for i in 0..4 {
        let id = c.api[i % 2].rest.create_match(roamer_token, None).await?;
        placed.entry(node_of(&db, &id).await?).or_default().push(id);
    }
    assert_eq!(
        placed.keys().cloned().collect::<BTreeSet<_>>(),
        ids.iter().cloned().collect::<BTreeSet<_>>(),
        "four matches made through either API node spread over both game nodes: {placed:?}"
    );
    for (node, matches) in &placed {
        let (_, url) = c.api[0].rest.ticket(roamer_token, &matches[0]).await?;
        let index = ids.iter().position(|i| i == node).context("a known node")?;
        assert_eq!(url, game_urls[index], "the ticket names the match's node");
    }
    // The roamer holds a seat now; the bots fill the others.

    // ---- bots play on both ----
    let mut args = bot_client::Args::new(&c.api[0].process.base);
    args.bots = 24;
    args.duration = Duration::from_secs(8);
    args.seed = 11;
    args.quiet = true;
    let metrics: Vec<String> = c.game.iter().map(|g| g.process.url("/metrics")).collect();
    let (report, most) = watch_players(
        http,
        &metrics,
        tokio::time::timeout(Duration::from_secs(90), bot_client::run(args)),
    )
    .await;
    let report = report??;
    assert_eq!(report.desyncs, 0, "no desync on either node");
    assert!(report.errors.is_empty(), "bot errors: {:?}", report.errors);
    assert!(report.checksums_verified > 0, "snapshots were verified");
    assert!(
        most.iter().all(|&n| n > 0),
        "both game nodes had players during the run: {most:?}"
    );

    // The bots' seats are released a reconnect grace (1 s here) after they leave; placement
    // below counts seats, so wait for that: the roamer's two seats are what is left.
    let deadline = Instant::now() + PATIENCE;
    while seats(&db).await?.values().sum::<i64>() > 2 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the bots' seats were never released"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // ---- a ban through either API node reaches either game node ----
    let mut on_node: Vec<Option<String>> = vec![None, None];
    for _ in 0..10 {
        if on_node.iter().all(Option::is_some) {
            break;
        }
        let id = c.api[0].rest.create_match(roamer_token, None).await?;
        let node = node_of(&db, &id).await?;
        let index = ids
            .iter()
            .position(|i| *i == node)
            .context("a known node")?;
        on_node[index].get_or_insert(id);
    }
    let on_node: Vec<String> = on_node
        .into_iter()
        .map(|m| m.context("a match on each game node"))
        .collect::<anyhow::Result<_>>()?;
    let mut banned = Vec::new();
    for (index, match_id) in on_node.iter().enumerate() {
        let (account, token) = c.api[index]
            .rest
            .guest(&format!("device-banned-{index}"))
            .await?;
        let (ticket, url) = c.api[index].rest.ticket(&token, match_id).await?;
        assert_eq!(
            url, game_urls[index],
            "the player plays on game node {index}"
        );
        let mut client = Client::connect(&url, &ticket).await?;
        client.snapshot_after(shared::Tick::ZERO).await?;
        banned.push((account, client));
    }
    // Game node 1 polls every 300 s: only the NOTIFY can reach it within the wait.
    for (index, (account, client)) in banned.iter_mut().enumerate() {
        c.ban(1 - index, *account, &format!("cheat {index}"))
            .await?;
        let ending = tokio::time::timeout(Duration::from_secs(15), client.ending())
            .await
            .context("the ban closed the socket within seconds")??;
        assert_eq!(ending.code, close::KICKED, "kicked as banned: {ending:?}");
        assert!(
            ending.reason.contains(&format!("banned: cheat {index}")),
            "the reason: {}",
            ending.reason
        );
    }
    // An event written without a notification (a listener that was down) is found by the poll
    // of game node 2.
    let (account, token) = c.api[1].rest.guest("device-polled").await?;
    let (ticket, url) = c.api[1].rest.ticket(&token, &on_node[1]).await?;
    let mut polled = Client::connect(&url, &ticket).await?;
    polled.snapshot_after(shared::Tick::ZERO).await?;
    sqlx::query(
        "INSERT INTO cluster_events (id, at, kind, account_id, match_id, reason, origin) \
         VALUES ('ev_by_hand', $1, 'ban', $2, NULL, 'banned: by hand', 'test')",
    )
    .bind(now_ms())
    .bind(account)
    .execute(&db)
    .await?;
    let ending = tokio::time::timeout(Duration::from_secs(15), polled.ending())
        .await
        .context("the poll found the event")??;
    assert_eq!(
        ending.code,
        close::KICKED,
        "kicked by the polled event: {ending:?}"
    );

    // ---- a killed game node leaves placement, its matches end, its players move ----
    // Make game node 2 the least loaded by a margin (the kicked players' seats may still be
    // on their way out), so placement would pick it while it lives.
    let load = seats(&db).await?;
    let need =
        load.get(&ids[1]).copied().unwrap_or(0) - load.get(&ids[0]).copied().unwrap_or(0) + 4;
    for i in 0..need.max(0) {
        let (_, token) = c.api[0].rest.guest(&format!("device-filler-{i}")).await?;
        c.api[0].rest.ticket(&token, &on_node[0]).await?;
    }
    let (stranded, stranded_token) = c.api[0].rest.guest("device-stranded").await?;
    c.api[0].rest.ticket(&stranded_token, &on_node[1]).await?;
    let probe = c.api[0].rest.create_match(roamer_token, None).await?;
    assert_eq!(
        node_of(&db, &probe).await?,
        ids[1],
        "game node 2 has the fewest seated players: {:?}",
        seats(&db).await?
    );

    let doomed = ids[1].clone();
    let killed_at = Instant::now();
    c.game.remove(1).process.kill().await?;

    // New matches go to the survivor within the heartbeat timeout (plus a poll and slack).
    let moved = loop {
        let id = c.api[1].rest.create_match(roamer_token, None).await?;
        if node_of(&db, &id).await? == ids[0] {
            break killed_at.elapsed();
        }
        anyhow::ensure!(
            killed_at.elapsed() < PATIENCE,
            "placement still picks the dead node"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        moved < Duration::from_secs_f64(TIMEOUT_S) + Duration::from_secs(10),
        "out of placement within the heartbeat timeout (took {moved:?})"
    );
    for _ in 0..3 {
        let id = c.api[0].rest.create_match(roamer_token, None).await?;
        assert_eq!(
            node_of(&db, &id).await?,
            ids[0],
            "every new match goes to the survivor"
        );
    }

    // Its matches are ended and its row removed.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let live: i64 = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM matches WHERE node_id = $1 AND state <> 'ended'",
        )
        .bind(&doomed)
        .fetch_one(&db)
        .await?
        .try_get("n")?;
        let listed = c.nodes().await?;
        if live == 0 && !listed.values().any(|id| *id == doomed) {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the dead node's matches ({live} live) or row are still there"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Its player's next quick-join goes to the survivor.
    let (status, ticket) = c.api[1]
        .rest
        .call(
            Method::POST,
            "/v1/matchmaking/quick-join",
            Some(&stranded_token),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "quick-join: {ticket}");
    assert_eq!(
        ticket["url"].as_str(),
        Some(game_urls[0].as_str()),
        "the stranded player {stranded} is sent to the survivor"
    );
    let match_id = ticket["match_id"].as_str().context("match_id")?;
    assert_eq!(node_of(&db, match_id).await?, ids[0]);

    // ---- SIGTERM drains: no new match, the running one ends with results, then it leaves ----
    let (_, token) = c.api[0].rest.guest("device-last-player").await?;
    let last = c.api[0].rest.create_match(&token, None).await?;
    let (ticket, url) = c.api[0].rest.ticket(&token, &last).await?;
    let mut player = Client::connect(&url, &ticket).await?;
    player.snapshot_after(shared::Tick::ZERO).await?;
    let pid = c.game[0].process.process.id().context("game node 1 runs")?;
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    assert!(sent.success(), "SIGTERM sent");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, body) = c.game[0]
            .rest
            .call(Method::GET, "/readyz", None, None)
            .await?;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(body["error"]["code"], "draining", "{body}");
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the node never said it was draining"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = c.api[0]
        .rest
        .call(Method::POST, "/v1/matches", Some(&token), Some(json!({})))
        .await?;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("no_game_node")),
        "a draining node takes no new match: {body}"
    );
    // The match outlives the drain timeout (4 s): the stopping server ends it, results stored.
    let ending = player.ending().await?;
    assert_eq!(ending.code, close::GOING_AWAY, "{ending:?}");
    assert!(ending.results.is_some(), "the match's results were sent");
    let exited = tokio::time::timeout(PATIENCE, c.game[0].process.process.wait()).await??;
    assert!(exited.success(), "a drained node exits cleanly: {exited}");
    assert!(c.nodes().await?.is_empty(), "it deregistered");
    let state: String = sqlx::query("SELECT state FROM matches WHERE id = $1")
        .bind(&last)
        .fetch_one(&db)
        .await?
        .try_get("state")?;
    assert_eq!(state, "ended");
    db.close().await;
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Password attempts against one username are counted in PostgreSQL, so API nodes behind a
/// load balancer share the limit: each node alone saw fewer attempts than its own limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_attempts_per_username_are_limited_across_api_nodes() -> anyhow::Result<()> {
    in_fresh_schema(|url| async move { shared_username_limit(&url).await }).await
}

async fn shared_username_limit(url: &str) -> anyhow::Result<()> {
    const LIMIT: u32 = 4;
    let mut nodes = Vec::new();
    for _ in 0..2 {
        nodes.push(
            tests::TestServer::start_with(tests::Options {
                database_url: Some(url.to_string()),
                role: server::config::Role::Api,
                tls: false,
                limits: server::config::Limits {
                    auth_attempts_per_username_per_minute: LIMIT,
                    ..server::config::Limits::default()
                },
                ..tests::Options::default()
            })
            .await?,
        );
    }
    // Both nodes a second into the same minute, so the whole test falls in one window.
    let minute = now_ms() - now_ms().rem_euclid(60_000) + 60_000;
    for node in &nodes {
        node.clock.set_ms(minute + 1_000);
    }
    let attempt = |i: usize| {
        let node = &nodes[i % 2];
        node.call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(json!({"username": "Target", "password": "wrong password"})),
        )
    };
    for i in 0..LIMIT as usize {
        let (status, body) = attempt(i).await?;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "attempt {i} is judged: {body}"
        );
    }
    // Each node has seen 2 of its own 4: only the shared count refuses this one.
    let (status, body) = attempt(LIMIT as usize).await?;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "over the shared limit: {body}"
    );
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another username is not affected.
    let (status, _) = nodes[1]
        .call(
            Method::POST,
            "/v1/sessions",
            None,
            Some(json!({"username": "bystander", "password": "wrong password"})),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "another username still judged"
    );
    for node in nodes {
        node.stop().await;
    }
    Ok(())
}
