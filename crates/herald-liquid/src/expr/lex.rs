//! Tokens of tag and output markup: identifiers, literals, punctuation and operators.
//! Anything else (`+`, `*`, `@`, a lone `-`) is a syntax error here.

use crate::error::{snippet, Error};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Dot,
    DotDot,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Pipe,
    Colon,
    Comma,
    Assign,
    Cmp(CmpOp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    Contains,
}

/// A token and its byte span in the markup.
#[derive(Debug, Clone)]
pub(crate) struct Spanned {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

pub(crate) fn lex(src: &str) -> Result<Vec<Spanned>, Error> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'\'' | b'"' => {
                let Some(len) = src[i + 1..].find(c as char) else {
                    return Err(Error::syntax(format!(
                        "unterminated string in '{}'",
                        snippet(src)
                    )));
                };
                let s = src[i + 1..i + 1 + len].to_string();
                i += len + 2;
                Tok::Str(s)
            }
            b'0'..=b'9' => lex_number(src, &mut i)?,
            b'-' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => lex_number(src, &mut i)?,
            c if is_ident_start(c) => {
                while i < b.len() && is_ident_char(b[i]) {
                    i += 1;
                }
                if b.get(i) == Some(&b'?') {
                    i += 1;
                }
                let word = &src[start..i];
                if word == "contains" {
                    Tok::Cmp(CmpOp::Contains)
                } else {
                    Tok::Ident(word.to_string())
                }
            }
            b'.' if b.get(i + 1) == Some(&b'.') => {
                i += 2;
                Tok::DotDot
            }
            b'.' => single(&mut i, Tok::Dot),
            b'[' => single(&mut i, Tok::LBracket),
            b']' => single(&mut i, Tok::RBracket),
            b'(' => single(&mut i, Tok::LParen),
            b')' => single(&mut i, Tok::RParen),
            b'|' => single(&mut i, Tok::Pipe),
            b':' => single(&mut i, Tok::Colon),
            b',' => single(&mut i, Tok::Comma),
            b'=' | b'!' | b'<' | b'>' => lex_operator(src, &mut i)?,
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(Error::syntax(format!(
                    "unexpected character '{ch}' in '{}'",
                    snippet(src)
                )));
            }
        };
        out.push(Spanned { tok, start, end: i });
    }
    Ok(out)
}

fn single(i: &mut usize, t: Tok) -> Tok {
    *i += 1;
    t
}

fn lex_operator(src: &str, i: &mut usize) -> Result<Tok, Error> {
    let two = src.get(*i..*i + 2).unwrap_or("");
    let (tok, len) = match two {
        "==" => (Tok::Cmp(CmpOp::Eq), 2),
        "!=" | "<>" => (Tok::Cmp(CmpOp::Ne), 2),
        "<=" => (Tok::Cmp(CmpOp::Le), 2),
        ">=" => (Tok::Cmp(CmpOp::Ge), 2),
        _ => match src.as_bytes()[*i] {
            b'<' => (Tok::Cmp(CmpOp::Lt), 1),
            b'>' => (Tok::Cmp(CmpOp::Gt), 1),
            b'=' => (Tok::Assign, 1),
            _ => {
                return Err(Error::syntax(format!(
                    "unexpected '!' in '{}'",
                    snippet(src)
                )))
            }
        },
    };
    *i += len;
    Ok(tok)
}

fn lex_number(src: &str, i: &mut usize) -> Result<Tok, Error> {
    let b = src.as_bytes();
    let start = *i;
    if b[*i] == b'-' {
        *i += 1;
    }
    while *i < b.len() && b[*i].is_ascii_digit() {
        *i += 1;
    }
    let mut is_float = false;
    if b.get(*i) == Some(&b'.') && b.get(*i + 1).is_some_and(u8::is_ascii_digit) {
        is_float = true;
        *i += 1;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
    }
    let text = &src[start..*i];
    if is_float {
        text.parse::<f64>()
            .map(Tok::Float)
            .map_err(|_| Error::syntax(format!("invalid number '{text}'")))
    } else {
        match text.parse::<i64>() {
            Ok(n) => Ok(Tok::Int(n)),
            Err(_) => text
                .parse::<f64>()
                .map(Tok::Float)
                .map_err(|_| Error::syntax(format!("invalid number '{text}'"))),
        }
    }
}
