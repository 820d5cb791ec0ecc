//! A match's tick driver: the one task that owns the match's world.
//!
//! Each tick, in order: read every client (without blocking: what arrived since the last tick),
//! take at most one queued input per player, step the game, build the snapshot, publish it to
//! the history and write it into every connected client's socket. It never awaits a client:
//! reads and writes are non-blocking, and a client that cannot keep up skips snapshots until it
//! is dropped. Between ticks it handles commands (joins, resumes, kicks).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use shared::protocol::{Event, Input, MatchEnd, Ping, PlayerResult, ServerMessage, Welcome};
use shared::schema::GameProtocol;
use shared::{Tick, close, codec};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::delay::Delay;
use super::frame::{EventLog, History, TickFrame};
use super::inlet::{Inlet, LinkEnd};
use super::outbox::{Control, Offer, Outbox, PendingSnapshot, TickOut};
use super::schedule::Schedule;
use super::settings::MatchSettings;
use super::views::{ViewKeeper, Viewer};
use crate::game::{AnyGame, JoinInfo};
use crate::metrics::Metrics;
use crate::store::{ResultRow, Store};

/// Ticks run back to back to catch up after a stall before the rest are dropped as late.
const MAX_CATCH_UP: u32 = 3;

/// Requests to a match (inputs are read by the tick itself).
#[derive(Debug)]
pub enum Command {
    /// Seat an account (or give a seated account its seat back) and attach the connection.
    Join {
        account_id: i64,
        username: String,
        outbox: Arc<Outbox>,
        inlet: Box<dyn Inlet>,
        reply: oneshot::Sender<Result<Joined, Refusal>>,
    },
    /// Attach the connection to the seat a reconnect token names.
    Resume {
        token: String,
        ack: Tick,
        outbox: Arc<Outbox>,
        inlet: Box<dyn Inlet>,
        reply: oneshot::Sender<Result<Joined, Refusal>>,
    },
    /// Attach a spectator's connection: no seat, no inputs.
    Spectate {
        account_id: i64,
        /// The player whose view it sees; the whole world if `None`.
        follow: Option<u32>,
        outbox: Arc<Outbox>,
        inlet: Box<dyn Inlet>,
        reply: oneshot::Sender<Result<Joined, Refusal>>,
    },
    Kick {
        account_id: i64,
        reason: String,
        reply: oneshot::Sender<bool>,
    },
    End {
        reason: String,
    },
    Describe {
        reply: oneshot::Sender<MatchSummary>,
    },
}

/// A successful join or resume.
#[derive(Debug, Clone)]
pub struct Joined {
    pub player_id: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Full,
    Ended,
    InvalidReconnect,
    /// The game refused the player, with a reason the client reads.
    Game(String),
    /// A spectator cannot watch (too many watch, or the player to follow is not here).
    Spectator(String),
}

/// A match as the admin API lists it.
#[derive(Debug, Clone)]
pub struct MatchSummary {
    pub match_id: String,
    pub game: String,
    pub map: String,
    pub tick: Tick,
    pub ticks_remaining: u32,
    pub players: Vec<PlayerSummary>,
    pub spectators: u32,
}

#[derive(Debug, Clone)]
pub struct PlayerSummary {
    pub player_id: u32,
    pub account_id: i64,
    pub username: String,
    pub connected: bool,
    pub score: i64,
}

/// A connected client: the tick reads it through its inlet and writes it through its outbox.
/// Dropping the link gives the connection back to its session, which finishes the close.
#[derive(Debug)]
struct Link {
    outbox: Arc<Outbox>,
    inlet: Box<dyn Inlet>,
}

/// A player's place in the match, connected or within its reconnect grace.
#[derive(Debug)]
struct Seat {
    account_id: i64,
    token: String,
    link: Option<Link>,
    inputs: VecDeque<Input>,
    last_input_seq: u32,
    /// When the connection went away, while waiting out the grace.
    gone_since: Option<Instant>,
}

/// A read-only seat: sees the whole world or a player's view, sends nothing but acks.
#[derive(Debug)]
struct Spectator {
    account_id: i64,
    viewer: Viewer,
    link: Link,
}

/// Everything the driver task needs.
pub(crate) struct Driver {
    pub(crate) match_id: String,
    pub(crate) map: String,
    pub(crate) game: Box<dyn AnyGame>,
    /// The other end of the recorder `game` is wrapped in, when matches are recorded: the
    /// replay is taken out of it at the end and stored with the results.
    pub(crate) recording: Option<crate::replay::record::Recording>,
    /// The game's protocol hash, computed once.
    pub(crate) game_hash: u64,
    pub(crate) settings: MatchSettings,
    pub(crate) store: Store,
    pub(crate) metrics: Metrics,
    pub(crate) history: Arc<History>,
    pub(crate) commands: mpsc::Receiver<Command>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) now_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
    pub(crate) leaderboards: Arc<crate::leaderboards::Leaderboards>,
    /// The server's main runtime: database work runs there, where its connections live, while
    /// this driver runs on the tick thread.
    pub(crate) io: tokio::runtime::Handle,
}

/// The driver's own state, apart from its inputs.
struct Running {
    seats: BTreeMap<u32, Seat>,
    /// Every player who ever joined: results name them even after they left.
    names: BTreeMap<u32, (i64, String)>,
    next_player_id: u32,
    /// The tick last simulated; [`Tick::ZERO`] before the first step.
    tick: Tick,
    /// Events from commands (joins, leaves) that ride with the next tick's snapshot.
    pending_events: Vec<Event>,
    /// Every event of the ticks the history holds, oldest first, and the same shared with the
    /// frames; rebuilt only on a tick that adds or drops one.
    recent_events: VecDeque<(Tick, Arc<[Event]>)>,
    shared_events: EventLog,
    end: Option<(u16, String)>,
    /// The buffer each client's frame is assembled in, kept from tick to tick.
    write_buf: Vec<u8>,
    /// What each player sees.
    views: ViewKeeper,
    /// Scratch: the seated players, in order.
    players: Vec<u32>,
    spectators: Vec<Spectator>,
    /// With a spectator delay: the frames spectators will see, oldest first (only while anyone
    /// watches), and the history their deltas are against.
    delayed: Delay,
    spectator_history: History,
}

impl Driver {
    /// Runs the match to its end (time up, ended by an admin, or server shutdown), then stores
    /// the results, sends `MatchEnd` and closes every connection.
    pub(crate) async fn run(mut self) {
        let period = Duration::from_secs_f64(1.0 / f64::from(self.settings.tick_rate));
        let mut state = Running {
            seats: BTreeMap::new(),
            names: BTreeMap::new(),
            next_player_id: 1,
            tick: Tick::ZERO,
            pending_events: Vec::new(),
            recent_events: VecDeque::new(),
            shared_events: Vec::new().into(),
            end: None,
            write_buf: Vec::with_capacity(4096),
            views: ViewKeeper::new(self.game.interest(), self.settings.interest_management),
            players: Vec::new(),
            spectators: Vec::new(),
            delayed: Delay::new(self.settings.spectator_delay_ticks),
            spectator_history: History::new(self.settings.history_ticks),
        };
        let store = self.store.clone();
        let id = self.match_id.clone();
        let ends_at = (self.now_ms)()
            + i64::from(self.game.ticks_remaining()) * 1000 / i64::from(self.settings.tick_rate);
        self.io.spawn(async move {
            if let Err(e) = store.mark_running(&id, ends_at).await {
                tracing::warn!(match_id = %id, error = %e, "marking match running failed");
            }
        });

        let mut schedule = Schedule::new(Instant::now(), period, MAX_CATCH_UP);
        loop {
            tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => {
                    state.end.get_or_insert((close::GOING_AWAY, "the server is shutting down".into()));
                }
                Some(cmd) = self.commands.recv() => self.handle_command(cmd, &mut state),
                _ = tokio::time::sleep_until(schedule.next()) => {
                    let due = schedule.due(Instant::now());
                    if due.late {
                        self.metrics.late_ticks.inc();
                    }
                    self.metrics.ticks_skipped.inc_by(due.skipped);
                    for _ in 0..due.run {
                        if self.game.is_over() {
                            break;
                        }
                        self.tick(&mut state);
                    }
                    if self.game.is_over() {
                        state.end.get_or_insert((close::MATCH_ENDED, "the match is over".into()));
                    }
                }
            }
            if state.end.is_some() {
                break;
            }
        }
        self.finish(&mut state).await;
    }

    fn tick(&mut self, state: &mut Running) {
        let started = std::time::Instant::now();
        let now = Instant::now();
        self.read_clients(state, now);
        self.read_spectators(state, now);
        for (player_id, seat) in &mut state.seats {
            if let Some(input) = seat.inputs.pop_front() {
                // Inlets check inputs against the declaration, so the game takes every one.
                self.game.input(*player_id, &input.values);
                seat.last_input_seq = input.seq;
            }
        }

        let mut events: Vec<Event> = std::mem::take(&mut state.pending_events);
        self.game.step(&mut events);
        state.tick = state.tick.next();
        let tick = state.tick;
        let with_checksum = tick.0.is_multiple_of(self.settings.checksum_interval);
        let world = self.game.world();
        let views = if state.views.limits() {
            state.players.clear();
            state.players.extend(state.seats.keys().copied());
            state
                .views
                .views(&*self.game, &world, &state.players, with_checksum)
        } else {
            None
        };
        let frame = Arc::new(
            TickFrame::new(
                tick,
                world,
                self.recent_events(state, tick, events),
                with_checksum,
            )
            .with_views(views),
        );
        self.history.push(frame.clone());

        // One ping a second measures round trips; every client gets it with this tick's
        // snapshot, in the same write.
        let ping = tick
            .0
            .is_multiple_of(u32::from(self.settings.tick_rate))
            .then(|| {
                codec::encode_server(&ServerMessage::Ping(Ping {
                    id: tick.0,
                    sent_us: crate::net::monotonic_us(),
                }))
            });
        let mut out = TickOut::new(
            &self.history,
            &self.metrics,
            std::mem::take(&mut state.write_buf),
        );
        out.ping = ping.as_deref();
        // The oldest world a connected client may still ask a delta against.
        let mut oldest_needed = tick;
        for (player_id, seat) in &mut state.seats {
            let Some(link) = &seat.link else { continue };
            hold_back(&mut oldest_needed, tick, &link.outbox);
            let offer = link.outbox.offer_snapshot(
                PendingSnapshot {
                    frame: frame.clone(),
                    viewer: Viewer::Player(*player_id),
                    last_input_seq: seat.last_input_seq,
                },
                &mut out,
            );
            if !self.still_attached(offer, &link.outbox) {
                drop_link(seat, now);
            }
        }
        self.serve_spectators(state, &frame, &mut out, &mut oldest_needed);
        frame.release_bodies();
        // A seat waiting to be resumed is not counted: a resume from a forgotten tick gets a
        // keyframe, as one from beyond the capacity always did.
        self.history.forget_before(oldest_needed);
        self.metrics.bytes_sent.inc_by(out.bytes);
        self.metrics.frames_sent.inc_by(out.frames);
        state.write_buf = out.buf;
        self.expire_seats(state, now);
        self.metrics
            .tick_seconds
            .observe(started.elapsed().as_secs_f64());
    }

    /// Sends the spectators their snapshot: this tick's, or with a delay the one that many
    /// ticks old. Undelayed spectators' acks hold back `oldest_needed` in the shared history.
    fn serve_spectators(
        &self,
        state: &mut Running,
        frame: &Arc<TickFrame>,
        out: &mut TickOut<'_>,
        oldest_needed: &mut Tick,
    ) {
        if state.spectators.is_empty() {
            if !state.delayed.is_empty() {
                // The last spectator left: a later one starts over.
                state.delayed.clear();
                state.spectator_history = History::new(self.settings.history_ticks);
            }
            return;
        }
        if self.settings.spectator_delay_ticks == 0 {
            let spectators = std::mem::take(&mut state.spectators);
            state.spectators = self.offer_each(spectators, frame, out, &state.seats);
            for s in &state.spectators {
                hold_back(oldest_needed, frame.tick, &s.link.outbox);
            }
            return;
        }
        // Only the views someone follows are kept: every player's, for the length of the delay,
        // would be most of a big match's memory.
        let followed: Vec<u32> = state
            .spectators
            .iter()
            .filter_map(|s| match s.viewer {
                Viewer::Player(p) => Some(p),
                Viewer::Everything => None,
            })
            .collect();
        state.delayed.push(Arc::new(frame.keeping_views(&followed)));
        let mut due = None;
        while let Some(f) = state.delayed.pop_due(frame.tick) {
            state.spectator_history.push(f.clone());
            due = Some(f);
        }
        let Some(due) = due else { return };
        let mut spectator_out = TickOut::new(
            &state.spectator_history,
            &self.metrics,
            std::mem::take(&mut out.buf),
        );
        spectator_out.ping = out.ping;
        let spectators = std::mem::take(&mut state.spectators);
        state.spectators = self.offer_each(spectators, &due, &mut spectator_out, &state.seats);
        due.release_bodies();
        let mut oldest = due.tick;
        for s in &state.spectators {
            hold_back(&mut oldest, due.tick, &s.link.outbox);
        }
        state.spectator_history.forget_before(oldest);
        out.bytes += spectator_out.bytes;
        out.frames += spectator_out.frames;
        out.buf = spectator_out.buf;
    }

    /// Offers `frame` to each spectator; answers those still watching.
    fn offer_each(
        &self,
        spectators: Vec<Spectator>,
        frame: &Arc<TickFrame>,
        out: &mut TickOut<'_>,
        seats: &BTreeMap<u32, Seat>,
    ) -> Vec<Spectator> {
        let mut kept = Vec::with_capacity(spectators.len());
        for s in spectators {
            if let Viewer::Player(p) = s.viewer
                && frame.seen_by(s.viewer).is_none()
            {
                if seats.contains_key(&p) {
                    // A delayed frame from before this spectator came, kept without the view
                    // it follows: nothing to show yet.
                    kept.push(s);
                } else {
                    s.link.outbox.close(
                        close::MATCH_UNAVAILABLE,
                        format!("player {p} left the match"),
                    );
                }
                continue;
            }
            let offer = s.link.outbox.offer_snapshot(
                PendingSnapshot {
                    frame: frame.clone(),
                    viewer: s.viewer,
                    last_input_seq: 0,
                },
                out,
            );
            if self.still_attached(offer, &s.link.outbox) {
                kept.push(s);
            }
        }
        kept
    }

    /// Whether a client is still attached after an offer: not if its socket broke, nor if it
    /// fell too far behind (its close is then asked for).
    fn still_attached(&self, offer: Offer, outbox: &Outbox) -> bool {
        match offer {
            Offer::Written => true,
            Offer::Skipped { behind } => {
                self.metrics.snapshots_skipped.inc();
                if behind > self.settings.max_ticks_behind {
                    outbox.close(close::TOO_SLOW, format!("fell {behind} snapshots behind"));
                    self.metrics.clients_dropped.inc();
                    false
                } else {
                    true
                }
            }
            Offer::Closed => false,
        }
    }

    /// Reads the spectators: acks are taken by their inlets; an input is refused with a close,
    /// and connections that ended are let go.
    fn read_spectators(&mut self, state: &mut Running, now: Instant) {
        state.spectators.retain_mut(|s| {
            let mut sent_input = false;
            let end = s.link.inlet.read(now, &mut |_| sent_input = true);
            if sent_input {
                s.link
                    .outbox
                    .close(close::READ_ONLY, "a spectator cannot send inputs");
                return false;
            }
            end.is_none()
        });
    }

    /// Reads every connected client: inputs into their seats' queues (the oldest dropped past
    /// the bound), and connections that ended taken out.
    fn read_clients(&mut self, state: &mut Running, now: Instant) {
        let bound = self.settings.input_queue;
        let mut dropped = 0u64;
        let mut ended = Vec::new();
        for (player_id, seat) in &mut state.seats {
            let Some(link) = &mut seat.link else { continue };
            let queue = &mut seat.inputs;
            let end = link.inlet.read(now, &mut |input| {
                queue.push_back(input);
                if queue.len() > bound {
                    queue.pop_front();
                    dropped += 1;
                }
            });
            if let Some(end) = end {
                ended.push((*player_id, end));
            }
        }
        self.metrics.inputs_dropped.inc_by(dropped);
        for (player_id, end) in ended {
            match end {
                LinkEnd::Left => self.release(state, player_id),
                LinkEnd::Dropped => {
                    if let Some(seat) = state.seats.get_mut(&player_id) {
                        drop_link(seat, now);
                    }
                }
            }
        }
    }

    /// The events of the ticks a delta may still be against, with this tick's added: shared with
    /// the previous frame while nothing was added or aged out.
    fn recent_events(&self, state: &mut Running, tick: Tick, events: Vec<Event>) -> EventLog {
        let keep = i32::try_from(self.settings.history_ticks).unwrap_or(i32::MAX);
        let before = state.recent_events.len();
        while state
            .recent_events
            .front()
            .is_some_and(|(t, _)| tick.since(*t) >= keep)
        {
            state.recent_events.pop_front();
        }
        let changed = !events.is_empty() || state.recent_events.len() != before;
        if !events.is_empty() {
            state.recent_events.push_back((tick, events.into()));
        }
        if changed {
            state.shared_events = state.recent_events.iter().cloned().collect();
        }
        state.shared_events.clone()
    }

    /// Releases seats whose reconnect grace ran out.
    fn expire_seats(&mut self, state: &mut Running, now: Instant) {
        let grace = self.settings.reconnect_grace;
        let expired: Vec<u32> = state
            .seats
            .iter()
            .filter(|(_, s)| s.gone_since.is_some_and(|t| now.duration_since(t) >= grace))
            .map(|(id, _)| *id)
            .collect();
        for player_id in expired {
            self.release(state, player_id);
        }
    }

    /// Takes a player out of the match and gives the seat back in the lobby.
    fn release(&mut self, state: &mut Running, player_id: u32) {
        let Some(seat) = state.seats.remove(&player_id) else {
            return;
        };
        self.game.leave(player_id);
        state.views.forget(player_id);
        state
            .pending_events
            .push(Event::PlayerLeft { player: player_id });
        let store = self.store.clone();
        let match_id = self.match_id.clone();
        self.io.spawn(async move {
            if let Err(e) = store.release_seat(&match_id, seat.account_id).await {
                tracing::warn!(%match_id, error = %e, "releasing a seat failed");
            }
        });
    }

    fn handle_command(&mut self, cmd: Command, state: &mut Running) {
        match cmd {
            Command::Join {
                account_id,
                username,
                outbox,
                inlet,
                reply,
            } => {
                let existing = state
                    .seats
                    .iter()
                    .find(|(_, s)| s.account_id == account_id)
                    .map(|(id, _)| *id);
                let player_id = match existing {
                    Some(id) => id,
                    None => {
                        if state.end.is_some() || self.game.is_over() {
                            let _ = reply.send(Err(Refusal::Ended));
                            return;
                        }
                        if state.seats.len() >= self.settings.capacity {
                            let _ = reply.send(Err(Refusal::Full));
                            return;
                        }
                        let id = state.next_player_id;
                        let who = JoinInfo {
                            account_id,
                            username: &username,
                        };
                        if let Err(refused) = self.game.join(id, &who) {
                            let _ = reply.send(Err(Refusal::Game(refused.0)));
                            return;
                        }
                        state.next_player_id += 1;
                        state.names.insert(id, (account_id, username.clone()));
                        state.pending_events.push(Event::PlayerJoined {
                            player: id,
                            name: username,
                        });
                        let token = format!("{}.{}", self.match_id, crate::auth::random_token(24));
                        state.seats.insert(
                            id,
                            Seat {
                                account_id,
                                token,
                                link: None,
                                inputs: VecDeque::new(),
                                last_input_seq: 0,
                                gone_since: None,
                            },
                        );
                        id
                    }
                };
                let joined = self.attach(state, player_id, outbox, inlet, Tick::ZERO);
                let _ = reply.send(Ok(joined));
            }
            Command::Resume {
                token,
                ack,
                outbox,
                inlet,
                reply,
            } => {
                let found = state
                    .seats
                    .iter()
                    .find(|(_, s)| s.token == token)
                    .map(|(id, _)| *id);
                match found {
                    Some(player_id) => {
                        self.metrics.reconnects.inc();
                        let joined = self.attach(state, player_id, outbox, inlet, ack);
                        let _ = reply.send(Ok(joined));
                    }
                    None => {
                        let _ = reply.send(Err(Refusal::InvalidReconnect));
                    }
                }
            }
            Command::Spectate {
                account_id,
                follow,
                outbox,
                inlet,
                reply,
            } => {
                let refused = if state.end.is_some() || self.game.is_over() {
                    Some(Refusal::Ended)
                } else if state.spectators.len() >= self.settings.max_spectators {
                    Some(Refusal::Spectator(format!(
                        "the match has {} spectators, as many as it takes",
                        state.spectators.len()
                    )))
                } else {
                    follow
                        .filter(|p| !state.seats.contains_key(p))
                        .map(|p| Refusal::Spectator(format!("player {p} is not in this match")))
                };
                if let Some(refused) = refused {
                    let _ = reply.send(Err(refused));
                    return;
                }
                let welcome = self.welcome(state, 0, String::new(), 0);
                outbox.push_control(Control::Message(codec::encode_server(&welcome).into()));
                state.spectators.push(Spectator {
                    account_id,
                    viewer: follow.map_or(Viewer::Everything, Viewer::Player),
                    link: Link { outbox, inlet },
                });
                let _ = reply.send(Ok(Joined { player_id: 0 }));
            }
            Command::Kick {
                account_id,
                reason,
                reply,
            } => {
                // A kicked (or banned) account stops watching too.
                state.spectators.retain(|s| {
                    let kicked = s.account_id == account_id;
                    if kicked {
                        s.link
                            .outbox
                            .close(close::KICKED, format!("kicked: {reason}"));
                    }
                    !kicked
                });
                let found = state
                    .seats
                    .iter()
                    .find(|(_, s)| s.account_id == account_id)
                    .map(|(id, _)| *id);
                if let Some(player_id) = found {
                    if let Some(link) = state.seats.get_mut(&player_id).and_then(|s| s.link.take())
                    {
                        let msg = codec::encode_server(&ServerMessage::Kicked {
                            reason: reason.clone(),
                        });
                        link.outbox.push_control(Control::Message(msg.into()));
                        link.outbox
                            .close(close::KICKED, format!("kicked: {reason}"));
                    }
                    self.release(state, player_id);
                }
                let _ = reply.send(found.is_some());
            }
            Command::End { reason } => {
                state.end.get_or_insert((close::MATCH_ENDED, reason));
            }
            Command::Describe { reply } => {
                let results = self.game.results();
                let players = state
                    .seats
                    .iter()
                    .map(|(id, s)| PlayerSummary {
                        player_id: *id,
                        account_id: s.account_id,
                        username: state.names.get(id).map(|n| n.1.clone()).unwrap_or_default(),
                        connected: s.link.is_some(),
                        score: results
                            .iter()
                            .find(|r| r.player == *id)
                            .map_or(0, |r| r.score),
                    })
                    .collect();
                let _ = reply.send(MatchSummary {
                    match_id: self.match_id.clone(),
                    game: self.game.protocol().name.to_string(),
                    map: self.map.clone(),
                    tick: state.tick,
                    ticks_remaining: self.game.ticks_remaining(),
                    players,
                    spectators: u32::try_from(state.spectators.len()).unwrap_or(u32::MAX),
                });
            }
        }
    }

    /// Attaches a connection to a seat, replacing (and closing) any older one, and queues its
    /// `Welcome`. `ack` is the tick the client still holds (resume), else ZERO.
    fn attach(
        &mut self,
        state: &mut Running,
        player_id: u32,
        outbox: Arc<Outbox>,
        inlet: Box<dyn Inlet>,
        ack: Tick,
    ) -> Joined {
        let token = state
            .seats
            .get(&player_id)
            .map(|s| s.token.clone())
            .unwrap_or_default();
        let grace = self.settings.reconnect_grace.as_secs() as u16;
        let welcome = self.welcome(state, player_id, token, grace);
        // Invariant: callers pass a player id that has a seat.
        let seat = state
            .seats
            .get_mut(&player_id)
            .expect("attach to an existing seat");
        if let Some(old) = seat.link.take() {
            old.outbox
                .close(close::REPLACED, "a newer connection took over this player");
        }
        if !ack.is_zero() {
            outbox.acked().resume_from(ack);
        }
        outbox.push_control(Control::Message(codec::encode_server(&welcome).into()));
        seat.link = Some(Link { outbox, inlet });
        seat.gone_since = None;
        seat.inputs.clear();
        Joined { player_id }
    }

    /// The `Welcome` for a connection to `player_id` (0: a spectator, who has no token).
    fn welcome(
        &self,
        state: &Running,
        player_id: u32,
        reconnect_token: String,
        reconnect_grace_s: u16,
    ) -> ServerMessage {
        let players = state
            .seats
            .keys()
            .filter_map(|id| Some((*id, state.names.get(id)?.1.clone())))
            .collect();
        let protocol: &GameProtocol = self.game.protocol();
        ServerMessage::Welcome(Welcome {
            player_id,
            match_id: self.match_id.clone(),
            game: protocol.name.to_string(),
            game_hash: self.game_hash,
            tick_rate: self.settings.tick_rate,
            map: self.map.clone(),
            reconnect_token,
            reconnect_grace_s,
            tick: state.tick,
            ticks_remaining: self.game.ticks_remaining(),
            players,
        })
    }

    async fn finish(&mut self, state: &mut Running) {
        let (code, reason) = state
            .end
            .clone()
            .unwrap_or((close::MATCH_ENDED, "the match is over".into()));
        let protocol = self.game.protocol();
        let results: Vec<PlayerResult> = self
            .game
            .results()
            .into_iter()
            .filter_map(|r| {
                let (account_id, username) = state.names.get(&r.player)?.clone();
                Some(PlayerResult {
                    player_id: r.player,
                    account_id,
                    username,
                    score: r.score,
                    stats: protocol
                        .stats
                        .iter()
                        .zip(&r.stats)
                        .map(|(name, v)| (name.to_string(), *v))
                        .collect(),
                })
            })
            .collect();
        let rows: Vec<ResultRow> = results
            .iter()
            .map(|r| ResultRow {
                account_id: r.account_id,
                player_id: r.player_id,
                username: r.username.clone(),
                score: r.score,
                stats: r.stats.clone(),
            })
            .collect();
        let replay = self
            .recording
            .take()
            .map(|recording| recording.finish(self.game.as_ref()));
        // Stored before anyone is told, so a client that saw MatchEnd can read them back.
        let (store, match_id, game, boards, now) = (
            self.store.clone(),
            self.match_id.clone(),
            protocol.name,
            self.leaderboards.boards().to_vec(),
            (self.now_ms)(),
        );
        let stored = self
            .io
            .spawn(async move {
                let stored = store
                    .finish_match(&match_id, game, &rows, &boards, now)
                    .await;
                if let Some(replay) = replay {
                    crate::replay::save(&store, &replay, now).await;
                }
                stored
            })
            .await;
        match stored {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(match_id = %self.match_id, error = %e, "storing match results failed");
            }
            Err(e) => {
                tracing::error!(match_id = %self.match_id, error = %e, "the results task failed");
            }
        }
        let msg: bytes::Bytes =
            codec::encode_server(&ServerMessage::MatchEnd(MatchEnd { results })).into();
        let spectators = state.spectators.drain(..).map(|s| s.link);
        let players = state.seats.values_mut().filter_map(|seat| seat.link.take());
        for link in players.chain(spectators) {
            link.outbox.push_control(Control::Message(msg.clone()));
            link.outbox.close(code, reason.clone());
        }
        tracing::info!(match_id = %self.match_id, tick = %state.tick, players = state.names.len(), "match ended");
    }
}

/// Moves `oldest` back to the oldest world the client of `outbox` may still ask a delta against
/// (as of tick `now`).
fn hold_back(oldest: &mut Tick, now: Tick, outbox: &Outbox) {
    if let Some(needed) = outbox.acked().oldest_needed()
        && now.since(needed) > now.since(*oldest)
    {
        *oldest = needed;
    }
}

/// Takes a seat's connection away (the session finishes its close) and starts the seat's
/// reconnect grace.
fn drop_link(seat: &mut Seat, now: Instant) {
    seat.link = None;
    seat.gone_since = Some(now);
    seat.inputs.clear();
}
