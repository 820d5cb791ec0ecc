//! Interest management, the game's side: how a game says what each player sees.
//!
//! A game that does nothing sees [`Interest::Everything`]: every client gets the whole world. A
//! game that only needs "what is near me" declares an [`Interest::Radius`] and answers
//! [`Game::viewpoint`](super::Game::viewpoint); the server then keeps a uniform grid and each
//! player's cells in view, with hysteresis. A game with its own rules (fog of war, line of sight)
//! declares [`Interest::Custom`] and answers [`Game::sees`](super::Game::sees) per entity.
//! Either way, an entity outside a player's view never reaches that player's client.

use shared::schema::Schema;

/// How a match limits what its players see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Every player sees the whole world.
    Everything,
    /// Each player sees the entities in the grid cells near its viewpoint.
    Radius(Radius),
    /// Each player sees what the game's `sees` admits.
    Custom,
}

/// A built-in radius view on a uniform grid.
///
/// A cell enters a player's view when its nearest point comes within `radius` of the player's
/// viewpoint, and leaves only once it is more than `radius + margin` away: a player pacing on a
/// cell border does not make the entities there flicker in and out (each flicker would cost a
/// creation, with every field, instead of a small change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Radius {
    /// The entity row's position fields (fixed point, as the world carries them).
    pub(crate) x: usize,
    pub(crate) y: usize,
    /// All in the position fields' units.
    pub(crate) cell: i32,
    pub(crate) radius: i32,
    pub(crate) margin: i32,
}

impl Radius {
    /// A radius view over `schema`'s position fields `x` and `y`; `None` if the schema has no
    /// such fields, or `cell` is not positive, or `radius` or `margin` is negative.
    pub fn new(
        schema: &Schema,
        x: &str,
        y: &str,
        cell: i32,
        radius: i32,
        margin: i32,
    ) -> Option<Radius> {
        let field = |name: &str| schema.fields.iter().position(|f| f.name == name);
        if cell <= 0 || radius < 0 || margin < 0 {
            return None;
        }
        Some(Radius {
            x: field(x)?,
            y: field(y)?,
            cell,
            radius,
            margin,
        })
    }

    /// The cell holding a position.
    pub(crate) fn cell_of(&self, x: i32, y: i32) -> Cell {
        Cell {
            x: x.div_euclid(self.cell),
            y: y.div_euclid(self.cell),
        }
    }

    /// The cell of an entity row (rows too short for the fields are at the origin).
    pub(crate) fn cell_of_row(&self, row: &[i32]) -> Cell {
        let at = |i: usize| row.get(i).copied().unwrap_or(0);
        self.cell_of(at(self.x), at(self.y))
    }

    /// The squared distance from `(x, y)` to the nearest point of `cell`.
    fn distance_sq(&self, cell: Cell, x: i32, y: i32) -> i64 {
        let axis = |c: i32, p: i32| {
            let lo = i64::from(c) * i64::from(self.cell);
            let hi = lo + i64::from(self.cell);
            let p = i64::from(p);
            if p < lo {
                lo - p
            } else if p > hi {
                p - hi
            } else {
                0
            }
        };
        let (dx, dy) = (axis(cell.x, x), axis(cell.y, y));
        dx * dx + dy * dy
    }

    /// Updates `cells` (sorted, the cells in view last tick) for a viewpoint at `(x, y)`: cells
    /// within the radius enter, cells beyond the radius plus the margin leave, the rest stay as
    /// they were.
    pub(crate) fn update(&self, cells: &mut Vec<Cell>, x: i32, y: i32) {
        let enter = i64::from(self.radius).pow(2);
        let keep = (i64::from(self.radius) + i64::from(self.margin)).pow(2);
        cells.retain(|c| self.distance_sq(*c, x, y) <= keep);
        let reach = self.radius.saturating_add(self.cell - 1) / self.cell + 1;
        let centre = self.cell_of(x, y);
        for cy in centre.y.saturating_sub(reach)..=centre.y.saturating_add(reach) {
            for cx in centre.x.saturating_sub(reach)..=centre.x.saturating_add(reach) {
                let cell = Cell { x: cx, y: cy };
                if self.distance_sq(cell, x, y) <= enter
                    && let Err(at) = cells.binary_search(&cell)
                {
                    cells.insert(at, cell);
                }
            }
        }
    }
}

/// A grid cell, by its column and row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Cell {
    pub(crate) y: i32,
    pub(crate) x: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::games::arena::ArenaEntity;
    use shared::schema::Replicated;

    fn radius(cell: i32, radius: i32, margin: i32) -> Radius {
        Radius::new(ArenaEntity::SCHEMA, "x", "y", cell, radius, margin).expect("valid")
    }

    #[test]
    fn a_radius_needs_real_position_fields_and_a_positive_cell() {
        let schema = ArenaEntity::SCHEMA;
        assert!(Radius::new(schema, "x", "nope", 10, 10, 0).is_none());
        assert!(Radius::new(schema, "x", "y", 0, 10, 0).is_none());
        assert!(Radius::new(schema, "x", "y", 10, -1, 0).is_none());
        let r = radius(10, 10, 0);
        assert_eq!(
            (r.x, r.y),
            (2, 3),
            "the arena's x and y are its third and fourth fields"
        );
    }

    #[test]
    fn cells_within_the_radius_enter_and_leave_only_past_the_margin() {
        let r = radius(100, 150, 150);
        let mut cells = Vec::new();
        r.update(&mut cells, 50, 50);
        assert!(cells.contains(&Cell { x: 0, y: 0 }), "its own cell");
        assert!(
            cells.contains(&Cell { x: 2, y: 0 }),
            "150 away at most: 200-50"
        );
        assert!(!cells.contains(&Cell { x: 3, y: 0 }), "250 away");
        assert!(!cells.contains(&Cell { x: -3, y: 0 }), "150 < 250 away");
        assert!(
            cells.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        // Step 120 west: cell 2 is now 270 away, beyond the radius but within radius + margin.
        r.update(&mut cells, -70, 50);
        assert!(cells.contains(&Cell { x: 2, y: 0 }), "kept by hysteresis");
        assert!(
            cells.contains(&Cell { x: -3, y: 0 }),
            "150 away now: entered"
        );
        // Another 100 west: cell 2 is 370 away, past radius + margin (300).
        r.update(&mut cells, -170, 50);
        assert!(!cells.contains(&Cell { x: 2, y: 0 }), "left");
    }

    #[test]
    fn negative_positions_fall_in_negative_cells() {
        let r = radius(100, 0, 0);
        assert_eq!(r.cell_of(-1, 99), Cell { x: -1, y: 0 });
        assert_eq!(r.cell_of(-100, -101), Cell { x: -1, y: -2 });
    }
}
