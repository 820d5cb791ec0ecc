//! The object-safe face of a [`Game`]: what the tick driver calls, in wire terms (rows, input
//! values, events by kind), so one driver runs every game.

use shared::schema::{GameProtocol, InputValues, NetEvent, Replicated};
use shared::{Event, NetId, World};

use super::{Events, Game, Interest, JoinInfo, Outcome, PlayerId, Refusal, WorldWriter};

/// A running game of any type. Same call order as [`Game`]. The tick driver holds one; tests
/// and benchmarks get one from [`super::Games::start`].
pub trait AnyGame: Send {
    fn protocol(&self) -> &'static GameProtocol;
    fn join(&mut self, player: PlayerId, who: &JoinInfo<'_>) -> Result<(), Refusal>;
    fn leave(&mut self, player: PlayerId);
    /// Hands the game a player's input; `false` (and nothing handed) if the declaration does not
    /// admit the values.
    fn input(&mut self, player: PlayerId, values: &InputValues) -> bool;
    /// Steps the game, appending its events to `events`.
    fn step(&mut self, events: &mut Vec<Event>);
    fn world(&self) -> World;
    fn is_over(&self) -> bool;
    fn ticks_remaining(&self) -> u32;
    fn results(&self) -> Vec<Outcome>;
    fn state_hash(&self) -> u64;
    fn interest(&self) -> Interest;
    fn viewpoint(&self, player: PlayerId) -> Option<(i32, i32)>;
    fn sees(&self, player: PlayerId, id: NetId, row: &[i32]) -> bool;
}

/// A game and its event buffer, reused every step.
pub(crate) struct Running<G: Game> {
    game: G,
    events: Events<G::Event>,
    /// Entities in the last world shown: the next one is about as big.
    last_world: std::cell::Cell<usize>,
}

impl<G: Game> Running<G> {
    pub(crate) fn new(game: G) -> Running<G> {
        Running {
            game,
            events: Events::new(),
            last_world: std::cell::Cell::new(0),
        }
    }
}

impl<G: Game> AnyGame for Running<G> {
    fn protocol(&self) -> &'static GameProtocol {
        G::PROTOCOL
    }

    fn join(&mut self, player: PlayerId, who: &JoinInfo<'_>) -> Result<(), Refusal> {
        self.game.join(player, who)
    }

    fn leave(&mut self, player: PlayerId) {
        self.game.leave(player);
    }

    fn input(&mut self, player: PlayerId, values: &InputValues) -> bool {
        match G::Input::read_row(values.as_slice()) {
            Some(input) => {
                self.game.input(player, input);
                true
            }
            None => false,
        }
    }

    fn step(&mut self, events: &mut Vec<Event>) {
        self.game.step(&mut self.events);
        events.extend(self.events.drain().map(|e| Event::Game {
            kind: e.kind(),
            values: e.values(),
        }));
    }

    fn world(&self) -> World {
        let mut out = WorldWriter::with_capacity(self.last_world.get() + 8);
        self.game.world(&mut out);
        let world = out.finish();
        self.last_world.set(world.len());
        world
    }

    fn is_over(&self) -> bool {
        self.game.is_over()
    }

    fn ticks_remaining(&self) -> u32 {
        self.game.ticks_remaining()
    }

    fn results(&self) -> Vec<Outcome> {
        self.game.results()
    }

    fn state_hash(&self) -> u64 {
        self.game.state_hash()
    }

    fn interest(&self) -> Interest {
        self.game.interest()
    }

    fn viewpoint(&self, player: PlayerId) -> Option<(i32, i32)> {
        self.game.viewpoint(player)
    }

    fn sees(&self, player: PlayerId, id: NetId, row: &[i32]) -> bool {
        self.game.sees(player, id, row)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::game::GameSet;

    #[test]
    fn inputs_the_declaration_does_not_admit_never_reach_the_game() {
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
        let games = GameSet::shipped().load(&assets).expect("shipped assets");
        let mut game = games.start("arena", "arena", 1).expect("the arena map");
        let who = JoinInfo {
            account_id: 1,
            username: "a",
        };
        game.join(1, &who).expect("seated");
        let values = |v: &[i32]| InputValues::new(v).expect("few values");
        assert!(
            !game.input(1, &values(&[0xFF, 200, 0])),
            "buttons and direction out of range"
        );
        assert!(!game.input(1, &values(&[0, 1])), "a field missing");
        assert!(!game.input(1, &values(&[0, 1, 0, 0])), "a field too many");
        assert!(
            game.input(1, &values(&[1, 8, 65_535])),
            "the extremes are valid"
        );
    }
}
