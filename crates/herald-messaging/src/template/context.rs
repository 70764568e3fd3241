//! The variables a template renders with (docs/templates.md, "What a template sees"):
//!
//! - `profile`: `id`, `traits`, `computed` (computed traits), `audiences` (ids),
//!   `identifiers` (kind → values, e.g. `profile.identifiers.email`), `timezone`, `locale`;
//! - `traits`: the profile's traits again, for short templates (`{{ traits.first_name }}`);
//! - `event`: the event that triggered the message (empty when none did);
//! - `message`: the message's own values (its id; its links once it is sent).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// A person as a template sees them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Person {
    pub id: String,
    pub traits: Map<String, Value>,
    pub computed: BTreeMap<String, Value>,
    pub audiences: Vec<String>,
    /// `(kind, value)` pairs, in the order the profile holds them.
    pub identifiers: Vec<(String, String)>,
    pub timezone: Option<String>,
    pub locale: Option<String>,
}

/// The render variables for a message to `person` (none: an anonymous preview).
pub fn context(person: Option<&Person>, event: Option<&Value>, message: Value) -> Value {
    let profile = person.map_or_else(
        || json!({}),
        |p| {
            let mut identifiers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (kind, value) in &p.identifiers {
                identifiers.entry(kind).or_default().push(value);
            }
            json!({
                "id": p.id,
                "traits": p.traits,
                "computed": p.computed,
                "audiences": p.audiences,
                "identifiers": identifiers,
                "timezone": p.timezone,
                "locale": p.locale,
            })
        },
    );
    let traits = profile.get("traits").cloned().unwrap_or_else(|| json!({}));
    json!({
        "profile": profile,
        "traits": traits,
        "event": event.cloned().unwrap_or_else(|| json!({})),
        "message": message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_group_by_kind_and_traits_are_shortcut() {
        let person = Person {
            id: "p1".into(),
            traits: json!({"first_name": "Ana"}).as_object().unwrap().clone(),
            identifiers: vec![
                ("email".into(), "a@x.io".into()),
                ("user_id".into(), "u1".into()),
                ("email".into(), "b@x.io".into()),
            ],
            ..Person::default()
        };
        let c = context(Some(&person), None, json!({"id": "m1"}));
        assert_eq!(
            c["profile"]["identifiers"]["email"],
            json!(["a@x.io", "b@x.io"])
        );
        assert_eq!(c["traits"]["first_name"], "Ana");
        assert_eq!(c["event"], json!({}));
        assert_eq!(c["message"]["id"], "m1");
        let anonymous = context(None, Some(&json!({"event": "Signed Up"})), json!({}));
        assert_eq!(anonymous["traits"], json!({}));
        assert_eq!(anonymous["event"]["event"], "Signed Up");
    }
}
