//! Cluster mode against its oracle, embedded mode: one recorded stream (aliases and identifies
//! that merge profiles, out-of-order timestamps, retried `messageId`s, groups) sent to a
//! 3-node cluster round-robin, with the processing node killed and restarted mid-stream, and
//! to an embedded node. Every profile, identity graph and timeline must be identical.
//! Also: a killed node's processing moves to a survivor within the documented bound.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// A small deterministic generator (the stream must be the same for both deployments).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Batches of events, with retries of earlier batches mixed in; and every identifier used.
fn recorded_stream() -> (Vec<Vec<Value>>, BTreeSet<String>) {
    let mut rng = Lcg(7);
    let mut batches: Vec<Vec<Value>> = Vec::new();
    let mut ids = BTreeSet::new();
    let mut n = 0;
    for _ in 0..60 {
        if !batches.is_empty() && rng.next(6) == 0 {
            // A client retry: an earlier batch again, same messageIds.
            let again = batches[rng.next(batches.len() as u64) as usize].clone();
            batches.push(again);
            continue;
        }
        let mut batch = Vec::new();
        for _ in 0..(1 + rng.next(12)) {
            n += 1;
            let anon = format!("anon-{}", rng.next(30));
            let user = format!("user-{}", rng.next(12));
            // Out of order: timestamps wander back and forth over a day.
            let ts = format!("2026-03-01T{:02}:{:02}:00.000Z", rng.next(24), rng.next(60));
            let plan = ["free", "pro", "team"][rng.next(3) as usize];
            let event = ["Signed Up", "Bought"][rng.next(2) as usize];
            let e = match rng.next(10) {
                0..=3 => {
                    json!({"type":"page","anonymousId":anon,"name":format!("P{}", rng.next(4)),"properties":{"n":n}})
                }
                4 | 5 => {
                    json!({"type":"identify","anonymousId":anon,"userId":user,"traits":{"plan":plan,"seen":n}})
                }
                6 => json!({"type":"alias","previousId":anon,"userId":user}),
                7 => {
                    json!({"type":"group","userId":user,"groupId":format!("org-{}", rng.next(3)),"traits":{"size":n}})
                }
                _ => {
                    json!({"type":"track","userId":user,"event":event,"properties":{"value":n}})
                }
            };
            let mut e = e;
            e["messageId"] = json!(format!("m-{n}"));
            e["timestamp"] = json!(ts);
            for key in ["anonymousId", "userId", "previousId"] {
                if let Some(v) = e.get(key).and_then(Value::as_str) {
                    let kind = if key == "userId" || v.starts_with("user") {
                        "user_id"
                    } else {
                        "anonymous_id"
                    };
                    ids.insert(format!("{kind}:{v}"));
                }
            }
            batch.push(e);
        }
        batches.push(batch);
    }
    (batches, ids)
}

fn send(s: &Server, batch: &[Value]) -> bool {
    s.http
        .post(format!("{}/v1/batch", s.url))
        .basic_auth(WRITE_KEY, Some(""))
        .json(&json!({ "batch": batch }))
        .send()
        .is_ok_and(|r| r.status() == 200)
}

fn holds_lease(s: &Server) -> bool {
    s.metric("herald_processing_lease_held") == Some(1.0)
}

/// A counter or gauge of the node's `/metrics`, as a whole number.
fn metric(s: &Server, name: &str) -> Option<u64> {
    s.metric(name).map(|v| v as u64)
}

/// How many processing partitions the node owns, from its `/metrics`.
fn partitions_owned(s: &Server) -> Option<u64> {
    metric(s, "herald_partitions_owned")
}

/// A takeover happens at the taker's next round after PostgreSQL releases the dead node's
/// locks (docs/cluster.md: "within about 1 s", one round). Counted in rounds, which a loaded
/// machine does not stretch as it stretches seconds: the round under way at the kill, the
/// next one, and one for PostgreSQL to notice the closed connection.
const TAKEOVER_ROUNDS: u64 = 3;

/// Wait until the nodes own these many partitions each (every partition owned exactly once,
/// shared evenly); how long that took.
fn wait_for_shares(nodes: &[&Server], share: u64, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let owned: Vec<Option<u64>> = nodes.iter().map(|n| partitions_owned(n)).collect();
        if owned.iter().all(|o| *o == Some(share)) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "partitions owned per node: {owned:?}, wanted {share} each"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn lease_holder(nodes: &[Option<Server>]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(i) = nodes
            .iter()
            .position(|n| n.as_ref().is_some_and(holds_lease))
        {
            return i;
        }
        assert!(
            Instant::now() < deadline,
            "no node took the processing lease"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Drop the server's receive times (`receivedAt`, and `merged_at`, which is the merging
/// event's): the two deployments received the stream at different moments.
fn without_receive_times(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k != "receivedAt" && k != "merged_at")
                .map(|(k, v)| (k, without_receive_times(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_receive_times).collect()),
        other => other,
    }
}

/// Everything the admin API shows about the profile an identifier belongs to.
fn view(s: &Server, id: &str) -> Value {
    let r = s.admin_get(&format!("/api/v1/profiles/{}", encode(id)));
    if r.status() == 404 {
        return Value::Null;
    }
    let profile: Value = r.json().unwrap();
    let identity = s.admin_json(&format!("/api/v1/profiles/{}/identity", encode(id)));
    without_receive_times(json!({
        "profile": profile,
        "identity": identity,
        "timeline": s.timeline(id, ""),
    }))
}

#[test]
fn a_three_node_cluster_with_a_crash_equals_embedded_mode() {
    let (batches, ids) = recorded_stream();
    assert!(ids.len() > 30 && batches.len() == 60);

    let embedded = Server::start_with(&[]);
    for b in &batches {
        assert!(send(&embedded, b));
    }

    let cluster = scratch_cluster();
    let flags = cluster_args(&cluster);
    let mut nodes: Vec<Option<Server>> = (0..3).map(|_| Some(Server::start_node(&flags))).collect();
    // Processing is partitioned by profile over all three nodes, so most merges in the stream
    // join profiles of partitions that different nodes apply.
    let all: Vec<&Server> = nodes.iter().flatten().collect();
    wait_for_shares(&all, PARTITIONS / 3, Duration::from_secs(10));
    let mut next = 0;
    for (i, b) in batches.iter().enumerate() {
        if i == 20 {
            // Kill the node that sequences (and owns partitions), mid-stream.
            let victim = lease_holder(&nodes);
            nodes[victim].as_mut().unwrap().kill9();
            nodes[victim] = None;
        }
        if i == 40 {
            let slot = nodes.iter().position(Option::is_none).unwrap();
            nodes[slot] = Some(Server::start_node(&flags));
        }
        // Round-robin over live nodes; a refused request is retried on the next node, as a
        // load balancer or an SDK would.
        loop {
            next = (next + 1) % nodes.len();
            if let Some(node) = &nodes[next] {
                if send(node, b) {
                    break;
                }
            }
        }
    }
    let live: Vec<&Server> = nodes.iter().flatten().collect();
    assert_eq!(live.len(), 3);
    live[0].wait_processed();
    embedded.wait_processed();
    assert_eq!(
        live[1].status()["log_head"],
        embedded.status()["log_head"],
        "retries were de-duplicated the same way"
    );
    for (k, id) in ids.iter().enumerate() {
        // Read through every node in turn: they must all show the same state.
        let node = live[k % live.len()];
        let (got, want) = (view(node, id), view(&embedded, id));
        assert!(want != Value::Null, "{id} has a profile");
        assert!(
            got == want,
            "{id} differs:\ncluster:  {got}\nembedded: {want}"
        );
    }
}

#[test]
fn processing_moves_to_a_survivor_when_its_node_is_killed() {
    let cluster = scratch_cluster();
    let flags = cluster_args(&cluster);
    let mut nodes: Vec<Option<Server>> = (0..2).map(|_| Some(Server::start_node(&flags))).collect();
    let victim = lease_holder(&nodes);
    let attempts = |s: &Server| metric(s, "herald_lease_attempts_total").unwrap_or(0);
    let before = attempts(nodes[1 - victim].as_ref().unwrap());
    nodes[victim].as_mut().unwrap().kill9();
    let killed = Instant::now();
    let survivor = nodes[1 - victim].as_ref().unwrap();
    while !holds_lease(survivor) {
        assert!(
            killed.elapsed() < Duration::from_secs(60),
            "the survivor did not take over"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = attempts(survivor) - before;
    println!("takeover after {:?}, {took} attempt(s)", killed.elapsed());
    assert!(
        took <= TAKEOVER_ROUNDS,
        "the survivor took the lease at its attempt {took}, not its next one"
    );
    assert_eq!(
        survivor
            .post("/v1/track", &track("u", "After", "after-kill"))
            .status(),
        200
    );
    assert_eq!(survivor.profile("user_id:u")["total_events"], 1);
}

/// The partitions a new cluster gets by default (`--partitions`).
const PARTITIONS: u64 = 12;

/// Each partition is owned by one node at a time, shared evenly; a killed node's partitions
/// move to the survivors within the documented bound, a new node takes its share, and events
/// sent meanwhile are all applied.
#[test]
fn partitions_are_shared_by_the_nodes_and_move_when_one_dies_or_joins() {
    let cluster = scratch_cluster();
    let flags = cluster_args(&cluster);
    let mut nodes: Vec<Option<Server>> = (0..3).map(|_| Some(Server::start_node(&flags))).collect();
    let all: Vec<&Server> = nodes.iter().flatten().collect();
    wait_for_shares(&all, PARTITIONS / 3, Duration::from_secs(10));
    for (i, node) in all.iter().enumerate() {
        for u in 0..20 {
            let body = track(&format!("u{u}"), "Before", &format!("before-{i}-{u}"));
            assert_eq!(node.post("/v1/track", &body).status(), 200);
        }
    }
    // Kill a node that does not sequence: only its partitions have to move.
    let sequencer = lease_holder(&nodes);
    let victim = (sequencer + 1) % 3;
    let rounds_of = |s: &Server| metric(s, "herald_partition_balancing_rounds_total").unwrap_or(0);
    let rounds: Vec<u64> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != victim)
        .map(|(_, n)| rounds_of(n.as_ref().unwrap()))
        .collect();
    nodes[victim].as_mut().unwrap().kill9();
    nodes[victim] = None;
    let survivors: Vec<&Server> = nodes.iter().flatten().collect();
    let moved = wait_for_shares(&survivors, PARTITIONS / 2, Duration::from_secs(60));
    let took: Vec<u64> = survivors
        .iter()
        .zip(&rounds)
        .map(|(s, before)| rounds_of(s) - before)
        .collect();
    println!("partitions taken over {moved:?} after the kill, in {took:?} round(s)");
    assert!(
        took.iter().all(|&r| r <= TAKEOVER_ROUNDS),
        "the survivors took the partitions in rounds {took:?}, not at their next one"
    );
    for u in 0..20 {
        let body = track(&format!("u{u}"), "After", &format!("after-{u}"));
        assert_eq!(survivors[u % 2].post("/v1/track", &body).status(), 200);
    }
    survivors[0].wait_processed();
    for u in 0..20 {
        assert_eq!(
            survivors[1].profile(&format!("user_id:u{u}"))["total_events"],
            4
        );
    }
    nodes[victim] = Some(Server::start_node(&flags));
    let all: Vec<&Server> = nodes.iter().flatten().collect();
    let joined = wait_for_shares(&all, PARTITIONS / 3, Duration::from_secs(10));
    println!("a new node got its share {joined:?} after it started");
}

/// Audience timers live in PostgreSQL: when the node holding the processing lease is killed
/// mid-stream, the survivor fires them, so entries and exits that only time causes still
/// happen, and events sent to any node keep moving memberships.
#[test]
fn audience_timers_fire_on_the_survivor_when_the_processing_node_is_killed() {
    let cluster = scratch_cluster();
    let mut flags = cluster_args(&cluster);
    flags.push("--test-clock".into());
    let mut nodes: Vec<Option<Server>> = (0..2).map(|_| Some(Server::start_node(&flags))).collect();
    let first = nodes[0].as_ref().unwrap();
    for (id, rule) in [
        ("pinged_recently", r#"performed "Ping" in last 1 hours"#),
        ("old_accounts", r#"trait created_at more than 1 hours ago"#),
    ] {
        let created = first.admin_post("/api/v1/audiences", &json!({"id": id, "rule": rule}));
        assert_eq!(created.status(), 201);
    }
    let ago =
        |s: i64| herald_core::event::rfc3339(chrono::Utc::now() - chrono::Duration::seconds(s));
    let batch = json!({"batch": [
        {"type": "track", "userId": "ana", "event": "Ping", "timestamp": ago(30 * 60)},
        {"type": "identify", "userId": "bob", "traits": {"created_at": ago(30 * 60)}},
    ]});
    assert_eq!(
        nodes[1]
            .as_ref()
            .unwrap()
            .post("/v1/batch", &batch)
            .status(),
        200
    );
    let members = |s: &Server, audience: &str| -> Vec<Value> {
        s.admin_json(&format!("/api/v1/audiences/{audience}/members"))["members"]
            .as_array()
            .unwrap()
            .clone()
    };
    eventually(20, "ana in pinged_recently", || {
        (members(nodes[0].as_ref().unwrap(), "pinged_recently").len() == 1).then_some(())
    });
    let victim = lease_holder(&nodes);
    nodes[victim].as_mut().unwrap().kill9();
    nodes[victim] = None;
    let survivor = nodes.iter().flatten().next().unwrap();
    // Both timers are 30 minutes away: the survivor's clock moves past them.
    survivor.advance_clock(Duration::from_secs(31 * 60));
    eventually(20, "bob entering old_accounts on time alone", || {
        (members(survivor, "old_accounts").len() == 1).then_some(())
    });
    eventually(20, "ana leaving pinged_recently on time alone", || {
        members(survivor, "pinged_recently")
            .is_empty()
            .then_some(())
    });
    let history = survivor.admin_json("/api/v1/profiles/user_id:ana/audience-history");
    assert_eq!(
        (
            history[0]["change"].as_str(),
            history[0]["cause"]["kind"].as_str()
        ),
        (Some("exited"), Some("time"))
    );
    // And events keep moving memberships after the takeover.
    let ping = json!({"type": "track", "userId": "ana", "event": "Ping"});
    assert_eq!(survivor.post("/v1/track", &ping).status(), 200);
    eventually(20, "ana back in pinged_recently", || {
        (members(survivor, "pinged_recently").len() == 1).then_some(())
    });
}

/// An unmerge sent to a node that does not process still rebuilds the audiences of the
/// profiles it splits.
#[test]
fn an_unmerge_on_a_follower_node_updates_audiences() {
    let cluster = scratch_cluster();
    let flags = cluster_args(&cluster);
    let nodes: Vec<Option<Server>> = (0..2).map(|_| Some(Server::start_node(&flags))).collect();
    let leader = lease_holder(&nodes);
    let follower = nodes[1 - leader].as_ref().unwrap();
    let created = follower.admin_post(
        "/api/v1/audiences",
        &json!({"id": "openers", "rule": r#"performed "Opened" and trait plan = "pro""#}),
    );
    assert_eq!(created.status(), 201);
    let batch = json!({"batch": [
        {"type": "identify", "userId": "u1", "traits": {"plan": "pro"}},
        {"type": "track", "anonymousId": "tablet", "event": "Opened"},
        {"type": "alias", "previousId": "tablet", "userId": "u1"},
    ]});
    assert_eq!(follower.post("/v1/batch", &batch).status(), 200);
    let u1 = follower.profile("user_id:u1")["profile_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let members = |s: &Server| -> Vec<String> {
        s.admin_json("/api/v1/audiences/openers/members")["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["profile_id"].as_str().unwrap().to_owned())
            .collect()
    };
    eventually(20, "the merged profile in openers", || {
        (members(follower) == [u1.clone()]).then_some(())
    });
    let graph = follower.admin_json("/api/v1/profiles/user_id:u1/identity");
    let merge_id = graph["merges"][0]["merge_id"].as_str().unwrap().to_owned();
    let undone = follower.admin_post(&format!("/api/v1/merges/{merge_id}/undo"), &json!({}));
    assert_eq!(undone.status(), 200);
    // Split again, u1 has the plan but never opened; the tablet opened but has no plan.
    eventually(20, "nobody left in openers", || {
        members(follower).is_empty().then_some(())
    });
    let history = follower.admin_json("/api/v1/profiles/user_id:u1/audience-history");
    assert_eq!(
        (
            history[0]["change"].as_str(),
            history[0]["cause"]["kind"].as_str()
        ),
        (Some("exited"), Some("split"))
    );
}

/// A NATS server of the test's own, so that it can be stopped under a running node.
struct PrivateNats {
    child: std::process::Child,
    port: u16,
    store: tempfile::TempDir,
}

impl PrivateNats {
    fn start() -> PrivateNats {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = tempfile::tempdir().unwrap();
        let child = PrivateNats::spawn(port, store.path());
        PrivateNats { child, port, store }
    }

    fn spawn(port: u16, store: &std::path::Path) -> std::process::Child {
        let child = std::process::Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server (Debian package nats-server) is needed for this test");
        eventually(30, "nats-server listening", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        child
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn restart(&mut self) {
        self.child = PrivateNats::spawn(self.port, self.store.path());
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// docs/cluster.md: a node cut off from NATS answers ingest with 503 and `Retry-After`, and
/// `/readyz` answers 503 naming the bus; both recover when NATS is back.
#[test]
fn a_node_cut_off_from_nats_answers_503_and_recovers() {
    let mut nats = PrivateNats::start();
    let pg = std::env::var("HERALD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let cluster = herald_storage::cluster::Scratch::create(&pg, &nats.url()).unwrap();
    let node = Server::start_node(&cluster_args(&cluster));
    assert_eq!(
        node.post("/v1/track", &track("u", "Before", "nats-1"))
            .status(),
        200
    );
    nats.stop();
    let refused = eventually(60, "ingest refused while NATS is down", || {
        let r = node.post("/v1/track", &track("u", "During", "nats-2"));
        (r.status() != 200).then_some(r)
    });
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: Value = refused.json().unwrap();
    assert_eq!(body["code"], "unavailable", "{body}");
    let ready = eventually(60, "/readyz to report the bus", || {
        let r = node
            .http
            .get(format!("{}/readyz", node.url))
            .send()
            .unwrap();
        (r.status() == 503).then_some(r)
    });
    let ready: Value = ready.json().unwrap();
    assert!(
        ready["message"].as_str().unwrap().contains("jetstream"),
        "{ready}"
    );

    nats.restart();
    eventually(60, "ingest accepted again", || {
        (node
            .post("/v1/track", &track("u", "After", "nats-3"))
            .status()
            == 200)
            .then_some(())
    });
    eventually(60, "/readyz ready again", || {
        let r = node
            .http
            .get(format!("{}/readyz", node.url))
            .send()
            .unwrap();
        (r.status() == 200).then_some(())
    });
    drop(node);
}

/// Messages in a cluster: two broadcasts to the same 40 people, created on different nodes at
/// once, under a cap of one marketing email a day. Each node sends the messages of the people
/// in its partitions (both send some), and each person gets exactly one email: the other
/// message is capped, whichever node created it.
#[test]
fn two_nodes_share_the_sending_and_each_person_is_capped_once() {
    let sink = common::smtp::SmtpSink::start();
    let cluster = scratch_cluster();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("channels.toml");
    std::fs::write(
        &file,
        format!(
            "[email]\nprovider = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\
             from = \"Herald Test <news@herald.test>\"\n\n\
             [policy]\ncaps = [{{ category = \"marketing\", max = 1, window = \"1d\" }}]\n",
            sink.port
        ),
    )
    .unwrap();
    let mut flags = cluster_args(&cluster);
    flags.extend(["--channels".to_owned(), file.to_str().unwrap().to_owned()]);
    let nodes = [Server::start_node(&flags), Server::start_node(&flags)];
    wait_for_shares(
        &[&nodes[0], &nodes[1]],
        PARTITIONS / 2,
        Duration::from_secs(10),
    );
    let people: Vec<Value> = (0..40)
        .map(|i| {
            json!({"type": "identify", "userId": format!("c{i}"), "messageId": format!("c-{i}"),
            "traits": {"email": format!("c{i}@example.com"), "plan": "pro"}})
        })
        .collect();
    assert!(send(&nodes[0], &people));
    nodes[0].wait_processed();
    let r = nodes[0].admin_post(
        "/api/v1/audiences",
        &json!({"id": "pros", "rule": r#"trait plan = "pro""#}),
    );
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    eventually(60, "the audience's members", || {
        let page = nodes[1].admin_json("/api/v1/audiences/pros/members?limit=100");
        (page["members"].as_array().unwrap().len() == 40).then_some(())
    });
    let template = json!({"id": "news", "channel": "email",
        "content": {"subject": "News for {{ traits.email }}", "body": "<p>Hello.</p>"}});
    assert_eq!(
        nodes[0].admin_post("/api/v1/templates", &template).status(),
        201
    );
    let ids: Vec<String> = nodes
        .iter()
        .map(|n| {
            let r = n.admin_post(
                "/api/v1/broadcasts",
                &json!({"name": "news", "template": "news", "audience": "pros"}),
            );
            assert_eq!(r.status(), 201, "{}", r.text().unwrap());
            r.json::<Value>().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let progress: Vec<Value> = ids
        .iter()
        .map(|id| {
            eventually(120, "the broadcast to finish", || {
                let b = nodes[1].admin_json(&format!("/api/v1/broadcasts/{id}"));
                let statuses = &b["progress"]["statuses"];
                let waiting = ["queued", "deferred", "sending"]
                    .iter()
                    .any(|k| statuses[*k].as_u64().unwrap_or(0) > 0);
                (b["status"] == "finished" && !waiting).then(|| b["progress"].clone())
            })
        })
        .collect();
    let count = |p: &Value, path: &[&str]| path.iter().fold(p, |v, k| &v[*k]).as_u64().unwrap_or(0);
    let sent: u64 = progress
        .iter()
        .map(|p| count(p, &["statuses", "sent"]))
        .sum();
    let capped: u64 = progress
        .iter()
        .map(|p| count(p, &["skipped", "capped"]))
        .sum();
    assert_eq!((sent, capped), (40, 40), "{progress:?}");

    let mails = eventually(30, "every email", || {
        let m = sink.received();
        (m.len() >= 40).then_some(m)
    });
    let mut to: Vec<String> = mails
        .iter()
        .filter_map(|m| {
            m.replace('\r', "")
                .lines()
                .find_map(|l| l.strip_prefix("To: ").map(str::to_owned))
        })
        .collect();
    to.sort();
    let mut expected: Vec<String> = (0..40).map(|i| format!("c{i}@example.com")).collect();
    expected.sort();
    assert_eq!(to, expected, "one email per person");

    let handed: Vec<u64> = nodes
        .iter()
        .map(|n| metric(n, "herald_messages_sent_total{channel=\"email\"}").unwrap_or(0))
        .collect();
    println!("emails handed over per node: {handed:?}");
    assert_eq!(handed.iter().sum::<u64>(), 40);
    assert!(
        handed.iter().all(|&h| h > 0),
        "each node sends for its own partitions: {handed:?}"
    );
}

/// Messaging settings changed on one node are used by the others within about a second
/// (docs/messaging-settings.md): each node follows the stored version.
#[test]
fn messaging_settings_changed_on_one_node_reach_the_others() {
    let cluster = scratch_cluster();
    let flags = cluster_args(&cluster);
    let nodes = [Server::start_node(&flags), Server::start_node(&flags)];
    let change = json!({"topics": [{"key": "news", "channel": "email", "default": "opt_in"}]});
    let r = nodes[0].admin_patch("/api/v1/messaging/settings", &change);
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let started = Instant::now();
    let seen = eventually(10, "the other node to use the new settings", || {
        let s = nodes[1].admin_json("/api/v1/messaging/settings");
        (s["version"] == 1).then_some(s)
    });
    println!(
        "the other node used the change after {:?}",
        started.elapsed()
    );
    assert_eq!(seen["topics"][0]["key"], "news");
    assert_eq!(
        nodes[1].admin_json("/api/v1/topics")["topics"][0]["key"],
        "news"
    );
}
