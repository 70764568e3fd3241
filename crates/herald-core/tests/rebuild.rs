//! The property the whole design rests on: the live projection — built incrementally, with
//! merges, unmerges and deletions along the way — equals a rebuild of the surviving log from
//! scratch.

use std::collections::BTreeSet;

use herald_core::event::{Event, ParseContext, TimeMode};
use herald_core::identity::IdentityRules;
use herald_core::memory::MemoryProjection;
use herald_core::projection::{apply_event, replay, Applied};
use herald_core::split::{delete_person, unmerge};
use herald_core::timestamp::parse_timestamp;
use proptest::prelude::*;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
enum Op {
    Send(Value),
    Unmerge(usize),
    Delete(usize),
}

fn arb_message() -> impl Strategy<Value = Value> {
    let user = prop::option::of(prop::sample::select(vec!["u1", "u2", "u3", "null"]));
    let anon = prop::option::of(prop::sample::select(vec!["a1", "a2", "a3", "a4"]));
    let email = prop::option::of(prop::sample::select(vec!["e1@x.io", "e2@x.io"]));
    (0usize..5, user, anon, email, 1u32..28, 0u32..30, prop::sample::select(vec!["g1", "g2"]), 0u8..3).prop_map(
        |(kind, user, anon, email, day, msg, group, plan)| {
            let mut m = json!({
                "messageId": format!("m{msg}"),
                "timestamp": format!("2026-02-{day:02}T00:00:00Z"),
                "context": {"timezone": format!("tz{plan}")},
            });
            let o = m.as_object_mut().unwrap();
            if let Some(u) = user { o.insert("userId".into(), json!(u)); }
            if let Some(a) = anon { o.insert("anonymousId".into(), json!(a)); }
            if user.is_none() && anon.is_none() { o.insert("anonymousId".into(), json!("a1")); }
            match kind {
                0 => { o.insert("type".into(), json!("identify")); o.insert("traits".into(), json!({"plan": plan, "email": email})); }
                1 => { o.insert("type".into(), json!("track")); o.insert("event".into(), json!(format!("E{plan}"))); }
                2 => {
                    o.insert("type".into(), json!("alias"));
                    o.insert("userId".into(), json!(user.unwrap_or("u1")));
                    o.insert("previousId".into(), json!(anon.unwrap_or("u2")));
                }
                3 => { o.insert("type".into(), json!("group")); o.insert("groupId".into(), json!(group)); o.insert("traits".into(), json!({"tier": plan})); }
                _ => { o.insert("type".into(), json!("page")); }
            }
            m
        },
    )
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => arb_message().prop_map(Op::Send),
        1 => (0usize..8).prop_map(Op::Unmerge),
        1 => (0usize..8).prop_map(Op::Delete),
    ]
}

fn parse(v: &Value) -> Event {
    let ctx = ParseContext {
        received_at: parse_timestamp("2026-03-01T00:00:00Z").unwrap(),
        batch_sent_at: None,
        implied_type: None,
        time_mode: TimeMode::Import,
        fallback_message_id: "x",
    };
    Event::parse(v.clone(), 0, &ctx).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn live_projection_equals_rebuild_from_log(ops in prop::collection::vec(arb_op(), 1..40), limit in 1usize..3) {
        let mut rules = IdentityRules::default();
        rules.limits.insert(herald_core::IdKind::UserId, limit);
        let mut live = MemoryProjection::default();
        // The log: (seq, event); message ids de-duplicate as at ingest.
        let mut log: Vec<(u64, Event)> = Vec::new();
        let mut seen_ids = BTreeSet::new();
        let mut seq = 0;
        for op in ops {
            match op {
                Op::Send(v) => {
                    let e = parse(&v);
                    if !seen_ids.insert(e.message_id.clone()) { continue; }
                    seq += 1;
                    match apply_event(&mut live, seq, &e, &rules).unwrap() {
                        Applied::Suppressed => {}
                        _ => log.push((seq, e)),
                    }
                }
                Op::Unmerge(k) => {
                    let open: Vec<String> = live.merges.iter().filter(|(_, m)| !m.2).map(|(id, _)| id.clone()).collect();
                    if open.is_empty() { continue; }
                    let log_ref = &log;
                    unmerge(&mut live, &open[k % open.len()], &rules, |seqs| Ok(load(log_ref, seqs))).unwrap();
                }
                Op::Delete(k) => {
                    let profiles: Vec<_> = live.profiles.keys().cloned().collect();
                    if profiles.is_empty() { continue; }
                    let log_ref = &log;
                    let out = delete_person(&mut live, &profiles[k % profiles.len()], &rules, |seqs| Ok(load(log_ref, seqs))).unwrap();
                    log.retain(|(s, _)| !out.deleted_seqs.contains(s));
                }
            }
        }
        let mut rebuilt = MemoryProjection { separations: live.separations.clone(), suppressed: live.suppressed.clone(), ..Default::default() };
        replay(&mut rebuilt, &log, &rules).unwrap();
        prop_assert_eq!(live.snapshot(), rebuilt.snapshot());
    }
}

fn load(log: &[(u64, Event)], seqs: &[u64]) -> Vec<(u64, Event)> {
    log.iter().filter(|(s, _)| seqs.contains(s)).cloned().collect()
}
