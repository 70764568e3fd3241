//! Rendering: the render state (scopes, counters, budgets), the node walk, and output with
//! its size limit. Expression evaluation lives in `eval`.

mod eval;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::ast::{Node, NodeKind};
use crate::error::{Error, ErrorKind};
use crate::tags::{control, iteration, partials, variables};
use crate::value::Value;
use crate::{Limits, Loader};

/// What a body asks of the loop around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Normal,
    Break,
    Continue,
}

/// State shared by the whole render, partials included.
pub(crate) struct Shared<'a> {
    pub loader: &'a dyn Loader,
    pub limits: Limits,
    pub strict_variables: bool,
    pub strict_filters: bool,
    pub now: DateTime<Utc>,
    pub loops_left: u64,
    pub partials: HashMap<String, Arc<Vec<Node>>>,
}

/// Variables of one template and the `include`s it shares them with; `render` starts a
/// fresh frame.
#[derive(Default)]
pub(crate) struct Frame {
    /// Innermost last; `scopes[0]` is where `assign` and `capture` write.
    pub scopes: Vec<HashMap<String, Value>>,
    pub counters: HashMap<String, i64>,
    pub cycles: HashMap<String, usize>,
    pub for_offsets: HashMap<String, i64>,
    pub for_stack: Vec<Value>,
    pub ifchanged: Option<String>,
}

impl Frame {
    pub fn new(root: HashMap<String, Value>) -> Frame {
        Frame {
            scopes: vec![root],
            ..Frame::default()
        }
    }
}

pub(crate) struct Renderer<'a> {
    pub shared: Shared<'a>,
    pub globals: &'a Value,
    pub frame: Frame,
    /// Partial nesting (`include`/`render`).
    pub depth: u32,
    /// Body nesting across partials, so deep blocks in deep partials cannot exhaust the stack.
    nesting: u32,
}

/// Bodies nested in one render, across partials (each template alone allows 100).
const MAX_RENDER_NESTING: u32 = 400;

impl<'a> Renderer<'a> {
    pub fn new(shared: Shared<'a>, globals: &'a Value) -> Self {
        Renderer {
            shared,
            globals,
            frame: Frame::new(HashMap::new()),
            depth: 0,
            nesting: 0,
        }
    }

    /// Appends to an output buffer, failing past the output limit. Copying counts as work
    /// (one unit per KiB), so captures rebuilt in a loop stay bounded too.
    pub fn write(&mut self, out: &mut String, s: &str) -> Result<(), Error> {
        self.spend((s.len() / 1024) as u64)?;
        if out.len() + s.len() > self.shared.limits.max_output_bytes {
            return Err(Error::new(
                ErrorKind::OutputLimit,
                format!(
                    "output passed the limit of {} bytes",
                    self.shared.limits.max_output_bytes
                ),
            ));
        }
        out.push_str(s);
        Ok(())
    }

    /// Counts one loop iteration against the render's budget.
    pub fn tick(&mut self) -> Result<(), Error> {
        self.spend(1)
    }

    /// Spends `units` of the budget shared by loop iterations and other work.
    pub fn spend(&mut self, units: u64) -> Result<(), Error> {
        if units > self.shared.loops_left {
            self.shared.loops_left = 0;
            return Err(Error::new(
                ErrorKind::LoopLimit,
                format!(
                    "more than {} loop iterations (or as much work)",
                    self.shared.limits.max_loop_iterations
                ),
            ));
        }
        self.shared.loops_left -= units;
        Ok(())
    }

    pub fn render_nodes(&mut self, nodes: &[Node], out: &mut String) -> Result<Flow, Error> {
        if self.nesting >= MAX_RENDER_NESTING {
            return Err(Error::new(
                ErrorKind::RenderDepth,
                format!("blocks and partials nested deeper than {MAX_RENDER_NESTING}"),
            ));
        }
        self.nesting += 1;
        let result = self.render_each(nodes, out);
        self.nesting -= 1;
        result
    }

    fn render_each(&mut self, nodes: &[Node], out: &mut String) -> Result<Flow, Error> {
        for node in nodes {
            let flow = self
                .render_node(node, out)
                .map_err(|e| e.at(node.line, node.col))?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn render_node(&mut self, node: &Node, out: &mut String) -> Result<Flow, Error> {
        match &node.kind {
            NodeKind::Text(t) | NodeKind::Raw(t) => self.write(out, t)?,
            NodeKind::Output(f) => {
                let v = self.eval_filtered(f)?;
                let mut s = String::new();
                v.render_into(&mut s);
                self.write(out, &s)?;
            }
            NodeKind::Assign(name, f) => {
                let v = self.eval_filtered(f)?;
                self.frame.scopes[0].insert(name.clone(), v);
            }
            NodeKind::Capture(name, body) => return variables::render_capture(self, name, body),
            NodeKind::Increment(name) => variables::render_counter(self, name, 1, out)?,
            NodeKind::Decrement(name) => variables::render_counter(self, name, -1, out)?,
            NodeKind::If(i) => return control::render_if(self, i, out),
            NodeKind::Case(c) => return control::render_case(self, c, out),
            NodeKind::IfChanged(body) => return control::render_ifchanged(self, body, out),
            NodeKind::For(f) => return iteration::render_for(self, f, out),
            NodeKind::Tablerow(f) => return iteration::render_tablerow(self, f, out),
            NodeKind::Cycle(c) => iteration::render_cycle(self, c, out)?,
            NodeKind::Break => return Ok(Flow::Break),
            NodeKind::Continue => return Ok(Flow::Continue),
            NodeKind::Partial(p) => return partials::render(self, p, out),
        }
        Ok(Flow::Normal)
    }

    /// Looks a name up: innermost scope first, then counters, then the render variables.
    pub fn resolve(&self, name: &str) -> Option<Value> {
        for scope in self.frame.scopes.iter().rev() {
            if let Some(v) = scope.get(name) {
                return Some(v.clone());
            }
        }
        if let Some(n) = self.frame.counters.get(name) {
            return Some(Value::Int(*n));
        }
        match self.globals {
            Value::Object(o) => o.get(name).cloned(),
            _ => None,
        }
    }
}
