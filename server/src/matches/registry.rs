//! The registry of live matches on this node: started on first use (the lobby only writes a
//! database row; the first player to present a ticket brings the match to life here).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use shared::Tick;
use shared::schema::GameProtocol;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::driver::{Command, Driver, Joined, MatchSummary, Refusal};
use super::frame::History;
use super::inlet::Inlet;
use super::outbox::Outbox;
use super::settings::MatchSettings;
use crate::clock::Clock;
use crate::config::{Limits, Nice};
use crate::game::{AnyGame, Games};
use crate::leaderboards::Leaderboards;
use crate::metrics::Metrics;
use crate::replay::ReplaySettings;
use crate::replay::record::{Recorder, ReplayHeader};
use crate::store::Store;
use crate::store::lobby::state;

/// The senders into one live match.
#[derive(Debug, Clone)]
pub struct MatchHandle {
    pub match_id: String,
    /// The match's game: sessions check inputs against its declarations and clients' hashes
    /// against its hash.
    pub protocol: &'static GameProtocol,
    pub game_hash: u64,
    pub tick_rate: u16,
    commands: mpsc::Sender<Command>,
    pub history: Arc<History>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("no such match")]
    NotFound,
    #[error("the match has ended")]
    Ended,
    #[error("the match is full")]
    Full,
    #[error("the reconnect token is not valid")]
    InvalidReconnect,
    #[error("the map {0:?} of this match is not loaded on this node")]
    UnknownMap(String),
    #[error("the game {0:?} of this match is not served by this node")]
    UnknownGame(String),
    #[error("{0}")]
    Refused(String),
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("the match is hosted on another node")]
    OtherNode,
    #[error("this node runs no matches (it is an API node)")]
    NoMatchesHere,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<Refusal> for RegistryError {
    fn from(r: Refusal) -> RegistryError {
        match r {
            Refusal::Full => RegistryError::Full,
            Refusal::Ended => RegistryError::Ended,
            Refusal::InvalidReconnect => RegistryError::InvalidReconnect,
            Refusal::Game(reason) | Refusal::Spectator(reason) => RegistryError::Refused(reason),
        }
    }
}

impl MatchHandle {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, RegistryError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| RegistryError::Ended)?;
        rx.await.map_err(|_| RegistryError::Ended)
    }

    pub async fn join(
        &self,
        account_id: i64,
        username: String,
        outbox: Arc<Outbox>,
        inlet: Box<dyn Inlet>,
    ) -> Result<Joined, RegistryError> {
        self.ask(|reply| Command::Join {
            account_id,
            username,
            outbox,
            inlet,
            reply,
        })
        .await?
        .map_err(RegistryError::from)
    }

    pub async fn resume(
        &self,
        token: String,
        ack: Tick,
        outbox: Arc<Outbox>,
        inlet: Box<dyn Inlet>,
    ) -> Result<Joined, RegistryError> {
        self.ask(|reply| Command::Resume {
            token,
            ack,
            outbox,
            inlet,
            reply,
        })
        .await?
        .map_err(RegistryError::from)
    }

    /// Attaches a spectator: a read-only seat, on the whole world or following a player.
    pub async fn spectate(
        &self,
        account_id: i64,
        follow: Option<u32>,
        outbox: Arc<Outbox>,
        inlet: Box<dyn Inlet>,
    ) -> Result<Joined, RegistryError> {
        self.ask(|reply| Command::Spectate {
            account_id,
            follow,
            outbox,
            inlet,
            reply,
        })
        .await?
        .map_err(RegistryError::from)
    }

    /// Kicks an account; `true` if it was in this match.
    pub async fn kick(&self, account_id: i64, reason: String) -> bool {
        self.ask(|reply| Command::Kick {
            account_id,
            reason,
            reply,
        })
        .await
        .unwrap_or(false)
    }

    pub async fn end(&self, reason: String) {
        let _ = self.commands.send(Command::End { reason }).await;
    }

    pub async fn describe(&self) -> Option<MatchSummary> {
        self.ask(|reply| Command::Describe { reply }).await.ok()
    }
}

/// Live matches on this node.
#[derive(Debug, Clone)]
pub struct Registry(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    matches: Mutex<BTreeMap<String, MatchHandle>>,
    store: Store,
    games: Games,
    limits: Limits,
    metrics: Metrics,
    clock: Clock,
    leaderboards: Arc<Leaderboards>,
    replays: ReplaySettings,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    /// Set while draining: running matches go on, none starts.
    draining: CancellationToken,
    node_id: String,
    /// `None` on an API node, which runs no matches.
    ticks: Option<TickThreads>,
}

/// What a registry is made of.
pub struct RegistryParts {
    pub store: Store,
    pub games: Games,
    pub limits: Limits,
    pub metrics: Metrics,
    pub clock: Clock,
    pub leaderboards: Arc<Leaderboards>,
    /// This node: a match placed on another one is refused.
    pub node_id: String,
    /// False on an API node: no tick threads are started and no match runs.
    pub runs_matches: bool,
    /// Whether matches are recorded, and how.
    pub replays: ReplaySettings,
}

/// The threads the matches' tick drivers run on, one per core: a tick writes every client's
/// frame into its socket itself, so the threads are where the realtime side's sending is done,
/// and one per core lets all of them send at once. A new match goes to the thread with the
/// fewest matches.
#[derive(Debug)]
struct TickThreads {
    first: TickThread,
    others: Vec<TickThread>,
}

impl TickThreads {
    fn start(nice: Nice) -> TickThreads {
        let count = std::thread::available_parallelism().map_or(1, |n| n.get());
        TickThreads {
            first: TickThread::start(nice),
            others: (1..count).map(|_| TickThread::start(nice)).collect(),
        }
    }

    fn all(&self) -> impl Iterator<Item = &TickThread> {
        std::iter::once(&self.first).chain(&self.others)
    }

    /// The least busy thread (by matches running on it), with its count taken for the new one.
    fn pick(&self) -> (&TickThread, MatchesOnThread) {
        let thread = self
            .all()
            .min_by_key(|t| t.matches.load(Ordering::Relaxed))
            .unwrap_or(&self.first);
        thread.matches.fetch_add(1, Ordering::Relaxed);
        (thread, MatchesOnThread(thread.matches.clone()))
    }

    fn stop(&self) {
        for thread in self.all() {
            thread.stop.cancel();
        }
    }
}

/// A match's place in its thread's count, given back when the match ends.
struct MatchesOnThread(Arc<AtomicUsize>);

impl Drop for MatchesOnThread {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A thread tick drivers run on. Client sessions (thousands of tasks) run on the main
/// runtime; a tick woken by its timer there would queue behind them under load and start late.
/// On its own thread the OS scheduler gives it the CPU as soon as it wakes.
#[derive(Debug)]
struct TickThread {
    matches: Arc<AtomicUsize>,
    handle: tokio::runtime::Handle,
    stop: CancellationToken,
}

impl TickThread {
    fn start(nice: Nice) -> TickThread {
        let stop = CancellationToken::new();
        let (tx, rx) = std::sync::mpsc::channel();
        let until = stop.clone();
        let spawned = std::thread::Builder::new()
            .name("tickwire-ticks".into())
            .spawn(move || {
                set_nice(nice);
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build();
                match runtime {
                    Ok(runtime) => {
                        let _ = tx.send(Some(runtime.handle().clone()));
                        runtime.block_on(until.cancelled());
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot start the tick thread");
                        let _ = tx.send(None);
                    }
                }
            });
        // Without a thread of its own the drivers share the main runtime (still correct, only
        // less isolated).
        let handle = spawned
            .ok()
            .and_then(|_| rx.recv().ok().flatten())
            .unwrap_or_else(tokio::runtime::Handle::current);
        TickThread {
            matches: Arc::new(AtomicUsize::new(0)),
            handle,
            stop,
        }
    }
}

/// Gives the calling thread (alone: on Linux a thread id names one thread) the nice value `nice`.
fn set_nice(nice: Nice) {
    let tid = rustix::thread::gettid();
    match rustix::process::setpriority_process(Some(tid), nice.get()) {
        Ok(()) => tracing::debug!(nice = nice.get(), "tick thread priority set"),
        Err(e) => tracing::warn!(
            nice = nice.get(),
            error = %e,
            "cannot set the tick thread's priority (needs CAP_SYS_NICE to raise it); it runs at the default"
        ),
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(ticks) = &self.ticks {
            ticks.stop();
        }
    }
}

impl Registry {
    pub fn new(parts: RegistryParts) -> Registry {
        let RegistryParts {
            store,
            games,
            limits,
            metrics,
            clock,
            leaderboards,
            node_id,
            runs_matches,
            replays,
        } = parts;
        let ticks = runs_matches.then(|| TickThreads::start(limits.tick_thread_nice));
        Registry(Arc::new(Inner {
            matches: Mutex::new(BTreeMap::new()),
            store,
            games,
            limits,
            metrics,
            clock,
            leaderboards,
            replays,
            tracker: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            draining: CancellationToken::new(),
            node_id,
            ticks,
        }))
    }

    /// Whether this node runs matches (it has tick threads).
    pub fn runs_matches(&self) -> bool {
        self.0.ticks.is_some()
    }

    /// Stops starting matches; the running ones go on to their end.
    pub fn drain(&self) {
        self.0.draining.cancel();
    }

    pub fn is_draining(&self) -> bool {
        self.0.draining.is_cancelled()
    }

    /// Ends every running match now (results stored, clients told), without waiting.
    pub async fn end_all(&self, reason: &str) {
        for handle in self.live() {
            handle.end(reason.to_string()).await;
        }
    }

    fn matches(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, MatchHandle>> {
        // A std mutex: lookups and inserts only, never held across an await.
        self.0.matches.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, match_id: &str) -> Option<MatchHandle> {
        self.matches().get(match_id).cloned()
    }

    pub fn live(&self) -> Vec<MatchHandle> {
        self.matches().values().cloned().collect()
    }

    /// The live match `match_id`, started from its database row if it is not running yet.
    pub async fn get_or_start(&self, match_id: &str) -> Result<MatchHandle, RegistryError> {
        if let Some(handle) = self.get(match_id) {
            return Ok(handle);
        }
        let Some(ticks) = &self.0.ticks else {
            return Err(RegistryError::NoMatchesHere);
        };
        if self.0.shutdown.is_cancelled() || self.0.draining.is_cancelled() {
            return Err(RegistryError::ShuttingDown);
        }
        let row = self
            .0
            .store
            .match_by_id(match_id)
            .await?
            .ok_or(RegistryError::NotFound)?;
        if row.state == state::ENDED {
            return Err(RegistryError::Ended);
        }
        // A client sent here with another node's ticket: starting the match here too would
        // split it in two.
        if row.node_id.as_deref().is_some_and(|n| n != self.0.node_id) {
            return Err(RegistryError::OtherNode);
        }
        let entry = self
            .0
            .games
            .entry(&row.game)
            .ok_or_else(|| RegistryError::UnknownGame(row.game.clone()))?;
        let info = entry.info();
        let seats = info
            .map(&row.map)
            .ok_or_else(|| RegistryError::UnknownMap(row.map.clone()))?
            .seats;
        let mut matches = self.matches();
        if let Some(handle) = matches.get(match_id) {
            return Ok(handle.clone());
        }
        let settings = MatchSettings::new(info.tick_rate, seats, &self.0.limits);
        let seed: u64 = rand::random();
        let game = entry
            .start(&row.map, seed)
            .ok_or_else(|| RegistryError::UnknownMap(row.map.clone()))?;
        let (game, recording) = if self.0.replays.enabled {
            let (recorder, recording) = Recorder::new(
                game,
                ReplayHeader {
                    match_id: match_id.to_string(),
                    map: row.map.clone(),
                    // The map was found above; a 0 would only make the replay refuse to verify.
                    assets_hash: crate::replay::assets_hash(info, &row.map).unwrap_or(0),
                    seed,
                    tick_rate: info.tick_rate,
                    hash_interval: self.0.replays.hash_interval_ticks,
                },
            );
            (Box::new(recorder) as Box<dyn AnyGame>, Some(recording))
        } else {
            (game, None)
        };
        let (commands_tx, commands) = mpsc::channel(256);
        let history = Arc::new(History::new(settings.history_ticks));
        let handle = MatchHandle {
            match_id: match_id.to_string(),
            protocol: info.protocol,
            game_hash: info.hash,
            tick_rate: info.tick_rate,
            commands: commands_tx,
            history: history.clone(),
        };
        tracing::info!(%match_id, game = %row.game, map = %row.map, seed, "match starting");
        let clock = self.0.clock.clone();
        let driver = Driver {
            match_id: match_id.to_string(),
            map: row.map.clone(),
            game,
            recording,
            game_hash: info.hash,
            settings,
            store: self.0.store.clone(),
            metrics: self.0.metrics.clone(),
            history,
            commands,
            shutdown: self.0.shutdown.clone(),
            now_ms: Arc::new(move || clock.now_ms()),
            leaderboards: self.0.leaderboards.clone(),
            io: tokio::runtime::Handle::current(),
        };
        matches.insert(match_id.to_string(), handle.clone());
        drop(matches);
        self.0.metrics.matches_live.inc();
        let registry = self.clone();
        let id = match_id.to_string();
        let (thread, on_thread) = ticks.pick();
        let run = self.0.tracker.track_future(async move {
            let _on_thread = on_thread;
            driver.run().await;
            registry.matches().remove(&id);
            registry.0.metrics.matches_live.dec();
        });
        thread.handle.spawn(run);
        Ok(handle)
    }

    /// The live match a reconnect token belongs to (the token starts with the match id).
    pub fn for_token(&self, token: &str) -> Option<MatchHandle> {
        let match_id = token.split('.').next()?;
        self.get(match_id)
    }

    /// Ends every match (results stored, clients told) and waits for them.
    pub async fn shutdown(&self) {
        self.0.shutdown.cancel();
        self.0.tracker.close();
        self.0.tracker.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_nice() -> (Option<String>, i32) {
        let nice = rustix::process::getpriority_process(Some(rustix::thread::gettid()))
            .expect("getpriority of this thread");
        (std::thread::current().name().map(str::to_string), nice)
    }

    #[tokio::test]
    async fn tick_threads_run_at_their_configured_nice_and_nothing_else_does() {
        // Lowering priority needs no privilege, so this holds as any user.
        let nice = Nice::new(4).expect("in range");
        let thread = TickThread::start(nice);
        let (name, on_tick) = thread
            .handle
            .spawn(async { own_nice() })
            .await
            .expect("runs on the tick thread");
        thread.stop.cancel();
        assert_eq!(name.as_deref(), Some("tickwire-ticks"), "its own thread");
        assert_eq!(on_tick, 4, "the tick thread's nice");
        let (_, here) = own_nice();
        assert_ne!(here, 4, "the thread that started it is untouched");
    }
}
