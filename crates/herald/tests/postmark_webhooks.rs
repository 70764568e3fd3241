//! Provider reports, black-box (docs/channels.md#delivery-reports): emails sent through a
//! stand-in for Postmark's API (answering as its documentation says), then Postmark's
//! webhooks as Postmark sends them — with the HTTP Basic credentials of the webhook URL —
//! for a delivery, a hard bounce and a spam complaint: each message moves to its status, the
//! event is on the person's timeline, and the bounced and complaining addresses are
//! suppressed, so the next message to them is skipped. Webhooks without the credentials, or
//! not Postmark's, change nothing.

mod common;

use common::receiver::Receiver;
use common::*;
use serde_json::{json, Value};

const USER: &str = "postmark";
const PASSWORD: &str = "a-webhook-password-0123";

fn start(postmark: &Receiver, dir: &std::path::Path) -> Server {
    let file = dir.join("channels.toml");
    std::fs::write(
        &file,
        format!(
            "[email]\nprovider = \"postmark\"\nserver_token = \"pm-server-token-0123456789\"\nfrom = \"Shop <news@shop.test>\"\nbase_url = \"http://127.0.0.1:{}\"\nwebhook_username = \"{USER}\"\nwebhook_password = \"{PASSWORD}\"\n",
            postmark.port
        ),
    )
    .unwrap();
    let s = Server::start_with_env(&[], &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))]);
    let batch = json!({"batch": [
        {"type": "identify", "userId": "ana", "traits": {"email": "ana@example.com"}, "messageId": "i-1"},
        {"type": "identify", "userId": "bo", "traits": {"email": "bo@example.com"}, "messageId": "i-2"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    let template = json!({"id": "receipt", "channel": "email", "content": {
        "subject": "Your receipt", "body": "<p>Thanks</p>", "text": "Thanks"
    }});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);
    s
}

/// Send the receipt to `user`; the message once the pipeline is done with it.
fn send(s: &Server, user: &str, key: &str) -> Value {
    s.send_message(
        &json!({"template": "receipt", "profile": format!("user_id:{user}"), "transactional": true, "idempotency_key": key}),
    )
}

/// POST a webhook as Postmark does: JSON, with the credentials of the webhook URL.
fn webhook(s: &Server, auth: Option<(&str, &str)>, body: &str) -> (u16, Value) {
    let mut req = s
        .http
        .post(format!("{}/webhooks/postmark", s.url))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some((user, password)) = auth {
        req = req.basic_auth(user, Some(password));
    }
    let r = req.send().unwrap();
    (r.status().as_u16(), r.json().unwrap())
}

fn record(record_type: &str, extra: Value, message: &str, email: &str) -> String {
    let mut v = json!({
        "RecordType": record_type, "ServerID": 23, "MessageStream": "outbound",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", "Email": email, "Recipient": email,
        "Metadata": {"herald_message_id": message, "profile_id": "x"}
    });
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    v.to_string()
}

fn status(s: &Server, id: &str) -> Value {
    s.admin_json(&format!("/api/v1/messages/{id}"))["status"].clone()
}

#[test]
fn deliveries_bounces_and_complaints_reported_by_postmark_are_believed_with_credentials() {
    let postmark = Receiver::answering(
        "application/json",
        r#"{"To":"x","SubmittedAt":"2026-12-05T10:00:00.0000000-05:00","MessageID":"b7bc2f4a-e38e-4336-af7d-e6c392c2f817","ErrorCode":0,"Message":"OK"}"#,
    );
    let tmp = tempfile::tempdir().unwrap();
    let s = start(&postmark, tmp.path());
    let ana = send(&s, "ana", "r-1");
    let bo = send(&s, "bo", "r-2");
    for m in [&ana, &bo] {
        assert_eq!(
            (&m["status"], &m["provider"]),
            (&json!("sent"), &json!("postmark")),
            "{m}"
        );
    }
    let (ana_id, bo_id) = (ana["id"].as_str().unwrap(), bo["id"].as_str().unwrap());
    // The settings in force are readable, never their credentials.
    let r = s.admin_get("/api/v1/messaging/settings");
    assert_eq!(r.status(), 200);
    let text = r.text().unwrap();
    assert!(
        !text.contains("pm-server-token-0123456789") && !text.contains(PASSWORD),
        "{text}"
    );
    let settings: Value = serde_json::from_str(&text).unwrap();
    let email = &settings["channels"]["email"];
    assert_eq!(
        (
            &email["provider"],
            &email["server_token"],
            &email["webhook_password"]
        ),
        (&json!("postmark"), &json!("****6789"), &json!("****0123")),
        "{settings}"
    );
    assert!(settings["channels"]["sms"].is_null(), "{settings}");
    assert_eq!(settings["postmark_webhook"], true);
    assert_eq!(settings["tracking"], json!({"opens": true, "clicks": true}));
    // Postmark was given Herald's message id in Metadata, which its webhooks send back.
    let sent: Vec<Value> = postmark
        .requests()
        .iter()
        .map(|(_, body)| serde_json::from_str(body).unwrap())
        .collect();
    let mut given: Vec<&str> = sent
        .iter()
        .map(|b| b["Metadata"]["herald_message_id"].as_str().unwrap())
        .collect();
    given.sort();
    let mut ours = vec![ana_id, bo_id];
    ours.sort();
    assert_eq!(given, ours);

    // Refused before anything is believed: no credentials, wrong ones; then bad bodies.
    let delivery = record(
        "Delivery",
        json!({"DeliveredAt": "2026-12-05T10:00:01Z", "Details": "250 OK"}),
        ana_id,
        "ana@example.com",
    );
    for auth in [None, Some((USER, "wrong")), Some(("someone", PASSWORD))] {
        let (code, body) = webhook(&s, auth, &delivery);
        assert_eq!(
            (code, &body["code"]),
            (401, &json!("webhook_unauthorized")),
            "{auth:?}"
        );
    }
    let auth = Some((USER, PASSWORD));
    for bad in ["not json", "[]", "{}"] {
        let (code, body) = webhook(&s, auth, bad);
        assert_eq!(
            (code, &body["code"]),
            (400, &json!("invalid_webhook")),
            "{bad}"
        );
    }
    assert_eq!(status(&s, ana_id), "sent");
    // Not Herald's mail, or no longer a message of this Herald: answered, nothing recorded.
    let foreign =
        json!({"RecordType": "Delivery", "MessageID": "x", "Metadata": {"user_id": 3}}).to_string();
    assert_eq!(
        webhook(&s, auth, &foreign),
        (200, json!({"recorded": false}))
    );
    let unknown = record(
        "Delivery",
        json!({}),
        "00000000-0000-0000-0000-00000000abcd",
        "x@example.com",
    );
    assert_eq!(
        webhook(&s, auth, &unknown),
        (200, json!({"recorded": false}))
    );

    // A delivery, a hard bounce, a complaint.
    assert_eq!(
        webhook(&s, auth, &delivery),
        (200, json!({"recorded": true}))
    );
    assert_eq!(status(&s, ana_id), "delivered");
    let bounce = record(
        "Bounce",
        json!({"Type": "HardBounce", "TypeCode": 1, "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).", "Details": "550 5.1.1 unknown user"}),
        bo_id,
        "bo@example.com",
    );
    assert_eq!(webhook(&s, auth, &bounce), (200, json!({"recorded": true})));
    assert_eq!(status(&s, bo_id), "bounced");
    let complaint = record(
        "SpamComplaint",
        json!({"Type": "SpamComplaint", "TypeCode": 512}),
        ana_id,
        "ana@example.com",
    );
    assert_eq!(
        webhook(&s, auth, &complaint),
        (200, json!({"recorded": true}))
    );
    assert_eq!(status(&s, ana_id), "complained");
    // Postmark retries: the same report again changes nothing more.
    assert_eq!(
        webhook(&s, auth, &complaint),
        (200, json!({"recorded": true}))
    );

    let suppressed = s.admin_json("/api/v1/address-suppressions?channel=email");
    let mut reasons: Vec<(String, String)> = suppressed["suppressions"]
        .as_array()
        .unwrap_or_else(|| panic!("{suppressed}"))
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            ("ana@example.com".to_owned(), "complaint".to_owned()),
            ("bo@example.com".to_owned(), "hard_bounce".to_owned())
        ]
    );
    // Even a receipt does not go to a suppressed address.
    let again = send(&s, "bo", "r-3");
    assert_eq!(
        (&again["status"], &again["reason"]),
        (&json!("skipped"), &json!("suppressed")),
        "{again}"
    );

    // The reports are events on each person's timeline, once each.
    eventually(20, "the complaint on the timeline", || {
        s.timeline("user_id:ana", "")
            .iter()
            .any(|e| e["event"] == "Message Marked as Spam")
            .then_some(())
    });
    s.wait_processed();
    let names = |user: &str| -> Vec<String> {
        let mut v: Vec<String> = s
            .timeline(&format!("user_id:{user}"), "")
            .iter()
            .filter_map(|e| e["event"].as_str().map(str::to_owned))
            .filter(|n| n.starts_with("Message"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names("ana"),
        [
            "Message Delivered",
            "Message Marked as Spam",
            "Message Sent"
        ]
    );
    assert_eq!(names("bo"), ["Message Bounced", "Message Sent"]);
    let bounced = s
        .timeline("user_id:bo", "")
        .into_iter()
        .find(|e| e["event"] == "Message Bounced")
        .unwrap();
    assert_eq!(bounced["properties"]["bounce_type"], "hard");
    assert_eq!(bounced["properties"]["message_id"], json!(bo_id));
}

#[test]
fn without_configured_credentials_postmark_webhooks_are_not_taken() {
    let s = Server::start();
    let (code, body) = webhook(&s, Some((USER, PASSWORD)), "{}");
    assert_eq!(
        (code, &body["code"]),
        (404, &json!("webhook_not_configured"))
    );
    // Without credentials, nothing is said of the configuration.
    let (code, body) = webhook(&s, None, "{}");
    assert_eq!((code, &body["code"]), (401, &json!("webhook_unauthorized")));
}
