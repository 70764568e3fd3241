//! Templates, black-box: the ad-hoc render (Liquid, MJML, errors with their place, the
//! sandbox's limits), versioned templates per channel (create, save, stale saves, channels'
//! parts, deletion that keeps versions), stored snippets as partials, and a preview for a
//! profile the test sent. docs/templates.md.

mod common;

use common::*;
use serde_json::{json, Value};

fn render(s: &Server, body: Value) -> (u16, Value) {
    let r = s.admin_post("/api/v1/templates/render", &body);
    (r.status().as_u16(), r.json().unwrap())
}

fn refused(r: reqwest::blocking::Response) -> (u16, String, Value) {
    let status = r.status().as_u16();
    let body: Value = r.json().unwrap();
    (
        status,
        body["code"].as_str().unwrap_or_default().to_owned(),
        body["location"].clone(),
    )
}

#[test]
fn the_ad_hoc_render_renders_liquid_and_mjml_and_says_where_it_fails() {
    let s = Server::start();
    let (status, out) = render(
        &s,
        json!({"template": "Hi {{ name | upcase }}{% for i in (1..3) %}.{{ i }}{% endfor %}", "context": {"name": "ana"}}),
    );
    assert_eq!((status, out), (200, json!({"output": "Hi ANA.1.2.3"})));
    // Undefined variables are empty, unless strict.
    let (_, out) = render(&s, json!({"template": "[{{ nobody }}]"}));
    assert_eq!(out["output"], "[]");
    let (status, out) = render(&s, json!({"template": "[{{ nobody }}]", "strict": true}));
    assert_eq!(
        (status, out["code"].as_str()),
        (400, Some("undefined_variable"))
    );
    // The place of a syntax error: line 2, in the template.
    let (status, out) = render(&s, json!({"template": "fine\n{% if %}x{% endif %}"}));
    assert_eq!((status, out["code"].as_str()), (400, Some("liquid_syntax")));
    assert_eq!(
        (&out["location"]["part"], &out["location"]["line"]),
        (&json!("template"), &json!(2))
    );
    // MJML after Liquid.
    let mjml = "<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ name }}</mj-text></mj-column></mj-section></mj-body></mjml>";
    let (status, out) = render(
        &s,
        json!({"template": mjml, "context": {"name": "Ana"}, "format": "mjml"}),
    );
    assert_eq!(status, 200);
    let html = out["output"].as_str().unwrap();
    assert!(
        html.starts_with("<!doctype html>") && html.contains("Hello Ana"),
        "{html}"
    );
    let (status, out) = render(
        &s,
        json!({"template": "<mjml><mj-head><mj-nope/></mj-head></mjml>", "format": "mjml"}),
    );
    assert_eq!((status, out["code"].as_str()), (400, Some("mjml_invalid")));
    // Partials given with the request.
    let (_, out) = render(
        &s,
        json!({"template": "{% render 'greet', who: name %}!", "context": {"name": "Bo"}, "partials": {"greet": "hey {{ who }}"}}),
    );
    assert_eq!(out["output"], "hey Bo!");
}

#[test]
fn hostile_templates_hit_the_sandbox_limits_and_change_nothing() {
    let s = Server::start();
    let cases = [
        (
            json!({"template": "{% for i in (1..100000000) %}x{% endfor %}"}),
            "loop_limit",
        ),
        (
            json!({"template": "{% for i in (1..1000) %}{% for j in (1..1000) %}{% for k in (1..1000) %}{% endfor %}{% endfor %}{% endfor %}"}),
            "loop_limit",
        ),
        (
            json!({"template": "{% assign s = 'xxxxxxxxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}"}),
            "output_limit",
        ),
        (
            json!({"template": "{% render 'me' %}", "partials": {"me": "{% render 'me' %}"}}),
            "render_depth",
        ),
        (
            json!({"template": "x".repeat(300 * 1024)}),
            "template_too_large",
        ),
        (
            json!({"template": "{% render 'nowhere' %}"}),
            "template_not_found",
        ),
        (
            json!({"template": format!("{}x{}", "{% if true %}".repeat(500), "{% endif %}".repeat(500))}),
            "nesting_depth",
        ),
    ];
    for (body, code) in cases {
        let (status, out) = render(&s, body.clone());
        assert_eq!(
            (status, out["code"].as_str()),
            (400, Some(code)),
            "{}: {out}",
            &body.to_string()[..80.min(body.to_string().len())]
        );
    }
    // A template reads only its context: no file, no environment.
    let (_, out) = render(&s, json!({"template": "{% include '/etc/passwd' %}"}));
    assert_eq!(out["code"], "template_not_found");
    let (status, out) = render(
        &s,
        json!({"template": "<mjml><mj-body><mj-include path=\"/etc/passwd\"/></mj-body></mjml>", "format": "mjml"}),
    );
    assert_eq!((status, out["code"].as_str()), (400, Some("mjml_invalid")));
    assert_eq!(s.admin_json("/api/v1/templates"), json!([]));
}

#[test]
fn templates_are_versioned_checked_per_channel_and_deleted_without_losing_versions() {
    let s = Server::start();
    let email = json!({"id": "welcome", "name": "Welcome", "channel": "email", "content": {"subject": "Hi {{ traits.first_name }}", "body": "<p>Welcome</p>"}});
    let created = s.admin_post("/api/v1/templates", &email);
    assert_eq!(created.status(), 201);
    let v1: Value = created.json().unwrap();
    assert_eq!((&v1["id"], &v1["version"]), (&json!("welcome"), &json!(1)));
    assert_eq!(
        refused(s.admin_post("/api/v1/templates", &email)).1,
        "template_exists"
    );

    // Refused, each with its code; nothing saved.
    let bad = [
        (
            json!({"id": "Bad Id", "channel": "sms", "content": {"body": "x"}}),
            "invalid_id",
            Value::Null,
        ),
        (
            json!({"id": "x", "channel": "fax", "content": {"body": "x"}}),
            "invalid_channel",
            Value::Null,
        ),
        (
            json!({"id": "x", "channel": "sms", "content": {"subject": "s", "body": "x"}}),
            "template_part",
            json!("subject"),
        ),
        (
            json!({"id": "x", "channel": "push", "content": {"body": "x"}}),
            "template_part",
            json!("title"),
        ),
        (
            json!({"id": "x", "channel": "sms", "content": {"body": "x", "format": "mjml"}}),
            "template_format",
            json!("format"),
        ),
        (
            json!({"id": "x", "channel": "email", "content": {"subject": "ok", "body": "a\nb {{ x | nope }}"}}),
            "unknown_filter",
            json!("body"),
        ),
    ];
    for (body, code, part) in bad {
        let (status, got, location) = refused(s.admin_post("/api/v1/templates", &body));
        assert_eq!((status, got.as_str()), (400, code), "{body}");
        assert_eq!(location["part"], part, "{body}");
    }
    let (_, _, location) = refused(s.admin_post("/api/v1/templates", &bad_body()));
    assert_eq!(
        (&location["line"], &location["column"]),
        (&json!(2), &json!(3))
    );
    assert_eq!(
        s.admin_json("/api/v1/templates").as_array().unwrap().len(),
        1
    );

    // A new version; a stale save is refused; the channel stays.
    let mut next = email.clone();
    next["content"]["subject"] = json!("Hello {{ traits.first_name }}");
    next["expected_version"] = json!(1);
    let v2: Value = s
        .admin_put("/api/v1/templates/welcome", &next)
        .json()
        .unwrap();
    assert!(v2["code"].is_null(), "{v2}");
    assert_eq!(v2["version"], 2);
    let (status, code, _) = refused(s.admin_put("/api/v1/templates/welcome", &next));
    assert_eq!((status, code.as_str()), (409, "template_version_conflict"));
    let mut sms = next.clone();
    sms["channel"] = json!("sms");
    sms["content"] = json!({"body": "x"});
    sms.as_object_mut().unwrap().remove("expected_version");
    assert_eq!(
        refused(s.admin_put("/api/v1/templates/welcome", &sms)).1,
        "channel_changed"
    );
    let versions = s.admin_json("/api/v1/templates/welcome/versions");
    let numbers: Vec<_> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].clone())
        .collect();
    assert_eq!(numbers, [json!(2), json!(1)]);
    assert_eq!(s.admin_json("/api/v1/templates/welcome/versions/1"), v1);
    assert_eq!(s.admin_json("/api/v1/templates/welcome"), v2);

    // Deleted: gone from the list and from reads, its versions kept; the id comes back at 3.
    assert_eq!(s.admin_delete("/api/v1/templates/welcome").status(), 204);
    assert_eq!(
        refused(s.admin_get("/api/v1/templates/welcome")).1,
        "template_not_found"
    );
    assert_eq!(s.admin_json("/api/v1/templates"), json!([]));
    assert_eq!(s.admin_json("/api/v1/templates/welcome/versions/2"), v2);
    let again: Value = s.admin_post("/api/v1/templates", &email).json().unwrap();
    assert_eq!(again["version"], 3);
}

fn bad_body() -> Value {
    json!({"id": "x", "channel": "email", "content": {"subject": "ok", "body": "a\nb {{ x | nope }}"}})
}

#[test]
fn a_preview_renders_for_a_profile_with_snippets_and_an_event() {
    let s = Server::start();
    let identify = json!({"type": "identify", "userId": "u-7", "traits": {"first_name": "Ana", "email": "ana@example.com", "plan": "pro"}, "messageId": "t-1"});
    assert_eq!(
        s.post("/v1/batch", &json!({"batch": [identify]})).status(),
        200
    );
    s.wait_processed();
    let snippet = json!({"id": "footer", "channel": "snippet", "content": {"body": "-- {{ traits.plan | default: 'free' }} plan"}});
    assert_eq!(s.admin_post("/api/v1/templates", &snippet).status(), 201);
    let email = json!({"id": "receipt", "channel": "email", "content": {
        "subject": "{{ traits.first_name }}, your {{ event.properties.item }}",
        "body": "<p>{{ profile.identifiers.email | first }}</p>{% render 'footer', traits: traits %}",
        "format": "html"
    }});
    assert_eq!(s.admin_post("/api/v1/templates", &email).status(), 201);
    let preview = s.admin_post(
        "/api/v1/templates/receipt/preview",
        &json!({"profile": "email:ana@example.com", "event": {"event": "Order Completed", "properties": {"item": "tea"}}}),
    );
    assert_eq!(preview.status(), 200);
    let preview: Value = preview.json().unwrap();
    assert_eq!(
        preview,
        json!({"version": 1, "format": "html", "parts": {
            "subject": "Ana, your tea",
            "body": "<p>ana@example.com</p>-- pro plan"
        }})
    );
    // No profile: traits are empty; a draft renders instead of the stored version.
    let draft: Value = s
        .admin_post(
            "/api/v1/templates/receipt/preview",
            &json!({"content": {"subject": "[{{ traits.first_name }}]", "body": "{% render 'footer' %}"}}),
        )
        .json()
        .unwrap();
    assert_eq!(
        draft,
        json!({"version": null, "format": "html", "parts": {"subject": "[]", "body": "-- free plan"}})
    );
    // A strict draft without the data it names, an unknown profile, an unknown template.
    let strict = s.admin_post(
        "/api/v1/templates/receipt/preview",
        &json!({"content": {"subject": "{{ traits.nickname }}", "body": "x", "strict": true}, "profile": "user_id:u-7"}),
    );
    assert_eq!(refused(strict).1, "undefined_variable");
    let nobody = s.admin_post(
        "/api/v1/templates/receipt/preview",
        &json!({"profile": "user_id:nobody"}),
    );
    assert_eq!(refused(nobody).0, 404);
    assert_eq!(
        refused(s.admin_post("/api/v1/templates/nope/preview", &json!({}))).1,
        "template_not_found"
    );
    // An unsaved template of a channel, before its first save.
    let unsaved: Value = s
        .admin_post(
            "/api/v1/templates/preview",
            &json!({"channel": "push", "content": {"title": "{{ traits.first_name }}", "body": "{% render 'footer', traits: traits %}"}, "profile": "user_id:u-7"}),
        )
        .json()
        .unwrap();
    assert_eq!(
        unsaved,
        json!({"version": null, "format": "text", "parts": {"title": "Ana", "body": "-- pro plan"}})
    );
    let (status, code, location) = refused(s.admin_post(
        "/api/v1/templates/preview",
        &json!({"channel": "push", "content": {"body": "x"}}),
    ));
    assert_eq!(
        (status, code.as_str(), &location["part"]),
        (400, "template_part", &json!("title"))
    );
}
