//! Herald's Liquid template engine.
//!
//! Every message template (email subject and body, SMS, push, webhook body, in-app content)
//! is Liquid. A template is parsed once into an immutable [`Template`] (`Send + Sync`) and
//! rendered many times against JSON variables:
//!
//! ```
//! use herald_liquid::{parse, NoPartials, Options};
//! let t = parse("Hi {{ user.name | capitalize }}!", &Options::default()).unwrap();
//! let vars = serde_json::json!({"user": {"name": "ada"}});
//! let now = chrono::DateTime::UNIX_EPOCH;
//! assert_eq!(t.render(&vars, &NoPartials, now).unwrap(), "Hi Ada!");
//! ```
//!
//! Invariants:
//! - Pure: no IO, no clock, no environment, no global state. Partials come only from the
//!   [`Loader`] the caller passes; `now` (for `'now' | date`) is passed in.
//! - Sandboxed: output size, loop iterations (across nested loops, `tablerow`, `cycle`,
//!   partial loops and ranges that filters expand), partial depth and source size are
//!   limited ([`Limits`]); block and expression nesting is limited at parse time; ranges are
//!   walked lazily. No input makes it panic.
//! - Deterministic: the same template, variables, partials and `now` give the same output.
//!
//! Semantics follow Shopify's Liquid (checked against the golden-liquid suite); see
//! `docs/liquid.md` for what is supported and where Herald differs.

mod ast;
mod datetime;
mod error;
mod expr;
mod filters;
mod lexer;
mod number;
mod parser;
mod render;
mod tags;
mod value;
mod variables;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

pub use error::{Error, ErrorKind};
pub use filters::filter_names;
pub use variables::Variables;

/// Resource limits of parsing and rendering. The defaults are generous for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest output, and largest string or array built while rendering (bytes/items).
    pub max_output_bytes: usize,
    /// Total loop iterations of one render, nested loops and partials included.
    pub max_loop_iterations: u64,
    /// How deeply `include`/`render` may nest (a self-including template stops here).
    pub max_render_depth: u32,
    /// Largest template (and partial) source.
    pub max_template_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_output_bytes: 1 << 20,
            max_loop_iterations: 1_000_000,
            max_render_depth: 32,
            max_template_bytes: 1 << 20,
        }
    }
}

/// How templates are parsed and rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// An undefined variable or property is an `undefined_variable` error instead of nil.
    /// Default: off (Liquid's lax default).
    pub strict_variables: bool,
    /// An unknown filter is an `unknown_filter` parse error instead of passing its input
    /// through. Default: on.
    pub strict_filters: bool,
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            strict_variables: false,
            strict_filters: true,
            limits: Limits::default(),
        }
    }
}

/// Where `include` and `render` find partials.
pub trait Loader {
    /// The source of the partial `name` (as written in the tag, without extension).
    fn load(&self, name: &str) -> Option<String>;
}

impl Loader for HashMap<String, String> {
    fn load(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// A loader without partials: every `include`/`render` fails with `template_not_found`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPartials;

impl Loader for NoPartials {
    fn load(&self, _name: &str) -> Option<String> {
        None
    }
}

/// A parsed template: immutable, `Send + Sync`, cheap to render many times.
#[derive(Debug)]
pub struct Template {
    nodes: Vec<ast::Node>,
    options: Options,
}

/// Parses a template.
pub fn parse(source: &str, options: &Options) -> Result<Template, Error> {
    if source.len() > options.limits.max_template_bytes {
        return Err(Error::new(
            ErrorKind::TemplateTooLarge,
            format!(
                "template has {} bytes, more than the limit of {}",
                source.len(),
                options.limits.max_template_bytes
            ),
        ));
    }
    let nodes = parser::Parser::new(options.strict_filters).parse_document(source)?;
    Ok(Template {
        nodes,
        options: *options,
    })
}

impl Template {
    /// Renders with JSON variables (an object; anything else is an empty context).
    /// Object keys are seen in `serde_json`'s order; use [`Template::render_variables`]
    /// with [`Variables`] to keep a document's key order.
    pub fn render(
        &self,
        context: &serde_json::Value,
        loader: &dyn Loader,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        self.render_variables(&Variables::from(context), loader, now)
    }

    /// Renders with [`Variables`].
    pub fn render_variables(
        &self,
        variables: &Variables,
        loader: &dyn Loader,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let shared = render::Shared {
            loader,
            limits: self.options.limits,
            strict_variables: self.options.strict_variables,
            strict_filters: self.options.strict_filters,
            now,
            loops_left: self.options.limits.max_loop_iterations,
            partials: HashMap::new(),
        };
        let mut renderer = render::Renderer::new(shared, &variables.0);
        let mut out = String::new();
        renderer.render_nodes(&self.nodes, &mut out)?;
        Ok(out)
    }
}
