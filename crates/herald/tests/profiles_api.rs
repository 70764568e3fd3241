//! Finding profiles, black-box: lookups normalise identifiers as ingest does, the profile
//! list and its searches, and how the admin API answers a write key.

mod common;

use common::*;
use serde_json::{json, Value};

fn identify(user: &str, traits: Value, id: &str) -> Value {
    json!({"type": "identify", "userId": user, "traits": traits, "messageId": id, "timestamp": "2026-03-02T10:00:00Z"})
}

#[test]
fn lookups_normalise_identifiers_as_ingest_does() {
    let s = Server::start();
    let batch = json!({"batch": [
        identify(" ana ", json!({"email": " Ana@Example.com "}), "i1"),
        {"type": "track", "userId": "ana", "event": "Viewed", "messageId": "t1", "timestamp": "2026-03-02T11:00:00Z"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    let ana = s.profile("user_id:ana")["profile_id"].clone();
    // Every route that takes `{id}` finds her however her email or user id is written.
    for id in [
        "email:ANA@Example.com",
        "email: ana@EXAMPLE.COM ",
        "user_id: ana",
    ] {
        let enc = encode(id);
        assert_eq!(s.profile(id)["profile_id"], ana, "{id}");
        let timeline = s.admin_json(&format!("/api/v1/profiles/{enc}/events"));
        assert_eq!(timeline["events"].as_array().unwrap().len(), 2, "{id}");
        let identity = s.admin_json(&format!("/api/v1/profiles/{enc}/identity"));
        assert_eq!(identity["profile_id"], ana, "{id}");
        let audiences = s.admin_json(&format!("/api/v1/profiles/{enc}/audiences"));
        assert_eq!(audiences["profile_id"], ana, "{id}");
        let r = s.admin_get(&format!("/api/v1/profiles/{enc}/audience-history"));
        assert_eq!(r.status(), 200, "{id}");
    }
    // What identity resolution refuses names no profile: a malformed email, a blocked value.
    for id in ["email:not-an-email", "user_id:null", "user_id:%20%20"] {
        let r = s.admin_get(&format!("/api/v1/profiles/{id}"));
        assert_eq!(r.status(), 400, "{id}");
        assert_eq!(r.json::<Value>().unwrap()["code"], "invalid_identifier", "{id}");
    }
}

#[test]
fn an_admin_call_with_a_write_key_says_it_is_a_write_key() {
    let s = Server::start();
    let r = s
        .http
        .get(format!("{}/api/v1/status", s.url))
        .bearer_auth(WRITE_KEY)
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().unwrap();
    assert_eq!(body["code"], "unauthorized");
    assert!(
        body["message"].as_str().unwrap().contains("this is a write key"),
        "{body}"
    );
    let r = s
        .http
        .get(format!("{}/api/v1/status", s.url))
        .bearer_auth("hak_no_such_key")
        .send()
        .unwrap();
    let body: Value = r.json().unwrap();
    assert_eq!(body["message"], "unknown or revoked admin key");
}
