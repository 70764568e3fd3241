//! `herald backup` while the server ingests under load, `herald restore` into a fresh
//! directory: the restored copy passes `herald verify` and holds every event acknowledged
//! before the backup started. Embedded mode only (a cluster is backed up with PostgreSQL's and
//! JetStream's own tools, docs/deploy.md).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn herald(args: &[&str]) -> Output {
    herald_cli(None, args)
}

/// Clients posting batches with unique ids until `stop`; every acknowledged id goes into
/// `acked` as soon as its 200 arrives.
fn load(
    url: &str,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
    clients: usize,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..clients)
        .map(|c| {
            let (url, stop, acked) = (url.to_owned(), stop.clone(), acked.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let ids: Vec<String> = (0..25).map(|i| format!("c{c}-b{n}-e{i}")).collect();
                    let batch: Vec<Value> = ids
                        .iter()
                        .enumerate()
                        .map(|(i, id)| {
                            let user = format!("user-{}", (n + i) % 12);
                            if i == 0 {
                                // Identities and merges too: the user's email joins them.
                                json!({"type": "identify", "userId": user, "messageId": id,
                                       "traits": {"email": format!("{user}@example.com"), "n": n}})
                            } else {
                                json!({"type": "track", "userId": user, "event": "Tick", "messageId": id,
                                       "properties": {"n": n}})
                            }
                        })
                        .collect();
                    let sent = http
                        .post(format!("{url}/v1/batch"))
                        .basic_auth(WRITE_KEY, Some(""))
                        .json(&json!({ "batch": batch }))
                        .send();
                    if matches!(sent.map(|r| r.status().as_u16()), Ok(200)) {
                        acked.lock().unwrap().extend(ids);
                    }
                    n += 1;
                }
            })
        })
        .collect()
}

fn logged_ids(dir: &Path) -> BTreeSet<String> {
    let log = rusqlite::Connection::open(dir.join("log.db")).unwrap();
    let mut stmt = log.prepare("SELECT message_id FROM events").unwrap();
    let ids: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "an event is in the log twice");
    unique
}

#[test]
fn a_backup_taken_under_load_restores_every_acknowledged_event_and_verifies() {
    if cluster_backend() {
        return;
    }
    let mut s = Server::start();
    // Some state that is not in the log: an audience definition and a person deletion (a
    // rewrite of the log, two-phase).
    let created = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "tickers", "rule": "performed \"Tick\" >= 1"}),
    );
    assert_eq!(created.status(), 201, "{}", created.text().unwrap());
    assert_eq!(
        s.post(
            "/v1/batch",
            &json!({"batch": [track("gone", "Tick", "gone-1")]})
        )
        .status(),
        200
    );
    s.wait_processed();
    let deleted = s.admin_delete("/api/v1/profiles/user_id:gone");
    assert!(deleted.status().is_success(), "{}", deleted.text().unwrap());

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let clients = load(&s.url, stop.clone(), acked.clone(), 2);
    eventually(60, "some load", || {
        (acked.lock().unwrap().len() >= 1_000).then_some(())
    });

    let tmp = tempfile::tempdir().unwrap();
    let (copy, restored) = (tmp.path().join("backup"), tmp.path().join("restored"));
    let before: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    let out = herald(&[
        "backup",
        "--data-dir",
        s.dir.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    let during = acked.lock().unwrap().len();
    succeeded(&out);
    eventually(30, "load after the backup", || {
        (acked.lock().unwrap().len() > during).then_some(())
    });
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let after = acked.lock().unwrap().len();
    assert!(
        after > during && during >= before.len(),
        "the load went on during and after the backup ({} → {during} → {after})",
        before.len()
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(copy.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["herald_version"], env!("CARGO_PKG_VERSION"));
    assert!(manifest["log_head"].as_u64().unwrap() >= before.len() as u64);
    assert!(manifest["state_cursor"].as_u64() <= manifest["log_head"].as_u64());
    assert!(manifest["log_schema_version"].as_u64().unwrap() >= 1);
    assert!(!copy.join("dedup-window.bin").exists());

    succeeded(&herald(&[
        "restore",
        copy.to_str().unwrap(),
        restored.to_str().unwrap(),
    ]));
    let ids = logged_ids(&restored);
    let missing: Vec<_> = before.difference(&ids).take(5).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, missing from the restored copy: {missing:?}"
    );
    assert!(
        !ids.contains("gone-1"),
        "the deleted person's event came back"
    );

    // A server on the restored copy applies what the state copy had not yet, and then the
    // restored state equals a rebuild of the restored log.
    let mut r = Server::start_in(&restored, &[]);
    r.wait_processed();
    let members = r.admin_json("/api/v1/audiences/tickers/members?limit=1");
    assert!(
        !members["members"].as_array().unwrap().is_empty(),
        "{members}"
    );
    assert_eq!(
        r.profile("email:user-3@example.com")["profile_id"],
        r.profile("user_id:user-3")["profile_id"]
    );
    assert!(r.terminate().success());
    let _ = s.terminate();
    let verified = succeeded(&herald(&[
        "verify",
        "--data-dir",
        restored.to_str().unwrap(),
    ]));
    assert!(verified.starts_with("ok:"), "{verified}");

    // Restore refuses a directory that holds something, unless forced.
    let out = herald(&[
        "restore",
        copy.to_str().unwrap(),
        restored.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    succeeded(&herald(&[
        "restore",
        "--force",
        copy.to_str().unwrap(),
        restored.to_str().unwrap(),
    ]));
    // And a backup whose copy changed.
    std::fs::write(copy.join("state.db"), b"not a database").unwrap();
    let out = herald(&[
        "restore",
        copy.to_str().unwrap(),
        tmp.path().join("elsewhere").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not match"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
