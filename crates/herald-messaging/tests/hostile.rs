//! Input from outside — traits, policies, addresses — is refused or read, never a panic; and
//! what is read is in the documented normal form.

use herald_messaging::address::{normalize_email, normalize_phone};
use herald_messaging::governor::{ClockTime, Window};
use herald_messaging::preferences::Topics;
use herald_messaging::{address_of, AddressRules, Channel, Policy};
use proptest::prelude::*;
use serde_json::Value;

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::from),
        "[ +0-9().-]{0,20}".prop_map(Value::from),
        "[a-zA-Z.]{1,10}@[a-z]{1,8}\\.[a-z]{2,3}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("email".to_owned()),
                    Just("phone".to_owned()),
                    Just("push_tokens".to_owned()),
                    Just("token".to_owned()),
                    Just("platform".to_owned()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn addresses_from_any_traits(traits in json(), user in prop::option::of("\\PC{0,10}"), code in prop::option::of("[0-9a]{0,4}")) {
        let rules = AddressRules { default_calling_code: code };
        for channel in Channel::ALL {
            if let Some(address) = address_of(channel, &traits, user.as_deref(), &rules) {
                prop_assert_eq!(address.channel(), channel);
            }
        }
    }

    #[test]
    fn emails_are_normal_and_stable(raw in "\\PC{0,60}") {
        if let Some(email) = normalize_email(&raw) {
            prop_assert_eq!(email.to_lowercase(), email.clone());
            prop_assert_eq!(email.matches('@').count(), 1);
            prop_assert_eq!(normalize_email(&email), Some(email.clone()));
        }
    }

    #[test]
    fn phones_are_e164_and_stable(raw in "[ +0-9().-]{0,24}|\\PC{0,24}", code in prop::option::of("[0-9]{1,3}")) {
        if let Some(phone) = normalize_phone(&raw, code.as_deref()) {
            let digits = &phone[1..];
            prop_assert!(phone.starts_with('+'));
            prop_assert!((7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(!digits.starts_with('0'));
            prop_assert_eq!(normalize_phone(&phone, None), Some(phone.clone()));
        }
    }

    #[test]
    fn policy_texts(text in "\\PC{0,80}", json in json()) {
        if let Err(e) = Policy::from_json(&text) {
            prop_assert!(!e.code().is_empty());
        }
        let _ = Policy::from_json(&json.to_string());
        let _ = serde_json::from_value::<Topics>(json);
        let _ = text.parse::<Window>();
        let _ = text.parse::<ClockTime>();
    }

    /// A window written back reads as the same window.
    #[test]
    fn windows_round_trip(secs in 1u64..=366 * 86_400) {
        let w = Window::from_secs(secs).unwrap();
        prop_assert_eq!(w.to_string().parse::<Window>(), Ok(w));
    }
}

fn instant() -> impl Strategy<Value = chrono::DateTime<chrono::Utc>> {
    let min = chrono::DateTime::<chrono::Utc>::MIN_UTC.timestamp();
    let max = chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp();
    prop_oneof![
        1 => Just(min),
        1 => Just(max),
        2 => min..=max,
        4 => 1_600_000_000i64..1_800_000_000,
    ]
    .prop_map(|t| chrono::DateTime::from_timestamp(t, 0).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The governor decides on any policy, validated or not, at any instant chrono can hold.
    #[test]
    fn decide_never_panics(
        caps in prop::collection::vec((0u32..4, 1u64..=100 * 366 * 86_400), 0..4),
        quiet in prop::option::of((0u32..24, 0u32..24, any::<bool>())),
        tz in prop::sample::select(vec!["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Nope/Nope", "Europe/Berlin"]),
        defer in any::<bool>(),
        ledger in prop::collection::vec((instant(), any::<bool>()), 0..6),
        now in instant(),
    ) {
        use herald_messaging::governor::{Cap, CappedAction, LedgerState, QuietAction, QuietHours};
        use herald_messaging::preferences::Subscriptions;
        use herald_messaging::{decide, Address, Candidate, Category, LedgerEntry, PersonState, Priority};
        let policy = Policy {
            timezone: tz.to_owned(),
            caps: caps
                .into_iter()
                .map(|(max, secs)| Cap { channel: None, category: None, max, window: Window::from_secs(secs).unwrap() })
                .collect(),
            quiet_hours: quiet.map(|(s, e, drop)| QuietHours {
                start: ClockTime::new(s, 0).unwrap(),
                end: ClockTime::new(e, 0).unwrap(),
                action: if drop { QuietAction::Drop } else { QuietAction::Defer },
                channels: None,
            }),
            on_capped: if defer { CappedAction::Defer } else { CappedAction::Drop },
        };
        let category = Category::parse("marketing").unwrap();
        let ledger: Vec<LedgerEntry> = ledger
            .into_iter()
            .enumerate()
            .map(|(i, (at, sent))| LedgerEntry {
                key: format!("l{i}"),
                at,
                channel: Channel::Email,
                category: category.clone(),
                priority: Priority::Low,
                transactional: false,
                state: if sent { LedgerState::Sent } else { LedgerState::Reserved },
            })
            .collect();
        let address = Address::Email { email: "a@example.com".into() };
        let subscriptions = Subscriptions::default();
        let person = PersonState { address: Some(&address), timezone: Some(tz), subscriptions: &subscriptions, suppressions: &[] };
        let candidate = Candidate {
            key: "c".into(), channel: Channel::Email, category, topic: None,
            transactional: false, priority: Priority::High, holdout: false,
        };
        let _ = decide(&policy, &Topics::default(), &candidate, &person, &ledger, now);
    }
}
