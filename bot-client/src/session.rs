//! A realtime session: one player in one match over a [`Connection`], with its [`Replica`].
//!
//! Call order: [`Session::join`] (or [`Session::resume`]) answers the `Welcome`; then loop on
//! [`Session::next_event`], sending [`Session::send_input`] every tick and
//! [`Session::send_ping`] now and then, until [`SessionEvent::Closed`].
//!
//! A session plays one game, named by its [`GameProtocol`]: `Hello` carries the game's hash, a
//! `Welcome` for another game is refused, the replica rebuilds that game's world, and inputs
//! outside the game's declared ranges are refused before they are sent (the server would end
//! the connection for them).
//!
//! A reader task owns the read half of the connection: it answers the server's pings (both
//! WebSocket pings and protocol [`ServerMessage::Ping`]s) as soon as they arrive, stamps every
//! message with its arrival time, and queues it for [`Session::next_event`], which applies
//! snapshots to the replica. So `next_event` is cancel safe (use it in `select!` beside a tick
//! timer), and a session whose owner stops calling it stops reading the socket once the queue
//! is full, as a slow client would.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use shared::{
    ClientMessage, Event, GameProtocol, Hello, Input, InputValues, PROTOCOL_VERSION, Ping,
    PlayerResult, Resume, ServerMessage, Tick, Welcome,
};

use crate::conn::{
    ConnError, ConnReader, ConnWriter, ConnectOptions, Connection, Received, Traffic, TrafficHandle,
};
use crate::events::{EventFeed, FeedCounters, TickedEvent};
use crate::replica::{Applied, Replica, ReplicaError};

/// How long the server may take to answer `Hello`.
pub const WELCOME_TIMEOUT: Duration = Duration::from_secs(10);

/// Messages the reader task may queue ahead of [`Session::next_event`]: about a second of
/// snapshots at 30 Hz, plus their events.
const READ_QUEUE: usize = 64;

/// Something that happened in the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// A snapshot, applied to the replica.
    Snapshot(SnapshotEvent),
    /// An event sent on its own (events of a tick normally ride in its snapshot).
    Event(Event),
    /// The answer to [`Session::send_ping`].
    Pong {
        id: u32,
        rtt: Duration,
    },
    /// The server pinged; the session has already answered with the same `Pong`.
    ServerPing(Ping),
    MatchEnd(Vec<PlayerResult>),
    Kicked(String),
    /// The connection closed (1006: lost without a close frame). Nothing follows.
    Closed {
        code: u16,
        reason: String,
    },
}

/// A snapshot as the session applied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotEvent {
    pub applied: Applied,
    pub baseline_tick: Tick,
    /// The newest input of this client the server has simulated.
    pub last_input_seq: u32,
    /// The events this snapshot carried that no earlier one delivered, oldest first (see
    /// [`crate::events`]): each event of the session arrives here once.
    pub events: Vec<TickedEvent>,
    /// When the reader task got the frame.
    pub received_at: Instant,
}

/// Why joining or resuming failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error(transparent)]
    Conn(#[from] ConnError),
    /// The server closed instead of answering `Welcome`.
    #[error("the server refused: {code} ({}) {reason}", shared::close::name(*code))]
    Refused { code: u16, reason: String },
    #[error("no Welcome within {0:?}")]
    Timeout(Duration),
    /// The first message was not `Welcome`.
    #[error("expected Welcome, got {0}")]
    Unexpected(&'static str),
    /// The match plays another game (or another version of it) than this client's.
    #[error("the match plays {got} (hash {got_hash:#x}), not {expected} (hash {expected_hash:#x})")]
    WrongGame {
        expected: &'static str,
        expected_hash: u64,
        got: String,
        got_hash: u64,
    },
}

/// Why [`Session::next_event`] or a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// A connection failure; [`ConnError::is_fatal`] says whether reading can go on.
    #[error(transparent)]
    Conn(#[from] ConnError),
    /// A snapshot that could not be applied. Not fatal: the replica still acknowledges a world
    /// it holds, so the server's next delta can apply.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    #[error("the server sent a second Welcome")]
    UnexpectedWelcome,
    /// An input with a value outside its field's declared range, or the wrong number of
    /// values; nothing was sent.
    #[error("input {values:?} is not an input of {game}")]
    InvalidInput {
        game: &'static str,
        values: InputValues,
    },
    /// The session already reported [`SessionEvent::Closed`] or a fatal error.
    #[error("the session has ended")]
    Ended,
}

/// What a session keeps across a dropped connection, for [`Session::resume`]: the replica (so
/// the server can delta against the client's newest tick, and so the resume names the game),
/// the event feed (so events seen before the drop are not delivered again) and the input
/// sequence (so inputs keep increasing).
#[derive(Debug, Clone)]
pub struct Detached {
    pub replica: Replica,
    pub events: EventFeed,
    pub next_seq: u32,
}

impl Detached {
    /// A fresh start in `game`: an empty replica, nothing delivered, inputs from 1.
    pub fn new(game: &'static GameProtocol) -> Detached {
        Detached {
            replica: Replica::new(game),
            events: EventFeed::new(),
            next_seq: 1,
        }
    }
}

/// One player's realtime session.
#[derive(Debug)]
pub struct Session {
    writer: ConnWriter,
    incoming: mpsc::Receiver<Incoming>,
    reader_task: JoinHandle<()>,
    received: TrafficHandle,
    replica: Replica,
    events: EventFeed,
    welcome: Welcome,
    next_seq: u32,
    next_ping_id: u32,
    /// The origin of `Ping::sent_us`.
    epoch: Instant,
    ended: bool,
}

/// One read, stamped on arrival.
#[derive(Debug)]
struct Incoming {
    at: Instant,
    read: Result<Received, ConnError>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.reader_task.abort();
    }
}

impl Session {
    /// Connects to `url` and joins a match of `game` with a ticket from the lobby.
    pub async fn join(
        url: &str,
        ticket: &str,
        game: &'static GameProtocol,
        insecure: bool,
    ) -> Result<(Session, Welcome), JoinError> {
        let options = ConnectOptions {
            insecure,
            ..ConnectOptions::default()
        };
        Session::join_with(url, ticket, game, options).await
    }

    /// [`Session::join`] with explicit connection options.
    pub async fn join_with(
        url: &str,
        ticket: &str,
        game: &'static GameProtocol,
        options: ConnectOptions,
    ) -> Result<(Session, Welcome), JoinError> {
        let conn = Connection::connect_with(url, options).await?;
        let hello = join_hello(ticket, game);
        Session::start(conn, hello, Detached::new(game)).await
    }

    /// Connects to `url` and takes back the player of a dropped session with its
    /// `reconnect_token`, acknowledging the newest tick `detached.replica` holds (whose game
    /// the match must play).
    pub async fn resume(
        url: &str,
        reconnect_token: &str,
        detached: Detached,
        insecure: bool,
    ) -> Result<(Session, Welcome), JoinError> {
        let options = ConnectOptions {
            insecure,
            ..ConnectOptions::default()
        };
        Session::resume_with(url, reconnect_token, detached, options).await
    }

    /// [`Session::resume`] with explicit connection options.
    pub async fn resume_with(
        url: &str,
        reconnect_token: &str,
        detached: Detached,
        options: ConnectOptions,
    ) -> Result<(Session, Welcome), JoinError> {
        let conn = Connection::connect_with(url, options).await?;
        let hello = Hello {
            protocol_version: PROTOCOL_VERSION,
            ticket: String::new(),
            resume: Some(Resume {
                reconnect_token: reconnect_token.to_string(),
                ack_tick: detached.replica.ack_tick(),
            }),
            game_hash: Some(detached.replica.game().hash()),
        };
        Session::start(conn, hello, detached).await
    }

    /// Sends `hello` on an open connection and waits for `Welcome` (or the refusal). For tests
    /// that need a hand-made `Hello`. A `Welcome` to another game than `detached.replica`'s
    /// is refused whatever `hello.game_hash` said: the replica could not read its frames.
    pub async fn start(
        mut conn: Connection,
        hello: Hello,
        detached: Detached,
    ) -> Result<(Session, Welcome), JoinError> {
        // Through a clone of the write half: a `Connection` is not `Sync`, so a borrow of it
        // held across this await would keep the future from being `Send` (from being spawned).
        let writer = conn.writer().clone();
        writer.send(&ClientMessage::Hello(hello)).await?;
        // Dropping the read on timeout is fine here: the connection is dropped with it.
        let first = tokio::time::timeout(WELCOME_TIMEOUT, conn.recv())
            .await
            .map_err(|_| JoinError::Timeout(WELCOME_TIMEOUT))??;
        let welcome = match first {
            Received::Message(ServerMessage::Welcome(welcome)) => welcome,
            Received::Message(other) => return Err(JoinError::Unexpected(message_name(&other))),
            Received::Closed { code, reason } => return Err(JoinError::Refused { code, reason }),
        };
        let game = detached.replica.game();
        if welcome.game_hash != game.hash() {
            return Err(JoinError::WrongGame {
                expected: game.name,
                expected_hash: game.hash(),
                got: welcome.game,
                got_hash: welcome.game_hash,
            });
        }
        let (reader, writer) = conn.split();
        let received = reader.traffic_meter();
        let (tx, incoming) = mpsc::channel(READ_QUEUE);
        let reader_task = tokio::spawn(read_loop(reader, writer.clone(), tx));
        let session = Session {
            writer,
            incoming,
            reader_task,
            received,
            replica: detached.replica,
            events: detached.events,
            welcome: welcome.clone(),
            next_seq: detached.next_seq,
            next_ping_id: 1,
            epoch: Instant::now(),
            ended: false,
        };
        Ok((session, welcome))
    }

    /// The next thing that happened. Cancel safe. After [`SessionEvent::Closed`] or a fatal
    /// error, every call answers [`SessionError::Ended`].
    pub async fn next_event(&mut self) -> Result<SessionEvent, SessionError> {
        if self.ended {
            return Err(SessionError::Ended);
        }
        let Some(Incoming { at, read }) = self.incoming.recv().await else {
            self.ended = true;
            return Err(SessionError::Ended);
        };
        match read {
            Ok(Received::Message(msg)) => self.handle_message(msg, at),
            Ok(Received::Closed { code, reason }) => {
                self.ended = true;
                Ok(SessionEvent::Closed { code, reason })
            }
            Err(e) => {
                if e.is_fatal() {
                    self.ended = true;
                }
                Err(e.into())
            }
        }
    }

    /// Sends one input of the session's game (`InputValues::of(&ArenaInput { .. })`),
    /// numbered with the next `seq` and acknowledging the replica's newest tick. Returns its
    /// `seq`. Values the game's input declaration does not admit are refused and not sent.
    pub async fn send_input(&mut self, values: InputValues) -> Result<u32, SessionError> {
        let seq = self.queue_input(self.replica.ack_tick(), values).await?;
        self.flush().await?;
        Ok(seq)
    }

    /// Buffers one input, numbered with the next `seq` and acknowledging `ack_tick`, which must
    /// be a tick the replica holds (a client that processes snapshots late acknowledges the
    /// newest one it has processed, not the newest applied). [`Session::flush`] sends the
    /// batch, so an input and a ping leave in one write. Returns its `seq`.
    pub async fn queue_input(
        &mut self,
        ack_tick: Tick,
        values: InputValues,
    ) -> Result<u32, SessionError> {
        let game = self.replica.game();
        if !game.input.admits(values.as_slice()) {
            return Err(SessionError::InvalidInput {
                game: game.name,
                values,
            });
        }
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        let input = Input {
            seq,
            ack_tick,
            values,
        };
        self.writer.queue(&ClientMessage::Input(input)).await?;
        Ok(seq)
    }

    /// Sends a protocol ping; its [`SessionEvent::Pong`] carries the round trip. Returns its id.
    /// Acknowledges the newest snapshot applied without an input (what a spectator sends).
    pub async fn send_ack(&mut self) -> Result<(), SessionError> {
        let tick = self.replica.ack_tick();
        self.writer.send(&ClientMessage::Ack(tick)).await?;
        self.flush().await?;
        Ok(())
    }

    pub async fn send_ping(&mut self) -> Result<u32, SessionError> {
        let id = self.queue_ping().await?;
        self.flush().await?;
        Ok(id)
    }

    /// Buffers a protocol ping for the next [`Session::flush`]. Returns its id.
    pub async fn queue_ping(&mut self) -> Result<u32, SessionError> {
        let id = self.next_ping_id;
        self.next_ping_id = id.wrapping_add(1);
        let sent_us = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.writer
            .queue(&ClientMessage::Ping(Ping { id, sent_us }))
            .await?;
        Ok(id)
    }

    /// Sends everything queued with [`Session::queue_input`] and [`Session::queue_ping`].
    pub async fn flush(&mut self) -> Result<(), SessionError> {
        self.writer.flush().await?;
        Ok(())
    }

    /// Keeps at most `ticks` worlds in the replica (see [`Replica::set_history`]).
    pub fn set_history(&mut self, ticks: usize) {
        self.replica.set_history(ticks);
    }

    /// Tells the server this player leaves; it answers by closing.
    pub async fn send_leave(&mut self) -> Result<(), SessionError> {
        self.writer.send(&ClientMessage::Leave).await?;
        Ok(())
    }

    /// Sends a close frame; the server's close arrives as [`SessionEvent::Closed`].
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), SessionError> {
        self.writer.close(code, reason).await?;
        Ok(())
    }

    /// Drops the connection without a close frame, as a lost network would, keeping what
    /// [`Session::resume`] needs.
    pub fn detach(mut self) -> Detached {
        // Dropping `self` aborts the reader task, which closes the socket with the last half
        // of it.
        // `Session` implements `Drop`, so its fields cannot be moved out: swap in an empty
        // replica (one world of history, no allocation beyond its empty world).
        let game = self.replica.game();
        Detached {
            replica: std::mem::replace(&mut self.replica, Replica::with_history(game, 1)),
            events: std::mem::take(&mut self.events),
            next_seq: self.next_seq,
        }
    }

    /// The client's copy of the world.
    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// The game this session plays.
    pub fn game(&self) -> &'static GameProtocol {
        self.replica.game()
    }

    /// What the session's event feed delivered and dropped as repeats.
    pub fn events(&self) -> FeedCounters {
        self.events.counters()
    }

    /// The `Welcome` that opened this session.
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// The write half, for raw frames (tests of bad input) or batching.
    pub fn writer(&self) -> &ConnWriter {
        &self.writer
    }

    /// Data frames received so far.
    pub fn received(&self) -> Traffic {
        self.received.get()
    }

    /// Data frames sent so far.
    pub fn sent(&self) -> Traffic {
        self.writer.sent()
    }

    /// The `seq` the next input will carry.
    pub fn next_seq(&self) -> u32 {
        self.next_seq
    }

    fn handle_message(
        &mut self,
        msg: ServerMessage,
        at: Instant,
    ) -> Result<SessionEvent, SessionError> {
        Ok(match msg {
            ServerMessage::Snapshot(snapshot) => {
                // A snapshot that does not apply delivers none of its events: the replica keeps
                // acknowledging an older tick, so the next delta carries them again.
                let applied = self.replica.apply(&snapshot)?;
                let header = snapshot.header;
                let events =
                    self.events
                        .fresh(header.tick, header.baseline_tick, snapshot.body.events);
                SessionEvent::Snapshot(SnapshotEvent {
                    applied,
                    baseline_tick: header.baseline_tick,
                    last_input_seq: header.last_input_seq,
                    events,
                    received_at: at,
                })
            }
            ServerMessage::Event(event) => SessionEvent::Event(event),
            ServerMessage::Ping(ping) => SessionEvent::ServerPing(ping),
            ServerMessage::Pong(ping) => {
                let sent = self.epoch + Duration::from_micros(ping.sent_us);
                SessionEvent::Pong {
                    id: ping.id,
                    rtt: at.saturating_duration_since(sent),
                }
            }
            ServerMessage::MatchEnd(end) => SessionEvent::MatchEnd(end.results),
            ServerMessage::Kicked { reason } => SessionEvent::Kicked(reason),
            ServerMessage::Welcome(_) => return Err(SessionError::UnexpectedWelcome),
        })
    }
}

/// The `Hello` of a join with `ticket` to a match of `game`.
pub(crate) fn join_hello(ticket: &str, game: &'static GameProtocol) -> Hello {
    Hello {
        protocol_version: PROTOCOL_VERSION,
        ticket: ticket.to_string(),
        resume: None,
        game_hash: Some(game.hash()),
    }
}

/// Reads until the connection closes or fails fatally, answering protocol pings at once. Ends
/// early if the session is dropped.
async fn read_loop(mut reader: ConnReader, writer: ConnWriter, tx: mpsc::Sender<Incoming>) {
    loop {
        let read = reader.recv().await;
        let at = Instant::now();
        if let Ok(Received::Message(ServerMessage::Ping(ping))) = &read {
            answer_ping(&writer, *ping).await;
        }
        let last = match &read {
            Ok(Received::Message(_)) => false,
            Ok(Received::Closed { .. }) => true,
            Err(e) => e.is_fatal(),
        };
        if tx.send(Incoming { at, read }).await.is_err() || last {
            return;
        }
    }
}

/// Answers a protocol ping with the same fields. Best effort: a broken connection shows up in
/// the next read.
async fn answer_ping(writer: &ConnWriter, ping: Ping) {
    if let Err(e) = writer.send(&ClientMessage::Pong(ping)).await {
        tracing::debug!(error = %e, "could not answer a server ping");
    }
}

/// The variant name of a server message, for errors.
fn message_name(msg: &ServerMessage) -> &'static str {
    match msg {
        ServerMessage::Welcome(_) => "Welcome",
        ServerMessage::Snapshot(_) => "Snapshot",
        ServerMessage::Event(_) => "Event",
        ServerMessage::Ping(_) => "Ping",
        ServerMessage::Pong(_) => "Pong",
        ServerMessage::MatchEnd(_) => "MatchEnd",
        ServerMessage::Kicked { .. } => "Kicked",
    }
}

#[cfg(test)]
mod tests {
    use fastwebsockets::Frame;
    use tokio::sync::mpsc;

    use shared::games::arena::{self, ArenaEvent, ArenaInput, buttons};
    use shared::sample;
    use shared::{
        MatchEnd, NetEvent, Snapshot, SnapshotBody, SnapshotHeader, TimedEvent, World, close, diff,
    };

    use super::*;
    use crate::testing::{ServerWs, read_client, send_server, serve, within};

    const ARENA: &GameProtocol = &arena::PROTOCOL;

    /// The arena input with these controls.
    fn arena_input(buttons: u8, move_dir: u8, aim: u16) -> InputValues {
        InputValues::of(&ArenaInput {
            buttons,
            move_dir,
            aim,
        })
    }

    fn welcome() -> Welcome {
        Welcome {
            player_id: 7,
            match_id: "m_test".into(),
            game: "arena".into(),
            game_hash: ARENA.hash(),
            tick_rate: 30,
            map: "arena".into(),
            reconnect_token: "rt_secret".into(),
            reconnect_grace_s: 15,
            tick: Tick(1),
            ticks_remaining: 900,
            players: Vec::new(),
        }
    }

    fn snapshot(
        tick: u32,
        baseline: u32,
        from: &World,
        to: &World,
        events: Vec<TimedEvent>,
    ) -> ServerMessage {
        ServerMessage::Snapshot(Snapshot {
            header: SnapshotHeader {
                tick: Tick(tick),
                baseline_tick: Tick(baseline),
                last_input_seq: tick,
            },
            body: SnapshotBody {
                delta: diff(from, to),
                events,
                checksum: Some(shared::checksum(to)),
            },
        })
    }

    /// Reads client messages until the client goes away, so the server never closes first.
    async fn drain(ws: &mut ServerWs) {
        for _ in 0..crate::testing::MAX_FRAMES {
            if read_client(ws).await.is_none() {
                return;
            }
        }
    }

    /// Sends `messages` after answering the Hello with a Welcome, then forwards every client
    /// message to `seen`.
    async fn script(
        mut ws: ServerWs,
        messages: Vec<ServerMessage>,
        seen: mpsc::UnboundedSender<ClientMessage>,
    ) {
        let Some(hello) = read_client(&mut ws).await else {
            return;
        };
        let _ = seen.send(hello);
        for msg in std::iter::once(ServerMessage::Welcome(welcome())).chain(messages) {
            if send_server(&mut ws, &msg).await.is_err() {
                return;
            }
        }
        for _ in 0..crate::testing::MAX_FRAMES {
            let Some(msg) = read_client(&mut ws).await else {
                return;
            };
            let _ = seen.send(msg);
        }
    }

    async fn next(session: &mut Session) -> SessionEvent {
        within(session.next_event()).await.expect("an event")
    }

    #[tokio::test]
    async fn join_says_hello_and_snapshots_rebuild_the_server_world() {
        let w1 = sample::world(20, 0);
        let w2 = sample::world(20, 5);
        let w3 = sample::world(20, 7);
        let game_event = |e: ArenaEvent| Event::Game {
            kind: e.kind(),
            values: e.values(),
        };
        let kill = game_event(ArenaEvent::Kill {
            killer: 1,
            victim: 2,
        });
        let pickup = game_event(ArenaEvent::Pickup {
            player: 7,
            points: 5,
        });
        let timed = |ago, event: &Event| TimedEvent {
            ago,
            event: event.clone(),
        };
        let messages = vec![
            snapshot(1, 0, &World::new(ARENA.entity), &w1, vec![]),
            snapshot(2, 1, &w1, &w2, vec![timed(0, &kill)]),
            // Against tick 1 again (our ack of 2 not heard yet): the kill comes again.
            snapshot(3, 1, &w1, &w3, vec![timed(1, &kill), timed(0, &pickup)]),
        ];
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let server = serve(move |ws| script(ws, messages.clone(), seen_tx.clone())).await;

        let (mut session, got_welcome) =
            within(Session::join(&server.ws_url(), "tk_1", ARENA, false))
                .await
                .expect("joined");
        assert_eq!(got_welcome, welcome(), "the server's Welcome");
        assert_eq!(
            within(seen.recv()).await,
            Some(ClientMessage::Hello(Hello {
                protocol_version: PROTOCOL_VERSION,
                ticket: "tk_1".into(),
                resume: None,
                game_hash: Some(ARENA.hash()),
            })),
            "Hello with the ticket and our protocol version"
        );

        let SessionEvent::Snapshot(first) = next(&mut session).await else {
            panic!("expected the keyframe");
        };
        assert!(first.applied.keyframe, "first snapshot is a keyframe");
        assert_eq!(first.applied.checksum, Some(true), "keyframe verified");
        let SessionEvent::Snapshot(second) = next(&mut session).await else {
            panic!("expected the delta");
        };
        assert_eq!(second.baseline_tick, Tick(1), "delta against tick 1");
        assert_eq!(second.applied.checksum, Some(true), "delta verified");
        assert_eq!(
            second.events,
            vec![TickedEvent {
                tick: Tick(2),
                event: kill
            }],
            "the tick's events"
        );
        assert_eq!(second.last_input_seq, 2, "header passed through");
        assert_eq!(
            session.replica().world(),
            &w2,
            "replica holds the server's world"
        );

        let SessionEvent::Snapshot(third) = next(&mut session).await else {
            panic!("expected the second delta");
        };
        assert_eq!(
            third.events,
            vec![TickedEvent {
                tick: Tick(3),
                event: pickup
            }],
            "the kill was delivered already; only the pickup is new"
        );
        assert_eq!(session.events().repeats, 1, "one repeat dropped");
        assert_eq!(session.replica().world(), &w3, "replica at tick 3");

        let seq = session
            .send_input(arena_input(buttons::FIRE, 3, 100))
            .await
            .expect("input sent");
        assert_eq!(seq, 1, "inputs count from 1");
        assert_eq!(
            within(seen.recv()).await,
            Some(ClientMessage::Input(Input {
                seq: 1,
                ack_tick: Tick(3),
                values: arena_input(buttons::FIRE, 3, 100),
            })),
            "the input acknowledges the newest applied tick"
        );
        assert_eq!(session.next_seq(), 2, "seq advanced");
        assert_eq!(
            session.received().frames,
            4,
            "the Welcome and three snapshots counted"
        );
    }

    #[tokio::test]
    async fn a_refused_join_reports_the_close_code_and_reason() {
        let server = serve(|mut ws: ServerWs| async move {
            let _ = read_client(&mut ws).await;
            let _ = ws
                .write_frame(Frame::close(close::INVALID_TICKET, b"unknown ticket"))
                .await;
            drain(&mut ws).await;
        })
        .await;
        let result = within(Session::join(&server.ws_url(), "tk_bad", ARENA, false)).await;
        match result {
            Err(JoinError::Refused { code, reason }) => {
                assert_eq!(code, close::INVALID_TICKET, "close code");
                assert_eq!(reason, "unknown ticket", "close reason");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_first_message_other_than_welcome_fails_the_join() {
        let server = serve(|mut ws: ServerWs| async move {
            let _ = read_client(&mut ws).await;
            let _ = send_server(
                &mut ws,
                &ServerMessage::Kicked {
                    reason: "no".into(),
                },
            )
            .await;
            drain(&mut ws).await;
        })
        .await;
        let result = within(Session::join(&server.ws_url(), "tk", ARENA, false)).await;
        assert!(
            matches!(result, Err(JoinError::Unexpected("Kicked"))),
            "unexpected first message: {result:?}"
        );
    }

    #[tokio::test]
    async fn a_server_ping_is_answered_with_the_same_pong() {
        let ping = Ping { id: 9, sent_us: 77 };
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let server =
            serve(move |ws| script(ws, vec![ServerMessage::Ping(ping)], seen_tx.clone())).await;
        let (mut session, _) = within(Session::join(&server.ws_url(), "tk", ARENA, false))
            .await
            .expect("joined");
        let _hello = within(seen.recv()).await;
        assert_eq!(
            next(&mut session).await,
            SessionEvent::ServerPing(ping),
            "the ping is reported"
        );
        assert_eq!(
            within(seen.recv()).await,
            Some(ClientMessage::Pong(ping)),
            "and answered with the same fields"
        );
    }

    #[tokio::test]
    async fn a_queued_input_and_ping_leave_together_on_flush() {
        let w1 = sample::world(4, 0);
        let messages = vec![snapshot(1, 0, &World::new(ARENA.entity), &w1, vec![])];
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let server = serve(move |ws| script(ws, messages.clone(), seen_tx.clone())).await;
        let (mut session, _) = within(Session::join(&server.ws_url(), "tk", ARENA, false))
            .await
            .expect("joined");
        let _hello = within(seen.recv()).await;
        assert!(
            matches!(next(&mut session).await, SessionEvent::Snapshot(_)),
            "keyframe"
        );
        let seq = session
            .queue_input(Tick(1), arena_input(buttons::FIRE, 2, 7))
            .await
            .expect("queued");
        let id = session.queue_ping().await.expect("ping queued");
        session.flush().await.expect("flushed");
        assert_eq!(
            within(seen.recv()).await,
            Some(ClientMessage::Input(Input {
                seq,
                ack_tick: Tick(1),
                values: arena_input(buttons::FIRE, 2, 7),
            })),
            "the input with the given ack"
        );
        match within(seen.recv()).await {
            Some(ClientMessage::Ping(ping)) => assert_eq!(ping.id, id, "then the ping"),
            other => panic!("expected the ping, got {other:?}"),
        }
        assert_eq!(session.next_seq(), seq + 1, "seq advanced");
        assert_eq!(session.sent().frames, 3, "Hello, input and ping counted");
    }

    #[tokio::test]
    async fn a_ping_comes_back_as_a_pong_with_its_round_trip() {
        let server = serve(|mut ws: ServerWs| async move {
            let _ = read_client(&mut ws).await;
            let _ = send_server(&mut ws, &ServerMessage::Welcome(welcome())).await;
            for _ in 0..crate::testing::MAX_FRAMES {
                match read_client(&mut ws).await {
                    Some(ClientMessage::Ping(p)) => {
                        let _ = send_server(&mut ws, &ServerMessage::Pong(p)).await;
                    }
                    Some(_) => {}
                    None => return,
                }
            }
        })
        .await;
        let (mut session, _) = within(Session::join(&server.ws_url(), "tk", ARENA, false))
            .await
            .expect("joined");
        let id = session.send_ping().await.expect("ping sent");
        match next(&mut session).await {
            SessionEvent::Pong { id: got, rtt } => {
                assert_eq!(got, id, "the answer to our ping");
                assert!(
                    rtt < Duration::from_secs(10),
                    "a loopback round trip is short: {rtt:?}"
                );
            }
            other => panic!("expected a pong, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn resume_presents_the_token_and_the_newest_tick_held() {
        let w5 = sample::world(12, 0);
        let w6 = sample::world(12, 4);
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let server = serve(move |mut ws: ServerWs| {
            let seen = seen_tx.clone();
            let (w5, w6) = (w5.clone(), w6.clone());
            async move {
                let Some(ClientMessage::Hello(hello)) = read_client(&mut ws).await else {
                    return;
                };
                let resumed = hello.resume.is_some();
                let _ = seen.send(ClientMessage::Hello(hello));
                let reply = if resumed {
                    snapshot(6, 5, &w5, &w6, vec![])
                } else {
                    snapshot(5, 0, &World::new(ARENA.entity), &w5, vec![])
                };
                for msg in [ServerMessage::Welcome(welcome()), reply] {
                    if send_server(&mut ws, &msg).await.is_err() {
                        return;
                    }
                }
                for _ in 0..crate::testing::MAX_FRAMES {
                    let Some(msg) = read_client(&mut ws).await else {
                        return;
                    };
                    let _ = seen.send(msg);
                }
            }
        })
        .await;

        let (mut session, welcome) = within(Session::join(&server.ws_url(), "tk", ARENA, false))
            .await
            .expect("joined");
        let _hello = within(seen.recv()).await;
        assert!(
            matches!(next(&mut session).await, SessionEvent::Snapshot(_)),
            "keyframe at tick 5"
        );
        session
            .send_input(arena_input(0, 0, 0))
            .await
            .expect("input 1");
        let _input = within(seen.recv()).await;
        let detached = session.detach();
        assert_eq!(
            detached.replica.ack_tick(),
            Tick(5),
            "the replica survives the drop"
        );

        let (mut session, _) = within(Session::resume(
            &server.ws_url(),
            &welcome.reconnect_token,
            detached,
            false,
        ))
        .await
        .expect("resumed");
        assert_eq!(
            within(seen.recv()).await,
            Some(ClientMessage::Hello(Hello {
                protocol_version: PROTOCOL_VERSION,
                ticket: String::new(),
                resume: Some(Resume {
                    reconnect_token: "rt_secret".into(),
                    ack_tick: Tick(5),
                }),
                game_hash: Some(ARENA.hash()),
            })),
            "resume Hello with the token and the held tick"
        );
        let SessionEvent::Snapshot(delta) = next(&mut session).await else {
            panic!("expected the delta against tick 5");
        };
        assert_eq!(
            delta.applied.checksum,
            Some(true),
            "delta on the kept world verified"
        );
        let seq = session
            .send_input(arena_input(0, 0, 0))
            .await
            .expect("input 2");
        assert_eq!(seq, 2, "the sequence continues across the resume");
    }

    #[tokio::test]
    async fn events_match_end_kick_and_close_become_session_events() {
        let chat = Event::PlayerJoined {
            player: 3,
            name: "gg".into(),
        };
        let results = vec![PlayerResult {
            player_id: 7,
            account_id: 42,
            username: "bot".into(),
            score: 10,
            stats: vec![("kills".into(), 2), ("deaths".into(), 1)],
        }];
        let server = serve({
            let (chat, results) = (chat.clone(), results.clone());
            move |mut ws: ServerWs| {
                let messages = [
                    ServerMessage::Welcome(welcome()),
                    ServerMessage::Event(chat.clone()),
                    ServerMessage::MatchEnd(MatchEnd {
                        results: results.clone(),
                    }),
                    ServerMessage::Kicked {
                        reason: "admin".into(),
                    },
                ];
                async move {
                    let _ = read_client(&mut ws).await;
                    for msg in &messages {
                        if send_server(&mut ws, msg).await.is_err() {
                            return;
                        }
                    }
                    let _ = ws
                        .write_frame(Frame::close(close::KICKED, b"kicked by an admin"))
                        .await;
                    drain(&mut ws).await;
                }
            }
        })
        .await;
        let (mut session, _) = within(Session::join(&server.ws_url(), "tk", ARENA, false))
            .await
            .expect("joined");
        assert_eq!(next(&mut session).await, SessionEvent::Event(chat), "event");
        assert_eq!(
            next(&mut session).await,
            SessionEvent::MatchEnd(results),
            "results"
        );
        assert_eq!(
            next(&mut session).await,
            SessionEvent::Kicked("admin".into()),
            "kick"
        );
        assert_eq!(
            next(&mut session).await,
            SessionEvent::Closed {
                code: close::KICKED,
                reason: "kicked by an admin".into()
            },
            "close"
        );
        assert!(
            matches!(session.next_event().await, Err(SessionError::Ended)),
            "nothing after the close"
        );
    }

    #[tokio::test]
    async fn a_snapshot_without_its_baseline_is_an_error_and_the_session_goes_on() {
        let w1 = sample::world(8, 0);
        let w3 = sample::world(8, 2);
        let messages = vec![
            snapshot(3, 2, &w1, &w3, vec![]),
            snapshot(4, 0, &World::new(ARENA.entity), &w3, vec![]),
        ];
        let (seen_tx, _seen) = mpsc::unbounded_channel();
        let server = serve(move |ws| script(ws, messages.clone(), seen_tx.clone())).await;
        let (mut session, _) = within(Session::join(&server.ws_url(), "tk", ARENA, false))
            .await
            .expect("joined");
        let result = within(session.next_event()).await;
        assert!(
            matches!(
                result,
                Err(SessionError::Replica(ReplicaError::MissingBaseline { .. }))
            ),
            "missing baseline reported: {result:?}"
        );
        let SessionEvent::Snapshot(key) = next(&mut session).await else {
            panic!("expected the keyframe after the error");
        };
        assert_eq!(key.applied.checksum, Some(true), "the session recovered");
    }

    shared::replicated! {
        /// A game this crate has never heard of.
        struct Ball {
            x: i32 = predicted,
            y: i32 = predicted,
            spin: u16,
            colour: u8 = value [0, 5],
        }
    }

    shared::replicated! {
        struct Kick {
            power: u8 = value [1, 9],
            angle: i16 = value [-90, 90],
            curl: bool = value,
        }
    }

    shared::net_events! {
        enum BallEvent {
            Goal = 4 { by: u32 },
        }
    }

    static BALLS: GameProtocol = GameProtocol {
        name: "balls",
        entity: <Ball as shared::Replicated>::SCHEMA,
        input: <Kick as shared::Replicated>::SCHEMA,
        events: <BallEvent as NetEvent>::SCHEMA,
        stats: &["goals"],
    };

    /// The balls world at tick `t`: three balls rolling at their own speeds.
    fn balls(t: i32) -> World {
        World::from_entities(
            (0..3u32)
                .map(|i| {
                    let ball = Ball {
                        x: 100 * i as i32 + t * (i as i32 + 1),
                        y: -50 + t * 2,
                        spin: (t as u16).wrapping_mul(300 + i as u16),
                        colour: (i % 6) as u8,
                    };
                    (shared::NetId::new(i + 1, 1), ball)
                })
                .collect(),
        )
    }

    #[tokio::test]
    async fn a_game_this_crate_never_heard_of_replicates_and_plays_within_its_ranges() {
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let server = serve(move |mut ws: ServerWs| {
            let seen = seen_tx.clone();
            async move {
                let Some(ClientMessage::Hello(hello)) = read_client(&mut ws).await else {
                    return;
                };
                let _ = seen.send(ClientMessage::Hello(hello));
                let welcome = Welcome {
                    game: "balls".into(),
                    game_hash: BALLS.hash(),
                    ..welcome()
                };
                let worlds: Vec<World> = (0..=6).map(balls).collect();
                let goal = TimedEvent {
                    ago: 0,
                    event: Event::Game {
                        kind: 4,
                        values: vec![7],
                    },
                };
                let mut messages = vec![
                    ServerMessage::Welcome(welcome),
                    snapshot(1, 0, &World::new(BALLS.entity), &worlds[1], vec![]),
                    snapshot(2, 1, &worlds[1], &worlds[2], vec![goal.clone()]),
                ];
                for (tick, base, older) in [(3u32, 2u32, 1u32), (5, 3, 2), (6, 5, 3)] {
                    let prediction =
                        shared::Prediction::between(Tick(older), Tick(base), Tick(tick))
                            .expect("older < baseline <= tick");
                    messages.push(ServerMessage::Snapshot(Snapshot {
                        header: SnapshotHeader {
                            tick: Tick(tick),
                            baseline_tick: Tick(base),
                            last_input_seq: 0,
                        },
                        body: SnapshotBody {
                            delta: shared::diff_predicted(
                                &worlds[older as usize],
                                &worlds[base as usize],
                                &worlds[tick as usize],
                                prediction,
                            ),
                            // The goal again, from a frame whose window reaches back to it.
                            events: if tick == 3 {
                                vec![TimedEvent {
                                    ago: 1,
                                    ..goal.clone()
                                }]
                            } else {
                                vec![]
                            },
                            checksum: Some(shared::checksum(&worlds[tick as usize])),
                        },
                    }));
                }
                for msg in &messages {
                    if send_server(&mut ws, msg).await.is_err() {
                        return;
                    }
                }
                drain_into(&mut ws, &seen).await;
            }
        })
        .await;

        let (mut session, welcome) = within(Session::join(&server.ws_url(), "tk", &BALLS, false))
            .await
            .expect("joined a match of a game bot-client does not ship");
        assert_eq!(welcome.game, "balls", "the server's game");
        assert_eq!(
            within(seen.recv()).await,
            Some(ClientMessage::Hello(Hello {
                protocol_version: PROTOCOL_VERSION,
                ticket: "tk".into(),
                resume: None,
                game_hash: Some(BALLS.hash()),
            })),
            "Hello names the game by its hash"
        );
        let mut behaviour = crate::behaviour::Behaviour::for_game(&BALLS, 1, 0);
        assert_eq!(behaviour.name(), "random", "the fallback plays it");
        let mut goals = 0;
        for _ in 0..5 {
            let SessionEvent::Snapshot(s) = next(&mut session).await else {
                panic!("expected a snapshot");
            };
            assert_eq!(
                s.applied.checksum,
                Some(true),
                "tick {} verified",
                s.applied.tick
            );
            goals += s.events.len();
            let input = behaviour.decide(session.replica().world(), welcome.player_id);
            session.send_input(input).await.expect("input sent");
        }
        assert_eq!(session.replica().world(), &balls(6), "the server's world");
        assert_eq!(session.replica().counters().desyncs, 0, "no desync");
        assert_eq!(goals, 1, "the goal delivered once");
        for _ in 0..5 {
            match within(seen.recv()).await {
                Some(ClientMessage::Input(input)) => assert!(
                    BALLS.input.admits(input.values.as_slice()),
                    "every input within the declared ranges: {input:?}"
                ),
                other => panic!("expected an input, got {other:?}"),
            }
        }
    }

    /// Forwards every client message to `seen` until the client goes away.
    async fn drain_into(ws: &mut ServerWs, seen: &mpsc::UnboundedSender<ClientMessage>) {
        for _ in 0..crate::testing::MAX_FRAMES {
            let Some(msg) = read_client(ws).await else {
                return;
            };
            let _ = seen.send(msg);
        }
    }

    #[tokio::test]
    async fn a_welcome_to_another_game_is_refused() {
        let (seen_tx, _seen) = mpsc::unbounded_channel();
        let server = serve(move |ws| script(ws, vec![], seen_tx.clone())).await;
        let result = within(Session::join(
            &server.ws_url(),
            "tk",
            &shared::games::cycles::PROTOCOL,
            false,
        ))
        .await;
        match result {
            Err(JoinError::WrongGame { expected, got, .. }) => {
                assert_eq!(expected, "cycles", "what we asked for");
                assert_eq!(got, "arena", "what the match plays");
            }
            other => panic!("expected a wrong-game refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_input_outside_the_declared_ranges_is_refused_and_not_sent() {
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let server = serve(move |ws| script(ws, vec![], seen_tx.clone())).await;
        let (mut session, _) = within(Session::join(&server.ws_url(), "tk", ARENA, false))
            .await
            .expect("joined");
        let _hello = within(seen.recv()).await;
        let unknown_button = arena_input(4, 0, 0);
        assert!(
            matches!(
                session.send_input(unknown_button).await,
                Err(SessionError::InvalidInput { game: "arena", .. })
            ),
            "button bit 4 is not declared"
        );
        let too_few = InputValues::new(&[0, 1]).expect("two fit");
        assert!(
            matches!(
                session.send_input(too_few).await,
                Err(SessionError::InvalidInput { .. })
            ),
            "two values for three fields"
        );
        assert_eq!(session.next_seq(), 1, "no sequence number spent");
        let seq = session
            .send_input(arena_input(buttons::DASH, 8, 1))
            .await
            .expect("a valid input goes");
        match within(seen.recv()).await {
            Some(ClientMessage::Input(input)) => {
                assert_eq!(input.seq, seq, "the valid one is the first the server sees")
            }
            other => panic!("expected the valid input, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_lost_connection_closes_the_session_with_1006() {
        let server = serve(|mut ws: ServerWs| async move {
            let _ = read_client(&mut ws).await;
            let _ = send_server(&mut ws, &ServerMessage::Welcome(welcome())).await;
            drop(ws);
        })
        .await;
        let (mut session, _) = within(Session::join(&server.ws_url(), "tk", ARENA, false))
            .await
            .expect("joined");
        let event = next(&mut session).await;
        assert!(
            matches!(
                event,
                SessionEvent::Closed {
                    code: crate::conn::ABNORMAL_CLOSURE,
                    ..
                }
            ),
            "abnormal closure: {event:?}"
        );
    }
}
