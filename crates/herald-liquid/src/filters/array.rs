//! Array filters: `concat`, `first`, `last`, `join`, `reverse`, `sort`, `sort_natural`.

use std::cmp::Ordering;

use super::{arg, FilterEnv, FilterId};
use crate::error::Error;
use crate::number::{to_number, Num};
use crate::value::Value;

pub(super) fn apply(
    id: FilterId,
    input: &Value,
    args: &[Value],
    env: &mut FilterEnv,
) -> Result<Value, Error> {
    match id {
        FilterId::First | FilterId::Last => Ok(first_last(id == FilterId::First, input)),
        FilterId::Concat => {
            let Value::Array(more) = arg(args, 0) else {
                return Err(Error::filter("concat filter requires an array argument"));
            };
            let mut items = env.items(input)?;
            items.extend(more.iter().cloned());
            env.array(items)
        }
        FilterId::Join => {
            let glue = match args.first() {
                Some(g) => g.to_str().into_owned(),
                None => " ".to_string(),
            };
            let mut out = String::new();
            for (i, item) in env.items(input)?.iter().enumerate() {
                if i > 0 {
                    out.push_str(&glue);
                }
                out.push_str(&item.to_str());
                env.check_len(out.len())?;
            }
            Ok(Value::string(out))
        }
        FilterId::Reverse => {
            let mut items = env.items(input)?;
            items.reverse();
            Ok(Value::array(items))
        }
        _ => sort(id == FilterId::SortNatural, input, args.first(), env),
    }
}

fn first_last(first: bool, input: &Value) -> Value {
    match input {
        Value::Array(a) => if first { a.first() } else { a.last() }
            .cloned()
            .unwrap_or(Value::Nil),
        Value::Str(s) => {
            let c = if first {
                s.chars().next()
            } else {
                s.chars().next_back()
            };
            Value::string(c.map(String::from).unwrap_or_default())
        }
        Value::Object(o) if first => o.first().map_or(Value::Nil, |(k, v)| {
            Value::array(vec![Value::str(k), v.clone()])
        }),
        Value::Range(a, b) if a <= b => Value::Int(if first { *a } else { *b }),
        _ => Value::Nil,
    }
}

/// Which values `sort` can order against each other.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Class {
    Number,
    Text,
    Other,
}

fn class(v: &Value) -> Option<Class> {
    match v {
        Value::Nil => None,
        Value::Int(_) | Value::Float(_) => Some(Class::Number),
        Value::Str(_) => Some(Class::Text),
        _ => Some(Class::Other),
    }
}

fn sort_key(item: &Value, prop: Option<&Value>) -> Result<Value, Error> {
    let Some(p) = prop else {
        return Ok(item.clone());
    };
    Ok(match (item, p) {
        (Value::Object(o), Value::Str(k)) => o.get(k.as_ref()).cloned().unwrap_or(Value::Nil),
        (Value::Object(_), _) => Value::Nil,
        _ => {
            return Err(Error::filter(format!(
                "cannot select the property '{}'",
                p.to_str()
            )))
        }
    })
}

fn sort(
    natural: bool,
    input: &Value,
    prop: Option<&Value>,
    env: &mut FilterEnv,
) -> Result<Value, Error> {
    let prop = prop.filter(|p| !p.is_nil());
    let items = env.items(input)?;
    if prop.is_some()
        && items
            .iter()
            .any(|i| matches!(i, Value::Nil | Value::Bool(_) | Value::Float(_)))
    {
        return Ok(Value::Nil);
    }
    let mut keyed = Vec::with_capacity(items.len());
    for item in items {
        keyed.push((sort_key(&item, prop)?, item));
    }
    if natural {
        let lower = |v: &Value| v.to_str().to_ascii_lowercase();
        let mut pre: Vec<(Option<String>, Value)> = keyed
            .into_iter()
            .map(|(k, v)| ((!k.is_nil()).then(|| lower(&k)), v))
            .collect();
        pre.sort_by(|(a, _), (b, _)| match (a, b) {
            (Some(x), Some(y)) => x.cmp(y),
            (None, None) => Ordering::Equal,
            (None, _) => Ordering::Greater,
            (_, None) => Ordering::Less,
        });
        return Ok(Value::array(pre.into_iter().map(|(_, v)| v).collect()));
    }
    let mut classes = keyed.iter().filter_map(|(k, _)| class(k));
    if let Some(first) = classes.next() {
        let others = keyed
            .iter()
            .filter(|(k, _)| class(k) == Some(Class::Other))
            .count();
        if classes.any(|c| c != first) || (first == Class::Other && others > 1) {
            return Err(Error::filter("cannot sort values of incompatible types"));
        }
    }
    keyed.sort_by(|(a, _), (b, _)| match (a, b) {
        (Value::Nil, Value::Nil) => Ordering::Equal,
        (Value::Nil, _) => Ordering::Greater,
        (_, Value::Nil) => Ordering::Less,
        (Value::Str(x), Value::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (x, y) => match (to_number(x), to_number(y)) {
            (Num::Int(i), Num::Int(j)) => i.cmp(&j),
            (m, n) => m.as_f64().total_cmp(&n.as_f64()),
        },
    });
    Ok(Value::array(keyed.into_iter().map(|(_, v)| v).collect()))
}
