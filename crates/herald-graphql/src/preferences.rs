//! Topics, a person's subscriptions and suppressed addresses over GraphQL: the REST functions
//! of `herald_api::preferences::admin` (docs/preferences.md).

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use herald_api::extract::{Json as RestJson, Path, Query};
use herald_api::preferences::admin::{
    self as rest, AddressSuppressionView, ChannelSubscriptions, SubscriptionsInput, SuppressInput,
    SuppressionsQuery,
};
use herald_api::AppState;

use crate::error::OrGql;
use crate::mutation::writer;

fn state(ctx: &Context<'_>) -> State<AppState> {
    State(ctx.data_unchecked::<AppState>().clone())
}

/// A messaging channel.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum MessageChannel {
    Email,
    Sms,
    Push,
    Webhook,
    InApp,
}

impl MessageChannel {
    fn as_str(self) -> &'static str {
        match self {
            MessageChannel::Email => "email",
            MessageChannel::Sms => "sms",
            MessageChannel::Push => "push",
            MessageChannel::Webhook => "webhook",
            MessageChannel::InApp => "in_app",
        }
    }
}

/// A subscription topic.
#[derive(SimpleObject)]
pub struct Topic {
    pub key: String,
    pub channel: String,
    /// `opt_in` or `opt_out`.
    pub default: String,
    pub description: String,
    pub double_opt_in: bool,
}

/// A person's status on one topic.
#[derive(SimpleObject)]
pub struct TopicSubscription {
    pub key: String,
    /// `subscribed`, `unsubscribed` or `pending_confirmation`.
    pub status: String,
    /// Whether the person chose it (else it is the topic's default).
    pub chosen: bool,
}

/// A person's preferences on one channel: those of the address their messages go to.
#[derive(SimpleObject)]
pub struct ChannelSubscription {
    pub channel: String,
    pub address: String,
    pub unsubscribed: bool,
    pub topics: Vec<TopicSubscription>,
    /// Why the address receives nothing at all, if it is suppressed.
    pub suppressed: Option<String>,
}

impl From<ChannelSubscriptions> for ChannelSubscription {
    fn from(c: ChannelSubscriptions) -> Self {
        ChannelSubscription {
            channel: c.channel,
            address: c.address,
            unsubscribed: c.unsubscribed,
            topics: c
                .topics
                .into_iter()
                .map(|t| TopicSubscription {
                    key: t.key,
                    status: t.status,
                    chosen: t.chosen,
                })
                .collect(),
            suppressed: c.suppressed,
        }
    }
}

/// A suppressed address.
#[derive(SimpleObject)]
pub struct AddressSuppression {
    pub channel: String,
    pub address: String,
    pub reason: String,
    pub message_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<AddressSuppressionView> for AddressSuppression {
    fn from(s: AddressSuppressionView) -> Self {
        AddressSuppression {
            channel: s.channel,
            address: s.address,
            reason: s.reason,
            message_id: s.message_id,
            created_at: s.created_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct AddressSuppressionPage {
    pub nodes: Vec<AddressSuppression>,
    /// Pass as `after` for the next page; null on the last.
    pub next: Option<String>,
}

/// A change of a person's subscriptions on one channel.
#[derive(InputObject)]
pub struct ChangeSubscriptionsInput {
    pub channel: MessageChannel,
    #[graphql(default)]
    pub subscribe: Vec<String>,
    #[graphql(default)]
    pub unsubscribe: Vec<String>,
    /// `true`: nothing but transactional messages on the channel; `false`: undo that.
    pub unsubscribed: Option<bool>,
}

/// An address to suppress.
#[derive(InputObject)]
pub struct SuppressAddressInput {
    pub channel: MessageChannel,
    pub address: String,
    /// Default `manual`.
    pub reason: Option<String>,
}

#[derive(Default)]
pub struct PreferencesQuery;

#[Object]
impl PreferencesQuery {
    /// The subscription topics.
    async fn topics(&self, ctx: &Context<'_>) -> Vec<Topic> {
        let RestJson(view) = rest::list_topics(state(ctx)).await;
        view.topics
            .into_iter()
            .map(|t| Topic {
                key: t.key,
                channel: t.channel,
                default: t.default,
                description: t.description,
                double_opt_in: t.double_opt_in,
            })
            .collect()
    }

    /// A person's subscriptions (any identifier), per channel they have an address on.
    async fn profile_subscriptions(
        &self,
        ctx: &Context<'_>,
        profile: String,
    ) -> Result<Vec<ChannelSubscription>> {
        let RestJson(view) = rest::profile_subscriptions(state(ctx), Path(profile))
            .await
            .gql()?;
        Ok(view.channels.into_iter().map(Into::into).collect())
    }

    /// Suppressed addresses, by channel and address.
    async fn address_suppressions(
        &self,
        ctx: &Context<'_>,
        channel: Option<MessageChannel>,
        after: Option<String>,
        limit: Option<usize>,
    ) -> Result<AddressSuppressionPage> {
        let q = SuppressionsQuery {
            channel: channel.map(|c| c.as_str().to_owned()),
            after,
            limit,
        };
        let RestJson(view) = rest::list_address_suppressions(state(ctx), Query(q))
            .await
            .gql()?;
        Ok(AddressSuppressionPage {
            nodes: view.suppressions.into_iter().map(Into::into).collect(),
            next: view.next,
        })
    }
}

#[derive(Default)]
pub struct PreferencesMutation;

#[Object]
impl PreferencesMutation {
    /// Change a person's subscriptions on one channel; each change is a
    /// `Subscription Changed` event on their timeline.
    async fn change_subscriptions(
        &self,
        ctx: &Context<'_>,
        profile: String,
        input: ChangeSubscriptionsInput,
    ) -> Result<ChannelSubscription> {
        let rest_input = SubscriptionsInput {
            channel: input.channel.as_str().to_owned(),
            subscribe: input.subscribe,
            unsubscribe: input.unsubscribe,
            unsubscribed: input.unsubscribed,
        };
        let RestJson(view) =
            rest::change_subscriptions(writer(ctx)?, Path(profile), RestJson(rest_input))
                .await
                .gql()?;
        Ok(view.channel.into())
    }

    /// Suppress an address (the standing entry when it was suppressed already).
    async fn suppress_address(
        &self,
        ctx: &Context<'_>,
        input: SuppressAddressInput,
    ) -> Result<AddressSuppression> {
        let rest_input = SuppressInput {
            channel: input.channel.as_str().to_owned(),
            address: input.address,
            reason: input.reason,
        };
        let (_, RestJson(view)) = rest::suppress_address(writer(ctx)?, RestJson(rest_input))
            .await
            .gql()?;
        Ok(view.into())
    }

    /// Lift a suppression; false when the address was not suppressed.
    async fn unsuppress_address(
        &self,
        ctx: &Context<'_>,
        channel: MessageChannel,
        address: String,
    ) -> Result<bool> {
        match rest::unsuppress_address(writer(ctx)?, Path((channel.as_str().to_owned(), address)))
            .await
        {
            Ok(status) => Ok(status == StatusCode::NO_CONTENT),
            Err(herald_api::error::ApiError::NotFound(..)) => Ok(false),
            Err(e) => Err(e).gql(),
        }
    }
}
