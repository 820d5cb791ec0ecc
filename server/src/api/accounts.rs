//! Accounts: register, who am I, and upgrading a guest to a full account.

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::{ApiError, AppState, Caller, Json};
use crate::auth::hash_password;
use crate::clock::rfc3339;
use crate::store::{Account, NewAccount};

/// Names reserved for generated guest names.
pub(crate) const GUEST_PREFIX: &str = "guest_";

/// A username that passed validation: 3–24 ASCII letters, digits, `_`, `-` or `.`, starting
/// with a letter or digit, and not in the guest namespace.
pub(crate) struct Username(String);

impl Username {
    pub(crate) fn parse(raw: &str) -> Result<Username, ApiError> {
        let ok_len = (3..=24).contains(&raw.chars().count());
        let ok_chars = raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        let ok_start = raw
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if !(ok_len && ok_chars && ok_start) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_username",
                "a username is 3 to 24 letters, digits, '_', '-' or '.', starting with a letter or digit",
            ));
        }
        if raw.to_ascii_lowercase().starts_with(GUEST_PREFIX) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_username",
                "usernames starting with 'guest_' are reserved",
            ));
        }
        Ok(Username(raw.to_string()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A unique-key conflict on an account write means the name is taken.
fn username_taken(e: crate::store::StoreError) -> ApiError {
    match e {
        crate::store::StoreError::Conflict(_) => {
            ApiError::conflict("username_taken", "that username is taken")
        }
        other => other.into(),
    }
}

pub(crate) fn check_password(password: &str) -> Result<(), ApiError> {
    if (8..=128).contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_password",
            "a password is 8 to 128 characters",
        ))
    }
}

/// A fresh account id: random, positive and below 2^53 so JavaScript clients keep it exact.
pub(crate) fn new_account_id() -> i64 {
    use rand::Rng;
    rand::rng().random_range(1..(1i64 << 53))
}

/// Hashes off the async runtime: argon2 takes tens of milliseconds on purpose.
pub(crate) async fn hash_off_runtime(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    pub account_id: i64,
    pub username: String,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub account_id: i64,
    pub username: String,
    pub guest: bool,
    /// RFC 3339.
    pub created_at: String,
    pub role: String,
}

impl From<Account> for Me {
    fn from(a: Account) -> Me {
        Me {
            account_id: a.id,
            username: a.username,
            guest: a.guest,
            created_at: rfc3339(a.created_at),
            role: a.role,
        }
    }
}

/// Register an account with a username and password.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = Credentials,
    responses(
        (status = 201, body = Registered),
        (status = 409, description = "username taken (in any case)", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, description = "rate limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until an attempt can pass")))))]
pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<Credentials>,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    state.limiter.check_credentials(peer.ip(), &body.username)?;
    super::limits::check_shared_username(&state, &body.username).await?;
    let username = Username::parse(&body.username)?;
    check_password(&body.password)?;
    if state
        .store
        .account_by_username(username.as_str())
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(
            "username_taken",
            "that username is taken",
        ));
    }
    let hash = hash_off_runtime(body.password).await?;
    let account = state
        .store
        .create_account(NewAccount {
            id: new_account_id(),
            username: username.as_str(),
            password_hash: Some(&hash),
            device_id: None,
            guest: false,
            role: "player",
            created_at: state.clock.now_ms(),
        })
        .await
        .map_err(username_taken)?;
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            account_id: account.id,
            username: account.username,
        }),
    ))
}

/// The caller's account.
#[utoipa::path(get, path = "/v1/accounts/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let account = state
        .store
        .account_by_id(caller.account_id)
        .await?
        .ok_or_else(|| ApiError::not_found("account_not_found", "this account no longer exists"))?;
    Ok(Json(account.into()))
}

/// Give a guest account a username and password (it keeps its id, scores and history).
#[utoipa::path(put, path = "/v1/accounts/me", tag = "accounts", security(("bearer" = [])),
    request_body = Credentials,
    responses((status = 200, body = Me), (status = 401, body = ErrorBody),
        (status = 409, description = "not a guest, or username taken", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Credentials>,
) -> Result<Json<Me>, ApiError> {
    let username = Username::parse(&body.username)?;
    check_password(&body.password)?;
    let hash = hash_off_runtime(body.password).await?;
    let upgraded = state
        .store
        .upgrade_guest(caller.account_id, username.as_str(), &hash)
        .await
        .map_err(username_taken)?;
    let account = upgraded
        .ok_or_else(|| ApiError::conflict("not_a_guest", "only guest accounts can be upgraded"))?;
    Ok(Json(account.into()))
}
