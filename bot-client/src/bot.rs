//! One bot's life: log in as a guest with its own device id, get a seat, join over ws/wss, then
//! play: every snapshot is applied to the bot's replica (verifying the server's checksums) and
//! answered with one input (acknowledging the newest tick processed), a ping goes out every
//! second, and everything is measured. When a match ends the bot queues for the next one, until
//! the run stops; then it sends `Leave` and waits for the server's close.
//!
//! Call order inside: [`run`] → `live` (logins, joins) → `play` (one seat, across resumes) →
//! `drive` (one connection's event loop).
//!
//! Cheap by design: one task per bot (plus its session's reader task), no histograms of its
//! own (see [`crate::stats`]), one buffered write per tick for its input (and the ping that
//! may ride along).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant as TokioInstant;

use shared::{Event, GameProtocol, InputValues, Tick, Welcome, close};

use crate::args::Scenario;
use crate::behaviour::Behaviour;
use crate::conn::{
    ABNORMAL_CLOSURE, ConnError, ConnectOptions, Connection, DEFAULT_CONNECT_TIMEOUT,
    NO_STATUS_RECEIVED,
};
use crate::events::{EventFeed, TickedEvent};
use crate::fleet::Fleet;
use crate::link::DelayLine;
use crate::replica::{Replica, ReplicaError};
use crate::rest::RestError;
use crate::session::{Detached, JoinError, Session, SessionError, SessionEvent, SnapshotEvent};
use crate::stats::{Metric, Recorder};

/// How often a bot pings.
const PING_EVERY: Duration = Duration::from_secs(1);
/// How often a bot moves its counts into the shared stats (for the progress line).
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// A connection that delivers nothing for this long is given up.
const SILENCE: Duration = Duration::from_secs(10);
/// How long a leaving bot waits for the server's close.
const LEAVE_WAIT: Duration = Duration::from_secs(3);
/// Inputs a bot may send in a burst; the bucket refills at the tick rate, so a bot catching up
/// on a backlog of snapshots never floods the server (which drops clients above twice the tick
/// rate).
const INPUT_BURST: f64 = 2.0;
/// Unacknowledged inputs and pings remembered for latency (older ones are forgotten).
const PENDING_INPUTS: usize = 64;
const PENDING_PINGS: usize = 8;
/// The kernel receive buffer of slow readers: small, so a stalled reader backs up into the
/// server within a second or two instead of after megabytes.
const SLOW_READER_RECV_BUFFER: u32 = 4096;
/// A bot logs in again (same device, same account) before its next seat once its access
/// token is this old: well inside the server's default hour.
const RELOGIN_AFTER: Duration = Duration::from_secs(30 * 60);
/// Retries of a failing login or join before the bot gives up for the run.
const MAX_RETRIES: u32 = 1_000;
/// Bounds on the loops of a bot's life, far above what a run reaches.
const MAX_GENERATIONS: u32 = 100_000;
const MAX_SEATS: u32 = 100_000;
const MAX_CONNECTIONS_PER_SEAT: u32 = 100_000;
/// Loop turns per second of run a connection may take (each turn is an event or a timer).
const MAX_TURNS_PER_SECOND: u64 = 20_000;

/// Plays bot `index` until the fleet stops.
pub(crate) async fn run(fleet: Arc<Fleet>, index: u32) {
    let affected = fleet.plan.is_affected(index);
    let mut bot = Bot {
        rec: fleet.stats.recorder(index, !affected),
        behaviour: Behaviour::for_game(fleet.game, fleet.seed, index),
        rng: link_rng(fleet.seed, index),
        affected,
        index,
        next_seq: 1,
        connected_once: false,
        fleet,
    };
    bot.live().await;
}

/// How a seat ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The run is over.
    Stopped,
    /// The player left for good (churn): a new player takes its place.
    Left,
    /// The match ended: queue again.
    MatchEnded,
    /// The connection was lost or refused: join again after a pause.
    Lost,
}

/// How one connection's event loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    End(End),
    /// A storm wave: drop the socket and resume.
    Storm,
}

/// What a bot has joined.
struct Joined {
    session: Session,
    welcome: Welcome,
    url: String,
}

struct Bot {
    fleet: Arc<Fleet>,
    index: u32,
    affected: bool,
    rec: Recorder,
    behaviour: Behaviour,
    /// Link delays and retry pauses: a stream apart from the behaviour's.
    rng: ChaCha8Rng,
    /// Input numbers keep increasing across every connection of this bot.
    next_seq: u32,
    connected_once: bool,
}

/// Something that reached the bot, waiting out the link's delay.
struct Delivered {
    event: SessionEvent,
    read_at: Instant,
    /// The replica's newest tick right after this event was applied: what the bot may
    /// acknowledge once it has processed it.
    ack_after: Tick,
}

/// Something the bot sends, waiting out the link's delay.
enum Outgoing {
    Input {
        cmd: InputValues,
        ack: Tick,
        decided: Instant,
    },
    Ping {
        decided: Instant,
    },
}

/// The ticks one connection delivered: a lossless server sends every tick from the first to
/// the last.
struct Segment {
    first: Option<Tick>,
    last: Tick,
    opened: Instant,
    resumed: bool,
}

impl Segment {
    fn new(resumed: bool) -> Segment {
        Segment {
            first: None,
            last: Tick::ZERO,
            opened: Instant::now(),
            resumed,
        }
    }

    fn count(&mut self, tick: Tick) {
        self.first.get_or_insert(tick);
        self.last = tick;
    }

    fn expected(&self) -> u64 {
        self.first.map_or(0, |first| {
            u64::from(self.last.since(first).max(0) as u32) + 1
        })
    }
}

/// The state of one seat's play, across the connections of a reconnect storm.
struct Play {
    player_id: u32,
    reconnect_token: String,
    url: String,
    period: Duration,
    tick_rate: f64,
    seg: Segment,
    /// The newest tick processed: what inputs acknowledge.
    visible_ack: Tick,
    /// The previous snapshot's tick and arrival, for jitter.
    last_arrival: Option<(Tick, Instant)>,
    /// Inputs sent and not yet acknowledged: (seq, when decided).
    pending_inputs: VecDeque<(u32, Instant)>,
    /// Pings sent: (id, the delay the link added on the way out).
    pending_pings: VecDeque<(u32, Duration)>,
    inbound: DelayLine<Delivered>,
    outbound: DelayLine<Outgoing>,
    tokens: f64,
    refilled: Instant,
    next_ping: Instant,
    next_flush: Instant,
    next_wave: Option<Instant>,
    paused_until: Option<Instant>,
    /// While paused, the bot still sends an input every tick (its last command, acknowledging
    /// the last tick it processed), as a client that writes but cannot keep up reading would;
    /// so the server sees it alive and keeps sending.
    next_paused_input: Instant,
    last_cmd: InputValues,
    leave_at: Option<Instant>,
    last_heard: Instant,
    match_ended: bool,
    leaving: bool,
    /// Bytes are queued and wait for one flush.
    dirty: bool,
    /// A write failed; the kind, reported if the close that follows is not a normal one.
    write_failed: Option<String>,
}

impl Play {
    fn new(welcome: &Welcome, url: String, leave_at: Option<Instant>) -> Play {
        let now = Instant::now();
        let tick_rate = f64::from(welcome.tick_rate.max(1));
        Play {
            player_id: welcome.player_id,
            reconnect_token: welcome.reconnect_token.clone(),
            url,
            period: Duration::from_secs_f64(1.0 / tick_rate),
            tick_rate,
            seg: Segment::new(false),
            visible_ack: Tick::ZERO,
            last_arrival: None,
            pending_inputs: VecDeque::with_capacity(8),
            pending_pings: VecDeque::with_capacity(2),
            inbound: DelayLine::new(),
            outbound: DelayLine::new(),
            tokens: INPUT_BURST,
            refilled: now,
            next_ping: now,
            next_flush: now + FLUSH_EVERY,
            next_wave: None,
            paused_until: None,
            next_paused_input: now,
            // No input yet: the first paused one is the behaviour's `held` of nothing.
            last_cmd: InputValues::default(),
            leave_at,
            last_heard: now,
            match_ended: false,
            leaving: false,
            dirty: false,
            write_failed: None,
        }
    }

    /// A fresh connection to the same seat (after a resume).
    fn reconnected(&mut self, welcome: &Welcome, ack: Tick) {
        let now = Instant::now();
        self.reconnect_token = welcome.reconnect_token.clone();
        self.seg = Segment::new(true);
        self.visible_ack = ack;
        self.last_arrival = None;
        self.pending_inputs.clear();
        self.pending_pings.clear();
        self.inbound.clear();
        self.outbound.clear();
        self.tokens = INPUT_BURST;
        self.refilled = now;
        self.last_heard = now;
        self.dirty = false;
        self.write_failed = None;
    }

    /// Takes an input token if one is there.
    fn take_token(&mut self, now: Instant) -> bool {
        let earned = now.duration_since(self.refilled).as_secs_f64() * self.tick_rate;
        self.tokens = (self.tokens + earned).min(INPUT_BURST);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The next moment a timer of this connection needs the bot.
    fn wake(&self) -> Instant {
        let mut wake = self.next_flush;
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                wake = wake.min(t);
            }
        };
        consider(self.outbound.next_due());
        consider(self.inbound.next_due());
        consider(self.next_wave);
        consider(self.paused_until);
        if self.paused_until.is_some() && self.write_failed.is_none() {
            consider(Some(self.next_paused_input));
        }
        consider(self.leave_at);
        if self.paused_until.is_none() {
            consider(Some(self.last_heard + SILENCE));
        }
        wake
    }
}

impl Bot {
    /// Logins and seats until the run stops.
    async fn live(&mut self) {
        let start_at = self.fleet.start + self.fleet.plan.start_offset(self.index);
        if !self.sleep_until(start_at).await {
            return;
        }
        for generation in 0..MAX_GENERATIONS {
            let Some(mut token) = self.login(generation).await else {
                return;
            };
            let mut logged_in = Instant::now();
            let leave_at = self
                .fleet
                .plan
                .churn_life(&mut self.rng)
                .map(|life| Instant::now() + life);
            let mut lost = 0;
            for _ in 0..MAX_SEATS {
                if logged_in.elapsed() >= RELOGIN_AFTER {
                    let Some(fresh) = self.login(generation).await else {
                        return;
                    };
                    token = fresh;
                    logged_in = Instant::now();
                }
                let Some(joined) = self.join(&token).await else {
                    return;
                };
                match self.play(joined, leave_at).await {
                    End::Stopped => return,
                    End::Left => break,
                    End::MatchEnded => {
                        lost = 0;
                        self.rec.counts.requeues += 1;
                    }
                    End::Lost => {
                        if !self.backoff(lost).await {
                            return;
                        }
                        lost += 1;
                    }
                }
            }
        }
    }

    /// A guest login with this bot's device id for `generation`; `None` if the run stopped
    /// (or every retry failed).
    async fn login(&mut self, generation: u32) -> Option<String> {
        let device = format!("bot-{:08x}-{}-{generation}", self.fleet.run_id, self.index);
        for attempt in 0..MAX_RETRIES {
            let result = {
                let fleet = self.fleet.clone();
                let stop = fleet.stop.clone();
                tokio::select! {
                    _ = stop.cancelled() => return None,
                    result = async {
                        let _permit = fleet.joining.acquire().await;
                        fleet.rest.guest_login(&device).await
                    } => result,
                }
            };
            match result {
                Ok(auth) => {
                    self.rec.counts.logins += 1;
                    return Some(auth.access_token);
                }
                Err(e) => {
                    self.rest_failed(&e);
                    if !self.backoff(attempt).await {
                        return None;
                    }
                }
            }
        }
        self.rec.error("login: gave up");
        None
    }

    /// A seat (quick-join, or the chosen map) and a connection that got its `Welcome`; `None`
    /// if the run stopped (or every retry failed).
    async fn join(&mut self, token: &str) -> Option<Joined> {
        for attempt in 0..MAX_RETRIES {
            let fleet = self.fleet.clone();
            let stop = fleet.stop.clone();
            let options = self.connect_options();
            let mut replica = Replica::with_history(self.fleet.game, self.fleet.history_ticks());
            // The bot's acknowledgements only go forward, so the replica may forget what the
            // server will never delta against again.
            replica.set_pruning(true);
            let detached = Detached {
                replica,
                events: EventFeed::new(),
                next_seq: self.next_seq,
            };
            let result = tokio::select! {
                _ = stop.cancelled() => return None,
                result = async {
                    let _permit = fleet.joining.acquire().await;
                    let ticket = fleet.lobby.ticket(token).await.map_err(Failure::Rest)?;
                    let started = Instant::now();
                    let (session, welcome) = connect(&ticket.url, &ticket.ticket, options, detached)
                        .await
                        .map_err(Failure::Join)?;
                    Ok::<_, Failure>((session, welcome, ticket.url, started.elapsed()))
                } => result,
            };
            match result {
                Ok((session, welcome, url, took)) => {
                    self.rec.sample(Metric::Connect, took);
                    self.rec.counts.joins += 1;
                    if !self.connected_once {
                        self.connected_once = true;
                        self.fleet.note_first_connect(welcome.tick_rate);
                    }
                    if self.behaviour.wants_map()
                        && let Some(layout) = self.fleet.map_layout(&welcome.map).await
                    {
                        self.behaviour.know_map(&layout);
                    }
                    return Some(Joined {
                        session,
                        welcome,
                        url,
                    });
                }
                Err(Failure::Rest(e)) => self.rest_failed(&e),
                Err(Failure::Join(e)) => {
                    tracing::debug!(bot = self.index, error = %e, "join failed");
                    self.rec.error(join_error_kind(&e));
                }
            }
            if !self.backoff(attempt).await {
                return None;
            }
        }
        self.rec.error("join: gave up");
        None
    }

    /// Plays one seat until it ends, resuming through reconnect storms.
    async fn play(&mut self, joined: Joined, leave_at: Option<Instant>) -> End {
        let Joined {
            mut session,
            welcome,
            url,
        } = joined;
        let mut play = Play::new(&welcome, url, leave_at);
        play.last_cmd = self.behaviour.idle();
        play.next_wave = self.next_wave();
        session.set_history(crate::fleet::history_ticks_at(welcome.tick_rate));
        self.rec.connected(1);
        for _ in 0..MAX_CONNECTIONS_PER_SEAT {
            let outcome = self.drive(&mut session, &mut play).await;
            self.finish_connection(&session, &play);
            match outcome {
                Outcome::End(end) => {
                    // The feed lives across resumes, so its counts are the seat's.
                    let feed = session.events();
                    self.rec.counts.event_repeats += feed.repeats;
                    self.rec.counts.event_gaps += feed.gaps;
                    return end;
                }
                Outcome::Storm => {
                    self.rec.counts.detaches += 1;
                    let detached = session.detach();
                    let ack = detached.replica.ack_tick();
                    match self.resume(&play, detached).await {
                        Ok(Some((resumed, welcome))) => {
                            session = resumed;
                            play.reconnected(&welcome, ack);
                            self.rec.connected(1);
                        }
                        Ok(None) => return End::Stopped,
                        Err(()) => return End::Lost,
                    }
                }
            }
        }
        End::Lost
    }

    /// One connection's event loop.
    async fn drive(&mut self, session: &mut Session, play: &mut Play) -> Outcome {
        let stop = self.fleet.stop.clone();
        let max_turns = MAX_TURNS_PER_SECOND * (self.fleet.duration.as_secs() + 60);
        let mut wake = play.wake();
        let sleep = tokio::time::sleep_until(TokioInstant::from_std(wake));
        tokio::pin!(sleep);
        for _ in 0..max_turns {
            let next = play.wake();
            if next != wake {
                wake = next;
                sleep.as_mut().reset(TokioInstant::from_std(wake));
            }
            tokio::select! {
                biased;
                _ = stop.cancelled() => {
                    self.leave(session, play).await;
                    return Outcome::End(End::Stopped);
                }
                event = session.next_event(), if play.paused_until.is_none() => {
                    if let Some(end) = self.on_read(session, play, event).await {
                        return Outcome::End(end);
                    }
                }
                _ = &mut sleep => {
                    if let Some(outcome) = self.on_timers(session, play).await {
                        return outcome;
                    }
                }
            }
        }
        self.rec.error("session: loop bound reached");
        Outcome::End(End::Lost)
    }

    /// What `next_event` answered.
    async fn on_read(
        &mut self,
        session: &mut Session,
        play: &mut Play,
        event: Result<SessionEvent, SessionError>,
    ) -> Option<End> {
        let now = Instant::now();
        play.last_heard = now;
        match event {
            Ok(event) => {
                let ack_after = session.replica().ack_tick();
                if self.fleet.link.is_instant() {
                    let end = self.on_event(session, play, event, now, ack_after).await;
                    self.flush(session, play).await;
                    end
                } else {
                    let delay = self.fleet.link.sample(&mut self.rng);
                    let delivered = Delivered {
                        event,
                        read_at: now,
                        ack_after,
                    };
                    play.inbound.push(now, delay, delivered);
                    None
                }
            }
            Err(SessionError::Ended) => Some(self.on_closed(play, ABNORMAL_CLOSURE)),
            Err(e) => {
                if matches!(e, SessionError::Replica(_)) {
                    self.rec.counts.unapplied += 1;
                }
                tracing::debug!(bot = self.index, error = %e, "session error");
                self.rec.error(session_error_kind(&e));
                None
            }
        }
    }

    /// Timers: delayed items due, waves, the end of a pause, churn, silence, flushing stats.
    async fn on_timers(&mut self, session: &mut Session, play: &mut Play) -> Option<Outcome> {
        let now = Instant::now();
        while let Some(item) = play.outbound.pop_due(now) {
            self.write(session, play, item, now).await;
        }
        while let Some(d) = play.inbound.pop_due(now) {
            if let Some(end) = self
                .on_event(session, play, d.event, d.read_at, d.ack_after)
                .await
            {
                return Some(Outcome::End(end));
            }
        }
        self.flush(session, play).await;
        if now >= play.next_flush {
            self.rec.flush();
            play.next_flush = now + FLUSH_EVERY;
        }
        if play.paused_until.is_some_and(|t| now >= t) {
            play.paused_until = None;
            play.last_heard = now;
        }
        if play.paused_until.is_some() && now >= play.next_paused_input {
            play.next_paused_input = now + play.period;
            let input = Outgoing::Input {
                cmd: self.behaviour.held(play.last_cmd),
                ack: play.visible_ack,
                decided: now,
            };
            self.send(session, play, input, now).await;
            self.flush(session, play).await;
        }
        if play.next_wave.is_some_and(|t| now >= t) {
            play.next_wave = self.next_wave();
            if !play.match_ended {
                match self.fleet.plan.scenario {
                    Scenario::ReconnectStorm => return Some(Outcome::Storm),
                    Scenario::SlowReaders => {
                        play.paused_until = Some(now + self.fleet.plan.pause);
                        play.next_paused_input = now + play.period;
                        self.rec.counts.pauses += 1;
                    }
                    _ => {}
                }
            }
        }
        if play.leave_at.is_some_and(|t| now >= t) {
            self.leave(session, play).await;
            self.rec.counts.leaves += 1;
            return Some(Outcome::End(End::Left));
        }
        if play.paused_until.is_none() && now.duration_since(play.last_heard) >= SILENCE {
            self.rec.error("session: silent for 10 s");
            return Some(Outcome::End(End::Lost));
        }
        None
    }

    /// Processes one event (after the link's delay). `Some` when the connection closed.
    async fn on_event(
        &mut self,
        session: &mut Session,
        play: &mut Play,
        event: SessionEvent,
        read_at: Instant,
        ack_after: Tick,
    ) -> Option<End> {
        match event {
            SessionEvent::Snapshot(snapshot) => {
                self.on_snapshot(session, play, snapshot, ack_after).await;
                None
            }
            SessionEvent::Pong { id, rtt } => {
                if let Some(at) = play.pending_pings.iter().position(|(i, _)| *i == id) {
                    let (_, out_delay) = play.pending_pings.remove(at)?;
                    let in_delay = read_at.elapsed();
                    self.rec.sample(Metric::Rtt, rtt + out_delay + in_delay);
                    self.rec.counts.pongs += 1;
                }
                None
            }
            SessionEvent::MatchEnd(_) => {
                play.match_ended = true;
                None
            }
            SessionEvent::Kicked(reason) => {
                tracing::debug!(bot = self.index, %reason, "kicked");
                self.rec.error("kicked");
                None
            }
            SessionEvent::Closed { code, reason } => {
                tracing::debug!(bot = self.index, code, %reason, "connection closed");
                Some(self.on_closed(play, code))
            }
            SessionEvent::Event(event) => {
                self.count_event(session.game(), &event);
                None
            }
            SessionEvent::ServerPing(_) => None,
        }
    }

    async fn on_snapshot(
        &mut self,
        session: &mut Session,
        play: &mut Play,
        snapshot: SnapshotEvent,
        ack_after: Tick,
    ) {
        let now = Instant::now();
        let applied = snapshot.applied;
        let counts = &mut self.rec.counts;
        if applied.stale {
            counts.stale += 1;
            return;
        }
        counts.snapshots += 1;
        play.seg.count(applied.tick);
        for TickedEvent { event, .. } in &snapshot.events {
            self.count_event(session.game(), event);
        }
        let counts = &mut self.rec.counts;
        if applied.keyframe {
            counts.keyframes += 1;
        } else {
            counts.deltas += 1;
        }
        match applied.checksum {
            Some(true) => counts.checksums_verified += 1,
            Some(false) => {
                counts.desyncs += 1;
                if play.seg.resumed {
                    counts.desyncs_after_resume += 1;
                }
            }
            None => {}
        }
        if !applied.keyframe {
            let age = applied.tick.since(snapshot.baseline_tick).max(0);
            self.rec.baseline_age(u64::from(age as u32));
        }
        if let Some((tick, at)) = play.last_arrival {
            let gap = applied.tick.since(tick);
            if gap > 0 {
                let expected = play.period * gap as u32;
                let actual = snapshot.received_at.saturating_duration_since(at);
                let jitter = actual.abs_diff(expected);
                self.rec.sample(Metric::Jitter, jitter);
            }
        }
        play.last_arrival = Some((applied.tick, snapshot.received_at));
        while let Some(&(seq, decided)) = play.pending_inputs.front() {
            if !seq_at_or_before(seq, snapshot.last_input_seq) {
                break;
            }
            play.pending_inputs.pop_front();
            self.rec
                .sample(Metric::InputAck, now.duration_since(decided));
        }
        play.visible_ack = ack_after;

        if play.match_ended || play.leaving || play.write_failed.is_some() {
            return;
        }
        if play.take_token(now) {
            let replica = session.replica();
            let world = replica
                .world_at(play.visible_ack)
                .unwrap_or_else(|| replica.world());
            let cmd = self.behaviour.decide(world, play.player_id);
            play.last_cmd = cmd;
            let ack = play.visible_ack;
            self.send(
                session,
                play,
                Outgoing::Input {
                    cmd,
                    ack,
                    decided: now,
                },
                now,
            )
            .await;
        }
        if now >= play.next_ping {
            play.next_ping = now + PING_EVERY;
            self.send(session, play, Outgoing::Ping { decided: now }, now)
                .await;
        }
    }

    /// Counts one delivered event by its kind; an event the game does not declare is an error.
    fn count_event(&mut self, game: &'static GameProtocol, event: &Event) {
        self.rec.counts.events += 1;
        let kind = match event {
            Event::Game { kind, values } => {
                if !game.events.admits(*kind, values) {
                    self.rec.error("event: not declared by the game");
                    return;
                }
                // `admits` found the variant.
                game.events.variant(*kind).map_or("unknown", |v| v.name)
            }
            Event::PlayerJoined { .. } => "PlayerJoined",
            Event::PlayerLeft { .. } => "PlayerLeft",
        };
        self.rec.event(kind);
    }

    /// Sends now, or through the link's delay line.
    async fn send(&mut self, session: &mut Session, play: &mut Play, item: Outgoing, now: Instant) {
        if self.fleet.link.is_instant() {
            self.write(session, play, item, now).await;
        } else {
            let delay = self.fleet.link.sample(&mut self.rng);
            play.outbound.push(now, delay, item);
        }
    }

    /// Queues one item in the session's write buffer; [`Bot::flush`] sends the batch.
    async fn write(
        &mut self,
        session: &mut Session,
        play: &mut Play,
        item: Outgoing,
        now: Instant,
    ) {
        if play.write_failed.is_some() {
            return;
        }
        let result = match item {
            Outgoing::Input { cmd, ack, decided } => {
                session.queue_input(ack, cmd).await.map(|seq| {
                    if play.pending_inputs.len() >= PENDING_INPUTS {
                        play.pending_inputs.pop_front();
                    }
                    play.pending_inputs.push_back((seq, decided));
                    self.rec.counts.inputs += 1;
                })
            }
            Outgoing::Ping { decided } => session.queue_ping().await.map(|id| {
                if play.pending_pings.len() >= PENDING_PINGS {
                    play.pending_pings.pop_front();
                }
                play.pending_pings
                    .push_back((id, now.saturating_duration_since(decided)));
                self.rec.counts.pings += 1;
            }),
        };
        match result {
            Ok(()) => play.dirty = true,
            // Nothing was written: the connection is fine, the behaviour is wrong.
            Err(e @ SessionError::InvalidInput { .. }) => {
                tracing::debug!(bot = self.index, error = %e, "input refused");
                self.rec.error(session_error_kind(&e));
            }
            Err(e) => play.write_failed = Some(session_error_kind(&e)),
        }
    }

    async fn flush(&mut self, session: &mut Session, play: &mut Play) {
        if !play.dirty || play.write_failed.is_some() {
            return;
        }
        play.dirty = false;
        if let Err(e) = session.flush().await {
            play.write_failed = Some(session_error_kind(&e));
        }
    }

    /// Sends `Leave` and waits (bounded) for the server's close, still counting the snapshots
    /// that arrive meanwhile.
    async fn leave(&mut self, session: &mut Session, play: &mut Play) {
        play.leaving = true;
        play.outbound.clear();
        while let Some(d) = play.inbound.pop_any() {
            if self
                .on_event(session, play, d.event, d.read_at, d.ack_after)
                .await
                .is_some()
            {
                return;
            }
        }
        if let Err(e) = session.send_leave().await {
            tracing::debug!(bot = self.index, error = %e, "could not send Leave");
            return;
        }
        let deadline = TokioInstant::now() + LEAVE_WAIT;
        // Each turn reads one event; a close ends it, and the deadline bounds it in time.
        for _ in 0..MAX_TURNS_PER_SECOND * LEAVE_WAIT.as_secs() {
            match tokio::time::timeout_at(deadline, session.next_event()).await {
                Err(_) => {
                    self.rec.error("leave: no close from the server");
                    return;
                }
                Ok(Ok(event)) => {
                    let ack_after = session.replica().ack_tick();
                    let now = Instant::now();
                    if self
                        .on_event(session, play, event, now, ack_after)
                        .await
                        .is_some()
                    {
                        return;
                    }
                }
                Ok(Err(SessionError::Ended)) => return,
                Ok(Err(_)) => {}
            }
        }
    }

    /// The connection closed with `code`: what happens next.
    fn on_closed(&mut self, play: &mut Play, code: u16) -> End {
        self.rec.disconnect(close_name(code));
        if play.leaving {
            return End::Lost;
        }
        if code == close::MATCH_ENDED || (play.match_ended && code == close::NORMAL) {
            return End::MatchEnded;
        }
        let expected_drop = code == close::TOO_SLOW
            && self.affected
            && self.fleet.plan.scenario == Scenario::SlowReaders;
        if !expected_drop {
            self.rec.error(format!("closed: {}", close_name(code)));
            if let Some(kind) = play.write_failed.take() {
                self.rec.error(format!("send: {kind}"));
            }
        }
        End::Lost
    }

    /// Adds up a finished connection.
    fn finish_connection(&mut self, session: &Session, play: &Play) {
        let counts = &mut self.rec.counts;
        counts.expected += play.seg.expected();
        counts.connected_us +=
            u64::try_from(play.seg.opened.elapsed().as_micros()).unwrap_or(u64::MAX);
        let down = session.received();
        let up = session.sent();
        counts.bytes_down += down.bytes;
        counts.frames_down += down.frames;
        counts.bytes_up += up.bytes;
        counts.frames_up += up.frames;
        counts.sessions += 1;
        self.next_seq = session.next_seq();
        self.rec.connected(-1);
        self.rec.flush();
    }

    /// Resumes the seat after a dropped socket. `Ok(None)`: the run stopped; `Err`: refused.
    async fn resume(
        &mut self,
        play: &Play,
        detached: Detached,
    ) -> Result<Option<(Session, Welcome)>, ()> {
        let started = Instant::now();
        let options = self.connect_options();
        let stop = self.fleet.stop.clone();
        let result = tokio::select! {
            _ = stop.cancelled() => return Ok(None),
            result = Session::resume_with(&play.url, &play.reconnect_token, detached, options) => result,
        };
        match result {
            Ok(resumed) => {
                self.rec.sample(Metric::Connect, started.elapsed());
                self.rec.counts.resumed_sessions += 1;
                Ok(Some(resumed))
            }
            Err(e) => {
                tracing::debug!(bot = self.index, error = %e, "resume failed");
                self.rec.counts.resume_failures += 1;
                self.rec.error(format!("resume: {}", join_error_kind(&e)));
                Err(())
            }
        }
    }

    /// The next storm or pause for this bot, if the scenario disrupts it.
    fn next_wave(&self) -> Option<Instant> {
        if !self.affected {
            return None;
        }
        let elapsed = self.fleet.start.elapsed() + Duration::from_millis(1);
        self.fleet
            .plan
            .next_wave(elapsed)
            .map(|at| self.fleet.start + at)
    }

    fn connect_options(&self) -> ConnectOptions {
        let slow_reader = self.affected && self.fleet.plan.scenario == Scenario::SlowReaders;
        ConnectOptions {
            insecure: self.fleet.insecure,
            timeout: DEFAULT_CONNECT_TIMEOUT,
            recv_buffer: slow_reader.then_some(SLOW_READER_RECV_BUFFER),
        }
    }

    fn rest_failed(&mut self, e: &RestError) {
        tracing::debug!(bot = self.index, error = %e, "REST call failed");
        self.rec.error(rest_error_kind(e));
    }

    /// Waits before retry `attempt`: 250 ms doubling to 4 s, ±25 %. `false` if the run stopped.
    async fn backoff(&mut self, attempt: u32) -> bool {
        use rand::Rng;
        let base = Duration::from_millis(250) * 2u32.pow(attempt.min(4));
        let wait = base.mul_f64(self.rng.random_range(0.75..1.25));
        self.sleep_until(Instant::now() + wait).await
    }

    /// Sleeps until `at`; `false` if the run stopped first.
    async fn sleep_until(&self, at: Instant) -> bool {
        tokio::select! {
            _ = self.fleet.stop.cancelled() => false,
            _ = tokio::time::sleep_until(TokioInstant::from_std(at)) => true,
        }
    }
}

/// Why getting a seat failed.
enum Failure {
    Rest(RestError),
    Join(JoinError),
}

/// Connects and says `Hello` with a ticket, starting from `detached` (an empty replica and the
/// bot's next input number).
async fn connect(
    url: &str,
    ticket: &str,
    options: ConnectOptions,
    detached: Detached,
) -> Result<(Session, Welcome), JoinError> {
    let conn = Connection::connect_with(url, options).await?;
    let hello = crate::session::join_hello(ticket, detached.replica.game());
    Session::start(conn, hello, detached).await
}

/// Bot `bot`'s stream for link delays and retry pauses: apart from its behaviour's stream.
fn link_rng(seed: u64, bot: u32) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((1 << 32) | u64::from(bot));
    rng
}

/// `seq` is `last` or older, with wrap-around.
fn seq_at_or_before(seq: u32, last: u32) -> bool {
    (last.wrapping_sub(seq) as i32) >= 0
}

/// A close code's name for the report.
pub(crate) fn close_name(code: u16) -> String {
    match code {
        NO_STATUS_RECEIVED => "no_status".into(),
        ABNORMAL_CLOSURE => "abnormal".into(),
        _ => match close::name(code) {
            "other" => format!("code_{code}"),
            name => name.into(),
        },
    }
}

fn rest_error_kind(e: &RestError) -> String {
    match e {
        RestError::Status {
            route,
            status,
            code,
            ..
        } => format!("{route}: {status} {code}"),
        RestError::Transport { route, source } => {
            let what = if source.is_timeout() {
                "timeout"
            } else if source.is_connect() {
                "connect"
            } else {
                "transport"
            };
            format!("{route}: {what}")
        }
        RestError::Body { route, .. } => format!("{route}: unexpected body"),
        RestError::Client(_) | RestError::Tls(_) => "rest: client".into(),
    }
}

fn join_error_kind(e: &JoinError) -> String {
    match e {
        JoinError::Refused { code, .. } => format!("join: refused {}", close_name(*code)),
        JoinError::Timeout(_) => "join: no Welcome".into(),
        JoinError::Unexpected(what) => format!("join: got {what}"),
        JoinError::WrongGame { got, .. } => format!("join: the match plays {got}"),
        JoinError::Conn(c) => format!("join: {}", conn_error_kind(c)),
    }
}

fn session_error_kind(e: &SessionError) -> String {
    match e {
        SessionError::Conn(c) => format!("session: {}", conn_error_kind(c)),
        SessionError::Replica(ReplicaError::MissingBaseline { .. }) => {
            "snapshot: missing baseline".into()
        }
        SessionError::Replica(ReplicaError::Delta { .. }) => "snapshot: bad delta".into(),
        SessionError::Replica(ReplicaError::ZeroTick) => "snapshot: tick 0".into(),
        SessionError::UnexpectedWelcome => "session: second Welcome".into(),
        SessionError::InvalidInput { .. } => "session: input out of range".into(),
        SessionError::Ended => "session: ended".into(),
    }
}

fn conn_error_kind(e: &ConnError) -> &'static str {
    match e {
        ConnError::InvalidUrl { .. } => "invalid URL",
        ConnError::Timeout(_) => "connect timeout",
        ConnError::Connect(_) => "TCP connect",
        ConnError::TlsConfig(_) | ConnError::Tls(_) => "TLS",
        ConnError::Rejected { .. } => "upgrade refused",
        ConnError::Handshake(_) => "upgrade",
        ConnError::WebSocket(_) => "websocket",
        ConnError::Decode(_) => "undecodable message",
        ConnError::UnexpectedText => "text frame",
        ConnError::Closed => "closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_numbers_compare_across_the_wrap() {
        assert!(seq_at_or_before(5, 5), "equal");
        assert!(seq_at_or_before(4, 5), "older");
        assert!(!seq_at_or_before(6, 5), "newer");
        assert!(seq_at_or_before(u32::MAX, 1), "before the wrap");
        assert!(!seq_at_or_before(1, u32::MAX), "after the wrap");
    }

    #[test]
    fn close_codes_have_report_names() {
        assert_eq!(close_name(close::NORMAL), "normal", "normal");
        assert_eq!(close_name(close::TOO_SLOW), "too_slow", "protocol code");
        assert_eq!(close_name(ABNORMAL_CLOSURE), "abnormal", "lost");
        assert_eq!(
            close_name(4999),
            "code_4999",
            "unknown code keeps its number"
        );
    }

    #[test]
    fn a_segment_expects_every_tick_from_its_first_to_its_last() {
        let mut seg = Segment::new(false);
        assert_eq!(seg.expected(), 0, "nothing seen");
        for tick in [10, 11, 13, 14] {
            seg.count(Tick(tick));
        }
        assert_eq!(seg.expected(), 5, "ticks 10..=14, one missed");
    }

    #[test]
    fn the_input_bucket_allows_a_small_burst_then_the_tick_rate() {
        let welcome = Welcome {
            player_id: 1,
            match_id: "m".into(),
            game: "arena".into(),
            game_hash: shared::games::arena::PROTOCOL.hash(),
            tick_rate: 30,
            map: "arena".into(),
            reconnect_token: "rt".into(),
            reconnect_grace_s: 15,
            tick: Tick(1),
            ticks_remaining: 100,
            players: Vec::new(),
        };
        let mut play = Play::new(&welcome, "ws://x".into(), None);
        let t0 = play.refilled;
        let taken = (0..10).filter(|_| play.take_token(t0)).count();
        assert_eq!(taken, 2, "a burst of two at once");
        let later = t0 + Duration::from_secs(1);
        let taken = (0..100).filter(|_| play.take_token(later)).count();
        assert_eq!(taken, 2, "the bucket holds two however long it waited");
        let mut sent = 0;
        for ms in 1..=1000u64 {
            if play.take_token(later + Duration::from_millis(ms)) {
                sent += 1;
            }
        }
        assert!((29..=31).contains(&sent), "about 30 a second: {sent}");
    }
}
