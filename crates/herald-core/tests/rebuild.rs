//! The property the whole design rests on: the live projection — built incrementally, with
//! merges, unmerges and deletions along the way — equals a rebuild of the surviving log from
//! scratch.

use std::collections::BTreeSet;

use herald_core::event::Event;
use herald_core::identity::IdentityRules;
use herald_core::memory::MemoryProjection;
use herald_core::projection::{apply_event, replay, Applied};
use herald_core::split::{delete_person, redact, unmerge};
use herald_core::testing::{arb_op, parse, Op};
use proptest::prelude::*;

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
                    let victim = profiles[k % profiles.len()].clone();
                    let others: Vec<u64> = log
                        .iter()
                        .map(|(s, _)| *s)
                        .filter(|s| live.attributions.get(s).map(|(p, _)| p) != Some(&victim))
                        .collect();
                    let log_ref = &log;
                    let out = delete_person(&mut live, &victim, &rules, |seqs| Ok(load(log_ref, seqs))).unwrap();
                    out.rewrite_log(&mut log);
                    // Nobody else's data goes: every event of another profile stays.
                    for s in &others {
                        prop_assert!(log.iter().any(|(l, _)| l == s), "event {} of another profile was deleted", s);
                    }
                    prop_assert!(out.removed_profiles().contains(&victim));
                    // The deleted person's identifiers are nowhere in the log any more.
                    let ids: BTreeSet<_> = out.suppressed.iter().cloned().collect();
                    for (s, e) in &log {
                        prop_assert!(rules.lookup_keys(e).iter().all(|id| !ids.contains(id)), "event {} still carries a deleted identifier", s);
                        prop_assert!(redact(e, &ids, &rules).is_none(), "event {} still carries a deleted identifier", s);
                    }
                }
            }
        }
        let mut rebuilt = MemoryProjection { separations: live.separations.clone(), suppressed: live.suppressed.clone(), ..Default::default() };
        replay(&mut rebuilt, &log, &rules).unwrap();
        prop_assert_eq!(live.snapshot(), rebuilt.snapshot());
    }
}

fn load(log: &[(u64, Event)], seqs: &[u64]) -> Vec<(u64, Event)> {
    log.iter()
        .filter(|(s, _)| seqs.contains(s))
        .cloned()
        .collect()
}
