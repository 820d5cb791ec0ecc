//! The cycles config (`assets/cycles/game.toml`) and maps (`assets/cycles/maps/*.toml`): parsed
//! from TOML text and validated; every error names the file and the field.
//!
//! Units: cells and ticks, except the two durations, which are seconds so that a tick-rate change
//! does not silently change how long a match lasts; [`super::rules::Rules`] turns them into ticks
//! once, when a match is created.

use serde::Deserialize;
use shared::assets::{AssetError, parse_toml};
use shared::games::cycles::Heading;

use crate::game::GameConfig;

/// Grid sides a map may have, in cells (an `i16` on the wire holds far more; 256 keeps a grid
/// at 64 Ki cells).
const SIDE: std::ops::RangeInclusive<u16> = 8..=256;
/// Players a cycles match may seat.
const SEATS: std::ops::RangeInclusive<u16> = 2..=8;

/// `assets/cycles/game.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CyclesConfig {
    /// Simulation ticks per second (10..=128).
    pub tick_rate: u16,
    /// Length of a match in seconds.
    pub match_length_s: f64,
    /// Seats per match (2..=8), unless the map says otherwise.
    pub players_per_match: u16,
    /// Seconds a crashed cycle waits before it respawns.
    pub respawn_delay_s: f64,
    /// A cycle moves one cell every this many ticks.
    pub move_every_ticks: u16,
    /// Cells a trail keeps; when it grows longer, its oldest cell disappears.
    pub max_trail: u32,
    /// Score for each other cycle that crashes into your trail or your cycle.
    pub cut_points: u32,
    /// One point for every this many cells travelled.
    pub cells_per_point: u32,
    /// The map new matches use when none is asked for.
    pub default_map: String,
}

/// A map file under `assets/cycles/maps/`; its name is the file's stem. Cell `(0, 0)` is the
/// top-left corner, x grows east and y south.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CyclesMap {
    /// Cells across (8..=256).
    pub width: u16,
    /// Cells down (8..=256).
    pub height: u16,
    #[serde(default)]
    pub walls: Vec<Rect>,
    /// At least as many as the map seats, and at least 2.
    pub spawns: Vec<Spawn>,
    /// Seats in a match on this map; `players_per_match` of `game.toml` when absent.
    #[serde(default)]
    pub max_players: Option<u16>,
}

/// A block of wall cells: `x`, `y` is the top-left cell, `w` × `h` cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rect {
    pub x: u16,
    pub y: u16,
    pub w: u16,
    pub h: u16,
}

/// Where a cycle starts, and where it heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Spawn {
    pub x: u16,
    pub y: u16,
    pub heading: Facing,
}

/// A heading as map files spell it (the wire's [`Heading`] has no serde form, and should not
/// need one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Facing {
    East,
    South,
    West,
    North,
}

impl From<Facing> for Heading {
    fn from(f: Facing) -> Heading {
        match f {
            Facing::East => Heading::East,
            Facing::South => Heading::South,
            Facing::West => Heading::West,
            Facing::North => Heading::North,
        }
    }
}

impl Rect {
    pub(crate) fn contains(&self, x: i32, y: i32) -> bool {
        let (left, top) = (i32::from(self.x), i32::from(self.y));
        x >= left && y >= top && x < left + i32::from(self.w) && y < top + i32::from(self.h)
    }
}

impl Spawn {
    /// The spawn's cell.
    pub(crate) fn cell(&self) -> (i32, i32) {
        (i32::from(self.x), i32::from(self.y))
    }

    /// The cell a cycle starting here moves into first.
    pub(crate) fn next_cell(&self) -> (i32, i32) {
        let (dx, dy) = Heading::from(self.heading).step();
        (i32::from(self.x) + dx, i32::from(self.y) + dy)
    }
}

impl CyclesMap {
    /// Whether `(x, y)` is a cell of the grid.
    pub(crate) fn inside(&self, x: i32, y: i32) -> bool {
        x >= 0 && y >= 0 && x < i32::from(self.width) && y < i32::from(self.height)
    }

    /// The first wall covering `(x, y)`, by its index in the file.
    pub(crate) fn wall_at(&self, x: i32, y: i32) -> Option<usize> {
        self.walls.iter().position(|w| w.contains(x, y))
    }
}

impl CyclesConfig {
    fn validate(self, file: &str) -> Result<CyclesConfig, AssetError> {
        let invalid = |field: &str, message: &str| AssetError::invalid(file, field, message);
        if !(10..=128).contains(&self.tick_rate) {
            return Err(invalid("tick_rate", "must be between 10 and 128"));
        }
        // At most a day: the match's length in ticks must fit a u32 with room to spare.
        if !(self.match_length_s.is_finite() && self.match_length_s > 0.0)
            || self.match_length_s > 86_400.0
        {
            return Err(invalid(
                "match_length_s",
                "must be more than 0 and at most 86400",
            ));
        }
        if !SEATS.contains(&self.players_per_match) {
            return Err(invalid("players_per_match", "must be between 2 and 8"));
        }
        if !(self.respawn_delay_s.is_finite() && (0.0..=600.0).contains(&self.respawn_delay_s)) {
            return Err(invalid("respawn_delay_s", "must be between 0 and 600"));
        }
        if !(1..=128).contains(&self.move_every_ticks) {
            return Err(invalid("move_every_ticks", "must be between 1 and 128"));
        }
        if !(1..=65_536).contains(&self.max_trail) {
            return Err(invalid("max_trail", "must be between 1 and 65536"));
        }
        if self.cut_points > 1_000_000 {
            return Err(invalid("cut_points", "must be at most 1000000"));
        }
        if self.cells_per_point == 0 {
            return Err(invalid("cells_per_point", "must be at least 1"));
        }
        if self.default_map.is_empty() {
            return Err(invalid("default_map", "must name a map"));
        }
        Ok(self)
    }

    fn validate_map(&self, file: &str, map: CyclesMap) -> Result<CyclesMap, AssetError> {
        let invalid = |field: String, message: String| AssetError::invalid(file, field, message);
        for (field, side) in [("width", map.width), ("height", map.height)] {
            if !SIDE.contains(&side) {
                return Err(invalid(field.into(), "must be between 8 and 256".into()));
            }
        }
        for (i, w) in map.walls.iter().enumerate() {
            if w.w == 0 || w.h == 0 {
                return Err(invalid(
                    format!("walls[{i}]"),
                    "w and h must be at least 1".into(),
                ));
            }
            let right = u32::from(w.x) + u32::from(w.w);
            let bottom = u32::from(w.y) + u32::from(w.h);
            if right > u32::from(map.width) || bottom > u32::from(map.height) {
                return Err(invalid(
                    format!("walls[{i}]"),
                    format!(
                        "wall ({}, {}) size {}×{} lies outside the {}×{} grid",
                        w.x, w.y, w.w, w.h, map.width, map.height
                    ),
                ));
            }
        }
        if map.max_players.is_some_and(|n| !SEATS.contains(&n)) {
            return Err(invalid(
                "max_players".into(),
                "must be between 2 and 8".into(),
            ));
        }
        let seats = self.seats(&map);
        if map.spawns.len() < usize::from(seats) {
            return Err(invalid(
                "spawns".into(),
                format!(
                    "{} spawn points for {seats} seats: needs one per seat",
                    map.spawns.len()
                ),
            ));
        }
        for (i, s) in map.spawns.iter().enumerate() {
            let field = format!("spawns[{i}]");
            let (x, y) = s.cell();
            if !map.inside(x, y) {
                return Err(invalid(field, "lies outside the grid".into()));
            }
            if let Some(w) = map.wall_at(x, y) {
                return Err(invalid(field, format!("lies inside walls[{w}]")));
            }
            // A cycle moves on its first move tick: a spawn facing a wall would crash every
            // cycle placed on it.
            let (nx, ny) = s.next_cell();
            if !map.inside(nx, ny) || map.wall_at(nx, ny).is_some() {
                return Err(invalid(
                    field,
                    "heads straight into a wall or the edge".into(),
                ));
            }
            if let Some(j) = map.spawns[..i].iter().position(|o| o.cell() == (x, y)) {
                return Err(invalid(field, format!("is the same cell as spawns[{j}]")));
            }
        }
        Ok(map)
    }
}

impl GameConfig for CyclesConfig {
    type Map = CyclesMap;

    fn parse(file: &str, text: &str) -> Result<CyclesConfig, AssetError> {
        parse_toml::<CyclesConfig>(file, text)?.validate(file)
    }

    fn parse_map(&self, file: &str, text: &str) -> Result<CyclesMap, AssetError> {
        self.validate_map(file, parse_toml(file, text)?)
    }

    fn tick_rate(&self) -> u16 {
        self.tick_rate
    }

    fn default_map(&self) -> &str {
        &self.default_map
    }

    fn seats(&self, map: &CyclesMap) -> u16 {
        map.max_players.unwrap_or(self.players_per_match)
    }
}
