//! Splitting profiles: undoing a merge and deleting a person (GDPR). Both clear the affected
//! profiles and replay their events from the log, so the result is what a rebuild of the whole
//! log would give (the property test in `tests/rebuild.rs` checks exactly that).
//!
//! A deletion removes the deleted person's events, and only theirs: an event of another
//! profile that carries one of their identifiers (a refused link: someone typed their email,
//! an alias of their device) stays in the log with those identifiers redacted ([`redact`]),
//! and the caller replaces its stored text. So the log keeps nothing of the deleted person and
//! everything of everyone else, and replaying it still gives the live state.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::event::{Event, EventType};
use crate::identity::{IdKind, Identifier, IdentityRules, ProfileId, Separation};
use crate::projection::{apply_event, closure, Applied, RebuildStore};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError<E> {
    NotFound,
    AlreadyUndone,
    Store(E),
}

impl<E> From<E> for SplitError<E> {
    fn from(e: E) -> Self {
        SplitError::Store(e)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SplitOutcome {
    /// Profiles that hold the replayed events now.
    pub profiles: Vec<ProfileId>,
    /// Profiles that were cleared before the replay (some come back in `profiles`).
    pub cleared: Vec<ProfileId>,
    /// Groups whose state was recomputed (deletion only).
    pub groups: Vec<String>,
    pub replayed: usize,
    /// Events removed from the log (deletion only).
    pub deleted_seqs: Vec<u64>,
    /// Events of other profiles that carried the deleted person's identifiers, with those
    /// identifiers removed (deletion only): the caller replaces their stored text in the log.
    pub redacted: Vec<Redacted>,
    pub suppressed: Vec<Identifier>,
}

/// An event kept with a deleted person's identifiers taken out of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Redacted {
    pub seq: u64,
    /// The event as the log must hold it from now on.
    pub event: Event,
    /// The profile it belongs to after the replay (`None`: no profile, e.g. it now carries
    /// only blocked values).
    pub profile: Option<ProfileId>,
}

impl SplitOutcome {
    /// Profiles that were cleared and hold nothing after the replay: the deleted person's.
    pub fn removed_profiles(&self) -> Vec<ProfileId> {
        self.cleared
            .iter()
            .filter(|p| !self.profiles.contains(p))
            .cloned()
            .collect()
    }

    /// Bring a copy of the log (in log order) to what it must be after this split: deleted
    /// events out, redacted ones replaced.
    pub fn rewrite_log(&self, log: &mut Vec<(u64, Event)>) {
        log.retain(|(s, _)| !self.deleted_seqs.contains(s));
        self.overlay(log);
    }

    /// Replace the redacted events among `events` (read from a log that may not have been
    /// rewritten yet) with their redacted form.
    pub fn overlay(&self, events: &mut [(u64, Event)]) {
        for (seq, event) in events.iter_mut() {
            if let Some(r) = self.redacted.iter().find(|r| r.seq == *seq) {
                *event = r.event.clone();
            }
        }
    }
}

/// Undo a recorded merge: the two sides are separated for good, and every profile whose
/// history is tied to the merged one is replayed.
pub fn unmerge<S, L>(
    store: &mut S,
    merge_id: &str,
    rules: &IdentityRules,
    mut load_events: L,
) -> Result<SplitOutcome, SplitError<S::Error>>
where
    S: RebuildStore + ?Sized,
    L: FnMut(&[u64]) -> Result<Vec<(u64, Event)>, S::Error>,
{
    let (owner, record, undone) = store.merge_record(merge_id)?.ok_or(SplitError::NotFound)?;
    if undone {
        return Err(SplitError::AlreadyUndone);
    }
    store.mark_merge_undone(merge_id)?;
    store.add_separation(&Separation {
        left: record.winner_identifiers,
        right: record.loser_identifiers,
    })?;
    let (cleared, events) = clear_closure(store, &[owner], &mut load_events)?;
    let mut profiles = BTreeSet::new();
    for (seq, event) in &events {
        if let Applied::Attributed { profile, .. } = apply_event(store, *seq, event, rules)? {
            profiles.insert(profile);
        }
    }
    Ok(SplitOutcome {
        profiles: profiles.into_iter().collect(),
        cleared,
        groups: vec![],
        replayed: events.len(),
        deleted_seqs: vec![],
        redacted: vec![],
        suppressed: vec![],
    })
}

/// Delete a person: suppress their identifiers, remove their events (those attributed to
/// their profile), redact their identifiers out of the events of the other profiles tied to
/// them, replay those profiles, and recompute the groups they were in. The caller removes
/// `deleted_seqs` from the log and replaces the stored text of `redacted`.
pub fn delete_person<S, L>(
    store: &mut S,
    profile: &ProfileId,
    rules: &IdentityRules,
    mut load_events: L,
) -> Result<SplitOutcome, SplitError<S::Error>>
where
    S: RebuildStore + ?Sized,
    L: FnMut(&[u64]) -> Result<Vec<(u64, Event)>, S::Error>,
{
    let identity = store.identity(profile)?.ok_or(SplitError::NotFound)?;
    let mut groups: BTreeSet<String> = store.profile_state(profile)?.groups.into_keys().collect();
    let ids: BTreeSet<Identifier> = identity.identifiers;
    let theirs: BTreeSet<u64> = store.event_seqs(profile)?.into_iter().collect();
    for id in &ids {
        store.suppress(id)?;
    }
    let (cleared, events) = clear_closure(store, std::slice::from_ref(profile), &mut load_events)?;
    let mut profiles = BTreeSet::new();
    let mut deleted_seqs = Vec::new();
    let mut redacted = Vec::new();
    for (seq, event) in &events {
        let edited = if theirs.contains(seq) {
            None
        } else {
            Some(redact(event, &ids, rules))
        };
        let applied = match &edited {
            None => Applied::Suppressed,
            Some(Some(e)) => apply_event(store, *seq, e, rules)?,
            Some(None) => apply_event(store, *seq, event, rules)?,
        };
        let owner = match applied {
            Applied::Attributed { profile, .. } => Some(profile),
            // An identifier of a person deleted before: live processing drops such events.
            Applied::Suppressed => {
                deleted_seqs.push(*seq);
                if let (EventType::Group, Some(group_id)) = (event.event_type, &event.group_id) {
                    groups.insert(group_id.clone());
                }
                continue;
            }
            Applied::Unattributable => None,
        };
        if let Some(p) = &owner {
            profiles.insert(p.clone());
        }
        if let Some(Some(event)) = edited {
            redacted.push(Redacted {
                seq: *seq,
                event,
                profile: owner,
            });
        }
    }
    for group_id in &groups {
        store.delete_group_state(group_id)?;
        let seqs = store.group_event_seqs(group_id)?;
        let mut state = store.group_state(group_id)?;
        for (seq, event) in load_events(&seqs)? {
            if event.event_type == EventType::Group {
                state.apply(seq, &event);
            }
        }
        if !seqs.is_empty() {
            store.save_group_state(group_id, &state)?;
        }
    }
    Ok(SplitOutcome {
        profiles: profiles.into_iter().collect(),
        cleared,
        groups: groups.into_iter().collect(),
        replayed: events.len(),
        deleted_seqs,
        redacted,
        suppressed: ids.into_iter().collect(),
    })
}

/// `event` without the fields that carry one of `ids`, or `None` when it carries none:
/// `userId`, `anonymousId`, an alias's `previousId`, and `email` and `phone` in `traits` and
/// `context.traits` (whatever the event type, and whether or not the rules link them), each
/// compared after normalisation as the identity rules do. The field is removed, as if it had
/// never been sent; the rest of the event (its owner's data) is kept as it was.
pub fn redact(event: &Event, ids: &BTreeSet<Identifier>, rules: &IdentityRules) -> Option<Event> {
    let carried = |kinds: &[IdKind], raw: Option<&str>| {
        raw.is_some_and(|raw| {
            kinds.iter().any(|kind| {
                rules
                    .normalize(*kind, raw)
                    .is_some_and(|v| ids.contains(&Identifier::new(*kind, v)))
            })
        })
    };
    let mut payload = event.payload.clone();
    let mut changed = false;
    for (key, raw, kinds) in [
        ("userId", &event.user_id, &[IdKind::UserId][..]),
        (
            "anonymousId",
            &event.anonymous_id,
            &[IdKind::AnonymousId][..],
        ),
        (
            "previousId",
            &event.previous_id,
            &[IdKind::UserId, IdKind::AnonymousId][..],
        ),
    ] {
        if carried(kinds, raw.as_deref()) {
            payload.remove(key);
            changed = true;
        }
    }
    let mut redact_traits = |traits: Option<&mut Value>| {
        if let Some(Value::Object(traits)) = traits {
            for (key, kind) in [("email", IdKind::Email), ("phone", IdKind::Phone)] {
                if carried(&[kind], traits.get(key).and_then(Value::as_str)) {
                    traits.remove(key);
                    changed = true;
                }
            }
        }
    };
    redact_traits(payload.get_mut("traits"));
    redact_traits(payload.get_mut("context").and_then(|c| c.get_mut("traits")));
    if !changed {
        return None;
    }
    // Only identifier fields were removed, and `from_stored` requires none of them.
    Some(Event::from_stored(payload).expect("a redacted stored event reads back"))
}

/// The profiles of a cleared closure and their events.
type Cleared = (Vec<ProfileId>, Vec<(u64, Event)>);

/// Clear the closure of `seeds` and return its profiles and their events in log order.
fn clear_closure<S, L>(
    store: &mut S,
    seeds: &[ProfileId],
    load_events: &mut L,
) -> Result<Cleared, S::Error>
where
    S: RebuildStore + ?Sized,
    L: FnMut(&[u64]) -> Result<Vec<(u64, Event)>, S::Error>,
{
    let profiles = closure(store, seeds)?;
    let mut seqs = Vec::new();
    for p in &profiles {
        seqs.extend(store.event_seqs(p)?);
    }
    seqs.sort_unstable();
    seqs.dedup();
    for p in &profiles {
        store.clear_profile(p)?;
    }
    let mut events = load_events(&seqs)?;
    events.sort_by_key(|(seq, _)| *seq);
    Ok((profiles, events))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::event::{ParseContext, TimeMode};
    use crate::memory::MemoryProjection;
    use crate::projection::{replay, ProjectionStore};
    use crate::timestamp::parse_timestamp;

    /// A log and its live projection.
    struct World {
        live: MemoryProjection,
        log: Vec<(u64, Event)>,
        rules: IdentityRules,
    }

    impl World {
        fn new(messages: &[Value]) -> World {
            let ctx = ParseContext {
                received_at: parse_timestamp("2026-01-01T00:00:00Z").unwrap(),
                batch_sent_at: None,
                implied_type: None,
                time_mode: TimeMode::Import,
                fallback_message_id: || "x".to_owned(),
            };
            let mut w = World {
                live: MemoryProjection::default(),
                log: Vec::new(),
                rules: IdentityRules::default(),
            };
            for (i, m) in messages.iter().enumerate() {
                let e = Event::parse(m.clone(), &ctx).unwrap();
                apply_event(&mut w.live, i as u64 + 1, &e, &w.rules).unwrap();
                w.log.push((i as u64 + 1, e));
            }
            w
        }

        fn profile(&mut self, id: &str) -> Option<ProfileId> {
            self.live.owner(&id.parse().unwrap()).unwrap()
        }

        fn delete(&mut self, id: &str) -> SplitOutcome {
            let victim = self.profile(id).unwrap();
            let log = self.log.clone();
            let out = delete_person(&mut self.live, &victim, &self.rules, |s| {
                Ok::<_, std::convert::Infallible>(
                    log.iter().filter(|(l, _)| s.contains(l)).cloned().collect(),
                )
            })
            .unwrap();
            out.rewrite_log(&mut self.log);
            // The live state is still a projection of the (rewritten) log.
            let mut rebuilt = MemoryProjection {
                suppressed: self.live.suppressed.clone(),
                ..Default::default()
            };
            let Ok(_) = replay(&mut rebuilt, &self.log, &self.rules);
            assert_eq!(rebuilt.snapshot(), self.live.snapshot());
            out
        }
    }

    #[test]
    fn deleting_carol_keeps_kims_identify_without_carols_email() {
        let mut w = World::new(&[
            json!({"type": "identify", "userId": "carol", "traits": {"email": "carol@example.com"}, "messageId": "c1"}),
            json!({"type": "identify", "userId": "kim", "traits": {"email": "Carol@Example.com", "plan": "pro"}, "messageId": "k1"}),
        ]);
        let kim = w.profile("user_id:kim").unwrap();
        let carol = w.profile("user_id:carol").unwrap();
        let out = w.delete("email:carol@example.com");
        assert_eq!(out.deleted_seqs, [1]);
        assert_eq!(out.profiles, std::slice::from_ref(&kim));
        assert_eq!(out.removed_profiles(), [carol]);
        assert_eq!(out.redacted.len(), 1);
        assert_eq!(
            (out.redacted[0].seq, out.redacted[0].profile.as_ref()),
            (2, Some(&kim))
        );
        assert_eq!(w.profile("user_id:kim"), Some(kim.clone()));
        let (_, kept) = &w.log[0];
        assert_eq!(kept.message_id, "k1");
        assert_eq!(kept.payload["traits"], json!({"plan": "pro"}));
        let state = w.live.profile_state(&kim).unwrap();
        assert_eq!(state.total_events, 1);
        assert!(!serde_json::to_string(&state).unwrap().contains("carol"));
        assert!(w.live.refusals_of(&kim).unwrap().is_empty());
    }

    #[test]
    fn deleting_bob_keeps_anas_alias_without_bobs_device() {
        let mut w = World::new(&[
            json!({"type": "identify", "anonymousId": "anon-1", "userId": "ana", "messageId": "a1"}),
            json!({"type": "identify", "anonymousId": "anon-2", "userId": "bob", "messageId": "b1"}),
            json!({"type": "alias", "previousId": "anon-2", "userId": "ana", "messageId": "a2"}),
        ]);
        let ana = w.profile("user_id:ana").unwrap();
        let out = w.delete("user_id:bob");
        assert_eq!(out.deleted_seqs, [2]);
        assert_eq!(out.profiles, std::slice::from_ref(&ana));
        assert_eq!(w.log.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [1, 3]);
        let alias = &w.log[1].1;
        assert_eq!(
            (alias.previous_id.as_deref(), alias.user_id.as_deref()),
            (None, Some("ana"))
        );
        assert!(!alias.payload.contains_key("previousId"));
        assert_eq!(w.live.event_seqs(&ana).unwrap(), [1, 3]);
        assert_eq!(w.profile("anonymous_id:anon-2"), None);
    }

    #[test]
    fn redaction_leaves_other_identifiers_and_events_without_them_alone() {
        let ids: BTreeSet<Identifier> = ["email:carol@example.com", "anonymous_id:dev-c"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let rules = IdentityRules::default();
        let w = World::new(&[
            json!({"type": "track", "userId": "kim", "anonymousId": " dev-c ", "event": "X", "context": {"traits": {"email": "carol@example.com", "name": "K"}}, "messageId": "t"}),
            json!({"type": "track", "userId": "kim", "event": "Y", "properties": {"email": "carol@example.com"}, "messageId": "u"}),
        ]);
        let redacted = redact(&w.log[0].1, &ids, &rules).unwrap();
        assert_eq!(redacted.user_id.as_deref(), Some("kim"));
        assert_eq!(redacted.anonymous_id, None);
        assert_eq!(redacted.payload["context"]["traits"], json!({"name": "K"}));
        // Only identifier fields are redacted; free-form properties are the sender's own.
        assert_eq!(redact(&w.log[1].1, &ids, &rules), None);
    }
}
