//! A bot-side link simulator: added latency and jitter on a bot's inputs going out and on its
//! processing of what comes in, as a player on a far or unsteady network would see it.
//!
//! Call order: [`LinkProfile::sample`] a delay for each item, [`DelayLine::push`] it, sleep until
//! [`DelayLine::next_due`], then [`DelayLine::pop_due`] everything due. A TCP stream delays but
//! never reorders, so an item never leaves before one pushed earlier, whatever their delays.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::Rng;

/// The added one-way delay: `latency` plus a uniform draw in `-jitter..=jitter` (never below
/// zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkProfile {
    pub latency: Duration,
    pub jitter: Duration,
}

impl LinkProfile {
    pub fn new(latency: Option<Duration>, jitter: Option<Duration>) -> LinkProfile {
        LinkProfile {
            latency: latency.unwrap_or_default(),
            jitter: jitter.unwrap_or_default(),
        }
    }

    /// No added delay: items can skip the delay lines.
    pub fn is_instant(&self) -> bool {
        self.latency.is_zero() && self.jitter.is_zero()
    }

    /// The most a [`LinkProfile::sample`] can be.
    pub fn max_delay(&self) -> Duration {
        self.latency + self.jitter
    }

    /// One item's delay.
    pub fn sample(&self, rng: &mut impl Rng) -> Duration {
        if self.jitter.is_zero() {
            return self.latency;
        }
        let jitter_us = i64::try_from(self.jitter.as_micros()).unwrap_or(i64::MAX);
        let latency_us = i64::try_from(self.latency.as_micros()).unwrap_or(i64::MAX);
        let offset = rng.random_range(-jitter_us..=jitter_us);
        let us = latency_us.saturating_add(offset).max(0);
        // `max(0)` makes it non-negative.
        Duration::from_micros(us as u64)
    }
}

/// Items waiting out their delay, in the order they were pushed.
#[derive(Debug, Clone)]
pub struct DelayLine<T> {
    items: VecDeque<(Instant, T)>,
}

impl<T> Default for DelayLine<T> {
    fn default() -> DelayLine<T> {
        DelayLine::new()
    }
}

impl<T> DelayLine<T> {
    pub fn new() -> DelayLine<T> {
        DelayLine {
            items: VecDeque::new(),
        }
    }

    /// Queues `item` to leave `delay` after `now`, or with the item before it if that one is
    /// due later (no overtaking). Returns when it will leave.
    pub fn push(&mut self, now: Instant, delay: Duration, item: T) -> Instant {
        let mut due = now + delay;
        if let Some((last, _)) = self.items.back() {
            due = due.max(*last);
        }
        self.items.push_back((due, item));
        due
    }

    /// When the first item is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.items.front().map(|(due, _)| *due)
    }

    /// The first item, if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<T> {
        if self.next_due()? <= now {
            self.items.pop_front().map(|(_, item)| item)
        } else {
            None
        }
    }

    /// The first item, due or not (what has already arrived when the bot stops waiting).
    pub fn pop_any(&mut self) -> Option<T> {
        self.items.pop_front().map(|(_, item)| item)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Drops everything waiting (the connection it was on is gone).
    pub fn clear(&mut self) {
        self.items.clear();
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn items_leave_in_push_order_even_when_a_later_one_draws_a_shorter_delay() {
        let t0 = Instant::now();
        let mut line = DelayLine::new();
        line.push(t0, 50 * MS, "a");
        let due_b = line.push(t0 + MS, 10 * MS, "b");
        line.push(t0 + 2 * MS, 70 * MS, "c");
        assert_eq!(due_b, t0 + 50 * MS, "b waits for a");
        assert_eq!(line.pop_due(t0 + 20 * MS), None, "nothing due at 20 ms");
        assert_eq!(line.pop_due(t0 + 50 * MS), Some("a"), "a at 50 ms");
        assert_eq!(
            line.pop_due(t0 + 50 * MS),
            Some("b"),
            "then b, not before a"
        );
        assert_eq!(line.pop_due(t0 + 60 * MS), None, "c is not due yet");
        assert_eq!(line.next_due(), Some(t0 + 72 * MS), "c's own due time");
        assert_eq!(line.pop_due(t0 + 80 * MS), Some("c"), "c last");
        assert!(line.is_empty(), "all gone");
    }

    #[test]
    fn samples_stay_within_latency_plus_or_minus_jitter_and_follow_the_seed() {
        let link = LinkProfile::new(Some(50 * MS), Some(10 * MS));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let draws: Vec<Duration> = (0..1000).map(|_| link.sample(&mut rng)).collect();
        assert!(
            draws.iter().all(|d| *d >= 40 * MS && *d <= 60 * MS),
            "every draw in 40..=60 ms"
        );
        assert!(
            draws.iter().any(|d| *d < 45 * MS) && draws.iter().any(|d| *d > 55 * MS),
            "the jitter spreads the draws"
        );
        let mut again = ChaCha8Rng::seed_from_u64(1);
        let replay: Vec<Duration> = (0..1000).map(|_| link.sample(&mut again)).collect();
        assert_eq!(draws, replay, "same seed, same delays");
    }

    #[test]
    fn jitter_larger_than_the_latency_never_goes_negative() {
        let link = LinkProfile::new(Some(MS), Some(20 * MS));
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let draws: Vec<Duration> = (0..500).map(|_| link.sample(&mut rng)).collect();
        assert!(draws.contains(&Duration::ZERO), "clamped at zero");
        assert!(draws.iter().all(|d| *d <= 21 * MS), "bounded above");
    }

    #[test]
    fn no_latency_and_no_jitter_is_instant() {
        assert!(LinkProfile::new(None, None).is_instant(), "default");
        assert!(
            !LinkProfile::new(None, Some(MS)).is_instant(),
            "jitter alone delays"
        );
    }
}
