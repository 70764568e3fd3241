//! Templates over REST (docs/templates.md): versioned templates per channel (and snippets
//! other templates render), their check when saved, a preview for a chosen profile, and the
//! ad-hoc render (`render.rs`). Routed inside the admin router.

pub mod render;
pub mod test_send;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use herald_messaging::template::{context, Content, Person, Target, TemplateError};
use herald_storage::templates::{Expect, Saved, TemplateSummary, TemplateVersion};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::admin::{audiences::valid_id, blocking, get_profile, views::ProfileView};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;

pub use render::{render, RenderFormat, RenderInput, RenderOutput};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/templates", get(list).post(create))
        .route("/api/v1/templates/render", post(render))
        .route("/api/v1/templates/preview", post(preview_draft))
        .route(
            "/api/v1/templates/{id}",
            get(get_one).put(update).delete(delete),
        )
        .route("/api/v1/templates/{id}/versions", get(versions))
        .route("/api/v1/templates/{id}/versions/{version}", get(version))
        .route("/api/v1/templates/{id}/preview", post(preview))
        .route("/api/v1/templates/{id}/test", post(test_send::test_send))
}

/// A template error as a 400 with its place: `{"part", "line", "column"}`.
pub(crate) fn located(e: TemplateError) -> ApiError {
    let at = serde_json::json!({"part": e.part, "line": e.line, "column": e.column});
    ApiError::Located(e.code, e.message, at)
}

/// A template as written: a channel (`email`, `sms`, `push`, `webhook`, `in_app`) or
/// `snippet`, a name, and its parts.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    /// New templates only: 1–64 lowercase letters, digits, `_` or `-`, not `render` or
    /// `preview` (a snippet is rendered by this id).
    #[serde(default)]
    pub id: Option<String>,
    /// 1–200 characters (absent: the id).
    #[serde(default)]
    pub name: Option<String>,
    pub channel: String,
    pub content: Content,
    /// `PUT` only: save only if this is still the current version (else 409
    /// `template_version_conflict`).
    #[serde(default, deserialize_with = "crate::extract::whole_u32")]
    pub expected_version: Option<u32>,
}

/// One version of a template.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateView {
    pub id: String,
    pub version: u32,
    pub name: String,
    pub channel: String,
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<TemplateVersion> for TemplateView {
    fn from(v: TemplateVersion) -> Self {
        TemplateView {
            id: v.template_id,
            version: v.version,
            name: v.name,
            channel: v.channel,
            content: v.content,
            created_at: v.created_at,
        }
    }
}

/// A template as listed: its current version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateSummaryView {
    pub id: String,
    pub name: String,
    pub channel: String,
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<TemplateSummary> for TemplateSummaryView {
    fn from(t: TemplateSummary) -> Self {
        TemplateSummaryView {
            id: t.id,
            name: t.name,
            channel: t.channel,
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// Ids that are paths of their own under `/api/v1/templates/`.
const RESERVED_IDS: [&str; 2] = ["render", "preview"];

fn missing(id: &str) -> ApiError {
    ApiError::NotFound(
        "template_not_found",
        format!("no template has the id `{id}`"),
    )
}

/// What a template's `channel` names (400 `invalid_channel` for anything else).
fn target_of(channel: &str) -> Result<Target, ApiError> {
    Target::parse(channel).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_channel",
            format!(
                "`channel` is one of email, sms, push, webhook, in_app or snippet, not `{channel}`"
            ),
        )
    })
}

/// The input checked: a known channel, a name of 1–200 characters, and content that checks
/// for that channel. Returns the name.
fn checked(input: &TemplateInput, id: &str) -> Result<String, ApiError> {
    let target = target_of(&input.channel)?;
    let name = input.name.as_deref().unwrap_or(id).trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "invalid_name",
            "a template's `name` is 1–200 characters",
        ));
    }
    input.content.check(target).map_err(located)?;
    Ok(name)
}

fn content_json(c: &Content) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(c).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Templates, by id (their current versions).
#[utoipa::path(get, path = "/api/v1/templates", tag = "templates",
    responses((status = 200, body = Vec<TemplateSummaryView>)), security(("admin_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
) -> Result<Json<Vec<TemplateSummaryView>>, ApiError> {
    let all = blocking(&state, |s| s.templates()).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// Create a template: version 1.
#[utoipa::path(post, path = "/api/v1/templates", tag = "templates", request_body = TemplateInput,
    responses((status = 201, body = TemplateView),
        (status = 400, description = "`missing_id`, `invalid_id`, `invalid_channel`, `invalid_name`, `template_part` (a part the channel does not take or needs), `template_format`, `template_too_large`, a Liquid error code or `mjml_invalid`; `location` says which part, line and column", body = ErrorBody),
        (status = 409, description = "`template_exists`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Json(input): Json<TemplateInput>,
) -> Result<(StatusCode, Json<TemplateView>), ApiError> {
    let id = input
        .id
        .clone()
        .ok_or_else(|| ApiError::bad_request("missing_id", "a template needs an `id`"))?;
    if !valid_id(&id) || RESERVED_IDS.contains(&id.as_str()) {
        return Err(ApiError::bad_request(
            "invalid_id",
            "a template id is 1–64 lowercase letters, digits, `_` or `-`, and not `render` or `preview`",
        ));
    }
    let name = checked(&input, &id)?;
    let content = content_json(&input.content)?;
    let key = id.clone();
    let saved = blocking(&state, move |s| {
        s.save_template(
            &key,
            &name,
            &input.channel,
            &content,
            Expect::Absent,
            herald_storage::clock::now(),
        )
    })
    .await?;
    match saved {
        Saved::New(v) => Ok((StatusCode::CREATED, Json(v.into()))),
        Saved::Conflict { .. } => Err(ApiError::Conflict(
            "template_exists",
            format!("a template has the id `{id}`; PUT saves a new version"),
        )),
    }
}

/// A template's current version.
#[utoipa::path(get, path = "/api/v1/templates/{id}", tag = "templates", params(("id" = String, Path)),
    responses((status = 200, body = TemplateView), (status = 404, description = "`template_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TemplateView>, ApiError> {
    let key = id.clone();
    let found = blocking(&state, move |s| s.template(&key, None)).await?;
    Ok(Json(found.ok_or_else(|| missing(&id))?.into()))
}

/// Save a new version of a template (its channel stays).
#[utoipa::path(put, path = "/api/v1/templates/{id}", tag = "templates", request_body = TemplateInput,
    params(("id" = String, Path)),
    responses((status = 200, body = TemplateView),
        (status = 400, description = "as for create, and `channel_changed`", body = ErrorBody),
        (status = 404, description = "`template_not_found`", body = ErrorBody),
        (status = 409, description = "`template_version_conflict`: `expected_version` is not the current version", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<TemplateInput>,
) -> Result<Json<TemplateView>, ApiError> {
    if input.id.as_deref().is_some_and(|given| given != id) {
        return Err(ApiError::bad_request(
            "invalid_id",
            "the body's `id` differs from the path's",
        ));
    }
    let name = checked(&input, &id)?;
    let content = content_json(&input.content)?;
    let key = id.clone();
    let channel = input.channel.clone();
    let outcome = blocking(&state, move |s| {
        let Some(current) = s.template(&key, None)? else {
            return Ok(None);
        };
        if current.channel != channel {
            return Ok(Some(Err(current.channel)));
        }
        let expect = input
            .expected_version
            .map_or(Expect::Version(current.version), Expect::Version);
        let now = herald_storage::clock::now();
        Ok(Some(Ok(s.save_template(
            &key, &name, &channel, &content, expect, now,
        )?)))
    })
    .await?;
    match outcome {
        None | Some(Ok(Saved::Conflict { current: 0 })) => Err(missing(&id)),
        Some(Err(was)) => Err(ApiError::bad_request(
            "channel_changed",
            format!("template `{id}` is for {was}; a template keeps its channel"),
        )),
        Some(Ok(Saved::New(v))) => Ok(Json(v.into())),
        Some(Ok(Saved::Conflict { current })) => Err(ApiError::Conflict(
            "template_version_conflict",
            format!("template `{id}` is at version {current} now; read it and save again"),
        )),
    }
}

/// Delete a template: it is no longer listed or rendered; its versions stay readable (by
/// number) for the messages sent from them, and its id may be used again.
#[utoipa::path(delete, path = "/api/v1/templates/{id}", tag = "templates", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "`template_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let key = id.clone();
    if blocking(&state, move |s| s.delete_template(&key)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(missing(&id))
    }
}

/// Every version of a template, newest first.
#[utoipa::path(get, path = "/api/v1/templates/{id}/versions", tag = "templates", params(("id" = String, Path)),
    responses((status = 200, body = Vec<TemplateView>), (status = 404, description = "`template_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn versions(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<TemplateView>>, ApiError> {
    let key = id.clone();
    let all = blocking(&state, move |s| s.template_versions(&key)).await?;
    if all.is_empty() {
        return Err(missing(&id));
    }
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// One version of a template, by number (also of a deleted template).
#[utoipa::path(get, path = "/api/v1/templates/{id}/versions/{version}", tag = "templates",
    params(("id" = String, Path), ("version" = u32, Path)),
    responses((status = 200, body = TemplateView), (status = 404, description = "`template_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn version(
    State(state): State<AppState>,
    Path((id, number)): Path<(String, u32)>,
) -> Result<Json<TemplateView>, ApiError> {
    let key = id.clone();
    let found = blocking(&state, move |s| s.template(&key, Some(number))).await?;
    Ok(Json(
        found
            .ok_or_else(|| {
                ApiError::NotFound(
                    "template_not_found",
                    format!("template `{id}` has no version {number}"),
                )
            })?
            .into(),
    ))
}

/// What to preview a template with.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatePreviewInput {
    /// Render for this profile (any identifier, `kind:value`); absent: no profile.
    #[serde(default)]
    pub profile: Option<String>,
    /// The triggering event (its JSON), as `event` in the template.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub event: Option<serde_json::Value>,
    /// A version to render (absent: the current one).
    #[serde(default, deserialize_with = "crate::extract::whole_u32")]
    pub version: Option<u32>,
    /// Unsaved parts to render instead of a stored version (the editor's draft).
    #[serde(default)]
    pub content: Option<Content>,
}

/// A preview: the rendered parts, and the version they came from (`null` for a draft).
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplatePreviewView {
    pub version: Option<u32>,
    pub format: String,
    /// `subject`, `preheader`, `title`, `body`, `text`: as the channel has them.
    #[schema(value_type = Object)]
    pub parts: serde_json::Value,
}

fn person_of(view: ProfileView) -> Person {
    Person {
        id: view.profile_id,
        traits: view.traits,
        computed: view.computed_traits,
        audiences: view.audiences,
        identifiers: view
            .identities
            .into_iter()
            .map(|i| (i.kind, i.value))
            .collect(),
        timezone: view.timezone,
        locale: view.locale,
    }
}

/// Render a template (a version, or a draft) for a profile, with an event.
#[utoipa::path(post, path = "/api/v1/templates/{id}/preview", tag = "templates", request_body = TemplatePreviewInput,
    params(("id" = String, Path)),
    responses((status = 200, body = TemplatePreviewView),
        (status = 400, description = "a Liquid error code or `mjml_invalid` (with `location`), or `invalid_identifier`", body = ErrorBody),
        (status = 404, description = "`template_not_found` or `profile_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn preview(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<TemplatePreviewInput>,
) -> Result<Json<TemplatePreviewView>, ApiError> {
    let key = id.clone();
    let stored = blocking(&state, move |s| s.template(&key, input.version)).await?;
    let stored = stored.ok_or_else(|| missing(&id))?;
    let target = Target::parse(&stored.channel).ok_or_else(|| {
        ApiError::Internal(format!("template `{id}`: channel {}", stored.channel))
    })?;
    let (content, version) = match input.content {
        Some(draft) => (draft, None),
        None => (
            serde_json::from_value::<Content>(stored.content).map_err(|e| {
                ApiError::Internal(format!("template `{id}` v{}: {e}", stored.version))
            })?,
            Some(stored.version),
        ),
    };
    let parts = rendered(&state, target, content, input.profile, input.event).await?;
    Ok(Json(TemplatePreviewView { version, ..parts }))
}

/// An unsaved template, with its channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftPreviewInput {
    pub channel: String,
    pub content: Content,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub event: Option<serde_json::Value>,
}

/// Render an unsaved template (of any channel) for a profile, with an event: the editor's
/// preview before the first save.
#[utoipa::path(post, path = "/api/v1/templates/preview", tag = "templates", request_body = DraftPreviewInput,
    responses((status = 200, body = TemplatePreviewView),
        (status = 400, description = "`invalid_channel`, a template check's code (with `location`), or `invalid_identifier`", body = ErrorBody),
        (status = 404, description = "`profile_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn preview_draft(
    State(state): State<AppState>,
    Json(input): Json<DraftPreviewInput>,
) -> Result<Json<TemplatePreviewView>, ApiError> {
    let target = target_of(&input.channel)?;
    Ok(Json(
        rendered(&state, target, input.content, input.profile, input.event).await?,
    ))
}

/// Check and render `content` for a profile (any identifier) and an event.
async fn rendered(
    state: &AppState,
    target: Target,
    content: Content,
    profile: Option<String>,
    event: Option<serde_json::Value>,
) -> Result<TemplatePreviewView, ApiError> {
    let person = match profile {
        Some(who) => {
            let Json(view) = get_profile(State(state.clone()), Path(who)).await?;
            Some(person_of(view))
        }
        None => None,
    };
    let context = context(
        person.as_ref(),
        event.as_ref(),
        serde_json::json!({"id": "preview"}),
    );
    let (format, parts) = blocking(state, move |s| {
        let given = std::collections::HashMap::new();
        let partials = render::Partials {
            given: &given,
            store: s,
        };
        Ok(content.check(target).and_then(|c| {
            let rendered = c.render(&context, &partials, herald_storage::clock::now())?;
            Ok((c.format(), rendered))
        }))
    })
    .await?
    .map_err(located)?;
    Ok(TemplatePreviewView {
        version: None,
        format: render::format_name(format).to_owned(),
        parts: serde_json::to_value(parts.parts).map_err(|e| ApiError::Internal(e.to_string()))?,
    })
}
