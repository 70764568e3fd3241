//! The Postmark provider against a local stand-in of `POST /email` that checks the token and
//! the JSON document, and answers as Postmark's API documents: 200 with `ErrorCode` 0, 422
//! with an API error code, 401, 429, 503.

mod support;

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use herald_channels::email::postmark::{PostmarkConfig, PostmarkProvider};
use herald_channels::{Outbound, Provider, Receipt, Secret, SendError};
use herald_messaging::Channel;
use serde_json::{json, Value};
use support::http::{serve, Log, Seen};

const TOKEN: &str = "postmark-server-token-0123456789";

async fn email(State(log): State<Log>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    log.lock().unwrap().push(Seen {
        path: "/email".into(),
        headers: headers.clone(),
        body: body.to_vec(),
    });
    if headers
        .get("x-postmark-server-token")
        .and_then(|v| v.to_str().ok())
        != Some(TOKEN)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"ErrorCode": 10, "Message": "No Account or Server API tokens were supplied in the HTTP headers."})),
        )
            .into_response();
    }
    let json_headers = headers.get("content-type").map(|v| v.as_bytes())
        == Some(b"application/json")
        && headers.get("accept").map(|v| v.as_bytes()) == Some(b"application/json");
    let Ok(doc) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"ErrorCode": 402, "Message": "Received invalid JSON input."})),
        )
            .into_response();
    };
    let has = |f: &str| {
        doc.get(f)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    if !json_headers
        || !has("From")
        || !has("To")
        || !has("Subject")
        || !has("MessageStream")
        || !(has("HtmlBody") || has("TextBody"))
    {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"ErrorCode": 300, "Message": "Invalid email request"})),
        )
            .into_response();
    }
    let to = doc["To"].as_str().unwrap_or_default().to_owned();
    match to.split('@').next().unwrap_or_default() {
        "inactive" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"ErrorCode": 406, "Message": format!("You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: {to}. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.")})),
        )
            .into_response(),
        "busy" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "7")],
            Json(json!({"ErrorCode": 429, "Message": "Rate limit exceeded."})),
        )
            .into_response(),
        "down" => (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response(),
        "unconfirmed" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"ErrorCode": 400, "Message": "The 'From' address you supplied is not a Sender Signature on your account."})),
        )
            .into_response(),
        _ => Json(json!({
            "To": to,
            "SubmittedAt": "2026-12-04T10:00:00.0000000-05:00",
            "MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817",
            "ErrorCode": 0,
            "Message": "OK"
        }))
        .into_response(),
    }
}

async fn stand_in() -> (String, Log) {
    let log: Log = Default::default();
    let addr = serve(
        Router::new()
            .route("/email", post(email))
            .with_state(log.clone()),
    )
    .await;
    (format!("http://{addr}"), log)
}

fn config(base_url: &str) -> PostmarkConfig {
    serde_json::from_value(json!({
        "server_token": TOKEN,
        "from": "Herald Shop <shop@example.com>",
        "base_url": base_url,
        "timeout_seconds": 5
    }))
    .unwrap()
}

fn message(to: &str) -> Outbound {
    support::outbound(
        Channel::Email,
        to,
        &[
            ("subject", "Hello"),
            ("body", "<p>Hi <b>Ana</b></p>"),
            ("preheader", "Psst"),
        ],
        "postmark",
    )
}

async fn send(provider: &PostmarkProvider, m: &Outbound) -> Result<Receipt, SendError> {
    tokio::time::timeout(Duration::from_secs(20), provider.send(m))
        .await
        .expect("the send finishes within 20 s")
}

#[tokio::test]
async fn a_message_is_sent_as_postmark_documents_it() {
    let (url, log) = stand_in().await;
    let provider = PostmarkProvider::new(&config(&url)).unwrap();
    let m = message("ana@example.org");
    let receipt = send(&provider, &m).await.unwrap();
    assert_eq!(receipt.provider, "postmark");
    assert_eq!(
        receipt.provider_message_id.as_deref(),
        Some("b7bc2f4a-e38e-4336-af7d-e6c392c2f817")
    );
    let seen = log.lock().unwrap()[0].clone();
    let doc: Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(doc["From"], "Herald Shop <shop@example.com>");
    assert_eq!(doc["To"], "ana@example.org");
    assert_eq!(doc["Subject"], "Hello");
    assert_eq!(doc["MessageStream"], "outbound");
    let html = doc["HtmlBody"].as_str().unwrap();
    assert!(
        html.starts_with("<div style=\"display:none;") && html.ends_with("<p>Hi <b>Ana</b></p>"),
        "{html}"
    );
    assert!(doc["TextBody"].as_str().unwrap().contains("Hi Ana"));
    assert_eq!(
        doc["Headers"],
        json!([{"Name": "X-Herald-Message-ID", "Value": m.message_id.to_string()}])
    );
    assert_eq!(
        doc["Metadata"],
        json!({"herald_message_id": m.message_id.to_string(), "profile_id": "p-42",
               "template_id": "welcome", "template_version": "3"})
    );
    assert!(doc.get("ReplyTo").is_none());
}

#[tokio::test]
async fn marketing_goes_to_the_broadcast_stream_with_rfc_8058_headers() {
    let (url, log) = stand_in().await;
    let mut cfg = config(&url);
    cfg.list_unsubscribe_mailto = Some("unsub@example.com".into());
    cfg.reply_to = Some("help@example.com".into());
    let provider = PostmarkProvider::new(&cfg).unwrap();
    let mut m = message("ana@example.org");
    m.marketing = true;
    m.unsubscribe_url = Some("https://herald.example.com/u/tok".into());
    send(&provider, &m).await.unwrap();
    let doc: Value = serde_json::from_slice(&log.lock().unwrap()[0].body).unwrap();
    assert_eq!(doc["MessageStream"], "broadcast");
    assert_eq!(doc["ReplyTo"], "help@example.com");
    let headers = doc["Headers"].as_array().unwrap();
    let value = |name: &str| {
        headers
            .iter()
            .find(|h| h["Name"] == name)
            .map(|h| h["Value"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        value("List-Unsubscribe"),
        Some(format!(
            "<https://herald.example.com/u/tok>, <mailto:unsub@example.com?subject=unsubscribe%20{}>",
            m.message_id
        ))
    );
    assert_eq!(
        value("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
}

#[tokio::test]
async fn errors_map_as_postmark_documents_them() {
    let (url, log) = stand_in().await;
    let provider = PostmarkProvider::new(&config(&url)).unwrap();

    let e = send(&provider, &message("inactive@example.org"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.suppresses()),
        ("inactive_recipient", true),
        "{e}"
    );

    let e = send(&provider, &message("busy@example.org"))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        SendError::Transient {
            message: "Postmark answered 429 Too Many Requests: {\"ErrorCode\":429,\"Message\":\"Rate limit exceeded.\"}".into(),
            retry_after: Some(Duration::from_secs(7)),
        }
    );

    let e = send(&provider, &message("down@example.org"))
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");

    let e = send(&provider, &message("unconfirmed@example.org"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.suppresses()),
        ("provider_rejected", false),
        "{e}"
    );
    assert!(e.to_string().contains("Sender Signature"), "{e}");

    let mut cfg = config(&url);
    cfg.server_token = Secret::new("a-wrong-token-0123456789");
    let wrong = PostmarkProvider::new(&cfg).unwrap();
    let e = send(&wrong, &message("ana@example.org")).await.unwrap_err();
    assert_eq!(e.code(), "provider_auth_failed", "{e}");
    assert!(!format!("{wrong:?}").contains("wrong-token"));
    assert_eq!(log.lock().unwrap().len(), 5);

    // Nothing is sent for a message that cannot be built.
    let mut m = message("ana@example.org");
    m.parts.remove("subject");
    assert_eq!(
        send(&provider, &m).await.unwrap_err().code(),
        "missing_part"
    );
    assert_eq!(log.lock().unwrap().len(), 5);
}

#[tokio::test]
async fn no_answer_is_transient() {
    // A stand-in that accepts the request and never answers: the timeout ends the wait.
    let app = Router::new().route("/email", post(std::future::pending::<&'static str>));
    let addr = serve(app).await;
    let mut cfg = config(&format!("http://{addr}"));
    cfg.timeout_seconds = 1;
    let provider = PostmarkProvider::new(&cfg).unwrap();
    let e = send(&provider, &message("ana@example.org"))
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert!(e.to_string().contains("no answer"), "{e}");
}
