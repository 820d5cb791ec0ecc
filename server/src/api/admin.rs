//! The admin API under `/v1/admin/`: live matches (list, end, kick), bans, roles, server stats
//! and the audit log. Every route needs an admin credential ([`Admin`]); every action (not the
//! reads) writes an audit row ([`audit`], or in the same transaction as a database change).
//!
//! The list and the stats are of the node that answers. Ending a match, kicking from one and
//! banning reach the match wherever it runs: on this node at once, on another game node as a
//! cluster event it hears within seconds (`api/nodes.rs`).

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use futures_util::future::join_all;
use prometheus_client::metrics::histogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::auth::{bearer, token_error};
use super::error::ErrorBody;
use super::{ApiError, AppState, Json};
use crate::auth::TokenKind;
use crate::clock::rfc3339;
use crate::matches::MatchSummary;
use crate::store::admin::{Ban, NewAudit};

/// The role claim (and `accounts.role`) of an admin account.
pub const ADMIN_ROLE: &str = "admin";

/// `banned_until` of a permanent ban.
pub const PERMANENT: i64 = i64::MAX;

/// The longest `reason` accepted, in characters. (A WebSocket close frame carries at most 123
/// bytes, so the close reason a kicked client sees may be cut short; the `Kicked` message before
/// it carries the whole reason.)
pub const MAX_REASON_CHARS: usize = 200;

/// An admin credential: `Authorization: Bearer <admin key>`, or the access token of an account
/// whose role is `admin`. No credential (or a malformed one) answers 401, an invalid or expired
/// token 401, a player's token 403.
///
/// An admin token is also checked against the database, so demoting or banning an admin takes
/// effect at once rather than when the token expires.
#[derive(Debug, Clone)]
pub struct Admin {
    /// Who acts, as written to the audit log: `admin-key` or `account:<id>`.
    pub actor: String,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        if same_secret(token.as_bytes(), state.admin_key.as_bytes()) {
            return Ok(Admin {
                actor: "admin-key".to_string(),
            });
        }
        let (account_id, claims) = state
            .tokens
            .verify_account(token, TokenKind::Access, state.clock.now_s())
            .map_err(token_error)?;
        if claims.role != ADMIN_ROLE {
            return Err(forbidden());
        }
        let account = state
            .store
            .account_by_id(account_id)
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized("invalid_token", "the account no longer exists")
            })?;
        if account.role != ADMIN_ROLE {
            return Err(forbidden());
        }
        if account.banned_at(state.clock.now_ms()) {
            return Err(ApiError::forbidden("banned", "this account is banned"));
        }
        Ok(Admin {
            actor: format!("account:{account_id}"),
        })
    }
}

fn forbidden() -> ApiError {
    ApiError::forbidden(
        "forbidden",
        "this route needs an admin credential: the admin key or an admin account's token",
    )
}

/// Compares a presented secret with the key in time that depends only on their lengths (the
/// key's length is no secret: every admin key has the same format).
fn same_secret(given: &[u8], key: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    given.ct_eq(key).into()
}

/// Writes an audit row for an action `admin` took: `action` like `kick`, `target` like
/// `account:<id>` or `match:<id>`, `detail` a JSON object. Call it after the action succeeded.
pub async fn audit(
    state: &AppState,
    admin: &Admin,
    action: &str,
    target: &str,
    detail: Value,
) -> Result<(), ApiError> {
    let detail = detail.to_string();
    state
        .store
        .record_audit(&NewAudit {
            at: state.clock.now_ms(),
            actor: &admin.actor,
            action,
            target,
            detail: &detail,
        })
        .await
        .map_err(ApiError::internal)?;
    Ok(())
}

// ---- live matches ----

#[derive(Serialize, ToSchema)]
pub struct LiveMatches {
    /// The node that answered: the list holds the matches running on it.
    pub node_id: String,
    pub matches: Vec<LiveMatch>,
}

#[derive(Serialize, ToSchema)]
pub struct LiveMatch {
    pub match_id: String,
    pub game: String,
    pub map: String,
    pub tick: u32,
    pub ticks_remaining: u32,
    pub players: Vec<LivePlayer>,
    /// Connections watching through a spectator ticket (they hold no seat).
    pub spectators: u32,
}

#[derive(Serialize, ToSchema)]
pub struct LivePlayer {
    pub player_id: u32,
    pub account_id: i64,
    pub username: String,
    /// False while the player's seat waits out the reconnect grace.
    pub connected: bool,
    pub score: i64,
}

impl From<MatchSummary> for LiveMatch {
    fn from(m: MatchSummary) -> LiveMatch {
        LiveMatch {
            match_id: m.match_id,
            game: m.game,
            map: m.map,
            tick: m.tick.0,
            ticks_remaining: m.ticks_remaining,
            spectators: m.spectators,
            players: m
                .players
                .into_iter()
                .map(|p| LivePlayer {
                    player_id: p.player_id,
                    account_id: p.account_id,
                    username: p.username,
                    connected: p.connected,
                    score: p.score,
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct EndMatch {
    /// Told to the players in the close frame; "ended by an admin" if absent.
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MatchEnding {
    pub match_id: String,
    pub reason: String,
    /// `ending`: the match stores its results, sends `MatchEnd` and closes every connection
    /// with code 4012 (match ended) and the reason.
    pub status: &'static str,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KickRequest {
    pub account_id: i64,
    /// 1 to 200 characters, sent to the player.
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct KickDone {
    pub match_id: String,
    pub account_id: i64,
    pub reason: String,
}

/// Live matches on this node, with their players.
#[utoipa::path(get, path = "/v1/admin/matches", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = LiveMatches), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn live_matches(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<LiveMatches>, ApiError> {
    let live = state.registry.live();
    // A match that ends meanwhile answers nothing and is left out.
    let summaries = join_all(live.iter().map(|m| m.describe())).await;
    Ok(Json(LiveMatches {
        node_id: state.node_id.clone(),
        matches: summaries
            .into_iter()
            .flatten()
            .map(LiveMatch::from)
            .collect(),
    }))
}

/// End a live match now: results are stored, players get `MatchEnd` and a close with code 4012
/// and the reason.
#[utoipa::path(delete, path = "/v1/admin/matches/{match_id}", tag = "admin",
    security(("bearer" = [])),
    params(("match_id" = String, Path, description = "a live match, on any node")),
    request_body(content = Option<EndMatch>, description = "optional"),
    responses((status = 202, body = MatchEnding), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such match is live", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn end_match(
    State(state): State<AppState>,
    admin: Admin,
    path: Result<Path<String>, PathRejection>,
    body: Option<Json<EndMatch>>,
) -> Result<(StatusCode, Json<MatchEnding>), ApiError> {
    let match_id = match_path(path)?;
    let reason = match body.and_then(|Json(b)| b.reason) {
        Some(reason) => parse_reason(&reason)?,
        None => "ended by an admin".to_string(),
    };
    match state.registry.get(&match_id) {
        Some(handle) => handle.end(reason.clone()).await,
        None => super::nodes::forward_end(&state, &match_id, &reason).await?,
    }
    audit(
        &state,
        &admin,
        "end_match",
        &format!("match:{match_id}"),
        json!({ "reason": reason }),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(MatchEnding {
            match_id,
            reason,
            status: "ending",
        }),
    ))
}

/// Kick a player out of a live match: they get `Kicked` with the reason and a close with code
/// 4011 (kicked); their seat is released. They may join again (ban them to keep them out).
#[utoipa::path(post, path = "/v1/admin/matches/{match_id}/kick", tag = "admin",
    security(("bearer" = [])),
    params(("match_id" = String, Path, description = "a live match, on any node")),
    request_body = KickRequest,
    responses((status = 200, description = "kicked from a match on this node", body = KickDone),
        (status = 202, description = "sent to the node running the match, which kicks within seconds", body = KickDone),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such live match, or the player is not in it", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn kick(
    State(state): State<AppState>,
    admin: Admin,
    path: Result<Path<String>, PathRejection>,
    Json(body): Json<KickRequest>,
) -> Result<(StatusCode, Json<KickDone>), ApiError> {
    let match_id = match_path(path)?;
    let reason = parse_reason(&body.reason)?;
    let status = match state.registry.get(&match_id) {
        Some(handle) => {
            if !handle.kick(body.account_id, reason.clone()).await {
                return Err(ApiError::not_found(
                    "player_not_in_match",
                    format!("account {} is not in match {match_id}", body.account_id),
                ));
            }
            StatusCode::OK
        }
        None => {
            super::nodes::forward_kick(&state, &match_id, body.account_id, &reason).await?;
            StatusCode::ACCEPTED
        }
    };
    audit(
        &state,
        &admin,
        "kick",
        &format!("account:{}", body.account_id),
        json!({ "match_id": match_id, "reason": reason }),
    )
    .await?;
    Ok((
        status,
        Json(KickDone {
            match_id,
            account_id: body.account_id,
            reason,
        }),
    ))
}

// ---- accounts ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    /// 1 to 200 characters; shown to the player when they try to log in.
    pub reason: String,
    /// When the ban ends: an RFC 3339 time (`2030-01-01T00:00:00Z`, any offset) or Unix
    /// seconds. Absent or null: permanent. Must be in the future.
    #[serde(default)]
    pub until: Option<BanUntil>,
}

/// An RFC 3339 time or Unix seconds.
#[derive(Deserialize, ToSchema, Debug, Clone, PartialEq, Eq)]
#[serde(untagged)]
pub enum BanUntil {
    UnixSeconds(i64),
    Rfc3339(String),
}

#[derive(Serialize, ToSchema)]
pub struct BanStatus {
    pub account_id: i64,
    pub banned: bool,
    /// True for a ban without an end.
    pub permanent: bool,
    /// RFC 3339; null when not banned or banned permanently.
    pub until: Option<String>,
    pub reason: Option<String>,
    /// Live matches on this node the account was kicked from (other game nodes kick it from
    /// theirs within seconds).
    pub kicked_from: Vec<String>,
}

#[derive(Deserialize, Serialize, ToSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AccountRole {
    Player,
    Admin,
}

impl AccountRole {
    fn as_str(self) -> &'static str {
        match self {
            AccountRole::Player => "player",
            AccountRole::Admin => ADMIN_ROLE,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    pub role: AccountRole,
}

#[derive(Serialize, ToSchema)]
pub struct RoleStatus {
    pub account_id: i64,
    pub username: String,
    pub role: AccountRole,
}

/// Ban an account: it can no longer log in, refresh, get join tickets or pass the realtime
/// handshake, and it is kicked (close code 4011, reason `banned: <reason>`) from every live
/// match on this node. Banning again replaces the ban.
#[utoipa::path(post, path = "/v1/admin/accounts/{account_id}/ban", tag = "admin",
    security(("bearer" = [])),
    params(("account_id" = i64, Path, description = "the account")),
    request_body = BanRequest,
    responses((status = 200, body = BanStatus), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "bad reason or until", body = ErrorBody)))]
pub async fn ban(
    State(state): State<AppState>,
    admin: Admin,
    path: Result<Path<i64>, PathRejection>,
    Json(body): Json<BanRequest>,
) -> Result<Json<BanStatus>, ApiError> {
    let account_id = account_path(path)?;
    let reason = parse_reason(&body.reason)?;
    let now = state.clock.now_ms();
    let until = match &body.until {
        None => PERMANENT,
        Some(until) => parse_until(until, now)?,
    };
    let until_text = (until != PERMANENT).then(|| rfc3339(until));
    let detail = json!({ "reason": reason, "until": until_text }).to_string();
    let target = format!("account:{account_id}");
    let found = state
        .store
        .set_ban(
            account_id,
            Some(Ban {
                until,
                reason: &reason,
            }),
            &NewAudit {
                at: now,
                actor: &admin.actor,
                action: "ban",
                target: &target,
                detail: &detail,
            },
        )
        .await?;
    if !found {
        return Err(account_not_found());
    }
    // The ban is stored first, so the kicked player cannot come straight back in.
    let kick_reason = format!("banned: {reason}");
    let live = state.registry.live();
    let kicked = join_all(live.iter().map(|m| m.kick(account_id, kick_reason.clone()))).await;
    let kicked_from = live
        .iter()
        .zip(kicked)
        .filter(|(_, kicked)| *kicked)
        .map(|(m, _)| m.match_id.clone())
        .collect();
    // Other game nodes kick the player from theirs when they hear of it (within seconds).
    super::nodes::forward_ban(&state, account_id, &kick_reason).await?;
    Ok(Json(BanStatus {
        account_id,
        banned: true,
        permanent: until == PERMANENT,
        until: until_text,
        reason: Some(reason),
        kicked_from,
    }))
}

/// Lift an account's ban (answers 200 whether or not it was banned).
#[utoipa::path(delete, path = "/v1/admin/accounts/{account_id}/ban", tag = "admin",
    security(("bearer" = [])),
    params(("account_id" = i64, Path, description = "the account")),
    responses((status = 200, body = BanStatus), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unban(
    State(state): State<AppState>,
    admin: Admin,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<BanStatus>, ApiError> {
    let account_id = account_path(path)?;
    let now = state.clock.now_ms();
    let account = state
        .store
        .account_by_id(account_id)
        .await?
        .ok_or_else(account_not_found)?;
    let detail = json!({
        "was_banned": account.banned_at(now),
        "previous_reason": account.ban_reason,
    })
    .to_string();
    let target = format!("account:{account_id}");
    let found = state
        .store
        .set_ban(
            account_id,
            None,
            &NewAudit {
                at: now,
                actor: &admin.actor,
                action: "unban",
                target: &target,
                detail: &detail,
            },
        )
        .await?;
    if !found {
        return Err(account_not_found());
    }
    Ok(Json(BanStatus {
        account_id,
        banned: false,
        permanent: false,
        until: None,
        reason: None,
        kicked_from: Vec::new(),
    }))
}

/// Make an account an admin, or a player again. Takes effect at once for the admin API; the
/// account's next login or refresh gets a token with the new role. Guests cannot be admins.
#[utoipa::path(put, path = "/v1/admin/accounts/{account_id}/role", tag = "admin",
    security(("bearer" = [])),
    params(("account_id" = i64, Path, description = "the account")),
    request_body = SetRole,
    responses((status = 200, body = RoleStatus), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "a guest cannot be an admin", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    admin: Admin,
    path: Result<Path<i64>, PathRejection>,
    Json(body): Json<SetRole>,
) -> Result<Json<RoleStatus>, ApiError> {
    let account_id = account_path(path)?;
    let account = state
        .store
        .account_by_id(account_id)
        .await?
        .ok_or_else(account_not_found)?;
    if account.guest && body.role == AccountRole::Admin {
        return Err(ApiError::conflict(
            "guest_account",
            "a guest account cannot be an admin; give it a username and password first",
        ));
    }
    let detail = json!({ "role": body.role, "previous": account.role }).to_string();
    let target = format!("account:{account_id}");
    let found = state
        .store
        .set_role(
            account_id,
            body.role.as_str(),
            &NewAudit {
                at: state.clock.now_ms(),
                actor: &admin.actor,
                action: "set_role",
                target: &target,
                detail: &detail,
            },
        )
        .await?;
    if !found {
        return Err(account_not_found());
    }
    Ok(Json(RoleStatus {
        account_id,
        username: account.username,
        role: body.role,
    }))
}

// ---- stats ----

#[derive(Serialize, ToSchema)]
pub struct Stats {
    pub node_id: String,
    pub version: &'static str,
    pub uptime_s: u64,
    /// Live matches on this node.
    pub matches: usize,
    /// Realtime connections past the handshake.
    pub players_connected: i64,
    /// Seats in live matches, connected or waiting out the reconnect grace.
    pub players_seated: usize,
    pub tick: TickStats,
    /// Connections the server closed for misbehaviour or slowness, since start.
    pub clients_dropped: u64,
    pub reconnects: u64,
}

/// Tick timing since the server started, over every match.
#[derive(Serialize, ToSchema)]
pub struct TickStats {
    /// The configured tick rate, Hz.
    pub rate: u16,
    /// Ticks run.
    pub count: u64,
    pub mean_ms: f64,
    /// Estimated from the duration histogram's buckets (linear within a bucket).
    pub p99_ms: f64,
    /// Ticks that started more than one period late.
    pub late_ticks: u64,
    /// Ticks dropped to catch up after a stall.
    pub skipped_ticks: u64,
}

/// Server stats: matches, players, tick timing, uptime and version.
#[utoipa::path(get, path = "/v1/admin/stats", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Stats), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn stats(State(state): State<AppState>, _admin: Admin) -> Result<Json<Stats>, ApiError> {
    let live = state.registry.live();
    let summaries = join_all(live.iter().map(|m| m.describe())).await;
    let summaries: Vec<MatchSummary> = summaries.into_iter().flatten().collect();
    let timing = TickTiming::of(&state.metrics.tick_seconds);
    let m = &state.metrics;
    Ok(Json(Stats {
        node_id: state.node_id.clone(),
        version: env!("CARGO_PKG_VERSION"),
        uptime_s: state.started_at.elapsed().as_secs(),
        matches: summaries.len(),
        players_connected: m.clients_connected.get(),
        players_seated: summaries.iter().map(|s| s.players.len()).sum(),
        tick: TickStats {
            rate: state.games.default_game().map_or(0, |g| g.tick_rate),
            count: timing.count,
            mean_ms: timing.mean_s * 1e3,
            p99_ms: timing.quantile(0.99) * 1e3,
            late_ticks: m.late_ticks.get(),
            skipped_ticks: m.ticks_skipped.get(),
        },
        clients_dropped: m.clients_dropped.get(),
        reconnects: m.reconnects.get(),
    }))
}

/// What a duration histogram holds: count, mean and cumulative bucket counts.
#[derive(Debug, Default, PartialEq)]
struct TickTiming {
    count: u64,
    mean_s: f64,
    /// (upper bound, observations at or below it), ascending; the last bound is +Inf.
    buckets: Vec<(f64, u64)>,
}

impl TickTiming {
    /// Reads a histogram through its text exposition (the only public view of its buckets).
    fn of(histogram: &Histogram) -> TickTiming {
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register("tick", "tick duration", histogram.clone());
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &registry).is_err() {
            return TickTiming::default();
        }
        TickTiming::parse(&text)
    }

    fn parse(text: &str) -> TickTiming {
        let mut sum = 0.0;
        let mut timing = TickTiming::default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("tick_bucket{le=\"") {
                let Some((le, n)) = rest.split_once("\"} ") else {
                    continue;
                };
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap_or(f64::NAN)
                };
                if let (false, Ok(n)) = (le.is_nan(), n.trim().parse()) {
                    timing.buckets.push((le, n));
                }
            } else if let Some(v) = line.strip_prefix("tick_sum ") {
                sum = v.trim().parse().unwrap_or(0.0);
            } else if let Some(v) = line.strip_prefix("tick_count ") {
                timing.count = v.trim().parse().unwrap_or(0);
            }
        }
        timing.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        if timing.count > 0 {
            timing.mean_s = sum / timing.count as f64;
        }
        timing
    }

    /// The `q` quantile, interpolated linearly within its bucket as Prometheus'
    /// `histogram_quantile` does; past the last finite bound, that bound.
    fn quantile(&self, q: f64) -> f64 {
        let Some(&(_, total)) = self.buckets.last() else {
            return 0.0;
        };
        if total == 0 {
            return 0.0;
        }
        let rank = q * total as f64;
        let (mut lower, mut below) = (0.0, 0u64);
        for &(le, cumulative) in &self.buckets {
            if cumulative as f64 >= rank {
                if le.is_infinite() {
                    return lower;
                }
                let inside = cumulative - below;
                if inside == 0 {
                    return le;
                }
                return lower + (le - lower) * (rank - below as f64) / inside as f64;
            }
            lower = le;
            below = cumulative;
        }
        lower
    }
}

// ---- audit log ----

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// 1 to 100 (default 50).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
    /// Pass as `cursor` for older entries; null on the last page. Entries written after the
    /// first page never appear on later pages.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// `admin-key` or `account:<id>`.
    pub actor: String,
    /// `end_match`, `kick`, `ban`, `unban`, `set_role`, ...
    pub action: String,
    /// `match:<id>` or `account:<id>`, ...
    pub target: String,
    /// What the action was given and changed.
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// The audit log of admin actions, newest first, with cursor pagination.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit_log(
    State(state): State<AppState>,
    _admin: Admin,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be between 1 and 100",
        ));
    }
    let before = query
        .cursor
        .map(|c| {
            c.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| ApiError::bad_request("invalid_cursor", "the cursor is not valid"))
        })
        .transpose()?;
    let mut rows = state.store.audit_page(before, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: rfc3339(r.at),
            actor: r.actor,
            action: r.action,
            target: r.target,
            detail: serde_json::from_str(&r.detail).unwrap_or(Value::String(r.detail)),
        })
        .collect();
    Ok(Json(AuditPage {
        entries,
        next_cursor,
    }))
}

// ---- input ----

fn match_path(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id).map_err(|_| match_not_live())
}

/// An account id from the path; one that is not a number names no account.
fn account_path(path: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    path.map(|Path(id)| id).map_err(|_| account_not_found())
}

fn match_not_live() -> ApiError {
    ApiError::not_found("match_not_found", "no such match is live on this node")
}

fn account_not_found() -> ApiError {
    ApiError::not_found("account_not_found", "no such account")
}

/// A reason an admin gives: trimmed, 1 to [`MAX_REASON_CHARS`] characters, no control
/// characters.
fn parse_reason(raw: &str) -> Result<String, ApiError> {
    let reason = raw.trim();
    let ok = (1..=MAX_REASON_CHARS).contains(&reason.chars().count())
        && !reason.chars().any(char::is_control);
    if !ok {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_reason",
            format!("reason is 1 to {MAX_REASON_CHARS} characters without control characters"),
        ));
    }
    Ok(reason.to_string())
}

/// When a ban ends, as Unix ms: Unix seconds or an RFC 3339 time, after `now_ms`.
fn parse_until(until: &BanUntil, now_ms: i64) -> Result<i64, ApiError> {
    let invalid = |why: &str| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_until",
            format!(
                "until {why}: give an RFC 3339 time or Unix seconds in the future, or leave it out for a permanent ban"
            ),
        )
    };
    let ms = match until {
        BanUntil::UnixSeconds(s) => s
            .checked_mul(1000)
            .ok_or_else(|| invalid("is out of range"))?,
        BanUntil::Rfc3339(text) => {
            parse_rfc3339_ms(text).ok_or_else(|| invalid("is not an RFC 3339 time"))?
        }
    };
    if ms <= now_ms {
        return Err(invalid("is not in the future"));
    }
    Ok(ms)
}

/// Parses an RFC 3339 time with `Z` or a numeric offset (`+02:00`) to Unix ms.
fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let (utc, offset_ms) = match split_offset(text) {
        Some((head, offset_ms)) => (format!("{head}Z"), offset_ms),
        None => (text.to_string(), 0),
    };
    let time = humantime::parse_rfc3339(&utc).ok()?;
    let ms = time.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    i64::try_from(ms).ok()?.checked_sub(offset_ms)
}

/// Splits a trailing numeric offset (`+hh:mm` or `-hh:mm`) off a date-time; answers the rest
/// and the offset in ms.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    let at = text.len().checked_sub(6)?;
    if !text.is_char_boundary(at) {
        return None;
    }
    let (head, tail) = text.split_at(at);
    let sign = match tail.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = tail[1..].split_once(':')?;
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !head.contains('T') || !two_digits(h) || !two_digits(m) {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((head, sign * (h * 60 + m) * 60_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_with_z_or_an_offset() {
        assert_eq!(
            parse_rfc3339_ms("2030-01-01T00:00:00Z"),
            Some(1_893_456_000_000),
            "UTC"
        );
        assert_eq!(
            parse_rfc3339_ms("2030-01-01T02:00:00+02:00"),
            Some(1_893_456_000_000),
            "two hours east of UTC"
        );
        assert_eq!(
            parse_rfc3339_ms("2029-12-31T23:30:00-00:30"),
            Some(1_893_456_000_000),
            "half an hour west of UTC"
        );
        assert_eq!(
            parse_rfc3339_ms("2030-01-01T00:00:00.250Z"),
            Some(1_893_456_000_250),
            "fractional seconds"
        );
        for bad in [
            "",
            "tomorrow",
            "2030-01-01",
            "2030-13-01T00:00:00Z",
            "+02:00",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad:?} refused");
        }
    }

    #[test]
    fn until_must_be_in_the_future() {
        let now = 1_893_456_000_000;
        assert_eq!(
            parse_until(&BanUntil::UnixSeconds(1_893_456_060), now).ok(),
            Some(now + 60_000),
            "a minute later"
        );
        assert!(
            parse_until(&BanUntil::UnixSeconds(1_893_456_000), now).is_err(),
            "now is not the future"
        );
        assert!(
            parse_until(&BanUntil::UnixSeconds(i64::MAX), now).is_err(),
            "out of range"
        );
        assert!(
            parse_until(&BanUntil::Rfc3339("2020-01-01T00:00:00Z".into()), now).is_err(),
            "the past"
        );
    }

    #[test]
    fn reasons_are_trimmed_and_bounded() {
        assert_eq!(
            parse_reason("  afk ").ok().as_deref(),
            Some("afk"),
            "trimmed"
        );
        assert!(parse_reason("   ").is_err(), "blank");
        assert!(parse_reason(&"x".repeat(201)).is_err(), "too long");
        assert!(parse_reason("a\nb").is_err(), "control character");
    }

    #[test]
    fn the_admin_key_comparison_needs_every_byte() {
        assert!(same_secret(b"twadmin_abc", b"twadmin_abc"), "equal");
        assert!(!same_secret(b"twadmin_abd", b"twadmin_abc"), "last byte");
        assert!(!same_secret(b"twadmin_ab", b"twadmin_abc"), "shorter");
        assert!(!same_secret(b"", b"twadmin_abc"), "empty");
    }

    #[test]
    fn tick_timing_reads_count_mean_and_quantiles_from_the_histogram() {
        let histogram = Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
            0.001, 2.0, 4,
        ));
        // Buckets: <=1 ms, <=2 ms, <=4 ms, <=8 ms, +Inf.
        for _ in 0..98 {
            histogram.observe(0.0005);
        }
        histogram.observe(0.003);
        histogram.observe(0.1);
        let timing = TickTiming::of(&histogram);
        assert_eq!(timing.count, 100, "count: {timing:?}");
        let mean = (98.0 * 0.0005 + 0.003 + 0.1) / 100.0;
        assert!((timing.mean_s - mean).abs() < 1e-9, "mean: {timing:?}");
        let p50 = timing.quantile(0.5);
        assert!(p50 > 0.0 && p50 <= 0.001, "p50 in the first bucket: {p50}");
        let p99 = timing.quantile(0.99);
        assert!(
            p99 > 0.002 && p99 <= 0.004,
            "p99 in the 2-4 ms bucket: {p99}"
        );
        assert_eq!(
            timing.quantile(1.0),
            0.008,
            "past the last finite bound: that bound"
        );
        assert_eq!(
            TickTiming::of(&Histogram::new([0.1].into_iter())).quantile(0.99),
            0.0,
            "empty"
        );
    }
}
