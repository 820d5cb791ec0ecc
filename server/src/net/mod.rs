//! Realtime WebSocket sessions at `/v1/realtime`, served by fastwebsockets through the same
//! hyper connection (and TLS) as the REST API.

mod inbound;
mod session;
mod writer;

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::config::Limits;
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

/// A refusal before the upgrade, in the REST error shape.
fn refuse(status: StatusCode, code: &str, message: String) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    (status, axum::Json(body)).into_response()
}

/// Upgrades `/v1/realtime` to a WebSocket and runs the session (the route and its
/// documentation are `api`'s, which hands over only what sessions use).
pub(crate) async fn realtime(state: Realtime, mut req: Request) -> Response {
    if !fastwebsockets::upgrade::is_upgrade_request(&req) {
        return refuse(
            StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            "connect with a WebSocket client".into(),
        );
    }
    let (response, upgrade) = match fastwebsockets::upgrade::upgrade(&mut req) {
        Ok(pair) => pair,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "bad_upgrade", e.to_string()),
    };
    let sessions = state.sessions.clone();
    sessions.spawn(async move {
        match upgrade.await {
            Ok(ws) => session::run(state, ws).await,
            Err(e) => tracing::debug!(error = %e, "WebSocket upgrade failed"),
        }
    });
    response.map(axum::body::Body::new)
}
