//! Write-key authentication, the three ways Segment SDKs send it.

use axum::http::{header, HeaderMap};
use base64::Engine;

use crate::error::ApiError;

/// The write key from the `Authorization` header: HTTP Basic with the key as user name (with or
/// without the trailing colon), or a Bearer token. `Ok(None)` when there is no such header.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("Authorization header is not valid text".into()))?;
    let (scheme, credentials) = value.trim().split_once(' ').unwrap_or((value, ""));
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                ApiError::Unauthorized("Basic credentials are not valid base64".into())
            })?;
        let user = decoded.split_once(':').map_or(decoded.as_str(), |(u, _)| u);
        Ok(Some(user.to_owned()).filter(|u| !u.is_empty()))
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Ok(Some(credentials.to_owned()).filter(|c| !c.is_empty()))
    } else {
        Err(ApiError::Unauthorized(format!(
            "unsupported Authorization scheme {scheme:?}; use Basic or Bearer"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn reads_basic_with_and_without_colon_and_bearer() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            from_headers(&headers(&format!("Basic {}", b64("key1:")))).unwrap(),
            Some("key1".into())
        );
        assert_eq!(
            from_headers(&headers(&format!("Basic {}", b64("key1")))).unwrap(),
            Some("key1".into())
        );
        assert_eq!(
            from_headers(&headers("Bearer key2")).unwrap(),
            Some("key2".into())
        );
        assert_eq!(from_headers(&HeaderMap::new()).unwrap(), None);
        assert!(from_headers(&headers("Basic !!!")).is_err());
        assert!(from_headers(&headers("Digest x")).is_err());
    }
}
