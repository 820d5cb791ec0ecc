//! Wall-clock time for the API layer, with an offset tests can advance instead of sleeping.
//! (The simulation never reads a clock: it counts ticks.)

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Unix time in milliseconds.
    pub fn now_ms(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        real + self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn now_s(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Sets this clock (and every clone of it) to read `ms` now; it runs on from there.
    pub fn set_ms(&self, ms: i64) {
        let real = self.now_ms() - self.offset_ms.load(Ordering::Relaxed);
        self.offset_ms.store(ms - real, Ordering::Relaxed);
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

/// Formats Unix milliseconds as RFC 3339 (UTC, seconds precision).
pub fn rfc3339(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_a_clone_moves_every_clone() {
        let clock = Clock::default();
        let other = clock.clone();
        let before = clock.now_ms();
        other.advance(Duration::from_secs(3600));
        assert!(clock.now_ms() - before >= 3_600_000, "an hour later");
    }

    #[test]
    fn rfc3339_formats_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z", "epoch");
    }
}
