//! Topics, a person's subscriptions and suppressed addresses over REST (docs/preferences.md).

use axum::extract::State;
use axum::http::StatusCode;
use herald_core::identity::{IdKind, ProfileId};
use herald_messaging::preferences::{
    ChangeSource, ChannelPreferences, Subscriptions, Suppression, SuppressionReason, TopicDefault,
};
use herald_messaging::{address_of, Channel};
use herald_storage::preferences::AddressSuppression;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::change::{self, Change};
use crate::admin::{blocking, resolve_profile};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::AppState;

/// A channel's name.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelName {
    Email,
    Sms,
    Push,
    Webhook,
    InApp,
}

/// A subscription topic (configured in the channels file's `[[topics]]`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TopicView {
    pub key: String,
    pub channel: String,
    /// `opt_in` (nobody receives it until they subscribe) or `opt_out`.
    pub default: String,
    pub description: String,
    pub double_opt_in: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopicsView {
    pub topics: Vec<TopicView>,
}

/// The subscription topics.
#[utoipa::path(get, path = "/api/v1/topics", tag = "preferences",
    responses((status = 200, body = TopicsView), (status = 401, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn list_topics(State(state): State<AppState>) -> Json<TopicsView> {
    Json(TopicsView {
        topics: state
            .messaging
            .settings()
            .topics
            .iter()
            .map(|t| TopicView {
                key: t.key.clone(),
                channel: t.channel.as_str().into(),
                default: match t.default {
                    TopicDefault::OptIn => "opt_in",
                    TopicDefault::OptOut => "opt_out",
                }
                .into(),
                description: t.description.clone(),
                double_opt_in: t.double_opt_in,
            })
            .collect(),
    })
}

/// A person's status on one topic.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopicStatus {
    pub key: String,
    /// `subscribed`, `unsubscribed` or `pending_confirmation`: what is in effect.
    pub status: String,
    /// Whether the person chose it (else it is the topic's default).
    pub chosen: bool,
}

/// A person's preferences on one channel: those of the address their messages go to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelSubscriptions {
    pub channel: String,
    pub address: String,
    /// Unsubscribed from every non-transactional message on the channel.
    pub unsubscribed: bool,
    pub topics: Vec<TopicStatus>,
    /// Why the address receives nothing at all (`hard_bounce`, `complaint`, `manual`, …).
    pub suppressed: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionsView {
    pub profile_id: String,
    /// One entry per channel the person has an address on (email, sms).
    pub channels: Vec<ChannelSubscriptions>,
}

/// The channels whose address is one string a person keeps (push tokens and the in-app
/// inbox have their own lifecycle).
const ADDRESSED: [Channel; 2] = [Channel::Email, Channel::Sms];

/// The person's address on each addressed channel.
async fn addresses(
    state: &AppState,
    profile: &ProfileId,
) -> Result<Vec<(Channel, String)>, ApiError> {
    let id = profile.clone();
    let record = blocking(state, move |s| s.profile(&id))
        .await?
        .ok_or_else(|| ApiError::NotFound("profile_not_found", "the profile is gone".into()))?;
    let traits = Value::Object(record.state.trait_values());
    let user_id = record
        .identities
        .iter()
        .find(|i| i.identifier.kind == IdKind::UserId)
        .map(|i| i.identifier.value.clone());
    let rules = &state.messaging.settings().address_rules;
    Ok(ADDRESSED
        .iter()
        .filter_map(|&channel| {
            let address = address_of(channel, &traits, user_id.as_deref(), rules)?;
            let key = address.suppression_keys().first()?.to_string();
            Some((channel, key))
        })
        .collect())
}

async fn view_of(
    state: &AppState,
    channel: Channel,
    address: String,
    prefs: ChannelPreferences,
) -> Result<ChannelSubscriptions, ApiError> {
    let key = address.clone();
    let suppressed = blocking(state, move |s| {
        s.address_suppressions(channel.as_str(), &[key])
    })
    .await?
    .into_iter()
    .next()
    .map(|s| s.reason);
    let mut subscriptions = Subscriptions::default();
    subscriptions.0.insert(channel, prefs.clone());
    let topics = state
        .messaging
        .settings()
        .topics
        .iter()
        .filter(|t| t.channel == channel)
        .map(|t| TopicStatus {
            key: t.key.clone(),
            status: subscriptions.status(t).as_str().into(),
            chosen: subscriptions.explicit(t).is_some(),
        })
        .collect();
    Ok(ChannelSubscriptions {
        channel: channel.as_str().into(),
        address,
        unsubscribed: prefs.unsubscribed,
        topics,
        suppressed,
    })
}

/// A person's subscriptions: per channel, the preferences of the address their messages go
/// to (preferences belong to the address, so every profile with that address shares them).
#[utoipa::path(get, path = "/api/v1/profiles/{id}/subscriptions", tag = "preferences",
    params(("id" = String, Path, description = "Any identifier `kind:value`, or `profile_id:<id>`")),
    responses((status = 200, body = SubscriptionsView),
        (status = 400, description = "`invalid_identifier`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "`profile_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn profile_subscriptions(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SubscriptionsView>, ApiError> {
    let profile = resolve_profile(&state, &id).await?;
    let mut channels = Vec::new();
    for (channel, address) in addresses(&state, &profile).await? {
        let (prefs, _) = change::read(&state, channel, &address).await?;
        channels.push(view_of(&state, channel, address, prefs).await?);
    }
    Ok(Json(SubscriptionsView {
        profile_id: profile.as_str().into(),
        channels,
    }))
}

/// A change of a person's subscriptions on one channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionsInput {
    /// `email` or `sms`.
    #[schema(value_type = ChannelName)]
    pub channel: String,
    /// Topics to subscribe to (a double opt-in topic becomes `pending_confirmation`).
    #[serde(default)]
    pub subscribe: Vec<String>,
    #[serde(default)]
    pub unsubscribe: Vec<String>,
    /// `true`: receive nothing but transactional messages on the channel; `false`: undo that.
    #[serde(default)]
    pub unsubscribed: Option<bool>,
}

/// A change made, as recorded in the `Subscription Changed` event.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// `null` for the whole channel.
    pub topic: Option<String>,
    pub status: String,
    pub previous_status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedView {
    pub channel: ChannelSubscriptions,
    /// What moved (nothing when the person already had these choices). Each is a
    /// `Subscription Changed` event on the person's timeline.
    pub changes: Vec<ChangeView>,
}

/// Change a person's subscriptions on one channel.
#[utoipa::path(patch, path = "/api/v1/profiles/{id}/subscriptions", tag = "preferences",
    params(("id" = String, Path, description = "Any identifier `kind:value`, or `profile_id:<id>`")),
    request_body = SubscriptionsInput,
    responses((status = 200, body = ChangedView),
        (status = 400, description = "`invalid_identifier`, `invalid_channel`, `unknown_topic`, or `no_address` (the person has no address on the channel)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`profile_not_found`", body = ErrorBody),
        (status = 409, description = "`preferences_busy`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn change_subscriptions(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<SubscriptionsInput>,
) -> Result<Json<ChangedView>, ApiError> {
    let channel = parse_channel(&input.channel)?;
    if !ADDRESSED.contains(&channel) {
        return Err(ApiError::bad_request(
            "invalid_channel",
            format!("subscriptions are kept for email and sms, not {channel}"),
        ));
    }
    let profile = resolve_profile(&state, &id).await?;
    let address = addresses(&state, &profile)
        .await?
        .into_iter()
        .find(|(c, _)| *c == channel)
        .map(|(_, a)| a)
        .ok_or_else(|| {
            ApiError::bad_request("no_address", format!("the person has no {channel} address"))
        })?;
    let mut changes: Vec<Change> = Vec::new();
    changes.extend(match input.unsubscribed {
        Some(true) => Some(Change::UnsubscribeChannel),
        Some(false) => Some(Change::ResubscribeChannel),
        None => None,
    });
    changes.extend(input.subscribe.into_iter().map(Change::Subscribe));
    changes.extend(input.unsubscribe.into_iter().map(Change::Unsubscribe));
    let (prefs, moved) = change::apply(
        &state,
        channel,
        &address,
        &changes,
        ChangeSource::Api,
        Some(&profile),
    )
    .await?;
    Ok(Json(ChangedView {
        channel: view_of(&state, channel, address, prefs).await?,
        changes: moved
            .into_iter()
            .map(|c| ChangeView {
                topic: c.topic,
                status: c.status.as_str().into(),
                previous_status: c.previous_status.as_str().into(),
            })
            .collect(),
    }))
}

fn parse_channel(raw: &str) -> Result<Channel, ApiError> {
    raw.parse::<Channel>().map_err(|_| {
        ApiError::bad_request(
            "invalid_channel",
            format!("{raw:?} is not a channel: email, sms, push, webhook or in_app"),
        )
    })
}

/// An address that receives nothing on its channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressSuppressionView {
    pub channel: String,
    pub address: String,
    /// `gdpr`, `complaint`, `hard_bounce`, `invalid_number`, `invalid_token` or `manual`.
    pub reason: String,
    /// The message whose bounce or complaint suppressed it.
    pub message_id: Option<String>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<AddressSuppression> for AddressSuppressionView {
    fn from(s: AddressSuppression) -> Self {
        AddressSuppressionView {
            channel: s.channel,
            address: s.address,
            reason: s.reason,
            message_id: s.message_id,
            created_at: chrono::DateTime::from_timestamp_millis(s.created_ms),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddressSuppressionsView {
    pub suppressions: Vec<AddressSuppressionView>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuppressionsQuery {
    /// Only this channel's.
    #[param(value_type = Option<ChannelName>)]
    pub channel: Option<String>,
    /// The `next` of the previous page (empty: the first page).
    #[param(pattern = r"^((email|sms|push|webhook|in_app):.*)?$")]
    pub after: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// Suppressed addresses, by channel and address.
#[utoipa::path(get, path = "/api/v1/address-suppressions", tag = "preferences",
    params(SuppressionsQuery),
    responses((status = 200, body = AddressSuppressionsView),
        (status = 400, description = "`invalid_channel` or `invalid_cursor`", body = ErrorBody),
        (status = 401, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn list_address_suppressions(
    State(state): State<AppState>,
    Query(q): Query<SuppressionsQuery>,
) -> Result<Json<AddressSuppressionsView>, ApiError> {
    let channel = q.channel.as_deref().map(parse_channel).transpose()?;
    let after = match q.after.as_deref() {
        None | Some("") => None,
        Some(cursor) => {
            let (c, a) = cursor.split_once(':').ok_or_else(|| {
                ApiError::bad_request("invalid_cursor", "`after` is the `next` of a previous page")
            })?;
            Some((c.to_owned(), a.to_owned()))
        }
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = blocking(&state, move |s| {
        s.list_address_suppressions(
            channel.map(Channel::as_str),
            after.as_ref().map(|(c, a)| (c.as_str(), a.as_str())),
            limit + 1,
        )
    })
    .await?;
    let more = rows.len() > limit;
    let rows: Vec<AddressSuppression> = rows.into_iter().take(limit).collect();
    let next = more
        .then(|| rows.last().map(|s| format!("{}:{}", s.channel, s.address)))
        .flatten();
    Ok(Json(AddressSuppressionsView {
        suppressions: rows.into_iter().map(Into::into).collect(),
        next,
    }))
}

/// An address to suppress.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressInput {
    /// `email`, `sms`, `push` or `in_app`.
    #[schema(value_type = ChannelName)]
    pub channel: String,
    /// Normalised as messages' addresses are (lower-case email, E.164 phone with its `+`).
    pub address: String,
    /// Default `manual`; an import of an older system's list may say `hard_bounce`,
    /// `complaint`, `invalid_number`, `invalid_token` or `gdpr`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Suppress an address: nothing is sent to it on its channel, transactional messages
/// included. 201 when new; 200 with the standing entry (and its first reason) when it was
/// suppressed already.
#[utoipa::path(post, path = "/api/v1/address-suppressions", tag = "preferences",
    request_body = SuppressInput,
    responses((status = 201, body = AddressSuppressionView),
        (status = 200, description = "Already suppressed", body = AddressSuppressionView),
        (status = 400, description = "`invalid_channel`, `invalid_address` or `invalid_reason`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn suppress_address(
    State(state): State<AppState>,
    Json(input): Json<SuppressInput>,
) -> Result<(StatusCode, Json<AddressSuppressionView>), ApiError> {
    let channel = parse_channel(&input.channel)?;
    let reason: SuppressionReason = match input.reason.as_deref() {
        None => SuppressionReason::Manual,
        Some(r) => serde_json::from_value(Value::String(r.to_owned())).map_err(|_| {
            ApiError::bad_request(
                "invalid_reason",
                format!("{r:?} is not a suppression reason: gdpr, complaint, hard_bounce, invalid_number, invalid_token or manual"),
            )
        })?,
    };
    let parsed = Suppression::parse(channel, &input.address, reason)
        .map_err(|e| ApiError::bad_request(e.code(), e.to_string()))?;
    let row = AddressSuppression {
        channel: channel.as_str().into(),
        address: parsed.address,
        reason: reason.as_str().into(),
        message_id: None,
        created_ms: herald_storage::clock::now_ms(),
    };
    let (new, stored) = blocking(&state, move |s| {
        let new = s.suppress_address(&row)?;
        let stored = s.address_suppressions(&row.channel, std::slice::from_ref(&row.address))?;
        Ok((new, stored.into_iter().next().unwrap_or(row)))
    })
    .await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(stored.into())))
}

/// Lift a suppression: the address receives messages again (its subscriptions unchanged).
#[utoipa::path(delete, path = "/api/v1/address-suppressions/{channel}/{address}", tag = "preferences",
    params(("channel" = ChannelName, Path, description = "The channel"),
        ("address" = String, Path, description = "The address, as listed")),
    responses((status = 204, description = "Lifted"),
        (status = 400, description = "`invalid_channel`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`suppression_not_found`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn unsuppress_address(
    State(state): State<AppState>,
    Path((channel, address)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let channel = parse_channel(&channel)?;
    // Normalised like a new entry, so `ADA@Example.com` lifts `ada@example.com`.
    let key = Suppression::parse(channel, &address, SuppressionReason::Manual)
        .map(|s| s.address)
        .unwrap_or(address.clone());
    if blocking(&state, move |s| {
        s.unsuppress_address(channel.as_str(), &key)
    })
    .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(
            "suppression_not_found",
            format!("{address} is not suppressed on {channel}"),
        ))
    }
}
