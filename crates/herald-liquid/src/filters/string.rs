//! String filters. Inputs and arguments are coerced with Ruby's `to_s` (nil is `""`).

use super::{arg, FilterEnv, FilterId};
use crate::error::{snippet, Error};
use crate::lexer::is_ws;
use crate::number::to_integer;
use crate::value::{range_len, Value};

pub(super) fn apply(
    id: FilterId,
    input: &Value,
    args: &[Value],
    env: &FilterEnv,
) -> Result<Value, Error> {
    let s = input.to_str();
    let out = match id {
        FilterId::Append | FilterId::Prepend => {
            let a = arg(args, 0).to_str();
            env.check_len(s.len() + a.len())?;
            if id == FilterId::Append {
                format!("{s}{a}")
            } else {
                format!("{a}{s}")
            }
        }
        FilterId::Capitalize => {
            let mut chars = s.chars();
            match chars.next() {
                Some(c) => c
                    .to_uppercase()
                    .chain(chars.as_str().to_lowercase().chars())
                    .collect(),
                None => String::new(),
            }
        }
        FilterId::Downcase => s.to_lowercase(),
        FilterId::Upcase => s.to_uppercase(),
        FilterId::Lstrip => s.trim_start_matches(is_ws).to_string(),
        FilterId::Rstrip => s.trim_end_matches(is_ws).to_string(),
        FilterId::Strip => s.trim_matches(is_ws).to_string(),
        FilterId::NewlineToBr => {
            env.check_len(s.len() + s.matches('\n').count() * 6)?;
            s.replace("\r\n", "\n").replace('\n', "<br />\n")
        }
        FilterId::StripNewlines => s.replace("\r\n", "").replace('\n', ""),
        FilterId::Truncate => return truncate(input, &s, args, env),
        FilterId::Truncatewords => return truncatewords(input, &s, args, env),
        _ => return split(&s, &arg(args, 0).to_str(), env),
    };
    env.string(out)
}

fn length_arg(args: &[Value], i: usize, default: i64) -> Result<i64, Error> {
    match args.get(i) {
        None => Ok(default),
        Some(v) => to_integer(v)
            .ok_or_else(|| Error::filter(format!("invalid integer '{}'", snippet(&v.to_str())))),
    }
}

fn truncate(input: &Value, s: &str, args: &[Value], env: &FilterEnv) -> Result<Value, Error> {
    if input.is_nil() {
        return Ok(Value::Nil);
    }
    let length = length_arg(args, 0, 50)?;
    let ellipsis = match args.get(1) {
        Some(v) => v.to_str().into_owned(),
        None => "...".to_string(),
    };
    let n_chars = s.chars().count() as i64;
    if n_chars <= length {
        return Ok(Value::str(s));
    }
    let keep = (length - ellipsis.chars().count() as i64).max(0);
    let mut out: String = s.chars().take(keep as usize).collect();
    out.push_str(&ellipsis);
    env.string(out)
}

fn truncatewords(input: &Value, s: &str, args: &[Value], env: &FilterEnv) -> Result<Value, Error> {
    if input.is_nil() {
        return Ok(Value::Nil);
    }
    let words = length_arg(args, 0, 15)?.max(1);
    let ellipsis = match args.get(1) {
        Some(v) => v.to_str().into_owned(),
        None => "...".to_string(),
    };
    let list: Vec<&str> = s.split(is_ws).filter(|w| !w.is_empty()).collect();
    if list.len() as i64 <= words {
        return Ok(Value::str(s));
    }
    let mut out = list[..words as usize].join(" ");
    out.push_str(&ellipsis);
    env.string(out)
}

/// Ruby's `String#split` with a string pattern: `" "` splits on whitespace runs, `""` into
/// characters, and trailing empty fields are dropped.
fn split(s: &str, pattern: &str, env: &FilterEnv) -> Result<Value, Error> {
    let mut parts: Vec<Value> = if s.is_empty() {
        Vec::new()
    } else if pattern == " " {
        s.split(is_ws)
            .filter(|w| !w.is_empty())
            .map(Value::str)
            .collect()
    } else if pattern.is_empty() {
        s.chars().map(|c| Value::string(c.to_string())).collect()
    } else {
        s.split(pattern).map(Value::str).collect()
    };
    while matches!(parts.last(), Some(Value::Str(p)) if p.is_empty()) {
        parts.pop();
    }
    env.array(parts)
}

pub(super) fn replace(
    id: FilterId,
    input: &Value,
    args: &[Value],
    env: &FilterEnv,
) -> Result<Value, Error> {
    let s = input.to_str();
    let pat = arg(args, 0).to_str();
    let rep = match id {
        FilterId::Replace | FilterId::ReplaceFirst | FilterId::ReplaceLast => arg(args, 1).to_str(),
        _ => "".into(),
    };
    let out = match id {
        FilterId::Replace | FilterId::Remove => {
            let count = s.matches(pat.as_ref()).count();
            let grow = count.saturating_mul(rep.len());
            env.check_len(s.len().saturating_add(grow))?;
            s.replace(pat.as_ref(), &rep)
        }
        FilterId::ReplaceFirst | FilterId::RemoveFirst => {
            env.check_len(s.len() + rep.len())?;
            s.replacen(pat.as_ref(), &rep, 1)
        }
        _ => match s.rfind(pat.as_ref()) {
            Some(at) => {
                env.check_len(s.len() + rep.len())?;
                format!("{}{}{}", &s[..at], rep, &s[at + pat.len()..])
            }
            None => s.into_owned(),
        },
    };
    env.string(out)
}

/// Ruby's `slice(offset, length)` on a sequence of `len` items: the index range, if any.
fn slice_bounds(len: i64, offset: i64, length: i64) -> Option<(usize, usize)> {
    let start = if offset < 0 {
        offset.checked_add(len)?
    } else {
        offset
    };
    if start < 0 || start > len || length < 0 {
        return None;
    }
    let end = start.saturating_add(length).min(len);
    Some((start as usize, end as usize))
}

pub(super) fn slice_or_size(
    id: FilterId,
    input: &Value,
    args: &[Value],
    env: &mut FilterEnv,
) -> Result<Value, Error> {
    if id == FilterId::Size {
        let n = match input {
            Value::Str(s) => s.chars().count(),
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            Value::Range(a, b) => range_len(*a, *b) as usize,
            _ => 0,
        };
        return Ok(Value::Int(n as i64));
    }
    let offset = to_integer(arg(args, 0)).ok_or_else(|| {
        Error::filter(format!(
            "invalid offset '{}'",
            snippet(&arg(args, 0).to_str())
        ))
    })?;
    let length = match args.get(1) {
        None | Some(Value::Nil) => 1,
        Some(v) => to_integer(v)
            .ok_or_else(|| Error::filter(format!("invalid length '{}'", snippet(&v.to_str()))))?,
    };
    match input {
        Value::Array(_) | Value::Range(..) => {
            let items = env.items(input)?;
            Ok(match slice_bounds(items.len() as i64, offset, length) {
                Some((a, b)) => Value::array(items[a..b].to_vec()),
                None => Value::array(Vec::new()),
            })
        }
        other => {
            let s = other.to_str();
            let chars: Vec<char> = s.chars().collect();
            Ok(match slice_bounds(chars.len() as i64, offset, length) {
                Some((a, b)) => Value::string(chars[a..b].iter().collect()),
                None => Value::str(""),
            })
        }
    }
}
