//! The parsed template: a tree of nodes, immutable once built.

use crate::expr::{Condition, Expr, Filtered};

#[derive(Debug)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub line: u32,
    pub col: u32,
}

/// A block body and whether it is "blank" (only whitespace and silent tags).
#[derive(Debug, Default)]
pub(crate) struct Body {
    pub nodes: Vec<Node>,
    pub blank: bool,
}

#[derive(Debug)]
pub(crate) enum NodeKind {
    Text(String),
    /// `{% raw %}` content: text that never counts as blank unless empty.
    Raw(String),
    /// `{{ ... }}` and `{% echo ... %}`.
    Output(Filtered),
    Assign(String, Filtered),
    Capture(String, Body),
    Increment(String),
    Decrement(String),
    If(Box<If>),
    Case(Box<Case>),
    For(Box<For>),
    Tablerow(Box<For>),
    Cycle(Box<Cycle>),
    Break,
    Continue,
    IfChanged(Body),
    Partial(Box<Partial>),
}

#[derive(Debug)]
pub(crate) struct Branch {
    pub condition: Condition,
    /// `unless`: the first branch renders when its condition is false.
    pub negate: bool,
    pub body: Body,
}

#[derive(Debug)]
pub(crate) struct If {
    pub branches: Vec<Branch>,
    pub otherwise: Option<Body>,
}

#[derive(Debug)]
pub(crate) enum CaseArm {
    When(Vec<Expr>, Body),
    Else(Body),
}

#[derive(Debug)]
pub(crate) struct Case {
    pub subject: Expr,
    pub arms: Vec<CaseArm>,
}

#[derive(Debug)]
pub(crate) enum Offset {
    Continue,
    Expr(Expr),
}

#[derive(Debug)]
pub(crate) struct For {
    pub var: String,
    pub collection: Expr,
    /// `var-collection markup`: the key of `offset: continue` and `forloop.name`.
    pub name: String,
    pub reversed: bool,
    pub limit: Option<Expr>,
    pub offset: Option<Offset>,
    /// `tablerow` only.
    pub cols: Option<Expr>,
    pub body: Body,
    pub otherwise: Option<Body>,
}

#[derive(Debug)]
pub(crate) enum CycleGroup {
    Named(Expr),
    /// Unnamed cycles are grouped by their values' markup.
    Unnamed(String),
}

#[derive(Debug)]
pub(crate) struct Cycle {
    pub group: CycleGroup,
    pub values: Vec<Expr>,
}

#[derive(Debug)]
pub(crate) enum PartialName {
    Literal(String),
    Expr(Expr),
}

#[derive(Debug)]
pub(crate) struct Partial {
    /// `render` (isolated scope) or `include` (shared scope).
    pub isolated: bool,
    pub name: PartialName,
    /// `with x` / `for x`, and whether it was `for`.
    pub bound: Option<(Expr, bool)>,
    pub alias: Option<String>,
    pub args: Vec<(String, Expr)>,
}

impl Node {
    pub fn is_blank(&self) -> bool {
        match &self.kind {
            NodeKind::Text(t) => t.chars().all(char::is_whitespace),
            NodeKind::Raw(t) => t.is_empty(),
            NodeKind::Assign(..) | NodeKind::Capture(..) => true,
            NodeKind::If(i) => {
                i.branches.iter().all(|b| b.body.blank)
                    && i.otherwise.as_ref().is_none_or(|b| b.blank)
            }
            NodeKind::Case(c) => c.arms.iter().all(|a| match a {
                CaseArm::When(_, b) | CaseArm::Else(b) => b.blank,
            }),
            NodeKind::For(f) | NodeKind::Tablerow(f) => {
                f.body.blank && f.otherwise.as_ref().is_none_or(|b| b.blank)
            }
            NodeKind::IfChanged(b) => b.blank,
            _ => false,
        }
    }
}

impl Body {
    pub fn new(nodes: Vec<Node>) -> Body {
        let blank = nodes.iter().all(Node::is_blank);
        Body { nodes, blank }
    }

    /// Shopify drops the whitespace of a block whose bodies are all blank: when every body
    /// given is blank, their text nodes go.
    pub fn strip_if_blank(bodies: &mut [&mut Body]) {
        if bodies.iter().all(|b| b.blank) {
            for b in bodies.iter_mut() {
                b.nodes.retain(|n| !matches!(n.kind, NodeKind::Text(_)));
            }
        }
    }
}
