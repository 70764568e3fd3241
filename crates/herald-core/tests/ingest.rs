//! Whatever ingest accepts, the processor can read: random JSON-ish messages, written as text
//! (so they can hold what a `serde_json::Value` cannot: lone surrogate escapes, numbers beyond
//! a double, years beyond four digits), go through ingest's parser; every accepted one must read
//! back with the processor's reader, agree with what ingest computed, and nothing may panic.

use chrono::{DateTime, Utc};
use herald_core::event::{read_stored, EventType, Incoming, ParseContext, TimeMode};
use herald_core::timestamp::{in_range, parse_timestamp};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// A JSON string literal whose content may hold escapes a tree refuses.
fn string_literal() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9 _.@-]{0,6}".prop_map(|s| s),
        1 => Just("\\ud800".to_owned()),
        1 => Just("\\udfff".to_owned()),
        1 => Just("\\ud83d\\ude00".to_owned()),
        1 => Just("\\ud83d\\u0041".to_owned()),
        1 => Just("\\u0000".to_owned()),
        1 => Just("\\n\\t\\\"\\\\\\/".to_owned()),
        1 => Just("é\u{301}🦀".to_owned()),
        1 => Just("\u{feff}\u{202e}".to_owned()),
    ];
    prop::collection::vec(piece, 0..4).prop_map(|p| format!("\"{}\"", p.concat()))
}

fn number_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| f.to_string()),
        Just("1e400".to_owned()),
        Just("-1e400".to_owned()),
        Just("1e-400".to_owned()),
        Just("1".repeat(400)),
        Just(format!("-{}", "9".repeat(30))),
        Just("1.7976931348623157e308".to_owned()),
        Just("0.0000000000000000000000001".to_owned()),
    ]
}

/// Date-times as SDKs send them, and as they should not.
fn time_literal() -> impl Strategy<Value = String> {
    let year = prop_oneof![
        Just(0i32),
        Just(1),
        Just(1969),
        Just(2026),
        Just(9999),
        Just(10000),
        -20000i32..20000,
    ];
    let offset = prop_oneof![
        Just("Z".to_owned()),
        Just("+14:00".to_owned()),
        Just("-12:00".to_owned()),
        Just("".to_owned()),
    ];
    prop_oneof![
        6 => (year, 1u32..=12, 1u32..=28, 0u32..24, offset).prop_map(|(y, mo, d, h, off)| {
            format!("\"{y:04}-{mo:02}-{d:02}T{h:02}:00:00.000{off}\"")
        }),
        1 => Just("\"0001-01-01T00:00:00Z\"".to_owned()),
        1 => Just("\"9999-12-31T23:59:59.999Z\"".to_owned()),
        1 => Just("\"yesterday\"".to_owned()),
        1 => number_literal(),
        1 => Just("null".to_owned()),
    ]
}

fn scalar_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => string_literal(),
        2 => number_literal(),
        1 => Just("true".to_owned()),
        1 => Just("null".to_owned()),
        1 => time_literal(),
    ]
}

fn value_literal() -> impl Strategy<Value = String> {
    scalar_literal().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((string_literal(), inner), 0..4).prop_map(|kv| {
                let members: Vec<String> =
                    kv.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// A message: mostly the fields ingest reads, with odd values, plus unknown members.
fn message() -> impl Strategy<Value = String> {
    let known = prop_oneof![
        Just("\"type\""),
        Just("\"userId\""),
        Just("\"anonymousId\""),
        Just("\"event\""),
        Just("\"name\""),
        Just("\"groupId\""),
        Just("\"previousId\""),
        Just("\"messageId\""),
        Just("\"timestamp\""),
        Just("\"originalTimestamp\""),
        Just("\"sentAt\""),
        Just("\"properties\""),
        Just("\"traits\""),
        Just("\"context\""),
    ]
    .prop_map(str::to_owned);
    let key = prop_oneof![3 => known, 1 => string_literal()];
    let value = prop_oneof![
        2 => scalar_literal(),
        2 => time_literal(),
        2 => value_literal(),
        1 => Just("\"track\"".to_owned()),
        1 => Just("\"identify\"".to_owned()),
    ];
    let base = (
        prop::sample::select(vec!["identify", "track", "page", "group", "alias", "screen"]),
        string_literal(),
        time_literal(),
        time_literal(),
    )
        .prop_map(|(t, id, ts, sent)| {
            format!(
                "\"type\":\"{t}\",\"userId\":{id},\"event\":\"E\",\"groupId\":\"g\",\"previousId\":\"p\",\"timestamp\":{ts},\"sentAt\":{sent}"
            )
        });
    (base, prop::collection::vec((key, value), 0..6)).prop_map(|(base, extra)| {
        let mut members = vec![base];
        members.extend(extra.into_iter().map(|(k, v)| format!("{k}:{v}")));
        format!("{{{}}}", members.join(","))
    })
}

fn context(
    received: DateTime<Utc>,
    batch_sent_at: Option<&str>,
    mode: TimeMode,
) -> ParseContext<'_> {
    ParseContext {
        received_at: received,
        batch_sent_at,
        implied_type: None,
        time_mode: mode,
        fallback_message_id: || "generated".to_owned(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn accepted_events_read_back(
        text in message(),
        batch_sent_at in prop::option::of(time_literal()),
        import in any::<bool>(),
        shared in prop::option::of(value_literal()),
    ) {
        let received = parse_timestamp("2026-12-04T12:00:00Z").unwrap();
        // A batch's `sentAt` and `context` reach the parser already decoded, as ingest decodes them.
        let sent_at: Option<String> = batch_sent_at
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v.as_str().map(str::to_owned));
        let shared: Option<Map<String, Value>> =
            shared.and_then(|s| serde_json::from_str(&s).ok());
        let mode = if import { TimeMode::Import } else { TimeMode::Live };
        let ctx = context(received, sent_at.as_deref(), mode);
        if let Ok(incoming) = Incoming::parse(&text, &ctx, shared.as_ref()) {
            let event = read_stored(&incoming.json);
            prop_assert!(event.is_ok(), "accepted {text} but stored {} reads back as {event:?}", incoming.json);
            let event = event.unwrap();
            prop_assert_eq!(&event.message_id, &incoming.message_id);
            prop_assert_eq!(event.event_type, incoming.event_type);
            prop_assert_eq!(event.received_at, received);
            prop_assert!(in_range(event.timestamp), "{}", event.timestamp);
            // Reading the stored text again gives the same event: a replay sees what the
            // first pass saw.
            let again = read_stored(&serde_json::to_string(&event.payload).unwrap()).unwrap();
            prop_assert_eq!(again, event);
        }
    }
}

#[test]
fn the_inputs_the_fuzzer_found_are_refused_with_a_code() {
    let received = parse_timestamp("2026-12-04T12:00:00Z").unwrap();
    let live = context(received, None, TimeMode::Live);
    let cases = [
        (
            r#"{"type":"track","event":"A","userId":"u","timestamp":"0001-01-01T00:00:00Z","sentAt":"9999-12-31T23:59:59Z"}"#,
            "timestamp_out_of_range",
        ),
        (
            r#"{"type":"track","event":"A","userId":"u","timestamp":"9999-12-31T23:59:59Z","sentAt":"0001-01-01T00:00:00Z"}"#,
            "timestamp_out_of_range",
        ),
        (
            r#"{"type":"track","event":"A","userId":"u","timestamp":"0000-06-01T00:00:00Z"}"#,
            "timestamp_out_of_range",
        ),
        (
            r#"{"type":"track","event":"A","userId":"u","properties":{"p":"\ud800"}}"#,
            "invalid_json",
        ),
        (
            r#"{"type":"track","event":"A","userId":"u","properties":{"\udc00":1}}"#,
            "invalid_json",
        ),
        (
            r#"{"type":"track","event":"A","userId":"u","extra":"\ud800"}"#,
            "invalid_json",
        ),
        (
            r#"{"type":"track","event":"\ud800","userId":"u"}"#,
            "invalid_json",
        ),
        (r#"{"type":"identify","userId":"\ud800"}"#, "invalid_json"),
        (
            r#"{"type":"track","event":"A","userId":"u","properties":{"n":1e400}}"#,
            "invalid_json",
        ),
        (r#"{"type":"identify","userId":-1e400}"#, "invalid_json"),
        (
            r#"{"type":"identify","userId":"u","timestamp":1e400}"#,
            "invalid_json",
        ),
        (
            r#"{"type":"identify","userId":"u","sentAt":1e400}"#,
            "invalid_json",
        ),
    ];
    for (text, code) in cases {
        assert_eq!(
            Incoming::parse(text, &live, None).unwrap_err().code,
            code,
            "{text}"
        );
    }
    let huge = format!(r#"{{"type":"identify","userId":{}}}"#, "1".repeat(400));
    assert_eq!(
        Incoming::parse(&huge, &live, None).unwrap_err().code,
        "invalid_json"
    );
    // A batch's `sentAt` far from the events' own times.
    let batch = context(received, Some("9999-12-31T23:59:59Z"), TimeMode::Live);
    let text = r#"{"type":"track","event":"A","userId":"u","timestamp":"0001-01-01T00:00:00Z"}"#;
    assert_eq!(
        Incoming::parse(text, &batch, None).unwrap_err().code,
        "timestamp_out_of_range"
    );
    // Valid surrogate pairs and in-range extremes are fine, and read back.
    let ok = r#"{"type":"track","event":"\ud83d\ude00","userId":"u","timestamp":"0001-01-01T00:00:00Z","properties":{"n":1.7976931348623157e308}}"#;
    let import = context(received, None, TimeMode::Import);
    let event = Incoming::parse(ok, &import, None)
        .unwrap()
        .to_event()
        .unwrap();
    assert_eq!(event.event.as_deref(), Some("😀"));
    assert_eq!(event.event_type, EventType::Track);
}

/// Every input in the fuzz target's regression corpus (`fuzz/regressions`: what fuzzing found,
/// and the inputs of the issue that led to it) keeps the property the target checks.
#[test]
fn the_fuzz_regression_corpus_reads_back() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        herald_core::testing::accepted_reads_back(&data);
        count += 1;
    }
    assert!(
        count >= 6,
        "the corpus at {} has {count} inputs",
        dir.display()
    );
}
