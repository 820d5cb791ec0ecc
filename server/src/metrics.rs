//! Prometheus metrics, one registry per server (so tests running several servers in one process
//! see their own figures). Per-tick figures are recorded here, never logged.

use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Every metric the server records. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Metrics(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    registry: Registry,
    /// Seconds of one tick: simulate, snapshot, hand to outboxes.
    pub tick_seconds: Histogram,
    /// Ticks that started more than one period late.
    pub late_ticks: Counter,
    /// Ticks dropped to catch up after falling too far behind.
    pub ticks_skipped: Counter,
    pub clients_connected: Gauge,
    pub matches_live: Gauge,
    pub bytes_sent: Counter,
    pub frames_sent: Counter,
    pub keyframes_sent: Counter,
    /// Snapshot bodies encoded (one per match, tick and baselines: shared by every client on
    /// them).
    pub bodies_encoded: Counter,
    /// Delta snapshots sent that predict positions from the client's older acknowledgement.
    pub predicted_deltas_sent: Counter,
    /// Snapshots replaced in an outbox before its writer took them (a slow client).
    pub snapshots_skipped: Counter,
    pub inputs_received: Counter,
    /// Inputs dropped because a player's queue or the match's input channel was full.
    pub inputs_dropped: Counter,
    /// Connections closed by the server for misbehaviour or slowness.
    pub clients_dropped: Counter,
    pub reconnects: Counter,
    pub rtt_seconds: Histogram,
}

impl std::ops::Deref for Metrics {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tickwire");
        // 20 µs .. ~40 ms
        let tick_seconds = Histogram::new(exponential_buckets(20e-6, 2.0, 12));
        // 0.1 ms .. ~400 ms
        let rtt_seconds = Histogram::new(exponential_buckets(1e-4, 2.0, 13));
        let inner = Inner {
            tick_seconds,
            late_ticks: Counter::default(),
            ticks_skipped: Counter::default(),
            clients_connected: Gauge::default(),
            matches_live: Gauge::default(),
            bytes_sent: Counter::default(),
            frames_sent: Counter::default(),
            keyframes_sent: Counter::default(),
            bodies_encoded: Counter::default(),
            predicted_deltas_sent: Counter::default(),
            snapshots_skipped: Counter::default(),
            inputs_received: Counter::default(),
            inputs_dropped: Counter::default(),
            clients_dropped: Counter::default(),
            reconnects: Counter::default(),
            rtt_seconds,
            registry: Registry::default(),
        };
        registry.register(
            "tick_duration_seconds",
            "Duration of one match tick",
            inner.tick_seconds.clone(),
        );
        registry.register(
            "late_ticks",
            "Ticks started more than one period late",
            inner.late_ticks.clone(),
        );
        registry.register(
            "ticks_skipped",
            "Ticks dropped to catch up",
            inner.ticks_skipped.clone(),
        );
        registry.register(
            "clients_connected",
            "Connected realtime clients",
            inner.clients_connected.clone(),
        );
        registry.register("matches", "Live matches", inner.matches_live.clone());
        registry.register(
            "sent_bytes",
            "WebSocket payload bytes sent",
            inner.bytes_sent.clone(),
        );
        registry.register(
            "sent_frames",
            "WebSocket frames sent",
            inner.frames_sent.clone(),
        );
        registry.register(
            "keyframes_sent",
            "Keyframe snapshots sent",
            inner.keyframes_sent.clone(),
        );
        registry.register(
            "snapshot_bodies_encoded",
            "Snapshot bodies encoded (shared per baseline)",
            inner.bodies_encoded.clone(),
        );
        registry.register(
            "predicted_deltas_sent",
            "Delta snapshots sent predicting positions from an older acknowledged tick",
            inner.predicted_deltas_sent.clone(),
        );
        registry.register(
            "snapshots_skipped",
            "Snapshots skipped for slow clients",
            inner.snapshots_skipped.clone(),
        );
        registry.register(
            "inputs_received",
            "Inputs received",
            inner.inputs_received.clone(),
        );
        registry.register(
            "inputs_dropped",
            "Inputs dropped (queue full)",
            inner.inputs_dropped.clone(),
        );
        registry.register(
            "clients_dropped",
            "Clients disconnected by the server",
            inner.clients_dropped.clone(),
        );
        registry.register(
            "reconnects",
            "Sessions resumed with a reconnect token",
            inner.reconnects.clone(),
        );
        registry.register(
            "rtt_seconds",
            "Round-trip time measured by server pings",
            inner.rtt_seconds.clone(),
        );
        let mut inner = inner;
        inner.registry = registry;
        Metrics(Arc::new(inner))
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        encode(&mut out, &self.registry).expect("encoding metrics into a String");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_text_carries_recorded_values() {
        let metrics = Metrics::new();
        metrics.late_ticks.inc_by(3);
        metrics.tick_seconds.observe(0.001);
        let text = metrics.render();
        assert!(text.contains("tickwire_late_ticks_total 3"), "{text}");
        assert!(
            text.contains("tickwire_tick_duration_seconds_count 1"),
            "{text}"
        );
    }
}
