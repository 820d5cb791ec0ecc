//! One tick's published state, shared (`Arc`) by every client of the match, and the bounded
//! history of recent ticks that deltas are taken against.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use shared::protocol::SnapshotBody;
use shared::{Event, Tick, World, codec, diff, keyframe};

use crate::metrics::Metrics;

/// What one tick produced. Immutable once published, except for the cache of encoded bodies,
/// which fills as clients ask for deltas against different baselines.
#[derive(Debug)]
pub struct TickFrame {
    pub tick: Tick,
    pub world: World,
    pub events: Vec<Event>,
    /// The world's checksum on ticks that carry one.
    pub checksum: Option<u64>,
    /// Encoded bodies by baseline tick (ZERO = keyframe). In steady play every client acks one of
    /// the same one or two ticks, so this holds one or two entries.
    bodies: Mutex<Vec<(Tick, Bytes)>>,
}

impl TickFrame {
    pub fn new(tick: Tick, world: World, events: Vec<Event>, with_checksum: bool) -> TickFrame {
        let checksum = with_checksum.then(|| shared::checksum(&world));
        TickFrame {
            tick,
            world,
            events,
            checksum,
            bodies: Mutex::new(Vec::with_capacity(2)),
        }
    }

    /// The encoded body of this tick against `baseline` (`None` = keyframe), encoded once and
    /// shared by every client on that baseline. Runs on the client's writer task, so encoding is
    /// spread over every core and never delays the tick.
    pub fn body(&self, baseline: Option<&TickFrame>, metrics: &Metrics) -> Bytes {
        let key = baseline.map_or(Tick::ZERO, |b| b.tick);
        if let Some(found) = self.cached(key) {
            return found;
        }
        let delta = match baseline {
            Some(b) => diff(&b.world, &self.world),
            None => keyframe(&self.world),
        };
        // Keyframes always carry the checksum: a client starting over can verify at once.
        let checksum = match baseline {
            None => Some(
                self.checksum
                    .unwrap_or_else(|| shared::checksum(&self.world)),
            ),
            Some(_) => self.checksum,
        };
        let body = Bytes::from(codec::encode_snapshot_body(&SnapshotBody {
            delta,
            events: self.events.clone(),
            checksum,
        }));
        metrics.bodies_encoded.inc();
        // Lock held only to look up or insert: two writers racing on one baseline may both encode,
        // and the first insert wins; both results are identical.
        let mut bodies = self.bodies.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, existing)) = bodies.iter().find(|(t, _)| *t == key) {
            return existing.clone();
        }
        bodies.push((key, body.clone()));
        body
    }

    fn cached(&self, key: Tick) -> Option<Bytes> {
        let bodies = self.bodies.lock().unwrap_or_else(|p| p.into_inner());
        bodies
            .iter()
            .find(|(t, _)| *t == key)
            .map(|(_, b)| b.clone())
    }
}

/// The last `capacity` published ticks. Written by the tick driver, read by writer tasks looking
/// up a client's baseline. A `std` mutex: every critical section is a push or an `Arc` clone.
#[derive(Debug)]
pub struct History {
    frames: Mutex<VecDeque<Arc<TickFrame>>>,
    capacity: usize,
}

impl History {
    pub fn new(capacity: usize) -> History {
        History {
            frames: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity: capacity.max(1),
        }
    }

    pub fn push(&self, frame: Arc<TickFrame>) {
        let mut frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        if frames.len() == self.capacity {
            frames.pop_front();
        }
        frames.push_back(frame);
    }

    /// The frame of `tick`, if it is still held.
    pub fn get(&self, tick: Tick) -> Option<Arc<TickFrame>> {
        if tick.is_zero() {
            return None;
        }
        let frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        let newest = frames.back()?.tick;
        let back = newest.since(tick);
        if back < 0 || back as usize >= frames.len() {
            return None;
        }
        // Ticks are consecutive in the history, so the offset from the back finds it.
        let frame = &frames[frames.len() - 1 - back as usize];
        (frame.tick == tick).then(|| frame.clone())
    }

    pub fn latest(&self) -> Option<Arc<TickFrame>> {
        self.frames
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .back()
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::sample;

    fn frame(tick: u32, moved: u32) -> Arc<TickFrame> {
        Arc::new(TickFrame::new(
            Tick(tick),
            sample::world(50, moved),
            vec![],
            tick.is_multiple_of(2),
        ))
    }

    #[test]
    fn history_finds_held_ticks_and_forgets_old_ones() {
        let history = History::new(4);
        for t in 1..=6 {
            history.push(frame(t, t));
        }
        assert!(
            history.get(Tick(2)).is_none(),
            "tick 2 fell out of a 4-tick history"
        );
        assert_eq!(
            history.get(Tick(3)).map(|f| f.tick),
            Some(Tick(3)),
            "oldest held"
        );
        assert_eq!(
            history.get(Tick(6)).map(|f| f.tick),
            Some(Tick(6)),
            "newest"
        );
        assert!(history.get(Tick(7)).is_none(), "future tick");
        assert!(history.get(Tick::ZERO).is_none(), "zero is no baseline");
    }

    #[test]
    fn clients_on_one_baseline_share_one_encoded_body() {
        let metrics = Metrics::new();
        let base = frame(1, 0);
        let current = frame(2, 10);
        let a = current.body(Some(&base), &metrics);
        let b = current.body(Some(&base), &metrics);
        assert_eq!(a.as_ptr(), b.as_ptr(), "the same buffer, not a copy");
        let key = current.body(None, &metrics);
        assert!(
            key.len() > a.len(),
            "keyframe {} B larger than delta {} B",
            key.len(),
            a.len()
        );
        assert_eq!(
            metrics.bodies_encoded.get(),
            2,
            "two bodies encoded for three requests"
        );
    }

    #[test]
    fn a_body_decodes_to_the_delta_that_rebuilds_the_world() {
        let metrics = Metrics::new();
        let base = frame(1, 0);
        let current = frame(2, 10);
        let body = current.body(Some(&base), &metrics);
        let decoded: SnapshotBody =
            codec::decode_value(&body, codec::MAX_SERVER_MESSAGE).expect("decodes");
        let rebuilt = shared::apply(&base.world, &decoded.delta).expect("applies");
        assert_eq!(rebuilt, current.world, "delta rebuilds the current world");
        assert_eq!(
            decoded.checksum,
            Some(shared::checksum(&current.world)),
            "checksum on even tick"
        );
    }
}
