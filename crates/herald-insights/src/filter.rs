//! Event filters compiled against the index's dictionaries: a name test is a lookup in a
//! table over name codes, a property test compares value codes (or a table over them for
//! `contains`, or the value's number for `gt`/`lt`).

use serde_json::Value;

use crate::index::{decimal, scalar_text, EvRef, Index};
use crate::{EventFilter, FilterOp, QueryError};

#[derive(Debug)]
enum Test {
    /// The value code wanted (`None`: a value the index never saw).
    Eq(Option<u32>),
    Neq(Option<u32>),
    Contains(Vec<bool>),
    Gt(f64),
    Lt(f64),
    IsSet,
    IsNotSet,
}

#[derive(Debug)]
struct PropertyTest {
    /// `None`: a key the index never saw (no event has it).
    key: Option<u32>,
    test: Test,
}

/// A compiled [`EventFilter`].
#[derive(Debug)]
pub(crate) struct Matcher {
    names: Vec<bool>,
    properties: Vec<PropertyTest>,
}

fn scalar(value: &Option<Value>, key: &str, op: &str) -> Result<String, QueryError> {
    value.as_ref().and_then(scalar_text).ok_or_else(|| {
        QueryError::InvalidFilter(format!(
            "property filter {key:?} {op}: `value` must be a string, number or boolean"
        ))
    })
}

fn number(value: &Option<Value>, key: &str, op: &str) -> Result<f64, QueryError> {
    let n = value.as_ref().and_then(scalar_text).map(|t| decimal(&t));
    match n {
        Some(n) if !n.is_nan() => Ok(n),
        _ => Err(QueryError::InvalidFilter(format!(
            "property filter {key:?} {op}: `value` must be a number"
        ))),
    }
}

impl Matcher {
    pub(crate) fn compile(
        index: &Index,
        filter: Option<&EventFilter>,
    ) -> Result<Matcher, QueryError> {
        let any = EventFilter::default();
        let filter = filter.unwrap_or(&any);
        let names = (0..index.names.len() as u32)
            .map(|code| {
                filter
                    .name
                    .as_deref()
                    .is_none_or(|n| index.name_text(code) == n)
                    && filter
                        .kind
                        .is_none_or(|k| index.name_kind[code as usize] == k)
            })
            .collect();
        let mut properties = Vec::with_capacity(filter.properties.len());
        for p in &filter.properties {
            let key = index.keys.get(&p.key);
            let test = match p.op {
                FilterOp::Eq => Test::Eq(index.values.get(&scalar(&p.value, &p.key, "eq")?)),
                FilterOp::Neq => Test::Neq(index.values.get(&scalar(&p.value, &p.key, "neq")?)),
                FilterOp::Contains => {
                    let Some(Value::String(needle)) = &p.value else {
                        return Err(QueryError::InvalidFilter(format!(
                            "property filter {:?} contains: `value` must be a string",
                            p.key
                        )));
                    };
                    Test::Contains(
                        index
                            .values
                            .texts()
                            .map(|t| t.contains(needle.as_str()))
                            .collect(),
                    )
                }
                FilterOp::Gt => Test::Gt(number(&p.value, &p.key, "gt")?),
                FilterOp::Lt => Test::Lt(number(&p.value, &p.key, "lt")?),
                FilterOp::IsSet | FilterOp::IsNotSet => {
                    if p.value.as_ref().is_some_and(|v| !v.is_null()) {
                        return Err(QueryError::InvalidFilter(format!(
                            "property filter {:?} {:?}: takes no `value`",
                            p.key, p.op
                        )));
                    }
                    if p.op == FilterOp::IsSet {
                        Test::IsSet
                    } else {
                        Test::IsNotSet
                    }
                }
            };
            properties.push(PropertyTest { key, test });
        }
        Ok(Matcher { names, properties })
    }

    /// Whether events of this name code pass the name and type tests.
    pub(crate) fn name_matches(&self, code: u32) -> bool {
        self.names[code as usize]
    }

    pub(crate) fn has_properties(&self) -> bool {
        !self.properties.is_empty()
    }

    #[inline]
    pub(crate) fn matches(&self, index: &Index, r: EvRef) -> bool {
        self.names[index.name(r) as usize] && self.properties_match(index, r)
    }

    /// The property tests alone.
    #[inline]
    pub(crate) fn properties_match(&self, index: &Index, r: EvRef) -> bool {
        self.properties.iter().all(|p| {
            let v = p.key.and_then(|k| index.prop(r, k));
            match &p.test {
                Test::Eq(want) => v.is_some() && v == *want,
                Test::Neq(want) => !(v.is_some() && v == *want),
                Test::Contains(table) => v.is_some_and(|v| table[v as usize]),
                Test::Gt(x) => v.is_some_and(|v| index.value_num[v as usize] > *x),
                Test::Lt(x) => v.is_some_and(|v| index.value_num[v as usize] < *x),
                Test::IsSet => v.is_some(),
                Test::IsNotSet => v.is_none(),
            }
        })
    }
}

/// Persons in an audience (its members now), as a table over dense person ids; members the
/// index has never seen have no events and are left out.
pub(crate) fn audience(
    index: &Index,
    ctx: &crate::Context,
    id: &str,
) -> Result<Vec<bool>, QueryError> {
    let members = ctx
        .audiences
        .get(id)
        .ok_or_else(|| QueryError::UnknownAudience(id.to_owned()))?;
    let mut table = vec![false; index.person_count()];
    for m in members {
        if let Some(p) = index.person_of(m) {
            table[p as usize] = true;
        }
    }
    Ok(table)
}

pub(crate) fn optional_audience(
    index: &Index,
    ctx: &crate::Context,
    id: Option<&String>,
) -> Result<Option<Vec<bool>>, QueryError> {
    id.map(|id| audience(index, ctx, id)).transpose()
}
