//! A run: every bot as a task on one multi-threaded runtime, the scenario's schedule, the stop
//! (at `--duration`, or earlier through [`RunOptions::stop`]), server metrics before and after,
//! and the report.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use shared::GameProtocol;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::args::Args;
use crate::bot;
use crate::link::LinkProfile;
use crate::lobby::Lobby;
use crate::metrics_scrape;
use crate::progress::Progress;
use crate::report::{Report, RunFacts};
use crate::rest::{RestClient, RestError};
use crate::scenario::Plan;
use crate::stats::Stats;

/// How long bots get to leave after the stop before they are abandoned.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);
/// The tick rate assumed for a replica's history before the first `Welcome` tells it.
const ASSUMED_TICK_RATE: u16 = 30;

/// How to run besides the arguments.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Cancel to stop early (Ctrl-C); the report is still made.
    pub stop: CancellationToken,
    /// Draw the live progress line on stderr.
    pub progress: bool,
    /// The game to play, for a game this crate does not ship: its declarations, which the
    /// lobby asks for by name and the bots replicate and play (with the generic
    /// [`crate::behaviour::RandomBot`] unless it is a shipped game). `None`: the shipped game
    /// named by `--game`. When set, `--game` is ignored.
    pub game: Option<&'static GameProtocol>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("invalid arguments: {0}")]
    Args(String),
    #[error(transparent)]
    Rest(#[from] RestError),
}

/// Runs the bots as `args` says, without a progress line, until `--duration` is over.
pub async fn run(args: Args) -> Result<Report, RunError> {
    run_with(args, RunOptions::default()).await
}

/// Runs the bots as `args` says until `--duration` is over or `options.stop` is cancelled, and
/// answers the report. Thresholds are not checked here (see [`Report::breaches`]).
pub async fn run_with(args: Args, options: RunOptions) -> Result<Report, RunError> {
    check(&args)?;
    let game = game(&args, &options)?;
    let stats = Arc::new(Stats::new(Stats::shards_for_machine()));
    let observer = stats.clone();
    let rest =
        RestClient::new(&args.url, args.insecure)?.with_observer(move |c| observer.rest_call(c));
    let before = match metrics_scrape::scrape(&rest).await {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the server's metrics; the report will lack them");
            None
        }
    };

    let stop = options.stop.child_token();
    let plan = Plan::from_args(&args);
    let fleet = Arc::new(Fleet {
        lobby: Lobby::new(rest.clone(), game.name, args.map.clone()),
        game,
        rest: rest.clone(),
        stats: stats.clone(),
        plan,
        link: LinkProfile::new(args.latency, args.jitter),
        insecure: args.insecure,
        seed: args.seed,
        run_id: rand::random(),
        start: Instant::now(),
        duration: args.duration,
        stop: stop.clone(),
        joining: Semaphore::new(args.join_concurrency.max(1) as usize),
        first_connect_us: AtomicU64::new(u64::MAX),
        last_connect_us: AtomicU64::new(0),
        tick_rate: AtomicU16::new(0),
        maps: std::sync::Mutex::new(std::collections::BTreeMap::new()),
    });
    let progress = Progress::start(stats.clone(), args.bots, options.progress);
    let mut bots = JoinSet::new();
    for index in 0..args.bots {
        bots.spawn(bot::run(fleet.clone(), index));
    }

    tokio::select! {
        _ = tokio::time::sleep(args.duration) => {}
        _ = stop.cancelled() => {}
    }
    stop.cancel();
    let stopped = Instant::now();
    let duration_s = stopped.duration_since(fleet.start).as_secs_f64();
    drain(&mut bots, &stats).await;
    let timeline = progress.finish().await;

    let server = match (before, metrics_scrape::scrape(&rest).await) {
        (Some(before), Ok(after)) => Some(after.since(&before)),
        (Some(_), Err(e)) => {
            tracing::warn!(error = %e, "cannot read the server's metrics at the end");
            None
        }
        (None, _) => None,
    };
    let tick_rate = match fleet.tick_rate.load(Ordering::Relaxed) {
        0 => None,
        rate => Some(rate),
    };
    let facts = RunFacts {
        url: args.url.clone(),
        game: game.name.to_string(),
        bots: args.bots,
        seed: args.seed,
        scenario: args.scenario,
        affected_bots: plan.affected_bots(),
        duration_s,
        tick_rate,
        server,
        first_connected_s: fleet.connect_offset(&fleet.first_connect_us),
        last_connected_s: fleet.connect_offset(&fleet.last_connect_us),
        peak_rss_bytes: peak_rss_bytes(),
        replica_history_ticks: fleet.history_ticks() as u64,
        timeline,
    };
    Ok(Report::build(facts, &stats.totals()))
}

/// What every bot of a run shares.
#[derive(Debug)]
pub(crate) struct Fleet {
    pub(crate) game: &'static GameProtocol,
    pub(crate) rest: RestClient,
    pub(crate) lobby: Lobby,
    pub(crate) stats: Arc<Stats>,
    pub(crate) plan: Plan,
    pub(crate) link: LinkProfile,
    pub(crate) insecure: bool,
    pub(crate) seed: u64,
    /// Makes this run's device ids (and so its guest accounts) its own.
    pub(crate) run_id: u32,
    pub(crate) start: Instant,
    pub(crate) duration: Duration,
    pub(crate) stop: CancellationToken,
    /// Bots logging in or joining at once (TLS handshakes and REST calls are the costly part
    /// of a start).
    pub(crate) joining: Semaphore,
    first_connect_us: AtomicU64,
    last_connect_us: AtomicU64,
    tick_rate: AtomicU16,
    /// Map layouts fetched so far, by map name (one fetch per map per run, not per bot).
    /// A std mutex: a lookup or an insert, never held across an await.
    maps: std::sync::Mutex<std::collections::BTreeMap<String, Arc<serde_json::Value>>>,
}

impl Fleet {
    /// The layout of `map` of this run's game, fetched once; `None` if the server has none
    /// (the behaviour then learns the map as it plays).
    pub(crate) async fn map_layout(&self, map: &str) -> Option<Arc<serde_json::Value>> {
        let cached = {
            let maps = self.maps.lock().unwrap_or_else(|p| p.into_inner());
            maps.get(map).cloned()
        };
        if cached.is_some() {
            return cached;
        }
        match self.rest.map_layout(self.game.name, map).await {
            Ok(found) => {
                let layout = Arc::new(found.layout);
                let mut maps = self.maps.lock().unwrap_or_else(|p| p.into_inner());
                maps.insert(map.to_string(), layout.clone());
                Some(layout)
            }
            Err(e) => {
                tracing::debug!(%map, error = %e, "no map layout; the bots learn the map");
                None
            }
        }
    }

    /// A bot connected for the first time.
    pub(crate) fn note_first_connect(&self, tick_rate: u16) {
        let us = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.first_connect_us.fetch_min(us, Ordering::Relaxed);
        self.last_connect_us.fetch_max(us, Ordering::Relaxed);
        self.tick_rate.store(tick_rate, Ordering::Relaxed);
    }

    /// Worlds a replica keeps, at the tick rate last seen (30 before any `Welcome`).
    pub(crate) fn history_ticks(&self) -> usize {
        let rate = match self.tick_rate.load(Ordering::Relaxed) {
            0 => ASSUMED_TICK_RATE,
            rate => rate,
        };
        history_ticks_at(rate)
    }

    /// Seconds from the start to a noted first connect; `None` if no bot ever connected.
    fn connect_offset(&self, at: &AtomicU64) -> Option<f64> {
        if self.first_connect_us.load(Ordering::Relaxed) == u64::MAX {
            return None;
        }
        Some(at.load(Ordering::Relaxed) as f64 / 1e6)
    }
}

/// Worlds a replica keeps at `tick_rate`: the server's whole baseline span. A bot that falls
/// behind (a busy machine, a slow reader's pause) acknowledges its backlog late, and until the
/// server hears it every delta comes against the last acknowledgement it had; pruning keeps
/// steady play at two or three worlds whatever this bound is.
pub(crate) fn history_ticks_at(tick_rate: u16) -> usize {
    shared::replica::baseline_span_ticks(tick_rate) + 4
}

/// Waits for every bot to leave, abandoning those still running after [`SHUTDOWN_GRACE`].
async fn drain(bots: &mut JoinSet<()>, stats: &Stats) {
    let wait = async {
        while let Some(result) = bots.join_next().await {
            if let Err(e) = result
                && e.is_panic()
            {
                stats.error("bot: panicked");
            }
        }
    };
    if tokio::time::timeout(SHUTDOWN_GRACE, wait).await.is_err() {
        for _ in 0..bots.len() {
            stats.error("bot: did not stop in time");
        }
        bots.abort_all();
        while bots.join_next().await.is_some() {}
    }
}

/// Arguments a run cannot start with.
fn check(args: &Args) -> Result<(), RunError> {
    let bad = |m: &str| Err(RunError::Args(m.to_string()));
    if args.bots == 0 {
        return bad("--bots must be at least 1");
    }
    if args.duration.is_zero() {
        return bad("--duration must be more than zero");
    }
    if !(0.0..=1.0).contains(&args.fraction) {
        return bad("--fraction must be between 0 and 1");
    }
    let rate = args.ramp_rate;
    if args.scenario == crate::args::Scenario::Ramp && (rate.is_nan() || rate <= 0.0) {
        return bad("--ramp-rate must be more than zero");
    }
    Ok(())
}

/// The game of a run: the caller's, or the shipped game `--game` names.
fn game(args: &Args, options: &RunOptions) -> Result<&'static GameProtocol, RunError> {
    let game = match options.game {
        Some(game) => game,
        None => shared::games::by_name(&args.game).ok_or_else(|| {
            let shipped: Vec<&str> = shared::games::shipped().iter().map(|g| g.name).collect();
            RunError::Args(format!(
                "--game {}: not a shipped game (one of {})",
                args.game,
                shipped.join(", ")
            ))
        })?,
    };
    // A declaration the wire cannot carry would fail on every input; say so up front.
    game.check().map_err(RunError::Args)?;
    Ok(game)
}

/// This process's peak resident memory (Linux), in bytes.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_that_cannot_run_are_refused() {
        let mut args = Args::new("http://127.0.0.1:1");
        assert!(check(&args).is_ok(), "defaults run");
        args.bots = 0;
        assert!(matches!(check(&args), Err(RunError::Args(_))), "no bots");
        args.bots = 1;
        args.fraction = 1.5;
        assert!(
            matches!(check(&args), Err(RunError::Args(_))),
            "fraction > 1"
        );
        args.fraction = 0.5;
        args.scenario = crate::args::Scenario::Ramp;
        args.ramp_rate = 0.0;
        assert!(
            matches!(check(&args), Err(RunError::Args(_))),
            "ramp at 0/s"
        );
    }

    #[test]
    fn the_game_is_the_callers_or_a_shipped_one_by_name() {
        let mut args = Args::new("http://127.0.0.1:1");
        let options = RunOptions::default();
        assert_eq!(
            game(&args, &options).map(|g| g.name).ok(),
            Some("arena"),
            "arena by default"
        );
        args.game = "cycles".into();
        assert_eq!(
            game(&args, &options).map(|g| g.name).ok(),
            Some("cycles"),
            "by name"
        );
        args.game = "chess".into();
        assert!(
            matches!(game(&args, &options), Err(RunError::Args(_))),
            "not a shipped game"
        );
        let theirs = RunOptions {
            game: Some(&shared::games::cycles::PROTOCOL),
            ..RunOptions::default()
        };
        assert_eq!(
            game(&args, &theirs).map(|g| g.name).ok(),
            Some("cycles"),
            "the caller's game wins over --game"
        );
    }

    #[tokio::test]
    async fn a_run_against_no_server_reports_errors_and_no_snapshots() {
        // Port 1 on loopback refuses connections at once.
        let mut args = Args::new("http://127.0.0.1:1");
        args.bots = 2;
        args.duration = Duration::from_millis(600);
        let report = run(args).await.expect("the run itself completes");
        assert_eq!(report.snapshots_expected, 0, "nothing delivered");
        assert!(report.server.is_none(), "no metrics without a server");
        assert!(
            report.errors.keys().any(|k| k.contains("connect")),
            "connect errors counted: {:?}",
            report.errors
        );
        assert!(
            !report.breaches(&Default::default()).is_empty(),
            "a run without snapshots fails"
        );
    }
}
