//! The games a server serves: registered in code ([`GameSet`]), loaded from the assets directory
//! at start ([`Games`]), looked up by name by the lobby and the match registry.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use shared::schema::{GameProtocol, NetEvent, Replicated, Schema};

use super::erased::{AnyGame, Running};
use super::{Game, GameConfig};
use crate::assets::{self, AssetsError};

/// A map a game can be played on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapInfo {
    pub name: String,
    pub seats: u16,
    /// The map file as JSON (`GET /v1/games/{game}/maps/{map}`), for clients that draw it.
    pub layout: serde_json::Value,
}

/// What the lobby and the handshake know about a loaded game.
#[derive(Debug, Clone)]
pub struct GameInfo {
    pub protocol: &'static GameProtocol,
    /// `protocol.hash()`, computed once.
    pub hash: u64,
    pub tick_rate: u16,
    pub default_map: String,
    /// The game's `game.toml` as JSON, for clients that predict with the same numbers.
    pub tuning: serde_json::Value,
    /// Sorted by name.
    pub maps: Vec<MapInfo>,
}

impl GameInfo {
    pub fn name(&self) -> &'static str {
        self.protocol.name
    }

    pub fn map(&self, name: &str) -> Option<&MapInfo> {
        self.maps.iter().find(|m| m.name == name)
    }
}

/// A loaded game: its info, and a way to start a match of it.
pub(crate) trait GameEntry: Send + Sync + fmt::Debug {
    fn info(&self) -> &GameInfo;
    /// A new match on `map` (`None` if there is no such map).
    fn start(&self, map: &str, seed: u64) -> Option<Box<dyn AnyGame>>;
}

struct Loaded<G: Game> {
    info: GameInfo,
    config: G::Config,
    maps: BTreeMap<String, <G::Config as GameConfig>::Map>,
}

impl<G: Game> fmt::Debug for Loaded<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded").field("info", &self.info).finish()
    }
}

impl<G: Game> GameEntry for Loaded<G> {
    fn info(&self) -> &GameInfo {
        &self.info
    }

    fn start(&self, map: &str, seed: u64) -> Option<Box<dyn AnyGame>> {
        let map = self.maps.get(map)?;
        Some(Box::new(Running::new(G::new(&self.config, map, seed))))
    }
}

type Loader = fn(&Path) -> Result<Arc<dyn GameEntry>, AssetsError>;

/// The games a server is built with: the shipped ones, plus any a studio registers with
/// [`GameSet::with`]. Each loads its config and maps from `<assets>/<name>/`.
#[derive(Clone)]
pub struct GameSet {
    games: Vec<(&'static str, Loader)>,
}

impl fmt::Debug for GameSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.games.iter().map(|(name, _)| name))
            .finish()
    }
}

impl Default for GameSet {
    fn default() -> Self {
        GameSet::shipped()
    }
}

impl GameSet {
    /// No games at all.
    pub fn empty() -> GameSet {
        GameSet { games: Vec::new() }
    }

    /// The games Tickwire ships: `arena` (the default) and `cycles`.
    pub fn shipped() -> GameSet {
        GameSet::empty()
            .with::<crate::games::arena::Arena>()
            .with::<crate::games::cycles::Cycles>()
    }

    /// Adds a game (replacing a registered game of the same name). The first game registered is
    /// the default one.
    pub fn with<G: Game>(mut self) -> GameSet {
        let name = G::PROTOCOL.name;
        match self.games.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = load::<G>,
            None => self.games.push((name, load::<G>)),
        }
        self
    }

    /// Loads every game's config and maps from `assets`.
    pub fn load(&self, assets: &Path) -> Result<Games, AssetsError> {
        let games = self
            .games
            .iter()
            .map(|(_, loader)| loader(assets))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Games {
            games: Arc::new(games),
        })
    }
}

fn load<G: Game>(assets: &Path) -> Result<Arc<dyn GameEntry>, AssetsError> {
    let protocol = G::PROTOCOL;
    let declared = Schema::same(protocol.entity, G::Entity::SCHEMA)
        && Schema::same(protocol.input, G::Input::SCHEMA)
        && (std::ptr::eq(protocol.events, G::Event::SCHEMA) || protocol.events == G::Event::SCHEMA);
    if !declared {
        return Err(AssetsError::Declaration(format!(
            "{}: PROTOCOL does not name the game's Entity, Input and Event declarations",
            protocol.name
        )));
    }
    protocol.check().map_err(AssetsError::Declaration)?;
    let (config, tuning, maps) = assets::load_game::<G::Config>(assets, protocol.name)?;
    let info = GameInfo {
        protocol,
        hash: protocol.hash(),
        tick_rate: config.tick_rate(),
        default_map: config.default_map().to_string(),
        tuning,
        maps: maps
            .iter()
            .map(|(name, loaded)| MapInfo {
                name: name.clone(),
                seats: config.seats(&loaded.map),
                layout: loaded.layout.clone(),
            })
            .collect(),
    };
    let maps = maps.into_iter().map(|(name, l)| (name, l.map)).collect();
    Ok(Arc::new(Loaded::<G> { info, config, maps }))
}

/// The loaded games, the default first. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Games {
    games: Arc<Vec<Arc<dyn GameEntry>>>,
}

impl Games {
    pub fn get(&self, name: &str) -> Option<&GameInfo> {
        self.entry(name).map(|g| g.info())
    }

    /// The game new matches get when none is asked for (the first registered).
    pub fn default_game(&self) -> Option<&GameInfo> {
        self.games.first().map(|g| g.info())
    }

    pub fn iter(&self) -> impl Iterator<Item = &GameInfo> {
        self.games.iter().map(|g| g.info())
    }

    /// A new match of `game` on `map`, outside any server (determinism tests, benchmarks).
    pub fn start(&self, game: &str, map: &str, seed: u64) -> Option<Box<dyn AnyGame>> {
        self.entry(game)?.start(map, seed)
    }

    pub(crate) fn entry(&self, name: &str) -> Option<&Arc<dyn GameEntry>> {
        self.games.iter().find(|g| g.info().name() == name)
    }
}
