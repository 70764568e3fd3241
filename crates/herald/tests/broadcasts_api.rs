//! Broadcasts, black-box (docs/broadcasts.md): a template to an audience through a real SMTP
//! server (aiosmtpd): every member gets exactly one message — one email each for those sent
//! to, personalised, with its one-click unsubscribe link — or is recorded skipped with the
//! reason (the holdout, unsubscribed, no address); the progress adds up; a person who
//! unsubscribes with the link of the first broadcast is skipped by the next; a broadcast at
//! each person's local time queues each message for its own clock; pause, resume and cancel
//! move the waiting messages; bad input is refused and creates nothing.

mod common;

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use common::smtp::SmtpSink;
use common::*;
use serde_json::{json, Value};

fn channels_file(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let file = dir.join("channels.toml");
    std::fs::write(
        &file,
        format!(
            "[email]\nprovider = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"Herald Test <news@herald.test>\"\n\n[[topics]]\nkey = \"newsletter\"\nchannel = \"email\"\ndefault = \"opt_out\"\n"
        ),
    )
    .unwrap();
    file
}

fn start(sink: &SmtpSink, tmp: &tempfile::TempDir) -> Server {
    let file = channels_file(tmp.path(), sink.port);
    Server::start_with_env(&[], &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))])
}

/// Create an audience and wait until it holds `size` members.
fn audience(s: &Server, id: &str, rule: &str, size: usize) {
    let r = s.admin_post("/api/v1/audiences", &json!({"id": id, "rule": rule}));
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    eventually(60, "the audience's members", || {
        let page = s.admin_json(&format!("/api/v1/audiences/{id}/members?limit=1000"));
        (page["members"].as_array().unwrap().len() == size).then_some(())
    });
}

fn create(s: &Server, body: Value) -> Value {
    let r = s.admin_post("/api/v1/broadcasts", &body);
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    r.json().unwrap()
}

/// The broadcast once it is finished and none of its messages waits or is in flight.
fn finished(s: &Server, id: &str) -> Value {
    eventually(60, "the broadcast to finish", || {
        let b = s.admin_json(&format!("/api/v1/broadcasts/{id}"));
        let statuses = &b["progress"]["statuses"];
        let waiting = ["queued", "deferred", "sending"]
            .iter()
            .any(|k| statuses[*k].as_u64().unwrap_or(0) > 0);
        (b["status"] == "finished" && !waiting).then_some(b)
    })
}

/// Every message of a person, as (source, status, reason).
fn messages_of(s: &Server, who: &str) -> Vec<(String, String, Option<String>)> {
    let log = s.admin_json(&format!("/api/v1/profiles/{who}/messages?limit=100"));
    log["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["source"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
                m["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn header(mail: &str, name: &str) -> Option<String> {
    let head = mail.split("\n\n").next().unwrap().replace('\r', "");
    head.replace("\n ", " ")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

#[test]
fn a_broadcast_sends_each_member_exactly_one_message_and_honours_unsubscribes() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let s = start(&sink, &tmp);
    // 40 pro members: 39 with an email address, one without; and 10 on the free plan.
    let mut batch = Vec::new();
    for i in 0..50 {
        let mut traits =
            json!({"first_name": format!("Name{i}"), "plan": if i < 40 { "pro" } else { "free" }});
        if i != 7 {
            traits["email"] = json!(format!("p{i}@example.com"));
        }
        batch.push(json!({"type": "identify", "userId": format!("p{i}"), "traits": traits, "messageId": format!("i-{i}")}));
    }
    assert_eq!(s.post("/v1/batch", &json!({"batch": batch})).status(), 200);
    s.wait_processed();
    audience(&s, "pros", r#"trait plan = "pro""#, 40);
    let template = json!({"id": "news", "channel": "email", "content": {
        "subject": "News for {{ traits.first_name }}",
        "body": "<p>Hello {{ traits.first_name }}.</p>"
    }});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);
    // p3 unsubscribed from the newsletter before the broadcast.
    let r = s
        .http
        .patch(format!(
            "{}/api/v1/profiles/user_id:p3/subscriptions",
            s.url
        ))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"channel": "email", "unsubscribe": ["newsletter"]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    let b = create(
        &s,
        json!({"name": "December news", "template": "news", "audience": "pros", "topic": "newsletter", "holdout_percent": 25}),
    );
    assert_eq!(b["template_version"], 1);
    let done = finished(&s, b["id"].as_str().unwrap());
    let progress = &done["progress"];
    assert_eq!(
        (&progress["enqueued"], &progress["audience_size"]),
        (&json!(40), &json!(40)),
        "{done}"
    );

    // Each member has exactly one message of this broadcast; what happened to it, per person.
    let source = format!("broadcast:{}", b["id"].as_str().unwrap());
    let mut outcome: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    for i in 0..50 {
        let mine: Vec<_> = messages_of(&s, &format!("user_id:p{i}"))
            .into_iter()
            .filter(|(src, ..)| *src == source)
            .collect();
        if i >= 40 {
            assert!(mine.is_empty(), "p{i} is not in the audience");
            continue;
        }
        assert_eq!(mine.len(), 1, "p{i}: {mine:?}");
        let (_, status, reason) = mine.into_iter().next().unwrap();
        outcome.insert(format!("p{i}"), (status, reason));
    }
    let held_out: Vec<&String> = outcome
        .iter()
        .filter(|(_, (st, r))| st == "skipped" && r.as_deref() == Some("holdout"))
        .map(|(p, _)| p)
        .collect();
    assert!(
        (1..=25).contains(&held_out.len()),
        "a 25% holdout of 40: {held_out:?}"
    );
    let sent: Vec<&String> = outcome
        .iter()
        .filter(|(_, (st, _))| st == "sent")
        .map(|(p, _)| p)
        .collect();
    for (who, expected) in [("p3", "unsubscribed"), ("p7", "no_address")] {
        let (status, reason) = &outcome[who];
        if reason.as_deref() != Some("holdout") {
            assert_eq!(
                (status.as_str(), reason.as_deref()),
                ("skipped", Some(expected))
            );
        }
    }
    assert_eq!(
        sent.len() + outcome.values().filter(|(st, _)| st == "skipped").count(),
        40,
        "{outcome:?}"
    );
    // The progress says the same.
    let count = |what: &str| progress["statuses"][what].as_u64().unwrap_or(0) as usize;
    assert_eq!(count("sent"), sent.len());
    assert_eq!(
        progress["skipped"]["holdout"].as_u64().unwrap() as usize,
        held_out.len()
    );

    // One email per person sent to, to them, with their name and their own unsubscribe link.
    let mails = eventually(30, "every email", || {
        let m = sink.received();
        (m.len() == sent.len()).then_some(m)
    });
    let mut to: Vec<String> = mails.iter().map(|m| header(m, "To").unwrap()).collect();
    to.sort();
    let mut expected: Vec<String> = sent.iter().map(|p| format!("{p}@example.com")).collect();
    expected.sort();
    assert_eq!(to, expected);
    for mail in &mails {
        let address = header(mail, "To").unwrap();
        let n = address.trim_start_matches('p').split('@').next().unwrap();
        assert!(
            mail.contains(&format!("Subject: News for Name{n}")),
            "{mail}"
        );
        assert!(header(mail, "List-Unsubscribe").is_some(), "{mail}");
    }

    // The first person sent to unsubscribes with the mail's link; the next broadcast skips
    // them and no one else.
    let first = sent[0];
    let mail = mails
        .iter()
        .find(|m| header(m, "To").unwrap() == format!("{first}@example.com"))
        .unwrap();
    let link = header(mail, "List-Unsubscribe").unwrap();
    let url = link.trim_start_matches('<').trim_end_matches('>');
    let r = s
        .http
        .post(url)
        .body("List-Unsubscribe=One-Click")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let again = create(
        &s,
        json!({"name": "More news", "template": "news", "audience": "pros", "topic": "newsletter"}),
    );
    let again_source = format!("broadcast:{}", again["id"].as_str().unwrap());
    let done = finished(&s, again["id"].as_str().unwrap());
    assert_eq!(done["progress"]["skipped"]["unsubscribed"], 2, "{done}");
    let theirs: Vec<_> = messages_of(&s, &format!("user_id:{first}"))
        .into_iter()
        .filter(|(src, ..)| *src == again_source)
        .collect();
    assert_eq!(
        theirs,
        [(
            again_source.clone(),
            "skipped".into(),
            Some("unsubscribed".into())
        )]
    );
    // 39 addresses, less p3 and the one who just left.
    let mails = eventually(30, "the second broadcast's emails", || {
        let m = sink.received();
        (m.len() == sent.len() + 37).then_some(m)
    });
    let to_first = mails
        .iter()
        .filter(|m| header(m, "To").unwrap() == format!("{first}@example.com"))
        .count();
    assert_eq!(to_first, 1);
}

#[test]
fn local_time_pause_resume_cancel_and_bad_input() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let s = start(&sink, &tmp);
    let batch = json!({"batch": [
        {"type": "identify", "userId": "kolkata", "traits": {"email": "k@example.com", "plan": "pro"}, "context": {"timezone": "Asia/Kolkata"}},
        {"type": "identify", "userId": "phoenix", "traits": {"email": "p@example.com", "plan": "pro"}, "context": {"timezone": "America/Phoenix"}},
        {"type": "identify", "userId": "nowhere", "traits": {"email": "n@example.com", "plan": "pro"}},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    audience(&s, "pros", r#"trait plan = "pro""#, 3);
    let template = json!({"id": "news", "channel": "email", "content": {"subject": "News", "body": "<p>News</p>"}});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);
    let snippet = json!({"id": "footer", "channel": "snippet", "content": {"body": "bye"}});
    assert_eq!(s.admin_post("/api/v1/templates", &snippet).status(), 201);

    // Bad input: refused, nothing created.
    let later = (Utc::now() + Duration::hours(1)).to_rfc3339();
    for (body, status, code) in [
        (
            json!({"name": "x", "template": "nope", "audience": "pros"}),
            404,
            "template_not_found",
        ),
        (
            json!({"name": "x", "template": "news", "audience": "nope"}),
            404,
            "audience_not_found",
        ),
        (
            json!({"name": "x", "template": "footer", "audience": "pros"}),
            400,
            "template_not_sendable",
        ),
        (
            json!({"name": "", "template": "news", "audience": "pros"}),
            400,
            "invalid_name",
        ),
        (
            json!({"name": "x", "template": "news", "audience": "pros", "holdout_percent": 101}),
            400,
            "invalid_holdout",
        ),
        (
            json!({"name": "x", "template": "news", "audience": "pros", "send_at": later, "local_time": "2030-01-01T09:00"}),
            400,
            "invalid_schedule",
        ),
        (
            json!({"name": "x", "template": "news", "audience": "pros", "local_time": "9am"}),
            400,
            "invalid_local_time",
        ),
        (
            json!({"name": "x", "template": "news", "audience": "pros", "local_time": "2030-01-01T09:00", "time_zone": "Mars/Base"}),
            400,
            "invalid_time_zone",
        ),
        (
            json!({"name": "x", "template": "news", "audience": "pros", "priority": "urgent"}),
            400,
            "invalid_priority",
        ),
    ] {
        let r = s.admin_post("/api/v1/broadcasts", &body);
        assert_eq!(r.status(), status, "{body}");
        assert_eq!(r.json::<Value>().unwrap()["code"], code, "{body}");
    }
    assert_eq!(s.admin_json("/api/v1/broadcasts")["broadcasts"], json!([]));
    assert_eq!(s.admin_get("/api/v1/broadcasts/nope").status(), 404);

    // A broadcast for later: scheduled, pausable, resumable, cancellable; never sends.
    let future = create(
        &s,
        json!({"name": "Later", "template": "news", "audience": "pros", "send_at": later}),
    );
    let fid = future["id"].as_str().unwrap();
    assert_eq!(future["status"], "scheduled");
    let act = |id: &str, what: &str| {
        let r = s.admin_post(&format!("/api/v1/broadcasts/{id}/{what}"), &json!({}));
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    assert_eq!(act(fid, "pause").1["status"], "paused");
    assert_eq!(act(fid, "resume").1["status"], "scheduled");
    assert_eq!(act(fid, "cancel").1["status"], "cancelled");
    let (status, body) = act(fid, "cancel");
    assert_eq!((status, &body["code"]), (409, &json!("invalid_transition")));

    // At 09:00 on each person's clock, ten hours from now (in UTC terms): started already (the
    // first clocks on Earth are 14 hours ahead), each message due at its own time. Kolkata is
    // UTC+5:30, Phoenix UTC-7 and Tokyo UTC+9 all year (no daylight saving time); without a
    // time zone, the fallback's.
    let local = (Utc::now() + Duration::hours(10)).naive_utc();
    let local = local.format("%Y-%m-%dT%H:%M:00").to_string();
    let b = create(
        &s,
        json!({"name": "Breakfast", "template": "news", "audience": "pros", "local_time": local, "time_zone": "Asia/Tokyo"}),
    );
    assert_eq!(
        (&b["local_time"], &b["time_zone"]),
        (&json!(local), &json!("Asia/Tokyo"))
    );
    let id = b["id"].as_str().unwrap().to_owned();
    let queued = eventually(30, "the fan-out", || {
        let b = s.admin_json(&format!("/api/v1/broadcasts/{id}"));
        (b["status"] == "finished").then_some(b)
    });
    assert_eq!(
        queued["progress"]["statuses"],
        json!({"queued": 3}),
        "{queued}"
    );
    let naive = chrono::NaiveDateTime::parse_from_str(&local, "%Y-%m-%dT%H:%M:%S").unwrap();
    let due_of = |who: &str| {
        let log = s.admin_json(&format!("/api/v1/profiles/user_id:{who}/messages"));
        let due = log["messages"][0]["due_at"].as_str().unwrap().to_owned();
        chrono::DateTime::parse_from_rfc3339(&due)
            .unwrap()
            .naive_utc()
    };
    assert_eq!(due_of("kolkata"), naive - Duration::minutes(330));
    assert_eq!(due_of("phoenix"), naive + Duration::hours(7));
    assert_eq!(due_of("nowhere"), naive - Duration::hours(9));

    // Its messages wait for people's clocks: pause holds them, resume queues them again,
    // cancel skips them.
    let (status, paused) = act(&id, "pause");
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["progress"]["statuses"], json!({"paused": 3}));
    let (_, resumed) = act(&id, "resume");
    assert_eq!(resumed["progress"]["statuses"], json!({"queued": 3}));
    let (_, cancelled) = act(&id, "cancel");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["progress"]["statuses"], json!({"skipped": 3}));
    assert_eq!(cancelled["progress"]["skipped"], json!({"cancelled": 3}));
    let (status, body) = act(&id, "resume");
    assert_eq!((status, &body["code"]), (409, &json!("invalid_transition")));
    assert!(sink.received().is_empty());
}
