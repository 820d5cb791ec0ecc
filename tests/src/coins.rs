//! A third game, defined outside the server crate: proof that a studio adds a game without
//! touching Tickwire's internals, and the worked example of `docs/games.md`.
//!
//! Coins: players walk a small square grid one cell per tick; coins appear on free cells (the
//! match's seeded generator picks them); walking onto a coin takes it. The score is the coins
//! taken; the one stat is `steps`, the cells walked.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use server::game::{Events, Game, GameConfig, JoinInfo, Outcome, PlayerId, Refusal, WorldWriter};
use shared::assets::{AssetError, parse_toml};
use shared::schema::{GameProtocol, NetEvent, Replicated};
use slotmap::SlotMap;

// ---------------------------------------------------------------------------------------------
// What the game puts on the wire, declared once.

shared::wire_enum! {
    pub enum CoinsKind {
        Walker = 0,
        Coin = 1,
    }
}

shared::replicated! {
    /// A walker (one per player) or a coin.
    pub struct CoinsEntity {
        kind: CoinsKind = value,
        /// The walker's player; 0 for a coin.
        owner: u32 = value,
        /// The cell. Walkers move one cell a tick, so their motion is predicted.
        x: u8 = predicted,
        y: u8 = predicted,
    }
}

shared::replicated! {
    /// One step: each axis -1, 0 or +1.
    pub struct CoinsInput {
        dx: i8 = value [-1, 1],
        dy: i8 = value [-1, 1],
    }
}

shared::net_events! {
    pub enum CoinsEvent {
        Taken = 0 { player: u32 },
    }
}

pub static PROTOCOL: GameProtocol = GameProtocol {
    name: "coins",
    entity: <CoinsEntity as Replicated>::SCHEMA,
    input: <CoinsInput as Replicated>::SCHEMA,
    events: <CoinsEvent as NetEvent>::SCHEMA,
    stats: &["steps"],
};

// ---------------------------------------------------------------------------------------------
// Its assets: `coins/game.toml` and `coins/maps/*.toml`.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoinsConfig {
    pub tick_rate: u16,
    pub match_ticks: u32,
    pub default_map: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoinsMap {
    /// The grid is `size` × `size` cells.
    pub size: u8,
    /// Coins on the grid at any time.
    pub coins: u8,
    pub seats: u16,
}

impl GameConfig for CoinsConfig {
    type Map = CoinsMap;

    fn parse(file: &str, text: &str) -> Result<CoinsConfig, AssetError> {
        let config: CoinsConfig = parse_toml(file, text)?;
        if !(10..=60).contains(&config.tick_rate) {
            return Err(AssetError::invalid(file, "tick_rate", "must be 10..=60"));
        }
        Ok(config)
    }

    fn parse_map(&self, file: &str, text: &str) -> Result<CoinsMap, AssetError> {
        let map: CoinsMap = parse_toml(file, text)?;
        if map.size < 4 {
            return Err(AssetError::invalid(file, "size", "must be at least 4"));
        }
        if u32::from(map.coins) + u32::from(map.seats) >= u32::from(map.size).pow(2) {
            return Err(AssetError::invalid(file, "coins", "leaves no room to walk"));
        }
        Ok(map)
    }

    fn tick_rate(&self) -> u16 {
        self.tick_rate
    }

    fn default_map(&self) -> &str {
        &self.default_map
    }

    fn seats(&self, map: &CoinsMap) -> u16 {
        map.seats
    }
}

// ---------------------------------------------------------------------------------------------
// The rules.

slotmap::new_key_type! { struct Key; }

#[derive(Debug, Clone, Copy)]
struct Thing {
    owner: PlayerId,
    x: u8,
    y: u8,
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    coins: i64,
    steps: i64,
}

pub struct Coins {
    size: u8,
    coins_wanted: usize,
    ticks_left: u32,
    rng: ChaCha8Rng,
    /// Walkers and coins; a coin has owner 0.
    things: SlotMap<Key, Thing>,
    walkers: BTreeMap<PlayerId, Key>,
    /// Everyone who ever joined, for the results.
    tallies: BTreeMap<PlayerId, Tally>,
    /// The step each walker takes next (kept until replaced).
    steps: BTreeMap<PlayerId, (i8, i8)>,
}

impl Coins {
    fn occupied(&self, x: u8, y: u8) -> bool {
        self.things.values().any(|t| t.x == x && t.y == y)
    }

    /// A free cell from the seeded generator (bounded tries: the map leaves room).
    fn free_cell(&mut self) -> Option<(u8, u8)> {
        for _ in 0..64 {
            let (x, y) = (
                self.rng.random_range(0..self.size),
                self.rng.random_range(0..self.size),
            );
            if !self.occupied(x, y) {
                return Some((x, y));
            }
        }
        None
    }

    fn top_up_coins(&mut self) {
        while self.things.values().filter(|t| t.owner == 0).count() < self.coins_wanted {
            let Some((x, y)) = self.free_cell() else {
                return;
            };
            self.things.insert(Thing { owner: 0, x, y });
        }
    }
}

impl Game for Coins {
    type Entity = CoinsEntity;
    type Input = CoinsInput;
    type Event = CoinsEvent;
    type Config = CoinsConfig;

    const PROTOCOL: &'static GameProtocol = &PROTOCOL;

    fn new(config: &CoinsConfig, map: &CoinsMap, seed: u64) -> Coins {
        let mut game = Coins {
            size: map.size,
            coins_wanted: usize::from(map.coins),
            ticks_left: config.match_ticks,
            rng: ChaCha8Rng::seed_from_u64(seed),
            things: SlotMap::with_key(),
            walkers: BTreeMap::new(),
            tallies: BTreeMap::new(),
            steps: BTreeMap::new(),
        };
        game.top_up_coins();
        game
    }

    fn join(&mut self, player: PlayerId, _who: &JoinInfo<'_>) -> Result<(), Refusal> {
        let (x, y) = self
            .free_cell()
            .ok_or_else(|| Refusal("no free cell to start on".into()))?;
        let key = self.things.insert(Thing {
            owner: player,
            x,
            y,
        });
        self.walkers.insert(player, key);
        self.tallies.entry(player).or_default();
        Ok(())
    }

    fn leave(&mut self, player: PlayerId) {
        if let Some(key) = self.walkers.remove(&player) {
            self.things.remove(key);
        }
        self.steps.remove(&player);
    }

    fn input(&mut self, player: PlayerId, input: CoinsInput) {
        self.steps.insert(player, (input.dx, input.dy));
    }

    fn step(&mut self, events: &mut Events<CoinsEvent>) {
        if self.ticks_left == 0 {
            return;
        }
        self.ticks_left -= 1;
        let max = i16::from(self.size) - 1;
        for (player, key) in &self.walkers {
            let (dx, dy) = self.steps.get(player).copied().unwrap_or((0, 0));
            let Some(walker) = self.things.get(*key).copied() else {
                continue;
            };
            let x = (i16::from(walker.x) + i16::from(dx)).clamp(0, max) as u8;
            let y = (i16::from(walker.y) + i16::from(dy)).clamp(0, max) as u8;
            if (x, y) == (walker.x, walker.y) {
                continue;
            }
            let blocked = self
                .things
                .iter()
                .any(|(k, t)| k != *key && t.owner != 0 && (t.x, t.y) == (x, y));
            if blocked {
                continue;
            }
            let coin = self
                .things
                .iter()
                .find(|(_, t)| t.owner == 0 && (t.x, t.y) == (x, y))
                .map(|(k, _)| k);
            let tally = self.tallies.entry(*player).or_default();
            tally.steps += 1;
            if let Some(coin) = coin {
                self.things.remove(coin);
                tally.coins += 1;
                events.push(CoinsEvent::Taken { player: *player });
            }
            if let Some(w) = self.things.get_mut(*key) {
                (w.x, w.y) = (x, y);
            }
        }
        self.top_up_coins();
    }

    fn world(&self, out: &mut WorldWriter<CoinsEntity>) {
        for (key, t) in &self.things {
            let kind = if t.owner == 0 {
                CoinsKind::Coin
            } else {
                CoinsKind::Walker
            };
            out.push_key(
                key,
                CoinsEntity {
                    kind,
                    owner: t.owner,
                    x: t.x,
                    y: t.y,
                },
            );
        }
    }

    fn is_over(&self) -> bool {
        self.ticks_left == 0
    }

    fn ticks_remaining(&self) -> u32 {
        self.ticks_left
    }

    fn results(&self) -> Vec<Outcome> {
        self.tallies
            .iter()
            .map(|(player, t)| Outcome {
                player: *player,
                score: t.coins,
                stats: vec![t.steps],
            })
            .collect()
    }
}

/// The assets the coins game needs, as (path under the assets directory, text).
pub fn assets(match_ticks: u32) -> Vec<(String, String)> {
    vec![
        (
            "coins/game.toml".into(),
            format!("tick_rate = 30\nmatch_ticks = {match_ticks}\ndefault_map = \"yard\"\n"),
        ),
        (
            "coins/maps/yard.toml".into(),
            "size = 12\ncoins = 6\nseats = 8\n".into(),
        ),
    ]
}
