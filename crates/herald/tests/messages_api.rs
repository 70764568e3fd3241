//! Messages, black-box: templates sent to people through the send pipeline to a real SMTP
//! server (aiosmtpd, from PyPI, writing what it receives to a maildir): rendered for the
//! person, queued once per idempotency key, skipped without an address, a marketing email
//! with its one-click unsubscribe headers and a receipt without, failed without a
//! configured channel, and listed in the person's message log; through a webhook to a
//! receiver in this test: signed, and capped by the governor's policy (transactional messages
//! pass the cap). docs/messages.md.

mod common;

use std::path::{Path, PathBuf};

use common::receiver::Receiver;
use common::smtp::SmtpSink;
use common::*;
use serde_json::{json, Value};

fn channels_file(dir: &Path, port: u16, policy: &str) -> PathBuf {
    let file = dir.join("channels.toml");
    std::fs::write(
        &file,
        format!(
            "[email]\nprovider = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"Herald Test <news@herald.test>\"\n\n{policy}"
        ),
    )
    .unwrap();
    file
}

fn send(s: &Server, body: Value) -> (u16, Value) {
    let r = s.admin_post("/api/v1/messages", &body);
    (r.status().as_u16(), r.json().unwrap())
}

fn setup(s: &Server) {
    let batch = json!({"batch": [
        {"type": "identify", "userId": "ana", "traits": {"email": "Ana@Example.com", "first_name": "Ana"}, "messageId": "i-1"},
        {"type": "identify", "userId": "bo", "traits": {"first_name": "Bo"}, "messageId": "i-2"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    let template = json!({"id": "receipt", "channel": "email", "content": {
        "subject": "{{ traits.first_name }}, your order {{ event.properties.order }}",
        "body": "<p>Thanks, {{ traits.first_name }}!</p>"
    }});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);
}

#[test]
fn a_template_reaches_the_person_once_through_smtp() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let file = channels_file(
        tmp.path(),
        sink.port,
        "[policy]\ncaps = [{ category = \"marketing\", max = 5, window = \"1d\" }]\n",
    );
    let s = Server::start_with_env(&[], &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))]);
    setup(&s);

    let ask = json!({"template": "receipt", "profile": "email:ana@example.com", "transactional": true, "event": {"properties": {"order": "A-1"}}, "idempotency_key": "order-A-1"});
    let (status, queued) = send(&s, ask.clone());
    assert_eq!(
        (status, &queued["status"]),
        (202, &json!("queued")),
        "{queued}"
    );
    let id = queued["id"].as_str().unwrap().to_owned();
    let sent = s.settled_message(&id);
    assert_eq!(
        (
            &sent["status"],
            &sent["provider"],
            &sent["address"],
            &sent["template_version"]
        ),
        (
            &json!("sent"),
            &json!("smtp"),
            &json!("ana@example.com"),
            &json!(1)
        ),
        "{sent}"
    );
    let mails = eventually(20, "the email at the SMTP server", || {
        let m = sink.received();
        (!m.is_empty()).then_some(m)
    });
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.contains("Subject: Ana, your order A-1"), "{mail}");
    assert!(mail.contains("To: ana@example.com"), "{mail}");
    assert!(mail.contains("multipart/alternative"), "{mail}");
    assert!(mail.contains("Thanks, Ana!"), "{mail}");

    // The same idempotency key is the same message: not queued or sent again.
    let (status, again) = send(&s, ask);
    assert_eq!(
        (status, &again["id"], &again["status"]),
        (202, &json!(id), &json!("sent"))
    );

    // A marketing email carries its RFC 8058 one-click unsubscribe link (docs/preferences.md).
    let (_, second) = send(
        &s,
        json!({"template": "receipt", "profile": "user_id:ana", "event": {"properties": {"order": "A-2"}}}),
    );
    let marketing = s.settled_message(second["id"].as_str().unwrap());
    assert_eq!(marketing["status"], "sent", "{marketing}");
    assert_eq!(marketing["category"], "marketing");
    // Another receipt: a new key is a new message.
    let (_, receipt) = send(
        &s,
        json!({"template": "receipt", "profile": "user_id:ana", "transactional": true, "event": {"properties": {"order": "A-3"}}}),
    );
    let through = s.settled_message(receipt["id"].as_str().unwrap());
    assert_eq!(through["status"], "sent", "{through}");
    assert_eq!(through["category"], "transactional");
    // Bo has no email address.
    let (_, to_bo) = send(
        &s,
        json!({"template": "receipt", "profile": "user_id:bo", "transactional": true}),
    );
    let skipped = s.settled_message(to_bo["id"].as_str().unwrap());
    assert_eq!(
        (&skipped["status"], &skipped["reason"]),
        (&json!("skipped"), &json!("no_address"))
    );

    let mails = eventually(20, "the marketing and transactional emails", || {
        let m = sink.received();
        (m.len() == 3).then_some(m)
    });
    let a2 = mails.iter().find(|m| m.contains("A-2")).unwrap();
    let a3 = mails.iter().find(|m| m.contains("A-3")).unwrap();
    assert!(
        a2.contains(&format!("List-Unsubscribe: <{}/unsubscribe/", s.url)),
        "{a2}"
    );
    assert!(
        a2.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{a2}"
    );
    assert!(
        !a3.contains("List-Unsubscribe"),
        "a receipt has no unsubscribe link: {a3}"
    );

    // Ana's log, newest first, in pages.
    let log = s.admin_json("/api/v1/profiles/user_id:ana/messages?limit=2");
    let statuses: Vec<&str> = log["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["sent", "sent"]);
    let next = log["next"].as_str().unwrap();
    let rest = s.admin_json(&format!(
        "/api/v1/profiles/user_id:ana/messages?limit=2&before={next}"
    ));
    assert_eq!(rest["messages"].as_array().unwrap().len(), 1);
    assert_eq!(rest["messages"][0]["id"], id);
    assert!(rest["next"].is_null());
}

#[test]
fn bad_requests_are_refused_and_an_unconfigured_channel_fails_the_message() {
    let s = Server::start();
    setup(&s);
    let snippet = json!({"id": "footer", "channel": "snippet", "content": {"body": "x"}});
    assert_eq!(s.admin_post("/api/v1/templates", &snippet).status(), 201);
    for (body, status, code) in [
        (
            json!({"template": "nope", "profile": "user_id:ana"}),
            404,
            "template_not_found",
        ),
        (
            json!({"template": "receipt", "profile": "user_id:nobody"}),
            404,
            "profile_not_found",
        ),
        (
            json!({"template": "receipt", "profile": "nonsense"}),
            400,
            "invalid_identifier",
        ),
        (
            json!({"template": "footer", "profile": "user_id:ana"}),
            400,
            "template_not_sendable",
        ),
        (
            json!({"template": "receipt", "profile": "user_id:ana", "priority": "urgent"}),
            400,
            "invalid_priority",
        ),
        (
            json!({"template": "receipt", "profile": "user_id:ana", "category": "Bad Category"}),
            400,
            "invalid_category",
        ),
        (
            json!({"template": "receipt", "profile": "user_id:ana", "idempotency_key": ""}),
            400,
            "invalid_idempotency_key",
        ),
    ] {
        let (got, answer) = send(&s, body.clone());
        assert_eq!(
            (got, answer["code"].as_str().unwrap_or_default()),
            (status, code),
            "{body}: {answer}"
        );
    }
    assert!(
        s.admin_json("/api/v1/profiles/user_id:ana/messages")["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // No channels file: the message fails, saying why.
    let (_, queued) = send(&s, json!({"template": "receipt", "profile": "user_id:ana"}));
    let failed = s.settled_message(queued["id"].as_str().unwrap());
    assert_eq!(
        (&failed["status"], &failed["reason"]),
        (&json!("failed"), &json!("channel_not_configured"))
    );
    let missing = s.admin_get("/api/v1/messages/nope");
    assert_eq!(missing.status(), 404);
}

/// A request as received: its header lines and its body.
const SECRET: &str = "a-webhook-secret-of-some-length";

#[test]
fn webhooks_are_signed_and_marketing_is_capped_by_the_policy() {
    let receiver = Receiver::start();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("channels.toml");
    std::fs::write(
        &file,
        format!(
            "[webhook]\nurl = \"http://127.0.0.1:{}/hook\"\nsecret = \"{SECRET}\"\nallow_networks = [\"127.0.0.0/8\"]\n\n\
             [policy]\ncaps = [{{ category = \"marketing\", max = 1, window = \"1d\" }}]\n",
            receiver.port
        ),
    )
    .unwrap();
    let s = Server::start_with_env(&[], &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))]);
    setup(&s);
    let hook = json!({"id": "hook", "channel": "webhook", "content": {
        "body": "{\"user\": {{ traits.first_name | json }}, \"order\": {{ event.properties.order | json }}}"
    }});
    assert_eq!(s.admin_post("/api/v1/templates", &hook).status(), 201);
    let order = |n: &str, transactional: bool| json!({"template": "hook", "profile": "user_id:bo", "transactional": transactional, "event": {"properties": {"order": n}}});
    let (_, first) = send(&s, order("B-1", false));
    let first = s.settled_message(first["id"].as_str().unwrap());
    assert_eq!(
        (&first["status"], &first["provider"]),
        (&json!("sent"), &json!("webhook")),
        "{first}"
    );
    // One marketing message a day: the second is capped; a transactional one passes.
    let (_, second) = send(&s, order("B-2", false));
    let second = s.settled_message(second["id"].as_str().unwrap());
    assert_eq!(
        (&second["status"], &second["reason"]),
        (&json!("skipped"), &json!("capped")),
        "{second}"
    );
    let (_, third) = send(&s, order("B-3", true));
    assert_eq!(
        s.settled_message(third["id"].as_str().unwrap())["status"],
        "sent"
    );

    let got = eventually(20, "two webhook requests", || {
        let r = receiver.requests();
        (r.len() >= 2).then_some(r)
    });
    assert_eq!(got.len(), 2, "{got:?}");
    let key = herald_messaging::token::Key::new(SECRET.as_bytes().to_vec()).unwrap();
    let bodies: Vec<Value> = got
        .iter()
        .map(|(headers, body)| {
            let header = |name: &str| {
                headers
                    .iter()
                    .find_map(|h| {
                        h.split_once(':')
                            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                            .map(|(_, v)| v.trim().to_owned())
                    })
                    .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
            };
            let signature = header("Herald-Signature");
            herald_messaging::token::verify_webhook(
                &key,
                &signature,
                body.as_bytes(),
                chrono::Utc::now(),
                chrono::Duration::seconds(300),
            )
            .unwrap_or_else(|e| panic!("the signature does not verify: {e:?}"));
            assert!(!header("Idempotency-Key").is_empty());
            serde_json::from_str(body).unwrap()
        })
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"user": "Bo", "order": "B-1"}),
            json!({"user": "Bo", "order": "B-3"})
        ]
    );
}

#[test]
fn a_test_send_reaches_one_address_and_stays_out_of_the_log() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let file = channels_file(tmp.path(), sink.port, "");
    let s = Server::start_with_env(&[], &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))]);
    setup(&s);
    let test = |template: &str, body: Value| {
        let r = s.admin_post(&format!("/api/v1/templates/{template}/test"), &body);
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };

    // Rendered for Ana with the event, to the tester's address, marked as a test.
    let (status, sent) = test(
        "receipt",
        json!({"to": " Tester@Example.com ", "profile": "user_id:ana", "event": {"properties": {"order": "T-1"}}}),
    );
    assert_eq!(status, 200, "{sent}");
    assert_eq!(
        (&sent["to"], &sent["provider"], &sent["version"]),
        (&json!("tester@example.com"), &json!("smtp"), &json!(1))
    );
    let mails = eventually(20, "the test email", || {
        let m = sink.received();
        (!m.is_empty()).then_some(m)
    });
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("Subject: [Test] Ana, your order T-1"),
        "{}",
        mails[0]
    );
    assert!(mails[0].contains("To: tester@example.com"), "{}", mails[0]);
    // Not a message to a person: nothing in the log.
    let log = s.admin_json("/api/v1/messages");
    assert_eq!(log["messages"], json!([]), "{log}");

    // What cannot be tested is refused; what the server refuses is reported.
    let sms = json!({"id": "text", "channel": "sms", "content": {"body": "Hi"}});
    assert_eq!(s.admin_post("/api/v1/templates", &sms).status(), 201);
    for (template, body, status, code) in [
        (
            "receipt",
            json!({"to": "not an address"}),
            400,
            "invalid_address",
        ),
        ("receipt", json!({}), 400, "invalid_address"),
        (
            "nope",
            json!({"to": "a@example.com"}),
            404,
            "template_not_found",
        ),
        (
            "receipt",
            json!({"to": "a@example.com", "profile": "user_id:nobody"}),
            404,
            "profile_not_found",
        ),
        (
            "text",
            json!({"to": "+33612345678"}),
            409,
            "channel_not_configured",
        ),
        (
            "receipt",
            json!({"to": "bounce-1@example.com"}),
            502,
            "test_send_failed",
        ),
        (
            "receipt",
            json!({"to": "a@example.com", "extra": 1}),
            422,
            "unprocessable_body",
        ),
    ] {
        let (got, answer) = test(template, body.clone());
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
    }
    assert_eq!(sink.received().len(), 1);
}
