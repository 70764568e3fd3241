//! The plain-text alternative of an HTML email, made in one pass over the HTML (no tree is
//! built): the text between tags, a line break around each block element (paragraphs,
//! headings, list items, table cells — an email's layout tables read as a column of blocks,
//! not as a grid), `* ` before list items, a link's target after its text, an image's `alt`,
//! nothing of `head`, `style`, `script` or comments; whitespace collapsed, character
//! references decoded, lines wrapped at 78 characters.
//!
//! Written here rather than taken from a crate: `html2text`, which Herald used first, builds
//! an HTML5 tree and lays it out (tables as grids), and lol_html, used next, runs a selector
//! engine over every tag; each cost a large share of sending a rendered email (BENCHMARKS.md,
//! "Messaging"). The text of an email needs only its tags' names, two attributes (`href`,
//! `alt`) and the text between them, which a scan finds.

use herald_messaging::html::decode;

/// The width lines are wrapped at (RFC 5322 recommends lines of at most 78 characters).
pub const TEXT_WIDTH: usize = 78;

/// Elements that start and end a line.
const BLOCKS: [&str; 26] = [
    "address",
    "article",
    "aside",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "pre",
    "section",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "center",
];
/// Elements with an empty line before and after them.
const PARAGRAPHS: [&str; 11] = [
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ol",
    "p",
    "table",
    "ul",
];
/// Elements whose content is never shown (those of [`RAW_TEXT`] are skipped whole).
const HIDDEN: [&str; 3] = ["head", "template", "noscript"];

#[derive(Default)]
struct Text {
    out: String,
    /// Inside `head`, `template`, `noscript`: nothing is kept.
    hidden: usize,
    /// The target of each open link (`None`: not a web link), innermost last.
    links: Vec<(Option<String>, usize)>,
}

impl Text {
    fn space(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with([' ', '\n']) {
            self.out.push(' ');
        }
    }

    fn line(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }

    fn paragraph(&mut self) {
        self.line();
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn push_text(&mut self, raw: &str) {
        if self.hidden > 0 {
            return;
        }
        let decoded = decode(raw);
        let mut words = decoded.split_whitespace().peekable();
        if decoded.starts_with(char::is_whitespace) && words.peek().is_some() {
            self.space();
        }
        while let Some(word) = words.next() {
            self.out.push_str(word);
            if words.peek().is_some() {
                self.out.push(' ');
            }
        }
        if decoded.ends_with(char::is_whitespace) && !decoded.trim().is_empty() {
            self.space();
        }
    }

    fn start(&mut self, name: &str, attributes: &str) {
        if HIDDEN.contains(&name) {
            self.hidden += 1;
        } else if BLOCKS.contains(&name) {
            self.line();
            if name == "li" && self.hidden == 0 {
                self.out.push_str("* ");
            }
        } else if PARAGRAPHS.contains(&name) {
            self.paragraph();
        } else if name == "br" {
            while self.out.ends_with(' ') {
                self.out.pop();
            }
            self.out.push('\n');
        } else if name == "img" {
            if let Some(alt) = attribute(attributes, "alt").map(decode) {
                if !alt.trim().is_empty() {
                    self.push_text(&format!(" {} ", alt.trim()));
                }
            }
        } else if name == "a" {
            let href = attribute(attributes, "href")
                .map(|h| decode(h.trim()))
                .filter(|h| h.starts_with("http://") || h.starts_with("https://"));
            let at = self.out.len();
            self.links.push((href, at));
        }
    }

    fn end(&mut self, name: &str) {
        if HIDDEN.contains(&name) {
            self.hidden = self.hidden.saturating_sub(1);
        } else if BLOCKS.contains(&name) {
            self.line();
        } else if PARAGRAPHS.contains(&name) {
            self.paragraph();
        } else if name == "a" {
            if let Some((Some(href), at)) = self.links.pop() {
                let shown = self.out.get(at..).unwrap_or_default().trim().to_owned();
                if self.hidden == 0 && shown != href {
                    if shown.is_empty() {
                        self.push_text(&href);
                    } else {
                        self.out.push_str(&format!(" ({href})"));
                    }
                }
            }
        }
    }
}

/// The plain-text rendering of `html` (see the module's documentation).
pub fn plain_text(html: &str) -> String {
    let mut t = Text::default();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        t.push_text(&rest[..lt]);
        rest = &rest[lt..];
        let after = &rest[1..];
        if let Some(comment) = after.strip_prefix("!--") {
            // A comment (MJML's `<!--[if mso]>…<![endif]-->` among them) says nothing.
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
        } else if after.starts_with(['!', '?']) {
            // `<!DOCTYPE …>`, `<![endif]>`, `<?xml …?>`.
            rest = after.find('>').map_or("", |end| &after[end + 1..]);
        } else if let Some(closing) = after.strip_prefix('/') {
            let (name, tail) = tag_name(closing);
            rest = skip_tag(tail).1;
            if !name.is_empty() {
                t.end(&name);
            }
        } else if after.starts_with(|c: char| c.is_ascii_alphabetic()) {
            let (name, tail) = tag_name(after);
            let (attributes, tail) = skip_tag(tail);
            rest = tail;
            if RAW_TEXT.contains(&name.as_str()) {
                // Their content is not markup: skip to their end tag.
                rest = raw_text_end(rest, &name);
                continue;
            }
            t.start(&name, attributes);
        } else {
            // A `<` that opens no tag is text.
            t.push_text("<");
            rest = after;
        }
    }
    t.push_text(rest);
    wrap_lines(&t.out)
}

/// Elements whose content is text that is never shown, skipped to their end tag.
const RAW_TEXT: [&str; 5] = ["style", "script", "title", "textarea", "xmp"];

/// A tag's name, lowercased, and what follows it.
fn tag_name(s: &str) -> (String, &str) {
    let end = s
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(s.len());
    (s[..end].to_ascii_lowercase(), &s[end..])
}

/// A tag's attribute text and what follows its `>` (quoted values may hold `>`).
fn skip_tag(s: &str) -> (&str, &str) {
    let mut quote: Option<u8> = None;
    for (i, b) in s.bytes().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return (&s[..i], &s[i + 1..]),
            (None, _) => {}
        }
    }
    (s, "")
}

/// What follows the end tag of the raw-text element `name` (case-insensitively).
fn raw_text_end<'a>(s: &'a str, name: &str) -> &'a str {
    let lower = s.to_ascii_lowercase();
    let closing = format!("</{name}");
    match lower.find(&closing) {
        Some(at) => skip_tag(&s[at + closing.len()..]).1,
        None => "",
    }
}

/// The value of attribute `name` in a tag's attribute text, character references undecoded.
fn attribute<'a>(attributes: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attributes;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let key = &rest[..end];
        rest = rest[end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (value, tail) = match after.as_bytes().first() {
                Some(&q @ (b'"' | b'\'')) => {
                    let inner = &after[1..];
                    let close = inner.find(q as char).unwrap_or(inner.len());
                    (&inner[..close], inner.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    let close = after
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(after.len());
                    (&after[..close], &after[close..])
                }
            };
            rest = tail;
            value
        } else {
            ""
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(value);
        }
    }
}

/// The text with its blocks' lines trimmed, one empty line at most between paragraphs, and
/// long lines wrapped.
fn wrap_lines(text: &str) -> String {
    let mut wrapped = String::with_capacity(text.len() + text.len() / TEXT_WIDTH);
    let mut blank = true;
    for line in text.lines().map(str::trim) {
        // Blocks in a row leave one empty line between paragraphs, never more.
        if line.is_empty() {
            if !blank {
                wrapped.push('\n');
            }
            blank = true;
            continue;
        }
        wrap(line, &mut wrapped);
        blank = false;
    }
    wrapped.trim_end().to_owned() + "\n"
}

/// `line` wrapped at [`TEXT_WIDTH`] at spaces; a word longer than that (a long URL) is a line
/// of its own.
fn wrap(line: &str, out: &mut String) {
    let mut width = 0;
    for word in line.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        if width > 0 && width + 1 + len > TEXT_WIDTH {
            out.push('\n');
            width = 0;
        } else if width > 0 {
            out.push(' ');
            width += 1;
        }
        out.push_str(word);
        width += len;
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_lists_links_and_images_read_as_text() {
        let html = "<html><head><title>T</title><style>p{color:red}</style></head><body>\
            <h1>Hello   Ana</h1><p>Your <b>order</b>&nbsp;has shipped &amp; is on its way.</p>\
            <ul><li>one</li><li>two</li></ul><p><a href=\"https://ex.com/t?a=1&amp;b=2\">Track</a> \
            or <a href=\"https://ex.com/x\">https://ex.com/x</a><br>Thanks<br/>\
            <img src=\"logo.png\" alt=\"Shop\"><script>alert(1)</script></p>\
            <table><tr><td>left</td><td>right</td></tr></table></body></html>";
        assert_eq!(
            plain_text(html),
            "Hello Ana\n\nYour order has shipped & is on its way.\n\n* one\n* two\n\n\
             Track (https://ex.com/t?a=1&b=2) or https://ex.com/x\nThanks\nShop\n\nleft\nright\n"
        );
    }

    #[test]
    fn long_lines_wrap_at_78_and_long_words_stand_alone() {
        let words = "word ".repeat(40);
        let url = format!("https://example.com/{}", "x".repeat(90));
        let text = plain_text(&format!("<p>{words}<a href=\"{url}\">here</a></p>"));
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines
                .iter()
                .all(|l| l.chars().count() <= TEXT_WIDTH || !l.contains(' ')),
            "{text}"
        );
        assert!(lines.iter().any(|l| *l == format!("({url})")), "{text}");
        assert_eq!(text.split_whitespace().filter(|w| *w == "word").count(), 40);
    }

    #[test]
    fn comments_conditionals_and_odd_tags_are_markup_not_text() {
        let html = "<!DOCTYPE html><HTML><HEAD><STYLE>td{a:b}</style ></HEAD><BODY>\
            <!--[if mso | IE]><table><tr><td>mso only</td></tr></table><![endif]-->\
            <div title=\"a > b\" data-x='c>d'>Hi</div><![endif]>\
            <P>2 < 3 and <a HREF=https://ex.com/u?a=1&amp;b=2>go</a></P>\
            <img src=x alt='Logo &amp; co'><script type=\"x\">var a = '<p>no</p>';</SCRIPT>\
            <textarea><b>raw</b></textarea>end</BODY></HTML>";
        assert_eq!(
            plain_text(html),
            "Hi\n\n2 < 3 and go (https://ex.com/u?a=1&b=2)\n\nLogo & co end\n"
        );
    }

    #[test]
    fn unfinished_markup_ends_the_text() {
        assert_eq!(plain_text("<p>a</p><!-- never closed <p>b</p>"), "a\n");
        assert_eq!(plain_text("<p>a</p><div class=\"x"), "a\n");
        assert_eq!(plain_text("<p>a<style>b"), "a\n");
        assert_eq!(plain_text("a <"), "a <\n");
    }

    proptest::proptest! {
        #[test]
        fn any_input_reads_without_panicking(html in "[<>/!a-z\"'= &;#-]{0,80}|\\PC{0,40}") {
            let text = plain_text(&html);
            proptest::prop_assert!(text.ends_with('\n'));
        }
    }

    #[test]
    fn references_and_malformed_markup_do_not_break_it() {
        assert_eq!(plain_text("<p>unclosed <b>bold"), "unclosed bold\n");
        assert_eq!(plain_text("plain"), "plain\n");
        assert_eq!(plain_text(""), "\n");
    }
}
