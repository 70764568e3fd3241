//! The Segment Tracking API, black-box: auth, encodings, limits, validation, de-duplication,
//! time correction, overload.

mod common;

use std::io::Write;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn error_code(r: reqwest::blocking::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let body: Value = r.json().expect("error bodies are JSON");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, body)
}

#[test]
fn every_way_of_sending_the_write_key_works_and_bad_keys_are_refused() {
    let s = Server::start();
    let body = |id: &str| serde_json::to_vec(&track("u1", "Signed Up", id)).unwrap();
    let json_ct = ("content-type", "application/json");
    let basic_colon = format!("Basic {}", b64(&format!("{WRITE_KEY}:")));
    let basic_plain = format!("Basic {}", b64(WRITE_KEY));
    let bearer = format!("Bearer {WRITE_KEY}");
    for (i, auth) in [basic_colon, basic_plain, bearer].iter().enumerate() {
        let r = s.post_raw(
            "/v1/track",
            body(&format!("auth-{i}")),
            &[json_ct, ("authorization", auth)],
        );
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().unwrap(), json!({"success": true}));
    }
    // Browser short form: text/plain with writeKey in the body.
    let mut short = track("u1", "Signed Up", "auth-short");
    short["writeKey"] = json!(WRITE_KEY);
    let r = s.post_raw(
        "/v1/t",
        serde_json::to_vec(&short).unwrap(),
        &[("content-type", "text/plain")],
    );
    assert_eq!(r.status(), 200);
    let short_batch =
        json!({"writeKey": WRITE_KEY, "batch": [track("u1", "Signed Up", "auth-short-batch")]});
    assert_eq!(
        s.post_raw(
            "/v1/b",
            serde_json::to_vec(&short_batch).unwrap(),
            &[("content-type", "text/plain")]
        )
        .status(),
        200
    );

    let before = s.status()["log_head"].clone();
    let missing = s.post_raw("/v1/track", body("no-key"), &[json_ct]);
    let (status, err) = error_code(missing);
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthorized")));
    let wrong = s.post_raw(
        "/v1/track",
        body("bad-key"),
        &[
            json_ct,
            ("authorization", &format!("Basic {}", b64("nope:"))),
        ],
    );
    assert_eq!(wrong.status(), 401);
    let mut wrong_body = track("u1", "x", "bad-body-key");
    wrong_body["writeKey"] = json!("nope");
    assert_eq!(
        s.post_raw("/v1/t", serde_json::to_vec(&wrong_body).unwrap(), &[])
            .status(),
        401
    );
    // An admin key is not a write key.
    let admin = s.post_raw(
        "/v1/track",
        body("admin-key"),
        &[json_ct, ("authorization", &format!("Bearer {ADMIN_KEY}"))],
    );
    assert_eq!(admin.status(), 401);
    assert_eq!(
        s.status()["log_head"],
        before,
        "refused requests store nothing"
    );
    assert_eq!(s.timeline("user_id:u1", "").len(), 5);
}

#[test]
fn revoked_write_keys_stop_working_at_once() {
    let s = Server::start();
    let created: Value = s
        .admin_post("/api/v1/keys", &json!({"kind": "write", "name": "ios"}))
        .json()
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let send = |id: &str| {
        s.http
            .post(format!("{}/v1/track", s.url))
            .basic_auth(&secret, Some(""))
            .json(&track("u", "E", id))
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(send("k1"), 200);
    assert_eq!(
        s.admin_delete(&format!("/api/v1/keys/{}", created["id"].as_str().unwrap()))
            .status(),
        204
    );
    assert_eq!(send("k2"), 401);
}

#[test]
fn gzip_bodies_are_accepted_and_bad_encodings_refused() {
    let s = Server::start();
    let batch = json!({"batch": [track("g", "A", "gz-1"), track("g", "B", "gz-2")]});
    let auth = format!("Basic {}", b64(&format!("{WRITE_KEY}:")));
    let r = s.post_raw(
        "/v1/batch",
        gzip(&serde_json::to_vec(&batch).unwrap()),
        &[
            ("content-encoding", "gzip"),
            ("content-type", "application/json"),
            ("authorization", &auth),
        ],
    );
    assert_eq!(r.status(), 200);
    assert_eq!(s.timeline("user_id:g", "").len(), 2);

    let (status, err) = error_code(s.post_raw(
        "/v1/batch",
        b"not gzip at all".to_vec(),
        &[("content-encoding", "gzip"), ("authorization", &auth)],
    ));
    assert_eq!((status, err["code"].as_str()), (400, Some("invalid_gzip")));
    let (status, err) = error_code(s.post_raw(
        "/v1/batch",
        b"{}".to_vec(),
        &[("content-encoding", "br"), ("authorization", &auth)],
    ));
    assert_eq!(
        (status, err["code"].as_str()),
        (415, Some("unsupported_encoding"))
    );
    // A gzip bomb: 50 MB of zeros compresses to ~50 KB; refused without inflating it all.
    let bomb = gzip(&vec![b' '; 50 * 1024 * 1024]);
    assert!(bomb.len() < 500 * 1024);
    let (status, err) = error_code(s.post_raw(
        "/v1/batch",
        bomb,
        &[("content-encoding", "gzip"), ("authorization", &auth)],
    ));
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("payload_too_large"))
    );
    assert_eq!(s.status()["log_head"], 2);
}

#[test]
fn size_limits_are_enforced_and_store_nothing() {
    let s = Server::start();
    let pad = |n: usize| "x".repeat(n);
    // One event just under 32 KB is fine; just over is refused.
    let mut ok = track("big", "E", "size-ok");
    ok["properties"] = json!({"p": pad(32 * 1024 - 200)});
    assert_eq!(s.post("/v1/track", &ok).status(), 200);
    let mut big = track("big", "E", "size-big");
    big["properties"] = json!({"p": pad(33 * 1024)});
    let (status, err) = error_code(s.post("/v1/track", &big));
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("payload_too_large"))
    );
    // Inside a batch, the oversized event is named by index.
    let (status, err) = error_code(s.post(
        "/v1/batch",
        &json!({"batch": [track("big", "E", "b-1"), big]}),
    ));
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("invalid_events"))
    );
    assert_eq!(err["errors"][0]["index"], 1);
    assert_eq!(err["errors"][0]["code"], "event_too_large");
    // Over 500 KB per batch.
    let events: Vec<Value> = (0..20).map(|i| json!({"type":"track","userId":"big","event":"E","messageId":format!("m{i}"),"properties":{"p": pad(30_000)}})).collect();
    let (status, err) = error_code(s.post("/v1/batch", &json!({"batch": events})));
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("payload_too_large"))
    );
    // Over 2,500 events.
    let events: Vec<Value> = (0..2501)
        .map(|i| json!({"type":"page","anonymousId":"a","messageId":i.to_string()}))
        .collect();
    let (status, err) = error_code(s.post("/v1/batch", &json!({"batch": events})));
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("batch_too_large"))
    );
    assert_eq!(s.status()["log_head"], 1, "only the first event was stored");
}

#[test]
fn malformed_and_invalid_events_get_stable_codes() {
    let s = Server::start();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("/v1/track", b"{not json".to_vec(), "invalid_json"),
        ("/v1/track", b"[1,2,3]".to_vec(), "invalid_event"),
        ("/v1/track", br#"{"userId":"u"}"#.to_vec(), "missing_event"),
        (
            "/v1/track",
            br#"{"event":"x"}"#.to_vec(),
            "missing_identity",
        ),
        (
            "/v1/identify",
            br#"{"userId":"","anonymousId":null}"#.to_vec(),
            "missing_identity",
        ),
        (
            "/v1/alias",
            br#"{"userId":"u"}"#.to_vec(),
            "missing_previous_id",
        ),
        (
            "/v1/group",
            br#"{"userId":"u"}"#.to_vec(),
            "missing_group_id",
        ),
        (
            "/v1/identify",
            br#"{"userId":{"$ne":1}}"#.to_vec(),
            "invalid_field",
        ),
        (
            "/v1/identify",
            br#"{"userId":"u","traits":"x"}"#.to_vec(),
            "invalid_field",
        ),
        (
            "/v1/track",
            br#"{"userId":"u","event":"x","timestamp":"last tuesday"}"#.to_vec(),
            "invalid_timestamp",
        ),
        (
            "/v1/batch",
            br#"{"batch":{"not":"an array"}}"#.to_vec(),
            "invalid_json",
        ),
        ("/v1/batch", br#"{"events":[]}"#.to_vec(), "invalid_batch"),
        (
            "/v1/batch",
            br#"{"batch":[{"type":"jump","userId":"u"}]}"#.to_vec(),
            "invalid_events",
        ),
        (
            "/v1/batch",
            br#"{"batch":[{"userId":"u","event":"x"}]}"#.to_vec(),
            "invalid_events",
        ),
    ];
    let auth = format!("Basic {}", b64(&format!("{WRITE_KEY}:")));
    for (path, body, code) in cases {
        let (status, err) = error_code(s.post_raw(path, body.clone(), &[("authorization", &auth)]));
        assert_eq!(
            (status, err["code"].as_str()),
            (400, Some(code)),
            "{path} {}",
            String::from_utf8_lossy(&body)
        );
    }
    // Deeply nested JSON is refused, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, err) =
        error_code(s.post_raw("/v1/track", deep.into_bytes(), &[("authorization", &auth)]));
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("payload_too_large"))
    );
    let deep = format!(
        "{{\"userId\":\"u\",\"event\":\"x\",\"properties\":{}1{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let (status, err) =
        error_code(s.post_raw("/v1/track", deep.into_bytes(), &[("authorization", &auth)]));
    assert_eq!((status, err["code"].as_str()), (400, Some("invalid_json")));
    assert_eq!(s.status()["log_head"], 0, "nothing was stored");
    assert!(s
        .metrics()
        .unwrap()
        .contains("herald_events_rejected_total{reason=\"missing_event\"}"));
}

#[test]
fn a_batch_with_one_bad_event_is_refused_whole() {
    let s = Server::start();
    let batch = json!({"batch": [
        track("u1", "A", "good-1"),
        {"type": "track", "userId": "u1", "messageId": "bad-1"},
        track("u1", "B", "good-2"),
        {"type": "identify", "messageId": "bad-2"},
    ]});
    let (status, err) = error_code(s.post("/v1/batch", &batch));
    assert_eq!(status, 400);
    assert_eq!(err["code"], "invalid_events");
    let problems: Vec<(u64, &str)> = err["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(problems, [(1, "missing_event"), (3, "missing_identity")]);
    assert_eq!(s.status()["log_head"], 0);
    assert_eq!(s.admin_get("/api/v1/profiles/user_id:u1").status(), 404);
}

#[test]
fn retried_message_ids_are_stored_once() {
    let s = Server::start();
    for _ in 0..3 {
        assert_eq!(
            s.post("/v1/track", &track("dup", "Paid", "same-id"))
                .status(),
            200
        );
    }
    let batch = json!({"batch": [track("dup", "Paid", "same-id"), track("dup", "Paid", "other-id"), track("dup", "Paid", "other-id")]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    let events = s.timeline("user_id:dup", "");
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["messageId"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["other-id", "same-id"]);
    assert_eq!(s.profile("user_id:dup")["event_counts"]["Paid"], 2);
    let metrics = s.metrics().unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "herald_events_duplicate_total 4"),
        "{metrics}"
    );
}

#[test]
fn timestamps_are_corrected_for_client_clock_skew() {
    let s = Server::start();
    // The client's clock runs one hour fast: it stamped the event 10 s before sending it.
    let now = chrono::Utc::now();
    let skewed = now + chrono::Duration::hours(1);
    let fmt =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut e = track("clock", "Skewed", "skew-1");
    e["timestamp"] = json!(fmt(skewed - chrono::Duration::seconds(10)));
    e["sentAt"] = json!(fmt(skewed));
    assert_eq!(s.post("/v1/track", &e).status(), 200);
    // Batch-level sentAt applies to events without their own.
    let mut b = track("clock", "BatchSkewed", "skew-2");
    b["timestamp"] = json!(fmt(skewed - chrono::Duration::seconds(20)));
    assert_eq!(
        s.post("/v1/batch", &json!({"batch": [b], "sentAt": fmt(skewed)}))
            .status(),
        200
    );
    // RudderStack SDKs send only originalTimestamp.
    let mut r = track("clock", "Rudder", "skew-3");
    r["originalTimestamp"] = json!("2026-01-01T00:00:00.000Z");
    assert_eq!(s.post("/v1/batch", &json!({"batch": [r]})).status(), 200);
    // Import takes timestamps as given.
    let mut i = track("clock", "Imported", "skew-4");
    i["timestamp"] = json!("2020-05-05T05:05:05.000Z");
    i["sentAt"] = json!(fmt(skewed));
    assert_eq!(s.post("/v1/import", &json!({"batch": [i]})).status(), 200);

    let events = s.timeline("user_id:clock", "");
    let by_name = |n: &str| events.iter().find(|e| e["event"] == n).unwrap().clone();
    let ts =
        |e: &Value, k: &str| chrono::DateTime::parse_from_rfc3339(e[k].as_str().unwrap()).unwrap();
    for (name, offset) in [("Skewed", 10), ("BatchSkewed", 20)] {
        let e = by_name(name);
        let lag = ts(&e, "receivedAt") - ts(&e, "timestamp");
        assert_eq!(lag.num_milliseconds(), offset * 1000, "{name}: {e}");
        assert_eq!(
            e["originalTimestamp"].as_str().unwrap(),
            fmt(skewed - chrono::Duration::seconds(offset))
        );
    }
    assert_eq!(by_name("Rudder")["timestamp"], "2026-01-01T00:00:00.000Z");
    assert_eq!(by_name("Imported")["timestamp"], "2020-05-05T05:05:05.000Z");
}

#[test]
fn hostile_identifiers_are_stored_literally() {
    let s = Server::start();
    let nasty = "'; DROP TABLE events; -- \u{1} ü 🚀 \" \\";
    let e = json!({"type":"identify","userId": nasty, "traits": {"name": "<script>alert(1)</script>\u{0}"}, "messageId": "nasty"});
    assert_eq!(s.post("/v1/identify", &e).status(), 200);
    let p = s.profile(&format!("user_id:{nasty}"));
    assert_eq!(p["identities"][0]["value"], nasty.trim());
    assert_eq!(p["traits"]["name"], "<script>alert(1)</script>\u{0}");
    // NUL cannot be part of an identifier or a name (no SQL text type holds it): refused.
    for (field, value) in [("userId", "a\u{0}b"), ("event", "Bought\u{0}")] {
        let mut bad = json!({"type":"track","userId":"u","event":"E","messageId":"nul"});
        bad[field] = json!(value);
        let r = s.post("/v1/track", &bad);
        assert_eq!(r.status(), 400, "{field}");
        let body: Value = r.json().unwrap();
        assert_eq!(body["code"], "invalid_field", "{body}");
        assert!(body.to_string().contains("NUL"), "{body}");
    }
    assert_eq!(s.status()["log_head"], 1);
}

#[test]
fn overload_is_answered_with_429_and_retry_after_never_dropped() {
    let s = Server::start_with(&["--ingest-queue", "1"]);
    let acked = std::sync::Mutex::new(Vec::new());
    let refused = std::sync::atomic::AtomicUsize::new(0);
    // Embedded, the test holds the log's write lock until the first refusal, so the commit in
    // progress cannot finish and the queue fills however fast the machine is. (A cluster's log
    // cannot be held from here; there the clients' concurrency alone fills the queue.)
    let held = (!cluster_backend()).then(|| {
        let log = rusqlite::Connection::open(s.dir.join("log.db")).unwrap();
        log.execute_batch("BEGIN IMMEDIATE").unwrap();
        log
    });
    std::thread::scope(|scope| {
        if let Some(log) = held {
            let refused = &refused;
            scope.spawn(move || {
                let deadline = std::time::Instant::now() + Duration::from_secs(60);
                while refused.load(std::sync::atomic::Ordering::Relaxed) == 0 {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "no 429 while the log was held"
                    );
                    std::thread::sleep(Duration::from_millis(5));
                }
                log.execute_batch("ROLLBACK").unwrap();
            });
        }
        for t in 0..16 {
            let (s, acked, refused) = (&s, &acked, &refused);
            scope.spawn(move || {
                for i in 0..40 {
                    let events: Vec<Value> = (0..50)
                        .map(|j| track("load", "E", &format!("{t}-{i}-{j}")))
                        .collect();
                    let r = s.post("/v1/batch", &json!({"batch": events}));
                    match r.status().as_u16() {
                        200 => acked
                            .lock()
                            .unwrap()
                            .extend((0..50).map(|j| format!("{t}-{i}-{j}"))),
                        429 => {
                            assert_eq!(r.headers()["retry-after"], "1");
                            assert_eq!(r.json::<Value>().unwrap()["code"], "overloaded");
                            refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        other => panic!("unexpected status {other}"),
                    }
                }
            });
        }
    });
    let acked = acked.into_inner().unwrap();
    assert!(
        refused.into_inner() > 0,
        "a one-request queue under 16 concurrent clients must refuse some"
    );
    let stored: std::collections::BTreeSet<String> = s
        .timeline("user_id:load", "")
        .iter()
        .map(|e| e["messageId"].as_str().unwrap().to_owned())
        .collect();
    let acked: std::collections::BTreeSet<String> = acked.into_iter().collect();
    assert_eq!(stored, acked, "exactly the acknowledged events are stored");
}

/// What an outside fuzzer found: each of these was acknowledged and then stopped processing
/// for good, or panicked the handler (no response at all). Each must now get a JSON 400 with a
/// stable code, store nothing, and leave processing (and a live tail) going.
#[test]
fn poison_inputs_are_refused_and_processing_goes_on() {
    let s = Server::start();
    // A live-tail client: reading the accepted events back for it once panicked the handler.
    let mut tail = s
        .http
        .get(format!("{}/api/v1/tail", s.url))
        .bearer_auth(ADMIN_KEY)
        .send()
        .unwrap();
    assert_eq!(tail.status(), 200);
    let huge = "1".repeat(400);
    let single: Vec<(&str, String, &str)> = vec![
        ("/v1/track", r#"{"userId":"u","event":"A","timestamp":"0001-01-01T00:00:00Z","sentAt":"9999-12-31T23:59:59Z"}"#.into(), "timestamp_out_of_range"),
        ("/v1/track", r#"{"userId":"u","event":"A","timestamp":"9999-12-31T23:59:59Z","sentAt":"0001-01-01T00:00:00Z"}"#.into(), "timestamp_out_of_range"),
        ("/v1/track", r#"{"userId":"u","event":"A","properties":{"p":"\ud800"}}"#.into(), "invalid_json"),
        ("/v1/identify", r#"{"userId":"u","traits":{"\ud800":1}}"#.into(), "invalid_json"),
        ("/v1/track", r#"{"userId":"u","event":"A","context":{"ip":"\udfff"}}"#.into(), "invalid_json"),
        ("/v1/track", r#"{"userId":"u","event":"A","unknown":"\ud800"}"#.into(), "invalid_json"),
        ("/v1/track", r#"{"userId":"u","event":"\ud800"}"#.into(), "invalid_json"),
        ("/v1/identify", r#"{"userId":"\ud800"}"#.into(), "invalid_json"),
        ("/v1/track", r#"{"userId":"u","event":"A","properties":{"n":1e400}}"#.into(), "invalid_json"),
        ("/v1/identify", r#"{"userId":1e400}"#.into(), "invalid_json"),
        ("/v1/identify", r#"{"userId":-1e400}"#.into(), "invalid_json"),
        ("/v1/identify", format!(r#"{{"userId":{huge}}}"#), "invalid_json"),
        ("/v1/identify", r#"{"userId":"u","timestamp":1e400}"#.into(), "invalid_json"),
        ("/v1/identify", r#"{"userId":"u","sentAt":-1e400}"#.into(), "invalid_json"),
        ("/v1/identify", format!(r#"{{"userId":"u","traits":{{"n":{huge}}}}}"#), "invalid_json"),
    ];
    let auth = format!("Bearer {WRITE_KEY}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    for (path, body, code) in &single {
        let (status, err) = error_code(s.post_raw(path, body.clone().into_bytes(), &headers));
        assert_eq!(
            (status, err["code"].as_str()),
            (400, Some(*code)),
            "{path} {body}: {err}"
        );
    }
    // The same in a batch, and a batch-level `sentAt` that makes the correction overflow.
    let batch = r#"{"sentAt":"9999-12-31T23:59:59Z","batch":[{"type":"track","userId":"u","event":"A","timestamp":"0001-01-01T00:00:00Z"}]}"#;
    let (status, err) = error_code(s.post_raw("/v1/batch", batch.into(), &headers));
    assert_eq!(
        (status, err["errors"][0]["code"].as_str()),
        (400, Some("timestamp_out_of_range")),
        "{err}"
    );
    let batch =
        r#"{"batch":[{"type":"track","userId":"u","event":"A","properties":{"p":"\ud800"}}]}"#;
    let (status, err) = error_code(s.post_raw("/v1/batch", batch.into(), &headers));
    assert_eq!(
        (status, err["errors"][0]["code"].as_str()),
        (400, Some("invalid_json")),
        "{err}"
    );

    // Nothing was stored, and an event sent after all that is processed.
    let r = s.post(
        "/v1/track",
        &track("after", "Still Working", "after-poison"),
    );
    assert_eq!(r.status(), 200);
    let status = s.wait_processed();
    assert_eq!(status["log_head"], 1, "{status}");
    assert_eq!(
        s.profile("user_id:after")["event_counts"]["Still Working"],
        1
    );
    // The tail goes on too. (A cluster node's tail attaches to the stream asynchronously and
    // sees only what arrives after: send until one shows up.)
    let (chunks, seen_by_tail) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut tail, &mut buf) {
            if n == 0
                || chunks
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut seen = String::new();
    for i in 0..150 {
        assert_eq!(
            s.post(
                "/v1/track",
                &track("after", "Tailed", &format!("tailed-{i}"))
            )
            .status(),
            200
        );
        if let Ok(chunk) = seen_by_tail.recv_timeout(std::time::Duration::from_millis(200)) {
            seen.push_str(&chunk);
        }
        if seen.contains("\"Tailed\"") {
            return;
        }
    }
    panic!("the tail showed no event: {seen}");
}

/// Without a key in the headers, the body's `writeKey` is checked before the events are
/// validated: a caller with no valid key gets 401, never the validation result.
#[test]
fn credentials_are_checked_before_events_are_validated() {
    let s = Server::start();
    for (path, body) in [
        ("/v1/identify", r#"{}"#),
        ("/v1/track", r#"{"userId": "u", "writeKey": "wrong"}"#),
        ("/v1/batch", r#"{"batch": [{"type": "jump"}]}"#),
        ("/v1/batch", r#"{}"#),
    ] {
        let (status, err) = error_code(s.post_raw(path, body.into(), &[]));
        assert_eq!(
            (status, err["code"].as_str()),
            (401, Some("unauthorized")),
            "{path} {body}"
        );
    }
    let with_key = format!(r#"{{"userId": "u", "writeKey": "{WRITE_KEY}"}}"#);
    let (status, err) = error_code(s.post_raw("/v1/track", with_key.into(), &[]));
    assert_eq!((status, err["code"].as_str()), (400, Some("missing_event")));
}

/// Every input of the fuzz target's regression corpus (`fuzz/regressions`), sent as a single
/// call and inside a batch, gets an answer with the JSON body: a 200, or a 4xx with a code.
/// Nothing goes unanswered, and the server is still processing afterwards.
#[test]
fn every_input_of_the_fuzz_corpus_is_answered() {
    let s = Server::start();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let auth = format!("Bearer {WRITE_KEY}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    let mut sent = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let message = data[1..].to_vec();
        let mut batch = br#"{"batch":["#.to_vec();
        batch.extend_from_slice(&message);
        batch.extend_from_slice(b"]}");
        for (path, body) in [("/v1/track", message.clone()), ("/v1/batch", batch)] {
            let r = s.post_raw(path, body.clone(), &headers);
            let status = r.status().as_u16();
            let answer: Value = r
                .json()
                .unwrap_or_else(|e| panic!("{path} {body:?}: not JSON: {e}"));
            assert!(
                status == 200 || ((400..500).contains(&status) && answer["code"].is_string()),
                "{path} {}: {status} {answer}",
                String::from_utf8_lossy(&body)
            );
            sent += 1;
        }
    }
    assert!(sent >= 12);
    assert_eq!(
        s.post("/v1/track", &track("after", "Corpus Done", "corpus-done"))
            .status(),
        200
    );
    assert_eq!(s.profile("user_id:after")["event_counts"]["Corpus Done"], 1);
}

/// Every call type under its long path and its browser short form is stored as that type,
/// `/v1/screen` and `/v1/s` included.
#[test]
fn every_call_type_and_short_form_is_accepted() {
    let s = Server::start();
    let calls = [
        ("identify", "i", json!({"traits": {"plan": "pro"}})),
        ("track", "t", json!({"event": "Clicked"})),
        ("page", "p", json!({"name": "Home"})),
        ("screen", "s", json!({"name": "Settings"})),
        ("group", "g", json!({"groupId": "acme"})),
        ("alias", "a", json!({"previousId": "short-anon"})),
    ];
    let mut sent = Vec::new();
    for (long, short, body) in &calls {
        for path in [*long, *short] {
            let mut body = body.clone();
            let id = format!("{path}-call");
            body["userId"] = json!("short-user");
            body["messageId"] = json!(id);
            let r = s.post(&format!("/v1/{path}"), &body);
            assert_eq!(r.status(), 200, "/v1/{path}: {}", r.text().unwrap());
            sent.push((id, *long));
        }
    }
    // The batch short form, with a type per message.
    let batch = json!({"batch": [{"type": "screen", "userId": "short-user", "name": "Batched", "messageId": "b-screen"}]});
    assert_eq!(s.post("/v1/b", &batch).status(), 200);
    sent.push(("b-screen".into(), "screen"));
    let stored: std::collections::BTreeMap<String, String> = s
        .timeline("user_id:short-user", "")
        .iter()
        .map(|e| {
            (
                e["messageId"].as_str().unwrap().to_owned(),
                e["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: std::collections::BTreeMap<String, String> =
        sent.into_iter().map(|(id, t)| (id, t.to_owned())).collect();
    assert_eq!(stored, expected);
}
