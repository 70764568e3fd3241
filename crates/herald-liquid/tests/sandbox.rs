//! Every limit of the sandbox, one test each: hostile templates fail cleanly with the
//! limit's error code instead of running away.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use herald_liquid::{parse, Error, Limits, Loader, NoPartials, Options};
use serde_json::json;

fn now() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH
}

fn options(limits: Limits) -> Options {
    Options {
        limits,
        ..Options::default()
    }
}

fn render_with(src: &str, opts: &Options, loader: &dyn Loader) -> Result<String, Error> {
    parse(src, opts)?.render(&json!({}), loader, now())
}

fn code_of(src: &str, opts: &Options, loader: &dyn Loader) -> &'static str {
    match render_with(src, opts, loader) {
        Ok(out) => panic!("expected an error, rendered {} bytes", out.len()),
        Err(e) => e.code(),
    }
}

fn partials(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn output_limit_stops_a_long_loop() {
    let opts = options(Limits {
        max_output_bytes: 1000,
        ..Limits::default()
    });
    let src = "{% for i in (1..1000) %}0123456789{% endfor %}";
    assert_eq!(code_of(src, &opts, &NoPartials), "output_limit");
    // Just under the limit is fine.
    let ok = render_with(
        "{% for i in (1..100) %}0123456789{% endfor %}",
        &opts,
        &NoPartials,
    )
    .unwrap();
    assert_eq!(ok.len(), 1000);
}

#[test]
fn output_limit_bounds_strings_that_double() {
    let src =
        "{% assign s = 'x' %}{% for i in (1..64) %}{% assign s = s | append: s %}{% endfor %}";
    assert_eq!(
        code_of(src, &Options::default(), &NoPartials),
        "output_limit"
    );
    let cap = "{% capture s %}x{% endcapture %}{% for i in (1..64) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}";
    assert_eq!(
        code_of(cap, &Options::default(), &NoPartials),
        "output_limit"
    );
    let rep = "{% assign s = 'ab' %}{% for i in (1..64) %}{% assign s = s | replace: '', s %}{% endfor %}";
    assert_eq!(
        code_of(rep, &Options::default(), &NoPartials),
        "output_limit"
    );
}

#[test]
fn output_limit_bounds_arrays_that_double() {
    // A generous work budget, so that the size limit is what stops it.
    let opts = options(Limits {
        max_loop_iterations: 100_000_000,
        ..Limits::default()
    });
    let src = "{% assign a = 'x' | split: ',' %}{% for i in (1..64) %}{% assign a = a | concat: a %}{% endfor %}";
    assert_eq!(code_of(src, &opts, &NoPartials), "output_limit");
    // With the default budget the work of copying stops it first.
    assert_eq!(code_of(src, &Options::default(), &NoPartials), "loop_limit");
}

#[test]
fn huge_ranges_are_walked_lazily_and_hit_the_loop_limit() {
    let opts = Options::default();
    assert_eq!(
        code_of(
            "{% for i in (1..10000000000) %}{% endfor %}",
            &opts,
            &NoPartials
        ),
        "loop_limit"
    );
    // Filters that expand a range spend the same budget.
    assert_eq!(
        code_of("{{ (1..10000000000) | join: ',' }}", &opts, &NoPartials),
        "loop_limit"
    );
    // A range is a value, not a list: assigning and printing it allocates nothing.
    let out = render_with(
        "{% assign r = (1..10000000000) %}{{ r }} {{ r.size }}",
        &opts,
        &NoPartials,
    );
    assert_eq!(out.unwrap(), "1..10000000000 10000000000");
}

#[test]
fn loop_limit_counts_nested_loops_tablerow_and_cycle() {
    let opts = options(Limits {
        max_loop_iterations: 10_000,
        ..Limits::default()
    });
    let nested = "{% for a in (1..200) %}{% for b in (1..200) %}{% endfor %}{% endfor %}";
    assert_eq!(code_of(nested, &opts, &NoPartials), "loop_limit");
    let table = "{% tablerow a in (1..20000) %}{% endtablerow %}";
    assert_eq!(code_of(table, &opts, &NoPartials), "loop_limit");
    let cycle = "{% for a in (1..6000) %}{% cycle 'x', 'y' %}{% endfor %}";
    assert_eq!(code_of(cycle, &opts, &NoPartials), "loop_limit");
    let small = "{% for a in (1..99) %}{% for b in (1..100) %}{% endfor %}{% endfor %}";
    assert!(render_with(small, &opts, &NoPartials).is_ok());
}

#[test]
fn self_including_templates_stop_at_the_render_depth() {
    let opts = Options::default();
    let loader = partials(&[("me", "x{% include 'me' %}")]);
    assert_eq!(
        code_of("{% include 'me' %}", &opts, &loader),
        "render_depth"
    );
    let loader = partials(&[("me", "x{% render 'me' %}")]);
    assert_eq!(code_of("{% render 'me' %}", &opts, &loader), "render_depth");
    // A loop of two partials too.
    let loader = partials(&[("a", "{% include 'b' %}"), ("b", "{% include 'a' %}")]);
    assert_eq!(code_of("{% include 'a' %}", &opts, &loader), "render_depth");
    // Within the limit, nesting works.
    let opts = options(Limits {
        max_render_depth: 3,
        ..Limits::default()
    });
    let loader = partials(&[
        ("a", "a{% include 'b' %}"),
        ("b", "b{% include 'c' %}"),
        ("c", "c"),
    ]);
    assert_eq!(
        render_with("{% include 'a' %}", &opts, &loader).unwrap(),
        "abc"
    );
    let loader = partials(&[
        ("a", "a{% include 'b' %}"),
        ("b", "b{% include 'c' %}"),
        ("c", "c{% include 'a' %}"),
    ]);
    assert_eq!(code_of("{% include 'a' %}", &opts, &loader), "render_depth");
}

#[test]
fn deep_blocks_in_self_including_partials_do_not_overflow_the_stack() {
    let deep = format!(
        "{}{{% include 'me' %}}{}",
        "{% if true %}".repeat(90),
        "{% endif %}".repeat(90)
    );
    let loader = partials(&[("me", deep.as_str())]);
    assert_eq!(
        code_of("{% include 'me' %}", &Options::default(), &loader),
        "render_depth"
    );
}

#[test]
fn template_size_is_limited_for_templates_and_partials() {
    let opts = options(Limits {
        max_template_bytes: 100,
        ..Limits::default()
    });
    let big = "x".repeat(101);
    assert_eq!(parse(&big, &opts).unwrap_err().code(), "template_too_large");
    assert!(parse(&"x".repeat(100), &opts).is_ok());
    let loader = partials(&[("big", big.as_str())]);
    assert_eq!(
        code_of("{% include 'big' %}", &opts, &loader),
        "template_too_large"
    );
}

#[test]
fn deep_nesting_is_a_parse_error_not_a_stack_overflow() {
    let opts = Options::default();
    let blocks = format!(
        "{}{}",
        "{% if true %}".repeat(5000),
        "{% endif %}".repeat(5000)
    );
    assert_eq!(parse(&blocks, &opts).unwrap_err().code(), "nesting_depth");
    let brackets = format!("{{{{ {}x{} }}}}", "a[".repeat(5000), "]".repeat(5000));
    assert_eq!(parse(&brackets, &opts).unwrap_err().code(), "nesting_depth");
    let ranges = format!("{{{{ {}1..2{} }}}}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(parse(&ranges, &opts).unwrap_err().code(), "nesting_depth");
    let liquid = format!("{{% {}echo 1 %}}", "liquid ".repeat(5000));
    assert_eq!(parse(&liquid, &opts).unwrap_err().code(), "nesting_depth");
    // Long flat chains are not nesting.
    let chain = format!("{{% if {}true %}}y{{% endif %}}", "false or ".repeat(20000));
    assert_eq!(render_with(&chain, &opts, &NoPartials).unwrap(), "y");
    // 99 levels are fine.
    let ok = format!(
        "{}y{}",
        "{% if true %}".repeat(99),
        "{% endif %}".repeat(99)
    );
    assert_eq!(render_with(&ok, &opts, &NoPartials).unwrap(), "y");
}

#[test]
fn partials_come_only_from_the_loader() {
    let opts = Options::default();
    for name in ["/etc/passwd", "../Cargo.toml", "https://example.com/x"] {
        let src = format!("{{% include '{name}' %}}");
        assert_eq!(code_of(&src, &opts, &NoPartials), "template_not_found");
    }
    let loader = partials(&[("greeting", "hi {{ name }}")]);
    let out = parse("{% render 'greeting', name: 'ada' %}", &opts)
        .unwrap()
        .render(&json!({}), &loader, now());
    assert_eq!(out.unwrap(), "hi ada");
}

#[test]
fn work_on_large_values_counts_against_the_same_budget() {
    let big: Vec<u32> = (0..100_000).collect();
    let vars = json!({ "big": big, "text": "x".repeat(512 * 1024) });
    let run = |src: &str| {
        parse(src, &Options::default())
            .and_then(|t| t.render(&vars, &NoPartials, now()))
            .map(|out| out.len())
    };
    for src in [
        "{% for i in (1..1000) %}{% assign j = big | join: ',' %}{% endfor %}",
        "{% for i in (1..1000) %}{% if big == big %}{% endif %}{% endfor %}",
        "{% for i in (1..100000) %}{% capture c %}{{ text }}{% endcapture %}{% endfor %}",
        "{% for i in (1..100000) %}{% assign u = text | upcase %}{% endfor %}",
        "{% for i in (1..1000) %}{% for x in big %}{% break %}{% endfor %}{{ big | size }}{% endfor %}x{% for x in big %}{% endfor %}",
    ] {
        assert_eq!(run(src).unwrap_err().code(), "loop_limit", "{src}");
    }
    // Handling a large value a few times is fine.
    assert!(run("{% assign j = big | join: ',' %}{{ j | size }}").is_ok());
    // Looping over a large array does not copy it per loop.
    assert!(
        run("{% for i in (1..100) %}{% for x in big limit: 1 %}{% endfor %}{% endfor %}").is_ok()
    );
}
