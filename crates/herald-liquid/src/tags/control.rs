//! `if`/`elsif`/`else`, `unless`, `case`/`when` and `ifchanged`.

use crate::ast::{Body, Branch, Case, CaseArm, If, NodeKind};
use crate::error::Error;
use crate::expr::lex::Tok;
use crate::parser::{Parser, Tokens};
use crate::render::{Flow, Renderer};
use crate::value::liquid_eq;

pub(crate) fn parse_if(
    p: &mut Parser,
    ts: &mut Tokens,
    markup: &str,
    negate: bool,
) -> Result<NodeKind, Error> {
    let end = if negate { "endunless" } else { "endif" };
    let ends = ["elsif", "else", end];
    let mut branches = Vec::new();
    let mut otherwise: Option<Body> = None;
    let mut condition_markup = markup.to_string();
    let mut first = true;
    loop {
        let mut ep = p.expr(&condition_markup)?;
        let condition = ep.condition()?;
        ep.expect_end()?;
        let (body, stop) = p.parse_body(ts, &ends)?;
        branches.push(Branch {
            condition,
            negate: negate && first,
            body,
        });
        first = false;
        let Some(stop) = stop else { break };
        match stop.name.as_str() {
            "elsif" => condition_markup = stop.markup,
            "else" => {
                let (body, mut stop) = p.parse_body(ts, &ends)?;
                otherwise = Some(body);
                // Branches after `else` never render; they are parsed and dropped.
                while let Some(s) = stop.filter(|s| s.name != end) {
                    if s.name == "elsif" {
                        let mut ep = p.expr(&s.markup)?;
                        ep.condition()?;
                        ep.expect_end()?;
                    }
                    stop = p.parse_body(ts, &ends)?.1;
                }
                break;
            }
            _ => break,
        }
    }
    let mut bodies: Vec<&mut Body> = branches.iter_mut().map(|b| &mut b.body).collect();
    if let Some(o) = otherwise.as_mut() {
        bodies.push(o);
    }
    Body::strip_if_blank(&mut bodies);
    Ok(NodeKind::If(Box::new(If {
        branches,
        otherwise,
    })))
}

pub(crate) fn parse_case(p: &mut Parser, ts: &mut Tokens, markup: &str) -> Result<NodeKind, Error> {
    let mut ep = p.expr(markup)?;
    let subject = ep.expr()?;
    ep.expect_end()?;
    let ends = ["when", "else", "endcase"];
    // Whatever stands between `case` and the first `when` is ignored.
    let (_, mut stop) = p.parse_body(ts, &ends)?;
    let mut arms = Vec::new();
    while let Some(s) = stop.take() {
        match s.name.as_str() {
            "when" => {
                let mut ep = p.expr(&s.markup)?;
                let mut values = vec![ep.expr()?];
                while ep.eat(&Tok::Comma) || ep.eat_word("or") {
                    values.push(ep.expr()?);
                }
                ep.expect_end()?;
                let (body, next) = p.parse_body(ts, &ends)?;
                arms.push(CaseArm::When(values, body));
                stop = next;
            }
            "else" => {
                let (body, next) = p.parse_body(ts, &ends)?;
                arms.push(CaseArm::Else(body));
                stop = next;
            }
            _ => break,
        }
    }
    let mut bodies: Vec<&mut Body> = arms
        .iter_mut()
        .map(|a| match a {
            CaseArm::When(_, b) | CaseArm::Else(b) => b,
        })
        .collect();
    Body::strip_if_blank(&mut bodies);
    Ok(NodeKind::Case(Box::new(Case { subject, arms })))
}

pub(crate) fn parse_ifchanged(p: &mut Parser, ts: &mut Tokens) -> Result<NodeKind, Error> {
    let (mut body, _) = p.parse_body(ts, &["endifchanged"])?;
    Body::strip_if_blank(&mut [&mut body]);
    Ok(NodeKind::IfChanged(body))
}

pub(crate) fn render_if(r: &mut Renderer, node: &If, out: &mut String) -> Result<Flow, Error> {
    for b in &node.branches {
        if r.eval_condition(&b.condition)? != b.negate {
            return r.render_nodes(&b.body.nodes, out);
        }
    }
    match &node.otherwise {
        Some(body) => r.render_nodes(&body.nodes, out),
        None => Ok(Flow::Normal),
    }
}

/// Every matching `when` value renders its body; `else` renders while nothing matched yet.
pub(crate) fn render_case(r: &mut Renderer, node: &Case, out: &mut String) -> Result<Flow, Error> {
    let subject = r.eval(&node.subject)?;
    let mut run_else = true;
    for arm in &node.arms {
        match arm {
            CaseArm::When(values, body) => {
                for v in values {
                    if liquid_eq(&subject, &r.eval(v)?) {
                        run_else = false;
                        let flow = r.render_nodes(&body.nodes, out)?;
                        if flow != Flow::Normal {
                            return Ok(flow);
                        }
                    }
                }
            }
            CaseArm::Else(body) if run_else => {
                let flow = r.render_nodes(&body.nodes, out)?;
                if flow != Flow::Normal {
                    return Ok(flow);
                }
            }
            CaseArm::Else(_) => {}
        }
    }
    Ok(Flow::Normal)
}

pub(crate) fn render_ifchanged(
    r: &mut Renderer,
    body: &Body,
    out: &mut String,
) -> Result<Flow, Error> {
    let mut buf = String::new();
    let flow = r.render_nodes(&body.nodes, &mut buf)?;
    if r.frame.ifchanged.as_deref() != Some(buf.as_str()) {
        r.write(out, &buf)?;
        r.frame.ifchanged = Some(buf);
    }
    Ok(flow)
}
