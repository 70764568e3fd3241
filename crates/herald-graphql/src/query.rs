//! Queries, and the objects whose fields read more (a profile's timeline, identity graph and
//! memberships; an audience's members and size history).

use async_graphql::{Context, InputObject, Json, Object, Result};
use axum::extract::State;
use chrono::{DateTime, Utc};
use herald_api::admin::audiences::{self as rest_audiences, AudienceView, MembersQuery};
use herald_api::admin::profiles::{self as rest_profiles, ProfilesQuery};
use herald_api::admin::views::ProfileView;
use herald_api::admin::{self as rest, TimelineQuery};
use herald_api::extract::{Json as RestJson, Path, Query as RestQuery};
use herald_api::AppState;
use serde_json::Value;

use crate::error::OrGql;
use crate::types::*;
use herald_api::auth::Principal;

#[derive(Default)]
pub struct Query;

fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// `None` for a 404 (a lookup that finds nothing), the error otherwise.
fn found<T>(result: Result<T, herald_api::error::ApiError>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.status() == axum::http::StatusCode::NOT_FOUND => Ok(None),
        Err(e) => Err(crate::error::gql(e)),
    }
}

pub struct Viewer(pub Principal);

/// Who is asking.
#[Object]
impl Viewer {
    /// `admin` or `viewer` (an admin key is an admin).
    async fn role(&self) -> &str {
        self.0.role.as_str()
    }
    /// Whether this caller may run mutations (the admin role).
    async fn can_write(&self) -> bool {
        self.0.can_write()
    }
    /// The signed-in dashboard user's email; null for an admin key.
    async fn email(&self) -> Option<&str> {
        self.0.user().map(|u| u.email.as_str())
    }
}

#[Object(name = "CoreQuery")]
impl Query {
    /// Who is asking, and what they may do.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        Viewer(ctx.data_unchecked::<Principal>().clone())
    }

    /// How far the log has been processed.
    async fn status(&self, ctx: &Context<'_>) -> Result<Status> {
        let RestJson(view) = rest::status(State(state(ctx).clone())).await.gql()?;
        Ok(view.into())
    }

    /// A profile by any identifier, written `kind:value` (`email:ana@example.com`), or
    /// `profile_id:<id>`; null when none has it.
    async fn profile(&self, ctx: &Context<'_>, id: String) -> Result<Option<Profile>> {
        let view = found(rest::get_profile(State(state(ctx).clone()), Path(id)).await)?;
        Ok(view.map(|RestJson(v)| Profile(v)))
    }

    /// Profiles in id order, all or those a search finds: an identifier prefix written
    /// `kind:prefix` (`email:ana`), and/or a trait with a value.
    #[graphql(complexity = "first.unwrap_or(50) as usize * child_complexity")]
    async fn profiles(
        &self,
        ctx: &Context<'_>,
        identifier: Option<String>,
        #[graphql(name = "trait")] trait_name: Option<String>,
        value: Option<String>,
        #[graphql(validator(minimum = 1, maximum = 1000))] first: Option<i32>,
        after: Option<String>,
    ) -> Result<ProfileConnection> {
        let q = ProfilesQuery {
            identifier,
            trait_name,
            value,
            limit: first.map(|n| n as usize),
            cursor: after,
        };
        let RestJson(page) = rest_profiles::list_profiles(State(state(ctx).clone()), RestQuery(q))
            .await
            .gql()?;
        Ok(ProfileConnection {
            nodes: page.profiles.into_iter().map(Into::into).collect(),
            page_info: PageInfo::of(page.next_cursor),
        })
    }

    /// A merge by id; null when there is none.
    async fn merge(&self, ctx: &Context<'_>, id: String) -> Result<Option<Merge>> {
        let view = found(rest::get_merge(State(state(ctx).clone()), Path(id)).await)?;
        Ok(view.map(|RestJson(v)| v.into()))
    }

    /// Every audience.
    async fn audiences(&self, ctx: &Context<'_>) -> Result<Vec<Audience>> {
        let RestJson(list) = rest_audiences::list_audiences(State(state(ctx).clone()))
            .await
            .gql()?;
        Ok(list.into_iter().map(Audience).collect())
    }

    /// An audience by id; null when there is none.
    async fn audience(&self, ctx: &Context<'_>, id: String) -> Result<Option<Audience>> {
        let view = found(rest_audiences::get_audience(State(state(ctx).clone()), Path(id)).await)?;
        Ok(view.map(|RestJson(v)| Audience(v)))
    }

    /// Estimate a draft rule (text or JSON form) over a random sample of profiles, without
    /// saving it. An invalid rule is an error with `code: invalid_rule` and its `location`.
    async fn preview_audience(
        &self,
        ctx: &Context<'_>,
        rule: Json<Value>,
        #[graphql(validator(minimum = 1, maximum = 10000))] sample_size: Option<i32>,
        seed: Option<String>,
    ) -> Result<AudiencePreview> {
        let seed = seed
            .map(|s| s.parse::<u64>())
            .transpose()
            .map_err(|_| async_graphql::Error::new("`seed` is a whole number, as a string"))?;
        let input = rest_audiences::PreviewInput {
            rule: rule.0,
            sample_size: sample_size.map(|n| n as u64),
            seed,
        };
        let RestJson(view) =
            rest_audiences::preview_audience(State(state(ctx).clone()), RestJson(input))
                .await
                .gql()?;
        Ok(view.into())
    }

    /// Every computed trait.
    async fn computed_traits(&self, ctx: &Context<'_>) -> Result<Vec<ComputedTrait>> {
        let RestJson(list) = rest_audiences::list_computed(State(state(ctx).clone()))
            .await
            .gql()?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// API keys (admins only).
    async fn keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        ctx.data_unchecked::<Principal>().require_admin().gql()?;
        let RestJson(list) = rest::list_keys(State(state(ctx).clone())).await.gql()?;
        Ok(list.into_iter().map(Into::into).collect())
    }
}

pub struct Profile(pub ProfileView);

impl From<ProfileView> for Profile {
    fn from(v: ProfileView) -> Self {
        Profile(v)
    }
}

impl Profile {
    fn lookup(&self) -> String {
        format!("profile_id:{}", self.0.profile_id)
    }
}

/// A person: the identifiers, traits and activity Herald resolved from their events.
#[Object]
impl Profile {
    async fn id(&self) -> &str {
        &self.0.profile_id
    }
    async fn traits(&self) -> Json<&serde_json::Map<String, Value>> {
        Json(&self.0.traits)
    }
    /// Its identifiers, in the order they joined.
    async fn identifiers(&self) -> Vec<Identifier> {
        self.0.identities.iter().cloned().map(Into::into).collect()
    }
    async fn groups(&self) -> Vec<Group> {
        self.0.groups.iter().cloned().map(Into::into).collect()
    }
    async fn first_seen(&self) -> Option<DateTime<Utc>> {
        self.0.first_seen
    }
    async fn last_seen(&self) -> Option<DateTime<Utc>> {
        self.0.last_seen
    }
    async fn timezone(&self) -> Option<&str> {
        self.0.timezone.as_deref()
    }
    async fn locale(&self) -> Option<&str> {
        self.0.locale.as_deref()
    }
    /// Events per name (`track`) or type.
    async fn event_counts(&self) -> Json<&std::collections::BTreeMap<String, u64>> {
        Json(&self.0.event_counts)
    }
    async fn total_events(&self) -> u64 {
        self.0.total_events
    }
    async fn computed_traits(&self) -> Json<&std::collections::BTreeMap<String, Value>> {
        Json(&self.0.computed_traits)
    }
    /// Ids of the audiences it is a member of.
    async fn audience_ids(&self) -> &[String] {
        &self.0.audiences
    }

    /// Every audience, member or not, with the reason.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let RestJson(view) =
            rest_audiences::profile_audiences(State(state(ctx).clone()), Path(self.lookup()))
                .await
                .gql()?;
        Ok(view.audiences.into_iter().map(Into::into).collect())
    }

    /// Audience entries and exits, newest first.
    #[graphql(complexity = "limit.unwrap_or(100) as usize * child_complexity")]
    async fn membership_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(minimum = 1, maximum = 1000))] limit: Option<i32>,
    ) -> Result<Vec<MembershipChange>> {
        let q = rest_audiences::HistoryQuery {
            limit: limit.map(|n| n as usize),
        };
        let RestJson(list) = rest_audiences::profile_audience_history(
            State(state(ctx).clone()),
            Path(self.lookup()),
            RestQuery(q),
        )
        .await
        .gql()?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Its events, newest first, a page at a time; optionally only one event name and a
    /// time range (RFC 3339).
    #[graphql(complexity = "first.unwrap_or(50) as usize * child_complexity")]
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(minimum = 1, maximum = 1000))] first: Option<i32>,
        after: Option<String>,
        event: Option<String>,
        since: Option<String>,
        until: Option<String>,
    ) -> Result<EventConnection> {
        let q = TimelineQuery {
            event,
            since,
            until,
            limit: first.map(|n| n as usize),
            cursor: after,
        };
        let RestJson(page) =
            rest::get_timeline(State(state(ctx).clone()), Path(self.lookup()), RestQuery(q))
                .await
                .gql()?;
        Ok(EventConnection {
            nodes: page
                .events
                .into_iter()
                .map(|e| TimelineEvent::of(e["seq"].as_u64().unwrap_or_default(), e))
                .collect(),
            page_info: PageInfo::of(page.next_cursor),
        })
    }

    /// Its identifiers, the merges that joined them and the links refused.
    async fn identity_graph(&self, ctx: &Context<'_>) -> Result<IdentityGraph> {
        let RestJson(view) = rest::get_identity(State(state(ctx).clone()), Path(self.lookup()))
            .await
            .gql()?;
        Ok(view.into())
    }
}

pub struct Audience(pub AudienceView);

/// A live audience: a rule, and the profiles it holds for.
#[Object]
impl Audience {
    async fn id(&self) -> &str {
        &self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The rule in the JSON form.
    async fn rule(&self) -> Json<&Value> {
        Json(&self.0.rule)
    }
    /// The rule in the text form.
    async fn rule_text(&self) -> &str {
        &self.0.rule_text
    }
    async fn size(&self) -> u64 {
        self.0.size
    }
    /// Whether the members are complete (the backfill of this version is done).
    async fn ready(&self) -> bool {
        self.0.ready
    }
    async fn backfill(&self) -> Backfill {
        Backfill::from(&self.0.backfill)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Members, a page at a time, in the order they entered.
    #[graphql(complexity = "first.unwrap_or(50) as usize * child_complexity")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(minimum = 1, maximum = 1000))] first: Option<i32>,
        after: Option<String>,
    ) -> Result<MemberConnection> {
        let q = MembersQuery {
            limit: first.map(|n| n as usize),
            cursor: after,
            columns: None,
        };
        let RestJson(page) = rest_audiences::list_members(
            State(state(ctx).clone()),
            Path(self.0.id.clone()),
            RestQuery(q),
        )
        .await
        .gql()?;
        Ok(MemberConnection {
            nodes: page.members.into_iter().map(Into::into).collect(),
            page_info: PageInfo::of(page.next_cursor),
        })
    }

    /// Size at the end of each UTC day with entries and exits.
    async fn size_history(&self, ctx: &Context<'_>) -> Result<Vec<SizePointG>> {
        let RestJson(points) =
            rest_audiences::size_history(State(state(ctx).clone()), Path(self.0.id.clone()))
                .await
                .gql()?;
        Ok(points.into_iter().map(Into::into).collect())
    }
}

/// An audience to create or to change.
#[derive(InputObject)]
pub struct AudienceInput {
    /// 1–64 lowercase letters, digits, `_` or `-` (ignored when updating).
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// The rule: a string in the text form, or the JSON form.
    pub rule: Json<Value>,
}

impl From<AudienceInput> for rest_audiences::AudienceInput {
    fn from(i: AudienceInput) -> Self {
        rest_audiences::AudienceInput {
            id: i.id,
            name: i.name,
            description: i.description,
            rule: i.rule.0,
        }
    }
}
