//! Webhooks against a local receiver that verifies the signature the way docs/messaging.md
//! tells receivers to; the SSRF guard (loopback refused unless allowed, by address and by
//! name), redirects not followed, statuses mapped.

mod support;

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use herald_channels::webhook::{WebhookConfig, WebhookProvider};
use herald_channels::{Outbound, Provider, Receipt, SendError};
use herald_messaging::token::{verify_webhook, Key};
use herald_messaging::Channel;
use serde_json::{json, Value};
use support::http::{serve, Log, Seen};

const SECRET: &str = "webhook-secret-0123456789";

/// Records the request, and answers with the status named by the path.
async fn receive(
    State(log): State<Log>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    log.lock().unwrap().push(Seen {
        path: uri.path().to_owned(),
        headers,
        body: body.to_vec(),
    });
    let status: u16 = uri
        .path()
        .trim_start_matches("/status/")
        .parse()
        .unwrap_or(204);
    let status = StatusCode::from_u16(status).unwrap();
    match status.as_u16() {
        302 => (status, [("location", "http://127.0.0.1:9/internal")]).into_response(),
        429 => (status, [("retry-after", "11")]).into_response(),
        _ => (status, "answer").into_response(),
    }
}

async fn receiver() -> (std::net::SocketAddr, Log) {
    let log: Log = Default::default();
    let app = Router::new()
        .route("/hook", post(receive))
        .route("/status/{code}", post(receive))
        .with_state(log.clone());
    (serve(app).await, log)
}

fn config(url: String, allow: &[&str]) -> WebhookConfig {
    serde_json::from_value(json!({
        "url": url,
        "secret": SECRET,
        "allow_networks": allow,
        "timeout_seconds": 5
    }))
    .unwrap()
}

fn hook(body: &str) -> Outbound {
    support::outbound(Channel::Webhook, "", &[("body", body)], "webhook")
}

async fn send(provider: &WebhookProvider, m: &Outbound) -> Result<Receipt, SendError> {
    tokio::time::timeout(Duration::from_secs(20), provider.send(m))
        .await
        .expect("the send finishes within 20 s")
}

#[tokio::test]
async fn a_signed_request_with_the_message_id_as_idempotency_key() {
    let (addr, log) = receiver().await;
    let provider =
        WebhookProvider::new(&config(format!("http://{addr}/hook"), &["127.0.0.0/8"])).unwrap();
    let body = r#"{"event":"order_shipped","name":"Ana"}"#;
    let m = hook(body);
    let receipt = send(&provider, &m).await.unwrap();
    assert_eq!(receipt.provider, "webhook");

    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(seen.body, body.as_bytes());
    assert_eq!(seen.headers["content-type"], "application/json");
    assert_eq!(
        seen.headers["idempotency-key"],
        m.message_id.to_string().as_str()
    );
    // The receiver checks the signature as documented: HMAC-SHA256 of "t.body".
    let signature = seen.headers["herald-signature"].to_str().unwrap();
    let key = Key::new(SECRET.as_bytes()).unwrap();
    verify_webhook(
        &key,
        signature,
        &seen.body,
        chrono::Utc::now(),
        chrono::Duration::minutes(5),
    )
    .unwrap_or_else(|e| panic!("{}: {signature}", e.code()));
    // Signed with another secret, or over another body, it does not verify.
    let other = Key::new(b"another-secret-0123456789".to_vec()).unwrap();
    assert!(verify_webhook(
        &other,
        signature,
        &seen.body,
        chrono::Utc::now(),
        chrono::Duration::minutes(5)
    )
    .is_err());
    assert!(verify_webhook(
        &key,
        signature,
        b"{}",
        chrono::Utc::now(),
        chrono::Duration::minutes(5)
    )
    .is_err());
}

#[tokio::test]
async fn without_a_body_the_envelope_is_sent() {
    let (addr, log) = receiver().await;
    let provider =
        WebhookProvider::new(&config(format!("http://{addr}/hook"), &["127.0.0.0/8"])).unwrap();
    let m = support::outbound(Channel::Webhook, "", &[("title", "Hi")], "envelope");
    send(&provider, &m).await.unwrap();
    let seen = log.lock().unwrap()[0].clone();
    let doc: Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(
        doc,
        json!({"message_id": m.message_id.to_string(), "metadata": m.metadata, "parts": {"title": "Hi"}})
    );
}

#[tokio::test]
async fn loopback_is_refused_unless_allowed() {
    let (addr, log) = receiver().await;
    for url in [
        format!("http://{addr}/hook"),
        format!("http://[::ffff:127.0.0.1]:{}/hook", addr.port()),
        format!("http://localhost:{}/hook", addr.port()),
    ] {
        let provider = WebhookProvider::new(&config(url.clone(), &[])).unwrap();
        let e = send(&provider, &hook("{}")).await.unwrap_err();
        assert_eq!(
            (e.code(), e.suppresses()),
            ("destination_forbidden", false),
            "{url}: {e}"
        );
        assert!(e.to_string().contains("loopback"), "{e}");
    }
    // Allowing another network does not open loopback.
    let provider =
        WebhookProvider::new(&config(format!("http://{addr}/hook"), &["10.0.0.0/8"])).unwrap();
    assert_eq!(
        send(&provider, &hook("{}")).await.unwrap_err().code(),
        "destination_forbidden"
    );
    assert!(
        log.lock().unwrap().is_empty(),
        "nothing reached the receiver"
    );

    // By name: localhost is allowed once every address it resolves to is.
    let provider = WebhookProvider::new(&config(
        format!("http://localhost:{}/hook", addr.port()),
        &["127.0.0.0/8", "::1/128"],
    ))
    .unwrap();
    match send(&provider, &hook("{}")).await {
        Ok(_) => assert_eq!(log.lock().unwrap().len(), 1),
        // Where localhost also resolves to ::1 and the receiver listens on IPv4 only, the
        // connection to ::1 may be refused; the guard let it through, which is the point.
        Err(e) => assert!(e.is_transient(), "{e}"),
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (addr, log) = receiver().await;
    let provider = WebhookProvider::new(&config(
        format!("http://{addr}/status/302"),
        &["127.0.0.0/8"],
    ))
    .unwrap();
    let e = send(&provider, &hook("{}")).await.unwrap_err();
    assert_eq!(e.code(), "webhook_redirected", "{e}");
    assert!(e.to_string().contains("http://127.0.0.1:9/internal"), "{e}");
    assert_eq!(
        log.lock().unwrap().len(),
        1,
        "only the first request was made"
    );
}

#[tokio::test]
async fn statuses() {
    let (addr, _) = receiver().await;
    for (status, expected) in [
        (200, "ok"),
        (202, "ok"),
        (400, "webhook_rejected"),
        (404, "webhook_rejected"),
        (410, "webhook_rejected"),
        (408, "transient"),
        (429, "transient"),
        (500, "transient"),
        (503, "transient"),
    ] {
        let provider = WebhookProvider::new(&config(
            format!("http://{addr}/status/{status}"),
            &["127.0.0.0/8"],
        ))
        .unwrap();
        let got = match send(&provider, &hook("{}")).await {
            Ok(_) => "ok",
            Err(e) => {
                assert!(!e.suppresses());
                e.code()
            }
        };
        assert_eq!(got, expected, "{status}");
    }
    let provider = WebhookProvider::new(&config(
        format!("http://{addr}/status/429"),
        &["127.0.0.0/8"],
    ))
    .unwrap();
    let e = send(&provider, &hook("{}")).await.unwrap_err();
    assert!(
        matches!(e, SendError::Transient { retry_after: Some(d), .. } if d == Duration::from_secs(11)),
        "{e:?}"
    );
}

#[tokio::test]
async fn no_answer_is_transient() {
    let app = Router::new().route("/hook", post(std::future::pending::<&'static str>));
    let addr = serve(app).await;
    let mut cfg = config(format!("http://{addr}/hook"), &["127.0.0.0/8"]);
    cfg.timeout_seconds = 1;
    let provider = WebhookProvider::new(&cfg).unwrap();
    let e = send(&provider, &hook("{}")).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
}

#[test]
fn configuration_is_checked() {
    let base = config("https://hooks.example.com/herald".into(), &[]);
    let cases: Vec<(WebhookConfig, &str)> = vec![
        (
            WebhookConfig {
                url: "file:///etc/passwd".into(),
                ..base.clone()
            },
            "url",
        ),
        (
            WebhookConfig {
                url: "hooks.example.com".into(),
                ..base.clone()
            },
            "url",
        ),
        (
            WebhookConfig {
                secret: herald_channels::Secret::new("short"),
                ..base.clone()
            },
            "secret",
        ),
        (
            WebhookConfig {
                content_type: "a\nb".into(),
                ..base.clone()
            },
            "content_type",
        ),
    ];
    for (cfg, field) in cases {
        let err = WebhookProvider::new(&cfg).unwrap_err();
        assert_eq!((err.provider, err.field), ("webhook", field), "{err}");
    }
    assert!(serde_json::from_value::<WebhookConfig>(json!({
        "url": "https://h.example.com", "secret": SECRET, "allow_networks": ["not a network"]
    }))
    .is_err());
    assert!(!serde_json::to_string(&base).unwrap().contains(SECRET));
}
