//! Generated ids, renamed so that two renderers' documents can be compared.
//!
//! `mjml` draws random 8-hex-digit ids and mrml counts from `00000000`; the fixtures were written
//! with every id replaced by `00000000`. An id is recognised where the renderers put one:
//! `mj-carousel-<id>-…`, `mj-carousel-radio-<id>`, and `id="<id>"` (the navbar's checkbox), with
//! the `for="<id>"` that points at such an id. The ids are renamed in order of first appearance to
//! `00000000`, `00000001`, …, so distinct ids stay distinct. Limit: an author's own 8-hex-digit
//! `id` is renamed too (no fixture has one).

use std::collections::HashMap;

const CAROUSEL_RADIO: &str = "mj-carousel-radio-";
const CAROUSEL: &str = "mj-carousel-";
const ID_ATTRIBUTE: &str = "id=\"";
const FOR_ATTRIBUTE: &str = "for=\"";

/// The document with its generated ids renamed in order of first appearance.
pub fn normalise_ids(html: &str) -> String {
    let mut names: HashMap<&str, String> = HashMap::new();
    for_each_id(html, |id, _, is_reference| {
        if !is_reference && !names.contains_key(id) {
            let name = format!("{:08}", names.len());
            names.insert(id, name);
        }
    });
    let mut out = String::with_capacity(html.len());
    let mut copied = 0;
    for_each_id(html, |id, start, _| {
        if let Some(name) = names.get(id) {
            out.push_str(&html[copied..start]);
            out.push_str(name);
            copied = start + id.len();
        }
    });
    out.push_str(&html[copied..]);
    out
}

/// Calls `found(id, byte offset, is_reference)` for every id-shaped token in a recognised place,
/// in document order; `for="…"` is a reference (renamed only if it names an id seen elsewhere).
fn for_each_id<'a>(html: &'a str, mut found: impl FnMut(&'a str, usize, bool)) {
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &html[i..];
        let hit = if rest.starts_with(CAROUSEL_RADIO) {
            hex8(html, i + CAROUSEL_RADIO.len(), |b| {
                !b.is_ascii_alphanumeric()
            })
            .map(|at| (at, false))
        } else if rest.starts_with(CAROUSEL) {
            hex8(html, i + CAROUSEL.len(), |b| b == b'-').map(|at| (at, false))
        } else if rest.starts_with(ID_ATTRIBUTE) && preceded_by_space(bytes, i) {
            hex8(html, i + ID_ATTRIBUTE.len(), |b| b == b'"').map(|at| (at, false))
        } else if rest.starts_with(FOR_ATTRIBUTE) && preceded_by_space(bytes, i) {
            hex8(html, i + FOR_ATTRIBUTE.len(), |b| b == b'"').map(|at| (at, true))
        } else {
            None
        };
        match hit {
            Some((at, is_reference)) => {
                found(&html[at..at + 8], at, is_reference);
                i = at + 8;
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
}

/// The offset of eight hex digits at `at` followed by a byte that `ends` accepts (or the end).
fn hex8(html: &str, at: usize, ends: impl Fn(u8) -> bool) -> Option<usize> {
    let bytes = html.as_bytes();
    let digits = bytes.get(at..at + 8)?;
    let terminated = bytes.get(at + 8).is_none_or(|&b| ends(b));
    (digits.iter().all(u8::is_ascii_hexdigit) && terminated).then_some(at)
}

fn preceded_by_space(bytes: &[u8], i: usize) -> bool {
    i > 0 && bytes[i - 1].is_ascii_whitespace()
}
