//! The GraphQL object types: the REST views, typed for GraphQL. Fields that hold free-form
//! JSON (traits, rules, reasons, event payloads) are the `JSON` scalar.

use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, Json, Result, SimpleObject};
use chrono::{DateTime, Utc};
use herald_api::admin::audiences::{
    BackfillView, ComputedTraitView, MemberView, MembershipChangeView, MembershipView, PreviewView,
    SizePoint,
};
use herald_api::admin::profiles::ProfileSummaryView;
use herald_api::admin::views::{
    GroupView, IdentityGraphView, IdentityView, KeyView, MergeView, RefusalView, SplitView,
    StatusView,
};
use serde_json::Value;

use crate::loaders::{ProfileLoader, SummaryLoader};

/// Where a page of a list ends.
#[derive(SimpleObject, Clone)]
pub struct PageInfo {
    /// Pass as `after` for the next page; absent on the last page.
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

impl PageInfo {
    pub fn of(next_cursor: Option<String>) -> PageInfo {
        PageInfo {
            has_next_page: next_cursor.is_some(),
            end_cursor: next_cursor,
        }
    }
}

/// How far the log has been processed, and what it held back.
#[derive(SimpleObject)]
pub struct Status {
    pub log_head: u64,
    pub processed: u64,
    /// Events stored but not yet applied to profiles.
    pub lag: u64,
    pub suppressed_events: u64,
    pub unattributable_events: u64,
    pub deleted_events: u64,
    pub quarantined_events: u64,
    pub discarded_events: u64,
    pub storage_full: bool,
    pub storage_full_since: Option<DateTime<Utc>>,
}

impl From<StatusView> for Status {
    fn from(v: StatusView) -> Self {
        Status {
            log_head: v.log_head,
            processed: v.processed,
            lag: v.lag,
            suppressed_events: v.suppressed_events,
            unattributable_events: v.unattributable_events,
            deleted_events: v.deleted_events,
            quarantined_events: v.quarantined_events,
            discarded_events: v.discarded_events,
            storage_full: v.storage_full,
            storage_full_since: v.storage_full_since,
        }
    }
}

/// An identifier on a profile, with the event that linked it.
#[derive(SimpleObject)]
pub struct Identifier {
    /// `kind:value`.
    pub id: String,
    pub kind: String,
    pub value: String,
    /// The identifier it was linked through (absent for the profile's first).
    pub linked_via: Option<String>,
    pub seq: u64,
    pub message_id: String,
}

impl From<IdentityView> for Identifier {
    fn from(v: IdentityView) -> Self {
        Identifier {
            id: v.id,
            kind: v.kind,
            value: v.value,
            linked_via: v.linked_via,
            seq: v.seq,
            message_id: v.message_id,
        }
    }
}

#[derive(SimpleObject)]
pub struct Group {
    pub group_id: String,
    pub joined_at: DateTime<Utc>,
    pub traits: Json<serde_json::Map<String, Value>>,
}

impl From<GroupView> for Group {
    fn from(v: GroupView) -> Self {
        Group {
            group_id: v.group_id,
            joined_at: v.joined_at,
            traits: Json(v.traits),
        }
    }
}

/// One profile in a list: what the list shows; `profile` has the rest.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct ProfileSummary {
    pub id: String,
    /// `kind:value`, in the order they joined.
    pub identifiers: Vec<String>,
    pub traits: Json<serde_json::Map<String, Value>>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
}

#[ComplexObject]
impl ProfileSummary {
    /// The whole profile (loaded in one batch for every summary of the list).
    async fn profile(&self, ctx: &Context<'_>) -> Result<Option<crate::query::Profile>> {
        let loader = ctx.data_unchecked::<DataLoader<ProfileLoader>>();
        Ok(loader
            .load_one(self.id.clone())
            .await?
            .map(crate::query::Profile::from))
    }
}

impl From<ProfileSummaryView> for ProfileSummary {
    fn from(v: ProfileSummaryView) -> Self {
        ProfileSummary {
            id: v.profile_id,
            identifiers: v.identifiers,
            traits: Json(v.traits),
            first_seen: v.first_seen,
            last_seen: v.last_seen,
        }
    }
}

#[derive(SimpleObject)]
pub struct ProfileConnection {
    pub nodes: Vec<ProfileSummary>,
    pub page_info: PageInfo,
}

/// An event as stored, with its position in the log.
#[derive(SimpleObject)]
pub struct TimelineEvent {
    pub seq: u64,
    #[graphql(name = "type")]
    pub event_type: String,
    /// The name of a `track` event.
    pub event: Option<String>,
    pub message_id: Option<String>,
    pub timestamp: Option<String>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// The whole stored Segment message.
    pub json: Json<Value>,
}

impl TimelineEvent {
    /// From a stored payload with `seq` set (as the REST timeline and the tail give them).
    pub fn of(seq: u64, payload: Value) -> TimelineEvent {
        let text = |key: &str| payload.get(key).and_then(Value::as_str).map(str::to_owned);
        TimelineEvent {
            seq,
            event_type: text("type").unwrap_or_default(),
            event: text("event"),
            message_id: text("messageId"),
            timestamp: text("timestamp"),
            user_id: text("userId"),
            anonymous_id: text("anonymousId"),
            json: Json(payload),
        }
    }
}

#[derive(SimpleObject)]
pub struct EventConnection {
    pub nodes: Vec<TimelineEvent>,
    pub page_info: PageInfo,
}

/// A merge of two profiles, and whether it was undone.
#[derive(SimpleObject)]
pub struct Merge {
    pub id: String,
    pub seq: u64,
    pub message_id: String,
    pub event_type: String,
    pub winner: String,
    pub loser: String,
    /// The two identifiers the event linked.
    pub link: Vec<String>,
    pub winner_identifiers: Vec<String>,
    pub loser_identifiers: Vec<String>,
    pub merged_at: DateTime<Utc>,
    pub undone: bool,
}

impl From<MergeView> for Merge {
    fn from(v: MergeView) -> Self {
        Merge {
            id: v.merge_id,
            seq: v.seq,
            message_id: v.message_id,
            event_type: v.event_type,
            winner: v.winner,
            loser: v.loser,
            link: v.link.to_vec(),
            winner_identifiers: v.winner_identifiers,
            loser_identifiers: v.loser_identifiers,
            merged_at: v.merged_at,
            undone: v.undone,
        }
    }
}

/// A link an event asked for and identity resolution refused (e.g. over a per-kind limit).
#[derive(SimpleObject)]
pub struct RefusedLink {
    pub seq: u64,
    pub identifier: String,
    pub reason: String,
}

impl From<RefusalView> for RefusedLink {
    fn from(v: RefusalView) -> Self {
        RefusedLink {
            seq: v.seq,
            identifier: v.identifier,
            reason: v.reason,
        }
    }
}

/// A profile's identifiers (nodes), the merges that joined them and the links refused (edges).
#[derive(SimpleObject)]
pub struct IdentityGraph {
    pub profile_id: String,
    pub identifiers: Vec<Identifier>,
    pub merges: Vec<Merge>,
    pub refused_links: Vec<RefusedLink>,
}

impl From<IdentityGraphView> for IdentityGraph {
    fn from(v: IdentityGraphView) -> Self {
        IdentityGraph {
            profile_id: v.profile_id,
            identifiers: v.identities.into_iter().map(Into::into).collect(),
            merges: v.merges.into_iter().map(Into::into).collect(),
            refused_links: v.refused_links.into_iter().map(Into::into).collect(),
        }
    }
}

/// What an undone merge or a deletion changed.
#[derive(SimpleObject)]
pub struct Split {
    /// The profiles that hold the events now.
    pub profiles: Vec<String>,
    pub removed_profiles: Vec<String>,
    pub replayed_events: u64,
    pub deleted_events: u64,
    pub suppressed_identifiers: Vec<String>,
}

impl From<SplitView> for Split {
    fn from(v: SplitView) -> Self {
        Split {
            profiles: v.profiles,
            removed_profiles: v.removed_profiles,
            replayed_events: v.replayed_events as u64,
            deleted_events: v.deleted_events as u64,
            suppressed_identifiers: v.suppressed_identifiers,
        }
    }
}

/// A profile's membership of one audience, with why it holds or not.
#[derive(SimpleObject)]
pub struct Membership {
    pub audience_id: String,
    pub member: bool,
    /// The rule's conditions as a tree: `condition` (text form), `result`, what it `seen`,
    /// nested `conditions`.
    pub reason: Json<Value>,
}

impl From<MembershipView> for Membership {
    fn from(v: MembershipView) -> Self {
        Membership {
            audience_id: v.audience_id,
            member: v.member,
            reason: Json(v.reason),
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum MembershipChangeKind {
    Entered,
    Exited,
}

#[derive(SimpleObject)]
pub struct MembershipChange {
    pub audience_id: String,
    pub change: MembershipChangeKind,
    pub at: Option<DateTime<Utc>>,
    pub cause: Json<Value>,
}

impl From<MembershipChangeView> for MembershipChange {
    fn from(v: MembershipChangeView) -> Self {
        MembershipChange {
            audience_id: v.audience_id,
            change: if v.change == "entered" {
                MembershipChangeKind::Entered
            } else {
                MembershipChangeKind::Exited
            },
            at: v.at,
            cause: Json(v.cause),
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum BackfillState {
    Pending,
    Running,
    Done,
}

/// How far computing an audience's members from history has come.
#[derive(SimpleObject, Clone)]
pub struct Backfill {
    pub state: BackfillState,
    pub version: u64,
    pub done: u64,
    pub total: u64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<&BackfillView> for Backfill {
    fn from(v: &BackfillView) -> Self {
        Backfill {
            state: match v.state {
                "running" => BackfillState::Running,
                "done" => BackfillState::Done,
                _ => BackfillState::Pending,
            },
            version: v.version,
            done: v.done,
            total: v.total,
            started_at: v.started_at,
            finished_at: v.finished_at,
        }
    }
}

/// Members at the end of a UTC day.
#[derive(SimpleObject)]
#[graphql(name = "SizePoint")]
pub struct SizePointG {
    pub date: String,
    pub entered: u64,
    pub exited: u64,
    pub size: i64,
}

impl From<SizePoint> for SizePointG {
    fn from(v: SizePoint) -> Self {
        SizePointG {
            date: v.date,
            entered: v.entered,
            exited: v.exited,
            size: v.size,
        }
    }
}

/// An audience member, with when it entered.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Member {
    pub profile_id: String,
    pub entered_at: Option<DateTime<Utc>>,
}

#[ComplexObject]
impl Member {
    /// The member's identifiers and traits (one batched read per page of members).
    async fn profile(&self, ctx: &Context<'_>) -> Result<Option<ProfileSummary>> {
        let loader = ctx.data_unchecked::<DataLoader<SummaryLoader>>();
        loader.load_one(self.profile_id.clone()).await
    }
}

impl From<MemberView> for Member {
    fn from(v: MemberView) -> Self {
        Member {
            profile_id: v.profile_id,
            entered_at: v.entered_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct MemberConnection {
    pub nodes: Vec<Member>,
    pub page_info: PageInfo,
}

/// An estimate of a draft rule's size from a random sample of profiles.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AudiencePreview {
    pub estimated_size: u64,
    /// The 95% confidence interval of the estimate.
    pub estimated_size_low: u64,
    pub estimated_size_high: u64,
    pub confidence: f64,
    pub sampled: u64,
    pub matched: u64,
    pub total_profiles: u64,
    /// The sample's seed, as a decimal string (it may not fit a GraphQL `Int`).
    pub seed: String,
    pub sample_member_ids: Vec<String>,
    /// The draft in the text form.
    pub rule_text: String,
}

#[ComplexObject]
impl AudiencePreview {
    /// Some matching profiles, with identifiers and traits (one batched read).
    async fn sample_members(&self, ctx: &Context<'_>) -> Result<Vec<ProfileSummary>> {
        let loader = ctx.data_unchecked::<DataLoader<SummaryLoader>>();
        let found = loader.load_many(self.sample_member_ids.clone()).await?;
        Ok(self
            .sample_member_ids
            .iter()
            .filter_map(|id| found.get(id).cloned())
            .collect())
    }
}

impl From<PreviewView> for AudiencePreview {
    fn from(v: PreviewView) -> Self {
        AudiencePreview {
            estimated_size: v.estimated_size,
            estimated_size_low: v.estimated_size_low,
            estimated_size_high: v.estimated_size_high,
            confidence: v.confidence,
            sampled: v.sampled,
            matched: v.matched,
            total_profiles: v.total_profiles,
            seed: v.seed.to_string(),
            sample_member_ids: v.sample_members,
            rule_text: v.rule_text,
        }
    }
}

#[derive(SimpleObject)]
pub struct ComputedTrait {
    pub name: String,
    pub definition: Json<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ComputedTraitView> for ComputedTrait {
    fn from(v: ComputedTraitView) -> Self {
        ComputedTrait {
            name: v.name,
            definition: Json(v.definition),
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum KeyKind {
    /// Sends events (`/v1/*`); public, in SDKs.
    Write,
    /// The admin API and GraphQL.
    Admin,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Write => "write",
            KeyKind::Admin => "admin",
        }
    }
}

/// An API key (its secret is shown once, when created).
#[derive(SimpleObject)]
pub struct ApiKey {
    pub id: String,
    pub kind: KeyKind,
    pub name: String,
    /// The secret's first characters, to recognise it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<KeyView> for ApiKey {
    fn from(v: KeyView) -> Self {
        ApiKey {
            id: v.id,
            kind: if v.kind == "admin" {
                KeyKind::Admin
            } else {
                KeyKind::Write
            },
            name: v.name,
            prefix: v.prefix,
            created_at: v.created_at,
            revoked_at: v.revoked_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct CreatedKey {
    pub key: ApiKey,
    /// The secret; shown this once.
    pub secret: String,
}
