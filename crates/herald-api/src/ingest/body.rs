//! Reading an ingest request body: size limits and gzip, before any parsing.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, HeaderMap};

use crate::error::ApiError;

/// Read the whole body, decompressing gzip, refusing anything over `limit` bytes (compressed
/// or not) without reading further.
pub async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::bad_request("payload_too_large", format!("request body is over the {limit}-byte limit"));
    let raw = axum::body::to_bytes(body, limit).await.map_err(|_| too_large())?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    match encoding.as_str() {
        "" | "identity" => Ok(raw.to_vec()),
        "gzip" | "x-gzip" => {
            let mut out = Vec::with_capacity(raw.len() * 4);
            // Read one byte past the limit to tell "exactly at" from "over" (gzip bombs stop here).
            flate2::read::MultiGzDecoder::new(&raw[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| ApiError::bad_request("invalid_gzip", format!("body is not valid gzip: {e}")))?;
            if out.len() > limit {
                return Err(too_large());
            }
            Ok(out)
        }
        other => Err(ApiError::UnsupportedEncoding(format!(
            "Content-Encoding {other:?} is not supported; send gzip or no encoding"
        ))),
    }
}
