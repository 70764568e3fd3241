//! The dashboard end to end in headless Chromium (`tests/sdk/dashboard.mjs`) against the real
//! binary: what the pages showed is checked here against the API. Screenshots of every page go
//! to `$HERALD_ARTIFACTS/dashboard` (CI keeps them), else to this test's target tmp directory.
//! Also: the pages' security headers, and that the API's unknown paths keep their JSON 404s
//! while the app's own URLs load the app.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use serde_json::{json, Value};

/// The dashboard admin every test server starts with (the harness sets `HERALD_ADMIN_EMAIL`
/// and `HERALD_ADMIN_PASSWORD`).
const EMAIL: &str = "admin@herald.test";
const PASSWORD: &str = "test-admin-password";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn screenshots() -> PathBuf {
    match std::env::var_os("HERALD_ARTIFACTS") {
        Some(dir) => PathBuf::from(dir).join("dashboard"),
        None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots"),
    }
}

fn texts(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap_or_default().trim().to_owned())
        .collect()
}

#[test]
fn an_admin_watches_events_finds_the_profile_builds_an_audience_and_a_viewer_only_reads() {
    let root = repo_root();
    let chromium = std::env::var("HERALD_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        PathBuf::from(&chromium).exists()
            && root.join("tests/sdk/node_modules/playwright-core").exists(),
        "Chromium ({chromium}) or tests/sdk/node_modules is missing: ./scripts/test.sh installs them"
    );
    let s = Server::start();
    let prefix = "dash";
    let shots = screenshots();
    // A device that an alias merges into a known user (an alias, so that the funnel of
    // identify → order → page below still counts one person): the browser undoes that merge.
    let merge = json!({"batch": [
        {"type": "track", "anonymousId": format!("{prefix}-device-m"), "event": "Viewed", "messageId": "m-1"},
        {"type": "track", "userId": format!("{prefix}-merger"), "event": "Viewed", "messageId": "m-2"},
        {"type": "alias", "userId": format!("{prefix}-merger"), "previousId": format!("{prefix}-device-m"), "messageId": "m-3"},
    ]});
    assert_eq!(s.post("/v1/batch", &merge).status(), 200);
    let merger = format!("user_id:{prefix}-merger");
    s.wait_processed();
    let graph = s.admin_json(&format!("/api/v1/profiles/{}/identity", encode(&merger)));
    assert_eq!(graph["merges"].as_array().unwrap().len(), 1, "{graph}");
    assert_eq!(graph["merges"][0]["undone"], false);
    let merge_id = graph["merges"][0]["merge_id"].as_str().unwrap().to_owned();
    let out = Command::new("node")
        .arg(root.join("tests/sdk/dashboard.mjs"))
        .args([&s.url, WRITE_KEY, EMAIL, PASSWORD, prefix])
        .arg(&shots)
        .current_dir(root.join("tests/sdk"))
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| {
            panic!(
                "bad report ({e}): {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(
        out.status.success() && report["failure"].is_null(),
        "dashboard.mjs failed (screenshots in {}): {report:#}",
        shots.display()
    );
    // No script error on any page, and no answer but the expected refusals: the session
    // check before signing in (and after signing out) and the preview of the unfinished rule.
    let errors: Vec<String> = texts(&report["consoleErrors"])
        .into_iter()
        .filter(|e| !e.starts_with("Failed to load resource"))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    for refused in texts(&report["errorResponses"]) {
        assert!(
            [
                "GET /api/v1/session 401",
                "POST /api/v1/audiences/preview 400"
            ]
            .contains(&refused.as_str()),
            "{refused}"
        );
    }
    assert_eq!(report["sdkErrors"], json!([]));
    assert!(
        report["signedInAs"].as_str().unwrap().starts_with(EMAIL),
        "{report}"
    );

    // Live events: every call type the SDK sent arrived; the filters went into the URL.
    let live = texts(&report["liveEvents"]);
    for kind in ["identify", "alias", "track", "page"] {
        assert!(
            live.iter().any(|t| t == kind),
            "{kind} not shown live: {live:?}"
        );
    }
    let url = report["liveUrl"].as_str().unwrap();
    assert!(
        url.contains("event=Order+Completed") && url.contains("type=track"),
        "{url}"
    );

    // The profile found by email is the API's, and its timeline shows the API's events.
    let email = format!("{prefix}-ana@example.com");
    let profile = s.profile(&format!("email:{email}"));
    let id = profile["profile_id"].as_str().unwrap();
    assert_eq!(
        report["profileUrl"],
        format!("/profiles/profile_id%3A{id}"),
        "{report}"
    );
    let timeline: Vec<Value> = s
        .timeline(&format!("profile_id:{id}"), "")
        .iter()
        .map(|e| {
            let name = e["event"].as_str().or(e["name"].as_str());
            json!([e["type"], name.unwrap_or_default()])
        })
        .collect();
    assert_eq!(report["timeline"], json!(timeline));
    assert!(
        report["traits"].as_str().unwrap().contains("trial"),
        "{report}"
    );

    // The merge undone in the browser is undone for the API: the device has its own profile.
    assert_eq!(report["mergeUndone"], true, "{report}");
    assert!(
        report["refusedAfterUndo"]
            .as_str()
            .unwrap()
            .contains("separated"),
        "{report}"
    );
    assert_eq!(
        s.admin_json(&format!("/api/v1/merges/{merge_id}"))["undone"],
        true
    );
    let user = s.profile(&merger);
    let device = s.profile(&format!("anonymous_id:{prefix}-device-m"));
    assert_ne!(device["profile_id"], user["profile_id"]);

    // Completion offered every track event name the catalog has (the SDK's among them).
    let catalog = s.admin_json("/api/v1/catalog");
    let offered = texts(&report["completions"]);
    assert!(
        catalog["event_names"]
            .as_array()
            .unwrap()
            .contains(&json!("Order Completed")),
        "{catalog}"
    );
    for name in catalog["event_names"].as_array().unwrap() {
        let quoted = serde_json::to_string(name).unwrap();
        assert!(
            offered.contains(&quoted),
            "{quoted} not offered: {offered:?}"
        );
    }

    // The editor showed the API's error for the unfinished rule, marked in the text.
    let error = report["ruleError"].as_str().unwrap();
    let refused = s.admin_post(
        "/api/v1/audiences/preview",
        &json!({"rule": "performed \"Order Completed\" >= "}),
    );
    assert_eq!(refused.status(), 400);
    let refused: Value = refused.json().unwrap();
    assert_eq!(error, refused["message"].as_str().unwrap());
    assert_eq!(
        report["errorMarked"],
        json!(["="]),
        "the end of the rule is marked"
    );

    // Its preview is the API's preview of the same rule and seed.
    let rule = "performed \"Order Completed\" >= 3 in last 7 days";
    let preview: Value = s
        .admin_post(
            "/api/v1/audiences/preview",
            &json!({"rule": rule, "sample_size": 1000, "seed": 1}),
        )
        .json()
        .unwrap();
    assert_eq!(
        report["previewSize"].as_str().unwrap().replace(',', ""),
        preview["estimated_size"].to_string()
    );
    assert_eq!(
        texts(&report["previewMembers"]),
        texts(&preview["sample_members"])
    );
    assert!(texts(&report["previewMembers"]).contains(&id.to_owned()));
    assert_eq!(
        report["visualCount"], "3",
        "the visual builder read the text"
    );

    // Saved as written; then edited in the visual builder (count 2, and a group of two
    // conditions), which wrote the text below, saved as such.
    assert_eq!(report["firstRuleText"], rule);
    let edited = "performed \"Order Completed\" >= 2 in last 7 days\n  and (trait email exists or performed \"Order Completed\" in last 30 days)";
    assert_eq!(report["visualRuleText"].as_str().unwrap().trim(), edited);
    // The API keeps the rule in its own layout (one line): the same words.
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let audience = s.admin_json(&format!("/api/v1/audiences/{prefix}_buyers"));
    let stored = audience["rule_text"].as_str().unwrap();
    assert_eq!(words(stored), words(edited));
    assert_eq!(report["editedRuleText"], stored);
    let preview: Value = s
        .admin_post(
            "/api/v1/audiences/preview",
            &json!({"rule": edited, "sample_size": 1000, "seed": 1}),
        )
        .json()
        .unwrap();
    assert_eq!(
        report["visualPreviewSize"]
            .as_str()
            .unwrap()
            .replace(',', ""),
        preview["estimated_size"].to_string()
    );
    assert_eq!(report["audienceUrl"], format!("/audiences/{prefix}_buyers"));
    let members: Vec<String> = s.admin_json(&format!("/api/v1/audiences/{prefix}_buyers/members"))
        ["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["profile_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts(&report["editedMembers"]), members);
    assert_eq!(members, [id]);
    assert_eq!(report["audienceSize"], audience["size"].to_string());

    // The trend counts the orders the timeline holds; the one person did every funnel step.
    let orders = timeline
        .iter()
        .filter(|e| e[1] == "Order Completed")
        .count();
    assert_eq!(orders, 3);
    assert_eq!(report["trendTotals"], format!("all: {orders}"));
    // Saved with its rolling range, and shown among the saved charts with the same totals;
    // its title opens Insights with the same inputs.
    let saved = s.admin_json("/api/v1/insights/saved");
    let saved = &saved.as_array().unwrap()[..];
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(
        (&saved[0]["name"], &saved[0]["kind"], &saved[0]["lastDays"]),
        (&json!("Orders per day"), &json!("trend"), &json!(30))
    );
    let run: Value = s
        .admin_post(
            &format!(
                "/api/v1/insights/saved/{}/run",
                saved[0]["id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .json()
        .unwrap();
    assert_eq!(run["result"]["series"][0]["total"], orders);
    assert_eq!(report["savedChartTotals"], format!("all: {orders}"));
    assert_eq!(report["savedChartCaption"], "trend · last 30 days");
    assert_eq!(report["reopenedTotals"], format!("all: {orders}"));
    let reopened = report["savedChartUrl"].as_str().unwrap();
    assert!(
        reopened.contains("event=Order+Completed") && reopened.contains("days=30"),
        "{reopened}"
    );
    assert_eq!(report["funnelCounts"], json!(["1", "1", "1"]));
    let url = report["insightsUrl"].as_str().unwrap();
    assert!(
        url.contains("tab=funnels") && url.contains("steps=identify"),
        "{url}"
    );

    // The template: the unknown filter was reported in the subject; the preview was the API's
    // for that person; two versions were saved.
    let error = report["templateError"].as_str().unwrap();
    assert!(
        error.starts_with("subject, line 1") && error.contains("nope"),
        "{error}"
    );
    let template = format!("{prefix}_welcome");
    let versions = s.admin_json(&format!("/api/v1/templates/{template}/versions"));
    assert_eq!(versions.as_array().unwrap().len(), 2, "{versions}");
    assert_eq!(report["templateVersions"], 2);
    // The test send reached the API, which said what the REST call says.
    let refused = s.admin_post(
        &format!("/api/v1/templates/{template}/test"),
        &json!({"to": "someone@example.com"}),
    );
    assert_eq!(refused.status(), 409);
    let refused: Value = refused.json().unwrap();
    let shown = report["testSendResult"].as_str().unwrap();
    assert!(
        shown.contains(refused["message"].as_str().unwrap()),
        "{shown} / {refused}"
    );
    assert_eq!(report["templateVersion"], "email · version 2");
    let preview: Value = s
        .admin_post(
            &format!("/api/v1/templates/{template}/preview"),
            &json!({"profile": format!("email:{prefix}-ana@example.com"), "version": 1}),
        )
        .json()
        .unwrap();
    assert_eq!(
        report["templatePreviewSubject"],
        preview["parts"]["subject"]
    );
    assert_eq!(
        preview["parts"]["subject"],
        format!("Hi {prefix}-ana@example.com")
    );
    let html = preview["parts"]["body"].as_str().unwrap();
    let shown = report["templatePreviewBody"].as_str().unwrap();
    assert_eq!(shown, "Your plan: trial");
    assert!(
        html.contains(shown),
        "the API's body has the text the frame showed: {html}"
    );

    // The broadcast: its page showed what the API says of it once it finished.
    let path = report["broadcastUrl"].as_str().unwrap();
    let id = path.strip_prefix("/broadcasts/").unwrap();
    let broadcast = s.admin_json(&format!("/api/v1/broadcasts/{id}"));
    assert_eq!(
        (
            &broadcast["name"],
            &broadcast["template_id"],
            &broadcast["audience_id"]
        ),
        (
            &json!("Welcome everyone"),
            &json!(template),
            &json!(format!("{prefix}_buyers"))
        ),
        "{broadcast}"
    );
    let progress = &broadcast["progress"];
    assert_eq!(
        report["broadcastEnqueued"],
        format!(
            "{} of {} members enqueued",
            progress["enqueued"], progress["audience_size"]
        )
    );
    let statuses: Vec<String> = progress["statuses"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}\n{v}"))
        .collect();
    assert_eq!(texts(&report["broadcastStatuses"]), statuses);
    assert_eq!(
        progress["failed"]["channel_not_configured"],
        progress["enqueued"]
    );

    // The message log showed the failed messages the API lists, and one message's page its
    // status and its body rendered for its person from the recorded version.
    assert_eq!(report["logUrl"], "?status=failed");
    let failed = s.admin_json("/api/v1/messages?status=failed&limit=500");
    let failed = failed["messages"].as_array().unwrap();
    assert_eq!(report["logRows"].as_u64(), Some(failed.len() as u64));
    assert!(
        texts(&report["logTexts"])
            .iter()
            .all(|t| t.contains("channel_not_configured") && t.contains(&template)),
        "{}",
        report["logTexts"]
    );
    let message_id = report["messageUrl"]
        .as_str()
        .unwrap()
        .strip_prefix("/messages/")
        .unwrap();
    let message = s.admin_json(&format!("/api/v1/messages/{message_id}"));
    assert_eq!(report["messageStatus"], message["status"]);
    assert_eq!(message["status"], "failed");
    let person = s.admin_json(&format!(
        "/api/v1/profiles/profile_id:{}",
        message["profile_id"].as_str().unwrap()
    ));
    let plan = person["traits"]["plan"].as_str().unwrap_or_default();
    assert_eq!(
        report["messageBody"].as_str().unwrap(),
        format!("Your plan: {plan}").trim(),
        "{person}"
    );

    // The suppression added in the page was the normalised address, shown on the profile, and
    // is lifted: the API lists nothing.
    let row = report["suppressionRow"].as_str().unwrap();
    assert!(
        row.contains(&format!("{prefix}-ana@example.com")) && row.contains("manual"),
        "{row}"
    );
    assert!(
        texts(&report["subscriptionRows"])
            .iter()
            .any(|r| r.starts_with("email") && r.contains("suppressed (manual)")),
        "{}",
        report["subscriptionRows"]
    );
    let left = s.admin_json("/api/v1/address-suppressions");
    assert_eq!(left["suppressions"], json!([]), "{left}");

    // Settings: every key the API lists, the identity rules in force.
    let keys = s.admin_json("/api/v1/keys");
    assert_eq!(report["keysShown"], keys.as_array().unwrap().len());
    let status = s.status();
    assert_eq!(report["identityRules"], status["identity_rules"]);

    // Messaging settings changed in the browser: what the API holds now, and what the page
    // showed of it (the webhook's secret masked).
    let messaging = s.admin_json("/api/v1/messaging/settings");
    assert_eq!(messaging["version"], 3, "{messaging}");
    assert_eq!(
        messaging["topics"],
        json!([{"key": format!("{prefix}_news"), "channel": "email", "default": "opt_in",
            "description": "Dashboard news", "double_opt_in": false}])
    );
    assert_eq!(
        messaging["policy"]["caps"],
        json!([{"category": "marketing", "max": 3, "window": "2d"}])
    );
    assert_eq!(report["messagingPolicy"], messaging["policy"]);
    assert_eq!(report["webhookShown"], messaging["channels"]["webhook"]);
    assert_eq!(report["webhookShown"]["secret"], "****cret");
    assert_eq!(
        report["policyError"],
        "Something went wrong. Cap 1: the maximum is a whole number of at least 1."
    );
    assert!(
        report["messagingOrigin"]
            .as_str()
            .unwrap()
            .contains("version 3."),
        "{}",
        report["messagingOrigin"]
    );
    let stored = format!("{}\nEvents stored", status["log_head"]);
    assert_eq!(report["overviewTiles"][0], stored.as_str());

    // The viewer added in Settings signs in and is offered no change.
    let users = s.admin_json("/api/v1/users");
    let viewer = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == format!("{prefix}-viewer@herald.test"))
        .unwrap_or_else(|| panic!("the viewer was not created: {users}"));
    assert_eq!(viewer["role"], "viewer");
    assert_eq!(
        report["viewer"],
        json!({
            "signedInAs": format!("{prefix}-viewer@herald.test viewer"),
            "newAudienceLinks": 0,
            "editLinks": 0,
            "deleteDisabled": true,
            "createKeyButtons": 0,
            "adminOnlyNotice": 1,
            "messagingSaveButtons": 0,
            "messagingTopicDisabled": true,
            "savedCharts": 1,
            "deleteChartButtons": 0,
            "saveChartButtons": 0,
            "newTemplateLinks": 0,
            "templateSaveDisabled": true,
            "broadcastButtons": 0,
        })
    );
    println!("timings: {}", report["steps"]);
}

#[test]
fn pages_carry_security_headers_and_api_paths_keep_json_404s() {
    let s = Server::start();
    let page = |path: &str| {
        s.http
            .get(format!("{}{path}", s.url))
            .header("accept", "text/html")
            .send()
            .unwrap()
    };
    for path in ["/", "/profiles/email:ana@example.com", "/audiences/new"] {
        let r = page(path);
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        let body = r.text().unwrap();
        assert!(body.contains("<div id=\"root\">"), "{body}");
    }
    for path in [
        "/api/v1/nope",
        "/v1/nope",
        "/graphql/nope",
        "/docs/nope",
        "/metrics/nope",
    ] {
        let r = page(path);
        assert_eq!(r.status(), 404, "{path}");
        let body: Value = r.json().unwrap();
        assert_eq!(body["code"], "route_not_found", "{path}");
    }
    // Not a page navigation: the API's JSON 404, as before the dashboard.
    let r = s.http.get(format!("{}/profiles", s.url)).send().unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().unwrap()["code"], "route_not_found");
}
