//! The in-app inbox, black-box (docs/inbox.md): an in-app message sent through the pipeline
//! lands in its person's inbox and reaches an SDK-style client — plain HTTP with the write
//! key and the person's user hash, computed here from the secret as a customer's backend
//! would — live over Server-Sent Events; the client lists it, reads it (an `Inbox Message
//! Read` event on the person; the message opened), archives it, pages, resumes the stream.
//! A missing, wrong or other person's hash opens nothing; bad input changes nothing.

mod common;

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

/// What the customer's backend computes: hex HMAC-SHA256 of the user id with the secret.
fn user_hash(secret: &str, user_id: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A browser-side client of one person's inbox.
struct Client<'a> {
    s: &'a Server,
    http: reqwest::blocking::Client,
    user: String,
    hash: String,
}

impl Client<'_> {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.s.url))
            .basic_auth(WRITE_KEY, Some(""))
            .header("X-Herald-User-Id", &self.user)
            .header("X-Herald-User-Hash", &self.hash)
    }

    fn list(&self, query: &str) -> (u16, Value) {
        let r = self
            .request(reqwest::Method::GET, &format!("/v1/inbox{query}"))
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap())
    }

    fn mark(&self, id: &str, action: &str) -> (u16, Value) {
        let r = self
            .request(reqwest::Method::POST, &format!("/v1/inbox/{id}/{action}"))
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap())
    }
}

/// The SSE stream, as `EventSource` opens it (everything in the query string), read on a
/// thread: each `(event, id, data)` arrives on the channel.
fn open_stream(
    s: &Server,
    user: &str,
    hash: &str,
    last_event_id: Option<&str>,
) -> mpsc::Receiver<(String, String, Value)> {
    let url = format!(
        "{}/v1/inbox/stream?writeKey={WRITE_KEY}&userId={}&userHash={hash}",
        s.url,
        encode(user)
    );
    let mut req = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .unwrap()
        .get(url)
        .header("Accept", "text/event-stream");
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    let response = req.send().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut event, mut id, mut data) = (String::new(), String::new(), String::new());
        for line in BufReader::new(response).lines() {
            let Ok(line) = line else { return };
            if line.is_empty() {
                if !data.is_empty() {
                    let parsed = serde_json::from_str(&data).unwrap_or(Value::Null);
                    if tx.send((event.clone(), id.clone(), parsed)).is_err() {
                        return;
                    }
                }
                (event, data) = (String::new(), String::new());
            } else if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
    });
    rx
}

fn next_event(rx: &mpsc::Receiver<(String, String, Value)>, name: &str) -> (String, Value) {
    loop {
        let (event, id, data) = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("no {name} event on the stream: {e}"));
        if event == name {
            return (id, data);
        }
    }
}

fn send(s: &Server, user: &str, key: &str) -> String {
    let m = s.send_message(
        &json!({"template": "welcome", "profile": format!("user_id:{user}"), "idempotency_key": key, "topic": "product_updates"}),
    );
    assert_eq!(
        (&m["status"], &m["provider"]),
        (&json!("delivered"), &json!("inbox")),
        "{m}"
    );
    m["id"].as_str().unwrap().to_owned()
}

/// A server with an in-app topic (the inbox needs no provider), Ana and Bo, and an in-app
/// template.
fn start() -> Server {
    let s = Server::start();
    let topics =
        json!({"topics": [{"key": "product_updates", "channel": "in_app", "default": "opt_out"}]});
    assert_eq!(
        s.admin_patch("/api/v1/messaging/settings", &topics)
            .status(),
        200
    );
    let batch = json!({"batch": [
        {"type": "identify", "userId": "ana", "traits": {"first_name": "Ana", "plan": "pro"}, "messageId": "i-1"},
        {"type": "identify", "userId": "bo", "traits": {"first_name": "Bo", "plan": "free"}, "messageId": "i-2"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    let template = json!({"id": "welcome", "channel": "in_app", "content": {
        "title": "Hi {{ traits.first_name }}",
        "body": "<p>Your plan: {{ traits.plan }}</p>"
    }});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);
    s
}

#[test]
fn the_inbox_reaches_its_person_live_and_no_one_else() {
    let s = start();
    let secret = s.admin_json("/api/v1/inbox/secret")["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(secret.len() >= 32, "{secret}");
    let http = reqwest::blocking::Client::new();
    let client = |user: &str, hash: String| Client {
        s: &s,
        http: http.clone(),
        user: user.to_owned(),
        hash,
    };
    let ana = client("ana", user_hash(&secret, "ana"));
    let bo = client("bo", user_hash(&secret, "bo"));

    // The stream opens empty, then the message arrives on it as the pipeline delivers it.
    let stream = open_stream(&s, "ana", &ana.hash, None);
    let (_, ready) = next_event(&stream, "ready");
    assert_eq!(ready, json!({"total": 0, "unseen": 0, "unread": 0}));
    let first = send(&s, "ana", "w-1");
    let (first_cursor, live) = next_event(&stream, "message");
    assert_eq!(
        (&live["id"], &live["title"], &live["body"], &live["format"]),
        (
            &json!(first),
            &json!("Hi Ana"),
            &json!("<p>Your plan: pro</p>"),
            &json!("html")
        ),
        "{live}"
    );
    let (_, counts) = next_event(&stream, "counts");
    assert_eq!(counts, json!({"total": 1, "unseen": 1, "unread": 1}));

    let (status, page) = ana.list("");
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["messages"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["messages"][0], live);
    assert_eq!(
        (page["unread"].as_u64(), page["unseen"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(page["next"].is_null(), "{page}");

    // Nobody else opens it: another person's inbox is theirs, and a hash is for one user id.
    let (status, theirs) = bo.list("");
    assert_eq!(
        (status, theirs["total"].as_u64()),
        (200, Some(0)),
        "{theirs}"
    );
    let (status, refused) = bo.mark(&first, "read");
    assert_eq!(
        (status, &refused["code"]),
        (404, &json!("inbox_message_not_found"))
    );
    for (user, hash, code) in [
        ("ana", bo.hash.clone(), "user_hash_invalid"),
        ("ana_", ana.hash.clone(), "user_hash_invalid"),
        ("Ana", ana.hash.clone(), "user_hash_invalid"),
        ("ana", ana.hash[..63].to_owned(), "user_hash_invalid"),
        ("ana", "zz".repeat(32), "user_hash_invalid"),
        (
            "ana",
            user_hash("another secret of some length", "ana"),
            "user_hash_invalid",
        ),
    ] {
        let (status, body) = client(user, hash).list("");
        assert_eq!(
            (status, &body["code"]),
            (401, &json!(code)),
            "{user}: {body}"
        );
    }
    let r = http
        .get(format!("{}/v1/inbox?userId=ana", s.url))
        .basic_auth(WRITE_KEY, Some(""))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().unwrap()["code"], "user_hash_required");
    let r = http
        .get(format!(
            "{}/v1/inbox?userId=ana&userHash={}",
            s.url, ana.hash
        ))
        .basic_auth("hwk_not_a_key", Some(""))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().unwrap()["code"], "unauthorized");
    let r = http
        .get(format!(
            "{}/v1/inbox/stream?userId=bo&userHash={}&writeKey={WRITE_KEY}",
            s.url, ana.hash
        ))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    // Browsers on other origins read the answers (CORS), errors included.
    let r = http
        .get(format!("{}/v1/inbox", s.url))
        .header("Origin", "https://app.example.com")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );

    // Reading it: read and seen, once; the message is opened; one event on the person.
    let (status, read) = ana.mark(&first, "read");
    assert_eq!(status, 200, "{read}");
    assert!(
        read["read_at"].is_string() && read["seen_at"] == read["read_at"],
        "{read}"
    );
    let (_, again) = ana.mark(&first, "read");
    assert_eq!(again["read_at"], read["read_at"]);
    let opened = s.admin_json(&format!("/api/v1/messages/{first}"));
    assert_eq!(opened["status"], "opened", "{opened}");
    let events = eventually(20, "the read event on the timeline", || {
        let t = s.timeline("user_id:ana", "");
        let reads: Vec<Value> = t
            .into_iter()
            .filter(|e| e["event"] == "Inbox Message Read")
            .collect();
        (!reads.is_empty()).then_some(reads)
    });
    s.wait_processed();
    let reads: Vec<Value> = s
        .timeline("user_id:ana", "")
        .into_iter()
        .filter(|e| e["event"] == "Inbox Message Read")
        .collect();
    assert_eq!(reads.len(), 1, "{events:?}");
    assert_eq!(reads[0]["properties"]["message_id"], json!(first));
    assert_eq!(reads[0]["properties"]["channel"], "in_app");
    assert_eq!(reads[0]["properties"]["topic"], "product_updates");
    let delivered = s
        .timeline("user_id:ana", "")
        .into_iter()
        .filter(|e| e["event"] == "Message Delivered")
        .count();
    assert_eq!(delivered, 1);

    // More messages: pages newest first; a stream resumed from the first message's id gets
    // exactly the ones after it.
    let later: Vec<String> = (2..=4)
        .map(|i| send(&s, "ana", &format!("w-{i}")))
        .collect();
    let (_, page1) = ana.list("?limit=2");
    let ids = |p: &Value| -> Vec<String> {
        p["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, all) = ana.list("");
    let newest_first = ids(&all);
    assert_eq!(newest_first.len(), 4);
    assert_eq!(newest_first.last(), Some(&first));
    assert_eq!(ids(&page1), newest_first[..2]);
    let next = page1["next"].as_str().unwrap();
    let (_, page2) = ana.list(&format!("?limit=2&before={}", encode(next)));
    assert_eq!(ids(&page2), newest_first[2..]);
    assert!(page2["next"].is_null(), "{page2}");
    assert_eq!(page2["unread"], 3);
    let resumed = open_stream(&s, "ana", &ana.hash, Some(&first_cursor));
    let mut replayed: Vec<String> = (0..3)
        .map(|_| {
            next_event(&resumed, "message").1["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    replayed.sort();
    let mut expected = later.clone();
    expected.sort();
    assert_eq!(replayed, expected);

    // Archive: out of the listing and the counts, in the archived one.
    let (status, archived) = ana.mark(&later[0], "archive");
    assert_eq!(status, 200);
    assert!(archived["archived_at"].is_string(), "{archived}");
    let (_, active) = ana.list("");
    assert!(!ids(&active).contains(&later[0]));
    assert_eq!(
        (active["total"].as_u64(), active["unread"].as_u64()),
        (Some(3), Some(2))
    );
    let (_, shelf) = ana.list("?archived=true");
    assert_eq!(ids(&shelf), [later[0].clone()]);

    // Opening the inbox marks everything seen: the two unseen in the listing and the
    // archived one, which was never seen either (the first was seen when it was read).
    let r = ana
        .request(reqwest::Method::POST, "/v1/inbox/seen")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["marked"], 3);
    let (_, seen) = ana.list("");
    assert_eq!(
        (seen["unseen"].as_u64(), seen["unread"].as_u64()),
        (Some(0), Some(2))
    );

    // Bad input is refused and changes nothing.
    for (query, code) in [
        ("?limit=0", "invalid_query"),
        ("?limit=101", "invalid_query"),
        ("?before=nonsense", "invalid_cursor"),
        ("?limit=x", "invalid_query"),
    ] {
        let (status, body) = ana.list(query);
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some(code)),
            "{query}: {body}"
        );
    }
    let long = "u".repeat(600);
    let (status, body) = client(&long, user_hash(&secret, &long)).list("");
    assert_eq!((status, &body["code"]), (400, &json!("invalid_user_id")));
    let (status, body) = ana.mark("no-such-message", "read");
    assert_eq!(
        (status, &body["code"]),
        (404, &json!("inbox_message_not_found"))
    );
    let (_, after) = ana.list("");
    assert_eq!(after["total"], seen["total"]);
    assert_eq!(after["unread"], seen["unread"]);

    // The secret is a credential: a viewer's session cannot read it.
    let r = s.admin_post(
        "/api/v1/users",
        &json!({"email": "viewer@example.com", "password": "a long viewer password", "role": "viewer"}),
    );
    assert_eq!(r.status(), 201);
    let viewer = s.sign_in("viewer@example.com", "a long viewer password");
    let r = s
        .as_session(reqwest::Method::GET, "/api/v1/inbox/secret", &viewer)
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().unwrap()["code"], "forbidden_role");
}

/// A GDPR deletion empties the person's inbox and erases what their messages held of them
/// (the address), and leaves everyone else's.
#[test]
fn a_gdpr_deletion_empties_the_persons_inbox_and_no_one_elses() {
    let s = start();
    let secret = s.admin_json("/api/v1/inbox/secret")["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = reqwest::blocking::Client::new();
    let client = |user: &str| Client {
        s: &s,
        http: http.clone(),
        user: user.to_owned(),
        hash: user_hash(&secret, user),
    };
    let (ana_message, bo_message) = (send(&s, "ana", "g-1"), send(&s, "bo", "g-2"));
    for who in ["ana", "bo"] {
        assert_eq!(client(who).list("").1["total"], 1, "{who}");
    }
    let r = s.admin_delete("/api/v1/profiles/user_id:ana");
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let (status, ana) = client("ana").list("");
    assert_eq!(
        (status, &ana["total"], &ana["messages"]),
        (200, &json!(0), &json!([])),
        "{ana}"
    );
    let (_, bo) = client("bo").list("");
    assert_eq!(bo["total"], 1, "{bo}");
    let erased = s.admin_json(&format!("/api/v1/messages/{ana_message}"));
    assert_eq!(
        (&erased["status"], &erased["address"]),
        (&json!("delivered"), &Value::Null),
        "{erased}"
    );
    let kept = s.admin_json(&format!("/api/v1/messages/{bo_message}"));
    assert_eq!(kept["address"], "bo", "{kept}");
}
