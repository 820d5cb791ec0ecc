//! The arena's tuning (`assets/arena/game.toml`) and maps (`assets/arena/maps/*.toml`): parsed
//! from TOML text and validated; every error names the file and the field.
//!
//! Units: distances in world units, times in seconds, speeds in units per second. The simulation
//! converts them to fixed point and ticks once at load.

use serde::Deserialize;

use shared::assets::{AssetError, parse_toml as parse};

use crate::game::GameConfig;

/// The largest map side, radius and speed (world units, units per second) the arena takes.
const MAX_EXTENT: f32 = 100_000.0;

/// `assets/arena/game.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArenaConfig {
    /// Simulation ticks per second (10..=128).
    pub tick_rate: u16,
    /// Length of a match in seconds.
    pub match_length_s: f32,
    /// Seats per match.
    pub players_per_match: u16,
    /// Seconds a dead player waits before respawning.
    pub respawn_delay_s: f32,
    /// The map new matches use when none is asked for.
    pub default_map: String,
    pub player: PlayerTuning,
    pub weapon: WeaponTuning,
    pub orbs: OrbTuning,
    pub scoring: ScoringTuning,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlayerTuning {
    pub speed: f32,
    pub radius: f32,
    pub max_health: u16,
    pub dash_speed: f32,
    pub dash_duration_s: f32,
    pub dash_cooldown_s: f32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WeaponTuning {
    pub fire_cooldown_s: f32,
    pub projectile_speed: f32,
    pub projectile_radius: f32,
    pub projectile_lifetime_s: f32,
    pub damage: u16,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrbTuning {
    pub radius: f32,
    pub points: u16,
    /// Seconds before a spawner makes a new orb after its orb is taken.
    pub respawn_s: f32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScoringTuning {
    pub kill_points: u16,
}

/// A map file under `assets/arena/maps/`; its name is the file's stem.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MapDef {
    pub width: f32,
    pub height: f32,
    #[serde(default)]
    pub walls: Vec<Wall>,
    pub spawns: Vec<Point>,
    #[serde(default)]
    pub orb_spawners: Vec<Point>,
    /// Number of scripted drones circling the centre (the `bench` workload); 0 for normal play.
    #[serde(default)]
    pub drones: u16,
    /// Seats in a match on this map; `players_per_match` of `game.toml` when absent.
    #[serde(default)]
    pub max_players: Option<u16>,
    /// How far a player sees, on maps bigger than a screen; everything when absent.
    #[serde(default)]
    pub view: Option<ViewDef>,
}

/// A map's `[view]`: each player sees the entities in the grid cells near it (interest
/// management; see `server/src/game/interest.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ViewDef {
    /// A cell enters view when its nearest point is this close to the player.
    pub radius: f32,
    /// The side of a grid cell.
    pub cell: f32,
    /// How much further a cell must be before it leaves view again.
    pub margin: f32,
}

/// An axis-aligned wall: `x`, `y` is the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Wall {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Point {
    pub x: f32,
    pub y: f32,
}

impl Wall {
    fn contains(&self, p: Point) -> bool {
        p.x >= self.x && p.x <= self.x + self.w && p.y >= self.y && p.y <= self.y + self.h
    }
}

/// Parses and validates `game.toml`; `file` names it in errors.
pub(crate) fn parse_game(file: &str, text: &str) -> Result<ArenaConfig, AssetError> {
    let game: ArenaConfig = parse(file, text)?;
    let invalid = |field: &str, message: &str| AssetError::Invalid {
        file: file.to_string(),
        field: field.to_string(),
        message: message.to_string(),
    };
    if !(10..=128).contains(&game.tick_rate) {
        return Err(invalid("tick_rate", "must be between 10 and 128"));
    }
    if game.players_per_match == 0 || game.players_per_match > 256 {
        return Err(invalid("players_per_match", "must be between 1 and 256"));
    }
    if game.default_map.is_empty() {
        return Err(invalid("default_map", "must name a map"));
    }
    let positive = [
        ("match_length_s", game.match_length_s),
        (
            "weapon.projectile_lifetime_s",
            game.weapon.projectile_lifetime_s,
        ),
    ];
    // Sizes and speeds become `i32` fixed point, where positions, radii and moves are added
    // up: bounded by the largest map's side, no sum of them overflows.
    let extents = [
        ("player.speed", game.player.speed),
        ("player.radius", game.player.radius),
        ("player.dash_speed", game.player.dash_speed),
        ("weapon.projectile_speed", game.weapon.projectile_speed),
        ("weapon.projectile_radius", game.weapon.projectile_radius),
        ("orbs.radius", game.orbs.radius),
    ];
    let non_negative = [
        ("respawn_delay_s", game.respawn_delay_s),
        ("player.dash_duration_s", game.player.dash_duration_s),
        ("player.dash_cooldown_s", game.player.dash_cooldown_s),
        ("weapon.fire_cooldown_s", game.weapon.fire_cooldown_s),
        ("orbs.respawn_s", game.orbs.respawn_s),
    ];
    for (field, v) in positive {
        if !(v.is_finite() && v > 0.0) {
            return Err(invalid(field, "must be a positive number"));
        }
    }
    for (field, v) in extents {
        if !(v.is_finite() && v > 0.0 && v <= MAX_EXTENT) {
            return Err(invalid(field, "must be more than 0 and at most 100000"));
        }
    }
    for (field, v) in non_negative {
        if !(v.is_finite() && v >= 0.0) {
            return Err(invalid(field, "must be zero or more"));
        }
    }
    if game.player.max_health == 0 {
        return Err(invalid("player.max_health", "must be at least 1"));
    }
    Ok(game)
}

/// Parses and validates a map; `file` names it in errors.
pub(crate) fn parse_map(file: &str, text: &str) -> Result<MapDef, AssetError> {
    let map: MapDef = parse(file, text)?;
    let invalid = |field: String, message: String| AssetError::Invalid {
        file: file.to_string(),
        field,
        message,
    };
    for (field, v) in [("width", map.width), ("height", map.height)] {
        if !(v.is_finite() && (100.0..=MAX_EXTENT).contains(&v)) {
            return Err(invalid(
                field.into(),
                "must be between 100 and 100000".into(),
            ));
        }
    }
    let inside = |p: Point| p.x >= 0.0 && p.y >= 0.0 && p.x <= map.width && p.y <= map.height;
    for (i, w) in map.walls.iter().enumerate() {
        if !(w.w.is_finite() && w.h.is_finite() && w.w > 0.0 && w.h > 0.0) {
            return Err(invalid(
                format!("walls[{i}]"),
                "w and h must be positive".into(),
            ));
        }
        if !(inside(Point { x: w.x, y: w.y })
            && inside(Point {
                x: w.x + w.w,
                y: w.y + w.h,
            }))
        {
            return Err(invalid(
                format!("walls[{i}]"),
                format!(
                    "wall ({}, {}) size {}×{} lies outside the {}×{} arena",
                    w.x, w.y, w.w, w.h, map.width, map.height
                ),
            ));
        }
    }
    if map.spawns.is_empty() {
        return Err(invalid(
            "spawns".into(),
            "needs at least one spawn point".into(),
        ));
    }
    for (list, points) in [("spawns", &map.spawns), ("orb_spawners", &map.orb_spawners)] {
        for (i, p) in points.iter().enumerate() {
            if !inside(*p) {
                return Err(invalid(
                    format!("{list}[{i}]"),
                    "lies outside the arena".into(),
                ));
            }
            if let Some(w) = map.walls.iter().position(|w| w.contains(*p)) {
                return Err(invalid(
                    format!("{list}[{i}]"),
                    format!("lies inside walls[{w}]"),
                ));
            }
        }
    }
    if map.max_players.is_some_and(|n| n == 0 || n > 256) {
        return Err(invalid(
            "max_players".into(),
            "must be between 1 and 256".into(),
        ));
    }
    if map.drones > 1000 {
        return Err(invalid("drones".into(), "at most 1000".into()));
    }
    if let Some(view) = map.view {
        for (field, v, least) in [
            ("view.radius", view.radius, 0.0),
            ("view.cell", view.cell, 10.0),
            ("view.margin", view.margin, 0.0),
        ] {
            if !(v.is_finite() && (least..=MAX_EXTENT).contains(&v)) {
                return Err(invalid(
                    field.into(),
                    format!("must be between {least} and 100000"),
                ));
            }
        }
    }
    Ok(map)
}

impl GameConfig for ArenaConfig {
    type Map = MapDef;

    fn parse(file: &str, text: &str) -> Result<ArenaConfig, AssetError> {
        parse_game(file, text)
    }

    fn parse_map(&self, file: &str, text: &str) -> Result<MapDef, AssetError> {
        parse_map(file, text)
    }

    fn tick_rate(&self) -> u16 {
        self.tick_rate
    }

    fn default_map(&self) -> &str {
        &self.default_map
    }

    fn seats(&self, map: &MapDef) -> u16 {
        map.max_players.unwrap_or(self.players_per_match)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = r#"
        width = 1000.0
        height = 800.0
        walls = [{ x = 100.0, y = 100.0, w = 50.0, h = 200.0 }]
        spawns = [{ x = 500.0, y = 400.0 }]
        orb_spawners = [{ x = 600.0, y = 600.0 }]
    "#;

    #[test]
    fn a_valid_map_parses() {
        let map = parse_map("maps/test.toml", MAP).expect("valid map");
        assert_eq!(map.walls.len(), 1, "one wall");
        assert_eq!(map.spawns[0], Point { x: 500.0, y: 400.0 }, "spawn point");
    }

    #[test]
    fn a_wall_outside_the_arena_names_file_and_field() {
        let text = MAP.replace(
            "x = 100.0, y = 100.0, w = 50.0",
            "x = 980.0, y = 100.0, w = 50.0",
        );
        let err = parse_map("maps/test.toml", &text).unwrap_err().to_string();
        assert!(err.contains("maps/test.toml"), "names the file: {err}");
        assert!(err.contains("walls[0]"), "names the field: {err}");
        assert!(err.contains("outside"), "says what is wrong: {err}");
    }

    #[test]
    fn a_missing_field_names_file_and_field() {
        let text = MAP.replace("height = 800.0", "");
        let err = parse_map("maps/test.toml", &text).unwrap_err().to_string();
        assert!(err.contains("maps/test.toml"), "names the file: {err}");
        assert!(err.contains("height"), "names the field: {err}");
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let text = format!("{MAP}\nheigth = 3.0\n");
        let err = parse_map("maps/test.toml", &text).unwrap_err().to_string();
        assert!(err.contains("heigth"), "names the typo: {err}");
    }

    #[test]
    fn a_view_with_a_tiny_cell_or_a_negative_radius_is_refused_by_field() {
        let ok = format!("{MAP}\n[view]\nradius = 300.0\ncell = 100.0\nmargin = 50.0\n");
        let map = parse_map("maps/test.toml", &ok).expect("a valid view");
        assert_eq!(map.view.map(|v| v.cell), Some(100.0));
        for (bad, field) in [
            ("radius = -1.0\ncell = 100.0\nmargin = 0.0", "view.radius"),
            ("radius = 300.0\ncell = 0.5\nmargin = 0.0", "view.cell"),
            ("radius = 300.0\ncell = 100.0\nmargin = nan", "view.margin"),
        ] {
            let text = format!("{MAP}\n[view]\n{bad}\n");
            let err = parse_map("maps/test.toml", &text).unwrap_err().to_string();
            assert!(err.contains(field), "names {field}: {err}");
        }
    }

    #[test]
    fn a_spawn_inside_a_wall_is_refused() {
        let text = MAP
            .replace("spawns = [{ x = 500.0", "spawns = [{ x = 120.0")
            .replace("y = 400.0 }]", "y = 150.0 }]");
        let err = parse_map("maps/test.toml", &text).unwrap_err().to_string();
        assert!(
            err.contains("spawns[0]") && err.contains("walls[0]"),
            "{err}"
        );
    }

    #[test]
    fn the_shipped_assets_are_valid() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/arena");
        let game = std::fs::read_to_string(format!("{root}/game.toml")).expect("game.toml");
        let game = parse_game("game.toml", &game).expect("game.toml is valid");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(format!("{root}/maps")).expect("maps dir") {
            let path = entry.expect("dir entry").path();
            let text = std::fs::read_to_string(&path).expect("map file");
            parse_map(&path.display().to_string(), &text).expect("shipped map is valid");
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("a name");
            names.push(stem.to_string());
        }
        assert!(names.len() >= 2, "at least two maps: {names:?}");
        assert!(
            names.contains(&game.default_map),
            "default map {} exists",
            game.default_map
        );
    }

    /// Found by the fuzzer (`fuzz/`, target `assets`): `game.toml` took any positive size or
    /// speed, and past the fixed point's range a match panicked on overflow when it started
    /// (`projectile_radius = 40000000000.0`) or when a player moved (`speed = 2.2e19`).
    #[test]
    fn sizes_and_speeds_past_the_fixed_point_are_refused() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/arena");
        let text = std::fs::read_to_string(format!("{root}/game.toml")).expect("game.toml");
        for (from, to, field) in [
            (
                "projectile_radius = 4.0",
                "projectile_radius = 40000000000.0",
                "weapon.projectile_radius",
            ),
            ("speed = 220.0", "speed = 2.2e19", "player.speed"),
            ("radius = 16.0", "radius = 100000.5", "player.radius"),
            (
                "dash_speed = 900.0",
                "dash_speed = inf",
                "player.dash_speed",
            ),
            (
                "projectile_speed = 700.0",
                "projectile_speed = 3.4e38",
                "weapon.projectile_speed",
            ),
            ("radius = 12.0", "radius = 1e30", "orbs.radius"),
        ] {
            assert!(text.contains(from), "the shipped file has {from}");
            let err = parse_game("game.toml", &text.replacen(from, to, 1))
                .expect_err(to)
                .to_string();
            assert!(err.contains(field), "{to}: {err}");
        }
        let text = text.replacen("speed = 220.0", "speed = 100000.0", 1);
        assert!(
            parse_game("game.toml", &text).is_ok(),
            "the bound itself is accepted"
        );
    }

    #[test]
    fn a_bad_tick_rate_names_the_field() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/arena");
        let text = std::fs::read_to_string(format!("{root}/game.toml")).expect("game.toml");
        let text = text.replace("tick_rate = 30", "tick_rate = 500");
        let err = parse_game("game.toml", &text).unwrap_err().to_string();
        assert!(
            err.contains("game.toml") && err.contains("tick_rate"),
            "{err}"
        );
    }
}
