//! What the sender reads of a person: their traits and identifiers (for the address and the
//! template), their time zone (quiet hours), what their address agreed to receive and whether
//! it is suppressed; and stored snippets as Liquid partials.

use herald_core::identity::{IdKind, ProfileId};
use herald_messaging::governor::PersonState;
use herald_messaging::preferences::{
    ChannelPreferences, Subscriptions, Suppression, SuppressionReason,
};
use herald_messaging::template::{Content, Person as TemplatePerson};
use herald_messaging::{address_of, Address, AddressRules, Channel};
use herald_storage::Store;
use serde_json::{Map, Value};

pub(crate) struct Person {
    traits: Value,
    user_id: Option<String>,
    timezone: Option<String>,
    pub(super) template: TemplatePerson,
}

/// The person with this profile id, or `None` when the profile is gone (merged away or
/// deleted).
pub(super) fn load(store: &dyn Store, profile: &str) -> herald_storage::Result<Option<Person>> {
    let Some(record) = store.profile(&ProfileId(profile.to_owned()))? else {
        return Ok(None);
    };
    let traits: Map<String, Value> = record
        .state
        .traits
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    let identifiers: Vec<(String, String)> = record
        .identities
        .iter()
        .map(|i| {
            (
                i.identifier.kind.as_str().to_owned(),
                i.identifier.value.clone(),
            )
        })
        .collect();
    let user_id = record
        .identities
        .iter()
        .find(|i| i.identifier.kind == IdKind::UserId)
        .map(|i| i.identifier.value.clone());
    let audiences = store.audience_state_of(&record.profile_id)?;
    let timezone = record.state.timezone.as_ref().map(|t| t.value.clone());
    let template = TemplatePerson {
        id: profile.to_owned(),
        traits: traits.clone(),
        computed: audiences
            .as_ref()
            .map(|a| a.computed.clone())
            .unwrap_or_default(),
        audiences: audiences
            .map(|a| a.members.into_iter().collect())
            .unwrap_or_default(),
        identifiers,
        timezone: timezone.clone(),
        locale: record.state.locale.as_ref().map(|l| l.value.clone()),
    };
    Ok(Some(Person {
        traits: Value::Object(traits),
        user_id,
        timezone,
        template,
    }))
}

/// What a GDPR erasure of a person does to their messaging, read before the deletion takes
/// the traits and identities it comes from.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Every address their messages go to — email, phone, push tokens — as
    /// `(channel, address)`: suppressed (`gdpr`), so that nothing reaches them again whatever
    /// profile they turn up on.
    pub addresses: Vec<(Channel, String)>,
    /// Their user ids, whose in-app inboxes are deleted.
    pub user_ids: Vec<String>,
}

/// The [`Erasure`] of a person; empty for a profile that is gone.
pub fn erasure(
    store: &dyn Store,
    profile: &str,
    rules: &AddressRules,
) -> herald_storage::Result<Erasure> {
    let Some(person) = load(store, profile)? else {
        return Ok(Erasure::default());
    };
    let addresses = [Channel::Email, Channel::Sms, Channel::Push]
        .into_iter()
        .filter_map(|c| person.address(c, rules).map(|a| (c, a)))
        .flat_map(|(c, a)| {
            a.suppression_keys()
                .into_iter()
                .map(|k| (c, k.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    let user_ids = person
        .template
        .identifiers
        .iter()
        .filter(|(kind, _)| kind == IdKind::UserId.as_str())
        .map(|(_, value)| value.clone())
        .collect();
    Ok(Erasure {
        addresses,
        user_ids,
    })
}

impl Person {
    pub(super) fn address(&self, channel: Channel, rules: &AddressRules) -> Option<Address> {
        address_of(channel, &self.traits, self.user_id.as_deref(), rules)
    }

    pub(super) fn timezone(&self) -> Option<&str> {
        self.timezone.as_deref()
    }
}

/// What an address agreed to receive on its channel, and its suppressions.
#[derive(Default)]
pub(super) struct Consent {
    subscriptions: Subscriptions,
    suppressions: Vec<Suppression>,
}

impl Consent {
    /// The preferences stored for the address's first key (a push message's first token
    /// speaks for the device), and the suppressions of any of its keys.
    pub(super) fn load(
        store: &dyn Store,
        channel: Channel,
        address: &Address,
    ) -> herald_storage::Result<Consent> {
        let keys: Vec<String> = address
            .suppression_keys()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut subscriptions = Subscriptions::default();
        if let Some(first) = keys.first() {
            if let Some(stored) = store.address_preferences(channel.as_str(), first)? {
                let prefs: ChannelPreferences = serde_json::from_str(&stored.preferences)?;
                subscriptions.0.insert(channel, prefs);
            }
        }
        let suppressions = store
            .address_suppressions(channel.as_str(), &keys)?
            .into_iter()
            .map(|s| Suppression {
                channel,
                address: s.address,
                // A reason this build does not know still suppresses.
                reason: serde_json::from_value(Value::String(s.reason))
                    .unwrap_or(SuppressionReason::Manual),
            })
            .collect();
        Ok(Consent {
            subscriptions,
            suppressions,
        })
    }

    pub(super) fn state<'a>(
        &'a self,
        address: Option<&'a Address>,
        timezone: Option<&'a str>,
    ) -> PersonState<'a> {
        PersonState {
            address,
            timezone,
            subscriptions: &self.subscriptions,
            suppressions: &self.suppressions,
        }
    }
}

/// Stored snippets (templates of channel `snippet`, their current version) as the partials
/// of `{% render %}` and `{% include %}`.
pub struct Snippets<'a>(pub &'a dyn Store);

impl herald_liquid::Loader for Snippets<'_> {
    fn load(&self, name: &str) -> Option<String> {
        // A store error reads as a missing partial: the render then fails with
        // `template_not_found`, which names it.
        let stored = self.0.template(name, None).ok().flatten()?;
        (stored.channel == "snippet")
            .then(|| serde_json::from_value::<Content>(stored.content).ok())
            .flatten()
            .map(|c| c.body)
    }
}
