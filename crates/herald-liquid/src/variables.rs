//! [`Variables`]: the render context as an ordered Liquid value.
//!
//! `serde_json::Value` keeps object keys sorted (unless its `preserve_order` feature is on),
//! so a `{% for pair in object %}` over it walks keys alphabetically. `Variables`
//! deserialises straight from JSON and keeps the document's key order.

use std::fmt;
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::value::{from_json, Object, Value};

/// Render variables: a JSON object (anything else renders as an empty context).
#[derive(Debug, Clone)]
pub struct Variables(pub(crate) Value);

impl Variables {
    /// Parses JSON text, keeping object key order.
    pub fn from_json_str(json: &str) -> Result<Variables, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// No variables at all.
    pub fn empty() -> Variables {
        Variables(Value::Object(Arc::new(Object::new())))
    }
}

impl From<&serde_json::Value> for Variables {
    fn from(v: &serde_json::Value) -> Self {
        Variables(from_json(v))
    }
}

impl<'de> Deserialize<'de> for Variables {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Variables(d.deserialize_any(ValueVisitor)?.0))
    }
}

struct Wrapped(Value);

impl<'de> Deserialize<'de> for Wrapped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Wrapped;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Wrapped, E> {
        Ok(Wrapped(Value::Nil))
    }
    fn visit_none<E>(self) -> Result<Wrapped, E> {
        Ok(Wrapped(Value::Nil))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Wrapped, E> {
        Ok(Wrapped(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Wrapped, E> {
        Ok(Wrapped(Value::Int(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Wrapped, E> {
        Ok(Wrapped(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(v as f64),
        }))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Wrapped, E> {
        Ok(Wrapped(Value::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Wrapped, E> {
        Ok(Wrapped(Value::str(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Wrapped, A::Error> {
        let mut items = Vec::new();
        while let Some(Wrapped(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Wrapped(Value::array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wrapped, A::Error> {
        let mut obj = Object::new();
        while let Some((k, Wrapped(v))) = map.next_entry::<String, Wrapped>()? {
            obj.insert(k, v);
        }
        Ok(Wrapped(Value::Object(Arc::new(obj))))
    }
}
