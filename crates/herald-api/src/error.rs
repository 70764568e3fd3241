//! Every error the HTTP API returns, mapped once to a status and a stable code.
//!
//! Bodies are `{"code": "...", "message": "..."}` plus, for a refused batch, `"errors"`: one
//! entry per bad event with its index. Internal details never reach a 5xx body; they are logged.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use herald_storage::StorageError;
use serde::Serialize;
use utoipa::ToSchema;

/// One refused event of a batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventProblem {
    /// Position of the event in the batch (0-based).
    pub index: usize,
    pub code: String,
    pub message: String,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable code, e.g. `missing_event`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<EventProblem>,
    /// For an invalid rule: where the problem is, `{"line", "column", "offset"}` in the text
    /// form or `{"path"}` (a JSON pointer) in the JSON form. For a template:
    /// `{"field", "line", "column"}` (1-based; `field` names the template's part).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub location: Option<serde_json::Value>,
}

/// `Retry-After` of a 507 `storage_full`, in seconds.
pub const STORAGE_FULL_RETRY_AFTER: &str = "30";

#[derive(Debug)]
pub enum ApiError {
    /// 400 with a code.
    BadRequest(&'static str, String),
    /// 400: some events of a batch are invalid; nothing was stored.
    InvalidEvents(Vec<EventProblem>),
    Unauthorized(String),
    /// 401 with a code, challenging for a Bearer token (a browser shows no password dialog
    /// for it, unlike Basic): the admin API and dashboard sessions.
    Unauthenticated(&'static str, String),
    /// 403 with a code: authenticated, but not allowed (a role, a CSRF token, an origin).
    Forbidden(&'static str, String),
    /// 429 `too_many_sign_ins`: too many failed sign-ins for an email; `Retry-After` says
    /// when the next attempt is taken.
    TooManySignIns {
        retry_after_secs: u64,
    },
    NotFound(&'static str, String),
    /// 405 `method_not_allowed`: the route exists, the method does not.
    MethodNotAllowed,
    Conflict(&'static str, String),
    /// 400 `invalid_rule`: an audience rule or computed trait that does not parse.
    InvalidRule(herald_core::audience::RuleError),
    /// 400 with a code and where the problem is (a template's field, line and column).
    Located(&'static str, String, serde_json::Value),
    UnsupportedEncoding(String),
    /// A request the extractors could not read (see `crate::extract`), with its own status.
    Rejected(StatusCode, &'static str, String),
    Overloaded,
    Unavailable(String),
    /// 507 `storage_full`: the disk (or PostgreSQL's, or JetStream's) is full; nothing was
    /// written. Retryable: `Retry-After` says when to try again.
    StorageFull,
    Internal(String),
    /// 500 `internal_panic`: a handler panicked (already logged where it was caught).
    Panicked,
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest(code, message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(..)
            | ApiError::InvalidEvents(_)
            | ApiError::InvalidRule(_)
            | ApiError::Located(..) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) | ApiError::Unauthenticated(..) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(..) => StatusCode::FORBIDDEN,
            ApiError::TooManySignIns { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(..) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(..) => StatusCode::CONFLICT,
            ApiError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Rejected(status, ..) => *status,
            ApiError::Overloaded => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) | ApiError::Panicked => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(code, _)
            | ApiError::Located(code, ..)
            | ApiError::NotFound(code, _)
            | ApiError::Conflict(code, _)
            | ApiError::Rejected(_, code, _)
            | ApiError::Unauthenticated(code, _)
            | ApiError::Forbidden(code, _) => code,
            ApiError::TooManySignIns { .. } => "too_many_sign_ins",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::InvalidEvents(_) => "invalid_events",
            ApiError::InvalidRule(_) => "invalid_rule",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::UnsupportedEncoding(_) => "unsupported_encoding",
            ApiError::Overloaded => "overloaded",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::StorageFull => "storage_full",
            ApiError::Internal(_) => "internal",
            ApiError::Panicked => "internal_panic",
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Busy => ApiError::Unavailable("storage is busy; retry".into()),
            StorageError::Unavailable(what) => ApiError::Unavailable(what),
            StorageError::Conflict(_) => {
                ApiError::Unavailable("a concurrent change won; retry".into())
            }
            // Already logged where it was seen (once per episode, not per request).
            StorageError::Full(_) => ApiError::StorageFull,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    /// The status and JSON body this error is answered with (also what GraphQL puts in an
    /// error's `extensions`).
    pub fn into_body(self) -> (StatusCode, ErrorBody) {
        let status = self.status();
        let code = self.code();
        let mut location = None;
        let (message, errors) = match self {
            ApiError::InvalidRule(e) => {
                location = Some(match &e.location {
                    herald_core::audience::Location::Text {
                        offset,
                        line,
                        column,
                    } => serde_json::json!({"line": line, "column": column, "offset": offset}),
                    herald_core::audience::Location::Json(path) => {
                        serde_json::json!({"path": path})
                    }
                });
                (e.to_string(), vec![])
            }
            ApiError::Located(_, message, at) => {
                location = Some(at);
                (message, vec![])
            }
            ApiError::InvalidEvents(errors) => {
                let message = format!(
                    "{} event(s) of the batch are invalid; nothing was stored (first: event {}: {})",
                    errors.len(),
                    errors[0].index,
                    errors[0].message
                );
                (message, errors)
            }
            ApiError::Internal(detail) => {
                tracing::error!(detail, "internal error");
                ("internal error; see the server log".to_owned(), vec![])
            }
            ApiError::Panicked => (
                "the server failed on this request; see the server log".to_owned(),
                vec![],
            ),
            ApiError::MethodNotAllowed => (
                "this route does not take this method; see the `Allow` header and /docs".to_owned(),
                vec![],
            ),
            ApiError::Overloaded => (
                "ingest is at capacity; retry after the Retry-After delay".to_owned(),
                vec![],
            ),
            ApiError::StorageFull => (
                "the server's storage is full; nothing was stored; retry after the Retry-After delay"
                    .to_owned(),
                vec![],
            ),
            ApiError::TooManySignIns { retry_after_secs } => (
                format!(
                    "too many failed sign-ins for this email; try again in {retry_after_secs} s"
                ),
                vec![],
            ),
            ApiError::BadRequest(_, m)
            | ApiError::Unauthorized(m)
            | ApiError::Unauthenticated(_, m)
            | ApiError::Forbidden(_, m)
            | ApiError::NotFound(_, m)
            | ApiError::Conflict(_, m)
            | ApiError::UnsupportedEncoding(m)
            | ApiError::Rejected(_, _, m)
            | ApiError::Unavailable(m) => (m, vec![]),
        };
        metrics::counter!("herald_http_errors_total", "code" => code).increment(1);
        (
            status,
            ErrorBody {
                code,
                message,
                errors,
                location,
            },
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let sign_in_retry = match &self {
            ApiError::TooManySignIns { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let bearer_challenge = matches!(self, ApiError::Unauthenticated(..));
        let (status, body) = self.into_body();
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Some(secs) = sign_in_retry {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::INSUFFICIENT_STORAGE {
            // Space is freed by an operator, not in a second: clients back off for longer.
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(STORAGE_FULL_RETRY_AFTER),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(if bearer_challenge {
                    "Bearer realm=\"herald\""
                } else {
                    "Basic realm=\"herald\""
                }),
            );
        }
        response
    }
}
