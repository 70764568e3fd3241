//! An in-memory [`ProjectionStore`]: the reference the storage backends are compared with, and
//! the engine of from-scratch rebuilds in tests.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;

use crate::audience::{AudienceState, AudienceStore, MembershipChange};
use crate::event::{Event, EventType};
use crate::identity::{Identifier, ProfileId, ProfileIdentity, Separation};
use crate::profile::{GroupState, ProfileState};
use crate::projection::{IdentityLink, MergeRecord, ProjectionStore, RebuildStore, RefusalRecord};

#[derive(Debug, Clone, Default)]
pub struct MemoryProjection {
    pub owners: HashMap<Identifier, (ProfileId, IdentityLink)>,
    pub profiles: BTreeMap<ProfileId, (u64, ProfileState)>,
    pub groups: BTreeMap<String, GroupState>,
    pub separations: Vec<Separation>,
    pub suppressed: BTreeSet<Identifier>,
    /// seq → (profile, group id of a group call)
    pub attributions: BTreeMap<u64, (ProfileId, Option<String>)>,
    /// seq → the event's timeline name (an event's name never changes).
    pub event_names: BTreeMap<u64, String>,
    /// merge id → (owning profile, record, undone)
    pub merges: BTreeMap<String, (ProfileId, MergeRecord, bool)>,
    pub refusals: Vec<(ProfileId, RefusalRecord)>,
    pub audience_states: BTreeMap<ProfileId, AudienceState>,
    /// Audience id → its members.
    pub audience_members: BTreeMap<String, BTreeSet<ProfileId>>,
    /// Every membership change, in order.
    pub membership_history: Vec<(ProfileId, MembershipChange)>,
}

/// A comparable picture of a projection, identical for any two stores holding the same state.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub profiles: BTreeMap<ProfileId, (u64, BTreeSet<Identifier>, ProfileState)>,
    pub groups: BTreeMap<String, GroupState>,
    pub attributions: BTreeMap<u64, ProfileId>,
    /// Merges not undone: (merge id, owning profile, winner, loser).
    pub merges: BTreeSet<(String, ProfileId, ProfileId, ProfileId)>,
}

impl MemoryProjection {
    pub fn snapshot(&self) -> Snapshot {
        let mut profiles: BTreeMap<ProfileId, (u64, BTreeSet<Identifier>, ProfileState)> = self
            .profiles
            .iter()
            .map(|(p, (created, state))| (p.clone(), (*created, BTreeSet::new(), state.clone())))
            .collect();
        for (id, (p, _)) in &self.owners {
            if let Some(entry) = profiles.get_mut(p) {
                entry.1.insert(id.clone());
            }
        }
        Snapshot {
            profiles,
            groups: self.groups.clone(),
            attributions: self
                .attributions
                .iter()
                .map(|(s, (p, _))| (*s, p.clone()))
                .collect(),
            merges: self
                .merges
                .iter()
                .filter(|(_, (_, _, undone))| !undone)
                .map(|(id, (owner, m, _))| {
                    (id.clone(), owner.clone(), m.winner.clone(), m.loser.clone())
                })
                .collect(),
        }
    }
}

impl ProjectionStore for MemoryProjection {
    type Error = Infallible;

    fn owner(&mut self, id: &Identifier) -> Result<Option<ProfileId>, Infallible> {
        Ok(self.owners.get(id).map(|(p, _)| p.clone()))
    }

    fn identity(&mut self, profile: &ProfileId) -> Result<Option<ProfileIdentity>, Infallible> {
        Ok(self
            .profiles
            .get(profile)
            .map(|(created_seq, _)| ProfileIdentity {
                created_seq: *created_seq,
                identifiers: self
                    .owners
                    .iter()
                    .filter(|(_, (p, _))| p == profile)
                    .map(|(i, _)| i.clone())
                    .collect(),
            }))
    }

    fn separations_touching(
        &mut self,
        ids: &BTreeSet<Identifier>,
    ) -> Result<Vec<Separation>, Infallible> {
        Ok(self
            .separations
            .iter()
            .filter(|s| !s.left.is_disjoint(ids) || !s.right.is_disjoint(ids))
            .cloned()
            .collect())
    }

    fn is_suppressed(&mut self, id: &Identifier) -> Result<bool, Infallible> {
        Ok(self.suppressed.contains(id))
    }

    fn create_profile(&mut self, profile: &ProfileId, created_seq: u64) -> Result<(), Infallible> {
        self.profiles
            .insert(profile.clone(), (created_seq, ProfileState::default()));
        Ok(())
    }

    fn set_owner(
        &mut self,
        id: &Identifier,
        profile: &ProfileId,
        link: &IdentityLink,
    ) -> Result<(), Infallible> {
        self.owners
            .insert(id.clone(), (profile.clone(), link.clone()));
        Ok(())
    }

    fn profile_state(&mut self, profile: &ProfileId) -> Result<ProfileState, Infallible> {
        Ok(self
            .profiles
            .get(profile)
            .map(|(_, s)| s.clone())
            .unwrap_or_default())
    }

    fn save_profile_state(
        &mut self,
        profile: &ProfileId,
        state: &ProfileState,
    ) -> Result<(), Infallible> {
        if let Some(entry) = self.profiles.get_mut(profile) {
            entry.1 = state.clone();
        }
        Ok(())
    }

    fn group_state(&mut self, group_id: &str) -> Result<GroupState, Infallible> {
        Ok(self.groups.get(group_id).cloned().unwrap_or_default())
    }

    fn save_group_state(&mut self, group_id: &str, state: &GroupState) -> Result<(), Infallible> {
        self.groups.insert(group_id.to_owned(), state.clone());
        Ok(())
    }

    fn absorb(&mut self, winner: &ProfileId, loser: &ProfileId) -> Result<(), Infallible> {
        let move_to_winner = |p: &mut ProfileId| {
            if p == loser {
                *p = winner.clone();
            }
        };
        self.owners
            .values_mut()
            .for_each(|(p, _)| move_to_winner(p));
        self.attributions
            .values_mut()
            .for_each(|(p, _)| move_to_winner(p));
        self.merges
            .values_mut()
            .for_each(|(p, _, _)| move_to_winner(p));
        self.refusals
            .iter_mut()
            .for_each(|(p, _)| move_to_winner(p));
        Ok(())
    }

    fn retire(&mut self, loser: &ProfileId) -> Result<(), Infallible> {
        self.profiles.remove(loser);
        Ok(())
    }

    fn record_merge(&mut self, merge: &MergeRecord) -> Result<(), Infallible> {
        self.merges.insert(
            merge.merge_id.clone(),
            (merge.winner.clone(), merge.clone(), false),
        );
        Ok(())
    }

    fn record_refusal(
        &mut self,
        profile: &ProfileId,
        refusal: &RefusalRecord,
    ) -> Result<(), Infallible> {
        self.refusals.push((profile.clone(), refusal.clone()));
        Ok(())
    }

    fn attribute(
        &mut self,
        seq: u64,
        profile: &ProfileId,
        event: &Event,
    ) -> Result<(), Infallible> {
        let group = (event.event_type == EventType::Group)
            .then(|| event.group_id.clone())
            .flatten();
        self.attributions.insert(seq, (profile.clone(), group));
        self.event_names
            .insert(seq, event.display_name().to_owned());
        Ok(())
    }
}

impl RebuildStore for MemoryProjection {
    fn refusals_of(&mut self, profile: &ProfileId) -> Result<Vec<RefusalRecord>, Infallible> {
        Ok(self
            .refusals
            .iter()
            .filter(|(p, _)| p == profile)
            .map(|(_, r)| r.clone())
            .collect())
    }

    fn profiles_refusing(
        &mut self,
        ids: &BTreeSet<Identifier>,
    ) -> Result<Vec<ProfileId>, Infallible> {
        Ok(self
            .refusals
            .iter()
            .filter(|(_, r)| ids.contains(&r.identifier))
            .map(|(p, _)| p.clone())
            .collect())
    }

    fn event_seqs(&mut self, profile: &ProfileId) -> Result<Vec<u64>, Infallible> {
        Ok(self
            .attributions
            .iter()
            .filter(|(_, (p, _))| p == profile)
            .map(|(s, _)| *s)
            .collect())
    }

    fn group_event_seqs(&mut self, group_id: &str) -> Result<Vec<u64>, Infallible> {
        Ok(self
            .attributions
            .iter()
            .filter(|(_, (_, g))| g.as_deref() == Some(group_id))
            .map(|(s, _)| *s)
            .collect())
    }

    fn delete_group_state(&mut self, group_id: &str) -> Result<(), Infallible> {
        self.groups.remove(group_id);
        Ok(())
    }

    fn merge_record(
        &mut self,
        merge_id: &str,
    ) -> Result<Option<(ProfileId, MergeRecord, bool)>, Infallible> {
        Ok(self.merges.get(merge_id).cloned())
    }

    fn mark_merge_undone(&mut self, merge_id: &str) -> Result<(), Infallible> {
        if let Some(entry) = self.merges.get_mut(merge_id) {
            entry.2 = true;
        }
        Ok(())
    }

    fn add_separation(&mut self, separation: &Separation) -> Result<(), Infallible> {
        self.separations.push(separation.clone());
        Ok(())
    }

    fn suppress(&mut self, id: &Identifier) -> Result<(), Infallible> {
        self.suppressed.insert(id.clone());
        Ok(())
    }

    fn clear_profile(&mut self, profile: &ProfileId) -> Result<(), Infallible> {
        self.owners.retain(|_, (p, _)| p != profile);
        self.attributions.retain(|_, (p, _)| p != profile);
        self.merges
            .retain(|_, (p, _, undone)| p != profile || *undone);
        self.refusals.retain(|(p, _)| p != profile);
        self.profiles.remove(profile);
        Ok(())
    }
}

impl AudienceStore for MemoryProjection {
    fn audience_state(&mut self, profile: &ProfileId) -> Result<Option<AudienceState>, Infallible> {
        Ok(self.audience_states.get(profile).cloned())
    }

    fn save_audience_state(
        &mut self,
        profile: &ProfileId,
        state: &AudienceState,
    ) -> Result<(), Infallible> {
        self.audience_states.insert(profile.clone(), state.clone());
        Ok(())
    }

    /// Exactly what the contract allows: the stored state gains `built_for` and the rebuilt
    /// facts, nothing else (so a caller that moved anything else is caught by the tests).
    fn save_audience_facts(
        &mut self,
        profile: &ProfileId,
        mut state: AudienceState,
        rebuilt: &BTreeSet<String>,
    ) -> Result<(), Infallible> {
        let stored = self.audience_states.entry(profile.clone()).or_default();
        stored.built_for = state.built_for;
        for id in rebuilt {
            match state.facts.facts.remove(id) {
                Some(hits) => stored.facts.facts.insert(id.clone(), hits),
                None => stored.facts.facts.remove(id),
            };
        }
        Ok(())
    }

    fn drop_audience_state(&mut self, profile: &ProfileId) -> Result<(), Infallible> {
        self.audience_states.remove(profile);
        Ok(())
    }

    fn record_membership(
        &mut self,
        profile: &ProfileId,
        change: &MembershipChange,
    ) -> Result<(), Infallible> {
        let members = self
            .audience_members
            .entry(change.audience.clone())
            .or_default();
        if change.entered {
            members.insert(profile.clone());
        } else {
            members.remove(profile);
        }
        self.membership_history
            .push((profile.clone(), change.clone()));
        Ok(())
    }

    fn forget_memberships(&mut self, profile: &ProfileId) -> Result<(), Infallible> {
        self.membership_history.retain(|(p, _)| p != profile);
        Ok(())
    }

    fn group_members(&mut self, group_id: &str) -> Result<Vec<ProfileId>, Infallible> {
        let members: BTreeSet<ProfileId> = self
            .attributions
            .values()
            .filter(|(_, g)| g.as_deref() == Some(group_id))
            .map(|(p, _)| p.clone())
            .collect();
        Ok(members.into_iter().collect())
    }

    fn due_profiles(&mut self, now: i64, limit: usize) -> Result<Vec<ProfileId>, Infallible> {
        Ok(self
            .audience_states
            .iter()
            .filter(|(_, s)| s.due().is_some_and(|d| d <= now))
            .map(|(p, _)| p.clone())
            .take(limit)
            .collect())
    }

    fn event_seqs_named(
        &mut self,
        profile: &ProfileId,
        names: &BTreeSet<String>,
    ) -> Result<Vec<u64>, Infallible> {
        let mut seqs = self.event_seqs(profile)?;
        seqs.retain(|s| self.event_names.get(s).is_some_and(|n| names.contains(n)));
        Ok(seqs)
    }

    fn named_events_after(
        &mut self,
        names: &BTreeSet<String>,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<(ProfileId, Vec<u64>)>, Infallible> {
        let mut found: BTreeMap<ProfileId, Vec<u64>> = BTreeMap::new();
        for (seq, (profile, _)) in &self.attributions {
            if after.is_none_or(|a| profile > a)
                && self.event_names.get(seq).is_some_and(|n| names.contains(n))
            {
                found.entry(profile.clone()).or_default().push(*seq);
            }
        }
        Ok(found.into_iter().take(limit).collect())
    }

    fn members_after(
        &mut self,
        audiences: &BTreeSet<String>,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<ProfileId>, Infallible> {
        let members: BTreeSet<&ProfileId> = audiences
            .iter()
            .filter_map(|a| self.audience_members.get(a))
            .flatten()
            .filter(|p| after.is_none_or(|a| *p > a))
            .collect();
        Ok(members.into_iter().take(limit).cloned().collect())
    }
}
