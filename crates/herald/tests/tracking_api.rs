//! Open and click tracking, black-box (docs/tracking.md): a marketing email received by a real
//! SMTP server (aiosmtpd) and parsed with a MIME parser (mailparse) has its web links through
//! Herald's signed redirects and an open pixel; a link scanner's and an HTTP library's fetches
//! are answered but not recorded; loading the pixel and following a link, as a
//! mail client would, records `Message Opened` and `Message Clicked` (once each; once per
//! link) and moves the message to `clicked`; the redirect goes exactly to the link's target,
//! and a changed link redirects nowhere. With tracking off, the HTML is sent as rendered.

mod common;

use std::path::{Path, PathBuf};

use common::smtp::SmtpSink;
use common::*;
use serde_json::{json, Value};

fn start(sink: &SmtpSink, dir: &Path, tracking: &str) -> Server {
    let file: PathBuf = dir.join("channels.toml");
    std::fs::write(
        &file,
        format!(
            "[email]\nprovider = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"Shop <news@shop.test>\"\n\n{tracking}",
            sink.port
        ),
    )
    .unwrap();
    let s = Server::start_with_env(&[], &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))]);
    let batch = json!({"batch": [
        {"type": "identify", "userId": "ana", "traits": {"email": "ana@example.com", "first_name": "Ana"}, "messageId": "i-1"},
    ]});
    assert_eq!(s.post("/v1/batch", &batch).status(), 200);
    s.wait_processed();
    let template = json!({"id": "promo", "channel": "email", "content": {
        "subject": "The sale",
        "body": concat!(
            "<html><body><p>Hi {{ traits.first_name }}</p>\n",
            "<a href=\"https://shop.example.com/sale?a=1&amp;b=2\">Sale</a>\n",
            "<a href=\"mailto:help@shop.example.com\">Help</a>\n",
            "<a data-herald-track=\"false\" href=\"https://private.example.com/x\">Private</a>\n",
            "<a href=\"{{ message.unsubscribe_url }}\">Unsubscribe</a>\n",
            "</body></html>"
        )
    }});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);
    s
}

/// Send the template to Ana; the message once sent, and the HTML part of the email received.
fn send_and_receive(s: &Server, sink: &SmtpSink) -> (String, String) {
    let r = s.admin_post(
        "/api/v1/messages",
        &json!({"template": "promo", "profile": "user_id:ana"}),
    );
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = eventually(30, "the email to be sent", || {
        let m = s.admin_json(&format!("/api/v1/messages/{id}"));
        (m["status"] != "queued" && m["status"] != "sending").then_some(m)
    });
    assert_eq!(m["status"], "sent", "{m}");
    let raw = eventually(20, "the email at the SMTP server", || sink.received().pop());
    let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
    let html = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/html")
        .unwrap_or_else(|| panic!("no HTML part: {raw}"))
        .get_body()
        .unwrap();
    (id, html)
}

/// The values of every `attribute="…"` in `html`, in order.
fn attributes(html: &str, attribute: &str) -> Vec<String> {
    let needle = format!("{attribute}=\"");
    html.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        })
        .collect()
}

fn events(s: &Server, name: &str) -> Vec<Value> {
    s.timeline("user_id:ana", "")
        .into_iter()
        .filter(|e| e["event"] == name)
        .collect()
}

#[test]
fn opens_and_clicks_are_recorded_and_redirects_go_only_where_herald_signed() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let s = start(&sink, tmp.path(), "");
    let (id, html) = send_and_receive(&s, &sink);

    let hrefs = attributes(&html, "href");
    assert_eq!(hrefs.len(), 4, "{html}");
    let tracked = &hrefs[0];
    assert!(
        tracked.starts_with(&format!("{}/t/c/{id}/", s.url)),
        "{tracked}"
    );
    assert_eq!(hrefs[1], "mailto:help@shop.example.com");
    assert_eq!(hrefs[2], "https://private.example.com/x");
    assert!(!html.contains("data-herald-track"), "{html}");
    assert!(
        hrefs[3].starts_with(&format!("{}/unsubscribe/", s.url)),
        "{}",
        hrefs[3]
    );
    let pixel = attributes(&html, "src");
    assert_eq!(pixel.len(), 1, "{html}");
    assert!(
        pixel[0].starts_with(&format!("{}/t/o/{id}/", s.url)),
        "{html}"
    );
    assert!(html.contains("<p>Hi Ana</p>"), "{html}");

    // A mail gateway's link scanner checks the link (HEAD), fetches it and the pixel with its
    // own user agent, and an HTTP library fetches them with none: each is answered as a reader
    // would be, and none is recorded.
    let machine = |agent: Option<&str>| {
        let mut b =
            reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none());
        if let Some(agent) = agent {
            b = b.user_agent(agent);
        }
        b.build().unwrap()
    };
    let scanner = machine(Some("Mimecast-Safe-Links/1.0"));
    let library = machine(None);
    for http in [&scanner, &library] {
        assert_eq!(http.head(tracked).send().unwrap().status(), 302);
        assert_eq!(http.get(tracked).send().unwrap().status(), 302);
        assert_eq!(http.get(&pixel[0]).send().unwrap().status(), 200);
    }
    let m = s.admin_json(&format!("/api/v1/messages/{id}"));
    assert_eq!(
        m["status"], "sent",
        "machines opened or clicked nothing: {m}"
    );
    assert!(
        s.metric("herald_tracking_machine_fetches_total{kind=\"click\"}")
            .is_some_and(|n| n >= 4.0),
        "machine fetches are counted"
    );

    // A mail client loads the pixel (twice: one open is recorded).
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15")
        .build()
        .unwrap();
    for _ in 0..2 {
        let r = http.get(&pixel[0]).send().unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/gif");
        assert!(r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store"));
        let gif = r.bytes().unwrap();
        assert!(gif.starts_with(b"GIF89a") && gif.len() == 43, "{gif:?}");
    }
    let m = s.admin_json(&format!("/api/v1/messages/{id}"));
    assert_eq!(m["status"], "opened", "{m}");

    // The reader follows the link (twice): the redirect goes to the target exactly.
    for _ in 0..2 {
        let r = http.get(tracked).send().unwrap();
        assert_eq!(r.status(), 302);
        assert_eq!(
            r.headers()["location"],
            "https://shop.example.com/sale?a=1&b=2"
        );
    }
    let m = s.admin_json(&format!("/api/v1/messages/{id}"));
    assert_eq!(m["status"], "clicked", "{m}");
    eventually(20, "the click on the timeline", || {
        (!events(&s, "Message Clicked").is_empty()).then_some(())
    });
    s.wait_processed();
    let opened = events(&s, "Message Opened");
    let clicked = events(&s, "Message Clicked");
    assert_eq!(
        (opened.len(), clicked.len()),
        (1, 1),
        "{opened:?} {clicked:?}"
    );
    assert_eq!(clicked[0]["properties"]["message_id"], json!(id));
    assert_eq!(
        clicked[0]["properties"]["link_url"],
        "https://shop.example.com/sale?a=1&b=2"
    );
    assert_eq!(opened[0]["properties"]["channel"], "email");

    // The message log shows it under its status, and its page lists its delivery events.
    let log = s.admin_json("/api/v1/messages?status=clicked&channel=email");
    let listed: Vec<&str> = log["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [id.as_str()], "{log}");
    let none = s.admin_json("/api/v1/messages?status=clicked&channel=sms");
    assert_eq!(none["messages"], json!([]));
    let reported = s.admin_json(&format!("/api/v1/messages/{id}/events"));
    let names: Vec<&str> = reported["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Message Sent", "Message Opened", "Message Clicked"],
        "{reported}"
    );
    for (query, code) in [("limit=0", "invalid_limit"), ("before=x", "invalid_cursor")] {
        let r = s.admin_get(&format!("/api/v1/messages?{query}"));
        assert_eq!(r.status(), 400, "{query}");
        assert_eq!(r.json::<Value>().unwrap()["code"], code);
    }
    let r = s.admin_get("/api/v1/messages/no-such-message/events");
    assert_eq!(r.status(), 404);

    // A changed link redirects nowhere and records nothing.
    let (path, _) = tracked.split_once('?').unwrap();
    let signature = path.rsplit('/').next().unwrap();
    let other = "00000000-0000-0000-0000-000000000001";
    for bad in [
        format!("{path}?u=https%3A%2F%2Fevil.example.com%2F"),
        format!("{path}?u=javascript%3Aalert(1)"),
        format!("{}/t/c/{id}/AAAAAAAAAAAAAAAAAAAAAA?u=https%3A%2F%2Fshop.example.com%2Fsale%3Fa%3D1%26b%3D2", s.url),
        format!("{}/t/c/{other}/{signature}?u=https%3A%2F%2Fshop.example.com%2Fsale%3Fa%3D1%26b%3D2", s.url),
        format!("{}/t/c/not-a-message/{signature}?u=https%3A%2F%2Fshop.example.com%2F", s.url),
        format!("{}/t/o/{other}/{signature}", s.url),
    ] {
        let r = http.get(&bad).send().unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.headers().get("location").is_none(), "{bad}");
        assert_eq!(r.json::<Value>().unwrap()["code"], "link_invalid", "{bad}");
    }
    let r = http.get(path).send().unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["code"], "invalid_query");
    s.wait_processed();
    assert_eq!(events(&s, "Message Clicked").len(), 1);
}

#[test]
fn with_tracking_off_the_html_is_sent_as_rendered() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let s = start(
        &sink,
        tmp.path(),
        "[tracking]\nopens = false\nclicks = false\n",
    );
    let (_, html) = send_and_receive(&s, &sink);
    let hrefs = attributes(&html, "href");
    assert_eq!(
        hrefs[..3],
        [
            "https://shop.example.com/sale?a=1&b=2",
            "mailto:help@shop.example.com",
            "https://private.example.com/x"
        ]
    );
    assert!(attributes(&html, "src").is_empty(), "{html}");
    assert!(!html.contains("/t/"), "{html}");
}
