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
        assert_eq!(
            r.json::<Value>().unwrap()["code"],
            "invalid_identifier",
            "{id}"
        );
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
        body["message"]
            .as_str()
            .unwrap()
            .contains("this is a write key"),
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

fn list(s: &Server, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/profiles?limit=2{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = s.admin_json(&path);
        let profiles = page["profiles"].as_array().unwrap();
        assert!(profiles.len() <= 2);
        out.extend(profiles.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

fn users(profiles: &[Value]) -> Vec<String> {
    profiles
        .iter()
        .map(|p| {
            p["identifiers"]
                .as_array()
                .unwrap()
                .iter()
                .find_map(|i| i.as_str().unwrap().strip_prefix("user_id:"))
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn profiles_are_listed_and_searched_by_identifier_prefix_and_trait() {
    let s = Server::start();
    let batch = json!({"batch": [
        identify("ana", json!({"email": "Ana@Example.com", "plan": "pro"}), "i1"),
        identify("anabel", json!({"email": "anabel@example.org", "plan": "free"}), "i2"),
        identify("bob", json!({"email": "bob@example.com", "plan": "pro", "seats": 3}), "i3"),
        identify("carol", json!({"plan": "Pro", "seats": 3.0, "vip": true}), "i4"),
        identify("dan", json!({}), "i5"),
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    // In id order, which is creation order.
    assert_eq!(
        users(&list(&s, "")),
        ["ana", "anabel", "bob", "carol", "dan"]
    );
    let ana = &list(&s, "&identifier=user_id:ana")[0];
    assert_eq!(
        ana["identifiers"],
        json!(["user_id:ana", "email:ana@example.com"])
    );
    assert_eq!(ana["traits"]["plan"], "pro");
    assert_eq!(ana["profile_id"], s.profile("user_id:ana")["profile_id"]);
    for (query, expected) in [
        ("&identifier=user_id:an", vec!["ana", "anabel"]),
        ("&identifier=email:ANA", vec!["ana", "anabel"]),
        ("&identifier=email:", vec!["ana", "anabel", "bob"]),
        ("&identifier=email:b", vec!["bob"]),
        ("&identifier=anonymous_id:", vec![]),
        ("&trait=plan&value=pro", vec!["ana", "bob"]),
        ("&trait=seats&value=3", vec!["bob", "carol"]),
        ("&trait=vip&value=true", vec!["carol"]),
        ("&trait=plan&value=pro&identifier=email:b", vec!["bob"]),
    ] {
        assert_eq!(users(&list(&s, query)), expected, "{query}");
    }
    for query in [
        "?identifier=ana",
        "?identifier=nokind:ana",
        "?trait=plan",
        "?value=pro",
        "?limit=0",
        "?limit=1001",
    ] {
        let r = s.admin_get(&format!("/api/v1/profiles{query}"));
        assert_eq!(r.status(), 400, "{query}");
        assert_eq!(
            r.json::<Value>().unwrap()["code"],
            "invalid_query",
            "{query}"
        );
    }
}

#[test]
fn member_lists_and_exports_show_the_columns_asked_for() {
    let s = Server::start();
    let batch = json!({"batch": [
        identify("ana", json!({"email": "ana@example.com", "plan": "pro", "note": "likes, commas"}), "i1"),
        {"type": "identify", "anonymousId": "anon-b", "traits": {"plan": "pro"}, "messageId": "i2", "timestamp": "2026-03-02T10:00:00Z"},
        identify("carol", json!({"plan": "free"}), "i3"),
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    let created = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "pros", "rule": r#"trait plan = "pro""#}),
    );
    assert_eq!(created.status(), 201);
    eventually(30, "the backfill", || {
        let a = s.admin_json("/api/v1/audiences/pros");
        (a["ready"] == true && a["size"] == 2).then_some(())
    });
    let page = s.admin_json(
        "/api/v1/audiences/pros/members?columns=user_id,email,anonymous_id,trait.plan,trait.nothing",
    );
    let values: Vec<&Value> = page["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["values"])
        .collect();
    assert_eq!(
        values,
        [
            &json!({"user_id": "ana", "email": "ana@example.com", "anonymous_id": null, "trait.plan": "pro", "trait.nothing": null}),
            &json!({"user_id": null, "email": null, "anonymous_id": "anon-b", "trait.plan": "pro", "trait.nothing": null}),
        ]
    );
    let plain = s.admin_json("/api/v1/audiences/pros/members");
    assert!(plain["members"][0].get("values").is_none());

    let csv = s
        .admin_get("/api/v1/audiences/pros/members.csv?columns=user_id,email,trait.note,trait.plan")
        .text()
        .unwrap();
    assert_eq!(
        csv,
        "user_id,email,trait.note,trait.plan\nana,ana@example.com,\"likes, commas\",pro\n,,,pro\n"
    );
    let default = s
        .admin_get("/api/v1/audiences/pros/members.csv")
        .text()
        .unwrap();
    assert!(default.starts_with("profile_id,entered_at\n"), "{default}");
    for path in [
        "/api/v1/audiences/pros/members?columns=emails",
        "/api/v1/audiences/pros/members.csv?columns=email,",
    ] {
        let r = s.admin_get(path);
        assert_eq!(r.status(), 400, "{path}");
        assert_eq!(
            r.json::<Value>().unwrap()["code"],
            "invalid_columns",
            "{path}"
        );
    }
}

#[test]
fn the_docs_page_works_offline() {
    let s = Server::start();
    let html = s
        .http
        .get(format!("{}/docs", s.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!html.contains("cdn."), "no CDN: {html}");
    let src = html
        .split("<script src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a script element with a src");
    assert!(src.starts_with('/'), "served by this server: {src}");
    let js = s.http.get(format!("{}{src}", s.url)).send().unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let body = js.text().unwrap();
    assert!(body.contains("createApiReference"));
    assert!(html.contains("/openapi.json"));
}
