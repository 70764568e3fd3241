//! Durability: `kill -9` during sustained ingest loses no acknowledged event and stores none
//! twice; SIGTERM drains in-flight requests.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const USERS: usize = 8;

/// Clients that keep sending batches with unique message ids (and, like real SDKs, retry what
/// failed with the same ids) until told to stop. Returns the acknowledged ids.
fn sustained_ingest(
    url: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    clients: usize,
) -> Vec<std::thread::JoinHandle<BTreeSet<String>>> {
    (0..clients)
        .map(|c| {
            let (url, stop) = (url.clone(), stop.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                let mut acked = BTreeSet::new();
                let mut batch_no = 0;
                while !stop.load(Ordering::SeqCst) {
                    let ids: Vec<String> = (0..20).map(|i| format!("c{c}-b{batch_no}-e{i}")).collect();
                    let events: Vec<Value> = ids
                        .iter()
                        .enumerate()
                        .map(|(i, id)| json!({"type": "track", "userId": format!("user-{}", (batch_no + i) % USERS), "event": "Tick", "messageId": id}))
                        .collect();
                    // Retry the same batch until it is acknowledged (or the test ends).
                    loop {
                        let target = url.lock().unwrap().clone();
                        let sent = http.post(format!("{target}/v1/batch")).basic_auth(WRITE_KEY, Some("")).json(&json!({"batch": events})).send();
                        if matches!(sent.map(|r| r.status().as_u16()), Ok(200)) {
                            acked.extend(ids.iter().cloned());
                            break;
                        }
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    batch_no += 1;
                }
                acked
            })
        })
        .collect()
}

fn stored_ids(s: &Server) -> BTreeMap<String, usize> {
    s.stored_message_ids(USERS)
}

#[test]
fn kill_9_during_sustained_ingest_loses_no_acknowledged_event() {
    let mut s = Server::start();
    let url = Arc::new(Mutex::new(s.url.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients = sustained_ingest(url.clone(), stop.clone(), 4);
    for round in 0..3 {
        std::thread::sleep(Duration::from_millis(700 + round * 150));
        s.crash_and_restart();
        *url.lock().unwrap() = s.url.clone();
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    let acked: BTreeSet<String> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert!(
        acked.len() > 200,
        "the test must ingest a meaningful amount; got {}",
        acked.len()
    );

    let stored = stored_ids(&s);
    assert_each_stored_once(&acked, &stored);
    let total: u64 = (0..USERS)
        .map(|u| {
            s.profile(&format!("user_id:user-{u}"))["event_counts"]["Tick"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(
        total as usize,
        stored.len(),
        "profile counters applied each event exactly once"
    );

    s.terminate();
    let out = std::process::Command::new(bin())
        .arg("verify")
        .arg("--data-dir")
        .arg(&s.dir)
        .args(s.cluster_flags())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// SIGTERM: every request whose bytes reached the server before the signal is answered 200
/// (and stored), the server exits cleanly. The clients write raw HTTP/1.1 on keep-alive
/// connections, so "sent" is exact: `write_all` returned, the bytes are in the server's socket.
#[test]
fn sigterm_answers_every_request_sent_before_it() {
    let mut s = Server::start();
    let addr = s.url.trim_start_matches("http://").to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (addr, stop) = (addr.clone(), stop.clone());
            std::thread::spawn(move || raw_client(&addr, c, &stop))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(600));
    let signalled = std::time::Instant::now();
    let status = s.terminate();
    stop.store(true, Ordering::SeqCst);
    assert!(status.success(), "graceful exit, got {status:?}");
    let sent: Vec<Sent> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    let before: Vec<&Sent> = sent.iter().filter(|r| r.written < signalled).collect();
    assert!(
        before.len() > 20,
        "the clients sent too little: {}",
        before.len()
    );
    let unanswered: Vec<&&Sent> = before.iter().filter(|r| r.status != Some(200)).collect();
    assert!(
        unanswered.is_empty(),
        "{} of {} requests sent before SIGTERM were not answered 200: {:?}",
        unanswered.len(),
        before.len(),
        unanswered.iter().take(5).collect::<Vec<_>>()
    );
    // Restart on the same data: every acknowledged event is there, once.
    s.crash_and_restart();
    let stored = stored_ids(&s);
    let acked = sent.iter().filter(|r| r.status == Some(200));
    for r in acked {
        assert!(
            r.ids.iter().all(|id| stored.get(id) == Some(&1)),
            "acknowledged events of {r:?} stored once each"
        );
    }
}

#[derive(Debug)]
struct Sent {
    /// When the whole request had been written to the socket.
    written: std::time::Instant,
    /// The answer's status; `None` when the connection ended without one.
    status: Option<u16>,
    ids: Vec<String>,
}

/// One client on one keep-alive connection (a new one only after the server closed it),
/// sending batches until told to stop or the server is gone.
fn raw_client(addr: &str, c: usize, stop: &AtomicBool) -> Vec<Sent> {
    use std::io::Write;
    let auth = format!("Basic {}", b64(&format!("{WRITE_KEY}:")));
    let mut sent = Vec::new();
    let mut conn: Option<BufReader<std::net::TcpStream>> = None;
    for batch_no in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if conn.is_none() {
            match std::net::TcpStream::connect(addr) {
                Ok(stream) => conn = Some(BufReader::new(stream)),
                Err(_) => break,
            }
        }
        let reader = conn.as_mut().unwrap();
        let ids: Vec<String> = (0..20).map(|i| format!("r{c}-b{batch_no}-e{i}")).collect();
        let events: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| json!({"type": "track", "userId": format!("user-{}", (batch_no + i) % USERS), "event": "Tick", "messageId": id}))
            .collect();
        let body = json!({"batch": events}).to_string();
        let head = format!(
            "POST /v1/batch HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if reader
            .get_mut()
            .write_all(format!("{head}{body}").as_bytes())
            .is_err()
        {
            // The server closed the connection before this request was written: not sent.
            conn = None;
            continue;
        }
        let written = std::time::Instant::now();
        let status = read_response(reader);
        if status.is_none() {
            conn = None;
        }
        let closing = status.is_some_and(|(_, close)| close);
        sent.push(Sent {
            written,
            status: status.map(|(code, _)| code),
            ids,
        });
        if closing {
            conn = None;
        }
    }
    sent
}

/// Read one HTTP/1.1 response: its status and whether the server closes the connection.
fn read_response(reader: &mut BufReader<std::net::TcpStream>) -> Option<(u16, bool)> {
    use std::io::Read;
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
    let code: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
    let (mut length, mut close) = (0usize, false);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok().filter(|n| *n > 0)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "connection" => close = value.trim().eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((code, close))
}

/// `--durability full` flushes the log to disk on every commit; `normal` does not (it survives
/// a crash of Herald, not of the machine). `kill -9` cannot tell the two apart (the page cache
/// survives it), so this counts the syncs of the log's write-ahead file with strace attached to
/// the running server: requests sent one after another are one commit each.
#[test]
fn durability_modes_sync_the_log_as_documented() {
    if cluster_backend() {
        println!("embedded only: a cluster's log is JetStream's, which syncs by its own settings");
        return;
    }
    const REQUESTS: usize = 20;
    for (mode, at_least, at_most) in [("full", REQUESTS, usize::MAX), ("normal", 0, 1)] {
        let s = Server::start_with(&["--durability", mode]);
        assert_eq!(
            s.post("/v1/track", &json!({"userId": "u", "event": "Warm"}))
                .status(),
            200
        );
        let syncs = log_syncs_during(&s, || {
            for i in 0..REQUESTS {
                let body = json!({"userId": "u", "event": "E", "messageId": format!("{mode}-{i}")});
                assert_eq!(s.post("/v1/track", &body).status(), 200);
            }
        });
        println!("--durability {mode}: {syncs} syncs of the log for {REQUESTS} commits");
        assert!(
            (at_least..=at_most).contains(&syncs),
            "--durability {mode}: {syncs} syncs of log.db-wal for {REQUESTS} commits"
        );
    }
}

/// How many times the server synced `log.db-wal` (fsync or fdatasync) while `work` ran.
fn log_syncs_during(s: &Server, work: impl FnOnce()) -> usize {
    let pid = s.pid();
    let trace = tempfile::NamedTempFile::new().unwrap();
    let mut strace = std::process::Command::new("strace")
        .args(["-f", "-y", "-e", "trace=fsync,fdatasync", "-o"])
        .arg(trace.path())
        .args(["-p", &pid.to_string()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("strace (Debian package strace) is needed for this test");
    // strace says "Process N attached with M threads" once it traces them all.
    let mut stderr = BufReader::new(strace.stderr.take().unwrap()).lines();
    loop {
        let line = stderr.next().expect("strace ended").unwrap();
        assert!(!line.contains("Operation not permitted"), "{line}");
        if line.contains("attached") {
            break;
        }
    }
    std::thread::spawn(move || for _ in stderr {});
    work();
    std::process::Command::new("kill")
        .args(["-INT", &strace.id().to_string()])
        .status()
        .unwrap();
    strace.wait().unwrap();
    std::fs::read_to_string(trace.path())
        .unwrap()
        .lines()
        .filter(|l| l.contains("sync(") && l.contains("log.db-wal"))
        .count()
}

/// Embedded fencing: a processor applies a batch only if the stored cursor is still the one it
/// read. Two servers on one data directory (a mistake a second `herald serve` makes) both
/// process the log; each event is still applied once.
#[test]
fn two_processors_on_one_data_directory_apply_each_event_once() {
    if cluster_backend() {
        println!("embedded only: a cluster fences its sequencer and partitions (cluster.rs)");
        return;
    }
    let a = Server::start();
    let b = Server::start_in(&a.dir, &[]);
    // b's processor read the cursor (0) at its start. a applies 30 events...
    for i in 0..30 {
        let body = json!({"userId": "fenced", "event": "Tick", "messageId": format!("a-{i}")});
        assert_eq!(a.post("/v1/track", &body).status(), 200);
    }
    a.wait_processed();
    // ...then an event through b wakes b's processor, which still holds cursor 0: without the
    // fence it would apply the 30 again.
    let body = json!({"userId": "fenced", "event": "Tick", "messageId": "b-0"});
    assert_eq!(b.post("/v1/track", &body).status(), 200);
    b.wait_processed();
    for s in [&a, &b] {
        assert_eq!(s.profile("user_id:fenced")["event_counts"]["Tick"], 31);
    }
}

/// A deletion commits to state first, then deletes from the log; a crash in between is
/// finished at the next start. The crash is recreated exactly: after a deletion, its events go
/// back into the log at their positions and their positions into `pending_log_deletions`, as a
/// process killed between the two phases leaves them.
#[test]
fn a_deletion_interrupted_between_its_phases_is_finished_at_start() {
    if cluster_backend() {
        println!("embedded only: this recreates the crash in log.db and state.db");
        return;
    }
    let mut s = Server::start();
    let batch = json!({"batch": [
        {"type": "identify", "userId": "gone", "traits": {"email": "gone@example.com"}, "messageId": "g1"},
        {"type": "track", "userId": "gone", "event": "Bought", "messageId": "g2"},
        {"type": "track", "userId": "stays", "event": "Bought", "messageId": "s1"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    let rows = |dir: &std::path::Path| -> Vec<(i64, String, i64, String)> {
        let log = rusqlite::Connection::open(dir.join("log.db")).unwrap();
        let mut q = log
            .prepare("SELECT seq, message_id, received_ms, payload FROM events ORDER BY seq")
            .unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let gone: Vec<_> = rows(&s.dir)
        .into_iter()
        .filter(|(_, id, _, _)| id.starts_with('g'))
        .collect();
    assert_eq!(gone.len(), 2);
    assert_eq!(
        s.admin_delete("/api/v1/profiles/user_id:gone").status(),
        200
    );
    s.wait_processed();
    s.terminate();
    {
        let log = rusqlite::Connection::open(s.dir.join("log.db")).unwrap();
        let state = rusqlite::Connection::open(s.dir.join("state.db")).unwrap();
        for (seq, id, received, payload) in &gone {
            log.execute(
                "INSERT INTO events (seq, message_id, received_ms, payload) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![seq, id, received, payload],
            )
            .unwrap();
            state
                .execute("INSERT INTO pending_log_deletions (seq) VALUES (?1)", [seq])
                .unwrap();
        }
    }
    s.crash_and_restart();
    s.wait_processed();
    // Finished: the events are out of the log, and then (a second database, a second
    // commit) nothing is left pending.
    let pending = || -> i64 {
        rusqlite::Connection::open(s.dir.join("state.db"))
            .unwrap()
            .query_row("SELECT count(*) FROM pending_log_deletions", [], |r| {
                r.get(0)
            })
            .unwrap()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left: Vec<String> = rows(&s.dir).into_iter().map(|(_, id, _, _)| id).collect();
        let waiting = pending();
        if left == ["s1"] && waiting == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the interrupted deletion was not finished: the log holds {left:?}, {waiting} pending"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(s.admin_get("/api/v1/profiles/user_id:gone").status(), 404);
    assert_eq!(s.profile("user_id:stays")["total_events"], 1);
}
