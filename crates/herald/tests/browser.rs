//! Tracking from the browser, black-box: what browser SDKs fetch before sending (Segment's
//! settings, RudderStack's source config), CORS on every answer of the public paths, what
//! browsers send (text/plain bodies, beacons with the key in the body or the query string,
//! keepalive retries), and the real SDKs (`@segment/analytics-next`,
//! `@rudderstack/analytics-js`) in headless Chromium on a page of another origin
//! (`tests/sdk/browser.mjs`).

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::*;
use reqwest::blocking::Response;
use serde_json::{json, Value};

const ORIGIN: &str = "http://shop.example";

fn get(s: &Server, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = s
        .http
        .get(format!("{}{path}", s.url))
        .header("origin", ORIGIN);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().unwrap()
}

fn allow_origin(r: &Response) -> Option<String> {
    r.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

/// Status, CORS origin and JSON body of an answer.
fn answer(r: Response) -> (u16, Option<String>, Value) {
    let status = r.status().as_u16();
    let origin = allow_origin(&r);
    (status, origin, r.json().expect("a JSON body"))
}

fn basic(key: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    )
}

#[test]
fn segment_settings_point_the_sdk_back_at_this_herald() {
    let s = Server::start();
    let host = s.url.strip_prefix("http://").unwrap().to_owned();
    let (status, origin, doc) = answer(get(&s, &format!("/v1/projects/{WRITE_KEY}/settings"), &[]));
    assert_eq!((status, origin.as_deref()), (200, Some(ORIGIN)), "{doc}");
    let segment = &doc["integrations"]["Segment.io"];
    assert_eq!(segment["apiKey"], WRITE_KEY);
    assert_eq!(segment["apiHost"], format!("{host}/v1"));
    assert_eq!(segment["protocol"], "http");
    assert_eq!(doc["integrations"].as_object().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["metrics"]["sampleRate"], 0, "no metrics to Segment");
    assert_eq!(doc["remotePlugins"], json!([]));

    // Behind a TLS proxy: the forwarded scheme and host.
    let (status, _, doc) = answer(get(
        &s,
        &format!("/v1/projects/{WRITE_KEY}/settings"),
        &[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "cdp.example.com"),
        ],
    ));
    assert_eq!(status, 200);
    assert_eq!(
        doc["integrations"]["Segment.io"]["apiHost"],
        "cdp.example.com/v1"
    );
    assert_eq!(doc["integrations"]["Segment.io"]["protocol"], "https");
    let (status, origin, err) = answer(get(
        &s,
        &format!("/v1/projects/{WRITE_KEY}/settings"),
        &[("x-forwarded-proto", "gopher")],
    ));
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("invalid_header"))
    );
    assert_eq!(origin.as_deref(), Some(ORIGIN));

    // Unknown and revoked keys: a JSON 401 the page can read.
    let (status, origin, err) = answer(get(&s, "/v1/projects/hwk_nope/settings", &[]));
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(origin.as_deref(), Some(ORIGIN));
    let created: Value = s
        .admin_post("/api/v1/keys", &json!({"kind": "write", "name": "web"}))
        .json()
        .unwrap();
    let secret = created["secret"].as_str().unwrap();
    let path = format!("/v1/projects/{secret}/settings");
    assert_eq!(get(&s, &path, &[]).status(), 200);
    let id = created["id"].as_str().unwrap();
    assert_eq!(s.admin_delete(&format!("/api/v1/keys/{id}")).status(), 204);
    let (status, _, err) = answer(get(&s, &path, &[]));
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthorized")));
    // An admin key is not a write key.
    assert_eq!(
        get(&s, &format!("/v1/projects/{ADMIN_KEY}/settings"), &[]).status(),
        401
    );
}

#[test]
fn a_configured_public_url_wins_over_request_headers() {
    let s = Server::start_with(&["--public-url", "https://cdp.example.com/herald/"]);
    let (status, _, doc) = answer(get(
        &s,
        &format!("/v1/projects/{WRITE_KEY}/settings"),
        &[("x-forwarded-host", "evil.example")],
    ));
    assert_eq!(status, 200);
    let segment = &doc["integrations"]["Segment.io"];
    assert_eq!(segment["apiHost"], "cdp.example.com/herald/v1");
    assert_eq!(segment["protocol"], "https");
}

#[test]
fn a_bad_public_url_is_refused_at_start() {
    let out = Command::new(bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "cdp.example.com",
        ])
        .args(["--data-dir", "/nonexistent/herald-test"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--public-url"), "{stderr}");
}

#[test]
fn rudderstack_source_config_is_served_for_the_write_key() {
    let s = Server::start();
    let query = format!("?p=npm&v=3.34.1&build=modern&writeKey={WRITE_KEY}&lockIntegrationsVersion=false&lockPluginsVersion=false");
    for path in ["/sourceConfig/", "/sourceConfig"] {
        // As the SDK asks: Basic auth and the key in the query too.
        let (status, origin, doc) = answer(get(
            &s,
            &format!("{path}{query}"),
            &[("authorization", &basic(WRITE_KEY))],
        ));
        assert_eq!((status, origin.as_deref()), (200, Some(ORIGIN)), "{doc}");
        let source = &doc["source"];
        assert_eq!(source["enabled"], true);
        assert_eq!(source["writeKey"], WRITE_KEY);
        assert_eq!(source["destinations"], json!([]));
        assert!(source["config"].is_object());
        assert!(source["id"]
            .as_str()
            .is_some_and(|id| !id.contains(WRITE_KEY)));
    }
    // The query alone is enough; the header wins over it.
    assert_eq!(
        get(&s, &format!("/sourceConfig/{query}"), &[]).status(),
        200
    );
    let (status, origin, err) = answer(get(
        &s,
        &format!("/sourceConfig/{query}"),
        &[("authorization", &basic("hwk_nope"))],
    ));
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(origin.as_deref(), Some(ORIGIN));
    let (status, _, err) = answer(get(&s, "/sourceConfig/?p=npm", &[]));
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthorized")));
    assert!(
        err["message"].as_str().unwrap().contains("writeKey"),
        "{err}"
    );
}

#[test]
fn every_answer_on_a_public_path_carries_cors() {
    let s = Server::start();
    // Preflights, as browsers send them before a POST with Authorization or a JSON type; on
    // a path that does not exist too, so the page then reads the JSON 404.
    for path in [
        "/v1/t",
        "/v1/batch",
        "/beacon/v1/batch",
        "/v1/projects/k/settings",
        "/sourceConfig/",
        "/v1/nowhere",
    ] {
        let r = s
            .http
            .request(reqwest::Method::OPTIONS, format!("{}{path}", s.url))
            .header("origin", ORIGIN)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type,anonymousid",
            )
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        assert_eq!(allow_origin(&r).as_deref(), Some(ORIGIN), "{path}");
        let h = |name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_ascii_lowercase())
                .unwrap_or_default()
        };
        assert!(h("access-control-allow-methods").contains("post"), "{path}");
        assert!(
            h("access-control-allow-headers").contains("authorization"),
            "{path}"
        );
        assert!(
            h("access-control-allow-headers").contains("anonymousid"),
            "{path}"
        );
        assert_eq!(h("access-control-allow-credentials"), "true", "{path}");
    }

    let post = |path: &str, body: &str, headers: &[(&str, &str)]| {
        let mut req = s
            .http
            .post(format!("{}{path}", s.url))
            .header("origin", ORIGIN)
            .body(body.to_owned());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.send().unwrap())
    };
    let key = basic(WRITE_KEY);
    let auth = [("authorization", key.as_str())];
    // Success, and every kind of error: bad JSON, invalid event, bad key, unknown route,
    // wrong method, unsupported encoding.
    let cases = [
        post("/v1/t", r#"{"userId":"u","event":"E"}"#, &auth),
        post("/v1/t", "{", &auth),
        post("/v1/t", r#"{"userId":"u"}"#, &auth),
        post(
            "/v1/t",
            r#"{"userId":"u","event":"E","writeKey":"nope"}"#,
            &[],
        ),
        post("/v1/nowhere", "{}", &auth),
        post("/sourceConfig/", "{}", &auth),
        post(
            "/v1/t",
            r#"{"userId":"u","event":"E"}"#,
            &[auth[0], ("content-encoding", "br")],
        ),
        answer(get(&s, "/v1/t", &[])),
    ];
    let codes: Vec<(u16, Option<String>, Option<String>)> = cases
        .into_iter()
        .map(|(status, origin, body)| (status, origin, body["code"].as_str().map(str::to_owned)))
        .collect();
    let o = Some(ORIGIN.to_owned());
    let code = |c: &str| Some(c.to_owned());
    assert_eq!(
        codes,
        vec![
            (200, o.clone(), None),
            (400, o.clone(), code("invalid_json")),
            (400, o.clone(), code("missing_event")),
            (401, o.clone(), code("unauthorized")),
            (404, o.clone(), code("route_not_found")),
            (405, o.clone(), code("method_not_allowed")),
            (415, o.clone(), code("unsupported_encoding")),
            (405, o.clone(), code("method_not_allowed")),
        ]
    );

    // Scripts can read Retry-After (SDKs back off by it).
    let r = get(&s, "/v1/t", &[]);
    let exposed = r
        .headers()
        .get("access-control-expose-headers")
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .unwrap_or_default();
    assert!(exposed.contains("retry-after"), "{exposed:?}");

    // The admin API is not for browsers on other origins.
    let r = s
        .http
        .get(format!("{}/api/v1/status", s.url))
        .bearer_auth(ADMIN_KEY)
        .header("origin", ORIGIN)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(allow_origin(&r), None);
}

#[test]
fn beacons_and_keepalive_retries_from_browsers_are_stored_once() {
    let s = Server::start();
    let text = [("content-type", "text/plain;charset=UTF-8")];
    // RudderStack's beacon: a text/plain batch, the key in the query string (no headers).
    let batch = json!({
        "batch": [
            {"type": "page", "anonymousId": "anon-b", "name": "Checkout", "messageId": "rb-1",
             "originalTimestamp": "2024-05-01T10:00:00.000Z", "channel": "web",
             "context": {"consentManagement": {"allowedConsentIds": ["analytics"], "deniedConsentIds": ["ads"]}}},
            {"type": "identify", "anonymousId": "anon-b", "userId": "beacon-user", "messageId": "rb-2",
             "traits": {"plan": "pro"}, "originalTimestamp": "2024-05-01T10:00:01.000Z"},
        ],
        "sentAt": "2024-05-01T10:00:02.000Z",
    });
    let body = serde_json::to_vec(&batch).unwrap();
    let path = format!("/beacon/v1/batch?writeKey={WRITE_KEY}");
    assert_eq!(s.post_raw(&path, body.clone(), &text).status(), 200);
    // The page retried it (a beacon is fire-and-forget; a keepalive fetch may be resent).
    assert_eq!(s.post_raw(&path, body.clone(), &text).status(), 200);
    let (status, err) = {
        let r = s.post_raw("/beacon/v1/batch?writeKey=hwk_nope", body.clone(), &text);
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthorized")));
    let r = s.post_raw("/beacon/v1/batch", body, &text);
    assert_eq!(r.status(), 401);

    // Segment's short form with the key in the body (sendBeacon, keepalive fetch), twice.
    let message = json!({
        "writeKey": WRITE_KEY, "userId": "beacon-user", "event": "Page Left", "messageId": "sb-1",
        "properties": {"seconds": 42},
        "context": {"consent": {"categoryPreferences": {"analytics": true, "ads": false}}},
    });
    for _ in 0..2 {
        let r = s.post_raw("/v1/t", serde_json::to_vec(&message).unwrap(), &text);
        assert_eq!(r.status(), 200);
    }

    let timeline = s.timeline("user_id:beacon-user", "");
    assert_eq!(timeline.len(), 3, "{timeline:?}");
    let by_type = |t: &str| timeline.iter().find(|e| e["type"] == t).unwrap().clone();
    // Consent and context fields are kept as sent; the key is not stored.
    let page = by_type("page");
    assert_eq!(
        page["context"]["consentManagement"]["deniedConsentIds"],
        json!(["ads"]),
        "{page}"
    );
    assert_eq!(page["channel"], "web");
    let track = by_type("track");
    assert_eq!(
        track["context"]["consent"]["categoryPreferences"],
        json!({"analytics": true, "ads": false}),
        "{track}"
    );
    assert!(track.get("writeKey").is_none(), "{track}");
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The real SDKs in headless Chromium: see `tests/sdk/browser.mjs`.
#[test]
fn browser_sdks_in_headless_chromium_on_another_origin() {
    let root = repo_root();
    let chromium = std::env::var("HERALD_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        PathBuf::from(&chromium).exists() && root.join("tests/sdk/node_modules/playwright-core").exists(),
        "Chromium ({chromium}) or tests/sdk/node_modules is missing: ./scripts/test.sh installs them"
    );
    let s = Server::start();
    let prefix = "web";
    // The script prints its report, then keeps the browser open until its input closes (when
    // `browser` is dropped: at the end, or when an assertion fails), so that what the pages
    // sent as they were left is not aborted while Herald takes it in.
    let mut browser = Command::new("node")
        .arg(root.join("tests/sdk/browser.mjs"))
        .args([&s.url, WRITE_KEY, prefix])
        .current_dir(root.join("tests/sdk"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    let mut line = String::new();
    BufReader::new(browser.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read the report");
    let browser = Closes(Some(browser));
    let report: Value = match serde_json::from_str(&line) {
        Ok(report) => report,
        Err(e) => {
            let out = browser.close();
            panic!(
                "browser.mjs failed ({e}): {}\nstdout: {line}\nstderr: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        }
    };
    let scenario = |name: &str| report["scenarios"][name].clone();
    let origin = report["origin"].as_str().unwrap().to_owned();
    for name in [
        "segment",
        "segment-wrong-key",
        "rudder",
        "rudder-wrong-key",
        "beacon",
    ] {
        let sc = scenario(name);
        assert_eq!(sc["errors"], json!([]), "{name}: {sc}");
        // Requests in flight when the page is left are aborted by the browser (the events
        // themselves are checked below); any other failure (a CORS refusal, a reset) is not.
        let failed: Vec<&Value> = sc["failed"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| !f.as_str().unwrap().ends_with("net::ERR_ABORTED"))
            .collect();
        assert!(failed.is_empty(), "{name}: requests that failed: {sc}");
        // Every answer Herald gave the page was readable cross-origin.
        for r in sc["responses"].as_array().unwrap() {
            assert_eq!(r["cors"], origin.as_str(), "{name}: {r}");
        }
    }
    let answered = |name: &str, method: &str, path: &str| -> Vec<u64> {
        scenario(name)["responses"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["method"] == method && r["path"] == path)
            .map(|r| r["status"].as_u64().unwrap())
            .collect()
    };

    // analytics.js: settings from Herald, then the short forms; the track's first attempt
    // was answered 503 (after Herald stored it) and retried.
    let settings = format!("/v1/projects/{WRITE_KEY}/settings");
    assert_eq!(answered("segment", "GET", &settings), [200, 200]);
    assert_eq!(answered("segment", "POST", "/v1/p"), [200]);
    assert_eq!(answered("segment", "POST", "/v1/i"), [200]);
    assert_eq!(answered("segment", "POST", "/v1/t"), [503, 200]);
    // The anonymous page view and track joined the user at identify; the batch sent with
    // keepalive as the second page was left arrived; the retried track is stored once.
    let lived = |id: &str, n: usize| -> Vec<Value> {
        eventually(30, &format!("{n} events of {id}"), || {
            let ok = s
                .admin_get(&format!("/api/v1/profiles/{}", encode(id)))
                .status()
                == 200;
            let timeline = if ok { s.timeline(id, "") } else { vec![] };
            (timeline.len() >= n).then_some(timeline)
        })
    };
    let names = |timeline: &[Value]| -> Vec<String> {
        let mut v: Vec<String> = timeline
            .iter()
            .map(|e| {
                let t = e["type"].as_str().unwrap();
                match e["event"].as_str().or(e["name"].as_str()) {
                    Some(n) => format!("{t} {n}"),
                    None => t.to_owned(),
                }
            })
            .collect();
        v.sort();
        v
    };
    let session = [
        "identify",
        "page Checkout",
        "page Home",
        "track Checkout Started",
        "track Plan Viewed",
    ];
    let timeline = lived(&format!("user_id:{prefix}-seg-user"), 5);
    assert_eq!(names(&timeline), session, "{timeline:#?}");
    let track = timeline
        .iter()
        .find(|e| e["event"] == "Plan Viewed")
        .unwrap();
    assert_eq!(
        track["context"]["consent"]["categoryPreferences"],
        json!({"analytics": true, "advertising": false}),
        "{track}"
    );
    let profile = s.profile(&format!("user_id:{prefix}-seg-user"));
    assert_eq!(profile["traits"]["plan"], "trial", "{profile}");

    // A wrong key: the settings answer is a readable 401 and load() rejects with its body.
    assert_eq!(
        answered(
            "segment-wrong-key",
            "GET",
            "/v1/projects/hwk_wrong/settings"
        ),
        [401]
    );
    let load_error = scenario("segment-wrong-key")["loadError"].clone();
    assert!(
        load_error
            .as_str()
            .is_some_and(|e| e.contains("unauthorized")),
        "{load_error}"
    );

    // RudderStack: source config from Herald, a batch over XHR, then a beacon on unload.
    assert_eq!(answered("rudder", "GET", "/sourceConfig/"), [200, 200]);
    assert_eq!(answered("rudder", "POST", "/v1/batch"), [200]);
    let timeline = lived(&format!("user_id:{prefix}-rudder-user"), 5);
    assert_eq!(names(&timeline), session, "{timeline:#?}");
    assert!(
        timeline.iter().all(|e| e["channel"] == "web"),
        "{timeline:#?}"
    );
    assert_eq!(answered("rudder-wrong-key", "GET", "/sourceConfig/"), [401]);
    let console = scenario("rudder-wrong-key")["console"].to_string();
    assert!(
        console.contains("Failed to fetch the source config") && console.contains("401"),
        "{console}"
    );

    // The hand-written unload: a beacon and a keepalive fetch of one message, stored once.
    let id = format!("anonymous_id:{prefix}-beacon-anon");
    let timeline = lived(&id, 1);
    assert_eq!(names(&timeline), ["track Page Left"], "{timeline:#?}");
    assert_eq!(
        timeline[0]["context"]["consent"]["categoryPreferences"]["analytics"],
        true
    );
    // Nothing else came in: every event of the run is accounted for.
    let status = s.wait_processed();
    assert_eq!(status["processed"], 11, "{status}");
    let out = browser.close();
    assert!(
        out.status.success(),
        "browser.mjs failed: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The browser script, closed (its input closed, so it closes the browser) when dropped.
struct Closes(Option<Child>);

impl Closes {
    fn close(mut self) -> std::process::Output {
        let mut child = self.0.take().unwrap();
        drop(child.stdin.take());
        child.wait_with_output().expect("wait for node")
    }
}

impl Drop for Closes {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
}
