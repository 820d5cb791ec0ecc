//! What a bot does each tick, decided from its own copy of the world. Pure: no I/O, no clock;
//! seeded from the run's seed and the bot's index, so a bot makes the same choices for the same
//! worlds every run.
//!
//! Each shipped game has its own bot ([`arena`], [`cycles`]); any other game gets the
//! [`RandomBot`], which needs nothing but the game's declared input ranges. Every input a
//! behaviour answers is within those ranges: the server ends a connection for anything else.
//!
//! Call order: [`Behaviour::for_game`] once per bot, then [`Behaviour::decide`] for every
//! snapshot the bot processes; [`Behaviour::held`] while the bot is not deciding.

pub mod arena;
pub mod cycles;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use shared::schema::Field;
use shared::{GameProtocol, InputValues, World};

pub use arena::{ArenaBot, Style, direction};
pub use cycles::CyclesBot;

/// A bot's way of playing its game.
#[derive(Debug, Clone)]
pub enum Behaviour {
    Arena(ArenaBot),
    Cycles(CyclesBot),
    /// Any game this crate does not know.
    Random(RandomBot),
}

impl Behaviour {
    /// The behaviour of bot `bot` in a run of `game` seeded with `seed`: chosen by the game's
    /// name, with [`RandomBot`] for names this crate does not know.
    pub fn for_game(game: &'static GameProtocol, seed: u64, bot: u32) -> Behaviour {
        match game.name {
            // The shipped bots read the shipped declarations; a game that only shares the
            // name (another version) would not decode, so it gets the generic bot.
            "arena" if game == &shared::games::arena::PROTOCOL => {
                Behaviour::Arena(ArenaBot::new(seed, bot))
            }
            "cycles" if game == &shared::games::cycles::PROTOCOL => {
                Behaviour::Cycles(CyclesBot::new(seed, bot))
            }
            _ => Behaviour::Random(RandomBot::new(game, seed, bot)),
        }
    }

    /// This tick's input for player `player_id` in `world`.
    pub fn decide(&mut self, world: &World, player_id: u32) -> InputValues {
        match self {
            Behaviour::Arena(b) => InputValues::of(&b.decide(world, player_id)),
            Behaviour::Cycles(b) => InputValues::of(&b.decide(world, player_id)),
            Behaviour::Random(b) => b.decide(),
        }
    }

    /// The input of a player doing nothing: what a bot sends before it has decided anything.
    /// Whether the behaviour steers by the map's layout (then hand it over with
    /// [`Behaviour::know_map`]).
    pub fn wants_map(&self) -> bool {
        matches!(self, Behaviour::Cycles(_))
    }

    /// Hands the map's layout (`GET /v1/games/{game}/maps/{map}`) to a behaviour that uses it.
    pub fn know_map(&mut self, layout: &serde_json::Value) {
        if let Behaviour::Cycles(b) = self {
            b.know_map(layout);
        }
    }

    pub fn idle(&self) -> InputValues {
        match self {
            Behaviour::Arena(_) => InputValues::of(&shared::games::arena::ArenaInput::IDLE),
            Behaviour::Cycles(_) => InputValues::of(&cycles::STRAIGHT),
            Behaviour::Random(b) => b.idle(),
        }
    }

    /// What to send again, on ticks the bot does not decide (a paused reader), after `last`:
    /// held controls repeat, presses do not.
    pub fn held(&self, last: InputValues) -> InputValues {
        match self {
            Behaviour::Cycles(_) => InputValues::of(&cycles::STRAIGHT),
            Behaviour::Arena(_) | Behaviour::Random(_) => last,
        }
    }

    /// The behaviour's name for logs and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Behaviour::Arena(_) => "arena",
            Behaviour::Cycles(_) => "cycles",
            Behaviour::Random(_) => "random",
        }
    }
}

/// Ticks a random input is held for, at least and at most: a new value every tick would make
/// held controls jitter in place.
const RANDOM_HOLD: std::ops::Range<u32> = 5..30;

/// Plays any game: random values within every declared input range, each input held a few
/// ticks.
#[derive(Debug, Clone)]
pub struct RandomBot {
    game: &'static GameProtocol,
    rng: ChaCha8Rng,
    current: InputValues,
    ticks_left: u32,
}

impl RandomBot {
    pub fn new(game: &'static GameProtocol, seed: u64, bot: u32) -> RandomBot {
        let mut bot = RandomBot {
            game,
            rng: rng_for(seed, bot),
            current: InputValues::default(),
            ticks_left: 0,
        };
        bot.current = bot.draw();
        bot
    }

    pub fn decide(&mut self) -> InputValues {
        if self.ticks_left == 0 {
            self.current = self.draw();
            self.ticks_left = self.rng.random_range(RANDOM_HOLD);
        }
        self.ticks_left -= 1;
        self.current
    }

    /// Every field at the value of its range nearest zero.
    pub fn idle(&self) -> InputValues {
        input_row(self.game, |field| {
            0i64.clamp(field.min.min(field.max), field.max.max(field.min))
        })
    }

    /// One random value per declared input field, within its range, in wire form.
    fn draw(&mut self) -> InputValues {
        let rng = &mut self.rng;
        // The declared range is within the field's type (`GameProtocol::check`), so the
        // wrap in `input_row` is the identity on it; a bad declaration still yields some value.
        input_row(self.game, |field| {
            rng.random_range(field.min.min(field.max)..=field.max.max(field.min))
        })
    }
}

/// One value per input field `game` declares, chosen by `value`, in wire form.
fn input_row(game: &GameProtocol, mut value: impl FnMut(&Field) -> i64) -> InputValues {
    let mut row = [0i32; shared::schema::MAX_INPUT_FIELDS];
    let fields = game.input.fields;
    // `GameProtocol::check` bounds inputs to MAX_INPUT_FIELDS; a game that skipped it gets its
    // first fields only, and the session refuses the short input.
    let n = fields.len().min(row.len());
    for (slot, field) in row.iter_mut().zip(&fields[..n]) {
        *slot = field.ty.wrap(value(field));
    }
    // At most MAX_INPUT_FIELDS values, so `new` accepts them.
    InputValues::new(&row[..n]).unwrap_or_default()
}

/// The bot's random stream: one ChaCha stream per bot under the run's seed.
fn rng_for(seed: u64, bot: u32) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::from(bot));
    rng
}

#[cfg(test)]
mod tests {
    use shared::schema::{Encoding, EventSchema, Field, FieldType, Schema};

    use super::*;

    static ODD_INPUT: Schema = Schema {
        name: "OddInput",
        fields: &[
            Field {
                name: "gear",
                ty: FieldType::I8,
                encoding: Encoding::Value,
                min: -3,
                max: 2,
            },
            Field {
                name: "throttle",
                ty: FieldType::U32,
                encoding: Encoding::Value,
                min: 4_000_000_000,
                max: 4_000_000_010,
            },
            Field {
                name: "horn",
                ty: FieldType::Bool,
                encoding: Encoding::Value,
                min: 0,
                max: 1,
            },
        ],
    };

    static ODD: GameProtocol = GameProtocol {
        name: "odd",
        entity: &ODD_INPUT,
        input: &ODD_INPUT,
        events: &EventSchema {
            name: "OddEvent",
            variants: &[],
        },
        stats: &[],
    };

    #[test]
    fn behaviours_are_chosen_by_game_with_a_fallback() {
        let arena = &shared::games::arena::PROTOCOL;
        let cycles = &shared::games::cycles::PROTOCOL;
        assert_eq!(Behaviour::for_game(arena, 1, 0).name(), "arena", "arena");
        assert_eq!(Behaviour::for_game(cycles, 1, 0).name(), "cycles", "cycles");
        assert_eq!(Behaviour::for_game(&ODD, 1, 0).name(), "random", "unknown");
    }

    #[test]
    fn random_inputs_stay_within_the_declared_ranges() {
        let mut bot = Behaviour::for_game(&ODD, 3, 9);
        let world = World::new(ODD.entity);
        let mut gears = std::collections::BTreeSet::new();
        for _ in 0..2000 {
            let input = bot.decide(&world, 1);
            assert!(
                ODD.input.admits(input.as_slice()),
                "admitted by the declaration: {input:?}"
            );
            gears.insert(input.as_slice()[0]);
        }
        assert_eq!(gears.len(), 6, "every gear -3..=2 drawn: {gears:?}");
        assert!(
            ODD.input.admits(bot.idle().as_slice()),
            "idle is admitted too: {:?}",
            bot.idle()
        );
    }

    #[test]
    fn every_behaviour_answers_inputs_its_game_admits() {
        for game in shared::games::shipped() {
            for bot in 0..6 {
                let mut b = Behaviour::for_game(game, 5, bot);
                let input = b.decide(&World::new(game.entity), 1);
                assert!(
                    game.input.admits(input.as_slice()),
                    "{}: {input:?}",
                    game.name
                );
                assert!(
                    game.input.admits(b.held(input).as_slice()),
                    "{}: held {input:?}",
                    game.name
                );
                assert!(
                    game.input.admits(b.idle().as_slice()),
                    "{}: idle",
                    game.name
                );
            }
        }
    }
}
