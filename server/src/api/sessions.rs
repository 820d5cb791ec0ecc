//! Sessions: password login, guest login and refresh, each answering a token pair.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::{Credentials, GUEST_PREFIX, new_account_id};
use super::auth::token_error;
use super::error::ErrorBody;
use super::{ApiError, AppState, Json};
use crate::auth::{TokenKind, random_token, verify_password};
use crate::store::{Account, NewAccount, StoreError};

#[derive(Serialize, ToSchema)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub account_id: i64,
    pub token_type: &'static str,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestLogin {
    /// A stable id of the device, 8 to 128 printable ASCII characters.
    pub device_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    pub refresh_token: String,
}

fn session_for(state: &AppState, account: &Account) -> Session {
    let now = state.clock.now_s();
    Session {
        access_token: state
            .tokens
            .issue(account.id, &account.role, TokenKind::Access, now),
        refresh_token: state
            .tokens
            .issue(account.id, &account.role, TokenKind::Refresh, now),
        expires_in: state.tokens.access_ttl_s,
        account_id: account.id,
        token_type: "Bearer",
    }
}

pub(crate) fn refuse_banned(state: &AppState, account: &Account) -> Result<(), ApiError> {
    if account.banned_at(state.clock.now_ms()) {
        let reason = account.ban_reason.as_deref().unwrap_or("no reason given");
        return Err(ApiError::forbidden(
            "banned",
            format!("this account is banned: {reason}"),
        ));
    }
    Ok(())
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "wrong username or password")
}

/// Log in with a username and password.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = Credentials,
    responses((status = 200, body = Session), (status = 401, body = ErrorBody),
        (status = 403, description = "banned", body = ErrorBody), (status = 429, description = "rate limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until an attempt can pass")))))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<Credentials>,
) -> Result<Json<Session>, ApiError> {
    state.limiter.check_credentials(peer.ip(), &body.username)?;
    super::limits::check_shared_username(&state, &body.username).await?;
    let account = state.store.account_by_username(&body.username).await?;
    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
    let password = body.password;
    // Verify against a dummy hash when the account does not exist, so the answer takes as long
    // and does not reveal which usernames exist.
    let valid = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            verify_password(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let account = account.filter(|_| valid).ok_or_else(invalid_credentials)?;
    refuse_banned(&state, &account)?;
    Ok(Json(session_for(&state, &account)))
}

/// A real argon2id hash of a random password, so refusing an unknown user costs a verification.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::auth::hash_password(&random_token(16)));

/// Log in as a guest with a device id; the first login makes the account.
#[utoipa::path(post, path = "/v1/sessions/guest", tag = "sessions", request_body = GuestLogin,
    responses((status = 200, body = Session), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, description = "rate limited", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until an attempt can pass")))))]
pub async fn guest(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(body): Json<GuestLogin>,
) -> Result<Json<Session>, ApiError> {
    state.limiter.check_guest(peer.ip())?;
    let device = body.device_id;
    let ok = (8..=128).contains(&device.len()) && device.bytes().all(|b| b.is_ascii_graphic());
    if !ok {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_device_id",
            "device_id is 8 to 128 printable ASCII characters",
        ));
    }
    let account = match state.store.account_by_device(&device).await? {
        Some(account) => account,
        None => {
            let name = format!("{GUEST_PREFIX}{}", random_token(6).to_lowercase());
            let made = state
                .store
                .create_account(NewAccount {
                    id: new_account_id(),
                    username: &name,
                    password_hash: None,
                    device_id: Some(&device),
                    guest: true,
                    role: "player",
                    created_at: state.clock.now_ms(),
                })
                .await;
            match made {
                Ok(account) => account,
                // Two first logins of one device raced: the other one made the account.
                Err(StoreError::Conflict(_)) => state
                    .store
                    .account_by_device(&device)
                    .await?
                    .ok_or_else(|| {
                        ApiError::conflict("conflict", "guest login raced; try again")
                    })?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    refuse_banned(&state, &account)?;
    Ok(Json(session_for(&state, &account)))
}

/// Trade a refresh token for a new token pair.
#[utoipa::path(post, path = "/v1/sessions/refresh", tag = "sessions", request_body = Refresh,
    responses((status = 200, body = Session), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<Refresh>,
) -> Result<Json<Session>, ApiError> {
    let (account_id, _) = state
        .tokens
        .verify_account(&body.refresh_token, TokenKind::Refresh, state.clock.now_s())
        .map_err(token_error)?;
    let account = state
        .store
        .account_by_id(account_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "the account no longer exists"))?;
    refuse_banned(&state, &account)?;
    Ok(Json(session_for(&state, &account)))
}
