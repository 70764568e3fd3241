//! Conformance of [`crate::preferences::PreferenceStore`]: preferences changed by
//! compare-and-set, suppressions kept with their first reason, listed in order, lifted; one
//! secret per name.

use super::Factory;
use crate::preferences::{AddressPreferences, AddressSuppression};

pub fn address_preferences_and_suppressions(make: &Factory) {
    let store = make();
    let prefs = |json: &str, at: i64| AddressPreferences {
        channel: "email".into(),
        address: "ada@example.com".into(),
        preferences: json.into(),
        updated_ms: at,
    };
    assert_eq!(
        store
            .address_preferences("email", "ada@example.com")
            .unwrap(),
        None
    );
    // Creating: only where there is no row yet.
    assert!(store
        .put_address_preferences(&prefs(r#"{"unsubscribed":true}"#, 10), None)
        .unwrap());
    assert!(!store
        .put_address_preferences(&prefs("{}", 11), None)
        .unwrap());
    // Changing: only from the version read.
    assert!(!store
        .put_address_preferences(&prefs("{}", 12), Some(9))
        .unwrap());
    assert_eq!(
        store
            .address_preferences("email", "ada@example.com")
            .unwrap(),
        Some(prefs(r#"{"unsubscribed":true}"#, 10))
    );
    assert!(store
        .put_address_preferences(&prefs("{}", 12), Some(10))
        .unwrap());
    assert_eq!(
        store
            .address_preferences("email", "ada@example.com")
            .unwrap(),
        Some(prefs("{}", 12))
    );
    // Another channel's row is another row.
    assert_eq!(
        store.address_preferences("sms", "ada@example.com").unwrap(),
        None
    );

    let suppression = |channel: &str, address: &str, reason: &str, at: i64| AddressSuppression {
        channel: channel.into(),
        address: address.into(),
        reason: reason.into(),
        message_id: (reason == "hard_bounce").then(|| "m-1".to_owned()),
        created_ms: at,
    };
    let bounce = suppression("email", "b@example.com", "hard_bounce", 20);
    assert!(store.suppress_address(&bounce).unwrap());
    // The first reason stays.
    assert!(!store
        .suppress_address(&suppression("email", "b@example.com", "manual", 21))
        .unwrap());
    let others = [
        suppression("email", "a@example.com", "manual", 22),
        suppression("sms", "+15550001", "invalid_number", 23),
        suppression("email", "c@example.com", "complaint", 24),
    ];
    for s in &others {
        assert!(store.suppress_address(s).unwrap());
    }
    let of = store
        .address_suppressions(
            "email",
            &[
                "b@example.com".into(),
                "c@example.com".into(),
                "z@example.com".into(),
            ],
        )
        .unwrap();
    assert_eq!(of, vec![bounce.clone(), others[2].clone()]);
    assert_eq!(store.address_suppressions("email", &[]).unwrap(), vec![]);
    assert_eq!(
        store
            .address_suppressions("sms", &["b@example.com".into()])
            .unwrap(),
        vec![]
    );

    // Listed by (channel, address), paged, optionally one channel.
    let all = store.list_address_suppressions(None, None, 10).unwrap();
    let keys: Vec<(&str, &str)> = all
        .iter()
        .map(|s| (s.channel.as_str(), s.address.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("email", "a@example.com"),
            ("email", "b@example.com"),
            ("email", "c@example.com"),
            ("sms", "+15550001")
        ]
    );
    let page = store
        .list_address_suppressions(None, Some(("email", "b@example.com")), 2)
        .unwrap();
    assert_eq!(page, vec![others[2].clone(), others[1].clone()]);
    let sms = store
        .list_address_suppressions(Some("sms"), None, 10)
        .unwrap();
    assert_eq!(sms, vec![others[1].clone()]);

    assert!(store.unsuppress_address("email", "b@example.com").unwrap());
    assert!(!store.unsuppress_address("email", "b@example.com").unwrap());
    assert_eq!(
        store
            .address_suppressions("email", &["b@example.com".into()])
            .unwrap(),
        vec![]
    );

    // A secret is generated once; later callers read it.
    let first = store.shared_secret("links", "aaaa").unwrap();
    assert_eq!(first, "aaaa");
    assert_eq!(store.shared_secret("links", "bbbb").unwrap(), "aaaa");
    assert_eq!(store.shared_secret("other", "cccc").unwrap(), "cccc");
}
