//! The Liquid value model: nil, bool, int, float, string, array, object (ordered), range,
//! the special `empty` and `blank`, and the loop helpers (`forloop`, `tablerowloop`).

use std::fmt::Write as _;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::number::format_float;

pub(crate) type Object = IndexMap<String, Value>;

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    Array(Arc<Vec<Value>>),
    Object(Arc<Object>),
    /// An inclusive integer range; iterated lazily, never materialised by a `for`.
    Range(i64, i64),
    Empty,
    Blank,
    Loop(Arc<LoopState>),
}

/// The state behind `forloop` / `tablerowloop`.
#[derive(Debug)]
pub(crate) struct LoopState {
    pub name: Arc<str>,
    pub index0: i64,
    pub length: i64,
    pub parent: Option<Value>,
    /// `Some((col0, cols, row))` for `tablerowloop`.
    pub table: Option<(i64, i64, i64)>,
}

impl LoopState {
    fn get(&self, key: &str) -> Option<Value> {
        let (i, n) = (self.index0, self.length);
        let v = match key {
            "index" => Value::Int(i + 1),
            "index0" => Value::Int(i),
            "rindex" => Value::Int(n - i),
            "rindex0" => Value::Int(n - i - 1),
            "first" => Value::Bool(i == 0),
            "last" => Value::Bool(i == n - 1),
            "length" => Value::Int(n),
            _ => return self.get_extra(key),
        };
        Some(v)
    }

    fn get_extra(&self, key: &str) -> Option<Value> {
        match (key, self.table) {
            ("name", None) => Some(Value::Str(self.name.clone())),
            ("parentloop", None) => self.parent.clone(),
            ("col", Some((c, _, _))) => Some(Value::Int(c + 1)),
            ("col0", Some((c, _, _))) => Some(Value::Int(c)),
            ("col_first", Some((c, _, _))) => Some(Value::Bool(c == 0)),
            ("col_last", Some((c, cols, _))) => Some(Value::Bool(c + 1 == cols)),
            ("row", Some((_, _, r))) => Some(Value::Int(r)),
            _ => None,
        }
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn string(s: String) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }

    /// Work units of handling this value whole (strings per KiB, collections per item),
    /// charged to the render's iteration budget.
    pub fn weight(&self) -> u64 {
        match self {
            Value::Str(s) => (s.len() / 1024) as u64,
            Value::Array(a) => a.len() as u64,
            Value::Object(o) => o.len() as u64,
            _ => 0,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// Liquid's `blank`: nil, false, whitespace-only strings, empty collections.
    pub fn is_blank(&self) -> bool {
        match self {
            Value::Nil | Value::Bool(false) | Value::Blank => true,
            Value::Str(s) => s.chars().all(char::is_whitespace),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        }
    }

    /// Liquid's `empty`: empty strings and collections.
    pub fn is_empty_value(&self) -> bool {
        match self {
            Value::Empty => true,
            Value::Str(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        }
    }

    /// Property lookup by name: object keys first, then `size`, `first`, `last`.
    pub fn get_key(&self, key: &str) -> Option<Value> {
        match self {
            Value::Object(o) => match o.get(key) {
                Some(v) => Some(v.clone()),
                None => match key {
                    "size" => Some(Value::Int(o.len() as i64)),
                    "first" => o
                        .first()
                        .map(|(k, v)| Value::array(vec![Value::str(k), v.clone()])),
                    _ => None,
                },
            },
            Value::Array(a) => match key {
                "size" => Some(Value::Int(a.len() as i64)),
                "first" => a.first().cloned(),
                "last" => a.last().cloned(),
                _ => None,
            },
            Value::Str(s) => match key {
                "size" => Some(Value::Int(s.chars().count() as i64)),
                _ => None,
            },
            Value::Range(a, b) => match key {
                "size" => Some(Value::Int(range_len(*a, *b) as i64)),
                "first" => Some(Value::Int(*a)),
                "last" => Some(Value::Int(*b)),
                _ => None,
            },
            Value::Loop(l) => l.get(key),
            _ => None,
        }
    }

    /// Index lookup (negative indexes count from the end).
    pub fn get_index(&self, i: i64) -> Option<Value> {
        match self {
            Value::Array(a) => {
                let idx = if i < 0 { a.len() as i64 + i } else { i };
                usize::try_from(idx).ok().and_then(|x| a.get(x)).cloned()
            }
            _ => None,
        }
    }

    /// Ruby's `to_s` as Liquid's `Utils.to_s`: what string filters see.
    pub fn to_str(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self {
            Value::Str(s) => Cow::Borrowed(s),
            Value::Nil | Value::Empty | Value::Blank | Value::Loop(_) => Cow::Borrowed(""),
            Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Value::Int(i) => Cow::Owned(i.to_string()),
            Value::Float(f) => Cow::Owned(format_float(*f)),
            Value::Range(a, b) => Cow::Owned(format!("{a}..{b}")),
            Value::Array(_) | Value::Object(_) => {
                let mut s = String::new();
                self.inspect_into(&mut s);
                Cow::Owned(s)
            }
        }
    }

    /// How `{{ value }}` renders: arrays are joined without separator (flattened).
    pub fn render_into(&self, out: &mut String) {
        match self {
            Value::Array(a) => a.iter().for_each(|v| v.render_into(out)),
            Value::Str(s) => out.push_str(s),
            other => out.push_str(&other.to_str()),
        }
    }

    /// Ruby's `inspect` as used by Liquid for arrays and hashes.
    pub fn inspect_into(&self, out: &mut String) {
        match self {
            Value::Nil => out.push_str("nil"),
            Value::Str(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        '\r' => out.push_str("\\r"),
                        c if (c as u32) < 0x20 => {
                            let _ = write!(out, "\\x{:02X}", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.inspect_into(out);
                }
                out.push(']');
            }
            Value::Object(o) => {
                out.push('{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    Value::str(k).inspect_into(out);
                    out.push_str("=>");
                    v.inspect_into(out);
                }
                out.push('}');
            }
            other => out.push_str(&other.to_str()),
        }
    }
}

pub(crate) fn range_len(a: i64, b: i64) -> u64 {
    if b < a {
        0
    } else {
        (b as i128 - a as i128 + 1) as u64
    }
}

/// Liquid's `==`.
pub(crate) fn liquid_eq(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (Blank, Empty) | (Empty, Blank) => false,
        (Blank, x) | (x, Blank) => x.is_blank(),
        (Empty, x) | (x, Empty) => x.is_empty_value(),
        (Nil, Nil) => true,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Int(x), Float(y)) | (Float(y), Int(x)) => (*x as f64) == *y,
        (Float(x), Float(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (Array(x), Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| liquid_eq(p, q))
        }
        (Object(x), Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| liquid_eq(v, w)))
        }
        (Range(a1, b1), Range(a2, b2)) => a1 == a2 && b1 == b2,
        _ => false,
    }
}

/// Converts JSON (from the caller) into a Liquid value.
pub(crate) fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(a) => Value::array(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => Value::Object(Arc::new(
            o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect(),
        )),
    }
}
