//! Identity resolution of one event against the relevant slice of the identity graph.
//!
//! The caller loads an [`IdentityView`] holding every profile the event's identifiers touch
//! (see [`IdentityRules::lookup_keys`]), calls [`resolve`], and applies the [`Resolution`].
//! The function is deterministic: the same view and event give the same resolution, which is
//! what lets profiles be rebuilt from the log.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::identifier::{IdKind, Identifier};
use super::rules::IdentityRules;
use super::ProfileId;
use crate::event::Event;

/// What a profile holds in the identity graph.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileIdentity {
    pub identifiers: BTreeSet<Identifier>,
    /// Log position of the event that created the profile; older profiles win merges.
    pub created_seq: u64,
}

/// An undone merge: a profile may never hold identifiers from both sides again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Separation {
    pub left: BTreeSet<Identifier>,
    pub right: BTreeSet<Identifier>,
}

impl Separation {
    fn forbids(&self, a: &BTreeSet<Identifier>, b: &BTreeSet<Identifier>) -> bool {
        let hits = |side: &BTreeSet<Identifier>, set: &BTreeSet<Identifier>| !side.is_disjoint(set);
        (hits(&self.left, a) && hits(&self.right, b))
            || (hits(&self.left, b) && hits(&self.right, a))
    }
}

/// The part of the identity graph an event can touch.
#[derive(Debug, Clone, Default)]
pub struct IdentityView {
    pub owners: HashMap<Identifier, ProfileId>,
    pub profiles: HashMap<ProfileId, ProfileIdentity>,
    pub separations: Vec<Separation>,
}

/// Which profile the event lands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Existing(ProfileId),
    /// A new profile anchored on its most trusted identifier.
    New(Identifier),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeStep {
    pub winner: ProfileId,
    pub loser: ProfileId,
    /// The two identifiers of the event that joined the profiles (winner side, loser side).
    pub link: (Identifier, Identifier),
    pub winner_identifiers: BTreeSet<Identifier>,
    pub loser_identifiers: BTreeSet<Identifier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub identifier: Identifier,
    /// The identifier already on the profile that this one was linked to, if any.
    pub via: Option<Identifier>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// Joining would exceed a per-kind limit (e.g. two user ids on one profile).
    Limit,
    /// An admin undid a merge between these identifiers.
    Separated,
    /// Not a refused link but a dependency: an alias's previousId could also have meant this
    /// identifier, had it been known. Kept so that rebuilds replay both profiles together.
    AliasAlternative,
}

/// A link the rules refused: the event carried `identifier`, which stays where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub identifier: Identifier,
    pub owner: Option<ProfileId>,
    pub reason: RefusalReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub target: Target,
    pub merges: Vec<MergeStep>,
    pub claims: Vec<Claim>,
    pub refusals: Vec<Refusal>,
}

impl IdentityRules {
    /// Every identifier whose owner must be in the view to resolve `event`.
    pub fn lookup_keys(&self, event: &Event) -> Vec<Identifier> {
        let mut keys = self.identifiers_of(event);
        if let Some(prev) = self.previous_id_of(event) {
            keys.push(Identifier::new(IdKind::UserId, prev.clone()));
            keys.push(Identifier::new(IdKind::AnonymousId, prev));
        }
        keys
    }

    /// The identifiers `event` carries, most trusted first, given which are already owned.
    /// An alias's previousId is whatever it is already known as: a user id, else an anonymous
    /// id (the common case: the anonymous id before sign-up).
    pub fn event_identifiers(
        &self,
        event: &Event,
        is_owned: impl Fn(&Identifier) -> bool,
    ) -> Vec<Identifier> {
        let mut ids = self.identifiers_of(event);
        if let Some(prev) = self.previous_id_of(event) {
            let as_user = Identifier::new(IdKind::UserId, prev.clone());
            let as_anon = Identifier::new(IdKind::AnonymousId, prev);
            let previous = if is_owned(&as_user) && !is_owned(&as_anon) {
                as_user
            } else {
                as_anon
            };
            if !ids.contains(&previous) {
                ids.push(previous);
            }
            ids.sort_by_key(|id| self.rank(id.kind));
        }
        ids
    }
}

/// Resolve one event. Returns `None` when the event carries no usable identifier (all blocked).
pub fn resolve(event: &Event, view: &IdentityView, rules: &IdentityRules) -> Option<Resolution> {
    let ids = rules.event_identifiers(event, |id| view.owners.contains_key(id));
    let first = ids.first()?.clone();

    // Profiles the event touches, in the order of their most trusted identifier in the event.
    let mut touched: Vec<(&ProfileId, &Identifier)> = Vec::new();
    for id in &ids {
        if let Some(owner) = view.owners.get(id) {
            if !touched.iter().any(|(p, _)| *p == owner) {
                touched.push((owner, id));
            }
        }
    }

    let mut merges = Vec::new();
    let mut refusals = Vec::new();
    // The event goes to the profile of its most trusted identifier; when that identifier is
    // new, to the first touched profile that may take it; else to a new profile.
    let identity_of = |p: &ProfileId| view.profiles.get(p).cloned().unwrap_or_default();
    let first_single = BTreeSet::from([first.clone()]);
    let start = match view.owners.get(&first) {
        Some(owner) => Some((owner, &first)),
        None => touched
            .iter()
            .find(|(p, _)| {
                merge_refusal(&identity_of(p).identifiers, &first_single, view, rules).is_none()
            })
            .map(|(p, via)| (*p, *via)),
    };
    // The profile is held with the event's most trusted identifier from the start: every
    // further link is tried against both, so none can make that identifier exceed a limit.
    let (mut target, mut held, mut anchor_id) = match start {
        Some((p, via)) => {
            let mut held = identity_of(p).identifiers;
            held.insert(first.clone());
            (Some(p.clone()), held, via.clone())
        }
        None => (None, first_single, first.clone()),
    };

    for (pid, via) in &touched {
        if target.as_ref() == Some(*pid) {
            continue;
        }
        let other = identity_of(pid);
        if let Some(reason) = merge_refusal(&held, &other.identifiers, view, rules) {
            refusals.extend(
                ids.iter()
                    .filter(|id| view.owners.get(*id) == Some(*pid))
                    .map(|id| Refusal {
                        identifier: id.clone(),
                        owner: Some((*pid).clone()),
                        reason,
                    }),
            );
            continue;
        }
        let Some(current) = target.clone() else {
            // The new profile would be younger than any existing one: the existing one wins
            // and simply takes the new identifiers.
            target = Some((*pid).clone());
            held.extend(other.identifiers);
            anchor_id = (*via).clone();
            continue;
        };
        let current_identity = identity_of(&current);
        let current_is_older =
            (current_identity.created_seq, &current) <= (other.created_seq, *pid);
        let step = if current_is_older {
            MergeStep {
                winner: current.clone(),
                loser: (*pid).clone(),
                link: (anchor_id.clone(), (*via).clone()),
                winner_identifiers: held.clone(),
                loser_identifiers: other.identifiers.clone(),
            }
        } else {
            let link = ((*via).clone(), anchor_id.clone());
            anchor_id = (*via).clone();
            MergeStep {
                winner: (*pid).clone(),
                loser: current.clone(),
                link,
                winner_identifiers: other.identifiers.clone(),
                loser_identifiers: held.clone(),
            }
        };
        held.extend(other.identifiers);
        target = Some(step.winner.clone());
        merges.push(step);
    }
    let target = match target {
        Some(p) => Target::Existing(p),
        None => Target::New(first.clone()),
    };

    let mut claims = Vec::new();
    if let Target::New(anchor) = &target {
        claims.push(Claim {
            identifier: anchor.clone(),
            via: None,
        });
    }
    for id in ids.iter().filter(|id| !view.owners.contains_key(*id)) {
        if claims.iter().any(|c| &c.identifier == id) {
            continue;
        }
        let single = BTreeSet::from([id.clone()]);
        let refusal = if held.contains(id) {
            None
        } else {
            merge_refusal(&held, &single, view, rules)
        };
        match refusal {
            Some(reason) => refusals.push(Refusal {
                identifier: id.clone(),
                owner: None,
                reason,
            }),
            None => {
                held.insert(id.clone());
                claims.push(Claim {
                    identifier: id.clone(),
                    via: Some(anchor_id.clone()),
                });
            }
        }
    }

    if let Some(prev) = rules.previous_id_of(event) {
        for kind in [IdKind::UserId, IdKind::AnonymousId] {
            let candidate = Identifier::new(kind, prev.clone());
            if !ids.contains(&candidate) {
                let owner = view.owners.get(&candidate).cloned();
                refusals.push(Refusal {
                    identifier: candidate,
                    owner,
                    reason: RefusalReason::AliasAlternative,
                });
            }
        }
    }

    Some(Resolution {
        target,
        merges,
        claims,
        refusals,
    })
}

/// Why `a` and `b` may not be held by one profile, if they may not.
fn merge_refusal(
    a: &BTreeSet<Identifier>,
    b: &BTreeSet<Identifier>,
    view: &IdentityView,
    rules: &IdentityRules,
) -> Option<RefusalReason> {
    if view.separations.iter().any(|s| s.forbids(a, b)) {
        return Some(RefusalReason::Separated);
    }
    let over_limit = IdKind::ALL.into_iter().any(|kind| {
        let count = |s: &BTreeSet<Identifier>| s.iter().filter(|i| i.kind == kind).count();
        let union = count(a) + count(b);
        union > rules.limit(kind) && union > count(a).max(count(b))
    });
    over_limit.then_some(RefusalReason::Limit)
}
