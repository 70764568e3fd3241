//! The storage conformance suite: every backend must behave like the in-memory reference.
//! `conformance_suite!(name, factory)` instantiates it for one backend.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use herald_core::audience::json::computed_from_json;
use herald_core::audience::live::{on_event, on_split, refresh_stored, Cause};
use herald_core::audience::text::parse as parse_rule;
use herald_core::audience::{AudienceDef, AudienceStore, Catalog, Changes};
use herald_core::event::Event;
use herald_core::identity::{IdentityRules, ProfileId};
use herald_core::memory::MemoryProjection;
use herald_core::projection::{apply_event, Applied};
use herald_core::split::{delete_person, unmerge, SplitError};
use herald_core::testing::{arb_op, parse, Op};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

mod broadcasts;
mod inbox;
mod messages;
mod preferences;
mod settings;
mod templates;
mod users;
pub use broadcasts::*;
pub use inbox::*;
pub use messages::*;
pub use preferences::*;
pub use settings::*;
pub use templates::*;
pub use users::*;

use crate::{
    EncodedEvent, KeyKind, ProfileSearch, Quarantined, StateTxn, StorageError, Store,
    TimelineFilter,
};

pub type Factory = dyn Fn() -> Arc<dyn Store>;

/// 2026-03-01, after every generated event: the conformance suite's clock.
const NOW: i64 = 1_772_323_200_000;

/// Audiences over the generated streams: traits, group traits, counts, references, a
/// relative time (timers) and a computed trait.
fn catalog() -> Catalog {
    let rule = |text: &str| parse_rule(text).unwrap();
    let audiences = [
        ("plan_1", r#"trait plan = 1"#),
        ("repeat_e1", r#"performed "E1" >= 2"#),
        ("tier_2", r#"group trait tier = 2"#),
        (
            "plan_1_no_pages",
            r#"in audience "plan_1" and not performed "page""#,
        ),
        ("recent_e2", r#"last performed "E2" less than 20 days ago"#),
        ("e0_counted", r#"computed e0_count > 1"#),
    ]
    .into_iter()
    .map(|(id, text)| AudienceDef {
        id: id.into(),
        rule: rule(text),
    })
    .collect();
    let computed =
        computed_from_json(&json!({"name": "e0_count", "aggregate": "count", "event": "E0"}))
            .unwrap();
    Catalog::new(vec![computed], audiences).unwrap()
}

fn event(i: u32, user: &str) -> Event {
    parse(
        &json!({"type":"track","event":"E","userId":user,"messageId":format!("m{i}"),"timestamp":format!("2026-02-{:02}T00:00:00Z", i % 27 + 1)}),
    )
}

fn encode(events: &[Event]) -> Vec<EncodedEvent> {
    events
        .iter()
        .map(|e| EncodedEvent::of(e).unwrap())
        .collect()
}

pub fn log_appends_dedups_and_orders(make: &Factory) {
    let store = make();
    let first = store
        .append(&encode(&[event(1, "u"), event(2, "u"), event(1, "u")]))
        .unwrap();
    assert_eq!((first.appended, first.duplicates, first.head), (2, 1, 2));
    let again = store
        .append(&encode(&[event(2, "u"), event(3, "u")]))
        .unwrap();
    assert_eq!((again.appended, again.duplicates, again.head), (1, 1, 3));
    let all = store.read_after(0, 10).unwrap();
    assert_eq!(all.unreadable, []);
    assert_eq!(
        all.events
            .iter()
            .map(|(s, e)| (*s, e.message_id.as_str()))
            .collect::<Vec<_>>(),
        [(1, "m1"), (2, "m2"), (3, "m3")]
    );
    assert_eq!(store.read_after(1, 1).unwrap().events.len(), 1);
    assert_eq!(
        store
            .load(&[3, 1, 99])
            .unwrap()
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>(),
        [1, 3]
    );
    // A deleted tail position is never handed out again.
    store.delete(&[3]).unwrap();
    assert_eq!(store.head().unwrap(), 3);
    let after = store.append(&encode(&[event(4, "u")])).unwrap();
    assert_eq!(after.head, 4);
    assert_eq!(
        store
            .read_after(2, 10)
            .unwrap()
            .events
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>(),
        [4]
    );
    // A large group (several multi-row statements and a remainder) with repeats inside it:
    // each new event gets the next position, in the group's order, and repeats get none.
    let group: Vec<Event> = (10..210)
        .chain([15, 100, 209])
        .map(|i| event(i, "v"))
        .collect();
    let out = store.append(&encode(&group)).unwrap();
    assert_eq!((out.appended, out.duplicates, out.head), (200, 3, 204));
    let stored = store.read_after(4, 1000).unwrap().events;
    assert_eq!(stored.len(), 200);
    let expected: Vec<Option<u64>> = (5..205).map(Some).chain([None; 3]).collect();
    assert_eq!(out.positions, expected);
    for ((seq, e), want) in stored.iter().zip(&group) {
        assert_eq!(e.message_id, want.message_id, "position {seq}");
    }
}

pub fn keys_are_hashed_listed_and_revoked(make: &Factory) {
    let store = make();
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let key = store
        .insert_key(KeyKind::Write, "web", "hwk_secret_1", now)
        .unwrap()
        .unwrap();
    assert!(store
        .insert_key(KeyKind::Write, "dup", "hwk_secret_1", now)
        .unwrap()
        .is_none());
    assert_eq!(
        store
            .authenticate(KeyKind::Write, "hwk_secret_1")
            .unwrap()
            .unwrap()
            .id,
        key.id
    );
    assert!(store
        .authenticate(KeyKind::Admin, "hwk_secret_1")
        .unwrap()
        .is_none());
    assert!(store
        .authenticate(KeyKind::Write, "wrong")
        .unwrap()
        .is_none());
    assert_eq!(store.count_keys(KeyKind::Write).unwrap(), 1);
    assert_eq!(store.revoked_key_count().unwrap(), 0);
    assert!(store.revoke_key(&key.id, now).unwrap());
    assert!(!store.revoke_key(&key.id, now).unwrap());
    assert_eq!(
        store.revoked_key_count().unwrap(),
        1,
        "a second revocation is no change"
    );
    assert!(store
        .authenticate(KeyKind::Write, "hwk_secret_1")
        .unwrap()
        .is_none());
    assert_eq!(store.list_keys().unwrap()[0].revoked_at, Some(now));
}

/// The rules (at most `limit` user ids per profile), a fresh store and the audience catalog
/// of a projection property test.
fn setup(make: &Factory, limit: usize) -> (IdentityRules, Arc<dyn Store>, Catalog) {
    let mut rules = IdentityRules::default();
    rules.limits.insert(herald_core::IdKind::UserId, limit);
    (rules, make(), catalog())
}

/// As the processor does: several events per transaction, their identifiers and the profiles
/// they may create prefetched first ([`crate::prefetch_batch`]); merges inside a batch must see
/// the writes before them, and so must a profile's positions filtered by name.
pub fn batched_projection_matches_reference(make: &Factory) {
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (prop::collection::vec(arb_op(), 1..40), 1usize..3, 1usize..8);
    runner
        .run(&strategy, |(ops, limit, batch)| {
            let (rules, store, catalog) = setup(make, limit);
            let mut reference = MemoryProjection::default();
            let mut ref_log: Vec<(u64, Event)> = Vec::new();
            let sends: Vec<Event> = ops
                .into_iter()
                .filter_map(|op| match op {
                    Op::Send(v) => Some(parse(&v)),
                    _ => None,
                })
                .collect();
            let mut names: BTreeMap<u64, String> = BTreeMap::new();
            for group in sends.chunks(batch) {
                let out = store.append(&encode(group)).unwrap();
                let appended: Vec<(u64, Event)> = out
                    .positions
                    .iter()
                    .zip(group)
                    .filter_map(|(p, e)| p.map(|seq| (seq, e.clone())))
                    .collect();
                for (seq, e) in &appended {
                    names.insert(*seq, e.display_name().to_owned());
                }
                let mut applied = Vec::new();
                // Each profile's positions filtered by name, both ways, inside the transaction
                // that wrote them: (all, wanted, got).
                let mut named = Vec::new();
                store
                    .in_transaction(&mut |txn: &mut dyn StateTxn| {
                        applied.clear();
                        named.clear();
                        crate::prefetch_batch(txn, &appended, &rules)?;
                        for (seq, e) in &appended {
                            let a = apply_event(txn, *seq, e, &rules)?;
                            on_event(txn, &catalog, *seq, e, &a, NOW, &mut |s: &[u64]| {
                                store.load(s)
                            })?;
                            applied.push(a);
                        }
                        for (_, e) in &appended {
                            let wanted: BTreeSet<String> = [e.display_name().to_owned()].into();
                            for a in &applied {
                                if let Applied::Attributed { profile, .. } = a {
                                    // Named first: it must see this transaction's writes.
                                    let got = txn.event_seqs_named(profile, &wanted)?;
                                    let all = txn.event_seqs(profile)?;
                                    named.push((all, wanted.clone(), got));
                                }
                            }
                        }
                        txn.set_cursor(out.head)
                    })
                    .unwrap();
                for (all, wanted, got) in &named {
                    let expected: Vec<u64> = all
                        .iter()
                        .copied()
                        .filter(|s| wanted.contains(&names[s]))
                        .collect();
                    prop_assert_eq!(got, &expected, "positions named {:?}", wanted);
                }
                for ((seq, e), got) in appended.iter().zip(&applied) {
                    let expected = apply_event(&mut reference, *seq, e, &rules).unwrap();
                    ref_log.push((*seq, e.clone()));
                    let log = ref_log.clone();
                    on_event(
                        &mut reference,
                        &catalog,
                        *seq,
                        e,
                        &expected,
                        NOW,
                        &mut |s: &[u64]| Ok(load(&log, s)),
                    )
                    .unwrap();
                    prop_assert_eq!(got, &expected);
                }
                // What a scoped backfill walks, page by page, as the reference has it.
                let all: BTreeSet<String> = names.values().cloned().collect();
                let some: BTreeSet<String> = all.iter().take(2).cloned().collect();
                let audiences: BTreeSet<String> =
                    catalog.audience_ids().map(str::to_owned).collect();
                for names in [&all, &some] {
                    let scope = herald_core::audience::BackfillScope {
                        names: names.clone(),
                        members_of: audiences.clone(),
                        ..Default::default()
                    };
                    let expected_named = reference
                        .named_events_after(names, None, usize::MAX)
                        .unwrap();
                    let expected_members = reference
                        .members_after(&audiences, None, usize::MAX)
                        .unwrap();
                    let union: BTreeSet<&ProfileId> = expected_named
                        .iter()
                        .map(|(p, _)| p)
                        .chain(&expected_members)
                        .collect();
                    let (mut named, mut members, mut size) = (Vec::new(), Vec::new(), 0);
                    store
                        .in_transaction(&mut |txn: &mut dyn StateTxn| {
                            named = walk(
                                batch,
                                |after, page| txn.named_events_after(names, after, page),
                                |(p, _)| p,
                            )?;
                            members = walk(
                                batch,
                                |after, page| txn.members_after(&audiences, after, page),
                                |p| p,
                            )?;
                            size = txn.scope_size(&scope)?;
                            Ok(())
                        })
                        .unwrap();
                    prop_assert_eq!(&named, &expected_named);
                    prop_assert_eq!(&members, &expected_members);
                    prop_assert_eq!(size, union.len() as u64);
                }
            }
            prop_assert_eq!(store.snapshot().unwrap(), reference.snapshot());
            Ok(())
        })
        .unwrap();
}

/// Every item of a paginated query, `page` at a time, continuing after the last id; a short
/// page is the last.
fn walk<T>(
    page: usize,
    mut next: impl FnMut(Option<&ProfileId>, usize) -> crate::Result<Vec<T>>,
    id: impl Fn(&T) -> &ProfileId,
) -> crate::Result<Vec<T>> {
    let mut all: Vec<T> = Vec::new();
    loop {
        let got = next(all.last().map(&id), page)?;
        assert!(got.len() <= page, "a page holds at most its limit");
        let done = got.len() < page;
        all.extend(got);
        if done {
            return Ok(all);
        }
    }
}

/// Random streams with merges, unmerges and deletions give the same projection in the backend
/// as in the in-memory reference; queries agree with it.
pub fn projection_matches_reference(make: &Factory) {
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (prop::collection::vec(arb_op(), 1..30), 1usize..3);
    runner
        .run(&strategy, |(ops, limit)| {
            let (rules, store, catalog) = setup(make, limit);
            let mut reference = MemoryProjection::default();
            let mut ref_log: Vec<(u64, Event)> = Vec::new();
            let mut follower = InsightsFollower::start(&*store);
            for op in ops {
                follower.catch_up(&*store);
                match op {
                    Op::Send(v) => {
                        let e = parse(&v);
                        let out = store.append(&encode(std::slice::from_ref(&e))).unwrap();
                        if out.appended == 0 {
                            continue;
                        }
                        let seq = out.head;
                        let mut applied = None;
                        store
                            .in_transaction(&mut |txn: &mut dyn StateTxn| {
                                let a = apply_event(txn, seq, &e, &rules)?;
                                on_event(txn, &catalog, seq, &e, &a, NOW, &mut |s: &[u64]| {
                                    store.load(s)
                                })?;
                                applied = Some(a);
                                txn.set_cursor(seq)
                            })
                            .unwrap();
                        let reference_applied =
                            apply_event(&mut reference, seq, &e, &rules).unwrap();
                        let log = ref_log.clone();
                        on_event(
                            &mut reference,
                            &catalog,
                            seq,
                            &e,
                            &reference_applied,
                            NOW,
                            &mut |s: &[u64]| Ok(load(&log, s)),
                        )
                        .unwrap();
                        prop_assert_eq!(applied.as_ref(), Some(&reference_applied));
                        if reference_applied == Applied::Suppressed {
                            store.delete(&[seq]).unwrap();
                        } else {
                            ref_log.push((seq, e));
                        }
                    }
                    Op::Unmerge(k) => {
                        let open: Vec<String> = reference
                            .merges
                            .iter()
                            .filter(|(_, m)| !m.2)
                            .map(|(id, _)| id.clone())
                            .collect();
                        if open.is_empty() {
                            continue;
                        }
                        let id = &open[k % open.len()];
                        let log = &ref_log;
                        let out =
                            unmerge(&mut reference, id, &rules, |s| Ok(load(log, s))).unwrap();
                        on_split(
                            &mut reference,
                            &catalog,
                            &out,
                            None,
                            NOW,
                            &mut |s: &[u64]| Ok(load(log, s)),
                        )
                        .unwrap();
                        store
                            .in_transaction(&mut |txn: &mut dyn StateTxn| {
                                let out = unmerge(txn, id, &rules, |s| store.load(s))
                                    .map_err(split_err)?;
                                on_split(txn, &catalog, &out, None, NOW, &mut |s: &[u64]| {
                                    store.load(s)
                                })
                            })
                            .unwrap();
                    }
                    Op::Delete(k) => {
                        let profiles: Vec<ProfileId> = reference.profiles.keys().cloned().collect();
                        if profiles.is_empty() {
                            continue;
                        }
                        let victim = &profiles[k % profiles.len()];
                        let log = &ref_log;
                        let out =
                            delete_person(&mut reference, victim, &rules, |s| Ok(load(log, s)))
                                .unwrap();
                        out.rewrite_log(&mut ref_log);
                        let log = &ref_log;
                        on_split(
                            &mut reference,
                            &catalog,
                            &out,
                            Some(victim),
                            NOW,
                            &mut |s: &[u64]| Ok(load(log, s)),
                        )
                        .unwrap();
                        let mut deleted = Vec::new();
                        store
                            .in_transaction(&mut |txn: &mut dyn StateTxn| {
                                let o = delete_person(txn, victim, &rules, |s| store.load(s))
                                    .map_err(split_err)?;
                                on_split(
                                    txn,
                                    &catalog,
                                    &o,
                                    Some(victim),
                                    NOW,
                                    &mut |s: &[u64]| {
                                        let mut events = store.load(s)?;
                                        o.overlay(&mut events);
                                        Ok(events)
                                    },
                                )?;
                                txn.forget_events(&o.deleted_seqs)?;
                                let redacted: Vec<(u64, Event)> = o
                                    .redacted
                                    .iter()
                                    .map(|r| (r.seq, r.event.clone()))
                                    .collect();
                                txn.replace_events(&redacted)?;
                                deleted = o.deleted_seqs;
                                deleted.extend(o.redacted.iter().map(|r| r.seq));
                                Ok(())
                            })
                            .unwrap();
                        // Only deleted or replaced events are queued for removal (the
                        // originals of replaced ones, in a log that cannot rewrite in place);
                        // the comparison of the whole log below shows the deleted ones went.
                        let pending = store.pending_log_deletions().unwrap();
                        prop_assert!(pending.iter().all(|s| deleted.contains(s)));
                        store.delete(&pending).unwrap();
                        store.confirm_log_deletions(&pending).unwrap();
                        store.finish_log_replacements().unwrap();
                        prop_assert!(store.pending_log_deletions().unwrap().is_empty());
                        for id in &out.suppressed {
                            prop_assert!(store.is_suppressed(id).unwrap());
                        }
                        // The stored log is the reference's: deleted events gone, redacted
                        // ones replaced at their positions, whichever way it is read.
                        let read = store.read_after(0, 1_000).unwrap();
                        prop_assert!(read.unreadable.is_empty());
                        prop_assert_eq!(&read.events, &ref_log);
                        let seqs: Vec<u64> = ref_log.iter().map(|(s, _)| *s).collect();
                        prop_assert_eq!(&store.load(&seqs).unwrap(), &ref_log);
                        for r in &out.redacted {
                            let text = store.stored_text(r.seq).unwrap().unwrap();
                            prop_assert_eq!(
                                &herald_core::event::read_stored(&text).unwrap(),
                                &r.event
                            );
                        }
                    }
                }
            }
            let expected = reference.snapshot();
            prop_assert_eq!(store.snapshot().unwrap(), expected.clone());
            // PostgreSQL's feed shows a change once every older transaction ended, those of
            // other tests on the server included: poll, with a deadline.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                follower.catch_up(&*store);
                if follower.rows == expected.attributions || std::time::Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            prop_assert_eq!(&follower.rows, &expected.attributions, "the insights feed");
            // Time passes: due timers fire the same way.
            let later = NOW + 30 * 86_400_000;
            let due = reference.due_profiles(later, usize::MAX).unwrap();
            let log = &ref_log;
            for p in &due {
                refresh_stored(
                    &mut reference,
                    &catalog,
                    p,
                    later,
                    Cause::Time,
                    Changes::default(),
                    &mut |s: &[u64]| Ok(load(log, s)),
                )
                .unwrap();
            }
            store
                .in_transaction(&mut |txn: &mut dyn StateTxn| {
                    let mut stored_due = txn.due_profiles(later, usize::MAX)?;
                    stored_due.sort();
                    let mut expected_due = due.clone();
                    expected_due.sort();
                    assert_eq!(stored_due, expected_due, "due timers");
                    for p in &stored_due {
                        refresh_stored(
                            txn,
                            &catalog,
                            p,
                            later,
                            Cause::Time,
                            Changes::default(),
                            &mut |s: &[u64]| store.load(s),
                        )?;
                    }
                    Ok(())
                })
                .unwrap();
            for audience in catalog.audience_ids() {
                let stored: BTreeSet<ProfileId> = store
                    .members(audience, None, 10_000)
                    .unwrap()
                    .into_iter()
                    .map(|(p, _)| p)
                    .collect();
                let expected_members = reference
                    .audience_members
                    .get(audience)
                    .cloned()
                    .unwrap_or_default();
                prop_assert_eq!(&stored, &expected_members, "members of {}", audience);
                prop_assert_eq!(
                    store.member_count(audience).unwrap(),
                    expected_members.len() as u64
                );
            }
            for (profile, state) in &reference.audience_states {
                let stored_state = store.audience_state_of(profile).unwrap();
                prop_assert_eq!(stored_state.as_ref(), Some(state));
                let mut history: Vec<_> = reference
                    .membership_history
                    .iter()
                    .filter(|(p, _)| p == profile)
                    .map(|(_, c)| c.clone())
                    .collect();
                history.reverse();
                prop_assert_eq!(store.membership_history(profile, 10_000).unwrap(), history);
            }
            let live_seqs: BTreeSet<u64> = store
                .read_after(0, 10_000)
                .unwrap()
                .events
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            prop_assert_eq!(
                live_seqs,
                ref_log.iter().map(|(s, _)| *s).collect::<BTreeSet<u64>>()
            );
            for (profile, (_, ids, state)) in &expected.profiles {
                let record = store.profile(profile).unwrap().expect("profile readable");
                prop_assert_eq!(&record.state, state);
                for id in ids {
                    let owner = store.profile_of(id).unwrap();
                    prop_assert_eq!(owner.as_ref(), Some(profile));
                }
                let timeline = store
                    .timeline(
                        profile,
                        &TimelineFilter {
                            limit: 1000,
                            ..Default::default()
                        },
                    )
                    .unwrap();
                let expected_seqs: BTreeSet<u64> = expected
                    .attributions
                    .iter()
                    .filter(|(_, p)| *p == profile)
                    .map(|(s, _)| *s)
                    .collect();
                prop_assert_eq!(
                    timeline.iter().map(|(_, s)| *s).collect::<BTreeSet<u64>>(),
                    expected_seqs
                );
                prop_assert!(
                    timeline.windows(2).all(|w| w[0] > w[1]),
                    "timeline is newest first"
                );
            }
            Ok(())
        })
        .unwrap();
}

/// What the insights maintainer does with the store, without the index: timeline rows past
/// the processed cursor, and the rows of every profile in the change feed forgotten and read
/// again by position. It must always end up with the store's attributions.
struct InsightsFollower {
    rows: BTreeMap<u64, ProfileId>,
    cursor: u64,
    mark: u64,
}

impl InsightsFollower {
    fn start(store: &dyn Store) -> InsightsFollower {
        InsightsFollower {
            rows: BTreeMap::new(),
            cursor: 0,
            mark: store.insights_change_mark().unwrap(),
        }
    }

    fn catch_up(&mut self, store: &dyn Store) {
        let upto = store.processed_cursor().unwrap();
        loop {
            // Small pages, so that paging is exercised.
            let rows = store.insights_rows(self.cursor, upto, 3).unwrap();
            let Some(last) = rows.last() else { break };
            self.cursor = last.seq;
            for r in rows {
                self.rows.insert(r.seq, r.profile);
            }
        }
        self.cursor = self.cursor.max(upto);
        let (changed, next) = store.insights_changes(self.mark).unwrap();
        self.mark = next;
        let changed: BTreeSet<ProfileId> = changed.into_iter().collect();
        let seqs: Vec<u64> = self
            .rows
            .iter()
            .filter(|(_, p)| changed.contains(*p))
            .map(|(s, _)| *s)
            .collect();
        for s in &seqs {
            self.rows.remove(s);
        }
        for r in store.insights_rows_at(&seqs).unwrap() {
            self.rows.insert(r.seq, r.profile);
        }
    }
}

/// Saved insights: inserted, listed oldest first, replaced (keeping `created_at`), deleted.
pub fn saved_insights_are_kept(make: &Factory) {
    use crate::insights::SavedInsight;
    let store = make();
    let at = |d: u32| Utc.with_ymd_and_hms(2026, 3, d, 0, 0, 0).unwrap();
    let one = SavedInsight {
        id: "one".into(),
        name: "Daily views".into(),
        kind: "trend".into(),
        query: json!({"interval": "day", "event": {"name": "page"}}),
        last_days: Some(30),
        created_at: at(2),
        updated_at: at(2),
    };
    let two = SavedInsight {
        id: "two".into(),
        name: "Checkout".into(),
        kind: "funnel".into(),
        query: json!({"steps": []}),
        last_days: None,
        created_at: at(1),
        updated_at: at(1),
    };
    assert!(!store.put_saved_insight(&one).unwrap());
    assert!(!store.put_saved_insight(&two).unwrap());
    assert_eq!(store.saved_insights().unwrap(), [two.clone(), one.clone()]);
    let edited = SavedInsight {
        name: "Daily page views".into(),
        query: json!({"interval": "hour"}),
        last_days: None,
        created_at: at(9),
        updated_at: at(5),
        ..one.clone()
    };
    assert!(store.put_saved_insight(&edited).unwrap());
    let read = store.saved_insight("one").unwrap().unwrap();
    assert_eq!(
        read,
        SavedInsight {
            created_at: at(2),
            ..edited
        }
    );
    assert!(store.delete_saved_insight("two").unwrap());
    assert!(!store.delete_saved_insight("two").unwrap());
    assert_eq!(store.saved_insight("two").unwrap(), None);
    assert_eq!(store.saved_insights().unwrap(), [read]);
}

fn split_err(e: SplitError<StorageError>) -> StorageError {
    match e {
        SplitError::Store(e) => e,
        other => StorageError::Database(format!("{other:?}")),
    }
}

fn load(log: &[(u64, Event)], seqs: &[u64]) -> Vec<(u64, Event)> {
    log.iter()
        .filter(|(s, _)| seqs.contains(s))
        .cloned()
        .collect()
}

/// Definitions change atomically and bump the version; removing an audience removes its
/// members; backfill bookkeeping and profile walking.
pub fn audience_definitions_and_bookkeeping(make: &Factory) {
    let store = make();
    assert_eq!(store.definitions_version().unwrap(), 0);
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let record = |id: &str| crate::AudienceRecord {
        id: id.into(),
        name: id.to_uppercase(),
        description: None,
        rule: json!({"trait": "plan", "op": "eq", "value": 1}),
        created_at: at,
        updated_at: at,
    };
    let v1 = store
        .change_definitions(&mut |d| {
            d.audiences.insert("a".into(), record("a"));
            d.audiences.insert("b".into(), record("b"));
            true
        })
        .unwrap();
    assert_eq!(v1, Some(1));
    assert_eq!(store.change_definitions(&mut |_| false).unwrap(), None);
    let defs = store.definitions().unwrap();
    assert_eq!((defs.version, defs.audiences.len()), (1, 2));
    assert_eq!(defs.audiences["a"], record("a"));

    let rules = IdentityRules::default();
    let events: Vec<Event> = (0..5).map(|i| event(i, &format!("user{i}"))).collect();
    let out = store.append(&encode(&events)).unwrap();
    store
        .in_transaction(&mut |txn: &mut dyn StateTxn| {
            for (i, e) in events.iter().enumerate() {
                apply_event(txn, out.positions[i].unwrap(), e, &rules)?;
            }
            assert_eq!(txn.profile_count()?, 5);
            let first = txn.profiles_after(None, 3)?;
            let rest = txn.profiles_after(first.last(), 10)?;
            assert_eq!((first.len(), rest.len()), (3, 2));
            assert!(first.windows(2).all(|w| w[0] < w[1]) && first[2] < rest[0]);
            let profile = first[0].clone();
            for audience in ["a", "b"] {
                let change = herald_core::audience::MembershipChange {
                    audience: audience.into(),
                    entered: true,
                    at: 7,
                    cause: Cause::Backfill,
                };
                txn.record_membership(&profile, &change)?;
            }
            let backfill = crate::Backfill {
                version: 1,
                cursor: Some(profile),
                done: 1,
                total: 5,
                started_at: at,
                finished_at: None,
                builds: [(
                    "f1".to_owned(),
                    [("x".to_owned(), Some(60_000)), ("y".to_owned(), None)].into(),
                )]
                .into(),
                definitions: Some([("a".to_owned(), 7), ("computed:c".to_owned(), 9)].into()),
                changed: Some(["a".to_owned()].into()),
                scope: Some(herald_core::audience::BackfillScope {
                    names: ["E1".to_owned()].into(),
                    facts: ["x".to_owned()].into(),
                    members_of: ["a".to_owned()].into(),
                }),
            };
            txn.set_backfill(&backfill)?;
            assert_eq!(txn.backfill()?, Some(backfill));
            Ok(())
        })
        .unwrap();
    assert_eq!(store.backfill_status().unwrap().unwrap().done, 1);
    assert_eq!(store.member_count("a").unwrap(), 1);
    let day = store.size_history("a").unwrap();
    assert_eq!(day, vec![(0, 1, 0)]);
    store
        .change_definitions(&mut |d| d.audiences.remove("a").is_some())
        .unwrap();
    assert_eq!(store.member_count("a").unwrap(), 0);
    assert_eq!(store.member_count("b").unwrap(), 1);
    assert_eq!(store.definitions_version().unwrap(), 2);
}

/// A state saved as its rebuilt facts ([`AudienceStore::save_audience_facts`]) reads back as
/// the whole state the caller had, through every later save, whole or not, and a drop; the
/// reference stores exactly what the contract allows, so the backend must read the same.
pub fn audience_facts_saved_apart_read_whole(make: &Factory) {
    use herald_core::audience::facts::Hit;
    use herald_core::audience::AudienceState;
    let store = make();
    let mut reference = MemoryProjection::default();
    let (p, q) = (ProfileId("p1".into()), ProfileId("p2".into()));
    let hits = |ts: &[i64]| -> Vec<Hit> {
        ts.iter()
            .map(|&ts| Hit {
                ts,
                id: ts as u64,
                seq: ts as u64,
                value: (ts % 2 == 0).then(|| json!(ts)),
            })
            .collect()
    };
    let mut state = AudienceState {
        built_for: "f1".into(),
        members: ["a".to_owned()].into(),
        dues: [("a".to_owned(), 5_000)].into(),
        ..AudienceState::default()
    };
    state.facts.facts.insert("x".into(), hits(&[1, 2]));
    state.facts.facts.insert("y".into(), hits(&[3]));
    let names = |ids: &[&str]| -> BTreeSet<String> { ids.iter().map(|s| s.to_string()).collect() };
    // (state, `None`: saved whole, or the facts it rebuilt)
    let mut steps: Vec<(AudienceState, Option<BTreeSet<String>>)> = vec![(state.clone(), None)];
    // A new fact and a changed one.
    state.built_for = "f2".into();
    state.facts.facts.insert("z".into(), hits(&[4, 5]));
    state.facts.facts.insert("x".into(), hits(&[2]));
    steps.push((state.clone(), Some(names(&["x", "z"]))));
    // Again apart: what was apart before stays; a fact left with no hits is gone.
    state.built_for = "f3".into();
    state.facts.facts.remove("y");
    steps.push((state.clone(), Some(names(&["y"]))));
    // Whole, without `z`: nothing held apart shows any more.
    state.facts.facts.remove("z");
    state.members.clear();
    steps.push((state.clone(), None));
    state.built_for = "f4".into();
    state.facts.facts.insert("w".into(), hits(&[6]));
    steps.push((state.clone(), Some(names(&["w"]))));
    let mut only_facts = AudienceState {
        built_for: steps[1].0.built_for.clone(),
        ..AudienceState::default()
    };
    for id in ["x", "z"] {
        only_facts
            .facts
            .facts
            .insert(id.into(), steps[1].0.facts.hits(id).to_vec());
    }
    for (i, (state, rebuilt)) in steps.iter().enumerate() {
        save_step(&mut reference, &p, state, rebuilt.as_ref()).unwrap();
        store
            .in_transaction(&mut |txn: &mut dyn StateTxn| {
                let read = txn.audience_state(&p)?;
                assert_eq!(
                    read.as_ref().map(|s| s.built_for.as_str()),
                    (i > 0).then(|| steps[i - 1].0.built_for.as_str())
                );
                save_step(txn, &p, state, rebuilt.as_ref())?;
                // Read back in the same transaction, also once written back (a timer
                // query writes pending states) and read ahead, and a second profile with no
                // stored state at all saved apart.
                assert_eq!(txn.audience_state(&p)?.as_ref(), Some(state));
                txn.due_profiles(0, 1)?;
                txn.read_ahead_audience_states(&[&p])?;
                assert_eq!(txn.audience_state(&p)?.as_ref(), Some(state), "step {i}");
                if i == 1 {
                    assert_eq!(txn.audience_state(&q)?, None);
                    txn.save_audience_facts(&q, only_facts.clone(), &names(&["x", "z"]))?;
                }
                Ok(())
            })
            .unwrap();
        let expected = reference.audience_state(&p).unwrap();
        assert_eq!(expected.as_ref(), Some(state), "step {i}: the reference");
        assert_eq!(store.audience_state_of(&p).unwrap(), expected, "step {i}");
        store
            .in_transaction(&mut |txn: &mut dyn StateTxn| {
                // Read ahead, then read twice.
                txn.read_ahead_audience_states(&[&p, &q])?;
                for _ in 0..2 {
                    assert_eq!(
                        txn.audience_state(&p)?,
                        expected,
                        "step {i}, next transaction"
                    );
                }
                // The timer is the whole state's: saving apart never moves it.
                assert_eq!(txn.due_profiles(10_000, 10)?, vec![p.clone()], "step {i}");
                Ok(())
            })
            .unwrap();
    }
    assert_eq!(store.audience_state_of(&q).unwrap(), Some(only_facts));
    store
        .in_transaction(&mut |txn: &mut dyn StateTxn| {
            txn.audience_state(&p)?;
            txn.drop_audience_state(&p)?;
            txn.audience_state(&q)?;
            txn.drop_audience_state(&q)?;
            Ok(())
        })
        .unwrap();
    assert_eq!(store.audience_state_of(&p).unwrap(), None);
    assert_eq!(store.audience_state_of(&q).unwrap(), None);
}

/// A read ahead of audience states ([`AudienceStore::read_ahead_audience_states`]) never
/// makes a transaction see other states or profiles than it would without it: not after it
/// wrote states back, retired or cleared a profile, or created one.
pub fn read_ahead_agrees_with_the_transaction(make: &Factory) {
    use herald_core::audience::AudienceState;
    let store = make();
    let ids: Vec<ProfileId> = (0..4).map(|i| ProfileId(format!("p{i}"))).collect();
    let state = |built_for: &str| AudienceState {
        built_for: built_for.into(),
        ..AudienceState::default()
    };
    store
        .in_transaction(&mut |txn: &mut dyn StateTxn| {
            for (seq, p) in ids[..3].iter().enumerate() {
                txn.create_profile(p, seq as u64 + 1)?;
                txn.save_audience_state(p, &state("old"))?;
            }
            Ok(())
        })
        .unwrap();
    let all: Vec<&ProfileId> = ids.iter().collect();
    store
        .in_transaction(&mut |txn: &mut dyn StateTxn| {
            // A state written back (a timer query writes pending states) before it.
            txn.audience_state(&ids[2])?;
            txn.save_audience_state(&ids[2], &state("new"))?;
            txn.due_profiles(0, 1)?;
            txn.read_ahead_audience_states(&all)?;
            assert_eq!(txn.audience_state(&ids[2])?, Some(state("new")));
            Ok(())
        })
        .unwrap();
    store
        .in_transaction(&mut |txn: &mut dyn StateTxn| {
            // Profiles removed and created before it.
            txn.retire(&ids[0])?;
            txn.clear_profile(&ids[1])?;
            txn.create_profile(&ids[3], 9)?;
            txn.read_ahead_audience_states(&all)?;
            let exist: Vec<bool> = ids
                .iter()
                .map(|p| txn.profile_exists(p))
                .collect::<Result<_, _>>()?;
            assert_eq!(exist, [false, false, true, true]);
            Ok(())
        })
        .unwrap();
    store
        .in_transaction(&mut |txn: &mut dyn StateTxn| {
            // Removed after the read ahead.
            txn.read_ahead_audience_states(&all)?;
            txn.retire(&ids[2])?;
            assert!(!txn.profile_exists(&ids[2])?);
            assert!(txn.profile_exists(&ids[3])?);
            assert_eq!(txn.audience_state(&ids[2])?, Some(state("new")));
            Ok(())
        })
        .unwrap();
}

fn save_step<S: AudienceStore + ?Sized>(
    store: &mut S,
    profile: &ProfileId,
    state: &herald_core::audience::AudienceState,
    rebuilt: Option<&BTreeSet<String>>,
) -> Result<(), S::Error> {
    match rebuilt {
        Some(rebuilt) => store.save_audience_facts(profile, state.clone(), rebuilt),
        None => store.save_audience_state(profile, state),
    }
}

/// A reader of the definitions always gets a document and the version it was stored under,
/// even while another node keeps changing them (each change names its audience after the
/// version it creates, so a document paired with another version shows).
pub fn definitions_are_read_whole_while_they_change(make: &Factory) {
    let store = make();
    let changes = 200;
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            for _ in 0..changes {
                store
                    .change_definitions(&mut |d| {
                        let record = crate::AudienceRecord {
                            id: "x".into(),
                            name: (d.version + 1).to_string(),
                            description: None,
                            rule: json!({"trait": "plan", "op": "eq", "value": 1}),
                            created_at: at,
                            updated_at: at,
                        };
                        d.audiences.insert("x".into(), record);
                        true
                    })
                    .unwrap();
            }
        })
    };
    let mut reads = 0;
    loop {
        let d = store.definitions().unwrap();
        let named = d.audiences.get("x").map(|a| a.name.clone());
        let expected = (d.version > 0).then(|| d.version.to_string());
        assert_eq!(named, expected, "a document read with another version");
        reads += 1;
        if d.version == changes {
            break;
        }
    }
    writer.join().unwrap();
    assert!(reads > 1);
}

/// Quarantined events: set aside in a transaction (nothing when it rolls back), listed in log
/// order with paging, counted, re-quarantined with a new reason, released once; and the stored
/// text of an event can be read for inspection.
/// Suppressions carry their time; lifting one is recorded and takes effect in the same
/// transaction; lifting what is not suppressed changes nothing.
pub fn suppressions_are_lifted_and_recorded(make: &Factory) {
    let store = make();
    let ana: herald_core::identity::Identifier = "user_id:ana".parse().unwrap();
    let bob: herald_core::identity::Identifier = "email:bob@x.io".parse().unwrap();
    let before = crate::now_ms();
    store
        .in_transaction(&mut |txn| {
            txn.suppress(&ana)?;
            txn.suppress(&bob)
        })
        .unwrap();
    let listed = store.suppressions().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .all(|s| s.suppressed_at_ms >= Some(before) && s.lifted_at_ms.is_none()));
    let mut lifted = None;
    store
        .in_transaction(&mut |txn| {
            lifted = txn.lift_suppression(&ana, before + 5)?;
            assert!(!txn.is_suppressed(&ana)?, "lifted within the transaction");
            assert_eq!(txn.lift_suppression(&ana, before + 6)?, None);
            Ok(())
        })
        .unwrap();
    let lifted = lifted.expect("ana was suppressed");
    assert_eq!(
        (lifted.lifted_at_ms, &lifted.identifier),
        (Some(before + 5), &ana)
    );
    assert!(!store.is_suppressed(&ana).unwrap());
    assert!(store.is_suppressed(&bob).unwrap());
    // Suppressed again and lifted again: both lifts stay on record, newest first.
    store
        .in_transaction(&mut |txn| {
            txn.suppress(&ana)?;
            txn.lift_suppression(&ana, before + 9).map(|_| ())
        })
        .unwrap();
    let listed = store.suppressions().unwrap();
    let lifts: Vec<Option<i64>> = listed
        .iter()
        .filter(|s| s.identifier == ana)
        .map(|s| s.lifted_at_ms)
        .collect();
    assert_eq!(lifts, [Some(before + 9), Some(before + 5)]);
    assert_eq!(
        listed
            .iter()
            .filter(|s| s.lifted_at_ms.is_none())
            .map(|s| &s.identifier)
            .collect::<Vec<_>>(),
        [&bob]
    );
    assert_eq!(
        store.admin_overrides().unwrap().1,
        vec![bob.clone()],
        "a rebuild respects only the suppressions that hold"
    );
}

pub fn quarantine_bookkeeping(make: &Factory) {
    let store = make();
    store
        .append(&encode(&[event(1, "u"), event(2, "u")]))
        .unwrap();
    let entry = |seq: u64, reason: &str| Quarantined {
        seq,
        reason: reason.to_owned(),
        at_ms: 1_000 + seq as i64,
    };
    let rolled_back = store.in_transaction(&mut |txn| {
        txn.quarantine(&entry(1, "first"))?;
        Err(StorageError::Conflict("roll back".into()))
    });
    assert!(rolled_back.is_err());
    assert_eq!(store.quarantined_count().unwrap(), 0);
    store
        .in_transaction(&mut |txn| {
            txn.quarantine(&entry(2, "second"))?;
            txn.quarantine(&entry(1, "first"))?;
            txn.quarantine(&entry(2, "second, again"))
        })
        .unwrap();
    assert_eq!(store.quarantined_count().unwrap(), 2);
    assert_eq!(
        store.quarantined(0, 10).unwrap(),
        [entry(1, "first"), entry(2, "second, again")]
    );
    assert_eq!(
        store.quarantined(1, 10).unwrap(),
        [entry(2, "second, again")]
    );
    assert_eq!(store.quarantined(0, 1).unwrap(), [entry(1, "first")]);
    let mut released = Vec::new();
    store
        .in_transaction(&mut |txn| {
            released = vec![txn.release_quarantined(1)?, txn.release_quarantined(1)?];
            Ok(())
        })
        .unwrap();
    assert_eq!(released, [true, false]);
    assert_eq!(
        store.quarantined(0, 10).unwrap(),
        [entry(2, "second, again")]
    );
    let text = store.stored_text(1).unwrap().expect("event 1 is stored");
    assert_eq!(
        herald_core::event::read_stored(&text).unwrap().message_id,
        "m1"
    );
    assert_eq!(store.stored_text(99).unwrap(), None);
}

/// The profile list: searches by identifier prefix and by trait value find exactly the
/// profiles [`ProfileSearch::matches`] accepts in the reference, in id order across pages; a
/// sample is deterministic for its seed and holds distinct, existing profiles; summaries
/// read together equal the profiles read one by one.
pub fn profile_search_and_summaries(make: &Factory) {
    let store = make();
    let rules = IdentityRules::default();
    let mut reference = MemoryProjection::default();
    let people: [(&str, serde_json::Value); 10] = [
        ("ana", json!({"email": "ana@example.com", "plan": "pro"})),
        (
            "anabel",
            json!({"email": "anabel@example.org", "plan": "free"}),
        ),
        ("an", json!({"plan": 42})),
        ("bob", json!({"email": "bob@example.com", "plan": 42.0})),
        ("carol", json!({"plan": "42"})),
        ("dan", json!({"plan": true, "vip": "true"})),
        ("añа", json!({"plan": {"name": "pro"}})),
        ("an\u{10FFFF}z", json!({"plan": ["pro"]})),
        ("ao", json!({"plan": "Pro"})),
        ("eve", json!({"email": "eve@ana.example", "vip": true})),
    ];
    let events: Vec<Event> = people
        .iter()
        .enumerate()
        .map(|(i, (user, traits))| {
            parse(
                &json!({"type": "identify", "userId": user, "traits": traits,
                "messageId": format!("s{i}"), "timestamp": "2026-02-01T00:00:00Z"}),
            )
        })
        .collect();
    let out = store.append(&encode(&events)).unwrap();
    assert_eq!(out.appended, events.len());
    store
        .in_transaction(&mut |txn: &mut dyn StateTxn| {
            for (i, e) in events.iter().enumerate() {
                apply_event(txn, i as u64 + 1, e, &rules)?;
            }
            txn.set_cursor(events.len() as u64)
        })
        .unwrap();
    for (i, e) in events.iter().enumerate() {
        apply_event(&mut reference, i as u64 + 1, e, &rules).unwrap();
    }
    let snapshot = reference.snapshot();
    let id = |kind: herald_core::IdKind, prefix: &str| ProfileSearch {
        identifier: Some((kind, prefix.to_owned())),
        trait_value: None,
    };
    let with_trait = |name: &str, value: &str| ProfileSearch {
        identifier: None,
        trait_value: Some((name.to_owned(), value.to_owned())),
    };
    use herald_core::IdKind::{Email, Phone, UserId};
    let searches = [
        ProfileSearch::default(),
        id(UserId, "an"),
        id(UserId, "ana"),
        id(UserId, "an\u{10FFFF}"),
        id(UserId, "añ"),
        id(UserId, ""),
        id(UserId, "zzz"),
        id(Email, "ana"),
        id(Email, ""),
        id(Phone, ""),
        with_trait("plan", "pro"),
        with_trait("plan", "42"),
        with_trait("plan", "true"),
        with_trait("vip", "true"),
        with_trait("plan", "Pro"),
        with_trait("nothing", "pro"),
        ProfileSearch {
            identifier: Some((UserId, "an".into())),
            trait_value: Some(("plan".into(), "42".into())),
        },
    ];
    let expected_counts = [10, 4, 2, 1, 1, 10, 0, 2, 4, 0, 1, 3, 1, 2, 1, 0, 1];
    for (search, expected_count) in searches.iter().zip(expected_counts) {
        let expected: Vec<ProfileId> = snapshot
            .profiles
            .iter()
            .filter(|(_, (_, ids, state))| search.matches(ids, state))
            .map(|(p, _)| p.clone())
            .collect();
        assert_eq!(
            expected.len(),
            expected_count,
            "the reference for {search:?}"
        );
        let mut found = Vec::new();
        let mut after: Option<ProfileId> = None;
        loop {
            let page = store.search_profiles(search, after.as_ref(), 2).unwrap();
            assert!(page.len() <= 2);
            found.extend(page.iter().cloned());
            match page.last() {
                Some(last) if page.len() == 2 => after = Some(last.clone()),
                _ => break,
            }
        }
        assert_eq!(found, expected, "{search:?}");
    }

    let all: Vec<ProfileId> = snapshot.profiles.keys().cloned().collect();
    let (total, sample) = crate::sample_profiles(&*store, 4, 7).unwrap();
    assert_eq!(total, 10);
    assert_eq!(crate::sample_profiles(&*store, 4, 7).unwrap().1, sample);
    let distinct: BTreeSet<&ProfileId> = sample.iter().collect();
    assert_eq!(distinct.len(), 4);
    assert!(sample.iter().all(|p| all.contains(p)));
    assert_eq!(crate::sample_profiles(&*store, 50, 7).unwrap().1.len(), 10);

    let mut asked: Vec<ProfileId> = all.iter().rev().cloned().collect();
    asked.insert(3, ProfileId("no-such-profile".into()));
    let summaries = store.profile_summaries(&asked).unwrap();
    let mut expected_order: Vec<ProfileId> = all.iter().rev().cloned().collect();
    assert_eq!(
        summaries
            .iter()
            .map(|s| s.profile_id.clone())
            .collect::<Vec<_>>(),
        expected_order
    );
    for summary in summaries {
        let record = store.profile(&summary.profile_id).unwrap().unwrap();
        assert_eq!(summary.state, record.state);
        assert_eq!(summary.identities, record.identities);
    }
    expected_order.truncate(0);
    assert_eq!(store.profile_summaries(&expected_order).unwrap(), []);
}

macro_rules! conformance_suite {
    ($backend:ident, $factory:expr) => {
        mod $backend {
            use super::*;
            #[test]
            fn log_appends_dedups_and_orders() {
                $crate::conformance::log_appends_dedups_and_orders(&$factory)
            }
            #[test]
            fn profile_search_and_summaries() {
                $crate::conformance::profile_search_and_summaries(&$factory)
            }
            #[test]
            fn quarantine_bookkeeping() {
                $crate::conformance::quarantine_bookkeeping(&$factory)
            }
            #[test]
            fn users_are_created_changed_and_guarded() {
                $crate::conformance::users_are_created_changed_and_guarded(&$factory)
            }
            #[test]
            fn sessions_are_hashed_revoked_and_expired() {
                $crate::conformance::sessions_are_hashed_revoked_and_expired(&$factory)
            }
            #[test]
            fn failed_sign_ins_are_counted_per_email() {
                $crate::conformance::failed_sign_ins_are_counted_per_email(&$factory)
            }
            #[test]
            fn keys_are_hashed_listed_and_revoked() {
                $crate::conformance::keys_are_hashed_listed_and_revoked(&$factory)
            }
            #[test]
            fn audience_definitions_and_bookkeeping() {
                $crate::conformance::audience_definitions_and_bookkeeping(&$factory)
            }
            #[test]
            fn audience_facts_saved_apart_read_whole() {
                $crate::conformance::audience_facts_saved_apart_read_whole(&$factory)
            }
            #[test]
            fn read_ahead_agrees_with_the_transaction() {
                $crate::conformance::read_ahead_agrees_with_the_transaction(&$factory)
            }
            #[test]
            fn definitions_are_read_whole_while_they_change() {
                $crate::conformance::definitions_are_read_whole_while_they_change(&$factory)
            }
            #[test]
            fn suppressions_are_lifted_and_recorded() {
                $crate::conformance::suppressions_are_lifted_and_recorded(&$factory)
            }
            #[test]
            fn saved_insights_are_kept() {
                $crate::conformance::saved_insights_are_kept(&$factory)
            }
            #[test]
            fn messages_queue_and_log() {
                $crate::conformance::messages_queue_and_log(&$factory)
            }
            #[test]
            fn the_message_log_filters_and_pages() {
                $crate::conformance::the_message_log_filters_and_pages(&$factory)
            }
            #[test]
            fn settings_documents_change_by_compare_and_set() {
                $crate::conformance::settings_documents_change_by_compare_and_set(&$factory)
            }
            #[test]
            fn erased_messages_keep_nothing_of_their_person() {
                $crate::conformance::erased_messages_keep_nothing_of_their_person(&$factory)
            }
            #[test]
            fn inbox_items_are_deleted_per_user() {
                $crate::conformance::inbox_items_are_deleted_per_user(&$factory)
            }
            #[test]
            fn decisions_recheck_the_ledger() {
                $crate::conformance::decisions_recheck_the_ledger(&$factory)
            }
            #[test]
            fn racing_claims_have_one_winner() {
                $crate::conformance::racing_claims_have_one_winner(&$factory)
            }
            #[test]
            fn broadcasts_are_kept_and_changed_by_compare_and_set() {
                $crate::conformance::broadcasts_are_kept_and_changed_by_compare_and_set(&$factory)
            }
            #[test]
            fn broadcast_messages_move_and_are_counted() {
                $crate::conformance::broadcast_messages_move_and_are_counted(&$factory)
            }
            #[test]
            fn inbox_items_are_kept_per_user_and_marked_once() {
                $crate::conformance::inbox_items_are_kept_per_user_and_marked_once(&$factory)
            }
            #[test]
            fn address_preferences_and_suppressions() {
                $crate::conformance::address_preferences_and_suppressions(&$factory)
            }
            #[test]
            fn templates_are_versioned() {
                $crate::conformance::templates_are_versioned(&$factory)
            }
            #[test]
            fn concurrent_template_saves_get_consecutive_versions() {
                $crate::conformance::concurrent_template_saves_get_consecutive_versions(&$factory)
            }
            #[test]
            fn projection_matches_reference() {
                $crate::conformance::projection_matches_reference(&$factory)
            }
            #[test]
            fn batched_projection_matches_reference() {
                $crate::conformance::batched_projection_matches_reference(&$factory)
            }
        }
    };
}

mod backends {
    use super::*;
    use crate::sqlite::{Durability, SqliteOptions, SqliteStore};

    fn sqlite() -> Arc<dyn Store> {
        // The directory must outlive the store: leak it for the test process's lifetime.
        let dir = tempfile::tempdir().unwrap().keep();
        Arc::new(
            SqliteStore::open(
                &dir,
                SqliteOptions {
                    durability: Durability::Normal,
                    ..Default::default()
                },
            )
            .unwrap(),
        )
    }

    conformance_suite!(sqlite, sqlite);

    /// The runtime the JetStream client runs on, shared by every test of this process.
    fn runtime() -> tokio::runtime::Handle {
        static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
        RUNTIME
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .unwrap()
            })
            .handle()
            .clone()
    }

    /// PostgreSQL + JetStream, each store in its own new database and stream.
    fn cluster() -> Arc<dyn Store> {
        Arc::new(cluster_store())
    }

    pub(super) fn cluster_store() -> crate::cluster::ClusterStore {
        let pg = std::env::var("HERALD_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let nats = std::env::var("HERALD_TEST_NATS_URL")
            .unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
        crate::cluster::ClusterStore::scratch(runtime(), &pg, &nats).unwrap()
    }

    conformance_suite!(cluster, cluster);

    #[test]
    fn an_append_on_one_node_announces_the_new_head_to_the_others() {
        use crate::EventLog;
        use futures_util::StreamExt;
        let watcher = cluster_store();
        let config = watcher.scratch.as_ref().unwrap().config().unwrap();
        let other = crate::jetstream::JetStreamLog::connect(runtime(), &config.bus).unwrap();
        let mut heads = watcher.log.watch_head().unwrap();
        let mut next_head = || {
            runtime().block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(10), heads.next())
                    .await
                    .expect("a head announcement within 10 s")
                    .expect("the subscription is open")
            })
        };
        let first = other.append(&encode(&[event(1, "a")])).unwrap();
        assert_eq!(next_head(), first.head);
        let second = watcher
            .log
            .append(&encode(&[event(2, "b"), event(3, "c")]))
            .unwrap();
        assert_eq!(next_head(), second.head);
        assert_eq!(second.head, first.head + 2);
    }
}

/// The partitioned processing contract of the cluster store ([`crate::Partitioned`]).
mod partitioned {
    use std::time::{Duration, Instant};

    use herald_core::profile::GroupState;

    use super::backends::cluster_store;
    use super::*;
    use crate::postgres::PgState;
    use crate::{Partitioned, ProjectionBackend, Queries, Routed, Work};

    fn work(seq: u64, profile: &str, partition: u32, waits: Vec<u32>) -> Routed {
        Routed {
            seq,
            partition,
            profile: ProfileId(profile.into()),
            work: Work::Event {
                created: seq == 1,
                merges: vec![],
            },
            waits,
            before: seq,
        }
    }

    fn route(store: &dyn Partitioned, cursor: u64, rows: &[Routed]) {
        store
            .in_sequencer_transaction(&mut |txn, routed| {
                routed.extend(rows.iter().cloned());
                txn.set_cursor(cursor)
            })
            .unwrap();
    }

    #[test]
    fn routed_work_is_read_in_order_and_applied_exactly_once() {
        let store = cluster_store();
        let parts: &dyn Partitioned = store.partitioned().unwrap();
        assert_eq!(parts.partition_count(), crate::cluster::DEFAULT_PARTITIONS);
        let group_change = Routed {
            seq: 2,
            partition: 0,
            profile: ProfileId("b".into()),
            work: Work::GroupChange,
            waits: vec![3],
            before: 3,
        };
        // Pushed out of order: a partition reads by position, events before group changes.
        route(
            parts,
            3,
            &[
                work(3, "a", 0, vec![]),
                group_change.clone(),
                work(2, "c", 0, vec![1]),
                work(1, "a", 1, vec![]),
            ],
        );
        let first = parts.routed(&[0], 10).unwrap();
        assert_eq!(
            first,
            vec![
                work(2, "c", 0, vec![1]),
                group_change,
                work(3, "a", 0, vec![])
            ]
        );
        let both = parts.routed(&[0, 1], 10).unwrap();
        assert_eq!(both[0], work(1, "a", 1, vec![]));
        assert_eq!(&both[1..], &first[..]);
        assert_eq!(parts.routed(&[0, 1], 2).unwrap(), &both[..2]);
        assert!(parts.pending().unwrap());
        assert!(parts.pending_before(&[1], 2).unwrap());
        assert!(!parts.pending_before(&[1], 1).unwrap());
        assert!(!parts.pending_before(&[2, 3], 100).unwrap());
        assert_eq!(parts.backlog().unwrap(), vec![(0, 3), (1, 1)]);
        // Processed: everything before the first work no partition applied yet.
        assert_eq!(store.processed_cursor().unwrap(), 0);
        assert_eq!(parts.sequenced().unwrap(), 3);

        let apply = |done: &[Routed]| {
            parts.in_partition_transaction(done, 0, &mut |txn| txn.add_counter("applied", 1))
        };
        apply(&parts.routed(&[1], 10).unwrap()).unwrap();
        assert_eq!(store.processed_cursor().unwrap(), 1);
        assert!(!parts.pending_before(&[1], 2).unwrap());
        // The same work again (a second owner during a handover) changes nothing.
        let again = apply(&[work(1, "a", 1, vec![])]);
        assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
        // Partly done work is refused whole.
        let mixed = apply(&[work(1, "a", 1, vec![]), first[0].clone()]);
        assert!(matches!(mixed, Err(StorageError::Conflict(_))), "{mixed:?}");
        assert_eq!(parts.routed(&[0], 10).unwrap(), first);
        assert_eq!(store.counter("applied").unwrap(), 1);

        // Work evaluated with another version of the audience definitions is refused.
        let stale =
            parts.in_partition_transaction(&first, 1, &mut |txn| txn.add_counter("applied", 1));
        assert!(matches!(stale, Err(StorageError::Conflict(_))), "{stale:?}");
        assert_eq!(parts.routed(&[0], 10).unwrap(), first);

        apply(&first).unwrap();
        assert!(!parts.pending().unwrap());
        assert_eq!(store.processed_cursor().unwrap(), 3);
        assert_eq!(store.counter("applied").unwrap(), 2);
        assert!(parts.backlog().unwrap().is_empty());
    }

    #[test]
    fn two_owners_racing_for_the_same_work_apply_it_once() {
        let store = Arc::new(cluster_store());
        let rows: Vec<Routed> = (1..=50).map(|s| work(s, "p", 4, vec![])).collect();
        route(store.partitioned().unwrap(), 50, &rows);
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let (store, rows) = (store.clone(), rows.clone());
                std::thread::spawn(move || {
                    store
                        .partitioned()
                        .unwrap()
                        .in_partition_transaction(&rows, 0, &mut |txn| {
                            // Long enough for the other one to start meanwhile.
                            std::thread::sleep(Duration::from_millis(100));
                            txn.add_counter("applied", 1)
                        })
                        .is_ok()
                })
            })
            .collect();
        let won: usize = racers.into_iter().map(|r| r.join().unwrap() as usize).sum();
        assert_eq!(won, 1);
        assert_eq!(store.counter("applied").unwrap(), 1);
    }

    #[test]
    fn group_states_saved_by_concurrent_partitions_are_joined() {
        let store = Arc::new(cluster_store());
        let event = |n: u64, key: &str| {
            parse(&json!({
                "type": "group", "userId": format!("u{n}"), "groupId": "g",
                "traits": { key: n }, "messageId": format!("m{n}"),
                "timestamp": format!("2026-02-0{n}T00:00:00Z"),
            }))
        };
        let writers: Vec<_> = [(1, "a"), (2, "b")]
            .into_iter()
            .map(|(n, key)| {
                let (store, event) = (store.clone(), event(n, key));
                std::thread::spawn(move || {
                    let routed = work(n, &format!("u{n}"), n as u32, vec![]);
                    route(
                        store.partitioned().unwrap(),
                        n,
                        std::slice::from_ref(&routed),
                    );
                    store
                        .partitioned()
                        .unwrap()
                        .in_partition_transaction(&[routed], 0, &mut |txn| {
                            let mut group = txn.group_state("g")?;
                            // Both read before either wrote.
                            std::thread::sleep(Duration::from_millis(200));
                            group.apply(n, &event);
                            txn.save_group_state("g", &group)
                        })
                        .unwrap();
                })
            })
            .collect();
        writers.into_iter().for_each(|w| w.join().unwrap());
        let mut stored = GroupState::default();
        store
            .in_transaction(&mut |txn| {
                stored = txn.group_state("g")?;
                Ok(())
            })
            .unwrap();
        let mut want = GroupState::default();
        want.apply(1, &event(1, "a"));
        want.apply(2, &event(2, "b"));
        assert_eq!(stored, want);
    }

    #[test]
    fn partitions_are_shared_by_the_live_nodes() {
        let first = cluster_store();
        let url = first
            .scratch
            .as_ref()
            .unwrap()
            .config()
            .unwrap()
            .database_url;
        let node = || {
            let mut state = PgState::connect(&url).unwrap();
            state.claim_partition_count(5).unwrap();
            state
        };
        let nodes = [node(), node(), node()];
        assert_eq!(nodes[0].partition_count(), 12, "the first count stays");
        let shares = |nodes: &[&PgState]| -> Vec<Vec<u32>> {
            // Some rounds: a node gives up what is beyond its share, another takes it.
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let owned: Vec<Vec<u32>> = nodes
                    .iter()
                    .map(|n| n.balance_partitions().unwrap())
                    .collect();
                let mut all: Vec<u32> = owned.iter().flatten().copied().collect();
                all.sort_unstable();
                let even = owned.iter().all(|o| o.len() == 12 / nodes.len());
                if even && all == (0..12).collect::<Vec<_>>() {
                    return owned;
                }
                assert!(Instant::now() < deadline, "never balanced: {owned:?}");
            }
        };
        // One node alone owns everything.
        assert_eq!(shares(&[&nodes[0]]), vec![(0..12).collect::<Vec<_>>()]);
        let three = shares(&[&nodes[0], &nodes[1], &nodes[2]]);
        assert!(three.iter().all(|o| o.len() == 4));
        // A node that goes away leaves its partitions to the others at once.
        let [a, b, c] = nodes;
        drop(c);
        let two = shares(&[&a, &b]);
        assert!(two.iter().all(|o| o.len() == 6));
        a.release_partitions();
        assert_eq!(b.balance_partitions().unwrap().len(), 6, "a is still alive");
        drop(a);
        assert_eq!(shares(&[&b]), vec![(0..12).collect::<Vec<_>>()]);
    }
}
