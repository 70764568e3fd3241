//! The container image's root filesystem (`scripts/container-rootfs.sh`, the build context of
//! the `Containerfile`) runs Herald by itself: assembled into a directory and entered with
//! `chroot` as the image's non-root user, `herald serve` starts, answers `/healthz`, and the
//! `healthcheck` subcommand (the image's HEALTHCHECK) succeeds. Needs root (chroot); skipped
//! otherwise.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

/// `chroot`, found on PATH before the child's environment is cleared.
fn chroot() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("chroot"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| "/usr/sbin/chroot".into())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[test]
fn the_container_root_filesystem_serves_and_passes_its_health_check() {
    if !is_root() {
        eprintln!("skipped: chroot needs root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tmp.path().join("rootfs");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/container-rootfs.sh");
    let built = Command::new("sh")
        .arg(&script)
        .arg(bin())
        .arg(&rootfs)
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
    // Nothing from the host but what the script copied: no shell, no curl.
    assert!(!rootfs.join("bin/sh").exists());
    assert!(rootfs.join("etc/passwd").is_file());

    let mut server = Command::new(chroot())
        .arg("--userspec=10001:10001")
        .arg(&rootfs)
        .args(["/usr/local/bin/herald", "serve"])
        // What the image sets (its ENV), on a free port.
        .env_clear()
        .env("HERALD_DATA_DIR", "/data")
        .env("HERALD_LISTEN", "127.0.0.1:0")
        .env("HERALD_LOG", "warn")
        .env("HERALD_WRITE_KEY", WRITE_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("herald exited in the chroot").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let health = reqwest::blocking::get(format!("{url}/healthz")).unwrap();
    assert_eq!(health.status(), 200);
    let sent = reqwest::blocking::Client::new()
        .post(format!("{url}/v1/track"))
        .basic_auth(WRITE_KEY, Some(""))
        .json(&serde_json::json!({"userId": "u", "event": "In a container"}))
        .send()
        .unwrap();
    assert_eq!(sent.status(), 200);

    let check = |env_listen: &str| {
        Command::new(chroot())
            .arg("--userspec=10001:10001")
            .arg(&rootfs)
            .args(["/usr/local/bin/herald", "healthcheck"])
            .env_clear()
            .env("HERALD_LISTEN", env_listen)
            .output()
            .unwrap()
    };
    let listen = url.strip_prefix("http://").unwrap();
    let port = listen.rsplit(':').next().unwrap();
    // As the image runs it: HERALD_LISTEN=0.0.0.0:PORT is asked on loopback.
    let ok = check(&format!("0.0.0.0:{port}"));
    assert!(ok.status.success(), "{ok:?}");
    server.kill().unwrap();
    server.wait().unwrap();
    let down = check(&format!("0.0.0.0:{port}"));
    assert!(!down.status.success());
    // The data went to /data, owned by the image's user.
    assert!(rootfs.join("data/log.db").is_file());
}
