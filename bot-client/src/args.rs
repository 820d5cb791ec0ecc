//! The bot client's command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// All bots join at once and play until the end.
    Steady,
    /// Bots are added at --ramp-rate per second.
    Ramp,
    /// Bots leave and new ones join continuously.
    Churn,
    /// A fraction of bots drop their sockets and resume with their reconnect tokens.
    ReconnectStorm,
    /// A fraction of bots stop reading for a while.
    SlowReaders,
}

/// Headless Tickwire bots: log in, quick-join, play over ws/wss, verify every snapshot, report.
#[derive(Debug, Clone, Parser)]
#[command(name = "bot-client", version, about, long_about)]
pub struct Args {
    /// Server base URL (https://... or http://...)
    #[arg(long, default_value = "https://127.0.0.1:8443")]
    pub url: String,
    /// Number of bots
    #[arg(long, default_value_t = 10)]
    pub bots: u32,
    /// How long to run (e.g. 30s, 2m)
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Accept the server's self-signed certificate
    #[arg(long)]
    pub insecure: bool,
    /// Write a JSON report here
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Load pattern
    #[arg(long, value_enum, default_value_t = Scenario::Steady)]
    pub scenario: Scenario,
    /// Bots added per second (ramp)
    #[arg(long, default_value_t = 50.0)]
    pub ramp_rate: f64,
    /// Fraction of bots affected (churn, reconnect-storm, slow-readers)
    #[arg(long, default_value_t = 0.2)]
    pub fraction: f64,
    /// Added one-way latency on the bot side (e.g. 50ms)
    #[arg(long, value_parser = humantime::parse_duration)]
    pub latency: Option<Duration>,
    /// Random jitter added to the latency (e.g. 10ms)
    #[arg(long, value_parser = humantime::parse_duration)]
    pub jitter: Option<Duration>,
    /// Seed for the bots' behaviour
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Game to play: a shipped game (arena, cycles); a library caller can bring its own
    /// (`RunOptions::game`)
    #[arg(long, default_value = "arena")]
    pub game: String,
    /// Map to ask for when creating matches
    #[arg(long)]
    pub map: Option<String>,
    /// Fail (exit non-zero) if more desyncs than this
    #[arg(long)]
    pub max_desyncs: Option<u64>,
    /// Fail if the delivery ratio is below this (0..1)
    #[arg(long)]
    pub min_delivery: Option<f64>,
    /// Fail if p99 RTT exceeds this many milliseconds
    #[arg(long)]
    pub max_p99_rtt_ms: Option<f64>,
    /// Fail if more errors than this occurred
    #[arg(long)]
    pub max_errors: Option<u64>,
    /// When the first storm or pause comes (reconnect-storm, slow-readers)
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,
    /// Time between storms or pauses; under churn, `fraction` of the bots is replaced per period
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub every: Duration,
    /// How long a slow reader stops reading (slow-readers). It must outlast what the socket
    /// buffers hold (about 10 s for the arena map and the server's default 64 KiB send buffer)
    /// before the server has to skip; past its max-ticks-behind it drops the reader.
    #[arg(long, default_value = "12s", value_parser = humantime::parse_duration)]
    pub pause: Duration,
    /// Bots logging in and joining at the same time, at most
    #[arg(long, default_value_t = 64)]
    pub join_concurrency: u32,
    /// No live progress line
    #[arg(long)]
    pub quiet: bool,
}

impl Args {
    /// The defaults, against the server at `url`.
    pub fn new(url: &str) -> Args {
        Args::parse_from(["bot-client", "--url", url])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_command_line_parses() {
        let args = Args::parse_from([
            "bot-client",
            "--url",
            "https://127.0.0.1:8443",
            "--bots",
            "500",
            "--duration",
            "30s",
            "--insecure",
            "--report",
            "report.json",
            "--max-desyncs",
            "0",
            "--min-delivery",
            "0.999",
            "--max-p99-rtt-ms",
            "50",
            "--latency",
            "50ms",
            "--jitter",
            "10ms",
            "--scenario",
            "reconnect-storm",
            "--game",
            "cycles",
        ]);
        assert_eq!(args.bots, 500, "bots");
        assert_eq!(args.duration, Duration::from_secs(30), "duration");
        assert!(args.insecure, "insecure");
        assert_eq!(args.scenario, Scenario::ReconnectStorm, "scenario");
        assert_eq!(args.latency, Some(Duration::from_millis(50)), "latency");
        assert_eq!(args.min_delivery, Some(0.999), "threshold");
        assert_eq!(args.game, "cycles", "game");
        assert_eq!(Args::new("http://x").game, "arena", "arena by default");
    }
}
