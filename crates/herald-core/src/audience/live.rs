//! Keeping memberships live: what happens to a profile's audience state when an event is
//! applied, when its timer fires, and when its history is rebuilt (backfill, unmerge, deletion).
//!
//! Every path ends in [`refresh`]: prune the facts, run [`Catalog::evaluate`], record the
//! difference with the stored memberships as `entered` / `exited` changes, and store the
//! instant of the next time-driven change (the profile's durable timer).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::catalog::{BackfillScope, Catalog, Changes, Outcome, Subject};
use super::facts::{FactSpec, ProfileFacts};
use crate::event::{Event, EventType};
use crate::identity::ProfileId;
use crate::projection::{Applied, RebuildStore};
use crate::split::SplitOutcome;

/// What a profile keeps for audiences, stored next to its profile state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AudienceState {
    /// The catalog fingerprint the facts were built for; another one means the facts must be
    /// rebuilt from the profile's history before use.
    pub built_for: String,
    pub facts: ProfileFacts,
    pub members: BTreeSet<String>,
    pub computed: BTreeMap<String, Value>,
    /// When each audience and computed trait whose result depends on time next changes with
    /// time alone (Unix ms).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dues: BTreeMap<String, i64>,
}

impl AudienceState {
    /// The profile's timer: when anything next changes with time alone (Unix ms).
    pub fn due(&self) -> Option<i64> {
        self.dues.values().copied().min()
    }
}

/// Why a membership changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Cause {
    /// The event at this log position.
    Event { seq: u64 },
    /// Time passed (a window closed, a relative date was reached).
    Time,
    /// The profile was merged into another one by the event at `seq`.
    Merged { seq: u64 },
    /// Its history was rebuilt: an audience was created or edited (backfill).
    Backfill,
    /// A merge was undone or a person deleted.
    Split,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipChange {
    pub audience: String,
    pub entered: bool,
    /// Unix ms.
    pub at: i64,
    pub cause: Cause,
}

/// The storage a live audience engine needs besides the projection.
pub trait AudienceStore: RebuildStore {
    fn audience_state(&mut self, profile: &ProfileId)
        -> Result<Option<AudienceState>, Self::Error>;
    /// Store the state (and index its `due` time for [`AudienceStore::due_profiles`]).
    fn save_audience_state(
        &mut self,
        profile: &ProfileId,
        state: &AudienceState,
    ) -> Result<(), Self::Error>;
    /// Store a state that differs from the one stored only in `built_for` and in the facts
    /// `rebuilt` (a rebuild that moved no membership, computed value or timer): a backend may
    /// write just those, apart from the rest. [`AudienceStore::audience_state`] returns the
    /// state with them.
    fn save_audience_facts(
        &mut self,
        profile: &ProfileId,
        state: AudienceState,
        rebuilt: &BTreeSet<String>,
    ) -> Result<(), Self::Error> {
        let _ = rebuilt;
        self.save_audience_state(profile, &state)
    }
    /// These profiles' states are about to be read one by one: a backend may read them
    /// together (on several cores) now.
    fn read_ahead_audience_states(&mut self, profiles: &[&ProfileId]) -> Result<(), Self::Error> {
        let _ = profiles;
        Ok(())
    }
    fn drop_audience_state(&mut self, profile: &ProfileId) -> Result<(), Self::Error>;
    /// Apply one change to the member lists and append it to the profile's history.
    fn record_membership(
        &mut self,
        profile: &ProfileId,
        change: &MembershipChange,
    ) -> Result<(), Self::Error>;
    /// Forget a deleted person's membership history.
    fn forget_memberships(&mut self, profile: &ProfileId) -> Result<(), Self::Error>;
    /// Profiles that sent a `group` call for this group.
    fn group_members(&mut self, group_id: &str) -> Result<Vec<ProfileId>, Self::Error>;
    /// Up to `limit` profiles whose timer is due at `now`.
    fn due_profiles(&mut self, now: i64, limit: usize) -> Result<Vec<ProfileId>, Self::Error>;
    /// Log positions of the profile's events (as [`RebuildStore::event_seqs`]) whose timeline
    /// name is one of `names`, in order.
    fn event_seqs_named(
        &mut self,
        profile: &ProfileId,
        names: &BTreeSet<String>,
    ) -> Result<Vec<u64>, Self::Error>;
    /// The first `limit` profiles after `after` (in id order) with an event whose timeline
    /// name is one of `names`, each with the log positions of those events, in order.
    fn named_events_after(
        &mut self,
        names: &BTreeSet<String>,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<(ProfileId, Vec<u64>)>, Self::Error>;
    /// The first `limit` members of any of `audiences` after `after`, in id order.
    fn members_after(
        &mut self,
        audiences: &BTreeSet<String>,
        after: Option<&ProfileId>,
        limit: usize,
    ) -> Result<Vec<ProfileId>, Self::Error>;
}

/// Loads events from the log by position.
pub type LoadEvents<'a, E> = dyn FnMut(&[u64]) -> Result<Vec<(u64, Event)>, E> + 'a;

/// Update audiences after `apply_event` attributed `event` (at `seq`): the event's profile
/// ([`on_profile_event`]) and, for a `group` call, the group's other members
/// ([`on_group_event`]).
pub fn on_event<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    seq: u64,
    event: &Event,
    applied: &Applied,
    now: i64,
    load: &mut LoadEvents<'_, S::Error>,
) -> Result<(), S::Error> {
    on_profile_event(store, catalog, seq, event, applied, now, load)?;
    if let Applied::Attributed { profile, .. } = applied {
        for member in group_members_to_refresh(store, catalog, event, profile)? {
            on_group_event(store, catalog, seq, &member, now, load)?;
        }
    }
    Ok(())
}

/// The audiences of the profiles an event touched: its own and those it merged.
pub fn on_profile_event<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    seq: u64,
    event: &Event,
    applied: &Applied,
    now: i64,
    load: &mut LoadEvents<'_, S::Error>,
) -> Result<(), S::Error> {
    let Applied::Attributed {
        profile,
        created,
        merges,
    } = applied
    else {
        return Ok(());
    };
    if catalog.is_empty() {
        return Ok(());
    }
    let fingerprint = catalog.fingerprint().to_owned();
    let mut touched: Vec<ProfileId> = Vec::new();
    for merge in merges {
        let loser = store.audience_state(&merge.loser)?;
        leave_all(store, catalog, &merge.loser, now, Cause::Merged { seq })?;
        let winner = store.audience_state(&merge.winner)?;
        match (winner, loser) {
            (Some(mut w), Some(l))
                if catalog.is_built_for(&w.built_for) && catalog.is_built_for(&l.built_for) =>
            {
                w.facts.merge(l.facts);
                w.built_for = fingerprint.clone();
                store.save_audience_state(&merge.winner, &w)?;
            }
            (Some(mut w), _) => {
                // One side is stale: the winner's facts are rebuilt from its merged history.
                w.built_for.clear();
                store.save_audience_state(&merge.winner, &w)?;
            }
            (None, _) => {}
        }
        if !touched.contains(&merge.winner) {
            touched.push(merge.winner.clone());
        }
    }
    // A profile without audience state is new, or was not seen since audiences existed: it is
    // evaluated in full, like one that just absorbed another.
    let (mut state, rebuild, whole) = match store.audience_state(profile)? {
        Some(mut state) if catalog.is_built_for(&state.built_for) => {
            state.built_for = fingerprint.clone();
            (state, false, !merges.is_empty())
        }
        Some(state) => (state, true, true),
        None => (
            AudienceState {
                built_for: fingerprint.clone(),
                ..AudienceState::default()
            },
            !(*created && merges.is_empty()),
            true,
        ),
    };
    let changes = if rebuild {
        rebuild_facts(store, catalog, profile, &mut state, now, load, None)?;
        // Facts kept from an earlier build have not seen this event yet (folding is
        // idempotent, so the rebuilt ones are unchanged by it).
        state.facts.fold(catalog.facts(), seq, event, now);
        Changes::all()
    } else {
        let facts = state.facts.fold(catalog.facts(), seq, event, now);
        Changes {
            all: whole,
            facts: facts.into_iter().collect(),
            traits: event.event_type == EventType::Identify,
            groups: event.event_type == EventType::Group,
            definitions: BTreeSet::new(),
        }
    };
    refresh(
        store,
        catalog,
        profile,
        &mut state,
        now,
        Cause::Event { seq },
        &changes,
    )?;
    for other in touched.into_iter().filter(|p| p != profile) {
        refresh_stored(
            store,
            catalog,
            &other,
            now,
            Cause::Event { seq },
            Changes::all(),
            load,
        )?;
    }
    Ok(())
}

/// The other profiles whose audiences a `group` call by `profile` can change: the group's
/// members, when some definition reads group traits.
pub fn group_members_to_refresh<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    event: &Event,
    profile: &ProfileId,
) -> Result<Vec<ProfileId>, S::Error> {
    match (event.event_type, &event.group_id) {
        (EventType::Group, Some(group_id)) if catalog.reads_group_traits() => Ok(store
            .group_members(group_id)?
            .into_iter()
            .filter(|member| member != profile)
            .collect()),
        _ => Ok(Vec::new()),
    }
}

/// Re-evaluate what reads group traits for `member`, after the `group` call at `seq` changed
/// one of its groups.
pub fn on_group_event<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    seq: u64,
    member: &ProfileId,
    now: i64,
    load: &mut LoadEvents<'_, S::Error>,
) -> Result<(), S::Error> {
    if catalog.is_empty() {
        return Ok(());
    }
    let groups = Changes {
        groups: true,
        ..Changes::default()
    };
    refresh_stored(
        store,
        catalog,
        member,
        now,
        Cause::Event { seq },
        groups,
        load,
    )
}

/// Re-evaluate a stored profile (a due timer, a group change, a catalog change), rebuilding
/// its facts first when they were built for another catalog. `cause` is recorded on changes;
/// a rebuild records [`Cause::Backfill`]. `changes` says what changed besides time (a timer:
/// nothing).
pub fn refresh_stored<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    profile: &ProfileId,
    now: i64,
    cause: Cause,
    changes: Changes,
    load: &mut LoadEvents<'_, S::Error>,
) -> Result<(), S::Error> {
    refresh_known(store, catalog, profile, now, cause, changes, load, None)
}

/// Events of one profile already found: the seqs of all its events with these names.
#[derive(Clone, Copy)]
struct Known<'a> {
    names: &'a BTreeSet<String>,
    seqs: &'a [u64],
}

/// [`refresh_stored`], with the profile's events of some names already found.
#[allow(clippy::too_many_arguments)]
fn refresh_known<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    profile: &ProfileId,
    now: i64,
    cause: Cause,
    changes: Changes,
    load: &mut LoadEvents<'_, S::Error>,
    known: Option<Known<'_>>,
) -> Result<(), S::Error> {
    if !store.profile_exists(profile)? {
        return leave_all(store, catalog, profile, now, cause);
    }
    let mut state = store.audience_state(profile)?.unwrap_or_default();
    // The facts rebuilt, when not all of them.
    let (cause, changes, rebuilt) = if catalog.is_built_for(&state.built_for) {
        state.built_for = catalog.fingerprint().to_owned();
        (cause, changes, Some(BTreeSet::new()))
    } else {
        match rebuild_facts(store, catalog, profile, &mut state, now, load, known)? {
            Some(rebuilt) => {
                let changes = Changes {
                    facts: &changes.facts | &rebuilt,
                    ..changes
                };
                (Cause::Backfill, changes, Some(rebuilt))
            }
            None => (Cause::Backfill, Changes::all(), None),
        }
    };
    evaluate_and_store(
        store, catalog, profile, &mut state, now, cause, &changes, rebuilt,
    )
}

/// What one step of a scoped backfill did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedStep {
    /// The profiles of the scope it went through (each re-evaluated, or found unaffected), in
    /// id order: the walk continues after the last one.
    pub looked_at: Vec<ProfileId>,
    /// No profile of the scope is left after these.
    pub finished: bool,
}

/// Advance a backfill limited to `scope` ([`Catalog::backfill_scope`]) by up to `limit`
/// profiles after `after`: the members of the edited audiences, and the profiles with events
/// of the scope's names, are re-evaluated as [`refresh_stored`] does, except those whose
/// events are hits of none of the scope's facts (read once here, from the log): the change
/// cannot affect those.
#[allow(clippy::too_many_arguments)]
pub fn backfill_scoped<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    scope: &BackfillScope,
    after: Option<&ProfileId>,
    limit: usize,
    now: i64,
    changes: &Changes,
    load: &mut LoadEvents<'_, S::Error>,
) -> Result<ScopedStep, S::Error> {
    let named = store.named_events_after(&scope.names, after, limit)?;
    let members = store.members_after(&scope.members_of, after, limit)?;
    // The first `limit` of the union are among the first `limit` of each list; when neither
    // list was cut and the union fits, the scope is done.
    let mut ids: Vec<&ProfileId> = named.iter().map(|(p, _)| p).chain(&members).collect();
    ids.sort_unstable();
    ids.dedup();
    let finished = named.len() < limit && members.len() < limit && ids.len() <= limit;
    let bound = ids.get(limit.saturating_sub(1)).map(|p| (*p).clone());
    let within = |p: &ProfileId| bound.as_ref().is_none_or(|b| p <= b);
    let named: Vec<(ProfileId, Vec<u64>)> = named.into_iter().filter(|(p, _)| within(p)).collect();
    let mut seqs: Vec<u64> = named.iter().flat_map(|(_, s)| s.iter().copied()).collect();
    seqs.sort_unstable();
    let mut events: BTreeMap<u64, Event> = if seqs.is_empty() {
        BTreeMap::new()
    } else {
        load(&seqs)?.into_iter().collect()
    };
    let specs: Vec<&FactSpec> = scope
        .facts
        .iter()
        .filter_map(|id| catalog.facts().get(id))
        .collect();
    let hit = |e: &Event| {
        let ts = e.timestamp.timestamp_millis();
        specs.iter().any(|s| s.keeps(ts, now) && s.matches(e))
    };
    // Each visited profile, with its events of the scope's names when it has any.
    let mut visit: BTreeMap<ProfileId, Option<Vec<u64>>> = members
        .into_iter()
        .filter(|p| within(p))
        .map(|p| (p, None))
        .collect();
    let mut looked_at: BTreeSet<ProfileId> = visit.keys().cloned().collect();
    for (profile, seqs) in named {
        if seqs.iter().filter_map(|s| events.get(s)).any(hit) {
            visit.insert(profile.clone(), Some(seqs));
        }
        looked_at.insert(profile);
    }
    // A visited profile's rebuild reads some of the events just read: they are not read twice.
    let mut load_once = |seqs: &[u64]| match seqs.iter().all(|s| events.contains_key(s)) {
        true => Ok(seqs.iter().filter_map(|s| events.remove_entry(s)).collect()),
        false => load(seqs),
    };
    store.read_ahead_audience_states(&visit.keys().collect::<Vec<_>>())?;
    for (profile, seqs) in &visit {
        let known = seqs.as_deref().map(|seqs| Known {
            names: &scope.names,
            seqs,
        });
        refresh_known(
            store,
            catalog,
            profile,
            now,
            Cause::Backfill,
            changes.clone(),
            &mut load_once,
            known,
        )?;
    }
    Ok(ScopedStep {
        looked_at: looked_at.into_iter().collect(),
        finished,
    })
}

/// After an unmerge or a deletion: the cleared profiles were forgotten and others hold the
/// replayed events now. Those are rebuilt from history; cleared ones that did not come back
/// leave their audiences (a deleted person's membership history is forgotten), and members of
/// recomputed groups are re-evaluated.
pub fn on_split<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    outcome: &SplitOutcome,
    deleted: Option<&ProfileId>,
    now: i64,
    load: &mut LoadEvents<'_, S::Error>,
) -> Result<(), S::Error> {
    let mut affected: Vec<&ProfileId> = outcome.cleared.iter().chain(&outcome.profiles).collect();
    affected.sort();
    affected.dedup();
    let fingerprint = catalog.fingerprint().to_owned();
    for profile in affected.iter().copied() {
        // A profile the replay did not bring back (or created and then merged away) is gone.
        if !store.profile_exists(profile)? {
            leave_all(store, catalog, profile, now, Cause::Split)?;
            if Some(profile) == deleted {
                store.forget_memberships(profile)?;
            }
        } else if !catalog.is_empty() {
            let mut state = store.audience_state(profile)?.unwrap_or_default();
            state.facts = build_facts(store, catalog, profile, now, load)?;
            state.built_for = fingerprint.clone();
            refresh(
                store,
                catalog,
                profile,
                &mut state,
                now,
                Cause::Split,
                &Changes::all(),
            )?;
        }
    }
    if catalog.reads_group_traits() {
        for group in &outcome.groups {
            for member in store.group_members(group)? {
                if !affected.contains(&&member) {
                    let groups = Changes {
                        groups: true,
                        ..Changes::default()
                    };
                    refresh_stored(store, catalog, &member, now, Cause::Split, groups, load)?;
                }
            }
        }
    }
    Ok(())
}

/// A profile that no longer exists leaves every audience it was in (those deleted since it
/// was last evaluated took their members and history with them).
fn leave_all<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    profile: &ProfileId,
    now: i64,
    cause: Cause,
) -> Result<(), S::Error> {
    if let Some(state) = store.audience_state(profile)? {
        for audience in state
            .members
            .iter()
            .filter(|a| catalog.audience(a).is_some())
        {
            let change = MembershipChange {
                audience: audience.clone(),
                entered: false,
                at: now,
                cause: cause.clone(),
            };
            store.record_membership(profile, &change)?;
        }
    }
    store.drop_audience_state(profile)
}

/// Bring a profile's facts, built for another catalog, up to `catalog`. When the catalog knows
/// the one they were built for ([`Catalog::rebuild_from`]), only the facts that one lacked are
/// folded again, from the events whose names they can match; otherwise all of them, from the
/// whole history (`known` spares looking the events up when it holds all their names).
/// Returns the facts rebuilt and those dropped (the catalog has them no more), `None` when it
/// rebuilt all of them.
fn rebuild_facts<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    profile: &ProfileId,
    state: &mut AudienceState,
    now: i64,
    load: &mut LoadEvents<'_, S::Error>,
    known: Option<Known<'_>>,
) -> Result<Option<BTreeSet<String>>, S::Error> {
    let rebuilt = match catalog.rebuild_from(&state.built_for) {
        Some(plan) => {
            let mut dropped = BTreeSet::new();
            state.facts.facts.retain(|id, _| {
                let kept = catalog.facts().contains_key(id);
                if !kept {
                    dropped.insert(id.clone());
                }
                kept && !plan.facts.contains_key(id)
            });
            if !plan.facts.is_empty() {
                let seqs = match (&plan.names, known) {
                    (Some(names), Some(known)) if names.is_subset(known.names) => {
                        known.seqs.to_vec()
                    }
                    (Some(names), _) => store.event_seqs_named(profile, names)?,
                    (None, _) => store.event_seqs(profile)?,
                };
                if !seqs.is_empty() {
                    for (seq, event) in load(&seqs)? {
                        state.facts.fold(&plan.facts, seq, &event, now);
                    }
                }
            }
            dropped.extend(plan.facts.keys().cloned());
            Some(dropped)
        }
        None => {
            state.facts = build_facts(store, catalog, profile, now, load)?;
            None
        }
    };
    state.built_for = catalog.fingerprint().to_owned();
    Ok(rebuilt)
}

/// The facts of a profile, folded from its whole history: what a backfill computes, and the
/// same fold that live processing does one event at a time.
pub fn build_facts<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    profile: &ProfileId,
    now: i64,
    load: &mut LoadEvents<'_, S::Error>,
) -> Result<ProfileFacts, S::Error> {
    let seqs = store.event_seqs(profile)?;
    let mut facts = ProfileFacts::default();
    for (seq, event) in load(&seqs)? {
        facts.fold(catalog.facts(), seq, &event, now);
    }
    Ok(facts)
}

/// Evaluate what `changes` (and time) can affect, record membership changes, store.
pub fn refresh<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    profile: &ProfileId,
    state: &mut AudienceState,
    now: i64,
    cause: Cause,
    changes: &Changes,
) -> Result<(), S::Error> {
    evaluate_and_store(store, catalog, profile, state, now, cause, changes, None)
}

/// [`refresh`]. With `facts_only`, facts that changed (besides those pruned here) while the
/// rest was kept, a state in which nothing else moved is stored as just its `built_for` and
/// those facts ([`AudienceStore::save_audience_facts`]), moved out of `state`.
#[allow(clippy::too_many_arguments)]
fn evaluate_and_store<S: AudienceStore + ?Sized>(
    store: &mut S,
    catalog: &Catalog,
    profile: &ProfileId,
    state: &mut AudienceState,
    now: i64,
    cause: Cause,
    changes: &Changes,
    facts_only: Option<BTreeSet<String>>,
) -> Result<(), S::Error> {
    let pruned = state.facts.prune(catalog.facts(), now);
    // Audiences deleted from the catalog took their member lists with them.
    let listed = state.members.len();
    state.members.retain(|a| catalog.audience(a).is_some());
    let mut moved = state.members.len() != listed;
    let previous = Outcome {
        computed: std::mem::take(&mut state.computed),
        members: state.members.clone(),
        dues: std::mem::take(&mut state.dues),
    };
    let mut traits = Map::new();
    let mut groups = Vec::new();
    let plan = catalog.to_evaluate(&previous, changes, now);
    if catalog.reads_traits(&plan) {
        let profile_state = store.profile_state(profile)?;
        traits = profile_state.trait_values();
        if catalog.reads_group_traits() {
            for group in profile_state.groups.keys() {
                groups.push(store.group_state(group)?.trait_values());
            }
        }
    }
    let outcome = catalog.evaluate_planned(
        &Subject {
            traits: &traits,
            groups: &groups,
            facts: &state.facts,
        },
        now,
        &previous,
        &plan,
    );
    let changes = diff(&state.members, &outcome.members);
    moved |= !changes.is_empty()
        || outcome.computed != previous.computed
        || outcome.dues != previous.dues;
    for (audience, entered) in changes {
        let change = MembershipChange {
            audience,
            entered,
            at: now,
            cause: cause.clone(),
        };
        store.record_membership(profile, &change)?;
    }
    state.members = outcome.members;
    state.computed = outcome.computed;
    state.dues = outcome.dues;
    match facts_only {
        Some(mut changed) if !moved => {
            changed.extend(pruned);
            store.save_audience_facts(profile, std::mem::take(state), &changed)
        }
        _ => store.save_audience_state(profile, state),
    }
}

/// Audiences entered (`true`) and exited (`false`), in audience id order.
fn diff(before: &BTreeSet<String>, after: &BTreeSet<String>) -> Vec<(String, bool)> {
    let mut changes: Vec<(String, bool)> = before
        .difference(after)
        .map(|a| (a.clone(), false))
        .chain(after.difference(before).map(|a| (a.clone(), true)))
        .collect();
    changes.sort();
    changes
}
