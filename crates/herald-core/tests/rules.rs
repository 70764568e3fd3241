//! The rule language: parsing, printing, JSON ↔ text round trips and error messages.

use herald_core::audience::json::{computed_from_json, from_json, to_json};
use herald_core::audience::rule::{Location, Rule};
use herald_core::audience::text::{parse, print};
use herald_core::testing::rules::arb_rule;
use proptest::prelude::*;
use serde_json::json;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
    /// Printing then parsing gives the same rule, and so does JSON.
    #[test]
    fn text_and_json_round_trip(rule in arb_rule()) {
        let text = print(&rule);
        prop_assert_eq!(&parse(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?, &rule, "text: {}", text);
        let value = to_json(&rule);
        prop_assert_eq!(&from_json(&value).map_err(|e| TestCaseError::fail(format!("{e}: {value}")))?, &rule);
        // And across forms: JSON → text → JSON.
        prop_assert_eq!(to_json(&parse(&print(&from_json(&value).unwrap())).unwrap()), value);
    }

    /// Arbitrary text never panics the parser; errors point inside the text.
    #[test]
    fn parser_never_panics(src in "[ -~\n]{0,80}") {
        if let Err(e) = parse(&src) {
            match e.location {
                Location::Text { offset, .. } => prop_assert!(offset <= src.len()),
                Location::Json(_) => prop_assert!(false, "text errors have text locations"),
            }
        }
    }
}

/// The example from the issue, and what it means.
#[test]
fn the_issue_example_parses_to_the_expected_tree() {
    let text = r#"trait plan = "trial" and performed "Checkout Started" >= 1 in last 7 days where cart_value > 50 and not performed "Order Completed" in last 7 days"#;
    let rule = parse(text).unwrap();
    assert_eq!(
        to_json(&rule),
        json!({"and": [
            {"trait": "plan", "op": "eq", "value": "trial"},
            {"performed": "Checkout Started", "count": {"op": "gte", "value": 1},
             "window": {"last": "7d"},
             "where": [{"property": "cart_value", "op": "gt", "value": 50}]},
            {"not": {"performed": "Order Completed", "count": {"op": "gte", "value": 1},
                     "window": {"last": "7d"}, "where": []}}
        ]})
    );
    // The canonical text drops the default count.
    assert_eq!(
        print(&rule),
        r#"trait plan = "trial" and performed "Checkout Started" in last 7 days where cart_value > 50 and not performed "Order Completed" in last 7 days"#
    );
}

#[test]
fn canonical_text_of_each_construct() {
    let cases = [
        (
            r#"trait signed_up_at more than 14 days ago"#,
            r#"trait signed_up_at more than 14 days ago"#,
        ),
        (r#"TRAIT_X"#, ""),
        (
            r#"group trait plan in ["pro", "enterprise"]"#,
            r#"group trait plan in ["pro", "enterprise"]"#,
        ),
        (
            r#"computed revenue_90d between 10 and 20.5"#,
            r#"computed revenue_90d between 10 and 20.5"#,
        ),
        (
            r#"trait email not exists or trait email contains "@test""#,
            r#"trait email not exists or trait email contains "@test""#,
        ),
        (
            r#"trait name starts with "A" and trait `first` != null"#,
            r#"trait name starts with "A" and trait `first` != null"#,
        ),
        (
            r#"last performed "Order Completed" more than 30 days ago"#,
            r#"last performed "Order Completed" more than 30 days ago"#,
        ),
        (
            r#"first performed "Signed Up" after "2026-01-01" where plan = "pro""#,
            r#"first performed "Signed Up" after "2026-01-01" where plan = "pro""#,
        ),
        (
            r#"sequence "Product Viewed" then "Added to Cart" where qty >= 2 within 1 hour in last 1 day"#,
            r#"sequence "Product Viewed" then "Added to Cart" where qty >= 2 within 1 hour in last 1 day"#,
        ),
        (
            r#"performed "Login" = 0 between "2026-01-01" and "2026-02-01""#,
            r#"performed "Login" = 0 between "2026-01-01" and "2026-02-01""#,
        ),
        (r#"performed "Login" ever"#, r#"performed "Login""#),
        (
            r#"in audience "trial_users" and not (trait a = 1 or trait b = 2)"#,
            r#"in audience "trial_users" and not (trait a = 1 or trait b = 2)"#,
        ),
        (
            r#"(trait a = 1 and trait b = 2) or trait c = 3"#,
            r#"trait a = 1 and trait b = 2 or trait c = 3"#,
        ),
        (
            r#"trait a = 1 and (trait b = 2 or trait c = 3)"#,
            r#"trait a = 1 and (trait b = 2 or trait c = 3)"#,
        ),
        ("trait a.b\n  = 1", "trait a.b = 1"),
    ];
    for (input, canonical) in cases {
        match parse(input) {
            Ok(rule) => assert_eq!(print(&rule), canonical, "{input}"),
            Err(e) => assert_eq!(canonical, "", "{input}: {e}"),
        }
    }
}

#[test]
fn and_binds_tighter_than_or_and_not_tighter_than_and() {
    let rule = parse(r#"not trait a = 1 and trait b = 2 or trait c = 3"#).unwrap();
    let Rule::Or(items) = rule else {
        panic!("or at the top")
    };
    let Rule::And(left) = &items[0] else {
        panic!("and on the left")
    };
    assert!(matches!(left[0], Rule::Not(_)));
}

/// Errors say what was expected and where (line, column).
#[test]
fn text_errors_point_at_the_problem() {
    let cases = [
        (r#"trait plan == "x""#, 1, 13, "expected a value"),
        (
            r#"trait plan = "x" andd trait b = 1"#,
            1,
            18,
            "expected `and`, `or` or the end",
        ),
        (
            r#"performed "X" >= 1 in last 7 parsecs"#,
            1,
            30,
            "expected minutes, hours, days or weeks",
        ),
        (
            "trait a = 1 and\n  performed X",
            2,
            13,
            "expected an event name in double quotes",
        ),
        (r#"trait in = 1"#, 1, 7, "write `in` in backticks"),
        (
            r#"performed "X" where at less than 3 days ago"#,
            1,
            24,
            "not allowed on event properties",
        ),
        (r#"first performed "X" = 3"#, 1, 21, "is not a time test"),
        (r#"sequence "A" within 1 hour"#, 1, 14, "at least two steps"),
        (r#"trait a = "unclosed"#, 1, 11, "not closed"),
        (
            r#"trait created_at before "yesterday""#,
            1,
            25,
            "is not a date",
        ),
        (r#"performed "X" in last 0 days"#, 1, 23, "must be positive"),
        (r#"(trait a = 1"#, 1, 13, "expected `)`"),
        ("", 1, 1, "expected a condition"),
    ];
    for (input, line, column, message) in cases {
        let error = parse(input).expect_err(input);
        assert_eq!(
            error.location,
            Location::Text {
                offset: error_offset(&error),
                line,
                column
            },
            "{input}: {error}"
        );
        assert!(error.message.contains(message), "{input}: {error}");
    }
}

fn error_offset(e: &herald_core::audience::RuleError) -> usize {
    match e.location {
        Location::Text { offset, .. } => offset,
        Location::Json(_) => usize::MAX,
    }
}

/// JSON errors carry the pointer of the offending value.
#[test]
fn json_errors_carry_the_path() {
    let cases = [
        (
            json!({"and": [{"trait": "a", "op": "eq", "value": 1}, {"trait": "b", "op": "equals", "value": 1}]}),
            "/and/1/op",
            "unknown operator `equals`",
        ),
        (json!({"or": []}), "/or", "at least one rule"),
        (
            json!({"performed": "X", "where": [{"property": "p", "op": "gt"}]}),
            "/where/0/value",
            "needs a `value`",
        ),
        (
            json!({"performed": "X", "window": {"last": "7 days"}}),
            "/window/last",
            "not a duration",
        ),
        (
            json!({"performed": "X", "count": {"op": "gte", "value": -1}}),
            "/count/value",
            "whole number",
        ),
        (
            json!({"not": {"trait": "a"}}),
            "/not/op",
            "expected an operator",
        ),
        (
            json!({"trait": "a", "op": "exists", "value": 1}),
            "/value",
            "takes no value",
        ),
        (
            json!({"sequence": [{"event": "A"}], "within": "1h"}),
            "/sequence",
            "at least two steps",
        ),
        (
            json!({"trait": "a", "op": "eq", "value": 1, "extra": true}),
            "/extra",
            "unexpected key `extra`",
        ),
        (json!({"audience": "x"}), "", "expected one of the keys"),
        (
            json!({"last_performed": "X", "op": "eq", "value": 1}),
            "/op",
            "is not a time test",
        ),
        (
            json!({"performed": "X", "window": {"between": ["2026-02-01", "2026-01-01"]}}),
            "/window/between/1",
            "after the start",
        ),
    ];
    for (input, path, message) in cases {
        let error = from_json(&input).expect_err(&input.to_string());
        assert_eq!(
            error.location,
            Location::Json(path.to_owned()),
            "{input}: {error}"
        );
        assert!(error.message.contains(message), "{input}: {error}");
    }
}

#[test]
fn computed_traits_validate_their_definition() {
    let ok = computed_from_json(&json!({"name": "revenue_90d", "aggregate": "sum", "event": "Order Completed", "property": "revenue", "window": {"last": "90d"}})).unwrap();
    assert_eq!(ok.name, "revenue_90d");
    let missing = computed_from_json(&json!({"name": "x", "aggregate": "max"})).unwrap_err();
    assert_eq!(missing.location, Location::Json("/property".into()));
    let bad_name =
        computed_from_json(&json!({"name": "9lives", "aggregate": "count"})).unwrap_err();
    assert_eq!(bad_name.location, Location::Json("/name".into()));
}

/// Hostile nesting is refused with an error, not a stack overflow.
#[test]
fn deep_nesting_is_refused() {
    let deep = format!("{}trait a = 1{}", "(".repeat(100_000), ")".repeat(100_000));
    let error = parse(&deep).unwrap_err();
    assert!(error.message.contains("nested more than 32"), "{error}");
    let nots = format!("{}trait a = 1", "not ".repeat(100_000));
    assert!(parse(&nots).unwrap_err().message.contains("nested"));
    let mut value = json!({"trait": "a", "op": "exists"});
    for _ in 0..200 {
        value = json!({"not": value});
    }
    let error = from_json(&value).unwrap_err();
    assert!(error.message.contains("nested more than 66"), "{error}");
    // 32 levels are fine and round-trip through both forms.
    let ok = format!("{}trait a = 1", "not ".repeat(31));
    assert_eq!(print(&parse(&ok).unwrap()), ok);
    let parens = format!(
        "{}trait a = 1 or trait b = 2 and trait c = 3{}",
        "(trait x = 1 and (".repeat(15),
        "))".repeat(15)
    );
    let rule = parse(&parens).unwrap();
    assert_eq!(from_json(&to_json(&rule)).unwrap(), rule);
}
