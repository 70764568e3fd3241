//! Filters that select items by a property: `where`, `reject`, `has`, `find`,
//! `find_index`, `map`, `compact`, `uniq`, `sum`. They follow Ruby's `item[property]`:
//! hashes by key, strings by substring, integers by bit; nil, booleans and floats have no
//! properties at all.

use std::collections::HashSet;

use super::{arg, FilterEnv, FilterId};
use crate::error::{snippet, Error};
use crate::number::{arith, float_to_i, to_number, Num, Op};
use crate::value::{liquid_eq, Value};

/// The outcome of Ruby's `item[property]`.
enum Prop {
    Found(Value),
    /// Ruby's TypeError: the filter fails.
    TypeError,
    /// The item has no `[]` at all: Shopify's filters then return nil.
    NoProperties,
}

fn fetch(item: &Value, prop: &Value) -> Prop {
    match item {
        Value::Object(o) => Prop::Found(match prop {
            Value::Str(k) => o.get(k.as_ref()).cloned().unwrap_or(Value::Nil),
            _ => Value::Nil,
        }),
        Value::Str(s) => match prop {
            Value::Str(p) => Prop::Found(if s.contains(p.as_ref()) {
                prop.clone()
            } else {
                Value::Nil
            }),
            Value::Int(_) | Value::Float(_) => {
                let i = match prop {
                    Value::Int(i) => *i,
                    Value::Float(f) => float_to_i(*f),
                    _ => 0,
                };
                let chars: Vec<char> = s.chars().collect();
                let idx = if i < 0 { chars.len() as i64 + i } else { i };
                Prop::Found(
                    usize::try_from(idx)
                        .ok()
                        .and_then(|x| chars.get(x))
                        .map_or(Value::Nil, |c| Value::string(c.to_string())),
                )
            }
            _ => Prop::TypeError,
        },
        Value::Int(n) => match prop {
            Value::Int(bit) => Prop::Found(Value::Int(if (0..64).contains(bit) {
                (n >> bit) & 1
            } else {
                i64::from(*n < 0 && *bit >= 64)
            })),
            _ => Prop::TypeError,
        },
        Value::Array(_) => match prop {
            Value::Int(i) => Prop::Found(item.get_index(*i).unwrap_or(Value::Nil)),
            _ => Prop::TypeError,
        },
        _ => Prop::NoProperties,
    }
}

fn property_error(prop: &Value) -> Error {
    Error::filter(format!(
        "cannot select the property '{}'",
        snippet(&prop.to_str())
    ))
}

pub(super) fn filter_array(
    id: FilterId,
    input: &Value,
    args: &[Value],
    env: &mut FilterEnv,
) -> Result<Value, Error> {
    let prop = arg(args, 0);
    let target = arg(args, 1);
    let items = env.items(input)?;
    let default = match id {
        FilterId::Where | FilterId::Reject => Value::array(Vec::new()),
        FilterId::Has => Value::Bool(false),
        _ => Value::Nil,
    };
    if items.is_empty() || prop.is_nil() {
        return Ok(default);
    }
    let mut kept = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let matched = match fetch(item, prop) {
            Prop::Found(v) if target.is_nil() => v.is_truthy(),
            Prop::Found(v) => liquid_eq(&v, target),
            Prop::TypeError => return Err(property_error(prop)),
            Prop::NoProperties => return Ok(Value::Nil),
        };
        match id {
            FilterId::Has if matched => return Ok(Value::Bool(true)),
            FilterId::Find if matched => return Ok(item.clone()),
            FilterId::FindIndex if matched => return Ok(Value::Int(i as i64)),
            FilterId::Where if matched => kept.push(item.clone()),
            FilterId::Reject if !matched => kept.push(item.clone()),
            _ => {}
        }
    }
    match id {
        FilterId::Where | FilterId::Reject => env.array(kept),
        _ => Ok(default),
    }
}

pub(super) fn by_property(
    id: FilterId,
    input: &Value,
    args: &[Value],
    env: &mut FilterEnv,
) -> Result<Value, Error> {
    let prop = args.first().filter(|p| !p.is_nil());
    let items = env.items(input)?;
    match id {
        FilterId::Map => {
            let prop = arg(args, 0);
            let mut out = Vec::with_capacity(items.len());
            for item in &items {
                out.push(match fetch(item, prop) {
                    Prop::Found(v) => v,
                    Prop::TypeError => return Err(property_error(prop)),
                    Prop::NoProperties => Value::Nil,
                });
            }
            env.array(out)
        }
        FilterId::Sum => sum(&items, prop, env),
        FilterId::Compact | FilterId::Uniq => {
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            for item in items {
                let key = match prop {
                    None => item.clone(),
                    Some(p) => match fetch(&item, p) {
                        Prop::Found(v) => v,
                        Prop::TypeError => return Err(property_error(p)),
                        Prop::NoProperties => return Ok(Value::Nil),
                    },
                };
                let keep = if id == FilterId::Compact {
                    !key.is_nil()
                } else {
                    let mut k = String::new();
                    key.inspect_into(&mut k);
                    seen.insert(k)
                };
                if keep {
                    out.push(item);
                }
            }
            env.array(out)
        }
        _ => Ok(input.clone()),
    }
}

fn sum(items: &[Value], prop: Option<&Value>, env: &mut FilterEnv) -> Result<Value, Error> {
    let mut values = Vec::with_capacity(items.len());
    for item in items {
        values.push(match prop {
            None => item.clone(),
            Some(p) => match fetch(item, p) {
                Prop::Found(v) => v,
                Prop::TypeError => return Err(property_error(p)),
                Prop::NoProperties => Value::Int(0),
            },
        });
    }
    let flat = env.items(&Value::array(values))?;
    let mut total = Num::Int(0);
    for v in &flat {
        total = arith(total, to_number(v), Op::Add).map_err(Error::filter)?;
    }
    Ok(total.into_value())
}
