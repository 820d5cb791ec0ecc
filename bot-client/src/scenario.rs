//! When each bot starts, and what the scenario does to it later. Pure: times are offsets from
//! the start of the run.
//!
//! - `steady`: every bot starts at once and plays to the end.
//! - `ramp`: bot `i` starts at `i / ramp_rate` seconds.
//! - `churn`: every bot plays a seeded life of about `every / fraction` (0.5× to 1.5×), leaves,
//!   and a new player (a new guest) takes its place, so about `fraction` of the bots are
//!   replaced every `every`.
//! - `reconnect-storm`: the affected bots drop their sockets together at `warmup` and every
//!   `every` after it, and resume at once with their reconnect tokens.
//! - `slow-readers`: at the same moments the affected bots stop reading for `pause`.
//!
//! The affected bots are `fraction` of them, spread evenly over the indices.

use std::time::Duration;

use rand::Rng;

use crate::args::{Args, Scenario};

/// The schedule of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub scenario: Scenario,
    pub bots: u32,
    pub fraction: f64,
    pub ramp_rate: f64,
    pub warmup: Duration,
    pub every: Duration,
    pub pause: Duration,
    /// The length of the run: no wave starts at or after it.
    pub duration: Duration,
}

/// Waves a bot takes part in at most (bounds the scenario loops).
const MAX_WAVES: u32 = 100_000;

impl Plan {
    pub fn from_args(args: &Args) -> Plan {
        Plan {
            scenario: args.scenario,
            bots: args.bots,
            fraction: args.fraction.clamp(0.0, 1.0),
            ramp_rate: args.ramp_rate,
            warmup: args.warmup,
            every: args.every,
            pause: args.pause,
            duration: args.duration,
        }
    }

    /// When bot `bot` starts, from the start of the run.
    pub fn start_offset(&self, bot: u32) -> Duration {
        match self.scenario {
            Scenario::Ramp if self.ramp_rate > 0.0 => {
                Duration::from_secs_f64(f64::from(bot) / self.ramp_rate)
            }
            _ => Duration::ZERO,
        }
    }

    /// Whether the scenario disrupts bot `bot`: every bot under churn, `fraction` of them
    /// (spread evenly) under reconnect-storm and slow-readers, none otherwise.
    pub fn is_affected(&self, bot: u32) -> bool {
        match self.scenario {
            Scenario::Steady | Scenario::Ramp => false,
            Scenario::Churn => self.fraction > 0.0,
            Scenario::ReconnectStorm | Scenario::SlowReaders => {
                // Bot i is picked when the running count floor((i + 1) f) steps up: exactly
                // floor(bots * f) bots, evenly spaced.
                let f = self.fraction;
                ((f64::from(bot) + 1.0) * f).floor() > (f64::from(bot) * f).floor()
            }
        }
    }

    /// How many bots are affected.
    pub fn affected_bots(&self) -> u32 {
        (0..self.bots).filter(|b| self.is_affected(*b)).count() as u32
    }

    /// The first storm or pause at or after `elapsed` for an affected bot, from the start of
    /// the run; `None` for other scenarios, and once the run is over.
    pub fn next_wave(&self, elapsed: Duration) -> Option<Duration> {
        self.wave_at_or_after(elapsed)
            .filter(|at| *at < self.duration)
    }

    fn wave_at_or_after(&self, elapsed: Duration) -> Option<Duration> {
        if !matches!(
            self.scenario,
            Scenario::ReconnectStorm | Scenario::SlowReaders
        ) {
            return None;
        }
        if elapsed <= self.warmup {
            return Some(self.warmup);
        }
        if self.every.is_zero() {
            return None;
        }
        let since = (elapsed - self.warmup).as_secs_f64();
        let period = self.every.as_secs_f64();
        let waves = (since / period).ceil().min(f64::from(MAX_WAVES));
        Some(self.warmup + self.every.mul_f64(waves))
    }

    /// How long a churning bot's player stays before leaving; `None` if it never leaves.
    pub fn churn_life(&self, rng: &mut impl Rng) -> Option<Duration> {
        if self.scenario != Scenario::Churn || self.fraction <= 0.0 || self.every.is_zero() {
            return None;
        }
        let mean = self.every.as_secs_f64() / self.fraction;
        Some(Duration::from_secs_f64(mean * rng.random_range(0.5..1.5)))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn plan(extra: &[&str]) -> Plan {
        let mut argv = vec!["bot-client", "--bots", "10"];
        argv.extend_from_slice(extra);
        Plan::from_args(&Args::parse_from(argv))
    }

    #[test]
    fn ramp_starts_bots_at_the_given_rate() {
        let p = plan(&["--scenario", "ramp", "--ramp-rate", "4"]);
        assert_eq!(p.start_offset(0), Duration::ZERO, "first at once");
        assert_eq!(
            p.start_offset(9),
            Duration::from_millis(2250),
            "tenth at 2.25 s"
        );
        let steady = plan(&[]);
        assert_eq!(steady.start_offset(9), Duration::ZERO, "steady starts all");
    }

    #[test]
    fn the_affected_fraction_is_exact_and_spread_out() {
        let p = plan(&["--scenario", "reconnect-storm", "--fraction", "0.3"]);
        let picked: Vec<u32> = (0..10).filter(|b| p.is_affected(*b)).collect();
        assert_eq!(picked.len(), 3, "three of ten: {picked:?}");
        assert!(
            picked.windows(2).all(|w| w[1] - w[0] >= 3),
            "spread over the indices: {picked:?}"
        );
        assert_eq!(p.affected_bots(), 3, "counted");
        assert_eq!(plan(&[]).affected_bots(), 0, "steady disrupts nobody");
        let all = plan(&["--scenario", "slow-readers", "--fraction", "1"]);
        assert_eq!(all.affected_bots(), 10, "fraction 1 is everyone");
    }

    #[test]
    fn waves_come_at_warmup_then_every_period() {
        let p = plan(&[
            "--scenario",
            "slow-readers",
            "--warmup",
            "2s",
            "--every",
            "3s",
            "--duration",
            "30s",
        ]);
        let s = Duration::from_secs;
        assert_eq!(p.next_wave(s(0)), Some(s(2)), "first at warmup");
        assert_eq!(p.next_wave(s(2)), Some(s(2)), "at warmup exactly");
        assert_eq!(
            p.next_wave(s(2) + Duration::from_millis(1)),
            Some(s(5)),
            "then a period later"
        );
        assert_eq!(p.next_wave(s(9)), Some(s(11)), "and so on");
        assert_eq!(
            p.next_wave(s(28)),
            Some(s(29)),
            "the last one in a 30 s run"
        );
        assert_eq!(p.next_wave(s(29) + s(1) / 2), None, "none past the end");
        assert_eq!(
            plan(&["--scenario", "churn"]).next_wave(s(0)),
            None,
            "no waves"
        );
    }

    #[test]
    fn churn_lives_average_every_over_fraction() {
        let p = plan(&["--scenario", "churn", "--fraction", "0.5", "--every", "2s"]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let lives: Vec<f64> = (0..1000)
            .map(|_| p.churn_life(&mut rng).expect("churning").as_secs_f64())
            .collect();
        assert!(
            lives.iter().all(|l| (2.0..6.0).contains(l)),
            "between 0.5 and 1.5 times 4 s"
        );
        let mean = lives.iter().sum::<f64>() / lives.len() as f64;
        assert!((3.8..4.2).contains(&mean), "mean about 4 s: {mean}");
        assert_eq!(plan(&[]).churn_life(&mut rng), None, "steady bots stay");
    }
}
