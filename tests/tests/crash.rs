//! Crash safety, on SQLite (WAL) and on PostgreSQL. The real server binary runs as a child
//! process under load: bots in many matches (one fleet filling 16-seat matches, one quick-joining
//! small ones), accounts registering, an admin banning, unbanning and removing leaderboard
//! records. It is killed with SIGKILL while a wave of matches is ending and writing its results,
//! restarted on the same data, and what is stored is checked in the database directly and through
//! the REST API of the restarted server. Three rounds, each on the data the previous kills left:
//!
//! - every match is all or nothing: ended with a complete result (a line per player who joined,
//!   every line with each stat of its game, the match's end time and game, the seats released,
//!   one version of every board counting it), or not ended with no line, no stat and no trace on
//!   the boards. Matches seen ended before a kill stay ended, and results checked after one kill
//!   are unchanged after the next;
//! - every account is intact: each registration the server acknowledged logs in with its
//!   password, bots' guest accounts log in with their devices, every account referenced by a
//!   result, seat or ticket exists, and accounts seen after one kill are unchanged after the next
//!   (but for their bans);
//! - every board holds exactly what the stored results imply under its operator (sum, best,
//!   latest; descending and ascending), with the audited record removals applied, and its
//!   version counts exactly the results and removals written to it; the REST pages agree;
//! - the audit log holds every admin action the server acknowledged, none that it refused, at
//!   most the ones the kill cut off, and each account's ban is what its newest ban or unban says.
//!
//! How the kill moment is chosen (see [`aim_and_kill`]): a watcher polls the `matches` table
//! every few milliseconds. The bots queue again as soon as their match ends, so the matches
//! created after this round's first match ended form the next wave (in the first round, the
//! wave after the admin's removals of a playing bot's records, which wait for its matches to
//! end, so that every round has removals before its kill). At the first of that wave
//! seen committed, the kill waits a fraction of the wave's spread of planned end times (0, 35 %,
//! 70 % by round, of at most 1.5 s), so the rounds land early, mid-way and late in the wave. On
//! PostgreSQL it then also waits (at most half a second) until one of the server's connections
//! is seen inside a write transaction on the results or the boards (`pg_stat_activity`,
//! `backend_xid`), so the kill lands while one is open. SQLite shows no such thing to another
//! process: there the moment is the computed one alone, and whether a transaction was open is
//! chance (the summary line of each round says how many of the wave's matches were stored).
//! The admin's removals and bans run on their own schedule meanwhile; some are cut off.

#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor, Row};
use tokio_util::sync::CancellationToken;

// PATIENCE bounds every wait for the server or the database to reach a state: far above what a
// run takes, so only a broken server reaches it.
use tests::process::{PATIENCE, ServerProcess as Child};
use tests::{Db, drop_postgres_schema, edited_assets, fresh_postgres_schema, postgres_url};

/// Kills, restarts and checks per test.
const ROUNDS: usize = 3;
/// Where in a wave each round kills, as a fraction of the spread of the wave's end times.
const KILL_FRACTIONS: [f64; ROUNDS] = [0.0, 0.35, 0.7];
/// The part of a wave's spread the kill delay is a fraction of, at most: a wider spread comes
/// from stragglers, and waiting on them would only make the round longer.
const MAX_SPREAD_MS: i64 = 1500;
/// Short matches, so that waves of them end within a round.
const MATCH_LENGTH_S: f32 = 2.5;
/// The lowest tick rate the arena accepts: the bots cost the machine less.
const TICK_RATE: u32 = 10;
/// Bots that fill 16-seat matches one after another (big result transactions).
const FULL_MATCH_BOTS: u32 = 32;
/// Bots that quick-join: many small matches.
const QUICK_JOIN_BOTS: u32 = 12;
/// When in a round (a few seconds before its kill) an account registers with a password. One
/// a round: a password hash takes seconds in a debug build, and each is checked by a login.
const REGISTRATION_AFTER: Duration = Duration::from_secs(4);
/// Guest accounts whose device login is tried after each restart.
const GUEST_LOGINS: usize = 12;
/// How long the kill waits on PostgreSQL for a results transaction to be seen open.
const OPEN_TRANSACTION_PATIENCE: Duration = Duration::from_millis(500);
/// The admin key, from the config file.
const ADMIN_KEY: &str = "twadmin_crash_test_0123456789abcdef";
/// Bans are permanent: `banned_until` holds this.
const PERMANENT: i64 = i64::MAX;
/// The arena's stats, in declaration order.
const ARENA_STATS: [&str; 2] = ["kills", "deaths"];

/// One test at a time: each loads the machine with its server and bots on purpose, and two at
/// once would only stretch both. (A tokio mutex: it is held across the whole test.)
static LOAD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_keeps_results_accounts_boards_and_audit_consistent_on_sqlite()
-> anyhow::Result<()> {
    let _one_at_a_time = LOAD.lock().await;
    crash_safety(Db::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_keeps_results_accounts_boards_and_audit_consistent_on_postgres()
-> anyhow::Result<()> {
    if postgres_url().is_none() {
        return Ok(());
    }
    let _one_at_a_time = LOAD.lock().await;
    crash_safety(Db::Postgres).await
}

// ---- boards ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Sum,
    Best,
    Latest,
}

/// A board as configured for the server, and recomputed here from the stored results.
struct Board {
    id: &'static str,
    metric: &'static str,
    op: Op,
    /// Lower is better.
    asc: bool,
}

const BOARDS: [Board; 5] = [
    Board {
        id: "total",
        metric: "score",
        op: Op::Sum,
        asc: false,
    },
    Board {
        id: "best",
        metric: "score",
        op: Op::Best,
        asc: false,
    },
    Board {
        id: "latest",
        metric: "score",
        op: Op::Latest,
        asc: false,
    },
    Board {
        id: "kills",
        metric: "kills",
        op: Op::Sum,
        asc: false,
    },
    Board {
        id: "fewest_deaths",
        metric: "deaths",
        op: Op::Best,
        asc: true,
    },
];

impl Board {
    fn toml(&self) -> String {
        let op = match self.op {
            Op::Sum => "sum",
            Op::Best => "best",
            Op::Latest => "latest",
        };
        let order = if self.asc { "asc" } else { "desc" };
        format!(
            "[[leaderboards]]\nid = \"{}\"\nmetric = \"{}\"\noperator = \"{op}\"\norder = \"{order}\"\n\n",
            self.id, self.metric
        )
    }

    /// The values the board may hold for an account whose results are `lines` (value, ended
    /// at), none if there are none. One value, except that `latest` accepts any of the lines
    /// that ended last if several ended in the same millisecond (their commit order decides,
    /// and nothing stored records it).
    fn fold(&self, lines: &[(i64, i64)]) -> Option<BTreeSet<i64>> {
        let last = lines.iter().map(|&(_, at)| at).max()?;
        let value = match self.op {
            Op::Sum => lines.iter().map(|&(v, _)| v).sum(),
            Op::Best if self.asc => lines.iter().map(|&(v, _)| v).min()?,
            Op::Best => lines.iter().map(|&(v, _)| v).max()?,
            Op::Latest => {
                return Some(
                    lines
                        .iter()
                        .filter(|&&(_, at)| at == last)
                        .map(|&(v, _)| v)
                        .collect(),
                );
            }
        };
        Some(BTreeSet::from([value]))
    }
}

fn config_toml() -> String {
    let mut text = format!(
        "admin_key = \"{ADMIN_KEY}\"\n\n[limits]\nleaderboard_snapshot_lag_ms = 0\n\
         auth_attempts_per_address_per_minute = 1000000\n\
         auth_attempts_per_username_per_minute = 1000000\n\
         guest_logins_per_address_per_minute = 1000000\n\n"
    );
    for board in &BOARDS {
        text.push_str(&board.toml());
    }
    text
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

// ---- the server as a child process ----

/// How to start the server, the same way every time.
struct Setup {
    data_dir: PathBuf,
    assets: PathBuf,
    config: PathBuf,
    /// `None`: SQLite in the data directory.
    database_url: Option<String>,
    /// The URL the test reads the database with.
    check_url: String,
    /// The server's stderr (its log), appended to by every start.
    log: PathBuf,
    http: reqwest::Client,
}

impl Setup {
    /// Starts the server binary and waits until it answers `/readyz`.
    async fn start(&self) -> anyhow::Result<Child> {
        let mut args: Vec<std::ffi::OsString> = vec![
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data-dir".into(),
            self.data_dir.clone().into(),
            "--no-tls".into(),
            "--assets".into(),
            self.assets.clone().into(),
            "--config".into(),
            self.config.clone().into(),
        ];
        if let Some(url) = &self.database_url {
            args.extend(["--database-url".into(), url.into()]);
        }
        let binary = Path::new(env!("CARGO_BIN_EXE_tickwire-server"));
        Child::start(binary, args, &[], &self.log, &self.http).await
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

async fn connect_db(url: &str) -> anyhow::Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    AnyPoolOptions::new()
        .max_connections(2)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    // The server writes meanwhile: wait for its locks rather than fail.
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .with_context(|| format!("connecting to {url}"))
}

// ---- what the test did ----

/// What came of a request the test sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Sent, no answer yet or ever: the kill may have cut it off before or after it was stored.
    Unknown,
    /// The server answered 2xx: it must be stored.
    Done,
    /// The server answered 4xx: nothing may be stored.
    Refused,
}

impl Outcome {
    fn of(status: StatusCode) -> Outcome {
        if status.is_success() {
            Outcome::Done
        } else if status.is_client_error() {
            Outcome::Refused
        } else {
            // A 5xx says the write failed, but nothing here relies on it.
            Outcome::Unknown
        }
    }
}

#[derive(Debug, Clone)]
struct Registration {
    username: String,
    password: String,
    account_id: Option<i64>,
    outcome: Outcome,
}

/// An admin action: its audit row would be (`action`, `target`) with `reason` in the detail
/// (each ban's reason is unique, so each ban names its own row).
#[derive(Debug, Clone)]
struct AdminCall {
    action: &'static str,
    target: String,
    reason: Option<String>,
    outcome: Outcome,
}

#[derive(Debug, Default, Clone)]
struct Ledger {
    /// Guest accounts the test made for the admin to work on: (device, account).
    guests: Vec<(String, i64)>,
    registrations: Vec<Registration>,
    admin: Vec<AdminCall>,
    /// Matches the watcher saw ended (committed) before a kill: they must stay so.
    seen_ended: BTreeSet<String>,
    /// Registrations whose login (or its refusal) was checked after a restart.
    logged_in: BTreeSet<String>,
}

type Shared = Arc<Mutex<Ledger>>;

fn ledger(shared: &Shared) -> std::sync::MutexGuard<'_, Ledger> {
    // A std mutex, never held across an await.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

// ---- what is stored ----

#[derive(Debug, Clone, PartialEq, Eq)]
struct MatchRow {
    game: String,
    state: String,
    players: i64,
    created_at: i64,
    ends_at: Option<i64>,
    ended_at: Option<i64>,
    /// Ended without results: its server died while it ran.
    abandoned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    match_id: String,
    account_id: i64,
    player_id: i64,
    username: String,
    score: i64,
    game: String,
    ended_at: i64,
    /// (stat, ordinal, value), in ordinal order.
    stats: Vec<(String, i64, i64)>,
}

impl Line {
    fn value(&self, metric: &str) -> Option<i64> {
        if metric == "score" {
            return Some(self.score);
        }
        self.stats
            .iter()
            .find(|(stat, _, _)| stat == metric)
            .map(|&(_, _, v)| v)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AccountRow {
    username: String,
    username_key: String,
    password_hash: Option<String>,
    device_id: Option<String>,
    guest: i64,
    role: String,
    created_at: i64,
    banned_until: Option<i64>,
    ban_reason: Option<String>,
}

#[derive(Debug, Clone)]
struct Record {
    account_id: i64,
    username: String,
    score: i64,
    sort_key: i64,
    achieved_at: i64,
}

#[derive(Debug, Clone)]
struct AuditRow {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    target: String,
    detail: Value,
}

/// Everything the checks read, in one pass over the tables.
#[derive(Debug, Default)]
struct Stored {
    matches: BTreeMap<String, MatchRow>,
    /// By (match, account).
    lines: BTreeMap<(String, i64), Line>,
    /// Stats rows without a result line.
    orphan_stats: Vec<(String, i64)>,
    seats: Vec<(String, i64)>,
    /// (match, account) of every used join ticket, and every ticket's account.
    used_tickets: BTreeSet<(String, i64)>,
    ticket_accounts: BTreeSet<i64>,
    accounts: BTreeMap<i64, AccountRow>,
    /// Current records (`valid_to IS NULL`) by board, of season 0 (no board here resets).
    records: BTreeMap<String, Vec<Record>>,
    /// Records of any other season.
    other_seasons: usize,
    versions: BTreeMap<String, i64>,
    audit: Vec<AuditRow>,
}

async fn read_stored(pool: &AnyPool) -> anyhow::Result<Stored> {
    let mut stored = Stored::default();
    for r in sqlx::query(
        "SELECT id, game, state, players, created_at, ends_at, ended_at, abandoned FROM matches",
    )
    .fetch_all(pool)
    .await?
    {
        stored.matches.insert(
            r.try_get("id")?,
            MatchRow {
                game: r.try_get("game")?,
                state: r.try_get("state")?,
                players: r.try_get("players")?,
                created_at: r.try_get("created_at")?,
                ends_at: r.try_get("ends_at")?,
                ended_at: r.try_get("ended_at")?,
                abandoned: r.try_get::<i64, _>("abandoned")? != 0,
            },
        );
    }
    for r in sqlx::query(
        "SELECT match_id, account_id, player_id, username, score, game, ended_at FROM match_results",
    )
    .fetch_all(pool)
    .await?
    {
        let line = Line {
            match_id: r.try_get("match_id")?,
            account_id: r.try_get("account_id")?,
            player_id: r.try_get("player_id")?,
            username: r.try_get("username")?,
            score: r.try_get("score")?,
            game: r.try_get("game")?,
            ended_at: r.try_get("ended_at")?,
            stats: Vec::new(),
        };
        stored
            .lines
            .insert((line.match_id.clone(), line.account_id), line);
    }
    for r in sqlx::query(
        "SELECT match_id, account_id, stat, ordinal, value FROM match_result_stats \
         ORDER BY match_id, account_id, ordinal",
    )
    .fetch_all(pool)
    .await?
    {
        let key: (String, i64) = (r.try_get("match_id")?, r.try_get("account_id")?);
        let stat = (
            r.try_get("stat")?,
            r.try_get("ordinal")?,
            r.try_get("value")?,
        );
        match stored.lines.get_mut(&key) {
            Some(line) => line.stats.push(stat),
            None => stored.orphan_stats.push(key),
        }
    }
    for r in sqlx::query("SELECT match_id, account_id FROM match_seats")
        .fetch_all(pool)
        .await?
    {
        stored
            .seats
            .push((r.try_get("match_id")?, r.try_get("account_id")?));
    }
    for r in sqlx::query("SELECT match_id, account_id, used_at FROM join_tickets")
        .fetch_all(pool)
        .await?
    {
        let account: i64 = r.try_get("account_id")?;
        stored.ticket_accounts.insert(account);
        if r.try_get::<Option<i64>, _>("used_at")?.is_some() {
            stored
                .used_tickets
                .insert((r.try_get("match_id")?, account));
        }
    }
    for r in sqlx::query(
        "SELECT id, username, username_key, password_hash, device_id, guest, role, created_at, \
         banned_until, ban_reason FROM accounts",
    )
    .fetch_all(pool)
    .await?
    {
        stored.accounts.insert(
            r.try_get("id")?,
            AccountRow {
                username: r.try_get("username")?,
                username_key: r.try_get("username_key")?,
                password_hash: r.try_get("password_hash")?,
                device_id: r.try_get("device_id")?,
                guest: r.try_get("guest")?,
                role: r.try_get("role")?,
                created_at: r.try_get("created_at")?,
                banned_until: r.try_get("banned_until")?,
                ban_reason: r.try_get("ban_reason")?,
            },
        );
    }
    for r in sqlx::query(
        "SELECT board_id, season, account_id, username, score, sort_key, achieved_at \
         FROM leaderboard_records WHERE valid_to IS NULL \
         ORDER BY board_id, sort_key, achieved_at, account_id",
    )
    .fetch_all(pool)
    .await?
    {
        if r.try_get::<i64, _>("season")? != 0 {
            stored.other_seasons += 1;
            continue;
        }
        stored
            .records
            .entry(r.try_get("board_id")?)
            .or_default()
            .push(Record {
                account_id: r.try_get("account_id")?,
                username: r.try_get("username")?,
                score: r.try_get("score")?,
                sort_key: r.try_get("sort_key")?,
                achieved_at: r.try_get("achieved_at")?,
            });
    }
    for r in sqlx::query("SELECT board_id, season, version FROM leaderboard_versions")
        .fetch_all(pool)
        .await?
    {
        if r.try_get::<i64, _>("season")? != 0 {
            stored.other_seasons += 1;
            continue;
        }
        stored
            .versions
            .insert(r.try_get("board_id")?, r.try_get("version")?);
    }
    for r in
        sqlx::query("SELECT id, at, actor, action, target, detail FROM admin_audit ORDER BY id")
            .fetch_all(pool)
            .await?
    {
        let detail: String = r.try_get("detail")?;
        stored.audit.push(AuditRow {
            id: r.try_get("id")?,
            at: r.try_get("at")?,
            actor: r.try_get("actor")?,
            action: r.try_get("action")?,
            target: r.try_get("target")?,
            detail: serde_json::from_str(&detail).unwrap_or(Value::String(detail)),
        });
    }
    Ok(stored)
}

// ---- the checks ----

/// The record removals the audit log holds: (board, account) → when the last one was made.
fn removals(stored: &Stored) -> BTreeMap<(String, i64), i64> {
    let mut removed = BTreeMap::new();
    for row in stored
        .audit
        .iter()
        .filter(|r| r.action == "leaderboard.remove_record")
    {
        // Target: `leaderboard:<board>:<season>:<account>`.
        let parts: Vec<&str> = row.target.split(':').collect();
        if let [_, board, _, account] = parts[..]
            && let Ok(account) = account.parse::<i64>()
        {
            let at = removed
                .entry((board.to_string(), account))
                .or_insert(row.at);
            *at = (*at).max(row.at);
        }
    }
    removed
}

/// Checks what is stored after a kill against the schema's idea of a complete result, the
/// results against the boards, and both against what the test did. Answers every violation.
fn check_stored(stored: &Stored, ledger: &Ledger, before: Option<&Stored>) -> Vec<String> {
    let mut bad = Vec::new();

    // Matches: all or nothing.
    let mut by_match: BTreeMap<&str, Vec<&Line>> = BTreeMap::new();
    for line in stored.lines.values() {
        by_match.entry(&line.match_id).or_default().push(line);
        if !stored.matches.contains_key(&line.match_id) {
            bad.push(format!("a result line of an unknown match: {line:?}"));
        }
    }
    for orphan in &stored.orphan_stats {
        bad.push(format!("stats without a result line: {orphan:?}"));
    }
    let mut ended_with_lines = 0;
    for (id, m) in &stored.matches {
        let lines = by_match.get(id.as_str()).cloned().unwrap_or_default();
        let seats = stored.seats.iter().filter(|(s, _)| s == id).count();
        if m.state == "ended" {
            ended_with_lines += usize::from(!lines.is_empty());
            // A match the kill cut off is ended as abandoned when the server comes back (its
            // simulation died with the process), with no result line: one that had finished
            // (and has its lines) is never abandoned afterwards.
            if m.abandoned && !lines.is_empty() {
                bad.push(format!("match {id} is abandoned but has result lines"));
            }
            if !m.abandoned && lines.is_empty() {
                bad.push(format!("match {id} ended without a result line"));
            }
            if m.ended_at.is_none() || m.players != 0 || seats != 0 {
                bad.push(format!(
                    "match {id} ended half-way: {m:?}, {seats} seats still held"
                ));
            }
            let mut players = BTreeSet::new();
            for line in &lines {
                let stats: Vec<(&str, i64)> = line
                    .stats
                    .iter()
                    .map(|(s, o, _)| (s.as_str(), *o))
                    .collect();
                if Some(line.ended_at) != m.ended_at
                    || line.game != m.game
                    || stats != [(ARENA_STATS[0], 0), (ARENA_STATS[1], 1)]
                    || !players.insert(line.player_id)
                {
                    bad.push(format!("match {id} has an incomplete line: {line:?}"));
                }
                if !stored.used_tickets.contains(&(id.clone(), line.account_id)) {
                    bad.push(format!(
                        "match {id}: account {} has a result but never joined",
                        line.account_id
                    ));
                }
            }
        } else if !lines.is_empty() || m.ended_at.is_some() {
            bad.push(format!(
                "match {id} is not ended but has {} result lines: {m:?}",
                lines.len()
            ));
        }
    }
    for id in &ledger.seen_ended {
        if stored.matches.get(id).is_none_or(|m| m.state != "ended") {
            bad.push(format!(
                "match {id} was seen ended before the kill and is not now"
            ));
        }
    }
    if let Some(before) = before {
        for (key, line) in &before.lines {
            if stored.lines.get(key) != Some(line) {
                bad.push(format!(
                    "a result line changed since the last restart: {line:?} is now {:?}",
                    stored.lines.get(key)
                ));
            }
        }
    }

    // Accounts: intact, and every one acknowledged is there.
    for (id, a) in &stored.accounts {
        let shape_ok = a.username_key == a.username.to_lowercase()
            && a.role == "player"
            && if a.guest == 1 {
                a.device_id.is_some() && a.password_hash.is_none()
            } else {
                a.guest == 0 && a.password_hash.is_some() && a.device_id.is_none()
            };
        if !shape_ok {
            bad.push(format!("account {id} is not a whole account: {a:?}"));
        }
    }
    for r in &ledger.registrations {
        let found = stored
            .accounts
            .iter()
            .find(|(_, a)| a.username == r.username);
        match (r.outcome, found) {
            (Outcome::Done, None) => bad.push(format!(
                "registration of {} was acknowledged but is not stored",
                r.username
            )),
            (Outcome::Done, Some((id, _))) if Some(*id) != r.account_id => bad.push(format!(
                "{} is stored as account {id}, not {:?}",
                r.username, r.account_id
            )),
            _ => {}
        }
    }
    let referenced = stored
        .lines
        .values()
        .map(|l| l.account_id)
        .chain(stored.seats.iter().map(|&(_, a)| a))
        .chain(stored.ticket_accounts.iter().copied());
    for account in referenced.collect::<BTreeSet<_>>() {
        if !stored.accounts.contains_key(&account) {
            bad.push(format!("account {account} is referenced but missing"));
        }
    }
    if let Some(before) = before {
        for (id, a) in &before.accounts {
            let now = stored.accounts.get(id).map(|n| AccountRow {
                banned_until: a.banned_until,
                ban_reason: a.ban_reason.clone(),
                ..n.clone()
            });
            if now.as_ref() != Some(a) {
                bad.push(format!(
                    "account {id} changed since the last restart: {a:?} is now {:?}",
                    stored.accounts.get(id)
                ));
            }
        }
    }

    // The audit log against the admin's calls: every acknowledged one, no refused one, at most
    // the cut-off ones.
    let key_of = |action: &str, target: &str, detail: Option<&str>| {
        format!("{action} {target} {}", detail.unwrap_or(""))
    };
    let mut calls: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for call in &ledger.admin {
        let entry = calls
            .entry(key_of(call.action, &call.target, call.reason.as_deref()))
            .or_default();
        match call.outcome {
            Outcome::Done => entry.0 += 1,
            Outcome::Unknown => entry.1 += 1,
            Outcome::Refused => {}
        }
    }
    let mut rows: BTreeMap<String, usize> = BTreeMap::new();
    for row in &stored.audit {
        if row.actor != "admin-key" {
            bad.push(format!("an audit row by someone else: {row:?}"));
        }
        let reason = (row.action == "ban")
            .then(|| row.detail["reason"].as_str())
            .flatten();
        *rows
            .entry(key_of(&row.action, &row.target, reason))
            .or_default() += 1;
    }
    for key in calls.keys().chain(rows.keys()).collect::<BTreeSet<_>>() {
        let (done, unknown) = calls.get(key).copied().unwrap_or_default();
        let logged = rows.get(key).copied().unwrap_or_default();
        if logged < done || logged > done + unknown {
            bad.push(format!(
                "audit rows for `{key}`: {logged}, for {done} acknowledged and {unknown} cut-off calls"
            ));
        }
    }
    // Each account's ban is what its newest ban or unban row says (no row: never banned).
    let mut newest: BTreeMap<i64, &AuditRow> = BTreeMap::new();
    for row in stored
        .audit
        .iter()
        .filter(|r| r.action == "ban" || r.action == "unban")
    {
        if let Some(Ok(account)) = row.target.strip_prefix("account:").map(str::parse) {
            newest.insert(account, row);
        }
    }
    for (id, a) in &stored.accounts {
        let expected = match newest.get(id) {
            Some(row) if row.action == "ban" => (
                Some(PERMANENT),
                row.detail["reason"].as_str().map(String::from),
            ),
            _ => (None, None),
        };
        if (a.banned_until, a.ban_reason.clone()) != expected {
            bad.push(format!(
                "account {id}'s ban {:?} is not its newest audit row's {expected:?}",
                (a.banned_until, &a.ban_reason)
            ));
        }
    }

    // Boards: what the stored results imply, after the audited removals.
    let removed = removals(stored);
    if stored.other_seasons > 0 {
        bad.push(format!(
            "{} rows of a season no board has",
            stored.other_seasons
        ));
    }
    for board in &BOARDS {
        let mut lines_of: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
        for line in stored.lines.values() {
            let cut = removed
                .get(&(board.id.to_string(), line.account_id))
                .copied()
                .unwrap_or(i64::MIN);
            if let Some(value) = line.value(board.metric)
                && line.ended_at > cut
            {
                lines_of
                    .entry(line.account_id)
                    .or_default()
                    .push((value, line.ended_at));
            }
        }
        let records = stored.records.get(board.id).cloned().unwrap_or_default();
        let mut held: BTreeMap<i64, &Record> = BTreeMap::new();
        for record in &records {
            if held.insert(record.account_id, record).is_some() {
                bad.push(format!(
                    "board {}: two current records of account {}",
                    board.id, record.account_id
                ));
            }
        }
        for account in lines_of.keys().chain(held.keys()).collect::<BTreeSet<_>>() {
            let lines = lines_of.get(account).map(Vec::as_slice).unwrap_or_default();
            let expected = board.fold(lines);
            let record = held.get(account);
            let ok = match (&expected, record) {
                (None, None) => true,
                (Some(values), Some(r)) => {
                    values.contains(&r.score)
                        && lines.iter().any(|&(_, at)| at == r.achieved_at)
                        && r.sort_key == if board.asc { r.score } else { -r.score }
                        && stored
                            .accounts
                            .get(account)
                            .is_some_and(|a| a.username == r.username)
                }
                _ => false,
            };
            if !ok {
                bad.push(format!(
                    "board {}: account {account} holds {record:?}, its results {lines:?} give {expected:?}",
                    board.id
                ));
            }
        }
        let writes = ended_with_lines
            + stored
                .audit
                .iter()
                .filter(|r| {
                    r.action == "leaderboard.remove_record"
                        && r.target.starts_with(&format!("leaderboard:{}:", board.id))
                })
                .count();
        let version = stored.versions.get(board.id).copied().unwrap_or(0);
        if version != writes as i64 {
            bad.push(format!(
                "board {}: version {version}, but {ended_with_lines} ended matches and the audited removals make {writes}",
                board.id
            ));
        }
    }
    bad
}

/// What the REST API of the restarted server says agrees with what is stored.
async fn check_api(
    setup: &Setup,
    server: &Child,
    stored: &Stored,
    ledger: &Ledger,
) -> anyhow::Result<Vec<String>> {
    let mut bad = Vec::new();
    let call = |method: Method, path: String, token: Option<&'static str>, body: Option<Value>| {
        let mut req = setup.http.request(method, format!("{}{path}", server.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        async move {
            let resp = req.send().await?;
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            Ok::<_, anyhow::Error>((status, body))
        }
    };

    for board in &BOARDS {
        let mut listed = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let path = match &cursor {
                Some(c) => format!("/v1/leaderboards/{}?limit=100&cursor={c}", board.id),
                None => format!("/v1/leaderboards/{}?limit=100", board.id),
            };
            let (status, page) = call(Method::GET, path, None, None).await?;
            anyhow::ensure!(
                status == StatusCode::OK,
                "board {}: {status} {page}",
                board.id
            );
            for r in page["records"].as_array().context("records")? {
                listed.push((
                    r["account_id"].as_i64().context("account_id")?,
                    r["score"].as_i64().context("score")?,
                ));
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        let expected: Vec<(i64, i64)> = stored
            .records
            .get(board.id)
            .map(|rs| rs.iter().map(|r| (r.account_id, r.score)).collect())
            .unwrap_or_default();
        if listed != expected {
            bad.push(format!(
                "GET /v1/leaderboards/{} lists {listed:?}, the database holds {expected:?}",
                board.id
            ));
        }
    }

    let mut audit = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let path = match &cursor {
            Some(c) => format!("/v1/admin/audit?limit=100&cursor={c}"),
            None => "/v1/admin/audit?limit=100".to_string(),
        };
        let (status, page) = call(Method::GET, path, Some(ADMIN_KEY), None).await?;
        anyhow::ensure!(status == StatusCode::OK, "audit: {status} {page}");
        for e in page["entries"].as_array().context("entries")? {
            audit.push((
                e["id"].as_i64().context("id")?,
                e["action"].as_str().context("action")?.to_string(),
                e["target"].as_str().context("target")?.to_string(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let expected: Vec<(i64, String, String)> = stored
        .audit
        .iter()
        .rev()
        .map(|r| (r.id, r.action.clone(), r.target.clone()))
        .collect();
    if audit != expected {
        bad.push(format!(
            "GET /v1/admin/audit lists {audit:?}, the database holds {expected:?}"
        ));
    }

    // Logins: every stored account logs in (or is refused as banned); a registration the kill
    // cut off before it was stored does not. Registrations checked after an earlier kill are not
    // tried again (a password check takes seconds in a debug build): `check_stored` found the
    // stored ones unchanged since, and one that was not stored then never will be.
    let banned = |id: i64| {
        stored
            .accounts
            .get(&id)
            .is_some_and(|a| a.banned_until.is_some())
    };
    let logins = ledger
        .registrations
        .iter()
        .filter(|r| r.outcome != Outcome::Refused && !ledger.logged_in.contains(&r.username))
        .map(|r| async move {
            let stored_id = stored
                .accounts
                .iter()
                .find(|(_, a)| a.username == r.username)
                .map(|(id, _)| *id);
            let url = format!("{}/v1/sessions", server.base);
            let body = json!({ "username": r.username, "password": r.password });
            let (status, body) = post(&setup.http, &url, body).await?;
            let ok = match stored_id {
                Some(id) if banned(id) => status == StatusCode::FORBIDDEN,
                Some(id) => status == StatusCode::OK && body["account_id"].as_i64() == Some(id),
                None => status == StatusCode::UNAUTHORIZED,
            };
            Ok::<_, anyhow::Error>((!ok).then(|| {
                format!(
                    "login of {} (stored as {stored_id:?}): {status} {body}",
                    r.username
                )
            }))
        });
    // At once: each is a password check, slow in a debug build.
    for failed in futures_util::future::join_all(logins).await {
        bad.extend(failed?);
    }
    // Guests: the test's own, and some of the bots.
    let bots: Vec<(&str, i64)> = stored
        .accounts
        .iter()
        .filter_map(|(id, a)| Some((a.device_id.as_deref()?, *id)))
        .collect();
    let step = (bots.len() / GUEST_LOGINS).max(1);
    let guests = ledger
        .guests
        .iter()
        .map(|(device, id)| (device.as_str(), *id))
        .chain(bots.into_iter().step_by(step));
    for (device, id) in guests {
        let url = format!("{}/v1/sessions/guest", server.base);
        let (status, body) = post(&setup.http, &url, json!({ "device_id": device })).await?;
        let ok = if banned(id) {
            status == StatusCode::FORBIDDEN
        } else {
            status == StatusCode::OK && body["account_id"].as_i64() == Some(id)
        };
        if !ok {
            bad.push(format!("guest login of account {id}: {status} {body}"));
        }
    }
    Ok(bad)
}

// ---- the load ----

/// POSTs `body` to `url`: the status and the JSON body (null if there is none).
async fn post(
    http: &reqwest::Client,
    url: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    let resp = http.post(url).json(&body).send().await?;
    let status = resp.status();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

/// One fleet of bots against `base` until `stop`.
fn fleet(
    base: &str,
    bots: u32,
    map: Option<&str>,
    seed: u64,
    stop: &CancellationToken,
) -> tokio::task::JoinHandle<Result<bot_client::Report, bot_client::RunError>> {
    let mut args = bot_client::Args::new(base);
    args.bots = bots;
    args.insecure = true;
    args.quiet = true;
    args.seed = seed;
    args.map = map.map(String::from);
    // Stopped by `stop` after the kill, long before this.
    args.duration = Duration::from_secs(600);
    tokio::spawn(bot_client::run_with(
        args,
        bot_client::RunOptions {
            stop: stop.clone(),
            ..Default::default()
        },
    ))
}

/// Records an admin call (as cut off) and sends it; records the answer, if the server gave one.
async fn admin(
    round: &Round,
    method: Method,
    path: String,
    body: Option<Value>,
    call: AdminCall,
) -> Option<(StatusCode, Value)> {
    let index = {
        let mut l = ledger(&round.ledger);
        l.admin.push(call);
        l.admin.len() - 1
    };
    let mut req = round
        .http
        .request(method, format!("{}{path}", round.base))
        .bearer_auth(ADMIN_KEY);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.ok()?;
    let status = resp.status();
    ledger(&round.ledger).admin[index].outcome = Outcome::of(status);
    Some((status, resp.json().await.unwrap_or(Value::Null)))
}

async fn ban(round: &Round, account: i64, reason: String) -> Option<(StatusCode, Value)> {
    admin(
        round,
        Method::POST,
        format!("/v1/admin/accounts/{account}/ban"),
        Some(json!({ "reason": reason })),
        AdminCall {
            action: "ban",
            target: format!("account:{account}"),
            reason: Some(reason),
            outcome: Outcome::Unknown,
        },
    )
    .await
}

async fn unban(round: &Round, account: i64) -> Option<(StatusCode, Value)> {
    admin(
        round,
        Method::DELETE,
        format!("/v1/admin/accounts/{account}/ban"),
        None,
        AdminCall {
            action: "unban",
            target: format!("account:{account}"),
            reason: None,
            outcome: Outcome::Unknown,
        },
    )
    .await
}

async fn remove_record(round: &Round, board: &str, account: i64) -> Option<(StatusCode, Value)> {
    admin(
        round,
        Method::DELETE,
        format!("/v1/admin/leaderboards/{board}/records/{account}"),
        None,
        AdminCall {
            action: "leaderboard.remove_record",
            target: format!("leaderboard:{board}:all:{account}"),
            reason: None,
            outcome: Outcome::Unknown,
        },
    )
    .await
}

/// Records a registration (as cut off) and sends it; records the answer, if the server gave one.
async fn register(
    http: &reqwest::Client,
    base: &str,
    shared: &Shared,
    username: String,
) -> Option<(StatusCode, Value)> {
    let password = format!("{username}-password");
    let body = json!({ "username": username, "password": password });
    let index = {
        let mut l = ledger(shared);
        l.registrations.push(Registration {
            username,
            password,
            account_id: None,
            outcome: Outcome::Unknown,
        });
        l.registrations.len() - 1
    };
    let resp = http
        .post(format!("{base}/v1/accounts"))
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = resp.status();
    ledger(shared).registrations[index].outcome = Outcome::of(status);
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    ledger(shared).registrations[index].account_id = body["account_id"].as_i64();
    Some((status, body))
}

/// One round's shared state.
struct Round {
    index: usize,
    base: String,
    http: reqwest::Client,
    ledger: Shared,
    /// Unix ms when the round's load began.
    start_ms: i64,
    /// Accounts that do not play (the test's guests and registered accounts, bots of earlier
    /// rounds): their bans and removals cannot race a result.
    idle: Vec<i64>,
    /// Idle bots with records, for removals.
    idle_with_records: Vec<i64>,
    /// Cancelled when the admin is done with this round's victim (its records removed, or
    /// given up).
    victim_done: CancellationToken,
}

/// The admin during a round: removals of idle accounts' records (one of them refused), then a
/// ban of a bot of this round once its first results are in, and removals of its records once
/// every match it played has ended; all along, bans and unbans of idle accounts, until `stop`.
async fn admin_round(round: Arc<Round>, watch: AnyPool, stop: CancellationToken) {
    let r = round.as_ref();
    for &account in &r.idle_with_records {
        remove_record(r, "latest", account).await;
        remove_record(r, "fewest_deaths", account).await;
    }
    // The test's own guests never play, so this one has no record: refused, and not logged.
    if let Some(&account) = r.idle.first() {
        remove_record(r, "total", account).await;
    }
    let mut victim_done = false;
    let mut n = 0usize;
    while !stop.is_cancelled() {
        if !victim_done && let Ok(Some(victim)) = fresh_bot_with_results(&watch, r.start_ms).await {
            victim_done = true;
            remove_victim(r, &watch, &stop, victim).await;
            r.victim_done.cancel();
            continue;
        }
        if !r.idle.is_empty() {
            let account = r.idle[n / 2 % r.idle.len()];
            if n.is_multiple_of(2) {
                ban(r, account, format!("crash test round {} ban {n}", r.index)).await;
            } else {
                unban(r, account).await;
            }
            n += 1;
        }
        // Pacing, so the admin is one client among the bots rather than a flood.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Bans `victim`, a bot still playing, and removes its records once all its results are in, so
/// that none of them ends after the removal: the matches it was kicked from have ended, and it
/// holds no seat in a match still to end (it cannot take a new one while banned).
async fn remove_victim(r: &Round, watch: &AnyPool, stop: &CancellationToken, victim: i64) {
    let reason = format!("crash test round {} victim", r.index);
    let Some((StatusCode::OK, body)) = ban(r, victim, reason).await else {
        return;
    };
    let kicked: Vec<String> = body["kicked_from"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let settled = tokio::select! {
        _ = stop.cancelled() => false,
        settled = settle(watch, victim, kicked) => settled,
    };
    if settled {
        for board in ["total", "best", "kills"] {
            remove_record(r, board, victim).await;
        }
    }
}

/// A bot account of this round with a stored result.
async fn fresh_bot_with_results(pool: &AnyPool, since_ms: i64) -> anyhow::Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT r.account_id FROM match_results r JOIN accounts a ON a.id = r.account_id \
         WHERE a.guest = 1 AND a.created_at >= $1 ORDER BY r.ended_at, r.account_id LIMIT 1",
    )
    .bind(since_ms)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.try_get("account_id")).transpose()?)
}

/// Waits until `account` has no result still to come: `kicked` matches ended, no seat held in
/// a match that has not. `false` if that did not happen in time.
async fn settle(pool: &AnyPool, account: i64, kicked: Vec<String>) -> bool {
    // Well inside the kill's own patience with the victim.
    let deadline = Instant::now() + PATIENCE / 2;
    while Instant::now() < deadline {
        let mut pending = 0i64;
        for id in &kicked {
            let row =
                sqlx::query("SELECT COUNT(*) AS n FROM matches WHERE id = $1 AND state <> 'ended'")
                    .bind(id)
                    .fetch_one(pool)
                    .await;
            pending += row.and_then(|r| r.try_get::<i64, _>("n")).unwrap_or(1);
        }
        let seats = sqlx::query(
            "SELECT COUNT(*) AS n FROM match_seats s JOIN matches m ON m.id = s.match_id \
             WHERE s.account_id = $1 AND m.state <> 'ended'",
        )
        .bind(account)
        .fetch_one(pool)
        .await;
        pending += seats.and_then(|r| r.try_get::<i64, _>("n")).unwrap_or(1);
        if pending == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Registers an account while the bots play, late enough in the round that its registration
/// (a password hash, which takes seconds in a debug build) may still be under way at the kill.
async fn register_round(round: Arc<Round>, stop: CancellationToken) {
    tokio::select! {
        _ = stop.cancelled() => return,
        _ = tokio::time::sleep(REGISTRATION_AFTER) => {}
    }
    let username = format!("crash{}", round.index);
    register(&round.http, &round.base, &round.ledger, username).await;
}

// ---- aiming the kill ----

/// A match as the watcher sees it.
struct Seen {
    state: String,
    created_at: i64,
    ends_at: Option<i64>,
    ended_at: Option<i64>,
}

/// Reads the matches, and remembers every one seen ended: it was committed, so it must survive
/// the kill.
async fn watch_matches(pool: &AnyPool, shared: &Shared) -> anyhow::Result<BTreeMap<String, Seen>> {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    for r in sqlx::query("SELECT id, state, created_at, ends_at, ended_at FROM matches")
        .fetch_all(pool)
        .await?
    {
        seen.insert(
            r.try_get("id")?,
            Seen {
                state: r.try_get("state")?,
                created_at: r.try_get("created_at")?,
                ends_at: r.try_get("ends_at")?,
                ended_at: r.try_get("ended_at")?,
            },
        );
    }
    let mut l = ledger(shared);
    for (id, m) in &seen {
        if m.state == "ended" {
            l.seen_ended.insert(id.clone());
        }
    }
    Ok(seen)
}

/// What the kill hit.
#[derive(Debug)]
struct Kill {
    at_ms: i64,
    /// The target wave: this round's matches created after its first match ended, as far as
    /// they had started when the first of them ended.
    wave: Vec<String>,
    /// Milliseconds between the first and last planned end in the wave.
    spread_ms: i64,
    /// Milliseconds waited after the wave's first end was seen.
    delay_ms: i64,
    /// PostgreSQL: the server's connections inside a write transaction on the results or the
    /// boards when the kill was sent.
    open_writes: Option<i64>,
}

/// Polls the matches until the kill moment (see the module docs) and kills the server.
async fn aim_and_kill(
    server: Child,
    watch: &AnyPool,
    round: &Round,
    app_name: Option<&str>,
) -> anyhow::Result<Kill> {
    let deadline = Instant::now() + PATIENCE;
    let poll = || watch_matches(watch, &round.ledger);
    let ours = |m: &Seen| m.created_at >= round.start_ms;

    // This round's first wave ends: its first end time divides it from the next wave, whose
    // matches the bots create when theirs end.
    let first_end = loop {
        let seen = poll().await?;
        if let Some(at) = seen
            .values()
            .filter(|m| ours(m))
            .filter_map(|m| m.ended_at)
            .min()
        {
            break at;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no match of the round ever ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Without idle bots to remove records of (the first round), the kill waits for the
    // victim's removals, which wait for the next wave to end (the victim played in it), and
    // aims at the wave after: so every round removes records before its kill.
    let boundary = if round.idle_with_records.is_empty() {
        let waited = tokio::time::timeout(PATIENCE, async {
            loop {
                tokio::select! {
                    _ = round.victim_done.cancelled() => return Ok::<(), anyhow::Error>(()),
                    _ = tokio::time::sleep(Duration::from_millis(20)) => { poll().await?; }
                }
            }
        })
        .await;
        waited.context("the admin never finished with the victim")??;
        first_end.max(now_ms())
    } else {
        first_end
    };
    // The next wave's first result is committed.
    let (wave, spread_ms) = loop {
        let seen = poll().await?;
        let wave: Vec<(&String, &Seen)> = seen
            .iter()
            .filter(|(_, m)| ours(m) && m.created_at > boundary && m.ends_at.is_some())
            .collect();
        if wave.iter().any(|(_, m)| m.state == "ended") {
            let ends = wave.iter().filter_map(|(_, m)| m.ends_at);
            let spread = ends.clone().max().unwrap_or(0) - ends.min().unwrap_or(0);
            break (
                wave.iter().map(|(id, _)| (*id).clone()).collect::<Vec<_>>(),
                spread,
            );
        }
        anyhow::ensure!(Instant::now() < deadline, "the next wave never ended");
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    // Then a part of the wave's spread: this is the one wait that stands for "an arbitrary
    // moment", polling all along so every result seen committed is remembered.
    let delay_ms =
        (spread_ms.min(MAX_SPREAD_MS) as f64 * KILL_FRACTIONS[round.index % ROUNDS]) as i64;
    let until = Instant::now() + Duration::from_millis(delay_ms as u64);
    while Instant::now() < until {
        poll().await?;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // On PostgreSQL, into an open results or board transaction if one shows up soon.
    let mut open_writes = None;
    if let Some(app) = app_name {
        let until = Instant::now() + OPEN_TRANSACTION_PATIENCE;
        loop {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = $1 \
                 AND backend_xid IS NOT NULL \
                 AND (query LIKE '%match_result%' OR query LIKE '%leaderboard_%' \
                      OR query LIKE 'UPDATE matches SET state%')",
            )
            .bind(app)
            .fetch_one(watch)
            .await?;
            let n: i64 = row.try_get("n")?;
            open_writes = Some(n);
            if n > 0 || Instant::now() >= until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let at_ms = now_ms();
    server.kill().await?;
    Ok(Kill {
        at_ms,
        wave,
        spread_ms,
        delay_ms,
        open_writes,
    })
}

// ---- the test ----

async fn crash_safety(db: Db) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let log = dir.path().join("server.log");
    let mut pg = None;
    let outcome = tokio::time::timeout(
        Duration::from_secs(600),
        run_rounds(db, dir.path(), &log, &mut pg),
    )
    .await
    .unwrap_or_else(|_| Err(anyhow::anyhow!("the test ran for ten minutes")));
    if let Some((base, schema)) = &pg
        && let Err(e) = drop_postgres_schema(base, schema).await
    {
        eprintln!("could not drop test schema {schema}: {e}");
    }
    if outcome.is_err() {
        eprintln!("the server's log ends:\n{}", log_tail(&log));
    }
    outcome
}

async fn run_rounds(
    db: Db,
    dir: &Path,
    log: &Path,
    pg: &mut Option<(String, String)>,
) -> anyhow::Result<()> {
    let data_dir = dir.join("data");
    std::fs::create_dir_all(&data_dir)?;
    let assets = edited_assets(
        dir,
        vec![
            (
                "match_length_s",
                format!("match_length_s = {MATCH_LENGTH_S:.1}"),
            ),
            ("tick_rate", format!("tick_rate = {TICK_RATE}")),
        ],
    )?;
    let config = dir.join("tickwire.toml");
    std::fs::write(&config, config_toml())?;
    let (database_url, check_url, app_name) = match db {
        Db::Sqlite => (
            None,
            format!("sqlite://{}", data_dir.join("tickwire.db").display()),
            None,
        ),
        Db::Postgres => {
            let base = postgres_url().context("no PostgreSQL configured")?;
            let (url, schema) = fresh_postgres_schema(&base).await?;
            // The server's connections carry a name of their own, for `pg_stat_activity`.
            let app = format!("tw_crash_{schema}");
            let server_url = format!("{url}&application_name={app}");
            *pg = Some((base, schema));
            (Some(server_url), url, Some(app))
        }
    };
    let setup = Setup {
        data_dir,
        assets,
        config,
        database_url,
        check_url,
        log: log.to_path_buf(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?,
    };
    let shared: Shared = Arc::default();
    let mut server = setup.start().await?;
    // Two guest accounts of the test's own, made before any load: they never play, so the
    // admin can ban and unban them at any time without racing a result.
    for n in 0..2 {
        let device = format!("crash-idle-device-{n}");
        let (status, body) = post(
            &setup.http,
            &format!("{}/v1/sessions/guest", server.base),
            json!({ "device_id": device }),
        )
        .await?;
        anyhow::ensure!(status == StatusCode::OK, "guest login: {status} {body}");
        let id = body["account_id"].as_i64().context("account_id")?;
        ledger(&shared).guests.push((device, id));
    }
    let mut before: Option<Stored> = None;
    let started = Instant::now();
    for index in 0..ROUNDS {
        // Idle accounts, whose bans and removals cannot race a result: the test's guests and
        // registered accounts (they never play) and bots of earlier rounds (their fleets are
        // gone).
        let mut idle: Vec<i64> = {
            let l = ledger(&shared);
            let guests = l.guests.iter().map(|&(_, id)| id);
            guests
                .chain(l.registrations.iter().filter_map(|r| r.account_id))
                .collect()
        };
        let mut idle_with_records = Vec::new();
        if let Some(before) = &before {
            let played: BTreeSet<i64> = before.lines.values().map(|l| l.account_id).collect();
            let mut bots: Vec<i64> = played
                .into_iter()
                .filter(|id| before.accounts.get(id).is_some_and(|a| a.guest == 1))
                .collect();
            // A different few each round.
            bots.sort_unstable_by_key(|id| id.rem_euclid(997 + index as i64));
            idle.extend(bots.iter().take(3));
            idle_with_records.extend(bots.iter().skip(3).take(2));
        }
        let round = Arc::new(Round {
            index,
            base: server.base.clone(),
            http: setup.http.clone(),
            ledger: shared.clone(),
            start_ms: now_ms(),
            idle,
            idle_with_records,
            victim_done: CancellationToken::new(),
        });
        server = play_round(
            &setup,
            server,
            round,
            app_name.as_deref(),
            &mut before,
            started,
        )
        .await?;
    }
    server.kill().await?;
    Ok(())
}

/// One round: load, the kill, the restart, the checks. Answers the restarted server.
async fn play_round(
    setup: &Setup,
    server: Child,
    round: Arc<Round>,
    app_name: Option<&str>,
    before: &mut Option<Stored>,
    started: Instant,
) -> anyhow::Result<Child> {
    let round_started = Instant::now();
    let stop = CancellationToken::new();
    let watch = connect_db(&setup.check_url).await?;
    let seed = 100 + round.index as u64;
    let fleets = [
        fleet(&round.base, FULL_MATCH_BOTS, Some("arena"), seed, &stop),
        fleet(&round.base, QUICK_JOIN_BOTS, None, seed + 50, &stop),
    ];
    let admin_task = tokio::spawn(admin_round(round.clone(), watch.clone(), stop.clone()));
    let register_task = tokio::spawn(register_round(round.clone(), stop.clone()));

    let kill = aim_and_kill(server, &watch, &round, app_name).await;
    let killed_after = round_started.elapsed();
    stop.cancel();
    watch.close().await;
    for mut fleet in fleets {
        // Bots whose server vanished leave at once; abandon any that do not.
        if tokio::time::timeout(Duration::from_secs(30), &mut fleet)
            .await
            .is_err()
        {
            fleet.abort();
            eprintln!("round {}: a fleet did not stop", round.index);
        }
    }
    admin_task.await?;
    register_task.await?;
    let kill = kill?;

    // Restart on the same data (the restarted server recovers the database as it would after
    // a real crash), then check the database and the API.
    let restarting = Instant::now();
    let server = setup.start().await?;
    let pool = connect_db(&setup.check_url).await?;
    let stored = read_stored(&pool).await?;
    pool.close().await;
    let done = ledger(&round.ledger).clone();
    let mut bad = check_stored(&stored, &done, before.as_ref());
    bad.extend(check_api(setup, &server, &stored, &done).await?);
    ledger(&round.ledger)
        .logged_in
        .extend(done.registrations.iter().map(|r| r.username.clone()));

    let ended = |id: &String| stored.matches.get(id).is_some_and(|m| m.state == "ended");
    let wave_stored = kill.wave.iter().filter(|id| ended(id)).count();
    let due = kill
        .wave
        .iter()
        .filter(|id| {
            stored
                .matches
                .get(*id)
                .and_then(|m| m.ends_at)
                .is_some_and(|e| e <= kill.at_ms)
        })
        .count();
    let round_matches: Vec<&MatchRow> = stored
        .matches
        .values()
        .filter(|m| m.created_at >= round.start_ms)
        .collect();
    let round_ended = round_matches.iter().filter(|m| m.state == "ended").count();
    let acknowledged = done
        .admin
        .iter()
        .filter(|c| c.outcome == Outcome::Done)
        .count();
    let audited = |action: &str| stored.audit.iter().filter(|r| r.action == action).count();
    let cut_off: Vec<&str> = done
        .admin
        .iter()
        .filter(|c| c.outcome == Outcome::Unknown)
        .map(|c| c.action)
        .collect();
    eprintln!(
        "{db} round {round}: target wave of {wave} matches (planned ends spread over {spread} ms; \
         killed {delay} ms after its first result, {due} due by then): {wave_stored} stored, \
         {wave_absent} absent; open write transactions at the kill: {open}. Round: {matches} \
         matches, {round_ended} ended, {cut} not. Stored in all: {lines} result lines, \
         {accounts} accounts, {audit} audit rows ({bans} bans, {unbans} unbans, {removals} \
         record removals; so far {acknowledged} admin calls acknowledged, cut off by kills: \
         {cut_off:?}; registrations acknowledged {registered}, cut off {unregistered}). \
         Round {secs:.1} s (killed after {killed:.1} s, restart and checks {checks:.1} s), \
         {total:.1} s in all.",
        db = if setup.database_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        round = round.index,
        wave = kill.wave.len(),
        spread = kill.spread_ms,
        delay = kill.delay_ms,
        wave_absent = kill.wave.len() - wave_stored,
        open = kill
            .open_writes
            .map_or("not observable on SQLite".to_string(), |n| n.to_string()),
        matches = round_matches.len(),
        cut = round_matches.len() - round_ended,
        lines = stored.lines.len(),
        accounts = stored.accounts.len(),
        audit = stored.audit.len(),
        bans = audited("ban"),
        unbans = audited("unban"),
        removals = audited("leaderboard.remove_record"),
        registered = done
            .registrations
            .iter()
            .filter(|r| r.outcome == Outcome::Done)
            .count(),
        unregistered = done
            .registrations
            .iter()
            .filter(|r| r.outcome == Outcome::Unknown)
            .count(),
        secs = round_started.elapsed().as_secs_f64(),
        killed = killed_after.as_secs_f64(),
        checks = restarting.elapsed().as_secs_f64(),
        total = started.elapsed().as_secs_f64(),
    );
    anyhow::ensure!(
        bad.is_empty(),
        "round {}: {} violations:\n{}",
        round.index,
        bad.len(),
        bad.join("\n")
    );
    *before = Some(stored);
    Ok(server)
}
