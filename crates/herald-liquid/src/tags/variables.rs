//! `assign`, `capture`, `increment`, `decrement` and `echo`.

use super::variable_name;
use crate::ast::{Body, NodeKind};
use crate::error::{snippet, Error};
use crate::expr::{Expr, Filtered};
use crate::parser::{Parser, Tokens};
use crate::render::{Flow, Renderer};
use crate::value::Value;

pub(crate) fn parse_assign(p: &Parser, markup: &str) -> Result<NodeKind, Error> {
    let Some((name, value)) = markup.split_once('=') else {
        return Err(Error::syntax(format!(
            "'assign' needs 'name = value', got '{}'",
            snippet(markup)
        )));
    };
    let name = variable_name(name.trim(), "assign")?;
    let mut ep = p.expr(value)?;
    let f = ep.filtered()?;
    ep.expect_end()?;
    Ok(NodeKind::Assign(name, f))
}

pub(crate) fn parse_capture(
    p: &mut Parser,
    ts: &mut Tokens,
    markup: &str,
) -> Result<NodeKind, Error> {
    let unquoted = markup
        .strip_prefix('\'')
        .and_then(|m| m.strip_suffix('\''))
        .or_else(|| markup.strip_prefix('"').and_then(|m| m.strip_suffix('"')));
    let name = match unquoted {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => variable_name(markup, "capture")?,
    };
    let (mut body, _) = p.parse_body(ts, &["endcapture"])?;
    Body::strip_if_blank(&mut [&mut body]);
    Ok(NodeKind::Capture(name, body))
}

pub(crate) fn parse_counter(markup: &str) -> Result<String, Error> {
    let ok = markup.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && markup
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(markup.to_string())
    } else {
        Err(Error::syntax(format!(
            "a counter needs a valid name, got '{}'",
            snippet(markup)
        )))
    }
}

pub(crate) fn parse_echo(p: &Parser, markup: &str) -> Result<NodeKind, Error> {
    let mut ep = p.expr(markup)?;
    if ep.at_end() {
        return Ok(NodeKind::Output(Filtered {
            expr: Expr::Lit(Value::Nil),
            filters: Vec::new(),
        }));
    }
    let f = ep.filtered()?;
    ep.expect_end()?;
    Ok(NodeKind::Output(f))
}

pub(crate) fn render_capture(r: &mut Renderer, name: &str, body: &Body) -> Result<Flow, Error> {
    let mut buf = String::new();
    let flow = r.render_nodes(&body.nodes, &mut buf)?;
    r.frame.scopes[0].insert(name.to_string(), Value::string(buf));
    Ok(flow)
}

/// `increment` outputs then adds one; `decrement` subtracts one then outputs.
pub(crate) fn render_counter(
    r: &mut Renderer,
    name: &str,
    step: i64,
    out: &mut String,
) -> Result<(), Error> {
    let current = r.frame.counters.get(name).copied().unwrap_or(0);
    let next = current.saturating_add(step);
    r.frame.counters.insert(name.to_string(), next);
    let shown = if step > 0 { current } else { next };
    r.write(out, &shown.to_string())
}
