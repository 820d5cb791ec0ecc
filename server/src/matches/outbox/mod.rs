//! A connection's outbox: the tick driver and the session's reader put messages in, the
//! session's writer task takes them out. Never blocks the producer.
//!
//! It holds at most one pending snapshot: a newer one replaces an unsent older one (the client
//! skips it; its next delta is against its last ack, so nothing is lost). Control messages
//! (welcome, pongs, match end) queue up to a small bound.
//!
//! On a plain TCP connection the outbox is *direct* (see [`direct`]): the tick writes each
//! snapshot into the socket itself and the session only finishes writes the socket would not
//! take at once.

mod direct;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use shared::Tick;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::frame::{History, TickFrame};
use crate::metrics::Metrics;

pub use direct::PumpEnd;

/// Control messages a writer may have queued before the connection is considered broken.
const CONTROL_BOUND: usize = 64;

/// A snapshot waiting for the writer.
#[derive(Debug, Clone)]
pub struct PendingSnapshot {
    pub frame: Arc<TickFrame>,
    pub last_input_seq: u32,
}

/// A non-snapshot item for the writer.
#[derive(Debug, Clone)]
pub enum Control {
    /// An encoded `ServerMessage`.
    Message(Bytes),
    /// A WebSocket pong answering a ping.
    Pong(Bytes),
}

/// Why and how the writer should close the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseRequest {
    pub code: u16,
    pub reason: String,
}

#[derive(Debug, Default)]
struct State {
    snapshot: Option<PendingSnapshot>,
    control: VecDeque<Control>,
    close: Option<CloseRequest>,
    /// Snapshots replaced unsent since the writer last took one (direct: skipped because the
    /// socket had not taken the previous writes).
    behind: u32,
    /// Direct only: bytes the socket would not take yet, oldest first; the session's pump
    /// writes them when the socket is writable.
    unsent: Vec<u8>,
    /// Direct only: a write failed; the connection is over.
    broken: bool,
}

/// What a writer takes in one wake.
#[derive(Debug, Default)]
pub struct Batch {
    pub control: Vec<Control>,
    pub snapshot: Option<PendingSnapshot>,
    pub close: Option<CloseRequest>,
}

#[derive(Debug, Default)]
pub struct Outbox {
    state: Mutex<State>,
    wake: Notify,
    /// The newest tick the client says it applied (its baseline) in the low half, and the
    /// acknowledgement before it (an older tick it applied, or 0) in the high half: one atomic,
    /// so the writer never sees a pair the client did not send. Set by the reader.
    acks: AtomicU64,
    /// The newest tick the writer sent, so an ack can be checked against it.
    sent: AtomicU32,
    /// The first tick this connection received (or resumed from): it holds nothing older, so
    /// an ack below it is a lie or a bug, never a baseline.
    first: AtomicU32,
    /// The socket the tick writes into, for a direct outbox.
    direct: Option<Arc<TcpStream>>,
}

/// What the tick lends each outbox it offers a snapshot to: what a direct outbox needs to
/// encode the client's frame, a buffer reused for every client, and what was written.
pub struct TickOut<'a> {
    pub history: &'a History,
    pub metrics: &'a Metrics,
    /// A ping message (encoded) to send every direct client this tick, before its snapshot.
    pub ping: Option<&'a [u8]>,
    pub buf: Vec<u8>,
    /// Bytes and frames written into sockets this tick.
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
}

/// A client's two latest distinct acknowledgements: both are worlds it applied, so the writer
/// may delta against `newest` and predict from `older`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Acks {
    /// The acknowledgement before `newest` ([`Tick::ZERO`] if none is known).
    pub older: Tick,
    /// The newest acknowledgement ([`Tick::ZERO`] before the first).
    pub newest: Tick,
}

impl Acks {
    fn pack(self) -> u64 {
        (u64::from(self.older.0) << 32) | u64::from(self.newest.0)
    }

    fn unpack(packed: u64) -> Acks {
        Acks {
            older: Tick((packed >> 32) as u32),
            newest: Tick(packed as u32),
        }
    }
}

/// What offering a snapshot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Queued; the writer had taken the previous one.
    Queued,
    /// Replaced an unsent snapshot; the client is `behind` snapshots behind.
    Replaced { behind: u32 },
    /// The outbox is closing; nothing queued.
    Closed,
}

impl Outbox {
    /// An outbox drained by a writer task.
    pub fn new() -> Arc<Outbox> {
        Arc::new(Outbox::default())
    }

    /// An outbox that writes into `tcp` itself (the tick's snapshots, and control messages from
    /// whichever task sends them); the session runs [`Outbox::pump`] for what the socket would
    /// not take at once.
    pub fn direct(tcp: Arc<TcpStream>) -> Arc<Outbox> {
        Arc::new(Outbox {
            direct: Some(tcp),
            ..Outbox::default()
        })
    }

    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A std mutex: every critical section is a few pointer moves, never held across await.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Offers this tick's snapshot (called by the tick driver; never blocks). A direct outbox
    /// writes it at once, unless the socket has not taken the previous writes yet.
    pub fn offer_snapshot(&self, pending: PendingSnapshot, out: &mut TickOut<'_>) -> Offer {
        if let Some(tcp) = &self.direct {
            return self.offer_direct(tcp, &pending, out);
        }
        let offer = {
            let mut s = self.state();
            if s.close.is_some() {
                return Offer::Closed;
            }
            let replaced = s.snapshot.replace(pending).is_some();
            if replaced {
                s.behind += 1;
                Offer::Replaced { behind: s.behind }
            } else {
                Offer::Queued
            }
        };
        self.wake.notify_one();
        offer
    }

    /// Queues a control item; `false` if the outbox is closing or the queue is full (the
    /// connection is hopelessly behind and should be dropped).
    pub fn push_control(&self, item: Control) -> bool {
        if let Some(tcp) = &self.direct {
            return self.control_direct(tcp, &item);
        }
        let ok = {
            let mut s = self.state();
            if s.close.is_some() || s.control.len() >= CONTROL_BOUND {
                false
            } else {
                s.control.push_back(item);
                true
            }
        };
        if ok {
            self.wake.notify_one();
        }
        ok
    }

    /// Asks the writer to send what is queued, then close with `code`. The first request wins.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        if let Some(tcp) = &self.direct {
            self.close_direct(tcp, code, reason.into());
            return;
        }
        {
            let mut s = self.state();
            if s.close.is_none() {
                s.close = Some(CloseRequest {
                    code,
                    reason: reason.into(),
                });
            }
        }
        self.wake.notify_one();
    }

    /// Waits until there is something to take, then takes all of it.
    pub async fn next_batch(&self) -> Batch {
        loop {
            let notified = self.wake.notified();
            {
                let mut s = self.state();
                if s.snapshot.is_some() || !s.control.is_empty() || s.close.is_some() {
                    s.behind = 0;
                    return Batch {
                        control: s.control.drain(..).collect(),
                        snapshot: s.snapshot.take(),
                        close: s.close.clone(),
                    };
                }
            }
            notified.await;
        }
    }

    /// Records the client's acknowledgement. A newer one pushes the previous one back as the
    /// older acknowledgement; an older one (which a client should never send) forgets it.
    pub fn set_ack(&self, tick: Tick) {
        // Ignore acks of ticks never sent: a baseline must be something the client received.
        let sent = Tick(self.sent.load(Ordering::Acquire));
        let first = Tick(self.first.load(Ordering::Acquire));
        if tick > sent || first.is_zero() || tick < first {
            return;
        }
        // Only this connection's reader calls this, but `fetch_update` keeps the pair whole
        // even if a resume races it.
        let _ = self
            .acks
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |packed| {
                let acks = Acks::unpack(packed);
                let older = if acks.newest.is_zero() {
                    Tick::ZERO
                } else if tick == acks.newest {
                    return None;
                } else if tick > acks.newest {
                    acks.newest
                } else {
                    Tick::ZERO
                };
                Some(
                    Acks {
                        older,
                        newest: tick,
                    }
                    .pack(),
                )
            });
    }

    /// The newest acknowledged tick: the baseline for the next delta.
    pub fn ack(&self) -> Tick {
        self.acks().newest
    }

    /// The newest acknowledged tick and the distinct one the client acknowledged before it.
    pub fn acks(&self) -> Acks {
        Acks::unpack(self.acks.load(Ordering::Acquire))
    }

    /// A resumed session: the client holds `tick`, so the next delta may be against it. Nothing
    /// older is known to be held.
    pub fn resume_from(&self, tick: Tick) {
        self.sent.store(tick.0, Ordering::Release);
        self.first.store(tick.0, Ordering::Release);
        let acks = Acks {
            older: Tick::ZERO,
            newest: tick,
        };
        self.acks.store(acks.pack(), Ordering::Release);
    }

    pub fn mark_sent(&self, tick: Tick) {
        self.sent.store(tick.0, Ordering::Release);
        let _ = self
            .first
            .compare_exchange(0, tick.0, Ordering::AcqRel, Ordering::Acquire);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::World;
    use shared::games::arena::ArenaEntity;
    use shared::schema::Replicated;

    fn offer(outbox: &Outbox, tick: u32) -> Offer {
        let history = History::new(4);
        let metrics = Metrics::new();
        outbox.offer_snapshot(
            pending(tick),
            &mut TickOut::new(&history, &metrics, Vec::new()),
        )
    }

    pub(super) fn pending(tick: u32) -> PendingSnapshot {
        PendingSnapshot {
            frame: Arc::new(TickFrame::new(
                Tick(tick),
                World::new(ArenaEntity::SCHEMA),
                Vec::new().into(),
                false,
            )),
            last_input_seq: tick,
        }
    }

    #[tokio::test]
    async fn an_unread_snapshot_is_replaced_and_counted() {
        let outbox = Outbox::new();
        assert_eq!(offer(&outbox, 1), Offer::Queued, "first queued");
        assert_eq!(offer(&outbox, 2), Offer::Replaced { behind: 1 }, "replaced");
        assert_eq!(
            offer(&outbox, 3),
            Offer::Replaced { behind: 2 },
            "replaced again"
        );
        let batch = outbox.next_batch().await;
        assert_eq!(
            batch.snapshot.map(|p| p.frame.tick),
            Some(Tick(3)),
            "only the newest is sent"
        );
        assert_eq!(offer(&outbox, 4), Offer::Queued, "taking resets the count");
    }

    #[tokio::test]
    async fn control_messages_come_before_close_and_nothing_after() {
        let outbox = Outbox::new();
        assert!(
            outbox.push_control(Control::Message(Bytes::from_static(b"a"))),
            "queued"
        );
        outbox.close(4011, "kicked");
        assert!(
            !outbox.push_control(Control::Message(Bytes::from_static(b"b"))),
            "refused after close"
        );
        assert_eq!(offer(&outbox, 1), Offer::Closed, "no snapshots after close");
        let batch = outbox.next_batch().await;
        assert_eq!(batch.control.len(), 1, "the message queued before close");
        assert_eq!(batch.close.map(|c| c.code), Some(4011), "then the close");
    }

    #[test]
    fn a_newer_ack_keeps_the_previous_one_as_the_older_ack() {
        let outbox = Outbox::new();
        outbox.mark_sent(Tick(1));
        outbox.mark_sent(Tick(20));
        outbox.set_ack(Tick(5));
        assert_eq!(
            outbox.acks(),
            Acks {
                older: Tick::ZERO,
                newest: Tick(5)
            },
            "nothing older at first"
        );
        outbox.set_ack(Tick(6));
        outbox.set_ack(Tick(6));
        assert_eq!(
            outbox.acks(),
            Acks {
                older: Tick(5),
                newest: Tick(6)
            },
            "a repeated ack keeps the distinct one before it"
        );
        outbox.set_ack(Tick(9));
        assert_eq!(outbox.acks().older, Tick(6), "the previous ack moves back");
        outbox.set_ack(Tick(7));
        assert_eq!(
            outbox.acks(),
            Acks {
                older: Tick::ZERO,
                newest: Tick(7)
            },
            "an ack going backwards forgets the older one"
        );
        outbox.resume_from(Tick(15));
        assert_eq!(
            outbox.acks(),
            Acks {
                older: Tick::ZERO,
                newest: Tick(15)
            },
            "a resume knows only the tick it resumes from"
        );
    }

    #[test]
    fn acks_of_unsent_ticks_are_ignored() {
        let outbox = Outbox::new();
        outbox.set_ack(Tick(1));
        assert_eq!(outbox.ack(), Tick::ZERO, "nothing sent yet: nothing to ack");
        outbox.mark_sent(Tick(5));
        outbox.mark_sent(Tick(10));
        outbox.set_ack(Tick(8));
        assert_eq!(outbox.ack(), Tick(8), "ack of a sent tick");
        outbox.set_ack(Tick(50));
        assert_eq!(outbox.ack(), Tick(8), "ack of a future tick ignored");
        outbox.set_ack(Tick(3));
        assert_eq!(
            outbox.ack(),
            Tick(8),
            "ack of a tick before this connection's first ignored"
        );
    }
}
