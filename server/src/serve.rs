//! Starting and stopping a server: prepare everything, accept connections (TLS or plain) and hand
//! each one to hyper with the axum router; WebSocket upgrades go through the same listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use tracing::Instrument;

use crate::api::{self, AppState, AuthLimiter, Shared};
use crate::assets::AssetsError;
use crate::auth::{TokenKeys, load_or_create_secret};
use crate::clock::Clock;
use crate::cluster::{Node, NodeParts};
use crate::config::{Config, Role, TlsMode};
use crate::edge::{ConnSlot, Edge};
use crate::leaderboards::Leaderboards;
use crate::matches::{Registry, RegistryParts};
use crate::metrics::Metrics;
use crate::net::{Realtime, RealtimeParts};
use crate::store::{Store, StoreError};
use crate::tls::{self, TlsError};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read or write the key {path}: {source}")]
    Key {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Assets(#[from] AssetsError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running server. Dropping it does not stop it; call [`Server::shutdown`] then [`Server::wait`].
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    pub admin_key_path: Option<std::path::PathBuf>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds `config.listen` and starts serving.
    pub async fn start(config: Config) -> Result<Server, ServerError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        Server::start_on(config, listener, Clock::default()).await
    }

    /// Starts serving on an already bound listener (tests bind port 0) with the given clock.
    pub async fn start_on(
        mut config: Config,
        listener: TcpListener,
        clock: Clock,
    ) -> Result<Server, ServerError> {
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
        config.listen = addr;
        let prepared = prepare(config, clock).await?;
        let shutdown = CancellationToken::new();
        let app = api::app(prepared.state.clone());
        let task = tokio::spawn(accept_loop(
            listener,
            app,
            prepared.tls,
            shutdown.clone(),
            prepared.state.clone(),
        ));
        Ok(Server {
            addr,
            state: prepared.state,
            admin_key_path: prepared.admin_key_path,
            shutdown,
            task,
        })
    }

    /// Lets a game node's running matches finish before it stops, taking no new ones (up to
    /// `cluster.drain_timeout_s`); answers whether they all finished. Connections are still
    /// served meanwhile (players reconnecting to their running match). Then call
    /// [`Server::shutdown`].
    pub async fn drain(&self) -> bool {
        self.state.node.drain().await
    }

    /// Asks the server to stop: no new connections, in-flight requests finish.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// A token cancelled when shutdown is asked for.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until every match has ended (results stored, clients told), every connection has
    /// drained and the database is closed.
    pub async fn wait(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "server task failed");
        }
        self.state.registry.shutdown().await;
        self.state.node.stop().await;
        self.state.realtime.sessions.close();
        if tokio::time::timeout(Duration::from_secs(10), self.state.realtime.sessions.wait())
            .await
            .is_err()
        {
            tracing::warn!("some realtime sessions did not close in time");
        }
        self.state.store.close().await;
    }
}

struct Prepared {
    state: AppState,
    tls: Option<TlsAcceptor>,
    admin_key_path: Option<std::path::PathBuf>,
}

async fn prepare(config: Config, clock: Clock) -> Result<Prepared, ServerError> {
    let data_dir = config.data_dir.clone();
    std::fs::create_dir_all(&data_dir).map_err(|source| ServerError::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    let games = config.games.load(&config.assets)?;
    let boards = if config.leaderboards.is_empty() {
        crate::leaderboards::default_boards()
            .into_iter()
            .filter(|b| games.get(&b.game).is_some())
            .collect()
    } else {
        config.leaderboards.clone()
    };
    let served: Vec<(&str, &[&str])> = games.iter().map(|g| (g.name(), g.protocol.stats)).collect();
    let source = config
        .config_file
        .as_ref()
        .map_or_else(|| "leaderboards".to_string(), |p| p.display().to_string());
    crate::config::validate_boards(&source, &boards, &served)?;
    let url = config
        .database_url
        .clone()
        .unwrap_or_else(|| Store::sqlite_url(&data_dir));
    let store = Store::connect(&url).await?;

    let key = |name: &str, prefix: &str| {
        let path = data_dir.join(name);
        load_or_create_secret(&path, prefix).map_err(|source| ServerError::Key { path, source })
    };
    let signing_key = match &config.signing_key {
        Some(k) => k.clone(),
        None => key("signing.key", "")?,
    };
    let (admin_key, admin_key_path) = match &config.admin_key {
        Some(k) => (k.clone(), None),
        None => (
            key("admin.key", "twadmin_")?,
            Some(data_dir.join("admin.key")),
        ),
    };
    let node_id = key("node.id", "node_")?;

    let tls = match &config.tls {
        TlsMode::Off => None,
        TlsMode::Development => {
            let (cert, key) = tls::ensure_dev_cert(&data_dir)?;
            Some(TlsAcceptor::from(tls::server_config(&cert, &key)?))
        }
        TlsMode::Files { cert, key } => Some(TlsAcceptor::from(tls::server_config(cert, key)?)),
    };

    let limits = &config.limits;
    let metrics = Metrics::new();
    let leaderboards = Arc::new(Leaderboards::new(
        boards,
        Duration::from_secs(u64::from(limits.leaderboard_cursor_ttl_s)),
    ));
    let runs_matches = config.role != Role::Api;
    let registry = Registry::new(RegistryParts {
        store: store.clone(),
        games: games.clone(),
        limits: limits.clone(),
        metrics: metrics.clone(),
        clock: clock.clone(),
        leaderboards: leaderboards.clone(),
        node_id: node_id.clone(),
        runs_matches,
        replays: config.replays.clone(),
    });
    let tls_on = config.tls != TlsMode::Off;
    let public = match (&config.public_url, config.agones && runs_matches) {
        (Some(url), _) => Some(url.clone()),
        (None, true) => crate::cluster::agones_public_url(&config.cluster, tls_on).await,
        (None, false) => None,
    };
    if runs_matches && public.is_none() && config.listen.ip().is_unspecified() {
        tracing::warn!(listen = %config.listen,
            "no --public-url: tickets send players to the listen address, which they cannot reach");
    }
    let node = Node::start(NodeParts {
        id: node_id.clone(),
        url: crate::cluster::realtime_url(public.as_deref(), tls_on, config.listen),
        url_derived: public.is_none(),
        games: games.iter().map(|g| g.name().to_string()).collect(),
        settings: config.cluster.clone(),
        store: store.clone(),
        registry: registry.clone(),
        metrics: metrics.clone(),
        database_url: url.clone(),
        agones: config.agones,
    })
    .await?;
    let realtime = Realtime::new(RealtimeParts {
        store: store.clone(),
        registry: registry.clone(),
        metrics: metrics.clone(),
        clock: clock.clone(),
        limits: limits.clone(),
        sessions: TaskTracker::new(),
    });
    let state = AppState::new(Shared {
        store,
        tokens: TokenKeys::new(
            signing_key.as_bytes(),
            i64::from(limits.access_token_ttl_s),
            i64::from(limits.refresh_token_ttl_s),
        ),
        limiter: AuthLimiter::new(
            limits.auth_attempts_per_address_per_minute,
            limits.auth_attempts_per_username_per_minute,
            limits.guest_logins_per_address_per_minute,
        ),
        games,
        admin_key,
        node_id,
        clock,
        config,
        started_at: std::time::Instant::now(),
        registry,
        leaderboards,
        metrics,
        realtime,
        node,
        playbacks: api::replays::Playbacks::new(),
    });
    Ok(Prepared {
        state,
        tls,
        admin_key_path,
    })
}

async fn accept_loop(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
    state: AppState,
) {
    let tracker = TaskTracker::new();
    let limits = &state.config.limits;
    let send_buffer = limits.socket_send_buffer_bytes;
    let header_timeout = Duration::from_secs_f32(limits.header_timeout_s.max(0.1));
    let edge = Edge::new(
        &state.config.trusted_proxies,
        limits.max_connections_per_address,
    );
    tracker.spawn(housekeeping(state, shutdown.clone()));
    loop {
        let (tcp, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Snapshots are small and latency matters more than batching in the kernel.
        let _ = tcp.set_nodelay(true);
        if send_buffer > 0 {
            let _ = socket2::SockRef::from(&tcp).set_send_buffer_size(send_buffer);
        }
        // A trusted proxy carries many clients: they count by the address it names, per request.
        let slot = if edge.is_trusted(peer.ip()) {
            Admission::Proxy
        } else {
            match edge.connections.acquire(peer.ip()) {
                Some(slot) => Admission::Slot(Arc::new(slot)),
                None => Admission::Refused,
            }
        };
        let conn = Conn {
            peer,
            app: app.clone(),
            edge: edge.clone(),
            slot,
            header_timeout,
        };
        let tls = tls.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            match tls {
                Some(acceptor) => {
                    match tokio::time::timeout(header_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => serve_connection(stream, conn, shutdown).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
                None => serve_connection(tcp, conn, shutdown).await,
            }
        });
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
}

/// How a connection was let in.
#[derive(Clone)]
enum Admission {
    /// Its place in its address's connection count.
    Slot(Arc<ConnSlot>),
    /// From a trusted proxy: each WebSocket upgrade takes a slot for the client it names.
    Proxy,
    /// Over the address's cap: every request is answered 429, then the connection closes.
    Refused,
}

struct Conn {
    peer: SocketAddr,
    app: Router,
    edge: Edge,
    slot: Admission,
    header_timeout: Duration,
}

fn too_many_connections(max: u32) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = api::error::ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "too_many_connections",
        format!("this address already holds {max} open connections; close some and retry"),
    )
    .into_response();
    response.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}

async fn serve_connection<IO>(io: IO, conn: Conn, shutdown: CancellationToken)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let Conn {
        peer,
        app,
        edge,
        slot,
        header_timeout,
    } = conn;
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let client = edge.client_addr(peer, req.headers());
        let app = app.clone();
        let (refused, slot) = match &slot {
            Admission::Slot(slot) => (false, Some(slot.clone())),
            Admission::Refused => (true, None),
            Admission::Proxy if fastwebsockets::upgrade::is_upgrade_request(&req) => {
                match edge.connections.acquire(client.ip()) {
                    Some(slot) => (false, Some(Arc::new(slot))),
                    None => (true, None),
                }
            }
            Admission::Proxy => (false, None),
        };
        let max = edge.connections.max();
        async move {
            if refused {
                tracing::debug!(%client, "refused: too many connections from this address");
                return Ok::<_, std::convert::Infallible>(too_many_connections(max));
            }
            req.extensions_mut().insert(ConnectInfo(client));
            if let Some(slot) = slot {
                req.extensions_mut().insert(slot);
            }
            app.oneshot(req.map(axum::body::Body::new))
                .instrument(tracing::debug_span!("request", %client))
                .await
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
        }
    }
}

/// Periodic upkeep: forget idle rate-limit buckets, delete long-expired tickets.
async fn housekeeping(state: AppState, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        state.limiter.forget_idle();
        state.leaderboards.forget_idle(Duration::from_secs(600));
        let now = state.clock.now_ms();
        if let Err(e) = state.store.purge_tickets(now - 3_600_000).await {
            tracing::warn!(error = %e, "purging expired tickets failed");
        }
        if let Err(e) = state.store.purge_attempts(now - 120_000).await {
            tracing::warn!(error = %e, "purging attempt counters failed");
        }
        // Cluster events older than a poll window are never read again.
        let wall = crate::cluster::wall_ms();
        if let Err(e) = state.store.purge_events(wall - 600_000).await {
            tracing::warn!(error = %e, "purging cluster events failed");
        }
        // Closed record versions live as long as a cursor may need them.
        let keep = i64::from(state.config.limits.leaderboard_cursor_ttl_s) * 1000;
        if let Err(e) = state.store.purge_board_history(now - keep).await {
            tracing::warn!(error = %e, "purging leaderboard history failed");
        }
        if let Some(keep) = state.config.replays.retention_ms() {
            match state.store.prune_replays(now - keep).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(replays = n, "pruned replays past their retention"),
                Err(e) => tracing::warn!(error = %e, "pruning replays failed"),
            }
        }
    }
}

/// Where the admin credential is, for the start-up banner.
pub fn describe_admin_key(server: &Server) -> String {
    match &server.admin_key_path {
        Some(path) => format!("admin API key in {}", path.display()),
        None => "admin API key from the config file".to_string(),
    }
}

/// The base URLs a fresh server answers on.
pub fn urls(addr: SocketAddr, tls: &TlsMode) -> (String, String) {
    let (http, ws) = if *tls == TlsMode::Off {
        ("http", "ws")
    } else {
        ("https", "wss")
    };
    (
        format!("{http}://{addr}"),
        format!("{ws}://{addr}/v1/realtime"),
    )
}
