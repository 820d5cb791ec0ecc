//! The cluster as admins see it: the game nodes, and live-match actions (end, kick) for a match
//! running on another node, which go there as cluster events.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::admin::Admin;
use super::error::ErrorBody;
use super::{ApiError, AppState, Json};
use crate::cluster::{Ask, wall_ms};
use crate::store::lobby::state as match_state;

#[derive(Serialize, ToSchema)]
pub struct NodeList {
    /// The node that answered.
    pub node_id: String,
    pub nodes: Vec<NodeInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct NodeInfo {
    pub node_id: String,
    /// The realtime URL tickets send players to.
    pub url: String,
    pub region: String,
    pub games: Vec<String>,
    /// Seated players it takes before placement passes it over.
    pub capacity: i64,
    /// Connected players at its last heartbeat.
    pub players: i64,
    /// Running matches at its last heartbeat.
    pub matches: i64,
    /// `live`, `draining`, or `silent` (no heartbeat for longer than the timeout: it is about
    /// to be removed and its matches ended).
    pub state: String,
    /// Milliseconds since its last heartbeat.
    pub heartbeat_age_ms: i64,
}

/// The game nodes registered in the shared database, with their load.
#[utoipa::path(get, path = "/v1/admin/nodes", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = NodeList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn nodes(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<NodeList>, ApiError> {
    let alive_after = state.node.alive().after;
    let now = wall_ms();
    let nodes = state
        .store
        .nodes()
        .await?
        .into_iter()
        .map(|n| NodeInfo {
            state: if n.heartbeat_at <= alive_after && n.id != state.node_id {
                "silent".to_string()
            } else {
                n.state
            },
            heartbeat_age_ms: (now - n.heartbeat_at).max(0),
            node_id: n.id,
            url: n.url,
            region: n.region,
            games: n.games,
            capacity: n.capacity,
            players: n.players,
            matches: n.matches,
        })
        .collect();
    Ok(Json(NodeList {
        node_id: state.node_id.clone(),
        nodes,
    }))
}

fn not_live() -> ApiError {
    ApiError::not_found("match_not_found", "no such match is live")
}

/// The node other than this one that hosts the live match `match_id`; 404 when the match is
/// not live anywhere else (on this node, the caller has looked in the registry already).
async fn remote_host(state: &AppState, match_id: &str) -> Result<String, ApiError> {
    let row = state
        .store
        .match_by_id(match_id)
        .await?
        .filter(|m| m.state != match_state::ENDED)
        .ok_or_else(not_live)?;
    match row.node_id {
        Some(node) if node != state.node_id => Ok(node),
        _ => Err(not_live()),
    }
}

/// Ends a match running on another node: its node hears of it within seconds.
pub(super) async fn forward_end(
    state: &AppState,
    match_id: &str,
    reason: &str,
) -> Result<(), ApiError> {
    remote_host(state, match_id).await?;
    state
        .node
        .publish(Ask::End {
            match_id: match_id.to_string(),
            reason: reason.to_string(),
        })
        .await?;
    Ok(())
}

/// Kicks a player from a match running on another node, if they hold a seat in it.
pub(super) async fn forward_kick(
    state: &AppState,
    match_id: &str,
    account_id: i64,
    reason: &str,
) -> Result<(), ApiError> {
    remote_host(state, match_id).await?;
    if !state.store.holds_seat(match_id, account_id).await? {
        return Err(ApiError::not_found(
            "player_not_in_match",
            format!("account {account_id} is not in match {match_id}"),
        ));
    }
    state
        .node
        .publish(Ask::Kick {
            match_id: match_id.to_string(),
            account_id,
            reason: reason.to_string(),
        })
        .await?;
    Ok(())
}

/// Tells every game node of a ban: each kicks the account from the matches it runs.
pub(super) async fn forward_ban(
    state: &AppState,
    account_id: i64,
    reason: &str,
) -> Result<(), ApiError> {
    state
        .node
        .publish(Ask::Ban {
            account_id,
            reason: reason.to_string(),
        })
        .await?;
    Ok(())
}

/// A draining node is not ready for new work (a load balancer in front of it should stop
/// sending players there); its running matches go on.
pub(super) fn draining(state: &AppState) -> Option<ApiError> {
    state.registry.is_draining().then(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "draining",
            "this node is draining: its running matches finish, it takes no new ones",
        )
    })
}
