//! The Segment message model: parsing, validation and normalisation of one incoming message.
//!
//! Parsing is pure: the caller passes the server's receive time in. Ingest's result,
//! [`Incoming`], carries the JSON the log stores; an [`Event`] is a stored message read back,
//! and everything downstream (identity, profiles, audiences) reads only that.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::timestamp::{correct_for_skew, in_range, parse_timestamp};

/// Largest accepted serialized size of a single message, in bytes (Segment's limit).
pub const MAX_EVENT_BYTES: usize = 32 * 1024;

/// The six Segment message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Identify,
    Track,
    Page,
    Screen,
    Group,
    Alias,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Identify => "identify",
            EventType::Track => "track",
            EventType::Page => "page",
            EventType::Screen => "screen",
            EventType::Group => "group",
            EventType::Alias => "alias",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        Some(match s {
            "identify" => EventType::Identify,
            "track" => EventType::Track,
            "page" => EventType::Page,
            "screen" => EventType::Screen,
            "group" => EventType::Group,
            "alias" => EventType::Alias,
            _ => return None,
        })
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one message was refused. `code` is stable and machine-readable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EventError {
    pub code: &'static str,
    pub message: String,
}

impl EventError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        EventError {
            code,
            message: message.into(),
        }
    }
}

/// How a message's time is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeMode {
    /// Live tracking: `timestamp` is corrected for client clock skew using `sentAt`.
    Live,
    /// `/v1/import`: historical data, `timestamp` is taken as given.
    Import,
}

/// What the server knows about a message besides its body.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext<'a> {
    pub received_at: DateTime<Utc>,
    /// `sentAt` of the enclosing batch, used when a message has none of its own.
    pub batch_sent_at: Option<&'a str>,
    /// Type implied by the endpoint (`/v1/track` implies `track`); `None` for batches.
    pub implied_type: Option<EventType>,
    pub time_mode: TimeMode,
    /// Used when the message has no `messageId`.
    pub fallback_message_id: fn() -> String,
}

/// A validated, normalised message as the log stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub message_id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// `alias` only: the identity being aliased to `user_id`.
    pub previous_id: Option<String>,
    /// `group` only.
    pub group_id: Option<String>,
    /// `track` only: the event name.
    pub event: Option<String>,
    /// `page` / `screen` name.
    pub name: Option<String>,
    /// Corrected event time.
    pub timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// The message as sent, with `messageId`, `type`, `receivedAt`, `timestamp` and
    /// `originalTimestamp` filled in by the server.
    pub payload: Map<String, Value>,
}

/// A message's top-level members, each value kept as the JSON text it was sent as: ingest
/// validates and rewrites only the few fields it owns and copies the rest through, instead of
/// building (and dropping) a tree for `properties` and `context` on every event.
#[derive(Debug)]
pub struct RawMessage<'a> {
    /// In the order sent; when a key repeats, the last value wins (as in a JSON object).
    fields: Vec<(Cow<'a, str>, &'a RawValue)>,
}

/// Why a text is not a [`RawMessage`].
#[derive(Debug, thiserror::Error)]
pub enum RawMessageError {
    #[error("{0}")]
    Json(serde_json::Error),
    #[error("each event must be a JSON object")]
    NotObject,
    #[error("JSON nested more than {MAX_DEPTH} levels deep")]
    TooDeep,
}

impl RawMessageError {
    /// The stable error code ingest answers with.
    pub fn code(&self) -> &'static str {
        match self {
            RawMessageError::NotObject => "invalid_event",
            RawMessageError::Json(_) | RawMessageError::TooDeep => "invalid_json",
        }
    }
}

/// serde_json's own limit when the processor reads an event back as a tree: ingest copies
/// members through without building one, so it checks the depth itself.
const MAX_DEPTH: usize = 128;

/// What one pass over a message's valid JSON text found.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    /// Arrays and objects nest more than the limit.
    TooDeep,
    /// It may hold what serde_json's raw values accept but a tree refuses: a surrogate escape
    /// (`\ud800`, lone or paired) or a number with an exponent or 300 digits or more (a
    /// double overflows beyond ~1.8e308). Only such texts need the reader's full check.
    Unusual,
    /// Neither: a tree reads every member of it.
    Plain,
}

/// One pass over valid JSON `text`, tracking strings, escapes, numbers and depth. Inside
/// strings it jumps from one quote or backslash to the next (most of an event is string
/// content).
fn scan(text: &str, limit: usize) -> Scan {
    let bytes = text.as_bytes();
    let (mut depth, mut unusual, mut digits, mut i) = (0usize, false, 0usize, 0usize);
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        match b {
            b'"' => loop {
                let Some(k) = memchr::memchr2(b'"', b'\\', &bytes[i..]) else {
                    i = bytes.len();
                    break;
                };
                i += k + 1;
                if bytes[i - 1] == b'"' {
                    break;
                }
                // An escape: `\uD800`–`\uDFFF` has d/D, then 8–f, as its first hex digits.
                if let [b'u', b'd' | b'D', b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F', ..] =
                    &bytes[i..]
                {
                    unusual = true;
                }
                i += 1;
            },
            b'0'..=b'9' => {
                digits += 1;
                unusual |= digits >= 300;
                continue;
            }
            // Outside strings, only a number holds an `e`/`E` right after a digit or a `.`.
            b'e' | b'E' if digits > 0 => unusual = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Scan::TooDeep;
                }
            }
            b']' | b'}' => depth -= 1,
            _ => {}
        }
        if !matches!(b, b'.' | b'+' | b'-' | b'e' | b'E') {
            digits = 0;
        }
    }
    if unusual {
        Scan::Unusual
    } else {
        Scan::Plain
    }
}

impl<'a> RawMessage<'a> {
    /// Split a message into its members, after checking that the processor's reader (a
    /// `serde_json::Value` tree) can read every one of them back: members are copied through as
    /// raw text, and serde_json's raw values accept what a tree refuses (lone UTF-16 surrogate
    /// escapes such as `"\ud800"`, numbers beyond the range of a double such as `1e400`).
    pub fn parse(text: &'a str) -> Result<RawMessage<'a>, RawMessageError> {
        let fields: Fields<'a> = serde_json::from_str(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => RawMessageError::NotObject,
            _ => RawMessageError::Json(e),
        })?;
        match scan(text, MAX_DEPTH) {
            Scan::TooDeep => return Err(RawMessageError::TooDeep),
            Scan::Unusual => {
                serde_json::from_str::<Readable>(text).map_err(RawMessageError::Json)?;
            }
            Scan::Plain => {}
        }
        Ok(RawMessage { fields: fields.0 })
    }

    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }

    /// A member decoded (meant for small ones: identifiers, names, times).
    pub fn value(&self, key: &str) -> Option<Value> {
        self.get(key)
            .map(|raw| serde_json::from_str(raw.get()).expect("validated while parsing"))
    }
}

/// Any JSON value that reads back as a `serde_json::Value`: deserializing it runs the same
/// parser with the same checks (every string and key decoded, every number converted), without
/// building the tree.
struct Readable;

impl<'de> Deserialize<'de> for Readable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Readable;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Readable, E> {
                Ok(Readable)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Readable, E> {
                Ok(Readable)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Readable, E> {
                Ok(Readable)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Readable, E> {
                Ok(Readable)
            }
            fn visit_str<E>(self, _: &str) -> Result<Readable, E> {
                Ok(Readable)
            }
            fn visit_unit<E>(self) -> Result<Readable, E> {
                Ok(Readable)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Readable, A::Error> {
                while a.next_element::<Readable>()?.is_some() {}
                Ok(Readable)
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Readable, M::Error> {
                while m.next_entry::<Readable, Readable>()?.is_some() {}
                Ok(Readable)
            }
        }
        d.deserialize_any(Visit)
    }
}

struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Fields<'a>, M::Error> {
                let mut fields = Vec::with_capacity(m.size_hint().unwrap_or(12));
                while let Some((k, v)) = m.next_entry::<KeyText<'de>, &'de RawValue>()? {
                    fields.push((k.0, v));
                }
                Ok(Fields(fields))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// A key, borrowed from the input when it has no escapes.
struct KeyText<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for KeyText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = KeyText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// A validated message, encoded as the log stores it: ingest's output.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub message_id: String,
    pub event_type: EventType,
    pub received_at: DateTime<Utc>,
    /// The stored JSON object: the message as sent (top-level members in their order), with
    /// `messageId`, `type`, `timestamp`, `receivedAt` (and `originalTimestamp` when the message
    /// had a time) set by the server, the batch's `context` merged in, and `writeKey` removed.
    pub json: String,
}

impl Incoming {
    /// Validate and normalise one message. `text` is the message as sent.
    pub fn parse(
        text: &str,
        ctx: &ParseContext<'_>,
        batch_context: Option<&Map<String, Value>>,
    ) -> Result<Incoming, EventError> {
        if text.len() > MAX_EVENT_BYTES {
            return Err(EventError::new(
                "event_too_large",
                format!(
                    "event is {} bytes; the limit is {MAX_EVENT_BYTES} bytes",
                    text.len()
                ),
            ));
        }
        let message =
            RawMessage::parse(text).map_err(|e| EventError::new(e.code(), e.to_string()))?;
        Incoming::from_message(&message, ctx, batch_context)
    }

    pub fn from_message(
        message: &RawMessage<'_>,
        ctx: &ParseContext<'_>,
        batch_context: Option<&Map<String, Value>>,
    ) -> Result<Incoming, EventError> {
        let event_type = match (message.value("type"), ctx.implied_type) {
            (_, Some(implied)) => implied,
            (Some(Value::String(s)), None) => EventType::parse(&s).ok_or_else(|| {
                EventError::new("invalid_type", format!("unknown event type {s:?}"))
            })?,
            (Some(_), None) => {
                return Err(EventError::new("invalid_type", "`type` must be a string"))
            }
            (None, None) => {
                return Err(EventError::new(
                    "missing_type",
                    "`type` is required in a batch",
                ))
            }
        };

        let user_id = id_field(message.value("userId").as_ref(), "userId")?;
        let anonymous_id = id_field(message.value("anonymousId").as_ref(), "anonymousId")?;
        let previous_id = id_field(message.value("previousId").as_ref(), "previousId")?;
        let group_id = id_field(message.value("groupId").as_ref(), "groupId")?;
        let event = string_field(message.value("event").as_ref(), "event")?;

        if user_id.is_none() && anonymous_id.is_none() {
            return Err(EventError::new(
                "missing_identity",
                "`userId` or `anonymousId` is required",
            ));
        }
        match event_type {
            EventType::Track if event.as_deref().is_none_or(str::is_empty) => {
                return Err(EventError::new(
                    "missing_event",
                    "a track call requires a non-empty `event`",
                ));
            }
            EventType::Alias if previous_id.is_none() => {
                return Err(EventError::new(
                    "missing_previous_id",
                    "an alias call requires `previousId`",
                ));
            }
            EventType::Alias if user_id.is_none() => {
                return Err(EventError::new(
                    "missing_user_id",
                    "an alias call requires `userId`",
                ));
            }
            EventType::Group if group_id.is_none() => {
                return Err(EventError::new(
                    "missing_group_id",
                    "a group call requires `groupId`",
                ));
            }
            _ => {}
        }
        string_field(message.value("name").as_ref(), "name")?;
        for key in ["traits", "properties", "context"] {
            if let Some(raw) = message.get(key) {
                if !matches!(raw.get().trim_start().as_bytes().first(), Some(b'{' | b'n')) {
                    return Err(EventError::new(
                        "invalid_field",
                        format!("`{key}` must be an object"),
                    ));
                }
            }
        }

        let original = match message
            .value("timestamp")
            .or_else(|| message.value("originalTimestamp"))
        {
            None | Some(Value::Null) => None,
            Some(v) => Some(time_field(&v, "timestamp")?),
        };
        let sent_at = match message.value("sentAt") {
            None | Some(Value::Null) => match ctx.batch_sent_at {
                Some(s) => Some(time_field(&Value::String(s.to_owned()), "sentAt")?),
                None => None,
            },
            Some(v) => Some(time_field(&v, "sentAt")?),
        };
        let timestamp = match (ctx.time_mode, original, sent_at) {
            (_, None, _) => ctx.received_at,
            (TimeMode::Live, Some(orig), Some(sent)) => {
                correct_for_skew(ctx.received_at, sent, orig).ok_or_else(|| {
                    EventError::new(
                        "timestamp_out_of_range",
                        format!(
                        "`timestamp` corrected for clock skew (receivedAt − (sentAt − timestamp) \
                             with sentAt {} and timestamp {}) falls outside the years 0001–9999",
                        rfc3339(sent),
                        rfc3339(orig)
                    ),
                    )
                })?
            }
            (_, Some(orig), _) => orig,
        };
        let message_id = match id_field(message.value("messageId").as_ref(), "messageId")? {
            Some(id) => id,
            None => (ctx.fallback_message_id)(),
        };

        let context = merged_context(message, batch_context);
        let mut set: Vec<(&str, String)> = vec![
            ("messageId", json_string(&message_id)),
            ("type", json_string(event_type.as_str())),
        ];
        if let Some(orig) = original {
            set.push(("originalTimestamp", json_string(&rfc3339(orig))));
        }
        set.push(("timestamp", json_string(&rfc3339(timestamp))));
        set.push(("receivedAt", json_string(&rfc3339(ctx.received_at))));
        if let Some(context) = context {
            set.push(("context", context));
        }

        // Last value wins for a repeated key; the kept members stay in the order sent.
        let mut seen: HashSet<&str> = HashSet::with_capacity(message.fields.len());
        let mut kept: Vec<&(Cow<'_, str>, &RawValue)> = message
            .fields
            .iter()
            .rev()
            .filter(|(key, _)| {
                let key: &str = key;
                key != "writeKey" && !set.iter().any(|(k, _)| *k == key) && seen.insert(key)
            })
            .collect();
        kept.reverse();
        let mut json = String::with_capacity(
            kept.iter()
                .map(|(k, v)| k.len() + v.get().len() + 4)
                .sum::<usize>()
                + 160,
        );
        json.push('{');
        for (key, raw) in kept {
            match key {
                // Borrowed keys had no escapes, and JSON text holds no raw quote, backslash or
                // control character, so it is valid as is.
                Cow::Borrowed(k) => {
                    json.push('"');
                    json.push_str(k);
                    json.push('"');
                }
                Cow::Owned(k) => json.push_str(&json_string(k)),
            }
            json.push(':');
            json.push_str(raw.get());
            json.push(',');
        }
        for (key, value) in &set {
            // The server's own member names need no escaping.
            json.push('"');
            json.push_str(key);
            json.push_str("\":");
            json.push_str(value);
            json.push(',');
        }
        json.pop();
        json.push('}');

        Ok(Incoming {
            message_id,
            event_type,
            received_at: ctx.received_at,
            json,
        })
    }

    /// The event as the processor will read it back from the log, with the processor's reader.
    /// Whatever [`Incoming::parse`] accepts reads back (the property test
    /// `accepted_events_read_back` in `tests/ingest.rs` checks exactly that); an error here is a
    /// bug, which the processor would quarantine.
    pub fn to_event(&self) -> Result<Event, EventError> {
        read_stored(&self.json)
    }
}

/// Read an event from its stored text: the one reader the processor uses on every log.
pub fn read_stored(text: &str) -> Result<Event, EventError> {
    let payload = serde_json::from_str(text).map_err(|e| {
        EventError::new(
            "invalid_event",
            format!("stored event is not a JSON object: {e}"),
        )
    })?;
    Event::from_stored(payload)
}

/// The batch's shared `context`, merged under the message's own (the message wins per key);
/// `None` when nothing changes.
fn merged_context(message: &RawMessage<'_>, shared: Option<&Map<String, Value>>) -> Option<String> {
    let shared = shared.filter(|s| !s.is_empty())?;
    let mut own = match message.value("context") {
        None => Map::new(),
        Some(Value::Object(own)) => own,
        Some(_) => return None,
    };
    for (k, v) in shared {
        own.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Some(Value::Object(own).to_string())
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

impl Event {
    /// Parse one message object as ingest would, and read it back as the log stores it.
    pub fn parse(value: Value, ctx: &ParseContext<'_>) -> Result<Event, EventError> {
        Incoming::parse(&value.to_string(), ctx, None).and_then(|i| i.to_event())
    }

    /// Rebuild an event from its stored payload (what [`Incoming`] writes); the stored
    /// `timestamp` is already corrected and is taken as is.
    pub fn from_stored(payload: Map<String, Value>) -> Result<Event, EventError> {
        let field = |key: &str| {
            payload
                .get(key)
                .map(|v| time_field(v, key))
                .transpose()?
                .ok_or_else(|| {
                    EventError::new("invalid_event", format!("stored event lacks {key}"))
                })
        };
        let (received_at, timestamp) = (field("receivedAt")?, field("timestamp")?);
        let event_type = payload
            .get("type")
            .and_then(Value::as_str)
            .and_then(EventType::parse)
            .ok_or_else(|| EventError::new("invalid_event", "stored event lacks a type"))?;
        Ok(Event {
            message_id: id_field(payload.get("messageId"), "messageId")?.unwrap_or_default(),
            event_type,
            user_id: id_field(payload.get("userId"), "userId")?,
            anonymous_id: id_field(payload.get("anonymousId"), "anonymousId")?,
            previous_id: id_field(payload.get("previousId"), "previousId")?,
            group_id: id_field(payload.get("groupId"), "groupId")?,
            event: string_field(payload.get("event"), "event")?,
            name: string_field(payload.get("name"), "name")?,
            timestamp,
            received_at,
            payload,
        })
    }

    pub fn traits(&self) -> Option<&Map<String, Value>> {
        self.payload.get("traits").and_then(Value::as_object)
    }

    pub fn context(&self) -> Option<&Map<String, Value>> {
        self.payload.get("context").and_then(Value::as_object)
    }

    /// `context.traits`, where browser and RudderStack SDKs put identify traits too.
    pub fn context_traits(&self) -> Option<&Map<String, Value>> {
        self.context()
            .and_then(|c| c.get("traits"))
            .and_then(Value::as_object)
    }

    /// The name shown in timelines and counted on profiles: the track event name, or the type.
    pub fn display_name(&self) -> &str {
        match self.event_type {
            EventType::Track => self.event.as_deref().unwrap_or("track"),
            other => other.as_str(),
        }
    }

    /// An email or phone given as a trait (top-level traits first, then `context.traits`).
    pub fn trait_str(&self, key: &str) -> Option<&str> {
        [self.traits(), self.context_traits()]
            .into_iter()
            .flatten()
            .find_map(|t| t.get(key).and_then(Value::as_str))
    }
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Identifier fields accept strings and numbers (SDKs send numeric user ids); numbers are
/// stringified. Empty strings count as absent.
fn id_field(value: Option<&Value>, key: &str) -> Result<Option<String>, EventError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => no_nul(key, s).map(Some),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(EventError::new(
            "invalid_field",
            format!("`{key}` must be a string or a number"),
        )),
    }
}

/// Identifiers and names are indexed as text; a NUL character there is never meaningful and
/// no SQL text type (PostgreSQL's included) can hold it.
fn no_nul(key: &str, s: &str) -> Result<String, EventError> {
    if s.contains('\0') {
        return Err(EventError::new(
            "invalid_field",
            format!("`{key}` must not contain NUL characters"),
        ));
    }
    Ok(s.to_owned())
}

fn string_field(value: Option<&Value>, key: &str) -> Result<Option<String>, EventError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => no_nul(key, s).map(Some),
        Some(_) => Err(EventError::new(
            "invalid_field",
            format!("`{key}` must be a string"),
        )),
    }
}

fn time_field(v: &Value, key: &str) -> Result<DateTime<Utc>, EventError> {
    let t = v.as_str().and_then(parse_timestamp).ok_or_else(|| {
        EventError::new(
            "invalid_timestamp",
            format!("`{key}` must be an ISO-8601 date-time"),
        )
    })?;
    if !in_range(t) {
        return Err(EventError::new(
            "timestamp_out_of_range",
            format!("`{key}` must fall within the years 0001–9999 (UTC)"),
        ));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(received: &str) -> ParseContext<'static> {
        ParseContext {
            received_at: parse_timestamp(received).unwrap(),
            batch_sent_at: None,
            implied_type: None,
            time_mode: TimeMode::Live,
            fallback_message_id: || "generated".to_owned(),
        }
    }

    fn parse(v: Value) -> Result<Event, EventError> {
        Event::parse(v, &ctx("2026-01-01T12:00:10Z"))
    }

    #[test]
    fn corrects_clock_skew_from_sent_at() {
        // The client clock is 1 hour ahead: it sent at 13:00:05 an event it stamped 13:00:00.
        let e = parse(json!({"type":"track","event":"A","userId":"u","timestamp":"2026-01-01T13:00:00Z","sentAt":"2026-01-01T13:00:05Z"})).unwrap();
        assert_eq!(rfc3339(e.timestamp), "2026-01-01T12:00:05.000Z");
        assert_eq!(e.payload["originalTimestamp"], "2026-01-01T13:00:00.000Z");
    }

    #[test]
    fn original_timestamp_alone_is_used_as_is() {
        let e = parse(
            json!({"type":"page","anonymousId":"a","originalTimestamp":"2026-01-01T11:00:00Z"}),
        )
        .unwrap();
        assert_eq!(rfc3339(e.timestamp), "2026-01-01T11:00:00.000Z");
    }

    #[test]
    fn import_ignores_sent_at() {
        let mut c = ctx("2026-01-01T12:00:10Z");
        c.time_mode = TimeMode::Import;
        let v = json!({"type":"track","event":"A","userId":"u","timestamp":"2020-01-01T00:00:00Z","sentAt":"2026-01-01T13:00:05Z"});
        let e = Event::parse(v, &c).unwrap();
        assert_eq!(rfc3339(e.timestamp), "2020-01-01T00:00:00.000Z");
    }

    #[test]
    fn no_timestamp_means_received_at() {
        let e = parse(json!({"type":"identify","userId":42})).unwrap();
        assert_eq!(e.timestamp, e.received_at);
        assert_eq!(e.user_id.as_deref(), Some("42"));
        assert_eq!(e.message_id, "generated");
    }

    #[test]
    fn validation_codes() {
        let cases = [
            (json!({"type":"track","userId":"u"}), "missing_event"),
            (
                json!({"type":"track","event":"","userId":"u"}),
                "missing_event",
            ),
            (json!({"type":"track","event":"x"}), "missing_identity"),
            (json!({"type":"alias","userId":"u"}), "missing_previous_id"),
            (json!({"type":"group","userId":"u"}), "missing_group_id"),
            (json!({"type":"bogus","userId":"u"}), "invalid_type"),
            (json!({"userId":"u"}), "missing_type"),
            (json!({"type":"identify","userId":{"a":1}}), "invalid_field"),
            (
                json!({"type":"identify","userId":"u","traits":[1]}),
                "invalid_field",
            ),
            (
                json!({"type":"identify","userId":"u","timestamp":"yesterday"}),
                "invalid_timestamp",
            ),
            (json!([1, 2]), "invalid_event"),
            (json!({"type":"identify","userId":"a\0b"}), "invalid_field"),
            (
                json!({"type":"track","event":"x\0","userId":"u"}),
                "invalid_field",
            ),
        ];
        for (input, code) in cases {
            assert_eq!(parse(input.clone()).unwrap_err().code, code, "{input}");
        }
    }

    #[test]
    fn the_scan_sends_only_unusual_texts_to_the_full_check() {
        let cases = [
            (
                r#"{"a":"plain","n":-12.5,"t":true,"f":false,"x":null}"#,
                Scan::Plain,
            ),
            (
                r#"{"e":"1e400 in a string","k\"ey":"\"quoted\" \\ \u00e9"}"#,
                Scan::Plain,
            ),
            (r#"{"a":"\ud800"}"#, Scan::Unusual),
            (r#"{"a":"x\uDFFFy"}"#, Scan::Unusual),
            (r#"{"\ud83d\ude00":1}"#, Scan::Unusual),
            (r#"{"a":"\\ud800"}"#, Scan::Plain),
            (r#"{"a":1e400}"#, Scan::Unusual),
            (r#"{"a":[1.5E-3]}"#, Scan::Unusual),
            (r#"{"a":-2e+1,"b":true}"#, Scan::Unusual),
        ];
        for (text, expected) in cases {
            assert_eq!(scan(text, MAX_DEPTH), expected, "{text}");
        }
        assert_eq!(
            scan(&format!(r#"{{"a":{}}}"#, "9".repeat(299)), MAX_DEPTH),
            Scan::Plain
        );
        assert_eq!(
            scan(&format!(r#"{{"a":{}}}"#, "9".repeat(300)), MAX_DEPTH),
            Scan::Unusual
        );
        let deep = format!("{}1{}", "[".repeat(129), "]".repeat(129));
        assert_eq!(scan(&deep, MAX_DEPTH), Scan::TooDeep);
        assert_eq!(scan(&deep, 129), Scan::Plain);
    }

    #[test]
    fn oversized_event_is_refused() {
        let text = format!(
            r#"{{"type":"track","event":"A","userId":"u","properties":{{"p":"{}"}}}}"#,
            "x".repeat(MAX_EVENT_BYTES)
        );
        let err = Incoming::parse(&text, &ctx("2026-01-01T00:00:00Z"), None).unwrap_err();
        assert_eq!(err.code, "event_too_large");
    }

    #[test]
    fn not_json_or_not_an_object() {
        let c = ctx("2026-01-01T00:00:00Z");
        assert_eq!(
            Incoming::parse("{\"a\":", &c, None).unwrap_err().code,
            "invalid_json"
        );
        assert_eq!(
            Incoming::parse("[1]", &c, None).unwrap_err().code,
            "invalid_event"
        );
        assert_eq!(
            Incoming::parse("\"x\"", &c, None).unwrap_err().code,
            "invalid_event"
        );
    }

    #[test]
    fn stored_text_keeps_what_was_sent() {
        let c = ctx("2026-01-01T12:00:10Z");
        let text = r#"{"writeKey":"secret","userId":"u","type":"track","event":"A","properties":{"b":1, "a":[true,null]},"type":"track","e\u0301":2,"userId":"v","messageId":"m1"}"#;
        let incoming = Incoming::parse(text, &c, None).unwrap();
        let stored: Map<String, Value> = serde_json::from_str(&incoming.json).unwrap();
        // The last of repeated keys wins, `writeKey` is dropped, escaped keys stay the same key.
        assert_eq!(stored["userId"], "v");
        assert!(!stored.contains_key("writeKey"));
        assert_eq!(stored["e\u{301}"], 2);
        assert_eq!(stored["properties"], json!({"b":1,"a":[true,null]}));
        assert_eq!(stored["receivedAt"], "2026-01-01T12:00:10.000Z");
        // Members the server does not own are copied as sent, in the order sent.
        let expected = "{\"event\":\"A\",\"properties\":{\"b\":1, \"a\":[true,null]},\"e\u{301}\":2,\"userId\":\"v\",\"messageId\":\"m1\",\"type\":\"track\",";
        assert!(incoming.json.starts_with(expected), "{}", incoming.json);
        assert_eq!(incoming.json.matches("\"userId\"").count(), 1);
        let event = incoming.to_event().unwrap();
        assert_eq!(
            (event.user_id.as_deref(), event.message_id.as_str()),
            (Some("v"), "m1")
        );
    }

    #[test]
    fn batch_context_is_merged_under_the_message_context() {
        let c = ctx("2026-01-01T12:00:10Z");
        let shared = json!({"library":{"name":"batch"},"ip":"1.2.3.4"});
        let shared = shared.as_object();
        let own = Incoming::parse(
            r#"{"type":"page","anonymousId":"a","context":{"library":{"name":"own"}}}"#,
            &c,
            shared,
        )
        .unwrap()
        .to_event()
        .unwrap();
        assert_eq!(own.context().unwrap()["library"]["name"], "own");
        assert_eq!(own.context().unwrap()["ip"], "1.2.3.4");
        let none = Incoming::parse(r#"{"type":"page","anonymousId":"a"}"#, &c, shared)
            .unwrap()
            .to_event()
            .unwrap();
        assert_eq!(none.context().unwrap()["library"]["name"], "batch");
        let null = Incoming::parse(
            r#"{"type":"page","anonymousId":"a","context":null}"#,
            &c,
            shared,
        )
        .unwrap()
        .to_event()
        .unwrap();
        assert_eq!(null.payload["context"], Value::Null);
    }

    #[test]
    fn what_ingest_computes_is_what_the_processor_reads_back() {
        let c = ctx("2026-01-01T12:00:10Z");
        let text = r#"{"type":"track","event":"A","userId":"u","messageId":"m1","timestamp":"2026-01-01T13:00:00Z","sentAt":"2026-01-01T13:00:05Z","properties":{"x":1}}"#;
        let incoming = Incoming::parse(text, &c, None).unwrap();
        let event = incoming.to_event().unwrap();
        assert_eq!(
            (
                event.message_id.as_str(),
                event.event_type,
                event.received_at
            ),
            (
                incoming.message_id.as_str(),
                incoming.event_type,
                incoming.received_at
            )
        );
        // The corrected time is stored, so a replay does not correct it twice.
        assert_eq!(rfc3339(event.timestamp), "2026-01-01T12:00:05.000Z");
        assert_eq!(event.payload["sentAt"], "2026-01-01T13:00:05Z");
        assert_eq!(event.payload["properties"], json!({"x": 1}));
    }
}
