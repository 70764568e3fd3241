//! The names the index offers for completion.

use herald_insights::{EventInput, EventKind, Index};
use serde_json::{json, Map, Value};

fn props(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn event_names_and_property_keys_are_the_ones_seen_sorted_once() {
    let checkout = props(json!({"total": 30, "currency": "EUR"}));
    let viewed = props(json!({"path": "/", "total": 1}));
    let mut index = Index::new();
    index.append(&[
        EventInput {
            seq: 1,
            profile: "p1",
            ts_ms: 10,
            kind: EventKind::Track,
            name: "Checkout",
            properties: Some(&checkout),
        },
        EventInput {
            seq: 2,
            profile: "p2",
            ts_ms: 11,
            kind: EventKind::Track,
            name: "Checkout",
            properties: None,
        },
        EventInput {
            seq: 3,
            profile: "p1",
            ts_ms: 12,
            kind: EventKind::Page,
            name: "page",
            properties: Some(&viewed),
        },
        EventInput {
            seq: 4,
            profile: "p2",
            ts_ms: 13,
            kind: EventKind::Track,
            name: "Added to Cart",
            properties: None,
        },
    ]);
    assert_eq!(index.event_names(), ["Added to Cart", "Checkout"]);
    assert_eq!(index.property_keys(), ["currency", "path", "total"]);
}
