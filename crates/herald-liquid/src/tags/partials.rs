//! `include` (shares the caller's variables) and `render` (a fresh scope that sees only its
//! arguments and the render variables). Partials come from the [`Loader`](crate::Loader)
//! only, are parsed once per render, and nest at most `max_render_depth` deep.

use std::collections::HashMap;
use std::sync::Arc;

use super::iteration::Seq;
use crate::ast::{Node, NodeKind, Partial, PartialName};
use crate::error::{Error, ErrorKind};
use crate::expr::lex::Tok;
use crate::parser::Parser;
use crate::render::{Flow, Frame, Renderer};
use crate::value::{LoopState, Value};

pub(crate) fn parse(p: &Parser, markup: &str, isolated: bool) -> Result<NodeKind, Error> {
    let tag = if isolated { "render" } else { "include" };
    let mut ep = p.expr(markup)?;
    let name = match ep.peek() {
        Some(Tok::Str(s)) => {
            let s = s.clone();
            ep.next();
            PartialName::Literal(s)
        }
        _ if isolated => return Err(Error::syntax("'render' needs a quoted template name")),
        _ => PartialName::Expr(ep.expr()?),
    };
    let (mut bound, mut alias, mut args) = (None, None, Vec::new());
    while !ep.at_end() {
        if ep.eat(&Tok::Comma) {
            continue;
        }
        if matches!(ep.peek2(), Some(Tok::Colon)) {
            let key = ep.ident()?;
            ep.next();
            args.push((key, ep.expr()?));
        } else if bound.is_none() && ep.eat_word("with") {
            bound = Some((ep.expr()?, false));
        } else if bound.is_none() && ep.eat_word("for") {
            bound = Some((ep.expr()?, true));
        } else if alias.is_none() && ep.eat_word("as") {
            alias = Some(ep.ident()?);
        } else {
            return Err(ep.error(&format!("an argument of '{tag}'")));
        }
    }
    Ok(NodeKind::Partial(Box::new(Partial {
        isolated,
        name,
        bound,
        alias,
        args,
    })))
}

fn load(r: &mut Renderer, name: &str) -> Result<Arc<Vec<Node>>, Error> {
    if let Some(nodes) = r.shared.partials.get(name) {
        return Ok(nodes.clone());
    }
    let Some(src) = r.shared.loader.load(name) else {
        return Err(Error::new(
            ErrorKind::TemplateNotFound,
            format!("no template named '{name}'"),
        ));
    };
    if src.len() > r.shared.limits.max_template_bytes {
        return Err(Error::new(
            ErrorKind::TemplateTooLarge,
            format!(
                "template '{name}' has {} bytes, more than the limit of {}",
                src.len(),
                r.shared.limits.max_template_bytes
            ),
        ));
    }
    let nodes = Parser::new(r.shared.strict_filters)
        .parse_document(&src)
        .map_err(|e| in_partial(e, name))?;
    let nodes = Arc::new(nodes);
    r.shared.partials.insert(name.to_string(), nodes.clone());
    Ok(nodes)
}

fn in_partial(e: Error, name: &str) -> Error {
    let mut out = Error::new(e.kind(), format!("in '{name}': {}", e.message()));
    if let (Some(l), Some(c)) = (e.line(), e.column()) {
        out = out.at(l, c);
    }
    out
}

pub(crate) fn render(r: &mut Renderer, p: &Partial, out: &mut String) -> Result<Flow, Error> {
    let name = match &p.name {
        PartialName::Literal(s) => s.clone(),
        PartialName::Expr(e) => r.eval(e)?.to_str().into_owned(),
    };
    if r.depth >= r.shared.limits.max_render_depth {
        return Err(Error::new(
            ErrorKind::RenderDepth,
            format!(
                "partials nested deeper than {} (at '{name}')",
                r.shared.limits.max_render_depth
            ),
        ));
    }
    let nodes = load(r, &name)?;
    let var = p.alias.clone().unwrap_or_else(|| name.clone());
    let mut args = HashMap::new();
    for (k, e) in &p.args {
        args.insert(k.clone(), r.eval(e)?);
    }
    let bound = match &p.bound {
        Some((e, is_for)) => Some((r.eval(e)?, *is_for)),
        None => None,
    };
    r.depth += 1;
    let result = if p.isolated {
        render_isolated(r, &nodes, &name, var, args, bound, out)
    } else {
        render_shared(r, &nodes, var, args, bound, out)
    };
    r.depth -= 1;
    result.map_err(|e| in_partial(e, &name))
}

fn render_shared(
    r: &mut Renderer,
    nodes: &[Node],
    var: String,
    args: HashMap<String, Value>,
    bound: Option<(Value, bool)>,
    out: &mut String,
) -> Result<Flow, Error> {
    let value = match bound {
        Some((v, _)) => v,
        None => r.resolve(&var).unwrap_or(Value::Nil),
    };
    r.frame.scopes.push(args);
    let result = (|| {
        if let Value::Array(items) = &value {
            for item in items.iter() {
                r.tick()?;
                if let Some(scope) = r.frame.scopes.last_mut() {
                    scope.insert(var.clone(), item.clone());
                }
                let flow = r.render_nodes(nodes, out)?;
                if flow != Flow::Normal {
                    return Ok(flow);
                }
            }
            return Ok(Flow::Normal);
        }
        if let Some(scope) = r.frame.scopes.last_mut() {
            scope.insert(var.clone(), value.clone());
        }
        r.render_nodes(nodes, out)
    })();
    r.frame.scopes.pop();
    result
}

fn render_isolated(
    r: &mut Renderer,
    nodes: &[Node],
    name: &str,
    var: String,
    args: HashMap<String, Value>,
    bound: Option<(Value, bool)>,
    out: &mut String,
) -> Result<Flow, Error> {
    let outer = std::mem::replace(&mut r.frame, Frame::new(args));
    let result = (|| {
        match bound {
            Some((value, true))
                if matches!(value, Value::Array(_) | Value::Range(..) | Value::Object(_)) =>
            {
                let seq = Seq::of(&value);
                let n = seq.len();
                let loop_name: Arc<str> = Arc::from(format!("{var}-{name}"));
                for i in 0..n {
                    r.tick()?;
                    let state = Value::Loop(Arc::new(LoopState {
                        name: loop_name.clone(),
                        index0: i as i64,
                        length: n as i64,
                        parent: None,
                        table: None,
                    }));
                    r.frame.scopes[0].insert(var.clone(), seq.get(i));
                    r.frame.scopes[0].insert("forloop".to_string(), state);
                    r.render_nodes(nodes, out)?;
                }
            }
            Some((value, _)) => {
                r.frame.scopes[0].insert(var.clone(), value);
                r.render_nodes(nodes, out)?;
            }
            None => {
                r.render_nodes(nodes, out)?;
            }
        }
        Ok(Flow::Normal)
    })();
    r.frame = outer;
    result
}
