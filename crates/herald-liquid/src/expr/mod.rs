//! Expressions: literals, variable paths, ranges, filter chains and conditions, and the
//! strict parser that builds them from markup tokens.

pub(crate) mod lex;

use crate::error::{snippet, Error, ErrorKind};
use crate::filters::{self, FilterId};
use crate::value::Value;
use lex::{lex, CmpOp, Spanned, Tok};

/// How deep brackets and parentheses may nest inside one expression.
pub(crate) const MAX_EXPR_DEPTH: u32 = 64;

#[derive(Debug)]
pub(crate) enum Expr {
    Lit(Value),
    Path(Box<Path>),
    Range(Box<Expr>, Box<Expr>),
}

#[derive(Debug)]
pub(crate) struct Path {
    pub root: Segment,
    pub segments: Vec<Segment>,
}

#[derive(Debug)]
pub(crate) enum Segment {
    Key(String),
    Dynamic(Expr),
}

#[derive(Debug)]
pub(crate) struct FilterCall {
    pub name: String,
    /// `None` for an unknown filter when `strict_filters` is off: the input passes through.
    pub id: Option<FilterId>,
    pub args: Vec<Expr>,
    pub kwargs: Vec<(String, Expr)>,
}

#[derive(Debug)]
pub(crate) struct Filtered {
    pub expr: Expr,
    pub filters: Vec<FilterCall>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Logic {
    And,
    Or,
}

#[derive(Debug)]
pub(crate) struct Comparison {
    pub left: Expr,
    pub op: Option<(CmpOp, Expr)>,
}

/// `a and b or c` is `a and (b or c)`: evaluated left to right, each term joined to the
/// rest by its operator.
#[derive(Debug)]
pub(crate) struct Condition {
    pub terms: Vec<(Comparison, Option<Logic>)>,
}

pub(crate) struct ExprParser<'a> {
    src: &'a str,
    toks: Vec<Spanned>,
    pos: usize,
    depth: u32,
    strict_filters: bool,
}

impl<'a> ExprParser<'a> {
    pub fn new(src: &'a str, strict_filters: bool) -> Result<Self, Error> {
        Ok(ExprParser {
            src,
            toks: lex(src)?,
            pos: 0,
            depth: 0,
            strict_filters,
        })
    }

    pub fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|s| &s.tok)
    }

    pub fn peek2(&self) -> Option<&Tok> {
        self.toks.get(self.pos + 1).map(|s| &s.tok)
    }

    pub fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|s| s.tok.clone());
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    pub fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(x)) if x == w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn error(&self, what: &str) -> Error {
        let found = match self.toks.get(self.pos) {
            Some(s) => format!("'{}'", snippet(&self.src[s.start..s.end])),
            None => "the end".to_string(),
        };
        Error::syntax(format!(
            "expected {what}, found {found} in '{}'",
            snippet(self.src)
        ))
    }

    pub fn expect(&mut self, t: &Tok, what: &str) -> Result<(), Error> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    pub fn expect_end(&self) -> Result<(), Error> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.error("the end of the expression"))
        }
    }

    pub fn ident(&mut self) -> Result<String, Error> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.error("a name")),
        }
    }

    /// Byte offset in the markup where the next token starts (or the end).
    pub fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.src.len(), |s| s.start)
    }

    /// Markup text between two offsets (trimmed).
    pub fn text(&self, from: usize, to: usize) -> &'a str {
        self.src.get(from..to).unwrap_or("").trim()
    }

    /// Byte offset where the previous token ended.
    pub fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|p| self.toks.get(p))
            .map_or(0, |s| s.end)
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return Err(Error::new(
                ErrorKind::NestingDepth,
                format!("expression nested deeper than {MAX_EXPR_DEPTH}"),
            ));
        }
        Ok(())
    }

    /// A literal, a variable path or a range.
    pub fn expr(&mut self) -> Result<Expr, Error> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Expr::Lit(Value::string(s))),
            Some(Tok::Int(i)) => Ok(Expr::Lit(Value::Int(i))),
            Some(Tok::Float(f)) => Ok(Expr::Lit(Value::Float(f))),
            Some(Tok::LParen) => {
                self.enter()?;
                let a = self.expr()?;
                self.expect(&Tok::DotDot, "'..' in a range")?;
                let b = self.expr()?;
                self.expect(&Tok::RParen, "')' closing a range")?;
                self.depth -= 1;
                Ok(Expr::Range(Box::new(a), Box::new(b)))
            }
            Some(Tok::Ident(name)) => {
                let followed = matches!(self.peek(), Some(Tok::Dot | Tok::LBracket));
                if !followed {
                    let lit = match name.as_str() {
                        "nil" | "null" => Some(Value::Nil),
                        "true" => Some(Value::Bool(true)),
                        "false" => Some(Value::Bool(false)),
                        "empty" => Some(Value::Empty),
                        "blank" => Some(Value::Blank),
                        _ => None,
                    };
                    if let Some(v) = lit {
                        return Ok(Expr::Lit(v));
                    }
                }
                self.path(Segment::Key(name))
            }
            Some(Tok::LBracket) => {
                let root = self.bracket()?;
                self.path(root)
            }
            _ => {
                self.pos = self.pos.saturating_sub(1);
                Err(self.error("a value"))
            }
        }
    }

    fn bracket(&mut self) -> Result<Segment, Error> {
        self.enter()?;
        let e = self.expr()?;
        self.expect(&Tok::RBracket, "']'")?;
        self.depth -= 1;
        Ok(Segment::Dynamic(e))
    }

    fn path(&mut self, root: Segment) -> Result<Expr, Error> {
        let mut segments = Vec::new();
        loop {
            if self.eat(&Tok::Dot) {
                segments.push(Segment::Key(self.ident()?));
            } else if self.eat(&Tok::LBracket) {
                segments.push(self.bracket()?);
            } else {
                break;
            }
        }
        Ok(Expr::Path(Box::new(Path { root, segments })))
    }

    /// An expression followed by `| filter: args` calls.
    pub fn filtered(&mut self) -> Result<Filtered, Error> {
        let expr = self.expr()?;
        let filters = self.filters()?;
        Ok(Filtered { expr, filters })
    }

    pub fn filters(&mut self) -> Result<Vec<FilterCall>, Error> {
        let mut out = Vec::new();
        while self.eat(&Tok::Pipe) {
            let name = self.ident()?;
            let mut args = Vec::new();
            let mut kwargs = Vec::new();
            if self.eat(&Tok::Colon) {
                loop {
                    if let (Some(Tok::Ident(k)), Some(Tok::Colon)) = (self.peek(), self.peek2()) {
                        let k = k.clone();
                        self.pos += 2;
                        kwargs.push((k, self.expr()?));
                    } else {
                        args.push(self.expr()?);
                    }
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
            }
            let id = filters::check_call(&name, args.len(), &kwargs, self.strict_filters)?;
            out.push(FilterCall {
                name,
                id,
                args,
                kwargs,
            });
        }
        Ok(out)
    }

    pub fn condition(&mut self) -> Result<Condition, Error> {
        let mut terms = Vec::new();
        loop {
            let left = self.expr()?;
            let op = match self.peek() {
                Some(Tok::Cmp(op)) => {
                    let op = *op;
                    self.pos += 1;
                    Some((op, self.expr()?))
                }
                _ => None,
            };
            let cmp = Comparison { left, op };
            let logic = if self.eat_word("and") {
                Some(Logic::And)
            } else if self.eat_word("or") {
                Some(Logic::Or)
            } else {
                None
            };
            terms.push((cmp, logic));
            if logic.is_none() {
                break;
            }
        }
        Ok(Condition { terms })
    }
}
