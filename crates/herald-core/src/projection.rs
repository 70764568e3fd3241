//! Applying the log to the identity graph and profile states, through a small storage port.
//!
//! [`apply_event`] is the one function that turns a logged event into state; live processing,
//! rebuilds after an unmerge or a deletion, and the from-scratch oracle in tests all call it.

use std::collections::{BTreeSet, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{Event, EventType};
use crate::identity::{
    resolve, Identifier, IdentityRules, IdentityView, ProfileId, ProfileIdentity, RefusalReason,
    Separation, Target,
};
use crate::profile::{GroupState, ProfileState};

const MERGE_NAMESPACE: Uuid = Uuid::from_u128(0x2f4e_55b0_17c3_4d1a_8e0c_b39a_6d2f_e102);

/// How an identifier came onto its profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityLink {
    /// The identifier it was linked to, `None` for the identifier that created the profile.
    pub via: Option<Identifier>,
    pub seq: u64,
    pub message_id: String,
}

/// One recorded merge, with its cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRecord {
    pub merge_id: String,
    pub seq: u64,
    pub message_id: String,
    pub event_type: EventType,
    pub winner: ProfileId,
    pub loser: ProfileId,
    pub link: (Identifier, Identifier),
    pub winner_identifiers: BTreeSet<Identifier>,
    pub loser_identifiers: BTreeSet<Identifier>,
    pub at: DateTime<Utc>,
}

impl MergeRecord {
    pub fn id_for(seq: u64, loser: &ProfileId) -> String {
        Uuid::new_v5(&MERGE_NAMESPACE, format!("{seq}:{loser}").as_bytes()).to_string()
    }
}

/// A link the rules refused, kept because it ties two profiles' histories together: rebuilding
/// one of them must rebuild the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalRecord {
    pub seq: u64,
    pub identifier: Identifier,
    pub reason: RefusalReason,
}

/// What happened to one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Attributed {
        profile: ProfileId,
        created: bool,
        merges: Vec<MergeRecord>,
    },
    /// It carries an identifier of a deleted person.
    Suppressed,
    /// Every identifier it carries is blocked.
    Unattributable,
}

/// The state a projection reads and writes. Implemented by every storage backend and by
/// [`crate::memory::MemoryProjection`].
pub trait ProjectionStore {
    type Error;

    fn owner(&mut self, id: &Identifier) -> Result<Option<ProfileId>, Self::Error>;
    fn identity(&mut self, profile: &ProfileId) -> Result<Option<ProfileIdentity>, Self::Error>;
    /// Whether the profile exists: [`ProjectionStore::identity`] is `Some` (a backend may tell
    /// without reading the identifiers).
    fn profile_exists(&mut self, profile: &ProfileId) -> Result<bool, Self::Error> {
        Ok(self.identity(profile)?.is_some())
    }
    fn separations_touching(
        &mut self,
        ids: &BTreeSet<Identifier>,
    ) -> Result<Vec<Separation>, Self::Error>;
    fn is_suppressed(&mut self, id: &Identifier) -> Result<bool, Self::Error>;

    fn create_profile(&mut self, profile: &ProfileId, created_seq: u64) -> Result<(), Self::Error>;
    fn set_owner(
        &mut self,
        id: &Identifier,
        profile: &ProfileId,
        link: &IdentityLink,
    ) -> Result<(), Self::Error>;
    fn profile_state(&mut self, profile: &ProfileId) -> Result<ProfileState, Self::Error>;
    fn save_profile_state(
        &mut self,
        profile: &ProfileId,
        state: &ProfileState,
    ) -> Result<(), Self::Error>;
    fn group_state(&mut self, group_id: &str) -> Result<GroupState, Self::Error>;
    fn save_group_state(&mut self, group_id: &str, state: &GroupState) -> Result<(), Self::Error>;
    /// Move everything of `loser`'s identity (identifiers, events, refusals, merge history) to
    /// `winner`. Its profile and state stay until [`ProjectionStore::retire`]: in a partitioned
    /// cluster the loser's partition may still be applying events to that state.
    fn absorb(&mut self, winner: &ProfileId, loser: &ProfileId) -> Result<(), Self::Error>;
    /// Delete an absorbed profile, once its state was merged into the winner's.
    fn retire(&mut self, loser: &ProfileId) -> Result<(), Self::Error>;
    fn record_merge(&mut self, merge: &MergeRecord) -> Result<(), Self::Error>;
    fn record_refusal(
        &mut self,
        profile: &ProfileId,
        refusal: &RefusalRecord,
    ) -> Result<(), Self::Error>;
    /// Attribute the event at `seq` to `profile` (the profile's timeline).
    fn attribute(
        &mut self,
        seq: u64,
        profile: &ProfileId,
        event: &Event,
    ) -> Result<(), Self::Error>;
}

/// What a rebuild (after an unmerge or a deletion) needs on top of [`ProjectionStore`].
pub trait RebuildStore: ProjectionStore {
    fn refusals_of(&mut self, profile: &ProfileId) -> Result<Vec<RefusalRecord>, Self::Error>;
    /// Profiles holding a refusal of one of `ids`.
    fn profiles_refusing(
        &mut self,
        ids: &BTreeSet<Identifier>,
    ) -> Result<Vec<ProfileId>, Self::Error>;
    fn event_seqs(&mut self, profile: &ProfileId) -> Result<Vec<u64>, Self::Error>;
    /// Log positions of every `group` call for `group_id`, whoever sent it.
    fn group_event_seqs(&mut self, group_id: &str) -> Result<Vec<u64>, Self::Error>;
    fn delete_group_state(&mut self, group_id: &str) -> Result<(), Self::Error>;
    /// A merge record, with the profile that holds it now and whether it was undone.
    fn merge_record(
        &mut self,
        merge_id: &str,
    ) -> Result<Option<(ProfileId, MergeRecord, bool)>, Self::Error>;
    fn mark_merge_undone(&mut self, merge_id: &str) -> Result<(), Self::Error>;
    fn add_separation(&mut self, separation: &Separation) -> Result<(), Self::Error>;
    fn suppress(&mut self, id: &Identifier) -> Result<(), Self::Error>;
    /// Forget a profile entirely: identity, owners, state, refusals, attributions and merges
    /// that were not undone. Undone merges stay as history.
    fn clear_profile(&mut self, profile: &ProfileId) -> Result<(), Self::Error>;
}

/// Apply one logged event: resolve its identity ([`resolve_event`]), then apply it to the
/// profile and group states ([`apply_states`]).
pub fn apply_event<S: ProjectionStore + ?Sized>(
    store: &mut S,
    seq: u64,
    event: &Event,
    rules: &IdentityRules,
) -> Result<Applied, S::Error> {
    let applied = resolve_event(store, seq, event, rules)?;
    apply_states(store, seq, event, &applied)?;
    Ok(applied)
}

/// The identity half of [`apply_event`]: resolve the event's identity, create its profile,
/// move merged profiles' identities to their winners, claim identifiers, record refusals and
/// attribute the event to its profile's timeline. Profile and group states are not touched,
/// and merged losers keep their profile (with its state) until [`apply_states`] retires them.
/// It depends only on the identity graph, so a cluster runs it in one global order while the
/// state half runs per partition.
pub fn resolve_event<S: ProjectionStore + ?Sized>(
    store: &mut S,
    seq: u64,
    event: &Event,
    rules: &IdentityRules,
) -> Result<Applied, S::Error> {
    let keys = rules.lookup_keys(event);
    let mut view = IdentityView::default();
    let mut all_ids: BTreeSet<Identifier> = keys.iter().cloned().collect();
    for key in &keys {
        if let Some(owner) = store.owner(key)? {
            if !view.profiles.contains_key(&owner) {
                let identity = store.identity(&owner)?.unwrap_or_default();
                all_ids.extend(identity.identifiers.iter().cloned());
                view.profiles.insert(owner.clone(), identity);
            }
            view.owners.insert(key.clone(), owner);
        }
    }
    for id in rules.event_identifiers(event, |id| view.owners.contains_key(id)) {
        if store.is_suppressed(&id)? {
            return Ok(Applied::Suppressed);
        }
    }
    view.separations = store.separations_touching(&all_ids)?;

    let Some(resolution) = resolve(event, &view, rules) else {
        return Ok(Applied::Unattributable);
    };

    let (profile, created) = match resolution.target {
        Target::Existing(profile) => (profile, false),
        Target::New(anchor) => {
            let mut attempt = 0;
            let profile = loop {
                let candidate = ProfileId::derive(seq, &anchor, attempt);
                if !store.profile_exists(&candidate)? {
                    break candidate;
                }
                attempt += 1;
            };
            store.create_profile(&profile, seq)?;
            (profile, true)
        }
    };

    let mut merges = Vec::new();
    for step in resolution.merges {
        store.absorb(&step.winner, &step.loser)?;
        let record = MergeRecord {
            merge_id: MergeRecord::id_for(seq, &step.loser),
            seq,
            message_id: event.message_id.clone(),
            event_type: event.event_type,
            winner: step.winner,
            loser: step.loser,
            link: step.link,
            winner_identifiers: step.winner_identifiers,
            loser_identifiers: step.loser_identifiers,
            at: event.received_at,
        };
        store.record_merge(&record)?;
        merges.push(record);
    }
    for claim in resolution.claims {
        let link = IdentityLink {
            via: claim.via,
            seq,
            message_id: event.message_id.clone(),
        };
        store.set_owner(&claim.identifier, &profile, &link)?;
    }
    for refusal in resolution.refusals {
        let record = RefusalRecord {
            seq,
            identifier: refusal.identifier,
            reason: refusal.reason,
        };
        store.record_refusal(&profile, &record)?;
    }
    store.attribute(seq, &profile, event)?;
    Ok(Applied::Attributed {
        profile,
        created,
        merges,
    })
}

/// The state half of [`apply_event`], for the event at `seq` that [`resolve_event`]
/// attributed: fold each merged loser's state into its winner's (in merge order, so a chain of
/// merges in one event folds like it resolved) and retire the loser, then apply the event to
/// its profile's state
/// and, for a `group` call, to the group's. The caller guarantees that every earlier event of
/// the profiles involved was applied already.
pub fn apply_states<S: ProjectionStore + ?Sized>(
    store: &mut S,
    seq: u64,
    event: &Event,
    applied: &Applied,
) -> Result<(), S::Error> {
    let Applied::Attributed {
        profile, merges, ..
    } = applied
    else {
        return Ok(());
    };
    for merge in merges {
        let mut winner_state = store.profile_state(&merge.winner)?;
        winner_state.merge(store.profile_state(&merge.loser)?);
        store.retire(&merge.loser)?;
        store.save_profile_state(&merge.winner, &winner_state)?;
    }
    let mut state = store.profile_state(profile)?;
    state.apply(seq, event);
    store.save_profile_state(profile, &state)?;
    if let (EventType::Group, Some(group_id)) = (event.event_type, &event.group_id) {
        let mut group = store.group_state(group_id)?;
        group.apply(seq, event);
        store.save_group_state(group_id, &group)?;
    }
    Ok(())
}

/// Every profile whose history is tied to `seeds` through merges or refused links: the set
/// that must be replayed together for the replay to equal a rebuild of the whole log.
pub fn closure<S: RebuildStore + ?Sized>(
    store: &mut S,
    seeds: &[ProfileId],
) -> Result<Vec<ProfileId>, S::Error> {
    let mut seen: Vec<ProfileId> = Vec::new();
    let mut queue: VecDeque<ProfileId> = seeds.iter().cloned().collect();
    while let Some(profile) = queue.pop_front() {
        if seen.contains(&profile) {
            continue;
        }
        let ids = store
            .identity(&profile)?
            .map(|i| i.identifiers)
            .unwrap_or_default();
        for refusal in store.refusals_of(&profile)? {
            if let Some(owner) = store.owner(&refusal.identifier)? {
                queue.push_back(owner);
            }
        }
        queue.extend(store.profiles_refusing(&ids)?);
        seen.push(profile);
    }
    seen.sort();
    Ok(seen)
}

/// Replay the given events (already in log order) after the profiles they belonged to were
/// cleared. Returns how many were attributed.
pub fn replay<S: ProjectionStore + ?Sized>(
    store: &mut S,
    events: &[(u64, Event)],
    rules: &IdentityRules,
) -> Result<usize, S::Error> {
    let mut attributed = 0;
    for (seq, event) in events {
        if matches!(
            apply_event(store, *seq, event, rules)?,
            Applied::Attributed { .. }
        ) {
            attributed += 1;
        }
    }
    Ok(attributed)
}
