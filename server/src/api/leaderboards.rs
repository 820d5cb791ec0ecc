//! Leaderboard reads: the boards, a page of a board (cursor pagination over a consistent
//! snapshot), the records around an account, one account's record, and several accounts' records.
//! No route writes a score: scores come only from match results the server stores.

use axum::extract::{Path, Query, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ErrorBody;
use super::{ApiError, AppState, Caller, Json};
use crate::clock::rfc3339;
use crate::leaderboards::{BoardDef, Metric, Operator, Order, RankKey, Reset};
use crate::store::RecordRow;
use crate::store::admin::NewAudit;

#[derive(Serialize, ToSchema)]
pub struct BoardInfo {
    pub id: String,
    /// The game whose matches feed the board.
    pub game: String,
    /// `score`, or the name of one of the game's stats.
    pub metric: Metric,
    pub operator: Operator,
    pub order: Order,
    pub reset: Reset,
    /// The current season: `all` for boards that never reset, else its first day.
    pub season: String,
    /// RFC 3339; null for boards that never reset.
    pub next_reset: Option<String>,
    pub prev_reset: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BoardList {
    pub leaderboards: Vec<BoardInfo>,
}

#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct Record {
    pub rank: u64,
    pub account_id: i64,
    pub username: String,
    pub score: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RecordPage {
    pub records: Vec<Record>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    pub season: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecordList {
    pub records: Vec<Record>,
    pub season: String,
}

#[derive(Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// A season name (default: the current season).
    pub season: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct AroundQuery {
    /// 1 to 100 (default 11): the account and its neighbours.
    pub limit: Option<i64>,
    pub season: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct SeasonQuery {
    pub season: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct AccountsQuery {
    /// Comma-separated account ids (at most 100).
    pub account_ids: String,
    pub season: Option<String>,
}

/// A page position: the board, the snapshot time, the last record's key and rank.
#[derive(Serialize, Deserialize)]
struct Cursor {
    board: String,
    season: i64,
    as_of: i64,
    key: RankKey,
    rank: u64,
}

/// What cursor tags are for (see [`crate::auth::TokenKeys::tag`]).
const CURSOR_TAG: &str = "leaderboard cursor";

/// `<base64url JSON>.<tag>`: the tag makes cursors tamper-proof, so a client cannot move its
/// snapshot, rank or key (the page would show wrong ranks, or overflow them), nor carry a
/// cursor over to another board.
fn encode_cursor(state: &AppState, c: &Cursor) -> String {
    // Serialising a plain struct to JSON cannot fail.
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).expect("cursor to JSON"));
    let tag = state.tokens.tag(CURSOR_TAG, payload.as_bytes());
    format!("{payload}.{tag}")
}

/// A cursor this server made for `board`, or 400.
fn decode_cursor(state: &AppState, board: &BoardDef, s: &str) -> Result<Cursor, ApiError> {
    s.split_once('.')
        .filter(|(payload, tag)| state.tokens.check_tag(CURSOR_TAG, payload.as_bytes(), tag))
        .and_then(|(payload, _)| URL_SAFE_NO_PAD.decode(payload).ok())
        .and_then(|b| serde_json::from_slice::<Cursor>(&b).ok())
        .filter(|c| c.board == board.id)
        .ok_or_else(|| ApiError::bad_request("invalid_cursor", "the cursor is not valid"))
}

fn board<'a>(state: &'a AppState, id: &str) -> Result<&'a BoardDef, ApiError> {
    state.leaderboards.get(id).ok_or_else(|| {
        ApiError::not_found("leaderboard_not_found", format!("no leaderboard {id:?}"))
    })
}

fn season(state: &AppState, board: &BoardDef, name: Option<&str>) -> Result<i64, ApiError> {
    match name {
        None => Ok(board.season_at(state.clock.now_ms())),
        Some(name) => board.parse_season(name).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_season",
                format!("{name:?} is not a season of {} (seasons are named by their first day, or `all`)", board.id),
            )
        }),
    }
}

fn limit(raw: Option<i64>, default: i64) -> Result<i64, ApiError> {
    let n = raw.unwrap_or(default);
    if (1..=100).contains(&n) {
        Ok(n)
    } else {
        Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be between 1 and 100",
        ))
    }
}

fn to_record(row: RecordRow, rank: u64) -> Record {
    Record {
        rank,
        account_id: row.account_id,
        username: row.username,
        score: row.score,
    }
}

/// The leaderboards, with their current season and reset times.
#[utoipa::path(get, path = "/v1/leaderboards", tag = "leaderboards",
    responses((status = 200, body = BoardList)))]
pub async fn list(State(state): State<AppState>) -> Json<BoardList> {
    let now = state.clock.now_ms();
    Json(BoardList {
        leaderboards: state
            .leaderboards
            .boards()
            .iter()
            .map(|b| BoardInfo {
                id: b.id.clone(),
                game: b.game.clone(),
                metric: b.metric.clone(),
                operator: b.operator,
                order: b.order,
                reset: b.reset,
                season: b.season_name(b.season_at(now)),
                next_reset: b.next_reset(now).map(rfc3339),
                prev_reset: b.prev_reset(now).map(rfc3339),
            })
            .collect(),
    })
}

/// A page of a board, best first. Pages come from one snapshot of the board (taken when the
/// first page is read), so following `next_cursor` visits every record exactly once even while
/// new results arrive.
#[utoipa::path(get, path = "/v1/leaderboards/{id}", tag = "leaderboards",
    params(("id" = String, Path, description = "board id"), PageQuery),
    responses((status = 200, body = RecordPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<RecordPage>, ApiError> {
    let board = board(&state, &id)?;
    let limit = limit(q.limit, 20)?;
    let now = state.clock.now_ms();
    let (season, as_of, after, rank_before) = match &q.cursor {
        Some(c) => {
            let c = decode_cursor(&state, board, c)?;
            let ttl = i64::from(state.config.limits.leaderboard_cursor_ttl_s) * 1000;
            if now - c.as_of > ttl {
                return Err(ApiError::new(
                    axum::http::StatusCode::GONE,
                    "cursor_expired",
                    "the cursor has expired; start again from the first page",
                ));
            }
            (c.season, c.as_of, Some(c.key), c.rank)
        }
        None => {
            let season = season(&state, board, q.season.as_deref())?;
            let lag = i64::from(state.config.limits.leaderboard_snapshot_lag_ms);
            (season, now - lag - 1, None, 0)
        }
    };
    // One more than asked tells whether another page follows.
    let mut rows = state
        .store
        .board_page(&board.id, season, as_of, after, limit + 1)
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = match rows.last() {
        Some(last) if more => Some(encode_cursor(
            &state,
            &Cursor {
                board: board.id.clone(),
                season,
                as_of,
                key: last.key(),
                rank: rank_before + rows.len() as u64,
            },
        )),
        _ => None,
    };
    let records = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| to_record(row, rank_before + i as u64 + 1))
        .collect();
    Ok(Json(RecordPage {
        records,
        next_cursor,
        season: board.season_name(season),
    }))
}

/// The records around an account (`me` for the caller): the account with the ones just above
/// and below it.
#[utoipa::path(get, path = "/v1/leaderboards/{id}/around/{account}", tag = "leaderboards",
    params(("id" = String, Path), ("account" = String, Path, description = "an account id, or `me`"), AroundQuery),
    responses((status = 200, body = RecordList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn around(
    State(state): State<AppState>,
    Path((id, who)): Path<(String, String)>,
    caller: Result<Caller, ApiError>,
    Query(q): Query<AroundQuery>,
) -> Result<Json<RecordList>, ApiError> {
    let board = board(&state, &id)?;
    let limit = limit(q.limit, 11)?;
    let season = season(&state, board, q.season.as_deref())?;
    let account_id = if who == "me" {
        caller?.account_id
    } else {
        who.parse()
            .map_err(|_| ApiError::bad_request("invalid_account", "an account id or `me`"))?
    };
    let (own, rank) = record_and_rank(&state, board, season, account_id).await?;
    let above_wanted = (limit - 1) / 2;
    let mut above = state
        .store
        .board_neighbours(
            &board.id,
            season,
            own.key(),
            true,
            above_wanted.min(rank as i64 - 1),
        )
        .await?;
    let below_wanted = limit - 1 - above.len() as i64;
    let below = state
        .store
        .board_neighbours(&board.id, season, own.key(), false, below_wanted)
        .await?;
    above.reverse();
    let first_rank = rank - above.len() as u64;
    let records = above
        .into_iter()
        .chain(std::iter::once(own))
        .chain(below)
        .enumerate()
        .map(|(i, row)| to_record(row, first_rank + i as u64))
        .collect();
    Ok(Json(RecordList {
        records,
        season: board.season_name(season),
    }))
}

/// An account's current record and its rank; 404 if it has none.
async fn record_and_rank(
    state: &AppState,
    board: &BoardDef,
    season: i64,
    account_id: i64,
) -> Result<(RecordRow, u64), ApiError> {
    let row = state
        .store
        .board_record(&board.id, season, account_id)
        .await?
        .ok_or_else(no_record)?;
    let rank = own_rank(state, board, season, account_id).await?;
    Ok((row, rank))
}

fn no_record() -> ApiError {
    ApiError::not_found(
        "record_not_found",
        "that account has no record on this board",
    )
}

async fn own_rank(
    state: &AppState,
    board: &BoardDef,
    season: i64,
    account_id: i64,
) -> Result<u64, ApiError> {
    state
        .leaderboards
        .with_ranks(&state.store, &board.id, season, |ranks| {
            ranks.rank(account_id)
        })
        .await?
        .ok_or_else(no_record)
}

/// One account's record and rank.
#[utoipa::path(get, path = "/v1/leaderboards/{id}/accounts/{account_id}", tag = "leaderboards",
    params(("id" = String, Path), ("account_id" = i64, Path), SeasonQuery),
    responses((status = 200, body = Record), (status = 404, body = ErrorBody)))]
pub async fn account(
    State(state): State<AppState>,
    Path((id, account_id)): Path<(String, i64)>,
    Query(q): Query<SeasonQuery>,
) -> Result<Json<Record>, ApiError> {
    let board = board(&state, &id)?;
    let season = season(&state, board, q.season.as_deref())?;
    let (row, rank) = record_and_rank(&state, board, season, account_id).await?;
    Ok(Json(to_record(row, rank)))
}

/// The records of several accounts (a player's friends), best first; accounts without a record
/// are left out.
#[utoipa::path(get, path = "/v1/leaderboards/{id}/records", tag = "leaderboards",
    params(("id" = String, Path), AccountsQuery),
    responses((status = 200, body = RecordList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn accounts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AccountsQuery>,
) -> Result<Json<RecordList>, ApiError> {
    let board = board(&state, &id)?;
    let season = season(&state, board, q.season.as_deref())?;
    let ids: Vec<i64> = q
        .account_ids
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_account",
                "account_ids is a comma-separated list of ids",
            )
        })?;
    if ids.is_empty() || ids.len() > 100 {
        return Err(ApiError::bad_request(
            "invalid_account",
            "between 1 and 100 account ids",
        ));
    }
    let mut rows = Vec::new();
    for account_id in &ids {
        if let Some(row) = state
            .store
            .board_record(&board.id, season, *account_id)
            .await?
        {
            rows.push(row);
        }
    }
    let ranked: Vec<(u64, RecordRow)> = state
        .leaderboards
        .with_ranks(&state.store, &board.id, season, |ranks| {
            rows.into_iter()
                .filter_map(|row| ranks.rank(row.account_id).map(|r| (r, row)))
                .collect()
        })
        .await?;
    let mut records: Vec<Record> = ranked
        .into_iter()
        .map(|(rank, row)| to_record(row, rank))
        .collect();
    records.sort_by_key(|r| r.rank);
    Ok(Json(RecordList {
        records,
        season: board.season_name(season),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct RemovedRecord {
    pub leaderboard: String,
    pub season: String,
    pub account_id: i64,
    pub removed: bool,
}

/// Remove an account's record from a board season (admin; the current season by default).
#[utoipa::path(delete, path = "/v1/admin/leaderboards/{id}/records/{account_id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path), ("account_id" = i64, Path), SeasonQuery),
    responses((status = 200, body = RemovedRecord), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_record(
    State(state): State<AppState>,
    admin: super::admin::Admin,
    Path((id, account_id)): Path<(String, i64)>,
    Query(q): Query<SeasonQuery>,
) -> Result<Json<RemovedRecord>, ApiError> {
    let board = board(&state, &id)?;
    let season = season(&state, board, q.season.as_deref())?;
    let season_name = board.season_name(season);
    let now = state.clock.now_ms();
    let target = format!("leaderboard:{}:{}:{account_id}", board.id, season_name);
    let detail = serde_json::json!({
        "leaderboard": board.id,
        "season": season_name,
        "account_id": account_id,
    })
    .to_string();
    // The audit row is written in the removal's transaction: a crash or a failed write leaves
    // both or neither, never a removal missing from the log.
    let removed = state
        .store
        .remove_board_record(
            &board.id,
            season,
            account_id,
            now,
            &NewAudit {
                at: now,
                actor: &admin.actor,
                action: "leaderboard.remove_record",
                target: &target,
                detail: &detail,
            },
        )
        .await?;
    if !removed {
        return Err(ApiError::not_found(
            "record_not_found",
            "that account has no record on this board",
        ));
    }
    Ok(Json(RemovedRecord {
        leaderboard: board.id.clone(),
        season: season_name,
        account_id,
        removed: true,
    }))
}
