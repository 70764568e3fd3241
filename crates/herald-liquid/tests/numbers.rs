//! Decimal arithmetic with floats: `a | plus: b` (and `minus`, `times`) must equal the exact
//! decimal result rounded once to a float, as Shopify's BigDecimal arithmetic gives, not the
//! binary float result (`0.1 | plus: 0.2` is `0.3`).

use chrono::DateTime;
use herald_liquid::{parse, NoPartials, Options};
use proptest::prelude::*;
use serde_json::json;

/// `mant / 10^scale` as template source, e.g. `-12.034`.
fn literal(mant: i64, scale: u32) -> String {
    let digits = mant.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = scale as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - scale as usize);
    let sign = if mant < 0 { "-" } else { "" };
    format!("{sign}{int}.{}", if frac.is_empty() { "0" } else { frac })
}

/// How Ruby prints a float of ordinary magnitude.
fn ruby(f: f64) -> String {
    let s = format!("{f}");
    if s.contains('.') {
        s
    } else {
        s + ".0"
    }
}

fn render(src: &str) -> String {
    parse(src, &Options::default())
        .and_then(|t| t.render(&json!({}), &NoPartials, DateTime::UNIX_EPOCH))
        .unwrap()
}

proptest! {
    #[test]
    fn float_arithmetic_is_decimal(
        m1 in -10_000_000i64..10_000_000,
        s1 in 1u32..6,
        m2 in -10_000_000i64..10_000_000,
        s2 in 1u32..6,
    ) {
        let (a, b) = (literal(m1, s1), literal(m2, s2));
        let scale = s1.max(s2);
        let x = i128::from(m1) * 10i128.pow(scale - s1);
        let y = i128::from(m2) * 10i128.pow(scale - s2);
        let exact = |m: i128, s: u32| -> f64 { format!("{m}e-{s}").parse().unwrap() };
        let sum = exact(x + y, scale);
        let diff = exact(x - y, scale);
        let product = exact(i128::from(m1) * i128::from(m2), s1 + s2);
        let out = render(&format!("{{{{ {a} | plus: {b} }}}} {{{{ {a} | minus: {b} }}}} {{{{ {a} | times: {b} }}}}"));
        let want: Vec<String> = [sum, diff, product]
            .into_iter()
            .map(|f| if f == 0.0 || (1e-4..1e16).contains(&f.abs()) { ruby(f) } else { String::new() })
            .collect();
        for (got, want) in out.split(' ').zip(&want) {
            if !want.is_empty() {
                prop_assert_eq!(got, want.as_str(), "{} and {}", a, b);
            }
        }
    }
}

#[test]
fn familiar_cases() {
    assert_eq!(render("{{ 0.1 | plus: 0.2 }}"), "0.3");
    assert_eq!(render("{{ 10.1 | minus: 2.2 }}"), "7.9");
    assert_eq!(render("{{ 1.1 | times: 3 }}"), "3.3");
    assert_eq!(render("{{ 10.1 | modulo: 7.0 }}"), "3.1");
    assert_eq!(render("{{ 20 | divided_by: 7.0 }}"), "2.857142857142857");
    assert_eq!(
        render("{{ 9223372036854775807 | plus: 1 }}"),
        "9.223372036854776e+18"
    );
    assert_eq!(
        render("{{ 2.5 | round }} {{ -2.5 | round }} {{ 1.005 | round: 2 }}"),
        "3 -3 1.01"
    );
}
