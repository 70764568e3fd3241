//! A public endpoint that holds: slow and idle clients are timed out over real sockets,
//! connections over the cap are answered (503 `too_many_connections`) while real clients still
//! get through, and a full disk is a retryable 507 `storage_full` that `/readyz`, the status
//! and the metrics report, and that recovers by itself, losing nothing acknowledged, once
//! space is freed.
//!
//! Timing: the servers run with 1–3 s timeouts and every wait has a generous deadline (a
//! connection must be closed within 5 s of a 1 s timeout), so a busy machine does not fail
//! these tests; a server without the timeout keeps the connection open and fails them.

mod common;

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// The start of a request whose head never ends.
const PARTIAL_HEAD: &[u8] = b"POST /v1/track HTTP/1.1\r\nHost: herald\r\nContent-Type: appl";

fn connect(s: &Server) -> TcpStream {
    let stream = TcpStream::connect(s.url.trim_start_matches("http://")).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

fn slow_client(s: &Server) -> TcpStream {
    let mut c = connect(s);
    c.write_all(PARTIAL_HEAD).unwrap();
    c
}

/// Wait until the server closes `stream` (end of stream or reset) before `deadline`; returns
/// when it did. Fails if the server answers something or keeps the connection open.
fn closed_by(stream: &mut TcpStream, deadline: Instant) -> Instant {
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .unwrap_or_else(|| panic!("the server kept the connection open"));
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return Instant::now(),
            Ok(n) => panic!(
                "expected the connection closed, got {:?}",
                String::from_utf8_lossy(&buf[..n])
            ),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                ) =>
            {
                return Instant::now()
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the server kept the connection open")
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("reading: {e}"),
        }
    }
}

/// One HTTP/1.1 response read off a raw connection.
struct Answer {
    status: u16,
    /// The head, lower-cased.
    head: String,
    body: Value,
}

fn read_answer(stream: &mut TcpStream, within: Duration) -> Answer {
    let deadline = Instant::now() + within;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .expect("a content-length");
            if data.len() >= end + 4 + length {
                let status = head[9..12].parse().unwrap();
                let body =
                    serde_json::from_slice(&data[end + 4..end + 4 + length]).unwrap_or(Value::Null);
                return Answer { status, head, body };
            }
        }
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .expect("no complete answer in time");
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => panic!(
                "closed before a complete answer: {:?}",
                String::from_utf8_lossy(&data)
            ),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("reading an answer: {e}"),
        }
    }
}

fn get_healthz(stream: &mut TcpStream) -> Answer {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: herald\r\n\r\n")
        .unwrap();
    read_answer(stream, Duration::from_secs(10))
}

#[test]
fn slow_header_clients_are_closed_while_real_clients_are_served() {
    let s = Server::start_with(&["--header-timeout-secs", "1", "--max-connections", "64"]);
    // 40 connections that send part of a request head and then nothing (under the cap).
    let mut slow: Vec<TcpStream> = (0..40).map(|_| slow_client(&s)).collect();
    // One that keeps trickling its head, a byte every 100 ms, for up to 20 s.
    let mut trickle = connect(&s);
    let mut writer = trickle.try_clone().unwrap();
    std::thread::spawn(move || {
        let head = b"POST /v1/track HTTP/1.1\r\nHost: herald\r\nX-Padding: ".iter();
        for byte in head.chain(std::iter::repeat(&b'a')).take(200) {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let sent = Instant::now();
    // A real client is served meanwhile.
    let r = s.post("/v1/track", &track("u", "E", "legit-1"));
    assert_eq!(r.status(), 200);
    // Every slow connection is closed, within 5 s of a 1 s header timeout.
    for c in &mut slow {
        closed_by(c, sent + Duration::from_secs(5));
    }
    closed_by(&mut trickle, sent + Duration::from_secs(5));
    assert!(
        s.metric("herald_http_connection_timeouts_total{reason=\"header\"}")
            .is_some_and(|n| n >= 41.0),
        "header timeouts counted"
    );
    // And the server still serves.
    let r = s.post("/v1/track", &track("u", "E", "legit-2"));
    assert_eq!(r.status(), 200);
}

#[test]
fn a_stalled_or_trickling_body_gets_a_408_and_the_connection_is_closed() {
    let s = Server::start_with(&["--body-timeout-secs", "1"]);
    let head = format!(
        "POST /v1/track HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer {WRITE_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    );
    // A body that stops after a few bytes.
    let mut stalled = connect(&s);
    stalled
        .write_all(format!("{head}{{\"type\":\"track\",").as_bytes())
        .unwrap();
    // A body that trickles, a byte every 200 ms (200 bytes would take 40 s).
    let mut trickling = connect(&s);
    trickling.write_all(head.as_bytes()).unwrap();
    let mut writer = trickling.try_clone().unwrap();
    std::thread::spawn(move || {
        for _ in 0..200 {
            if writer.write_all(b" ").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let sent = Instant::now();
    for c in [&mut stalled, &mut trickling] {
        let answer = read_answer(c, Duration::from_secs(5));
        assert_eq!(answer.status, 408, "{}", answer.body);
        assert_eq!(answer.body["code"], "body_timeout");
        assert!(answer.head.contains("connection: close"), "{}", answer.head);
        closed_by(c, sent + Duration::from_secs(6));
    }
    // A body sent at once is unaffected.
    let r = s.post("/v1/track", &track("u", "E", "whole-body"));
    assert_eq!(r.status(), 200);
}

#[test]
fn idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    // The idle timeout (3 s) is longer than the header timeout (1 s): waiting for the next
    // request is not sending a head slowly.
    let s = Server::start_with(&["--header-timeout-secs", "1", "--idle-timeout-secs", "3"]);
    let mut c = connect(&s);
    assert_eq!(get_healthz(&mut c).status, 200);
    std::thread::sleep(Duration::from_millis(1800));
    let answer = get_healthz(&mut c);
    assert_eq!(answer.status, 200, "kept alive past the header timeout");
    let answered = Instant::now();
    let closed = closed_by(&mut c, answered + Duration::from_secs(8));
    assert!(
        closed - answered >= Duration::from_millis(1500),
        "closed after {:?}, before the idle timeout",
        closed - answered
    );
}

#[test]
fn over_the_connection_cap_a_connection_is_answered_503_and_real_clients_get_through_later() {
    let s = Server::start_with(&["--max-connections", "4", "--header-timeout-secs", "2"]);
    let mut slow: Vec<TcpStream> = (0..4).map(|_| slow_client(&s)).collect();
    let sent = Instant::now();
    let mut over = connect(&s);
    let answer = get_healthz(&mut over);
    assert_eq!(answer.status, 503, "{}", answer.head);
    assert_eq!(answer.body["code"], "too_many_connections");
    assert!(answer.head.contains("retry-after: 1"), "{}", answer.head);
    closed_by(&mut over, Instant::now() + Duration::from_secs(5));
    // Once the slow connections time out, a real client is served again.
    for c in &mut slow {
        closed_by(c, sent + Duration::from_secs(8));
    }
    let served = eventually(
        10,
        "a client served after the slow ones were dropped",
        || {
            let mut c = connect(&s);
            let answer = get_healthz(&mut c);
            (answer.status == 200).then_some(answer)
        },
    );
    assert_eq!(served.body["status"], "ok");
    assert!(
        s.metric("herald_http_connections_refused_total")
            .is_some_and(|n| n >= 1.0),
        "refusals counted"
    );
}

/// A connection upgraded to a WebSocket (GraphQL subscriptions) keeps its slot under the cap
/// until the WebSocket closes: WebSockets cannot exhaust the server past its cap.
#[test]
fn an_upgraded_websocket_holds_its_connection_slot_until_it_closes() {
    let s = Server::start_with(&["--max-connections", "1"]);
    let mut socket = connect(&s);
    socket
        .write_all(
            b"GET /graphql HTTP/1.1\r\nHost: herald\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
              Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
              Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
        )
        .unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            socket.read(&mut byte).unwrap(),
            1,
            "the upgrade was not answered"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // The WebSocket is open and idle: the one slot is its.
    for _ in 0..3 {
        let mut other = connect(&s);
        let answer = get_healthz(&mut other);
        assert_eq!(
            (answer.status, &answer.body["code"]),
            (503, &json!("too_many_connections")),
            "{}",
            answer.head
        );
    }
    drop(socket);
    let served = eventually(10, "a client served once the WebSocket closed", || {
        let mut c = connect(&s);
        let answer = get_healthz(&mut c);
        (answer.status == 200).then_some(answer)
    });
    assert_eq!(served.body["status"], "ok");
}

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mount a tmpfs of `size` on `dir`; `None` (with the reason printed) only when this
    /// machine does not allow it.
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs(dir.to_owned())),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount: {e}");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fill the filesystem of `path` with a file, then give back `leave` bytes.
fn fill(path: &Path, leave: u64) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0x5a_u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let len = f.metadata().unwrap().len();
    f.set_len(len.saturating_sub(leave)).unwrap();
}

const USERS: usize = 4;

fn batch(name: &str) -> (Vec<String>, Value) {
    let ids: Vec<String> = (0..50).map(|i| format!("{name}-e{i}")).collect();
    let events: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            json!({"type": "track", "userId": format!("user-{}", i % USERS), "event": "Filled",
                   "messageId": id, "properties": {"padding": "p".repeat(200)}})
        })
        .collect();
    (ids, json!({ "batch": events }))
}

#[test]
fn a_full_disk_is_a_retryable_507_and_ingest_recovers_without_losing_events() {
    if cluster_backend() {
        eprintln!("SKIPPED: a full data directory is an embedded-mode test");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(_mount) = Tmpfs::mount(tmp.path(), "8m") else {
        return;
    };
    // Dropped before the mount: the server stops, then the tmpfs goes.
    let s = Server::start_in(&tmp.path().join("data"), &[]);
    let filler = tmp.path().join("filler");
    fill(&filler, 384 * 1024);

    // Ingest until the disk is full.
    let mut acked = BTreeSet::new();
    let mut refused = None;
    for b in 0..2000 {
        let (ids, body) = batch(&format!("b{b}"));
        let r = s.post("/v1/batch", &body);
        match r.status().as_u16() {
            200 => acked.extend(ids),
            507 => {
                let retry_after = r.headers().get("retry-after").map(|v| v.to_owned());
                let answer: Value = r.json().unwrap();
                assert_eq!(answer["code"], "storage_full", "{answer}");
                assert!(retry_after.is_some(), "a Retry-After");
                refused = Some((ids, body));
                break;
            }
            other => panic!("batch {b}: {other} {}", r.text().unwrap()),
        }
    }
    let (refused_ids, refused_body) = refused.expect("the disk filled up");
    assert!(!acked.is_empty(), "some batches fit before the disk filled");

    // Readiness, the status and the metrics say so.
    let ready: Value = s
        .http
        .get(format!("{}/readyz", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["storage_full"], true, "{ready}");
    assert_eq!(s.status()["storage_full"], true);
    assert_eq!(s.metric("herald_storage_full"), Some(1.0));
    assert!(
        s.metric("herald_storage_full_refusals_total{component=\"ingest\"}")
            .is_some_and(|n| n >= 1.0),
        "refusals counted"
    );
    // Still full: still a 507, not a 500.
    assert_eq!(s.post("/v1/batch", &refused_body).status(), 507);

    // Space is freed: the refused batch, sent again as an SDK would, is accepted.
    std::fs::remove_file(&filler).unwrap();
    eventually(
        20,
        "the refused batch accepted after space was freed",
        || (s.post("/v1/batch", &refused_body).status() == 200).then_some(()),
    );
    acked.extend(refused_ids);
    let (ids, body) = batch("after");
    assert_eq!(s.post("/v1/batch", &body).status(), 200);
    acked.extend(ids);

    // Readiness, the status and the metric recover by themselves.
    eventually(30, "readiness back to ready", || {
        let r: Value = s
            .http
            .get(format!("{}/readyz", s.url))
            .send()
            .ok()?
            .json()
            .ok()?;
        (r == json!({"status": "ready"})).then_some(())
    });
    assert_eq!(s.status()["storage_full"], false);
    assert_eq!(s.metric("herald_storage_full"), Some(0.0));

    // Nothing acknowledged was lost, nothing stored twice.
    let stored = s.stored_message_ids(USERS);
    assert_each_stored_once(&acked, &stored);
    assert_eq!(stored.len(), acked.len());
}

#[test]
fn the_openapi_document_lists_the_endpoint_answers() {
    let s = Server::start();
    let doc = s.openapi();
    for path in ["/v1/track", "/v1/batch", "/v1/import", "/v1/b"] {
        let responses = &doc["paths"][path]["post"]["responses"];
        for status in ["408", "503", "507"] {
            assert!(
                responses[status].is_object(),
                "{path} {status}: {responses}"
            );
        }
        assert!(responses["507"]["description"]
            .as_str()
            .unwrap()
            .contains("storage_full"));
    }
    assert!(doc["paths"]["/api/v1/keys"]["post"]["responses"]["507"].is_object());
    assert!(doc["paths"]["/api/v1/status"]["get"]["responses"]["503"].is_object());
}
