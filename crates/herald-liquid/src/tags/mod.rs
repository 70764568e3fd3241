//! The tags: how each is parsed (here, by family) and rendered (in the same modules).

pub(crate) mod control;
pub(crate) mod iteration;
pub(crate) mod partials;
pub(crate) mod variables;

use crate::ast::NodeKind;
use crate::error::{snippet, Error};
use crate::parser::{Parser, Tokens};

/// Parses the tag `name`; `None` when there is no such tag.
pub(crate) fn parse(
    p: &mut Parser,
    ts: &mut Tokens,
    name: &str,
    markup: &str,
) -> Result<Option<NodeKind>, Error> {
    let kind = match name {
        "assign" => variables::parse_assign(p, markup)?,
        "capture" => variables::parse_capture(p, ts, markup)?,
        "increment" => NodeKind::Increment(variables::parse_counter(markup)?),
        "decrement" => NodeKind::Decrement(variables::parse_counter(markup)?),
        "echo" => variables::parse_echo(p, markup)?,
        "if" => control::parse_if(p, ts, markup, false)?,
        "unless" => control::parse_if(p, ts, markup, true)?,
        "case" => control::parse_case(p, ts, markup)?,
        "ifchanged" => control::parse_ifchanged(p, ts)?,
        "for" => iteration::parse_for(p, ts, markup, false)?,
        "tablerow" => iteration::parse_for(p, ts, markup, true)?,
        "cycle" => iteration::parse_cycle(p, markup)?,
        "break" => NodeKind::Break,
        "continue" => NodeKind::Continue,
        "include" => partials::parse(p, markup, false)?,
        "render" => partials::parse(p, markup, true)?,
        _ => return Ok(None),
    };
    Ok(Some(kind))
}

/// A variable name as `assign`/`capture` accept it: letters, digits, `_` and `-`, not
/// starting with `-`.
pub(crate) fn variable_name(markup: &str, tag: &str) -> Result<String, Error> {
    let ok = !markup.is_empty()
        && !markup.starts_with('-')
        && markup
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(markup.to_string())
    } else {
        Err(Error::syntax(format!(
            "'{tag}' needs a valid variable name, got '{}'",
            snippet(markup)
        )))
    }
}
