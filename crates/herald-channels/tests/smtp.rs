//! The SMTP provider against a local ESMTP stand-in: what goes on the wire (MIME structure,
//! headers, RFC 8058, DKIM that verifies), and what the server's replies mean.

mod support;

use std::time::{Duration, Instant};

use herald_channels::email::dkim::{DkimAlgorithm, DkimSettings, DkimSigner};
use herald_channels::email::smtp::{SmtpConfig, SmtpProvider, SmtpSecurity};
use herald_channels::{Outbound, Provider, Receipt, Secret, SendError};
use herald_messaging::Channel;
use support::mime::Part;
use support::smtp::{Options, SmtpStandIn};

const HTML: &str = "<html><head><title>t</title></head><body><h1>Hello Ana</h1>\
    <p>Your order <b>#42</b> has shipped &mdash; caf\u{e9} \u{2615}.</p>\
    <p><a href=\"https://shop.example.com/track/42\">Track it</a></p></body></html>";

fn config(stand_in: &SmtpStandIn) -> SmtpConfig {
    SmtpConfig {
        host: stand_in.addr.ip().to_string(),
        port: Some(stand_in.addr.port()),
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "Herald Shop <shop@example.com>".into(),
        reply_to: None,
        message_id_domain: None,
        hello_name: Some("herald.test".into()),
        list_unsubscribe_mailto: None,
        rate_per_second: None,
        burst: None,
        pool_size: 2,
        timeout_seconds: 5,
        dkim: None,
    }
}

fn email(step: &str) -> Outbound {
    support::outbound(
        Channel::Email,
        "ana@example.org",
        &[("subject", "Your order has shipped"), ("body", HTML)],
        step,
    )
}

async fn send(provider: &SmtpProvider, message: &Outbound) -> Result<Receipt, SendError> {
    tokio::time::timeout(Duration::from_secs(20), provider.send(message))
        .await
        .expect("the send finishes within 20 s")
}

#[tokio::test]
async fn a_transactional_email_is_multipart_alternative_with_its_message_id() {
    let stand_in = SmtpStandIn::start(Options::default()).await;
    let provider = SmtpProvider::new(&config(&stand_in)).unwrap();
    let message = email("transactional");
    let receipt = send(&provider, &message).await.unwrap();
    let expected_id = format!("<{}@example.com>", message.message_id);
    assert_eq!(receipt.provider, "smtp");
    assert_eq!(
        receipt.provider_message_id.as_deref(),
        Some(expected_id.as_str())
    );

    let received = stand_in.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].mail_from, "shop@example.com");
    assert_eq!(received[0].rcpt_to, vec!["ana@example.org"]);
    let mail = Part::parse(&received[0].data);
    assert_eq!(mail.header("Message-ID"), Some(expected_id.as_str()));
    assert_eq!(mail.header("Subject"), Some("Your order has shipped"));
    assert_eq!(
        mail.header("From"),
        Some("\"Herald Shop\" <shop@example.com>")
    );
    assert_eq!(mail.header("To"), Some("ana@example.org"));
    assert!(mail.header("Date").is_some());
    assert_eq!(mail.header("MIME-Version"), Some("1.0"));
    assert_eq!(mail.count("List-Unsubscribe"), 0);
    assert_eq!(mail.count("List-Unsubscribe-Post"), 0);
    assert_eq!(mail.count("DKIM-Signature"), 0);

    assert_eq!(mail.content_type(), "multipart/alternative");
    let parts = mail.parts();
    let types: Vec<String> = parts.iter().map(Part::content_type).collect();
    // RFC 2046: the plainest alternative first, the preferred last.
    assert_eq!(types, ["text/plain", "text/html"]);
    let text = parts[0].text();
    assert!(text.contains("Hello Ana"), "{text}");
    assert!(
        text.contains("Your order #42 has shipped \u{2014} caf\u{e9} \u{2615}."),
        "{text}"
    );
    assert!(text.contains("https://shop.example.com/track/42"), "{text}");
    assert!(!text.contains("<p>"), "{text}");
    assert_eq!(parts[1].text().trim_end(), HTML);

    // The same message again has the same Message-ID: it names the message, not the attempt.
    send(&provider, &message).await.unwrap();
    let again = Part::parse(&stand_in.messages()[1].data);
    assert_eq!(again.header("Message-ID"), Some(expected_id.as_str()));
}

#[tokio::test]
async fn a_marketing_email_has_rfc_8058_headers_and_its_preheader() {
    let stand_in = SmtpStandIn::start(Options::default()).await;
    let mut cfg = config(&stand_in);
    cfg.list_unsubscribe_mailto = Some("unsubscribe@example.com".into());
    cfg.message_id_domain = Some("mail.example.com".into());
    cfg.reply_to = Some("help@example.com".into());
    let provider = SmtpProvider::new(&cfg).unwrap();
    let mut message = email("marketing");
    message.marketing = true;
    message.unsubscribe_url = Some("https://herald.example.com/u/one-click-token".into());
    message
        .parts
        .insert("preheader".into(), "20% off until Sunday".into());
    message
        .parts
        .insert("text".into(), "The text we wrote.".into());
    send(&provider, &message).await.unwrap();

    let mail = Part::parse(&stand_in.messages()[0].data);
    assert_eq!(
        mail.header("List-Unsubscribe"),
        Some(
            format!(
                "<https://herald.example.com/u/one-click-token>, \
                 <mailto:unsubscribe@example.com?subject=unsubscribe%20{}>",
                message.message_id
            )
            .as_str()
        )
    );
    assert_eq!(
        mail.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    assert_eq!(mail.header("Reply-To"), Some("help@example.com"));
    assert_eq!(
        mail.header("Message-ID"),
        Some(format!("<{}@mail.example.com>", message.message_id).as_str())
    );
    let parts = mail.parts();
    assert_eq!(parts[0].text().trim_end(), "The text we wrote.");
    let html = parts[1].text();
    let body_at = html.find("<body>").unwrap() + "<body>".len();
    assert!(
        html[body_at..].starts_with("<div style=\"display:none;"),
        "{html}"
    );
    assert!(html.contains("aria-hidden=\"true\">20% off until Sunday</div><h1>Hello Ana</h1>"));
}

#[tokio::test]
async fn a_marketing_email_without_an_unsubscribe_url_is_not_sent() {
    let stand_in = SmtpStandIn::start(Options::default()).await;
    let provider = SmtpProvider::new(&config(&stand_in)).unwrap();
    let mut message = email("no-url");
    message.marketing = true;
    let err = send(&provider, &message).await.unwrap_err();
    assert_eq!(err.code(), "unsubscribe_url_missing");
    assert!(!err.is_transient() && !err.suppresses());
    assert!(stand_in.messages().is_empty());
    assert_eq!(*stand_in.connections.lock().unwrap(), 0);
}

fn dkim_settings(algorithm: DkimAlgorithm, key: &str) -> DkimSettings {
    DkimSettings {
        selector: "herald2026".into(),
        domain: "example.com".into(),
        algorithm,
        private_key: Secret::new(key),
        headers: None,
    }
}

async fn signed_with(algorithm: DkimAlgorithm, key: &str, public_b64: &str) {
    let stand_in = SmtpStandIn::start(Options::default()).await;
    let mut cfg = config(&stand_in);
    let settings = dkim_settings(algorithm, key);
    cfg.dkim = Some(settings.clone());
    let provider = SmtpProvider::new(&cfg).unwrap();
    let mut message = email("dkim");
    message.marketing = true;
    message.unsubscribe_url = Some("https://herald.example.com/u/tok".into());
    message.parts.insert("preheader".into(), "Preview".into());
    send(&provider, &message).await.unwrap();

    // The record Herald shows for DNS holds the key OpenSSL derives from the private key.
    let signer = DkimSigner::new(&settings).unwrap();
    assert_eq!(signer.dns_name(), "herald2026._domainkey.example.com");
    let record = signer.dns_record().to_owned();
    assert!(
        record.ends_with(&format!("p={}", public_b64.trim())),
        "{record}"
    );

    let data = &stand_in.messages()[0].data;
    let verified = support::dkim::verify(data, &record).unwrap_or_else(|e| panic!("{e}\n{data}"));
    assert_eq!(verified.domain, "example.com");
    assert_eq!(verified.selector, "herald2026");
    for header in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ] {
        assert!(
            verified.signed_headers.iter().any(|h| h == header),
            "{header}: {verified:?}"
        );
    }

    // Tampering with the body or a signed header breaks the signature.
    let body_changed = data.replacen("Hello Ana", "Hello Bob", 1);
    assert!(support::dkim::verify(&body_changed, &record).is_err());
    let header_changed = data.replacen(
        "https://herald.example.com/u/tok",
        "https://evil.example.net/u/tok",
        1,
    );
    let err = support::dkim::verify(&header_changed, &record).unwrap_err();
    assert!(err.contains("signature"), "{err}");
    // Another key does not verify it.
    let other = DkimSigner::new(&dkim_settings(
        DkimAlgorithm::Ed25519,
        "Bw8HDwcPBw8HDwcPBw8HDwcPBw8HDwcPBw8HDwcPBw8=",
    ))
    .unwrap();
    assert!(support::dkim::verify(data, other.dns_record()).is_err());
    verified_algorithm(&verified.algorithm, algorithm);
}

fn verified_algorithm(a: &str, algorithm: DkimAlgorithm) {
    let expected = match algorithm {
        DkimAlgorithm::Rsa => "rsa-sha256",
        DkimAlgorithm::Ed25519 => "ed25519-sha256",
    };
    assert_eq!(a, expected);
}

#[tokio::test]
async fn dkim_rsa_signature_verifies() {
    signed_with(
        DkimAlgorithm::Rsa,
        &support::fixture("dkim-test-rsa.pem"),
        &support::fixture("dkim-test-rsa.pub.b64"),
    )
    .await;
}

#[tokio::test]
async fn dkim_ed25519_signature_verifies() {
    signed_with(
        DkimAlgorithm::Ed25519,
        &support::fixture("dkim-test-ed25519.pem"),
        &support::fixture("dkim-test-ed25519.pub.b64"),
    )
    .await;
}

#[tokio::test]
async fn auth_plain_with_the_configured_credentials() {
    let credentials = (
        "herald".to_owned(),
        "correct horse battery staple".to_owned(),
    );
    let stand_in = SmtpStandIn::start(Options {
        credentials: Some(credentials.clone()),
        ..Options::default()
    })
    .await;
    let mut cfg = config(&stand_in);
    cfg.username = Some(credentials.0.clone());
    cfg.password = Some(Secret::new(credentials.1.clone()));
    let provider = SmtpProvider::new(&cfg).unwrap();
    assert!(!format!("{cfg:?}").contains("battery"));
    send(&provider, &email("auth")).await.unwrap();
    assert_eq!(
        stand_in.messages()[0].authenticated_as.as_deref(),
        Some("herald")
    );

    cfg.password = Some(Secret::new("wrong password, long enough"));
    let provider = SmtpProvider::new(&cfg).unwrap();
    let err = send(&provider, &email("auth-wrong")).await.unwrap_err();
    assert_eq!(
        (err.code(), err.suppresses()),
        ("smtp_rejected", false),
        "{err}"
    );
    assert!(err.to_string().contains("535"), "{err}");
    assert_eq!(stand_in.messages().len(), 1);
}

async fn rcpt_refused_with(reply: &str) -> SendError {
    let stand_in = SmtpStandIn::start(Options {
        rcpt_reply: Some(reply.to_owned()),
        ..Options::default()
    })
    .await;
    let provider = SmtpProvider::new(&config(&stand_in)).unwrap();
    let err = send(&provider, &email("refused")).await.unwrap_err();
    assert!(stand_in.messages().is_empty());
    err
}

#[tokio::test]
async fn a_mailbox_that_does_not_exist_is_a_hard_bounce() {
    let err =
        rcpt_refused_with("550 5.1.1 <ana@example.org>: Recipient address rejected: User unknown")
            .await;
    assert_eq!(
        (err.code(), err.suppresses()),
        ("hard_bounce", true),
        "{err}"
    );
    assert!(err.to_string().contains("User unknown"), "{err}");
}

#[tokio::test]
async fn a_policy_rejection_fails_without_suppressing() {
    let err = rcpt_refused_with("550 5.7.1 Rejected by policy").await;
    assert_eq!(
        (err.code(), err.suppresses()),
        ("smtp_rejected", false),
        "{err}"
    );
}

#[tokio::test]
async fn greylisting_is_transient() {
    let err = rcpt_refused_with("451 4.7.1 Greylisted, please try again later").await;
    assert!(err.is_transient(), "{err}");
    assert!(err.to_string().contains("451"), "{err}");
}

#[tokio::test]
async fn no_server_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let stand_in = SmtpStandIn {
        addr,
        received: Default::default(),
        connections: Default::default(),
    };
    let provider = SmtpProvider::new(&config(&stand_in)).unwrap();
    let err = send(&provider, &email("nobody")).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn an_address_that_does_not_parse_is_suppressed_without_connecting() {
    let stand_in = SmtpStandIn::start(Options::default()).await;
    let provider = SmtpProvider::new(&config(&stand_in)).unwrap();
    let mut message = email("bad-address");
    message.to = "not an address".into();
    let err = send(&provider, &message).await.unwrap_err();
    assert_eq!((err.code(), err.suppresses()), ("invalid_address", true));
    let mut message = email("no-subject");
    message.parts.remove("subject");
    assert_eq!(
        send(&provider, &message).await.unwrap_err().code(),
        "missing_part"
    );
    assert_eq!(*stand_in.connections.lock().unwrap(), 0);
}

#[tokio::test]
async fn the_rate_limit_spaces_sends() {
    let stand_in = SmtpStandIn::start(Options::default()).await;
    let mut cfg = config(&stand_in);
    cfg.rate_per_second = Some(20.0);
    cfg.burst = Some(1);
    let provider = SmtpProvider::new(&cfg).unwrap();
    let started = Instant::now();
    for i in 0..3 {
        send(&provider, &email(&format!("rate-{i}"))).await.unwrap();
    }
    // One at once, then one every 50 ms: at least 100 ms for three. (Only the lower bound
    // is asserted; the limiter's exact schedule is tested on its own, without a clock.)
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stand_in.messages().len(), 3);
}

#[test]
fn configuration_is_checked() {
    let stand_in_addr = "127.0.0.1:2525".parse().unwrap();
    let stand_in = SmtpStandIn {
        addr: stand_in_addr,
        received: Default::default(),
        connections: Default::default(),
    };
    let base = config(&stand_in);
    let cases: Vec<(SmtpConfig, &str)> = vec![
        (
            SmtpConfig {
                from: "not an address".into(),
                ..base.clone()
            },
            "from",
        ),
        (
            SmtpConfig {
                rate_per_second: Some(0.0),
                ..base.clone()
            },
            "rate_per_second",
        ),
        (
            SmtpConfig {
                pool_size: 0,
                ..base.clone()
            },
            "pool_size",
        ),
        (
            SmtpConfig {
                username: Some("u".into()),
                ..base.clone()
            },
            "username",
        ),
        (
            SmtpConfig {
                list_unsubscribe_mailto: Some("nope".into()),
                ..base.clone()
            },
            "list_unsubscribe_mailto",
        ),
    ];
    for (cfg, field) in cases {
        let err = SmtpProvider::new(&cfg).unwrap_err();
        assert_eq!((err.provider, err.field), ("smtp", field), "{err}");
    }
    let json = serde_json::json!({
        "host": "smtp.example.com", "from": "a@example.com",
        "username": "u", "password": "a password that is long",
        "dkim": {"selector": "s1", "domain": "example.com", "private_key": "a key that is long enough"}
    });
    let cfg: SmtpConfig = serde_json::from_value(json).unwrap();
    assert_eq!(cfg.security, SmtpSecurity::Starttls);
    assert_eq!((cfg.pool_size, cfg.timeout_seconds), (4, 30));
    let shown = serde_json::to_string(&cfg).unwrap();
    assert!(
        !shown.contains("a password") && !shown.contains("a key"),
        "{shown}"
    );
    assert!(serde_json::from_value::<SmtpConfig>(serde_json::json!({
        "host": "h", "from": "a@example.com", "pasword": "typo"
    }))
    .is_err());
}
