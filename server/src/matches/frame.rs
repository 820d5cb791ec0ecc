//! One tick's published state, shared (`Arc`) by every client of the match, and the bounded
//! history of recent ticks that deltas are taken against.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use shared::protocol::{SnapshotBody, TimedEvent};
use shared::{Event, Prediction, Tick, World, codec, diff, diff_predicted, keyframe};

use super::views::{ViewNo, Viewer, Views, WHOLE};
use crate::metrics::Metrics;

/// Recent events by tick: each tick's are shared (`Arc`) from the tick they happened on until
/// they age out, so a new log is a list of pointers, never a copy of the events.
pub type EventLog = Arc<[(Tick, Arc<[Event]>)]>;

/// What one tick produced. Immutable once published, except for the cache of encoded bodies,
/// which fills as the tick's clients ask for deltas against different baselines and is
/// released when the tick is done with them.
#[derive(Debug)]
pub struct TickFrame {
    pub tick: Tick,
    pub world: World,
    /// The events of the ticks the history holds, up to this one, grouped by tick, oldest
    /// first: a delta carries those after its baseline, so a client that skipped snapshots
    /// misses none. Shared with the next frames while no event comes or goes.
    pub events: EventLog,
    /// The world's checksum on ticks that carry one.
    pub checksum: Option<u64>,
    /// What each player sees, when the game limits it; `None`: everyone sees `world`.
    pub views: Option<Views>,
    /// Encoded bodies by what they are against. In steady play every client acks one of the same
    /// one or two ticks, each a tick after the one it acked before, so this holds one or two
    /// entries per view.
    bodies: Mutex<Vec<(BodyKey, Bytes)>>,
}

/// What a viewer sees on one tick: its view's number, world and checksum.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    pub tick: Tick,
    pub(crate) no: ViewNo,
    pub world: &'a World,
    pub checksum: Option<u64>,
}

/// What a body is encoded against: the older baseline it predicts from and the baseline
/// ([`Tick::ZERO`] for none: a keyframe has neither, a plain delta no older one), and the view
/// of each (the client's view at this tick and at each baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BodyKey {
    older: (Tick, ViewNo),
    baseline: (Tick, ViewNo),
    view: ViewNo,
}

impl TickFrame {
    pub fn new(tick: Tick, world: World, events: EventLog, with_checksum: bool) -> TickFrame {
        let checksum = with_checksum.then(|| shared::checksum(&world));
        TickFrame {
            tick,
            world,
            events,
            checksum,
            views: None,
            bodies: Mutex::new(Vec::with_capacity(2)),
        }
    }

    /// The frame with each player's view.
    pub fn with_views(mut self, views: Option<Views>) -> TickFrame {
        self.views = views;
        self
    }

    /// A copy of this frame (its world and events; no encoded bodies) keeping only the views of
    /// `players`: what a delayed spectator needs, without every player's view.
    pub fn keeping_views(&self, players: &[u32]) -> TickFrame {
        TickFrame {
            tick: self.tick,
            world: self.world.clone(),
            events: self.events.clone(),
            checksum: self.checksum,
            views: self.views.as_ref().map(|v| v.keeping(players)),
            bodies: Mutex::new(Vec::new()),
        }
    }

    /// What `viewer` sees on this tick. `None` for a player with no view here (it was not in
    /// the match yet): no baseline for it.
    pub fn seen_by(&self, viewer: Viewer) -> Option<Seen<'_>> {
        let (no, world, checksum) = match (viewer, &self.views) {
            (Viewer::Player(player), Some(views)) => {
                let (no, view) = views.of(player)?;
                (no, &view.world, view.checksum)
            }
            _ => (WHOLE, &self.world, self.checksum),
        };
        Some(Seen {
            tick: self.tick,
            no,
            world,
            checksum,
        })
    }

    /// The encoded body of this tick for `viewer` against `baseline` (`None` = keyframe),
    /// predicting positions from `older` (a tick before `baseline` that the client also holds)
    /// when given. Encoded once, by the tick for the first client on these baselines and views,
    /// and shared by every other client on them (one or two pairs a view a tick in steady play).
    /// A baseline the viewer has no view in is none.
    pub fn body(
        &self,
        viewer: Viewer,
        baseline: Option<&TickFrame>,
        older: Option<&TickFrame>,
        metrics: &Metrics,
    ) -> Bytes {
        let Some(now) = self.seen_by(viewer) else {
            // Every player in the match has a view; a viewer who has none sees nothing.
            return self.empty_body(metrics);
        };
        let base = baseline.and_then(|b| b.seen_by(viewer));
        let older = base.zip(older).and_then(|(b, o)| {
            let prediction = Prediction::between(o.tick, b.tick, self.tick)?;
            Some((o.seen_by(viewer)?, prediction))
        });
        let none = (Tick::ZERO, WHOLE);
        let key = BodyKey {
            older: older.map_or(none, |(o, _)| (o.tick, o.no)),
            baseline: base.map_or(none, |b| (b.tick, b.no)),
            view: now.no,
        };
        if let Some(found) = self.cached(key) {
            return found;
        }
        let delta = match (base, older) {
            (Some(b), Some((o, p))) => diff_predicted(o.world, b.world, now.world, p),
            (Some(b), None) => diff(b.world, now.world),
            (None, _) => keyframe(now.world),
        };
        // Keyframes always carry the checksum: a client starting over can verify at once; a
        // keyframe also starts the client over, with this tick's events only.
        let (checksum, after) = match base {
            Some(b) => (now.checksum, b.tick),
            None => (
                Some(now.checksum.unwrap_or_else(|| shared::checksum(now.world))),
                Tick(self.tick.0.wrapping_sub(1)),
            ),
        };
        let body = Bytes::from(codec::encode_snapshot_body(&SnapshotBody {
            delta,
            events: self.events_after(after),
            checksum,
        }));
        metrics.bodies_encoded.inc();
        // Lock held only to look up or insert: two writers racing on one key may both encode,
        // and the first insert wins; both results are identical.
        let mut bodies = self.bodies.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, existing)) = bodies.iter().find(|(k, _)| *k == key) {
            return existing.clone();
        }
        bodies.push((key, body.clone()));
        body
    }

    /// A keyframe of nothing, with this tick's events.
    fn empty_body(&self, metrics: &Metrics) -> Bytes {
        let empty = World::new(self.world.schema());
        metrics.bodies_encoded.inc();
        Bytes::from(codec::encode_snapshot_body(&SnapshotBody {
            delta: keyframe(&empty),
            events: self.events_after(Tick(self.tick.0.wrapping_sub(1))),
            checksum: Some(shared::checksum(&empty)),
        }))
    }

    /// Drops the encoded bodies. Only the tick that published a frame sends it, so once its
    /// clients are served the bodies are dead weight for the frame's life as a baseline, and
    /// under a backlog (clients on many baselines, large deltas) they were most of a match's
    /// memory.
    pub fn release_bodies(&self) {
        let mut bodies = self.bodies.lock().unwrap_or_else(|p| p.into_inner());
        *bodies = Vec::new();
    }

    /// The events after tick `after`, up to this frame's, each stamped with how many ticks before
    /// this frame it happened.
    fn events_after(&self, after: Tick) -> Vec<TimedEvent> {
        self.events
            .iter()
            .filter(|(t, _)| t.since(after) > 0)
            .flat_map(|(t, events)| {
                let ago = u16::try_from(self.tick.since(*t)).unwrap_or(u16::MAX);
                events.iter().map(move |event| TimedEvent {
                    ago,
                    event: event.clone(),
                })
            })
            .collect()
    }

    #[cfg(test)]
    fn cached_count(&self) -> usize {
        self.bodies.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn cached(&self, key: BodyKey) -> Option<Bytes> {
        let bodies = self.bodies.lock().unwrap_or_else(|p| p.into_inner());
        bodies
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, b)| b.clone())
    }
}

/// The last `capacity` published ticks. Written by the tick driver, which reads it again for each
/// client's baseline. A `std` mutex: every critical section is a push or an `Arc` clone.
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

    /// Forgets the frames before `tick` (no client can use them any more), keeping at least the
    /// newest. In steady play every client acknowledges within a few ticks, so the history
    /// holds a handful of worlds instead of its capacity, and most of a match's memory with it.
    pub fn forget_before(&self, tick: Tick) {
        let mut frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        while frames.len() > 1 && frames.front().is_some_and(|f| tick.since(f.tick) > 0) {
            frames.pop_front();
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::games::arena::ArenaEntity;
    use shared::sample;

    fn frame(tick: u32, moved: u32) -> Arc<TickFrame> {
        Arc::new(TickFrame::new(
            Tick(tick),
            sample::world(50, moved),
            Vec::new().into(),
            tick.is_multiple_of(2),
        ))
    }

    #[test]
    fn bodies_are_shared_within_the_tick_and_released_after_it() {
        let metrics = Metrics::new();
        let (base, now) = (frame(1, 1), frame(2, 2));
        let first = now.body(Viewer::Everything, Some(&base), None, &metrics);
        let again = now.body(Viewer::Everything, Some(&base), None, &metrics);
        assert_eq!(first.as_ptr(), again.as_ptr(), "one encoding, shared");
        assert_eq!(metrics.bodies_encoded.get(), 1);
        now.release_bodies();
        assert_eq!(now.cached_count(), 0, "nothing kept once released");
        let later = now.body(Viewer::Everything, Some(&base), None, &metrics);
        assert_eq!(later, first, "encoded again, identically, if ever asked");
        assert_eq!(metrics.bodies_encoded.get(), 2);
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
        history.forget_before(Tick(5));
        assert!(history.get(Tick(4)).is_none(), "forgotten");
        assert!(history.get(Tick(5)).is_some() && history.get(Tick(6)).is_some());
        history.forget_before(Tick(9));
        assert_eq!(
            history.get(Tick(6)).map(|f| f.tick),
            Some(Tick(6)),
            "the newest frame stays"
        );
        assert!(history.get(Tick::ZERO).is_none(), "zero is no baseline");
    }

    #[test]
    fn clients_on_one_baseline_share_one_encoded_body() {
        let metrics = Metrics::new();
        let base = frame(1, 0);
        let current = frame(2, 10);
        let a = current.body(Viewer::Everything, Some(&base), None, &metrics);
        let b = current.body(Viewer::Everything, Some(&base), None, &metrics);
        assert_eq!(a.as_ptr(), b.as_ptr(), "the same buffer, not a copy");
        let key = current.body(Viewer::Everything, None, None, &metrics);
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

    /// Frames of a world where every entity moves at its own constant velocity.
    fn gliding(tick: u32) -> Arc<TickFrame> {
        let start = sample::world(50, 0);
        let world = World::from_entities(
            start
                .entities::<ArenaEntity>()
                .map(|(id, e)| {
                    let mut e = e;
                    e.x += (id.index as i32 % 9 - 4) * tick as i32;
                    e.y += (id.index as i32 % 5 - 2) * tick as i32;
                    (id, e)
                })
                .collect(),
        );
        Arc::new(TickFrame::new(Tick(tick), world, Vec::new().into(), true))
    }

    #[test]
    fn a_predicted_body_is_shared_per_pair_of_baselines_and_rebuilds_the_world() {
        let metrics = Metrics::new();
        let (older, base, current) = (gliding(4), gliding(5), gliding(8));
        let predicted = current.body(Viewer::Everything, Some(&base), Some(&older), &metrics);
        let again = current.body(Viewer::Everything, Some(&base), Some(&older), &metrics);
        assert_eq!(predicted.as_ptr(), again.as_ptr(), "one buffer per pair");
        let plain = current.body(Viewer::Everything, Some(&base), None, &metrics);
        assert_ne!(
            predicted.as_ptr(),
            plain.as_ptr(),
            "the plain delta is another body"
        );
        assert_eq!(
            metrics.bodies_encoded.get(),
            2,
            "two bodies for three requests"
        );
        assert!(
            predicted.len() * 4 < plain.len(),
            "straight-line motion is predicted: {} B vs {} B",
            predicted.len(),
            plain.len()
        );
        let decoded: SnapshotBody =
            codec::decode_value(&predicted, codec::MAX_SERVER_MESSAGE).expect("decodes");
        let rebuilt =
            shared::apply_predicted(&older.world, &base.world, &decoded.delta).expect("applies");
        assert_eq!(rebuilt, current.world, "rebuilds the current world");
        assert_eq!(
            decoded.checksum,
            Some(shared::checksum(&current.world)),
            "and its checksum"
        );
    }

    #[test]
    fn an_older_frame_not_before_the_baseline_gives_the_plain_body() {
        let metrics = Metrics::new();
        let (base, current) = (gliding(5), gliding(8));
        let plain = current.body(Viewer::Everything, Some(&base), None, &metrics);
        let same = current.body(Viewer::Everything, Some(&base), Some(&base), &metrics);
        assert_eq!(
            plain.as_ptr(),
            same.as_ptr(),
            "no prediction from the baseline itself"
        );
        let key = current.body(Viewer::Everything, None, Some(&base), &metrics);
        assert_eq!(
            key,
            current.body(Viewer::Everything, None, None, &metrics),
            "a keyframe ignores the older frame"
        );
        assert_eq!(metrics.bodies_encoded.get(), 2, "plain and keyframe only");
    }

    #[test]
    fn a_delta_carries_every_event_since_its_baseline_and_a_keyframe_only_its_own() {
        let metrics = Metrics::new();
        let left = |player| Event::PlayerLeft { player };
        let log: EventLog = vec![
            (Tick(3), vec![left(3)].into()),
            (Tick(4), vec![left(4)].into()),
            (Tick(6), vec![left(6)].into()),
        ]
        .into();
        let base = frame(4, 0);
        let current = Arc::new(TickFrame::new(Tick(6), sample::world(50, 3), log, false));
        let decode = |bytes: Bytes| -> SnapshotBody {
            codec::decode_value(&bytes, codec::MAX_SERVER_MESSAGE).expect("decodes")
        };
        let delta = decode(current.body(Viewer::Everything, Some(&base), None, &metrics));
        let got: Vec<(u16, Event)> = delta.events.into_iter().map(|e| (e.ago, e.event)).collect();
        assert_eq!(
            got,
            vec![(0, left(6))],
            "events after baseline tick 4 only, stamped with their age"
        );
        let older_base = frame(2, 0);
        let delta = decode(current.body(Viewer::Everything, Some(&older_base), None, &metrics));
        let ages: Vec<u16> = delta.events.iter().map(|e| e.ago).collect();
        assert_eq!(
            ages,
            vec![3, 2, 0],
            "a client two ticks further back gets three"
        );
        let key = decode(current.body(Viewer::Everything, None, None, &metrics));
        assert_eq!(
            key.events.len(),
            1,
            "a keyframe carries its own tick's events"
        );
    }

    #[test]
    fn a_body_decodes_to_the_delta_that_rebuilds_the_world() {
        let metrics = Metrics::new();
        let base = frame(1, 0);
        let current = frame(2, 10);
        let body = current.body(Viewer::Everything, Some(&base), None, &metrics);
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
