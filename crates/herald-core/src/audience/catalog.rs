//! The catalog: every audience and computed trait, compiled for evaluation.
//!
//! [`Catalog::evaluate`] is the one evaluator: live processing, time-driven re-evaluation,
//! backfills and explanations all call it on a profile's [`ProfileFacts`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::facts::{fact_id, lookup, FactSpec, Hit, ProfileFacts};
use super::rule::{Count, Filter, Rule, Test, Window};
use super::value::{number, test_time, test_value};

/// How a computed trait aggregates its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Count,
    Sum,
    Average,
    Min,
    Max,
    First,
    Last,
    Distinct,
}

impl Aggregate {
    pub const ALL: [Aggregate; 8] = [
        Aggregate::Count,
        Aggregate::Sum,
        Aggregate::Average,
        Aggregate::Min,
        Aggregate::Max,
        Aggregate::First,
        Aggregate::Last,
        Aggregate::Distinct,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Aggregate::Count => "count",
            Aggregate::Sum => "sum",
            Aggregate::Average => "avg",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
            Aggregate::First => "first",
            Aggregate::Last => "last",
            Aggregate::Distinct => "distinct",
        }
    }

    pub fn needs_property(self) -> bool {
        self != Aggregate::Count
    }
}

/// A computed trait: an aggregate of an event property over the profile's matching events.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedTrait {
    pub name: String,
    pub aggregate: Aggregate,
    /// `None`: every event.
    pub event: Option<String>,
    pub property: Option<String>,
    pub filters: Vec<Filter>,
    pub window: Window,
}

impl ComputedTrait {
    /// The value over `hits` at `now` (absent when nothing qualifies; `count` is always a
    /// number), and when it next changes with time alone.
    pub fn value(&self, hits: &[Hit], now: i64) -> (Option<Value>, Option<i64>) {
        let inside: Vec<&Hit> = hits
            .iter()
            .filter(|h| self.window.contains(h.ts, now))
            .collect();
        let next = exit_time(&self.window, inside.iter().map(|h| h.ts));
        let values = || inside.iter().filter_map(|h| h.value.as_ref());
        let numbers = || values().filter_map(Value::as_f64);
        let value = match self.aggregate {
            Aggregate::Count => Some(Value::from(inside.len())),
            Aggregate::Sum => numbers().reduce(|a, b| a + b).map(number),
            Aggregate::Average => {
                let n = numbers().count();
                (n > 0).then(|| number(numbers().sum::<f64>() / n as f64))
            }
            Aggregate::Min => numbers().reduce(f64::min).map(number),
            Aggregate::Max => numbers().reduce(f64::max).map(number),
            Aggregate::First => values().find(|v| !v.is_null()).cloned(),
            Aggregate::Last => values().rfind(|v| !v.is_null()).cloned(),
            Aggregate::Distinct => {
                let distinct: BTreeMap<String, &Value> = values()
                    .filter(|v| !v.is_null())
                    .map(|v| (v.to_string(), v))
                    .collect();
                (!distinct.is_empty())
                    .then(|| Value::Array(distinct.into_values().cloned().collect()))
            }
        };
        (value, next)
    }
}

/// When the earliest of these in-window hits leaves a relative window.
fn exit_time(window: &Window, times: impl Iterator<Item = i64>) -> Option<i64> {
    match window {
        Window::Last(span) => times.min().map(|t| t + span.millis()),
        Window::Ever | Window::Between(..) => None,
    }
}

/// When time alone first makes `changed(left)` true, `left` being how many of the hits at
/// `times` inside `window` have left it: hits leave a `last` window oldest first (hits at
/// one instant together) and nothing enters one by time alone, so that is the only way a
/// count over it changes. `None`: it never does.
fn departure(window: &Window, times: &mut [i64], changed: impl Fn(u64) -> bool) -> Option<i64> {
    let Window::Last(span) = window else {
        return None;
    };
    times.sort_unstable();
    let mut left = 0;
    while let Some(&t) = times.get(left) {
        left += times[left..].iter().take_while(|&&u| u == t).count();
        if changed(left as u64) {
            return Some(t + span.millis());
        }
    }
    None
}

/// An audience: an id and a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AudienceDef {
    pub id: String,
    pub rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("audience `{audience}` refers to unknown audience `{missing}`")]
    UnknownAudience { audience: String, missing: String },
    #[error("audience `{audience}` refers to unknown computed trait `{missing}`")]
    UnknownComputedTrait { audience: String, missing: String },
    #[error("audiences refer to each other in a cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
}

/// A rule with its event conditions resolved to facts.
#[derive(Debug, Clone)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Trait(String, Test),
    GroupTrait(String, Test),
    Computed(String, Test),
    Performed {
        fact: String,
        count: Count,
        window: Window,
    },
    First(String, Test),
    Last(String, Test),
    Sequence {
        steps: Vec<String>,
        within: i64,
        window: Window,
    },
    InAudience(String),
}

/// What a profile looks like to the evaluator.
pub struct Subject<'a> {
    pub traits: &'a Map<String, Value>,
    /// Traits of every group the profile belongs to.
    pub groups: &'a [Map<String, Value>],
    pub facts: &'a ProfileFacts,
}

/// The result of evaluating every computed trait and audience for one profile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub computed: BTreeMap<String, Value>,
    /// Audiences the profile is in.
    pub members: BTreeSet<String>,
    /// For each audience (by id) and computed trait (`computed:<name>`) whose result can change
    /// with time alone, the instant (Unix ms) it can next change.
    pub dues: BTreeMap<String, i64>,
}

/// What changed for a profile since its last evaluation; only the audiences and computed
/// traits that read something changed (or whose time came) are evaluated again.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Everything may have changed (a merge, a rebuild, new definitions).
    pub all: bool,
    /// Facts that gained a hit.
    pub facts: BTreeSet<String>,
    /// Profile traits may have changed (an `identify`).
    pub traits: bool,
    /// Group membership or group traits may have changed (a `group` call).
    pub groups: bool,
    /// Audiences (by id) and computed traits (by `computed:` key) whose definitions changed
    /// ([`changed_definitions`]).
    pub definitions: BTreeSet<String>,
}

impl Changes {
    pub fn all() -> Changes {
        Changes {
            all: true,
            ..Changes::default()
        }
    }
}

/// What an audience's result depends on, including through the computed traits and audiences
/// it refers to.
#[derive(Debug, Clone, Default)]
struct Reads {
    facts: BTreeSet<String>,
    traits: bool,
    groups: bool,
    /// Audiences it refers to directly.
    refers_to: Vec<String>,
    /// Facts of which a profile needs some hit for the rule to hold ([`Catalog::requirement`]);
    /// `None` when it can hold without any (`not`, traits, `count < 1`).
    requires: Option<BTreeSet<String>>,
}

/// Hashes of definitions, by audience id and `computed:` key ([`Catalog::definition_hashes`]).
pub type DefinitionHashes = BTreeMap<String, u64>;

/// The audiences and computed traits of `after` that are new or different in it: the only ones
/// a profile evaluated under `before` must evaluate again (with those reading facts that
/// changed, and those due).
pub fn changed_definitions(
    before: &DefinitionHashes,
    after: &DefinitionHashes,
) -> BTreeSet<String> {
    after
        .iter()
        .filter(|(key, hash)| before.get(*key) != Some(hash))
        .map(|(key, _)| key.clone())
        .collect()
}

/// The key of a computed trait in [`Outcome::dues`].
fn computed_key(name: &str) -> String {
    format!("computed:{name}")
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    computed: Vec<(ComputedTrait, String)>,
    /// Audiences in dependency order: every audience after those it refers to.
    audiences: Vec<(AudienceDef, Node, Reads)>,
    facts: BTreeMap<String, FactSpec>,
    fingerprint: String,
    reads_group_traits: bool,
    /// For profiles whose facts were built for an earlier catalog (by its fingerprint): what
    /// they must rebuild (see [`Catalog::set_earlier_builds`]).
    earlier: BTreeMap<String, Rebuild>,
    /// Positions in `audiences`, so that an evaluation visits only what a change touches.
    index: Index,
}

/// Where each audience is, and which audiences read what.
#[derive(Debug, Clone, Default)]
struct Index {
    position: BTreeMap<String, usize>,
    by_fact: BTreeMap<String, Vec<usize>>,
    reading_traits: Vec<usize>,
    reading_groups: Vec<usize>,
    /// For each audience, those that refer to it directly (all later in the order).
    referred_by: Vec<Vec<usize>>,
}

/// What one evaluation covers ([`Catalog::to_evaluate`]).
pub struct Evaluation<'c> {
    changes: std::borrow::Cow<'c, Changes>,
    /// By position in the catalog's audiences.
    again: Vec<bool>,
}

/// The fact sets of catalogs, by fingerprint: each fact id with how far back it reaches
/// (`None`: forever). What [`Catalog::fact_reaches`] returns, persisted with a backfill.
pub type FactReaches = BTreeMap<String, Option<i64>>;

/// What a profile whose facts were built for one earlier catalog must rebuild to match this
/// one: the facts that catalog did not have or kept for less long. The others it already
/// holds, maintained event by event exactly as a rebuild would produce them.
#[derive(Debug, Clone, Default)]
pub struct Rebuild {
    pub facts: BTreeMap<String, FactSpec>,
    /// The event names those facts can match; `None` when one of them matches any event.
    pub names: Option<BTreeSet<String>>,
    /// That catalog had facts this one has not (a profile built for it may hold their hits).
    pub dropped: bool,
}

/// The profiles a backfill must visit when a change cannot affect the others (see
/// [`Catalog::backfill_scope`]): those with an event of one of `names` that some fact of
/// `facts` keeps, and the members of `members_of`. Persisted with the backfill.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BackfillScope {
    /// Event names as timelines show them.
    pub names: BTreeSet<String>,
    /// Fact ids: a profile whose events of `names` are hits of none of them is not affected.
    pub facts: BTreeSet<String>,
    /// Audiences whose current members must be visited (edited ones).
    pub members_of: BTreeSet<String>,
}

impl BackfillScope {
    pub fn union(mut self, other: BackfillScope) -> BackfillScope {
        self.names.extend(other.names);
        self.facts.extend(other.facts);
        self.members_of.extend(other.members_of);
        self
    }
}

impl Catalog {
    pub fn new(
        computed: Vec<ComputedTrait>,
        audiences: Vec<AudienceDef>,
    ) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::default();
        for c in computed {
            let fact = catalog.fact(
                c.event.as_deref(),
                &c.filters,
                c.property.as_deref(),
                c.window.reach(),
            );
            catalog.computed.push((c, fact));
        }
        let names: BTreeSet<&str> = catalog
            .computed
            .iter()
            .map(|(c, _)| c.name.as_str())
            .collect();
        let ids: BTreeSet<&str> = audiences.iter().map(|a| a.id.as_str()).collect();
        for a in &audiences {
            if let Some(missing) = a.rule.audiences().into_iter().find(|r| !ids.contains(r)) {
                return Err(CatalogError::UnknownAudience {
                    audience: a.id.clone(),
                    missing: missing.to_owned(),
                });
            }
            if let Some(missing) = a
                .rule
                .computed_traits()
                .into_iter()
                .find(|r| !names.contains(r))
            {
                return Err(CatalogError::UnknownComputedTrait {
                    audience: a.id.clone(),
                    missing: missing.to_owned(),
                });
            }
        }
        for def in dependency_order(audiences)? {
            let node = catalog.compile(&def.rule);
            let mut reads = catalog.reads(&node);
            reads.requires = catalog.requirement(&node);
            catalog.reads_group_traits |= def.rule.reads_group_traits();
            catalog.audiences.push((def, node, reads));
        }
        catalog.index = Index::of(&catalog.audiences);
        // As a list of pairs: the form fingerprints stored on profiles were computed from.
        let facts: Vec<(&String, Option<i64>)> =
            catalog.facts.iter().map(|(id, f)| (id, f.reach)).collect();
        catalog.fingerprint = format!(
            "{:016x}",
            xxhash_rust::xxh3::xxh3_64(
                serde_json::to_string(&facts).unwrap_or_default().as_bytes()
            )
        );
        Ok(catalog)
    }

    /// Identifies the set of facts (and how far back each reaches): profile facts built for
    /// another fingerprint must be rebuilt from history.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// A hash of each audience's rule (by id) and computed trait's definition (by `computed:`
    /// key): what [`changed_definitions`] compares.
    pub fn definition_hashes(&self) -> DefinitionHashes {
        let hash = |v: Value| xxhash_rust::xxh3::xxh3_64(v.to_string().as_bytes());
        let computed = self.computed.iter().map(|(c, _)| {
            (
                computed_key(&c.name),
                hash(super::json::computed_to_json(c)),
            )
        });
        let audiences = self
            .audiences
            .iter()
            .map(|(a, _, _)| (a.id.clone(), hash(super::json::to_json(&a.rule))));
        computed.chain(audiences).collect()
    }

    /// Every fact id with how far back it reaches: what the fingerprint identifies.
    pub fn fact_reaches(&self) -> FactReaches {
        self.facts
            .iter()
            .map(|(id, f)| (id.clone(), f.reach))
            .collect()
    }

    /// Tell the catalog the fact sets of earlier catalogs that profiles may still be built
    /// for, so that such a profile rebuilds only the facts it lacks ([`Catalog::rebuild_from`])
    /// instead of all of them. This catalog's own fingerprint is ignored.
    pub fn set_earlier_builds(&mut self, builds: &BTreeMap<String, FactReaches>) {
        self.earlier = builds
            .iter()
            .filter(|(fingerprint, _)| **fingerprint != self.fingerprint)
            .map(|(fingerprint, built)| (fingerprint.clone(), self.rebuild_for(built)))
            .collect();
    }

    fn rebuild_for(&self, built: &FactReaches) -> Rebuild {
        let covers = |had: Option<i64>, needs: Option<i64>| match (had, needs) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(had), Some(needs)) => had >= needs,
        };
        let facts: BTreeMap<String, FactSpec> = self
            .facts
            .iter()
            .filter(|(id, spec)| !built.get(*id).is_some_and(|had| covers(*had, spec.reach)))
            .map(|(id, spec)| (id.clone(), spec.clone()))
            .collect();
        let names = facts
            .values()
            .map(|f| f.event.clone())
            .collect::<Option<BTreeSet<String>>>();
        let dropped = built.keys().any(|id| !self.facts.contains_key(id));
        Rebuild {
            facts,
            names,
            dropped,
        }
    }

    /// Whether facts built for `fingerprint` serve this catalog as they are: its own, or an
    /// earlier build that lacks nothing this catalog keeps (what it had and this one has not
    /// is pruned by the next evaluation).
    pub fn is_built_for(&self, fingerprint: &str) -> bool {
        fingerprint == self.fingerprint
            || self
                .earlier
                .get(fingerprint)
                .is_some_and(|plan| plan.facts.is_empty())
    }

    /// Which profiles a backfill from definitions hashed `before` to these ones must visit,
    /// `changed` being what it must evaluate again; `None` when it must visit every profile.
    ///
    /// A profile outside the scope is provably unaffected: every changed audience is new or
    /// edited (nothing was deleted), and needs a hit of some fact for its rule to hold
    /// ([`Catalog::requirement`]) so it is false without one, as it was before (a new
    /// audience had no members; an edited one's members are visited); every changed computed
    /// trait is new and absent without a hit; and the facts profiles rebuild are empty for a
    /// profile without an event they match. So a profile whose events of `names` match none
    /// of `facts` keeps its results, and its facts are those of a build for this catalog.
    pub fn backfill_scope(
        &self,
        before: &DefinitionHashes,
        changed: &BTreeSet<String>,
    ) -> Option<BackfillScope> {
        let now = self.definition_hashes();
        if before.keys().any(|key| !now.contains_key(key)) {
            return None;
        }
        let mut scope = BackfillScope::default();
        for plan in self.earlier.values() {
            if plan.dropped {
                return None;
            }
            scope.names.extend(plan.names.clone()?);
            scope.facts.extend(plan.facts.keys().cloned());
        }
        for key in changed {
            let requires = match self.index.position.get(key).map(|&i| &self.audiences[i]) {
                Some((_, _, reads)) => {
                    if before.contains_key(key) {
                        scope.members_of.insert(key.clone());
                    }
                    reads.requires.clone()?
                }
                None => {
                    let name = key.strip_prefix("computed:")?;
                    let (computed, fact) = self.computed_named(name)?;
                    if before.contains_key(key) || computed.aggregate == Aggregate::Count {
                        return None;
                    }
                    [fact.clone()].into()
                }
            };
            for fact in requires {
                scope.names.insert(self.facts.get(&fact)?.event.clone()?);
                scope.facts.insert(fact);
            }
        }
        Some(scope)
    }

    /// Facts of which a profile needs at least one hit for `node` to hold: without a hit in
    /// any of them it is false, whatever the traits and the time. `None` when no such set
    /// exists.
    fn requirement(&self, node: &Node) -> Option<BTreeSet<String>> {
        match node {
            Node::Performed { fact, count, .. } => (!count.holds(0)).then(|| [fact.clone()].into()),
            Node::First(fact, _) | Node::Last(fact, _) => Some([fact.clone()].into()),
            Node::Sequence { steps, .. } => steps.first().map(|f| [f.clone()].into()),
            Node::Computed(name, test) => {
                let (computed, fact) = self.computed_named(name)?;
                // Without a hit the value is absent (`count` excepted: it is 0).
                (computed.aggregate != Aggregate::Count && !test_value(test, None, 0).0)
                    .then(|| [fact.clone()].into())
            }
            Node::InAudience(id) => self
                .audiences
                .iter()
                .find(|(a, _, _)| &a.id == id)
                .and_then(|(_, _, reads)| reads.requires.clone()),
            // One required conjunct suffices: take the narrowest.
            Node::And(nodes) => nodes
                .iter()
                .filter_map(|n| self.requirement(n))
                .min_by_key(BTreeSet::len),
            // Every alternative must need a hit.
            Node::Or(nodes) => nodes.iter().try_fold(BTreeSet::new(), |mut all, n| {
                all.extend(self.requirement(n)?);
                Some(all)
            }),
            Node::Not(_) | Node::Trait(..) | Node::GroupTrait(..) => None,
        }
    }

    /// What a profile whose facts were built for `fingerprint` must rebuild; `None` when that
    /// catalog is unknown (everything must be rebuilt).
    pub fn rebuild_from(&self, fingerprint: &str) -> Option<&Rebuild> {
        self.earlier.get(fingerprint)
    }

    pub fn reads_group_traits(&self) -> bool {
        self.reads_group_traits
    }

    pub fn computed_traits(&self) -> impl Iterator<Item = &ComputedTrait> {
        self.computed.iter().map(|(c, _)| c)
    }

    pub fn facts(&self) -> &BTreeMap<String, FactSpec> {
        &self.facts
    }

    pub fn audience_ids(&self) -> impl Iterator<Item = &str> {
        self.audiences.iter().map(|(a, _, _)| a.id.as_str())
    }

    pub fn audience(&self, id: &str) -> Option<&AudienceDef> {
        let &i = self.index.position.get(id)?;
        Some(&self.audiences[i].0)
    }

    pub fn is_empty(&self) -> bool {
        self.audiences.is_empty() && self.computed.is_empty()
    }

    fn fact(
        &mut self,
        event: Option<&str>,
        filters: &[Filter],
        property: Option<&str>,
        reach: Option<i64>,
    ) -> String {
        let id = fact_id(event, filters, property);
        let spec = self.facts.entry(id.clone()).or_insert_with(|| FactSpec {
            event: event.map(str::to_owned),
            filters: filters.to_vec(),
            property: property.map(str::to_owned),
            reach,
        });
        spec.reach = match (spec.reach, reach) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        id
    }

    /// What a compiled rule reads; audiences it refers to are compiled already (dependency
    /// order), so their reads are included.
    fn reads(&self, node: &Node) -> Reads {
        let mut reads = Reads::default();
        let mut stack = vec![node];
        while let Some(node) = stack.pop() {
            match node {
                Node::And(nodes) | Node::Or(nodes) => stack.extend(nodes),
                Node::Not(inner) => stack.push(inner),
                Node::Trait(..) => reads.traits = true,
                Node::GroupTrait(..) => reads.groups = true,
                Node::Computed(name, _) => {
                    if let Some((_, fact)) = self.computed_named(name) {
                        reads.facts.insert(fact.clone());
                    }
                }
                Node::Performed { fact, .. } | Node::First(fact, _) | Node::Last(fact, _) => {
                    reads.facts.insert(fact.clone());
                }
                Node::Sequence { steps, .. } => reads.facts.extend(steps.iter().cloned()),
                Node::InAudience(id) => {
                    reads.refers_to.push(id.clone());
                    if let Some((_, _, other)) = self.audiences.iter().find(|(a, _, _)| &a.id == id)
                    {
                        reads.facts.extend(other.facts.iter().cloned());
                        reads.traits |= other.traits;
                        reads.groups |= other.groups;
                    }
                }
            }
        }
        reads
    }

    fn compile(&mut self, rule: &Rule) -> Node {
        match rule {
            Rule::And(rules) => Node::And(rules.iter().map(|r| self.compile(r)).collect()),
            Rule::Or(rules) => Node::Or(rules.iter().map(|r| self.compile(r)).collect()),
            Rule::Not(rule) => Node::Not(Box::new(self.compile(rule))),
            Rule::Trait { path, test } => Node::Trait(path.clone(), test.clone()),
            Rule::GroupTrait { path, test } => Node::GroupTrait(path.clone(), test.clone()),
            Rule::Computed { name, test } => Node::Computed(name.clone(), test.clone()),
            Rule::Performed {
                event,
                filters,
                count,
                window,
            } => Node::Performed {
                fact: self.fact(Some(event), filters, None, window.reach()),
                count: *count,
                window: window.clone(),
            },
            Rule::FirstPerformed {
                event,
                filters,
                test,
            } => Node::First(self.fact(Some(event), filters, None, None), test.clone()),
            Rule::LastPerformed {
                event,
                filters,
                test,
            } => Node::Last(self.fact(Some(event), filters, None, None), test.clone()),
            Rule::Sequence {
                steps,
                within,
                window,
            } => Node::Sequence {
                steps: steps
                    .iter()
                    .map(|s| self.fact(Some(&s.event), &s.filters, None, window.reach()))
                    .collect(),
                within: within.millis(),
                window: window.clone(),
            },
            Rule::InAudience(id) => Node::InAudience(id.clone()),
        }
    }

    /// Evaluate every computed trait and audience for one profile at `now` (Unix ms).
    pub fn evaluate(&self, subject: &Subject<'_>, now: i64) -> Outcome {
        self.evaluate_changes(subject, now, &Outcome::default(), &Changes::all())
    }

    /// Evaluate again only what `changes` can affect, and what time has made due; everything
    /// else keeps its `previous` result (which stays right until its due time). Results of
    /// definitions the catalog no longer has are dropped.
    pub fn evaluate_changes(
        &self,
        subject: &Subject<'_>,
        now: i64,
        previous: &Outcome,
        changes: &Changes,
    ) -> Outcome {
        self.evaluate_planned(
            subject,
            now,
            previous,
            &self.to_evaluate(previous, changes, now),
        )
    }

    /// [`Catalog::evaluate_changes`] with what to evaluate worked out already.
    pub fn evaluate_planned(
        &self,
        subject: &Subject<'_>,
        now: i64,
        previous: &Outcome,
        plan: &Evaluation<'_>,
    ) -> Outcome {
        let mut outcome = previous.clone();
        outcome
            .members
            .retain(|a| self.index.position.contains_key(a));
        outcome
            .computed
            .retain(|name, _| self.computed_named(name).is_some());
        outcome
            .dues
            .retain(|key, _| match key.strip_prefix("computed:") {
                Some(name) => self.computed_named(name).is_some(),
                None => self.index.position.contains_key(key),
            });
        let Evaluation { changes, again } = plan;
        for (computed, fact) in &self.computed {
            if !(changes.all || changes.facts.contains(fact)) {
                continue;
            }
            let key = computed_key(&computed.name);
            let (value, next) = computed.value(subject.facts.hits(fact), now);
            match next {
                Some(next) => outcome.dues.insert(key, next),
                None => outcome.dues.remove(&key),
            };
            match value {
                Some(value) => outcome.computed.insert(computed.name.clone(), value),
                None => outcome.computed.remove(&computed.name),
            };
        }
        for ((def, node, _), _) in self.audiences.iter().zip(again).filter(|(_, a)| **a) {
            let (member, next) = eval(node, subject, &outcome, now);
            match next {
                Some(next) => outcome.dues.insert(def.id.clone(), next),
                None => outcome.dues.remove(&def.id),
            };
            if member {
                outcome.members.insert(def.id.clone());
            } else {
                outcome.members.remove(&def.id);
            }
        }
        outcome
    }

    /// Whether evaluating `plan` reads the profile's or its groups' traits (when not, the
    /// caller need not load them).
    pub fn reads_traits(&self, plan: &Evaluation<'_>) -> bool {
        self.audiences
            .iter()
            .zip(&plan.again)
            .any(|((_, _, reads), again)| *again && (reads.traits || reads.groups))
    }

    /// What an evaluation after `changes` (and time) covers: what changed, with the facts of
    /// computed traits whose time came or whose definition changed, and which audiences must
    /// be evaluated again.
    pub fn to_evaluate<'c>(
        &self,
        previous: &Outcome,
        changes: &'c Changes,
        now: i64,
    ) -> Evaluation<'c> {
        let due = |key: &str| previous.dues.get(key).is_some_and(|d| *d <= now);
        // A computed trait whose time came counts as a change of its fact for the audiences.
        let mut changes = std::borrow::Cow::Borrowed(changes);
        for (computed, fact) in &self.computed {
            let key = computed_key(&computed.name);
            if due(&key) || changes.definitions.contains(&key) {
                changes.to_mut().facts.insert(fact.clone());
            }
        }
        let mut again = vec![changes.all; self.audiences.len()];
        if !changes.all {
            let mut mark = |positions: &[usize]| positions.iter().for_each(|&i| again[i] = true);
            for fact in &changes.facts {
                mark(self.index.by_fact.get(fact).map_or(&[], Vec::as_slice));
            }
            if changes.traits {
                mark(&self.index.reading_traits);
            }
            if changes.groups {
                mark(&self.index.reading_groups);
            }
            let named = changes.definitions.iter().map(String::as_str);
            let due = previous.dues.iter().filter(|(_, d)| **d <= now);
            for id in named.chain(due.map(|(key, _)| key.as_str())) {
                if let Some(&i) = self.index.position.get(id) {
                    again[i] = true;
                }
            }
            // Those referring to one evaluated again come later in the order.
            for i in 0..again.len() {
                if again[i] {
                    for &j in &self.index.referred_by[i] {
                        again[j] = true;
                    }
                }
            }
        }
        Evaluation { changes, again }
    }

    fn computed_named(&self, name: &str) -> Option<&(ComputedTrait, String)> {
        self.computed.iter().find(|(c, _)| c.name == name)
    }

    /// Why a profile is or is not in an audience: the rule's conditions as a tree, each with
    /// its outcome and what it saw. `None` for an unknown audience.
    pub fn explain(&self, audience: &str, subject: &Subject<'_>, now: i64) -> Option<Value> {
        let outcome = self.evaluate(subject, now);
        let (def, node, _) = self.audiences.iter().find(|(a, _, _)| a.id == audience)?;
        Some(explain(&def.rule, node, subject, &outcome, now))
    }
}

impl Index {
    fn of(audiences: &[(AudienceDef, Node, Reads)]) -> Index {
        let mut index = Index {
            referred_by: vec![Vec::new(); audiences.len()],
            ..Index::default()
        };
        for (i, (def, _, reads)) in audiences.iter().enumerate() {
            index.position.insert(def.id.clone(), i);
            for fact in &reads.facts {
                index.by_fact.entry(fact.clone()).or_default().push(i);
            }
            if reads.traits {
                index.reading_traits.push(i);
            }
            if reads.groups {
                index.reading_groups.push(i);
            }
            for other in &reads.refers_to {
                if let Some(&j) = index.position.get(other) {
                    index.referred_by[j].push(i);
                }
            }
        }
        index
    }
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Order audiences so that each comes after those it refers to; refuse cycles.
fn dependency_order(audiences: Vec<AudienceDef>) -> Result<Vec<AudienceDef>, CatalogError> {
    let mut pending: BTreeMap<String, AudienceDef> =
        audiences.into_iter().map(|a| (a.id.clone(), a)).collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut ordered = Vec::new();
    while !pending.is_empty() {
        let ready: Vec<String> = pending
            .iter()
            .filter(|(_, a)| a.rule.audiences().iter().all(|r| done.contains(*r)))
            .map(|(id, _)| id.clone())
            .collect();
        if ready.is_empty() {
            return Err(CatalogError::Cycle(find_cycle(&pending)));
        }
        for id in ready {
            ordered.push(pending.remove(&id).expect("pending"));
            done.insert(id);
        }
    }
    Ok(ordered)
}

fn find_cycle(pending: &BTreeMap<String, AudienceDef>) -> Vec<String> {
    let mut path: Vec<String> = Vec::new();
    let mut current = pending.keys().next().cloned().unwrap_or_default();
    loop {
        if let Some(at) = path.iter().position(|p| *p == current) {
            let mut cycle = path.split_off(at);
            cycle.push(current);
            return cycle;
        }
        path.push(current.clone());
        let next = pending[&current]
            .rule
            .audiences()
            .into_iter()
            .find(|r| pending.contains_key(*r))
            .map(str::to_owned);
        match next {
            Some(n) => current = n,
            None => return path,
        }
    }
}

fn eval(node: &Node, subject: &Subject<'_>, done: &Outcome, now: i64) -> (bool, Option<i64>) {
    match node {
        Node::And(nodes) | Node::Or(nodes) => {
            let is_and = matches!(node, Node::And(_));
            let mut next = None;
            let mut result = is_and;
            for n in nodes {
                let (value, change) = eval(n, subject, done, now);
                next = earliest(next, change);
                if is_and {
                    result &= value;
                } else {
                    result |= value;
                }
            }
            (result, next)
        }
        Node::Not(inner) => {
            let (value, next) = eval(inner, subject, done, now);
            (!value, next)
        }
        Node::Trait(path, test) => test_value(test, lookup(subject.traits, path), now),
        Node::GroupTrait(path, test) => {
            let mut next = None;
            let mut any = false;
            for group in subject.groups {
                let (value, change) = test_value(test, lookup(group, path), now);
                any |= value;
                next = earliest(next, change);
            }
            (any, next)
        }
        Node::Computed(name, test) => test_value(test, done.computed.get(name), now),
        Node::Performed {
            fact,
            count,
            window,
        } => {
            let inside = || {
                subject
                    .facts
                    .hits(fact)
                    .iter()
                    .filter(|h| window.contains(h.ts, now))
            };
            let mut times: Vec<i64> = inside().map(|h| h.ts).collect();
            let n = times.len() as u64;
            let holds = count.holds(n);
            let next = departure(window, &mut times, |left| count.holds(n - left) != holds);
            (holds, next)
        }
        Node::First(fact, test) => match subject.facts.hits(fact).first() {
            Some(h) => test_time(test, h.ts, now),
            None => (false, None),
        },
        Node::Last(fact, test) => match subject.facts.hits(fact).last() {
            Some(h) => test_time(test, h.ts, now),
            None => (false, None),
        },
        Node::Sequence {
            steps,
            within,
            window,
        } => {
            let lists: Vec<Vec<&Hit>> = steps
                .iter()
                .map(|f| {
                    subject
                        .facts
                        .hits(f)
                        .iter()
                        .filter(|h| window.contains(h.ts, now))
                        .collect()
                })
                .collect();
            let next = exit_time(window, lists.iter().flatten().map(|h| h.ts));
            (sequence_holds(&lists, *within), next)
        }
        Node::InAudience(id) => (done.members.contains(id), None),
    }
}

/// Whether some chain of hits, one per step, strictly ordered by `(time, log position)`, spans at
/// most `within`. For each start, taking the earliest possible hit at every later step gives
/// the shortest chain from that start.
pub fn sequence_holds(lists: &[Vec<&Hit>], within: i64) -> bool {
    let key = |h: &Hit| (h.ts, h.seq);
    let Some((first, rest)) = lists.split_first() else {
        return false;
    };
    'starts: for start in first {
        let mut previous = key(start);
        for list in rest {
            match list.iter().find(|h| key(h) > previous) {
                Some(h) => previous = key(h),
                None => continue 'starts,
            }
        }
        if previous.0 - start.ts <= within {
            return true;
        }
    }
    false
}

fn explain(rule: &Rule, node: &Node, subject: &Subject<'_>, done: &Outcome, now: i64) -> Value {
    let (result, _) = eval(node, subject, done, now);
    let mut out = json!({
        "condition": super::text::print(rule),
        "result": result,
    });
    let children = match (rule, node) {
        (Rule::And(rules), Node::And(nodes)) | (Rule::Or(rules), Node::Or(nodes)) => rules
            .iter()
            .zip(nodes)
            .map(|(r, n)| explain(r, n, subject, done, now))
            .collect(),
        (Rule::Not(r), Node::Not(n)) => vec![explain(r, n, subject, done, now)],
        _ => Vec::new(),
    };
    let seen = match node {
        Node::Trait(path, _) => lookup(subject.traits, path).cloned(),
        Node::Computed(name, _) => done.computed.get(name).cloned(),
        Node::GroupTrait(path, _) => Some(Value::Array(
            subject
                .groups
                .iter()
                .filter_map(|g| lookup(g, path).cloned())
                .collect(),
        )),
        Node::Performed { fact, window, .. } => Some(Value::from(
            subject
                .facts
                .hits(fact)
                .iter()
                .filter(|h| window.contains(h.ts, now))
                .count(),
        )),
        Node::First(fact, _) => subject.facts.hits(fact).first().map(|h| time_value(h.ts)),
        Node::Last(fact, _) => subject.facts.hits(fact).last().map(|h| time_value(h.ts)),
        _ => None,
    };
    let map = out.as_object_mut().expect("object");
    if let Some(seen) = seen {
        map.insert("seen".into(), seen);
    }
    if !children.is_empty() {
        map.insert("conditions".into(), Value::Array(children));
    }
    out
}

fn time_value(ms: i64) -> Value {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| Value::from(crate::event::rfc3339(t)))
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A windowed count's due time is the first instant time alone changes its result
        /// (found by trying every instant a hit leaves the window), and never one where it
        /// does not change.
        #[test]
        fn a_count_is_due_exactly_when_time_changes_it(
            op in prop::sample::select(vec!["=", "!=", ">", ">=", "<", "<="]),
            value in 0u64..4,
            minutes in 1u32..60,
            times in prop::collection::vec(0i64..120, 0..6),
            now in 0i64..120,
        ) {
            let minute = 60_000;
            let catalog = catalog(&[&format!(r#"performed "E" {op} {value} in last {minutes} minutes"#)]);
            let (_, node, _) = &catalog.audiences[0];
            let Node::Performed { fact, count, window } = node else { panic!("{node:?}") };
            let mut facts = ProfileFacts::default();
            let hits = times.iter().enumerate().map(|(i, t)| Hit { ts: t * minute, id: i as u64, seq: i as u64, value: None });
            facts.facts.insert(fact.clone(), hits.collect());
            let (traits, groups) = (Map::new(), Vec::new());
            let subject = Subject { traits: &traits, groups: &groups, facts: &facts };
            let now = now * minute;
            let result = |at: i64| count.holds(times.iter().filter(|t| window.contains(*t * minute, at)).count() as u64);
            let mut instants: Vec<i64> = times.iter().map(|t| t * minute + i64::from(minutes) * minute).filter(|c| *c > now).collect();
            instants.sort_unstable();
            let expected = instants.into_iter().find(|c| result(*c) != result(now));
            prop_assert_eq!(eval(node, &subject, &Outcome::default(), now), (result(now), expected));
        }
    }

    fn catalog(rules: &[&str]) -> Catalog {
        let audiences = rules
            .iter()
            .enumerate()
            .map(|(i, text)| AudienceDef {
                id: format!("a{i}"),
                rule: super::super::text::parse(text).unwrap(),
            })
            .collect();
        Catalog::new(Vec::new(), audiences).unwrap()
    }

    /// Which facts of `to` a profile built for `from` rebuilds, as the events they match.
    fn rebuilt(
        from: &Catalog,
        to: &mut Catalog,
    ) -> (Vec<Option<String>>, Option<BTreeSet<String>>) {
        to.set_earlier_builds(&[(from.fingerprint().to_owned(), from.fact_reaches())].into());
        let plan = to.rebuild_from(from.fingerprint()).unwrap();
        let events = plan.facts.values().map(|f| f.event.clone()).collect();
        (events, plan.names.clone())
    }

    #[test]
    fn a_profile_built_for_an_earlier_catalog_rebuilds_only_new_or_longer_facts() {
        let hour = catalog(&[r#"performed "A" in last 1 hours"#, r#"performed "B" ever"#]);
        // The same facts, kept for less long or as long: nothing to rebuild.
        let mut shorter = catalog(&[
            r#"performed "A" in last 10 minutes"#,
            r#"performed "B" in last 2 days"#,
        ]);
        assert_eq!(
            rebuilt(&hour, &mut shorter),
            (vec![], Some(BTreeSet::new()))
        );
        // A longer window, or forever, needs the hits the shorter one pruned.
        let mut longer = catalog(&[r#"performed "A" in last 7 days"#, r#"performed "B" ever"#]);
        assert_eq!(
            rebuilt(&hour, &mut longer),
            (vec![Some("A".into())], Some(["A".into()].into()))
        );
        let mut forever = catalog(&[r#"performed "A" ever"#]);
        assert_eq!(rebuilt(&hour, &mut forever).0, vec![Some("A".into())]);
        // A new condition is rebuilt; one on any event needs every event read.
        let mut added = catalog(&[r#"performed "A" in last 1 hours"#, r#"performed "C" ever"#]);
        assert_eq!(
            rebuilt(&hour, &mut added),
            (vec![Some("C".into())], Some(["C".into()].into()))
        );
        // The catalog's own fingerprint is never an earlier build, and unknown ones are
        // rebuilt in full.
        let mut same = catalog(&[r#"performed "A" in last 1 hours"#, r#"performed "B" ever"#]);
        same.set_earlier_builds(&[(hour.fingerprint().to_owned(), hour.fact_reaches())].into());
        assert!(same.rebuild_from(same.fingerprint()).is_none());
        assert!(added.rebuild_from("unknown").is_none());
    }

    /// The event names of the profiles a backfill visits and the audiences whose members it
    /// visits; `None`: all profiles.
    type Scope = Option<(Vec<String>, Vec<String>)>;

    /// The scope of a backfill from `before` (audiences `a0…`) to `after`.
    fn scope(before: &[&str], after: &[&str]) -> Scope {
        let (from, mut to) = (catalog(before), catalog(after));
        to.set_earlier_builds(&[(from.fingerprint().to_owned(), from.fact_reaches())].into());
        let hashes = from.definition_hashes();
        let changed = changed_definitions(&hashes, &to.definition_hashes());
        let scope = to.backfill_scope(&hashes, &changed)?;
        Some((
            scope.names.into_iter().collect(),
            scope.members_of.into_iter().collect(),
        ))
    }

    #[test]
    fn a_backfill_visits_only_the_profiles_a_change_can_affect() {
        let base = r#"trait plan = "pro""#;
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases: &[(&[&str], &[&str], Scope)] = &[
            // A new audience that needs an event: the profiles with such an event.
            (
                &[base],
                &[base, r#"performed "A" >= 2 where x > 1"#],
                Some((names(&["A"]), vec![])),
            ),
            (
                &[base],
                &[base, r#"first performed "A" before "2026-01-01""#],
                Some((names(&["A"]), vec![])),
            ),
            // (Profiles with only `B` events cannot enter, but must keep their new hits.)
            (
                &[base],
                &[base, r#"sequence "A" then "B" within 1 hours"#],
                Some((names(&["A", "B"]), vec![])),
            ),
            // And: one conjunct that needs an event suffices; or: every alternative must.
            (
                &[base],
                &[base, r#"trait plan = "pro" and performed "A""#],
                Some((names(&["A"]), vec![])),
            ),
            (
                &[base],
                &[base, r#"performed "A" or performed "B" in last 2 days"#],
                Some((names(&["A", "B"]), vec![])),
            ),
            (
                &[base],
                &[base, r#"performed "A" or trait plan = "pro""#],
                None,
            ),
            // What can hold without any event: every profile.
            (&[base], &[base, r#"not performed "A""#], None),
            (&[base], &[base, r#"performed "A" < 2"#], None),
            (&[base], &[base, r#"trait plan = "free""#], None),
            // An edited rule: its members too, and what it now needs.
            (
                &[r#"performed "A""#],
                &[r#"performed "A" >= 3"#],
                Some((names(&["A"]), names(&["a0"]))),
            ),
            // A condition the previous catalog had and this one has not: every profile (their
            // memory of it must go).
            (&[r#"performed "A""#], &[r#"performed "B""#], None),
            // A deleted audience: every profile.
            (&[base, r#"performed "A""#], &[base], None),
            // Membership of an audience needs what that audience needs.
            (
                &[r#"performed "A""#],
                &[r#"performed "A""#, r#"in audience "a0""#],
                Some((names(&["A"]), vec![])),
            ),
        ];
        for (before, after, expected) in cases {
            assert_eq!(&scope(before, after), expected, "{before:?} → {after:?}");
        }
    }
}
