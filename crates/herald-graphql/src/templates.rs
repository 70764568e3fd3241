//! Templates over GraphQL: the REST functions of `herald_api::templates`, so both APIs check,
//! version and render alike (docs/templates.md). A template's content and a render's context
//! are the JSON documents REST takes.

use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject};
use axum::extract::State;
use chrono::{DateTime, Utc};
use herald_api::error::ApiError;
use herald_api::extract::{Json as RestJson, Path};
use herald_api::templates::test_send::{test_send, TestSendInput};
use herald_api::templates::{
    self as rest, DraftPreviewInput, RenderFormat, RenderInput, TemplatePreviewInput,
    TemplatePreviewView, TemplateSummaryView, TemplateView,
};
use herald_api::AppState;
use serde_json::Value;

use crate::error::OrGql;
use crate::mutation::writer;

fn state<'a>(ctx: &Context<'a>) -> State<AppState> {
    State(ctx.data_unchecked::<AppState>().clone())
}

/// A JSON document read as REST reads its body: a wrong shape is `unprocessable_body`.
fn read<T: serde::de::DeserializeOwned>(what: &str, value: Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| {
            ApiError::Rejected(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable_body",
                format!("`{what}` does not read: {e}"),
            )
        })
        .gql()
}

/// One version of a template.
#[derive(SimpleObject)]
pub struct Template {
    pub id: String,
    pub version: u32,
    pub name: String,
    /// `email`, `sms`, `push`, `webhook`, `in_app` or `snippet`.
    pub channel: String,
    /// Its parts: `subject`, `preheader`, `title`, `body`, `text`, `format`, `strict`.
    pub content: Json<Value>,
    pub created_at: DateTime<Utc>,
}

impl From<TemplateView> for Template {
    fn from(v: TemplateView) -> Self {
        Template {
            id: v.id,
            version: v.version,
            name: v.name,
            channel: v.channel,
            content: Json(v.content),
            created_at: v.created_at,
        }
    }
}

/// A template as listed: its current version.
#[derive(SimpleObject)]
pub struct TemplateSummary {
    pub id: String,
    pub name: String,
    pub channel: String,
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<TemplateSummaryView> for TemplateSummary {
    fn from(t: TemplateSummaryView) -> Self {
        TemplateSummary {
            id: t.id,
            name: t.name,
            channel: t.channel,
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A template as written.
/// What a provider said of a test send.
#[derive(SimpleObject)]
pub struct TestSend {
    pub channel: String,
    pub to: String,
    pub version: u32,
    pub provider: String,
    pub provider_message_id: Option<String>,
}

#[derive(InputObject)]
pub struct TemplateInput {
    /// New templates only (an update takes it from its argument).
    pub id: Option<String>,
    pub name: Option<String>,
    pub channel: String,
    pub content: Json<Value>,
    /// Updates only: save only if this is still the current version.
    pub expected_version: Option<u32>,
}

impl TemplateInput {
    fn into_rest(self) -> Result<rest::TemplateInput> {
        Ok(rest::TemplateInput {
            id: self.id,
            name: self.name,
            channel: self.channel,
            content: read("content", self.content.0)?,
            expected_version: self.expected_version,
        })
    }
}

/// A rendered preview: the version it came from (none for a draft), the body's format, and
/// the parts.
#[derive(SimpleObject)]
pub struct TemplatePreview {
    pub version: Option<u32>,
    pub format: String,
    pub parts: Json<Value>,
}

impl From<TemplatePreviewView> for TemplatePreview {
    fn from(p: TemplatePreviewView) -> Self {
        TemplatePreview {
            version: p.version,
            format: p.format,
            parts: Json(p.parts),
        }
    }
}

#[derive(Default)]
pub struct TemplatesQuery;

#[Object]
impl TemplatesQuery {
    /// Templates, by id (their current versions).
    async fn templates(&self, ctx: &Context<'_>) -> Result<Vec<TemplateSummary>> {
        let RestJson(all) = rest::list(state(ctx)).await.gql()?;
        Ok(all.into_iter().map(Into::into).collect())
    }

    /// A template: its current version, or the numbered one (also of a deleted template).
    async fn template(
        &self,
        ctx: &Context<'_>,
        id: String,
        version: Option<u32>,
    ) -> Result<Option<Template>> {
        let found = match version {
            Some(v) => rest::version(state(ctx), Path((id, v))).await,
            None => rest::get_one(state(ctx), Path(id)).await,
        };
        match found {
            Ok(RestJson(t)) => Ok(Some(t.into())),
            Err(ApiError::NotFound(..)) => Ok(None),
            Err(e) => Err(e).gql(),
        }
    }

    /// Every version of a template, newest first.
    async fn template_versions(&self, ctx: &Context<'_>, id: String) -> Result<Vec<Template>> {
        let RestJson(all) = rest::versions(state(ctx), Path(id)).await.gql()?;
        Ok(all.into_iter().map(Into::into).collect())
    }

    /// Render an ad-hoc Liquid template (`format: "mjml"` compiles the output to HTML).
    async fn render_template(
        &self,
        ctx: &Context<'_>,
        template: String,
        context: Option<Json<Value>>,
        partials: Option<Json<Value>>,
        #[graphql(default)] strict: bool,
        #[graphql(default)] mjml: bool,
    ) -> Result<String> {
        let input = RenderInput {
            template,
            context: context.map(|c| c.0).unwrap_or(Value::Null),
            partials: match partials {
                Some(p) => read("partials", p.0)?,
                None => Default::default(),
            },
            strict,
            format: mjml.then_some(RenderFormat::Mjml),
        };
        let RestJson(out) = rest::render(state(ctx), RestJson(input)).await.gql()?;
        Ok(out.output)
    }

    /// Render a template for a profile (any identifier) and an event: a stored version, or
    /// an unsaved draft (`content`).
    async fn preview_template(
        &self,
        ctx: &Context<'_>,
        id: String,
        profile: Option<String>,
        event: Option<Json<Value>>,
        version: Option<u32>,
        content: Option<Json<Value>>,
    ) -> Result<TemplatePreview> {
        let input = TemplatePreviewInput {
            profile,
            event: event.map(|e| e.0),
            version,
            content: match content {
                Some(c) => Some(read("content", c.0)?),
                None => None,
            },
        };
        let RestJson(p) = rest::preview(state(ctx), Path(id), RestJson(input))
            .await
            .gql()?;
        Ok(p.into())
    }

    /// Render an unsaved template of a channel for a profile and an event (the editor's
    /// preview before the first save).
    async fn preview_draft(
        &self,
        ctx: &Context<'_>,
        channel: String,
        content: Json<Value>,
        profile: Option<String>,
        event: Option<Json<Value>>,
    ) -> Result<TemplatePreview> {
        let input = DraftPreviewInput {
            channel,
            content: read("content", content.0)?,
            profile,
            event: event.map(|e| e.0),
        };
        let RestJson(p) = rest::preview_draft(state(ctx), RestJson(input))
            .await
            .gql()?;
        Ok(p.into())
    }
}

#[derive(Default)]
pub struct TemplatesMutation;

#[Object]
impl TemplatesMutation {
    /// Create a template (version 1).
    async fn create_template(&self, ctx: &Context<'_>, input: TemplateInput) -> Result<Template> {
        let (_, RestJson(t)) = rest::create(writer(ctx)?, RestJson(input.into_rest()?))
            .await
            .gql()?;
        Ok(t.into())
    }

    /// Save a new version of a template.
    async fn update_template(
        &self,
        ctx: &Context<'_>,
        id: String,
        input: TemplateInput,
    ) -> Result<Template> {
        let RestJson(t) = rest::update(writer(ctx)?, Path(id), RestJson(input.into_rest()?))
            .await
            .gql()?;
        Ok(t.into())
    }

    /// Render a template (for a profile and an event) and hand it to its channel's provider
    /// for one address, now: not a message to a person (no governor, no log, no tracking).
    async fn test_send_template(
        &self,
        ctx: &Context<'_>,
        id: String,
        to: Option<String>,
        profile: Option<String>,
        event: Option<Json<Value>>,
        version: Option<u32>,
    ) -> Result<TestSend> {
        let input = TestSendInput {
            to,
            profile,
            event: event.map(|e| e.0),
            version,
        };
        let RestJson(sent) = test_send(writer(ctx)?, Path(id), RestJson(input))
            .await
            .gql()?;
        Ok(TestSend {
            channel: sent.channel,
            to: sent.to,
            version: sent.version,
            provider: sent.provider,
            provider_message_id: sent.provider_message_id,
        })
    }

    /// Delete a template (its versions stay readable by number); returns its id.
    async fn delete_template(&self, ctx: &Context<'_>, id: String) -> Result<String> {
        rest::delete(writer(ctx)?, Path(id.clone())).await.gql()?;
        Ok(id)
    }
}
