//! Durability: `kill -9` during sustained ingest loses no acknowledged event and stores none
//! twice; SIGTERM drains in-flight requests.

mod common;

use std::collections::{BTreeMap, BTreeSet};
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
