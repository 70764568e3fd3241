//! The plain-text alternative of an HTML email, made in one streaming pass over the HTML
//! (lol_html's tokenizer; no tree is built): the text between tags, a line break around each
//! block element (paragraphs, headings, list items, table cells — an email's layout tables
//! read as a column of blocks, not as a grid), `* ` before list items, a link's target after
//! its text, an image's `alt`, nothing of `head`, `style` or `script`; whitespace collapsed,
//! character references decoded, lines wrapped at 78 characters.
//!
//! Written here rather than taken from `html2text`, which Herald used first: that crate builds
//! an HTML5 tree and lays it out (tables as grids), which cost a fifth of the time of sending a
//! rendered email (BENCHMARKS.md, "Messaging"); an email's text part needs neither.

use std::cell::RefCell;
use std::rc::Rc;

use herald_messaging::html::decode;
use lol_html::html_content::EndTag;
use lol_html::{doc_text, element, HtmlRewriter, Settings};

/// The width lines are wrapped at (RFC 5322 recommends lines of at most 78 characters).
pub const TEXT_WIDTH: usize = 78;

/// Elements that start and end a line.
const BLOCKS: &str = "address, article, aside, dd, div, dl, dt, fieldset, figcaption, figure, \
    footer, form, header, hr, li, main, nav, pre, section, tbody, td, tfoot, th, thead, tr, center";
/// Elements with an empty line before and after them.
const PARAGRAPHS: &str = "blockquote, h1, h2, h3, h4, h5, h6, ol, p, table, ul";

#[derive(Default)]
struct Text {
    out: String,
    /// Inside `head`, `style`, `script`, `title`, `template`, `noscript`: nothing is kept.
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
}

/// The plain-text rendering of `html` (see the module's documentation).
pub fn plain_text(html: &str) -> String {
    let state = Rc::new(RefCell::new(Text::default()));
    let (s1, s2, s3, s4, s5, s6, s7) = (
        state.clone(),
        state.clone(),
        state.clone(),
        state.clone(),
        state.clone(),
        state.clone(),
        state.clone(),
    );
    let settings = Settings {
        element_content_handlers: vec![
            element!(
                "head, style, script, title, template, noscript",
                move |el| {
                    s1.borrow_mut().hidden += 1;
                    let s = s1.clone();
                    if let Some(handlers) = el.end_tag_handlers() {
                        let end: lol_html::EndTagHandler<'static> =
                            Box::new(move |_: &mut EndTag| {
                                let mut t = s.borrow_mut();
                                t.hidden = t.hidden.saturating_sub(1);
                                Ok(())
                            });
                        handlers.push(end);
                    }
                    Ok(())
                }
            ),
            element!(BLOCKS, move |el| {
                let is_item = el.tag_name() == "li";
                {
                    let mut t = s2.borrow_mut();
                    t.line();
                    if is_item && t.hidden == 0 {
                        t.out.push_str("* ");
                    }
                }
                let s = s2.clone();
                if let Some(handlers) = el.end_tag_handlers() {
                    let end: lol_html::EndTagHandler<'static> = Box::new(move |_: &mut EndTag| {
                        s.borrow_mut().line();
                        Ok(())
                    });
                    handlers.push(end);
                }
                Ok(())
            }),
            element!(PARAGRAPHS, move |el| {
                s7.borrow_mut().paragraph();
                let s = s7.clone();
                if let Some(handlers) = el.end_tag_handlers() {
                    let end: lol_html::EndTagHandler<'static> = Box::new(move |_: &mut EndTag| {
                        s.borrow_mut().paragraph();
                        Ok(())
                    });
                    handlers.push(end);
                }
                Ok(())
            }),
            element!("br", move |_| {
                let mut t = s3.borrow_mut();
                while t.out.ends_with(' ') {
                    t.out.pop();
                }
                t.out.push('\n');
                Ok(())
            }),
            element!("img[alt]", move |el| {
                let alt = el.get_attribute("alt").unwrap_or_default();
                if !alt.trim().is_empty() {
                    s4.borrow_mut().push_text(&format!(" {} ", alt.trim()));
                }
                Ok(())
            }),
            element!("a", move |el| {
                let href = el
                    .get_attribute("href")
                    .map(|h| decode(h.trim()))
                    .filter(|h| h.starts_with("http://") || h.starts_with("https://"));
                {
                    let mut t = s5.borrow_mut();
                    let at = t.out.len();
                    t.links.push((href, at));
                }
                let s = s5.clone();
                if let Some(handlers) = el.end_tag_handlers() {
                    let end: lol_html::EndTagHandler<'static> = Box::new(move |_: &mut EndTag| {
                        let mut t = s.borrow_mut();
                        if let Some((Some(href), at)) = t.links.pop() {
                            let shown = t.out.get(at..).unwrap_or_default().trim().to_owned();
                            if t.hidden == 0 && shown != href {
                                if shown.is_empty() {
                                    t.push_text(&href);
                                } else {
                                    t.out.push_str(&format!(" ({href})"));
                                }
                            }
                        }
                        Ok(())
                    });
                    handlers.push(end);
                }
                Ok(())
            }),
        ],
        document_content_handlers: vec![doc_text!(move |chunk| {
            s6.borrow_mut().push_text(chunk.as_str());
            Ok(())
        })],
        ..Settings::new()
    };
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    let written = rewriter
        .write(html.as_bytes())
        .and_then(|()| rewriter.end());
    if written.is_err() {
        return html.to_owned();
    }
    let text = std::mem::take(&mut state.borrow_mut().out);
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
    fn references_and_malformed_markup_do_not_break_it() {
        assert_eq!(plain_text("<p>unclosed <b>bold"), "unclosed bold\n");
        assert_eq!(plain_text("plain"), "plain\n");
        assert_eq!(plain_text(""), "\n");
    }
}
