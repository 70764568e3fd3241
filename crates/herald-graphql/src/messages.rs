//! Messages over GraphQL: the REST functions of `herald_api::messages` (docs/messages.md).

use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject};
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use herald_api::error::ApiError;
use herald_api::extract::{Json as RestJson, Path, Query};
use herald_api::messages::log::ListQuery;
use herald_api::messages::{self as rest, LogQuery, MessageView, SendInput};
use herald_api::AppState;
use serde_json::Value;

use crate::error::OrGql;
use crate::mutation::writer;

fn state(ctx: &Context<'_>) -> State<AppState> {
    State(ctx.data_unchecked::<AppState>().clone())
}

/// A message and where it stands.
#[derive(SimpleObject)]
pub struct Message {
    pub id: String,
    pub profile_id: String,
    pub channel: String,
    pub source: String,
    pub template_id: String,
    pub template_version: u32,
    pub category: String,
    pub topic: Option<String>,
    pub priority: String,
    pub transactional: bool,
    /// `queued`, `deferred`, `sending`, `sent`, `skipped`, `failed`, …
    pub status: String,
    /// The governor's reason or the provider's error code.
    pub reason: Option<String>,
    pub address: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub error: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<MessageView> for Message {
    fn from(m: MessageView) -> Self {
        Message {
            id: m.id,
            profile_id: m.profile_id,
            channel: m.channel,
            source: m.source,
            template_id: m.template_id,
            template_version: m.template_version,
            category: m.category,
            topic: m.topic,
            priority: m.priority,
            transactional: m.transactional,
            status: m.status,
            reason: m.reason,
            address: m.address,
            due_at: m.due_at,
            decided_at: m.decided_at,
            attempts: m.attempts,
            provider: m.provider,
            provider_message_id: m.provider_message_id,
            error: m.error,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A page of messages, newest first.
#[derive(SimpleObject)]
pub struct MessagePage {
    pub nodes: Vec<Message>,
    /// Pass as `before` for the next page; null on the last.
    pub next: Option<String>,
}

/// A template to send to one person.
#[derive(InputObject)]
pub struct SendMessageInput {
    pub template: String,
    /// Any identifier, `kind:value`.
    pub profile: String,
    pub event: Option<Json<Value>>,
    #[graphql(default)]
    pub transactional: bool,
    pub category: Option<String>,
    pub priority: Option<String>,
    pub topic: Option<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Default)]
pub struct MessagesQuery;

#[Object]
impl MessagesQuery {
    /// A message by id.
    async fn message(&self, ctx: &Context<'_>, id: String) -> Result<Option<Message>> {
        match rest::message(state(ctx), Path(id)).await {
            Ok(RestJson(m)) => Ok(Some(m.into())),
            Err(ApiError::NotFound(..)) => Ok(None),
            Err(e) => Err(e).gql(),
        }
    }

    /// Every message, newest first, filtered by status, channel, source (`api`,
    /// `broadcast:<id>`) and template: the message log.
    #[allow(clippy::too_many_arguments)]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        status: Option<String>,
        channel: Option<String>,
        source: Option<String>,
        template: Option<String>,
        limit: Option<usize>,
        before: Option<String>,
    ) -> Result<MessagePage> {
        let q = ListQuery {
            status,
            channel,
            source,
            template,
            limit,
            before,
        };
        let RestJson(page) = rest::list_messages(state(ctx), Query(q)).await.gql()?;
        Ok(MessagePage {
            nodes: page.messages.into_iter().map(Into::into).collect(),
            next: page.next,
        })
    }

    /// What happened to a message after it was sent: the delivery events on its person's
    /// timeline that name it, oldest first.
    async fn message_events(&self, ctx: &Context<'_>, id: String) -> Result<Vec<Json<Value>>> {
        let RestJson(found) = rest::message_events(state(ctx), Path(id)).await.gql()?;
        Ok(found.events.into_iter().map(Json).collect())
    }

    /// The messaging configuration in force (`GET /api/v1/messaging/settings`): each
    /// channel's provider with credentials masked, the governor's policy, tracking, address
    /// rules, topics, and whether Postmark's webhooks are taken.
    async fn messaging_settings(&self, ctx: &Context<'_>) -> Result<Json<Value>> {
        let RestJson(settings) = herald_api::messaging_settings::messaging_settings(state(ctx))
            .await
            .gql()?;
        Ok(Json(serde_json::to_value(settings)?))
    }

    /// A person's messages (any identifier), newest first.
    async fn profile_messages(
        &self,
        ctx: &Context<'_>,
        profile: String,
        limit: Option<usize>,
        before: Option<String>,
    ) -> Result<MessagePage> {
        let RestJson(page) =
            rest::profile_messages(state(ctx), Path(profile), Query(LogQuery { limit, before }))
                .await
                .gql()?;
        Ok(MessagePage {
            nodes: page.messages.into_iter().map(Into::into).collect(),
            next: page.next,
        })
    }
}

#[derive(Default)]
pub struct MessagesMutation;

#[Object]
impl MessagesMutation {
    /// Queue a template for one person (the send pipeline decides, renders and sends it).
    async fn send_message(&self, ctx: &Context<'_>, input: SendMessageInput) -> Result<Message> {
        let rest_input = SendInput {
            template: input.template,
            profile: input.profile,
            event: input.event.map(|e| e.0),
            transactional: input.transactional,
            category: input.category,
            priority: input.priority,
            topic: input.topic,
            idempotency_key: input.idempotency_key,
        };
        let (_, RestJson(m)) = rest::send(writer(ctx)?, HeaderMap::new(), RestJson(rest_input))
            .await
            .gql()?;
        Ok(m.into())
    }

    /// Change the stored messaging settings (REST `PATCH /api/v1/messaging/settings`): each
    /// section of `change` replaces that section, `null` removes it, a masked credential keeps
    /// the stored one; `version` in `change` refuses the change if the settings moved since.
    /// Returns the settings in force, as `messagingSettings`.
    async fn update_messaging_settings(
        &self,
        ctx: &Context<'_>,
        change: Json<Value>,
    ) -> Result<Json<Value>> {
        let RestJson(settings) = herald_api::messaging_settings::update_messaging_settings(
            writer(ctx)?,
            RestJson(change.0),
        )
        .await
        .gql()?;
        Ok(Json(serde_json::to_value(settings)?))
    }
}
