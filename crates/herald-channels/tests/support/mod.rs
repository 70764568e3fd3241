//! What the provider tests share: the stand-ins, a message builder, and readers of what the
//! stand-ins received.

#![allow(dead_code)] // each test file uses its own part of the support

pub mod dkim;
pub mod http;
pub mod mime;
pub mod push;
pub mod smtp;

use std::collections::BTreeMap;

use herald_channels::Outbound;
use herald_messaging::message::{MessageId, SourceKind};
use herald_messaging::Channel;

/// A message of `channel` to `to`, with these parts, its id derived from `step`.
pub fn outbound(channel: Channel, to: &str, parts: &[(&str, &str)], step: &str) -> Outbound {
    Outbound {
        message_id: MessageId::derive(SourceKind::Broadcast, "b1", uuid::Uuid::from_u128(42), step),
        channel,
        to: to.to_owned(),
        parts: parts
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        marketing: false,
        unsubscribe_url: None,
        metadata: serde_json::json!({"profile_id": "p-42", "template_id": "welcome", "template_version": 3}),
    }
}

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
