//! The live progress line (bots connected, snapshots per second, p99 RTT, errors), sampled once a
//! second; the samples also become the report's timeline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::report::Sample;
use crate::stats::Stats;

/// How often the line is refreshed and a sample taken.
const PERIOD: Duration = Duration::from_secs(1);
/// Most samples kept (a day of them).
const MAX_SAMPLES: usize = 86_400;

/// The sampling task; [`Progress::finish`] stops it and answers the samples.
#[derive(Debug)]
pub(crate) struct Progress {
    task: JoinHandle<Vec<Sample>>,
    done: CancellationToken,
}

impl Progress {
    /// Starts sampling `stats`; draws the line on stderr when `show` (and stderr is a terminal).
    pub(crate) fn start(stats: Arc<Stats>, bots: u32, show: bool) -> Progress {
        let bar = if show {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            // The template is a constant that indicatif accepts.
            let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .expect("valid progress template");
            bar.set_style(style);
            bar
        } else {
            ProgressBar::hidden()
        };
        let done = CancellationToken::new();
        let task = tokio::spawn(sample(stats, bots, bar, done.clone()));
        Progress { task, done }
    }

    /// Stops sampling and answers the timeline.
    pub(crate) async fn finish(self) -> Vec<Sample> {
        self.done.cancel();
        self.task.await.unwrap_or_default()
    }
}

async fn sample(
    stats: Arc<Stats>,
    bots: u32,
    bar: ProgressBar,
    done: CancellationToken,
) -> Vec<Sample> {
    let start = Instant::now();
    let mut samples = Vec::new();
    let mut ticker = tokio::time::interval(PERIOD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = (start, 0u64);
    for _ in 0..MAX_SAMPLES {
        tokio::select! {
            _ = done.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let now = Instant::now();
        let live = stats.live();
        let dt = now.duration_since(last.0).as_secs_f64();
        let rate = if dt > 0.0 {
            live.snapshots.saturating_sub(last.1) as f64 / dt
        } else {
            0.0
        };
        last = (now, live.snapshots);
        samples.push(Sample {
            t_s: now.duration_since(start).as_secs_f64(),
            bots_connected: live.connected,
            snapshots_per_s: rate,
            errors: live.errors,
        });
        bar.set_message(format!(
            "bots {}/{bots} connected · {rate:.0} snapshots/s · p99 RTT {} · errors {}",
            live.connected,
            live.rtt_p99_ms
                .map_or_else(|| "-".to_string(), |ms| format!("{ms:.1} ms")),
            live.errors
        ));
        bar.tick();
    }
    bar.finish_and_clear();
    samples
}
