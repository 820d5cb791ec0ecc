//! Harness for the integration tests in `tests/tests/`: start a real server (on an ephemeral
//! port, with TLS, on SQLite or a private PostgreSQL schema), and talk to it over HTTPS.

pub mod coins;
pub mod player;
pub mod process;

use std::path::PathBuf;

use anyhow::Context;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::Server;
use server::clock::Clock;
use server::config::{Config, Limits, Role, TlsMode};

/// Which database a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The PostgreSQL URL for tests, from `TICKWIRE_TEST_POSTGRES_URL`. Without it the test is
/// skipped locally, but fails under `CI=true`: CI must exercise PostgreSQL.
pub fn postgres_url() -> Option<String> {
    match std::env::var("TICKWIRE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "TICKWIRE_TEST_POSTGRES_URL is not set; under CI=true PostgreSQL tests must run"
                );
            }
            eprintln!("skipping: TICKWIRE_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

/// A fresh schema in the test database, so tests run in parallel without seeing each other.
/// Answers the URL whose connections use it.
pub async fn fresh_postgres_schema(base: &str) -> anyhow::Result<(String, String)> {
    use sqlx::Connection;
    let schema = format!("tw_test_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .with_context(|| format!("connecting to {base}"))?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok((
        format!("{base}{sep}options=-csearch_path%3D{schema}"),
        schema,
    ))
}

/// Drops a schema made by [`fresh_postgres_schema`].
pub async fn drop_postgres_schema(base: &str, schema: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(base).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// A server running in this process on an ephemeral port, with its own data directory.
pub struct TestServer {
    pub server: Server,
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Clock,
    pub data_dir: PathBuf,
    config: Config,
    /// The PostgreSQL base URL and the private schema, dropped at [`TestServer::stop`].
    pg_schema: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

/// Options for [`TestServer::start_with`].
#[derive(Debug, Clone)]
pub struct Options {
    pub db: Db,
    pub tls: bool,
    pub limits: Limits,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    /// `arena/game.toml` lines to replace, as (line prefix, new line), e.g.
    /// `("match_length_s", "match_length_s = 3.0")`.
    pub game_edits: Vec<(&'static str, String)>,
    /// Extra arena maps, as (file name, TOML text).
    pub extra_maps: Vec<(&'static str, String)>,
    /// Extra asset files, as (path under the assets directory, text): a game of the tests'
    /// own needs its `<game>/game.toml` and `<game>/maps/*.toml`.
    pub extra_assets: Vec<(String, String)>,
    /// The games the server serves (the shipped ones when `None`).
    pub games: Option<server::game::GameSet>,
    /// The leaderboards (the server's defaults when empty).
    pub leaderboards: Vec<server::leaderboards::BoardDef>,
    /// `--allowed-origins`.
    pub allowed_origins: Vec<String>,
    /// `--trusted-proxies`.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `--diagnostics`.
    pub diagnostics: bool,
    /// `--role`.
    pub role: Role,
    /// `--agones`.
    pub agones: bool,
    /// The `[cluster]` settings.
    pub cluster: server::config::ClusterSettings,
    /// The `[replays]` settings.
    pub replays: server::config::ReplaySettings,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            db: Db::Sqlite,
            tls: true,
            limits: Limits::default(),
            data_dir: None,
            database_url: None,
            game_edits: Vec::new(),
            extra_maps: Vec::new(),
            extra_assets: Vec::new(),
            games: None,
            leaderboards: Vec::new(),
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            role: Role::All,
            agones: false,
            cluster: server::config::ClusterSettings::default(),
            replays: server::config::ReplaySettings::default(),
            diagnostics: false,
        }
    }
}

pub fn assets_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets"))
}

/// A copy of the shipped assets in `dir` with `arena/game.toml` lines replaced, as
/// [`Options::game_edits`] does: for a server started some other way (a child process).
pub fn edited_assets(
    dir: &std::path::Path,
    game_edits: Vec<(&'static str, String)>,
) -> anyhow::Result<PathBuf> {
    custom_assets(
        dir,
        &Options {
            game_edits,
            ..Options::default()
        },
    )
}

/// The shipped assets, or a copy in `data_dir` with `arena/game.toml` edited and files added.
fn custom_assets(data_dir: &std::path::Path, options: &Options) -> anyhow::Result<PathBuf> {
    if options.game_edits.is_empty()
        && options.extra_maps.is_empty()
        && options.extra_assets.is_empty()
    {
        return Ok(assets_dir());
    }
    let dir = data_dir.join("assets");
    for game in std::fs::read_dir(assets_dir())? {
        let game = game?.path();
        // A game is a folder with a game.toml (`web/` holds the browser SDK, not a game).
        let (Some(name), true) = (game.file_name(), game.join("game.toml").is_file()) else {
            continue;
        };
        let maps = dir.join(name).join("maps");
        std::fs::create_dir_all(&maps)?;
        std::fs::copy(game.join("game.toml"), dir.join(name).join("game.toml"))?;
        for map in std::fs::read_dir(game.join("maps"))? {
            let map = map?.path();
            if let Some(file) = map.file_name() {
                std::fs::copy(&map, maps.join(file))?;
            }
        }
    }
    let arena_toml = dir.join("arena/game.toml");
    let mut game = std::fs::read_to_string(&arena_toml)?;
    for (prefix, line) in &options.game_edits {
        let old = game
            .lines()
            .find(|l| l.starts_with(prefix))
            .with_context(|| format!("arena/game.toml has no line starting {prefix:?}"))?
            .to_string();
        game = game.replace(&old, line);
    }
    std::fs::write(arena_toml, game)?;
    for (name, text) in &options.extra_maps {
        std::fs::write(dir.join("arena/maps").join(name), text)?;
    }
    for (path, text) in &options.extra_assets {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    Ok(dir)
}

/// A tiny map for realtime tests: one spawn point with an orb spawner touching it, so a player
/// scores on its first tick without moving.
pub const TESTBOX_MAP: &str = r#"
width = 400.0
height = 400.0
spawns = [{ x = 200.0, y = 200.0 }]
orb_spawners = [{ x = 210.0, y = 200.0 }]
"#;

impl TestServer {
    /// A TLS server on SQLite with default limits.
    pub async fn start() -> anyhow::Result<TestServer> {
        TestServer::start_with(Options::default()).await
    }

    /// `None` when the options ask for PostgreSQL and no test database is configured.
    pub async fn start_with(options: Options) -> anyhow::Result<TestServer> {
        let (dir, data_dir) = match options.data_dir.clone() {
            Some(path) => (None, path),
            None => {
                let dir = tempfile::tempdir()?;
                let path = dir.path().to_path_buf();
                (Some(dir), path)
            }
        };
        let mut pg_schema = None;
        let database_url = match (options.db, options.database_url.clone()) {
            (_, Some(url)) => Some(url),
            (Db::Sqlite, None) => None,
            (Db::Postgres, None) => {
                let base = postgres_url().context("no PostgreSQL configured")?;
                let (url, schema) = fresh_postgres_schema(&base).await?;
                pg_schema = Some((base, schema));
                Some(url)
            }
        };
        let config = Config {
            listen: "127.0.0.1:0".parse()?,
            data_dir: data_dir.clone(),
            database_url,
            tls: if options.tls {
                TlsMode::Development
            } else {
                TlsMode::Off
            },
            role: options.role,
            assets: custom_assets(&data_dir, &options)?,
            public_url: None,
            allowed_origins: options.allowed_origins,
            trusted_proxies: options.trusted_proxies,
            diagnostics: options.diagnostics,
            agones: options.agones,
            cluster: options.cluster,
            admin_key: None,
            signing_key: None,
            limits: options.limits,
            leaderboards: options.leaderboards,
            replays: options.replays,
            config_file: None,
            games: options.games.unwrap_or_default(),
        };
        TestServer::boot(config, dir, Clock::default(), pg_schema).await
    }

    async fn boot(
        config: Config,
        dir: Option<tempfile::TempDir>,
        clock: Clock,
        pg_schema: Option<(String, String)>,
    ) -> anyhow::Result<TestServer> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let server = Server::start_on(config.clone(), listener, clock.clone()).await?;
        let scheme = if config.tls == TlsMode::Off {
            "http"
        } else {
            "https"
        };
        let base = format!("{scheme}://{}", server.addr);
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(TestServer {
            data_dir: config.data_dir.clone(),
            server,
            base,
            http,
            clock,
            config,
            pg_schema,
            _dir: dir,
        })
    }

    /// Stops this server and starts a new one on the same data directory and database (on a
    /// new port).
    pub async fn restart(self) -> anyhow::Result<TestServer> {
        let TestServer {
            server,
            mut config,
            _dir,
            clock,
            pg_schema,
            ..
        } = self;
        server.shutdown();
        server.wait().await;
        config.listen = "127.0.0.1:0".parse()?;
        TestServer::boot(config, _dir, clock, pg_schema).await
    }

    /// Stops the server and drops its PostgreSQL schema, if it had one.
    pub async fn stop(self) {
        self.server.shutdown();
        self.server.wait().await;
        if let Some((base, schema)) = &self.pg_schema
            && let Err(e) = drop_postgres_schema(base, schema).await
        {
            eprintln!("could not drop test schema {schema}: {e}");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The REST client of this server.
    pub fn rest(&self) -> Rest {
        Rest {
            http: self.http.clone(),
            base: self.base.clone(),
        }
    }

    /// Sends a JSON request and answers the status and the JSON body (`Value::Null` if empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.rest().call(method, path, token, body).await
    }

    /// Registers `username` and logs in; answers (account id, access token, refresh token).
    pub async fn register_and_login(
        &self,
        username: &str,
        password: &str,
    ) -> anyhow::Result<(i64, String, String)> {
        let body = json!({"username": username, "password": password});
        let (status, reg) = self
            .call(Method::POST, "/v1/accounts", None, Some(body.clone()))
            .await?;
        anyhow::ensure!(
            status == StatusCode::CREATED,
            "register {username}: {status} {reg}"
        );
        let (status, session) = self
            .call(Method::POST, "/v1/sessions", None, Some(body))
            .await?;
        anyhow::ensure!(
            status == StatusCode::OK,
            "login {username}: {status} {session}"
        );
        Ok((
            session["account_id"].as_i64().context("account_id")?,
            session["access_token"]
                .as_str()
                .context("access")?
                .to_string(),
            session["refresh_token"]
                .as_str()
                .context("refresh")?
                .to_string(),
        ))
    }

    /// Creates a match (as `token`) and answers its id.
    pub async fn create_match(&self, token: &str, map: Option<&str>) -> anyhow::Result<String> {
        self.rest().create_match(token, map).await
    }

    /// A join ticket for `match_id`: (ticket, wss/ws URL).
    pub async fn ticket(&self, token: &str, match_id: &str) -> anyhow::Result<(String, String)> {
        self.rest().ticket(token, match_id).await
    }

    /// A guest session for `device_id`: (account id, access token).
    pub async fn guest(&self, device_id: &str) -> anyhow::Result<(i64, String)> {
        self.rest().guest(device_id).await
    }
}

/// A REST client of one server (or node): its base URL and an HTTP client.
#[derive(Clone)]
pub struct Rest {
    pub http: reqwest::Client,
    /// `https://127.0.0.1:PORT` or `http://…`.
    pub base: String,
}

impl Rest {
    /// Sends a JSON request and answers the status and the JSON body (`Value::Null` if empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .with_context(|| format!("non-JSON body: {}", String::from_utf8_lossy(&bytes)))?
        };
        Ok((status, value))
    }

    /// Creates a match (as `token`) and answers its id.
    pub async fn create_match(&self, token: &str, map: Option<&str>) -> anyhow::Result<String> {
        let body = match map {
            Some(map) => json!({ "map": map }),
            None => json!({}),
        };
        let (status, created) = self
            .call(Method::POST, "/v1/matches", Some(token), Some(body))
            .await?;
        anyhow::ensure!(
            status == StatusCode::CREATED,
            "create match: {status} {created}"
        );
        Ok(created["match_id"]
            .as_str()
            .context("match_id")?
            .to_string())
    }

    /// A join ticket for `match_id`: (ticket, wss/ws URL).
    pub async fn ticket(&self, token: &str, match_id: &str) -> anyhow::Result<(String, String)> {
        let (status, ticket) = self
            .call(
                Method::POST,
                &format!("/v1/matches/{match_id}/join"),
                Some(token),
                None,
            )
            .await?;
        anyhow::ensure!(status == StatusCode::OK, "join: {status} {ticket}");
        Ok((
            ticket["ticket"].as_str().context("ticket")?.to_string(),
            ticket["url"].as_str().context("url")?.to_string(),
        ))
    }

    /// A guest session for `device_id`: (account id, access token).
    pub async fn guest(&self, device_id: &str) -> anyhow::Result<(i64, String)> {
        let (status, session) = self
            .call(
                Method::POST,
                "/v1/sessions/guest",
                None,
                Some(json!({"device_id": device_id})),
            )
            .await?;
        anyhow::ensure!(status == StatusCode::OK, "guest login: {status} {session}");
        Ok((
            session["account_id"].as_i64().context("account_id")?,
            session["access_token"]
                .as_str()
                .context("access")?
                .to_string(),
        ))
    }
}

/// Asserts the JSON error shape with the expected status and code.
pub fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str, what: &str) {
    assert_eq!(got.0, status, "{what}: status (body {})", got.1);
    assert_eq!(
        got.1["error"]["code"].as_str(),
        Some(code),
        "{what}: error code in {}",
        got.1
    );
    assert!(
        got.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: error message in {}",
        got.1
    );
}
