//! The messaging settings over the API, black-box (docs/messaging-settings.md): a server
//! started without a channels file gets its email provider, topics and policy with `PATCH
//! /api/v1/messaging/settings` and sends through it at once; credentials are shown masked and
//! a masked one sent back keeps the stored one; the settings survive a restart; bad changes
//! and stale versions are refused and change nothing; GraphQL changes them too; a server
//! started with a channels file refuses changes.

mod common;

use common::smtp::SmtpSink;
use common::*;
use serde_json::{json, Value};

const PATH: &str = "/api/v1/messaging/settings";
const PASSWORD: &str = "a-long-smtp-password-9876";

fn patch(s: &Server, change: Value) -> (u16, Value) {
    let r = s.admin_patch(PATH, &change);
    (r.status().as_u16(), r.json().unwrap())
}

fn send_to(s: &Server, who: &str, key: &str) -> Value {
    s.send_message(
        &json!({"template": "news", "profile": format!("user_id:{who}"), "topic": "newsletter", "idempotency_key": key}),
    )
}

#[test]
fn settings_changed_over_the_api_are_used_at_once_and_kept() {
    let sink = SmtpSink::start();
    let mut s = Server::start();
    let batch = json!({"batch": [
        {"type": "identify", "userId": "ana", "traits": {"email": "ana@example.com"}, "messageId": "i-1"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    let template = json!({"id": "news", "channel": "email",
        "content": {"subject": "News", "body": "<p>Hello.</p>"}});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);

    let empty = s.admin_json(PATH);
    assert_eq!(
        (&empty["origin"], &empty["version"]),
        (&json!("api"), &json!(0))
    );
    assert_eq!(empty["channels"], json!({}));

    let email = json!({"provider": "smtp", "host": "127.0.0.1", "port": sink.port,
        "security": "none", "from": "Herald <news@herald.test>",
        "username": "herald", "password": PASSWORD});
    // `security = "none"` with credentials is allowed (a relay on the same host); aiosmtpd
    // takes no AUTH, so this provider is first set up without them.
    let mut no_auth = email.clone();
    no_auth.as_object_mut().unwrap().remove("username");
    no_auth.as_object_mut().unwrap().remove("password");
    let (status, saved) = patch(
        &s,
        json!({"email": no_auth, "topics": [{"key": "newsletter", "channel": "email", "default": "opt_out"}],
            "policy": {"caps": [{"category": "marketing", "max": 5, "window": "1d"}]}}),
    );
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        (&saved["origin"], &saved["version"]),
        (&json!("api"), &json!(1))
    );
    assert_eq!(saved["channels"]["email"]["host"], "127.0.0.1");
    assert_eq!(saved["topics"][0]["key"], "newsletter");
    assert_eq!(saved["policy"]["caps"][0]["max"], 5);
    assert_eq!(s.admin_json(PATH), saved);

    // Used at once: a marketing email on the new topic goes out through the new provider.
    let sent = send_to(&s, "ana", "k1");
    assert_eq!(sent["status"], "sent", "{sent}");
    eventually(30, "the email", || {
        (sink.received().len() == 1).then_some(())
    });

    // A credential is shown masked, and sending the shown settings back keeps it.
    let (status, with_password) = patch(&s, json!({"email": email, "version": 1}));
    assert_eq!(status, 200, "{with_password}");
    let shown = &with_password["channels"]["email"]["password"];
    assert_eq!(shown, &json!("****9876"));
    assert!(!with_password.to_string().contains(PASSWORD));
    let (status, again) = patch(
        &s,
        json!({"email": with_password["channels"]["email"], "topics": with_password["topics"],
            "policy": with_password["policy"], "version": 2}),
    );
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["version"], 3);
    let mut same = again.clone();
    same["version"] = json!(2);
    assert_eq!(
        same, with_password,
        "the settings sent back as shown are unchanged"
    );

    // Bad changes are refused with a code and change nothing.
    let before = s.admin_json(PATH);
    for (change, status, code) in [
        (json!({"emial": {}}), 400, "settings_invalid"),
        (json!([1, 2]), 400, "settings_invalid"),
        (json!({"version": "three"}), 400, "settings_invalid"),
        (
            json!({"email": {"provider": "smtp", "host": "x"}}),
            400,
            "settings_invalid",
        ),
        (
            json!({"email": {"provider": "smtp", "host": "127.0.0.1", "from": "not an address"}}),
            400,
            "channel_config_invalid",
        ),
        (
            json!({"policy": {"caps": [{"category": "marketing", "max": 1, "window": "400d"}]}}),
            400,
            "policy_invalid",
        ),
        (
            json!({"email": {"provider": "smtp", "host": "127.0.0.1", "from": "a@b.c", "username": "u", "password": "****0000"}}),
            400,
            "secret_unknown",
        ),
        (
            json!({"topics": [{"key": "x", "channel": "fax"}]}),
            400,
            "settings_invalid",
        ),
        (json!({"topics": [], "version": 1}), 409, "settings_changed"),
    ] {
        let (got, body) = patch(&s, change.clone());
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{change}: {body}"
        );
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(s.admin_json(PATH), before);

    // GraphQL: a section removed (`null`) goes back to its default.
    let data = s.graphql(
        "mutation($c: JSON!) { updateMessagingSettings(change: $c) }",
        json!({"c": {"policy": null}}),
    );
    let changed = &data["data"]["updateMessagingSettings"];
    assert_eq!(changed["version"], 4, "{data}");
    assert_eq!(changed["policy"]["caps"], Value::Null, "{data}");

    // Kept across a restart, and still used.
    s.crash_and_restart();
    let after = s.admin_json(PATH);
    assert_eq!(after["version"], 4);
    assert_eq!(after["channels"]["email"]["password"], "****9876");
    let (status, _) = patch(&s, json!({"email": no_auth}));
    assert_eq!(status, 200);
    let sent = send_to(&s, "ana", "k2");
    assert_eq!(sent["status"], "sent", "{sent}");
    eventually(30, "the second email", || {
        (sink.received().len() == 2).then_some(())
    });
}

#[test]
fn settings_from_a_channels_file_are_shown_and_not_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("channels.toml");
    std::fs::write(
        &file,
        "[webhook]\nurl = \"https://hooks.example.com/herald\"\nsecret = \"a-webhook-secret-of-some-length\"\n",
    )
    .unwrap();
    let s = Server::start_with_env(&[], &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))]);
    let shown = s.admin_json(PATH);
    assert_eq!(
        (&shown["origin"], &shown["version"]),
        (&json!("file"), &json!(0))
    );
    assert_eq!(shown["channels"]["webhook"]["secret"], "****ngth");
    let (status, body) = patch(&s, json!({"topics": []}));
    assert_eq!((status, &body["code"]), (409, &json!("settings_from_file")));
    assert_eq!(s.admin_json(PATH), shown);
}
