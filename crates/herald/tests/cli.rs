//! The `herald` command line, black-box: read-only commands and the data directory, option
//! positions, `keys list` output, `audiences watch` URLs, plain logs, key revocation.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// `herald ARGS` in `cwd`, without the environment variables that would point it elsewhere.
fn herald(cwd: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(cwd)
        .args(args)
        .env_remove("HERALD_DATA_DIR")
        .env_remove("HERALD_DATABASE_URL")
        .env_remove("HERALD_BUS_URL")
        .env_remove("HERALD_URL")
        .env_remove("HERALD_ADMIN_KEY")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn read_only_commands_refuse_a_missing_data_directory_and_create_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nonexistent");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["verify", "--data-dir", missing.to_str().unwrap()],
            "does not exist",
        ),
        (
            &["keys", "--data-dir", missing.to_str().unwrap(), "list"],
            "does not exist",
        ),
        (&["keys", "list"], "does not exist"),
        (
            &[
                "keys",
                "create",
                "--kind",
                "write",
                "--data-dir",
                empty.to_str().unwrap(),
            ],
            "not a Herald data directory",
        ),
        (
            &["verify", "--data-dir", empty.to_str().unwrap()],
            "not a Herald data directory",
        ),
    ];
    for (args, message) in cases {
        let out = herald(tmp.path(), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    assert!(
        !missing.exists(),
        "verify or keys created {}",
        missing.display()
    );
    assert!(
        !tmp.path().join("herald-data").exists(),
        "keys list created ./herald-data"
    );
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "a database was created in an empty directory"
    );
}

/// The start of each column, from the header's words.
fn column_starts(header: &str) -> Vec<usize> {
    let bytes = header.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i] != b' ' && (i == 0 || bytes[i - 1] == b' '))
        .collect()
}

#[test]
fn keys_take_global_options_after_the_action_and_list_in_aligned_columns() {
    let s = Server::start();
    let dir = s.dir.to_str().unwrap().to_owned();
    let cluster = s.database_flags();
    let cluster: Vec<&str> = cluster.iter().map(String::as_str).collect();
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let args: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--data-dir", &dir])
            .chain(cluster.iter().copied())
            .collect();
        stdout(&herald(tmp.path(), &args))
    };
    run(&[
        "keys",
        "create",
        "--kind",
        "admin",
        "--name",
        "a name with spaces",
    ]);
    run(&["keys", "create", "--name", "w", "--kind", "write"]);
    let listed = run(&["keys", "list"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 5, "{listed}");
    let starts = column_starts(lines[0]);
    assert_eq!(starts.len(), 6, "{listed}");
    for line in &lines[1..] {
        for &start in &starts[1..] {
            let (before, at) = (line.as_bytes()[start - 1], line.as_bytes()[start]);
            assert!(
                before == b' ' && at != b' ',
                "column at {start} is not aligned:\n{listed}"
            );
        }
    }
    assert!(
        listed.contains("from HERALD_WRITE_KEY") && listed.contains("a name with spaces"),
        "{listed}"
    );
}

#[test]
fn audiences_watch_assumes_http_for_a_url_without_a_scheme() {
    let s = Server::start();
    let created = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "pros", "rule": r#"trait plan = "pro""#}),
    );
    assert_eq!(created.status(), 201, "{}", created.text().unwrap());
    let host = s.url.strip_prefix("http://").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = stdout(&herald(
        tmp.path(),
        &[
            "audiences",
            "watch",
            "--url",
            host,
            "--admin-key",
            ADMIN_KEY,
        ],
    ));
    assert!(
        out.lines()
            .any(|l| l.starts_with("pros ") && l.contains("0 members")),
        "{out}"
    );
    // The options may come before the action too.
    let out = stdout(&herald(
        tmp.path(),
        &[
            "audiences",
            "--url",
            &format!("{host}/"),
            "--admin-key",
            ADMIN_KEY,
            "watch",
        ],
    ));
    assert!(out.contains("pros"), "{out}");
}

#[test]
fn logs_have_no_colour_codes_when_not_written_to_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path().join("data"))
        .env("HERALD_LOG", "debug")
        .env_remove("NO_COLOR")
        .env_remove("HERALD_LOG_FORMAT")
        .env_remove("HERALD_DATABASE_URL")
        .env_remove("HERALD_BUS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (first_line, logged) = std::sync::mpsc::channel();
    let drain = std::thread::spawn(move || {
        let mut logs = String::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            logs.push_str(&String::from_utf8_lossy(&buf[..n]));
            if logs.contains('\n') {
                let _ = first_line.send(());
            }
        }
        logs
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = lines.any(|l| l.unwrap().starts_with("listening on "));
    // Stop it once it has logged something (a busy machine may log after it listens).
    let logged_something = logged.recv_timeout(Duration::from_secs(30)).is_ok();
    child.kill().unwrap();
    child.wait().unwrap();
    let logs = drain.join().unwrap();
    assert!(started, "herald did not start: {logs}");
    assert!(
        logged_something && logs.lines().count() > 0,
        "no logs at debug level"
    );
    assert!(
        !logs.contains('\u{1b}'),
        "ANSI escape codes in piped logs:\n{logs}"
    );
}

/// Issue 17: a key revoked with the CLI while the server runs was accepted for about 5 s more
/// (the key-check cache). Now it is refused within the documented 1 s bound (docs/ingest.md).
/// With `HERALD_TEST_BACKEND=cluster` the CLI revokes in PostgreSQL and the node sees it the
/// same way.
#[test]
fn a_key_revoked_with_the_cli_is_refused_within_a_second() {
    let s = Server::start();
    let dir = s.dir.to_str().unwrap().to_owned();
    let cluster = s.database_flags();
    let tmp = tempfile::tempdir().unwrap();
    let keys = |args: &[&str]| {
        let mut all = vec!["keys"];
        all.extend_from_slice(args);
        all.extend(["--data-dir", &dir]);
        all.extend(cluster.iter().map(String::as_str));
        stdout(&herald(tmp.path(), &all))
    };
    let created = keys(&["create", "--kind", "write", "--name", "soon revoked"]);
    let id = created.split_whitespace().nth(3).unwrap().to_owned();
    let secret = created.lines().nth(1).unwrap().to_owned();
    let ingest = |n: u32| {
        s.http
            .post(format!("{}/v1/track", s.url))
            .basic_auth(&secret, Some(""))
            .json(&json!({"userId": "u", "event": "E", "messageId": format!("r{n}")}))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    // Accepted, so the server has cached a positive check of it.
    assert_eq!(ingest(0), 200);
    assert_eq!(ingest(1), 200);
    keys(&["revoke", &id]);
    let revoked = Instant::now();
    let mut n = 2;
    let refused_after = loop {
        let status = ingest(n);
        let elapsed = revoked.elapsed();
        if status == 401 {
            break elapsed;
        }
        assert_eq!(status, 200);
        assert!(
            elapsed < Duration::from_secs(10),
            "the revoked key is still accepted"
        );
        n += 1;
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        refused_after < Duration::from_secs(1),
        "refused only {refused_after:?} after the revocation"
    );
    // And it stays refused.
    for m in 0..5 {
        assert_eq!(ingest(1000 + m), 401);
    }
    let r = s.admin_get("/api/v1/keys");
    let listed: Value = r.json().unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == id.as_str() && !k["revoked_at"].is_null()),
        "{listed}"
    );
}
