//! Black-box test harness: runs the real `herald` binary on a free loopback port with a fresh
//! data directory, and talks to it over HTTP.
//!
//! With `HERALD_TEST_BACKEND=cluster`, every server is instead a cluster node on the machine's
//! PostgreSQL and NATS JetStream (`HERALD_TEST_DATABASE_URL`, `HERALD_TEST_NATS_URL`), in a
//! database and stream of its own that are removed afterwards: the same suite then checks
//! that cluster mode behaves like embedded mode.
#![allow(dead_code)]

pub mod receiver;
pub mod smtp;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use herald_storage::cluster::Scratch;
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};

pub const WRITE_KEY: &str = "hwk_test_write";
pub const ADMIN_KEY: &str = "hak_test_admin";
/// The dashboard admin every test server starts with (`HERALD_ADMIN_EMAIL`/`_PASSWORD`).
pub const ADMIN_EMAIL: &str = "admin@herald.test";
pub const ADMIN_PASSWORD: &str = "test-admin-password";

/// A signed-in dashboard session: the `Cookie` header to send and the CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    /// The `user` of the sign-in answer.
    pub user: Value,
}

pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub http: Client,
    extra: Vec<String>,
    /// Environment variables set (`Some`) or removed (`None`) on top of the harness's own.
    env: Vec<(String, Option<String>)>,
    /// What the server printed before `listening on` (its banner: URLs, keys, first user).
    pub banner: Vec<String>,
    /// The cluster's database and stream, when this server owns them.
    scratch: Option<Scratch>,
}

/// Whether the suite runs against cluster mode.
pub fn cluster_backend() -> bool {
    std::env::var("HERALD_TEST_BACKEND").as_deref() == Ok("cluster")
}

/// A new cluster: an empty database and stream on the machine's PostgreSQL and NATS.
pub fn scratch_cluster() -> Scratch {
    let pg = std::env::var("HERALD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let nats =
        std::env::var("HERALD_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    Scratch::create(&pg, &nats).expect("create a scratch database")
}

/// `serve` flags that make a node of this cluster.
pub fn cluster_args(scratch: &Scratch) -> Vec<String> {
    scratch.serve_args().unwrap()
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_herald")
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Server {
        Server::start_with_env(extra, &[])
    }

    /// [`Server::start_with`], with environment variables set (`Some`) or removed (`None`).
    pub fn start_with_env(extra: &[&str], env: &[(&str, Option<&str>)]) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let scratch = cluster_backend().then(scratch_cluster);
        let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        if let Some(scratch) = &scratch {
            args.extend(cluster_args(scratch));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(String, Option<String>)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_owned)))
            .collect();
        let mut s = Server::spawn_env(&dir, &args, env);
        s._tmp = Some(tmp);
        s.scratch = scratch;
        s
    }

    /// An embedded server on a data directory the caller owns and keeps (a small filesystem,
    /// a restored backup, a copy of a fixture).
    pub fn start_in(dir: &Path, extra: &[&str]) -> Server {
        Server::spawn(dir, extra)
    }

    /// A node of an existing cluster (the caller keeps the [`Scratch`] alive).
    pub fn start_node(cluster: &[String]) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let args: Vec<&str> = cluster.iter().map(String::as_str).collect();
        let mut s = Server::spawn(tmp.path(), &args);
        s._tmp = Some(tmp);
        s
    }

    fn spawn(dir: &Path, extra: &[&str]) -> Server {
        Server::spawn_env(dir, extra, vec![])
    }

    fn spawn_env(dir: &Path, extra: &[&str], env: Vec<(String, Option<String>)>) -> Server {
        let mut command = Command::new(bin());
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("HERALD_WRITE_KEY", WRITE_KEY)
            .env("HERALD_ADMIN_KEY", ADMIN_KEY)
            .env("HERALD_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env(
                "HERALD_LOG",
                std::env::var("HERALD_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (var, value) in &env {
            match value {
                Some(v) => command.env(var, v),
                None => command.env_remove(var),
            };
        }
        let mut child = command.spawn().expect("start herald");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut banner = Vec::new();
        let url = loop {
            let line = lines
                .next()
                .expect("herald exited before listening")
                .unwrap();
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.to_owned();
            }
            banner.push(line);
        };
        std::thread::spawn(move || for _ in lines {});
        Server {
            child: Some(child),
            url,
            dir: dir.to_owned(),
            _tmp: None,
            http: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            env,
            banner,
            scratch: None,
        }
    }

    /// `kill -9`, then start again on the same data directory.
    pub fn crash_and_restart(&mut self) {
        self.kill9();
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        let mut fresh = Server::spawn_env(&self.dir.clone(), &extra, self.env.clone());
        self.child = fresh.child.take();
        self.url = std::mem::take(&mut fresh.url);
        self.banner = std::mem::take(&mut fresh.banner);
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERM and wait for a clean exit; returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "herald did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The cluster flags this server was started with (none when embedded), for CLI commands
    /// that must reach the same state.
    pub fn cluster_flags(&self) -> Vec<String> {
        self.scratch.as_ref().map(cluster_args).unwrap_or_default()
    }

    /// Just the database flag of [`Server::cluster_flags`] (for `herald keys`).
    pub fn database_flags(&self) -> Vec<String> {
        self.cluster_flags().into_iter().take(2).collect()
    }

    /// Run SQL on the projection state as it is (`state.db`, or the cluster's database; the
    /// tables have the same names and columns in both): tests damage state on purpose with it.
    pub fn state_sql(&self, sql: &str) {
        if let Some(scratch) = &self.scratch {
            return scratch.execute_sql(sql).unwrap();
        }
        let state = rusqlite::Connection::open(self.dir.join("state.db")).unwrap();
        state.busy_timeout(Duration::from_secs(10)).unwrap();
        state.execute_batch(sql).unwrap();
    }

    /// Put `payload` into the log as it is, bypassing ingest (an event the processor cannot
    /// read back, as a bug or a disk fault would leave). Returns its position.
    pub fn inject_raw_event(&self, payload: &[u8]) -> u64 {
        if let Some(scratch) = &self.scratch {
            return scratch.publish_raw(payload).unwrap();
        }
        let log = rusqlite::Connection::open(self.dir.join("log.db")).unwrap();
        log.busy_timeout(Duration::from_secs(10)).unwrap();
        log.execute(
            "INSERT INTO events (message_id, received_ms, payload) VALUES (?1, 0, ?2)",
            rusqlite::params![uuid::Uuid::new_v4().to_string(), payload],
        )
        .unwrap();
        log.last_insert_rowid() as u64
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(format!("{}{path}", self.url))
            .basic_auth(WRITE_KEY, Some(""))
            .json(body)
            .send()
            .unwrap()
    }

    pub fn post_raw(&self, path: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> Response {
        let mut req = self.http.post(format!("{}{path}", self.url)).body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().unwrap()
    }

    pub fn admin_get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(ADMIN_KEY)
            .send()
            .unwrap()
    }

    pub fn admin_json(&self, path: &str) -> Value {
        let r = self.admin_get(path);
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().unwrap()
    }

    pub fn admin_post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(ADMIN_KEY)
            .json(body)
            .send()
            .unwrap()
    }

    /// A message once the send pipeline is done with it (no longer queued, deferred or
    /// sending).
    pub fn settled_message(&self, id: &str) -> Value {
        eventually(30, "the message to be sent or skipped", || {
            let m = self.admin_json(&format!("/api/v1/messages/{id}"));
            (!["queued", "deferred", "sending"].contains(&m["status"].as_str().unwrap()))
                .then_some(m)
        })
    }

    /// Queue a message (`POST /api/v1/messages`, which must answer 202) and return it once
    /// the send pipeline is done with it.
    pub fn send_message(&self, body: &Value) -> Value {
        let r = self.admin_post("/api/v1/messages", body);
        assert_eq!(r.status(), 202, "{body}");
        let queued: Value = r.json().unwrap();
        self.settled_message(queued["id"].as_str().unwrap())
    }

    pub fn admin_patch(&self, path: &str, body: &Value) -> Response {
        self.http
            .patch(format!("{}{path}", self.url))
            .bearer_auth(ADMIN_KEY)
            .json(body)
            .send()
            .unwrap()
    }

    pub fn admin_put(&self, path: &str, body: &Value) -> Response {
        self.http
            .put(format!("{}{path}", self.url))
            .bearer_auth(ADMIN_KEY)
            .json(body)
            .send()
            .unwrap()
    }

    pub fn admin_delete(&self, path: &str) -> Response {
        self.http
            .delete(format!("{}{path}", self.url))
            .bearer_auth(ADMIN_KEY)
            .send()
            .unwrap()
    }

    /// `POST /api/v1/session`, as it is answered.
    pub fn try_sign_in(&self, email: &str, password: &str) -> Response {
        self.http
            .post(format!("{}/api/v1/session", self.url))
            .json(&json!({"email": email, "password": password}))
            .send()
            .unwrap()
    }

    /// Sign in to the dashboard (which must succeed).
    pub fn sign_in(&self, email: &str, password: &str) -> Session {
        let r = self.try_sign_in(email, password);
        assert_eq!(r.status(), 200, "signing in as {email}");
        let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        assert!(cookie.starts_with("herald_session="), "{set_cookie}");
        let body: Value = r.json().unwrap();
        Session {
            cookie,
            csrf: body["csrfToken"].as_str().unwrap().to_owned(),
            user: body["user"].clone(),
        }
    }

    /// Sign in as the harness's first admin ([`ADMIN_EMAIL`]).
    pub fn sign_in_admin(&self) -> Session {
        self.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    }

    /// A request with a session's cookie and its CSRF token.
    pub fn as_session(
        &self,
        method: reqwest::Method,
        path: &str,
        session: &Session,
    ) -> reqwest::blocking::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
    }

    /// How many times each `messageId` is stored in the timelines of `user_id:user-0` ..
    /// `user_id:user-{users - 1}` (the users the load-generating tests send as).
    pub fn stored_message_ids(&self, users: usize) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for u in 0..users {
            for e in self.timeline(&format!("user_id:user-{u}"), "") {
                *counts
                    .entry(e["messageId"].as_str().unwrap().to_owned())
                    .or_insert(0) += 1;
            }
        }
        counts
    }

    /// The server's `/metrics` text (`None` when it does not answer).
    pub fn metrics(&self) -> Option<String> {
        self.http
            .get(format!("{}/metrics", self.url))
            .send()
            .ok()?
            .text()
            .ok()
    }

    /// One sample of `/metrics`, by its name (and labels) as printed.
    pub fn metric(&self, sample: &str) -> Option<f64> {
        self.metrics()?.lines().find_map(|l| {
            l.strip_prefix(sample)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
    }

    /// The OpenAPI document the server serves.
    pub fn openapi(&self) -> Value {
        self.http
            .get(format!("{}/openapi.json", self.url))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    /// Move the server's clock forward (it must run with `--test-clock`); returns its new now
    /// in Unix ms.
    pub fn advance_clock(&self, by: Duration) -> i64 {
        let r = self.admin_post(
            "/api/v1/test/clock",
            &json!({"advance_ms": by.as_millis() as i64}),
        );
        assert_eq!(r.status(), 200, "advancing the clock needs --test-clock");
        r.json::<Value>().unwrap()["now_ms"].as_i64().unwrap()
    }

    pub fn status(&self) -> Value {
        self.admin_json("/api/v1/status")
    }

    /// Wait until every stored event is applied to profiles. Fails when processing stops
    /// moving for 60 s (a long backlog on a slow backend is fine as long as it shrinks).
    pub fn wait_processed(&self) -> Value {
        let mut progress = (Instant::now(), u64::MAX);
        loop {
            let s = self.status();
            if s["lag"] == 0 {
                return s;
            }
            let processed = s["processed"].as_u64().unwrap_or(0);
            if processed != progress.1 {
                progress = (Instant::now(), processed);
            }
            assert!(
                progress.0.elapsed() < Duration::from_secs(60),
                "processing stopped moving: {s}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn profile(&self, id: &str) -> Value {
        self.wait_processed();
        self.admin_json(&format!("/api/v1/profiles/{}", encode(id)))
    }

    /// A GraphQL request with the admin key: the whole answer (`data` and `errors`).
    pub fn graphql(&self, query: &str, variables: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/graphql", self.url))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "POST /graphql");
        r.json().unwrap()
    }

    /// Every event of a profile's timeline, following cursors.
    pub fn timeline(&self, id: &str, query: &str) -> Vec<Value> {
        self.wait_processed();
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/profiles/{}/events?limit=100{query}", encode(id));
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.admin_json(&path);
            out.extend(page["events"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Poll `probe` until it returns `Some`, for up to `seconds`.
pub fn eventually<T>(seconds: u64, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn track(user: &str, event: &str, message_id: &str) -> Value {
    json!({"type": "track", "userId": user, "event": event, "messageId": message_id})
}

/// Standard base64, enough for Basic auth headers in tests.
pub fn b64(input: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = input.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `herald ARGS` (in `cwd`, when given), without the environment variables that would point it
/// elsewhere or configure it.
pub fn herald_cli(cwd: Option<&Path>, args: &[&str]) -> Output {
    let mut command = Command::new(bin());
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    for var in [
        "HERALD_DATA_DIR",
        "HERALD_CONFIG",
        "HERALD_DATABASE_URL",
        "HERALD_BUS_URL",
        "HERALD_URL",
        "HERALD_ADMIN_KEY",
    ] {
        command.env_remove(var);
    }
    command.args(args).output().unwrap()
}

/// The standard output of a command that must have succeeded.
pub fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every acknowledged `messageId` is stored (`stored`: how many times each id is), once.
pub fn assert_each_stored_once<'a>(
    acked: impl IntoIterator<Item = &'a String>,
    stored: &std::collections::BTreeMap<String, usize>,
) {
    let lost: Vec<&String> = acked
        .into_iter()
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
}
