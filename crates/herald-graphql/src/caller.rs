//! Who sends a GraphQL request, and what they may do.

use axum::http::{header, HeaderMap};
use herald_api::error::ApiError;
use herald_api::AppState;
use herald_storage::KeyKind;

/// The authenticated sender of a request (or of a WebSocket's `connection_init`).
#[derive(Debug, Clone)]
pub struct Caller {
    /// Whether mutations are allowed.
    pub can_write: bool,
}

impl Caller {
    /// Refuse a mutation to a caller who may only read.
    pub fn require_write(&self) -> Result<(), ApiError> {
        if self.can_write {
            Ok(())
        } else {
            Err(ApiError::Rejected(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden_role",
                "the viewer role can only read; ask an admin".into(),
            ))
        }
    }
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(value: &str) -> Option<&str> {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}

/// Authenticate a request from its headers, or a WebSocket from the `Authorization` value its
/// `connection_init` payload carries (`authorization` below, which wins over the headers).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    authorization: Option<&str>,
) -> Result<Caller, ApiError> {
    let token = authorization
        .or_else(|| headers.get(header::AUTHORIZATION)?.to_str().ok())
        .and_then(bearer)
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "an admin key is required as `Authorization: Bearer <key>`".into(),
            )
        })?;
    if state
        .keys
        .check(&state.store, KeyKind::Admin, token)
        .await?
    {
        Ok(Caller { can_write: true })
    } else {
        Err(ApiError::Unauthorized(
            "unknown or revoked admin key".into(),
        ))
    }
}
