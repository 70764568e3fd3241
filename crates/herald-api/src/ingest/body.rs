//! Reading an ingest request body: size limits and gzip, before any parsing.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, HeaderMap};

use tokio_stream::StreamExt;

use crate::error::ApiError;

/// How much of an oversized body is read and discarded so the client, still sending, gets the
/// error response instead of a reset connection. Past this the connection is simply closed.
const DRAIN_LIMIT: usize = 8 * 1024 * 1024;

/// Read the whole body, decompressing gzip, refusing anything over `limit` bytes (compressed
/// or not).
pub async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::bad_request(
            "payload_too_large",
            format!("request body is over the {limit}-byte limit"),
        )
    };
    let mut raw = Vec::new();
    let mut seen = 0usize;
    let mut frames = body.into_data_stream();
    while let Some(frame) = frames.next().await {
        let chunk = frame.map_err(|e| {
            ApiError::bad_request("invalid_body", format!("could not read the body: {e}"))
        })?;
        seen += chunk.len();
        if seen > DRAIN_LIMIT {
            break;
        }
        if seen <= limit {
            raw.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(too_large());
    }
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    match encoding.as_str() {
        "" | "identity" => Ok(raw),
        "gzip" | "x-gzip" => {
            let mut out = Vec::with_capacity(raw.len() * 4);
            // Read one byte past the limit to tell "exactly at" from "over" (gzip bombs stop here).
            flate2::read::MultiGzDecoder::new(&raw[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| {
                    ApiError::bad_request("invalid_gzip", format!("body is not valid gzip: {e}"))
                })?;
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
