//! Splits template source into text, `{{ output }}` and `{% tag %}` tokens, applies
//! whitespace control (`{{-`, `-%}`), and swallows `raw` and `doc` bodies whole.

use crate::error::Error;

#[derive(Debug, Clone)]
pub(crate) enum TokenKind {
    Text(String),
    Output(String),
    Tag {
        name: String,
        markup: String,
    },
    /// The body of `{% raw %}...{% endraw %}`, verbatim.
    Raw(String),
    /// `{% doc ... %}...{% enddoc %}`: only the opening markup is kept (it must be empty).
    Doc(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub line: u32,
    pub col: u32,
}

/// Ruby's `strip` set: what whitespace control removes.
pub(crate) fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\0')
}

/// Line and column of byte offsets, asked in increasing order (so a long line costs
/// linear time, not quadratic).
struct Positions {
    offset: usize,
    line: u32,
    col: u32,
}

impl Positions {
    fn new() -> Self {
        Positions {
            offset: 0,
            line: 1,
            col: 1,
        }
    }

    fn at(&mut self, src: &str, offset: usize) -> (u32, u32) {
        if let Some(skipped) = src.get(self.offset..offset) {
            for c in skipped.chars() {
                if c == '\n' {
                    self.line = self.line.saturating_add(1);
                    self.col = 1;
                } else {
                    self.col = self.col.saturating_add(1);
                }
            }
            self.offset = offset;
        }
        (self.line, self.col)
    }
}

/// Finds the next `{{` or `{%` at or after `from`.
fn next_open(src: &str, from: usize) -> Option<(usize, bool)> {
    let bytes = src.as_bytes();
    let mut i = from;
    while let Some(off) = src.get(i..).and_then(|s| s.find('{')) {
        let p = i + off;
        match bytes.get(p + 1) {
            Some(b'{') => return Some((p, true)),
            Some(b'%') => return Some((p, false)),
            _ => i = p + 1,
        }
    }
    None
}

/// Finds `{%-? name -?%}` after `from`; returns (start, end, trims_right).
fn find_end_tag(src: &str, from: usize, name: &str) -> Option<(usize, usize, bool)> {
    let mut i = from;
    while let Some(off) = src.get(i..).and_then(|s| s.find("{%")) {
        let start = i + off;
        let rest = &src[start + 2..];
        let body = rest.strip_prefix('-').unwrap_or(rest);
        let body = body.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if let Some(after) = body.strip_prefix(name) {
            let after_ws = after.trim_start_matches(|c: char| c.is_ascii_whitespace());
            let (trim, tail) = match after_ws.strip_prefix('-') {
                Some(t) => (true, t),
                None => (false, after_ws),
            };
            if tail.starts_with("%}")
                && !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
            {
                let end = src.len() - tail.len() + 2;
                return Some((start, end, trim));
            }
        }
        i = start + 2;
    }
    None
}

struct Raw {
    tok: Token,
    trim_left: bool,
    trim_right: bool,
}

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, Error> {
    let mut pos = Positions::new();
    let mut raw: Vec<Raw> = Vec::new();
    let mut i = 0;
    while i < src.len() {
        let Some((start, is_output)) = next_open(src, i) else {
            let (line, col) = pos.at(src, i);
            raw.push(Raw {
                tok: Token {
                    kind: TokenKind::Text(src[i..].to_string()),
                    line,
                    col,
                },
                trim_left: false,
                trim_right: false,
            });
            break;
        };
        if start > i {
            let (line, col) = pos.at(src, i);
            raw.push(Raw {
                tok: Token {
                    kind: TokenKind::Text(src[i..start].to_string()),
                    line,
                    col,
                },
                trim_left: false,
                trim_right: false,
            });
        }
        let (line, col) = pos.at(src, start);
        let close = if is_output { "}}" } else { "%}" };
        let Some(off) = src[start + 2..].find(close) else {
            let what = if is_output { "output '{{'" } else { "tag '{%'" };
            return Err(Error::syntax(format!("{what} was never closed")).at(line, col));
        };
        let end = start + 2 + off;
        let mut inner = &src[start + 2..end];
        let trim_left = inner.starts_with('-');
        if trim_left {
            inner = &inner[1..];
        }
        let trim_right = inner.ends_with('-');
        if trim_right {
            inner = &inner[..inner.len() - 1];
        }
        i = end + 2;
        let kind = if is_output {
            TokenKind::Output(inner.to_string())
        } else {
            let body = inner.trim_start_matches(is_ws);
            let (name, markup) = if let Some(rest) = body.strip_prefix('#') {
                ("#".to_string(), rest.to_string())
            } else {
                let n = body
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(body.len());
                (
                    body[..n].to_string(),
                    body[n..].trim_matches(is_ws).to_string(),
                )
            };
            if name == "raw" || name == "doc" {
                let endname = if name == "raw" { "endraw" } else { "enddoc" };
                let Some((s, e, trim)) = find_end_tag(src, i, endname) else {
                    return Err(
                        Error::syntax(format!("'{name}' tag was never closed")).at(line, col)
                    );
                };
                let kind = if name == "raw" {
                    TokenKind::Raw(src[i..s].to_string())
                } else {
                    TokenKind::Doc(markup)
                };
                i = e;
                raw.push(Raw {
                    tok: Token { kind, line, col },
                    trim_left,
                    trim_right: trim,
                });
                continue;
            }
            TokenKind::Tag { name, markup }
        };
        raw.push(Raw {
            tok: Token { kind, line, col },
            trim_left,
            trim_right,
        });
    }
    apply_whitespace_control(&mut raw);
    Ok(raw
        .into_iter()
        .filter(|r| !matches!(&r.tok.kind, TokenKind::Text(t) if t.is_empty()))
        .map(|r| r.tok)
        .collect())
}

fn apply_whitespace_control(tokens: &mut [Raw]) {
    for k in 0..tokens.len() {
        if tokens[k].trim_left && k > 0 {
            if let TokenKind::Text(t) = &mut tokens[k - 1].tok.kind {
                let n = t.trim_end_matches(is_ws).len();
                t.truncate(n);
            }
        }
        if tokens[k].trim_right && k + 1 < tokens.len() {
            if let TokenKind::Text(t) = &mut tokens[k + 1].tok.kind {
                let n = t.len() - t.trim_start_matches(is_ws).len();
                t.drain(..n);
            }
        }
    }
}
