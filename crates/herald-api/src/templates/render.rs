//! Rendering: `POST /api/v1/templates/render` (an ad-hoc template with the caller's context,
//! for editors, tools and tests) and the context of a stored template's preview.

use std::collections::HashMap;

use axum::extract::State;
use herald_messaging::template::{Content, Format, Target, TemplateError};
use herald_pipeline::messaging::Snippets;
use herald_storage::Store;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::located;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::AppState;

/// An ad-hoc template and what it renders with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderInput {
    /// Liquid source (at most 256 KiB).
    pub template: String,
    /// The render variables, an object (absent: none; anything else: 400 `invalid_context`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: serde_json::Value,
    /// Partials for `{% render 'name' %}` / `{% include 'name' %}`, by name; a name not here
    /// is looked up among the stored snippets.
    #[serde(default)]
    pub partials: HashMap<String, String>,
    /// An undefined variable is an error instead of empty.
    #[serde(default)]
    pub strict: bool,
    /// `liquid` (default) or `mjml`: the output compiled from MJML to HTML.
    #[serde(default)]
    pub format: Option<RenderFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RenderFormat {
    Liquid,
    Mjml,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RenderOutput {
    pub output: String,
}

/// Partials: the given ones first, then stored snippets (their current version).
pub(crate) struct Partials<'a> {
    pub given: &'a HashMap<String, String>,
    pub store: &'a dyn Store,
}

impl herald_liquid::Loader for Partials<'_> {
    fn load(&self, name: &str) -> Option<String> {
        match self.given.get(name) {
            Some(source) => Some(source.clone()),
            None => Snippets(self.store).load(name),
        }
    }
}

/// Render a Liquid template (then MJML, if asked) with the given context.
#[utoipa::path(post, path = "/api/v1/templates/render", tag = "templates", request_body = RenderInput,
    responses((status = 200, body = RenderOutput),
        (status = 400, description = "`invalid_context`, or the template does not parse or render: a Liquid code (`liquid_syntax`, `unknown_tag`, `unknown_filter`, `filter_argument`, `liquid_type`, `undefined_variable`, `output_limit`, `loop_limit`, `render_depth`, `nesting_depth`, `template_not_found`, `template_too_large`) or `mjml_invalid`; `location` has `part`, `line` and `column`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn render(
    State(state): State<AppState>,
    Json(input): Json<RenderInput>,
) -> Result<Json<RenderOutput>, ApiError> {
    let content = Content {
        subject: None,
        preheader: None,
        title: None,
        body: input.template,
        text: None,
        format: None,
        strict: input.strict,
    };
    if !(input.context.is_object() || input.context.is_null()) {
        return Err(ApiError::bad_request(
            "invalid_context",
            "`context` is an object (the template's variables)",
        ));
    }
    let mjml = input.format == Some(RenderFormat::Mjml);
    let target = Target::Snippet;
    let output = crate::admin::blocking(&state, move |store| {
        Ok(run(
            &content,
            target,
            mjml,
            &input.context,
            &input.partials,
            store,
        ))
    })
    .await?
    .map_err(|e| {
        located(TemplateError {
            part: "template",
            ..e
        })
    })?;
    Ok(Json(RenderOutput { output }))
}

fn run(
    content: &Content,
    target: Target,
    mjml: bool,
    context: &serde_json::Value,
    partials: &HashMap<String, String>,
    store: &dyn Store,
) -> Result<String, TemplateError> {
    let checked = content.check(target)?;
    let mut rendered = checked.render(
        context,
        &Partials {
            given: partials,
            store,
        },
        herald_storage::clock::now(),
    )?;
    let body = rendered.parts.remove("body").unwrap_or_default();
    if mjml {
        herald_messaging::template::compile_mjml(&body)
    } else {
        Ok(body)
    }
}

/// The format a checked content's body ends up in, for views.
pub(crate) fn format_name(format: Format) -> &'static str {
    match format {
        Format::Html => "html",
        Format::Mjml => "mjml",
        Format::Text => "text",
    }
}
