//! Real third-party SDKs, unmodified, pointed at a running Herald: `segment-analytics-python`,
//! `rudder-sdk-python` (gzip), `@segment/analytics-node` and `@rudderstack/rudder-sdk-node` (gzip).
//! Each replays the same realistic session (`tests/sdk/session.{py,mjs}`); the test then asserts
//! the resulting profile through the admin API.
//!
//! The SDKs are installed by `scripts/test.sh` into `.venv` and `tests/sdk/node_modules`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Server, WRITE_KEY};
use serde_json::Value;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The session both scripts replay, in timestamp order: `type` plus the event or page name.
const SESSION: [&str; 10] = [
    "page Home",
    "page Pricing",
    "track Plan Viewed",
    "identify",
    "track Signed Up",
    "group",
    "identify",
    "screen Dashboard",
    "alias",
    "track Order Completed",
];

fn run_session(program: PathBuf, script: &str, sdk: &str, server: &Server, prefix: &str) {
    let root = repo_root();
    let installed = if script.ends_with(".py") {
        program.clone()
    } else {
        root.join("tests/sdk/node_modules")
    };
    assert!(
        installed.exists(),
        "{} is missing: ./scripts/test.sh installs the SDKs",
        installed.display()
    );
    let out = Command::new(&program)
        .arg(root.join("tests/sdk").join(script))
        .args([sdk, &server.url, WRITE_KEY, prefix])
        .current_dir(root.join("tests/sdk"))
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{sdk} via {script} failed: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("bad report from {script}: {e}: {stdout}"));
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(report["sent"], SESSION.len(), "{report}");
}

fn assert_session_profile(server: &Server, prefix: &str) {
    let user = format!("user_id:{prefix}-user");
    let profile = server.profile(&user);
    let id = profile["profile_id"].as_str().unwrap().to_owned();

    // Every identifier the session used resolves to the one profile.
    let mut identities: Vec<String> = profile["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    identities.sort();
    let mut expected = vec![
        format!("anonymous_id:{prefix}-anon-laptop"),
        format!("anonymous_id:{prefix}-anon-phone"),
        format!("email:{prefix}@example.com"),
        user.clone(),
    ];
    expected.sort();
    assert_eq!(identities, expected, "{profile}");
    for other in &expected {
        assert_eq!(
            server.profile(other)["profile_id"],
            id.as_str(),
            "{other} resolves elsewhere"
        );
    }

    // The later identify wins `plan`; the earlier one's other traits stay.
    assert_eq!(profile["traits"]["email"], format!("{prefix}@example.com"));
    assert_eq!(profile["traits"]["name"], "Ana Silva");
    assert_eq!(profile["traits"]["plan"], "pro");
    let groups = profile["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{profile}");
    assert_eq!(groups[0]["group_id"], format!("{prefix}-acme"));
    assert_eq!(groups[0]["traits"]["name"], "Acme Lda");
    assert_eq!(groups[0]["traits"]["employees"], 42);
    assert_eq!(profile["timezone"], "Europe/Lisbon");
    assert_eq!(profile["locale"], "pt-PT");
    assert_eq!(profile["total_events"], SESSION.len());

    // The timeline holds the whole session once, in the order the user lived it.
    let mut timeline = server.timeline(&user, "");
    timeline.reverse();
    let lived: Vec<String> = timeline
        .iter()
        .map(|e| {
            let kind = e["type"].as_str().unwrap();
            match e["event"].as_str().or(e["name"].as_str()) {
                Some(name) => format!("{kind} {name}"),
                None => kind.to_owned(),
            }
        })
        .collect();
    assert_eq!(lived, SESSION, "{timeline:?}");

    // The phone joined through the alias, and the merge is on record with its cause.
    let graph = server.admin_json(&format!(
        "/api/v1/profiles/{}/identity",
        common::encode(&user)
    ));
    let merges = graph["merges"].as_array().unwrap();
    assert!(
        merges.iter().any(|m| m["event_type"] == "alias"
            && m["loser_identifiers"]
                == serde_json::json!([format!("anonymous_id:{prefix}-anon-phone")])),
        "{graph}"
    );
}

fn python() -> PathBuf {
    repo_root().join(".venv/bin/python")
}

fn node() -> PathBuf {
    PathBuf::from("node")
}

#[test]
fn segment_analytics_python() {
    let server = Server::start();
    run_session(python(), "session.py", "segment", &server, "segment-py");
    assert_session_profile(&server, "segment-py");
}

#[test]
fn rudder_sdk_python_gzip() {
    let server = Server::start();
    run_session(python(), "session.py", "rudder", &server, "rudder-py");
    assert_session_profile(&server, "rudder-py");
}

#[test]
fn segment_analytics_node() {
    let server = Server::start();
    run_session(node(), "session.mjs", "segment", &server, "segment-node");
    assert_session_profile(&server, "segment-node");
}

#[test]
fn rudder_sdk_node_gzip() {
    let server = Server::start();
    run_session(node(), "session.mjs", "rudder", &server, "rudder-node");
    assert_session_profile(&server, "rudder-node");
}
