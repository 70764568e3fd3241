//! Subscription preferences and suppression, black-box (docs/preferences.md): a marketing
//! email reaches a real SMTP server (aiosmtpd) with its RFC 8058 headers; POSTing its
//! one-click URL unsubscribes the address from the message's topic, which the next message on
//! that topic honours (skipped, `unsubscribed`) while another person still receives it; a GET
//! of the same URL changes nothing; the signed preference page shows and changes the topics; a
//! tampered or foreign link is refused; every change is a `Subscription Changed` event on the
//! person's timeline; suppressed addresses receive nothing, transactional messages included;
//! and the admin API refuses what it cannot do, changing nothing.

mod common;

use common::smtp::SmtpSink;
use common::*;
use reqwest::blocking::Response;
use serde_json::{json, Value};

fn channels_file(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let file = dir.join("channels.toml");
    std::fs::write(
        &file,
        format!(
            r#"[email]
provider = "smtp"
host = "127.0.0.1"
port = {port}
security = "none"
from = "Herald Test <news@herald.test>"

[[topics]]
key = "newsletter"
channel = "email"
default = "opt_out"
description = "The weekly newsletter"

[[topics]]
key = "offers"
channel = "email"
default = "opt_in"
"#
        ),
    )
    .unwrap();
    file
}

fn send(s: &Server, body: Value) -> Value {
    s.send_message(&body)
}

fn news(s: &Server, who: &str, issue: u32) -> Value {
    send(
        s,
        json!({"template": "news", "profile": who, "topic": "newsletter", "event": {"properties": {"issue": issue}}}),
    )
}

/// The mail's headers unfolded (a long header may continue on indented lines).
fn header(mail: &str, name: &str) -> Option<String> {
    let head = mail.split("\n\n").next().unwrap().replace('\r', "");
    let unfolded = head.replace("\n ", " ").replace("\n\t", " ");
    unfolded
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

fn html(s: &Server, method: &str, url: &str, form: Option<&str>) -> Response {
    let mut req = s
        .http
        .request(method.parse().unwrap(), url)
        .header("accept", "text/html");
    if let Some(body) = form {
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
    }
    req.send().unwrap()
}

fn topic_status(s: &Server, who: &str, topic: &str) -> (String, Value) {
    let subs = s.admin_json(&format!("/api/v1/profiles/{who}/subscriptions"));
    let email = subs["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "email")
        .unwrap()
        .clone();
    let status = email["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == topic)
        .map(|t| t["status"].as_str().unwrap().to_owned())
        .unwrap();
    (status, email)
}

/// The `Subscription Changed` events on the person's timeline, oldest first.
fn changes(s: &Server, who: &str) -> Vec<Value> {
    s.wait_processed();
    let timeline = s.admin_json(&format!(
        "/api/v1/profiles/{who}/events?event=Subscription%20Changed&limit=100"
    ));
    let mut events: Vec<Value> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["properties"].clone())
        .collect();
    events.reverse();
    events
}

#[test]
fn one_click_unsubscribe_and_the_preference_page_change_what_is_sent() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let file = channels_file(tmp.path(), sink.port);
    let s = Server::start_with_env(&[], &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))]);
    let batch = json!({"batch": [
        {"type": "identify", "userId": "ana", "traits": {"email": "Ana@Example.com", "first_name": "Ana"}, "messageId": "i-1"},
        {"type": "identify", "userId": "cy", "traits": {"email": "cy@example.com", "first_name": "Cy"}, "messageId": "i-2"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    let template = json!({"id": "news", "channel": "email", "content": {
        "subject": "Issue {{ event.properties.issue }} for {{ traits.first_name }}",
        "body": "<p>News for {{ traits.first_name }}.</p>"
    }});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);

    // Both receive issue 1, each mail with its own one-click link.
    for who in ["user_id:ana", "user_id:cy"] {
        assert_eq!(news(&s, who, 1)["status"], "sent");
    }
    let mails = eventually(20, "both emails", || {
        let m = sink.received();
        (m.len() == 2).then_some(m)
    });
    let to_ana = mails
        .iter()
        .find(|m| m.contains("Issue 1 for Ana"))
        .unwrap();
    assert_eq!(
        header(to_ana, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let link = header(to_ana, "List-Unsubscribe").unwrap();
    let url = link
        .strip_prefix('<')
        .and_then(|l| l.strip_suffix('>'))
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&format!("{}/unsubscribe/", s.url)), "{url}");
    let to_cy = mails.iter().find(|m| m.contains("Issue 1 for Cy")).unwrap();
    assert_ne!(header(to_cy, "List-Unsubscribe").unwrap(), link);

    // A GET (a link scanner, or the person) only asks.
    let page = html(&s, "GET", &url, None);
    assert_eq!(page.status(), 200);
    assert!(page
        .headers()
        .get("content-security-policy")
        .is_some_and(|v| v.to_str().unwrap().contains("frame-ancestors 'none'")));
    let page = page.text().unwrap();
    assert!(page.contains("The weekly newsletter"), "{page}");
    assert!(page.contains("ana@example.com"), "{page}");
    assert_eq!(
        topic_status(&s, "user_id:ana", "newsletter").0,
        "subscribed"
    );

    // The one-click POST, as a mailbox provider sends it.
    let done = s
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .unwrap();
    assert_eq!(done.status(), 200);
    assert_eq!(
        topic_status(&s, "user_id:ana", "newsletter").0,
        "unsubscribed"
    );
    // Again: no change, no second event.
    assert_eq!(s.http.post(&url).send().unwrap().status(), 200);
    let events = changes(&s, "user_id:ana");
    assert_eq!(
        events,
        [
            json!({"topic": "newsletter", "channel": "email", "status": "unsubscribed",
            "previous_status": "subscribed", "source": "one_click", "address": "ana@example.com"})
        ]
    );

    // Issue 2: Ana is skipped, Cy still receives it.
    let skipped = news(&s, "user_id:ana", 2);
    assert_eq!(
        (&skipped["status"], &skipped["reason"]),
        (&json!("skipped"), &json!("unsubscribed")),
        "{skipped}"
    );
    assert_eq!(news(&s, "user_id:cy", 2)["status"], "sent");
    let mails = eventually(20, "issue 2 to Cy", || {
        let m = sink.received();
        (m.len() == 3).then_some(m)
    });
    assert!(!mails.iter().any(|m| m.contains("Issue 2 for Ana")));

    // A changed token is refused (JSON for an API client, a page for a browser), and so is
    // a one-click token used as a preference link.
    let token = url.rsplit('/').next().unwrap();
    let mut tampered: Vec<char> = token.chars().collect();
    let i = tampered.len() / 3;
    tampered[i] = if tampered[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let refused = s
        .http
        .post(format!("{}/unsubscribe/{tampered}", s.url))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.json::<Value>().unwrap()["code"], "token_invalid");
    let refused = html(&s, "GET", &format!("{}/preferences/{token}", s.url), None);
    assert_eq!(refused.status(), 400);
    assert!(refused.text().unwrap().contains("not valid"));

    // The preference page, linked from the unsubscribe page.
    let page = html(&s, "GET", &url, None).text().unwrap();
    let prefs_url = page
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert!(prefs_url.starts_with(&format!("{}/preferences/", s.url)));
    let form = html(&s, "GET", &prefs_url, None).text().unwrap();
    assert!(
        form.contains(r#"value="newsletter">"#),
        "newsletter unchecked: {form}"
    );
    assert!(
        form.contains(r#"value="offers">"#),
        "offers (opt-in) unchecked: {form}"
    );
    // Keep both topics.
    let saved = html(
        &s,
        "POST",
        &prefs_url,
        Some("topic=newsletter&topic=offers"),
    );
    assert_eq!(saved.status(), 200);
    let saved = saved.text().unwrap();
    assert!(saved.contains("Your choices are saved."));
    assert!(saved.contains(r#"value="newsletter" checked>"#), "{saved}");
    assert_eq!(
        topic_status(&s, "user_id:ana", "newsletter").0,
        "subscribed"
    );
    assert_eq!(topic_status(&s, "user_id:ana", "offers").0, "subscribed");
    assert_eq!(news(&s, "user_id:ana", 3)["status"], "sent");
    // Everything off (the topics stay checked, as a browser sends the form): marketing
    // stops, receipts still go.
    html(
        &s,
        "POST",
        &prefs_url,
        Some("topic=newsletter&topic=offers&all=unsubscribe"),
    );
    let (_, email) = topic_status(&s, "user_id:ana", "offers");
    assert_eq!(email["unsubscribed"], true, "{email}");
    let skipped = news(&s, "user_id:ana", 4);
    assert_eq!(skipped["reason"], "unsubscribed");
    let receipt = send(
        &s,
        json!({"template": "news", "profile": "user_id:ana", "transactional": true, "event": {"properties": {"issue": 5}}}),
    );
    assert_eq!(receipt["status"], "sent", "{receipt}");

    let sources: Vec<(Value, Value, Value)> = changes(&s, "user_id:ana")
        .into_iter()
        .map(|e| (e["topic"].clone(), e["status"].clone(), e["source"].clone()))
        .collect();
    assert_eq!(
        sources,
        [
            (
                json!("newsletter"),
                json!("unsubscribed"),
                json!("one_click")
            ),
            (
                json!("newsletter"),
                json!("subscribed"),
                json!("preference_page")
            ),
            (
                json!("offers"),
                json!("subscribed"),
                json!("preference_page")
            ),
            (json!(null), json!("unsubscribed"), json!("preference_page")),
        ]
    );
    let mails = eventually(20, "issues 3 and 5 to Ana", || {
        let m = sink.received();
        (m.len() == 5).then_some(m)
    });
    assert!(!mails.iter().any(|m| m.contains("Issue 4")));
}

#[test]
fn suppressed_addresses_receive_nothing_and_the_admin_api_refuses_bad_input() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let file = channels_file(tmp.path(), sink.port);
    let s = Server::start_with_env(&[], &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))]);
    let batch = json!({"batch": [
        {"type": "identify", "userId": "cy", "traits": {"email": "cy@example.com"}, "messageId": "i-1"},
        {"type": "identify", "userId": "bo", "traits": {"first_name": "Bo"}, "messageId": "i-2"},
        {"type": "identify", "userId": "gone", "traits": {"email": "bounce-gone@example.com"}, "messageId": "i-3"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    let template = json!({"id": "receipt", "channel": "email", "content": {"subject": "Receipt", "body": "<p>Paid.</p>"}});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);

    let topics = s.admin_json("/api/v1/topics");
    assert_eq!(topics["topics"][0]["key"], "newsletter");
    assert_eq!(topics["topics"][1]["default"], "opt_in");

    // Suppress (normalised), twice: the second is the standing entry.
    let first = s.admin_post(
        "/api/v1/address-suppressions",
        &json!({"channel": "email", "address": "CY@Example.com"}),
    );
    assert_eq!(first.status(), 201);
    let first: Value = first.json().unwrap();
    assert_eq!(
        (&first["address"], &first["reason"]),
        (&json!("cy@example.com"), &json!("manual"))
    );
    let again = s.admin_post(
        "/api/v1/address-suppressions",
        &json!({"channel": "email", "address": "cy@example.com", "reason": "complaint"}),
    );
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().unwrap()["reason"], "manual");
    let receipt = json!({"template": "receipt", "profile": "user_id:cy", "transactional": true});
    let skipped = send(&s, receipt.clone());
    assert_eq!(
        (&skipped["status"], &skipped["reason"]),
        (&json!("skipped"), &json!("suppressed")),
        "{skipped}"
    );
    let subs = s.admin_json("/api/v1/profiles/user_id:cy/subscriptions");
    assert_eq!(subs["channels"][0]["suppressed"], "manual");
    let listed = s.admin_json("/api/v1/address-suppressions?channel=email");
    assert_eq!(listed["suppressions"].as_array().unwrap().len(), 1);

    // Bad input: a clear 4xx, nothing changed.
    for (body, status, code) in [
        (
            json!({"channel": "fax", "address": "x"}),
            400,
            "invalid_channel",
        ),
        (
            json!({"channel": "email", "address": "not an email"}),
            400,
            "invalid_address",
        ),
        (
            json!({"channel": "email", "address": "z@example.com", "reason": "annoyed"}),
            400,
            "invalid_reason",
        ),
        (
            json!({"channel": "email", "address": "z@example.com", "extra": 1}),
            422,
            "unprocessable_body",
        ),
    ] {
        let r = s.admin_post("/api/v1/address-suppressions", &body);
        assert_eq!(r.status(), status, "{body}");
        assert_eq!(r.json::<Value>().unwrap()["code"], code, "{body}");
    }
    let listed = s.admin_json("/api/v1/address-suppressions");
    assert_eq!(listed["suppressions"].as_array().unwrap().len(), 1);
    let patch = |who: &str, body: Value| {
        let r = s
            .http
            .patch(format!("{}/api/v1/profiles/{who}/subscriptions", s.url))
            .bearer_auth(ADMIN_KEY)
            .json(&body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let (status, body) = patch(
        "user_id:cy",
        json!({"channel": "email", "subscribe": ["offers", "nope"]}),
    );
    assert_eq!((status, &body["code"]), (400, &json!("unknown_topic")));
    assert_eq!(topic_status(&s, "user_id:cy", "offers").0, "unsubscribed");
    let (status, body) = patch(
        "user_id:bo",
        json!({"channel": "email", "subscribe": ["offers"]}),
    );
    assert_eq!((status, &body["code"]), (400, &json!("no_address")));
    let (status, body) = patch("user_id:cy", json!({"channel": "webhook"}));
    assert_eq!((status, &body["code"]), (400, &json!("invalid_channel")));
    let (status, body) = patch("user_id:nobody", json!({"channel": "email"}));
    assert_eq!((status, &body["code"]), (404, &json!("profile_not_found")));
    // A good change, reported and on the timeline with the API as its source.
    let (status, body) = patch(
        "user_id:cy",
        json!({"channel": "email", "subscribe": ["offers"], "unsubscribe": ["newsletter"]}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["changes"],
        json!([
            {"topic": "offers", "status": "subscribed", "previous_status": "unsubscribed"},
            {"topic": "newsletter", "status": "unsubscribed", "previous_status": "subscribed"},
        ])
    );
    let sources: Vec<Value> = changes(&s, "user_id:cy")
        .into_iter()
        .map(|e| e["source"].clone())
        .collect();
    assert_eq!(sources, [json!("api"), json!("api")]);

    // Lifted: the receipt goes out.
    let lifted = s.admin_delete("/api/v1/address-suppressions/email/CY@example.com");
    assert_eq!(lifted.status(), 204);
    let again = s.admin_delete("/api/v1/address-suppressions/email/cy@example.com");
    assert_eq!(again.status(), 404);
    assert_eq!(
        again.json::<Value>().unwrap()["code"],
        "suppression_not_found"
    );
    let sent = send(
        &s,
        json!({"template": "receipt", "profile": "user_id:cy", "transactional": true, "idempotency_key": "second"}),
    );
    assert_eq!(sent["status"], "sent", "{sent}");
    eventually(20, "the receipt at the SMTP server", || {
        (sink.received().len() == 1).then_some(())
    });
    let timeline = |who: &str, name: &str| -> Vec<Value> {
        s.wait_processed();
        let page = s.admin_json(&format!(
            "/api/v1/profiles/{who}/events?event={}&limit=100",
            name.replace(' ', "%20")
        ));
        page["events"].as_array().unwrap().clone()
    };
    let sent_events = timeline("user_id:cy", "Message Sent");
    assert_eq!(sent_events.len(), 1, "{sent_events:?}");
    assert_eq!(sent_events[0]["properties"]["message_id"], sent["id"]);
    assert_eq!(sent_events[0]["properties"]["source_type"], "api");

    // A mailbox that does not exist: the message bounces, the address is suppressed (with
    // the message that found out), the bounce is on the timeline, and nothing more is sent.
    let bounced = send(
        &s,
        json!({"template": "receipt", "profile": "user_id:gone", "transactional": true}),
    );
    assert_eq!(bounced["status"], "bounced", "{bounced}");
    let listed = s.admin_json("/api/v1/address-suppressions?channel=email");
    assert_eq!(
        (
            &listed["suppressions"][0]["address"],
            &listed["suppressions"][0]["reason"],
            &listed["suppressions"][0]["message_id"]
        ),
        (
            &json!("bounce-gone@example.com"),
            &json!("hard_bounce"),
            &bounced["id"]
        ),
        "{listed}"
    );
    let bounce_events = timeline("user_id:gone", "Message Bounced");
    assert_eq!(bounce_events.len(), 1, "{bounce_events:?}");
    assert_eq!(bounce_events[0]["properties"]["bounce_type"], "hard");
    let again = send(
        &s,
        json!({"template": "receipt", "profile": "user_id:gone", "transactional": true, "idempotency_key": "again"}),
    );
    assert_eq!(
        (&again["status"], &again["reason"]),
        (&json!("skipped"), &json!("suppressed"))
    );
}

#[test]
fn a_gdpr_deletion_suppresses_the_persons_addresses_and_no_one_elses() {
    let s = Server::start();
    let batch = json!({"batch": [
        {"type": "identify", "userId": "gone", "traits": {"email": "Gone@Example.com", "phone": "+33 6 12 34 56 78"}, "messageId": "g-1"},
        {"type": "identify", "userId": "stays", "traits": {"email": "stays@example.com"}, "messageId": "g-2"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    let r = s.admin_delete("/api/v1/profiles/user_id:gone");
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let listed = s.admin_json("/api/v1/address-suppressions");
    let mut rows: Vec<(String, String, String)> = listed["suppressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["channel"].as_str().unwrap().to_owned(),
                r["address"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("email".into(), "gone@example.com".into(), "gdpr".into()),
            ("sms".into(), "+33612345678".into(), "gdpr".into()),
        ],
        "{listed}"
    );
    // Deleting someone who is not there suppresses nothing more.
    assert_eq!(
        s.admin_delete("/api/v1/profiles/user_id:gone").status(),
        404
    );
    assert_eq!(
        s.admin_json("/api/v1/address-suppressions")["suppressions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// The link of an `<a>` in the HTML part of a mail.
fn link_in(mail: &str) -> String {
    let parsed = mailparse::parse_mail(mail.as_bytes()).unwrap();
    let html = parsed
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/html")
        .unwrap_or_else(|| panic!("no HTML part: {mail}"))
        .get_body()
        .unwrap();
    let at = html
        .find("href=\"")
        .unwrap_or_else(|| panic!("no link: {html}"))
        + 6;
    html[at..at + html[at..].find('"').unwrap()].replace("&amp;", "&")
}

#[test]
fn a_double_opt_in_is_confirmed_by_the_link_in_its_confirmation_message() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("channels.toml");
    std::fs::write(
        &file,
        format!(
            "[email]\nprovider = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"Herald Test <news@herald.test>\"\n\n\
             [[topics]]\nkey = \"digest\"\nchannel = \"email\"\ndefault = \"opt_in\"\ndescription = \"The daily digest\"\ndouble_opt_in = true\nconfirmation_template = \"confirm-digest\"\n",
            sink.port
        ),
    )
    .unwrap();
    let s = Server::start_with_env(&[], &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))]);
    let batch = json!({"batch": [
        {"type": "identify", "userId": "ana", "traits": {"email": "ana@example.com"}, "messageId": "i-1"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    for template in [
        json!({"id": "confirm-digest", "channel": "email", "content": {"subject": "Confirm the digest", "body": "<p><a href=\"{{ message.confirm_url }}\">Yes, send it</a></p>"}}),
        json!({"id": "digest", "channel": "email", "content": {"subject": "Today", "body": "<p>News</p>"}}),
    ] {
        assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);
    }
    let patch = |body: Value| {
        let r = s
            .http
            .patch(format!(
                "{}/api/v1/profiles/user_id:ana/subscriptions",
                s.url
            ))
            .bearer_auth(ADMIN_KEY)
            .json(&body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let digest = |key: &str| {
        send(
            &s,
            json!({"template": "digest", "profile": "user_id:ana", "topic": "digest", "idempotency_key": key}),
        )
    };

    // Subscribing leaves the topic pending and sends the confirmation message.
    let (status, body) = patch(json!({"channel": "email", "subscribe": ["digest"]}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        topic_status(&s, "user_id:ana", "digest").0,
        "pending_confirmation"
    );
    let mails = eventually(30, "the confirmation mail", || {
        let m = sink.received();
        (!m.is_empty()).then_some(m)
    });
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("Subject: Confirm the digest"),
        "{}",
        mails[0]
    );
    let confirm = link_in(&mails[0]);
    // Herald's own link, not wrapped in a click-tracking redirect.
    assert!(
        confirm.starts_with(&format!("{}/confirm/", s.url)),
        "{confirm}"
    );
    let pending = digest("d-1");
    assert_eq!(
        (&pending["status"], &pending["reason"]),
        (&json!("skipped"), &json!("pending_confirmation"))
    );

    // Following the link asks (a link scanner confirms nothing); the button confirms.
    let asked = html(&s, "GET", &confirm, None);
    assert_eq!(asked.status(), 200);
    assert!(asked.text().unwrap().contains("The daily digest"));
    assert_eq!(
        topic_status(&s, "user_id:ana", "digest").0,
        "pending_confirmation"
    );
    let confirmed = html(&s, "POST", &confirm, Some(""));
    assert_eq!(confirmed.status(), 200);
    assert!(confirmed.text().unwrap().contains("You are subscribed"));
    assert_eq!(topic_status(&s, "user_id:ana", "digest").0, "subscribed");
    assert_eq!(html(&s, "POST", &confirm, Some("")).status(), 200);
    let sent = digest("d-2");
    assert_eq!(sent["status"], "sent", "{sent}");
    let moves: Vec<(Value, Value)> = changes(&s, "user_id:ana")
        .into_iter()
        .map(|e| (e["status"].clone(), e["source"].clone()))
        .collect();
    assert_eq!(
        moves,
        [
            (json!("pending_confirmation"), json!("api")),
            (json!("subscribed"), json!("confirmation"))
        ]
    );

    // A changed link is refused; a confirmation after unsubscribing confirms nothing.
    let tampered = format!("{}x", confirm);
    assert_eq!(html(&s, "POST", &tampered, Some("")).status(), 400);
    let (status, _) = patch(json!({"channel": "email", "unsubscribe": ["digest"]}));
    assert_eq!(status, 200);
    let late = s.http.post(&confirm).send().unwrap();
    assert_eq!(late.status(), 409);
    assert_eq!(late.json::<Value>().unwrap()["code"], "nothing_to_confirm");
    assert_eq!(topic_status(&s, "user_id:ana", "digest").0, "unsubscribed");
}
