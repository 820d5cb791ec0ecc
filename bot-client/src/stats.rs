//! Measurements, aggregated across every bot cheaply.
//!
//! Each bot owns a [`Recorder`]: latency samples collect in a small local buffer and counters in
//! a local [`Counts`]; [`Recorder::flush`] (about once a second, and when the bot ends) moves
//! them into the shared [`Stats`]. Histograms live in a few shards, each behind its own mutex,
//! and a bot always records into the same shard, so thousands of bots rarely contend and no
//! bot carries a histogram of its own. [`Stats::totals`] merges the shards at the end.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::rest::CallRecord;

/// Largest latency recorded, in microseconds (larger values saturate).
const MAX_US: u64 = 120_000_000;
/// Samples a recorder buffers before it takes its shard's lock.
const SAMPLE_BUFFER: usize = 64;

/// A latency a bot measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Round trip of a protocol ping.
    Rtt,
    /// From sending input `seq` to the first snapshot with `last_input_seq >= seq`.
    InputAck,
    /// From opening the connection to the `Welcome`.
    Connect,
    /// How far a snapshot's arrival strays from one tick period after the previous one's.
    Jitter,
}

/// The latency histograms, in microseconds.
#[derive(Debug, Clone)]
pub struct Histograms {
    pub rtt: Histogram<u64>,
    pub input_ack: Histogram<u64>,
    pub connect: Histogram<u64>,
    pub jitter: Histogram<u64>,
}

impl Default for Histograms {
    fn default() -> Histograms {
        Histograms {
            rtt: histogram(),
            input_ack: histogram(),
            connect: histogram(),
            jitter: histogram(),
        }
    }
}

impl Histograms {
    fn record(&mut self, metric: Metric, us: u64) {
        let h = match metric {
            Metric::Rtt => &mut self.rtt,
            Metric::InputAck => &mut self.input_ack,
            Metric::Connect => &mut self.connect,
            Metric::Jitter => &mut self.jitter,
        };
        h.saturating_record(us.max(1));
    }

    fn add(&mut self, other: &Histograms) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.rtt.add(&other.rtt);
        let _ = self.input_ack.add(&other.input_ack);
        let _ = self.connect.add(&other.connect);
        let _ = self.jitter.add(&other.jitter);
    }
}

/// A histogram from 1 µs to [`MAX_US`] at three significant figures.
pub fn histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts (low >= 1, high >= 2 * low).
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

/// Counters a bot adds up locally and flushes. Every field is a plain sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Snapshots applied (not stale), each a distinct tick of its connection.
    pub snapshots: u64,
    /// Ticks from the first to the last snapshot of each finished connection.
    pub expected: u64,
    pub stale: u64,
    pub keyframes: u64,
    pub deltas: u64,
    pub checksums_verified: u64,
    pub desyncs: u64,
    /// Snapshots that arrived but could not be applied (an error each).
    pub unapplied: u64,
    pub bytes_down: u64,
    pub bytes_up: u64,
    pub frames_down: u64,
    pub frames_up: u64,
    /// Microseconds connections were open, from `Welcome` to their end.
    pub connected_us: u64,
    /// Connections that got a `Welcome` (joins and resumes).
    pub sessions: u64,
    pub logins: u64,
    /// Joins with a ticket (the first of each bot and every later one).
    pub joins: u64,
    /// Leaves before the end of the run (churn).
    pub leaves: u64,
    /// Matches that ended under a bot, which then queued again.
    pub requeues: u64,
    /// Sockets dropped on purpose (reconnect-storm).
    pub detaches: u64,
    pub resumed_sessions: u64,
    pub resume_failures: u64,
    pub desyncs_after_resume: u64,
    /// Times a bot stopped reading (slow-readers).
    pub pauses: u64,
    pub inputs: u64,
    pub pings: u64,
    pub pongs: u64,
    /// Events delivered (each once), of every kind.
    pub events: u64,
    /// Events dropped because an earlier snapshot of the seat delivered them.
    pub event_repeats: u64,
    /// Snapshots whose events did not reach back to those already delivered (see
    /// [`crate::events::FeedCounters::gaps`]).
    pub event_gaps: u64,
}

/// The shared, atomic side of [`Counts`].
#[derive(Debug, Default)]
struct AtomicCounts([AtomicU64; COUNT_FIELDS]);

const COUNT_FIELDS: usize = 29;

impl Counts {
    fn fields(&self) -> [u64; COUNT_FIELDS] {
        [
            self.snapshots,
            self.expected,
            self.stale,
            self.keyframes,
            self.deltas,
            self.checksums_verified,
            self.desyncs,
            self.unapplied,
            self.bytes_down,
            self.bytes_up,
            self.frames_down,
            self.frames_up,
            self.connected_us,
            self.sessions,
            self.logins,
            self.joins,
            self.leaves,
            self.requeues,
            self.detaches,
            self.resumed_sessions,
            self.resume_failures,
            self.desyncs_after_resume,
            self.pauses,
            self.inputs,
            self.pings,
            self.pongs,
            self.events,
            self.event_repeats,
            self.event_gaps,
        ]
    }

    fn from_fields(f: [u64; COUNT_FIELDS]) -> Counts {
        Counts {
            snapshots: f[0],
            expected: f[1],
            stale: f[2],
            keyframes: f[3],
            deltas: f[4],
            checksums_verified: f[5],
            desyncs: f[6],
            unapplied: f[7],
            bytes_down: f[8],
            bytes_up: f[9],
            frames_down: f[10],
            frames_up: f[11],
            connected_us: f[12],
            sessions: f[13],
            logins: f[14],
            joins: f[15],
            leaves: f[16],
            requeues: f[17],
            detaches: f[18],
            resumed_sessions: f[19],
            resume_failures: f[20],
            desyncs_after_resume: f[21],
            pauses: f[22],
            inputs: f[23],
            pings: f[24],
            pongs: f[25],
            events: f[26],
            event_repeats: f[27],
            event_gaps: f[28],
        }
    }

    fn is_zero(&self) -> bool {
        self.fields().iter().all(|v| *v == 0)
    }
}

impl AtomicCounts {
    fn add(&self, counts: &Counts) {
        for (slot, value) in self.0.iter().zip(counts.fields()) {
            if value != 0 {
                slot.fetch_add(value, Ordering::Relaxed);
            }
        }
    }

    fn load(&self) -> Counts {
        Counts::from_fields(std::array::from_fn(|i| self.0[i].load(Ordering::Relaxed)))
    }
}

/// Everything measured, merged: what the report is built from.
#[derive(Debug, Clone)]
pub struct Totals {
    pub counts: Counts,
    /// The counts of bots the scenario left alone (see [`crate::scenario::Plan::is_affected`]).
    pub unaffected: Counts,
    pub histograms: Histograms,
    /// REST latency per route, in microseconds.
    pub rest: BTreeMap<&'static str, Histogram<u64>>,
    pub errors: BTreeMap<String, u64>,
    pub disconnects: BTreeMap<String, u64>,
    /// Events delivered, by kind (the game's variant names, `PlayerJoined`, `PlayerLeft`).
    pub events: BTreeMap<String, u64>,
    /// The largest gap between a snapshot's tick and its baseline.
    pub max_baseline_age: u64,
}

/// A live view for the progress line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Live {
    pub connected: i64,
    pub snapshots: u64,
    pub errors: u64,
    pub rtt_p99_ms: Option<f64>,
}

/// The measurements of the whole run, shared by every bot.
#[derive(Debug)]
pub struct Stats {
    shards: Box<[Mutex<Histograms>]>,
    counts: AtomicCounts,
    unaffected: AtomicCounts,
    // Std mutexes: every critical section below is a map insert or a histogram record, never
    // held across an await.
    rest: Mutex<BTreeMap<&'static str, Histogram<u64>>>,
    errors: Mutex<BTreeMap<String, u64>>,
    disconnects: Mutex<BTreeMap<String, u64>>,
    events: Mutex<BTreeMap<&'static str, u64>>,
    errors_total: AtomicU64,
    connected: AtomicI64,
    max_baseline_age: AtomicU64,
}

impl Stats {
    /// Stats with `shards` histogram shards (at least one).
    pub fn new(shards: usize) -> Stats {
        Stats {
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(Histograms::default()))
                .collect(),
            counts: AtomicCounts::default(),
            unaffected: AtomicCounts::default(),
            rest: Mutex::new(BTreeMap::new()),
            errors: Mutex::new(BTreeMap::new()),
            disconnects: Mutex::new(BTreeMap::new()),
            events: Mutex::new(BTreeMap::new()),
            errors_total: AtomicU64::new(0),
            connected: AtomicI64::new(0),
            max_baseline_age: AtomicU64::new(0),
        }
    }

    /// Shards for a machine: a few per core, so bots on different workers rarely meet.
    pub fn shards_for_machine() -> usize {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        (cores * 4).min(64)
    }

    /// A recorder for bot `bot`; `unaffected` bots also count toward [`Totals::unaffected`].
    pub fn recorder(self: &std::sync::Arc<Stats>, bot: u32, unaffected: bool) -> Recorder {
        Recorder {
            stats: self.clone(),
            shard: bot as usize % self.shards.len(),
            samples: Vec::with_capacity(SAMPLE_BUFFER),
            events: BTreeMap::new(),
            counts: Counts::default(),
            unaffected,
        }
    }

    /// Records one REST call (the [`crate::rest::RestClient::with_observer`] hook).
    pub fn rest_call(&self, call: CallRecord) {
        let us = u64::try_from(call.elapsed.as_micros()).unwrap_or(u64::MAX);
        let mut rest = lock(&self.rest);
        rest.entry(call.route)
            .or_insert_with(histogram)
            .saturating_record(us.max(1));
    }

    /// Counts one error of `kind`.
    pub fn error(&self, kind: impl Into<String>) {
        *lock(&self.errors).entry(kind.into()).or_insert(0) += 1;
        self.errors_total.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one closed connection by the name of its close code.
    pub fn disconnect(&self, name: impl Into<String>) {
        *lock(&self.disconnects).entry(name.into()).or_insert(0) += 1;
    }

    /// A bot's connection opened (+1) or ended (-1).
    pub fn connected(&self, delta: i64) {
        self.connected.fetch_add(delta, Ordering::Relaxed);
    }

    pub fn live(&self) -> Live {
        let mut rtt = histogram();
        for shard in self.shards.iter() {
            let _ = rtt.add(&lock(shard).rtt);
        }
        Live {
            connected: self.connected.load(Ordering::Relaxed),
            snapshots: self.counts.load().snapshots,
            errors: self.errors_total.load(Ordering::Relaxed),
            rtt_p99_ms: (!rtt.is_empty()).then(|| us_to_ms(rtt.value_at_quantile(0.99))),
        }
    }

    /// Everything flushed so far, merged.
    pub fn totals(&self) -> Totals {
        let mut histograms = Histograms::default();
        for shard in self.shards.iter() {
            histograms.add(&lock(shard));
        }
        Totals {
            counts: self.counts.load(),
            unaffected: self.unaffected.load(),
            histograms,
            rest: lock(&self.rest).clone(),
            errors: lock(&self.errors).clone(),
            disconnects: lock(&self.disconnects).clone(),
            events: lock(&self.events)
                .iter()
                .map(|(kind, n)| ((*kind).to_string(), *n))
                .collect(),
            max_baseline_age: self.max_baseline_age.load(Ordering::Relaxed),
        }
    }
}

/// One bot's measurements on their way to [`Stats`]. Flushes on drop, so a bot that ends in any
/// way (even aborted) loses nothing it recorded.
#[derive(Debug)]
pub struct Recorder {
    stats: std::sync::Arc<Stats>,
    shard: usize,
    samples: Vec<(Metric, u64)>,
    /// Events by kind since the last flush: a handful of kinds, so a small map.
    events: BTreeMap<&'static str, u64>,
    /// This bot's counts since the last flush.
    pub counts: Counts,
    unaffected: bool,
}

impl Recorder {
    /// Records one latency.
    pub fn sample(&mut self, metric: Metric, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.samples.push((metric, us));
        if self.samples.len() >= SAMPLE_BUFFER {
            self.flush_samples();
        }
    }

    /// Notes a snapshot's distance from its baseline (0 for keyframes).
    pub fn baseline_age(&self, ticks: u64) {
        self.stats
            .max_baseline_age
            .fetch_max(ticks, Ordering::Relaxed);
    }

    pub fn error(&self, kind: impl Into<String>) {
        self.stats.error(kind);
    }

    /// Counts one delivered event of `kind`.
    pub fn event(&mut self, kind: &'static str) {
        *self.events.entry(kind).or_insert(0) += 1;
    }

    pub fn disconnect(&self, name: impl Into<String>) {
        self.stats.disconnect(name);
    }

    pub fn connected(&self, delta: i64) {
        self.stats.connected(delta);
    }

    /// Moves the buffered samples and counts into the shared stats.
    pub fn flush(&mut self) {
        self.flush_samples();
        if !self.events.is_empty() {
            let mut events = lock(&self.stats.events);
            for (kind, n) in std::mem::take(&mut self.events) {
                *events.entry(kind).or_insert(0) += n;
            }
        }
        if !self.counts.is_zero() {
            self.stats.counts.add(&self.counts);
            if self.unaffected {
                self.stats.unaffected.add(&self.counts);
            }
            self.counts = Counts::default();
        }
    }

    fn flush_samples(&mut self) {
        if self.samples.is_empty() {
            return;
        }
        let mut shard = lock(&self.stats.shards[self.shard]);
        for (metric, us) in self.samples.drain(..) {
            shard.record(metric, us);
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
    }
}

pub fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Locks a std mutex, going on through poisoning: a panicking bot must not take the
/// measurements of the others with it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn recorders_on_different_shards_merge_into_one_histogram() {
        let stats = Arc::new(Stats::new(4));
        for bot in 0..8u32 {
            let mut rec = stats.recorder(bot, bot % 2 == 0);
            for ms in 1..=100u64 {
                rec.sample(Metric::Rtt, Duration::from_millis(ms));
            }
            rec.counts.snapshots += 10;
            rec.counts.expected += 10;
        }
        let totals = stats.totals();
        let rtt = &totals.histograms.rtt;
        assert_eq!(rtt.len(), 800, "every sample of every bot");
        let p50 = us_to_ms(rtt.value_at_quantile(0.5));
        assert!((49.0..=51.0).contains(&p50), "median about 50 ms: {p50}");
        assert_eq!(totals.counts.snapshots, 80, "counts flushed on drop");
        assert_eq!(totals.unaffected.snapshots, 40, "half the bots unaffected");
    }

    #[test]
    fn errors_disconnects_and_rest_calls_are_counted_by_kind() {
        let stats = Arc::new(Stats::new(1));
        stats.error("join: timeout");
        stats.error("join: timeout");
        stats.disconnect("normal");
        stats.rest_call(CallRecord {
            route: "POST /v1/sessions/guest",
            status: Some(200),
            elapsed: Duration::from_millis(3),
        });
        let totals = stats.totals();
        assert_eq!(totals.errors.get("join: timeout"), Some(&2), "two timeouts");
        assert_eq!(totals.disconnects.get("normal"), Some(&1), "one close");
        assert_eq!(
            totals.rest.get("POST /v1/sessions/guest").map(|h| h.len()),
            Some(1),
            "one call on its route"
        );
        assert_eq!(stats.live().errors, 2, "live error count");
    }

    #[test]
    fn counts_round_trip_through_their_fields() {
        let fields: [u64; COUNT_FIELDS] = std::array::from_fn(|i| i as u64 + 1);
        let counts = Counts::from_fields(fields);
        assert_eq!(counts.fields(), fields, "every field in its slot");
        assert!(!counts.is_zero(), "non-zero");
        assert!(Counts::default().is_zero(), "default is zero");
    }
}
