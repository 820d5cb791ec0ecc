//! Server configuration: command-line flags, then `TICKWIRE_*` environment variables, then an
//! optional TOML file, then defaults — in that order of precedence.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

pub use crate::cluster::ClusterSettings;
pub use crate::replay::ReplaySettings;

/// What this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// REST API and matches in one process (the default).
    All,
    /// Stateless REST only.
    Api,
    /// Matches only (WebSocket endpoint and health).
    Game,
}

/// Tickwire game server.
///
/// Serves the REST API (accounts, lobby, leaderboards, admin) and the realtime WebSocket endpoint
/// on one listener, with TLS by default (a self-signed development certificate is made in the
/// data directory on first start) and SQLite in the data directory.
#[derive(Debug, Clone, Default, Parser)]
#[command(name = "server", version, about, long_about)]
pub struct Cli {
    /// Address to listen on [default: 127.0.0.1:8443]
    #[arg(long, env = "TICKWIRE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory for the SQLite database, keys and the development certificate [default: ./data]
    #[arg(long, env = "TICKWIRE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://... [default: SQLite in the data directory]
    #[arg(long, env = "TICKWIRE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// PEM certificate chain for TLS (with --tls-key) instead of the development certificate
    #[arg(long, env = "TICKWIRE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS (with --tls-cert)
    #[arg(long, env = "TICKWIRE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain http/ws (for running behind a TLS-terminating proxy)
    #[arg(long, env = "TICKWIRE_NO_TLS", num_args = 0..=1, default_missing_value = "true")]
    pub no_tls: Option<bool>,
    /// What this process runs [default: all]
    #[arg(long, env = "TICKWIRE_ROLE", value_enum)]
    pub role: Option<Role>,
    /// A TOML file with any of these settings (lower precedence than flags and environment)
    #[arg(long, env = "TICKWIRE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Directory holding one folder per game (`arena/`, `cycles/`), each with game.toml and
    /// maps/ [default: ./assets]
    #[arg(long, env = "TICKWIRE_ASSETS", global = true)]
    pub assets: Option<PathBuf>,
    /// Base URL clients reach this node at, put in join tickets (e.g. wss://game1.example.com)
    /// [default: derived from --listen]
    #[arg(long, env = "TICKWIRE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Origins (scheme://host[:port]) whose pages may call the API and open the realtime
    /// socket, comma-separated; `*` for any (credentials are then never allowed)
    /// [default: only the server's own origin]
    #[arg(long, env = "TICKWIRE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Option<Vec<String>>,
    /// Proxies (CIDRs, comma-separated) whose X-Forwarded-For / Forwarded headers name the
    /// client; from any other address those headers are ignored [default: none]
    #[arg(long, env = "TICKWIRE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<ipnet::IpNet>>,
    /// Serve the diagnostics endpoints (`/v1/diagnostics/echo`, a WebSocket echo for
    /// conformance testing) [default: off]
    #[arg(long, env = "TICKWIRE_DIAGNOSTICS", num_args = 0..=1, default_missing_value = "true")]
    pub diagnostics: Option<bool>,
    /// The region this game node registers in; the lobby can place matches by region
    /// [default: default]
    #[arg(long, env = "TICKWIRE_REGION")]
    pub region: Option<String>,
    /// Run under Agones: report Ready, Health, Allocated and Shutdown to the Agones SDK sidecar
    /// (and take the public address from it when --public-url is not given) [default: off]
    #[arg(long, env = "TICKWIRE_AGONES", num_args = 0..=1, default_missing_value = "true")]
    pub agones: Option<bool>,
    /// Something to do instead of serving
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `server` does instead of serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Verify a match's replay: re-simulate it with the games in --assets and compare the state
    /// hash on every recorded tick; exits non-zero naming the first tick that differs
    Replay(ReplayArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// A replay file, or the URL of one (https://HOST/v1/matches/MATCH_ID/replay)
    pub source: String,
    /// Accept any TLS certificate when fetching (a development server's self-signed one)
    #[arg(long)]
    pub insecure: bool,
}

/// The optional TOML file: the same settings as the flags, plus the tunables that have no flag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub no_tls: Option<bool>,
    pub role: Option<Role>,
    pub assets: Option<PathBuf>,
    pub public_url: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub trusted_proxies: Option<Vec<ipnet::IpNet>>,
    pub diagnostics: Option<bool>,
    pub agones: Option<bool>,
    /// The admin API key; made in `<data-dir>/admin.key` when not given.
    pub admin_key: Option<String>,
    /// The token signing key; made in `<data-dir>/signing.key` when not given.
    pub signing_key: Option<String>,
    #[serde(default)]
    pub limits: Limits,
    /// Running as one node of several (`region` also has a flag).
    #[serde(default)]
    pub cluster: ClusterSettings,
    /// The leaderboards; the defaults (score, score_weekly, kills, best_match for arena;
    /// cycles_score, cycles_cuts for cycles) when absent. Check them with [`validate_boards`].
    #[serde(default)]
    pub leaderboards: Vec<crate::leaderboards::BoardDef>,
    /// Recording matches and keeping their replays.
    #[serde(default)]
    pub replays: ReplaySettings,
}

/// Safety limits, all with defaults.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest REST request body in bytes.
    pub max_body_bytes: usize,
    /// Largest inbound WebSocket message in bytes.
    pub max_message_bytes: usize,
    /// Inputs a client may send per second before it is dropped as a flood (never less than
    /// twice the tick rate).
    pub max_inputs_per_second: u32,
    /// Seconds a new socket has to send `Hello`.
    pub handshake_timeout_s: f32,
    /// Snapshots a slow client may fall behind before it is dropped.
    pub max_ticks_behind: u32,
    /// Seconds without any message before a client is timed out.
    pub idle_timeout_s: f32,
    /// Seconds a dropped player's seat is kept for a resume.
    pub reconnect_grace_s: f32,
    /// Kernel send buffer of each accepted socket, in bytes (0 = the kernel's autotuning). A
    /// bounded buffer caps memory per client and makes a client that stops reading show up as
    /// skipped snapshots within a second or two instead of after megabytes.
    pub socket_send_buffer_bytes: usize,
    /// A leaderboard page shows the board as it stood this many milliseconds before its first
    /// page was read, so writes still committing cannot slip into later pages only.
    pub leaderboard_snapshot_lag_ms: u32,
    /// Seconds a leaderboard cursor stays usable (closed record versions are kept this long).
    pub leaderboard_cursor_ttl_s: u32,
    /// Seconds a join ticket stays valid.
    pub ticket_ttl_s: u32,
    /// Seconds an access token stays valid.
    pub access_token_ttl_s: u32,
    /// Seconds a refresh token stays valid.
    pub refresh_token_ttl_s: u32,
    /// Password login/register attempts per minute from one client address.
    pub auth_attempts_per_address_per_minute: u32,
    /// Password login/register attempts per minute against one username.
    pub auth_attempts_per_username_per_minute: u32,
    /// Guest logins per minute from one client address (raise it for load tests).
    pub guest_logins_per_address_per_minute: u32,
    /// Connections one client address may hold open at once (HTTP and WebSocket); more are
    /// answered 429. Proxies in `trusted_proxies` are exempt; their clients count by the
    /// address the proxy names.
    pub max_connections_per_address: u32,
    /// Seconds a client has to send a request's headers (and to finish the TLS handshake)
    /// before the connection is dropped.
    pub header_timeout_s: f32,
    /// The nice value the tick threads ask for. The tick does each client's sending itself, so
    /// on a busy host (a login storm, co-located processes) a tick thread waiting for a core is
    /// a late tick for every match on it; below 0 it is served before other work. Raising
    /// priority needs `CAP_SYS_NICE` (root has it); without, the server warns and runs at 0.
    pub tick_thread_nice: Nice,
    /// Whether a game's interest management applies: each player gets only the entities the
    /// game says it sees (which also keeps a modified client from showing what is hidden). Off,
    /// everyone gets the whole world (for comparing the two).
    pub interest_management: bool,
    /// Seconds late a spectator sees a match, so a player cannot have a friend spectate and
    /// call out what its own screen hides (0: live).
    pub spectator_delay_s: f32,
    /// Spectators one match takes at once.
    pub max_spectators_per_match: u32,
}

/// A nice value, -20 (most favoured) to 19.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Nice(i8);

impl Nice {
    pub const fn new(value: i8) -> Option<Nice> {
        if value >= -20 && value <= 19 {
            Some(Nice(value))
        } else {
            None
        }
    }

    pub fn get(self) -> i32 {
        i32::from(self.0)
    }
}

impl TryFrom<i64> for Nice {
    type Error = String;

    fn try_from(value: i64) -> Result<Nice, String> {
        i8::try_from(value)
            .ok()
            .and_then(Nice::new)
            .ok_or_else(|| format!("a nice value is -20 to 19, not {value}"))
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 64 * 1024,
            max_message_bytes: shared::codec::MAX_CLIENT_MESSAGE,
            max_inputs_per_second: 120,
            handshake_timeout_s: 5.0,
            max_ticks_behind: 90,
            idle_timeout_s: 10.0,
            reconnect_grace_s: 15.0,
            socket_send_buffer_bytes: 64 * 1024,
            leaderboard_snapshot_lag_ms: 1000,
            leaderboard_cursor_ttl_s: 900,
            ticket_ttl_s: 30,
            access_token_ttl_s: 3600,
            refresh_token_ttl_s: 30 * 24 * 3600,
            auth_attempts_per_address_per_minute: 60,
            auth_attempts_per_username_per_minute: 10,
            guest_logins_per_address_per_minute: 1200,
            max_connections_per_address: 256,
            header_timeout_s: 10.0,
            tick_thread_nice: Nice(-10),
            interest_management: true,
            spectator_delay_s: 0.0,
            max_spectators_per_match: 64,
        }
    }
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub tls: TlsMode,
    pub role: Role,
    pub assets: PathBuf,
    pub public_url: Option<String>,
    /// Origins besides the server's own that browsers may call from (`*`: any).
    pub allowed_origins: Vec<String>,
    /// Proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Whether `/v1/diagnostics/*` is served.
    pub diagnostics: bool,
    /// Whether to report to the Agones SDK sidecar.
    pub agones: bool,
    pub cluster: ClusterSettings,
    pub admin_key: Option<String>,
    pub signing_key: Option<String>,
    pub limits: Limits,
    /// The `[[leaderboards]]` of the config file; empty: the default boards of the games served.
    pub leaderboards: Vec<crate::leaderboards::BoardDef>,
    /// The `[replays]` of the config file.
    pub replays: ReplaySettings,
    /// The config file the settings came from, for error messages.
    pub config_file: Option<PathBuf>,
    /// The games this server serves (the shipped ones unless a program embedding the server
    /// registers its own); each loads from `<assets>/<game>/`.
    pub games: crate::game::GameSet,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain http/ws.
    Off,
    /// A self-signed certificate made (once) in the data directory.
    Development,
    /// Operator-provided PEM files.
    Files { cert: PathBuf, key: PathBuf },
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("tls_cert and tls_key must be given together")]
    HalfTls,
    /// A setting out of its range, e.g. `tickwire.toml: cluster.event_poll_s: must be above 0`.
    #[error("{file}: {message}")]
    Setting { file: String, message: String },
    /// A leaderboard that cannot receive results: e.g.
    /// `tickwire.toml: leaderboards[1].metric: game "cycles" has no stat "kills" (...)`.
    #[error("{file}: leaderboards[{index}].{field}: {message}")]
    Board {
        file: String,
        index: usize,
        field: &'static str,
        message: String,
    },
}

/// Checks each board against the games this server serves, given as (game, its stat names):
/// its game must be one of them and its metric `score` or one of that game's stats. `file` names
/// where the boards came from, for the message.
pub fn validate_boards(
    file: &str,
    boards: &[crate::leaderboards::BoardDef],
    games: &[(&str, &[&str])],
) -> Result<(), ConfigError> {
    use crate::leaderboards::Metric;
    let error = |index, field, message| ConfigError::Board {
        file: file.to_string(),
        index,
        field,
        message,
    };
    for (index, board) in boards.iter().enumerate() {
        let Some((_, stats)) = games.iter().find(|(game, _)| *game == board.game) else {
            let served: Vec<&str> = games.iter().map(|(game, _)| *game).collect();
            return Err(error(
                index,
                "game",
                format!(
                    "no game {:?} is served (games: {})",
                    board.game,
                    served.join(", ")
                ),
            ));
        };
        if let Metric::Stat(stat) = &board.metric
            && !stats.contains(&stat.as_str())
        {
            let listed = if stats.is_empty() {
                "it has none".to_string()
            } else {
                format!("its stats: {}", stats.join(", "))
            };
            return Err(error(
                index,
                "metric",
                format!("game {:?} has no stat {stat:?} ({listed})", board.game),
            ));
        }
    }
    Ok(())
}

impl Config {
    /// Resolves flags/environment (`cli`) over the file named by `cli.config`, over defaults.
    pub fn resolve(cli: Cli) -> Result<Config, ConfigError> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let tls_cert = cli.tls_cert.or(file.tls_cert);
        let tls_key = cli.tls_key.or(file.tls_key);
        let tls = if cli.no_tls.or(file.no_tls).unwrap_or(false) {
            TlsMode::Off
        } else {
            match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => TlsMode::Files { cert, key },
                (None, None) => TlsMode::Development,
                _ => return Err(ConfigError::HalfTls),
            }
        };
        let cluster = ClusterSettings {
            region: cli.region.unwrap_or(file.cluster.region),
            ..file.cluster
        };
        let source = cli.config.as_ref().map_or_else(
            || "the command line".to_string(),
            |p| p.display().to_string(),
        );
        cluster.check().map_err(|message| ConfigError::Setting {
            file: source.clone(),
            message,
        })?;
        file.replays
            .check()
            .map_err(|message| ConfigError::Setting {
                file: source,
                message,
            })?;
        Ok(Config {
            listen: cli
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8443))),
            data_dir: cli
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("data")),
            database_url: cli.database_url.or(file.database_url),
            tls,
            role: cli.role.or(file.role).unwrap_or(Role::All),
            assets: cli
                .assets
                .or(file.assets)
                .unwrap_or_else(|| PathBuf::from("assets")),
            public_url: cli.public_url.or(file.public_url),
            allowed_origins: cli
                .allowed_origins
                .or(file.allowed_origins)
                .unwrap_or_default()
                .into_iter()
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect(),
            trusted_proxies: cli
                .trusted_proxies
                .or(file.trusted_proxies)
                .unwrap_or_default(),
            diagnostics: cli.diagnostics.or(file.diagnostics).unwrap_or(false),
            agones: cli.agones.or(file.agones).unwrap_or(false),
            cluster,
            admin_key: file.admin_key,
            signing_key: file.signing_key,
            limits: file.limits,
            leaderboards: file.leaderboards,
            replays: file.replays,
            config_file: cli.config.clone(),
            games: crate::game::GameSet::shipped(),
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_config(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tickwire.toml");
        std::fs::write(&path, text).expect("write config");
        (dir, path)
    }

    #[test]
    fn defaults_match_the_command_line_contract() {
        let config = Config::resolve(Cli::default()).expect("defaults resolve");
        assert_eq!(
            config.listen.to_string(),
            "127.0.0.1:8443",
            "default listen"
        );
        assert_eq!(config.tls, TlsMode::Development, "TLS on by default");
        assert_eq!(config.data_dir, PathBuf::from("data"), "default data dir");
        assert_eq!(config.role, Role::All, "default role");
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let (_dir, path) = write_config(
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/tmp/x\"\nno_tls = true\n[limits]\nticket_ttl_s = 5\n",
        );
        let cli = Cli::parse_from([
            "server",
            "--config",
            path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:9100",
        ]);
        let config = Config::resolve(cli).expect("resolves");
        assert_eq!(
            config.listen.to_string(),
            "127.0.0.1:9100",
            "flag wins over file"
        );
        assert_eq!(
            config.data_dir,
            PathBuf::from("/tmp/x"),
            "file wins over default"
        );
        assert_eq!(config.tls, TlsMode::Off, "file turns TLS off");
        assert_eq!(config.limits.ticket_ttl_s, 5, "file sets a limit");
        assert_eq!(
            config.limits.max_body_bytes,
            Limits::default().max_body_bytes,
            "other limits default"
        );
    }

    #[test]
    fn a_typo_in_the_file_is_an_error_naming_the_file() {
        let (_dir, path) = write_config("lisen = \"127.0.0.1:9000\"\n");
        let cli = Cli::parse_from(["server", "--config", path.to_str().unwrap()]);
        let err = Config::resolve(cli).unwrap_err().to_string();
        assert!(
            err.contains("tickwire.toml") && err.contains("lisen"),
            "{err}"
        );
    }

    #[test]
    fn a_tick_thread_nice_outside_minus_20_to_19_is_an_error() {
        let (_dir, path) = write_config("[limits]\ntick_thread_nice = 3\n");
        let cli = Cli::parse_from(["server", "--config", path.to_str().unwrap()]);
        let config = Config::resolve(cli).expect("in range");
        assert_eq!(config.limits.tick_thread_nice.get(), 3);
        for bad in ["-21", "20", "300"] {
            let (_dir, path) = write_config(&format!("[limits]\ntick_thread_nice = {bad}\n"));
            let cli = Cli::parse_from(["server", "--config", path.to_str().unwrap()]);
            let err = Config::resolve(cli).unwrap_err().to_string();
            assert!(
                err.contains("tickwire.toml") && err.contains("-20 to 19") && err.contains(bad),
                "{bad}: {err}"
            );
        }
    }

    const GAMES: &[(&str, &[&str])] = &[
        ("arena", &["kills", "deaths"]),
        ("cycles", &["cuts", "crashes", "cells"]),
    ];

    fn boards_from(text: &str) -> Vec<crate::leaderboards::BoardDef> {
        #[derive(Deserialize)]
        struct Boards {
            leaderboards: Vec<crate::leaderboards::BoardDef>,
        }
        toml::from_str::<Boards>(text)
            .expect("boards parse")
            .leaderboards
    }

    #[test]
    fn the_default_boards_are_valid_for_arena_and_cycles() {
        validate_boards(
            "tickwire.toml",
            &crate::leaderboards::default_boards(),
            GAMES,
        )
        .expect("the defaults fit the shipped games");
    }

    #[test]
    fn a_stat_of_another_game_is_an_error_naming_file_and_field() {
        let boards = boards_from(
            "[[leaderboards]]\nid = \"a\"\nmetric = \"kills\"\noperator = \"sum\"\n\
             [[leaderboards]]\nid = \"c\"\ngame = \"cycles\"\nmetric = \"kills\"\noperator = \"sum\"\n",
        );
        let err = validate_boards("tickwire.toml", &boards, GAMES)
            .expect_err("cycles has no kills")
            .to_string();
        assert_eq!(
            err,
            "tickwire.toml: leaderboards[1].metric: game \"cycles\" has no stat \"kills\" \
             (its stats: cuts, crashes, cells)",
            "names the file, the board and the field"
        );
    }

    #[test]
    fn an_unknown_game_is_an_error_naming_the_game_field() {
        let boards = boards_from(
            "[[leaderboards]]\nid = \"t\"\ngame = \"tetris\"\nmetric = \"score\"\noperator = \"best\"\n",
        );
        let err = validate_boards("tickwire.toml", &boards, GAMES)
            .expect_err("tetris is not served")
            .to_string();
        assert_eq!(
            err,
            "tickwire.toml: leaderboards[0].game: no game \"tetris\" is served (games: arena, cycles)",
            "names the file, the board and the field"
        );
    }

    #[test]
    fn score_and_declared_stats_are_valid_metrics() {
        let boards = boards_from(
            "[[leaderboards]]\nid = \"s\"\ngame = \"cycles\"\nmetric = \"score\"\noperator = \"sum\"\n\
             [[leaderboards]]\nid = \"c\"\ngame = \"cycles\"\nmetric = \"cells\"\noperator = \"best\"\n\
             [[leaderboards]]\nid = \"d\"\nmetric = \"deaths\"\noperator = \"best\"\norder = \"asc\"\n",
        );
        validate_boards("tickwire.toml", &boards, GAMES).expect("every metric exists");
        assert!(
            validate_boards("tickwire.toml", &boards, &[("arena", &["kills", "deaths"])]).is_err(),
            "a board of a game not served is refused"
        );
    }

    #[test]
    fn replays_are_kept_30_days_by_default_and_the_file_can_change_that() {
        let config = Config::resolve(Cli::default()).expect("defaults resolve");
        assert!(config.replays.enabled, "recorded by default");
        assert_eq!(
            config.replays.retention_ms(),
            Some(30 * 86_400_000),
            "30 days"
        );
        let (_dir, path) = write_config(
            "[replays]\nenabled = false\nretention_days = 0\nhash_interval_ticks = 30\n",
        );
        let cli = Cli::parse_from(["server", "--config", path.to_str().unwrap()]);
        let config = Config::resolve(cli).expect("resolves");
        assert!(!config.replays.enabled, "off");
        assert_eq!(config.replays.retention_ms(), None, "0 keeps them forever");
        assert_eq!(config.replays.hash_interval_ticks, 30, "interval");
        let (_dir, path) = write_config("[replays]\nhash_interval_ticks = 0\n");
        let cli = Cli::parse_from(["server", "--config", path.to_str().unwrap()]);
        let err = Config::resolve(cli).unwrap_err().to_string();
        assert!(
            err.contains("tickwire.toml") && err.contains("replays.hash_interval_ticks"),
            "{err}"
        );
    }

    #[test]
    fn the_replay_subcommand_leaves_the_server_flags_as_they_were() {
        let cli = Cli::parse_from(["server", "--listen", "127.0.0.1:9000", "--no-tls"]);
        assert!(cli.command.is_none(), "no subcommand: serve");
        assert_eq!(cli.no_tls, Some(true), "flags as before");
        let cli = Cli::parse_from([
            "server",
            "replay",
            "https://h/v1/matches/m_1/replay",
            "--insecure",
            "--assets",
            "/x",
        ]);
        let Some(Command::Replay(args)) = &cli.command else {
            panic!("the replay subcommand: {cli:?}");
        };
        assert_eq!(args.source, "https://h/v1/matches/m_1/replay", "source");
        assert!(args.insecure, "insecure");
        assert_eq!(
            cli.assets,
            Some(PathBuf::from("/x")),
            "--assets after the subcommand"
        );
    }

    #[test]
    fn no_tls_flag_without_value_means_true() {
        let cli = Cli::parse_from(["server", "--no-tls"]);
        assert_eq!(
            Config::resolve(cli).expect("resolves").tls,
            TlsMode::Off,
            "--no-tls"
        );
    }
}
