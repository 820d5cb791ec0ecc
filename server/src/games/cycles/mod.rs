//! The light-cycles game: the rules and nothing else (its wire declarations are in
//! [`shared::games::cycles`]). Pure and deterministic: no I/O, no clock, no floats after load, no
//! hash-map iteration, one seeded [`ChaCha8Rng`]; a match replayed from its seed and its ordered
//! joins, leaves and inputs reaches the same [`state_hash`](Game::state_hash) on every tick.
//!
//! # The rules
//!
//! The grid is `width` × `height` cells, `(0, 0)` at the top-left, y pointing down; walls are map
//! data, not entities. The entities are one `Cycle` per seated player (`owner` its player, `x`,
//! `y` its cell, `heading`, `alive`) and `Trail` cells (`owner`, cell, the heading its cycle left
//! the cell with, always alive), which never change once created.
//!
//! - **Join**: the player's cycle appears, alive, on a spawn point whose cell and next cell (one
//!   step along the spawn's heading) are both free of cycles and trails, chosen by the match's
//!   random generator among the free ones in map order. No such spawn refuses the join ("no free
//!   spawn point"), and so does a full match (the map's seats). Joining again while seated
//!   changes nothing.
//! - **Leave**: the cycle and its trail disappear at once; the player's stats stay in the results
//!   (and continue if the same id joins again).
//! - **Input**: a turn is remembered and made at the cycle's next move, once; a later turn
//!   before that move replaces it. `Straight` leaves a pending turn alone: clients send one input
//!   per tick and the cycle moves every few ticks, so "no turn this tick" must not undo a turn
//!   pressed a tick earlier. Input while the cycle waits to respawn,
//!   or from a player not seated, is ignored: a respawned cycle starts with no pending turn.
//! - **Step**: the tick advances. On every tick that is a multiple of `move_every_ticks`, all
//!   living cycles move at once, in four phases:
//!   1. each turns by its pending turn (which resets to `Straight`) and leaves a trail cell where
//!      it stands;
//!   2. each trail longer than `max_trail` loses its oldest cells, which become free;
//!   3. each cycle's new cell is judged against the grid as it is now: outside the grid or a
//!      wall crashes it with `by = 0`; any trail cell crashes it with `by` = the trail's owner
//!      (0 for its own). Every other cycle's old cell is a trail cell by now, so two cycles
//!      swapping cells both crash, each cut by the other. Two or more cycles entering the same
//!      free cell all crash (head-on), each with `by` = the smallest other player id among them;
//!   4. survivors enter their new cell and count it (`cells` stat); each crash, in player id
//!      order, emits [`CyclesEvent::Crash`], counts a `crashes` for the player and a `cuts` for
//!      `by` (if not 0), leaves the cycle where it stood with `alive = false`, and removes its
//!      whole trail. Crashed trails go only after every judgement, so a cycle that crashed this
//!      move can still cut another.
//!
//!   Then every crashed cycle whose `respawn_delay_s` has passed (counted in ticks from the
//!   crash) respawns, in player id order, on a free spawn chosen as for a join, emitting
//!   [`CyclesEvent::Respawn`]; with no free spawn it tries again next tick. A respawned cycle
//!   stands at least until the next move tick.
//! - **Score**: `cuts × cut_points + cells / cells_per_point` (integer division). Results list
//!   every player who ever joined, by player id, with the stats `[cuts, crashes, cells]`.
//! - **End**: the match is over after `match_length_s` (in ticks, rounded); a step then does
//!   nothing.

mod config;
mod digest;
mod grid;
mod roster;
mod rules;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shared::Tick;
use shared::games::cycles::{
    CyclesEntity, CyclesEvent, CyclesInput, CyclesKind, Heading, PROTOCOL, STATS, Turn,
};
use shared::schema::GameProtocol;
use slotmap::SlotMap;

use crate::game::{Events, Game, JoinInfo, Outcome, PlayerId, Refusal, WorldWriter, net_id};
use digest::Fnv;
use grid::{Cell, Grid};
use roster::Seat;
use rules::Rules;

pub(crate) use config::{CyclesConfig, CyclesMap, Spawn};

slotmap::new_key_type! {
    /// A slot in the match's entity map.
    pub(crate) struct EntityKey;
}

/// One cycles match: its grid, its entities and its players. See the module doc for the rules
/// and [`Game`] for the call order.
#[derive(Debug, Clone)]
pub(crate) struct Cycles {
    rules: Rules,
    spawns: Vec<Spawn>,
    grid: Grid,
    entities: SlotMap<EntityKey, CyclesEntity>,
    roster: BTreeMap<PlayerId, Seat>,
    rng: ChaCha8Rng,
    /// The tick last simulated; [`Tick::ZERO`] before the first step.
    tick: Tick,
    /// Scratch buffers reused every step.
    moves: Vec<Move>,
    /// `(cell index, index in moves)` of the moves into free cells, to find head-on groups.
    entering: Vec<(usize, usize)>,
    free_spawns: Vec<usize>,
}

/// One cycle's move, between its judgement and its outcome.
#[derive(Debug, Clone, Copy)]
struct Move {
    player: PlayerId,
    cycle: EntityKey,
    heading: Heading,
    to: (i32, i32),
    /// `Some(by)` if the move crashes (`by` as in [`CyclesEvent::Crash`]).
    crash: Option<PlayerId>,
}

impl Cycles {
    /// Ticks simulated so far.
    #[cfg(test)]
    pub(crate) fn tick(&self) -> Tick {
        self.tick
    }

    fn is_move_tick(&self) -> bool {
        self.tick.0.is_multiple_of(self.rules.move_every)
    }

    /// Phases 1 to 4 of a move (see the module doc).
    fn move_cycles(&mut self, events: &mut Events<CyclesEvent>) {
        let mut moves = std::mem::take(&mut self.moves);
        moves.clear();

        // 1 and 2: turn, leave a trail cell, cap the trail.
        for (&player, seat) in &mut self.roster {
            let Some(cycle) = seat.cycle else { continue };
            let Some(&here) = self.entities.get(cycle) else {
                continue;
            };
            if !here.alive {
                continue;
            }
            let heading = here.heading.turned(seat.pending);
            seat.pending = Turn::Straight;
            let trail = self.entities.insert(CyclesEntity {
                kind: CyclesKind::Trail,
                heading,
                alive: true,
                ..here
            });
            // The cell stays `Taken(player)` in the grid: the cycle's cell becomes its trail's.
            seat.trail.push_back(trail);
            while seat.trail.len() > self.rules.max_trail {
                if let Some(old) = seat.trail.pop_front() {
                    remove_cell(&mut self.entities, &mut self.grid, old);
                }
            }
            let (dx, dy) = heading.step();
            moves.push(Move {
                player,
                cycle,
                heading,
                to: (i32::from(here.x) + dx, i32::from(here.y) + dy),
                crash: None,
            });
        }

        // 3: judge every move against the grid as phases 1 and 2 left it.
        for m in &mut moves {
            m.crash = match self.grid.get(m.to) {
                Cell::Free => None,
                Cell::Wall => Some(0),
                Cell::Taken(owner) if owner == m.player => Some(0),
                Cell::Taken(owner) => Some(owner),
            };
        }
        let mut entering = std::mem::take(&mut self.entering);
        entering.clear();
        entering.extend(
            moves
                .iter()
                .enumerate()
                .filter(|(_, m)| m.crash.is_none())
                .filter_map(|(i, m)| Some((self.grid.index(m.to)?, i))),
        );
        entering.sort_unstable();
        for group in entering.chunk_by(|a, b| a.0 == b.0) {
            if group.len() < 2 {
                continue;
            }
            for &(_, i) in group {
                let me = moves[i].player;
                let by = group
                    .iter()
                    .map(|&(_, j)| moves[j].player)
                    .filter(|&p| p != me)
                    .min();
                // A group of two or more distinct players always has another; 0 if a player
                // were ever seated twice (it cannot be).
                moves[i].crash = Some(by.unwrap_or(0));
            }
        }

        // 4: outcomes, in player id order (`moves` was built from the roster in that order).
        let respawn_at = Tick(self.tick.0.wrapping_add(self.rules.respawn_ticks));
        for m in &moves {
            match m.crash {
                None => {
                    if let Some(cycle) = self.entities.get_mut(m.cycle) {
                        (cycle.x, cycle.y) = wire_cell(m.to);
                        cycle.heading = m.heading;
                    }
                    self.grid.set(m.to, Cell::Taken(m.player));
                    if let Some(seat) = self.roster.get_mut(&m.player) {
                        seat.stats.cells = seat.stats.cells.saturating_add(1);
                    }
                }
                Some(by) => {
                    if let Some(cycle) = self.entities.get_mut(m.cycle) {
                        cycle.alive = false;
                        cycle.heading = m.heading;
                    }
                    if let Some(seat) = self.roster.get_mut(&m.player) {
                        seat.stats.crashes = seat.stats.crashes.saturating_add(1);
                        seat.respawn_at = Some(respawn_at);
                        clear_trail(&mut self.entities, &mut self.grid, seat);
                    }
                    // `by` is 0 or a seated player, never the crashed one itself.
                    if let Some(cutter) = self.roster.get_mut(&by).filter(|_| by != 0) {
                        cutter.stats.cuts = cutter.stats.cuts.saturating_add(1);
                    }
                    events.push(CyclesEvent::Crash {
                        player: m.player,
                        by,
                    });
                }
            }
        }
        self.moves = moves;
        self.entering = entering;
    }

    /// Respawns every crashed cycle whose delay has passed, while free spawns last.
    fn respawn_due(&mut self, events: &mut Events<CyclesEvent>) {
        let now = self.tick;
        let due: Vec<PlayerId> = self
            .roster
            .iter()
            .filter(|(_, s)| s.respawn_at.is_some_and(|at| now >= at))
            .map(|(&p, _)| p)
            .collect();
        for player in due {
            let Some(spawn) = self.free_spawn() else {
                // None free now: every due cycle waits for the next tick.
                break;
            };
            let Some(seat) = self.roster.get_mut(&player) else {
                continue;
            };
            let Some(cycle) = seat.cycle.and_then(|k| self.entities.get_mut(k)) else {
                continue;
            };
            *cycle = cycle_at(player, &spawn);
            self.grid.set(spawn.cell(), Cell::Taken(player));
            seat.respawn_at = None;
            seat.pending = Turn::Straight;
            events.push(CyclesEvent::Respawn { player });
        }
    }

    /// A spawn whose cell and next cell are free, chosen at random among those, in map order.
    fn free_spawn(&mut self) -> Option<Spawn> {
        self.free_spawns.clear();
        for (i, s) in self.spawns.iter().enumerate() {
            if self.grid.is_free(s.cell()) && self.grid.is_free(s.next_cell()) {
                self.free_spawns.push(i);
            }
        }
        if self.free_spawns.is_empty() {
            return None;
        }
        let pick = self.free_spawns[self.rng.random_range(0..self.free_spawns.len())];
        self.spawns.get(pick).copied()
    }

    fn seated(&self) -> usize {
        self.roster.values().filter(|s| s.cycle.is_some()).count()
    }
}

impl Game for Cycles {
    type Entity = CyclesEntity;
    type Input = CyclesInput;
    type Event = CyclesEvent;
    type Config = CyclesConfig;

    const PROTOCOL: &'static GameProtocol = &PROTOCOL;

    fn new(config: &CyclesConfig, map: &CyclesMap, seed: u64) -> Cycles {
        Cycles {
            rules: Rules::new(config, map),
            spawns: map.spawns.clone(),
            grid: Grid::new(map),
            entities: SlotMap::with_key(),
            roster: BTreeMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            tick: Tick::ZERO,
            moves: Vec::new(),
            entering: Vec::new(),
            free_spawns: Vec::new(),
        }
    }

    fn join(&mut self, player: PlayerId, _who: &JoinInfo<'_>) -> Result<(), Refusal> {
        if self.roster.get(&player).is_some_and(|s| s.cycle.is_some()) {
            return Ok(());
        }
        if self.seated() >= self.rules.seats {
            return Err(Refusal("the match is full".into()));
        }
        let Some(spawn) = self.free_spawn() else {
            return Err(Refusal("no free spawn point".into()));
        };
        let cycle = self.entities.insert(cycle_at(player, &spawn));
        self.grid.set(spawn.cell(), Cell::Taken(player));
        let seat = self.roster.entry(player).or_insert_with(Seat::new);
        seat.cycle = Some(cycle);
        seat.pending = Turn::Straight;
        seat.respawn_at = None;
        Ok(())
    }

    fn leave(&mut self, player: PlayerId) {
        let Some(seat) = self.roster.get_mut(&player) else {
            return;
        };
        let cycle = seat.cycle.take().and_then(|k| self.entities.remove(k));
        // A crashed cycle's cell was freed with its trail; a living one's is freed here.
        if let Some(c) = cycle.filter(|c| c.alive) {
            self.grid.set((i32::from(c.x), i32::from(c.y)), Cell::Free);
        }
        clear_trail(&mut self.entities, &mut self.grid, seat);
        seat.pending = Turn::Straight;
        seat.respawn_at = None;
    }

    fn input(&mut self, player: PlayerId, input: CyclesInput) {
        let Some(seat) = self.roster.get_mut(&player) else {
            return;
        };
        let alive = seat
            .cycle
            .and_then(|k| self.entities.get(k))
            .is_some_and(|c| c.alive);
        if alive && input.turn != Turn::Straight {
            seat.pending = input.turn;
        }
    }

    fn step(&mut self, events: &mut Events<CyclesEvent>) {
        if self.is_over() {
            return;
        }
        self.tick = self.tick.next();
        if self.is_move_tick() {
            self.move_cycles(events);
        }
        self.respawn_due(events);
    }

    fn world(&self, out: &mut WorldWriter<CyclesEntity>) {
        for (key, entity) in &self.entities {
            out.push_key(key, *entity);
        }
    }

    fn is_over(&self) -> bool {
        self.tick.0 >= self.rules.match_ticks
    }

    fn ticks_remaining(&self) -> u32 {
        self.rules.match_ticks.saturating_sub(self.tick.0)
    }

    fn results(&self) -> Vec<Outcome> {
        debug_assert_eq!(STATS, ["cuts", "crashes", "cells"], "stats in STATS order");
        self.roster
            .iter()
            .map(|(&player, seat)| {
                let s = seat.stats;
                Outcome {
                    player,
                    score: s.score(self.rules.cut_points, self.rules.cells_per_point),
                    stats: vec![i64::from(s.cuts), i64::from(s.crashes), i64::from(s.cells)],
                }
            })
            .collect()
    }

    /// Every entity with its id, plus what the world does not show: the tick, the random
    /// generator's position, each seat's pending turn, respawn tick, trail order and stats.
    fn state_hash(&self) -> u64 {
        let mut h = Fnv::new();
        h.u32(self.tick.0);
        h.u128(self.rng.get_word_pos());
        h.u64(self.entities.len() as u64);
        for (key, e) in &self.entities {
            hash_key(&mut h, key);
            h.write(&[e.kind as u8, e.heading as u8, u8::from(e.alive)]);
            h.u32(e.owner);
            h.write(&e.x.to_le_bytes());
            h.write(&e.y.to_le_bytes());
        }
        for (&player, seat) in &self.roster {
            h.u32(player);
            match seat.cycle {
                Some(k) => hash_key(&mut h, k),
                None => h.u64(u64::MAX),
            }
            h.write(&[seat.pending as u8]);
            h.u64(seat.respawn_at.map_or(u64::MAX, |t| u64::from(t.0)));
            h.u64(seat.trail.len() as u64);
            for &k in &seat.trail {
                hash_key(&mut h, k);
            }
            h.u32(seat.stats.cuts);
            h.u32(seat.stats.crashes);
            h.u32(seat.stats.cells);
        }
        h.finish()
    }
}

/// A living cycle on `spawn`.
fn cycle_at(player: PlayerId, spawn: &Spawn) -> CyclesEntity {
    let (x, y) = wire_cell(spawn.cell());
    CyclesEntity {
        kind: CyclesKind::Cycle,
        owner: player,
        x,
        y,
        heading: spawn.heading.into(),
        alive: true,
    }
}

/// A grid cell as the wire carries it. Only cells inside the grid (at most 256 × 256, checked
/// at load) are ever stored, so both coordinates fit an `i16` and the casts are exact.
fn wire_cell((x, y): (i32, i32)) -> (i16, i16) {
    (x as i16, y as i16)
}

/// Removes a trail cell (or any entity) and frees its cell.
fn remove_cell(entities: &mut SlotMap<EntityKey, CyclesEntity>, grid: &mut Grid, key: EntityKey) {
    if let Some(e) = entities.remove(key) {
        grid.set((i32::from(e.x), i32::from(e.y)), Cell::Free);
    }
}

fn clear_trail(entities: &mut SlotMap<EntityKey, CyclesEntity>, grid: &mut Grid, seat: &mut Seat) {
    for key in seat.trail.drain(..) {
        remove_cell(entities, grid, key);
    }
}

fn hash_key(h: &mut Fnv, key: EntityKey) {
    let id = net_id(key);
    h.u32(id.index);
    h.u32(id.version);
}
