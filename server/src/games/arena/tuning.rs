//! [`ArenaConfig`] converted once into the simulation's units: ticks instead of seconds, fixed-point
//! units (see [`shared::quant::POS_SCALE`]) instead of world units, and fixed-point units per tick
//! instead of units per second.

use super::config::ArenaConfig;
use shared::quant::{POS_SCALE, pos_to_fixed};

/// `1/sqrt(2)` as a 16-bit fraction, for diagonal moves.
const INV_SQRT2_Q16: i64 = 46_341;

/// The eight compass directions of `move_dir` 1..=8, clockwise from east on a screen whose y axis
/// points down; index 0 is "stand still".
const COMPASS: [(i32, i32); 9] = [
    (0, 0),
    (1, 0),
    (1, 1),
    (0, 1),
    (-1, 1),
    (-1, 0),
    (-1, -1),
    (0, -1),
    (1, -1),
];

/// Tuning in simulation units. Every duration is in ticks, every length and speed in fixed point.
#[derive(Debug, Clone)]
pub(crate) struct Tuning {
    pub(crate) match_ticks: u32,
    /// At least 1: a dead player misses at least one tick.
    pub(crate) respawn_ticks: u32,
    pub(crate) player_radius: i32,
    pub(crate) max_health: i32,
    /// Velocity per `move_dir`, diagonals normalised.
    pub(crate) walk: [(i32, i32); 9],
    /// Dash velocity per `move_dir` (index 0 unused: a dash from standing goes along the aim).
    pub(crate) dash: [(i32, i32); 9],
    pub(crate) dash_speed: i32,
    pub(crate) dash_ticks: u32,
    pub(crate) dash_cooldown_ticks: u32,
    pub(crate) fire_cooldown_ticks: u32,
    pub(crate) projectile_speed: i32,
    pub(crate) projectile_radius: i32,
    /// At least 1.
    pub(crate) projectile_ticks: u32,
    pub(crate) damage: i32,
    pub(crate) orb_radius: i32,
    pub(crate) orb_points: u32,
    /// At least 1.
    pub(crate) orb_respawn_ticks: u32,
    pub(crate) kill_points: u32,
}

impl Tuning {
    pub(crate) fn new(game: &ArenaConfig) -> Tuning {
        let rate = game.tick_rate.max(1);
        let ticks = |seconds: f32| seconds_to_ticks(seconds, rate);
        let speed = |units_per_s: f32| speed_per_tick(units_per_s, rate);
        let walk_speed = speed(game.player.speed);
        let dash_speed = speed(game.player.dash_speed);
        let dash_ticks = ticks(game.player.dash_duration_s);
        Tuning {
            match_ticks: ticks(game.match_length_s).max(1),
            respawn_ticks: ticks(game.respawn_delay_s).max(1),
            player_radius: pos_to_fixed(game.player.radius).max(1),
            max_health: i32::from(game.player.max_health).max(1),
            walk: compass_velocities(walk_speed),
            dash: compass_velocities(dash_speed),
            dash_speed,
            // A positive duration shorter than a tick still dashes for one tick.
            dash_ticks: if game.player.dash_duration_s > 0.0 {
                dash_ticks.max(1)
            } else {
                0
            },
            dash_cooldown_ticks: ticks(game.player.dash_cooldown_s),
            fire_cooldown_ticks: ticks(game.weapon.fire_cooldown_s),
            projectile_speed: speed(game.weapon.projectile_speed),
            projectile_radius: pos_to_fixed(game.weapon.projectile_radius).max(1),
            projectile_ticks: ticks(game.weapon.projectile_lifetime_s).max(1),
            damage: i32::from(game.weapon.damage),
            orb_radius: pos_to_fixed(game.orbs.radius).max(1),
            orb_points: u32::from(game.orbs.points),
            orb_respawn_ticks: ticks(game.orbs.respawn_s).max(1),
            kill_points: u32::from(game.scoring.kill_points),
        }
    }
}

/// Seconds to whole ticks, rounded to nearest (saturating; negative is 0).
pub(crate) fn seconds_to_ticks(seconds: f32, tick_rate: u16) -> u32 {
    (f64::from(seconds) * f64::from(tick_rate)).round() as u32
}

/// Units per second to fixed-point units per tick, rounded to nearest.
pub(crate) fn speed_per_tick(units_per_s: f32, tick_rate: u16) -> i32 {
    (f64::from(units_per_s) * f64::from(POS_SCALE) / f64::from(tick_rate)).round() as i32
}

/// `speed` along each compass direction; diagonal components are `speed / sqrt(2)`, rounded to
/// nearest in integer arithmetic.
fn compass_velocities(speed: i32) -> [(i32, i32); 9] {
    let diagonal = ((i64::from(speed) * INV_SQRT2_Q16 + (1 << 15)) >> 16) as i32;
    COMPASS.map(|(x, y)| {
        let component = if x != 0 && y != 0 { diagonal } else { speed };
        (x * component, y * component)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_speeds_convert_to_ticks_and_fixed_point() {
        assert_eq!(seconds_to_ticks(180.0, 30), 5400, "3 minutes at 30 Hz");
        assert_eq!(seconds_to_ticks(0.25, 30), 8, "7.5 ticks rounds up");
        assert_eq!(
            speed_per_tick(220.0, 30),
            117,
            "220 u/s * 16 / 30 = 117.3 fixed per tick"
        );
    }

    #[test]
    fn diagonals_are_normalised() {
        let v = compass_velocities(128);
        assert_eq!(v[0], (0, 0), "0 stands still");
        assert_eq!(v[1], (128, 0), "1 is east");
        assert_eq!(
            v[2],
            (91, 91),
            "2 is south-east, 128/sqrt(2) = 90.5 rounded"
        );
        assert_eq!(v[3], (0, 128), "3 is south (y down)");
        assert_eq!(v[7], (0, -128), "7 is north");
        assert_eq!(v[8], (91, -91), "8 is north-east");
    }
}
