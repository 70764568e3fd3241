//! Builds the node tree from template tokens: block structure, comments, the `liquid` tag,
//! and a nesting limit so hostile templates cannot exhaust the stack.

use crate::ast::{Body, Node, NodeKind};
use crate::error::{Error, ErrorKind};
use crate::expr::ExprParser;
use crate::lexer::{is_ws, tokenize, Token, TokenKind};
use crate::tags;

/// How deeply blocks (and `liquid` tags) may nest.
pub(crate) const MAX_NESTING: u32 = 100;

pub(crate) struct Tokens {
    toks: Vec<Token>,
    pos: usize,
}

impl Tokens {
    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
}

/// The tag that ended a body.
pub(crate) struct End {
    pub name: String,
    pub markup: String,
}

pub(crate) struct Parser {
    pub strict_filters: bool,
    depth: u32,
}

/// Names that only make sense as the end or middle of a block.
const DELIMITERS: &[&str] = &[
    "else",
    "elsif",
    "when",
    "endif",
    "endunless",
    "endcase",
    "endfor",
    "endtablerow",
    "endcapture",
    "endcomment",
    "endifchanged",
    "endraw",
    "enddoc",
];

impl Parser {
    pub fn new(strict_filters: bool) -> Parser {
        Parser {
            strict_filters,
            depth: 0,
        }
    }

    pub fn parse_document(&mut self, src: &str) -> Result<Vec<Node>, Error> {
        let mut ts = Tokens {
            toks: tokenize(src)?,
            pos: 0,
        };
        let (body, _) = self.parse_body(&mut ts, &[])?;
        Ok(body.nodes)
    }

    pub fn expr<'a>(&self, markup: &'a str) -> Result<ExprParser<'a>, Error> {
        ExprParser::new(markup, self.strict_filters)
    }

    /// Parses nodes until one of `ends` (which must come when `ends` is not empty).
    pub fn parse_body(
        &mut self,
        ts: &mut Tokens,
        ends: &[&str],
    ) -> Result<(Body, Option<End>), Error> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(Error::new(
                ErrorKind::NestingDepth,
                format!("blocks nested deeper than {MAX_NESTING}"),
            ));
        }
        let mut nodes = Vec::new();
        let end = loop {
            let Some(tok) = ts.next() else {
                if let Some(first) = ends.last() {
                    self.depth -= 1;
                    return Err(Error::syntax(format!(
                        "expected '{first}', but the template ended"
                    )));
                }
                break None;
            };
            let (line, col) = (tok.line, tok.col);
            let at = |e: Error| e.at(line, col);
            let kind = match tok.kind {
                TokenKind::Text(t) => Some(NodeKind::Text(t)),
                TokenKind::Raw(t) => Some(NodeKind::Raw(t)),
                TokenKind::Doc(markup) => {
                    if !markup.trim().is_empty() {
                        return Err(at(Error::syntax("the 'doc' tag takes no arguments")));
                    }
                    None
                }
                TokenKind::Output(markup) => {
                    let mut p = self.expr(&markup).map_err(at)?;
                    if p.at_end() {
                        None
                    } else {
                        let f = p.filtered().map_err(at)?;
                        p.expect_end().map_err(at)?;
                        Some(NodeKind::Output(f))
                    }
                }
                TokenKind::Tag { name, markup } => {
                    if ends.contains(&name.as_str()) {
                        break Some(End { name, markup });
                    }
                    match name.as_str() {
                        "" => return Err(at(Error::syntax("expected a tag name after '{%'"))),
                        "#" => {
                            inline_comment(&markup).map_err(at)?;
                            None
                        }
                        "comment" => {
                            skip_comment(ts).map_err(at)?;
                            None
                        }
                        "liquid" => {
                            let inner = self.liquid_tag(&markup, line).map_err(at)?;
                            nodes.extend(inner);
                            None
                        }
                        _ => match tags::parse(self, ts, &name, &markup).map_err(at)? {
                            Some(kind) => Some(kind),
                            None if DELIMITERS.contains(&name.as_str()) => {
                                return Err(at(Error::syntax(format!("unexpected '{name}'"))));
                            }
                            None => {
                                return Err(at(Error::new(
                                    ErrorKind::UnknownTag,
                                    format!("unknown tag '{name}'"),
                                )))
                            }
                        },
                    }
                }
            };
            if let Some(kind) = kind {
                nodes.push(Node { kind, line, col });
            }
        };
        self.depth -= 1;
        Ok((Body::new(nodes), end))
    }

    /// `{% liquid %}`: one tag per line, parsed as a template of its own.
    fn liquid_tag(&mut self, markup: &str, line: u32) -> Result<Vec<Node>, Error> {
        let mut toks = Vec::new();
        for (i, raw_line) in markup.split('\n').enumerate() {
            let text = raw_line.trim_matches(is_ws);
            if text.is_empty() {
                continue;
            }
            let (name, rest) = match text.strip_prefix('#') {
                Some(r) => ("#".to_string(), r.to_string()),
                None => {
                    let n = text
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(text.len());
                    (
                        text[..n].to_string(),
                        text[n..].trim_matches(is_ws).to_string(),
                    )
                }
            };
            toks.push(Token {
                kind: TokenKind::Tag { name, markup: rest },
                line: line.saturating_add(u32::try_from(i).unwrap_or(u32::MAX)),
                col: 1,
            });
        }
        self.depth += 1;
        let result = self.parse_body(&mut Tokens { toks, pos: 0 }, &[]);
        self.depth -= 1;
        Ok(result?.0.nodes)
    }
}

/// `{% # ... %}`: every further line must start with `#` too.
fn inline_comment(markup: &str) -> Result<(), Error> {
    for line in markup.split('\n').skip(1) {
        let t = line.trim_matches(is_ws);
        if !t.is_empty() && !t.starts_with('#') {
            return Err(Error::syntax(
                "every line of an inline comment must start with '#'",
            ));
        }
    }
    Ok(())
}

/// Skips to the matching `endcomment` (comments nest; tags inside are not parsed).
fn skip_comment(ts: &mut Tokens) -> Result<(), Error> {
    let mut depth = 1u32;
    while let Some(tok) = ts.next() {
        if let TokenKind::Tag { name, .. } = tok.kind {
            match name.as_str() {
                "comment" => depth += 1,
                "endcomment" => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
    }
    Err(Error::syntax("'comment' was never closed"))
}
