//! The few server figures the report needs, read from the server's Prometheus text exposition
//! (`GET /metrics`) at the start and the end of a run: tick duration (a histogram), late ticks
//! and skipped snapshots (counters). The report shows what changed in between.

use serde::{Deserialize, Serialize};

use crate::rest::{RestClient, RestError};

const TICK_HISTOGRAM: &str = "tickwire_tick_duration_seconds";
const LATE_TICKS: &str = "tickwire_late_ticks_total";
const SNAPSHOTS_SKIPPED: &str = "tickwire_snapshots_skipped_total";
const TICKS_SKIPPED: &str = "tickwire_ticks_skipped_total";
const CLIENTS_DROPPED: &str = "tickwire_clients_dropped_total";

/// One reading of the server's metrics. Missing series read as zero.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerMetrics {
    /// Tick duration buckets: (upper bound in seconds, cumulative count), ascending, the last
    /// bound `+Inf`.
    pub tick_buckets: Vec<(f64, f64)>,
    pub late_ticks: f64,
    pub snapshots_skipped: f64,
    pub ticks_skipped: f64,
    pub clients_dropped: f64,
}

/// What changed on the server between two readings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ServerFigures {
    /// The 99th percentile tick duration in the window, interpolated within its histogram
    /// bucket; `None` if no tick ran.
    pub tick_p99_ms: Option<f64>,
    pub ticks: u64,
    pub late_ticks: u64,
    pub snapshots_skipped: u64,
    pub ticks_skipped: u64,
    pub clients_dropped: u64,
}

/// Reads the server's metrics now.
pub async fn scrape(rest: &RestClient) -> Result<ServerMetrics, RestError> {
    Ok(ServerMetrics::parse(&rest.metrics().await?))
}

impl ServerMetrics {
    /// Parses the text exposition, keeping only the series named above.
    pub fn parse(text: &str) -> ServerMetrics {
        let mut metrics = ServerMetrics::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some(sample) = Sample::parse(line) else {
                continue;
            };
            match sample.name {
                LATE_TICKS => metrics.late_ticks = sample.value,
                SNAPSHOTS_SKIPPED => metrics.snapshots_skipped = sample.value,
                TICKS_SKIPPED => metrics.ticks_skipped = sample.value,
                CLIENTS_DROPPED => metrics.clients_dropped = sample.value,
                name if name.strip_suffix("_bucket") == Some(TICK_HISTOGRAM) => {
                    if let Some(le) = sample.le {
                        metrics.tick_buckets.push((le, sample.value));
                    }
                }
                _ => {}
            }
        }
        metrics.tick_buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        metrics
    }

    /// The change from `earlier` to this reading.
    pub fn since(&self, earlier: &ServerMetrics) -> ServerFigures {
        let buckets: Vec<(f64, f64)> = self
            .tick_buckets
            .iter()
            .map(|(le, n)| {
                let before = earlier
                    .tick_buckets
                    .iter()
                    .find(|(l, _)| l == le)
                    .map_or(0.0, |(_, n)| *n);
                (*le, (n - before).max(0.0))
            })
            .collect();
        let ticks = buckets.last().map_or(0.0, |(_, n)| *n);
        let diff = |now: f64, then: f64| (now - then).max(0.0).round() as u64;
        ServerFigures {
            tick_p99_ms: quantile(&buckets, 0.99).map(|s| s * 1000.0),
            ticks: ticks.round() as u64,
            late_ticks: diff(self.late_ticks, earlier.late_ticks),
            snapshots_skipped: diff(self.snapshots_skipped, earlier.snapshots_skipped),
            ticks_skipped: diff(self.ticks_skipped, earlier.ticks_skipped),
            clients_dropped: diff(self.clients_dropped, earlier.clients_dropped),
        }
    }
}

/// The `q` quantile of a cumulative histogram (ascending bounds, the last `+Inf`), interpolated
/// linearly within its bucket as Prometheus' `histogram_quantile` does. In the `+Inf` bucket it
/// is the largest finite bound. `None` for an empty histogram.
pub fn quantile(buckets: &[(f64, f64)], q: f64) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total;
    let mut lower = (0.0, 0.0);
    for &(le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return Some(lower.0);
            }
            let in_bucket = count - lower.1;
            let fraction = if in_bucket > 0.0 {
                (rank - lower.1) / in_bucket
            } else {
                1.0
            };
            return Some(lower.0 + (le - lower.0) * fraction);
        }
        lower = (le, count);
    }
    Some(lower.0)
}

/// One line of the exposition: `name{labels} value [timestamp]`.
struct Sample<'a> {
    name: &'a str,
    /// The `le` label, for histogram buckets.
    le: Option<f64>,
    value: f64,
}

impl<'a> Sample<'a> {
    fn parse(line: &'a str) -> Option<Sample<'a>> {
        let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
        let name = &line[..name_end];
        let mut rest = &line[name_end..];
        let mut le = None;
        if let Some(labels) = rest.strip_prefix('{') {
            let close = labels.find('}')?;
            le = label(&labels[..close], "le").and_then(parse_number);
            rest = &labels[close + 1..];
        }
        let value = parse_number(rest.split_whitespace().next()?)?;
        Some(Sample { name, le, value })
    }
}

/// The value of label `key` in `a="1",le="0.5"` (label values here never hold quotes).
fn label<'a>(labels: &'a str, key: &str) -> Option<&'a str> {
    labels.split(',').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"'))
    })
}

fn parse_number(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok().filter(|v: &f64| !v.is_nan()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = r#"# HELP tickwire_tick_duration_seconds Duration of one match tick.
# TYPE tickwire_tick_duration_seconds histogram
tickwire_tick_duration_seconds_sum 0.01
tickwire_tick_duration_seconds_count 100
tickwire_tick_duration_seconds_bucket{le="0.0001"} 90
tickwire_tick_duration_seconds_bucket{le="0.0002"} 100
tickwire_tick_duration_seconds_bucket{le="0.0004"} 100
tickwire_tick_duration_seconds_bucket{le="+Inf"} 100
# HELP tickwire_late_ticks Ticks started more than one period late.
# TYPE tickwire_late_ticks counter
tickwire_late_ticks_total 2
tickwire_snapshots_skipped_total 10
tickwire_rtt_seconds_bucket{le="0.0001"} 5
# EOF
"#;

    const END: &str = r#"tickwire_tick_duration_seconds_bucket{le="0.0001"} 90
tickwire_tick_duration_seconds_bucket{le="0.0002"} 590
tickwire_tick_duration_seconds_bucket{le="0.0004"} 1100
tickwire_tick_duration_seconds_bucket{le="+Inf"} 1100
tickwire_late_ticks_total 5
tickwire_snapshots_skipped_total 10
tickwire_ticks_skipped_total 1
"#;

    #[test]
    fn the_exposition_yields_the_tick_histogram_and_counters() {
        let m = ServerMetrics::parse(START);
        assert_eq!(
            m.tick_buckets,
            vec![
                (0.0001, 90.0),
                (0.0002, 100.0),
                (0.0004, 100.0),
                (f64::INFINITY, 100.0)
            ],
            "only the tick histogram's buckets, ascending"
        );
        assert_eq!(m.late_ticks, 2.0, "late ticks");
        assert_eq!(m.snapshots_skipped, 10.0, "skipped snapshots");
        assert_eq!(m.ticks_skipped, 0.0, "a missing series reads as zero");
    }

    #[test]
    fn the_window_is_the_difference_of_two_readings() {
        let figures = ServerMetrics::parse(END).since(&ServerMetrics::parse(START));
        assert_eq!(figures.ticks, 1000, "ticks in the window");
        assert_eq!(figures.late_ticks, 3, "late ticks in the window");
        assert_eq!(figures.snapshots_skipped, 0, "none skipped in the window");
        assert_eq!(figures.ticks_skipped, 1, "from zero");
        // In the window 490 ticks fell in (0.1 ms, 0.2 ms] and 510 in (0.2 ms, 0.4 ms]: the
        // 990th is the 500th of the second bucket, 0.2 + 0.2 * 500/510 ms.
        let p99 = figures.tick_p99_ms.expect("ticks ran");
        let expected = 0.2 + 0.2 * 500.0 / 510.0;
        assert!((p99 - expected).abs() < 1e-9, "interpolated p99: {p99}");
    }

    #[test]
    fn quantiles_interpolate_within_a_bucket_and_stop_at_the_last_finite_bound() {
        let buckets = [(1.0, 50.0), (2.0, 100.0), (f64::INFINITY, 100.0)];
        assert_eq!(
            quantile(&buckets, 0.5),
            Some(1.0),
            "the median at the bound"
        );
        assert_eq!(quantile(&buckets, 0.75), Some(1.5), "halfway in the second");
        assert_eq!(quantile(&buckets, 0.25), Some(0.5), "halfway in the first");
        let overflow = [(1.0, 10.0), (f64::INFINITY, 100.0)];
        assert_eq!(
            quantile(&overflow, 0.99),
            Some(1.0),
            "+Inf answers the last bound"
        );
        assert_eq!(quantile(&[(1.0, 0.0)], 0.99), None, "empty");
        assert_eq!(quantile(&[], 0.99), None, "no buckets");
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let m = ServerMetrics::parse(
            "tickwire_late_ticks_total\ntickwire_late_ticks_total abc\n{le=\"1\"} 3\ntickwire_snapshots_skipped_total 4 1700000000\n",
        );
        assert_eq!(m.late_ticks, 0.0, "no value, bad value");
        assert_eq!(m.snapshots_skipped, 4.0, "a timestamp after the value");
    }
}
