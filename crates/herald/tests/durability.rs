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
    let mut counts = BTreeMap::new();
    for u in 0..USERS {
        for e in s.timeline(&format!("user_id:user-{u}"), "") {
            *counts
                .entry(e["messageId"].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
    }
    counts
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
    let lost: Vec<&String> = acked
        .iter()
        .filter(|id| !stored.contains_key(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let twice: Vec<(&String, &usize)> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "events stored twice: {twice:?}");
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

#[test]
fn sigterm_drains_in_flight_requests() {
    let mut s = Server::start();
    let url = Arc::new(Mutex::new(s.url.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients = sustained_ingest(url, stop.clone(), 4);
    std::thread::sleep(Duration::from_millis(600));
    let status = s.terminate();
    stop.store(true, Ordering::SeqCst);
    assert!(status.success(), "graceful exit, got {status:?}");
    let acked: BTreeSet<String> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    // Restart on the same data and check every acknowledged event is there.
    s.crash_and_restart();
    let stored = stored_ids(&s);
    assert!(
        acked.iter().all(|id| stored.get(id) == Some(&1)),
        "every acknowledged event stored exactly once"
    );
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
