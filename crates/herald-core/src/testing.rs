//! Generators shared by the property tests of every crate: random Segment message streams
//! with out-of-order timestamps, duplicate message ids, blocked values, aliases, groups, and
//! admin unmerges and deletions.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::event::{Event, ParseContext, TimeMode};
use crate::timestamp::parse_timestamp;

/// One step of a generated scenario.
#[derive(Debug, Clone)]
pub enum Op {
    Send(Value),
    Unmerge(usize),
    Delete(usize),
}

pub fn arb_message() -> impl Strategy<Value = Value> {
    let user = prop::option::of(prop::sample::select(vec!["u1", "u2", "u3", "null"]));
    let anon = prop::option::of(prop::sample::select(vec!["a1", "a2", "a3", "a4"]));
    let email = prop::option::of(prop::sample::select(vec!["e1@x.io", "e2@x.io"]));
    (
        0usize..5,
        user,
        anon,
        email,
        1u32..28,
        0u32..30,
        prop::sample::select(vec!["g1", "g2"]),
        0u8..3,
    )
        .prop_map(|(kind, user, anon, email, day, msg, group, plan)| {
            let mut m = json!({
                "messageId": format!("m{msg}"),
                "timestamp": format!("2026-02-{day:02}T00:00:00Z"),
                "context": {"timezone": format!("tz{plan}")},
            });
            let o = m.as_object_mut().unwrap();
            if let Some(u) = user {
                o.insert("userId".into(), json!(u));
            }
            if let Some(a) = anon {
                o.insert("anonymousId".into(), json!(a));
            }
            if user.is_none() && anon.is_none() {
                o.insert("anonymousId".into(), json!("a1"));
            }
            match kind {
                0 => {
                    o.insert("type".into(), json!("identify"));
                    o.insert("traits".into(), json!({"plan": plan, "email": email}));
                }
                1 => {
                    o.insert("type".into(), json!("track"));
                    o.insert("event".into(), json!(format!("E{plan}")));
                }
                2 => {
                    o.insert("type".into(), json!("alias"));
                    o.insert("userId".into(), json!(user.unwrap_or("u1")));
                    o.insert("previousId".into(), json!(anon.unwrap_or("u2")));
                }
                3 => {
                    o.insert("type".into(), json!("group"));
                    o.insert("groupId".into(), json!(group));
                    o.insert("traits".into(), json!({"tier": plan}));
                }
                _ => {
                    o.insert("type".into(), json!("page"));
                }
            }
            m
        })
}

pub fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => arb_message().prop_map(Op::Send),
        1 => (0usize..8).prop_map(Op::Unmerge),
        1 => (0usize..8).prop_map(Op::Delete),
    ]
}

pub fn parse(v: &Value) -> Event {
    let ctx = ParseContext {
        received_at: parse_timestamp("2026-03-01T00:00:00Z").unwrap(),
        batch_sent_at: None,
        implied_type: None,
        time_mode: TimeMode::Import,
        fallback_message_id: || "x".to_owned(),
    };
    Event::parse(v.clone(), 0, &ctx).unwrap()
}
