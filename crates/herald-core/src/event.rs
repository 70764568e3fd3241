//! The Segment message model: parsing, validation and normalisation of one incoming message.
//!
//! Parsing is pure: the caller passes the server's receive time in. The result, [`Event`], is
//! what the log stores; everything downstream (identity, profiles, audiences) reads only it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::timestamp::{correct_for_skew, parse_timestamp};

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

impl Event {
    /// Parse one message object. `raw_len` is its serialized size, checked against the limit.
    pub fn parse(
        value: Value,
        raw_len: usize,
        ctx: &ParseContext<'_>,
    ) -> Result<Event, EventError> {
        if raw_len > MAX_EVENT_BYTES {
            return Err(EventError::new(
                "event_too_large",
                format!("event is {raw_len} bytes; the limit is {MAX_EVENT_BYTES} bytes"),
            ));
        }
        let Value::Object(mut payload) = value else {
            return Err(EventError::new(
                "invalid_event",
                "each event must be a JSON object",
            ));
        };

        let event_type = match (payload.get("type"), ctx.implied_type) {
            (_, Some(implied)) => implied,
            (Some(Value::String(s)), None) => EventType::parse(s).ok_or_else(|| {
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

        let user_id = id_field(&payload, "userId")?;
        let anonymous_id = id_field(&payload, "anonymousId")?;
        let previous_id = id_field(&payload, "previousId")?;
        let group_id = id_field(&payload, "groupId")?;
        let event = string_field(&payload, "event")?;
        let name = string_field(&payload, "name")?;

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
        for key in ["traits", "properties", "context"] {
            if let Some(v) = payload.get(key) {
                if !v.is_object() && !v.is_null() {
                    return Err(EventError::new(
                        "invalid_field",
                        format!("`{key}` must be an object"),
                    ));
                }
            }
        }

        let original = match payload
            .get("timestamp")
            .or_else(|| payload.get("originalTimestamp"))
        {
            None | Some(Value::Null) => None,
            Some(v) => Some(time_field(v, "timestamp")?),
        };
        let sent_at = match payload.get("sentAt") {
            None | Some(Value::Null) => match ctx.batch_sent_at {
                Some(s) => Some(time_field(&Value::String(s.to_owned()), "sentAt")?),
                None => None,
            },
            Some(v) => Some(time_field(v, "sentAt")?),
        };
        let timestamp = match (ctx.time_mode, original, sent_at) {
            (_, None, _) => ctx.received_at,
            (TimeMode::Live, Some(orig), Some(sent)) => {
                correct_for_skew(ctx.received_at, sent, orig)
            }
            (_, Some(orig), _) => orig,
        };

        let message_id = match id_field(&payload, "messageId")? {
            Some(id) => id,
            None => (ctx.fallback_message_id)(),
        };

        payload.insert("messageId".into(), Value::String(message_id.clone()));
        payload.insert("type".into(), Value::String(event_type.as_str().into()));
        if let Some(orig) = original {
            payload.insert("originalTimestamp".into(), Value::String(rfc3339(orig)));
        }
        payload.insert("timestamp".into(), Value::String(rfc3339(timestamp)));
        payload.insert("receivedAt".into(), Value::String(rfc3339(ctx.received_at)));
        payload.remove("writeKey");

        Ok(Event {
            message_id,
            event_type,
            user_id,
            anonymous_id,
            previous_id,
            group_id,
            event,
            name,
            timestamp,
            received_at: ctx.received_at,
            payload,
        })
    }

    /// Rebuild an event from its stored payload (the output of [`Event::parse`]); the stored
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
            message_id: id_field(&payload, "messageId")?.unwrap_or_default(),
            event_type,
            user_id: id_field(&payload, "userId")?,
            anonymous_id: id_field(&payload, "anonymousId")?,
            previous_id: id_field(&payload, "previousId")?,
            group_id: id_field(&payload, "groupId")?,
            event: string_field(&payload, "event")?,
            name: string_field(&payload, "name")?,
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
fn id_field(payload: &Map<String, Value>, key: &str) -> Result<Option<String>, EventError> {
    match payload.get(key) {
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

fn string_field(payload: &Map<String, Value>, key: &str) -> Result<Option<String>, EventError> {
    match payload.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => no_nul(key, s).map(Some),
        Some(_) => Err(EventError::new(
            "invalid_field",
            format!("`{key}` must be a string"),
        )),
    }
}

fn time_field(v: &Value, key: &str) -> Result<DateTime<Utc>, EventError> {
    v.as_str().and_then(parse_timestamp).ok_or_else(|| {
        EventError::new(
            "invalid_timestamp",
            format!("`{key}` must be an ISO-8601 date-time"),
        )
    })
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
        let len = v.to_string().len();
        Event::parse(v, len, &ctx("2026-01-01T12:00:10Z"))
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
        let e = Event::parse(v, 10, &c).unwrap();
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
    fn oversized_event_is_refused() {
        let err =
            Event::parse(json!({}), MAX_EVENT_BYTES + 1, &ctx("2026-01-01T00:00:00Z")).unwrap_err();
        assert_eq!(err.code, "event_too_large");
    }

    #[test]
    fn stored_round_trip() {
        let e = parse(json!({"type":"track","event":"A","userId":"u","messageId":"m1","timestamp":"2026-01-01T13:00:00Z","sentAt":"2026-01-01T13:00:05Z","properties":{"x":1}})).unwrap();
        let back = Event::from_stored(e.payload.clone()).unwrap();
        assert_eq!(back, e);
    }
}
