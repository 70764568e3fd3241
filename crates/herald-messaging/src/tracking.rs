//! Open and click tracking of an email's HTML: every tracked link's `href` becomes the URL the
//! caller makes for it (a signed redirect through Herald), and an open-tracking pixel is put
//! at the end of the body. The rest of the document stays byte for byte as the template made
//! it: lol_html rewrites the attributes it is asked to, in a single streaming pass, and keeps
//! everything else (a parse-and-serialise would reformat the markup email clients are picky
//! about).
//!
//! A link is tracked when its `href` is an `http` or `https` URL and the `<a>` has no
//! `data-herald-track="false"` (that attribute is removed either way; it is an instruction to
//! Herald, not to the reader's client); `mailto:`, `tel:`, anchors and relative links are left
//! alone, and so is any URL the caller declines (Herald's own unsubscribe and preference
//! links). `href` values are read with their character references decoded (`&amp;` is `&`),
//! so the redirect goes to the URL a client would have opened.

use std::cell::Cell;
use std::rc::Rc;

use lol_html::html_content::ContentType;
use lol_html::{element, end, rewrite_str, RewriteStrSettings};

use crate::html::decode;

/// What is tracked in emails (`[tracking]` in the channels file). Both on by default, as in
/// Braze and Customer.io; an open is a hint, not proof (Apple Mail and image proxies load
/// pixels for the reader), a click is a person's act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrackingPolicy {
    /// A pixel at the end of every HTML email: `Message Opened`.
    pub opens: bool,
    /// Every web link of every HTML email through a signed redirect: `Message Clicked`.
    pub clicks: bool,
}

impl Default for TrackingPolicy {
    fn default() -> Self {
        TrackingPolicy {
            opens: true,
            clicks: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the HTML could not be rewritten for tracking: {0}")]
pub struct TrackingError(String);

/// `html` with each tracked link's target replaced by `click(target)` (unless it declines with
/// `None`) and, when given, the pixel at `pixel_url` at the end of the `<body>` (or of the
/// document, without a body).
pub fn track_html(
    html: &str,
    click: impl Fn(&str) -> Option<String>,
    pixel_url: Option<&str>,
) -> Result<String, TrackingError> {
    let placed = Rc::new(Cell::new(false));
    let pixel = pixel_url.map(|url| {
        format!(
            r#"<img src="{}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px" />"#,
            escape_attribute(url)
        )
    });
    let mut elements = vec![element!("a[href]", |el| {
        let opted_out = el
            .get_attribute("data-herald-track")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
        el.remove_attribute("data-herald-track");
        if opted_out {
            return Ok(());
        }
        let href = decode(el.get_attribute("href").unwrap_or_default().trim());
        if !is_web_url(&href) {
            return Ok(());
        }
        if let Some(tracked) = click(&href) {
            el.set_attribute("href", &escape_attribute(&tracked))?;
        }
        Ok(())
    })];
    let mut documents = vec![];
    if let Some(pixel) = &pixel {
        let (at_body, at_end) = (placed.clone(), placed.clone());
        elements.push(element!("body", move |el| {
            let placed = at_body.clone();
            let pixel = pixel.clone();
            let handler: lol_html::EndTagHandler<'static> = Box::new(move |end| {
                end.before(&pixel, ContentType::Html);
                placed.set(true);
                Ok(())
            });
            if let Some(handlers) = el.end_tag_handlers() {
                handlers.push(handler);
            }
            Ok(())
        }));
        documents.push(end!(move |end| {
            if !at_end.get() {
                end.append(pixel, ContentType::Html);
            }
            Ok(())
        }));
    }
    rewrite_str(
        html,
        RewriteStrSettings {
            element_content_handlers: elements,
            document_content_handlers: documents,
            ..RewriteStrSettings::new()
        },
    )
    .map_err(|e| TrackingError(e.to_string()))
}

/// Whether `url` is an absolute `http` or `https` URL (the only links worth a redirect).
pub fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// `text` with `&` and `"` escaped, for a double-quoted attribute value.
fn escape_attribute(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;")
}

/// Signs in a `User-Agent` of software that fetches links and images of mail on its own: the
/// link scanners of mail gateways (Barracuda, Mimecast, Proofpoint, Microsoft's Safe Links
/// preview, Bing's preview), and HTTP libraries no person reads mail with. Matched
/// case-insensitively as substrings.
const MACHINE_AGENTS: [&str; 14] = [
    "barracuda",
    "mimecast",
    "proofpoint",
    "bingpreview",
    "safelinks",
    "symantec",
    "trendmicro",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "curl/",
    "wget/",
    "java/",
    "libwww-perl",
];

/// Whether a tracked pixel or link was fetched by a machine rather than a reader: a `HEAD`
/// request (scanners check a link without following it), no `User-Agent` at all, or one of
/// the known scanners and HTTP libraries. Such a fetch is answered as usual but not recorded
/// as an open or a click (docs/tracking.md).
pub fn is_machine_fetch(head: bool, user_agent: Option<&str>) -> bool {
    if head {
        return true;
    }
    let Some(agent) = user_agent.map(str::trim).filter(|a| !a.is_empty()) else {
        return true;
    };
    let agent = agent.to_ascii_lowercase();
    MACHINE_AGENTS.iter().any(|m| agent.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_are_told_from_readers() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
        let gmail = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
        for reader in [
            chrome,
            gmail,
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)",
        ] {
            assert!(!is_machine_fetch(false, Some(reader)), "{reader}");
            assert!(is_machine_fetch(true, Some(reader)), "HEAD {reader}");
        }
        for machine in [
            "Mozilla/5.0 (compatible; BarracudaCentral)",
            "Mimecast-Safe-Links/1.0",
            "python-requests/2.32.3",
            "curl/8.5.0",
            "Mozilla/5.0 (Windows NT 10.0) BingPreview/1.0b",
            "Go-http-client/2.0",
        ] {
            assert!(is_machine_fetch(false, Some(machine)), "{machine}");
        }
        assert!(is_machine_fetch(false, None));
        assert!(is_machine_fetch(false, Some("  ")));
    }

    fn wrap(url: &str) -> Option<String> {
        (!url.contains("herald.test")).then(|| format!("https://herald.test/t/c?u={}", url.len()))
    }

    #[test]
    fn tracks_web_links_only_and_keeps_the_rest_as_written() {
        let html = concat!(
            "<!doctype html><html><head><title>x</title></head><body>\n",
            "<p class=\"a\">Hi <b>Ana</b></p>\n",
            "<a href=\"https://shop.example.com/sale?a=1&amp;b=2\" style=\"color:red\">Sale</a>\n",
            "<a href=\"mailto:help@example.com\">Mail</a> <a href=\"#top\">Top</a>\n",
            "<a href=\"https://herald.test/unsubscribe/tok\">Unsubscribe</a>\n",
            "<a data-herald-track=\"false\" href=\"https://private.example.com/\">Private</a>\n",
            "<A HREF=\"HTTP://UPPER.EXAMPLE.COM/\">Upper</A>\n",
            "</body></html>"
        );
        let seen = std::cell::RefCell::new(Vec::new());
        let out = track_html(
            html,
            |u| {
                seen.borrow_mut().push(u.to_owned());
                wrap(u)
            },
            Some("https://herald.test/t/o/1/sig"),
        )
        .unwrap();
        // The decoded targets were offered; Herald's own and the opted-out one were not tracked.
        assert_eq!(
            *seen.borrow(),
            [
                "https://shop.example.com/sale?a=1&b=2",
                "https://herald.test/unsubscribe/tok",
                "HTTP://UPPER.EXAMPLE.COM/"
            ]
        );
        assert!(
            out.contains(r#"<a href="https://herald.test/t/c?u=37" style="color:red">Sale</a>"#),
            "{out}"
        );
        assert!(
            out.contains(r##"<a href="mailto:help@example.com">Mail</a> <a href="#top">Top</a>"##),
            "{out}"
        );
        assert!(
            out.contains(r#"<a href="https://herald.test/unsubscribe/tok">"#),
            "{out}"
        );
        assert!(
            out.contains(r#"<a href="https://private.example.com/">Private</a>"#),
            "{out}"
        );
        assert!(out.contains("<p class=\"a\">Hi <b>Ana</b></p>"), "{out}");
        // The pixel is the body's last child.
        assert!(
            out.ends_with(r#"<img src="https://herald.test/t/o/1/sig" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px" /></body></html>"#),
            "{out}"
        );
    }

    #[test]
    fn without_a_body_the_pixel_ends_the_document_and_without_a_pixel_nothing_is_added() {
        let out = track_html("<p>Hi</p>", |_| None, Some("https://h.test/o?a=1&b=2")).unwrap();
        assert_eq!(
            out,
            r#"<p>Hi</p><img src="https://h.test/o?a=1&amp;b=2" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px" />"#
        );
        let html = "<body><a href=\"https://x.example.com\">x</a></body>";
        assert_eq!(track_html(html, |_| None, None).unwrap(), html);
    }

    #[test]
    fn web_urls_are_http_and_https_only() {
        assert!(is_web_url("https://a") && is_web_url("HTTP://a"));
        assert!(!is_web_url("mailto:a") && !is_web_url("/relative") && !is_web_url("http"));
    }
}
