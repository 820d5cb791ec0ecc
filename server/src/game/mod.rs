//! The game seam: what a game implements to be served by Tickwire, and how the server drives it.
//!
//! A game is a sans-IO state machine: created from its config, a map and a seed; players join
//! (or are refused with a reason) and leave; each tick it takes at most one input per player,
//! steps, and shows its replicated world and its events; when it says it is over, its results
//! (score plus the stats it declares) go to the leaderboards. It must be deterministic: no clock,
//! no unseeded randomness, no I/O, no hash-map iteration in anything that decides an outcome.
//!
//! Everything on the wire comes from the game's declarations ([`shared::schema`]): the server
//! diffs the entity rows it is shown, validates inputs against the input declaration, and
//! carries events by their declared kinds. `matches/` drives every game through [`AnyGame`], the
//! object-safe face of [`Game`], so one binary serves every registered game.

mod catalog;
mod erased;
mod interest;

use shared::assets::AssetError;
use shared::schema::{GameProtocol, NetEvent, Replicated};
use shared::{NetId, World};

pub use catalog::{GameInfo, GameSet, Games, MapInfo};
pub use erased::AnyGame;
pub(crate) use interest::Cell;
pub use interest::{Interest, Radius};

/// A player's id within a match (never 0: owner 0 means "nobody" in declarations).
pub type PlayerId = u32;

/// Who is joining.
#[derive(Debug, Clone, Copy)]
pub struct JoinInfo<'a> {
    pub account_id: i64,
    pub username: &'a str,
}

/// Why a game refused a player; the client reads the reason in its close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// One player's result line: the score and one value per declared stat, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub player: PlayerId,
    pub score: i64,
    pub stats: Vec<i64>,
}

/// A game's configuration and maps, parsed from `<assets>/<game>/game.toml` and
/// `<assets>/<game>/maps/*.toml` (the server reads the files; parsing does no I/O). Errors name
/// the file and the field (see [`shared::assets::parse_toml`]).
pub trait GameConfig: Sized + Send + Sync + 'static {
    type Map: Send + Sync + 'static;
    fn parse(file: &str, text: &str) -> Result<Self, AssetError>;
    /// A map file; its name is the file's stem.
    fn parse_map(&self, file: &str, text: &str) -> Result<Self::Map, AssetError>;
    /// Simulation ticks per second.
    fn tick_rate(&self) -> u16;
    /// The map a match uses when none is asked for.
    fn default_map(&self) -> &str;
    /// Seats in a match on `map`.
    fn seats(&self, map: &Self::Map) -> u16;
}

/// A game Tickwire can serve.
///
/// Call order, from the match's tick driver: [`new`](Game::new) once; then every tick
/// [`join`](Game::join) / [`leave`](Game::leave) for arrivals and departures, at most one
/// [`input`](Game::input) per player, [`step`](Game::step), and [`world`](Game::world); once
/// [`is_over`](Game::is_over), [`results`](Game::results).
pub trait Game: Sized + Send + 'static {
    /// The replicated entity.
    type Entity: Replicated;
    /// One player's input for a tick; the server has checked it against the declared ranges.
    type Input: Replicated;
    /// What happens: delivered to every client, none lost when a client skips snapshots.
    type Event: NetEvent;
    type Config: GameConfig;

    /// The game's declarations on the wire; `PROTOCOL.entity` etc. must be the schemas of the
    /// types above (checked when the game is registered).
    const PROTOCOL: &'static GameProtocol;

    fn new(config: &Self::Config, map: &<Self::Config as GameConfig>::Map, seed: u64) -> Self;

    /// Seats a player, or refuses with a reason. A player who left and comes back joins again
    /// with the same id only within the reconnect grace (then no `leave` came between).
    fn join(&mut self, player: PlayerId, who: &JoinInfo<'_>) -> Result<(), Refusal>;
    fn leave(&mut self, player: PlayerId);
    fn input(&mut self, player: PlayerId, input: Self::Input);
    /// Advances one tick, pushing what happened into `events`.
    fn step(&mut self, events: &mut Events<Self::Event>);
    /// Shows every replicated entity.
    fn world(&self, out: &mut WorldWriter<Self::Entity>);
    fn is_over(&self) -> bool;
    /// Ticks left until the match ends on its own (for clients and the lobby).
    fn ticks_remaining(&self) -> u32;
    /// Every player who was in the match, including those who left.
    fn results(&self) -> Vec<Outcome>;
    /// A hash of the whole state, hidden parts included: equal seeds and equal inputs give equal
    /// hashes on every tick (determinism tests compare them). By default the world's checksum.
    fn state_hash(&self) -> u64 {
        let mut out = WorldWriter::new();
        self.world(&mut out);
        shared::checksum(&out.finish())
    }

    /// What each player sees (interest management): by default, everything. Asked once, when
    /// the match starts.
    fn interest(&self) -> Interest {
        Interest::Everything
    }

    /// Under [`Interest::Radius`], where `player` sees from this tick; `None` keeps the view it
    /// had (a player waiting to respawn still sees where it died).
    fn viewpoint(&self, _player: PlayerId) -> Option<(i32, i32)> {
        None
    }

    /// Under [`Interest::Custom`], whether `player` sees the entity `id` whose replicated row is
    /// `row` this tick. Asked for every player and entity every tick, after `world`.
    fn sees(&self, _player: PlayerId, _id: NetId, _row: &[i32]) -> bool {
        true
    }
}

/// Where a game pushes its events during a step.
#[derive(Debug)]
pub struct Events<E> {
    list: Vec<E>,
}

impl<E> Events<E> {
    pub(crate) fn new() -> Events<E> {
        Events { list: Vec::new() }
    }

    pub fn push(&mut self, event: E) {
        self.list.push(event);
    }

    pub(crate) fn drain(&mut self) -> std::vec::Drain<'_, E> {
        self.list.drain(..)
    }
}

impl<E> Default for Events<E> {
    fn default() -> Self {
        Events::new()
    }
}

/// Where a game shows its world. Entities may come in any order; a later entity in the same
/// slot replaces an earlier one.
#[derive(Debug)]
pub struct WorldWriter<T: Replicated> {
    /// Entities in strictly increasing slot order go straight into the world (the common case:
    /// a slotmap iterated in order).
    world: World,
    /// Once one comes out of order, everything is collected here and sorted at the end.
    unsorted: Option<Vec<(NetId, T)>>,
}

impl<T: Replicated> WorldWriter<T> {
    pub(crate) fn new() -> WorldWriter<T> {
        WorldWriter::with_capacity(0)
    }

    /// A writer with room for `entities` (the size of the last world is a good guess).
    pub(crate) fn with_capacity(entities: usize) -> WorldWriter<T> {
        WorldWriter {
            world: World::with_capacity(T::SCHEMA, entities),
            unsorted: None,
        }
    }

    pub fn push(&mut self, id: NetId, entity: T) {
        if let Some(list) = &mut self.unsorted {
            list.push((id, entity));
        } else if !self.world.push_entity(id, &entity) {
            let mut list: Vec<(NetId, T)> = self
                .world
                .iter()
                .filter_map(|(id, row)| Some((id, T::read_row(row)?)))
                .collect();
            list.push((id, entity));
            self.unsorted = Some(list);
        }
    }

    /// Pushes an entity kept in a `slotmap`: its id is the slot's index and version, so a reused
    /// slot is never mistaken for the entity that held it before.
    pub fn push_key<K: slotmap::Key>(&mut self, key: K, entity: T) {
        self.push(net_id(key), entity);
    }

    pub(crate) fn finish(self) -> World {
        match self.unsorted {
            None => self.world,
            Some(list) => World::from_entities(list),
        }
    }
}

/// The network id of a slotmap key: the slot index in the low 32 bits of the key's FFI form, the
/// slot's version in the high 32 bits.
pub fn net_id<K: slotmap::Key>(key: K) -> NetId {
    let ffi = key.data().as_ffi();
    NetId::new(ffi as u32, (ffi >> 32) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::games::arena::{ArenaEntity, ArenaKind};
    use slotmap::SlotMap;

    slotmap::new_key_type! { struct Key; }

    #[test]
    fn a_reused_slot_gets_a_different_net_id() {
        let mut map: SlotMap<Key, u8> = SlotMap::with_key();
        let first = map.insert(1);
        map.remove(first);
        let second = map.insert(2);
        let (a, b) = (net_id(first), net_id(second));
        assert_eq!(a.index, b.index, "the slot was reused");
        assert_ne!(a, b, "but the network id differs: {a:?} vs {b:?}");
    }

    #[test]
    fn a_world_writer_sorts_what_comes_out_of_order() {
        let mut w = WorldWriter::new();
        let orb = |x| ArenaEntity::new(ArenaKind::Orb, x, 0);
        w.push(NetId::new(5, 1), orb(5));
        w.push(NetId::new(2, 1), orb(2));
        let world = w.finish();
        let ids: Vec<u32> = world.ids().iter().map(|id| id.index).collect();
        assert_eq!(ids, vec![2, 5], "sorted by slot");
    }
}
