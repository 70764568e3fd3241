//! The standard filters: a table of names and arities (checked when the template is
//! parsed), and one function per filter, split by family.

mod array;
mod encode;
mod json;
mod math;
mod property;
mod string;

use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorKind};
use crate::expr::Expr;
use crate::value::{range_len, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FilterId {
    Abs,
    Append,
    AtLeast,
    AtMost,
    Base64Decode,
    Base64Encode,
    Base64UrlSafeDecode,
    Base64UrlSafeEncode,
    Capitalize,
    Ceil,
    Compact,
    Concat,
    Date,
    Default,
    DividedBy,
    Downcase,
    Escape,
    EscapeOnce,
    Find,
    FindIndex,
    First,
    Floor,
    Has,
    Join,
    Json,
    Last,
    Lstrip,
    Map,
    Minus,
    Modulo,
    NewlineToBr,
    Plus,
    Prepend,
    Reject,
    Remove,
    RemoveFirst,
    RemoveLast,
    Replace,
    ReplaceFirst,
    ReplaceLast,
    Reverse,
    Round,
    Rstrip,
    Size,
    Slice,
    Sort,
    SortNatural,
    Split,
    Strip,
    StripHtml,
    StripNewlines,
    Sum,
    Times,
    Truncate,
    Truncatewords,
    Uniq,
    Upcase,
    UrlDecode,
    UrlEncode,
    Where,
}

use FilterId as F;

/// Name, id, fewest and most positional arguments.
const TABLE: &[(&str, FilterId, usize, usize)] = &[
    ("abs", F::Abs, 0, 0),
    ("append", F::Append, 1, 1),
    ("at_least", F::AtLeast, 1, 1),
    ("at_most", F::AtMost, 1, 1),
    ("base64_decode", F::Base64Decode, 0, 0),
    ("base64_encode", F::Base64Encode, 0, 0),
    ("base64_url_safe_decode", F::Base64UrlSafeDecode, 0, 0),
    ("base64_url_safe_encode", F::Base64UrlSafeEncode, 0, 0),
    ("capitalize", F::Capitalize, 0, 0),
    ("ceil", F::Ceil, 0, 0),
    ("compact", F::Compact, 0, 1),
    ("concat", F::Concat, 1, 1),
    ("date", F::Date, 1, 1),
    ("default", F::Default, 0, 1),
    ("divided_by", F::DividedBy, 1, 1),
    ("downcase", F::Downcase, 0, 0),
    ("escape", F::Escape, 0, 0),
    ("h", F::Escape, 0, 0),
    ("escape_once", F::EscapeOnce, 0, 0),
    ("find", F::Find, 1, 2),
    ("find_index", F::FindIndex, 1, 2),
    ("first", F::First, 0, 0),
    ("floor", F::Floor, 0, 0),
    ("has", F::Has, 1, 2),
    ("join", F::Join, 0, 1),
    ("json", F::Json, 0, 0),
    ("last", F::Last, 0, 0),
    ("lstrip", F::Lstrip, 0, 0),
    ("map", F::Map, 1, 1),
    ("minus", F::Minus, 1, 1),
    ("modulo", F::Modulo, 1, 1),
    ("newline_to_br", F::NewlineToBr, 0, 0),
    ("plus", F::Plus, 1, 1),
    ("prepend", F::Prepend, 1, 1),
    ("reject", F::Reject, 1, 2),
    ("remove", F::Remove, 1, 1),
    ("remove_first", F::RemoveFirst, 1, 1),
    ("remove_last", F::RemoveLast, 1, 1),
    ("replace", F::Replace, 1, 2),
    ("replace_first", F::ReplaceFirst, 1, 2),
    ("replace_last", F::ReplaceLast, 2, 2),
    ("reverse", F::Reverse, 0, 0),
    ("round", F::Round, 0, 1),
    ("rstrip", F::Rstrip, 0, 0),
    ("size", F::Size, 0, 0),
    ("slice", F::Slice, 1, 2),
    ("sort", F::Sort, 0, 1),
    ("sort_natural", F::SortNatural, 0, 1),
    ("split", F::Split, 1, 1),
    ("strip", F::Strip, 0, 0),
    ("strip_html", F::StripHtml, 0, 0),
    ("strip_newlines", F::StripNewlines, 0, 0),
    ("sum", F::Sum, 0, 1),
    ("times", F::Times, 1, 1),
    ("truncate", F::Truncate, 0, 2),
    ("truncatewords", F::Truncatewords, 0, 2),
    ("uniq", F::Uniq, 0, 1),
    ("upcase", F::Upcase, 0, 0),
    ("url_decode", F::UrlDecode, 0, 0),
    ("url_encode", F::UrlEncode, 0, 0),
    ("where", F::Where, 1, 2),
];

/// The names of every filter, for docs and tests.
pub fn filter_names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(n, ..)| *n)
}

/// Checks a call at parse time: known name, argument count, keyword names.
pub(crate) fn check_call(
    name: &str,
    positional: usize,
    kwargs: &[(String, Expr)],
    strict_filters: bool,
) -> Result<Option<FilterId>, Error> {
    let Some(&(_, id, min, max)) = TABLE.iter().find(|(n, ..)| *n == name) else {
        if strict_filters {
            return Err(Error::new(
                ErrorKind::UnknownFilter,
                format!("unknown filter '{name}'"),
            ));
        }
        return Ok(None);
    };
    if positional < min || positional > max {
        let want = if min == max {
            format!("{min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(Error::filter(format!(
            "'{name}' takes {want} argument(s), got {positional}"
        )));
    }
    for (k, _) in kwargs {
        if !(id == F::Default && k == "allow_false") {
            return Err(Error::filter(format!(
                "'{name}' has no keyword argument '{k}'"
            )));
        }
    }
    Ok(Some(id))
}

/// What a filter may need from the render: the clock value and the resource budget.
pub(crate) struct FilterEnv<'a> {
    pub now: DateTime<Utc>,
    pub max_bytes: usize,
    /// Loop iterations left; materialising a range spends one per element.
    pub loops_left: &'a mut u64,
}

impl FilterEnv<'_> {
    pub fn check_len(&self, n: usize) -> Result<(), Error> {
        if n > self.max_bytes {
            return Err(Error::new(
                ErrorKind::OutputLimit,
                format!(
                    "a value grew past the output limit of {} bytes",
                    self.max_bytes
                ),
            ));
        }
        Ok(())
    }

    pub fn spend(&mut self, n: u64) -> Result<(), Error> {
        if n > *self.loops_left {
            return Err(Error::new(
                ErrorKind::LoopLimit,
                "loop iteration limit reached",
            ));
        }
        *self.loops_left -= n;
        Ok(())
    }

    /// Shopify's `InputIterator`: arrays flattened, ranges expanded, a hash or scalar as a
    /// one-item list, nil as an empty one.
    pub fn items(&mut self, v: &Value) -> Result<Vec<Value>, Error> {
        let mut out = Vec::new();
        match v {
            Value::Nil | Value::Empty | Value::Blank => {}
            Value::Array(a) => flatten_into(a, &mut out, self)?,
            Value::Range(a, b) => {
                let n = range_len(*a, *b);
                self.spend(n)?;
                out.extend((*a..=*b).map(Value::Int));
            }
            other => out.push(other.clone()),
        }
        Ok(out)
    }

    pub fn array(&self, items: Vec<Value>) -> Result<Value, Error> {
        self.check_len(items.len())?;
        Ok(Value::array(items))
    }

    pub fn string(&self, s: String) -> Result<Value, Error> {
        self.check_len(s.len())?;
        Ok(Value::string(s))
    }
}

fn flatten_into(a: &[Value], out: &mut Vec<Value>, env: &mut FilterEnv) -> Result<(), Error> {
    for v in a {
        match v {
            Value::Array(inner) => flatten_into(inner, out, env)?,
            other => out.push(other.clone()),
        }
    }
    env.check_len(out.len())
}

pub(crate) fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

pub(crate) fn apply(
    id: FilterId,
    input: Value,
    args: &[Value],
    kwargs: &[(String, Value)],
    env: &mut FilterEnv,
) -> Result<Value, Error> {
    match id {
        F::Abs | F::AtLeast | F::AtMost | F::Ceil | F::Floor | F::Round => {
            math::rounding(id, &input, args)
        }
        F::DividedBy | F::Minus | F::Modulo | F::Plus | F::Times => {
            math::arithmetic(id, &input, args)
        }
        F::Default => Ok(default(input, args, kwargs)),
        F::Json => json::apply(&input, env),
        F::Date => crate::datetime::date_filter(input, arg(args, 0), env.now),
        F::Append
        | F::Prepend
        | F::Capitalize
        | F::Downcase
        | F::Upcase
        | F::Lstrip
        | F::Rstrip
        | F::Strip
        | F::NewlineToBr
        | F::StripNewlines
        | F::Truncate
        | F::Truncatewords
        | F::Split => string::apply(id, &input, args, env),
        F::Remove
        | F::RemoveFirst
        | F::RemoveLast
        | F::Replace
        | F::ReplaceFirst
        | F::ReplaceLast => string::replace(id, &input, args, env),
        F::Slice | F::Size => string::slice_or_size(id, &input, args, env),
        F::Escape
        | F::EscapeOnce
        | F::StripHtml
        | F::UrlDecode
        | F::UrlEncode
        | F::Base64Decode
        | F::Base64Encode
        | F::Base64UrlSafeDecode
        | F::Base64UrlSafeEncode => encode::apply(id, &input, env),
        F::Where | F::Reject | F::Has | F::Find | F::FindIndex => {
            property::filter_array(id, &input, args, env)
        }
        F::Compact | F::Map | F::Sum | F::Uniq => property::by_property(id, &input, args, env),
        F::Concat | F::First | F::Last | F::Join | F::Reverse | F::Sort | F::SortNatural => {
            array::apply(id, &input, args, env)
        }
    }
}

/// `default`: the argument when the input is nil, false or empty (`allow_false: true`
/// keeps `false`).
fn default(input: Value, args: &[Value], kwargs: &[(String, Value)]) -> Value {
    let allow_false = kwargs
        .iter()
        .any(|(k, v)| k == "allow_false" && v.is_truthy());
    let falsy = if allow_false {
        input.is_nil()
    } else {
        !input.is_truthy()
    };
    let empty = matches!(
        &input,
        Value::Str(_) | Value::Array(_) | Value::Object(_) | Value::Empty
    ) && input.is_empty_value();
    if falsy || empty {
        args.first().cloned().unwrap_or_else(|| Value::str(""))
    } else {
        input
    }
}
