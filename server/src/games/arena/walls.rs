//! The arena's geometry in fixed point: its bounds and axis-aligned walls, and circles moving
//! among them (sliding along what they hit).

use super::config::MapDef;
use shared::quant::pos_to_fixed;

/// A fixed-point position or displacement.
pub(crate) type Vec2 = (i32, i32);

/// An axis-aligned box, corners inclusive, in fixed point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    x0: i32,
    y0: i32,
    x1: i32,
    y1: i32,
}

/// Bounds `(0, 0)..=(width, height)` and walls, in fixed point.
#[derive(Debug, Clone)]
pub(crate) struct Walls {
    width: i32,
    height: i32,
    walls: Vec<Rect>,
}

/// Wall push-out passes per substep: enough for a corner where two walls meet.
const RESOLVE_PASSES: usize = 4;

impl Walls {
    pub(crate) fn new(map: &MapDef) -> Walls {
        let walls = map
            .walls
            .iter()
            .map(|w| Rect {
                x0: pos_to_fixed(w.x),
                y0: pos_to_fixed(w.y),
                x1: pos_to_fixed(w.x + w.w),
                y1: pos_to_fixed(w.y + w.h),
            })
            .collect();
        Walls {
            width: pos_to_fixed(map.width),
            height: pos_to_fixed(map.height),
            walls,
        }
    }

    /// The smaller of the thinnest wall's width and height; `i32::MAX` without walls.
    pub(crate) fn thinnest_wall(&self) -> i32 {
        self.walls
            .iter()
            .map(|w| (w.x1 - w.x0).min(w.y1 - w.y0))
            .min()
            .unwrap_or(i32::MAX)
    }

    /// Moves a circle by `delta`, stopping at walls and bounds and sliding along them. The move is
    /// split into substeps short enough that the centre never passes into or through a wall.
    pub(crate) fn move_circle(&self, from: Vec2, delta: Vec2, radius: i32) -> Vec2 {
        let max_step = (radius.min(self.thinnest_wall()) / 2).max(1);
        let longest = delta.0.unsigned_abs().max(delta.1.unsigned_abs());
        let steps = longest.div_ceil(max_step as u32).max(1) as i32;
        let mut pos = from;
        let mut done = (0, 0);
        for k in 1..=steps {
            // Cumulative division so the substeps add up to `delta` exactly.
            let target = (part(delta.0, k, steps), part(delta.1, k, steps));
            pos = (pos.0 + target.0 - done.0, pos.1 + target.1 - done.1);
            done = target;
            pos = self.resolve(pos, radius);
        }
        pos
    }

    /// Pushes a circle out of every wall it overlaps and back inside the bounds.
    pub(crate) fn resolve(&self, mut pos: Vec2, radius: i32) -> Vec2 {
        pos = self.clamp(pos, radius);
        for _ in 0..RESOLVE_PASSES {
            let mut pushed = false;
            for wall in &self.walls {
                if let Some(push) = wall.push_out(pos, radius) {
                    pos = (pos.0 + push.0, pos.1 + push.1);
                    pushed = true;
                }
            }
            pos = self.clamp(pos, radius);
            if !pushed {
                break;
            }
        }
        pos
    }

    /// Whether a circle overlaps a wall or reaches past the bounds (projectiles die then).
    pub(crate) fn blocks(&self, pos: Vec2, radius: i32) -> bool {
        pos.0 - radius < 0
            || pos.1 - radius < 0
            || pos.0 + radius > self.width
            || pos.1 + radius > self.height
            || self.walls.iter().any(|w| w.overlaps(pos, radius))
    }

    fn clamp(&self, pos: Vec2, radius: i32) -> Vec2 {
        // `max` last: an arena narrower than the circle keeps it at the top-left edge.
        (
            pos.0.min(self.width - radius).max(radius),
            pos.1.min(self.height - radius).max(radius),
        )
    }
}

impl Rect {
    /// The point of the box nearest to `pos`.
    fn nearest(&self, pos: Vec2) -> Vec2 {
        (pos.0.clamp(self.x0, self.x1), pos.1.clamp(self.y0, self.y1))
    }

    /// Strict overlap: a circle exactly touching the box does not overlap it.
    fn overlaps(&self, pos: Vec2, radius: i32) -> bool {
        let n = self.nearest(pos);
        distance_squared(pos, n) < i64::from(radius) * i64::from(radius)
    }

    /// The smallest push (rounded outwards) that moves an overlapping circle out of the box.
    fn push_out(&self, pos: Vec2, radius: i32) -> Option<Vec2> {
        let n = self.nearest(pos);
        let (dx, dy) = (pos.0 - n.0, pos.1 - n.1);
        let d2 = distance_squared(pos, n);
        if d2 >= i64::from(radius) * i64::from(radius) {
            return None;
        }
        Some(match (dx, dy) {
            (0, 0) => {
                // The centre is inside the box: leave through the nearest face.
                let exits = [
                    (self.x0 - radius - pos.0, 0),
                    (self.x1 + radius - pos.0, 0),
                    (0, self.y0 - radius - pos.1),
                    (0, self.y1 + radius - pos.1),
                ];
                // Non-empty array: `min_by_key` always returns an element.
                exits
                    .into_iter()
                    .min_by_key(|(x, y)| x.unsigned_abs() + y.unsigned_abs())
                    .unwrap_or((0, 0))
            }
            // Against a face: exact.
            (0, dy) => (0, dy.signum() * (radius - dy.abs())),
            (dx, 0) => (dx.signum() * (radius - dx.abs()), 0),
            // Against a corner: along the corner's normal, each component rounded away from the
            // corner so the circle ends at least `radius` away.
            (dx, dy) => {
                let d = d2.isqrt().max(1);
                let r = i64::from(radius);
                let out = |c: i32| {
                    let c = i64::from(c);
                    (c.signum() * ((c.abs() * r + d - 1) / d)) as i32
                };
                (n.0 + out(dx) - pos.0, n.1 + out(dy) - pos.1)
            }
        })
    }
}

/// `whole * k / steps`, without overflow.
pub(crate) fn part(whole: i32, k: i32, steps: i32) -> i32 {
    (i64::from(whole) * i64::from(k) / i64::from(steps)) as i32
}

fn distance_squared(a: Vec2, b: Vec2) -> i64 {
    let dx = i64::from(a.0) - i64::from(b.0);
    let dy = i64::from(a.1) - i64::from(b.1);
    dx * dx + dy * dy
}

/// Whether two circles overlap or touch.
pub(crate) fn circles_touch(a: Vec2, ra: i32, b: Vec2, rb: i32) -> bool {
    let r = i64::from(ra) + i64::from(rb);
    distance_squared(a, b) <= r * r
}

#[cfg(test)]
mod tests {
    use super::super::config::Wall;
    use super::*;

    fn arena() -> Walls {
        Walls::new(&MapDef {
            width: 1000.0,
            height: 1000.0,
            walls: vec![Wall {
                x: 500.0,
                y: 400.0,
                w: 50.0,
                h: 200.0,
            }],
            spawns: vec![],
            orb_spawners: vec![],
            drones: 0,
            max_players: None,
            view: None,
        })
    }

    const R: i32 = 160;

    #[test]
    fn a_circle_moving_into_a_wall_face_stops_touching_it() {
        let a = arena();
        let end = a.move_circle((400 * 16, 500 * 16), (3000, 0), R);
        assert_eq!(end, (500 * 16 - R, 500 * 16), "stops exactly at the face");
    }

    #[test]
    fn a_circle_moving_diagonally_into_a_wall_slides_along_it() {
        let a = arena();
        let start = (500 * 16 - R - 10, 500 * 16);
        let end = a.move_circle(start, (100, 100), R);
        assert_eq!(
            end,
            (500 * 16 - R, 500 * 16 + 100),
            "x stopped, y kept moving"
        );
    }

    #[test]
    fn a_circle_near_a_corner_is_pushed_at_least_a_radius_away() {
        let a = arena();
        let corner = (500 * 16, 400 * 16);
        let end = a.resolve((corner.0 - 50, corner.1 - 60), R);
        assert!(
            distance_squared(end, corner) >= i64::from(R * R),
            "ended {end:?}, too close to the corner {corner:?}"
        );
        assert!(!a.blocks(end, R), "no longer overlaps: {end:?}");
    }

    #[test]
    fn a_circle_stays_inside_the_bounds() {
        let a = arena();
        let end = a.move_circle((100, 100), (-5000, -7000), R);
        assert_eq!(end, (R, R), "clamped to the top-left corner");
    }

    #[test]
    fn blocks_sees_walls_and_bounds_but_not_open_floor() {
        let a = arena();
        assert!(a.blocks((510 * 16, 500 * 16), 64), "inside the wall");
        assert!(a.blocks((30, 8000), 64), "past the left bound");
        assert!(!a.blocks((200 * 16, 200 * 16), 64), "open floor");
        assert!(
            !a.blocks((500 * 16 - 64, 500 * 16), 64),
            "touching is not blocked"
        );
    }
}
