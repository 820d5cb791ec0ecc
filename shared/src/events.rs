//! Exactly-once delivery of a match's events. Pure: no I/O, no clock.
//!
//! A snapshot carries every event since its baseline's tick (a keyframe: those of its own tick
//! only), each `ago` ticks before the snapshot's tick, so a client that skipped frames still
//! gets each event, and one that saw the earlier frames gets some again. An [`EventFeed`]
//! remembers the newest tick whose events it has delivered and passes on only what is newer.
//!
//! Call order: [`EventFeed::fresh`] for every snapshot the replica accepted, in arrival order.

use crate::{Event, Tick, TimedEvent};

/// An event and the tick it happened on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickedEvent {
    pub tick: Tick,
    pub event: Event,
}

/// What an [`EventFeed`] has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedCounters {
    /// Events passed on, each once.
    pub delivered: u64,
    /// Events dropped because an earlier frame delivered them.
    pub repeats: u64,
    /// Frames whose window did not reach back to the newest delivered tick (a keyframe after
    /// a gap, as after a resume the server could not delta): events in between were never
    /// sent to this client.
    pub gaps: u64,
}

/// The events of a session not delivered yet; kept across a resume with the replica.
#[derive(Debug, Clone, Default)]
pub struct EventFeed {
    /// Every event at or before this tick has been delivered.
    through: Option<Tick>,
    counters: FeedCounters,
}

impl EventFeed {
    pub fn new() -> EventFeed {
        EventFeed::default()
    }

    /// The events of a snapshot at `tick` against `baseline` that were not delivered before,
    /// oldest first, each with its tick. Afterwards every event at or before `tick` counts as
    /// delivered. A snapshot not newer than one already seen delivers nothing.
    pub fn fresh(
        &mut self,
        tick: Tick,
        baseline: Tick,
        events: Vec<TimedEvent>,
    ) -> Vec<TickedEvent> {
        let through = self.through;
        if through.is_some_and(|t| tick <= t) {
            self.counters.repeats += events.len() as u64;
            return Vec::new();
        }
        // The frame covers the ticks after its baseline (a keyframe: its own tick only); if
        // the newest delivered tick is older than that, the ticks in between were never sent.
        let covers_after = if baseline.is_zero() {
            Tick(tick.0.wrapping_sub(1))
        } else {
            baseline
        };
        if through.is_some_and(|t| t < covers_after) {
            self.counters.gaps += 1;
        }
        let mut out = Vec::with_capacity(events.len());
        for timed in events {
            let at = Tick(tick.0.wrapping_sub(u32::from(timed.ago)));
            if through.is_some_and(|t| at <= t) {
                self.counters.repeats += 1;
            } else {
                out.push(TickedEvent {
                    tick: at,
                    event: timed.event,
                });
            }
        }
        self.counters.delivered += out.len() as u64;
        self.through = Some(tick);
        out
    }

    /// The newest tick whose events were delivered.
    pub fn delivered_through(&self) -> Option<Tick> {
        self.through
    }

    pub fn counters(&self) -> FeedCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Event number `n`, as a game event of kind 0.
    fn event(n: i32) -> Event {
        Event::Game {
            kind: 0,
            values: vec![n],
        }
    }

    /// A frame at `tick` carrying the events numbered by the tick they happened on, for every
    /// tick in `from..=tick` that had one (the even ticks).
    fn frame(tick: u32, from: u32) -> Vec<TimedEvent> {
        (from..=tick)
            .filter(|t| t % 2 == 0)
            .map(|t| TimedEvent {
                ago: (tick - t) as u16,
                event: event(t as i32),
            })
            .collect()
    }

    fn numbers(events: &[TickedEvent]) -> Vec<i32> {
        events
            .iter()
            .map(|e| match &e.event {
                Event::Game { values, .. } => values[0],
                other => panic!("only game events here: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn overlapping_windows_deliver_each_event_once() {
        let mut feed = EventFeed::new();
        let mut got = Vec::new();
        // Every frame is a delta against a baseline three ticks back, as while acks are a
        // round trip behind: each event rides in about three frames.
        got.extend(feed.fresh(Tick(2), Tick::ZERO, frame(2, 2)));
        for tick in 3..=12u32 {
            let baseline = tick.saturating_sub(3).max(2);
            got.extend(feed.fresh(Tick(tick), Tick(baseline), frame(tick, baseline + 1)));
        }
        assert_eq!(
            numbers(&got),
            vec![2, 4, 6, 8, 10, 12],
            "every event once, in order"
        );
        assert!(
            got.iter()
                .all(|e| numbers(std::slice::from_ref(e))[0] as u32 == e.tick.0),
            "each event carries the tick it happened on: {got:?}"
        );
        let c = feed.counters();
        assert_eq!(c.delivered, 6, "six delivered");
        assert!(c.repeats > 0, "the repeats were dropped: {c:?}");
        assert_eq!(c.gaps, 0, "every window reached back far enough");
    }

    #[test]
    fn a_client_that_skipped_frames_still_gets_every_event() {
        let mut feed = EventFeed::new();
        let mut got = feed.fresh(Tick(2), Tick::ZERO, frame(2, 2));
        // Frames 3..=9 never arrived (the server skipped a slow reader); frame 10 is a delta
        // against tick 2, the last one acknowledged, so it carries everything since.
        got.extend(feed.fresh(Tick(10), Tick(2), frame(10, 3)));
        got.extend(feed.fresh(Tick(11), Tick(2), frame(11, 3)));
        assert_eq!(
            numbers(&got),
            vec![2, 4, 6, 8, 10],
            "every event of the skipped ticks, once"
        );
        assert_eq!(feed.delivered_through(), Some(Tick(11)), "through tick 11");
    }

    #[test]
    fn a_stale_frame_delivers_nothing_and_a_keyframe_after_a_gap_is_counted() {
        let mut feed = EventFeed::new();
        feed.fresh(Tick(6), Tick::ZERO, frame(6, 6));
        assert!(
            feed.fresh(Tick(5), Tick(1), frame(5, 2)).is_empty(),
            "an older frame"
        );
        let got = feed.fresh(Tick(20), Tick::ZERO, frame(20, 20));
        assert_eq!(numbers(&got), vec![20], "the keyframe's own events");
        assert_eq!(feed.counters().gaps, 1, "ticks 7..=19 were never sent");
    }

    #[test]
    fn event_ticks_survive_the_wrap() {
        let mut feed = EventFeed::new();
        feed.fresh(Tick(u32::MAX - 1), Tick::ZERO, Vec::new());
        let window = vec![
            TimedEvent {
                ago: 3,
                event: event(1),
            },
            TimedEvent {
                ago: 1,
                event: event(2),
            },
        ];
        let got = feed.fresh(Tick(1), Tick(u32::MAX - 2), window);
        assert_eq!(
            numbers(&got),
            vec![2],
            "the event at MAX-1 was delivered before"
        );
        assert_eq!(got[0].tick, Tick(0), "one tick before tick 1 is tick 0");
    }
}
