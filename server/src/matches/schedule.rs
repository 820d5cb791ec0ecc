//! A match's tick schedule: fixed-rate deadlines that catch up a bounded number of ticks after a
//! stall, then drop the rest instead of racing to replay them.

use std::time::Duration;

use tokio::time::Instant;

/// What a wake-up at some instant calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// Ticks to run now, back to back.
    pub run: u32,
    /// The wake came more than one period after its deadline.
    pub late: bool,
    /// Ticks dropped because the match fell further behind than it may catch up.
    pub skipped: u64,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    next: Instant,
    period: Duration,
    max_catch_up: u32,
}

impl Schedule {
    pub fn new(start: Instant, period: Duration, max_catch_up: u32) -> Schedule {
        Schedule {
            next: start + period,
            period,
            max_catch_up: max_catch_up.max(1),
        }
    }

    /// The next deadline.
    pub fn next(&self) -> Instant {
        self.next
    }

    /// Advances the schedule for a wake-up at `now`.
    pub fn due(&mut self, now: Instant) -> Due {
        if now < self.next {
            return Due {
                run: 0,
                late: false,
                skipped: 0,
            };
        }
        let behind = now.duration_since(self.next);
        let late = behind > self.period;
        let owed = behind.as_nanos() / self.period.as_nanos() + 1;
        let run = owed.min(u128::from(self.max_catch_up)) as u32;
        let skipped = (owed - u128::from(run)) as u64;
        self.next += self.period * run;
        if skipped > 0 {
            // Start afresh from now rather than owing ticks we chose not to run.
            self.next = now + self.period;
        }
        Due { run, late, skipped }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Duration = Duration::from_millis(10);

    #[test]
    fn on_time_wakes_run_one_tick_each() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0, P, 3);
        assert_eq!(s.due(t0 + P / 2).run, 0, "too early: nothing");
        for i in 1..=5 {
            let due = s.due(t0 + P * i + Duration::from_millis(1));
            assert_eq!(
                (due.run, due.late, due.skipped),
                (1, false, 0),
                "tick {i} on time"
            );
        }
        assert_eq!(s.next(), t0 + P * 6, "deadlines stay on the grid");
    }

    #[test]
    fn a_short_stall_is_caught_up_and_recorded_late() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0, P, 3);
        let due = s.due(t0 + P * 3 + Duration::from_millis(2));
        assert_eq!(
            (due.run, due.late, due.skipped),
            (3, true, 0),
            "three owed, three run"
        );
        assert_eq!(s.next(), t0 + P * 4, "back on the grid");
    }

    #[test]
    fn a_long_stall_runs_a_bounded_catch_up_and_drops_the_rest() {
        let t0 = Instant::now();
        let mut s = Schedule::new(t0, P, 3);
        let now = t0 + P * 20 + Duration::from_millis(5);
        let due = s.due(now);
        assert_eq!(
            (due.run, due.late, due.skipped),
            (3, true, 17),
            "20 owed: 3 run, 17 dropped"
        );
        assert_eq!(s.next(), now + P, "restarts from now");
        assert_eq!(s.due(now + P).run, 1, "then one tick per period again");
    }
}
