//! Signed tokens, hashes and signatures: round trips, and any change refused.

use chrono::{DateTime, Duration, Utc};
use herald_messaging::message::MessageId;
use herald_messaging::token::{
    click_signature, inbox_user_hash, issue, sign_webhook, verify, verify_click,
    verify_inbox_user_hash, verify_webhook, Claims, Key, Purpose, TokenError,
};
use herald_messaging::Channel;
use proptest::prelude::*;
use uuid::Uuid;

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn key() -> impl Strategy<Value = Key> {
    prop::collection::vec(any::<u8>(), 16..64).prop_map(|b| Key::new(b).unwrap())
}

fn purpose() -> impl Strategy<Value = Purpose> {
    prop_oneof![
        Just(Purpose::PreferencePage),
        Just(Purpose::OneClickUnsubscribe),
        Just(Purpose::ConfirmSubscription)
    ]
}

fn claims() -> impl Strategy<Value = Claims> {
    (
        purpose(),
        any::<u128>(),
        prop::sample::select(Channel::ALL.to_vec()),
        prop::option::of("[a-z0-9_.-]{1,64}"),
        "\\PC{0,80}",
        0i64..4_102_444_800,
    )
        .prop_map(|(purpose, profile, channel, topic, address, exp)| Claims {
            purpose,
            profile_id: Uuid::from_u128(profile),
            channel,
            topic,
            address,
            expires_at: DateTime::from_timestamp(exp, 0).unwrap(),
        })
}

/// Another purpose than `p` (each one's next, in a cycle).
fn other(p: Purpose) -> Purpose {
    match p {
        Purpose::PreferencePage => Purpose::OneClickUnsubscribe,
        Purpose::OneClickUnsubscribe => Purpose::ConfirmSubscription,
        Purpose::ConfirmSubscription => Purpose::PreferencePage,
    }
}

/// `text` with the character at `at` (modulo its length) replaced by another from `alphabet`.
fn change_one(text: &str, at: usize, pick: usize, alphabet: &[u8]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let i = at % chars.len();
    let choices: Vec<char> = alphabet
        .iter()
        .map(|b| char::from(*b))
        .filter(|c| *c != chars[i])
        .collect();
    chars[i] = choices[pick % choices.len()];
    chars.into_iter().collect()
}

proptest! {
    #[test]
    fn tokens_round_trip_until_they_expire(k in key(), c in claims(), before in 1i64..10_000_000) {
        let token = issue(&k, &c).unwrap();
        let now = c.expires_at - Duration::seconds(before);
        prop_assert_eq!(verify(&k, &token, c.purpose, now), Ok(c.clone()));
        prop_assert_eq!(verify(&k, &token, c.purpose, c.expires_at), Err(TokenError::Expired));
        prop_assert_eq!(verify(&k, &token, other(c.purpose), now), Err(TokenError::Invalid));
    }

    #[test]
    fn changing_any_character_of_a_token_invalidates_it(
        k in key(), c in claims(), at in any::<usize>(), pick in any::<usize>(),
    ) {
        let token = issue(&k, &c).unwrap();
        let changed = change_one(&token, at, pick, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");
        let now = c.expires_at - Duration::seconds(1);
        prop_assert_eq!(verify(&k, &changed, c.purpose, now), Err(TokenError::Invalid));
        // Cut short or lengthened, too.
        prop_assert!(verify(&k, &token[..token.len() - 1], c.purpose, now).is_err());
        let longer = format!("{token}A");
        prop_assert!(verify(&k, &longer, c.purpose, now).is_err());
    }

    #[test]
    fn a_token_of_one_key_is_invalid_under_another(a in key(), b in key(), c in claims()) {
        prop_assume!(a != b);
        let token = issue(&a, &c).unwrap();
        let now = c.expires_at - Duration::seconds(1);
        prop_assert_eq!(verify(&b, &token, c.purpose, now), Err(TokenError::Invalid));
    }

    #[test]
    fn inbox_hashes(k in key(), id in "\\PC{0,40}", at in any::<usize>(), pick in any::<usize>()) {
        let hash = inbox_user_hash(&k, &id);
        prop_assert_eq!(verify_inbox_user_hash(&k, &id, &hash), Ok(()));
        let changed = change_one(&hash, at, pick, b"0123456789abcdef");
        prop_assert_eq!(verify_inbox_user_hash(&k, &id, &changed), Err(TokenError::Invalid));
        let other_id = format!("{id}x");
        prop_assert_eq!(verify_inbox_user_hash(&k, &other_id, &hash), Err(TokenError::Invalid));
    }

    #[test]
    fn webhook_signatures(
        k in key(), body in prop::collection::vec(any::<u8>(), 0..200), t in 0i64..4_000_000_000,
        flip in any::<usize>(), bit in 0u8..8,
    ) {
        let at = DateTime::from_timestamp(t, 0).unwrap();
        let tol = Duration::minutes(5);
        let header = sign_webhook(&k, at, &body);
        prop_assert_eq!(verify_webhook(&k, &header, &body, at, tol), Ok(at));
        if !body.is_empty() {
            let mut changed = body.clone();
            let i = flip % changed.len();
            changed[i] ^= 1 << bit;
            prop_assert_eq!(verify_webhook(&k, &header, &changed, at, tol), Err(TokenError::SignatureMismatch));
        }
        let changed = change_one(&header, flip, usize::from(bit), b"0123456789abcdef");
        prop_assert!(verify_webhook(&k, &changed, &body, at, tol).is_err());
    }

    #[test]
    fn click_links(k in key(), m in any::<u128>(), url in "https://[a-z.]{1,20}/\\PC{0,40}", at in any::<usize>(), pick in any::<usize>()) {
        let m = MessageId(Uuid::from_u128(m));
        let sig = click_signature(&k, m, &url);
        prop_assert_eq!(verify_click(&k, m, &url, &sig), Ok(()));
        let changed = change_one(&sig, at, pick, B64URL);
        prop_assert_eq!(verify_click(&k, m, &url, &changed), Err(TokenError::Invalid));
        let other_url = change_one(&url, at, pick, b"abcdefghijklmnopqrstuvwxyz/?=&");
        prop_assert_eq!(verify_click(&k, m, &other_url, &sig), Err(TokenError::Invalid));
    }

    /// Whatever is presented, verification answers with an error, never a panic.
    #[test]
    fn garbage_is_refused(text in "\\PC{0,300}", body in prop::collection::vec(any::<u8>(), 0..50)) {
        let k = Key::new(*b"0123456789abcdef").unwrap();
        let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        prop_assert!(verify(&k, &text, Purpose::PreferencePage, now).is_err());
        prop_assert!(verify_webhook(&k, &text, &body, now, Duration::minutes(5)).is_err());
        prop_assert!(verify_click(&k, MessageId(Uuid::nil()), "https://x", &text).is_err());
        prop_assert!(verify_inbox_user_hash(&k, "u", &text).is_err());
    }
}
