//! The lobby: list and create matches, join one, quick-join. Joining answers a short-lived,
//! single-use join ticket bound to the account and the match, with the WebSocket URL to use.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::sessions::refuse_banned;
use super::{ApiError, AppState, Caller, Json};
use crate::auth::random_token;
use crate::config::TlsMode;
use crate::game::GameInfo;
use crate::store::{MatchRow, NewMatch, Placement, SeatOutcome, TicketSeat};

#[derive(Serialize, ToSchema)]
pub struct MatchInfo {
    pub match_id: String,
    pub game: String,
    pub map: String,
    pub players: i64,
    pub capacity: i64,
    /// `open`, `running` or `ended`.
    pub state: String,
    pub public: bool,
}

impl From<MatchRow> for MatchInfo {
    fn from(m: MatchRow) -> MatchInfo {
        MatchInfo {
            match_id: m.id,
            game: m.game,
            map: m.map,
            players: m.players,
            capacity: m.capacity,
            state: m.state,
            public: m.public,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MatchList {
    pub matches: Vec<MatchInfo>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateMatch {
    /// A game from `GET /v1/games`; the default game (`arena`) if absent.
    pub game: Option<String>,
    /// One of the game's maps; the game's default map if absent.
    pub map: Option<String>,
    /// Listed and quick-joinable; true if absent.
    pub public: Option<bool>,
    /// Only game nodes of this region host it; any region if absent.
    pub region: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct JoinTicket {
    /// Present it in the realtime `Hello`. Single use.
    pub ticket: String,
    /// The WebSocket URL to connect to.
    pub url: String,
    pub match_id: String,
    /// Seconds the ticket stays valid.
    pub expires_in: u32,
}

#[derive(Serialize, ToSchema)]
pub struct GameList {
    pub games: Vec<GameSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct GameSummary {
    pub id: String,
    pub maps: Vec<MapSummary>,
    pub default_map: String,
    /// Seats per match on the default map.
    pub seats: u16,
    pub tick_rate: u16,
    /// The hash of the game's declarations (16 hex digits): a client built for it sends it in
    /// `Hello.game_hash`.
    pub protocol_hash: String,
    /// The stats its results carry besides the score; leaderboards can rank any of them.
    pub stats: Vec<String>,
    /// The game's tuning (its `game.toml` as JSON: speeds, cooldowns, match length), so a
    /// client predicts its own player with the server's numbers.
    #[schema(value_type = Object)]
    pub tuning: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct MapSummary {
    pub name: String,
    pub seats: u16,
}

impl From<&GameInfo> for GameSummary {
    fn from(g: &GameInfo) -> GameSummary {
        GameSummary {
            id: g.name().to_string(),
            maps: g
                .maps
                .iter()
                .map(|m| MapSummary {
                    name: m.name.clone(),
                    seats: m.seats,
                })
                .collect(),
            default_map: g.default_map.clone(),
            seats: g.map(&g.default_map).map_or(0, |m| m.seats),
            tick_rate: g.tick_rate,
            protocol_hash: format!("{:016x}", g.hash),
            stats: g.protocol.stats.iter().map(|s| s.to_string()).collect(),
            tuning: g.tuning.clone(),
        }
    }
}

/// The games this server serves, with their maps and seats per match.
#[utoipa::path(get, path = "/v1/games", tag = "lobby",
    responses((status = 200, body = GameList)))]
pub async fn list_games(State(state): State<AppState>) -> Json<GameList> {
    Json(GameList {
        games: state.games.iter().map(GameSummary::from).collect(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct MapLayout {
    pub game: String,
    pub name: String,
    pub seats: u16,
    /// The map file of the game's assets as JSON (its format is the game's: see
    /// `assets/README.md`), for clients that draw the map.
    #[schema(value_type = Object)]
    pub layout: serde_json::Value,
}

/// One map of a game, with its layout.
#[utoipa::path(get, path = "/v1/games/{game}/maps/{map}", tag = "lobby",
    params(("game" = String, Path, description = "a game from `GET /v1/games`"),
        ("map" = String, Path, description = "one of its maps")),
    responses((status = 200, body = MapLayout), (status = 404, body = ErrorBody)))]
pub async fn map_layout(
    State(state): State<AppState>,
    Path((game, map)): Path<(String, String)>,
) -> Result<Json<MapLayout>, ApiError> {
    let info = state
        .games
        .get(&game)
        .ok_or_else(|| ApiError::not_found("unknown_game", format!("no game named {game:?}")))?;
    let found = info.map(&map).ok_or_else(|| {
        ApiError::not_found("unknown_map", format!("{game} has no map named {map:?}"))
    })?;
    Ok(Json(MapLayout {
        game,
        name: found.name.clone(),
        seats: found.seats,
        layout: found.layout.clone(),
    }))
}

/// The game and map a request asks for (the defaults where it does not), or a 422 naming what
/// does not exist.
fn pick<'a>(
    state: &'a AppState,
    game: Option<&str>,
    map: Option<&str>,
) -> Result<(&'a GameInfo, String), ApiError> {
    let info = match game {
        Some(name) => state.games.get(name).ok_or_else(|| {
            let known: Vec<&str> = state.games.iter().map(|g| g.name()).collect();
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_game",
                format!(
                    "no game named {name:?}; this server serves {}",
                    known.join(", ")
                ),
            )
        })?,
        None => state
            .games
            .default_game()
            .ok_or_else(|| ApiError::conflict("no_games", "this server serves no game"))?,
    };
    let map = match map {
        Some(name) if info.map(name).is_none() => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_map",
                format!("{} has no map named {name:?}", info.name()),
            ));
        }
        Some(name) => name.to_string(),
        None => info.default_map.clone(),
    };
    Ok((info, map))
}

/// Public matches that have not ended.
#[utoipa::path(get, path = "/v1/matches", tag = "lobby",
    responses((status = 200, body = MatchList)))]
pub async fn list_matches(State(state): State<AppState>) -> Result<Json<MatchList>, ApiError> {
    let matches = state.store.live_matches(false, 200).await?;
    Ok(Json(MatchList {
        matches: matches.into_iter().map(MatchInfo::from).collect(),
    }))
}

/// Create a match.
#[utoipa::path(post, path = "/v1/matches", tag = "lobby", security(("bearer" = [])),
    request_body = CreateMatch,
    responses((status = 201, body = MatchInfo), (status = 401, body = ErrorBody),
        (status = 422, description = "unknown game or map", body = ErrorBody)))]
pub async fn create_match(
    State(state): State<AppState>,
    caller: Caller,
    body: Option<Json<CreateMatch>>,
) -> Result<(StatusCode, Json<MatchInfo>), ApiError> {
    check_not_banned(&state, caller.account_id).await?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let (game, map) = pick(&state, body.game.as_deref(), body.map.as_deref())?;
    let node = place(&state, game, body.region.as_deref()).await?;
    let id = format!("m_{}", random_token(9));
    let row = state
        .store
        .create_match(NewMatch {
            id: &id,
            game: game.name(),
            map: &map,
            public: body.public.unwrap_or(true),
            capacity: i64::from(game.map(&map).map_or(0, |m| m.seats)),
            node_id: Some(&node.node_id),
            created_by: Some(caller.account_id),
            created_at: state.clock.now_ms(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// The game node a new match of `game` goes to: the live one with the fewest seated players.
async fn place(
    state: &AppState,
    game: &GameInfo,
    region: Option<&str>,
) -> Result<Placement, ApiError> {
    state.node.place(game.name(), region).await?.ok_or_else(|| {
        let where_ = region.map_or_else(String::new, |r| format!(" in region {r:?}"));
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_game_node",
            format!(
                "no live game node{where_} serves {} with room for players; retry shortly",
                game.name()
            ),
        )
    })
}

/// Join a match: a seat and a join ticket.
#[utoipa::path(post, path = "/v1/matches/{match_id}/join", tag = "lobby", security(("bearer" = [])),
    params(("match_id" = String, Path, description = "the match")),
    responses((status = 200, body = JoinTicket), (status = 401, body = ErrorBody),
        (status = 403, description = "banned", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "full or ended", body = ErrorBody)))]
pub async fn join_match(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(match_id): Path<String>,
) -> Result<Json<JoinTicket>, ApiError> {
    check_not_banned(&state, caller.account_id).await?;
    match state
        .store
        .take_seat(&match_id, caller.account_id, state.clock.now_ms())
        .await?
    {
        SeatOutcome::Seated | SeatOutcome::AlreadySeated => {}
        SeatOutcome::Full => return Err(ApiError::conflict("match_full", "the match is full")),
        SeatOutcome::Ended => return Err(ApiError::conflict("match_ended", "the match has ended")),
        SeatOutcome::NotFound => {
            return Err(ApiError::not_found("match_not_found", "no such match"));
        }
    }
    ticket(&state, &headers, caller.account_id, &match_id).await
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Spectate {
    /// See this player's view (its id in the match, from `Welcome.players`); the whole world if
    /// absent.
    pub follow: Option<u32>,
}

/// Watch a running match: a ticket for a read-only seat. It takes no seat (a full match can be
/// watched), sends no inputs, and sees the whole world or a followed player's view, as late as
/// the server's `spectator_delay_s` says.
#[utoipa::path(post, path = "/v1/matches/{match_id}/spectate", tag = "lobby", security(("bearer" = [])),
    params(("match_id" = String, Path, description = "the match")),
    request_body(content = Option<Spectate>),
    responses((status = 200, body = JoinTicket), (status = 401, body = ErrorBody),
        (status = 403, description = "banned", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "ended", body = ErrorBody)))]
pub async fn spectate_match(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(match_id): Path<String>,
    body: Option<Json<Spectate>>,
) -> Result<Json<JoinTicket>, ApiError> {
    check_not_banned(&state, caller.account_id).await?;
    let follow = body.and_then(|Json(b)| b.follow);
    match state.store.match_by_id(&match_id).await? {
        None => return Err(ApiError::not_found("match_not_found", "no such match")),
        Some(row) if row.state == crate::store::lobby::state::ENDED => {
            return Err(ApiError::conflict("match_ended", "the match has ended"));
        }
        Some(_) => {}
    }
    let seat = TicketSeat::Spectator { follow };
    ticket_for(&state, &headers, caller.account_id, &match_id, seat).await
}

/// Quick-join does not send players into a match with less than this left to play.
const QUICK_JOIN_MIN_REMAINING_MS: i64 = 10_000;

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct QuickJoin {
    /// Only matches of this game; the default game (`arena`) if absent.
    pub game: Option<String>,
    /// Only matches on this map (and a new one on it if none has room); any of the game's maps if
    /// absent.
    pub map: Option<String>,
    /// A new match (when none has room) goes to a game node of this region; any if absent.
    pub region: Option<String>,
}

/// Join the fullest public match with room (or a new one); a player with a seat in a live match
/// is sent back to it.
#[utoipa::path(post, path = "/v1/matchmaking/quick-join", tag = "lobby", security(("bearer" = [])),
    request_body(content = Option<QuickJoin>),
    responses((status = 200, body = JoinTicket), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "unknown game or map", body = ErrorBody)))]
pub async fn quick_join(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Option<Json<QuickJoin>>,
) -> Result<Json<JoinTicket>, ApiError> {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let wanted = body.map;
    let (game, map) = pick(&state, body.game.as_deref(), wanted.as_deref())?;
    check_not_banned(&state, caller.account_id).await?;
    if let Some(current) = state
        .store
        .live_seat_of(caller.account_id, state.node.alive())
        .await?
    {
        return ticket(&state, &headers, caller.account_id, &current.id).await;
    }
    let now = state.clock.now_ms();
    for candidate in state
        .store
        .joinable_public_matches(
            8,
            game.name(),
            wanted.as_deref(),
            now + QUICK_JOIN_MIN_REMAINING_MS,
            state.node.alive(),
        )
        .await?
    {
        if let SeatOutcome::Seated | SeatOutcome::AlreadySeated = state
            .store
            .take_seat(&candidate.id, caller.account_id, now)
            .await?
        {
            return ticket(&state, &headers, caller.account_id, &candidate.id).await;
        }
    }
    let node = place(&state, game, body.region.as_deref()).await?;
    let id = format!("m_{}", random_token(9));
    let fresh = state
        .store
        .create_match_seated(
            NewMatch {
                id: &id,
                game: game.name(),
                map: &map,
                public: true,
                capacity: i64::from(game.map(&map).map_or(0, |m| m.seats)),
                node_id: Some(&node.node_id),
                created_by: None,
                created_at: now,
            },
            caller.account_id,
        )
        .await?;
    ticket(&state, &headers, caller.account_id, &fresh.id).await
}

async fn check_not_banned(state: &AppState, account_id: i64) -> Result<(), ApiError> {
    let account = state
        .store
        .account_by_id(account_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "the account no longer exists"))?;
    refuse_banned(state, &account)
}

async fn ticket(
    state: &AppState,
    headers: &HeaderMap,
    account_id: i64,
    match_id: &str,
) -> Result<Json<JoinTicket>, ApiError> {
    ticket_for(state, headers, account_id, match_id, TicketSeat::Player).await
}

async fn ticket_for(
    state: &AppState,
    headers: &HeaderMap,
    account_id: i64,
    match_id: &str,
    seat: TicketSeat,
) -> Result<Json<JoinTicket>, ApiError> {
    let ttl = state.config.limits.ticket_ttl_s;
    let id = format!("tk_{}", random_token(24));
    let expires_at = state.clock.now_ms() + i64::from(ttl) * 1000;
    let url = match state.store.host_of_match(match_id).await? {
        None => return Err(ApiError::not_found("match_not_found", "no such match")),
        // Placed before nodes were recorded: the way this client came in.
        Some((None, _)) => realtime_url(state, headers),
        // Placed here: the way this client came in, unless this node was told its address.
        Some((Some(node), _)) if node == state.node_id => {
            if state.node.url_derived() {
                realtime_url(state, headers)
            } else {
                state.node.url().to_string()
            }
        }
        Some((Some(_), Some(url))) => url,
        Some((Some(_), None)) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "match_unavailable",
                "the node hosting this match has gone; its match is being ended, join another",
            ));
        }
    };
    state
        .store
        .insert_seat_ticket(&id, account_id, match_id, seat, expires_at)
        .await?;
    Ok(Json(JoinTicket {
        ticket: id,
        url,
        match_id: match_id.to_string(),
        expires_in: ttl,
    }))
}

/// The WebSocket URL for a ticket to a match on this node when no public URL is known: the host
/// the client used to reach this node (so a client that came in through `localhost` or a LAN
/// address goes back the same way).
fn realtime_url(state: &AppState, headers: &HeaderMap) -> String {
    let scheme = if state.config.tls == TlsMode::Off {
        "ws"
    } else {
        "wss"
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| state.config.listen.to_string());
    format!("{scheme}://{host}/v1/realtime")
}
