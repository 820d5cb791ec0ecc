//! Simulation tick numbers.

use bincode::{Decode, Encode};

/// A simulation tick. Tick 0 is reserved: as a baseline it means "no baseline" (a keyframe), so a
/// match's first simulated tick is 1.
///
/// Ordering compares with wrap-around (serial-number arithmetic), so a match that runs past
/// `u32::MAX` ticks still orders its recent ticks correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Encode, Decode)]
pub struct Tick(pub u32);

impl Tick {
    /// The "no baseline" marker.
    pub const ZERO: Tick = Tick(0);

    pub fn next(self) -> Tick {
        Tick(self.0.wrapping_add(1))
    }

    /// Ticks from `earlier` to `self`; negative if `earlier` is in fact later.
    pub fn since(self, earlier: Tick) -> i32 {
        self.0.wrapping_sub(earlier.0) as i32
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl PartialOrd for Tick {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Tick {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.since(*other).cmp(&0)
    }
}

impl std::fmt::Display for Tick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_survives_wrap_around() {
        let before = Tick(u32::MAX - 1);
        let after = before.next().next().next();
        assert_eq!(after, Tick(1), "three ticks after MAX-1 wraps to 1");
        assert!(after > before, "a tick just past the wrap is later");
        assert_eq!(after.since(before), 3, "distance across the wrap");
    }
}
