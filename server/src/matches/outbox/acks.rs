//! A connection's acknowledgements: which worlds the client says it holds, checked against
//! what was sent to it. Set by the session's reader, read by the tick; lock-free.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use shared::Tick;

/// A client's two latest distinct acknowledgements: both are worlds it applied, so the tick
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

#[derive(Debug, Default)]
pub struct AckState {
    /// The newest tick the client says it applied (its baseline) in the low half, and the
    /// acknowledgement before it (an older tick it applied, or 0) in the high half: one atomic,
    /// so the tick never sees a pair the client did not send.
    acks: AtomicU64,
    /// The newest tick sent, so an ack can be checked against it.
    sent: AtomicU32,
    /// The first tick this connection received (or resumed from): it holds nothing older, so
    /// an ack below it is a lie or a bug, never a baseline.
    first: AtomicU32,
}

impl AckState {
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

    /// The oldest tick this client may still name as a baseline or predict from: its older
    /// acknowledgement, else its newest, else (before it acknowledged anything) the first tick
    /// it was sent. `None` before it was sent anything. Acknowledgements only move forward, so
    /// nothing older is ever needed for this client again.
    pub fn oldest_needed(&self) -> Option<Tick> {
        let acks = self.acks();
        let first = Tick(self.first.load(Ordering::Acquire));
        [acks.older, acks.newest, first]
            .into_iter()
            .find(|t| !t.is_zero())
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

    #[test]
    fn a_newer_ack_keeps_the_previous_one_as_the_older_ack() {
        let outbox = AckState::default();
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
        let outbox = AckState::default();
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
