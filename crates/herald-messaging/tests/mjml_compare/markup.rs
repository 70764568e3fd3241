//! An HTML document read into a flat list of normalised items, the form two documents are
//! compared in.
//!
//! Flat rather than a tree because Outlook's conditional comments open tags in one comment and
//! close them in another (`<!--[if mso | IE]><table><tr><td><![endif]-->`); `htmlparser` reads
//! inside conditional comments, so their tags are compared like any other.
//!
//! What is normalised: element and attribute names lower-cased; attributes sorted by name;
//! `class` read as a set and `style` as a map of declarations; an empty `class`, `style` or `alt`
//! dropped; spaces, tabs and newlines removed from text, whitespace-only text dropped and text
//! runs joined; comments compared without whitespace and empty ones dropped; a `<style>`'s content
//! read as CSS, and an empty `<style>` in `<head>` dropped; `<![endif]-->` directly followed by
//! the `<!--[if …]>` it closed merged away; `<x/>` the same as `<x></x>`, and a void element's
//! `/>` the same as `>`. Not normalised: character references (`&amp;` differs from `&#38;`),
//! attribute values other than class and style, and the order of anything.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use htmlparser::{ElementEnd, StrSpan, Token, Tokenizer};

use super::css;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Doctype(String),
    Open {
        name: String,
        attributes: Vec<(String, Value)>,
    },
    Close(String),
    Text(String),
    Comment(String),
    ConditionalStart(String),
    ConditionalEnd(String),
    StyleSheet(Vec<css::Rule>),
    /// XML declarations, processing instructions and DTD parts, compared without whitespace.
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(Option<String>),
    Classes(BTreeSet<String>),
    Declarations(BTreeMap<String, String>),
}

/// An item and the 1-based line of the source it was read from.
#[derive(Clone, Debug)]
pub struct Node {
    pub item: Item,
    pub line: usize,
}

const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

pub fn is_void(name: &str) -> bool {
    VOID.contains(&name)
}

/// The document as normalised items, or why it cannot be read.
pub fn read(html: &str) -> Result<Vec<Node>, String> {
    let mut reader = Reader {
        html,
        nodes: Vec::new(),
        open: Vec::new(),
        element: None,
        style: None,
        condition: None,
        closed_condition: None,
        counted: (0, 1),
    };
    for token in Tokenizer::from(html) {
        reader.token(token.map_err(|e| e.to_string())?)?;
    }
    Ok(reader.nodes)
}

struct StartTag {
    name: String,
    attributes: Vec<(String, Value)>,
    line: usize,
}

struct OpenStyle {
    text: String,
    in_head: bool,
    line: usize,
}

struct Reader<'a> {
    html: &'a str,
    nodes: Vec<Node>,
    /// Names of the elements open at this point, outermost first.
    open: Vec<String>,
    /// The start tag being read.
    element: Option<StartTag>,
    /// The `<style>` being read, if inside one.
    style: Option<OpenStyle>,
    condition: Option<String>,
    closed_condition: Option<String>,
    /// A byte offset and the (1-based) line it is on.
    counted: (usize, usize),
}

impl<'a> Reader<'a> {
    fn token(&mut self, token: Token<'a>) -> Result<(), String> {
        let line = self.line(token.span());
        match token {
            Token::EmptyDtd { name, .. } | Token::DtdStart { name, .. } => {
                self.push(Item::Doctype(name.as_str().to_ascii_lowercase()), line)
            }
            Token::Declaration { span, .. }
            | Token::ProcessingInstruction { span, .. }
            | Token::EntityDeclaration { span, .. }
            | Token::DtdEnd { span } => self.push(Item::Other(without_whitespace(&span)), line),
            Token::ElementStart { prefix, local, .. } => {
                self.element = Some(StartTag {
                    name: qualified(prefix, local),
                    attributes: Vec::new(),
                    line,
                });
            }
            Token::Attribute {
                prefix,
                local,
                value,
                ..
            } => {
                let name = qualified(prefix, local);
                if let (Some(StartTag { attributes, .. }), Some(value)) =
                    (self.element.as_mut(), attribute_value(&name, value))
                {
                    attributes.push((name, value));
                }
            }
            Token::ElementEnd { end, .. } => self.element_end(end, line)?,
            Token::Text { text } | Token::Cdata { text, .. } => match self.style.as_mut() {
                Some(style) => style.text.push_str(text.as_str()),
                None => self.push(Item::Text(without_whitespace(&text)), line),
            },
            Token::Comment { text, .. } => {
                self.push(Item::Comment(without_whitespace(&text)), line)
            }
            Token::ConditionalCommentStart { span, .. } => {
                let condition = collapse_whitespace(span.as_str());
                let merges = matches!(
                    self.nodes.last(),
                    Some(Node {
                        item: Item::ConditionalEnd(_),
                        ..
                    })
                ) && self.closed_condition.as_ref() == Some(&condition);
                if merges {
                    self.nodes.pop();
                } else {
                    self.push(Item::ConditionalStart(condition.clone()), line);
                }
                self.condition = Some(condition);
            }
            Token::ConditionalCommentEnd { span } => {
                self.push(
                    Item::ConditionalEnd(collapse_whitespace(span.as_str())),
                    line,
                );
                self.closed_condition = self.condition.take();
            }
        }
        Ok(())
    }

    fn element_end(&mut self, end: ElementEnd<'a>, line: usize) -> Result<(), String> {
        match end {
            ElementEnd::Open | ElementEnd::Empty => {
                let Some(StartTag {
                    name,
                    mut attributes,
                    line: start_line,
                }) = self.element.take()
                else {
                    return Err(format!("line {line}: a tag ends that never started"));
                };
                attributes.sort_by(|a, b| a.0.cmp(&b.0));
                let void = is_void(&name);
                let empty = matches!(end, ElementEnd::Empty);
                if name == "style" && !empty {
                    let in_head = self.open.iter().any(|n| n == "head");
                    self.style = Some(OpenStyle {
                        text: String::new(),
                        in_head,
                        line: start_line,
                    });
                }
                self.push(
                    Item::Open {
                        name: name.clone(),
                        attributes,
                    },
                    start_line,
                );
                if empty && !void {
                    self.push(Item::Close(name), line);
                } else if !void {
                    self.open.push(name);
                }
            }
            ElementEnd::Close(prefix, local) => {
                let name = qualified(prefix, local);
                if let Some(at) = self.open.iter().rposition(|n| *n == name) {
                    self.open.truncate(at);
                }
                if name == "style" {
                    if let Some(style) = self.style.take() {
                        let rules = css::parse(&style.text)
                            .map_err(|e| format!("line {line}: unreadable <style>: {e}"))?;
                        if rules.is_empty() && style.in_head {
                            self.drop_open_style();
                            return Ok(());
                        }
                        self.push(Item::StyleSheet(rules), style.line);
                    }
                }
                self.push(Item::Close(name), line);
            }
        }
        Ok(())
    }

    /// Removes the `<style>` start tag just pushed (nothing is pushed while inside a style).
    fn drop_open_style(&mut self) {
        if matches!(self.nodes.last(), Some(Node { item: Item::Open { name, .. }, .. }) if name == "style")
        {
            self.nodes.pop();
        }
    }

    fn push(&mut self, item: Item, line: usize) {
        match (&item, self.nodes.last_mut()) {
            (Item::Text(text) | Item::Comment(text), _) if text.is_empty() => {}
            (
                Item::Text(text),
                Some(Node {
                    item: Item::Text(previous),
                    ..
                }),
            ) => previous.push_str(text),
            _ => self.nodes.push(Node { item, line }),
        }
    }

    /// The line of a span; tokens come in source order, so lines are counted on from the last.
    fn line(&mut self, span: StrSpan<'_>) -> usize {
        let start = span.start().min(self.html.len());
        let (counted, line) = self.counted;
        if start >= counted {
            let newlines = self.html.as_bytes()[counted..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.counted = (start, line + newlines);
        }
        self.counted.1
    }
}

fn attribute_value(name: &str, value: Option<StrSpan<'_>>) -> Option<Value> {
    let text = value.map(|v| v.as_str());
    match name {
        "class" => {
            let classes: BTreeSet<String> = text
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            (!classes.is_empty()).then_some(Value::Classes(classes))
        }
        "style" => {
            let declarations = css::declarations(text.unwrap_or(""));
            (!declarations.is_empty()).then_some(Value::Declarations(declarations))
        }
        "alt" if text.is_none_or(str::is_empty) => None,
        _ => Some(Value::Text(text.map(str::to_owned))),
    }
}

fn qualified(prefix: StrSpan<'_>, local: StrSpan<'_>) -> String {
    let name = if prefix.is_empty() {
        local.as_str().to_owned()
    } else {
        format!("{}:{}", prefix.as_str(), local.as_str())
    };
    name.to_ascii_lowercase()
}

/// Text without spaces, tabs and newlines (a non-breaking space is kept: it is content).
fn without_whitespace(text: &StrSpan<'_>) -> String {
    text.as_str()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
        .collect()
}

fn collapse_whitespace(text: &str) -> String {
    text.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Doctype(name) => write!(f, "<!doctype {name}>"),
            Item::Open { name, attributes } => {
                write!(f, "<{name}")?;
                for (attribute, _) in attributes {
                    write!(f, " {attribute}=…")?;
                }
                write!(f, ">")
            }
            Item::Close(name) => write!(f, "</{name}>"),
            Item::Text(text) => write!(f, "text {:?}", shortened(text)),
            Item::Comment(text) => write!(f, "comment <!--{}-->", shortened(text)),
            Item::ConditionalStart(span) | Item::ConditionalEnd(span) | Item::Other(span) => {
                write!(f, "{span}")
            }
            Item::StyleSheet(rules) => write!(f, "a style sheet of {} rules", rules.len()),
        }
    }
}

fn shortened(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
