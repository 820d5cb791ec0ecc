//! The PostgreSQL cost of running Tickwire as a cluster: what the node registry, placement, the
//! dead-node upkeep and a quick-join cost the shared database, as inputs to a capacity model.
//!
//! `TICKWIRE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p server --bench cluster`
//!
//! Skipped (exit 0) without `TICKWIRE_TEST_POSTGRES_URL`. Every step runs in a private schema
//! (dropped at the end; `CLUSTER_KEEP_SCHEMA=1` keeps them for `EXPLAIN`), on loopback, with a
//! bounded count and a time limit. `CLUSTER_HISTORY` sets the ended matches of the history step
//! (default 500,000: about four hours of play at 100,000 players in full 16-seat, 180 s arena
//! matches; 0 skips the step).
//!
//! 1. Heartbeats: sequential `heartbeat_node` calls, and database transactions per call.
//! 2. With 40 live game nodes and 6,000 live matches (2 seats taken in each): `place_match`,
//!    then the upkeep's `orphaned_matches` and `dead_nodes`.
//! 3. Quick-join over HTTP: an API node and a game node in this process on one schema; guest
//!    logins, then one quick-join per account, 32 at a time, and transactions per quick-join;
//!    then the game node's side of each join (`redeem_ticket` and `account_by_id`, the two
//!    queries a realtime `Hello` with a ticket makes), straight on the store. Run on an empty
//!    cluster, on the 6,000 live matches of step 2, and after the history step.
//! 4. History: ended matches are never deleted, so step 2 and 3 again with them present.
//!
//! Transactions are `xact_commit + xact_rollback` of the database in `pg_stat_database`. A
//! backend publishes its counts at most once a second, else after 10 s idle (closing its
//! connection is no sure way to hurry it: counts were seen missing 2 s after a pool closed), so
//! every count is read 11 s after the work, less the background (other sessions on the
//! database, the servers' own heartbeat and upkeep, this bench's reading connections) measured
//! over an idle 11 s window just before.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use server::Server;
use server::clock::Clock;
use server::cluster::wall_ms;
use server::config::{ClusterSettings, Config, Limits, Role, TlsMode};
use server::leaderboards::default_boards;
use server::store::nodes::node_state;
use server::store::{Alive, NewMatch, NodeRow, PlaceQuery, SeatOutcome, Store, TicketClaim};
use sqlx::Connection;

const HEARTBEATS: usize = 2_000;
const NODES: usize = 40;
const NODE_CAPACITY: i64 = 3_000;
const LIVE_MATCHES: usize = 6_000;
const SEATS_PER_MATCH: usize = 2;
const ARENA_SEATS: i64 = 16;
const PLACEMENTS: usize = 1_000;
const SWEEPS: usize = 200;
const ACCOUNTS: usize = 3_000;
/// Quick-joins before the measured ones, so the pooled connections have their statements
/// prepared (a statement's first use on a connection is a round trip of its own).
const WARMUP: usize = 256;
const WIDTH: usize = 32;
const HEARTBEAT_TIMEOUT_MS: i64 = 5_000;
/// No step runs longer than this; one that does stops and says so.
const STEP_LIMIT: Duration = Duration::from_secs(60);
/// Longer than PostgreSQL's 10 s delay for publishing an idle backend's counts.
const STATS_FLUSH: Duration = Duration::from_secs(11);

/// One line of the table.
struct Line {
    what: String,
    wanted: usize,
    count: usize,
    wall: Duration,
    latency: Histogram<u64>,
    tx_per_op: Option<f64>,
    note: String,
}

/// What a batch of operations gave.
struct Ran<T> {
    out: Vec<T>,
    latency: Histogram<u64>,
    wall: Duration,
}

impl<T> Ran<T> {
    fn line(&self, what: &str, wanted: usize) -> Line {
        Line {
            what: what.to_string(),
            wanted,
            count: self.out.len(),
            wall: self.wall,
            latency: self.latency.clone(),
            tx_per_op: None,
            note: String::new(),
        }
    }
}

/// Runs `op(i)` for `i` in `0..n`, `width` at a time, until [`STEP_LIMIT`] has passed.
async fn run_ops<T, F, Fut>(n: usize, width: usize, op: F) -> anyhow::Result<Ran<T>>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let started = Instant::now();
    let deadline = started + STEP_LIMIT;
    // Microseconds, 1 µs to 10 minutes.
    let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut out = Vec::with_capacity(n);
    let mut ops = futures_util::stream::iter(0..n)
        .map(|i| {
            let op = op(i);
            async move {
                if Instant::now() >= deadline {
                    return anyhow::Ok(None);
                }
                let t = Instant::now();
                let value = op.await?;
                Ok(Some((value, t.elapsed())))
            }
        })
        .buffer_unordered(width);
    while let Some(done) = ops.next().await {
        if let Some((value, took)) = done? {
            latency.saturating_record(took.as_micros() as u64);
            out.push(value);
        }
    }
    Ok(Ran {
        out,
        latency,
        wall: started.elapsed(),
    })
}

/// Transactions committed and rolled back in the database so far, read on a connection of its
/// own (which adds two: its start-up and this query).
async fn xacts(base: &str) -> anyhow::Result<i64> {
    let mut conn = sqlx::PgConnection::connect(base).await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(xact_commit + xact_rollback AS BIGINT) FROM pg_stat_database \
         WHERE datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    Ok(n)
}

/// A transaction count and when it was read.
#[derive(Clone, Copy)]
struct Mark {
    count: i64,
    at: Instant,
}

async fn mark(base: &str) -> anyhow::Result<Mark> {
    Ok(Mark {
        count: xacts(base).await?,
        at: Instant::now(),
    })
}

/// Transactions per second of everything else on the database (other sessions, servers running
/// beside, the reading connections) over an idle [`STATS_FLUSH`] window, and the window's end.
/// Call it once the counts of earlier work are published.
async fn idle_rate(base: &str) -> anyhow::Result<(f64, Mark)> {
    let from = mark(base).await?;
    tokio::time::sleep(STATS_FLUSH).await;
    let to = mark(base).await?;
    let rate = (to.count - from.count) as f64 / (to.at - from.at).as_secs_f64();
    Ok((rate, to))
}

/// Transactions since `from` once everything done meanwhile is published (after
/// [`STATS_FLUSH`]), less `rate` of background.
async fn since(base: &str, from: Mark, rate: f64) -> anyhow::Result<f64> {
    tokio::time::sleep(STATS_FLUSH).await;
    let to = mark(base).await?;
    Ok((to.count - from.count) as f64 - rate * (to.at - from.at).as_secs_f64())
}

fn node_row(id: &str, now: i64, heartbeat_at: i64) -> NodeRow {
    NodeRow {
        id: id.to_string(),
        url: format!("ws://{id}.invalid:7000/v1/realtime"),
        region: "default".into(),
        games: vec!["arena".into(), "cycles".into()],
        capacity: NODE_CAPACITY,
        players: 0,
        matches: 0,
        state: node_state::LIVE.into(),
        started_at: now,
        heartbeat_at,
    }
}

fn fake_node_id(i: usize) -> String {
    format!("bench-node-{i:02}")
}

/// Step 1: transactions and latency of a game node's heartbeat.
async fn heartbeats(base: &str, url: &str) -> anyhow::Result<Line> {
    let id = "bench-heartbeat";
    let now = wall_ms();
    let setup = Store::connect(url).await?;
    setup.register_node(&node_row(id, now, now)).await?;
    setup.close().await;
    tokio::time::sleep(STATS_FLUSH).await;
    let (rate, from) = idle_rate(base).await?;
    let store = Store::connect(url).await?;
    let ran = {
        let store = &store;
        run_ops(HEARTBEATS, 1, |i| async move {
            let players = (i % 3_000) as i64;
            let alive = store
                .heartbeat_node(id, players, players / 16, wall_ms())
                .await?;
            anyhow::ensure!(alive, "the heartbeat found no row");
            Ok(())
        })
        .await?
    };
    store.close().await;
    let tx = since(base, from, rate).await?;
    let cleanup = Store::connect(url).await?;
    cleanup.deregister_node(id).await?;
    cleanup.close().await;
    let mut line = ran.line("heartbeat (sequential)", HEARTBEATS);
    line.tx_per_op = Some(tx / ran.out.len().max(1) as f64);
    line.note = format!(
        "one UPDATE; a game node sends one per `heartbeat_interval_s` (1 s); background \
         {rate:.1} tx/s taken off"
    );
    Ok(line)
}

/// Registers the fake game nodes and their live matches, with seats taken. The fake nodes
/// "heart-beat" an hour ahead, so they stay alive for the whole run without a heartbeat loop
/// adding its transactions to what the quick-join steps count.
async fn seed(store: &Store, base_schema_url: &str) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let now = wall_ms();
    for i in 0..NODES {
        store
            .register_node(&node_row(&fake_node_id(i), now, now + 3_600_000))
            .await?;
    }
    let ids: Vec<String> = (0..LIVE_MATCHES)
        .map(|i| format!("bench-m-{i:05}"))
        .collect();
    let made = run_ops(LIVE_MATCHES, 16, |i| {
        let ids = &ids;
        async move {
            let node = fake_node_id(i % NODES);
            store
                .create_match(NewMatch {
                    id: &ids[i],
                    game: "arena",
                    map: "arena",
                    public: true,
                    capacity: ARENA_SEATS,
                    node_id: Some(&node),
                    created_by: None,
                    created_at: now - (i as i64) * 10,
                })
                .await?;
            Ok(())
        }
    })
    .await?;
    anyhow::ensure!(
        made.out.len() == LIVE_MATCHES,
        "only {} of {LIVE_MATCHES} matches made in time",
        made.out.len()
    );
    let seats = LIVE_MATCHES * SEATS_PER_MATCH;
    let seated = run_ops(seats, 16, |k| {
        let ids = &ids;
        async move {
            let outcome = store
                .take_seat(&ids[k % LIVE_MATCHES], 1_000_000 + k as i64, now)
                .await?;
            anyhow::ensure!(outcome == SeatOutcome::Seated, "seat {k}: {outcome:?}");
            Ok(())
        }
    })
    .await?;
    anyhow::ensure!(
        seated.out.len() == seats,
        "only {} of {seats} seats taken in time",
        seated.out.len()
    );
    analyze(base_schema_url).await?;
    eprintln!(
        "seeded {NODES} nodes, {LIVE_MATCHES} matches, {seats} seats in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(ids)
}

async fn analyze(url: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::query("ANALYZE matches, match_seats, nodes, accounts, join_tickets")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// Step 2: placement, the orphan sweep and the dead-node check, sequential.
async fn registry_reads(store: &Store, label: &str) -> anyhow::Result<Vec<Line>> {
    let after = wall_ms() - HEARTBEAT_TIMEOUT_MS;
    let alive = Alive {
        after,
        asking: "bench",
    };
    let placed = run_ops(PLACEMENTS, 1, |_| async move {
        let placement = store
            .place_match(PlaceQuery {
                game: "arena",
                region: None,
                alive,
            })
            .await?;
        anyhow::ensure!(placement.is_some(), "no node placed the match");
        Ok(())
    })
    .await?;
    let mut place = placed.line(&format!("place_match, {label}"), PLACEMENTS);
    place.note = "per new match (a quick-join that finds no room)".into();

    let swept = run_ops(SWEEPS, 1, |_| async move {
        let orphans = store.orphaned_matches().await?;
        anyhow::ensure!(orphans.is_empty(), "{} orphaned matches", orphans.len());
        Ok(())
    })
    .await?;
    let mut sweep = swept.line(&format!("orphaned_matches, {label}"), SWEEPS);
    sweep.note =
        "every node, every 10th upkeep round (10 s), and after removing a dead node".into();

    let checked = run_ops(SWEEPS, 1, |_| async move {
        let dead = store.dead_nodes(after, "bench").await?;
        anyhow::ensure!(dead.is_empty(), "{} dead nodes", dead.len());
        Ok(())
    })
    .await?;
    let mut dead = checked.line(&format!("dead_nodes, {label}"), SWEEPS);
    dead.note = "every node, every upkeep round (1 s)".into();
    Ok(vec![place, sweep, dead])
}

fn server_config(dir: &Path, url: &str, role: Role) -> anyhow::Result<Config> {
    Ok(Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.to_path_buf(),
        database_url: Some(url.to_string()),
        tls: TlsMode::Off,
        role,
        assets: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets")),
        public_url: None,
        allowed_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        diagnostics: false,
        agones: false,
        cluster: ClusterSettings {
            // One game node takes every player of the empty-cluster run (3,256 seats).
            capacity_players: 10_000,
            ..ClusterSettings::default()
        },
        admin_key: None,
        signing_key: None,
        limits: Limits {
            guest_logins_per_address_per_minute: 1_000_000,
            auth_attempts_per_address_per_minute: 1_000_000,
            auth_attempts_per_username_per_minute: 1_000_000,
            // The game-node step redeems the tickets after the counting waits.
            ticket_ttl_s: 600,
            ..Limits::default()
        },
        leaderboards: default_boards(),
        replays: Default::default(),
        config_file: None,
        games: server::game::GameSet::shipped(),
    })
}

async fn post_json(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let mut req = http.post(url).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await?;
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        anyhow::bail!("{url}: {status}: {text}");
    }
    Ok(resp.json().await?)
}

fn field(value: &serde_json::Value, name: &str) -> anyhow::Result<String> {
    value[name]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("no {name:?} in {value}"))
}

/// Step 3 on `url`'s schema: guest logins, quick-joins, the game node's side of the joins.
async fn quick_joins(base: &str, url: &str, label: &str) -> anyhow::Result<Vec<Line>> {
    let game_dir = tempfile::tempdir()?;
    let api_dir = tempfile::tempdir()?;
    let game_config = server_config(game_dir.path(), url, Role::Game)?;
    let listener = tokio::net::TcpListener::bind(game_config.listen).await?;
    let game = Server::start_on(game_config, listener, Clock::default()).await?;
    let api_config = server_config(api_dir.path(), url, Role::Api)?;
    let listener = tokio::net::TcpListener::bind(api_config.listen).await?;
    let api = Server::start_on(api_config, listener, Clock::default()).await?;
    let result = quick_joins_on(base, url, label, &api).await;
    api.shutdown();
    api.wait().await;
    game.shutdown();
    game.wait().await;
    result
}

async fn quick_joins_on(
    base: &str,
    url: &str,
    label: &str,
    api: &Server,
) -> anyhow::Result<Vec<Line>> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let http = &http;
    let origin = format!("http://{}", api.addr);
    let guest_url = &format!("{origin}/v1/sessions/guest");
    let join_url = &format!("{origin}/v1/matchmaking/quick-join");
    let run = label.split_whitespace().next().unwrap_or("run");

    let accounts = WARMUP + ACCOUNTS;
    let logged_in = run_ops(accounts, WIDTH, |i| async move {
        let device = format!("bench-{run}-{i:06}");
        let session = post_json(
            http,
            guest_url,
            None,
            serde_json::json!({ "device_id": device }),
        )
        .await?;
        field(&session, "access_token")
    })
    .await?;
    anyhow::ensure!(
        logged_in.out.len() == accounts,
        "only {} of {accounts} guest logins in time",
        logged_in.out.len()
    );
    let mut login = logged_in.line(
        &format!("guest login (HTTP, {WIDTH} at once), {label}"),
        accounts,
    );
    login.note = "new accounts: account_by_device + create_account".into();
    let (warm, measured) = logged_in.out.split_at(WARMUP);

    let join = |token: &str| {
        let token = token.to_string();
        async move {
            let ticket = post_json(http, join_url, Some(&token), serde_json::json!({})).await?;
            Ok((field(&ticket, "ticket")?, field(&ticket, "match_id")?))
        }
    };
    run_ops(warm.len(), WIDTH, |i| join(&warm[i])).await?;

    // The background includes the two servers' own upkeep; it is counted once the logins'
    // counts are published.
    tokio::time::sleep(STATS_FLUSH).await;
    let (background, from) = idle_rate(base).await?;
    let joined = run_ops(measured.len(), WIDTH, |i| join(&measured[i])).await?;
    let tx = since(base, from, background).await?;
    let mut quick = joined.line(
        &format!("quick-join (HTTP, {WIDTH} at once), {label}"),
        ACCOUNTS,
    );
    quick.tx_per_op = Some(tx / joined.out.len().max(1) as f64);
    let mut fresh: Vec<&str> = joined
        .out
        .iter()
        .map(|(_, m)| m.as_str())
        .filter(|m| m.starts_with("m_"))
        .collect();
    fresh.sort_unstable();
    fresh.dedup();
    let mut all: Vec<&str> = joined.out.iter().map(|(_, m)| m.as_str()).collect();
    all.sort_unstable();
    all.dedup();
    quick.note = format!(
        "into {} matches, {} of them new; background {background:.1} tx/s taken off",
        all.len(),
        fresh.len()
    );

    // The game node's side of each join: the ticket, then the account.
    let tickets: Vec<&str> = joined.out.iter().map(|(t, _)| t.as_str()).collect();
    let tickets = &tickets;
    let from = mark(base).await?;
    let store = Store::connect(url).await?;
    let redeemed = {
        let store = &store;
        run_ops(tickets.len(), WIDTH, |i| async move {
            let claim = store.redeem_ticket(tickets[i], wall_ms()).await?;
            let TicketClaim::Valid { account_id, .. } = claim else {
                anyhow::bail!("ticket {i}: {claim:?}");
            };
            let account = store.account_by_id(account_id).await?;
            anyhow::ensure!(account.is_some(), "no account {account_id}");
            Ok(())
        })
        .await
    };
    store.close().await;
    let redeemed = redeemed?;
    let tx = since(base, from, background).await?;
    let mut redeem = redeemed.line(
        &format!("game node: redeem_ticket + account_by_id ({WIDTH} at once), {label}"),
        tickets.len(),
    );
    redeem.tx_per_op = Some(tx / redeemed.out.len().max(1) as f64);
    redeem.note = "what a realtime Hello with a ticket reads (store calls, no WebSocket)".into();
    Ok(vec![login, quick, redeem])
}

/// Step 4: ended matches, spread over the fake nodes like a long-lived node's history.
async fn add_history(url: &str, ended: i64) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let now = wall_ms();
    sqlx::query(
        "INSERT INTO matches (id, game, map, public, capacity, players, state, node_id, \
         created_by, created_at, ended_at, ends_at) \
         SELECT 'bench-h-' || g, 'arena', 'arena', 1, $3, 0, 'ended', \
         'bench-node-' || LPAD(CAST(g % $4 AS TEXT), 2, '0'), NULL, \
         $1 - 200000 - g * 10, $1 - 20000 - g * 10, $1 - 20000 - g * 10 \
         FROM generate_series(1, $2) AS g",
    )
    .bind(now)
    .bind(ended)
    .bind(ARENA_SEATS)
    .bind(NODES as i64)
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    analyze(url).await?;
    eprintln!(
        "added {ended} ended matches in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn fresh_schema(base: &str) -> anyhow::Result<(String, String)> {
    let schema = format!("tw_bench_{:08x}", rand::random::<u32>());
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .with_context(|| format!("connecting to {base}"))?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok((
        format!("{base}{sep}options=-csearch_path%3D{schema}"),
        schema,
    ))
}

async fn drop_schema(base: &str, schema: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(base).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

async fn all_steps(
    base: &str,
    schemas: &mut Vec<String>,
    history: i64,
) -> anyhow::Result<Vec<Line>> {
    let mut lines = Vec::new();
    let (url, schema) = fresh_schema(base).await?;
    schemas.push(schema);
    lines.push(heartbeats(base, &url).await?);

    let store = Store::connect(&url).await?;
    seed(&store, &url).await?;
    let live = format!("{NODES} nodes, {LIVE_MATCHES} live matches");
    lines.extend(registry_reads(&store, &live).await?);
    store.close().await;

    let (empty_url, empty) = fresh_schema(base).await?;
    schemas.push(empty);
    lines.extend(quick_joins(base, &empty_url, "empty cluster (1 game node)").await?);
    lines.extend(quick_joins(base, &url, &format!("seeded ({live})")).await?);

    if history > 0 {
        add_history(&url, history).await?;
        let label = format!("{live} + {history} ended");
        let store = Store::connect(&url).await?;
        lines.extend(registry_reads(&store, &label).await?);
        store.close().await;
        lines.extend(quick_joins(base, &url, &format!("history ({label})")).await?);
    }
    Ok(lines)
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// The 1-minute load average (other work on the machine skews every figure).
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

async fn postgres_facts(base: &str) -> anyhow::Result<String> {
    let mut conn = sqlx::PgConnection::connect(base).await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut conn)
        .await?;
    let sync: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&mut conn)
        .await?;
    let buffers: String = sqlx::query_scalar("SHOW shared_buffers")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(format!(
        "PostgreSQL {version} on loopback (synchronous_commit {sync}, shared_buffers {buffers})"
    ))
}

fn main() -> anyhow::Result<()> {
    // Cargo passes `--bench`; this harness takes no flags.
    let base = match std::env::var("TICKWIRE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            eprintln!("cluster bench skipped: TICKWIRE_TEST_POSTGRES_URL is not set");
            return Ok(());
        }
    };
    let history: i64 = match std::env::var("CLUSTER_HISTORY") {
        Ok(v) => v.parse().context("CLUSTER_HISTORY: a number of matches")?,
        Err(_) => 500_000,
    };
    let keep = std::env::var("CLUSTER_KEEP_SCHEMA").is_ok_and(|v| v == "1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let load_before = load();
    let facts = runtime.block_on(postgres_facts(&base))?;
    let mut schemas = Vec::new();
    let lines = runtime.block_on(all_steps(&base, &mut schemas, history));
    for schema in &schemas {
        if keep {
            eprintln!("kept schema {schema}");
        } else if let Err(e) = runtime.block_on(drop_schema(&base, schema)) {
            eprintln!("could not drop schema {schema}: {e}");
        }
    }
    let lines = lines?;

    println!(
        "\ncluster: PostgreSQL cost of the node registry, placement and quick-join\n\n\
         {} · {} · {} cores ({}) · servers, client and database on one machine \
         (load average {load_before} at the start, {} at the end)\n",
        humantime::format_rfc3339_seconds(SystemTime::now()),
        facts,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        load()
    );
    println!("| step | count | wall | ops/s | p50 | p99 | PG tx/op | notes |");
    println!("|---|---|---|---|---|---|---|---|");
    for l in &lines {
        let count = if l.count < l.wanted {
            format!("{} of {} (time limit)", l.count, l.wanted)
        } else {
            l.count.to_string()
        };
        let tx = l
            .tx_per_op
            .map_or_else(|| "–".to_string(), |t| format!("{t:.2}"));
        println!(
            "| {} | {count} | {:.2} s | {:.0} | {:.2} ms | {:.2} ms | {tx} | {} |",
            l.what,
            l.wall.as_secs_f64(),
            l.count as f64 / l.wall.as_secs_f64().max(1e-9),
            ms(&l.latency, 0.5),
            ms(&l.latency, 0.99),
            l.note
        );
    }
    println!(
        "\nPG tx/op: xact_commit + xact_rollback of the whole database (pg_stat_database), read \
         {} s after the work (PostgreSQL publishes an idle backend's counts that late), less a \
         background rate (other sessions on the database, the servers' own upkeep) measured over \
         an idle window just before; other sessions' bursts still add noise. The heartbeat and \
         game-node lines include connecting their store (a few transactions). Total run {:.0} s.",
        STATS_FLUSH.as_secs(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
