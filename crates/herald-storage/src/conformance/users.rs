//! Conformance of [`crate::UserStore`]: users, the last-admin guard, sessions and failed
//! sign-ins.

use chrono::{TimeZone, Utc};

use super::Factory;
use crate::{hash_secret, DashboardSession, DashboardUser, Role, UserChange, UserUpdate};

fn user(email: &str, role: Role, at_s: i64) -> DashboardUser {
    let now = Utc.timestamp_opt(1_767_225_600 + at_s, 0).unwrap();
    DashboardUser::new(email, role, format!("$argon2id$hash-of-{email}"), now)
}

fn session(token: &str, user: &DashboardUser, at_ms: i64) -> DashboardSession {
    DashboardSession {
        token_hash: hash_secret(token),
        user_id: user.id.clone(),
        csrf_token: format!("csrf-{token}"),
        created_ms: at_ms,
        last_seen_ms: at_ms,
    }
}

pub fn users_are_created_changed_and_guarded(make: &Factory) {
    let store = make();
    let ana = user("ana@example.com", Role::Admin, 0);
    assert!(store.create_user(&ana, true).unwrap());
    let bob = user("bob@example.com", Role::Viewer, 1);
    assert!(
        !store.create_user(&bob, true).unwrap(),
        "only_if_none: a user exists"
    );
    assert!(store.create_user(&bob, false).unwrap());
    let dup = user("bob@example.com", Role::Admin, 2);
    assert!(
        !store.create_user(&dup, false).unwrap(),
        "the email is taken"
    );
    assert_eq!(store.users().unwrap(), [ana.clone(), bob.clone()]);
    assert_eq!(store.user(&bob.id).unwrap(), Some(bob.clone()));
    assert_eq!(
        store.user_by_email("ana@example.com").unwrap(),
        Some(ana.clone())
    );
    assert_eq!(store.user_by_email("nobody@example.com").unwrap(), None);

    // The only admin can be neither demoted nor deleted.
    let demote = UserUpdate {
        role: Some(Role::Viewer),
        ..Default::default()
    };
    assert_eq!(
        store.update_user(&ana.id, &demote).unwrap(),
        UserChange::LastAdmin
    );
    assert_eq!(store.delete_user(&ana.id).unwrap(), UserChange::LastAdmin);
    assert_eq!(store.user(&ana.id).unwrap().unwrap().role, Role::Admin);
    // Once another admin exists, both are allowed.
    let promote = UserUpdate {
        role: Some(Role::Admin),
        ..Default::default()
    };
    let UserChange::Done(promoted) = store.update_user(&bob.id, &promote).unwrap() else {
        panic!("promoting a viewer")
    };
    assert_eq!(promoted.role, Role::Admin);
    let UserChange::Done(demoted) = store.update_user(&ana.id, &demote).unwrap() else {
        panic!("demoting one of two admins")
    };
    assert_eq!(demoted.role, Role::Viewer);
    assert_eq!(store.delete_user(&bob.id).unwrap(), UserChange::LastAdmin);
    assert_eq!(
        store.update_user("usr_none", &demote).unwrap(),
        UserChange::NotFound
    );
    assert_eq!(store.delete_user("usr_none").unwrap(), UserChange::NotFound);
    let UserChange::Done(deleted) = store.delete_user(&ana.id).unwrap() else {
        panic!("deleting a viewer")
    };
    assert_eq!(deleted.email, "ana@example.com");
    assert_eq!(store.users().unwrap().len(), 1);
}

pub fn sessions_are_hashed_revoked_and_expired(make: &Factory) {
    let store = make();
    let ana = user("ana@example.com", Role::Admin, 0);
    let bob = user("bob@example.com", Role::Viewer, 1);
    store.create_user(&ana, false).unwrap();
    store.create_user(&bob, false).unwrap();
    let a1 = session("token-a1", &ana, 1_000);
    let a2 = session("token-a2", &ana, 2_000);
    let b1 = session("token-b1", &bob, 3_000);
    for s in [&a1, &a2, &b1] {
        store.create_session(s).unwrap();
    }
    assert_eq!(
        store.session(&hash_secret("token-a1")).unwrap(),
        Some((a1.clone(), ana.clone()))
    );
    assert_eq!(
        store.session("token-a1").unwrap(),
        None,
        "found by the token's hash only"
    );
    // The user's current role comes with the session.
    store
        .update_user(
            &bob.id,
            &UserUpdate {
                role: Some(Role::Admin),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        store.session(&b1.token_hash).unwrap().unwrap().1.role,
        Role::Admin
    );
    // Touching never moves a session back in time.
    store.touch_session(&a1.token_hash, 5_000).unwrap();
    store.touch_session(&a1.token_hash, 4_000).unwrap();
    assert_eq!(
        store
            .session(&a1.token_hash)
            .unwrap()
            .unwrap()
            .0
            .last_seen_ms,
        5_000
    );
    assert!(store.revoke_session(&a2.token_hash).unwrap());
    assert!(!store.revoke_session(&a2.token_hash).unwrap());
    assert_eq!(store.session(&a2.token_hash).unwrap(), None);

    // A new password revokes the user's sessions but the one kept.
    let a3 = session("token-a3", &ana, 6_000);
    store.create_session(&a3).unwrap();
    let UserChange::Done(changed) = store
        .update_user(
            &ana.id,
            &UserUpdate {
                password_hash: Some("$argon2id$new".into()),
                keep_session: Some(a3.token_hash.clone()),
                ..Default::default()
            },
        )
        .unwrap()
    else {
        panic!("changing a password")
    };
    assert_eq!(changed.password_hash, "$argon2id$new");
    assert_eq!(store.session(&a1.token_hash).unwrap(), None);
    assert!(store.session(&a3.token_hash).unwrap().is_some());
    assert_eq!(store.revoke_user_sessions(&ana.id).unwrap(), 1);
    assert_eq!(store.session(&a3.token_hash).unwrap(), None);

    // Expiry: idle (last seen too long ago) or too old (created too long ago).
    let idle = session("token-idle", &bob, 10_000);
    let old = DashboardSession {
        last_seen_ms: 50_000,
        ..session("token-old", &bob, 10_000)
    };
    let fresh = session("token-fresh", &bob, 40_000);
    for s in [&idle, &old, &fresh] {
        store.create_session(s).unwrap();
    }
    assert_eq!(
        store.expire_sessions(20_000, 5_000).unwrap(),
        2,
        "b1 and idle"
    );
    assert_eq!(store.expire_sessions(20_000, 30_000).unwrap(), 1, "old");
    assert!(store.session(&fresh.token_hash).unwrap().is_some());
    // Deleting a user ends their sessions.
    store
        .create_user(&user("cy@example.com", Role::Admin, 2), false)
        .unwrap();
    store.delete_user(&bob.id).unwrap();
    assert_eq!(store.session(&fresh.token_hash).unwrap(), None);
}

pub fn failed_sign_ins_are_counted_per_email(make: &Factory) {
    let store = make();
    for at in [1_000, 2_000, 3_000] {
        store.record_failed_sign_in("ana@example.com", at).unwrap();
    }
    store
        .record_failed_sign_in("bob@example.com", 2_500)
        .unwrap();
    assert_eq!(
        store.failed_sign_ins("ana@example.com", 0).unwrap(),
        [1_000, 2_000, 3_000]
    );
    assert_eq!(
        store.failed_sign_ins("ana@example.com", 2_000).unwrap(),
        [2_000, 3_000]
    );
    assert_eq!(store.forget_failed_sign_ins(2_500).unwrap(), 2);
    assert_eq!(
        store.failed_sign_ins("ana@example.com", 0).unwrap(),
        [3_000]
    );
    store.clear_failed_sign_ins("ana@example.com").unwrap();
    assert_eq!(
        store.failed_sign_ins("ana@example.com", 0).unwrap(),
        [] as [i64; 0]
    );
    assert_eq!(
        store.failed_sign_ins("bob@example.com", 0).unwrap(),
        [2_500]
    );
}
