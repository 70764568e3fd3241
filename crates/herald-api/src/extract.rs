//! The extractors handlers use instead of axum's: the same `Json`, `Query` and `Path`, but a
//! request they cannot read is answered with the JSON error body and a stable code (axum's
//! own rejections are plain text).
//!
//! | rejection | status | `code` |
//! |---|---|---|
//! | body is not JSON | 400 | `invalid_json` |
//! | JSON of the wrong shape (a missing or mistyped field) | 422 | `unprocessable_body` |
//! | no `Content-Type: application/json` | 415 | `unsupported_media_type` |
//! | body over the size limit | 413 | `payload_too_large` |
//! | body could not be read | 400 | `invalid_body` |
//! | query string of the wrong shape | 400 | `invalid_query` |
//! | path segment that does not decode | 400 | `invalid_path` |

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

/// A JSON request body, or a JSON response.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(value)| Json(value))
            .map_err(ApiError::from)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Query string parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(ApiError::from)
    }
}

/// Path parameters.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(ApiError::from)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let message = rejection.body_text();
        match rejection {
            JsonRejection::JsonSyntaxError(_) => ApiError::BadRequest("invalid_json", message),
            JsonRejection::JsonDataError(_) => ApiError::Rejected(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable_body",
                message,
            ),
            JsonRejection::MissingJsonContentType(_) => ApiError::Rejected(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON, sent with `Content-Type: application/json`".into(),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::Rejected(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
            }
            _ => ApiError::BadRequest("invalid_body", message),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest("invalid_query", rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        match rejection {
            PathRejection::FailedToDeserializePathParams(e) => {
                ApiError::BadRequest("invalid_path", e.body_text())
            }
            // A handler that asks for path parameters its route does not have: a bug.
            other => ApiError::Internal(other.body_text()),
        }
    }
}

/// A whole number written as JSON, `4` or `4.0` alike (JSON Schema's `integer`); one beyond
/// 2^64 is read as the largest `u64`.
pub(crate) fn whole_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<u64>, D::Error> {
    let Some(n) = <Option<serde_json::Number> as serde::Deserialize>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(u) = n.as_u64() {
        return Ok(Some(u));
    }
    match n.as_f64() {
        Some(f) if f >= 0.0 && f.fract() == 0.0 => Ok(Some(f as u64)),
        _ => Err(serde::de::Error::custom(format!(
            "{n} is not a whole number of at least 0"
        ))),
    }
}

/// [`whole_number`] as a `u32`: one beyond 2^32 is read as the largest `u32` (range checks
/// then refuse it with their own code).
pub(crate) fn whole_u32<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(whole_number(d)?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, Method};
    use axum::routing::{get, post};
    use axum::Router;
    use serde::Deserialize;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Input {
        name: String,
        limit: Option<u32>,
    }

    fn app() -> Router {
        Router::new()
            .route(
                "/json",
                post(|Json(_): Json<Input>| async { StatusCode::NO_CONTENT }),
            )
            .route(
                "/query",
                get(|Query(_): Query<Input>| async { StatusCode::NO_CONTENT }),
            )
            .route(
                "/path/{n}",
                get(|Path(_): Path<u32>| async { StatusCode::NO_CONTENT }),
            )
    }

    async fn call(method: Method, uri: &str, body: Option<&str>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
            .unwrap();
        let response = app().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("a JSON body")
        };
        (status, body)
    }

    #[tokio::test]
    async fn rejections_are_json_errors_with_codes() {
        let cases = [
            (Method::POST, "/json", Some("{"), 400, "invalid_json"),
            (Method::POST, "/json", Some("{}"), 422, "unprocessable_body"),
            (
                Method::POST,
                "/json",
                Some(r#"{"name": 1}"#),
                422,
                "unprocessable_body",
            ),
            (Method::POST, "/json", None, 415, "unsupported_media_type"),
            (
                Method::GET,
                "/query?limit=x&name=a",
                None,
                400,
                "invalid_query",
            ),
            (Method::GET, "/query", None, 400, "invalid_query"),
            (Method::GET, "/path/abc", None, 400, "invalid_path"),
        ];
        for (method, uri, body, status, code) in cases {
            let (got, json) = call(method.clone(), uri, body).await;
            assert_eq!(got.as_u16(), status, "{method} {uri} {body:?}: {json}");
            assert_eq!(json["code"], code, "{method} {uri} {body:?}");
            assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        let (ok, _) = call(Method::POST, "/json", Some(r#"{"name": "a"}"#)).await;
        assert_eq!(ok, StatusCode::NO_CONTENT);
    }
}
