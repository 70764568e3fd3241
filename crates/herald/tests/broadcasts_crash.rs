//! kill -9 during a broadcast of 10,000 messages (docs/broadcasts.md, "Crashes and clusters"):
//! after the restart every member of the audience gets exactly one email at a real SMTP server
//! (aiosmtpd), except at most the messages that were in flight to it when the process died —
//! the send pipeline hands over at most `SEND_CONCURRENCY` (16) at a time. The number of
//! duplicates is printed.
//!
//! The server runs with `--test-clock`: a message in flight at the crash is `sending` under a
//! lease of two minutes (longer than any provider's timeout); the test moves the clock past it
//! instead of waiting.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::smtp::SmtpSink;
use common::*;
use serde_json::json;

const MEMBERS: usize = 10_000;

fn recipients(sink: &SmtpSink) -> BTreeMap<String, usize> {
    let mut to: BTreeMap<String, usize> = BTreeMap::new();
    for mail in sink.received() {
        let head = mail.split("\n\n").next().unwrap().replace('\r', "");
        let address = head
            .lines()
            .find_map(|l| l.strip_prefix("To: "))
            .unwrap()
            .to_owned();
        *to.entry(address).or_default() += 1;
    }
    to
}

#[test]
fn a_broadcast_survives_kill_9_with_at_most_the_in_flight_messages_sent_twice() {
    let sink = SmtpSink::start();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("channels.toml");
    std::fs::write(
        &file,
        format!(
            "[email]\nprovider = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\npool_size = 16\nfrom = \"Herald Test <news@herald.test>\"\n",
            sink.port
        ),
    )
    .unwrap();
    let mut s = Server::start_with_env(
        &["--test-clock"],
        &[("HERALD_CHANNELS", Some(file.to_str().unwrap()))],
    );
    for chunk in (0..MEMBERS).collect::<Vec<_>>().chunks(2_500) {
        let batch: Vec<_> = chunk
            .iter()
            .map(|i| {
                json!({"type": "identify", "userId": format!("u{i}"), "messageId": format!("i-{i}"),
                "traits": {"email": format!("u{i}@example.com"), "n": i}})
            })
            .collect();
        assert_eq!(s.post("/v1/batch", &json!({"batch": batch})).status(), 200);
    }
    s.wait_processed();
    let r = s.admin_post(
        "/api/v1/audiences",
        &json!({"id": "everyone", "rule": "trait n >= 0"}),
    );
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    eventually(120, "the audience's members", || {
        let a = s.admin_json("/api/v1/audiences/everyone");
        (a["size"] == MEMBERS).then_some(())
    });
    let template = json!({"id": "news", "channel": "email", "content": {"subject": "News {{ traits.n }}", "body": "<p>News</p>"}});
    assert_eq!(s.admin_post("/api/v1/templates", &template).status(), 201);
    let r = s.admin_post(
        "/api/v1/broadcasts",
        &json!({"name": "Big", "template": "news", "audience": "everyone", "transactional": true}),
    );
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Crash in the middle of sending.
    eventually(300, "a quarter of the emails", || {
        (sink.received().len() >= MEMBERS / 4).then_some(())
    });
    s.crash_and_restart();
    let before = sink.received().len();
    assert!(before < MEMBERS, "the crash came too late to test anything");
    s.advance_clock(Duration::from_secs(300));

    let done = eventually(600, "the broadcast to finish sending", || {
        let b = s.admin_json(&format!("/api/v1/broadcasts/{id}"));
        let statuses = &b["progress"]["statuses"];
        let waiting = ["queued", "deferred", "sending"]
            .iter()
            .any(|k| statuses[*k].as_u64().unwrap_or(0) > 0);
        (b["status"] == "finished" && !waiting).then_some(b)
    });
    assert_eq!(
        done["progress"]["statuses"],
        json!({"sent": MEMBERS}),
        "{done}"
    );
    let to = eventually(60, "every email", || {
        let to = recipients(&sink);
        (to.len() == MEMBERS).then_some(to)
    });
    let duplicates: usize = to.values().map(|n| n - 1).sum();
    eprintln!(
        "kill -9 after {before} of {MEMBERS} emails: every member got one; {duplicates} duplicate(s)"
    );
    assert!(to.values().all(|n| *n >= 1));
    assert!(
        duplicates <= herald_pipeline::messaging::SEND_CONCURRENCY,
        "{duplicates} members got two emails: {:?}",
        to.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
}
