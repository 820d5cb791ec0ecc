//! Reads each game's config and maps from the assets directory: `<assets>/<game>/game.toml` and
//! `<assets>/<game>/maps/*.toml` (a map's name is its file's stem). Parsing and validation are
//! the game's (see [`crate::game::GameConfig`]); this module does the I/O.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use shared::assets::AssetError;

use crate::game::GameConfig;

#[derive(Debug, thiserror::Error)]
pub enum AssetsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] AssetError),
    #[error("{path}: a map name must be ASCII letters, digits, '-' or '_'")]
    BadMapName { path: PathBuf },
    #[error("{path}: field `default_map`: no map named {map:?} in {game}/maps/")]
    MissingDefaultMap {
        path: PathBuf,
        game: String,
        map: String,
    },
    #[error("game declaration: {0}")]
    Declaration(String),
}

/// A loaded map: the game's parsed form, and the file as JSON for clients that draw it.
pub(crate) struct LoadedMap<M> {
    pub(crate) map: M,
    pub(crate) layout: serde_json::Value,
}

/// A game's maps by name.
pub(crate) type Maps<M> = BTreeMap<String, LoadedMap<M>>;

/// A game's parsed config, that file as JSON (its tuning, for clients that predict), and its
/// maps by name.
pub(crate) type LoadedGame<C> = (C, serde_json::Value, Maps<<C as GameConfig>::Map>);

/// The game already parsed and checked `text`; as plain TOML it is what clients are shown.
pub(crate) fn as_json(text: &str) -> serde_json::Value {
    toml::from_str::<toml::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_value(v).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// Loads one game's config and every map, by name.
pub(crate) fn load_game<C: GameConfig>(
    assets: &Path,
    game: &str,
) -> Result<LoadedGame<C>, AssetsError> {
    let dir = assets.join(game);
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| AssetsError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let config_path = dir.join("game.toml");
    let config_text = read(&config_path)?;
    let config = C::parse(&config_path.display().to_string(), &config_text)?;
    let maps_dir = dir.join("maps");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&maps_dir)
        .map_err(|source| AssetsError::Read {
            path: maps_dir.clone(),
            source,
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut maps = BTreeMap::new();
    for path in files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
            .ok_or_else(|| AssetsError::BadMapName { path: path.clone() })?
            .to_string();
        let file = path.display().to_string();
        let text = read(&path)?;
        let map = config.parse_map(&file, &text)?;
        let layout = as_json(&text);
        maps.insert(name, LoadedMap { map, layout });
    }
    if !maps.contains_key(config.default_map()) {
        return Err(AssetsError::MissingDefaultMap {
            path: config_path,
            game: game.to_string(),
            map: config.default_map().to_string(),
        });
    }
    Ok((config, as_json(&config_text), maps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::GameSet;

    fn shipped() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets")
    }

    #[test]
    fn the_shipped_games_load() {
        let games = GameSet::shipped()
            .load(&shipped())
            .expect("shipped assets load");
        let arena = games.get("arena").expect("arena");
        assert!(arena.map("arena").is_some(), "arena map present");
        assert!(arena.map("bench").is_some(), "bench map kept");
        assert_eq!(arena.tick_rate, 30, "30 Hz");
        assert!(games.get("cycles").is_some(), "cycles loaded");
        assert_eq!(
            games.default_game().map(|g| g.name()),
            Some("arena"),
            "arena is the default"
        );
    }

    #[test]
    fn a_broken_map_names_its_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let arena = dir.path().join("arena");
        std::fs::create_dir_all(arena.join("maps")).expect("maps dir");
        std::fs::copy(shipped().join("arena/game.toml"), arena.join("game.toml")).expect("copy");
        std::fs::write(arena.join("maps/arena.toml"), "width = 10.0\n").expect("write");
        let err = GameSet::empty()
            .with::<crate::games::arena::Arena>()
            .load(dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("arena.toml"), "names the file: {err}");
    }
}
