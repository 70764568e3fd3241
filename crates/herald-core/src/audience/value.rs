//! Tests of one JSON value, shared by traits, computed traits and event properties.
//!
//! Semantics: numbers compare numerically (`1 = 1.0`), strings compare as strings, and a
//! comparison between different types is false. `!=` and `not in` are true when the value is
//! missing. Time tests read the value as an RFC 3339 string or a `YYYY-MM-DD` date and are false
//! for anything else. A missing value and `null` both fail `exists`.

use std::cmp::Ordering;

use serde_json::Value;

use super::rule::{parse_time, Test};

/// The outcome of `test` on `value` at `now` (Unix ms), and the earliest later instant at
/// which the outcome can change with time alone (relative time tests only).
pub fn test_value(test: &Test, value: Option<&Value>, now: i64) -> (bool, Option<i64>) {
    let present = value.filter(|v| !v.is_null());
    let outcome = match test {
        Test::Eq(x) => present.is_some_and(|v| same(v, x)),
        Test::Neq(x) => !present.is_some_and(|v| same(v, x)),
        Test::In(xs) => present.is_some_and(|v| xs.iter().any(|x| same(v, x))),
        Test::NotIn(xs) => !present.is_some_and(|v| xs.iter().any(|x| same(v, x))),
        Test::Gt(x) => order(present, x).is_some_and(Ordering::is_gt),
        Test::Gte(x) => order(present, x).is_some_and(Ordering::is_ge),
        Test::Lt(x) => order(present, x).is_some_and(Ordering::is_lt),
        Test::Lte(x) => order(present, x).is_some_and(Ordering::is_le),
        Test::Between(low, high) => {
            order(present, low).is_some_and(Ordering::is_ge)
                && order(present, high).is_some_and(Ordering::is_le)
        }
        Test::Contains(s) => match present {
            Some(Value::String(v)) => v.contains(s.as_str()),
            Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(s)),
            _ => false,
        },
        Test::StartsWith(s) => present
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with(s.as_str())),
        Test::Exists => present.is_some(),
        Test::NotExists => present.is_none(),
        Test::Before(_) | Test::After(_) | Test::MoreThanAgo(_) | Test::LessThanAgo(_) => {
            return match present.and_then(Value::as_str).and_then(parse_time) {
                Some(t) => test_time(test, t.timestamp_millis(), now),
                None => (false, None),
            };
        }
    };
    (outcome, None)
}

/// A time test on the instant `t` (Unix ms) at `now`, with the instant it next changes.
pub fn test_time(test: &Test, t: i64, now: i64) -> (bool, Option<i64>) {
    match test {
        Test::Before(x) => (t < x.millis(), None),
        Test::After(x) => (t > x.millis(), None),
        Test::MoreThanAgo(span) => {
            let from = t.saturating_add(span.millis());
            if now >= from {
                (true, None)
            } else {
                (false, Some(from))
            }
        }
        Test::LessThanAgo(span) => {
            let until = t.saturating_add(span.millis());
            if now < until {
                (true, Some(until))
            } else {
                (false, None)
            }
        }
        _ => (false, None),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
        _ => a == b,
    }
}

fn order(a: Option<&Value>, b: &Value) -> Option<Ordering> {
    match (a?, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
        (Value::String(x), Value::String(y)) => Some(x.as_str().cmp(y.as_str())),
        _ => None,
    }
}

/// Numbers compare by their exact values: two integers as integers (64-bit ids past 2^53 are
/// not equal because their nearest doubles are), an integer and a fraction exactly too.
fn compare_numbers(x: &serde_json::Number, y: &serde_json::Number) -> Option<Ordering> {
    let int = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(x), int(y)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        (Some(a), None) => compare_int_float(a, y.as_f64()?),
        (None, Some(b)) => compare_int_float(b, x.as_f64()?).map(Ordering::reverse),
        (None, None) => x.as_f64()?.partial_cmp(&y.as_f64()?),
    }
}

fn compare_int_float(a: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // Every i64 and u64 lies strictly inside ±2^127.
    if f >= 2f64.powi(127) {
        return Some(Ordering::Less);
    }
    if f < -(2f64.powi(127)) {
        return Some(Ordering::Greater);
    }
    let whole = f.floor();
    Some(a.cmp(&(whole as i128)).then(if f > whole {
        Ordering::Less
    } else {
        Ordering::Equal
    }))
}

/// A number as JSON: integral values that fit exactly are written as integers.
pub fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}
