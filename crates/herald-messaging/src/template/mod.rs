//! Message templates: what each channel's template holds, its check when saved, and its
//! rendering — every part with Herald's Liquid ([`herald_liquid`]), then an email body in MJML
//! compiled to HTML ([`mrml`]). Errors name the part (`subject`, `body`, …) and the line and
//! column in it. Pure: partials come from a [`Loader`], `now` is passed in.

pub mod context;
mod mjml;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use herald_liquid::{Loader, Options, Template};
use serde::{Deserialize, Serialize};

use crate::channel::Channel;

pub use context::{context, Person};
pub use mjml::compile as compile_mjml;

/// The longest part of a template, in bytes.
pub const MAX_PART_BYTES: usize = 256 * 1024;

/// What a template is for: a channel's messages, or a snippet other templates `render` or
/// `include` by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Channel(Channel),
    Snippet,
}

impl Target {
    pub fn parse(s: &str) -> Option<Target> {
        if s == "snippet" {
            return Some(Target::Snippet);
        }
        s.parse::<Channel>().ok().map(Target::Channel)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Channel(c) => c.as_str(),
            Target::Snippet => "snippet",
        }
    }
}

/// How an email body (or an in-app message) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// HTML (email and in-app).
    Html,
    /// MJML, compiled to HTML after Liquid (email only).
    Mjml,
    /// Plain text.
    Text,
}

/// A template's parts as saved: Liquid sources, the body's format, and whether an undefined
/// variable is an error (`strict`) or renders empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = TemplateContent)]
pub struct Content {
    /// Email: the subject line (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Email: the preview text inboxes show after the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preheader: Option<String>,
    /// Push (required) and in-app: the title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Every target: the body (a webhook's request body; an SMS's text).
    pub body: String,
    /// Email: the plain-text part (absent: made from the HTML when sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Absent: `html` for email and in-app, `text` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    #[serde(default)]
    pub strict: bool,
}

/// Why a template does not check or render; `part` names the field, `line` and `column`
/// (1-based) the place in it when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{part}: {message}")]
pub struct TemplateError {
    pub code: &'static str,
    pub part: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl TemplateError {
    fn new(code: &'static str, part: &'static str, message: impl Into<String>) -> Self {
        TemplateError {
            code,
            part,
            message: message.into(),
            line: None,
            column: None,
        }
    }

    fn liquid(part: &'static str, e: &herald_liquid::Error) -> Self {
        TemplateError {
            code: e.code(),
            part,
            message: e.message().to_owned(),
            line: e.line(),
            column: e.column(),
        }
    }
}

/// A template's parts, rendered (the body as HTML when it was MJML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    #[serde(flatten)]
    pub parts: BTreeMap<&'static str, String>,
}

/// A checked template: every part parsed, ready to render any number of times.
#[derive(Debug)]
pub struct Checked {
    target: Target,
    format: Format,
    parts: Vec<(&'static str, Template)>,
}

/// Which parts a target takes, and which of them it requires.
fn parts_of(target: Target) -> (&'static [&'static str], &'static [&'static str]) {
    match target {
        Target::Channel(Channel::Email) => {
            (&["subject", "preheader", "body", "text"], &["subject"])
        }
        Target::Channel(Channel::Push) => (&["title", "body"], &["title"]),
        Target::Channel(Channel::InApp) => (&["title", "body"], &[]),
        Target::Channel(Channel::Sms | Channel::Webhook) | Target::Snippet => (&["body"], &[]),
    }
}

impl Content {
    fn part(&self, name: &str) -> Option<&str> {
        match name {
            "subject" => self.subject.as_deref(),
            "preheader" => self.preheader.as_deref(),
            "title" => self.title.as_deref(),
            "body" => Some(&self.body),
            "text" => self.text.as_deref(),
            _ => None,
        }
    }

    /// Check the content for a target: only the parts it takes, the ones it requires, a
    /// format it allows, each part at most [`MAX_PART_BYTES`] and valid Liquid, and an MJML
    /// body that compiles (with its Liquid rendered empty).
    pub fn check(&self, target: Target) -> Result<Checked, TemplateError> {
        let (allowed, required) = parts_of(target);
        for name in ["subject", "preheader", "title", "text"] {
            if self.part(name).is_some() && !allowed.contains(&name) {
                return Err(TemplateError::new(
                    "template_part",
                    part_name(name),
                    format!("a {} template has no `{name}`", target.as_str()),
                ));
            }
        }
        for &name in required {
            if self.part(name).is_none_or(|p| p.trim().is_empty()) {
                return Err(TemplateError::new(
                    "template_part",
                    part_name(name),
                    format!("a {} template needs a `{name}`", target.as_str()),
                ));
            }
        }
        let format = match (target, self.format) {
            (Target::Channel(Channel::Email), f) => f.unwrap_or(Format::Html),
            (Target::Channel(Channel::InApp), Some(f @ (Format::Html | Format::Text))) => f,
            (Target::Channel(Channel::InApp), None) => Format::Html,
            (_, None | Some(Format::Text)) => Format::Text,
            (_, Some(f)) => {
                return Err(TemplateError::new(
                    "template_format",
                    "format",
                    format!("a {} template cannot be {f:?}", target.as_str()).to_lowercase(),
                ))
            }
        };
        let options = Options {
            strict_variables: self.strict,
            ..Options::default()
        };
        let mut parts = Vec::new();
        for &name in allowed {
            let Some(source) = self.part(name) else {
                continue;
            };
            if source.len() > MAX_PART_BYTES {
                return Err(TemplateError::new(
                    "template_too_large",
                    part_name(name),
                    format!("`{name}` is over {MAX_PART_BYTES} bytes"),
                ));
            }
            let parsed = herald_liquid::parse(source, &options)
                .map_err(|e| TemplateError::liquid(part_name(name), &e))?;
            parts.push((part_name(name), parsed));
        }
        let checked = Checked {
            target,
            format,
            parts,
        };
        if format == Format::Mjml {
            checked.check_mjml()?;
        }
        Ok(checked)
    }
}

/// The part names as `'static` (for errors and rendered maps).
fn part_name(name: &str) -> &'static str {
    ["subject", "preheader", "title", "body", "text"]
        .into_iter()
        .find(|n| *n == name)
        .unwrap_or("body")
}

/// A loader that finds every partial, empty: for checking an MJML body's structure without
/// its partials.
struct EmptyPartials;

impl Loader for EmptyPartials {
    fn load(&self, _name: &str) -> Option<String> {
        Some(String::new())
    }
}

impl Checked {
    pub fn target(&self) -> Target {
        self.target
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The MJML body's structure compiles once its Liquid renders (laxly, with no data).
    fn check_mjml(&self) -> Result<(), TemplateError> {
        let Some((_, body)) = self.parts.iter().find(|(n, _)| *n == "body") else {
            return Ok(());
        };
        let lax = serde_json::json!({});
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        let source = match body.render(&lax, &EmptyPartials, epoch) {
            Ok(s) => s,
            // A strict template cannot render without data: its structure is checked when it
            // is rendered.
            Err(e) if e.code() == "undefined_variable" => return Ok(()),
            Err(e) => return Err(TemplateError::liquid("body", &e)),
        };
        mjml::compile(&source).map(|_| ())
    }

    /// Render every part with `context` (partials from `loader`); an MJML body is compiled to
    /// HTML after its Liquid.
    pub fn render(
        &self,
        context: &serde_json::Value,
        loader: &dyn Loader,
        now: DateTime<Utc>,
    ) -> Result<Rendered, TemplateError> {
        let mut parts = BTreeMap::new();
        for (name, template) in &self.parts {
            let mut out = template
                .render(context, loader, now)
                .map_err(|e| TemplateError::liquid(name, &e))?;
            if *name == "body" && self.format == Format::Mjml {
                out = mjml::compile(&out)?;
            }
            parts.insert(*name, out);
        }
        Ok(Rendered { parts })
    }
}

#[cfg(test)]
mod tests;
