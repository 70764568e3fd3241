//! The admin API, black-box: profiles, timelines, identity graph, unmerge, deletion, keys,
//! tail, operations endpoints, OpenAPI.

mod common;

use std::io::{BufRead, BufReader};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn identify(user: Option<&str>, anon: Option<&str>, traits: Value, id: &str, ts: &str) -> Value {
    let mut e = json!({"type": "identify", "traits": traits, "messageId": id, "timestamp": ts});
    if let Some(u) = user {
        e["userId"] = json!(u);
    }
    if let Some(a) = anon {
        e["anonymousId"] = json!(a);
    }
    e
}

#[test]
fn admin_routes_need_an_admin_key() {
    let s = Server::start();
    for path in [
        "/api/v1/status",
        "/api/v1/keys",
        "/api/v1/profiles/user_id:1",
    ] {
        let r = s.http.get(format!("{}{path}", s.url)).send().unwrap();
        assert_eq!(r.status(), 401, "{path}");
        assert_eq!(r.json::<Value>().unwrap()["code"], "unauthorized");
        let r = s
            .http
            .get(format!("{}{path}", s.url))
            .bearer_auth(WRITE_KEY)
            .send()
            .unwrap();
        assert_eq!(r.status(), 401, "a write key is not an admin key");
    }
}

#[test]
fn a_profile_is_found_by_any_identifier_with_traits_groups_and_context() {
    let s = Server::start();
    let batch = json!({"batch": [
        {"type": "page", "anonymousId": "anon-7", "name": "Pricing", "messageId": "p1", "timestamp": "2026-03-01T10:00:00Z",
         "context": {"timezone": "Europe/Lisbon", "locale": "pt-PT"}},
        identify(Some("ana"), Some("anon-7"), json!({"email": "Ana@Example.com", "plan": "pro", "phone": "+351 912 345 678"}), "i2", "2026-03-02T10:00:00Z"),
        // Older identify, arriving later: it must not override the newer plan.
        identify(Some("ana"), None, json!({"plan": "trial", "name": "Ana"}), "i1", "2026-03-01T09:00:00Z"),
        {"type": "group", "userId": "ana", "groupId": "acme", "traits": {"name": "Acme", "seats": 12}, "messageId": "g1", "timestamp": "2026-03-03T00:00:00Z"},
        {"type": "track", "userId": "ana", "event": "Order Completed", "properties": {"revenue": 30}, "messageId": "t1", "timestamp": "2026-03-04T00:00:00Z"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    let p = s.profile("email:ana@example.com");
    for id in [
        "user_id:ana",
        "anonymous_id:anon-7",
        &format!("profile_id:{}", p["profile_id"].as_str().unwrap()),
    ] {
        assert_eq!(s.profile(id)["profile_id"], p["profile_id"], "{id}");
    }
    assert_eq!(
        p["traits"],
        json!({"email": "Ana@Example.com", "plan": "pro", "phone": "+351 912 345 678", "name": "Ana"})
    );
    assert_eq!(
        p["groups"],
        json!([{"group_id": "acme", "joined_at": "2026-03-03T00:00:00Z", "traits": {"name": "Acme", "seats": 12}}])
    );
    assert_eq!(
        (p["timezone"].as_str(), p["locale"].as_str()),
        (Some("Europe/Lisbon"), Some("pt-PT"))
    );
    assert_eq!(
        (p["first_seen"].as_str(), p["last_seen"].as_str()),
        (Some("2026-03-01T09:00:00Z"), Some("2026-03-04T00:00:00Z"))
    );
    assert_eq!(
        p["event_counts"],
        json!({"page": 1, "identify": 2, "group": 1, "Order Completed": 1})
    );
    assert_eq!(p["total_events"], 5);
    let ids: Vec<&str> = p["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "anonymous_id:anon-7",
            "user_id:ana",
            "email:ana@example.com"
        ],
        "phone linking is off by default"
    );

    let (status, err) = (
        s.admin_get("/api/v1/profiles/user_id:nobody").status(),
        s.admin_get("/api/v1/profiles/user_id:nobody")
            .json::<Value>()
            .unwrap(),
    );
    assert_eq!(
        (status.as_u16(), err["code"].as_str()),
        (404, Some("profile_not_found"))
    );
    let r = s.admin_get("/api/v1/profiles/bogus");
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["code"], "invalid_identifier");
}

/// Issue 17, part 6: an SDK burst of identify(plan: trial), group, identify(plan: pro) in one
/// batch, all in the same millisecond. The later identify in the log wins, whatever the
/// `messageId`s; one user gets ids that sort the wrong way round, the others random ones.
#[test]
fn of_two_identifies_in_the_same_millisecond_the_later_in_the_log_wins() {
    let s = Server::start();
    let at = "2026-03-05T12:00:00.250Z";
    let users: Vec<String> = (0..24).map(|n| format!("burst-{n}")).collect();
    let mut batch = Vec::new();
    for (n, user) in users.iter().enumerate() {
        let ids: [String; 3] = if n == 0 {
            ["zzz".into(), "mmm".into(), "aaa".into()]
        } else {
            std::array::from_fn(|_| uuid::Uuid::new_v4().to_string())
        };
        batch.push(identify(
            Some(user),
            None,
            json!({"plan": "trial"}),
            &format!("{user}-{}", ids[0]),
            at,
        ));
        batch.push(
            json!({"type": "group", "userId": user, "groupId": format!("{user}-co"),
            "traits": {"seats": 1}, "messageId": format!("{user}-{}", ids[1]), "timestamp": at}),
        );
        batch.push(identify(
            Some(user),
            None,
            json!({"plan": "pro"}),
            &format!("{user}-{}", ids[2]),
            at,
        ));
    }
    assert_eq!(s.post("/v1/batch", &json!({"batch": batch})).status(), 200);
    for user in &users {
        let p = s.profile(&format!("user_id:{user}"));
        assert_eq!(p["traits"]["plan"], "pro", "{user}: {p}");
    }
    verify_offline(s);
}

#[test]
fn the_timeline_pages_newest_first_and_filters() {
    let s = Server::start();
    let events: Vec<Value> = (0..25)
        .map(|i| {
            let name = if i % 5 == 0 { "Order Completed" } else { "Viewed" };
            json!({"type": "track", "userId": "tl", "event": name, "messageId": format!("e{i}"), "timestamp": format!("2026-04-{:02}T00:00:00Z", i + 1)})
        })
        .collect();
    assert_eq!(s.post("/v1/batch", &json!({"batch": events})).status(), 200);
    s.wait_processed();
    let page: Value = s.admin_json("/api/v1/profiles/user_id:tl/events?limit=10");
    let days: Vec<&str> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["timestamp"].as_str().unwrap()[8..10])
        .collect();
    assert_eq!(
        days,
        ["25", "24", "23", "22", "21", "20", "19", "18", "17", "16"]
    );
    let all = s.timeline("user_id:tl", "");
    assert_eq!(all.len(), 25);
    assert!(all
        .windows(2)
        .all(|w| w[0]["timestamp"].as_str() >= w[1]["timestamp"].as_str()));
    let orders = s.timeline("user_id:tl", "&event=Order%20Completed");
    assert_eq!(orders.len(), 5);
    let window = s.timeline(
        "user_id:tl",
        "&since=2026-04-10T00:00:00Z&until=2026-04-12T00:00:00Z",
    );
    assert_eq!(
        window
            .iter()
            .map(|e| e["messageId"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["e11", "e10", "e9"]
    );
    for bad in [
        "?limit=0",
        "?limit=5000",
        "?since=yesterday",
        "?cursor=garbage",
    ] {
        let r = s.admin_get(&format!("/api/v1/profiles/user_id:tl/events{bad}"));
        assert_eq!(r.status(), 400, "{bad}");
        assert_eq!(r.json::<Value>().unwrap()["code"], "invalid_query");
    }
}

#[test]
fn merges_are_recorded_and_can_be_undone() {
    let s = Server::start();
    // A device browses anonymously, then two people log in on it, then an alias links a
    // second device to the first user.
    let batch = json!({"batch": [
        {"type": "page", "anonymousId": "device", "messageId": "m1", "timestamp": "2026-05-01T00:00:00Z"},
        identify(Some("u1"), Some("device"), json!({"plan": "pro"}), "m2", "2026-05-02T00:00:00Z"),
        identify(Some("u2"), Some("device"), json!({"plan": "free"}), "m3", "2026-05-03T00:00:00Z"),
        {"type": "track", "anonymousId": "tablet", "event": "Opened", "messageId": "m4", "timestamp": "2026-05-04T00:00:00Z"},
        {"type": "alias", "previousId": "tablet", "userId": "u1", "messageId": "m5", "timestamp": "2026-05-05T00:00:00Z"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    let u1 = s.profile("user_id:u1");
    let u2 = s.profile("user_id:u2");
    assert_ne!(
        u1["profile_id"], u2["profile_id"],
        "a shared device never fuses two users"
    );
    assert_eq!(
        s.profile("anonymous_id:tablet")["profile_id"],
        u1["profile_id"]
    );
    assert_eq!(u1["total_events"], 4);

    let graph = s.admin_json("/api/v1/profiles/user_id:u1/identity");
    let merges = graph["merges"].as_array().unwrap();
    assert_eq!(merges.len(), 1, "{graph}");
    let merge = &merges[0];
    assert_eq!(merge["event_type"], "alias");
    assert_eq!(merge["message_id"], "m5");
    // The older profile (the device's, which u1 joined) wins; the link is (winner side, loser side).
    assert_eq!(merge["link"], json!(["user_id:u1", "anonymous_id:tablet"]));
    assert_eq!(merge["loser_identifiers"], json!(["anonymous_id:tablet"]));
    assert_eq!(
        graph["refused_links"].as_array().unwrap().len(),
        0,
        "the refusal was recorded on u2's profile"
    );
    let u2_graph = s.admin_json("/api/v1/profiles/user_id:u2/identity");
    assert_eq!(
        u2_graph["refused_links"][0]["identifier"],
        "anonymous_id:device"
    );
    assert_eq!(u2_graph["refused_links"][0]["reason"], "limit");

    let merge_id = merge["merge_id"].as_str().unwrap();
    assert_eq!(
        s.admin_json(&format!("/api/v1/merges/{merge_id}"))["merge_id"],
        merge_id
    );
    let undone = s.admin_post(&format!("/api/v1/merges/{merge_id}/undo"), &json!({}));
    assert_eq!(undone.status(), 200);
    let undone: Value = undone.json().unwrap();
    let tablet = s.profile("anonymous_id:tablet");
    let u1_after = s.profile("user_id:u1");
    // u2 is replayed too: its refused link to the device ties its history to u1's.
    let mut replayed: Vec<&Value> = undone["profiles"].as_array().unwrap().iter().collect();
    replayed.sort_by_key(|v| v.as_str().unwrap().to_owned());
    let mut expected = vec![
        &tablet["profile_id"],
        &u1_after["profile_id"],
        &u2["profile_id"],
    ];
    expected.sort_by_key(|v| v.as_str().unwrap().to_owned());
    assert_eq!(replayed, expected);
    assert_ne!(tablet["profile_id"], u1_after["profile_id"]);
    assert_eq!(
        tablet["total_events"].as_u64().unwrap() + u1_after["total_events"].as_u64().unwrap(),
        4
    );
    assert_eq!(u1_after["traits"]["plan"], "pro");

    // Undoing twice conflicts; unknown merges are 404.
    let again = s.admin_post(&format!("/api/v1/merges/{merge_id}/undo"), &json!({}));
    assert_eq!(
        (
            again.status().as_u16(),
            again.json::<Value>().unwrap()["code"].clone()
        ),
        (409, json!("merge_already_undone"))
    );
    let missing = s.admin_post("/api/v1/merges/nope/undo", &json!({}));
    assert_eq!(
        (
            missing.status().as_u16(),
            missing.json::<Value>().unwrap()["code"].clone()
        ),
        (404, json!("merge_not_found"))
    );

    // The separation holds: the same alias again does not re-merge them.
    assert_eq!(
        s.post(
            "/v1/alias",
            &json!({"previousId": "tablet", "userId": "u1", "messageId": "m6"})
        )
        .status(),
        200
    );
    assert_ne!(
        s.profile("anonymous_id:tablet")["profile_id"],
        s.profile("user_id:u1")["profile_id"]
    );
    let history = s.admin_json("/api/v1/profiles/user_id:u1/identity");
    assert!(history["merges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["merge_id"] == merge_id && m["undone"] == true));
    // ...and the refused relink is recorded as such, with the reason `separated`.
    let refused = history["refused_links"].as_array().unwrap();
    assert!(
        refused
            .iter()
            .any(|r| r["identifier"] == "anonymous_id:tablet" && r["reason"] == "separated"),
        "{history}"
    );
    verify_offline(s);
}

#[test]
fn deleting_a_person_removes_them_and_suppresses_their_identifiers() {
    let s = Server::start();
    let batch = json!({"batch": [
        identify(Some("gone"), Some("gone-device"), json!({"email": "gone@example.com"}), "d1", "2026-06-01T00:00:00Z"),
        {"type": "track", "userId": "gone", "event": "Bought", "messageId": "d2"},
        {"type": "group", "userId": "gone", "groupId": "team", "traits": {"name": "From the deleted person"}, "messageId": "d3", "timestamp": "2026-06-02T00:00:00Z"},
        {"type": "group", "userId": "stays", "groupId": "team", "traits": {"name": "Team", "size": 3}, "messageId": "d4", "timestamp": "2026-06-01T00:00:00Z"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    assert_eq!(
        s.profile("user_id:stays")["groups"][0]["traits"]["name"],
        "From the deleted person"
    );

    let r = s.admin_delete("/api/v1/profiles/email:gone@example.com");
    assert_eq!(r.status(), 200);
    let out: Value = r.json().unwrap();
    assert_eq!(out["deleted_events"], 3);
    let mut suppressed: Vec<&str> = out["suppressed_identifiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    suppressed.sort();
    assert_eq!(
        suppressed,
        [
            "anonymous_id:gone-device",
            "email:gone@example.com",
            "user_id:gone"
        ]
    );
    for id in [
        "user_id:gone",
        "email:gone@example.com",
        "anonymous_id:gone-device",
    ] {
        assert_eq!(
            s.admin_get(&format!("/api/v1/profiles/{id}")).status(),
            404,
            "{id}"
        );
    }
    // Group traits are recomputed without the deleted person's calls.
    assert_eq!(
        s.profile("user_id:stays")["groups"][0]["traits"],
        json!({"name": "Team", "size": 3})
    );

    // Later events for them are dropped and counted.
    assert_eq!(
        s.post(
            "/v1/track",
            &json!({"userId": "gone", "event": "Back", "messageId": "d5"})
        )
        .status(),
        200
    );
    assert_eq!(
        s.post(
            "/v1/page",
            &json!({"anonymousId": "gone-device", "messageId": "d6"})
        )
        .status(),
        200
    );
    let status = s.wait_processed();
    assert_eq!(status["suppressed_events"], 2);
    assert_eq!(status["deleted_events"], 3);
    assert_eq!(s.admin_get("/api/v1/profiles/user_id:gone").status(), 404);
    assert_eq!(
        s.admin_delete("/api/v1/profiles/user_id:gone").status(),
        404
    );
    verify_offline(s);
}

/// The ids in a JSON array of strings, sorted.
fn sorted_strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn deleting_carol_keeps_kims_identify_that_carried_her_email_redacted() {
    let s = Server::start();
    let batch = json!({"batch": [
        identify(Some("carol"), None, json!({"email": "carol@example.com", "plan": "pro"}), "c1", "2026-06-01T00:00:00Z"),
        // Kim types Carol's email by mistake: the link is refused, the event is Kim's.
        identify(Some("kim"), None, json!({"email": "Carol@Example.com", "plan": "free"}), "k1", "2026-06-02T00:00:00Z"),
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    let kim = s.profile("user_id:kim")["profile_id"].clone();
    let carol = s.profile("user_id:carol")["profile_id"].clone();
    assert_ne!(kim, carol);
    let kim_graph = s.admin_json("/api/v1/profiles/user_id:kim/identity");
    assert_eq!(
        kim_graph["refused_links"][0]["identifier"], "email:carol@example.com",
        "{kim_graph}"
    );

    let r = s.admin_delete("/api/v1/profiles/email:carol@example.com");
    assert_eq!(r.status(), 200);
    let out: Value = r.json().unwrap();
    assert_eq!(out["deleted_events"], 1, "{out}");
    // Every profile the deletion touched is reported: Carol's removed, Kim's rebuilt.
    assert_eq!(out["removed_profiles"], json!([carol]), "{out}");
    assert_eq!(out["profiles"], json!([kim]), "{out}");
    assert_eq!(out["redacted_events"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(out["redacted_events"][0]["profile_id"], kim, "{out}");
    assert_eq!(
        sorted_strings(&out["suppressed_identifiers"]),
        ["email:carol@example.com", "user_id:carol"]
    );

    // Kim keeps the event and its own data; Carol's email is nowhere.
    let profile = s.profile("user_id:kim");
    assert_eq!(profile["profile_id"], kim);
    assert_eq!(profile["traits"], json!({"plan": "free"}), "{profile}");
    let timeline = s.timeline("user_id:kim", "");
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0]["messageId"], "k1");
    assert!(
        !timeline[0].to_string().to_lowercase().contains("carol"),
        "{}",
        timeline[0]
    );
    let kim_graph = s.admin_json("/api/v1/profiles/user_id:kim/identity");
    assert_eq!(kim_graph["refused_links"], json!([]), "{kim_graph}");
    for gone in ["user_id:carol", "email:carol@example.com"] {
        assert_eq!(
            s.admin_get(&format!("/api/v1/profiles/{gone}")).status(),
            404
        );
    }
    // A suppression is lifted by its identifier written as ingest would normalise it.
    let r = s.admin_delete("/api/v1/suppressions/email:CAROL@Example.com");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().unwrap()["identifier"],
        "email:carol@example.com"
    );
    verify_offline(s);
}

#[test]
fn deleting_bob_keeps_anas_alias_of_his_device_redacted() {
    // The README tour: Ana aliases a device Bob owns; the link is refused.
    let s = Server::start();
    let batch = json!({"batch": [
        identify(Some("ana"), Some("anon-1"), json!({"email": "ana@example.com"}), "a1", "2026-06-01T00:00:00Z"),
        identify(Some("bob"), Some("anon-2"), json!({}), "b1", "2026-06-02T00:00:00Z"),
        {"type": "alias", "previousId": "anon-2", "userId": "ana", "messageId": "a2", "timestamp": "2026-06-03T00:00:00Z"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    let ana = s.profile("user_id:ana")["profile_id"].clone();
    let bob = s.profile("user_id:bob")["profile_id"].clone();
    let graph = s.admin_json("/api/v1/profiles/user_id:ana/identity");
    assert_eq!(
        graph["refused_links"][0]["identifier"], "anonymous_id:anon-2",
        "{graph}"
    );

    let r = s.admin_delete("/api/v1/profiles/user_id:bob");
    assert_eq!(r.status(), 200);
    let out: Value = r.json().unwrap();
    assert_eq!(out["deleted_events"], 1, "{out}");
    assert_eq!(out["removed_profiles"], json!([bob]), "{out}");
    assert_eq!(out["profiles"], json!([ana]), "{out}");
    assert_eq!(out["redacted_events"][0]["profile_id"], ana, "{out}");

    let timeline = s.timeline("user_id:ana", "");
    let ids: Vec<&str> = timeline
        .iter()
        .map(|e| e["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a2", "a1"], "Ana keeps her alias");
    assert_eq!(timeline[0]["type"], "alias");
    assert_eq!(timeline[0]["userId"], "ana");
    assert!(timeline[0].get("previousId").is_none(), "{}", timeline[0]);
    assert_eq!(s.profile("user_id:ana")["total_events"], 2);
    let graph = s.admin_json("/api/v1/profiles/user_id:ana/identity");
    assert_eq!(graph["refused_links"], json!([]), "{graph}");
    assert_eq!(
        s.admin_get("/api/v1/profiles/anonymous_id:anon-2").status(),
        404
    );

    // The suppressions are listed with their time; lifting one is recorded and lets the
    // identifier's events through again.
    let list = s.admin_json("/api/v1/suppressions");
    let holding: Vec<&str> = list["suppressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(holding, ["anonymous_id:anon-2", "user_id:bob"], "{list}");
    assert!(
        list["suppressions"][0]["suppressed_at"].is_string(),
        "{list}"
    );
    assert_eq!(list["lifted"], json!([]));
    let r = s.admin_delete("/api/v1/suppressions/user_id:bob");
    assert_eq!(r.status(), 200);
    let lifted: Value = r.json().unwrap();
    assert_eq!(lifted["identifier"], "user_id:bob");
    assert!(lifted["lifted_at"].is_string(), "{lifted}");
    let r = s.admin_delete("/api/v1/suppressions/user_id:bob");
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().unwrap()["code"], "suppression_not_found");
    assert_eq!(s.admin_delete("/api/v1/suppressions/bogus").status(), 400);
    let list = s.admin_json("/api/v1/suppressions");
    assert_eq!(list["suppressions"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["lifted"][0]["identifier"], "user_id:bob", "{list}");
    assert_eq!(list["lifted"][0]["lifted_at"], lifted["lifted_at"]);

    assert_eq!(
        s.post("/v1/track", &track("bob", "Back", "b2")).status(),
        200
    );
    assert_eq!(s.profile("user_id:bob")["total_events"], 1);
    // Still suppressed: dropped.
    assert_eq!(
        s.post(
            "/v1/page",
            &json!({"anonymousId": "anon-2", "messageId": "b3"})
        )
        .status(),
        200
    );
    assert_eq!(s.wait_processed()["suppressed_events"], 1);
    verify_offline(s);
}

/// Stop the server and check that the projection equals a rebuild of the log.
fn verify_offline(mut s: Server) {
    s.terminate();
    let (ok, out) = verify(&s);
    assert!(ok, "verify failed: {out}");
    assert!(
        !out.contains(" 0 events"),
        "verify compared a store that holds events (a wrong store would pass vacuously): {out}"
    );
}

/// `herald verify` on a stopped server's store: whether it passed, and what it printed.
fn verify(s: &Server) -> (bool, String) {
    let out = std::process::Command::new(bin())
        .arg("verify")
        .arg("--data-dir")
        .arg(&s.dir)
        .args(s.cluster_flags())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn verify_fails_on_damaged_state_and_names_what_differs() {
    let mut s = Server::start();
    let created = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "pro_buyers", "rule": "trait plan = \"pro-plan-x\" and performed \"Order Completed\" >= 1"}),
    );
    assert_eq!(created.status(), 201, "{}", created.text().unwrap());
    let events = json!({"batch": [
        {"type": "identify", "userId": "u1", "anonymousId": "device", "traits": {"plan": "pro-plan-x"}, "messageId": "v1"},
        {"type": "track", "userId": "u1", "event": "Order Completed", "messageId": "v2"},
        // u2 on u1's device: the link is refused (one user per device) and recorded.
        {"type": "identify", "userId": "u2", "anonymousId": "device", "messageId": "v3"},
    ]});
    assert_eq!(s.post("/v1/batch", &events).status(), 200);
    s.wait_processed();
    let members = s.admin_json("/api/v1/audiences/pro_buyers/members");
    assert_eq!(members["members"].as_array().unwrap().len(), 1, "{members}");
    s.terminate();
    let (ok, out) = verify(&s);
    assert!(ok, "verify of an intact store: {out}");
    assert!(
        out.contains(" 3 events, 1 refusals, 1 audience memberships"),
        "{out}"
    );

    // Each damage, then verify must fail naming it, then the repair, then verify passes again.
    let damages = [
        (
            "UPDATE profiles SET state = replace(state, 'pro-plan-x', 'free-plan-x')",
            "UPDATE profiles SET state = replace(state, 'free-plan-x', 'pro-plan-x')",
            ": state: stored",
        ),
        (
            "UPDATE identities SET value = 'device-x' WHERE value = 'device'",
            "UPDATE identities SET value = 'device' WHERE value = 'device-x'",
            ": identifiers: stored",
        ),
        (
            "UPDATE refusals SET seq = seq + 1000",
            "UPDATE refusals SET seq = seq - 1000",
            ": refusals: stored",
        ),
        (
            "UPDATE audience_state SET state = replace(state, '\"pro_buyers\"', '\"gone\"')",
            "UPDATE audience_state SET state = replace(state, '\"gone\"', '\"pro_buyers\"')",
            ": audiences: stored",
        ),
        (
            "UPDATE audience_members SET audience_id = 'gone'",
            "UPDATE audience_members SET audience_id = 'pro_buyers'",
            "audience pro_buyers: member list",
        ),
    ];
    for (damage, repair, named) in damages {
        s.state_sql(damage);
        let (ok, out) = verify(&s);
        assert!(!ok, "verify passed after `{damage}`: {out}");
        assert!(
            out.contains("MISMATCH") && out.contains(named),
            "after `{damage}`: {out}"
        );
        s.state_sql(repair);
        let (ok, out) = verify(&s);
        assert!(ok, "verify after `{repair}`: {out}");
    }
}

#[test]
fn keys_can_be_listed_created_and_revoked_over_the_api() {
    let s = Server::start();
    let keys: Vec<Value> = s.admin_json("/api/v1/keys").as_array().unwrap().clone();
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter().all(|k| k.get("secret").is_none()),
        "secrets are never listed"
    );
    let created = s.admin_post("/api/v1/keys", &json!({"kind": "admin", "name": "ci"}));
    assert_eq!(created.status(), 201);
    let created: Value = created.json().unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("hak_"));
    let r = s
        .http
        .get(format!("{}/api/v1/status", s.url))
        .bearer_auth(secret)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        s.admin_delete(&format!("/api/v1/keys/{}", created["id"].as_str().unwrap()))
            .status(),
        204
    );
    assert_eq!(
        s.http
            .get(format!("{}/api/v1/status", s.url))
            .bearer_auth(secret)
            .send()
            .unwrap()
            .status(),
        401
    );
    assert_eq!(s.admin_delete("/api/v1/keys/key_nope").status(), 404);
    let bad = s.admin_post("/api/v1/keys", &json!({"kind": "root"}));
    assert_eq!(
        (
            bad.status().as_u16(),
            bad.json::<Value>().unwrap()["code"].clone()
        ),
        (400, json!("invalid_key_kind"))
    );
}

#[test]
fn the_cli_manages_keys_in_the_data_directory() {
    let mut s = Server::start();
    s.terminate();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin())
            .arg("keys")
            .arg("--data-dir")
            .arg(&s.dir)
            .args(s.database_flags())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let created = run(&["create", "--kind", "write", "--name", "android"]);
    let id = created.split_whitespace().nth(3).unwrap().to_owned();
    assert!(created.lines().nth(1).unwrap().starts_with("hwk_"));
    let listed = run(&["list"]);
    assert!(listed.contains("android"));
    assert!(
        listed.contains("from HERALD_WRITE_KEY"),
        "the server's own keys: {listed}"
    );
    run(&["revoke", &id]);
    assert!(run(&["list"])
        .lines()
        .any(|l| l.starts_with(&id) && l.contains("revoked")));
}

#[test]
fn the_live_tail_streams_committed_events() {
    let s = Server::start();
    let response = s
        .http
        .get(format!("{}/api/v1/tail?type=track", s.url))
        .bearer_auth(ADMIN_KEY)
        .timeout(Duration::from_secs(10))
        .send()
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut lines = BufReader::new(response).lines();
    let mut next_message = move || {
        let mut kind = String::new();
        loop {
            let line = lines.next().expect("stream ended").unwrap();
            if let Some(k) = line.strip_prefix("event: ") {
                kind = k.to_owned();
            } else if let Some(d) = line.strip_prefix("data: ") {
                return (kind, d.to_owned());
            }
        }
    };
    // The stream says when it is live; everything sent afterwards must arrive (no sleep: a
    // cluster node's follower attaching late must start where the subscription did).
    assert_eq!(next_message().0, "ready");
    let sender = std::thread::spawn({
        let url = s.url.clone();
        move || {
            let c = reqwest::blocking::Client::new();
            for (i, body) in [
                json!({"type":"page","anonymousId":"a","messageId":"tail-0"}),
                json!({"type":"track","userId":"t","event":"Live","messageId":"tail-1"}),
            ]
            .iter()
            .enumerate()
            {
                let path = if i == 0 { "/v1/page" } else { "/v1/track" };
                let r = c
                    .post(format!("{url}{path}"))
                    .basic_auth(WRITE_KEY, Some(""))
                    .json(body)
                    .send()
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        }
    });
    let (kind, data) = next_message();
    assert_eq!(kind, "event", "{data}");
    sender.join().unwrap();
    let event: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(
        (event["messageId"].as_str(), event["event"].as_str()),
        (Some("tail-1"), Some("Live")),
        "the page was filtered out"
    );
    assert!(event["seq"].as_u64().is_some());
}

#[test]
fn operations_endpoints_and_openapi() {
    let mut s = Server::start();
    let get = |p: &str| s.http.get(format!("{}{p}", s.url)).send().unwrap();
    assert_eq!(
        get("/healthz").json::<Value>().unwrap(),
        json!({"status": "ok"})
    );
    assert_eq!(
        get("/readyz").json::<Value>().unwrap(),
        json!({"status": "ready"})
    );
    s.post("/v1/track", &track("m", "E", "metric-1"));
    s.wait_processed();
    let metrics = get("/metrics").text().unwrap();
    for name in [
        "herald_events_received_total{type=\"track\"} 1",
        "herald_events_stored_total 1",
        "herald_ingest_commit_seconds_bucket",
        "herald_events_processed_total 1",
        "herald_processor_lag_events 0",
    ] {
        assert!(metrics.contains(name), "missing {name} in\n{metrics}");
    }
    let doc: Value = get("/openapi.json").json().unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/batch",
        "/api/v1/profiles/{id}",
        "/api/v1/profiles/{id}/events",
        "/api/v1/merges/{merge_id}/undo",
        "/api/v1/tail",
        "/metrics",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    assert!(get("/docs").text().unwrap().contains("/openapi.json") || get("/docs").status() == 200);
    let nf = get("/nope");
    assert_eq!(
        (
            nf.status().as_u16(),
            nf.json::<Value>().unwrap()["code"].clone()
        ),
        (404, json!("route_not_found"))
    );
    assert!(s.terminate().success(), "SIGTERM stops cleanly");
}

/// An event in the log that cannot be read back (a bug of an older version, a disk fault) is
/// quarantined and processing goes on past it; `/readyz` says degraded meanwhile; an admin
/// inspects, retries and discards it. The same in cluster mode.
#[test]
fn unreadable_events_are_quarantined_and_processing_goes_on() {
    let s = Server::start();
    assert_eq!(
        s.post("/v1/track", &track("q1", "Before", "q-before"))
            .status(),
        200
    );
    s.wait_processed();
    let not_json = br#"{"type":"track","userId":"q2","#;
    let bad_time = br#"{"type":"track","userId":"q2","event":"Fixed","messageId":"q-bad","timestamp":"not a time","receivedAt":"2026-01-01T00:00:00.000Z"}"#;
    let first = s.inject_raw_event(not_json);
    let second = s.inject_raw_event(bad_time);
    assert_eq!(
        s.post("/v1/track", &track("q3", "After", "q-after"))
            .status(),
        200
    );
    let status = s.wait_processed();
    assert_eq!(status["quarantined_events"], 2, "{status}");
    assert_eq!(s.profile("user_id:q3")["event_counts"]["After"], 1);

    let list = s.admin_json("/api/v1/quarantine");
    let seqs: Vec<u64> = list["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        (seqs, &list["total"]),
        (vec![first, second], &json!(2)),
        "{list}"
    );
    assert!(
        list["events"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("JSON"),
        "{list}"
    );
    assert!(
        list["events"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("timestamp"),
        "{list}"
    );
    let page = s.admin_json("/api/v1/quarantine?limit=1");
    assert_eq!(
        (
            page["events"].as_array().unwrap().len(),
            &page["next_after"]
        ),
        (1, &json!(first))
    );
    let one = s.admin_json(&format!("/api/v1/quarantine/{second}"));
    assert_eq!(one["stored"], std::str::from_utf8(bad_time).unwrap());

    let ready = s.http.get(format!("{}/readyz", s.url)).send().unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().unwrap();
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert!(
        ready["problems"][0]
            .as_str()
            .unwrap()
            .contains("2 event(s) quarantined"),
        "{ready}"
    );
    let metrics = s.metrics().unwrap();
    assert!(
        [
            "herald_events_quarantined_total 2",
            "herald_quarantined_events 2"
        ]
        .iter()
        .all(|m| metrics.lines().any(|l| l == *m)),
        "{metrics}"
    );

    // Retrying what still cannot be read changes nothing.
    let r = s.admin_post(&format!("/api/v1/quarantine/{first}/retry"), &json!({}));
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().unwrap()["code"], "still_failing");
    assert_eq!(s.status()["quarantined_events"], 2);
    let r = s.admin_post("/api/v1/quarantine/999999/retry", &json!({}));
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().unwrap()["code"], "not_quarantined");

    if !cluster_backend() {
        // "After an upgrade": the stored event reads back now (here: repaired in place); a
        // retry applies it and takes it out of quarantine.
        let log = rusqlite::Connection::open(s.dir.join("log.db")).unwrap();
        log.busy_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        let repaired = std::str::from_utf8(bad_time)
            .unwrap()
            .replace("not a time", "2026-01-01T00:00:00.000Z");
        log.execute(
            "UPDATE events SET payload = ?1 WHERE seq = ?2",
            rusqlite::params![repaired, second],
        )
        .unwrap();
        let r = s.admin_post(&format!("/api/v1/quarantine/{second}/retry"), &json!({}));
        assert_eq!(r.status(), 204);
        assert_eq!(s.profile("user_id:q2")["event_counts"]["Fixed"], 1);
    } else {
        assert_eq!(
            s.admin_delete(&format!("/api/v1/quarantine/{second}"))
                .status(),
            204
        );
    }
    // Discarding removes it from the quarantine and the log.
    assert_eq!(
        s.admin_delete(&format!("/api/v1/quarantine/{first}"))
            .status(),
        204
    );
    assert_eq!(
        s.admin_get(&format!("/api/v1/quarantine/{first}")).status(),
        404
    );
    assert_eq!(
        s.admin_delete(&format!("/api/v1/quarantine/{first}"))
            .status(),
        404
    );
    let status = s.status();
    assert_eq!(
        (&status["quarantined_events"], &status["discarded_events"]),
        (&json!(0), &json!(if cluster_backend() { 2 } else { 1 })),
        "{status}"
    );
    let ready: Value = s
        .http
        .get(format!("{}/readyz", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(ready, json!({"status": "ready"}));
}

/// What the framework used to answer in plain text (a body it cannot read, a query string of
/// the wrong shape, an unknown route, a wrong method) is the JSON error body with a code.
#[test]
fn unreadable_requests_get_json_errors_with_codes() {
    let s = Server::start();
    let request = |method: reqwest::Method, path: &str| {
        s.http
            .request(method, format!("{}{path}", s.url))
            .bearer_auth(ADMIN_KEY)
    };
    let json_body = |body: &str| {
        request(reqwest::Method::POST, "/api/v1/keys")
            .header("content-type", "application/json")
            .body(body.to_owned())
    };
    let cases = [
        ("bad JSON", json_body("{\"kind\": "), 400, "invalid_json"),
        ("missing field", json_body("{}"), 422, "unprocessable_body"),
        (
            "mistyped field",
            json_body("{\"kind\": 1}"),
            422,
            "unprocessable_body",
        ),
        (
            "no content type",
            request(reqwest::Method::POST, "/api/v1/keys").body("{\"kind\": \"write\"}"),
            415,
            "unsupported_media_type",
        ),
        (
            "bad query string",
            request(
                reqwest::Method::GET,
                "/api/v1/profiles/user_id:1/events?limit=many",
            ),
            400,
            "invalid_query",
        ),
        (
            "unknown route",
            request(reqwest::Method::GET, "/api/v2/nothing"),
            404,
            "route_not_found",
        ),
        (
            "wrong method",
            request(reqwest::Method::PATCH, "/api/v1/keys"),
            405,
            "method_not_allowed",
        ),
    ];
    for (what, request, status, code) in cases {
        let response = request.send().unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{what}"
        );
        let body: Value = response.json().unwrap();
        assert_eq!(body["code"], code, "{what}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}"
        );
    }
    assert_eq!(
        s.admin_json("/api/v1/keys").as_array().unwrap().len(),
        2,
        "no key was created"
    );
}

/// The document generated clients are built from: query parameters are in the query, every
/// ingest path is there, admin operations document 401.
#[test]
fn the_openapi_document_describes_the_api() {
    let s = Server::start();
    let doc = s.openapi();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/v1/identify",
        "/v1/track",
        "/v1/page",
        "/v1/screen",
        "/v1/group",
        "/v1/alias",
        "/v1/batch",
        "/v1/import",
        "/v1/i",
        "/v1/t",
        "/v1/p",
        "/v1/s",
        "/v1/g",
        "/v1/a",
        "/v1/b",
    ] {
        assert!(paths[path]["post"]["operationId"].is_string(), "{path}");
    }
    let mut operation_ids = std::collections::HashSet::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation_ids.insert(operation["operationId"].as_str().unwrap().to_owned()),
                "{method} {path}: operationId repeated"
            );
            // Signing out needs no authentication (there may be no session left to end).
            if path.starts_with("/api/") && !(path == "/api/v1/session" && method == "delete") {
                assert!(operation["responses"]["401"].is_object(), "{method} {path}");
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    parameter["in"],
                    if in_path { "path" } else { "query" },
                    "{method} {path} {name}"
                );
            }
        }
    }
    let rule = &doc["components"]["schemas"]["AudienceInput"]["properties"]["rule"];
    assert_eq!(rule["oneOf"].as_array().map(Vec::len), Some(2), "{rule}");
}
