//! The arena bot: reads [`ArenaEntity`] rows of its replica and answers an [`ArenaInput`].
//!
//! Call order: [`ArenaBot::new`] once per bot, then [`ArenaBot::decide`] for every snapshot
//! the bot processes.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use shared::World;
use shared::games::arena::{ArenaEntity, ArenaInput, ArenaKind, MOVE_DIRECTIONS, buttons, flags};
use shared::quant::{POS_SCALE, angle_to_u16};

use super::rng_for;

/// Distance (fixed point) within which chasers fire and strafers keep their distance.
const FIRE_RANGE: i64 = 450 * POS_SCALE as i64;
/// Distance beyond which a chaser may dash toward its target.
const DASH_RANGE: i64 = 700 * POS_SCALE as i64;
/// Ticks without moving after which a bot counts as stuck on a wall and turns.
const STUCK_TICKS: u32 = 6;

/// How a bot plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// Walks a heading for a second or so, then picks another; fires now and then.
    Wander,
    /// Runs at the nearest live player, aims at it and fires in range.
    Chase,
    /// Circles the nearest live player at range, aiming at it and firing all the time.
    Strafe,
}

/// One arena bot's seeded decision maker.
#[derive(Debug, Clone)]
pub struct ArenaBot {
    style: Style,
    rng: ChaCha8Rng,
    /// Wander: the heading (1..=8) and the ticks left on it.
    heading: u8,
    heading_ticks: u32,
    /// Strafe: which way round the target (+1 clockwise, -1 anticlockwise), ticks left.
    side: i8,
    side_ticks: u32,
    /// Where the bot was last tick, and for how many ticks it has not moved while walking.
    last_pos: Option<(i32, i32)>,
    still_ticks: u32,
}

impl ArenaBot {
    /// The arena bot `bot` of a run seeded with `seed`: its style and every later choice
    /// follow from these two numbers.
    pub fn new(seed: u64, bot: u32) -> ArenaBot {
        let mut rng = rng_for(seed, bot);
        let style = match rng.random_range(0..3u8) {
            0 => Style::Wander,
            1 => Style::Chase,
            _ => Style::Strafe,
        };
        ArenaBot::from_rng(style, rng)
    }

    /// Like [`ArenaBot::new`] with the style chosen by the caller.
    pub fn with_style(style: Style, seed: u64, bot: u32) -> ArenaBot {
        ArenaBot::from_rng(style, rng_for(seed, bot))
    }

    pub fn style(&self) -> Style {
        self.style
    }

    /// This tick's input for player `player_id` in `world`. A player that is not in the world
    /// yet, or dead, stands still.
    pub fn decide(&mut self, world: &World, player_id: u32) -> ArenaInput {
        let Some(me) = own_player(world, player_id) else {
            self.last_pos = None;
            return ArenaInput::IDLE;
        };
        if me.flags & flags::DEAD != 0 {
            self.last_pos = None;
            return ArenaInput::IDLE;
        }
        let stuck = self.note_position(&me);
        let target = nearest_live_player(world, player_id, &me);
        match (self.style, target) {
            (Style::Chase, Some(target)) => self.chase(&me, &target),
            (Style::Strafe, Some(target)) => self.strafe(&me, &target, stuck),
            _ => self.wander(stuck),
        }
    }

    fn from_rng(style: Style, mut rng: ChaCha8Rng) -> ArenaBot {
        let heading = rng.random_range(1..=MOVE_DIRECTIONS);
        let heading_ticks = rng.random_range(15..60);
        let side = if rng.random_bool(0.5) { 1 } else { -1 };
        let side_ticks = rng.random_range(20..60);
        ArenaBot {
            style,
            rng,
            heading,
            heading_ticks,
            side,
            side_ticks,
            last_pos: None,
            still_ticks: 0,
        }
    }

    /// Tracks whether the bot is pressed against a wall; `true` when it should turn.
    fn note_position(&mut self, me: &ArenaEntity) -> bool {
        let pos = (me.x, me.y);
        if self.last_pos == Some(pos) {
            self.still_ticks += 1;
        } else {
            self.still_ticks = 0;
        }
        self.last_pos = Some(pos);
        if self.still_ticks >= STUCK_TICKS {
            self.still_ticks = 0;
            true
        } else {
            false
        }
    }

    fn wander(&mut self, stuck: bool) -> ArenaInput {
        if stuck || self.heading_ticks == 0 {
            self.heading = self.rng.random_range(1..=MOVE_DIRECTIONS);
            self.heading_ticks = self.rng.random_range(15..60);
        }
        self.heading_ticks -= 1;
        let fire = self.rng.random_bool(0.05);
        ArenaInput {
            buttons: if fire { buttons::FIRE } else { 0 },
            move_dir: self.heading,
            aim: heading_aim(self.heading),
        }
    }

    fn chase(&mut self, me: &ArenaEntity, target: &ArenaEntity) -> ArenaInput {
        let (dx, dy) = (target.x - me.x, target.y - me.y);
        let angle = (dy as f32).atan2(dx as f32);
        let distance_sq = i64::from(dx).pow(2) + i64::from(dy).pow(2);
        let mut pressed = 0;
        if distance_sq <= FIRE_RANGE * FIRE_RANGE {
            pressed |= buttons::FIRE;
        } else if distance_sq >= DASH_RANGE * DASH_RANGE && self.rng.random_bool(0.02) {
            pressed |= buttons::DASH;
        }
        ArenaInput {
            buttons: pressed,
            move_dir: direction(angle),
            aim: angle_to_u16(angle),
        }
    }

    fn strafe(&mut self, me: &ArenaEntity, target: &ArenaEntity, stuck: bool) -> ArenaInput {
        if stuck || self.side_ticks == 0 {
            self.side = -self.side;
            self.side_ticks = self.rng.random_range(20..60);
        }
        self.side_ticks -= 1;
        let (dx, dy) = (target.x - me.x, target.y - me.y);
        let angle = (dy as f32).atan2(dx as f32);
        let distance_sq = i64::from(dx).pow(2) + i64::from(dy).pow(2);
        // Across the line to the target, leaning in when far and out when close.
        let lean = if distance_sq > FIRE_RANGE * FIRE_RANGE {
            -std::f32::consts::FRAC_PI_4
        } else {
            0.0
        };
        let quarter = std::f32::consts::FRAC_PI_2 + lean;
        let heading = angle + f32::from(self.side) * quarter;
        ArenaInput {
            buttons: buttons::FIRE,
            move_dir: direction(heading),
            aim: angle_to_u16(angle),
        }
    }
}

/// The player entity owned by `player_id`.
fn own_player(world: &World, player_id: u32) -> Option<ArenaEntity> {
    world
        .entities::<ArenaEntity>()
        .map(|(_, e)| e)
        .find(|e| e.kind == ArenaKind::Player && e.owner == player_id)
}

/// The nearest other player that is alive; ties go to the lower network id.
fn nearest_live_player(world: &World, player_id: u32, me: &ArenaEntity) -> Option<ArenaEntity> {
    world
        .entities::<ArenaEntity>()
        .map(|(_, e)| e)
        .filter(|e| e.kind == ArenaKind::Player && e.owner != player_id)
        .filter(|e| e.flags & flags::DEAD == 0)
        .min_by_key(|e| i64::from(e.x - me.x).pow(2) + i64::from(e.y - me.y).pow(2))
}

/// The compass `move_dir` (1..=8) nearest to `angle` (radians, clockwise from east on a screen
/// whose y axis points down).
pub fn direction(angle: f32) -> u8 {
    let eighths = (angle / std::f32::consts::FRAC_PI_4).round() as i32;
    // rem_euclid(8) is in 0..8, so the sum fits a u8.
    (eighths.rem_euclid(i32::from(MOVE_DIRECTIONS)) + 1) as u8
}

/// The aim that looks along compass direction `move_dir`.
fn heading_aim(move_dir: u8) -> u16 {
    let eighths = f32::from(move_dir.saturating_sub(1));
    angle_to_u16(eighths * std::f32::consts::FRAC_PI_4)
}

#[cfg(test)]
mod tests {
    use shared::{NetId, Replicated};

    use super::*;

    fn player(owner: u32, x: i32, y: i32) -> ArenaEntity {
        ArenaEntity {
            owner,
            health: 100,
            ..ArenaEntity::new(ArenaKind::Player, x * POS_SCALE, y * POS_SCALE)
        }
    }

    fn world(players: &[ArenaEntity]) -> World {
        World::from_entities(
            players
                .iter()
                .enumerate()
                .map(|(i, p)| (NetId::new(i as u32 + 1, 1), *p))
                .collect(),
        )
    }

    /// Aims within a small quantisation error of `expected`.
    fn aims_at(aim: u16, expected: u16) -> bool {
        aim.wrapping_sub(expected).min(expected.wrapping_sub(aim)) < 200
    }

    #[test]
    fn directions_follow_the_compass_clockwise_from_east() {
        use std::f32::consts::{FRAC_PI_2, FRAC_PI_4, PI};
        assert_eq!(direction(0.0), 1, "east");
        assert_eq!(direction(FRAC_PI_4), 2, "south-east (y points down)");
        assert_eq!(direction(FRAC_PI_2), 3, "south");
        assert_eq!(direction(PI), 5, "west");
        assert_eq!(direction(-PI), 5, "west from the other side");
        assert_eq!(direction(-FRAC_PI_2), 7, "north");
        assert_eq!(direction(-0.1), 1, "just north of east rounds to east");
    }

    #[test]
    fn a_chaser_runs_at_the_nearest_live_player_and_fires_in_range() {
        let mut dead = player(4, 101, 100);
        dead.flags = flags::DEAD;
        let w = world(&[
            player(1, 100, 100),
            player(2, 400, 100),
            player(3, 100, -900),
            dead,
        ]);
        let mut bot = ArenaBot::with_style(Style::Chase, 7, 0);
        let cmd = bot.decide(&w, 1);
        assert_eq!(
            cmd.move_dir, 1,
            "east, toward player 2 (the dead one is ignored)"
        );
        assert!(aims_at(cmd.aim, 0), "aims east: {}", cmd.aim);
        assert_eq!(
            cmd.buttons & buttons::FIRE,
            buttons::FIRE,
            "300 units is in range"
        );

        let far = world(&[player(1, 0, 0), player(2, 0, 1000)]);
        let cmd = bot.decide(&far, 1);
        assert_eq!(cmd.move_dir, 3, "south, toward the only other player");
        assert!(aims_at(cmd.aim, 1 << 14), "aims south: {}", cmd.aim);
        assert_eq!(cmd.buttons & buttons::FIRE, 0, "1000 units is out of range");
    }

    #[test]
    fn a_strafer_moves_across_the_line_to_its_target_and_fires() {
        let w = world(&[player(1, 100, 100), player(2, 300, 100)]);
        let mut bot = ArenaBot::with_style(Style::Strafe, 3, 5);
        let cmd = bot.decide(&w, 1);
        assert!(
            cmd.move_dir == 3 || cmd.move_dir == 7,
            "north or south of a target due east, got {}",
            cmd.move_dir
        );
        assert!(aims_at(cmd.aim, 0), "aims at the target: {}", cmd.aim);
        assert_eq!(cmd.buttons, buttons::FIRE, "always firing");
    }

    #[test]
    fn without_a_target_chasers_and_strafers_wander() {
        let alone = world(&[player(1, 100, 100)]);
        for style in [Style::Chase, Style::Strafe] {
            let cmd = ArenaBot::with_style(style, 1, 1).decide(&alone, 1);
            assert!(
                (1..=MOVE_DIRECTIONS).contains(&cmd.move_dir),
                "{style:?} walks somewhere: {cmd:?}"
            );
        }
    }

    #[test]
    fn an_absent_or_dead_player_stands_still() {
        let mut bot = ArenaBot::new(1, 2);
        assert_eq!(
            bot.decide(&World::new(ArenaEntity::SCHEMA), 1),
            ArenaInput::IDLE,
            "not in the world yet"
        );
        let mut me = player(1, 10, 10);
        me.flags = flags::DEAD;
        assert_eq!(
            bot.decide(&world(&[me, player(2, 20, 20)]), 1),
            ArenaInput::IDLE,
            "dead"
        );
    }

    #[test]
    fn the_same_seed_and_bot_make_the_same_choices() {
        let w = world(&[player(1, 100, 100), player(2, 900, 500)]);
        let run = |seed, bot| {
            let mut b = ArenaBot::new(seed, bot);
            (0..200).map(|_| b.decide(&w, 1)).collect::<Vec<_>>()
        };
        assert_eq!(run(9, 4), run(9, 4), "deterministic per seed and bot");
        let styles: Vec<Style> = (0..30).map(|bot| ArenaBot::new(9, bot).style()).collect();
        for style in [Style::Wander, Style::Chase, Style::Strafe] {
            assert!(
                styles.contains(&style),
                "{style:?} among 30 bots: {styles:?}"
            );
        }
        let wanderers: Vec<u32> = (0..30)
            .filter(|bot| ArenaBot::new(9, *bot).style() == Style::Wander)
            .collect();
        let a = run(9, wanderers[0]);
        let b = run(9, wanderers[1]);
        assert_ne!(a, b, "two wanderers walk differently");
    }

    #[test]
    fn a_wanderer_stuck_on_a_wall_turns() {
        let w = world(&[player(1, 0, 0)]);
        let mut bot = ArenaBot::with_style(Style::Wander, 11, 0);
        let first = bot.decide(&w, 1).move_dir;
        let turned = (0..STUCK_TICKS + 1).any(|_| bot.decide(&w, 1).move_dir != first);
        // A new heading is random and may repeat, so allow a second stuck period.
        let turned = turned || (0..STUCK_TICKS + 1).any(|_| bot.decide(&w, 1).move_dir != first);
        assert!(turned, "the heading changed while the bot did not move");
    }
}
