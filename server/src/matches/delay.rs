//! The spectators' delay line: frames wait here until they are old enough to show, so a
//! spectator never sees tick T before the match has reached tick T + delay (and cannot call out
//! to a player what its own screen does not show yet).

use std::collections::VecDeque;
use std::sync::Arc;

use shared::Tick;

use super::frame::TickFrame;

#[derive(Debug)]
pub(crate) struct Delay {
    ticks: u32,
    frames: VecDeque<Arc<TickFrame>>,
}

impl Delay {
    pub(crate) fn new(ticks: u32) -> Delay {
        Delay {
            ticks,
            frames: VecDeque::new(),
        }
    }

    /// Adds the newest frame (frames come in tick order).
    pub(crate) fn push(&mut self, frame: Arc<TickFrame>) {
        self.frames.push_back(frame);
    }

    /// The oldest held frame if it is at least the delay older than `now`, taken out.
    pub(crate) fn pop_due(&mut self, now: Tick) -> Option<Arc<TickFrame>> {
        let due = self
            .frames
            .front()
            .is_some_and(|f| i64::from(now.since(f.tick)) >= i64::from(self.ticks));
        if due { self.frames.pop_front() } else { None }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.frames.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::World;
    use shared::games::arena::ArenaEntity;
    use shared::schema::Replicated;

    fn frame(tick: u32) -> Arc<TickFrame> {
        Arc::new(TickFrame::new(
            Tick(tick),
            World::new(ArenaEntity::SCHEMA),
            Vec::new().into(),
            false,
        ))
    }

    #[test]
    fn tick_t_comes_out_only_once_tick_t_plus_the_delay_went_in() {
        let mut delay = Delay::new(5);
        let mut out = Vec::new();
        for t in 1..=20 {
            delay.push(frame(t));
            while let Some(f) = delay.pop_due(Tick(t)) {
                assert!(t >= f.tick.0 + 5, "tick {} shown at tick {t}", f.tick.0);
                out.push((f.tick.0, t));
            }
        }
        let expected: Vec<(u32, u32)> = (1..=15).map(|t| (t, t + 5)).collect();
        assert_eq!(
            out, expected,
            "each tick exactly the delay later, none skipped"
        );
        assert!(!delay.is_empty(), "the last five still wait");
        delay.clear();
        assert!(delay.is_empty());
    }

    #[test]
    fn no_delay_shows_each_frame_at_once() {
        let mut delay = Delay::new(0);
        delay.push(frame(1));
        assert_eq!(delay.pop_due(Tick(1)).map(|f| f.tick), Some(Tick(1)));
        assert!(delay.pop_due(Tick(1)).is_none());
    }
}
