//! The comparer must tell documents apart: each rule it relaxes is tested both ways.

use super::{compare, normalise_ids};

const PAGE: &str = r#"<!doctype html>
<html lang="en">
  <head>
    <title>Hi</title>
    <style type="text/css">
      #outlook a { padding: 0; }
      @media only screen and (min-width:480px) {
        .mj-column-per-100 { width: 100% !important; max-width: 100%; }
      }
    </style>
  </head>
  <body style="word-spacing:normal;">
    <!--[if mso | IE]><table role="presentation"><tr><td><![endif]-->
    <div class="a b" style="margin:0px auto;max-width:600px;">
      <p>Hello there</p><img src="x.png" alt="">
    </div>
    <!--[if mso | IE]></td></tr></table><![endif]-->
  </body>
</html>
"#;

fn differs(expected: &str, actual: &str) -> String {
    match compare(expected, actual) {
        Ok(()) => panic!("reported equal:\n{expected}\n---\n{actual}"),
        Err(difference) => difference.to_string(),
    }
}

fn same(expected: &str, actual: &str) {
    if let Err(difference) = compare(expected, actual) {
        panic!("reported different: {difference}\n{expected}\n---\n{actual}");
    }
}

#[test]
fn a_document_equals_itself() {
    same(PAGE, PAGE);
}

#[test]
fn tag_order_matters() {
    let swapped = PAGE.replace(
        "<p>Hello there</p><img src=\"x.png\" alt=\"\">",
        "<img src=\"x.png\"><p>Hello there</p>",
    );
    let d = differs(PAGE, &swapped);
    assert!(
        d.contains("html > body > [table] > [tr] > [td] > div (expected"),
        "{d}"
    );
    assert!(d.contains("expected <p>, got <img"), "{d}");
}

#[test]
fn a_style_declaration_matters() {
    let d = differs(PAGE, &PAGE.replace("max-width:600px", "max-width:640px"));
    assert!(
        d.contains("`style`: declaration `max-width`: expected `600px`, got `640px`"),
        "{d}"
    );
    let d = differs(PAGE, &PAGE.replace("word-spacing:normal;", ""));
    assert!(d.contains("<body>: attribute `style` missing"), "{d}");
    let d = differs(PAGE, &PAGE.replace("margin:0px auto;", ""));
    assert!(d.contains("declaration `margin:0px auto` missing"), "{d}");
}

#[test]
fn a_class_matters() {
    let d = differs(PAGE, &PAGE.replace("class=\"a b\"", "class=\"a\""));
    assert!(d.contains("class `b` missing"), "{d}");
    let d = differs(PAGE, &PAGE.replace("class=\"a b\"", "class=\"a b c\""));
    assert!(d.contains("unexpected class `c`"), "{d}");
}

#[test]
fn text_matters() {
    let d = differs(PAGE, &PAGE.replace("Hello there", "Hello their"));
    assert!(
        d.contains("html > body > [table] > [tr] > [td] > div > p (expected"),
        "{d}"
    );
    assert!(d.contains("text differs"), "{d}");
}

#[test]
fn attributes_and_their_values_matter() {
    let d = differs(PAGE, &PAGE.replace("src=\"x.png\"", "src=\"y.png\""));
    assert!(
        d.contains("`src`: expected \"x.png\", got \"y.png\""),
        "{d}"
    );
    let d = differs(PAGE, &PAGE.replace("<p>", "<p align=\"left\">"));
    assert!(d.contains("unexpected attribute `align`"), "{d}");
    let d = differs(PAGE, &PAGE.replace("alt=\"\"", "alt=\"a cat\""));
    assert!(d.contains("unexpected attribute `alt`"), "{d}");
}

#[test]
fn css_in_style_elements_matters() {
    let d = differs(PAGE, &PAGE.replace("width: 100% !important", "width: 100%"));
    assert!(
        d.contains("in `@media only screen and (min-width:480px)`"),
        "{d}"
    );
    assert!(d.contains("declaration `width`"), "{d}");
    let d = differs(PAGE, &PAGE.replace("#outlook a", "#outlook p"));
    assert!(
        d.contains("CSS rule 1: expected `#outlook a {…}`, got `#outlook p {…}`"),
        "{d}"
    );
    let d = differs(PAGE, &PAGE.replace("#outlook a { padding: 0; }", ""));
    assert!(d.contains("CSS rule 1"), "{d}");
}

#[test]
fn comments_and_conditional_comments_matter() {
    differs(
        PAGE,
        &PAGE.replace("[if mso | IE]><table", "[if mso]><table"),
    );
    differs(PAGE, &PAGE.replace("<p>Hello", "<!-- note --><p>Hello"));
    let d = differs(
        PAGE,
        &PAGE.replace("<tr><td><![endif]-->", "<tr><td class=\"x\"><![endif]-->"),
    );
    assert!(d.contains("inside <!--[if mso | IE]>"), "{d}");
}

#[test]
fn a_missing_or_extra_tail_matters() {
    let cut = PAGE.replace("</body>\n</html>\n", "");
    let d = differs(PAGE, &cut);
    assert!(d.contains("got the end"), "{d}");
    let d = differs(&cut, PAGE);
    assert!(d.contains("expected the end"), "{d}");
}

#[test]
fn attribute_order_whitespace_and_class_order_do_not_matter() {
    let reformatted = PAGE
        .replace(
            "class=\"a b\" style=\"margin:0px auto;max-width:600px;\"",
            "style=\" max-width: 600px; margin: 0px  auto \"\n class=\"b  a\"",
        )
        .replace("<p>Hello there</p>", "<p>\n  Hello\n  there\n</p>")
        .replace("<html lang=\"en\">", "<HTML   lang=\"en\"\n>")
        .replace(
            "#outlook a { padding: 0; }",
            "#outlook a {\n  padding: 0\n}\n",
        )
        .replace("(min-width:480px)", "( min-width: 480px )")
        .replace("<img src=\"x.png\" alt=\"\">", "<img src=\"x.png\" />");
    same(PAGE, &reformatted);
}

#[test]
fn empty_class_style_alt_comments_and_head_styles_are_ignored() {
    let padded = PAGE
        .replace("<p>", "<p class=\"\" style=\"\"><!-- -->")
        .replace("<title>", "<style type=\"text/css\">\n</style><title>");
    same(PAGE, &padded);
}

#[test]
fn a_conditional_comment_closed_and_reopened_is_merged() {
    let split = PAGE.replace(
        "<tr><td><![endif]-->",
        "<tr><![endif]-->\n    <!--[if mso | IE]><td><![endif]-->",
    );
    same(PAGE, &split);
    let different = PAGE.replace(
        "<tr><td><![endif]-->",
        "<tr><![endif]-->\n    <!--[if mso]><td><![endif]-->",
    );
    differs(PAGE, &different);
}

#[test]
fn generated_ids_are_renamed_in_order_of_appearance() {
    let mrml = r#"<style>.mj-carousel-00000000-radio-1:checked { x: y }</style>
<input id="00000003"><label for="00000003"></label><input name="mj-carousel-radio-00000000">"#;
    let mjml = r#"<style>.mj-carousel-a1b2c3d4-radio-1:checked { x: y }</style>
<input id="deadbeef"><label for="deadbeef"></label><input name="mj-carousel-radio-a1b2c3d4">"#;
    assert_eq!(normalise_ids(mrml), normalise_ids(mjml));
    assert!(normalise_ids(mjml).contains("id=\"00000001\""));
    assert!(normalise_ids(mjml).contains("for=\"00000001\""));
    let unrelated = r#"<label for="cafebabe"></label><a id="short"></a>"#;
    assert_eq!(normalise_ids(unrelated), unrelated);
}

#[test]
fn css_importance_is_read_however_it_is_spaced() {
    same(
        PAGE,
        &PAGE.replace("width: 100% !important", "width:100%! important"),
    );
    same(
        PAGE,
        &PAGE.replace("width: 100% !important", "width:100%!IMPORTANT"),
    );
    let d = differs(
        PAGE,
        &PAGE.replace("width: 100% !important", "width: 100% important"),
    );
    assert!(d.contains("declaration `width`"), "{d}");
}

#[test]
fn css_rule_order_matters() {
    let swapped = PAGE.replace(
        "#outlook a { padding: 0; }\n      @media only screen and (min-width:480px) {\n        .mj-column-per-100 { width: 100% !important; max-width: 100%; }\n      }",
        "@media only screen and (min-width:480px) {\n        .mj-column-per-100 { width: 100% !important; max-width: 100%; }\n      }\n      #outlook a { padding: 0; }",
    );
    assert_ne!(swapped, PAGE);
    let d = differs(PAGE, &swapped);
    assert!(d.contains("CSS rule 1: expected `#outlook a {…}`"), "{d}");
}

#[test]
fn a_style_in_the_body_or_with_rules_is_kept() {
    let d = differs(PAGE, &PAGE.replace("<p>", "<style></style><p>"));
    assert!(d.contains("expected <p>, got <style>"), "{d}");
    let d = differs(
        PAGE,
        &PAGE.replace("<title>", "<style>p { x: y }</style><title>"),
    );
    assert!(d.contains("expected <title>, got <style>"), "{d}");
}

#[test]
fn an_unreadable_document_is_a_difference() {
    let d = differs(
        PAGE,
        &PAGE.replace("#outlook a { padding: 0; }", "#outlook a { padding: 0;"),
    );
    assert!(
        d.contains("the actual document cannot be read: line"),
        "{d}"
    );
    let d = differs(PAGE, &PAGE.replace("<p>Hello", "<p <Hello"));
    assert!(d.contains("the actual document cannot be read"), "{d}");
}
