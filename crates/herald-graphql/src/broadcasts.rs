//! Broadcasts over GraphQL: the REST functions of `herald_api::broadcasts`
//! (docs/broadcasts.md).

use std::collections::BTreeMap;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use axum::extract::State;
use chrono::{DateTime, Utc};
use herald_api::broadcasts::{self as rest, BroadcastInput, BroadcastView, ListQuery};
use herald_api::error::ApiError;
use herald_api::extract::{Json as RestJson, Path, Query};
use herald_api::AppState;

use crate::error::OrGql;
use crate::mutation::writer;

fn state(ctx: &Context<'_>) -> State<AppState> {
    State(ctx.data_unchecked::<AppState>().clone())
}

/// A count of something named: a status, a reason.
#[derive(SimpleObject)]
pub struct NamedCount {
    pub name: String,
    pub count: u64,
}

fn counts(map: BTreeMap<String, u64>) -> Vec<NamedCount> {
    map.into_iter()
        .map(|(name, count)| NamedCount { name, count })
        .collect()
}

/// A broadcast's messages so far.
#[derive(SimpleObject)]
pub struct BroadcastProgress {
    /// Members enqueued (held-out ones included).
    pub enqueued: u64,
    pub audience_size: u64,
    /// Messages by status.
    pub statuses: Vec<NamedCount>,
    /// Skipped messages by reason (`holdout`, `unsubscribed`, `cancelled`, …).
    pub skipped: Vec<NamedCount>,
    /// Failed messages by error code.
    pub failed: Vec<NamedCount>,
}

/// A template sent to an audience.
#[derive(SimpleObject)]
pub struct Broadcast {
    pub id: String,
    pub name: String,
    pub template_id: String,
    pub template_version: u32,
    pub audience_id: String,
    pub topic: Option<String>,
    pub category: String,
    pub priority: String,
    pub transactional: bool,
    pub holdout_percent: f64,
    pub send_at: Option<DateTime<Utc>>,
    pub local_time: Option<String>,
    pub time_zone: Option<String>,
    /// `scheduled`, `running`, `paused`, `cancelled`, `finished`.
    pub status: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// On `broadcast(id)` and the mutations; null in lists.
    pub progress: Option<BroadcastProgress>,
}

impl From<BroadcastView> for Broadcast {
    fn from(b: BroadcastView) -> Self {
        Broadcast {
            id: b.id,
            name: b.name,
            template_id: b.template_id,
            template_version: b.template_version,
            audience_id: b.audience_id,
            topic: b.topic,
            category: b.category,
            priority: b.priority,
            transactional: b.transactional,
            holdout_percent: b.holdout_percent,
            send_at: b.send_at,
            local_time: b.local_time,
            time_zone: b.time_zone,
            status: b.status,
            starts_at: b.starts_at,
            created_at: b.created_at,
            updated_at: b.updated_at,
            finished_at: b.finished_at,
            progress: b.progress.map(|p| BroadcastProgress {
                enqueued: p.enqueued,
                audience_size: p.audience_size,
                statuses: counts(p.statuses),
                skipped: counts(p.skipped),
                failed: counts(p.failed),
            }),
        }
    }
}

#[derive(SimpleObject)]
pub struct BroadcastPage {
    /// Newest first.
    pub nodes: Vec<Broadcast>,
    /// Pass as `before` for the next page; null on the last.
    pub next: Option<String>,
}

/// A broadcast to create (docs/broadcasts.md has every field).
#[derive(InputObject)]
pub struct CreateBroadcastInput {
    pub name: String,
    pub template: String,
    pub audience: String,
    pub topic: Option<String>,
    pub category: Option<String>,
    pub priority: Option<String>,
    #[graphql(default)]
    pub transactional: bool,
    pub holdout_percent: Option<f64>,
    pub send_at: Option<DateTime<Utc>>,
    pub local_time: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(Default)]
pub struct BroadcastsQuery;

#[Object]
impl BroadcastsQuery {
    /// Broadcasts, newest first.
    async fn broadcasts(
        &self,
        ctx: &Context<'_>,
        limit: Option<usize>,
        before: Option<String>,
    ) -> Result<BroadcastPage> {
        let RestJson(page) = rest::list_broadcasts(state(ctx), Query(ListQuery { limit, before }))
            .await
            .gql()?;
        Ok(BroadcastPage {
            nodes: page.broadcasts.into_iter().map(Into::into).collect(),
            next: page.next,
        })
    }

    /// A broadcast with its progress.
    async fn broadcast(&self, ctx: &Context<'_>, id: String) -> Result<Option<Broadcast>> {
        match rest::get_broadcast(state(ctx), Path(id)).await {
            Ok(RestJson(b)) => Ok(Some(b.into())),
            Err(ApiError::NotFound(..)) => Ok(None),
            Err(e) => Err(e).gql(),
        }
    }
}

#[derive(Default)]
pub struct BroadcastsMutation;

#[Object]
impl BroadcastsMutation {
    /// Create a broadcast; it starts at its time (at once without one).
    async fn create_broadcast(
        &self,
        ctx: &Context<'_>,
        input: CreateBroadcastInput,
    ) -> Result<Broadcast> {
        let rest_input = BroadcastInput {
            name: input.name,
            template: input.template,
            audience: input.audience,
            topic: input.topic,
            category: input.category,
            priority: input.priority,
            transactional: input.transactional,
            holdout_percent: input.holdout_percent,
            send_at: input.send_at,
            local_time: input.local_time,
            time_zone: input.time_zone,
        };
        let (_, RestJson(b)) = rest::create_broadcast(writer(ctx)?, RestJson(rest_input))
            .await
            .gql()?;
        Ok(b.into())
    }

    /// Pause: nothing more is enqueued and waiting messages wait.
    async fn pause_broadcast(&self, ctx: &Context<'_>, id: String) -> Result<Broadcast> {
        let RestJson(b) = rest::pause_broadcast(writer(ctx)?, Path(id)).await.gql()?;
        Ok(b.into())
    }

    /// Resume a paused broadcast.
    async fn resume_broadcast(&self, ctx: &Context<'_>, id: String) -> Result<Broadcast> {
        let RestJson(b) = rest::resume_broadcast(writer(ctx)?, Path(id)).await.gql()?;
        Ok(b.into())
    }

    /// Cancel for good: messages not handed over yet are skipped (`cancelled`).
    async fn cancel_broadcast(&self, ctx: &Context<'_>, id: String) -> Result<Broadcast> {
        let RestJson(b) = rest::cancel_broadcast(writer(ctx)?, Path(id)).await.gql()?;
        Ok(b.into())
    }
}
