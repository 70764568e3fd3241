//! `for` (with `limit`, `offset`, `offset: continue`, `reversed`, `else`), `tablerow` and
//! `cycle`. Ranges are walked lazily; every iteration counts against the loop budget.

use std::sync::Arc;

use crate::ast::{Body, Cycle, CycleGroup, For, NodeKind, Offset};
use crate::error::{snippet, Error, ErrorKind};
use crate::expr::lex::Tok;
use crate::number::{to_i, to_integer};
use crate::parser::{Parser, Tokens};
use crate::render::{Flow, Renderer};
use crate::value::{range_len, LoopState, Object, Value};

pub(crate) fn parse_for(
    p: &mut Parser,
    ts: &mut Tokens,
    markup: &str,
    table: bool,
) -> Result<NodeKind, Error> {
    let mut ep = p.expr(markup)?;
    let var = ep.ident()?;
    if !ep.eat_word("in") {
        return Err(ep.error("'in'"));
    }
    let from = ep.offset();
    let collection = ep.expr()?;
    let name = format!("{var}-{}", ep.text(from, ep.prev_end()));
    let (mut reversed, mut limit, mut offset, mut cols) = (false, None, None, None);
    while !ep.at_end() {
        if ep.eat(&Tok::Comma) {
            continue;
        }
        if !table && ep.eat_word("reversed") {
            reversed = true;
            continue;
        }
        let key = ep.ident()?;
        ep.expect(&Tok::Colon, "':'")?;
        match key.as_str() {
            "limit" => limit = Some(ep.expr()?),
            "offset" if !table && ep.eat_word("continue") => offset = Some(Offset::Continue),
            "offset" => offset = Some(Offset::Expr(ep.expr()?)),
            "cols" if table => cols = Some(ep.expr()?),
            other => return Err(Error::syntax(format!("unknown loop parameter '{other}'"))),
        }
    }
    let end = if table { "endtablerow" } else { "endfor" };
    let ends: &[&str] = if table { &[end] } else { &["else", end] };
    let (mut body, stop) = p.parse_body(ts, ends)?;
    let mut otherwise = match stop {
        Some(s) if s.name == "else" => Some(p.parse_body(ts, &[end])?.0),
        _ => None,
    };
    let mut bodies = vec![&mut body];
    if let Some(o) = otherwise.as_mut() {
        bodies.push(o);
    }
    Body::strip_if_blank(&mut bodies);
    let node = Box::new(For {
        var,
        collection,
        name,
        reversed,
        limit,
        offset,
        cols,
        body,
        otherwise,
    });
    Ok(if table {
        NodeKind::Tablerow(node)
    } else {
        NodeKind::For(node)
    })
}

pub(crate) fn parse_cycle(p: &Parser, markup: &str) -> Result<NodeKind, Error> {
    let mut ep = p.expr(markup)?;
    let first = ep.expr()?;
    let (group, mut values) = if ep.eat(&Tok::Colon) {
        (CycleGroup::Named(first), vec![ep.expr()?])
    } else {
        (CycleGroup::Unnamed(markup.trim().to_string()), vec![first])
    };
    while ep.eat(&Tok::Comma) {
        values.push(ep.expr()?);
    }
    ep.expect_end()?;
    Ok(NodeKind::Cycle(Box::new(Cycle { group, values })))
}

/// What a loop walks, without copying it: an array, an object's `[key, value]` pairs, a
/// range never materialised, or a single value.
pub(crate) enum Seq {
    Array(Arc<Vec<Value>>),
    Object(Arc<Object>),
    Range(i64, u64),
    One(Value),
    Empty,
}

impl Seq {
    pub fn of(v: &Value) -> Seq {
        match v {
            Value::Array(a) => Seq::Array(a.clone()),
            Value::Object(o) => Seq::Object(o.clone()),
            Value::Range(a, b) => Seq::Range(*a, range_len(*a, *b)),
            Value::Str(s) if !s.is_empty() => Seq::One(v.clone()),
            _ => Seq::Empty,
        }
    }

    pub fn len(&self) -> u64 {
        match self {
            Seq::Array(a) => a.len() as u64,
            Seq::Object(o) => o.len() as u64,
            Seq::Range(_, n) => *n,
            Seq::One(_) => 1,
            Seq::Empty => 0,
        }
    }

    pub fn get(&self, i: u64) -> Value {
        let idx = usize::try_from(i).unwrap_or(usize::MAX);
        match self {
            Seq::Array(a) => a.get(idx).cloned().unwrap_or(Value::Nil),
            Seq::Object(o) => o.get_index(idx).map_or(Value::Nil, |(k, v)| {
                Value::array(vec![Value::str(k), v.clone()])
            }),
            Seq::Range(a, _) => Value::Int(a.saturating_add(i64::try_from(i).unwrap_or(i64::MAX))),
            Seq::One(v) if i == 0 => v.clone(),
            Seq::One(_) | Seq::Empty => Value::Nil,
        }
    }
}

fn loop_integer(v: &Value, what: &str) -> Result<i64, Error> {
    to_integer(v).ok_or_else(|| {
        Error::new(
            ErrorKind::Type,
            format!(
                "'{what}' must be an integer, got '{}'",
                snippet(&v.to_str())
            ),
        )
    })
}

/// The window `[from, from + count)` of a sequence of `len` items.
fn window(len: u64, from: i64, limit: Option<i64>) -> (u64, u64) {
    let start = u64::try_from(from.max(0)).unwrap_or(0).min(len);
    let end = match limit {
        Some(l) => u64::try_from(from.saturating_add(l).max(0))
            .unwrap_or(0)
            .min(len),
        None => len,
    };
    (start, end.saturating_sub(start))
}

pub(crate) fn render_for(r: &mut Renderer, f: &For, out: &mut String) -> Result<Flow, Error> {
    let collection = r.eval(&f.collection)?;
    let seq = Seq::of(&collection);
    let from = match &f.offset {
        None => 0,
        Some(Offset::Continue) => r.frame.for_offsets.get(&f.name).copied().unwrap_or(0),
        Some(Offset::Expr(e)) => match r.eval(e)? {
            Value::Nil => 0,
            v => loop_integer(&v, "offset")?,
        },
    };
    let limit = match &f.limit {
        None => None,
        Some(e) => match r.eval(e)? {
            Value::Nil => None,
            v => Some(loop_integer(&v, "limit")?),
        },
    };
    let (start, count) = window(seq.len(), from, limit);
    r.frame.for_offsets.insert(
        f.name.clone(),
        i64::try_from(start + count).unwrap_or(i64::MAX),
    );
    if count == 0 {
        return match &f.otherwise {
            Some(body) => r.render_nodes(&body.nodes, out),
            None => Ok(Flow::Normal),
        };
    }
    let name: Arc<str> = Arc::from(f.name.as_str());
    let parent = r.frame.for_stack.last().cloned();
    r.frame.scopes.push(Default::default());
    r.frame.for_stack.push(Value::Nil);
    let result = (|| {
        for k in 0..count {
            r.tick()?;
            let idx = if f.reversed {
                start + count - 1 - k
            } else {
                start + k
            };
            let state = Value::Loop(Arc::new(LoopState {
                name: name.clone(),
                index0: k as i64,
                length: count as i64,
                parent: parent.clone(),
                table: None,
            }));
            if let Some(top) = r.frame.for_stack.last_mut() {
                *top = state.clone();
            }
            if let Some(scope) = r.frame.scopes.last_mut() {
                scope.insert(f.var.clone(), seq.get(idx));
                scope.insert("forloop".to_string(), state);
            }
            if r.render_nodes(&f.body.nodes, out)? == Flow::Break {
                break;
            }
        }
        Ok(Flow::Normal)
    })();
    r.frame.for_stack.pop();
    r.frame.scopes.pop();
    result
}

pub(crate) fn render_tablerow(r: &mut Renderer, f: &For, out: &mut String) -> Result<Flow, Error> {
    let collection = r.eval(&f.collection)?;
    if collection.is_nil() {
        return Ok(Flow::Normal);
    }
    let seq = Seq::of(&collection);
    let from = match &f.offset {
        Some(Offset::Expr(e)) => to_i(&r.eval(e)?),
        _ => 0,
    };
    let limit = match &f.limit {
        Some(e) => Some(to_i(&r.eval(e)?)),
        None => None,
    };
    let (start, count) = window(seq.len(), from, limit);
    let cols = match &f.cols {
        Some(e) => to_i(&r.eval(e)?),
        None => count as i64,
    };
    r.write(out, "<tr class=\"row1\">\n")?;
    r.frame.scopes.push(Default::default());
    let result = (|| {
        let (mut col, mut row) = (1i64, 1i64);
        for k in 0..count {
            r.tick()?;
            let state = Value::Loop(Arc::new(LoopState {
                name: Arc::from(""),
                index0: k as i64,
                length: count as i64,
                parent: None,
                table: Some((col - 1, cols, row)),
            }));
            if let Some(scope) = r.frame.scopes.last_mut() {
                scope.insert(f.var.clone(), seq.get(start + k));
                scope.insert("tablerowloop".to_string(), state);
            }
            r.write(out, &format!("<td class=\"col{col}\">"))?;
            let flow = r.render_nodes(&f.body.nodes, out)?;
            r.write(out, "</td>")?;
            if flow == Flow::Break {
                break;
            }
            if col == cols && k + 1 < count {
                r.write(out, &format!("</tr>\n<tr class=\"row{}\">", row + 1))?;
            }
            if col == cols {
                col = 1;
                row += 1;
            } else {
                col += 1;
            }
        }
        Ok(())
    })();
    r.frame.scopes.pop();
    result?;
    r.write(out, "</tr>\n")?;
    Ok(Flow::Normal)
}

pub(crate) fn render_cycle(r: &mut Renderer, c: &Cycle, out: &mut String) -> Result<(), Error> {
    r.tick()?;
    let key = match &c.group {
        CycleGroup::Named(e) => {
            let group = r.eval(e)?;
            r.spend(group.weight())?;
            let mut k = String::from("named:");
            group.inspect_into(&mut k);
            k
        }
        CycleGroup::Unnamed(markup) => format!("unnamed:{markup}"),
    };
    let i = r.frame.cycles.get(&key).copied().unwrap_or(0);
    let value = match c.values.get(i) {
        Some(e) => r.eval(e)?,
        None => Value::Nil,
    };
    let mut s = String::new();
    value.render_into(&mut s);
    r.write(out, &s)?;
    let next = if i + 1 >= c.values.len() { 0 } else { i + 1 };
    r.frame.cycles.insert(key, next);
    Ok(())
}
