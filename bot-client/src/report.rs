//! The run's report: the JSON written by `--report`, the summary table printed at the end, and
//! the command-line thresholds checked against it.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::args::{Args, Scenario};
use crate::metrics_scrape::ServerFigures;
use crate::stats::{Counts, Totals, us_to_ms};

/// A latency distribution in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Quantiles {
    pub count: u64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Quantiles {
    /// From a histogram in microseconds; all zero when it is empty.
    pub fn of(h: &Histogram<u64>) -> Quantiles {
        if h.is_empty() {
            return Quantiles::default();
        }
        Quantiles {
            count: h.len(),
            p50: us_to_ms(h.value_at_quantile(0.5)),
            p99: us_to_ms(h.value_at_quantile(0.99)),
            max: us_to_ms(h.max()),
        }
    }
}

/// What the scenario did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioFigures {
    pub name: String,
    /// Bots the scenario disrupts (all under churn).
    pub affected_bots: u32,
    pub logins: u64,
    /// Joins with a ticket: one per bot, plus one per requeue, churn replacement or rejoin.
    pub joins: u64,
    /// Players that left before the end (churn).
    pub leaves: u64,
    /// Matches that ended under a bot, which then queued for the next.
    pub requeues: u64,
    /// Sockets dropped on purpose (reconnect-storm).
    pub detaches: u64,
    pub resumed_sessions: u64,
    pub resume_failures: u64,
    /// Checksum mismatches on connections that were resumed.
    pub desyncs_after_resume: u64,
    /// Times a bot stopped reading (slow-readers).
    pub pauses: u64,
    /// When the first and the last bot were first connected, from the start (ramp).
    pub first_connected_s: Option<f64>,
    pub last_connected_s: Option<f64>,
}

/// Delivery of a group of bots.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GroupFigures {
    pub snapshots_received: u64,
    pub snapshots_expected: u64,
    /// `None` when the group expected nothing (it is empty, or never connected).
    pub delivery_ratio: Option<f64>,
    pub desyncs: u64,
}

impl GroupFigures {
    fn of(counts: &Counts) -> GroupFigures {
        GroupFigures {
            snapshots_received: counts.snapshots,
            snapshots_expected: counts.expected,
            delivery_ratio: ratio(counts.snapshots, counts.expected),
            desyncs: counts.desyncs,
        }
    }
}

/// The bot process itself.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClientFigures {
    /// Peak resident memory of this process (with the server in it, when run in-process).
    pub peak_rss_bytes: Option<u64>,
    pub peak_rss_per_bot_kb: Option<f64>,
    /// The largest gap seen between a snapshot's tick and its baseline.
    pub max_baseline_age_ticks: u64,
    /// Ticks of worlds each bot's replica keeps for baselines.
    pub replica_history_ticks: u64,
}

/// The match events the bots were delivered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventFigures {
    /// Events delivered, each once per bot that saw it.
    pub delivered: u64,
    /// Copies dropped because an earlier snapshot had delivered them (a snapshot carries every
    /// event since its baseline).
    pub repeats_dropped: u64,
    /// Snapshots whose events did not reach back to those already delivered (keyframes after
    /// a gap, as after some resumes).
    pub window_gaps: u64,
    /// Delivered events by kind: the game's variant names, `PlayerJoined`, `PlayerLeft`.
    pub by_kind: BTreeMap<String, u64>,
}

/// One second of the run, as the progress line saw it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub t_s: f64,
    pub bots_connected: i64,
    pub snapshots_per_s: f64,
    pub errors: u64,
}

/// The report of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub url: String,
    /// The game the bots played.
    pub game: String,
    pub bots: u32,
    pub seed: u64,
    /// From the start of the run to the stop (the duration, or Ctrl-C).
    pub duration_s: f64,
    pub tick_rate: Option<u16>,
    /// Distinct snapshot ticks applied.
    pub snapshots_received: u64,
    /// For every connection, the ticks from its first snapshot to its last: what a lossless
    /// server would have delivered while it was connected.
    pub snapshots_expected: u64,
    pub snapshots_missed: u64,
    /// received / expected; 0 when nothing was expected.
    pub delivery_ratio: f64,
    pub snapshots_per_s: f64,
    pub keyframes: u64,
    pub deltas: u64,
    pub stale_snapshots: u64,
    pub checksums_verified: u64,
    pub desyncs: u64,
    pub rtt_ms: Quantiles,
    pub input_ack_ms: Quantiles,
    /// From opening the connection to the `Welcome`.
    pub connect_ms: Quantiles,
    /// |arrival gap - tick gap × period| between consecutive snapshots.
    pub snapshot_jitter_ms: Quantiles,
    /// REST latency per route.
    pub rest_ms: BTreeMap<String, Quantiles>,
    /// Connections that got a `Welcome`.
    pub sessions: u64,
    /// Bot-seconds connected, summed over connections.
    pub connected_bot_s: f64,
    pub bytes_down: u64,
    pub bytes_up: u64,
    pub frames_down: u64,
    pub frames_up: u64,
    /// Bytes per connected bot-second.
    pub bytes_down_per_bot_s: f64,
    pub bytes_up_per_bot_s: f64,
    pub inputs_sent: u64,
    pub events: EventFigures,
    /// Failures by kind (REST status, refused joins, unapplied snapshots, unexpected closes...).
    pub errors: BTreeMap<String, u64>,
    /// Closed connections by close-code name (`normal`, `match_ended`, `too_slow`, ...).
    pub disconnects: BTreeMap<String, u64>,
    /// What changed on the server during the run, from `/metrics`; `None` if it could not be
    /// read.
    pub server: Option<ServerFigures>,
    pub scenario: ScenarioFigures,
    /// The bots the scenario left alone.
    pub unaffected: GroupFigures,
    pub client: ClientFigures,
    pub timeline: Vec<Sample>,
}

/// Everything [`Report::build`] needs besides the totals.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub url: String,
    pub game: String,
    pub bots: u32,
    pub seed: u64,
    pub scenario: Scenario,
    pub affected_bots: u32,
    pub duration_s: f64,
    pub tick_rate: Option<u16>,
    pub server: Option<ServerFigures>,
    pub first_connected_s: Option<f64>,
    pub last_connected_s: Option<f64>,
    pub peak_rss_bytes: Option<u64>,
    pub replica_history_ticks: u64,
    pub timeline: Vec<Sample>,
}

impl Report {
    pub fn build(facts: RunFacts, totals: &Totals) -> Report {
        let c = &totals.counts;
        let connected_bot_s = c.connected_us as f64 / 1e6;
        let per_bot_s = |bytes: u64| {
            if connected_bot_s > 0.0 {
                bytes as f64 / connected_bot_s
            } else {
                0.0
            }
        };
        let h = &totals.histograms;
        Report {
            url: facts.url,
            game: facts.game,
            bots: facts.bots,
            seed: facts.seed,
            duration_s: facts.duration_s,
            tick_rate: facts.tick_rate,
            snapshots_received: c.snapshots,
            snapshots_expected: c.expected,
            snapshots_missed: c.expected.saturating_sub(c.snapshots),
            delivery_ratio: ratio(c.snapshots, c.expected).unwrap_or(0.0),
            snapshots_per_s: if facts.duration_s > 0.0 {
                c.snapshots as f64 / facts.duration_s
            } else {
                0.0
            },
            keyframes: c.keyframes,
            deltas: c.deltas,
            stale_snapshots: c.stale,
            checksums_verified: c.checksums_verified,
            desyncs: c.desyncs,
            rtt_ms: Quantiles::of(&h.rtt),
            input_ack_ms: Quantiles::of(&h.input_ack),
            connect_ms: Quantiles::of(&h.connect),
            snapshot_jitter_ms: Quantiles::of(&h.jitter),
            rest_ms: totals
                .rest
                .iter()
                .map(|(route, h)| (route.to_string(), Quantiles::of(h)))
                .collect(),
            sessions: c.sessions,
            connected_bot_s,
            bytes_down: c.bytes_down,
            bytes_up: c.bytes_up,
            frames_down: c.frames_down,
            frames_up: c.frames_up,
            bytes_down_per_bot_s: per_bot_s(c.bytes_down),
            bytes_up_per_bot_s: per_bot_s(c.bytes_up),
            inputs_sent: c.inputs,
            events: EventFigures {
                delivered: c.events,
                repeats_dropped: c.event_repeats,
                window_gaps: c.event_gaps,
                by_kind: totals.events.clone(),
            },
            errors: totals.errors.clone(),
            disconnects: totals.disconnects.clone(),
            server: facts.server,
            scenario: ScenarioFigures {
                name: scenario_name(facts.scenario).to_string(),
                affected_bots: facts.affected_bots,
                logins: c.logins,
                joins: c.joins,
                leaves: c.leaves,
                requeues: c.requeues,
                detaches: c.detaches,
                resumed_sessions: c.resumed_sessions,
                resume_failures: c.resume_failures,
                desyncs_after_resume: c.desyncs_after_resume,
                pauses: c.pauses,
                first_connected_s: facts.first_connected_s,
                last_connected_s: facts.last_connected_s,
            },
            unaffected: GroupFigures::of(&totals.unaffected),
            client: ClientFigures {
                peak_rss_bytes: facts.peak_rss_bytes,
                peak_rss_per_bot_kb: facts
                    .peak_rss_bytes
                    .filter(|_| facts.bots > 0)
                    .map(|b| b as f64 / 1024.0 / f64::from(facts.bots)),
                max_baseline_age_ticks: totals.max_baseline_age,
                replica_history_ticks: facts.replica_history_ticks,
            },
            timeline: facts.timeline,
        }
    }

    /// Errors of every kind.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The thresholds this report breaks, in a fixed order. A run that received no snapshot at
    /// all always breaks: there is nothing to judge.
    pub fn breaches(&self, t: &Thresholds) -> Vec<Breach> {
        let mut out = Vec::new();
        if self.snapshots_expected == 0 {
            out.push(Breach {
                name: "snapshots",
                limit: "> 0".into(),
                actual: "no bot received a snapshot".into(),
            });
        }
        if let Some(max) = t.max_desyncs
            && self.desyncs > max
        {
            out.push(Breach {
                name: "desyncs",
                limit: format!("<= {max}"),
                actual: self.desyncs.to_string(),
            });
        }
        if let Some(min) = t.min_delivery
            && self.delivery_ratio < min
        {
            out.push(Breach {
                name: "delivery",
                limit: format!(">= {min}"),
                actual: format!(
                    "{:.5} ({} of {} snapshots missed)",
                    self.delivery_ratio, self.snapshots_missed, self.snapshots_expected
                ),
            });
        }
        if let Some(max) = t.max_p99_rtt_ms
            && (self.rtt_ms.count == 0 || self.rtt_ms.p99 > max)
        {
            out.push(Breach {
                name: "p99 RTT",
                limit: format!("<= {max} ms"),
                actual: if self.rtt_ms.count == 0 {
                    "no pong received".into()
                } else {
                    format!("{:.2} ms", self.rtt_ms.p99)
                },
            });
        }
        if let Some(max) = t.max_errors
            && self.error_count() > max
        {
            out.push(Breach {
                name: "errors",
                limit: format!("<= {max}"),
                actual: format!("{} ({})", self.error_count(), self.top_errors(3)),
            });
        }
        out
    }

    /// The summary table printed at the end of a run.
    pub fn summary_table(&self) -> String {
        let mut t = Table::default();
        t.row(
            "bots",
            format!(
                "{} playing {} ({}; {} sessions, {:.0} bot-s connected)",
                self.bots, self.game, self.scenario.name, self.sessions, self.connected_bot_s
            ),
        );
        t.row("duration", format!("{:.1} s", self.duration_s));
        t.row(
            "snapshots",
            format!(
                "{} of {} expected, delivery {:.5} ({} missed), {:.0}/s",
                self.snapshots_received,
                self.snapshots_expected,
                self.delivery_ratio,
                self.snapshots_missed,
                self.snapshots_per_s
            ),
        );
        t.row(
            "verified",
            format!(
                "{} checksums, {} desyncs; {} keyframes, {} deltas, {} stale",
                self.checksums_verified,
                self.desyncs,
                self.keyframes,
                self.deltas,
                self.stale_snapshots
            ),
        );
        t.row("RTT", quantiles(&self.rtt_ms));
        t.row("input to ack", quantiles(&self.input_ack_ms));
        t.row("connect to Welcome", quantiles(&self.connect_ms));
        t.row("snapshot jitter", quantiles(&self.snapshot_jitter_ms));
        for (route, q) in &self.rest_ms {
            t.row(route, quantiles(q));
        }
        t.row(
            "bytes per bot",
            format!(
                "{:.0} B/s down, {:.0} B/s up",
                self.bytes_down_per_bot_s, self.bytes_up_per_bot_s
            ),
        );
        t.row(
            "events",
            format!(
                "{} delivered ({}), {} repeats dropped, {} gaps",
                self.events.delivered,
                counts(&self.events.by_kind),
                self.events.repeats_dropped,
                self.events.window_gaps
            ),
        );
        t.row("errors", counts(&self.errors));
        t.row("disconnects", counts(&self.disconnects));
        match &self.server {
            Some(s) => t.row(
                "server",
                format!(
                    "tick p99 {}, {} ticks, {} late, {} snapshots skipped, {} clients dropped",
                    s.tick_p99_ms
                        .map_or_else(|| "-".to_string(), |ms| format!("{ms:.3} ms")),
                    s.ticks,
                    s.late_ticks,
                    s.snapshots_skipped,
                    s.clients_dropped
                ),
            ),
            None => t.row("server", "metrics not available".to_string()),
        }
        let s = &self.scenario;
        t.row(
            "scenario",
            format!(
                "{} affected; {} joins, {} leaves, {} requeues, {} detaches, {} resumed ({} failed, {} desyncs after), {} pauses",
                s.affected_bots,
                s.joins,
                s.leaves,
                s.requeues,
                s.detaches,
                s.resumed_sessions,
                s.resume_failures,
                s.desyncs_after_resume,
                s.pauses
            ),
        );
        if let Some(ratio) = self.unaffected.delivery_ratio
            && s.affected_bots > 0
        {
            t.row(
                "unaffected bots",
                format!("delivery {ratio:.5}, {} desyncs", self.unaffected.desyncs),
            );
        }
        if let Some(kb) = self.client.peak_rss_per_bot_kb {
            t.row("client memory", format!("{kb:.0} KB peak RSS per bot"));
        }
        t.finish()
    }

    fn top_errors(&self, n: usize) -> String {
        let mut kinds: Vec<(&String, &u64)> = self.errors.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        kinds
            .iter()
            .take(n)
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Limits from the command line; `None` is not checked.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Thresholds {
    pub max_desyncs: Option<u64>,
    pub min_delivery: Option<f64>,
    pub max_p99_rtt_ms: Option<f64>,
    pub max_errors: Option<u64>,
}

impl From<&Args> for Thresholds {
    fn from(args: &Args) -> Thresholds {
        Thresholds {
            max_desyncs: args.max_desyncs,
            min_delivery: args.min_delivery,
            max_p99_rtt_ms: args.max_p99_rtt_ms,
            max_errors: args.max_errors,
        }
    }
}

/// A threshold a report broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub name: &'static str,
    pub limit: String,
    pub actual: String,
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (limit {})", self.name, self.actual, self.limit)
    }
}

pub fn scenario_name(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Steady => "steady",
        Scenario::Ramp => "ramp",
        Scenario::Churn => "churn",
        Scenario::ReconnectStorm => "reconnect-storm",
        Scenario::SlowReaders => "slow-readers",
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn quantiles(q: &Quantiles) -> String {
    if q.count == 0 {
        return "-".into();
    }
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({})",
        q.p50, q.p99, q.max, q.count
    )
}

fn counts(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Two aligned columns.
#[derive(Default)]
struct Table {
    rows: Vec<(String, String)>,
}

impl Table {
    fn row(&mut self, name: &str, value: String) {
        self.rows.push((name.to_string(), value));
    }

    fn finish(self) -> String {
        let width = self.rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (name, value) in self.rows {
            // Writing to a String cannot fail.
            let _ = writeln!(out, "{name:<width$}  {value}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::Value;

    use super::*;
    use crate::stats::Histograms;

    fn totals() -> Totals {
        let mut histograms = Histograms::default();
        for ms in 1..=100 {
            histograms.rtt.saturating_record(ms * 1000);
            histograms.input_ack.saturating_record(ms * 2000);
        }
        let counts = Counts {
            snapshots: 999,
            expected: 1000,
            keyframes: 2,
            deltas: 997,
            checksums_verified: 99,
            connected_us: 10_000_000,
            bytes_down: 50_000,
            bytes_up: 5_000,
            sessions: 2,
            ..Counts::default()
        };
        Totals {
            counts,
            unaffected: counts,
            histograms,
            rest: BTreeMap::new(),
            errors: BTreeMap::from([("join: timeout".to_string(), 2)]),
            disconnects: BTreeMap::from([("normal".to_string(), 2)]),
            events: BTreeMap::from([("Kill".to_string(), 4)]),
            max_baseline_age: 3,
        }
    }

    fn facts() -> RunFacts {
        RunFacts {
            url: "https://127.0.0.1:8443".into(),
            game: "arena".into(),
            bots: 2,
            seed: 1,
            scenario: Scenario::Steady,
            affected_bots: 0,
            duration_s: 5.0,
            tick_rate: Some(30),
            server: Some(ServerFigures {
                tick_p99_ms: Some(0.2),
                ticks: 300,
                late_ticks: 0,
                snapshots_skipped: 1,
                ticks_skipped: 0,
                clients_dropped: 0,
            }),
            first_connected_s: Some(0.1),
            last_connected_s: Some(0.2),
            peak_rss_bytes: Some(2 * 1024 * 1024),
            replica_history_ticks: 30,
            timeline: vec![],
        }
    }

    #[test]
    fn the_json_carries_every_documented_field() {
        let report = Report::build(facts(), &totals());
        let json = serde_json::to_value(&report).expect("serialises");
        for key in [
            "bots",
            "duration_s",
            "snapshots_received",
            "snapshots_expected",
            "delivery_ratio",
            "checksums_verified",
            "desyncs",
            "rtt_ms",
            "input_ack_ms",
            "bytes_down_per_bot_s",
            "bytes_up_per_bot_s",
            "errors",
            "disconnects",
            "server",
        ] {
            assert!(json.get(key).is_some(), "field {key} in {json}");
        }
        for key in ["p50", "p99", "max"] {
            assert!(json["rtt_ms"][key].is_number(), "rtt_ms.{key}");
            assert!(json["input_ack_ms"][key].is_number(), "input_ack_ms.{key}");
        }
        for key in ["tick_p99_ms", "late_ticks", "snapshots_skipped"] {
            assert!(json["server"].get(key).is_some(), "server.{key}");
        }
        assert_eq!(
            json["errors"]["join: timeout"],
            Value::from(2),
            "errors map"
        );
        assert_eq!(json["game"], Value::from("arena"), "the game played");
        assert_eq!(
            json["events"]["by_kind"]["Kill"],
            Value::from(4),
            "events by kind"
        );
        assert_eq!(json["delivery_ratio"], Value::from(0.999), "999 of 1000");
        assert_eq!(
            json["bytes_down_per_bot_s"],
            Value::from(5000.0),
            "50 kB over 10 bot-seconds"
        );
        let p99 = json["input_ack_ms"]["p99"].as_f64().expect("number");
        assert!((197.0..=200.0).contains(&p99), "p99 of 2..200 ms: {p99}");
        let back: Report = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, report, "round trip");
    }

    #[test]
    fn thresholds_name_every_breach() {
        let report = Report::build(facts(), &totals());
        let args = Args::parse_from([
            "bot-client",
            "--max-desyncs",
            "0",
            "--min-delivery",
            "0.9999",
            "--max-p99-rtt-ms",
            "50",
            "--max-errors",
            "0",
        ]);
        let breaches = report.breaches(&Thresholds::from(&args));
        let names: Vec<&str> = breaches.iter().map(|b| b.name).collect();
        assert_eq!(
            names,
            vec!["delivery", "p99 RTT", "errors"],
            "zero desyncs passes; the rest break"
        );
        assert!(
            breaches[2].to_string().contains("join: timeout: 2"),
            "the errors breach names the kind: {}",
            breaches[2]
        );
        let lenient = Thresholds {
            max_desyncs: Some(0),
            min_delivery: Some(0.999),
            max_p99_rtt_ms: Some(200.0),
            max_errors: Some(2),
        };
        assert!(report.breaches(&lenient).is_empty(), "all within limits");
        assert!(
            report.breaches(&Thresholds::default()).is_empty(),
            "no thresholds, no breaches"
        );
    }

    #[test]
    fn a_run_without_snapshots_always_fails() {
        let mut t = totals();
        t.counts = Counts::default();
        let report = Report::build(facts(), &t);
        let breaches = report.breaches(&Thresholds::default());
        assert_eq!(breaches.len(), 1, "{breaches:?}");
        assert_eq!(breaches[0].name, "snapshots", "nothing to judge");
        assert_eq!(report.delivery_ratio, 0.0, "no delivery");
    }

    #[test]
    fn the_summary_table_shows_the_headline_figures() {
        let table = Report::build(facts(), &totals()).summary_table();
        for needle in [
            "delivery 0.99900",
            "99 checksums, 0 desyncs",
            "join: timeout 2",
            "tick p99 0.200 ms",
        ] {
            assert!(table.contains(needle), "{needle:?} in\n{table}");
        }
    }
}
