//! The `herald` command line, black-box: read-only commands and the data directory, option
//! positions, `keys list` output, `audiences watch` URLs, plain logs, key revocation.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// `herald ARGS` in `cwd`.
fn herald(cwd: &Path, args: &[&str]) -> Output {
    herald_cli(Some(cwd), args)
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
        succeeded(&herald(tmp.path(), &args))
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
    let out = succeeded(&herald(
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
    let out = succeeded(&herald(
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
        succeeded(&herald(tmp.path(), &all))
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

#[test]
fn version_names_the_release_and_the_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let out = succeeded(&herald(tmp.path(), &["--version"]));
    let expected_commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let line = out.trim();
    assert!(
        line.starts_with(&format!("herald {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    let commit = line
        .rsplit("(commit ")
        .next()
        .unwrap()
        .trim_end_matches(')');
    match expected_commit {
        // Built from this checkout (the build script reads its HEAD).
        Some(head) if std::env::var_os("HERALD_GIT_COMMIT").is_none() => {
            assert_eq!(commit, head, "{line}")
        }
        // Not a git checkout: "unknown" (or what the packager set).
        _ => assert!(!commit.is_empty(), "{line}"),
    }
}

/// `herald config check` with `config` as the file's text, `env` set and `args` given.
fn config_check(dir: &Path, config: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let file = dir.join("herald.toml");
    std::fs::write(&file, config).unwrap();
    let mut command = Command::new(bin());
    command
        .current_dir(dir)
        .args(["config", "check", "--config", file.to_str().unwrap()])
        .args(args);
    for var in [
        "HERALD_DATA_DIR",
        "HERALD_DATABASE_URL",
        "HERALD_BUS_URL",
        "HERALD_LISTEN",
        "HERALD_INGEST_QUEUE",
        "HERALD_DEDUP_WINDOW_SECS",
        "HERALD_CLUSTER_NAME",
        "HERALD_CONFIG",
        "HERALD_ADMIN_KEY",
        "HERALD_WRITE_KEY",
        "HERALD_LOG",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied()).output().unwrap()
}

/// The line of `setting` in `config check` output.
fn setting<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(&format!("{name} = ")))
        .unwrap_or_else(|| panic!("no {name} in:\n{out}"))
}

#[test]
fn settings_come_from_flags_then_environment_then_the_file_then_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    let config = r#"
        ingest_queue = 7
        dedup-window-secs = 100
        cluster_name = "from-file"
        listen = "0.0.0.0:9999"
        admin_key = "hak_from_the_file_secret"
    "#;
    let out = config_check(
        tmp.path(),
        config,
        &[
            ("HERALD_DEDUP_WINDOW_SECS", "200"),
            ("HERALD_CLUSTER_NAME", "from-env"),
            ("HERALD_LISTEN", "127.0.0.1:7777"),
        ],
        &["--listen", "127.0.0.1:6666"],
    );
    let out = succeeded(&out);
    assert_eq!(setting(&out, "ingest_queue"), "ingest_queue = 7  # file");
    assert_eq!(
        setting(&out, "dedup_window_secs"),
        "dedup_window_secs = 200  # environment HERALD_DEDUP_WINDOW_SECS"
    );
    assert_eq!(
        setting(&out, "cluster_name"),
        "cluster_name = \"from-env\"  # environment HERALD_CLUSTER_NAME"
    );
    assert_eq!(
        setting(&out, "listen"),
        "listen = \"127.0.0.1:6666\"  # flag"
    );
    assert_eq!(
        setting(&out, "data_dir"),
        "data_dir = \"herald-data\"  # default"
    );
    assert_eq!(
        setting(&out, "admin_key"),
        "admin_key = \"hak_****\"  # file"
    );
    assert!(!out.contains("from_the_file_secret"), "{out}");
    assert!(out.contains("# ok"), "{out}");

    // Cluster settings: the password in the database URL is masked; one without the other is
    // refused.
    let out = config_check(
        tmp.path(),
        "database_url = \"postgres://herald:s3cret@db:5432/herald\"\n",
        &[("HERALD_BUS_URL", "nats://nats:4222")],
        &[],
    );
    let text = succeeded(&out);
    assert!(
        text.contains("database_url = \"postgres://herald:****@db:5432/herald\"  # file"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    let out = config_check(
        tmp.path(),
        "database_url = \"postgres://db/herald\"\n",
        &[],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs both"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Unknown settings and bad values are errors.
    let out = config_check(tmp.path(), "listn = \"x\"\n", &[], &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown setting `listn`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = config_check(tmp.path(), "ingest_queue = \"many\"\n", &[], &[]);
    assert!(!out.status.success());
}

#[test]
fn serve_reads_its_configuration_file() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("from-file-data");
    let file = tmp.path().join("herald.toml");
    std::fs::write(
        &file,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\nwrite_key = \"hwk_from_file\"\nlog = \"warn\"\n",
            data.to_str().unwrap()
        ),
    )
    .unwrap();
    let mut child = Command::new(bin())
        .args(["serve", "--config", file.to_str().unwrap()])
        .env_remove("HERALD_DATA_DIR")
        .env_remove("HERALD_LISTEN")
        .env_remove("HERALD_WRITE_KEY")
        .env_remove("HERALD_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("herald exited").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    let sent = reqwest::blocking::Client::new()
        .post(format!("{url}/v1/track"))
        .basic_auth("hwk_from_file", Some(""))
        .json(&json!({"userId": "u", "event": "E"}))
        .send()
        .unwrap();
    assert_eq!(sent.status(), 200);
    // The health check subcommand reaches it (and fails once it is gone).
    let listen = url.strip_prefix("http://").unwrap();
    let health = Command::new(bin())
        .args(["healthcheck", "--listen", listen])
        .output()
        .unwrap();
    assert!(health.status.success(), "{health:?}");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(data.join("log.db").is_file());
    let health = Command::new(bin())
        .args(["healthcheck", "--listen", listen, "--timeout", "1"])
        .output()
        .unwrap();
    assert!(!health.status.success());
}
