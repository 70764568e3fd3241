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
    Event::parse(v.clone(), &ctx).unwrap()
}

/// Random rules of the audience language, covering every construct, operator and odd name.
pub mod rules {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use crate::audience::rule::*;

    fn arb_name() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "plan",
            "address.city",
            "last",
            "with space",
            "über",
            "a'b",
            "_x$1",
            "trait",
            "in",
        ])
        .prop_map(str::to_owned)
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(json!(null)),
            any::<bool>().prop_map(Value::from),
            (-1000i64..1000).prop_map(Value::from),
            (-100.0f64..100.0).prop_map(|f| json!(f)),
            prop::sample::select(vec!["trial", "", "a \"quoted\" \\ value", "line\nbreak"])
                .prop_map(Value::from),
        ]
    }

    fn arb_span() -> impl Strategy<Value = Span> {
        (1u32..500, prop::sample::select(Unit::ALL.to_vec()))
            .prop_map(|(amount, unit)| Span { amount, unit })
    }

    fn arb_instant() -> impl Strategy<Value = Instant> {
        prop::sample::select(vec![
            "2026-01-01",
            "2026-03-04T05:06:07Z",
            "2026-02-01T00:00:00.5+02:00",
        ])
        .prop_map(|t| Instant::parse(t).unwrap())
    }

    pub fn arb_test(relative: bool, time_only: bool) -> BoxedStrategy<Test> {
        let time = prop_oneof![
            arb_instant().prop_map(Test::Before),
            arb_instant().prop_map(Test::After),
        ];
        let relative_time = prop_oneof![
            arb_span().prop_map(Test::MoreThanAgo),
            arb_span().prop_map(Test::LessThanAgo),
        ];
        let time = if relative {
            prop_oneof![time, relative_time].boxed()
        } else {
            time.boxed()
        };
        if time_only {
            return time;
        }
        let list = || prop::collection::vec(arb_value(), 1..3);
        prop_oneof![
            arb_value().prop_map(Test::Eq),
            arb_value().prop_map(Test::Neq),
            list().prop_map(Test::In),
            list().prop_map(Test::NotIn),
            arb_value().prop_map(Test::Gt),
            arb_value().prop_map(Test::Gte),
            arb_value().prop_map(Test::Lt),
            arb_value().prop_map(Test::Lte),
            (arb_value(), arb_value()).prop_map(|(a, b)| Test::Between(a, b)),
            "[a-z\"]{0,4}".prop_map(Test::Contains),
            "[a-z]{0,4}".prop_map(Test::StartsWith),
            Just(Test::Exists),
            Just(Test::NotExists),
            time,
        ]
        .boxed()
    }

    fn arb_filters() -> impl Strategy<Value = Vec<Filter>> {
        prop::collection::vec(
            (arb_name(), arb_test(false, false)).prop_map(|(path, test)| Filter { path, test }),
            0..3,
        )
    }

    fn arb_window() -> impl Strategy<Value = Window> {
        prop_oneof![
            Just(Window::Ever),
            arb_span().prop_map(Window::Last),
            Just(Window::Between(
                Instant::parse("2026-01-01").unwrap(),
                Instant::parse("2026-02-01T00:00:00Z").unwrap()
            )),
        ]
    }

    fn arb_event() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["Order Completed", "page", "with \"quotes\"", "and"])
            .prop_map(str::to_owned)
    }

    fn arb_atom() -> impl Strategy<Value = Rule> {
        let count = (prop::sample::select(CountOp::ALL.to_vec()), 0u64..10)
            .prop_map(|(op, value)| Count { op, value });
        prop_oneof![
            (arb_name(), arb_test(true, false)).prop_map(|(path, test)| Rule::Trait { path, test }),
            (arb_name(), arb_test(true, false))
                .prop_map(|(path, test)| Rule::GroupTrait { path, test }),
            ("[a-z][a-z0-9_]{0,6}", arb_test(true, false))
                .prop_filter(
                    "not a keyword",
                    |(n, _)| !crate::audience::text::is_keyword(n)
                )
                .prop_map(|(name, test)| Rule::Computed { name, test }),
            (arb_event(), arb_filters(), count, arb_window()).prop_map(
                |(event, filters, count, window)| Rule::Performed {
                    event,
                    filters,
                    count,
                    window
                }
            ),
            (
                arb_event(),
                arb_filters(),
                arb_test(true, true),
                any::<bool>()
            )
                .prop_map(|(event, filters, test, first)| Rule::performed_at(
                    first, event, filters, test
                )),
            (
                prop::collection::vec(
                    (arb_event(), arb_filters())
                        .prop_map(|(event, filters)| Step { event, filters }),
                    2..4
                ),
                arb_span(),
                arb_window()
            )
                .prop_map(|(steps, within, window)| Rule::Sequence {
                    steps,
                    within,
                    window
                }),
            "[a-z_-]{1,8}".prop_map(Rule::InAudience),
        ]
    }

    pub fn arb_rule() -> impl Strategy<Value = Rule> {
        arb_atom().prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Rule::And),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Rule::Or),
                inner.prop_map(|r| Rule::Not(Box::new(r))),
            ]
        })
    }
}

/// Fuzz input as the `event_parser` target (`fuzz/`) reads it: the first byte picks the
/// endpoint's time mode and a batch-level `sentAt`, the rest is the message as sent.
pub fn fuzz_case(data: &[u8]) -> Option<(ParseContext<'static>, &str)> {
    const BATCH_SENT_AT: [Option<&str>; 4] = [
        None,
        Some("2026-12-04T12:00:05Z"),
        Some("9999-12-31T23:59:59Z"),
        Some("0001-01-01T00:00:00Z"),
    ];
    let (&mode, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let ctx = ParseContext {
        received_at: parse_timestamp("2026-12-04T12:00:00Z")?,
        batch_sent_at: BATCH_SENT_AT[usize::from(mode & 3)],
        implied_type: None,
        time_mode: if mode & 4 == 0 {
            TimeMode::Live
        } else {
            TimeMode::Import
        },
        fallback_message_id: || "generated".to_owned(),
    };
    Some((ctx, text))
}

/// The property the fuzz target and its regression corpus check: parsing never panics, and
/// whatever ingest accepts reads back with the processor's reader, as the same event.
pub fn accepted_reads_back(data: &[u8]) {
    let Some((ctx, text)) = fuzz_case(data) else {
        return;
    };
    if let Ok(incoming) = crate::event::Incoming::parse(text, &ctx, None) {
        let event = crate::event::read_stored(&incoming.json)
            .unwrap_or_else(|e| panic!("accepted {text:?} but it reads back as {e}"));
        assert_eq!(event.message_id, incoming.message_id);
        assert_eq!(event.event_type, incoming.event_type);
        assert_eq!(event.received_at, ctx.received_at);
    }
}
