//! A connection's outbox: the tick driver and the session's reader put messages in, the
//! session's writer task takes them out. Never blocks the producer.
//!
//! It holds at most one pending snapshot: a newer one replaces an unsent older one (the client
//! skips it; its next delta is against its last ack, so nothing is lost). Control messages
//! (welcome, pongs, match end) queue up to a small bound.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use shared::Tick;
use tokio::sync::Notify;

use super::frame::TickFrame;

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
    /// Snapshots replaced unsent since the writer last took one.
    behind: u32,
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
    /// The newest tick the client says it applied (its baseline), set by the reader.
    ack: AtomicU32,
    /// The newest tick the writer sent, so an ack can be checked against it.
    sent: AtomicU32,
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
    pub fn new() -> Arc<Outbox> {
        Arc::new(Outbox::default())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A std mutex: every critical section is a few pointer moves, never held across await.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Offers this tick's snapshot (called by the tick driver; never blocks).
    pub fn offer_snapshot(&self, pending: PendingSnapshot) -> Offer {
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

    pub fn is_closing(&self) -> bool {
        self.state().close.is_some()
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

    pub fn set_ack(&self, tick: Tick) {
        // Ignore acks of ticks never sent: a baseline must be something the client received.
        let sent = Tick(self.sent.load(Ordering::Acquire));
        if tick <= sent {
            self.ack.store(tick.0, Ordering::Release);
        }
    }

    pub fn ack(&self) -> Tick {
        Tick(self.ack.load(Ordering::Acquire))
    }

    /// A resumed session: the client holds `tick`, so the next delta may be against it.
    pub fn resume_from(&self, tick: Tick) {
        self.sent.store(tick.0, Ordering::Release);
        self.ack.store(tick.0, Ordering::Release);
    }

    pub fn mark_sent(&self, tick: Tick) {
        self.sent.store(tick.0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::World;

    fn pending(tick: u32) -> PendingSnapshot {
        PendingSnapshot {
            frame: Arc::new(TickFrame::new(Tick(tick), World::new(), vec![], false)),
            last_input_seq: tick,
        }
    }

    #[tokio::test]
    async fn an_unread_snapshot_is_replaced_and_counted() {
        let outbox = Outbox::new();
        assert_eq!(
            outbox.offer_snapshot(pending(1)),
            Offer::Queued,
            "first queued"
        );
        assert_eq!(
            outbox.offer_snapshot(pending(2)),
            Offer::Replaced { behind: 1 },
            "replaced"
        );
        assert_eq!(
            outbox.offer_snapshot(pending(3)),
            Offer::Replaced { behind: 2 },
            "replaced again"
        );
        let batch = outbox.next_batch().await;
        assert_eq!(
            batch.snapshot.map(|p| p.frame.tick),
            Some(Tick(3)),
            "only the newest is sent"
        );
        assert_eq!(
            outbox.offer_snapshot(pending(4)),
            Offer::Queued,
            "taking resets the count"
        );
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
        assert_eq!(
            outbox.offer_snapshot(pending(1)),
            Offer::Closed,
            "no snapshots after close"
        );
        let batch = outbox.next_batch().await;
        assert_eq!(batch.control.len(), 1, "the message queued before close");
        assert_eq!(batch.close.map(|c| c.code), Some(4011), "then the close");
    }

    #[test]
    fn acks_of_unsent_ticks_are_ignored() {
        let outbox = Outbox::new();
        outbox.mark_sent(Tick(10));
        outbox.set_ack(Tick(8));
        assert_eq!(outbox.ack(), Tick(8), "ack of a sent tick");
        outbox.set_ack(Tick(50));
        assert_eq!(outbox.ack(), Tick(8), "ack of a future tick ignored");
    }
}
