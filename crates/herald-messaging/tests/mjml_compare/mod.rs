//! A structural comparer for HTML rendered from MJML, after the one mrml's fixtures were made
//! for: both documents are read into normalised items ([`markup`]), `<style>` content into CSS
//! rules ([`css`]), and the two lists must match item by item. The first difference is reported
//! with the path of open tags where it occurs and what differs.
//!
//! Generated ids are not the comparer's business: rename them first with [`normalise_ids`].

mod css;
mod ids;
mod markup;
#[cfg(test)]
mod tests;

use std::fmt;

pub use ids::normalise_ids;
use markup::{Item, Node, Value};

/// Where two documents first differ, and how.
#[derive(Debug)]
pub struct Difference {
    /// Open tags at that point, outermost first, and the conditional comment if inside one.
    pub path: String,
    /// Lines in the expected and the actual document (none when a document ended there).
    pub expected_line: Option<usize>,
    pub actual_line: Option<usize>,
    pub what: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = |l: Option<usize>| l.map_or("end".to_owned(), |l| l.to_string());
        write!(
            f,
            "at {} (expected line {}, actual line {}): {}",
            self.path,
            line(self.expected_line),
            line(self.actual_line),
            self.what
        )
    }
}

/// `Ok` when the documents are the same under the normalisations of [`markup`], or the first
/// difference.
pub fn compare(expected: &str, actual: &str) -> Result<(), Difference> {
    let unreadable = |which: &str, error: String| Difference {
        path: "(document)".to_owned(),
        expected_line: None,
        actual_line: None,
        what: format!("the {which} document cannot be read: {error}"),
    };
    let expected = markup::read(expected).map_err(|e| unreadable("expected", e))?;
    let actual = markup::read(actual).map_err(|e| unreadable("actual", e))?;
    let mut path = Path::default();
    for index in 0..expected.len().max(actual.len()) {
        let (e, a) = (expected.get(index), actual.get(index));
        let what = match (e, a) {
            (Some(e), Some(a)) => item_difference(&e.item, &a.item),
            (Some(e), None) => Some(format!("expected {}, got the end", e.item)),
            (None, Some(a)) => Some(format!("expected the end, got {}", a.item)),
            (None, None) => None,
        };
        if let Some(what) = what {
            return Err(Difference {
                path: path.describe(),
                expected_line: e.map(|n| n.line),
                actual_line: a.map(|n| n.line),
                what,
            });
        }
        if let Some(Node { item, .. }) = e {
            path.step(item);
        }
    }
    Ok(())
}

fn item_difference(expected: &Item, actual: &Item) -> Option<String> {
    match (expected, actual) {
        _ if expected == actual => None,
        (
            Item::Open {
                name: en,
                attributes: ea,
            },
            Item::Open {
                name: an,
                attributes: aa,
            },
        ) if en == an => attributes_difference(ea, aa).map(|d| format!("<{en}>: {d}")),
        (Item::StyleSheet(e), Item::StyleSheet(a)) => css::first_difference(e, a),
        (Item::Text(e), Item::Text(a)) => Some(format!(
            "text differs: expected {:?}, got {:?}",
            around_first_difference(e, a),
            around_first_difference(a, e)
        )),
        _ => Some(format!("expected {expected}, got {actual}")),
    }
}

fn attributes_difference(
    expected: &[(String, Value)],
    actual: &[(String, Value)],
) -> Option<String> {
    let names = |list: &[(String, Value)]| list.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let (en, an) = (names(expected), names(actual));
    if en != an {
        if let Some(missing) = en.iter().find(|n| !an.contains(n)) {
            return Some(format!("attribute `{missing}` missing"));
        }
        if let Some((name, value)) = actual.iter().find(|(n, _)| !en.contains(n)) {
            return Some(format!("unexpected attribute `{name}` = {}", show(value)));
        }
        return Some(format!(
            "attributes {en:?} differ from {an:?} (a repeated name)"
        ));
    }
    expected
        .iter()
        .zip(actual)
        .find_map(|((name, e), (_, a))| value_difference(e, a).map(|d| format!("`{name}`: {d}")))
}

fn value_difference(expected: &Value, actual: &Value) -> Option<String> {
    match (expected, actual) {
        _ if expected == actual => None,
        (Value::Classes(e), Value::Classes(a)) => e
            .difference(a)
            .next()
            .map(|c| format!("class `{c}` missing"))
            .or_else(|| {
                a.difference(e)
                    .next()
                    .map(|c| format!("unexpected class `{c}`"))
            }),
        (Value::Declarations(e), Value::Declarations(a)) => css::map_difference(e, a),
        _ => Some(format!("expected {}, got {}", show(expected), show(actual))),
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::Text(None) => "(no value)".to_owned(),
        Value::Text(Some(text)) => format!("{text:?}"),
        Value::Classes(classes) => format!("{classes:?}"),
        Value::Declarations(declarations) => format!("{declarations:?}"),
    }
}

/// A window of `text` around where it stops matching `other`.
fn around_first_difference(text: &str, other: &str) -> String {
    let common = text
        .chars()
        .zip(other.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let chars: Vec<char> = text.chars().collect();
    let from = common.saturating_sub(20);
    let to = (common + 40).min(chars.len());
    let window: String = chars[from..to].iter().collect();
    let lead = if from > 0 { "…" } else { "" };
    let tail = if to < chars.len() { "…" } else { "" };
    format!("{lead}{window}{tail}")
}

/// The open tags along the expected document, for reports; a tag opened inside a conditional
/// comment is shown in brackets.
#[derive(Default)]
struct Path {
    open: Vec<(String, bool)>,
    condition: Option<String>,
}

impl Path {
    fn step(&mut self, item: &Item) {
        match item {
            Item::Open { name, .. } if !markup::is_void(name) => {
                self.open.push((name.clone(), self.condition.is_some()));
            }
            Item::Close(name) => {
                if let Some(at) = self.open.iter().rposition(|(n, _)| n == name) {
                    self.open.truncate(at);
                }
            }
            Item::ConditionalStart(condition) => self.condition = Some(condition.clone()),
            Item::ConditionalEnd(_) => self.condition = None,
            _ => {}
        }
    }

    fn describe(&self) -> String {
        let names: Vec<String> = self
            .open
            .iter()
            .map(|(name, conditional)| match conditional {
                true => format!("[{name}]"),
                false => name.clone(),
            })
            .collect();
        let mut path = match names.is_empty() {
            true => "(top)".to_owned(),
            false => names.join(" > "),
        };
        if let Some(condition) = &self.condition {
            path.push_str(&format!(" inside {condition}"));
        }
        path
    }
}
