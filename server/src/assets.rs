//! Loads `game.toml` and `maps/*.toml` from the assets directory (parsing and validation live in
//! `shared::assets`, which does no I/O).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use shared::assets::{AssetError, GameConfig, MapDef, parse_game, parse_map};

/// Tuning and every map, by name.
#[derive(Debug, Clone)]
pub struct Assets {
    pub game: GameConfig,
    pub maps: BTreeMap<String, MapDef>,
}

#[derive(Debug, thiserror::Error)]
pub enum AssetsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] AssetError),
    #[error("{path}: map name {name:?} is also used by {other}")]
    DuplicateMap {
        path: PathBuf,
        name: String,
        other: PathBuf,
    },
    #[error("game.toml: field `default_map`: no map named {0:?} in maps/")]
    MissingDefaultMap(String),
}

impl Assets {
    /// Seats in a match on `map`.
    pub fn capacity(&self, map: &str) -> u16 {
        self.maps
            .get(map)
            .and_then(|m| m.max_players)
            .unwrap_or(self.game.players_per_match)
    }

    pub fn load(dir: &Path) -> Result<Assets, AssetsError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| AssetsError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let game_path = dir.join("game.toml");
        let game = parse_game(&game_path.display().to_string(), &read(&game_path)?)?;
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
        let mut origin: BTreeMap<String, PathBuf> = BTreeMap::new();
        for path in files {
            let map = parse_map(&path.display().to_string(), &read(&path)?)?;
            if let Some(other) = origin.get(&map.name) {
                return Err(AssetsError::DuplicateMap {
                    path,
                    name: map.name,
                    other: other.clone(),
                });
            }
            origin.insert(map.name.clone(), path);
            maps.insert(map.name.clone(), map);
        }
        if !maps.contains_key(&game.default_map) {
            return Err(AssetsError::MissingDefaultMap(game.default_map));
        }
        Ok(Assets { game, maps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets")
    }

    #[test]
    fn the_shipped_assets_load() {
        let assets = Assets::load(&shipped()).expect("shipped assets load");
        assert!(assets.maps.contains_key("arena"), "arena map present");
        assert_eq!(assets.game.tick_rate, 30, "30 Hz");
    }

    #[test]
    fn a_broken_map_names_its_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("maps")).expect("maps dir");
        std::fs::copy(shipped().join("game.toml"), dir.path().join("game.toml")).expect("copy");
        std::fs::write(
            dir.path().join("maps/arena.toml"),
            "name = \"arena\"\nwidth = 10.0\n",
        )
        .expect("write");
        let err = Assets::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("arena.toml"), "names the file: {err}");
    }
}
