//! Insights, black-box: events sent with the Segment API, then trends, funnels and retention
//! compared with numbers this test computes from what it sent (docs/insights.md's words,
//! written small), before and after a merge (an identify joining an anonymous id to a user)
//! and after a GDPR deletion; bad queries get their codes; saved insights are kept.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::*;
use serde_json::{json, Value};

/// 2026-11-02, a Monday.
fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap() + Duration::days(d)
}

fn at(d: i64, hour: u32) -> DateTime<Utc> {
    day(d) + Duration::hours(hour as i64)
}

/// One sent event as the test models it: whose (an identifier), what, when, `plan`.
#[derive(Clone, Debug)]
struct Sent {
    who: String,
    name: String,
    ts: DateTime<Utc>,
    plan: Option<&'static str>,
}

/// What was sent, and which identifiers are one person now.
#[derive(Default)]
struct Model {
    events: Vec<Sent>,
    /// identifier -> the identifier that stands for its person.
    same: BTreeMap<String, String>,
    deleted: BTreeSet<String>,
}

impl Model {
    fn person(&self, who: &str) -> String {
        self.same
            .get(who)
            .cloned()
            .unwrap_or_else(|| who.to_owned())
    }

    /// Each live person's events in time order.
    fn people(&self) -> BTreeMap<String, Vec<Sent>> {
        let mut out: BTreeMap<String, Vec<Sent>> = BTreeMap::new();
        for e in &self.events {
            let p = self.person(&e.who);
            if !self.deleted.contains(&p) {
                out.entry(p).or_default().push(e.clone());
            }
        }
        for evs in out.values_mut() {
            evs.sort_by_key(|e| e.ts);
        }
        out
    }

    /// Per day of [day(0), day(days)): `name` events, or distinct people with one; per plan.
    fn trend(&self, name: &str, days: i64, people: bool) -> BTreeMap<String, Vec<u64>> {
        let mut cells: BTreeMap<String, Vec<BTreeSet<String>>> = BTreeMap::new();
        for (p, evs) in self.people() {
            for (i, e) in evs.iter().enumerate().filter(|(_, e)| e.name == name) {
                let d = (e.ts - day(0)).num_days();
                if (0..days).contains(&d) {
                    let series = e.plan.unwrap_or("(none)").to_owned();
                    let who = if people {
                        p.clone()
                    } else {
                        format!("{p}/{i}")
                    };
                    cells
                        .entry(series)
                        .or_insert_with(|| vec![BTreeSet::new(); days as usize])
                        [d as usize]
                        .insert(who);
                }
            }
        }
        cells
            .into_iter()
            .map(|(k, v)| (k, v.iter().map(|s| s.len() as u64).collect()))
            .collect()
    }

    /// People per step reached: attempts start at a step-1 event in [day(0), day(days)),
    /// each next step the earliest later event of its name within `window` of the start.
    fn funnel(&self, steps: &[&str], window: Duration, days: i64) -> Vec<u64> {
        let mut counts = vec![0; steps.len()];
        for evs in self.people().values() {
            let mut best = 0;
            for (i, e) in evs.iter().enumerate() {
                if e.name != steps[0] || e.ts < day(0) || e.ts >= day(days) {
                    continue;
                }
                let mut reached = 1;
                for later in &evs[i + 1..] {
                    if reached < steps.len()
                        && later.ts - e.ts <= window
                        && later.name == steps[reached]
                    {
                        reached += 1;
                    }
                }
                best = best.max(reached);
            }
            for c in counts.iter_mut().take(best) {
                *c += 1;
            }
        }
        counts
    }

    /// Daily cohorts by first `start` event in [day(0), day(days)): size, then people with
    /// any event k days later.
    fn retention(&self, start: &str, days: i64, periods: i64) -> Vec<Vec<u64>> {
        let mut rows = vec![vec![0u64; periods as usize + 1]; days as usize];
        for evs in self.people().values() {
            let Some(first) = evs.iter().find(|e| e.name == start) else {
                continue;
            };
            let c = (first.ts - day(0)).num_days();
            if first.ts < day(0) || c >= days {
                continue;
            }
            rows[c as usize][0] += 1;
            for k in 1..=periods {
                if evs
                    .iter()
                    .any(|e| e.ts > first.ts && (e.ts - day(0)).num_days() == c + k)
                {
                    rows[c as usize][k as usize] += 1;
                }
            }
        }
        rows
    }
}

fn track(
    who: &str,
    name: &str,
    ts: DateTime<Utc>,
    plan: Option<&'static str>,
    m: &mut Model,
    id: &str,
) -> Value {
    m.events.push(Sent {
        who: who.to_owned(),
        name: name.to_owned(),
        ts,
        plan,
    });
    let mut e =
        json!({"type": "track", "event": name, "messageId": id, "timestamp": ts.to_rfc3339()});
    e[if who.starts_with("anon") {
        "anonymousId"
    } else {
        "userId"
    }] = json!(who);
    if let Some(p) = plan {
        e["properties"] = json!({"plan": p, "nested": {"ignored": true}});
    }
    e
}

/// Ask until the index has loaded (503 `insights_warming` until then).
fn ask(s: &Server, path: &str, query: &Value) -> Value {
    eventually(60, "the insights index", || {
        let r = s.admin_post(path, query);
        match r.status().as_u16() {
            200 => Some(r.json::<Value>().unwrap()),
            503 => {
                assert_eq!(r.json::<Value>().unwrap()["code"], "insights_warming");
                None
            }
            other => panic!("{path}: {other} {}", r.text().unwrap()),
        }
    })
}

fn series(result: &Value) -> BTreeMap<String, Vec<u64>> {
    result["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let label = match s["breakdown"]["kind"].as_str().unwrap() {
                "value" => s["breakdown"]["value"].as_str().unwrap().to_owned(),
                "none" => "(none)".to_owned(),
                other => panic!("unexpected series {other}"),
            };
            (
                label,
                s["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .collect(),
            )
        })
        .collect()
}

const STEPS: [&str; 3] = ["Signup", "Viewed", "Purchased"];

/// Every query, against the model; polled, since a cluster node sees a merge or deletion
/// once the transactions before it have ended.
fn check(s: &Server, m: &Model, when: &str) {
    s.wait_processed();
    let trend = |measure: &str| {
        json!({"from": day(0).to_rfc3339(), "to": day(7).to_rfc3339(), "interval": "day", "measure": measure,
               "event": {"name": "Viewed"}, "breakdown": {"property": "plan"}})
    };
    let funnel = json!({"from": day(0).to_rfc3339(), "to": day(7).to_rfc3339(), "windowMs": 2 * 86_400_000,
        "steps": STEPS.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()});
    let retention = json!({"from": day(0).to_rfc3339(), "to": day(4).to_rfc3339(), "period": "day", "periods": 3,
        "startEvent": {"name": "Signup"}});
    let want = (
        m.trend("Viewed", 7, false),
        m.trend("Viewed", 7, true),
        m.funnel(&STEPS, Duration::days(2), 7),
        m.retention("Signup", 4, 3),
    );
    let mut last = None;
    eventually(30, &format!("insights to match the events {when}"), || {
        let got = (
            series(&ask(s, "/api/v1/insights/trends", &trend("events"))),
            series(&ask(s, "/api/v1/insights/trends", &trend("profiles"))),
            ask(s, "/api/v1/insights/funnels", &funnel)["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|st| st["count"].as_u64().unwrap())
                .collect::<Vec<_>>(),
            ask(s, "/api/v1/insights/retention", &retention)["cohorts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    c["values"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_u64().unwrap())
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>(),
        );
        let matched = got == want;
        last = Some(got);
        matched.then_some(())
    });
    assert_eq!(last.unwrap(), want, "{when}");
}

#[test]
fn trends_funnels_and_retention_follow_the_events_merges_and_deletions() {
    let s = Server::start();
    let mut m = Model::default();
    let mut n = 0;
    let mut id = || {
        n += 1;
        format!("ins-{n}")
    };
    let batch = vec![
        track("u6", "Viewed", at(2, 12), Some("pro"), &mut m, &id()),
        track("u6", "Purchased", at(3, 9), None, &mut m, &id()),
        track("u1", "Signup", at(0, 10), None, &mut m, &id()),
        track("u1", "Viewed", at(0, 12), Some("pro"), &mut m, &id()),
        track("u1", "Purchased", at(1, 9), None, &mut m, &id()),
        track("u1", "Viewed", at(2, 10), Some("pro"), &mut m, &id()),
        track("u2", "Signup", at(0, 11), None, &mut m, &id()),
        track("u2", "Viewed", at(3, 10), Some("free"), &mut m, &id()),
        track("u2", "Viewed", at(1, 8), Some("free"), &mut m, &id()),
        track("u3", "Signup", at(1, 10), None, &mut m, &id()),
        track("u3", "Viewed", at(1, 10), None, &mut m, &id()),
        track("u3", "Purchased", at(1, 11), None, &mut m, &id()),
        track("u4", "Viewed", at(2, 9), Some("free"), &mut m, &id()),
        track("anon-1", "Signup", at(2, 10), None, &mut m, &id()),
    ];
    assert_eq!(s.post("/v1/batch", &json!({"batch": batch})).status(), 200);
    check(&s, &m, "as sent");
    let before = m.funnel(&STEPS, Duration::days(2), 7);

    // anon-1 signs in as u6: one person, who now completes the funnel.
    m.events.push(Sent {
        who: "u6".into(),
        name: "identify".into(),
        ts: at(3, 12),
        plan: None,
    });
    m.same.insert("anon-1".into(), "u6".into());
    let identify = json!({"type": "identify", "userId": "u6", "anonymousId": "anon-1", "messageId": id(), "timestamp": at(3, 12).to_rfc3339()});
    assert_eq!(s.post("/v1/identify", &identify).status(), 200);
    check(&s, &m, "after the merge");
    assert!(
        m.funnel(&STEPS, Duration::days(2), 7)[2] > before[2],
        "the merge must change the funnel"
    );

    // u2 is deleted: every event of theirs is gone from every answer.
    assert_eq!(s.admin_delete("/api/v1/profiles/user_id:u2").status(), 200);
    m.deleted.insert("u2".into());
    check(&s, &m, "after the deletion");
}

#[test]
fn bad_queries_get_their_codes() {
    let s = Server::start();
    let from = day(0).to_rfc3339();
    let trend = |to: DateTime<Utc>, interval: &str| json!({"from": from, "to": to.to_rfc3339(), "interval": interval});
    ask(&s, "/api/v1/insights/trends", &trend(day(1), "day"));
    let cases = [
        (
            "/api/v1/insights/trends",
            trend(day(0), "day"),
            400,
            "invalid_range",
        ),
        (
            "/api/v1/insights/trends",
            trend(day(100), "hour"),
            400,
            "too_many_buckets",
        ),
        (
            "/api/v1/insights/trends",
            json!({"from": from, "to": day(1).to_rfc3339(), "interval": "week"}),
            422,
            "unprocessable_body",
        ),
        (
            "/api/v1/insights/trends",
            json!({"from": from, "to": day(1).to_rfc3339(), "interval": "day", "bogus": 1}),
            422,
            "unprocessable_body",
        ),
        (
            "/api/v1/insights/trends",
            json!({"from": from, "to": day(1).to_rfc3339(), "interval": "day", "audience": "nope"}),
            404,
            "audience_not_found",
        ),
        (
            "/api/v1/insights/trends",
            json!({"from": from, "to": day(1).to_rfc3339(), "interval": "day",
            "event": {"properties": [{"key": "n", "op": "gt", "value": "many"}]}}),
            400,
            "invalid_filter",
        ),
        (
            "/api/v1/insights/funnels",
            json!({"from": from, "to": day(1).to_rfc3339(), "windowMs": 1000, "steps": [{"name": "A"}]}),
            400,
            "invalid_steps",
        ),
        (
            "/api/v1/insights/funnels",
            json!({"from": from, "to": day(1).to_rfc3339(), "windowMs": 0, "steps": [{}, {}]}),
            400,
            "invalid_window",
        ),
        (
            "/api/v1/insights/retention",
            json!({"from": from, "to": day(1).to_rfc3339(), "period": "day", "periods": 0}),
            400,
            "invalid_periods",
        ),
    ];
    for (path, body, status, code) in cases {
        let r = s.admin_post(path, &body);
        assert_eq!(r.status().as_u16(), status, "{path} {body}");
        assert_eq!(r.json::<Value>().unwrap()["code"], code, "{path} {body}");
    }
    let r = s.post_raw(
        "/api/v1/insights/trends",
        trend(day(1), "day").to_string().into_bytes(),
        &[("content-type", "application/json")],
    );
    assert_eq!(r.status(), 401);
    // An unknown event name is no error: zeros.
    let r = ask(
        &s,
        "/api/v1/insights/trends",
        &json!({"from": from, "to": day(2).to_rfc3339(), "interval": "day", "event": {"name": "Never Sent"}}),
    );
    assert_eq!(r["series"][0]["data"], json!([0, 0]));
}

#[test]
fn saved_insights_are_created_read_replaced_and_deleted() {
    let s = Server::start();
    let query = json!({"from": day(0).to_rfc3339(), "to": day(7).to_rfc3339(), "interval": "day"});
    let created = s.admin_post(
        "/api/v1/insights/saved",
        &json!({"name": " Daily events ", "kind": "trend", "query": query}),
    );
    assert_eq!(created.status(), 201);
    let created: Value = created.json().unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "Daily events");
    assert_eq!(
        s.admin_json(&format!("/api/v1/insights/saved/{id}")),
        created
    );
    assert_eq!(
        s.admin_json("/api/v1/insights/saved"),
        json!([created.clone()])
    );
    let funnel = json!({"from": day(0).to_rfc3339(), "to": day(7).to_rfc3339(), "windowMs": 3600000, "steps": [{"name": "A"}, {"name": "B"}]});
    let put = s.admin_put(
        &format!("/api/v1/insights/saved/{id}"),
        &json!({"name": "A to B", "kind": "funnel", "query": funnel}),
    );
    assert_eq!(put.status(), 200);
    let put: Value = put.json().unwrap();
    assert_eq!(
        (&put["kind"], &put["query"], &put["createdAt"]),
        (&json!("funnel"), &funnel, &created["createdAt"])
    );
    // A query that does not read as its kind, and an empty name, are refused.
    let bad = s.admin_post(
        "/api/v1/insights/saved",
        &json!({"name": "x", "kind": "funnel", "query": query}),
    );
    assert_eq!(
        (
            bad.status().as_u16(),
            bad.json::<Value>().unwrap()["code"].clone()
        ),
        (400, json!("invalid_query"))
    );
    let bad = s.admin_post(
        "/api/v1/insights/saved",
        &json!({"name": "  ", "kind": "trend", "query": query}),
    );
    assert_eq!(bad.json::<Value>().unwrap()["code"], "invalid_name");
    assert_eq!(
        s.admin_delete(&format!("/api/v1/insights/saved/{id}"))
            .status(),
        204
    );
    let gone = s.admin_get(&format!("/api/v1/insights/saved/{id}"));
    assert_eq!(
        (
            gone.status().as_u16(),
            gone.json::<Value>().unwrap()["code"].clone()
        ),
        (404, json!("saved_insight_not_found"))
    );
    assert_eq!(s.admin_json("/api/v1/insights/saved"), json!([]));
}

/// Run a saved insight until the index has loaded.
fn run_saved(s: &Server, id: &str) -> Value {
    ask(s, &format!("/api/v1/insights/saved/{id}/run"), &json!({}))
}

#[test]
fn a_saved_insight_runs_over_its_rolling_range_or_its_own() {
    let s = Server::start();
    let mut m = Model::default();
    let now = Utc::now();
    let batch: Vec<Value> = [
        ("u1", now - Duration::minutes(5), "a"),
        ("u2", now - Duration::days(3), "b"),
        ("u1", now - Duration::days(12), "c"),
        ("u3", now - Duration::days(40), "d"),
    ]
    .into_iter()
    .map(|(who, ts, id)| track(who, "Viewed", ts, None, &mut m, &format!("roll-{id}")))
    .collect();
    assert_eq!(s.post("/v1/batch", &json!({"batch": batch})).status(), 200);
    // An answer covers the events processed when it is asked (docs/insights.md).
    s.wait_processed();

    let fixed = json!({"from": "2020-01-01T00:00:00Z", "to": "2020-01-08T00:00:00Z", "interval": "day", "event": {"name": "Viewed"}});
    let save = |name: &str, last_days: Value| {
        let r = s.admin_post(
            "/api/v1/insights/saved",
            &json!({"name": name, "kind": "trend", "query": fixed, "lastDays": last_days}),
        );
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
        r.json::<Value>().unwrap()
    };
    for (days, expected) in [(7u32, 2u64), (30, 3), (60, 4)] {
        let saved = save(&format!("last {days} days"), json!(days));
        assert_eq!(saved["lastDays"], days);
        let asked = Utc::now();
        let run = run_saved(&s, saved["id"].as_str().unwrap());
        let time = |k: &str| DateTime::parse_from_rfc3339(run[k].as_str().unwrap()).unwrap();
        let (from, to) = (time("from"), time("to"));
        // [from, to): `days` whole UTC days, the last of them today.
        assert_eq!(to - from, Duration::days(days as i64), "{run}");
        assert_eq!(to.timestamp() % 86_400, 0, "{run}");
        assert!(
            to - Duration::days(1) <= asked && asked < to,
            "{run} asked {asked}"
        );
        let counted: u64 = m
            .events
            .iter()
            .filter(|e| from <= e.ts && e.ts < to)
            .count() as u64;
        assert_eq!(counted, expected, "the test's own events in {from}..{to}");
        let total: u64 = run["result"]["series"][0]["total"].as_u64().unwrap();
        assert_eq!(total, counted, "{run}");
        // The same as the ad-hoc query over that range.
        let mut adhoc = fixed.clone();
        adhoc["from"] = json!(run["from"]);
        adhoc["to"] = json!(run["to"]);
        assert_eq!(ask(&s, "/api/v1/insights/trends", &adhoc), run["result"]);
        assert_eq!(run["insight"], saved);
    }
    // Without `lastDays`, the query's own range: nothing was sent in 2020.
    let own = save("fixed", Value::Null);
    assert!(own.get("lastDays").is_none(), "{own}");
    let run = run_saved(&s, own["id"].as_str().unwrap());
    assert_eq!((&run["from"], &run["to"]), (&fixed["from"], &fixed["to"]));
    assert_eq!(run["result"]["series"][0]["total"], 0);
    // A range of 0 days or more than ten years is refused; an unknown id is a 404.
    for days in [0, 3651] {
        let r = s.admin_post(
            "/api/v1/insights/saved",
            &json!({"name": "x", "kind": "trend", "query": fixed, "lastDays": days}),
        );
        assert_eq!(
            (
                r.status().as_u16(),
                r.json::<Value>().unwrap()["code"].clone()
            ),
            (400, json!("invalid_last_days"))
        );
    }
    let r = s.admin_post("/api/v1/insights/saved/nope/run", &json!({}));
    assert_eq!(
        (
            r.status().as_u16(),
            r.json::<Value>().unwrap()["code"].clone()
        ),
        (404, json!("saved_insight_not_found"))
    );
}
