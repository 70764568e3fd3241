//! What the sender reads of a person: their traits and identifiers (for the address and the
//! template), their time zone (quiet hours); and stored snippets as Liquid partials.

use herald_core::identity::{IdKind, ProfileId};
use herald_messaging::governor::PersonState;
use herald_messaging::preferences::{Subscriptions, Suppression};
use herald_messaging::template::{Content, Person as TemplatePerson};
use herald_messaging::{address_of, Address, AddressRules, Channel};
use herald_storage::Store;
use serde_json::{Map, Value};

pub(super) struct Person {
    traits: Value,
    user_id: Option<String>,
    timezone: Option<String>,
    subscriptions: Subscriptions,
    suppressions: Vec<Suppression>,
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
        subscriptions: Subscriptions::default(),
        suppressions: Vec::new(),
        template,
    }))
}

impl Person {
    pub(super) fn address(&self, channel: Channel, rules: &AddressRules) -> Option<Address> {
        address_of(channel, &self.traits, self.user_id.as_deref(), rules)
    }

    pub(super) fn state<'a>(&'a self, address: Option<&'a Address>) -> PersonState<'a> {
        PersonState {
            address,
            timezone: self.timezone.as_deref(),
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
