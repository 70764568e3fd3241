use std::collections::HashMap;

use chrono::TimeZone;
use serde_json::json;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
}

fn content(v: serde_json::Value) -> Content {
    serde_json::from_value(v).unwrap()
}

const EMAIL: Target = Target::Channel(Channel::Email);

#[test]
fn an_mjml_email_renders_its_liquid_then_compiles_to_html() {
    let c = content(json!({
        "subject": "Hi {{ traits.name | default: 'there' }}",
        "body": "<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ traits.name }}, {% render 'footer' %}</mj-text></mj-column></mj-section></mj-body></mjml>",
        "format": "mjml"
    }));
    let checked = c.check(EMAIL).unwrap();
    let partials = HashMap::from([("footer".to_owned(), "bye {{ traits.name }}".to_owned())]);
    let out = checked
        .render(&json!({"traits": {"name": "Ana"}}), &partials, now())
        .unwrap();
    assert_eq!(out.parts["subject"], "Hi Ana");
    let body = &out.parts["body"];
    assert!(body.starts_with("<!doctype html>"), "{body}");
    assert!(body.contains("Hello Ana, bye Ana"), "{body}");
    assert!(!body.contains("mj-text"), "{body}");
}

#[test]
fn errors_name_the_part_and_the_place() {
    let c = content(json!({"subject": "ok", "body": "line one\n{{ name | nope }}"}));
    let e = c.check(EMAIL).unwrap_err();
    assert_eq!(
        (e.code, e.part, e.line),
        ("unknown_filter", "body", Some(2))
    );
    let c = content(json!({"subject": "{% if %}", "body": "x"}));
    assert_eq!(c.check(EMAIL).unwrap_err().part, "subject");
    let c = content(json!({
        "subject": "s",
        "body": "<mjml>\n  <mj-head>\n    <mj-unknown></mj-unknown>\n  </mj-head>\n  <mj-body></mj-body>\n</mjml>",
        "format": "mjml"
    }));
    let e = c.check(EMAIL).unwrap_err();
    assert_eq!(
        (e.code, e.part, e.line, e.column),
        ("mjml_invalid", "body", Some(3), Some(6)), // the unknown element's name
        "{e:?}"
    );
}

#[test]
fn each_target_takes_its_parts_and_formats() {
    let sms = Target::Channel(Channel::Sms);
    let push = Target::Channel(Channel::Push);
    let e = content(json!({"subject": "s", "body": "b"}))
        .check(sms)
        .unwrap_err();
    assert_eq!((e.code, e.part), ("template_part", "subject"));
    let e = content(json!({"body": "b"})).check(EMAIL).unwrap_err();
    assert_eq!((e.code, e.part), ("template_part", "subject"));
    let e = content(json!({"body": "b"})).check(push).unwrap_err();
    assert_eq!((e.code, e.part), ("template_part", "title"));
    let e = content(json!({"body": "b", "format": "mjml"}))
        .check(sms)
        .unwrap_err();
    assert_eq!(e.code, "template_format");
    let checked = content(json!({"title": "T", "body": "B"}))
        .check(push)
        .unwrap();
    assert_eq!(checked.format(), Format::Text);
    assert!(serde_json::from_value::<Content>(json!({"body": "b", "html": "x"})).is_err());
}

#[test]
fn strict_templates_refuse_undefined_variables_and_lax_ones_render_them_empty() {
    let lax = content(json!({"body": "[{{ missing }}]"}));
    let out = lax
        .check(Target::Snippet)
        .unwrap()
        .render(&json!({}), &herald_liquid::NoPartials, now())
        .unwrap();
    assert_eq!(out.parts["body"], "[]");
    let strict = content(json!({"body": "[{{ missing }}]", "strict": true}));
    let e = strict
        .check(Target::Snippet)
        .unwrap()
        .render(&json!({}), &herald_liquid::NoPartials, now())
        .unwrap_err();
    assert_eq!(e.code, "undefined_variable");
}

#[test]
fn an_mjml_include_reads_nothing() {
    let c = content(json!({
        "subject": "s",
        "body": "<mjml><mj-body><mj-include path=\"/etc/passwd\" /></mj-body></mjml>",
        "format": "mjml"
    }));
    let e = c.check(EMAIL).unwrap_err();
    assert_eq!(e.code, "mjml_invalid", "{e:?}");
}

#[test]
fn lines_and_columns_count_characters() {
    assert_eq!(mjml::line_column_for_tests("ab\ncé\nx", 6), (2, 3));
}
