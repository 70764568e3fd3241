//! Audiences and computed traits over HTTP: definitions (text and JSON forms, bad input),
//! live membership, backfill of a new audience, memberships that change with time alone, and
//! timers that survive a crash.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{Duration as Span, Utc};
use common::*;
use serde_json::{json, Value};

fn member_ids(s: &Server, audience: &str) -> BTreeSet<String> {
    let page = s.admin_json(&format!("/api/v1/audiences/{audience}/members?limit=1000"));
    page["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["profile_id"].as_str().unwrap().to_owned())
        .collect()
}

fn profile_id(s: &Server, id: &str) -> String {
    s.profile(id)["profile_id"].as_str().unwrap().to_owned()
}

fn wait_members(s: &Server, audience: &str, expected: &BTreeSet<String>) {
    eventually(20, &format!("members of {audience} = {expected:?}"), || {
        (member_ids(s, audience) == *expected).then_some(())
    });
}

fn ts(offset: Span) -> String {
    herald_core::event::rfc3339(Utc::now() + offset)
}

#[test]
fn live_membership_reasons_exports_and_history() {
    let s = Server::start();
    let computed = s.admin_put(
        "/api/v1/computed-traits/revenue_total",
        &json!({"aggregate": "sum", "event": "Order Completed", "property": "revenue"}),
    );
    assert_eq!(computed.status(), 200, "{}", computed.text().unwrap());
    let text = r#"trait plan = "trial" and performed "Checkout Started" >= 1 in last 7 days where cart_value > 50 and not performed "Order Completed" in last 7 days"#;
    let created = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "abandoned_trials", "name": "Trials who abandoned a checkout", "rule": text}),
    );
    assert_eq!(created.status(), 201, "{}", created.text().unwrap());
    let created: Value = created.json().unwrap();
    assert_eq!(
        created["rule"]["and"][0],
        json!({"trait": "plan", "op": "eq", "value": "trial"})
    );
    let big = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "big_spenders", "rule": {"computed": "revenue_total", "op": "gte", "value": 100}}),
    );
    assert_eq!(big.status(), 201);
    assert_eq!(
        big.json::<Value>().unwrap()["rule_text"],
        "computed revenue_total >= 100"
    );

    let events = json!({"batch": [
        {"type": "identify", "userId": "ana", "traits": {"plan": "trial"}},
        {"type": "track", "userId": "ana", "event": "Checkout Started", "properties": {"cart_value": 80}},
        {"type": "identify", "userId": "bob", "traits": {"plan": "trial"}},
        {"type": "track", "userId": "bob", "event": "Checkout Started", "properties": {"cart_value": 20}},
        {"type": "identify", "userId": "cy", "traits": {"plan": "pro"}},
        {"type": "track", "userId": "cy", "event": "Order Completed", "properties": {"revenue": 60}},
        {"type": "track", "userId": "cy", "event": "Order Completed", "properties": {"revenue": 45.5}},
    ]});
    assert_eq!(s.post("/v1/batch", &events).status(), 200);
    let ana = profile_id(&s, "user_id:ana");
    let cy = profile_id(&s, "user_id:cy");
    wait_members(&s, "abandoned_trials", &BTreeSet::from([ana.clone()]));
    wait_members(&s, "big_spenders", &BTreeSet::from([cy.clone()]));
    assert_eq!(
        s.profile("user_id:cy")["computed_traits"]["revenue_total"],
        json!(105.5)
    );

    // Ana completes the order: she leaves, live, on that event.
    let order = json!({"type": "track", "userId": "ana", "event": "Order Completed", "properties": {"revenue": 10}});
    assert_eq!(s.post("/v1/track", &order).status(), 200);
    wait_members(&s, "abandoned_trials", &BTreeSet::new());

    // Why is Ana not in? The reason tree says which condition failed.
    let mine = s.admin_json("/api/v1/profiles/user_id:ana/audiences");
    let abandoned = mine["audiences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["audience_id"] == "abandoned_trials")
        .unwrap();
    assert_eq!(abandoned["member"], false);
    let conditions = abandoned["reason"]["conditions"].as_array().unwrap();
    assert_eq!(conditions[0]["result"], true);
    assert_eq!(conditions[0]["seen"], "trial");
    assert_eq!(conditions[1]["seen"], 1);
    assert_eq!(conditions[2]["result"], false);
    assert_eq!(
        conditions[2]["condition"],
        r#"not performed "Order Completed" in last 7 days"#
    );

    let history = s.admin_json("/api/v1/profiles/user_id:ana/audience-history");
    let changes: Vec<(String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["audience_id"].as_str().unwrap().to_owned(),
                c["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("abandoned_trials".to_owned(), "exited".to_owned()),
            ("abandoned_trials".to_owned(), "entered".to_owned())
        ]
    );
    assert_eq!(history[0]["cause"]["kind"], "event");

    let csv = s.admin_get("/api/v1/audiences/big_spenders/members.csv");
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let body = csv.text().unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "profile_id,entered_at");
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with(&format!("{cy},")));

    // Summed over the days (the test may cross a UTC midnight): one entry, one exit.
    let sizes = s.admin_json("/api/v1/audiences/abandoned_trials/size-history");
    let days = sizes.as_array().unwrap();
    let sum = |field: &str| days.iter().map(|d| d[field].as_u64().unwrap()).sum::<u64>();
    assert_eq!(
        (
            sum("entered"),
            sum("exited"),
            days.last().unwrap()["size"].as_i64()
        ),
        (1, 1, Some(0))
    );

    // Preview a draft rule before saving it: every trial profile matches.
    let preview = s.admin_post(
        "/api/v1/audiences/preview",
        &json!({"rule": r#"trait plan = "trial""#}),
    );
    assert_eq!(preview.status(), 200);
    let preview: Value = preview.json().unwrap();
    assert_eq!(preview["matched"], 2);
    assert_eq!(preview["estimated_size"], 2);
    assert_eq!(preview["total_profiles"], 3);

    // Deleting the computed trait an audience uses is refused; deleting the audience first works.
    assert_eq!(
        s.admin_delete("/api/v1/computed-traits/revenue_total")
            .status(),
        409
    );
    assert_eq!(
        s.admin_delete("/api/v1/audiences/big_spenders").status(),
        204
    );
    assert_eq!(
        s.admin_delete("/api/v1/computed-traits/revenue_total")
            .status(),
        204
    );
    assert_eq!(
        s.admin_get("/api/v1/audiences/big_spenders/members")
            .status(),
        404
    );
}

#[test]
fn bad_definitions_are_refused_with_the_place_of_the_problem() {
    let s = Server::start();
    let text_error = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "x", "rule": "trait plan == 1"}),
    );
    assert_eq!(text_error.status(), 400);
    let body: Value = text_error.json().unwrap();
    assert_eq!(body["code"], "invalid_rule");
    assert_eq!(
        body["location"],
        json!({"line": 1, "column": 13, "offset": 12})
    );

    let json_error = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "x", "rule": {"or": [{"trait": "a", "op": "eq", "value": 1}, {"performed": "E", "window": {"last": "7 parsecs"}}]}}),
    );
    assert_eq!(json_error.status(), 400);
    let body: Value = json_error.json().unwrap();
    assert_eq!(body["location"], json!({"path": "/or/1/window/last"}));

    let unknown = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "x", "rule": r#"in audience "nope""#}),
    );
    assert_eq!(unknown.status(), 409);
    assert_eq!(
        unknown.json::<Value>().unwrap()["code"],
        "invalid_definitions"
    );

    assert_eq!(
        s.admin_post(
            "/api/v1/audiences",
            &json!({"id": "a", "rule": r#"trait x = 1"#})
        )
        .status(),
        201
    );
    assert_eq!(
        s.admin_post(
            "/api/v1/audiences",
            &json!({"id": "b", "rule": r#"in audience "a""#})
        )
        .status(),
        201
    );
    let cycle = s.admin_put(
        "/api/v1/audiences/a",
        &json!({"rule": r#"in audience "b""#}),
    );
    assert_eq!(cycle.status(), 409);
    assert!(cycle.json::<Value>().unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("cycle"));
    let duplicate = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "a", "rule": r#"trait x = 2"#}),
    );
    assert_eq!(duplicate.status(), 409);
    assert_eq!(
        duplicate.json::<Value>().unwrap()["code"],
        "audience_exists"
    );
    let bad_id = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "Robert'); DROP TABLE profiles;--", "rule": "trait x = 1"}),
    );
    assert_eq!(bad_id.status(), 400);
    assert_eq!(bad_id.json::<Value>().unwrap()["code"], "invalid_id");
    let bad_computed = s.admin_put(
        "/api/v1/computed-traits/total",
        &json!({"aggregate": "median", "property": "x"}),
    );
    assert_eq!(bad_computed.status(), 400);
    assert_eq!(
        bad_computed.json::<Value>().unwrap()["location"],
        json!({"path": "/aggregate"})
    );
    // Hostile nesting is an error, not a crash.
    let deep = format!("{}trait a = 1{}", "(".repeat(50_000), ")".repeat(50_000));
    let nested = s.admin_post("/api/v1/audiences", &json!({"id": "deep", "rule": deep}));
    assert_eq!(nested.status(), 400);
    assert!(nested.json::<Value>().unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("nested"));
    assert_eq!(s.admin_json("/healthz")["status"], "ok");
    // Nothing changed: the two valid audiences, unedited.
    let list = s.admin_json("/api/v1/audiences");
    let rules: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule_text"].as_str().unwrap())
        .collect();
    assert_eq!(rules, [r#"trait x = 1"#, r#"in audience "a""#]);
}

#[test]
fn a_new_audience_is_backfilled_from_history() {
    let s = Server::start();
    let batch: Vec<Value> = (0..300)
        .map(|i| json!({"type": "track", "userId": format!("u{i}"), "event": if i % 3 == 0 { "Signed Up" } else { "Visited" }}))
        .collect();
    assert_eq!(s.post("/v1/batch", &json!({"batch": batch})).status(), 200);
    s.wait_processed();
    let created = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "signed_up", "rule": r#"performed "Signed Up""#}),
    );
    assert_eq!(created.status(), 201);
    let done = eventually(30, "the backfill", || {
        let a = s.admin_json("/api/v1/audiences/signed_up");
        (a["ready"] == true).then_some(a)
    });
    assert_eq!(done["size"], 100);
    assert_eq!(done["backfill"]["state"], "done");
    assert_eq!(done["backfill"]["done"], 300);
    let history = s.admin_json("/api/v1/profiles/user_id:u0/audience-history");
    assert_eq!(history[0]["cause"]["kind"], "backfill");
    // The CLI follows the backfill and then lists the audiences with their sizes.
    let watch = std::process::Command::new(bin())
        .args([
            "audiences",
            "watch",
            "--url",
            &s.url,
            "--admin-key",
            ADMIN_KEY,
        ])
        .output()
        .unwrap();
    assert!(
        watch.status.success(),
        "{}",
        String::from_utf8_lossy(&watch.stderr)
    );
    let listing = String::from_utf8(watch.stdout).unwrap();
    let line = listing
        .lines()
        .find(|l| l.starts_with("signed_up"))
        .expect(&listing);
    assert!(line.contains(" 100 members"), "{line}");
}

/// Wait until every audience is ready (the backfill of the latest definitions finished) and
/// return the members of `audience` as user ids.
fn ready_members(s: &Server, audience: &str, users: &BTreeMap<String, usize>) -> BTreeSet<usize> {
    eventually(30, &format!("{audience} ready"), || {
        (s.admin_json(&format!("/api/v1/audiences/{audience}"))["ready"] == true).then_some(())
    });
    member_ids(s, audience).iter().map(|p| users[p]).collect()
}

/// After audiences exist, adding one over a new event condition rebuilds only that condition's
/// facts, and editing a rule or a computed trait re-evaluates only what changed: each step
/// must still give exactly the members the rules define.
#[test]
fn adding_and_editing_definitions_on_a_loaded_server_keeps_every_audience_exact() {
    let s = Server::start();
    let n = 120;
    let mut batch = Vec::new();
    for i in 0..n {
        let user = format!("u{i}");
        let plan = if i % 2 == 0 { "pro" } else { "free" };
        batch.push(json!({"type": "identify", "userId": user, "traits": {"plan": plan}}));
        batch.push(json!({"type": "track", "userId": user, "event": "Visited", "properties": {"n": i % 4}}));
        if i % 5 == 0 {
            batch.push(json!({"type": "track", "userId": user, "event": "Bought"}));
        }
    }
    assert_eq!(s.post("/v1/batch", &json!({"batch": batch})).status(), 200);
    s.wait_processed();
    let users: BTreeMap<String, usize> = (0..n)
        .map(|i| (profile_id(&s, &format!("user_id:u{i}")), i))
        .collect();
    let which = |f: &dyn Fn(usize) -> bool| (0..n).filter(|i| f(*i)).collect::<BTreeSet<_>>();
    let create = |id: &str, rule: &str| {
        let r = s.admin_post("/api/v1/audiences", &json!({"id": id, "rule": rule}));
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    };
    let edit = |id: &str, rule: &str| {
        let r = s.admin_put(&format!("/api/v1/audiences/{id}"), &json!({"rule": rule}));
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    };
    let computed = |aggregate: &str| {
        let r = s.admin_put(
            "/api/v1/computed-traits/n_total",
            &json!({"aggregate": aggregate, "event": "Visited", "property": "n"}),
        );
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    };

    create("pro", r#"trait plan = "pro""#);
    assert_eq!(ready_members(&s, "pro", &users), which(&|i| i % 2 == 0));
    // A new event condition on profiles that already have audience state. Only the profiles
    // with a `Bought` event can enter it, so only those are visited.
    create("buyers", r#"performed "Bought""#);
    assert_eq!(ready_members(&s, "buyers", &users), which(&|i| i % 5 == 0));
    let backfill = &s.admin_json("/api/v1/audiences/buyers")["backfill"];
    let buyers = which(&|i| i % 5 == 0).len();
    assert_eq!(
        (backfill["done"].as_u64(), backfill["total"].as_u64()),
        (Some(buyers as u64), Some(buyers as u64)),
        "{backfill}"
    );
    assert_eq!(ready_members(&s, "pro", &users), which(&|i| i % 2 == 0));
    // An edited rule over the same facts: nothing to rebuild, but it must be evaluated again.
    edit("pro", r#"trait plan = "free""#);
    assert_eq!(ready_members(&s, "pro", &users), which(&|i| i % 2 == 1));
    assert_eq!(ready_members(&s, "buyers", &users), which(&|i| i % 5 == 0));
    // A computed trait and an audience over it; then the trait's aggregate changes (the same
    // fact), which must move the audience that reads it.
    computed("sum");
    create("high", "computed n_total >= 2");
    assert_eq!(ready_members(&s, "high", &users), which(&|i| i % 4 >= 2));
    computed("count");
    assert_eq!(ready_members(&s, "high", &users), BTreeSet::new());
    // A shorter window over a kept fact, then a condition on another event name.
    edit("buyers", r#"performed "Bought" in last 7 days"#);
    assert_eq!(ready_members(&s, "buyers", &users), which(&|i| i % 5 == 0));
    edit("buyers", r#"performed "Visited" where n = 3"#);
    assert_eq!(ready_members(&s, "buyers", &users), which(&|i| i % 4 == 3));
    assert_eq!(ready_members(&s, "pro", &users), which(&|i| i % 2 == 1));
}

/// Time alone moves people, and a pending timer survives `kill -9`.
#[test]
fn time_moves_people_without_new_events_and_timers_survive_a_crash() {
    // The server's clock is moved forward by the test, so no margin depends on how fast a
    // loaded machine processes.
    let mut s = Server::start_with(&["--test-clock"]);
    for (id, rule) in [
        ("pinged_recently", r#"performed "Ping" in last 1 hours"#),
        ("old_accounts", r#"trait created_at more than 1 hours ago"#),
    ] {
        assert_eq!(
            s.admin_post("/api/v1/audiences", &json!({"id": id, "rule": rule}))
                .status(),
            201
        );
    }
    // A ping 30 minutes ago: inside the window for 30 more minutes.
    let ping = json!({"type": "track", "userId": "ana", "event": "Ping", "timestamp": ts(Span::minutes(-30))});
    // An account created 30 minutes ago: more than an hour old in 30 minutes.
    let signup = json!({"type": "identify", "userId": "bob", "traits": {"created_at": ts(Span::minutes(-30))}});
    assert_eq!(
        s.post("/v1/batch", &json!({"batch": [ping, signup]}))
            .status(),
        200
    );
    let ana = profile_id(&s, "user_id:ana");
    let bob = profile_id(&s, "user_id:bob");
    wait_members(&s, "pinged_recently", &BTreeSet::from([ana.clone()]));
    assert!(
        member_ids(&s, "old_accounts").is_empty(),
        "bob is not an hour old yet"
    );

    // Crash before the timers are due; after the restart nothing moves until their time
    // comes, then they fire.
    s.crash_and_restart();
    s.wait_processed();
    assert_eq!(
        member_ids(&s, "pinged_recently"),
        BTreeSet::from([ana.clone()])
    );
    assert!(member_ids(&s, "old_accounts").is_empty());
    s.advance_clock(Duration::from_secs(31 * 60));
    wait_members(&s, "old_accounts", &BTreeSet::from([bob.clone()]));
    wait_members(&s, "pinged_recently", &BTreeSet::new());
    let history = s.admin_json("/api/v1/profiles/user_id:ana/audience-history");
    assert_eq!(history[0]["change"], "exited");
    assert_eq!(history[0]["cause"]["kind"], "time");
    let bob_history = s.admin_json("/api/v1/profiles/user_id:bob/audience-history");
    assert_eq!(bob_history[0]["change"], "entered");
    assert_eq!(bob_history[0]["cause"]["kind"], "time");
}

#[test]
fn refusals_name_what_is_in_use_and_never_the_preview_draft() {
    let s = Server::start();
    for (id, rule) in [
        ("a", r#"trait x = 1"#),
        ("b", r#"in audience "a""#),
        ("c", r#"in audience "a" or in audience "b""#),
    ] {
        let r = s.admin_post("/api/v1/audiences", &json!({"id": id, "rule": rule}));
        assert_eq!(r.status(), 201, "{id}");
    }
    let refused = s.admin_delete("/api/v1/audiences/a");
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().unwrap();
    assert_eq!(body["code"], "audience_in_use");
    assert_eq!(
        body["message"],
        "audience `a` is in use by audiences `b`, `c`; change or delete those first"
    );
    assert_eq!(
        s.admin_get("/api/v1/audiences/a").status(),
        200,
        "still there"
    );

    assert_eq!(
        s.admin_put(
            "/api/v1/computed-traits/spent",
            &json!({"aggregate": "count"})
        )
        .status(),
        200
    );
    assert_eq!(
        s.admin_post(
            "/api/v1/audiences",
            &json!({"id": "d", "rule": "computed spent > 2"})
        )
        .status(),
        201
    );
    let refused = s.admin_delete("/api/v1/computed-traits/spent");
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().unwrap();
    assert_eq!(body["code"], "computed_trait_in_use");
    assert_eq!(
        body["message"],
        "computed trait `spent` is in use by audience `d`; change or delete those first"
    );

    for (rule, message) in [
        (
            r#"in audience "nope""#,
            "the rule refers to unknown audience `nope`",
        ),
        (
            r#"in audience "__preview__""#,
            "the rule refers to unknown audience `__preview__`",
        ),
        (
            "computed nope > 1",
            "the rule refers to unknown computed trait `nope`",
        ),
    ] {
        let r = s.admin_post("/api/v1/audiences/preview", &json!({"rule": rule}));
        assert_eq!(r.status(), 409, "{rule}");
        let body: Value = r.json().unwrap();
        assert_eq!(body["code"], "invalid_definitions", "{rule}");
        assert_eq!(body["message"], message, "{rule}");
    }
}

#[test]
fn create_and_edit_show_the_backfill_of_their_own_version() {
    let s = Server::start();
    let batch: Vec<Value> = (0..50)
        .map(|i| json!({"type": "track", "userId": format!("u{i}"), "event": "Visited"}))
        .collect();
    assert_eq!(s.post("/v1/batch", &json!({"batch": batch})).status(), 200);
    s.wait_processed();
    let first: Value = s
        .admin_post(
            "/api/v1/audiences",
            &json!({"id": "first", "rule": r#"performed "Visited""#}),
        )
        .json()
        .unwrap();
    let first_version = first["backfill"]["version"].as_u64().unwrap();
    eventually(30, "the first backfill", || {
        (s.admin_json("/api/v1/audiences/first")["ready"] == true).then_some(())
    });
    let consistent = |view: &Value, version: u64| {
        assert_eq!(view["backfill"]["version"], version, "{view}");
        let state = view["backfill"]["state"].as_str().unwrap();
        assert!(["pending", "running", "done"].contains(&state), "{view}");
        assert_eq!(view["ready"], state == "done", "{view}");
        if state == "pending" {
            assert_eq!(view["backfill"]["started_at"], Value::Null, "{view}");
        }
    };
    let second = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "second", "rule": r#"performed "Visited" >= 2"#}),
    );
    assert_eq!(second.status(), 201);
    let second: Value = second.json().unwrap();
    consistent(&second, first_version + 1);
    let edited: Value = s
        .admin_put(
            "/api/v1/audiences/first",
            &json!({"rule": r#"performed "Visited" >= 3"#}),
        )
        .json()
        .unwrap();
    consistent(&edited, first_version + 2);
    let done = eventually(30, "the last backfill", || {
        let a = s.admin_json("/api/v1/audiences/first");
        (a["ready"] == true).then_some(a)
    });
    consistent(&done, first_version + 2);
    assert_eq!(done["backfill"]["state"], "done");
}

/// 2,000 profiles whose last 200 (by creation, so by id) are on the pro plan: a preview that
/// read the first profiles by id estimated 0. A uniform sample's 95% interval holds 200.
#[test]
fn previews_sample_uniformly_and_give_a_confidence_interval() {
    let s = Server::start();
    let batch: Vec<Value> = (0..2000)
        .map(|i| {
            let plan = if i >= 1800 { "pro" } else { "free" };
            json!({"type": "identify", "userId": format!("u{i:04}"), "traits": {"plan": plan}})
        })
        .collect();
    for chunk in batch.chunks(500) {
        assert_eq!(s.post("/v1/batch", &json!({"batch": chunk})).status(), 200);
    }
    s.wait_processed();
    let preview = |body: Value| -> Value {
        let r = s.admin_post("/api/v1/audiences/preview", &body);
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    };
    let rule = r#"trait plan = "pro""#;
    let p = preview(json!({"rule": rule, "sample_size": 300, "seed": 11}));
    assert_eq!(
        (p["total_profiles"].as_u64(), p["sampled"].as_u64()),
        (Some(2000), Some(300))
    );
    assert_eq!(p["confidence"], 0.95);
    let (low, high) = (
        p["estimated_size_low"].as_u64().unwrap(),
        p["estimated_size_high"].as_u64().unwrap(),
    );
    let estimate = p["estimated_size"].as_u64().unwrap();
    assert!(low <= estimate && estimate <= high, "{p}");
    assert!(
        low <= 200 && 200 <= high,
        "the interval holds the true size: {p}"
    );
    assert!(high - low < 400, "and is informative: {p}");
    assert!(p["matched"].as_u64().unwrap() > 0, "{p}");
    // The same seed draws the same sample; another one (very likely) another.
    assert_eq!(
        preview(json!({"rule": rule, "sample_size": 300, "seed": 11})),
        p
    );
    let fresh = preview(json!({"rule": rule, "sample_size": 300}));
    assert!(fresh["seed"].is_u64());
    // Sampling everyone is exact.
    let all = preview(json!({"rule": rule, "sample_size": 5000}));
    assert_eq!(
        (
            all["estimated_size"].as_u64(),
            all["estimated_size_low"].as_u64(),
            all["estimated_size_high"].as_u64()
        ),
        (Some(200), Some(200), Some(200))
    );
}
