//! A small client for the REST API: accounts, sessions and the lobby, as the bots and the
//! integration tests use them.
//!
//! Every call is timed. [`RestClient::with_observer`] installs a callback that hears each call's
//! route, status and latency, so the bot can keep per-route histograms without this module
//! knowing about them.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::tls::{self, TlsError};

/// Limit on one whole request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A token pair from login, guest login or refresh.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuthSession {
    pub access_token: String,
    pub refresh_token: String,
    pub account_id: i64,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// A registered account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Registered {
    pub account_id: i64,
    pub username: String,
}

/// A single-use ticket for the realtime `Hello`, and where to present it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct JoinTicket {
    pub ticket: String,
    /// The WebSocket URL (`ws://` or `wss://`).
    pub url: String,
    pub match_id: String,
    /// Seconds the ticket stays valid.
    pub expires_in: u32,
}

/// A match as the lobby lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MatchInfo {
    pub match_id: String,
    pub map: String,
    pub players: i64,
    pub capacity: i64,
    /// `open`, `running` or `ended`.
    pub state: String,
    pub public: bool,
}

#[derive(Deserialize)]
struct MatchList {
    matches: Vec<MatchInfo>,
}

/// A game the server serves, as `GET /v1/games` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GameInfo {
    pub id: String,
    pub maps: Vec<MapInfo>,
    pub default_map: String,
    /// The [`shared::GameProtocol::hash`] of the server's declarations (sent as 16 hex
    /// digits): a client built against others is refused at `Hello`.
    #[serde(deserialize_with = "hex_u64")]
    pub protocol_hash: u64,
    pub stats: Vec<String>,
}

/// One map of a [`GameInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MapInfo {
    pub name: String,
    pub seats: u32,
}

#[derive(Deserialize)]
struct GameList {
    games: Vec<GameInfo>,
}

/// A `u64` written as hex digits (JSON numbers lose precision past 2^53).
fn hex_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let text = String::deserialize(d)?;
    u64::from_str_radix(&text, 16).map_err(serde::de::Error::custom)
}

/// A map of a game with its layout, as `GET /v1/games/{game}/maps/{map}` gives it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MapLayout {
    pub game: String,
    pub name: String,
    pub seats: u32,
    /// The map file as JSON; its fields are the game's.
    pub layout: serde_json::Value,
}

/// Who the access token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Me {
    pub account_id: i64,
    pub username: String,
    pub guest: bool,
    pub created_at: String,
}

/// Why a REST call failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The server answered with an error status. `code` and `message` come from its
    /// `{"error": {"code", "message"}}` body; for another body, `code` is empty and `message`
    /// holds the start of the body.
    #[error("{route}: HTTP {status} {code}: {message}")]
    Status {
        route: &'static str,
        status: u16,
        code: String,
        message: String,
    },
    #[error("{route}: {source}")]
    Transport {
        route: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{route}: unexpected response body: {source}")]
    Body {
        route: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("building the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl RestError {
    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            RestError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's error code (`invalid_credentials`, `match_full`, ...) of an error answer.
    pub fn code(&self) -> Option<&str> {
        match self {
            RestError::Status { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// One finished call, as an observer hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRecord {
    /// The route template, e.g. `POST /v1/matches/{match_id}/join`.
    pub route: &'static str,
    /// The HTTP status, `None` if no answer arrived.
    pub status: Option<u16>,
    /// From sending the request to reading the whole body.
    pub elapsed: Duration,
}

type Observer = Arc<dyn Fn(CallRecord) + Send + Sync>;

/// A REST client for one server. Cheap to clone; clones share the connection pool.
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    base: String,
    observer: Option<Observer>,
}

impl fmt::Debug for RestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.base)
            .field("observed", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

mod route {
    pub(super) const REGISTER: &str = "POST /v1/accounts";
    pub(super) const ME: &str = "GET /v1/accounts/me";
    pub(super) const LOGIN: &str = "POST /v1/sessions";
    pub(super) const GUEST: &str = "POST /v1/sessions/guest";
    pub(super) const REFRESH: &str = "POST /v1/sessions/refresh";
    pub(super) const LIST_MATCHES: &str = "GET /v1/matches";
    pub(super) const LIST_GAMES: &str = "GET /v1/games";
    pub(super) const MAP_LAYOUT: &str = "GET /v1/games/{game}/maps/{map}";
    pub(super) const CREATE_MATCH: &str = "POST /v1/matches";
    pub(super) const JOIN_MATCH: &str = "POST /v1/matches/{match_id}/join";
    pub(super) const QUICK_JOIN: &str = "POST /v1/matchmaking/quick-join";
    pub(super) const METRICS: &str = "GET /metrics";
}

impl RestClient {
    /// A client for the server at `base_url` (`https://host:port` or `http://...`, with or
    /// without a trailing `/`). `insecure` accepts any certificate, as for the server's
    /// self-signed development certificate. TLS uses the same ring-based configuration as the
    /// WebSocket connections ([`crate::tls`]).
    pub fn new(base_url: &str, insecure: bool) -> Result<RestClient, RestError> {
        let tls = tls::client_config(insecure)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .timeout(DEFAULT_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .tcp_nodelay(true)
            .build()
            .map_err(RestError::Client)?;
        Ok(RestClient {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            observer: None,
        })
    }

    /// Calls `observer` after every request with its route, status and latency.
    pub fn with_observer(mut self, observer: impl Fn(CallRecord) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `POST /v1/accounts`.
    pub async fn register(&self, username: &str, password: &str) -> Result<Registered, RestError> {
        let body = json!({ "username": username, "password": password });
        self.call(
            route::REGISTER,
            Method::POST,
            "/v1/accounts",
            None,
            Some(body),
        )
        .await
    }

    /// `POST /v1/sessions`.
    pub async fn login(&self, username: &str, password: &str) -> Result<AuthSession, RestError> {
        let body = json!({ "username": username, "password": password });
        self.call(route::LOGIN, Method::POST, "/v1/sessions", None, Some(body))
            .await
    }

    /// `POST /v1/sessions/guest`: the first login of a device makes its guest account.
    pub async fn guest_login(&self, device_id: &str) -> Result<AuthSession, RestError> {
        let body = json!({ "device_id": device_id });
        self.call(
            route::GUEST,
            Method::POST,
            "/v1/sessions/guest",
            None,
            Some(body),
        )
        .await
    }

    /// `POST /v1/sessions/refresh`.
    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthSession, RestError> {
        let body = json!({ "refresh_token": refresh_token });
        self.call(
            route::REFRESH,
            Method::POST,
            "/v1/sessions/refresh",
            None,
            Some(body),
        )
        .await
    }

    /// `GET /v1/accounts/me`.
    pub async fn me(&self, token: &str) -> Result<Me, RestError> {
        self.call(route::ME, Method::GET, "/v1/accounts/me", Some(token), None)
            .await
    }

    /// `GET /v1/matches`: public matches that have not ended.
    pub async fn list_matches(&self) -> Result<Vec<MatchInfo>, RestError> {
        let list: MatchList = self
            .call(route::LIST_MATCHES, Method::GET, "/v1/matches", None, None)
            .await?;
        Ok(list.matches)
    }

    /// `GET /v1/games`: the games the server serves, their maps and protocol hashes.
    pub async fn games(&self) -> Result<Vec<GameInfo>, RestError> {
        let list: GameList = self
            .call(route::LIST_GAMES, Method::GET, "/v1/games", None, None)
            .await?;
        Ok(list.games)
    }

    /// `GET /v1/games/{game}/maps/{map}`: a map's seats and layout.
    pub async fn map_layout(&self, game: &str, map: &str) -> Result<MapLayout, RestError> {
        let path = format!("/v1/games/{game}/maps/{map}");
        self.call(route::MAP_LAYOUT, Method::GET, &path, None, None)
            .await
    }

    /// `POST /v1/matches`: a new match of `game` (the server's default game, arena, if
    /// `None`) on `map` (the game's default map if `None`); its id.
    pub async fn create_match(
        &self,
        token: &str,
        game: Option<&str>,
        map: Option<&str>,
        public: bool,
    ) -> Result<String, RestError> {
        let mut body = json!({ "public": public });
        if let Some(game) = game {
            body["game"] = Value::from(game);
        }
        if let Some(map) = map {
            body["map"] = Value::from(map);
        }
        let created: MatchInfo = self
            .call(
                route::CREATE_MATCH,
                Method::POST,
                "/v1/matches",
                Some(token),
                Some(body),
            )
            .await?;
        Ok(created.match_id)
    }

    /// `POST /v1/matches/{match_id}/join`: a seat and a join ticket.
    pub async fn join_match(&self, token: &str, match_id: &str) -> Result<JoinTicket, RestError> {
        let path = format!("/v1/matches/{}/join", encode_segment(match_id));
        self.call(route::JOIN_MATCH, Method::POST, &path, Some(token), None)
            .await
    }

    /// `POST /v1/matchmaking/quick-join`: a seat in a public match of `game` on `map` (each
    /// the server's default if `None`) and a join ticket.
    pub async fn quick_join(
        &self,
        token: &str,
        game: Option<&str>,
        map: Option<&str>,
    ) -> Result<JoinTicket, RestError> {
        let mut body = json!({});
        if let Some(game) = game {
            body["game"] = Value::from(game);
        }
        if let Some(map) = map {
            body["map"] = Value::from(map);
        }
        self.call(
            route::QUICK_JOIN,
            Method::POST,
            "/v1/matchmaking/quick-join",
            Some(token),
            Some(body),
        )
        .await
    }

    /// `GET /metrics`: the server's Prometheus text exposition.
    pub async fn metrics(&self) -> Result<String, RestError> {
        let bytes = self
            .send(route::METRICS, Method::GET, "/metrics", None, None)
            .await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Sends one request and decodes a 2xx JSON answer into `T`, or the error body into
    /// [`RestError::Status`].
    async fn call<T: DeserializeOwned>(
        &self,
        route: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<T, RestError> {
        let bytes = self.send(route, method, path, token, body).await?;
        serde_json::from_slice(&bytes).map_err(|source| RestError::Body { route, source })
    }

    /// Sends one request and answers the body of a 2xx answer, or the error body as
    /// [`RestError::Status`].
    async fn send(
        &self,
        route: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<bytes::Bytes, RestError> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let started = Instant::now();
        let result = async {
            let response = request.send().await?;
            let status = response.status();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, bytes))
        }
        .await;
        let elapsed = started.elapsed();
        self.observe(CallRecord {
            route,
            status: result.as_ref().ok().map(|(status, _)| status.as_u16()),
            elapsed,
        });
        let (status, bytes) = result.map_err(|source| RestError::Transport { route, source })?;
        if !status.is_success() {
            return Err(error_from(route, status, &bytes));
        }
        Ok(bytes)
    }

    fn observe(&self, record: CallRecord) {
        if let Some(observer) = &self.observer {
            observer(record);
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// The [`RestError::Status`] for an error answer.
fn error_from(route: &'static str, status: StatusCode, body: &[u8]) -> RestError {
    let (code, message) = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => (error.code, error.message),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            (String::new(), text.chars().take(200).collect())
        }
    };
    RestError::Status {
        route,
        status: status.as_u16(),
        code,
        message,
    }
}

/// Percent-encodes a path segment (match ids are plain, but a test may pass anything).
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper::body::Incoming;
    use hyper::service::service_fn;
    use hyper::{Request, Response};
    use hyper_util::rt::TokioIo;
    use tokio::sync::mpsc;

    use super::*;
    use crate::testing::within;

    /// What the canned server saw of one request.
    #[derive(Debug)]
    struct Seen {
        method: String,
        path: String,
        authorization: Option<String>,
        body: Value,
    }

    /// A loopback HTTP server answering each route with a canned status and JSON body, and
    /// reporting every request it got.
    async fn canned_server(seen: mpsc::UnboundedSender<Seen>) -> String {
        canned_server_on(seen, None).await
    }

    /// The canned server behind TLS with a self-signed certificate.
    async fn canned_server_tls(seen: mpsc::UnboundedSender<Seen>) -> String {
        let acceptor = tokio_rustls::TlsAcceptor::from(crate::testing::self_signed_config());
        canned_server_on(seen, Some(acceptor)).await
    }

    async fn canned_server_on(
        seen: mpsc::UnboundedSender<Seen>,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let scheme = if tls.is_some() { "https" } else { "http" };
        tokio::spawn(async move {
            for _ in 0..4 {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let seen = seen.clone();
                        async move {
                            let method = req.method().to_string();
                            let path = req.uri().path().to_string();
                            let authorization = req
                                .headers()
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_string);
                            let bytes = req.into_body().collect().await?.to_bytes();
                            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                            let (status, answer) = canned(&method, &path);
                            let _ = seen.send(Seen {
                                method,
                                path,
                                authorization,
                                body,
                            });
                            let mut response =
                                Response::new(Full::new(Bytes::from(answer.to_string())));
                            *response.status_mut() =
                                StatusCode::from_u16(status).expect("valid status");
                            Ok::<_, hyper::Error>(response)
                        }
                    });
                    let http = hyper::server::conn::http1::Builder::new();
                    let _ = match tls {
                        Some(acceptor) => match acceptor.accept(tcp).await {
                            Ok(stream) => {
                                http.serve_connection(TokioIo::new(stream), service).await
                            }
                            Err(_) => return,
                        },
                        None => http.serve_connection(TokioIo::new(tcp), service).await,
                    };
                });
            }
        });
        format!("{scheme}://{addr}/")
    }

    fn canned(method: &str, path: &str) -> (u16, Value) {
        match (method, path) {
            ("POST", "/v1/sessions/guest") => (
                200,
                json!({"access_token": "at", "refresh_token": "rt", "expires_in": 900,
                       "account_id": 5, "token_type": "Bearer"}),
            ),
            ("POST", "/v1/matches") => (
                201,
                json!({"match_id": "m_new", "map": "arena", "players": 0, "capacity": 16,
                       "state": "open", "public": false}),
            ),
            ("GET", "/v1/games") => (
                200,
                json!({"games": [{"id": "cycles", "maps": [{"name": "grid", "seats": 8}],
                       "default_map": "grid", "protocol_hash": "0000000000003039",
                       "stats": ["cuts", "crashes", "cells"]}]}),
            ),
            ("POST", "/v1/matchmaking/quick-join") => (
                200,
                json!({"ticket": "tk_1", "url": "wss://127.0.0.1:8443/v1/realtime",
                       "match_id": "m_1", "expires_in": 30}),
            ),
            _ => (
                409,
                json!({"error": {"code": "match_full", "message": "the match is full"}}),
            ),
        }
    }

    #[tokio::test]
    async fn calls_send_the_documented_requests_and_decode_the_answers() {
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let base = canned_server(seen_tx).await;
        let records = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = records.clone();
        let client = RestClient::new(&base, false)
            .expect("client builds")
            .with_observer(move |record| {
                // A std mutex: the critical section is one push, never across an await.
                sink.lock().expect("observer lock").push(record);
            });

        let session = within(client.guest_login("device-0001"))
            .await
            .expect("guest login");
        assert_eq!(
            session,
            AuthSession {
                access_token: "at".into(),
                refresh_token: "rt".into(),
                account_id: 5,
                expires_in: 900,
            },
            "token pair decoded, extra fields ignored"
        );
        let got = within(seen.recv()).await.expect("request seen");
        assert_eq!(
            (got.method.as_str(), got.path.as_str()),
            ("POST", "/v1/sessions/guest"),
            "route"
        );
        assert_eq!(got.body, json!({"device_id": "device-0001"}), "body");
        assert_eq!(got.authorization, None, "no token for a login");

        let match_id = within(client.create_match("at", Some("cycles"), Some("grid"), false))
            .await
            .expect("created");
        assert_eq!(match_id, "m_new", "the new match's id");
        let got = within(seen.recv()).await.expect("request seen");
        assert_eq!(
            got.body,
            json!({"game": "cycles", "map": "grid", "public": false}),
            "body"
        );
        assert_eq!(
            got.authorization.as_deref(),
            Some("Bearer at"),
            "bearer token"
        );

        let ticket = within(client.quick_join("at", Some("cycles"), None))
            .await
            .expect("ticket");
        assert_eq!(ticket.ticket, "tk_1", "ticket");
        assert_eq!(
            ticket.url, "wss://127.0.0.1:8443/v1/realtime",
            "realtime URL"
        );
        let got = within(seen.recv()).await.expect("request seen");
        assert_eq!(got.body, json!({"game": "cycles"}), "the game asked for");

        let games = within(client.games()).await.expect("games listed");
        assert_eq!(games.len(), 1, "one game");
        assert_eq!(games[0].id, "cycles", "its id");
        assert_eq!(
            games[0].maps,
            vec![MapInfo {
                name: "grid".into(),
                seats: 8
            }],
            "its maps"
        );
        assert_eq!(games[0].protocol_hash, 12345, "its hash");
        let _ = within(seen.recv()).await;

        let err = within(client.join_match("at", "m_full"))
            .await
            .expect_err("a full match is refused");
        assert_eq!(err.status(), Some(409), "status");
        assert_eq!(err.code(), Some("match_full"), "error code");
        let got = within(seen.recv()).await.expect("request seen");
        assert_eq!(got.path, "/v1/matches/m_full/join", "join path");

        let records = records.lock().expect("observer lock");
        let statuses: Vec<_> = records.iter().map(|r| (r.route, r.status)).collect();
        assert_eq!(
            statuses,
            vec![
                (route::GUEST, Some(200)),
                (route::CREATE_MATCH, Some(201)),
                (route::QUICK_JOIN, Some(200)),
                (route::LIST_GAMES, Some(200)),
                (route::JOIN_MATCH, Some(409)),
            ],
            "every call observed with its route and status"
        );
    }

    #[test]
    fn an_error_body_becomes_status_code_and_message() {
        let body = br#"{"error":{"code":"match_full","message":"the match is full"}}"#;
        let err = error_from(route::JOIN_MATCH, StatusCode::CONFLICT, body);
        assert_eq!(err.status(), Some(409), "status kept");
        assert_eq!(err.code(), Some("match_full"), "code parsed");
        assert!(
            err.to_string().contains("the match is full"),
            "message shown: {err}"
        );
    }

    #[test]
    fn a_foreign_error_body_keeps_its_text() {
        let err = error_from(route::LOGIN, StatusCode::BAD_GATEWAY, b"upstream down");
        assert!(
            matches!(&err, RestError::Status { status: 502, code, message, .. }
                if code.is_empty() && message == "upstream down"),
            "raw body as message: {err:?}"
        );
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(
            encode_segment("m_abc-1.2~"),
            "m_abc-1.2~",
            "plain ids unchanged"
        );
        assert_eq!(
            encode_segment("a/b c"),
            "a%2Fb%20c",
            "reserved bytes encoded"
        );
    }

    #[test]
    fn the_base_url_loses_its_trailing_slash() {
        let client = RestClient::new("https://127.0.0.1:8443/", true).expect("client builds");
        assert_eq!(
            client.base_url(),
            "https://127.0.0.1:8443",
            "no trailing slash"
        );
    }

    #[tokio::test]
    async fn insecure_https_accepts_a_self_signed_certificate() {
        let (seen_tx, _seen) = mpsc::unbounded_channel();
        let base = canned_server_tls(seen_tx).await;
        let client = RestClient::new(&base, true).expect("client builds");
        let session = within(client.guest_login("device-0001"))
            .await
            .expect("guest login over TLS");
        assert_eq!(session.account_id, 5, "answer decoded over TLS");
    }

    #[tokio::test]
    async fn verified_https_refuses_a_self_signed_certificate() {
        let (seen_tx, _seen) = mpsc::unbounded_channel();
        let base = canned_server_tls(seen_tx).await;
        let client = RestClient::new(&base, false).expect("client builds");
        let result = within(client.guest_login("device-0001")).await;
        assert!(
            matches!(result, Err(RestError::Transport { .. })),
            "unknown issuer refused: {result:?}"
        );
    }

    #[tokio::test]
    async fn a_call_that_gets_no_answer_is_observed_and_reported_as_transport() {
        // A port nobody listens on: bind one, learn it, close it.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let client = RestClient::new(&format!("http://127.0.0.1:{port}"), false)
            .expect("client builds")
            .with_observer(move |record| {
                // A std mutex: the critical section is one push, never across an await.
                sink.lock().expect("observer lock").push(record);
            });
        let result = client.guest_login("device-0001").await;
        assert!(
            matches!(
                result,
                Err(RestError::Transport {
                    route: route::GUEST,
                    ..
                })
            ),
            "connection refused is a transport error: {result:?}"
        );
        let seen = seen.lock().expect("observer lock");
        assert_eq!(seen.len(), 1, "one call observed");
        assert_eq!(seen[0].route, route::GUEST, "route named");
        assert_eq!(seen[0].status, None, "no status without an answer");
    }
}
