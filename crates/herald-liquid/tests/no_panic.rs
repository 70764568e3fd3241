//! Property tests: no input makes parsing or rendering panic, and results respect the
//! limits; plain text and simple arithmetic render as an oracle says.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use herald_liquid::{parse, Limits, Options};
use proptest::prelude::*;
use serde_json::json;

const SOUP: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{{-",
    "-}}",
    "{%-",
    "-%}",
    " ",
    "\n",
    "\r",
    "if",
    "elsif",
    "else",
    "endif",
    "unless",
    "endunless",
    "for",
    "in",
    "endfor",
    "break",
    "continue",
    "case",
    "when",
    "endcase",
    "cycle",
    "tablerow",
    "endtablerow",
    "cols:",
    "limit:",
    "offset:",
    "continue",
    "reversed",
    "assign",
    "=",
    "capture",
    "endcapture",
    "increment",
    "decrement",
    "echo",
    "liquid",
    "raw",
    "endraw",
    "comment",
    "endcomment",
    "doc",
    "enddoc",
    "#",
    "ifchanged",
    "endifchanged",
    "include",
    "render",
    "'p'",
    "with",
    "as",
    "x",
    "y",
    "a.b",
    "a[0]",
    "[",
    "]",
    "(",
    ")",
    "..",
    "(1..3)",
    "(1..100000000000)",
    "|",
    ":",
    ",",
    "'s'",
    "\"t\"",
    "-1",
    "2.5",
    "0",
    "nil",
    "true",
    "false",
    "empty",
    "blank",
    "==",
    "!=",
    "<",
    ">=",
    "contains",
    "and",
    "or",
    "append:",
    "split:",
    "join",
    "join:",
    "concat:",
    "map:",
    "where:",
    "sort",
    "uniq",
    "first",
    "last",
    "size",
    "date:",
    "'%Y %-d %^B %s %:z'",
    "'now'",
    "divided_by:",
    "modulo:",
    "round:",
    "slice:",
    "truncate:",
    "truncatewords:",
    "replace:",
    "default:",
    "allow_false:",
    "times:",
    "plus:",
    "abs",
    "base64_decode",
    "url_decode",
    "strip_html",
    "escape_once",
    "sum",
    "compact",
    "reject:",
    "find_index:",
    "has:",
    "sort_natural",
    "é",
    "💌",
    "\u{0}",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(SOUP), 0..60).prop_map(|v| v.concat())
}

fn small_limits() -> Options {
    Options {
        limits: Limits {
            max_output_bytes: 4096,
            max_loop_iterations: 2000,
            max_render_depth: 4,
            max_template_bytes: 4096,
        },
        ..Options::default()
    }
}

fn context() -> serde_json::Value {
    json!({
        "x": [1, "two", 3.5, null, {"b": [true, false]}],
        "y": "hello world",
        "a": {"b": {"c": 1}, "0": "zero"},
        "s": "1",
    })
}

fn check(src: &str, partial: &str) {
    let opts = small_limits();
    let loader: HashMap<String, String> = [("p".to_string(), partial.to_string())].into();
    if let Ok(t) = parse(src, &opts) {
        let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        if let Ok(out) = t.render(&context(), &loader, now) {
            assert!(out.len() <= opts.limits.max_output_bytes);
        }
        for strict in [true, false] {
            let strict_opts = Options {
                strict_variables: strict,
                strict_filters: !strict,
                ..opts
            };
            if let Ok(t) = parse(src, &strict_opts) {
                let _ = t.render(&context(), &loader, now);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(src in any::<String>()) {
        check(&src, &src);
    }

    #[test]
    fn token_soups_never_panic(src in soup(), partial in soup()) {
        check(&src, &partial);
    }

    #[test]
    fn text_without_markup_renders_as_itself(src in "[^{]*") {
        let t = parse(&src, &Options::default()).unwrap();
        prop_assert_eq!(t.render(&json!({}), &HashMap::new(), DateTime::UNIX_EPOCH).unwrap(), src);
    }

    #[test]
    fn integer_arithmetic_matches_rust(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000i64..1_000_000) {
        let t = parse("{{ a | plus: b }} {{ a | minus: b }} {{ a | times: b }}", &Options::default()).unwrap();
        let out = t.render(&json!({"a": a, "b": b}), &HashMap::new(), DateTime::UNIX_EPOCH).unwrap();
        prop_assert_eq!(out, format!("{} {} {}", a + b, a - b, a * b));
        if b != 0 {
            let t = parse("{{ a | divided_by: b }} {{ a | modulo: b }}", &Options::default()).unwrap();
            let out = t.render(&json!({"a": a, "b": b}), &HashMap::new(), DateTime::UNIX_EPOCH).unwrap();
            // Liquid floors, like Ruby (exact here: |a / b| is far below 2^52).
            let q = (a as f64 / b as f64).floor() as i64;
            prop_assert_eq!(out, format!("{} {}", q, a - b * q));
        }
    }
}
