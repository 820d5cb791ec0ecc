//! Match replays: the stored replay of an ended match, or the match re-simulated into the
//! snapshots a spectator would have read, for playing it back in a browser. Public, like the
//! match list: a replay holds what every player of the match saw anyway.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::Semaphore;
use utoipa::{IntoParams, ToSchema};

use super::error::ErrorBody;
use super::{ApiError, AppState};
use crate::replay::{Replay, ReplayError, playback};

/// Re-simulations for `?format=snapshots` running at once: each takes a core for as long as
/// its match is long, so a burst of requests must not starve the matches being played.
#[derive(Debug)]
pub struct Playbacks(Semaphore);

impl Playbacks {
    pub fn new() -> Playbacks {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Playbacks(Semaphore::new(cores.div_ceil(2)))
    }
}

impl Default for Playbacks {
    fn default() -> Playbacks {
        Playbacks::new()
    }
}

/// How long a playback request waits for a free re-simulation before it is turned away.
const PLAYBACK_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReplayFormat {
    /// The stored replay (bincode; `docs/replays.md`).
    #[default]
    Replay,
    /// The match re-simulated into length-prefixed `ServerMessage`s: a `Welcome`, a `Snapshot`
    /// per tick, a `MatchEnd`.
    Snapshots,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReplayQuery {
    /// `replay` (the default) or `snapshots`.
    #[param(inline)]
    pub format: Option<ReplayFormat>,
}

/// Bytes: the replay, or the playback stream.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ReplayBytes(Vec<u8>);

impl IntoResponse for ReplayBytes {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, Body::from(self.0)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        response
    }
}

/// An ended match's replay. As stored (`format=replay`, the default): the bincode `Replay`
/// (seed, game, map, every join, leave, input and run of steps, state hashes every few ticks),
/// which `server replay` verifies. As `format=snapshots`: the match re-simulated on the server
/// into the stream a spectator would have read: records of `[u32 little-endian length][bincode
/// ServerMessage]`, first a `Welcome` (player 0), then one `Snapshot` per tick (a delta against
/// the tick before, the first a keyframe, with the tick's events and the world's checksum),
/// then `MatchEnd`; see `docs/replays.md`.
#[utoipa::path(get, path = "/v1/matches/{match_id}/replay", tag = "lobby",
    params(("match_id" = String, Path, description = "an ended match"), ReplayQuery),
    responses(
        (status = 200, description = "the replay, or the snapshots stream",
            body = inline(ReplayBytes), content_type = "application/octet-stream"),
        (status = 400, description = "an unknown format", body = ErrorBody),
        (status = 404, description = "no replay: the match is unknown, still running, was not \
            recorded, or its replay was deleted after the retention", body = ErrorBody),
        (status = 409, description = "snapshots only: the replay does not re-simulate on this \
            server (its game changed since)", body = ErrorBody),
        (status = 503, description = "snapshots only: every re-simulation slot is busy; retry",
            body = ErrorBody)))]
pub async fn replay(
    State(state): State<AppState>,
    Path(match_id): Path<String>,
    Query(query): Query<ReplayQuery>,
) -> Result<ReplayBytes, ApiError> {
    let bytes = state.store.load_replay(&match_id).await?.ok_or_else(|| {
        ApiError::not_found(
            "replay_not_found",
            "no replay of this match: unknown, still running, or deleted after the retention",
        )
    })?;
    Ok(ReplayBytes(match query.format.unwrap_or_default() {
        ReplayFormat::Replay => bytes,
        ReplayFormat::Snapshots => snapshots(&state, bytes).await?,
    }))
}

/// Re-simulates a stored replay into the playback stream, on a blocking thread.
async fn snapshots(state: &AppState, bytes: Vec<u8>) -> Result<Vec<u8>, ApiError> {
    let _permit = tokio::time::timeout(PLAYBACK_WAIT, state.playbacks.0.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "every replay re-simulation slot is busy; retry shortly",
            )
            .retry_after(5)
        })?;
    let games = state.games.clone();
    let played = tokio::task::spawn_blocking(move || {
        let replay = Replay::decode(&bytes)?;
        playback(&replay, &games)
    })
    .await
    .map_err(ApiError::internal)?;
    played.map_err(|e| match e {
        ReplayError::UnknownGame(_)
        | ReplayError::UnknownMap { .. }
        | ReplayError::ProtocolMismatch { .. }
        | ReplayError::AssetsMismatch { .. } => {
            ApiError::conflict("replay_incompatible", e.to_string())
        }
        // A replay this server wrote that no longer decodes or re-simulates.
        other => ApiError::internal(format!("stored replay: {other}")),
    })
}
