//! Recording a match as it is played: a [`Recorder`] stands between the tick driver and the
//! game, passes every call through and writes down the ones that change the game's state.

use std::sync::{Arc, Mutex, MutexGuard};

use shared::schema::{GameProtocol, InputValues};
use shared::{Event, NetId, Tick, World};

use super::format::{Checkpoint, FORMAT_VERSION, Op, Replay, decode_op, encode_op};
use crate::game::{AnyGame, Interest, JoinInfo, Outcome, PlayerId, Refusal};

/// What a replay is about, known when the match starts.
#[derive(Debug, Clone)]
pub(crate) struct ReplayHeader {
    pub(crate) match_id: String,
    pub(crate) map: String,
    /// [`super::assets_hash`] of the game and map.
    pub(crate) assets_hash: u64,
    pub(crate) seed: u64,
    pub(crate) tick_rate: u16,
    /// Ticks between recorded state hashes (at least 1).
    pub(crate) hash_interval: u32,
}

/// A game that records what is done to it. Same calls and answers as the game it wraps.
pub(crate) struct Recorder {
    game: Box<dyn AnyGame>,
    tape: Arc<Mutex<Tape>>,
    hash_interval: u32,
}

/// The other end of a [`Recorder`]: what the driver keeps to take the replay out at the end,
/// while the recorder itself sits behind `Box<dyn AnyGame>` where nothing can reach it.
#[derive(Debug)]
pub(crate) struct Recording {
    tape: Arc<Mutex<Tape>>,
}

#[derive(Debug)]
struct Tape {
    header: ReplayHeader,
    game: &'static str,
    game_hash: u64,
    /// The operations so far, encoded as they are stored: a few bytes an input instead of the
    /// 48 of an `Op`, for the 86,400 inputs of a three-minute match of 16 players.
    ops: Vec<u8>,
    op_count: usize,
    /// Steps since the last other operation: one `Steps` once something else comes.
    steps: u32,
    hashes: Vec<Checkpoint>,
    tick: Tick,
}

impl Tape {
    fn push(&mut self, op: &Op) {
        self.flush_steps();
        encode_op(op, &mut self.ops);
        self.op_count += 1;
    }

    fn flush_steps(&mut self) {
        if self.steps > 0 {
            encode_op(&Op::Steps(self.steps), &mut self.ops);
            self.op_count += 1;
            self.steps = 0;
        }
    }

    fn decode_ops(&mut self) -> Vec<Op> {
        self.flush_steps();
        let mut ops = Vec::with_capacity(self.op_count);
        let mut rest = &self.ops[..];
        for _ in 0..self.op_count {
            // Invariant: the tape holds `op_count` operations it encoded itself.
            let (op, used) = decode_op(rest).expect("a tape decodes what it encoded");
            ops.push(op);
            rest = &rest[used..];
        }
        self.ops = Vec::new();
        ops
    }
}

/// Locks a tape. A std mutex, never contended: both ends live on the match's driver task (it
/// is only there because the driver must be `Send`), and every critical section is a push.
fn lock(tape: &Mutex<Tape>) -> MutexGuard<'_, Tape> {
    tape.lock().unwrap_or_else(|p| p.into_inner())
}

impl Recorder {
    /// Wraps `game`, a match just started from `header.seed` on `header.map`.
    pub(crate) fn new(game: Box<dyn AnyGame>, header: ReplayHeader) -> (Recorder, Recording) {
        let protocol = game.protocol();
        let hash_interval = header.hash_interval.max(1);
        let tape = Arc::new(Mutex::new(Tape {
            header: ReplayHeader {
                hash_interval,
                ..header
            },
            game: protocol.name,
            game_hash: protocol.hash(),
            ops: Vec::new(),
            op_count: 0,
            steps: 0,
            hashes: Vec::new(),
            tick: Tick::ZERO,
        }));
        let recording = Recording { tape: tape.clone() };
        (
            Recorder {
                game,
                tape,
                hash_interval,
            },
            recording,
        )
    }
}

impl Recording {
    /// The replay, ending on `game`'s current state (the recorder's game, as the driver holds
    /// it).
    pub(crate) fn finish(self, game: &dyn AnyGame) -> Replay {
        let final_hash = game.state_hash();
        let mut tape = lock(&self.tape);
        Replay {
            version: FORMAT_VERSION,
            match_id: tape.header.match_id.clone(),
            game: tape.game.to_string(),
            game_hash: tape.game_hash,
            assets_hash: tape.header.assets_hash,
            map: tape.header.map.clone(),
            seed: tape.header.seed,
            tick_rate: tape.header.tick_rate,
            hash_interval: tape.header.hash_interval,
            ops: tape.decode_ops(),
            hashes: std::mem::take(&mut tape.hashes),
            final_tick: tape.tick,
            final_hash,
        }
    }
}

impl AnyGame for Recorder {
    fn protocol(&self) -> &'static GameProtocol {
        self.game.protocol()
    }

    fn join(&mut self, player: PlayerId, who: &JoinInfo<'_>) -> Result<(), Refusal> {
        self.game.join(player, who)?;
        lock(&self.tape).push(&Op::Join {
            player,
            account_id: who.account_id,
            username: who.username.to_string(),
        });
        Ok(())
    }

    fn leave(&mut self, player: PlayerId) {
        self.game.leave(player);
        lock(&self.tape).push(&Op::Leave { player });
    }

    fn input(&mut self, player: PlayerId, values: &InputValues) -> bool {
        let accepted = self.game.input(player, values);
        if accepted {
            lock(&self.tape).push(&Op::Input {
                player,
                values: *values,
            });
        }
        accepted
    }

    fn step(&mut self, events: &mut Vec<Event>) {
        self.game.step(events);
        let mut tape = lock(&self.tape);
        if tape.steps == u32::MAX {
            tape.flush_steps();
        }
        tape.steps += 1;
        tape.tick = tape.tick.next();
        let tick = tape.tick;
        if tick.0.is_multiple_of(self.hash_interval) {
            let hash = self.game.state_hash();
            tape.hashes.push(Checkpoint { tick, hash });
        }
    }

    fn world(&self) -> World {
        self.game.world()
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

    // What players see decides nothing in the simulation: not recorded, only passed on.
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
