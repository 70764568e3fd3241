//! Twilio status callbacks, black-box (docs/channels.md#delivery-reports): SMS sent through a
//! stand-in for Twilio's Messages API, each with its own `StatusCallback` URL; then callbacks
//! as Twilio posts them — form-encoded, signed with `X-Twilio-Signature` over that URL and
//! the parameters — for a delivery and an undeliverable number: the messages move to their
//! status, the events are on the timelines, and the dead number is suppressed, so the next
//! message to it is skipped. Callbacks unsigned, signed with another token, for another
//! message or with a changed body change nothing; a server without callbacks configured
//! says so.

mod common;

use common::receiver::Receiver;
use common::*;
use herald_channels::sms_status::sign;
use serde_json::{json, Value};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "a-twilio-auth-token-0123";
const CALLBACK: &str = "https://herald.example.com/webhooks/twilio";

fn start(twilio: &Receiver, dir: &std::path::Path, callback: bool) -> Server {
    let file = dir.join("channels.toml");
    let callback = if callback {
        format!("status_callback = \"{CALLBACK}\"\n")
    } else {
        String::new()
    };
    std::fs::write(
        &file,
        format!(
            "[sms]\nprovider = \"twilio\"\naccount_sid = \"{ACCOUNT}\"\nauth_token = \"{TOKEN}\"\nfrom = \"+15005550006\"\nbase_url = \"http://127.0.0.1:{}\"\n{callback}",
            twilio.port
        ),
    )
    .unwrap();
    let s = Server::start_with_env(&[], &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))]);
    let batch = json!({"batch": [
        {"type": "identify", "userId": "ana", "traits": {"phone": "+14155550101"}, "messageId": "i-1"},
        {"type": "identify", "userId": "bo", "traits": {"phone": "+14155550102"}, "messageId": "i-2"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    let template =
        json!({"id": "code", "channel": "sms", "content": {"body": "Your code is 1234"}});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);
    s
}

/// Send the code to `user`; the message once the pipeline is done with it.
fn send(s: &Server, user: &str, key: &str) -> Value {
    s.send_message(
        &json!({"template": "code", "profile": format!("user_id:{user}"), "transactional": true, "idempotency_key": key}),
    )
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// POST a callback as Twilio does, to this server's path with the query of `url` (the URL
/// Twilio called, through a proxy in front of Herald), signed as `signature` says.
fn callback(
    s: &Server,
    url: &str,
    body: &[(String, String)],
    signature: Option<&str>,
) -> (u16, Value) {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let mut req = s
        .http
        .post(format!("{}/webhooks/twilio?{query}", s.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(body).unwrap());
    if let Some(signature) = signature {
        req = req.header("X-Twilio-Signature", signature);
    }
    let r = req.send().unwrap();
    (r.status().as_u16(), r.json().unwrap())
}

fn status(s: &Server, id: &str) -> Value {
    s.admin_json(&format!("/api/v1/messages/{id}"))["status"].clone()
}

#[test]
fn deliveries_and_dead_numbers_reported_by_twilio_are_believed_when_signed() {
    let twilio = Receiver::answering(
        "application/json",
        r#"{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}"#,
    );
    let tmp = tempfile::tempdir().unwrap();
    let s = start(&twilio, tmp.path(), true);
    let ana = send(&s, "ana", "c-1");
    let bo = send(&s, "bo", "c-2");
    for m in [&ana, &bo] {
        assert_eq!(
            (&m["status"], &m["provider"]),
            (&json!("sent"), &json!("twilio")),
            "{m}"
        );
    }
    let (ana_id, bo_id) = (ana["id"].as_str().unwrap(), bo["id"].as_str().unwrap());
    // Each message was given its own callback URL, naming it.
    let urls: Vec<(String, String)> = twilio
        .requests()
        .iter()
        .map(|(_, body)| {
            let form: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap();
            let get = |k: &str| form.iter().find(|(n, _)| n == k).unwrap().1.clone();
            (get("To"), get("StatusCallback"))
        })
        .collect();
    let url_of = |to: &str| urls.iter().find(|(t, _)| t == to).unwrap().1.clone();
    let (ana_url, bo_url) = (url_of("+14155550101"), url_of("+14155550102"));
    assert_eq!(ana_url, format!("{CALLBACK}?herald_message_id={ana_id}"));
    assert_eq!(bo_url, format!("{CALLBACK}?herald_message_id={bo_id}"));

    let delivered = params(&[
        ("AccountSid", ACCOUNT),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("MessageStatus", "delivered"),
        ("To", "+14155550101"),
        ("From", "+15005550006"),
    ]);
    // Refused before anything is believed.
    let good = sign(TOKEN, &ana_url, &delivered);
    let mut changed = delivered.clone();
    changed[2].1 = "undelivered".into();
    for (url, body, signature) in [
        (&ana_url, &delivered, None),
        (
            &ana_url,
            &delivered,
            Some(sign("another-token", &ana_url, &delivered)),
        ),
        (&bo_url, &delivered, Some(good.clone())),
        (&ana_url, &changed, Some(good.clone())),
        (
            &CALLBACK.to_owned(),
            &delivered,
            Some(sign(TOKEN, CALLBACK, &delivered)),
        ),
    ] {
        let (code, body) = callback(&s, url, body, signature.as_deref());
        assert_eq!(
            (code, &body["code"]),
            (401, &json!("webhook_unauthorized")),
            "{body}"
        );
    }
    assert_eq!(
        (status(&s, ana_id), status(&s, bo_id)),
        (json!("sent"), json!("sent"))
    );

    // A delivery.
    let (code, body) = callback(&s, &ana_url, &delivered, Some(&good));
    assert_eq!((code, body), (200, json!({"recorded": true})));
    assert_eq!(status(&s, ana_id), "delivered");
    let events = s.timeline("user_id:ana", "");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "Message Delivered" && e["properties"]["message_id"] == ana_id),
        "{events:?}"
    );
    // A status that is not an outcome is taken and records nothing.
    let sending = params(&[("MessageSid", "SM1"), ("MessageStatus", "sending")]);
    let (code, body) = callback(
        &s,
        &ana_url,
        &sending,
        Some(&sign(TOKEN, &ana_url, &sending)),
    );
    assert_eq!((code, body), (200, json!({"recorded": false})));

    // An unknown destination: the message bounced and the number is suppressed.
    let dead = params(&[
        ("MessageSid", "SM2"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30005"),
        ("To", "+14155550102"),
    ]);
    let (code, _) = callback(&s, &bo_url, &dead, Some(&sign(TOKEN, &bo_url, &dead)));
    assert_eq!(code, 200);
    assert_eq!(status(&s, bo_id), "bounced");
    let suppressed = s.admin_json("/api/v1/address-suppressions?channel=sms");
    assert_eq!(
        (
            &suppressed["suppressions"][0]["address"],
            &suppressed["suppressions"][0]["reason"]
        ),
        (&json!("+14155550102"), &json!("hard_bounce")),
        "{suppressed}"
    );
    let events = s.timeline("user_id:bo", "");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "Message Bounced" && e["properties"]["message_id"] == bo_id),
        "{events:?}"
    );
    let next = send(&s, "bo", "c-3");
    assert_eq!(
        (&next["status"], &next["reason"]),
        (&json!("skipped"), &json!("suppressed")),
        "{next}"
    );
}

#[test]
fn without_a_status_callback_twilio_callbacks_are_not_taken() {
    let twilio = Receiver::answering("application/json", r#"{"sid":"SM1"}"#);
    let tmp = tempfile::tempdir().unwrap();
    let s = start(&twilio, tmp.path(), false);
    let m = send(&s, "ana", "c-1");
    assert_eq!(m["status"], "sent");
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&twilio.requests()[0].1).unwrap();
    assert!(!form.iter().any(|(k, _)| k == "StatusCallback"), "{form:?}");
    let url = format!("{CALLBACK}?herald_message_id={}", m["id"].as_str().unwrap());
    let body = params(&[("MessageStatus", "delivered")]);
    let (code, answer) = callback(&s, &url, &body, Some(&sign(TOKEN, &url, &body)));
    assert_eq!(
        (code, &answer["code"]),
        (404, &json!("webhook_not_configured"))
    );
    let (code, answer) = callback(&s, &url, &body, None);
    assert_eq!(
        (code, &answer["code"]),
        (401, &json!("webhook_unauthorized"))
    );
    assert_eq!(status(&s, m["id"].as_str().unwrap()), "sent");
}
