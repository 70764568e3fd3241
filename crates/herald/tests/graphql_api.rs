//! The GraphQL API at `/graphql`, black box: it answers what the REST API answers (both call
//! the same code), its mutations change what REST then reads, errors carry the REST codes,
//! depth and complexity are limited, the schema served is the one checked in, and live events
//! reach a real `graphql-ws` client over WebSocket.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The `data` of an answer that must have no errors.
fn data(answer: Value) -> Value {
    assert!(
        answer.get("errors").is_none(),
        "unexpected errors: {answer}"
    );
    answer["data"].clone()
}

/// The `extensions.code` of an answer's first error.
fn error_code(answer: &Value) -> String {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {answer}"))
        .to_owned()
}

fn send_people(s: &Server) {
    let batch = json!({"batch": [
        {"type": "track", "anonymousId": "a1", "event": "Viewed", "messageId": "m1",
         "timestamp": "2026-11-01T10:00:00Z"},
        {"type": "identify", "userId": "u1", "anonymousId": "a1", "messageId": "m2",
         "traits": {"email": "Ana@Example.com", "plan": "pro"}, "timestamp": "2026-11-01T10:01:00Z"},
        {"type": "track", "userId": "u1", "event": "Checkout", "messageId": "m3",
         "properties": {"total": 30}, "timestamp": "2026-11-02T10:00:00Z"},
        {"type": "track", "userId": "u1", "event": "Checkout", "messageId": "m4",
         "properties": {"total": 50}, "timestamp": "2026-11-03T10:00:00Z"},
        {"type": "track", "userId": "u2", "event": "Checkout", "messageId": "m5",
         "timestamp": "2026-11-03T11:00:00Z"},
        {"type": "track", "anonymousId": "a2", "event": "Viewed", "messageId": "m6",
         "timestamp": "2026-11-03T12:00:00Z"},
        {"type": "identify", "userId": "u2", "anonymousId": "a2", "messageId": "m7",
         "traits": {"email": "bob@example.com"}, "timestamp": "2026-11-03T13:00:00Z"}
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
}

const PROFILE: &str = r#"query($id: String!, $first: Int, $after: String) {
  profile(id: $id) {
    id traits totalEvents eventCounts audienceIds
    identifiers { id kind value }
    timeline(first: $first, after: $after) {
      nodes { seq type event messageId }
      pageInfo { endCursor hasNextPage }
    }
    identityGraph { identifiers { id } merges { id winner loser undone } refusedLinks { identifier } }
  }
}"#;

#[test]
fn graphql_answers_what_rest_answers() {
    let s = Server::start();
    send_people(&s);
    let rest = s.profile("email:ana@example.com");
    let g = data(s.graphql(PROFILE, json!({"id": "email:ANA@example.com", "first": 3})))["profile"]
        .clone();
    assert_eq!(g["id"], rest["profile_id"]);
    assert_eq!(g["traits"], rest["traits"]);
    assert_eq!(g["totalEvents"], rest["total_events"]);
    assert_eq!(g["eventCounts"], rest["event_counts"]);
    let ids = |list: &Value, key: &str| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|i| i[key].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&g["identifiers"], "id"), ids(&rest["identities"], "id"));

    // The timeline pages as REST pages it, cursors included.
    let all = s.timeline("email:ana@example.com", "");
    let rest_seqs: Vec<u64> = all.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(rest_seqs.len(), 4, "{all:?}");
    let first: Vec<u64> = g["timeline"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(first, rest_seqs[..3]);
    assert_eq!(g["timeline"]["pageInfo"]["hasNextPage"], true);
    let cursor = g["timeline"]["pageInfo"]["endCursor"].clone();
    let next = data(s.graphql(
        PROFILE,
        json!({"id": "email:ana@example.com", "first": 3, "after": cursor}),
    ))["profile"]["timeline"]
        .clone();
    assert_eq!(next["nodes"][0]["seq"].as_u64().unwrap(), rest_seqs[3]);
    assert_eq!(next["nodes"].as_array().unwrap().len(), 1);

    let graph = s.admin_json(&format!(
        "/api/v1/profiles/{}/identity",
        encode("email:ana@example.com")
    ));
    assert_eq!(
        ids(&g["identityGraph"]["identifiers"], "id"),
        ids(&graph["identities"], "id")
    );

    // The list, with each item's whole profile through the batch loader.
    let list = data(s.graphql(
        r#"{ profiles(identifier: "email:") { nodes { id identifiers profile { totalEvents } } pageInfo { hasNextPage } } }"#,
        json!({}),
    ))["profiles"]
        .clone();
    let rest_list = s.admin_json("/api/v1/profiles?identifier=email:");
    let nodes = list["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), rest_list["profiles"].as_array().unwrap().len());
    assert_eq!(nodes.len(), 2);
    for (node, summary) in nodes.iter().zip(rest_list["profiles"].as_array().unwrap()) {
        assert_eq!(node["id"], summary["profile_id"]);
        assert_eq!(node["identifiers"], summary["identifiers"]);
        let whole = s.profile(&format!("profile_id:{}", node["id"].as_str().unwrap()));
        assert_eq!(node["profile"]["totalEvents"], whole["total_events"]);
    }

    // One batch for the page's two profiles, not one read each.
    let batches = |s: &Server| s.metric("herald_graphql_loader_batches_total{loader=\"profile\"}");
    let before = batches(&s).unwrap_or(0.0);
    data(s.graphql(
        r#"{ profiles(identifier: "email:") { nodes { profile { id totalEvents } } } }"#,
        json!({}),
    ));
    assert_eq!(batches(&s), Some(before + 1.0));

    // Nobody has it: null, no error. Not an identifier: the REST code.
    let none = data(s.graphql(PROFILE, json!({"id": "email:nobody@example.com"})));
    assert_eq!(none["profile"], Value::Null);
    let bad = s.graphql(PROFILE, json!({"id": "no-kind"}));
    assert_eq!(error_code(&bad), "invalid_identifier");
}

#[test]
fn mutations_change_what_rest_reads_and_errors_carry_codes() {
    let s = Server::start();
    send_people(&s);

    // An invalid draft: the rule error's code and location.
    let preview = r#"query($rule: JSON!) { previewAudience(rule: $rule, sampleSize: 100, seed: "7") {
        estimatedSize matched sampled ruleText sampleMembers { id identifiers } } }"#;
    let bad = s.graphql(preview, json!({"rule": "performed \"Checkout\" >="}));
    assert_eq!(error_code(&bad), "invalid_rule");
    assert!(
        bad["errors"][0]["extensions"]["location"]["line"].is_number(),
        "{bad}"
    );

    let rule = "performed \"Checkout\" >= 2";
    let p = data(s.graphql(preview, json!({"rule": rule})))["previewAudience"].clone();
    let rest_preview: Value = s
        .admin_post(
            "/api/v1/audiences/preview",
            &json!({"rule": rule, "sample_size": 100, "seed": 7}),
        )
        .json()
        .unwrap();
    assert_eq!(p["matched"], rest_preview["matched"]);
    assert_eq!(p["matched"], 1);
    let ana = s.profile("user_id:u1");
    assert_eq!(p["sampleMembers"][0]["id"], ana["profile_id"]);
    assert!(p["sampleMembers"][0]["identifiers"]
        .as_array()
        .unwrap()
        .contains(&json!("user_id:u1")));

    let create =
        r#"mutation($input: AudienceInput!) { createAudience(input: $input) { id ruleText } }"#;
    let created = data(s.graphql(
        create,
        json!({"input": {"id": "buyers", "name": "Buyers", "rule": rule}}),
    ));
    assert_eq!(created["createAudience"]["id"], "buyers");
    let again = s.graphql(create, json!({"input": {"id": "buyers", "rule": rule}}));
    assert_eq!(error_code(&again), "audience_exists");
    let members = eventually(30, "the backfill", || {
        let a = data(s.graphql(
            r#"{ audience(id: "buyers") { ready size members(first: 10) { nodes { profileId profile { identifiers } } } } }"#,
            json!({}),
        ))["audience"]
            .clone();
        (a["ready"] == true).then_some(a)
    });
    let rest_members = s.admin_json("/api/v1/audiences/buyers/members");
    assert_eq!(members["size"], 1);
    assert_eq!(
        members["members"]["nodes"][0]["profileId"],
        rest_members["members"][0]["profile_id"]
    );
    assert!(members["members"]["nodes"][0]["profile"]["identifiers"]
        .as_array()
        .unwrap()
        .contains(&json!("user_id:u1")));

    // The merge of u2 and a2, undone through GraphQL, is undone for REST.
    let graph =
        data(s.graphql(PROFILE, json!({"id": "user_id:u2"})))["profile"]["identityGraph"].clone();
    let merge = graph["merges"][0]["id"].as_str().unwrap().to_owned();
    let split = data(s.graphql(
        r#"mutation($id: String!) { undoMerge(id: $id) { profiles removedProfiles } }"#,
        json!({"id": merge}),
    ))["undoMerge"]
        .clone();
    assert_eq!(split["profiles"].as_array().unwrap().len(), 2, "{split}");
    let rest_merge = s.admin_json(&format!("/api/v1/merges/{merge}"));
    assert_eq!(rest_merge["undone"], true);
    let again = s.graphql(
        r#"mutation($id: String!) { undoMerge(id: $id) { profiles } }"#,
        json!({"id": merge}),
    );
    assert_eq!(error_code(&again), "merge_already_undone");
}

#[test]
fn requests_are_authenticated_and_limited() {
    let s = Server::start();
    let url = format!("{}/graphql", s.url);
    let anonymous = s
        .http
        .post(&url)
        .json(&json!({"query": "{ status { lag } }"}))
        .send()
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().unwrap();
    assert_eq!(body["code"], "unauthorized");
    let write_key = s
        .http
        .post(&url)
        .bearer_auth(WRITE_KEY)
        .json(&json!({"query": "{ status { lag } }"}))
        .send()
        .unwrap();
    assert_eq!(write_key.status(), 401);

    for (body, content_type, status, code) in [
        ("{\"query\": ", "application/json", 400, "invalid_json"),
        (
            "{\"query\": 1}",
            "application/json",
            422,
            "unprocessable_body",
        ),
        (
            "{ status { lag } }",
            "text/plain",
            415,
            "unsupported_media_type",
        ),
    ] {
        let r = s
            .http
            .post(&url)
            .bearer_auth(ADMIN_KEY)
            .header("content-type", content_type)
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{body}");
        assert_eq!(r.json::<Value>().unwrap()["code"], code, "{body}");
    }

    // Within the limits: answered.
    let ok = data(s.graphql("{ status { lag logHead } viewer { canWrite } }", json!({})));
    assert_eq!(ok["viewer"]["canWrite"], true);

    // Too deep: refused before anything runs.
    let mut deep = String::from("name");
    for _ in 0..14 {
        deep = format!("ofType {{ {deep} }}");
    }
    let answer = s.graphql(
        &format!("{{ __schema {{ types {{ fields {{ type {{ {deep} }} }} }} }} }}"),
        json!({}),
    );
    assert!(answer["data"].is_null(), "{answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("nested too deep"), "{message}");

    // Too costly: a page of 1000 profiles, each with 1000 events.
    let answer = s.graphql(
        "{ profiles(first: 1000) { nodes { profile { timeline(first: 1000) { nodes { json } } } } } }",
        json!({}),
    );
    assert!(answer["data"].is_null(), "{answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("too complex"), "{message}");

    // Out of range page sizes are refused, not clamped.
    let answer = s.graphql("{ profiles(first: 0) { nodes { id } } }", json!({}));
    assert!(answer["data"].is_null(), "{answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("must be greater than or equal to 1"),
        "{message}"
    );
}

#[test]
fn the_schema_served_is_the_one_checked_in() {
    let s = Server::start();
    let r = s
        .http
        .get(format!("{}/graphql/schema.graphql", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let served = r.text().unwrap();
    let checked_in =
        std::fs::read_to_string(repo_root().join("crates/herald-graphql/schema.graphql")).unwrap();
    assert!(
        served == checked_in,
        "the served schema differs from crates/herald-graphql/schema.graphql"
    );
    assert!(served.contains("type Profile"), "{served}");
}

/// A WebSocket upgrade request on a raw connection; the status line of the answer.
fn upgrade_status(s: &Server, origin: &str) -> String {
    let addr = s.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /graphql HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
    )
    .unwrap();
    let mut buf = [0u8; 512];
    let n = stream.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn live_events_reach_a_graphql_ws_client() {
    let root = repo_root();
    assert!(
        root.join("tests/sdk/node_modules/graphql-ws").exists(),
        "tests/sdk/node_modules is missing: ./scripts/test.sh installs it"
    );
    let s = Server::start();
    let addr = s.url.trim_start_matches("http://").to_owned();
    assert!(upgrade_status(&s, "http://evil.example").contains(" 403 "));
    assert!(upgrade_status(&s, &format!("http://{addr}")).contains(" 101 "));

    // A wrong key: the server closes the connection at `connection_init`.
    let out = Command::new("node")
        .arg(root.join("tests/sdk/graphql-subscribe.mjs"))
        .args([&s.url, "hak_wrong", "1"])
        .current_dir(root.join("tests/sdk"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("\"closed\"") && !stdout.contains("timeout"),
        "the socket must be closed at once: {stdout}"
    );

    let mut child = Command::new("node")
        .arg(root.join("tests/sdk/graphql-subscribe.mjs"))
        .args([&s.url, ADMIN_KEY, "1000", r#"{"type":"track"}"#])
        .current_dir(root.join("tests/sdk"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });
    // The subscription starts at the log's head when it is set up: send probes until one
    // arrives, then the events under test.
    let mut probe = 0;
    eventually(20, "a probe event over the subscription", || {
        probe += 1;
        s.post(
            "/v1/track",
            &track("prober", "Probe", &format!("probe-{probe}")),
        );
        while let Ok(v) = rx.recv_timeout(Duration::from_millis(200)) {
            assert!(v.get("error").is_none() && v.get("errors").is_none(), "{v}");
            if v["event"] == "Probe" {
                return Some(());
            }
        }
        None
    });
    let batch = json!({"batch": [
        track("u9", "Signed Up", "live-1"),
        {"type": "identify", "userId": "u9", "messageId": "live-2", "traits": {"plan": "pro"}},
        track("u9", "Checkout", "live-3"),
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let v = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the live events over the subscription");
        if v["event"] == "Probe" {
            continue;
        }
        seen.push(v);
    }
    let _ = child.kill();
    let _ = child.wait();
    let ids: Vec<&str> = seen
        .iter()
        .map(|v| v["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["live-1", "live-3"],
        "the identify is filtered out: {seen:?}"
    );
    assert_eq!(seen[0]["userId"], "u9");
    assert_eq!(seen[0]["json"]["event"], "Signed Up");
    assert!(seen[0]["seq"].as_u64().unwrap() < seen[1]["seq"].as_u64().unwrap());
}

#[test]
fn sessions_use_graphql_by_role_with_their_csrf_token() {
    let s = Server::start();
    send_people(&s);
    let admin = s.sign_in_admin();
    let created = s
        .as_session(reqwest::Method::POST, "/api/v1/users", &admin)
        .json(&json!({"email": "vera@example.com", "password": "viewer-password-1", "role": "viewer"}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
    let viewer = s.sign_in("vera@example.com", "viewer-password-1");
    let post = |session: &Session, csrf: Option<&str>, query: &str| -> (u16, Value) {
        let mut r = s
            .http
            .post(format!("{}/graphql", s.url))
            .header("cookie", &session.cookie)
            .json(&json!({"query": query}));
        if let Some(csrf) = csrf {
            r = r.header("x-csrf-token", csrf);
        }
        let r = r.send().unwrap();
        (r.status().as_u16(), r.json().unwrap())
    };
    let who = "{ viewer { role canWrite email } }";
    let (status, answer) = post(&viewer, Some(&viewer.csrf), who);
    assert_eq!(status, 200);
    assert_eq!(
        data(answer)["viewer"],
        json!({"role": "viewer", "canWrite": false, "email": "vera@example.com"})
    );

    // A viewer reads, and is refused every change with the REST code; nothing changes.
    let (_, answer) = post(
        &viewer,
        Some(&viewer.csrf),
        r#"{ profile(id: "user_id:u1") { totalEvents } }"#,
    );
    assert_eq!(data(answer)["profile"]["totalEvents"], 4);
    let create = r#"mutation { createAudience(input: {id: "buyers", rule: "performed \"Checkout\" >= 1"}) { id } }"#;
    let (_, answer) = post(&viewer, Some(&viewer.csrf), create);
    assert_eq!(error_code(&answer), "forbidden_role");
    let (_, answer) = post(&viewer, Some(&viewer.csrf), "{ keys { id } }");
    assert_eq!(error_code(&answer), "forbidden_role");
    assert_eq!(s.admin_get("/api/v1/audiences/buyers").status(), 404);

    // Without the session's CSRF token, nothing runs, for any role.
    for csrf in [None, Some("not-the-token")] {
        let (status, answer) = post(&admin, csrf, create);
        assert_eq!(status, 403, "{answer}");
        assert_eq!(answer["code"], "csrf_token_invalid");
    }
    assert_eq!(s.admin_get("/api/v1/audiences/buyers").status(), 404);

    // An admin's session with its token changes things.
    let (_, answer) = post(&admin, Some(&admin.csrf), create);
    assert_eq!(data(answer)["createAudience"]["id"], "buyers");
    assert_eq!(s.admin_get("/api/v1/audiences/buyers").status(), 200);

    // Signed out: the cookie opens nothing.
    let out = s
        .as_session(reqwest::Method::DELETE, "/api/v1/session", &admin)
        .send()
        .unwrap();
    assert_eq!(out.status(), 204);
    let (status, answer) = post(&admin, Some(&admin.csrf), who);
    assert_eq!(status, 401, "{answer}");
}

#[test]
fn insights_saved_insights_and_the_catalog_answer_what_rest_answers() {
    let s = Server::start();
    send_people(&s);
    let query = json!({"from": "2026-11-01T00:00:00Z", "to": "2026-11-05T00:00:00Z",
        "interval": "day", "measure": "events", "event": {"name": "Checkout"}});
    let rest: Value = eventually(30, "the insights index", || {
        let r = s.admin_post("/api/v1/insights/trends", &query);
        (r.status() == 200).then(|| r.json().unwrap())
    });
    let g = data(s.graphql("query($q: JSON!) { trend(query: $q) }", json!({"q": query})))["trend"]
        .clone();
    assert_eq!(g, rest);
    // Checkouts by day as sent: Nov 2 (u1), Nov 3 (u1 and u2).
    assert_eq!(g["series"][0]["data"], json!([0, 1, 2, 0]));

    // A query of the wrong shape: REST's code.
    let bad = s.graphql("{ trend(query: {interval: \"fortnight\"}) }", json!({}));
    assert_eq!(error_code(&bad), "unprocessable_body");

    // Saved through GraphQL, listed by REST.
    let saved = data(s.graphql(
        r#"mutation($q: JSON!) { saveInsight(input: {name: "Checkouts", kind: TREND, query: $q}) { id name kind } }"#,
        json!({"q": query}),
    ))["saveInsight"]
        .clone();
    assert_eq!(saved["kind"], "TREND");
    let listed = s.admin_json("/api/v1/insights/saved");
    assert_eq!(listed[0]["id"], saved["id"]);
    assert_eq!(listed[0]["name"], "Checkouts");
    let mine =
        data(s.graphql("{ savedInsights { id query } }", json!({})))["savedInsights"].clone();
    assert_eq!(mine[0]["query"], listed[0]["query"]);

    // The catalog: the names sent, the same over both APIs.
    let catalog = s.admin_json("/api/v1/catalog");
    assert_eq!(catalog["event_names"], json!(["Checkout", "Viewed"]));
    assert!(catalog["property_names"]
        .as_array()
        .unwrap()
        .contains(&json!("total")));
    assert!(catalog["trait_names"]
        .as_array()
        .unwrap()
        .contains(&json!("email")));
    assert!(catalog["trait_names"]
        .as_array()
        .unwrap()
        .contains(&json!("plan")));
    let g = data(s.graphql(
        "{ catalog { eventNames propertyNames traitNames } }",
        json!({}),
    ))["catalog"]
        .clone();
    assert_eq!(g["eventNames"], catalog["event_names"]);
    assert_eq!(g["propertyNames"], catalog["property_names"]);
    assert_eq!(g["traitNames"], catalog["trait_names"]);
}

#[test]
fn templates_answer_what_rest_answers() {
    let s = Server::start();
    let created = s.graphql(
        "mutation ($input: TemplateInput!) { createTemplate(input: $input) { id version channel content } }",
        json!({"input": {"id": "hello", "channel": "sms", "content": {"body": "Hi {{ traits.name | default: 'you' }}"}}}),
    );
    let created = &data(created)["createTemplate"];
    assert_eq!(created["version"], 1);
    assert_eq!(created, &{
        let rest = s.admin_json("/api/v1/templates/hello");
        json!({"id": rest["id"], "version": rest["version"], "channel": rest["channel"], "content": rest["content"]})
    });
    let updated = s.graphql(
        "mutation ($input: TemplateInput!) { updateTemplate(id: \"hello\", input: $input) { version } }",
        json!({"input": {"channel": "sms", "content": {"body": "Hey {{ traits.name }}"}, "expectedVersion": 1}}),
    );
    assert_eq!(data(updated)["updateTemplate"]["version"], 2);
    let listed = data(s.graphql("{ templates { id version } template(id: \"hello\", version: 1) { content } templateVersions(id: \"hello\") { version } }", json!({})));
    assert_eq!(listed["templates"], json!([{"id": "hello", "version": 2}]));
    assert_eq!(
        listed["template"]["content"]["body"],
        "Hi {{ traits.name | default: 'you' }}"
    );
    assert_eq!(
        listed["templateVersions"],
        json!([{"version": 2}, {"version": 1}])
    );

    // The preview and the ad-hoc render are REST's.
    let preview = data(s.graphql(
        "{ previewTemplate(id: \"hello\", version: 1) { version format parts } }",
        json!({}),
    ));
    let rest: Value = s
        .admin_post("/api/v1/templates/hello/preview", &json!({"version": 1}))
        .json()
        .unwrap();
    assert_eq!(preview["previewTemplate"], rest);
    let rendered = s.graphql(
        "query ($c: JSON) { renderTemplate(template: \"{{ a | plus: 1 }}\", context: $c) }",
        json!({"c": {"a": 41}}),
    );
    assert_eq!(data(rendered)["renderTemplate"], "42");
    // Errors carry REST's code and the place.
    let broken = s.graphql("{ renderTemplate(template: \"ok\\n{% if %}\") }", json!({}));
    assert_eq!(error_code(&broken), "liquid_syntax");
    assert_eq!(broken["errors"][0]["extensions"]["location"]["line"], 2);
    let stale = s.graphql(
        "mutation ($input: TemplateInput!) { updateTemplate(id: \"hello\", input: $input) { version } }",
        json!({"input": {"channel": "sms", "content": {"body": "x"}, "expectedVersion": 1}}),
    );
    assert_eq!(error_code(&stale), "template_version_conflict");
    let gone = data(s.graphql("mutation { deleteTemplate(id: \"hello\") }", json!({})));
    assert_eq!(gone["deleteTemplate"], "hello");
    assert_eq!(
        data(s.graphql("{ template(id: \"hello\") { id } }", json!({})))["template"],
        Value::Null
    );
}

#[test]
fn broadcasts_and_preferences_answer_what_rest_answers() {
    let s = Server::start();
    let batch = json!({"batch": [
        {"type": "identify", "userId": "ana", "traits": {"email": "ana@example.com", "plan": "pro"}, "messageId": "i-1"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    let r = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "pros", "rule": r#"trait plan = "pro""#}),
    );
    assert_eq!(r.status(), 201);
    // Its backfill done, so that the size GraphQL and REST read below cannot move between them.
    eventually(30, "the audience's backfill", || {
        let a = s.admin_json("/api/v1/audiences/pros");
        (a["ready"] == true && a["size"] == 1).then_some(())
    });
    let template = json!({"id": "news", "channel": "email", "content": {"subject": "Hi", "body": "<p>Hi</p>"}});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);

    // A broadcast for later, created, read, paused and cancelled through GraphQL.
    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let created = data(s.graphql(
        "mutation ($input: CreateBroadcastInput!) { createBroadcast(input: $input) { id status templateVersion holdoutPercent } }",
        json!({"input": {"name": "Later", "template": "news", "audience": "pros", "holdoutPercent": 5.0, "sendAt": later}}),
    ));
    let id = created["createBroadcast"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        created["createBroadcast"],
        json!({"id": id, "status": "scheduled", "templateVersion": 1, "holdoutPercent": 5.0})
    );
    let read = data(s.graphql(
        "query ($id: String!) { broadcast(id: $id) { name status progress { enqueued audienceSize statuses { name count } } } broadcasts { nodes { id } next } }",
        json!({"id": id}),
    ));
    let rest = s.admin_json(&format!("/api/v1/broadcasts/{id}"));
    assert_eq!(read["broadcast"]["name"], rest["name"]);
    assert_eq!(
        read["broadcast"]["progress"]["audienceSize"],
        rest["progress"]["audience_size"]
    );
    assert_eq!(
        read["broadcasts"],
        json!({"nodes": [{"id": id}], "next": null})
    );
    assert_eq!(
        data(s.graphql("query { broadcast(id: \"nope\") { id } }", json!({})))["broadcast"],
        Value::Null
    );
    let paused = data(s.graphql(
        "mutation ($id: String!) { pauseBroadcast(id: $id) { status } }",
        json!({"id": id}),
    ));
    assert_eq!(paused["pauseBroadcast"]["status"], "paused");
    let cancelled = data(s.graphql(
        "mutation ($id: String!) { cancelBroadcast(id: $id) { status } }",
        json!({"id": id}),
    ));
    assert_eq!(cancelled["cancelBroadcast"]["status"], "cancelled");
    let again = s.graphql(
        "mutation ($id: String!) { resumeBroadcast(id: $id) { status } }",
        json!({"id": id}),
    );
    assert_eq!(error_code(&again), "invalid_transition");
    let bad = s.graphql(
        "mutation { createBroadcast(input: {name: \"x\", template: \"news\", audience: \"nope\"}) { id } }",
        json!({}),
    );
    assert_eq!(error_code(&bad), "audience_not_found");

    // Preferences: no topics configured; the person's email channel; suppression.
    let prefs = data(s.graphql(
        "{ topics { key } profileSubscriptions(profile: \"user_id:ana\") { channel address unsubscribed suppressed } }",
        json!({}),
    ));
    assert_eq!(prefs["topics"], json!([]));
    assert_eq!(
        prefs["profileSubscriptions"],
        json!([{"channel": "email", "address": "ana@example.com", "unsubscribed": false, "suppressed": null}])
    );
    let changed = data(s.graphql(
        "mutation { changeSubscriptions(profile: \"user_id:ana\", input: {channel: EMAIL, unsubscribed: true}) { unsubscribed } }",
        json!({}),
    ));
    assert_eq!(changed["changeSubscriptions"]["unsubscribed"], true);
    let rest = s.admin_json("/api/v1/profiles/user_id:ana/subscriptions");
    assert_eq!(rest["channels"][0]["unsubscribed"], true);
    let suppressed = data(s.graphql(
        "mutation { suppressAddress(input: {channel: EMAIL, address: \"Ana@Example.com\"}) { address reason } }",
        json!({}),
    ));
    assert_eq!(
        suppressed["suppressAddress"],
        json!({"address": "ana@example.com", "reason": "manual"})
    );
    let listed = data(s.graphql(
        "{ addressSuppressions(channel: EMAIL) { nodes { address } next } }",
        json!({}),
    ));
    assert_eq!(
        listed["addressSuppressions"],
        json!({"nodes": [{"address": "ana@example.com"}], "next": null})
    );
    let lifted = data(s.graphql(
        "mutation { a: unsuppressAddress(channel: EMAIL, address: \"ana@example.com\") b: unsuppressAddress(channel: EMAIL, address: \"ana@example.com\") }",
        json!({}),
    ));
    assert_eq!(lifted, json!({"a": true, "b": false}));
}
