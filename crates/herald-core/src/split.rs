//! Splitting profiles: undoing a merge and deleting a person (GDPR). Both clear the affected
//! profiles and replay their events from the log, so the result is what a rebuild of the whole
//! log would give (the property test in `tests/rebuild.rs` checks exactly that).

use std::collections::BTreeSet;

use crate::event::{Event, EventType};
use crate::identity::{Identifier, IdentityRules, ProfileId, Separation};
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

#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub suppressed: Vec<Identifier>,
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
        suppressed: vec![],
    })
}

/// Delete a person: suppress their identifiers, remove every event that carries one of them,
/// replay the profiles tied to them, and recompute the groups they were in. The caller removes
/// `deleted_seqs` from the log.
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
    let suppressed: Vec<Identifier> = identity.identifiers.into_iter().collect();
    for id in &suppressed {
        store.suppress(id)?;
    }
    let (cleared, events) = clear_closure(store, std::slice::from_ref(profile), &mut load_events)?;
    let mut profiles = BTreeSet::new();
    let mut deleted_seqs = Vec::new();
    for (seq, event) in &events {
        match apply_event(store, *seq, event, rules)? {
            Applied::Attributed { profile, .. } => {
                profiles.insert(profile);
            }
            Applied::Suppressed | Applied::Unattributable => {
                deleted_seqs.push(*seq);
                if let (EventType::Group, Some(group_id)) = (event.event_type, &event.group_id) {
                    groups.insert(group_id.clone());
                }
            }
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
        suppressed,
    })
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
