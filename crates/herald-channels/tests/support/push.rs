//! Stand-ins for push: FCM's OAuth2 token endpoint (which verifies the RS256
//! service-account JWT with the key's public half, computed by OpenSSL) and its HTTP v1
//! `messages:send`; APNs over HTTP/2 (cleartext, prior knowledge), which verifies the ES256
//! provider token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD as BASE64URL};
use base64::Engine;
use herald_channels::push::apns::ApnsConfig;
use herald_channels::push::fcm::FcmConfig;
use herald_channels::push::{PushConfig, PushProvider};
use herald_channels::{Outbound, Provider, Receipt, Secret, SendError};
use herald_messaging::Channel;
use rsa::pkcs8::DecodePublicKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::fixture;
use super::http::serve;

const PROJECT: &str = "herald-test";
pub const CLIENT_EMAIL: &str = "herald@herald-test.iam.gserviceaccount.com";

#[derive(Default)]
pub struct Fcm {
    /// The assertions' claims, in order.
    pub token_requests: Vec<Value>,
    pub issued: Vec<String>,
    pub sends: Vec<(String, Value)>,
}

pub type FcmState = Arc<Mutex<Fcm>>;

/// Splits and checks a JWT's RS256 signature with the public key; returns (header, claims).
fn verify_rs256(jwt: &str) -> Result<(Value, Value), String> {
    let [h, c, s]: [&str; 3] = jwt
        .split('.')
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|_| "not three parts")?;
    let public = BASE64
        .decode(fixture("dkim-test-rsa.pub.b64").trim())
        .unwrap();
    let key = rsa::RsaPublicKey::from_public_key_der(&public).unwrap();
    let digest = Sha256::digest(format!("{h}.{c}").as_bytes());
    let signature = BASE64URL.decode(s).map_err(|e| e.to_string())?;
    key.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest, &signature)
        .map_err(|e| e.to_string())?;
    let decode = |p: &str| serde_json::from_slice::<Value>(&BASE64URL.decode(p).unwrap()).unwrap();
    Ok((decode(h), decode(c)))
}

async fn token(
    State(state): State<FcmState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let ok_type = headers.get("content-type").map(|v| v.as_bytes())
        == Some(b"application/x-www-form-urlencoded");
    if !ok_type
        || form.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    let Ok((header, claims)) =
        verify_rs256(form.get("assertion").map(String::as_str).unwrap_or(""))
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."})),
        )
            .into_response();
    };
    assert_eq!(
        header,
        json!({"alg": "RS256", "typ": "JWT", "kid": "key-1"})
    );
    let mut s = state.lock().unwrap();
    s.token_requests.push(claims);
    let access = format!("ya29.test-{}", s.token_requests.len());
    s.issued.push(access.clone());
    Json(json!({"access_token": access, "expires_in": 3599, "token_type": "Bearer"}))
        .into_response()
}

fn fcm_error(status: StatusCode, grpc: &str, code: &str, message: &str) -> Response {
    let mut details = vec![];
    if !code.is_empty() {
        details.push(json!({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}));
    }
    (status, Json(json!({"error": {"code": status.as_u16(), "message": message, "status": grpc, "details": details}}))).into_response()
}

async fn send_fcm(
    State(state): State<FcmState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(doc): Json<Value>,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut s = state.lock().unwrap();
    let current = s.issued.last().map(|t| format!("Bearer {t}"));
    if project != PROJECT || current.as_deref() != Some(bearer.as_str()) {
        return fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "",
            "Request had invalid authentication credentials.",
        );
    }
    s.sends.push((bearer, doc.clone()));
    match doc["message"]["token"].as_str().unwrap_or("") {
        "gone" => fcm_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "UNREGISTERED",
            "Requested entity was not found.",
        ),
        "other-sender" => fcm_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "SENDER_ID_MISMATCH",
            "SenderId mismatch",
        ),
        "quota" => {
            let mut r = fcm_error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "QUOTA_EXCEEDED",
                "Quota exceeded.",
            );
            r.headers_mut().insert("retry-after", "30".parse().unwrap());
            r
        }
        "malformed" => fcm_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
        ),
        "revoke" => {
            s.issued.push("revoked".into());
            fcm_error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "",
                "Request had invalid authentication credentials.",
            )
        }
        _ => Json(
            json!({"name": format!("projects/{PROJECT}/messages/0:1500415314455276%31bd1c96")}),
        )
        .into_response(),
    }
}

pub async fn fcm_stand_in() -> (String, FcmState) {
    let state: FcmState = Default::default();
    let app = Router::new()
        .route("/token", post(token))
        .route("/v1/projects/{project}/messages:send", post(send_fcm))
        .with_state(state.clone());
    (format!("http://{}", serve(app).await), state)
}

pub fn fcm_config(url: &str) -> FcmConfig {
    let account = json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "key-1",
        "private_key": fixture("dkim-test-rsa.pem"),
        "client_email": CLIENT_EMAIL,
        "token_uri": format!("{url}/token"),
    });
    FcmConfig {
        service_account_json: Secret::new(account.to_string()),
        project_id: None,
        base_url: url.to_owned(),
        token_url: None,
        timeout_seconds: 5,
    }
}

pub fn push(to: &str, platform: Option<&str>) -> Outbound {
    let mut m = super::outbound(
        Channel::Push,
        to,
        &[
            ("title", "Your order shipped"),
            ("body", "Track it in the app"),
        ],
        "push",
    );
    if let Some(p) = platform {
        m.metadata["platform"] = json!(p);
    }
    m
}

pub async fn send(provider: &PushProvider, m: &Outbound) -> Result<Receipt, SendError> {
    tokio::time::timeout(Duration::from_secs(20), provider.send(m))
        .await
        .expect("the send finishes within 20 s")
}

pub fn only_fcm(url: &str) -> PushProvider {
    PushProvider::new(&PushConfig {
        fcm: Some(fcm_config(url)),
        apns: None,
    })
    .unwrap()
}

#[derive(Default)]
pub struct Apns {
    pub requests: Vec<(String, HeaderMap, Value)>,
}

pub type ApnsState = Arc<Mutex<Apns>>;

fn verify_es256(jwt: &str) -> Result<(Value, Value), String> {
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
    let token = jwt.strip_prefix("bearer ").ok_or("not a bearer token")?;
    let [h, c, s]: [&str; 3] = token
        .split('.')
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|_| "not three parts")?;
    let public = BASE64
        .decode(fixture("apns-test-p256.pub.b64").trim())
        .unwrap();
    let signature = BASE64URL.decode(s).map_err(|e| e.to_string())?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public)
        .verify(format!("{h}.{c}").as_bytes(), &signature)
        .map_err(|_| "bad signature".to_owned())?;
    let decode = |p: &str| serde_json::from_slice::<Value>(&BASE64URL.decode(p).unwrap()).unwrap();
    Ok((decode(h), decode(c)))
}

async fn apns_device(
    State(state): State<ApnsState>,
    Path(token): Path<String>,
    version: Version,
    headers: HeaderMap,
    Json(payload): Json<Value>,
) -> Response {
    assert_eq!(version, Version::HTTP_2, "APNs speaks HTTP/2 only");
    state
        .lock()
        .unwrap()
        .requests
        .push((token.clone(), headers.clone(), payload));
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let reason = |status: StatusCode, reason: &str| {
        (status, Json(json!({"reason": reason}))).into_response()
    };
    match verify_es256(auth) {
        Ok((header, claims)) => {
            assert_eq!(header, json!({"alg": "ES256", "kid": "KEY1234567"}));
            assert_eq!(claims["iss"], "TEAM123456");
        }
        Err(_) => return reason(StatusCode::FORBIDDEN, "InvalidProviderToken"),
    }
    if headers.get("apns-topic").map(|v| v.as_bytes()) != Some(b"com.example.shop") {
        return reason(StatusCode::BAD_REQUEST, "TopicDisallowed");
    }
    match token.as_str() {
        "0ff1ce" => (
            StatusCode::GONE,
            Json(json!({"reason": "Unregistered", "timestamp": 1_700_000_000_000u64})),
        )
            .into_response(),
        "dead" => reason(StatusCode::BAD_REQUEST, "BadDeviceToken"),
        "beef" => reason(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests"),
        "feed" => reason(StatusCode::FORBIDDEN, "ExpiredProviderToken"),
        "abad1dea" => reason(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge"),
        _ => {
            let id = headers
                .get("apns-id")
                .cloned()
                .unwrap_or_else(|| "generated".parse().unwrap());
            (StatusCode::OK, [("apns-id", id)]).into_response()
        }
    }
}

pub async fn apns_stand_in() -> (String, ApnsState) {
    let state: ApnsState = Default::default();
    let app = Router::new()
        .route("/3/device/{token}", post(apns_device))
        .with_state(state.clone());
    (format!("http://{}", serve(app).await), state)
}

pub fn apns_config(url: &str) -> ApnsConfig {
    ApnsConfig {
        key_id: "KEY1234567".into(),
        team_id: "TEAM123456".into(),
        private_key: Secret::new(fixture("apns-test-p256.p8")),
        topic: "com.example.shop".into(),
        base_url: url.to_owned(),
        timeout_seconds: 5,
    }
}

pub fn only_apns(url: &str) -> PushProvider {
    PushProvider::new(&PushConfig {
        fcm: None,
        apns: Some(apns_config(url)),
    })
    .unwrap()
}
