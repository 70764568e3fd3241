//! The Twilio provider against a local stand-in of the Messages API that checks Basic auth
//! and the form, and answers as Twilio documents: 201 with the message resource, 400 with an
//! error code, 401, 429, 500.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use herald_channels::sms::{TwilioConfig, TwilioProvider};
use herald_channels::{Outbound, Provider, Receipt, SendError};
use herald_messaging::Channel;
use serde_json::json;
use support::http::{serve, Log, Seen};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-auth-token-0123456789abcdef";
const API_KEY: &str = "SKfedcba9876543210fedcba9876543210";

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message,
                    "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
                    "status": status.as_u16()})),
    )
        .into_response()
}

async fn messages(
    State(log): State<Log>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    log.lock().unwrap().push(Seen {
        path: format!("/2010-04-01/Accounts/{account}/Messages.json"),
        headers: headers.clone(),
        body: body.to_vec(),
    });
    let accepted = [
        format!("Basic {}", BASE64.encode(format!("{ACCOUNT}:{TOKEN}"))),
        format!("Basic {}", BASE64.encode(format!("{API_KEY}:{TOKEN}"))),
    ];
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if account != ACCOUNT || !accepted.iter().any(|a| Some(a.as_str()) == auth) {
        return error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    if headers.get("content-type").map(|v| v.as_bytes())
        != Some(b"application/x-www-form-urlencoded")
    {
        return error(StatusCode::BAD_REQUEST, 21601, "not a form");
    }
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let to = form.get("To").cloned().unwrap_or_default();
    if form.get("Body").is_none_or(|b| b.is_empty()) {
        return error(StatusCode::BAD_REQUEST, 21602, "Message body is required.");
    }
    if form.contains_key("From") == form.contains_key("MessagingServiceSid") {
        return error(
            StatusCode::BAD_REQUEST,
            21603,
            "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
        );
    }
    match to.as_str() {
        "+15005550001" => error(StatusCode::BAD_REQUEST, 21211, "Invalid 'To' Phone Number"),
        "+15005550004" => error(StatusCode::BAD_REQUEST, 21610, "Attempt to send to unsubscribed recipient"),
        "+15005550009" => error(StatusCode::BAD_REQUEST, 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number"),
        "+15005550429" => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "3")], Json(json!({"code": 20429, "message": "Too Many Requests", "status": 429}))).into_response(),
        "+15005550500" => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        _ => (
            StatusCode::CREATED,
            Json(json!({
                "sid": "SM0123456789abcdef0123456789abcdef",
                "account_sid": ACCOUNT,
                "to": to,
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": form.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "error_code": null,
                "error_message": null,
            })),
        )
            .into_response(),
    }
}

async fn stand_in() -> (String, Log) {
    let log: Log = Default::default();
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(messages),
        )
        .with_state(log.clone());
    (format!("http://{}", serve(app).await), log)
}

fn config(base_url: &str) -> TwilioConfig {
    serde_json::from_value(json!({
        "account_sid": ACCOUNT,
        "auth_token": TOKEN,
        "from": "+15005550006",
        "base_url": base_url,
        "timeout_seconds": 5
    }))
    .unwrap()
}

fn sms(to: &str) -> Outbound {
    support::outbound(
        Channel::Sms,
        to,
        &[("body", "Your code is 123456 & it expires soon")],
        "sms",
    )
}

async fn send(provider: &TwilioProvider, m: &Outbound) -> Result<Receipt, SendError> {
    tokio::time::timeout(Duration::from_secs(20), provider.send(m))
        .await
        .expect("the send finishes within 20 s")
}

fn form(seen: &Seen) -> HashMap<String, String> {
    serde_urlencoded::from_bytes(&seen.body).unwrap()
}

#[tokio::test]
async fn a_message_is_created_with_basic_auth_and_a_form() {
    let (url, log) = stand_in().await;
    let mut cfg = config(&url);
    cfg.status_callback = Some("https://herald.example.com/hooks/twilio".into());
    let provider = TwilioProvider::new(&cfg).unwrap();
    let message = sms("+14155550123");
    let receipt = send(&provider, &message).await.unwrap();
    assert_eq!(receipt.provider, "twilio");
    assert_eq!(
        receipt.provider_message_id.as_deref(),
        Some("SM0123456789abcdef0123456789abcdef")
    );
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(
        seen.path,
        format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json")
    );
    let form = form(&seen);
    assert_eq!(form["To"], "+14155550123");
    assert_eq!(form["From"], "+15005550006");
    assert_eq!(form["Body"], "Your code is 123456 & it expires soon");
    // Each message's own callback URL, naming it.
    assert_eq!(
        form["StatusCallback"],
        format!(
            "https://herald.example.com/hooks/twilio?herald_message_id={}",
            message.message_id
        )
    );
    assert!(!form.contains_key("MessagingServiceSid"));
    assert!(!format!("{provider:?}").contains(TOKEN));
}

#[tokio::test]
async fn a_messaging_service_and_an_api_key() {
    let (url, log) = stand_in().await;
    let mut cfg = config(&url);
    cfg.from = None;
    cfg.messaging_service_sid = Some("MG0123456789abcdef0123456789abcdef".into());
    cfg.api_key_sid = Some(API_KEY.into());
    let provider = TwilioProvider::new(&cfg).unwrap();
    send(&provider, &sms("+14155550123")).await.unwrap();
    let seen = log.lock().unwrap()[0].clone();
    let form = form(&seen);
    assert_eq!(
        form["MessagingServiceSid"],
        "MG0123456789abcdef0123456789abcdef"
    );
    assert!(!form.contains_key("From"));
    let auth = seen.headers["authorization"].to_str().unwrap().to_owned();
    assert_eq!(
        auth,
        format!("Basic {}", BASE64.encode(format!("{API_KEY}:{TOKEN}")))
    );
}

#[tokio::test]
async fn errors_map_as_twilio_documents_them() {
    let (url, _) = stand_in().await;
    let provider = TwilioProvider::new(&config(&url)).unwrap();
    let cases: &[(&str, &str, bool)] = &[
        ("+15005550001", "invalid_number", true),
        ("+15005550004", "unsubscribed_recipient", true),
        ("+15005550009", "provider_rejected", false),
        ("+15005550429", "transient", false),
        ("+15005550500", "transient", false),
    ];
    for &(to, code, suppress) in cases {
        let e = send(&provider, &sms(to)).await.unwrap_err();
        assert_eq!((e.code(), e.suppresses()), (code, suppress), "{to}: {e}");
    }
    let e = send(&provider, &sms("+15005550429")).await.unwrap_err();
    assert!(
        matches!(e, SendError::Transient { retry_after: Some(d), .. } if d == Duration::from_secs(3))
    );

    let mut cfg = config(&url);
    cfg.auth_token = herald_channels::Secret::new("not-the-token-0123456789");
    let wrong = TwilioProvider::new(&cfg).unwrap();
    let e = send(&wrong, &sms("+14155550123")).await.unwrap_err();
    assert_eq!(
        (e.code(), e.suppresses()),
        ("provider_auth_failed", false),
        "{e}"
    );

    let mut empty = sms("+14155550123");
    empty.parts.clear();
    assert_eq!(
        send(&provider, &empty).await.unwrap_err().code(),
        "missing_part"
    );
}

#[test]
fn configuration_is_checked() {
    let base = config("https://api.twilio.com");
    let cases: Vec<(TwilioConfig, &str)> = vec![
        (
            TwilioConfig {
                account_sid: "AC123".into(),
                ..base.clone()
            },
            "account_sid",
        ),
        (
            TwilioConfig {
                api_key_sid: Some("AK1".into()),
                ..base.clone()
            },
            "api_key_sid",
        ),
        (
            TwilioConfig {
                from: None,
                ..base.clone()
            },
            "from",
        ),
        (
            TwilioConfig {
                messaging_service_sid: Some("MG0123456789abcdef0123456789abcdef".into()),
                ..base.clone()
            },
            "from",
        ),
        (
            TwilioConfig {
                from: None,
                messaging_service_sid: Some("MG1".into()),
                ..base.clone()
            },
            "messaging_service_sid",
        ),
        (
            TwilioConfig {
                base_url: "api.twilio.com".into(),
                ..base.clone()
            },
            "base_url",
        ),
        (
            TwilioConfig {
                rate_per_second: Some(-1.0),
                ..base.clone()
            },
            "rate_per_second",
        ),
    ];
    for (cfg, field) in cases {
        let err = TwilioProvider::new(&cfg).unwrap_err();
        assert_eq!((err.provider, err.field), ("twilio", field), "{err}");
    }
    let shown = serde_json::to_string(&base).unwrap();
    assert!(
        !shown.contains(TOKEN) && shown.contains("****cdef"),
        "{shown}"
    );
}

#[tokio::test]
async fn status_callbacks_with_an_api_key_need_the_accounts_auth_token() {
    let (url, _log) = stand_in().await;
    let mut cfg = config(&url);
    cfg.api_key_sid = Some(API_KEY.into());
    cfg.status_callback = Some("https://herald.example.com/webhooks/twilio".into());
    let e = TwilioProvider::new(&cfg).unwrap_err();
    assert_eq!((e.provider, e.field), ("twilio", "webhook_auth_token"));
    cfg.webhook_auth_token = Some(herald_channels::Secret::new("the-account-auth-token"));
    TwilioProvider::new(&cfg).unwrap();
    let callbacks = cfg.callbacks().unwrap();
    assert_eq!(callbacks.token.expose(), "the-account-auth-token");
    cfg.status_callback = Some("ftp://herald.example.com/".into());
    let e = TwilioProvider::new(&cfg).unwrap_err();
    assert_eq!(e.field, "status_callback");
}
