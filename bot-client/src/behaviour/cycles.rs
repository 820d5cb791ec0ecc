//! The cycles bot: reads [`CyclesEntity`] rows of its replica and steers away from trails,
//! cycles and the edges it has learned.
//!
//! The grid's size and walls come from the map's layout (`GET /v1/games/cycles/maps/{map}`,
//! handed over with [`CyclesBot::know_map`]). Without it the bot learns them: when its cycle
//! crashes into a cell it saw empty, that cell is a wall; if it lies beyond every cell seen
//! occupied, it is taken as the edge of the grid on that side. Until then the bot avoids what it
//! sees and turns at random now and then, which keeps it off long straight runs into an unknown
//! edge.
//!
//! A turn is a press: the server applies it once, at the cycle's next move. So the bot sends a
//! turn once and then straight until it sees its cycle heading the new way (or gives up
//! waiting), never the same turn twice for one move.
//!
//! Call order: [`CyclesBot::new`] once per bot, then [`CyclesBot::decide`] for every snapshot
//! the bot processes.

use std::collections::HashSet;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use shared::World;
use shared::games::cycles::{CyclesEntity, CyclesInput, CyclesKind, Heading, Turn};

use super::rng_for;

/// The input that does not turn.
pub const STRAIGHT: CyclesInput = CyclesInput {
    turn: Turn::Straight,
};

/// Cells ahead the bot counts when it compares ways to go.
const LOOKAHEAD: i32 = 8;
/// Free cells ahead below which the bot turns away.
const DANGER: i32 = 2;
/// Chance per decision of a random turn while the way ahead is free.
const WANDER_TURN: f64 = 0.03;
/// Decisions to wait for a sent turn to show before deciding afresh.
const TURN_PATIENCE: u32 = 20;
/// Walls remembered at most (a bot that keeps crashing into new cells stops learning).
const MAX_WALLS: usize = 4096;

/// The edges of the grid learned so far: cells beyond them are off the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Bounds {
    min_x: Option<i32>,
    max_x: Option<i32>,
    min_y: Option<i32>,
    max_y: Option<i32>,
}

impl Bounds {
    fn contains(&self, (x, y): (i32, i32)) -> bool {
        self.min_x.is_none_or(|m| x >= m)
            && self.max_x.is_none_or(|m| x <= m)
            && self.min_y.is_none_or(|m| y >= m)
            && self.max_y.is_none_or(|m| y <= m)
    }
}

/// The cycle as the bot last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    cell: (i32, i32),
    heading: Heading,
    alive: bool,
    /// The cell ahead was free in that world.
    ahead_free: bool,
}

/// One cycles bot's seeded decision maker.
#[derive(Debug, Clone)]
pub struct CyclesBot {
    rng: ChaCha8Rng,
    bounds: Bounds,
    walls: HashSet<(i32, i32)>,
    /// The extent of every cell seen occupied: (min x, max x, min y, max y).
    extent: Option<(i32, i32, i32, i32)>,
    last: Option<Seen>,
    /// A turn sent and not yet seen: the heading expected, decisions waited.
    pending: Option<(Heading, u32)>,
    /// Occupied cells of the world being decided on; kept to reuse its allocation.
    occupied: HashSet<(i32, i32)>,
}

impl CyclesBot {
    pub fn new(seed: u64, bot: u32) -> CyclesBot {
        CyclesBot {
            rng: rng_for(seed, bot),
            bounds: Bounds::default(),
            walls: HashSet::new(),
            extent: None,
            last: None,
            pending: None,
            occupied: HashSet::new(),
        }
    }

    /// Takes the grid's size and walls from the map's layout (the map file as JSON: `width`,
    /// `height`, `walls` of `{x, y, w, h}` cells). Fields it lacks are left to be learned.
    pub fn know_map(&mut self, layout: &serde_json::Value) {
        let int = |v: &serde_json::Value, key: &str| {
            v.get(key)
                .and_then(serde_json::Value::as_i64)
                .and_then(|n| i32::try_from(n).ok())
        };
        if let (Some(w), Some(h)) = (int(layout, "width"), int(layout, "height")) {
            self.bounds = Bounds {
                min_x: Some(0),
                max_x: Some(w - 1),
                min_y: Some(0),
                max_y: Some(h - 1),
            };
        }
        let walls = layout.get("walls").and_then(serde_json::Value::as_array);
        for wall in walls.into_iter().flatten() {
            let (Some(x), Some(y), Some(w), Some(h)) = (
                int(wall, "x"),
                int(wall, "y"),
                int(wall, "w"),
                int(wall, "h"),
            ) else {
                continue;
            };
            for cx in x..x.saturating_add(w) {
                for cy in y..y.saturating_add(h) {
                    if self.walls.len() >= MAX_WALLS {
                        return;
                    }
                    self.walls.insert((cx, cy));
                }
            }
        }
    }

    /// This tick's input for player `player_id` in `world`.
    pub fn decide(&mut self, world: &World, player_id: u32) -> CyclesInput {
        let me = world
            .entities::<CyclesEntity>()
            .map(|(_, e)| e)
            .find(|e| e.kind == CyclesKind::Cycle && e.owner == player_id);
        self.see(world, player_id);
        let Some(me) = me.filter(|e| e.alive) else {
            self.learn_from_crash();
            self.last = self.last.map(|s| Seen { alive: false, ..s });
            self.pending = None;
            return STRAIGHT;
        };
        let cell = (i32::from(me.x), i32::from(me.y));
        let ahead = step(cell, me.heading);
        self.last = Some(Seen {
            cell,
            heading: me.heading,
            alive: true,
            ahead_free: self.free(ahead),
        });

        if let Some((expect, waited)) = self.pending {
            if me.heading == expect || waited >= TURN_PATIENCE {
                self.pending = None;
            } else {
                self.pending = Some((expect, waited + 1));
                return STRAIGHT;
            }
        }

        let straight = self.room(cell, me.heading);
        let left = self.room(cell, me.heading.turned(Turn::Left));
        let right = self.room(cell, me.heading.turned(Turn::Right));
        let turn = if straight < DANGER {
            match left.cmp(&right) {
                _ if left.max(right) <= straight => Turn::Straight,
                std::cmp::Ordering::Greater => Turn::Left,
                std::cmp::Ordering::Less => Turn::Right,
                std::cmp::Ordering::Equal => self.either(),
            }
        } else if self.rng.random_bool(WANDER_TURN) {
            match self.either() {
                Turn::Left if left >= DANGER => Turn::Left,
                Turn::Right if right >= DANGER => Turn::Right,
                _ => Turn::Straight,
            }
        } else {
            Turn::Straight
        };
        if turn != Turn::Straight {
            self.pending = Some((me.heading.turned(turn), 0));
        }
        CyclesInput { turn }
    }

    /// Notes every occupied cell of `world`: trails, cycles, and the cell ahead of every other
    /// live cycle (it may be there next).
    fn see(&mut self, world: &World, player_id: u32) {
        self.occupied.clear();
        for (_, e) in world.entities::<CyclesEntity>() {
            let cell = (i32::from(e.x), i32::from(e.y));
            if e.kind == CyclesKind::Cycle && !e.alive {
                continue;
            }
            self.occupied.insert(cell);
            self.extent = Some(match self.extent {
                None => (cell.0, cell.0, cell.1, cell.1),
                Some((x0, x1, y0, y1)) => (
                    x0.min(cell.0),
                    x1.max(cell.0),
                    y0.min(cell.1),
                    y1.max(cell.1),
                ),
            });
            if e.kind == CyclesKind::Cycle && e.owner != player_id {
                self.occupied.insert(step(cell, e.heading));
            }
        }
    }

    /// The cycle was alive last time and is not now: if it drove into a cell it saw free, that
    /// cell is a wall, and the grid's edge if it lies beyond every cell seen occupied.
    fn learn_from_crash(&mut self) {
        let Some(last) = self.last.filter(|s| s.alive && s.ahead_free) else {
            return;
        };
        let wall = step(last.cell, last.heading);
        if self.walls.len() < MAX_WALLS {
            self.walls.insert(wall);
        }
        let Some((x0, x1, y0, y1)) = self.extent else {
            return;
        };
        let b = &mut self.bounds;
        match last.heading {
            Heading::East if wall.0 > x1 => b.max_x = Some(wall.0 - 1),
            Heading::West if wall.0 < x0 => b.min_x = Some(wall.0 + 1),
            Heading::South if wall.1 > y1 => b.max_y = Some(wall.1 - 1),
            Heading::North if wall.1 < y0 => b.min_y = Some(wall.1 + 1),
            _ => {}
        }
    }

    fn free(&self, cell: (i32, i32)) -> bool {
        self.bounds.contains(cell) && !self.occupied.contains(&cell) && !self.walls.contains(&cell)
    }

    /// Free cells in a row from `cell` heading `heading`, up to [`LOOKAHEAD`].
    fn room(&self, cell: (i32, i32), heading: Heading) -> i32 {
        let mut at = cell;
        for n in 0..LOOKAHEAD {
            at = step(at, heading);
            if !self.free(at) {
                return n;
            }
        }
        LOOKAHEAD
    }

    fn either(&mut self) -> Turn {
        if self.rng.random_bool(0.5) {
            Turn::Left
        } else {
            Turn::Right
        }
    }
}

/// The cell one move from `cell` heading `heading`.
fn step(cell: (i32, i32), heading: Heading) -> (i32, i32) {
    let (dx, dy) = heading.step();
    (cell.0 + dx, cell.1 + dy)
}

#[cfg(test)]
mod tests {
    use shared::NetId;

    use super::*;

    fn cycle(owner: u32, x: i16, y: i16, heading: Heading) -> CyclesEntity {
        CyclesEntity {
            kind: CyclesKind::Cycle,
            owner,
            x,
            y,
            heading,
            alive: true,
        }
    }

    fn trail(owner: u32, x: i16, y: i16) -> CyclesEntity {
        CyclesEntity {
            kind: CyclesKind::Trail,
            ..cycle(owner, x, y, Heading::East)
        }
    }

    fn world(entities: &[CyclesEntity]) -> World {
        World::from_entities(
            entities
                .iter()
                .enumerate()
                .map(|(i, e)| (NetId::new(i as u32 + 1, 1), *e))
                .collect(),
        )
    }

    #[test]
    fn a_cycle_turns_away_from_a_trail_ahead_toward_the_open_side() {
        // Heading east at (5, 5); a trail wall at x = 6 from y = 0 to 10, and another trail
        // just north of the cycle: only south is open.
        let mut cells = vec![cycle(1, 5, 5, Heading::East)];
        cells.extend((0..=10).map(|y| trail(2, 6, y)));
        cells.push(trail(2, 5, 4));
        let w = world(&cells);
        for bot in 0..10 {
            let input = CyclesBot::new(3, bot).decide(&w, 1);
            assert_eq!(
                input.turn,
                Turn::Right,
                "bot {bot}: right is south, the open way"
            );
        }
    }

    #[test]
    fn a_cycle_with_room_ahead_mostly_goes_straight_and_sends_a_turn_once() {
        let w = world(&[cycle(1, 50, 50, Heading::North)]);
        let mut bot = CyclesBot::new(1, 1);
        let inputs: Vec<Turn> = (0..200).map(|_| bot.decide(&w, 1).turn).collect();
        let turns = inputs.iter().filter(|t| **t != Turn::Straight).count();
        assert!(turns <= 20, "mostly straight: {turns} turns in 200");
        assert!(
            inputs
                .windows(2)
                .all(|p| p[0] == Turn::Straight || p[1] == Turn::Straight),
            "a turn is never pressed twice in a row: {inputs:?}"
        );
    }

    #[test]
    fn a_crash_into_an_empty_cell_beyond_everything_seen_teaches_the_edge() {
        let mut bot = CyclesBot::new(2, 0);
        let far = trail(2, 0, 0);
        bot.decide(&world(&[cycle(1, 9, 5, Heading::East), far]), 1);
        let mut dead = cycle(1, 9, 5, Heading::East);
        dead.alive = false;
        assert_eq!(
            bot.decide(&world(&[dead, far]), 1),
            STRAIGHT,
            "dead: straight"
        );
        assert_eq!(bot.bounds.max_x, Some(9), "x = 10 is off the grid");
        // Respawned heading east at x = 8: one free cell ahead, then the edge.
        let input = bot.decide(&world(&[cycle(1, 8, 5, Heading::East), far]), 1);
        assert_ne!(input.turn, Turn::Straight, "turns before the learned edge");
    }

    #[test]
    fn a_bot_told_the_map_turns_before_its_edge_and_walls_without_crashing_first() {
        let layout = serde_json::json!({
            "width": 10, "height": 10,
            "walls": [{ "x": 3, "y": 0, "w": 1, "h": 3 }],
        });
        let mut bot = CyclesBot::new(2, 0);
        bot.know_map(&layout);
        assert_eq!(bot.bounds.max_x, Some(9), "the grid's east edge");
        assert!(bot.walls.contains(&(3, 2)), "the wall's cells");
        let input = bot.decide(&world(&[cycle(1, 8, 5, Heading::East)]), 1);
        assert_ne!(
            input.turn,
            Turn::Straight,
            "turns before the edge it was told"
        );
        let mut fresh = CyclesBot::new(2, 0);
        fresh.know_map(&layout);
        let input = fresh.decide(&world(&[cycle(1, 2, 1, Heading::East)]), 1);
        assert_ne!(input.turn, Turn::Straight, "turns before the wall at x = 3");
    }
}
