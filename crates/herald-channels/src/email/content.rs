//! What every email provider makes of a message's parts: the HTML with its preheader, the
//! plain-text alternative, the RFC 8058 unsubscribe headers. Pure.

use crate::port::{Outbound, SendError};

/// The bodies of an email: at least one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bodies {
    pub html: Option<String>,
    pub text: Option<String>,
}

/// The subject and the bodies of `message`: the `body` part is HTML, with the `preheader`
/// (if any) as a hidden element at its top; the `text` part is the plain-text alternative,
/// made from the HTML (without the preheader) when absent. A message with neither `body`
/// nor `text` is refused (`missing_part`).
pub fn bodies(message: &Outbound) -> Result<Bodies, SendError> {
    let html = message.part("body");
    let text = match (message.part("text"), html) {
        (Some(text), _) => Some(text.to_owned()),
        (None, Some(html)) => Some(plain_text(html)),
        (None, None) => return Err(message.require("body").unwrap_err()),
    };
    let html = html.map(|html| match message.part("preheader") {
        Some(preheader) => with_preheader(html, preheader),
        None => html.to_owned(),
    });
    Ok(Bodies { html, text })
}

pub use super::text::{plain_text, TEXT_WIDTH};

/// The preheader as the first element of the body: hidden in the message (every common
/// client honours one of these styles), shown by inboxes as the preview text after the
/// subject. Right after `<body …>` when there is one, else at the start.
pub fn with_preheader(html: &str, preheader: &str) -> String {
    let hidden = format!(
        "<div style=\"display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;\
         opacity:0;overflow:hidden;mso-hide:all\" aria-hidden=\"true\">{}</div>",
        herald_messaging::html::escape(preheader)
    );
    let at = body_content_start(html).unwrap_or(0);
    let mut out = String::with_capacity(html.len() + hidden.len());
    out.push_str(&html[..at]);
    out.push_str(&hidden);
    out.push_str(&html[at..]);
    out
}

/// The byte offset just after the opening `<body …>` tag, if there is one.
fn body_content_start(html: &str) -> Option<usize> {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("<body") {
        let start = from + found;
        let after = lower.as_bytes().get(start + 5).copied();
        // `<body>` or `<body attr…>`, not `<bodyx>`.
        if matches!(after, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/')) {
            return lower[start..].find('>').map(|end| start + end + 1);
        }
        from = start + 5;
    }
    None
}

/// The RFC 8058 headers of a marketing email, as (name, value) pairs: `List-Unsubscribe`
/// with the one-click URL (and a `mailto:` when configured, its subject naming the message)
/// and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. None for other mail. A
/// marketing message without an `http(s)` unsubscribe URL is refused
/// (`unsubscribe_url_missing`): sending it would break the promise of RFC 8058 and of the
/// mailbox providers' bulk-sender rules.
pub fn unsubscribe_headers(
    message: &Outbound,
    mailto: Option<&str>,
) -> Result<Vec<(&'static str, String)>, SendError> {
    if !message.marketing {
        return Ok(Vec::new());
    }
    let url = message
        .unsubscribe_url
        .as_deref()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .filter(|u| !u.contains(['<', '>', ',', ' ', '\r', '\n']))
        .ok_or_else(|| {
            SendError::permanent(
                "unsubscribe_url_missing",
                "a marketing email needs an http(s) one-click unsubscribe URL",
            )
        })?;
    let mut value = format!("<{url}>");
    if let Some(address) = mailto {
        value.push_str(&format!(
            ", <mailto:{address}?subject=unsubscribe%20{}>",
            message.message_id
        ));
    }
    Ok(vec![
        ("List-Unsubscribe", value),
        (
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".to_owned(),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_messaging::message::MessageId;
    use herald_messaging::Channel;

    fn message(parts: &[(&str, &str)]) -> Outbound {
        Outbound {
            message_id: MessageId(uuid::Uuid::from_u128(7)),
            channel: Channel::Email,
            to: "ana@example.com".into(),
            parts: parts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            marketing: false,
            unsubscribe_url: None,
            metadata: serde_json::Value::Null,
        }
    }

    #[test]
    fn the_text_part_is_made_from_the_html() {
        let html = "<html><body><h1>Hello Ana</h1><p>Your <b>order</b> has shipped.</p>\
                    <ul><li>one</li><li>two</li></ul><p><a href=\"https://ex.com/t\">Track</a></p></body></html>";
        let text = plain_text(html);
        for expected in [
            "Hello Ana",
            "Your order has shipped.",
            "one",
            "two",
            "Track",
            "https://ex.com/t",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from {text:?}"
            );
        }
        assert!(!text.contains('<'), "{text:?}");
        assert!(
            text.lines().all(|l| l.chars().count() <= TEXT_WIDTH),
            "{text:?}"
        );
    }

    #[test]
    fn bodies_from_parts() {
        let b = bodies(&message(&[("body", "<p>Hi</p>"), ("text", "Hi there")])).unwrap();
        assert_eq!(b.text.as_deref(), Some("Hi there"));
        assert_eq!(b.html.as_deref(), Some("<p>Hi</p>"));
        let b = bodies(&message(&[("body", "<p>Hi <i>you</i></p>")])).unwrap();
        assert!(b.text.unwrap().contains("Hi you"));
        let b = bodies(&message(&[("text", "only text")])).unwrap();
        assert_eq!((b.html, b.text.as_deref()), (None, Some("only text")));
        let err = bodies(&message(&[("subject", "s"), ("body", "")])).unwrap_err();
        assert_eq!(err.code(), "missing_part");
    }

    #[test]
    fn the_preheader_is_hidden_at_the_top_and_not_in_the_text() {
        let b = bodies(&message(&[
            ("body", "<html><BODY class=\"x\"><p>Main</p></BODY></html>"),
            ("preheader", "Sale <ends> & soon"),
        ]))
        .unwrap();
        let html = b.html.unwrap();
        let at = html.find("<BODY class=\"x\">").unwrap() + "<BODY class=\"x\">".len();
        assert!(
            html[at..].starts_with("<div style=\"display:none;"),
            "{html}"
        );
        assert!(
            html.contains("Sale &lt;ends&gt; &amp; soon</div><p>Main</p>"),
            "{html}"
        );
        assert!(!b.text.unwrap().contains("Sale"));
        // No <body>: at the start; `<bodyguard>` is not a body.
        assert!(with_preheader("<p>x</p>", "pre").starts_with("<div"));
        let h = with_preheader("<bodyguard>x</bodyguard>", "pre");
        assert!(h.starts_with("<div"), "{h}");
    }

    #[test]
    fn rfc_8058_headers_only_on_marketing_mail() {
        let mut m = message(&[("body", "<p>x</p>")]);
        assert_eq!(unsubscribe_headers(&m, Some("u@ex.com")).unwrap(), vec![]);
        m.marketing = true;
        assert_eq!(
            unsubscribe_headers(&m, None).unwrap_err().code(),
            "unsubscribe_url_missing"
        );
        m.unsubscribe_url = Some("javascript:alert(1)".into());
        assert!(unsubscribe_headers(&m, None).is_err());
        m.unsubscribe_url = Some("https://h.ex/u/a>b".into());
        assert!(unsubscribe_headers(&m, None).is_err());
        m.unsubscribe_url = Some("https://h.ex/u/tok".into());
        assert_eq!(
            unsubscribe_headers(&m, None).unwrap(),
            vec![
                ("List-Unsubscribe", "<https://h.ex/u/tok>".to_owned()),
                (
                    "List-Unsubscribe-Post",
                    "List-Unsubscribe=One-Click".to_owned()
                ),
            ]
        );
        let with_mailto = unsubscribe_headers(&m, Some("unsub@h.ex")).unwrap();
        assert_eq!(
            with_mailto[0].1,
            format!(
                "<https://h.ex/u/tok>, <mailto:unsub@h.ex?subject=unsubscribe%20{}>",
                m.message_id
            )
        );
    }
}
