//! Push against local stand-ins (tests/support/push.rs): FCM HTTP v1 with its OAuth2 token,
//! APNs over HTTP/2 with its provider token, and the routing of tokens by platform.

mod support;

use std::time::Duration;

use herald_channels::push::apns::ApnsConfig;
use herald_channels::push::{PushConfig, PushProvider};
use herald_channels::{Secret, SendError};
use serde_json::{json, Value};
use support::push::*;

#[tokio::test]
async fn fcm_sends_with_an_oauth2_token_it_reuses() {
    let (url, state) = fcm_stand_in().await;
    let provider = only_fcm(&url);
    let m = push("fcm-token-1", Some("android"));
    let receipt = send(&provider, &m).await.unwrap();
    assert_eq!(receipt.provider, "fcm");
    assert_eq!(
        receipt.provider_message_id.as_deref(),
        Some("projects/herald-test/messages/0:1500415314455276%31bd1c96")
    );
    send(&provider, &push("fcm-token-2", Some("web")))
        .await
        .unwrap();

    let s = state.lock().unwrap();
    assert_eq!(s.token_requests.len(), 1, "the access token is reused");
    let claims = &s.token_requests[0];
    assert_eq!(claims["iss"], CLIENT_EMAIL);
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/firebase.messaging"
    );
    assert_eq!(claims["aud"], format!("{url}/token"));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(
        s.sends[0].1,
        json!({"message": {
            "token": "fcm-token-1",
            "notification": {"title": "Your order shipped", "body": "Track it in the app"},
            "data": {"herald_message_id": m.message_id.to_string()}
        }})
    );
    assert_eq!(s.sends[0].0, "Bearer ya29.test-1");
}

#[tokio::test]
async fn fcm_errors() {
    let (url, state) = fcm_stand_in().await;
    let provider = only_fcm(&url);
    for (to, code, suppress) in [
        ("gone", "unregistered_token", true),
        ("other-sender", "unregistered_token", true),
        ("malformed", "provider_rejected", false),
        ("quota", "transient", false),
    ] {
        let e = send(&provider, &push(to, None)).await.unwrap_err();
        assert_eq!((e.code(), e.suppresses()), (code, suppress), "{to}: {e}");
    }
    let e = send(&provider, &push("quota", None)).await.unwrap_err();
    assert!(
        matches!(e, SendError::Transient { retry_after: Some(d), .. } if d == Duration::from_secs(30))
    );

    // A refused access token is transient, and the next attempt gets a new one.
    let e = send(&provider, &push("revoke", None)).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    send(&provider, &push("fcm-token-3", None)).await.unwrap();
    let s = state.lock().unwrap();
    assert_eq!(s.token_requests.len(), 2);
    assert_eq!(s.sends.last().unwrap().0, "Bearer ya29.test-2");
}

#[tokio::test]
async fn a_refused_service_account_is_permanent() {
    let (url, _) = fcm_stand_in().await;
    let mut config = fcm_config(&url);
    // Another key than the one whose public half the token endpoint knows.
    let account: Value = serde_json::from_str(config.service_account_json.expose()).unwrap();
    let mut other = account.clone();
    other["private_key"] = json!(OTHER_RSA_KEY);
    config.service_account_json = Secret::new(other.to_string());
    let provider = PushProvider::new(&PushConfig {
        fcm: Some(config),
        apns: None,
    })
    .unwrap();
    let e = send(&provider, &push("fcm-token-1", None))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), e.suppresses()),
        ("provider_auth_failed", false),
        "{e}"
    );
}

/// A second test-only key (PKCS#1), so that a signature the stand-in cannot verify is made.
const OTHER_RSA_KEY: &str = include_str!("fixtures/other-test-rsa.pem");

#[tokio::test]
async fn apns_sends_over_http2_with_a_provider_token() {
    let (url, state) = apns_stand_in().await;
    let provider = only_apns(&url);
    let m = push("a1b2c3d4", Some("ios"));
    let receipt = send(&provider, &m).await.unwrap();
    assert_eq!(receipt.provider, "apns");
    assert_eq!(receipt.provider_message_id, Some(m.message_id.to_string()));
    send(&provider, &push("a1b2c3d5", Some("ios")))
        .await
        .unwrap();

    let s = state.lock().unwrap();
    let (token, headers, payload) = &s.requests[0];
    assert_eq!(token, "a1b2c3d4");
    assert_eq!(headers["apns-push-type"], "alert");
    assert_eq!(headers["apns-priority"], "10");
    assert_eq!(headers["apns-id"], m.message_id.to_string().as_str());
    assert_eq!(
        payload,
        &json!({"aps": {"alert": {"title": "Your order shipped", "body": "Track it in the app"}},
                "herald_message_id": m.message_id.to_string()})
    );
    // The provider token is reused, not made per request.
    assert_eq!(
        s.requests[0].1["authorization"],
        s.requests[1].1["authorization"]
    );
}

#[tokio::test]
async fn apns_errors() {
    let (url, state) = apns_stand_in().await;
    let provider = only_apns(&url);
    for (to, code, suppress) in [
        ("0ff1ce", "unregistered_token", true),
        ("dead", "unregistered_token", true),
        ("beef", "transient", false),
        ("abad1dea", "message_too_long", false),
        ("not-hex", "unregistered_token", true),
    ] {
        let e = send(&provider, &push(to, Some("ios"))).await.unwrap_err();
        assert_eq!((e.code(), e.suppresses()), (code, suppress), "{to}: {e}");
    }
    // An expired provider token is transient, and the next attempt carries a new one.
    let e = send(&provider, &push("feed", Some("ios")))
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
    send(&provider, &push("a1b2", Some("ios"))).await.unwrap();
    let s = state.lock().unwrap();
    let n = s.requests.len();
    assert_ne!(
        s.requests[n - 1].1["authorization"],
        s.requests[n - 2].1["authorization"]
    );
}

#[tokio::test]
async fn tokens_go_to_their_platform_service() {
    let (fcm_url, fcm) = fcm_stand_in().await;
    let (apns_url, apns) = apns_stand_in().await;
    let both = PushProvider::new(&PushConfig {
        fcm: Some(fcm_config(&fcm_url)),
        apns: Some(apns_config(&apns_url)),
    })
    .unwrap();
    assert_eq!(
        send(&both, &push("a1b2", Some("ios")))
            .await
            .unwrap()
            .provider,
        "apns"
    );
    assert_eq!(
        send(&both, &push("t-android", Some("android")))
            .await
            .unwrap()
            .provider,
        "fcm"
    );
    assert_eq!(
        send(&both, &push("t-none", None)).await.unwrap().provider,
        "fcm"
    );
    assert_eq!(
        send(&both, &push("x", Some("blackberry")))
            .await
            .unwrap_err()
            .code(),
        "unknown_platform"
    );
    assert_eq!(
        (
            apns.lock().unwrap().requests.len(),
            fcm.lock().unwrap().sends.len()
        ),
        (1, 2)
    );

    let e = send(&only_fcm(&fcm_url), &push("a1b2", Some("ios")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "channel_not_configured");
    let mut no_title = push("t", Some("android"));
    no_title.parts.remove("title");
    assert_eq!(
        send(&both, &no_title).await.unwrap_err().code(),
        "missing_part"
    );
}

#[test]
fn configuration_is_checked() {
    assert_eq!(
        PushProvider::new(&PushConfig::default())
            .unwrap_err()
            .provider,
        "push"
    );
    let url = "https://api.push.apple.com";
    let cases: Vec<(ApnsConfig, &str)> = vec![
        (
            ApnsConfig {
                key_id: "short".into(),
                ..apns_config(url)
            },
            "key_id",
        ),
        (
            ApnsConfig {
                team_id: "TEAM-12345".into(),
                ..apns_config(url)
            },
            "team_id",
        ),
        (
            ApnsConfig {
                private_key: Secret::new("not a key"),
                ..apns_config(url)
            },
            "private_key",
        ),
        (
            ApnsConfig {
                topic: "".into(),
                ..apns_config(url)
            },
            "topic",
        ),
    ];
    for (config, field) in cases {
        let err = PushProvider::new(&PushConfig {
            fcm: None,
            apns: Some(config),
        })
        .unwrap_err();
        assert_eq!((err.provider, err.field), ("apns", field), "{err}");
    }
    let mut fcm = fcm_config("https://fcm.googleapis.com");
    fcm.service_account_json = Secret::new("{\"not\": \"an account\"}");
    let err = PushProvider::new(&PushConfig {
        fcm: Some(fcm),
        apns: None,
    })
    .unwrap_err();
    assert_eq!((err.provider, err.field), ("fcm", "service_account_json"));
    let shown = serde_json::to_string(&PushConfig {
        fcm: Some(fcm_config("https://fcm.googleapis.com")),
        apns: Some(apns_config(url)),
    })
    .unwrap();
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
}
