//! Upgrades keep data, downgrades are refused.
//!
//! `tests/fixtures/data-log<L>-state<S>/` is a small data directory written by the Herald that
//! introduced log schema `L` and state schema `S` (a few events, identities, a merge, a group,
//! an audience, a key; `expected.json` says what is in it). Every fixture is kept forever: each
//! one is opened by this binary, which must migrate it and show the same data. When a migration
//! is added, write the new version's fixture (the old ones stay):
//!
//! ```text
//! cargo nextest run -p herald --test upgrade --run-ignored only write_the_fixture_of_this_schema_version
//! ```

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn herald(args: &[&str]) -> Output {
    herald_cli(None, args)
}

fn user_version(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// Every fixture directory, oldest schema first.
fn every_fixture() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("data-")
        })
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no fixture in {}", fixtures().display());
    dirs
}

/// A copy of a fixture's databases in a fresh directory (the fixture itself is never opened:
/// opening migrates it).
fn copy_of(fixture: &Path, into: &Path) {
    std::fs::create_dir_all(into).unwrap();
    for file in ["log.db", "state.db"] {
        std::fs::copy(fixture.join(file), into.join(file)).unwrap();
    }
}

#[test]
fn every_fixture_data_directory_opens_with_this_binary_and_keeps_its_data() {
    if cluster_backend() {
        return;
    }
    for fixture in every_fixture() {
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let expected: Value =
            serde_json::from_slice(&std::fs::read(fixture.join("expected.json")).unwrap()).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        copy_of(&fixture, &dir);

        // Offline first: verify opens (and migrates) it, and its state equals a rebuild.
        let verified = succeeded(&herald(&["verify", "--data-dir", dir.to_str().unwrap()]));
        assert!(verified.starts_with("ok:"), "{name}: {verified}");

        let mut s = Server::start_in(&dir, &[]);
        s.wait_processed();
        let alice = s.profile("user_id:alice");
        assert_eq!(alice["traits"]["plan"], "pro", "{name}: {alice}");
        // The merge: alice's anonymous visit is hers.
        assert_eq!(
            s.profile("anonymous_id:anon-1")["profile_id"],
            alice["profile_id"],
            "{name}"
        );
        assert_eq!(
            s.profile("email:alice@example.com")["profile_id"],
            alice["profile_id"],
            "{name}"
        );
        assert_eq!(s.profile("user_id:bob")["traits"]["plan"], "free", "{name}");
        let members = s.admin_json("/api/v1/audiences/pros/members?limit=100");
        let members: Vec<&Value> = members["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["profile_id"])
            .collect();
        assert_eq!(members, [&alice["profile_id"]], "{name}");
        // The fixture's own write key still works.
        let key = expected["write_key"].as_str().unwrap();
        let sent = s
            .http
            .post(format!("{}/v1/track", s.url))
            .basic_auth(key, Some(""))
            .json(&json!({"userId": "bob", "event": "Upgraded", "messageId": "after-upgrade"}))
            .send()
            .unwrap();
        assert_eq!(sent.status(), 200, "{name}");
        s.wait_processed();
        assert_eq!(
            s.timeline("user_id:bob", "").len() as u64,
            expected["bob_events"].as_u64().unwrap() + 1,
            "{name}"
        );
        assert!(s.terminate().success());
        let verified = succeeded(&herald(&["verify", "--data-dir", dir.to_str().unwrap()]));
        assert!(verified.starts_with("ok:"), "{name}: {verified}");

        // Migrated to this binary's versions; and a backup of the old version restores.
        assert!(user_version(&dir.join("state.db")) >= user_version(&fixture.join("state.db")));
        let restored = tmp.path().join("restored");
        succeeded(&herald(&[
            "restore",
            fixture.to_str().unwrap(),
            restored.to_str().unwrap(),
        ]));
        let verified = succeeded(&herald(&[
            "verify",
            "--data-dir",
            restored.to_str().unwrap(),
        ]));
        assert!(verified.starts_with("ok:"), "{name}: {verified}");
    }
}

/// `herald serve` on `dir` must fail at start with an error containing every one of `needles`.
fn refused_at_start(dir: &Path, extra: &[String], needles: &[String]) {
    let out = Command::new(bin())
        .args([
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .env_remove("HERALD_CONFIG")
        .env("HERALD_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle.as_str()),
            "{needle:?} not in: {stderr}"
        );
    }
}

#[test]
fn a_data_directory_from_a_newer_herald_is_refused_with_both_versions() {
    let fixture = every_fixture().pop().unwrap();
    for file in ["state.db", "log.db"] {
        let tmp = tempfile::tempdir().unwrap();
        copy_of(&fixture, tmp.path());
        // The newest this binary knows: open (and migrate) the copy once.
        succeeded(&herald(&[
            "verify",
            "--data-dir",
            tmp.path().to_str().unwrap(),
        ]));
        let db = tmp.path().join(file);
        let known = user_version(&db);
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch(&format!("PRAGMA user_version = {}", known + 7))
            .unwrap();
        let needles = [
            format!("{file} has schema version {}", known + 7),
            format!("newer than the version {known} this Herald"),
            "downgrades are not supported".to_owned(),
        ];
        refused_at_start(tmp.path(), &[], &needles);
        let out = herald(&["verify", "--data-dir", tmp.path().to_str().unwrap()]);
        assert!(!out.status.success());
        // Nothing was changed.
        assert_eq!(user_version(&db), known + 7);
    }
}

#[test]
fn a_cluster_database_from_a_newer_herald_is_refused_with_both_versions() {
    let pg = std::env::var("HERALD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let nats =
        std::env::var("HERALD_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let scratch = match herald_storage::cluster::Scratch::create(&pg, &nats) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("skipped: no PostgreSQL and NATS for a scratch cluster ({e})");
            return;
        }
    };
    let url = scratch.config().unwrap().database_url;
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let newer = herald_storage::postgres::SCHEMA_VERSION as i32 + 3;
    client
        .batch_execute(&format!(
            "CREATE TABLE herald_schema (version INTEGER NOT NULL); INSERT INTO herald_schema VALUES ({newer});"
        ))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    refused_at_start(
        tmp.path(),
        &scratch.serve_args().unwrap(),
        &[
            format!("PostgreSQL database has schema version {newer}"),
            format!(
                "newer than the version {} this Herald",
                herald_storage::postgres::SCHEMA_VERSION
            ),
        ],
    );
}

/// Writes `tests/fixtures/data-log<L>-state<S>` for this binary's schema versions, unless it
/// exists (a fixture is never rewritten: it stands for the data that version's users have).
#[test]
#[ignore = "writes a fixture; run by hand when a schema version is added"]
fn write_the_fixture_of_this_schema_version() {
    let dir = fixtures().join(format!(
        "data-log{}-state{}",
        herald_storage::sqlite::LOG_SCHEMA_VERSION,
        herald_storage::sqlite::STATE_SCHEMA_VERSION
    ));
    assert!(
        !dir.exists(),
        "{} exists; fixtures are kept as written",
        dir.display()
    );
    let s = Server::start();
    let key = succeeded(&herald(&[
        "keys",
        "create",
        "--kind",
        "write",
        "--name",
        "fixture",
        "--data-dir",
        s.dir.to_str().unwrap(),
    ]));
    let write_key = key
        .split_whitespace()
        .find(|w| w.starts_with("hwk_"))
        .unwrap_or_else(|| panic!("no key in {key}"))
        .to_owned();
    let created = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "pros", "rule": "trait plan = \"pro\""}),
    );
    assert_eq!(created.status(), 201, "{}", created.text().unwrap());
    let ts = "2026-01-01T10:00:00Z";
    let batch = json!({"batch": [
        {"type": "page", "anonymousId": "anon-1", "name": "Pricing", "timestamp": ts, "messageId": "f1"},
        {"type": "identify", "userId": "alice", "anonymousId": "anon-1", "traits": {"email": "alice@example.com", "plan": "pro"}, "timestamp": "2026-01-01T10:01:00Z", "messageId": "f2"},
        {"type": "track", "userId": "alice", "event": "Order Completed", "properties": {"revenue": 30}, "timestamp": "2026-01-01T10:02:00Z", "messageId": "f3"},
        {"type": "group", "userId": "alice", "groupId": "acme", "traits": {"name": "Acme"}, "timestamp": "2026-01-01T10:03:00Z", "messageId": "f4"},
        {"type": "identify", "userId": "bob", "traits": {"plan": "free"}, "timestamp": "2026-01-01T10:04:00Z", "messageId": "f5"},
        {"type": "track", "userId": "bob", "event": "Signed Up", "timestamp": "2026-01-01T10:05:00Z", "messageId": "f6"},
    ]});
    let sent = s
        .http
        .post(format!("{}/v1/batch", s.url))
        .basic_auth(&write_key, Some(""))
        .json(&batch)
        .send()
        .unwrap();
    assert_eq!(sent.status(), 200);
    s.wait_processed();
    let bob_events = s.timeline("user_id:bob", "").len();
    succeeded(&herald(&[
        "backup",
        "--data-dir",
        s.dir.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]));
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_vec_pretty(&json!({
            "written_by": env!("CARGO_PKG_VERSION"),
            "write_key": write_key,
            "bob_events": bob_events,
        }))
        .unwrap(),
    )
    .unwrap();
}
