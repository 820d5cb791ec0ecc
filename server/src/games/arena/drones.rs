//! Scripted drones: the standard benchmark workload. Drone `i` of `n` circles the arena centre at
//! radius `50 + 3i` world units, at angle `i * 2pi / n + tick * 0.02 * (1 + i mod 5)` radians.
//! Floats are fine here: the position depends only on the tick and is quantised at once, with a
//! sine that is the same on every platform.

use std::f64::consts::TAU;

use shared::Tick;
use shared::quant::POS_SCALE;

use super::trig::sin_cos;
use super::walls::Vec2;

/// Where drone `index` of `count` is at `tick`, in fixed point, around `centre` (world units).
pub(crate) fn drone_position(centre: (f64, f64), index: u32, count: u32, tick: Tick) -> Vec2 {
    let i = f64::from(index);
    let radius = 50.0 + 3.0 * i;
    let angle =
        i * TAU / f64::from(count.max(1)) + f64::from(tick.0) * 0.02 * f64::from(1 + index % 5);
    let (sin, cos) = sin_cos(angle);
    let scale = f64::from(POS_SCALE);
    (
        ((centre.0 + radius * cos) * scale).round() as i32,
        ((centre.1 + radius * sin) * scale).round() as i32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drone_zero_starts_east_of_the_centre_and_turns() {
        let centre = (1000.0, 1000.0);
        assert_eq!(
            drone_position(centre, 0, 100, Tick(0)),
            (1050 * 16, 1000 * 16),
            "radius 50, angle 0"
        );
        let later = drone_position(centre, 0, 100, Tick(10));
        assert_ne!(later, (1050 * 16, 1000 * 16), "moved after 10 ticks");
        let dx = f64::from(later.0) / 16.0 - 1000.0;
        let dy = f64::from(later.1) / 16.0 - 1000.0;
        assert!(
            ((dx * dx + dy * dy).sqrt() - 50.0).abs() < 0.1,
            "still on its circle: ({dx}, {dy})"
        );
    }
}
