//! Realtime WebSocket sessions at `/v1/realtime`, served by fastwebsockets through the same
//! hyper connection (and TLS) as the REST API.

pub mod inbound;
pub mod session;
pub mod writer;

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};

use crate::api::{ApiError, AppState};

static START: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Microseconds on this process's monotonic clock, for ping round trips.
pub fn monotonic_us() -> u64 {
    START.elapsed().as_micros() as u64
}

/// Open a realtime session: upgrade to WebSocket, then send `Hello` with a join ticket (or a
/// reconnect token) as the first binary message.
#[utoipa::path(get, path = "/v1/realtime", tag = "realtime",
    responses((status = 101, description = "switching to the WebSocket protocol"),
        (status = 426, description = "not a WebSocket upgrade", body = crate::api::error::ErrorBody)))]
pub async fn realtime(State(state): State<AppState>, mut req: Request) -> Response {
    if !fastwebsockets::upgrade::is_upgrade_request(&req) {
        return ApiError::new(
            axum::http::StatusCode::UPGRADE_REQUIRED,
            "upgrade_required",
            "connect with a WebSocket client",
        )
        .into_response();
    }
    let (response, upgrade) = match fastwebsockets::upgrade::upgrade(&mut req) {
        Ok(pair) => pair,
        Err(e) => {
            return ApiError::bad_request("bad_upgrade", e.to_string()).into_response();
        }
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
