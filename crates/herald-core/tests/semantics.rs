//! Tables of the audience semantics docs/audiences.md promises ("Semantics, decided", "Tests",
//! "Windows", "Computed traits"). Every row is written from the docs by hand — input, rule in
//! the text form, expected result — never computed by the code under test. Rules go through
//! the text parser and the one evaluator (`Catalog::evaluate`), with event memory folded by
//! `ProfileFacts::fold`, as live processing does.
//!
//! Readings of the docs where they are not explicit are marked `READING:`.

use herald_core::audience::catalog::{Aggregate, AudienceDef, ComputedTrait};
use herald_core::audience::rule::Window;
use herald_core::audience::{text, Catalog, ProfileFacts, Subject};
use herald_core::event::{Event, ParseContext, TimeMode};
use herald_core::timestamp::parse_timestamp;
use serde_json::{json, Map, Value};

/// "Now" in every row: 2026-03-01T00:00:00Z.
const NOW: &str = "2026-03-01T00:00:00Z";
const MS: i64 = 1;
const SECOND: i64 = 1000 * MS;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn now() -> i64 {
    parse_timestamp(NOW).unwrap().timestamp_millis()
}

fn catalog(rule: &str) -> Catalog {
    let rule = text::parse(rule).unwrap_or_else(|e| panic!("{rule}: {e:?}"));
    Catalog::new(
        vec![],
        vec![AudienceDef {
            id: "a".into(),
            rule,
        }],
    )
    .unwrap()
}

/// Whether a profile with these traits (and no events) is in the audience of `rule` at NOW.
fn trait_rule_holds(traits: &Value, rule: &str) -> bool {
    let catalog = catalog(rule);
    let traits: Map<String, Value> = traits.as_object().unwrap().clone();
    let facts = ProfileFacts::default();
    let subject = Subject {
        traits: &traits,
        groups: &[],
        facts: &facts,
    };
    catalog.evaluate(&subject, now()).members.contains("a")
}

/// A logged event: (name, time as an offset from NOW in ms, messageId, properties). The name
/// `identify`/`page`/`group` makes that call; anything else is a track event of that name.
type Ev = (&'static str, i64, &'static str, Value);

fn event(name: &str, offset: i64, message_id: &str, props: &Value) -> Event {
    let at = chrono::DateTime::from_timestamp_millis(now() + offset).unwrap();
    let mut m = json!({
        "anonymousId": "a1",
        "messageId": message_id,
        "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    });
    let o = m.as_object_mut().unwrap();
    match name {
        "identify" | "group" => {
            o.insert("type".into(), json!(name));
            o.insert("traits".into(), props.clone());
            if name == "group" {
                o.insert("groupId".into(), json!("g"));
            }
        }
        "page" | "screen" => {
            o.insert("type".into(), json!(name));
            o.insert("properties".into(), props.clone());
        }
        _ => {
            o.insert("type".into(), json!("track"));
            o.insert("event".into(), json!(name));
            o.insert("properties".into(), props.clone());
        }
    }
    let ctx = ParseContext {
        received_at: parse_timestamp(NOW).unwrap(),
        batch_sent_at: None,
        implied_type: None,
        time_mode: TimeMode::Import,
        fallback_message_id: || "x".to_owned(),
    };
    Event::parse(m, &ctx).unwrap()
}

/// Fold the events (log positions in the order given), each when it happened (a future one
/// when it arrives, at NOW), and evaluate at NOW.
fn outcome(catalog: &Catalog, events: &[Ev]) -> herald_core::audience::Outcome {
    let mut facts = ProfileFacts::default();
    for (i, (name, offset, id, props)) in events.iter().enumerate() {
        facts.fold(
            catalog.facts(),
            i as u64 + 1,
            &event(name, *offset, id, props),
            now() + (*offset).min(0),
        );
    }
    let traits = Map::new();
    let subject = Subject {
        traits: &traits,
        groups: &[],
        facts: &facts,
    };
    catalog.evaluate(&subject, now())
}

fn event_rule_holds(events: &[Ev], rule: &str) -> bool {
    outcome(&catalog(rule), events).members.contains("a")
}

fn check_rows<R: std::fmt::Debug>(rows: &[R], holds: impl Fn(&R) -> (bool, bool)) {
    let wrong: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let (expected, got) = holds(row);
            (expected != got).then(|| format!("{row:?}: docs say {expected}, code says {got}"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "rows that disagree:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn tests_of_one_value() {
    let rows: &[(Value, &str, bool)] = &[
        // Numbers compare numerically.
        (json!({"x": 1}), "trait x = 1.0", true),
        (json!({"x": 1.0}), "trait x = 1", true),
        (json!({"x": 1.5}), "trait x = 1.5", true),
        (json!({"x": 1}), "trait x = 2", false),
        (json!({"x": -0.0}), "trait x = 0", true),
        // ... exactly, also past 2^53 (64-bit ids are common traits).
        (
            json!({"x": 9007199254740993u64}),
            "trait x = 9007199254740992",
            false,
        ),
        (
            json!({"x": 9007199254740993u64}),
            "trait x > 9007199254740992",
            true,
        ),
        (
            json!({"x": 9007199254740993u64}),
            "trait x = 9007199254740993",
            true,
        ),
        (json!({"x": 18446744073709551615u64}), "trait x > -1", true),
        (
            json!({"x": 9007199254740993u64}),
            "trait x > 9007199254740992.0",
            true,
        ),
        (
            json!({"x": 9007199254740992.0}),
            "trait x < 9007199254740993",
            true,
        ),
        (json!({"x": 2}), "trait x > 1.5", true),
        (json!({"x": -2}), "trait x < -1.5", true),
        (json!({"x": -2}), "trait x > -2.5", true),
        (json!({"x": 2.5}), "trait x between 2 and 3", true),
        (json!({"x": 10}), "trait x > 9.5", true),
        (json!({"x": 10}), "trait x >= 10.0", true),
        (json!({"x": 10}), "trait x > 10", false),
        (json!({"x": 10}), "trait x < 10", false),
        (json!({"x": 10}), "trait x <= 10", true),
        (json!({"x": -3}), "trait x < -2.5", true),
        // Strings compare as strings (not as numbers).
        (json!({"x": "b"}), "trait x > \"a\"", true),
        (json!({"x": "10"}), "trait x < \"9\"", true),
        (json!({"x": "pro"}), "trait x = \"pro\"", true),
        (json!({"x": "Pro"}), "trait x = \"pro\"", false),
        // Comparing different types is false.
        (json!({"x": "1"}), "trait x = 1", false),
        (json!({"x": 1}), "trait x = \"1\"", false),
        (json!({"x": "10"}), "trait x > 9", false),
        (json!({"x": 10}), "trait x < \"9\"", false),
        (json!({"x": true}), "trait x = 1", false),
        (json!({"x": true}), "trait x = true", true),
        (json!({"x": [1]}), "trait x = 1", false),
        (json!({"x": "3"}), "trait x between 1 and 5", false),
        // READING: `!=` is the negation of `=`, so `!=` between different types is true (the
        // docs' "comparing different types is false" read as `=` and the orderings; they make
        // `!=` true when the value is missing, which only a negation does).
        (json!({"x": "1"}), "trait x != 1", true),
        (json!({"x": 1}), "trait x != 1.0", false),
        (json!({"x": 2}), "trait x != 1", true),
        // `!=` and `not in` are true when the value is missing; `null` counts as missing.
        (json!({}), "trait x != 1", true),
        (json!({"x": null}), "trait x != 1", true),
        (json!({}), "trait x not in [1, 2]", true),
        (json!({"x": null}), "trait x not in [1]", true),
        (json!({"x": 2}), "trait x not in [1, 2.0]", false),
        (json!({"x": 3}), "trait x not in [1, 2]", true),
        (json!({"x": 3}), "trait x in [1, 3.0]", true),
        (json!({"x": "3"}), "trait x in [1, 3]", false),
        (json!({}), "trait x in [1]", false),
        (json!({"x": null}), "trait x in [1]", false),
        // Every other test fails on a missing value.
        (json!({}), "trait x = 1", false),
        (json!({}), "trait x > 1", false),
        (json!({}), "trait x < 1", false),
        (json!({"x": null}), "trait x <= 1", false),
        (json!({}), "trait x between 1 and 2", false),
        (json!({}), "trait x contains \"a\"", false),
        (json!({}), "trait x starts with \"a\"", false),
        // `between A and B` is inclusive.
        (json!({"x": 5}), "trait x between 1 and 5", true),
        (json!({"x": 1}), "trait x between 1 and 5", true),
        (json!({"x": 0.5}), "trait x between 1 and 5", false),
        (json!({"x": 5.5}), "trait x between 1 and 5", false),
        (json!({"x": "c"}), "trait x between \"a\" and \"c\"", true),
        // `contains`: a substring, or an element of an array.
        (
            json!({"x": "hello world"}),
            "trait x contains \"lo w\"",
            true,
        ),
        (json!({"x": "hello"}), "trait x contains \"Hello\"", false),
        (json!({"x": ["a", "bc"]}), "trait x contains \"bc\"", true),
        (json!({"x": ["abc"]}), "trait x contains \"b\"", false),
        (json!({"x": 123}), "trait x contains \"2\"", false),
        // `starts with`.
        (
            json!({"x": "trial-7"}),
            "trait x starts with \"trial\"",
            true,
        ),
        (json!({"x": "pro"}), "trait x starts with \"trial\"", false),
        (json!({"x": 7}), "trait x starts with \"7\"", false),
        // `exists`: a value that is not null, whatever it is.
        (json!({"x": 0}), "trait x exists", true),
        (json!({"x": ""}), "trait x exists", true),
        (json!({"x": false}), "trait x exists", true),
        (json!({"x": []}), "trait x exists", true),
        (json!({"x": null}), "trait x exists", false),
        (json!({}), "trait x exists", false),
        (json!({"x": null}), "trait x not exists", true),
        (json!({}), "trait x not exists", true),
        (json!({"x": 0}), "trait x not exists", false),
        // Dots for nesting.
        (
            json!({"address": {"city": "Paris"}}),
            "trait address.city = \"Paris\"",
            true,
        ),
        (
            json!({"address": {"city": "Paris"}}),
            "trait address.zip exists",
            false,
        ),
        // Time tests: an RFC 3339 timestamp or a YYYY-MM-DD date (UTC); anything else fails.
        // `before` and `after` are strict.
        (
            json!({"d": "2026-01-01"}),
            "trait d before \"2026-01-01\"",
            false,
        ),
        (
            json!({"d": "2026-01-01"}),
            "trait d after \"2026-01-01\"",
            false,
        ),
        (
            json!({"d": "2025-12-31"}),
            "trait d before \"2026-01-01\"",
            true,
        ),
        (
            json!({"d": "2026-01-01T00:00:00.001Z"}),
            "trait d after \"2026-01-01\"",
            true,
        ),
        (
            json!({"d": "2026-01-01T00:00:00Z"}),
            "trait d before \"2026-01-01T00:00:00.001Z\"",
            true,
        ),
        (
            json!({"d": "2026-01-01T01:00:00+01:00"}),
            "trait d before \"2026-01-01\"",
            false,
        ),
        (
            json!({"d": "2026-01-01T01:00:00+01:00"}),
            "trait d after \"2025-12-31T23:59:59Z\"",
            true,
        ),
        (
            json!({"d": "next tuesday"}),
            "trait d before \"2030-01-01\"",
            false,
        ),
        (
            json!({"d": "next tuesday"}),
            "trait d after \"2000-01-01\"",
            false,
        ),
        (
            json!({"d": 1767225600000u64}),
            "trait d before \"2030-01-01\"",
            false,
        ),
        (json!({}), "trait d before \"2030-01-01\"", false),
        (json!({"d": null}), "trait d after \"2000-01-01\"", false),
        // Relative time tests, NOW = 2026-03-01.
        (
            json!({"d": "2026-02-14"}),
            "trait d more than 14 days ago",
            true,
        ),
        (
            json!({"d": "2026-02-16"}),
            "trait d more than 14 days ago",
            false,
        ),
        (
            json!({"d": "2026-02-16"}),
            "trait d less than 14 days ago",
            true,
        ),
        (
            json!({"d": "2026-02-14"}),
            "trait d less than 14 days ago",
            false,
        ),
        (
            json!({"d": "2026-02-28T23:00:00Z"}),
            "trait d less than 2 hours ago",
            true,
        ),
        (
            json!({"d": "2026-02-28T21:59:59Z"}),
            "trait d less than 2 hours ago",
            false,
        ),
        (
            json!({"d": "2026-02-15"}),
            "trait d less than 14 days ago",
            false,
        ),
        (
            json!({"d": "garbage"}),
            "trait d more than 1 days ago",
            false,
        ),
        (json!({}), "trait d less than 1 days ago", false),
    ];
    check_rows(rows, |(traits, rule, expected)| {
        (*expected, trait_rule_holds(traits, rule))
    });
}

/// "more than 14 days ago" at exactly 14 days: docs/audiences.md says the two relative tests
/// are complements, "more than" holding from the instant the span has passed and "less than"
/// until then, so a date exactly 14 days old is more than, and not less than, 14 days ago.
#[test]
fn relative_tests_are_complements_at_the_boundary() {
    let exactly = json!({"d": "2026-02-15"});
    assert!(trait_rule_holds(&exactly, "trait d more than 14 days ago"));
    assert!(!trait_rule_holds(&exactly, "trait d less than 14 days ago"));
}

#[test]
fn event_windows_and_counts() {
    let p = || json!({});
    let rows: Vec<(Vec<Ev>, &str, bool)> = vec![
        // "In the last N days": the event's time is after now − N (strict).
        (
            vec![("E", -7 * DAY, "m1", p())],
            "performed \"E\" in last 7 days",
            false,
        ),
        (
            vec![("E", -7 * DAY + MS, "m1", p())],
            "performed \"E\" in last 7 days",
            true,
        ),
        (
            vec![("E", -DAY, "m1", p())],
            "performed \"E\" in last 7 days",
            true,
        ),
        (
            vec![("E", -8 * DAY, "m1", p())],
            "performed \"E\" in last 7 days",
            false,
        ),
        (
            vec![("E", -24 * HOUR, "m1", p())],
            "performed \"E\" in last 24 hours",
            false,
        ),
        (
            vec![("E", -24 * HOUR + MINUTE, "m1", p())],
            "performed \"E\" in last 24 hours",
            true,
        ),
        (
            vec![("E", -90 * MINUTE, "m1", p())],
            "performed \"E\" in last 90 minutes",
            false,
        ),
        (
            vec![("E", -89 * MINUTE, "m1", p())],
            "performed \"E\" in last 90 minutes",
            true,
        ),
        (
            vec![("E", -14 * DAY, "m1", p())],
            "performed \"E\" in last 2 weeks",
            false,
        ),
        (
            vec![("E", -13 * DAY, "m1", p())],
            "performed \"E\" in last 2 weeks",
            true,
        ),
        // A future timestamp counts from when it arrives.
        (
            vec![("E", DAY, "m1", p())],
            "performed \"E\" in last 7 days",
            true,
        ),
        // `ever` is the default window.
        (vec![("E", -3000 * DAY, "m1", p())], "performed \"E\"", true),
        (
            vec![("E", -3000 * DAY, "m1", p())],
            "performed \"E\" >= 1 ever",
            true,
        ),
        // `between "A" and "B"` is [A, B).
        (
            vec![("E", -28 * DAY, "m1", p())],
            "performed \"E\" between \"2026-02-01\" and \"2026-02-15\"",
            true,
        ),
        (
            vec![("E", -14 * DAY, "m1", p())],
            "performed \"E\" between \"2026-02-01\" and \"2026-02-15\"",
            false,
        ),
        (
            vec![("E", -14 * DAY - MS, "m1", p())],
            "performed \"E\" between \"2026-02-01\" and \"2026-02-15\"",
            true,
        ),
        (
            vec![("E", -28 * DAY - MS, "m1", p())],
            "performed \"E\" between \"2026-02-01\" and \"2026-02-15\"",
            false,
        ),
        // Counts: three inside the window, one outside.
        (
            three_in_one_out(),
            "performed \"E\" >= 3 in last 7 days",
            true,
        ),
        (
            three_in_one_out(),
            "performed \"E\" > 3 in last 7 days",
            false,
        ),
        (
            three_in_one_out(),
            "performed \"E\" = 3 in last 7 days",
            true,
        ),
        (
            three_in_one_out(),
            "performed \"E\" != 3 in last 7 days",
            false,
        ),
        (
            three_in_one_out(),
            "performed \"E\" < 3 in last 7 days",
            false,
        ),
        (
            three_in_one_out(),
            "performed \"E\" <= 3 in last 7 days",
            true,
        ),
        (three_in_one_out(), "performed \"E\" = 4", true),
        (three_in_one_out(), "performed \"E\" in last 7 days", true),
        // None inside: `= 0` holds, the default `>= 1` does not, `not performed` does.
        (
            vec![("E", -7 * DAY, "m1", p())],
            "performed \"E\" = 0 in last 7 days",
            true,
        ),
        (vec![], "performed \"E\" = 0 in last 7 days", true),
        (vec![], "performed \"E\"", false),
        (
            vec![("E", -7 * DAY, "m1", p())],
            "not performed \"E\" in last 7 days",
            true,
        ),
        (vec![("F", -DAY, "m1", p())], "performed \"E\"", false),
        // One event counts once per messageId and time; the same id at another time is
        // another event.
        (
            vec![("E", -DAY, "m1", p()), ("E", -DAY, "m1", p())],
            "performed \"E\" = 1",
            true,
        ),
        (
            vec![("E", -DAY, "m1", p()), ("E", -2 * DAY, "m1", p())],
            "performed \"E\" = 2",
            true,
        ),
        (
            vec![("E", -DAY, "m1", p()), ("E", -DAY, "m2", p())],
            "performed \"E\" = 2",
            true,
        ),
        // Filters read `properties` (`traits` for identify and group), with the value tests.
        (
            vec![("E", -DAY, "m1", json!({"total": 20}))],
            "performed \"E\" where total > 20",
            false,
        ),
        (
            vec![("E", -DAY, "m1", json!({"total": 21}))],
            "performed \"E\" where total > 20",
            true,
        ),
        (
            vec![("E", -DAY, "m1", json!({"total": "21"}))],
            "performed \"E\" where total > 20",
            false,
        ),
        (
            vec![("E", -DAY, "m1", json!({}))],
            "performed \"E\" where total != 5",
            true,
        ),
        (
            vec![("E", -DAY, "m1", json!({"total": null}))],
            "performed \"E\" where total exists",
            false,
        ),
        (
            vec![("E", -DAY, "m1", json!({"cart": {"value": 60}}))],
            "performed \"E\" where cart.value >= 60",
            true,
        ),
        (
            vec![("identify", -DAY, "m1", json!({"plan": "pro"}))],
            "performed \"identify\" where plan = \"pro\"",
            true,
        ),
        (
            vec![("group", -DAY, "m1", json!({"tier": 2}))],
            "performed \"group\" where tier = 2",
            true,
        ),
        (
            vec![("page", -DAY, "m1", json!({"path": "/x"}))],
            "performed \"page\" where path = \"/x\"",
            true,
        ),
        (
            vec![("page", -DAY, "m1", json!({}))],
            "performed \"identify\"",
            false,
        ),
        // First / last performed: the time tests on the first / last matching event.
        (
            vec![("E", -40 * DAY, "m1", p()), ("E", -DAY, "m2", p())],
            "last performed \"E\" more than 30 days ago",
            false,
        ),
        (
            vec![("E", -40 * DAY, "m1", p()), ("E", -DAY, "m2", p())],
            "first performed \"E\" more than 30 days ago",
            true,
        ),
        (
            vec![("E", -40 * DAY, "m1", p())],
            "last performed \"E\" more than 30 days ago",
            true,
        ),
        (
            vec![("E", -40 * DAY, "m1", p())],
            "last performed \"E\" less than 30 days ago",
            false,
        ),
        (vec![], "last performed \"E\" more than 30 days ago", false),
        (
            vec![("E", -28 * DAY, "m1", p())],
            "first performed \"E\" before \"2026-02-01\"",
            false,
        ),
        (
            vec![("E", -28 * DAY - MS, "m1", p())],
            "first performed \"E\" before \"2026-02-01\"",
            true,
        ),
        (
            vec![("E", -28 * DAY, "m1", p())],
            "last performed \"E\" after \"2026-02-01\"",
            false,
        ),
        // Sequences: distinct events ordered by (time, log position), the whole chain within
        // `within`, every step inside the window.
        (
            vec![("A", -3 * HOUR, "m1", p()), ("B", -2 * HOUR, "m2", p())],
            "sequence \"A\" then \"B\" within 2 hours",
            true,
        ),
        (
            vec![("B", -3 * HOUR, "m1", p()), ("A", -2 * HOUR, "m2", p())],
            "sequence \"A\" then \"B\" within 2 hours",
            false,
        ),
        (
            vec![("A", -5 * HOUR, "m1", p()), ("B", -2 * HOUR, "m2", p())],
            "sequence \"A\" then \"B\" within 2 hours",
            false,
        ),
        // READING: "within 2 hours" includes a chain of exactly 2 hours.
        (
            vec![("A", -4 * HOUR, "m1", p()), ("B", -2 * HOUR, "m2", p())],
            "sequence \"A\" then \"B\" within 2 hours",
            true,
        ),
        // Equal times: the one later in the log is later.
        (
            vec![("A", -HOUR, "m1", p()), ("B", -HOUR, "m2", p())],
            "sequence \"A\" then \"B\" within 1 hours",
            true,
        ),
        (
            vec![("B", -HOUR, "m1", p()), ("A", -HOUR, "m2", p())],
            "sequence \"A\" then \"B\" within 1 hours",
            false,
        ),
        // Distinct events: one event is not two steps.
        (
            vec![("A", -HOUR, "m1", p())],
            "sequence \"A\" then \"A\" within 1 hours",
            false,
        ),
        (
            vec![("A", -2 * HOUR, "m1", p()), ("A", -HOUR, "m2", p())],
            "sequence \"A\" then \"A\" within 1 hours",
            true,
        ),
        // Every step inside the window.
        (
            vec![
                ("A", -7 * DAY - HOUR, "m1", p()),
                ("B", -7 * DAY + HOUR, "m2", p()),
            ],
            "sequence \"A\" then \"B\" within 3 hours in last 7 days",
            false,
        ),
        (
            vec![
                ("A", -7 * DAY + HOUR, "m1", p()),
                ("B", -7 * DAY + 2 * HOUR, "m2", p()),
            ],
            "sequence \"A\" then \"B\" within 3 hours in last 7 days",
            true,
        ),
        // Step filters.
        (
            vec![
                ("A", -2 * HOUR, "m1", json!({"qty": 1})),
                ("B", -HOUR, "m2", p()),
            ],
            "sequence \"A\" where qty >= 2 then \"B\" within 3 hours",
            false,
        ),
        (
            vec![
                ("A", -2 * HOUR, "m1", json!({"qty": 2})),
                ("B", -HOUR, "m2", p()),
            ],
            "sequence \"A\" where qty >= 2 then \"B\" within 3 hours",
            true,
        ),
    ];
    check_rows(&rows, |(events, rule, expected)| {
        (*expected, event_rule_holds(events, rule))
    });
}

fn three_in_one_out() -> Vec<Ev> {
    vec![
        ("E", -10 * DAY, "m0", json!({})),
        ("E", -6 * DAY, "m1", json!({})),
        ("E", -DAY, "m2", json!({})),
        ("E", -HOUR, "m3", json!({})),
    ]
}

#[test]
fn computed_traits() {
    let computed = |aggregate, window: Window| ComputedTrait {
        name: "c".into(),
        aggregate,
        event: Some("Order".into()),
        property: aggregate.needs_property().then(|| "v".to_owned()),
        filters: vec![],
        window,
    };
    let last_7d = || Window::Last(herald_core::audience::rule::Span::parse_compact("7d").unwrap());
    let o = |v: Value| ("Order", -DAY, "x", v);
    type Row = (Aggregate, Window, Vec<Ev>, Option<Value>);
    let rows: Vec<Row> = vec![
        // `count` is always a number.
        (Aggregate::Count, Window::Ever, vec![], Some(json!(0))),
        (
            Aggregate::Count,
            last_7d(),
            vec![("Order", -8 * DAY, "m1", json!({}))],
            Some(json!(0)),
        ),
        (
            Aggregate::Count,
            last_7d(),
            vec![
                ("Order", -DAY, "m1", json!({})),
                ("Order", -2 * DAY, "m2", json!({})),
                ("Other", -DAY, "m3", json!({})),
            ],
            Some(json!(2)),
        ),
        // With no qualifying event the others are absent.
        (Aggregate::Sum, Window::Ever, vec![], None),
        (
            Aggregate::Min,
            last_7d(),
            vec![("Order", -8 * DAY, "m1", json!({"v": 1}))],
            None,
        ),
        // sum / avg / min / max: numeric values only.
        (
            Aggregate::Sum,
            Window::Ever,
            vec![
                ("Order", -DAY, "m1", json!({"v": 2})),
                ("Order", -2 * DAY, "m2", json!({"v": 3.5})),
                ("Order", -3 * DAY, "m3", json!({"v": "9"})),
            ],
            Some(json!(5.5)),
        ),
        (
            Aggregate::Average,
            Window::Ever,
            vec![
                ("Order", -DAY, "m1", json!({"v": 2})),
                ("Order", -2 * DAY, "m2", json!({"v": 4})),
                ("Order", -3 * DAY, "m3", json!({"v": "x"})),
            ],
            Some(json!(3)),
        ),
        (
            Aggregate::Min,
            Window::Ever,
            vec![
                ("Order", -DAY, "m1", json!({"v": 2})),
                ("Order", -2 * DAY, "m2", json!({"v": -1})),
            ],
            Some(json!(-1)),
        ),
        (
            Aggregate::Max,
            Window::Ever,
            vec![
                ("Order", -DAY, "m1", json!({"v": 2})),
                ("Order", -2 * DAY, "m2", json!({"v": -1})),
            ],
            Some(json!(2)),
        ),
        (
            Aggregate::Sum,
            Window::Ever,
            vec![("Order", -DAY, "m1", json!({"v": "2"}))],
            None,
        ),
        // first / last by event time, then log position (not log order alone).
        (
            Aggregate::First,
            Window::Ever,
            vec![
                ("Order", -DAY, "m1", json!({"v": "late"})),
                ("Order", -2 * DAY, "m2", json!({"v": "early"})),
            ],
            Some(json!("early")),
        ),
        (
            Aggregate::Last,
            Window::Ever,
            vec![
                ("Order", -DAY, "m1", json!({"v": "late"})),
                ("Order", -2 * DAY, "m2", json!({"v": "early"})),
            ],
            Some(json!("late")),
        ),
        (
            Aggregate::Last,
            Window::Ever,
            vec![
                o(json!({"v": "one"})),
                ("Order", -DAY, "y", json!({"v": "two"})),
            ],
            Some(json!("two")),
        ),
        (
            Aggregate::First,
            Window::Ever,
            vec![
                o(json!({"v": "one"})),
                ("Order", -DAY, "y", json!({"v": "two"})),
            ],
            Some(json!("one")),
        ),
        // distinct: the sorted distinct values.
        (
            Aggregate::Distinct,
            Window::Ever,
            vec![
                ("Order", -DAY, "m1", json!({"v": "b"})),
                ("Order", -2 * DAY, "m2", json!({"v": "a"})),
                ("Order", -3 * DAY, "m3", json!({"v": "b"})),
            ],
            Some(json!(["a", "b"])),
        ),
    ];
    let wrong: Vec<String> = rows
        .iter()
        .filter_map(|(aggregate, window, events, expected)| {
            let catalog = Catalog::new(vec![computed(*aggregate, window.clone())], vec![]).unwrap();
            let got = outcome(&catalog, events).computed.get("c").cloned();
            (got.as_ref() != expected.as_ref()).then(|| {
                format!(
                    "{aggregate:?} {window:?} {events:?}: docs say {expected:?}, code says {got:?}"
                )
            })
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "rows that disagree:\n{}",
        wrong.join("\n")
    );
}
