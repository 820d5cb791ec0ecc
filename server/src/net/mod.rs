//! Realtime WebSocket sessions at `/v1/realtime`, served by fastwebsockets through the same
//! hyper connection (and TLS) as the REST API.

mod echo;
mod frame_head;
mod inbound;
mod inlet;
mod session;
mod sock;
mod socket;
mod tcp;
mod tls_socket;

pub(crate) use sock::{Sock, Watch};
pub(crate) use tls_socket::TlsSocket;

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::config::Limits;
use crate::edge::ConnSlot;
use crate::matches::Registry;
use crate::metrics::Metrics;
use crate::store::Store;

static START: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Microseconds on this process's monotonic clock, for ping round trips.
pub(crate) fn monotonic_us() -> u64 {
    START.elapsed().as_micros() as u64
}

/// What realtime sessions use: not the whole REST state, so `net` does not depend on `api`.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Realtime(Arc<RealtimeParts>);

#[derive(Debug)]
pub(crate) struct RealtimeParts {
    pub store: Store,
    pub registry: Registry,
    pub metrics: Metrics,
    pub clock: Clock,
    pub limits: Limits,
    /// Realtime sessions, so shutdown can wait for them to close their sockets.
    pub sessions: TaskTracker,
}

impl Realtime {
    pub(crate) fn new(parts: RealtimeParts) -> Realtime {
        Realtime(Arc::new(parts))
    }
}

impl std::ops::Deref for Realtime {
    type Target = RealtimeParts;
    fn deref(&self) -> &RealtimeParts {
        &self.0
    }
}

/// Why a request to `/v1/realtime` was not upgraded; `api` answers it in its error shape.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpgradeError {
    #[error("connect with a WebSocket client")]
    NotAnUpgrade,
    #[error("{0}")]
    Bad(#[from] fastwebsockets::WebSocketError),
}

/// Upgrades `/v1/realtime` to a WebSocket and runs the session (the route and its
/// documentation are `api`'s, which hands over only what sessions use).
pub(crate) async fn realtime(state: Realtime, mut req: Request) -> Result<Response, UpgradeError> {
    if !fastwebsockets::upgrade::is_upgrade_request(&req) {
        return Err(UpgradeError::NotAnUpgrade);
    }
    let (response, upgrade) = fastwebsockets::upgrade::upgrade(&mut req)?;
    // The session outlives this request's connection task: it keeps the address's connection
    // slot until it ends.
    let slot = req.extensions_mut().remove::<Arc<ConnSlot>>();
    let sessions = state.sessions.clone();
    sessions.spawn(async move {
        let _slot = slot;
        match upgrade.await {
            Ok(ws) => session::run(state, ws).await,
            Err(e) => tracing::debug!(error = %e, "WebSocket upgrade failed"),
        }
    });
    Ok(response.map(axum::body::Body::new))
}

/// Upgrades `/v1/diagnostics/echo` (served only with `--diagnostics`) to the echo endpoint.
pub(crate) async fn echo(state: Realtime, mut req: Request) -> Result<Response, UpgradeError> {
    if !fastwebsockets::upgrade::is_upgrade_request(&req) {
        return Err(UpgradeError::NotAnUpgrade);
    }
    let (response, upgrade) = fastwebsockets::upgrade::upgrade(&mut req)?;
    let slot = req.extensions_mut().remove::<Arc<ConnSlot>>();
    state.sessions.spawn(async move {
        let _slot = slot;
        match upgrade.await {
            Ok(ws) => echo::run(ws).await,
            Err(e) => tracing::debug!(error = %e, "WebSocket upgrade failed"),
        }
    });
    Ok(response.map(axum::body::Body::new))
}
