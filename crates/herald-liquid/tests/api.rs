//! The public API: options, errors (codes, locations, JSON), loaders, variables, `now`.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use herald_liquid::{filter_names, parse, Error, NoPartials, Options, Template, Variables};
use serde_json::json;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 9, 30, 0)
        .single()
        .unwrap_or_default()
}

fn render(src: &str, opts: &Options, vars: serde_json::Value) -> Result<String, Error> {
    parse(src, opts)?.render(&vars, &NoPartials, now())
}

#[test]
fn templates_are_send_sync_and_render_many_times() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
    let t = std::sync::Arc::new(parse("{{ n | times: 2 }}", &Options::default()).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let t = t.clone();
            std::thread::spawn(move || t.render(&json!({"n": i}), &NoPartials, now()))
        })
        .collect();
    let outs: Vec<String> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    assert_eq!(outs, ["0", "2", "4", "6"]);
}

#[test]
fn strict_variables_turns_undefined_into_an_error() {
    let lax = Options::default();
    assert_eq!(
        render("[{{ nope }}][{{ user.nope }}]", &lax, json!({"user": {}})).unwrap(),
        "[][]"
    );
    let strict = Options {
        strict_variables: true,
        ..Options::default()
    };
    let e = render("hi {{ user.nope }}", &strict, json!({"user": {}})).unwrap_err();
    assert_eq!(e.code(), "undefined_variable");
    assert!(e.message().contains("user.nope"), "{e}");
    assert_eq!(
        render("{{ user.name }}", &strict, json!({"user": {"name": "ada"}})).unwrap(),
        "ada"
    );
    let e = render("{% if missing %}x{% endif %}", &strict, json!({})).unwrap_err();
    assert_eq!(e.code(), "undefined_variable");
    // `default` is the way to say a value may be missing.
    let out = render(
        "{{ user.nick | default: 'friend' }}",
        &strict,
        json!({"user": {}}),
    );
    assert_eq!(out.unwrap(), "friend");
    let e = render(
        "{{ user.nick | upcase | default: 'x' }}",
        &strict,
        json!({"user": {}}),
    );
    assert_eq!(e.unwrap_err().code(), "undefined_variable");
}

#[test]
fn strict_filters_decides_what_an_unknown_filter_does() {
    let e = parse("{{ 'a' | shout }}", &Options::default()).unwrap_err();
    assert_eq!(e.code(), "unknown_filter");
    let lax = Options {
        strict_filters: false,
        ..Options::default()
    };
    assert_eq!(
        render("{{ 'a' | shout | upcase }}", &lax, json!({})).unwrap(),
        "A"
    );
    assert!(filter_names().any(|n| n == "upcase"));
}

#[test]
fn errors_carry_code_and_location_and_serialize() {
    let src = "line one\n  {{ 10 | divided_by: 0 }}";
    let e = render(src, &Options::default(), json!({})).unwrap_err();
    assert_eq!(e.code(), "filter_argument");
    assert_eq!((e.line(), e.column()), (Some(2), Some(3)));
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["code"], "filter_argument");
    assert_eq!(v["line"], 2);
    assert_eq!(v["column"], 3);
    assert!(v["message"].as_str().unwrap().contains("divided_by"));
    assert!(e.to_string().contains("line 2, column 3"), "{e}");

    let e = parse("ok\n\n{% if %}", &Options::default()).unwrap_err();
    assert_eq!(
        (e.code(), e.line(), e.column()),
        ("liquid_syntax", Some(3), Some(1))
    );
    let e = parse("{% frobnicate %}", &Options::default()).unwrap_err();
    assert_eq!(e.code(), "unknown_tag");
    let e = parse("{% if true %}never closed", &Options::default()).unwrap_err();
    assert_eq!(e.code(), "liquid_syntax");
    let e = render(
        "{% if 'a' > 1 %}{% endif %}",
        &Options::default(),
        json!({}),
    )
    .unwrap_err();
    assert_eq!(e.code(), "liquid_type");
}

#[test]
fn errors_inside_partials_name_the_partial() {
    let loader: HashMap<String, String> = [(
        "footer".to_string(),
        "\n{{ 1 | divided_by: 0 }}".to_string(),
    )]
    .into();
    let t = parse("{% include 'footer' %}", &Options::default()).unwrap();
    let e = t.render(&json!({}), &loader, now()).unwrap_err();
    assert_eq!(e.code(), "filter_argument");
    assert!(e.message().contains("in 'footer'"), "{e}");
    assert_eq!(e.line(), Some(2));
    let missing = parse("{% render 'nope' %}", &Options::default()).unwrap();
    assert_eq!(
        missing
            .render(&json!({}), &loader, now())
            .unwrap_err()
            .code(),
        "template_not_found"
    );
}

#[test]
fn now_is_what_the_caller_passes() {
    let out = render(
        "{{ 'now' | date: '%Y-%m-%d %H:%M' }} {{ 'today' | date: '%s' }}",
        &Options::default(),
        json!({}),
    );
    assert_eq!(
        out.unwrap(),
        format!("2026-12-04 09:30 {}", now().timestamp())
    );
}

#[test]
fn dates_in_common_forms_are_read() {
    let fmt = "{{ d | date: '%Y-%m-%d %H:%M:%S %z' }}";
    for (input, want) in [
        ("2016-03-14", "2016-03-14 00:00:00 +0000"),
        ("2016-03-14T10:20:30Z", "2016-03-14 10:20:30 +0000"),
        ("2016-03-14T10:20:30+02:00", "2016-03-14 10:20:30 +0200"),
        ("2016-03-14 10:20:30", "2016-03-14 10:20:30 +0000"),
        ("2016-03-14 10:20 -05:00", "2016-03-14 10:20:00 -0500"),
        ("March 14, 2016", "2016-03-14 00:00:00 +0000"),
        ("Mar 14 2016 10:20", "2016-03-14 10:20:00 +0000"),
        ("14 March 2016", "2016-03-14 00:00:00 +0000"),
        (
            "Mon, 14 Mar 2016 10:20:30 +0000",
            "2016-03-14 10:20:30 +0000",
        ),
        ("1457950830", "2016-03-14 10:20:30 +0000"),
    ] {
        let out = render(fmt, &Options::default(), json!({ "d": input })).unwrap();
        assert_eq!(out, want, "{input}");
    }
    let out = render(
        "{{ d | date: '%Y' }}",
        &Options::default(),
        json!({"d": "not a date"}),
    );
    assert_eq!(out.unwrap(), "not a date");
    let out = render(
        "{{ d | date: '%-d %e|%^a %A %B %b %j %I%p %l%P %y %C %u %w %L %% %F %T %D' }}",
        &Options::default(),
        json!({"d": "2016-03-04T15:06:07Z"}),
    );
    assert_eq!(
        out.unwrap(),
        "4  4|FRI Friday March Mar 064 03PM  3pm 16 20 5 5 000 % 2016-03-04 15:06:07 03/04/16"
    );
}

#[test]
fn variables_keep_document_order_where_serde_json_sorts() {
    let t = parse(
        "{% for p in h %}{{ p[0] }}{% endfor %}",
        &Options::default(),
    )
    .unwrap();
    let vars = Variables::from_json_str(r#"{"h": {"b": 1, "a": 2, "c": 3}}"#).unwrap();
    assert_eq!(
        t.render_variables(&vars, &NoPartials, now()).unwrap(),
        "bac"
    );
    let sorted = t
        .render(&json!({"h": {"b": 1, "a": 2, "c": 3}}), &NoPartials, now())
        .unwrap();
    assert_eq!(sorted.len(), 3);
}

#[test]
fn render_partials_see_their_arguments_and_the_render_variables_only() {
    let loader: HashMap<String, String> = [(
        "card".to_string(),
        "{{ shop }}/{{ title }}/{{ local }}".to_string(),
    )]
    .into();
    let t = parse(
        "{% assign local = 'L' %}{% render 'card', title: 'T' %}|{% include 'card' %}",
        &Options::default(),
    )
    .unwrap();
    let out = t.render(&json!({"shop": "S"}), &loader, now()).unwrap();
    assert_eq!(out, "S/T/|S//L");
}

#[test]
fn partials_are_loaded_and_parsed_once_per_render() {
    struct Counting(std::cell::Cell<u32>);
    impl herald_liquid::Loader for Counting {
        fn load(&self, name: &str) -> Option<String> {
            self.0.set(self.0.get() + 1);
            (name == "item").then(|| "[{{ item }}]".to_string())
        }
    }
    let loader = Counting(std::cell::Cell::new(0));
    let t = parse(
        "{% for i in (1..50) %}{% include 'item' with i %}{% render 'item' with i %}{% endfor %}",
        &Options::default(),
    )
    .unwrap();
    let out = t.render(&json!({}), &loader, now()).unwrap();
    let want: String = (1..=50).map(|i| format!("[{i}][{i}]")).collect();
    assert_eq!(out, want);
    assert_eq!(loader.0.get(), 1);
}

#[test]
fn json_filter_writes_valid_json_in_key_order() {
    let t = parse("{{ v | json }}", &Options::default()).unwrap();
    let vars = Variables::from_json_str(
        r#"{"v": {"z": 1, "a": [1.5, null, true, "q\"<tag>\n"], "m": {"k": -2}}}"#,
    )
    .unwrap();
    let out = t.render_variables(&vars, &NoPartials, now()).unwrap();
    assert_eq!(
        out,
        r#"{"z":1,"a":[1.5,null,true,"q\"\u003ctag\u003e\n"],"m":{"k":-2}}"#
    );
    let back: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(back["a"][3], "q\"<tag>\n");
    let out = render(
        "{{ (1..3) | json }} {{ 'x' | json }} {{ nope | json }}",
        &Options::default(),
        json!({}),
    );
    assert_eq!(out.unwrap(), "[1,2,3] \"x\" null");
}
