//! The `Authorization: Bearer` extractor.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{ApiError, AppState};
use crate::auth::{TokenError, TokenKind};

/// The account a request acts for, from a valid access token. No database read: any API node can
/// check it with the shared signing key.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: i64,
    pub role: String,
}

/// The bearer token of a request, if it has one.
pub(crate) fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized("missing_token", "send Authorization: Bearer <token>")
        })?;
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("invalid_token", "Authorization must be: Bearer <token>")
        })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let (account_id, claims) = state
            .tokens
            .verify_account(token, TokenKind::Access, state.clock.now_s())
            .map_err(token_error)?;
        Ok(Caller {
            account_id,
            role: claims.role,
        })
    }
}

pub(crate) fn token_error(err: TokenError) -> ApiError {
    match err {
        TokenError::Expired => {
            ApiError::unauthorized("token_expired", "the token has expired; refresh it")
        }
        TokenError::Invalid => ApiError::unauthorized("invalid_token", "the token is not valid"),
        TokenError::WrongKind => {
            ApiError::unauthorized("wrong_token_kind", "this kind of token cannot be used here")
        }
    }
}
