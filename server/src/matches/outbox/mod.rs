//! A connection's outbox: everything the server sends a client goes through it, from the tick
//! (snapshots), the match's commands (welcome, kick, match end) and the session (pongs).
//!
//! Writes are direct. The tick encodes each client's frame (over TLS, encrypts it into a buffer
//! too) and writes it into the socket with one non-blocking `write`: no task wakes, no queue, no
//! timer per client per tick. Only when the socket would not take everything does the rest wait
//! here, for the session's [`Outbox::pump`] to write when the socket drains; until then the tick
//! skips the client (its next delta is against its last ack, so nothing is lost), and a client
//! skipped for too long is dropped. Every write goes through the outbox's lock, so frames from
//! the different senders never interleave.

mod acks;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use fastwebsockets::OpCode;
use shared::Tick;
use tokio::sync::Notify;

use super::frame::{History, TickFrame};
use super::views::Viewer;
use super::wire::{close_payload, push_frame, snapshot_message};
use crate::metrics::Metrics;
use crate::net::{Sock, TlsSocket, Watch};

pub use acks::{AckState, Acks};

/// Bytes an outbox holds unsent before control messages are refused (the connection is then
/// hopelessly behind). Snapshots are skipped, not queued, while anything is unsent, so this is
/// about a keyframe plus the controls behind it.
const UNSENT_BOUND: usize = 256 * 1024;

/// The most of an emptied unsent buffer an outbox keeps allocated.
const UNSENT_KEPT: usize = 4 * 1024;

/// A snapshot for one client: the tick's shared frame, whose view of it the client gets, and
/// what the client's inputs reached.
#[derive(Debug, Clone)]
pub struct PendingSnapshot {
    pub frame: Arc<TickFrame>,
    pub viewer: Viewer,
    pub last_input_seq: u32,
}

/// A message other than a snapshot.
#[derive(Debug, Clone)]
pub enum Control {
    /// An encoded `ServerMessage`.
    Message(Bytes),
    /// A WebSocket pong answering a ping.
    Pong(Bytes),
}

/// The socket an outbox writes into.
#[derive(Debug, Clone)]
pub(crate) enum DirectSocket {
    Plain(Arc<Sock>),
    /// TLS over TCP: frames are encrypted into a buffer under the connection's lock, then
    /// written like plain bytes.
    Tls(Arc<TlsSocket>),
}

impl DirectSocket {
    fn sock(&self) -> &Sock {
        match self {
            DirectSocket::Plain(sock) => sock,
            DirectSocket::Tls(tls) => tls.sock(),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// The close that was asked for (the first one wins).
    closing: bool,
    /// Snapshots skipped in a row because the socket had not taken the previous writes.
    behind: u32,
    /// Bytes the socket would not take yet, oldest first; the pump writes them when the socket
    /// is writable.
    unsent: Vec<u8>,
    /// The pump is writing bytes it took out of `unsent`, without the lock: until it puts back
    /// what the socket did not take, anything else written goes into `unsent` after them.
    in_flight: bool,
    /// A write failed; the connection is over.
    broken: bool,
    /// Over TLS: the buffer frames are encrypted into, kept between writes.
    sealed: Vec<u8>,
}

#[derive(Debug)]
pub struct Outbox {
    socket: DirectSocket,
    state: Mutex<State>,
    /// Wakes the pump: something is unsent, the close was asked for, or the socket broke.
    wake: Notify,
    acks: AckState,
}

/// What the tick lends each outbox it offers a snapshot to: what the client's frame is encoded
/// from, a buffer reused for every client, and what was written.
pub struct TickOut<'a> {
    pub history: &'a History,
    pub metrics: &'a Metrics,
    /// A ping message (encoded) to send every client this tick, before its snapshot.
    pub ping: Option<&'a [u8]>,
    pub buf: Vec<u8>,
    /// Bytes and frames written this tick.
    pub bytes: u64,
    pub frames: u64,
}

impl<'a> TickOut<'a> {
    pub fn new(history: &'a History, metrics: &'a Metrics, buf: Vec<u8>) -> TickOut<'a> {
        TickOut {
            history,
            metrics,
            ping: None,
            buf,
            bytes: 0,
            frames: 0,
        }
    }

    /// Encodes what a client with `acks` gets this tick into `buf`, framed for the wire: the
    /// tick's ping, if any, then its snapshot. Answers the snapshot's tick. All of a client's
    /// per-tick work but the `write` (public for the write-path bench).
    pub fn assemble(&mut self, acks: Acks, pending: &PendingSnapshot) -> Tick {
        self.buf.clear();
        if let Some(ping) = self.ping {
            push_frame(&mut self.buf, OpCode::Binary, |b| b.extend_from_slice(ping));
            self.frames += 1;
        }
        let (history, metrics) = (self.history, self.metrics);
        let mut tick = pending.frame.tick;
        push_frame(&mut self.buf, OpCode::Binary, |b| {
            tick = snapshot_message(acks, pending, history, metrics, b);
        });
        self.frames += 1;
        self.bytes += self.buf.len() as u64;
        tick
    }
}

/// What offering a snapshot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Written (or its tail left for the pump).
    Written,
    /// Skipped: the socket has not taken the previous writes; the client is `behind` snapshots
    /// behind.
    Skipped { behind: u32 },
    /// The outbox is closing; nothing written.
    Closed,
}

/// How a pump ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PumpEnd {
    /// The close frame went out.
    Closed,
    /// The socket failed or would not take the close frame in time.
    Broken,
}

impl Outbox {
    pub(crate) fn new(socket: DirectSocket) -> Arc<Outbox> {
        Arc::new(Outbox {
            socket,
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            acks: AckState::default(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A std mutex, never held across an await: the longest hold is the tick's (one frame's
        // encoding and one non-blocking write). The pump writes without it: its thread has a
        // lower priority than the tick's, and preempted inside a write it would stall the tick.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The client's acknowledgements.
    pub fn acked(&self) -> &AckState {
        &self.acks
    }

    /// Writes this tick's snapshot for the client (called by the tick; never blocks), unless
    /// the socket has not taken the previous writes yet.
    pub fn offer_snapshot(&self, pending: PendingSnapshot, out: &mut TickOut<'_>) -> Offer {
        let mut s = self.state();
        if s.closing || s.broken {
            return Offer::Closed;
        }
        if !s.unsent.is_empty() || s.in_flight {
            s.behind += 1;
            return Offer::Skipped { behind: s.behind };
        }
        s.behind = 0;
        let tick = out.assemble(self.acks.acks(), &pending);
        // Marked before the write: the client may receive, apply and acknowledge the frame
        // before this returns, and an ack of a tick not yet marked would be dropped.
        self.acks.mark_sent(tick);
        self.write(&mut s, &out.buf);
        Offer::Written
    }

    /// Sends a control message; `false` if the outbox is closing or too much is unsent (the
    /// connection is hopelessly behind and should be dropped).
    pub fn push_control(&self, item: Control) -> bool {
        let mut s = self.state();
        if s.closing || s.broken || s.unsent.len() >= UNSENT_BOUND {
            return false;
        }
        let mut buf = Vec::new();
        match &item {
            Control::Message(b) => push_frame(&mut buf, OpCode::Binary, |o| o.extend_from_slice(b)),
            Control::Pong(b) => push_frame(&mut buf, OpCode::Pong, |o| o.extend_from_slice(b)),
        }
        self.write(&mut s, &buf);
        true
    }

    /// Sends the close frame after what was sent before; nothing is sent after it. The first
    /// request wins.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        let mut s = self.state();
        if s.closing {
            return;
        }
        s.closing = true;
        let reason = reason.into();
        tracing::debug!(code, %reason, "closing a WebSocket");
        let mut buf = Vec::new();
        push_frame(&mut buf, OpCode::Close, |o| close_payload(code, &reason, o));
        if !s.broken {
            self.write(&mut s, &buf);
        }
        // The session waits for the close to go out, then ends.
        self.wake.notify_one();
    }

    /// Writes `bytes` after whatever is unsent; what the socket does not take now waits for the
    /// pump.
    fn write(&self, s: &mut State, bytes: &[u8]) {
        let mut sealed = std::mem::take(&mut s.sealed);
        let bytes = match &self.socket {
            DirectSocket::Plain(_) => bytes,
            DirectSocket::Tls(tls) => {
                sealed.clear();
                if let Err(e) = tls.encrypt(bytes, &mut sealed) {
                    tracing::debug!(error = %e, "TLS encryption failed");
                    s.broken = true;
                    self.wake.notify_one();
                    return;
                }
                &sealed
            }
        };
        let written = if s.unsent.is_empty() && !s.in_flight {
            match self.socket.sock().try_write(bytes) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                Err(e) => {
                    tracing::debug!(error = %e, "socket write failed");
                    s.broken = true;
                    self.wake.notify_one();
                    return;
                }
            }
        } else {
            0
        };
        if written < bytes.len() {
            s.unsent.extend_from_slice(&bytes[written..]);
            self.wake.notify_one();
        }
        s.sealed = sealed;
    }

    /// The session's side: writes what the socket would not take at once, as it drains, and
    /// returns once the close frame is out (or the socket failed, or would not take the close
    /// frame within `stall`). Cancel-safe: everything lives in the outbox.
    pub async fn pump(&self, stall: Duration) -> PumpEnd {
        let sock = self.socket.sock();
        // Registered with the reactor only while something is unsent.
        let mut watch: Option<Watch> = None;
        loop {
            let notified = self.wake.notified();
            let (unsent, closing) = {
                let s = self.state();
                if s.broken {
                    return PumpEnd::Broken;
                }
                (!s.unsent.is_empty(), s.closing)
            };
            if !unsent {
                watch = None;
                if closing {
                    return PumpEnd::Closed;
                }
                notified.await;
                continue;
            }
            let watching = match &mut watch {
                Some(watching) => watching,
                None => match sock.watch() {
                    Ok(new) => watch.insert(new),
                    Err(_) => {
                        self.state().broken = true;
                        return PumpEnd::Broken;
                    }
                },
            };
            // A client that stopped reading is dropped by the tick (too far behind): a close
            // asked for meanwhile wakes this, and waiting on it is bounded.
            let ready = if closing {
                tokio::time::timeout(stall, watching.writable())
                    .await
                    .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
            } else {
                tokio::select! {
                    ready = watching.writable() => ready,
                    _ = notified => continue,
                }
            };
            if ready.is_err() {
                self.state().broken = true;
                return PumpEnd::Broken;
            }
            let mut taken = {
                let mut s = self.state();
                s.in_flight = true;
                std::mem::take(&mut s.unsent)
            };
            // Through the watch, so a socket still full clears its readiness.
            let written = watching.try_write(&taken);
            let mut s = self.state();
            s.in_flight = false;
            match written {
                Ok(n) => {
                    taken.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => {
                    s.broken = true;
                    return PumpEnd::Broken;
                }
            }
            // What was written meanwhile (controls, the close) goes after what was taken.
            taken.extend_from_slice(&s.unsent);
            if taken.is_empty() && taken.capacity() > UNSENT_KEPT {
                // Drained after a backlog: give the memory back rather than hold a burst's
                // worth per connection for its life.
                taken = Vec::new();
            }
            s.unsent = taken;
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use tokio::io::AsyncReadExt;
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::matches::wire::parse_frames;
    use shared::World;
    use shared::games::arena::ArenaEntity;
    use shared::schema::Replicated;

    fn pending(tick: u32) -> PendingSnapshot {
        PendingSnapshot {
            frame: Arc::new(TickFrame::new(
                Tick(tick),
                World::new(ArenaEntity::SCHEMA),
                Vec::new().into(),
                false,
            )),
            viewer: Viewer::Everything,
            last_input_seq: tick,
        }
    }

    /// A loopback connection: the server's end in a direct outbox, the client's end to read.
    async fn pair() -> (Arc<Outbox>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        // Small fixed buffers (set before connecting, which also stops the kernel growing
        // them), so a client that does not read fills them quickly.
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .set_recv_buffer_size(16 * 1024)
            .expect("receive buffer");
        let (client, accepted) = tokio::join!(socket.connect(addr), listener.accept());
        let (server, _) = accepted.expect("accept");
        socket2::SockRef::from(&server)
            .set_send_buffer_size(16 * 1024)
            .expect("send buffer");
        (
            Outbox::new(DirectSocket::Plain(Arc::new(
                Sock::new(server).expect("out of the reactor"),
            ))),
            client.expect("connect"),
        )
    }

    fn offer(outbox: &Outbox, tick: u32, history: &History, metrics: &Metrics) -> Offer {
        history.push(pending(tick).frame);
        outbox.offer_snapshot(
            pending(tick),
            &mut TickOut::new(history, metrics, Vec::new()),
        )
    }

    /// Reads from `client` until `want` frames arrived (bounded by the test's timeout).
    async fn read_frames(client: &mut TcpStream, want: usize) -> Vec<(u8, Vec<u8>)> {
        let mut bytes = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if let Some(frames) = whole_frames(&bytes)
                && frames.len() >= want
            {
                return frames;
            }
            let n = client.read(&mut buf).await.expect("read");
            assert!(n > 0, "the server closed early");
            bytes.extend_from_slice(&buf[..n]);
        }
    }

    /// The frames in `bytes` if it ends on a frame boundary.
    fn whole_frames(bytes: &[u8]) -> Option<Vec<(u8, Vec<u8>)>> {
        let mut at = 0;
        while at < bytes.len() {
            let len = match bytes.get(at + 1)? & 0x7f {
                126 => {
                    usize::from(u16::from_be_bytes([
                        *bytes.get(at + 2)?,
                        *bytes.get(at + 3)?,
                    ])) + 4
                }
                127 => return None,
                n => usize::from(n) + 2,
            };
            at += len;
        }
        (at == bytes.len()).then(|| parse_frames(bytes))
    }

    #[tokio::test]
    async fn the_tick_writes_controls_and_snapshots_straight_into_the_socket_in_order() {
        let (outbox, mut client) = pair().await;
        let (history, metrics) = (History::new(8), Metrics::new());
        assert!(outbox.push_control(Control::Message(Bytes::from_static(b"welcome"))));
        assert_eq!(offer(&outbox, 1, &history, &metrics), Offer::Written);
        assert_eq!(offer(&outbox, 2, &history, &metrics), Offer::Written);
        outbox.close(4011, "kicked");
        assert!(
            !outbox.push_control(Control::Message(Bytes::from_static(b"late"))),
            "nothing after the close"
        );
        assert_eq!(offer(&outbox, 3, &history, &metrics), Offer::Closed);
        let frames = tokio::time::timeout(Duration::from_secs(30), read_frames(&mut client, 4))
            .await
            .expect("frames within the bound");
        assert_eq!(frames[0], (0x2, b"welcome".to_vec()));
        let ticks: Vec<u32> = frames[1..3]
            .iter()
            .map(|(op, payload)| {
                assert_eq!(*op, 0x2, "snapshots are binary");
                match shared::codec::decode_server(payload) {
                    Ok(shared::protocol::ServerMessage::Snapshot(s)) => s.header.tick.0,
                    other => panic!("not a snapshot: {other:?}"),
                }
            })
            .collect();
        assert_eq!(ticks, [1, 2], "each tick's snapshot, in order");
        assert_eq!(frames[3].0, 0x8, "then the close");
        assert_eq!(&frames[3].1[..2], &4011u16.to_be_bytes());
        assert_eq!(outbox.pump(Duration::from_secs(5)).await, PumpEnd::Closed);
    }

    #[tokio::test]
    async fn while_the_pump_writes_unlocked_the_tick_skips_and_controls_queue_behind_it() {
        let (outbox, mut client) = pair().await;
        let (history, metrics) = (History::new(8), Metrics::new());
        // The moment inside the pump's write: its bytes are out of `unsent`, the lock is free.
        outbox.state().in_flight = true;
        assert_eq!(
            offer(&outbox, 1, &history, &metrics),
            Offer::Skipped { behind: 1 },
            "no snapshot jumps ahead of the pump's bytes"
        );
        assert!(outbox.push_control(Control::Message(Bytes::from_static(b"kick"))));
        assert!(
            !outbox.state().unsent.is_empty(),
            "the control waits behind the pump's bytes instead of going straight out"
        );
        outbox.state().in_flight = false;
        let pump = {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.pump(Duration::from_secs(5)).await })
        };
        let frames = tokio::time::timeout(Duration::from_secs(30), read_frames(&mut client, 1))
            .await
            .expect("the pump writes the queued control");
        assert_eq!(frames, [(0x2, b"kick".to_vec())]);
        assert_eq!(offer(&outbox, 2, &history, &metrics), Offer::Written);
        outbox.close(1000, "done");
        let end = tokio::time::timeout(Duration::from_secs(30), pump)
            .await
            .expect("the pump ends after the close")
            .expect("the pump task");
        assert_eq!(end, PumpEnd::Closed);
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_is_skipped_then_gets_whole_frames_when_it_reads() {
        let (outbox, mut client) = pair().await;
        let (history, metrics) = (History::new(8), Metrics::new());
        // Fill the socket with controls until some of them wait unsent.
        let big = Bytes::from(vec![7u8; 32 * 1024]);
        let mut pushed = 0usize;
        while outbox.state().unsent.is_empty() {
            assert!(pushed < 1000, "the socket never filled");
            assert!(outbox.push_control(Control::Message(big.clone())));
            pushed += 1;
        }
        assert_eq!(
            offer(&outbox, 1, &history, &metrics),
            Offer::Skipped { behind: 1 },
            "skipped while the socket is full"
        );
        assert_eq!(
            offer(&outbox, 2, &history, &metrics),
            Offer::Skipped { behind: 2 }
        );
        // The client reads; the pump finishes the writes and nothing is torn.
        let pump = {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.pump(Duration::from_secs(30)).await })
        };
        let frames =
            tokio::time::timeout(Duration::from_secs(30), read_frames(&mut client, pushed))
                .await
                .expect("the unsent bytes arrive");
        assert_eq!(frames.len(), pushed, "every control, whole");
        assert!(frames.iter().all(|(op, p)| *op == 0x2 && p[..] == big[..]));
        assert!(outbox.state().unsent.is_empty(), "nothing left unsent");
        assert!(
            outbox.state().unsent.capacity() <= UNSENT_KEPT,
            "the backlog's memory is given back"
        );
        assert_eq!(
            offer(&outbox, 3, &history, &metrics),
            Offer::Written,
            "written again once drained"
        );
        outbox.close(1000, "bye");
        let rest = tokio::time::timeout(Duration::from_secs(30), read_frames(&mut client, 2))
            .await
            .expect("snapshot and close");
        assert_eq!(rest[1].0, 0x8);
        let ended = tokio::time::timeout(Duration::from_secs(30), pump)
            .await
            .expect("the pump ends after the close")
            .expect("the pump task");
        assert_eq!(ended, PumpEnd::Closed);
    }

    #[tokio::test]
    async fn a_close_the_socket_never_takes_ends_the_pump_after_the_stall_bound() {
        let (outbox, _client) = pair().await;
        // Far more than the socket's buffers hold: most of it stays unsent.
        let big = Bytes::from(vec![1u8; 32 * 1024]);
        for _ in 0..1000 {
            if !outbox.push_control(Control::Message(big.clone())) {
                break;
            }
        }
        assert!(outbox.state().unsent.len() >= UNSENT_BOUND, "held unsent");
        outbox.close(4006, "too slow");
        let ended = tokio::time::timeout(
            Duration::from_secs(60),
            outbox.pump(Duration::from_millis(200)),
        )
        .await
        .expect("bounded by the stall timeout");
        assert_eq!(ended, PumpEnd::Broken);
    }
}
