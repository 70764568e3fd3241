//! MJML conformance: mrml's own fixtures, rendered through Herald's `compile_mjml` and compared
//! structurally with the HTML the reference `mjml` produced (see `mjml_compare` for the rules).
//!
//! The fixtures live outside the repository, in `shared/conformance/mjml/` beside the checkout
//! (copied from github.com/jdrouet/mrml, MIT; their README says how they were made). Every pair
//! must pass except those in [`KNOWN_FAILURES`], each with its reason: a new failure and an
//! unexpected pass both fail the test. Run with `-- --nocapture` to see every difference.

mod mjml_compare;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use herald_messaging::template::compile_mjml;
use mjml_compare::{compare, normalise_ids};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/mjml"
);

/// Pairs that do not pass, grouped by cause: the cases (`folder/name`), a piece of the first
/// difference the comparer reports for them (so a known failure that starts failing differently
/// shows), and why. Each cause was checked by patching mrml's output for it alone: the cases then
/// pass.
struct KnownFailure {
    cases: &'static [&'static str],
    first_difference: &'static str,
    reason: &'static str,
}

const KNOWN_FAILURES: &[KnownFailure] = &[
    KnownFailure {
        cases: &[
            "success/mj-button",
            "success/mj-button-align",
            "success/mj-button-background",
            "success/mj-button-border",
            "success/mj-button-border-radius",
            "success/mj-button-class",
            "success/mj-button-color",
            "success/mj-button-container-background-color",
            "success/mj-button-example",
            "success/mj-button-font-family",
            "success/mj-button-font-size",
            "success/mj-button-font-style",
            "success/mj-button-font-weight",
            "success/mj-button-height",
            "success/mj-button-href",
            "success/mj-button-inner-padding",
            "success/mj-button-line-height",
            "success/mj-button-padding",
            "success/mj-button-text-decoration",
            "success/mj-button-text-transform",
            "success/mj-button-vertical-align",
            "success/mj-button-width",
            "success/mj-spacer",
        ],
        first_difference: "<td>: unexpected attribute `vertical-align`",
        reason: "mrml writes the element's vertical-align as an HTML attribute on the column \
            cell around it (`<td align=\"center\" vertical-align=\"middle\">`); mjml does not. \
            It is not an HTML attribute, so browsers ignore it. Nothing else differs.",
    },
    KnownFailure {
        cases: &[
            "success/mj-column-background-color",
            "success/mj-column-border",
            "success/mj-column-padding",
            "success/mj-group-width",
        ],
        first_difference: COLUMN_ORDER_FIRST,
        reason: "the column-width rules (`.mj-column-per-50 {…}` in the media query and their \
            `.moz-text-html` copies) are the same but in another order: mrml sorts them by class \
            name, mjml writes them in order of first use. Each column has one such class, so \
            the rendering is the same, but the comparison keeps rule order. Nothing else differs.",
    },
    KnownFailure {
        cases: &["success/mj-raw-head", "success/mjml"],
        first_difference: "<html>: unexpected attribute `dir`",
        reason: "mrml writes `dir=\"auto\"` on `<html>` (and `lang=\"und\"` when the document \
            sets no language); this expected file has neither, unlike the other 156, which all \
            have `dir=\"auto\"` there: it was apparently made with an older mjml. Nothing else \
            differs.",
    },
    KnownFailure {
        cases: &["template/amario"],
        first_difference: COLUMN_ORDER_FIRST,
        reason: "two differences: the column-width rules in another order (as for \
            mj-column-padding), and short hex colours from the input (`#fff`, `#000`) kept by \
            mrml where mjml writes `#ffffff` and `#000000`, in attributes and styles (the same \
            colours). Upstream does not check this template's output either.",
    },
];

const COLUMN_ORDER_FIRST: &str =
    "in `@media only screen and (min-width:480px)`: CSS rule 1: expected `.mj-column-";

/// Every known failure's case with the piece of its first difference.
fn known_failures() -> BTreeMap<&'static str, &'static str> {
    KNOWN_FAILURES
        .iter()
        .flat_map(|k| k.cases.iter().map(|case| (*case, k.first_difference)))
        .collect()
}

/// Folders of `<name>.mjml` + `<name>.html` pairs, and how many pairs each holds (the README's
/// counts, so that a partial copy cannot shrink the suite unnoticed).
const PAIRS: [(&str, usize); 2] = [("success", 156), ("template", 2)];

struct Case {
    name: String,
    mjml: PathBuf,
    html: PathBuf,
}

fn fixtures() -> PathBuf {
    let dir = PathBuf::from(FIXTURES);
    assert!(
        dir.is_dir(),
        "MJML conformance fixtures not found at {}: they are expected in shared/conformance/mjml \
         next to the repository checkout",
        dir.display()
    );
    dir
}

fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path()
        })
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn cases() -> Vec<Case> {
    let root = fixtures();
    let mut cases = Vec::new();
    for (folder, count) in PAIRS {
        let dir = root.join(folder);
        let inputs = files_with_extension(&dir, "mjml");
        let outputs = files_with_extension(&dir, "html");
        assert_eq!(inputs.len(), count, "{}: .mjml files", dir.display());
        assert_eq!(outputs.len(), count, "{}: .html files", dir.display());
        for mjml in inputs {
            let html = mjml.with_extension("html");
            assert!(html.is_file(), "{} has no .html beside it", mjml.display());
            let stem = mjml.file_stem().map(|s| s.to_string_lossy().into_owned());
            let name = format!("{folder}/{}", stem.unwrap_or_default());
            cases.push(Case { name, mjml, html });
        }
    }
    cases
}

/// The first difference between Herald's rendering of a case and the expected HTML, if any.
fn run(case: &Case) -> Option<String> {
    let source = read(&case.mjml);
    let expected = normalise_ids(&read(&case.html));
    match compile_mjml(&source) {
        Err(e) => Some(format!("does not compile: {} ({})", e.message, e.code)),
        Ok(actual) => compare(&expected, &normalise_ids(&actual))
            .err()
            .map(|d| d.to_string()),
    }
}

#[test]
fn fixtures_render_like_the_reference_mjml() {
    let cases = cases();
    let failures: BTreeMap<String, String> = cases
        .iter()
        .filter_map(|case| run(case).map(|difference| (case.name.clone(), difference)))
        .collect();
    println!(
        "MJML conformance: {} of {} pass",
        cases.len() - failures.len(),
        cases.len()
    );
    for (name, difference) in &failures {
        println!("FAIL {name}: {difference}");
    }
    let known = known_failures();
    let new: Vec<&String> = failures
        .keys()
        .filter(|n| !known.contains_key(n.as_str()))
        .collect();
    let fixed: Vec<&&str> = known
        .keys()
        .filter(|n| !failures.contains_key(**n))
        .collect();
    let changed: Vec<&String> = failures
        .iter()
        .filter(|(n, difference)| {
            known
                .get(n.as_str())
                .is_some_and(|first| !difference.contains(first))
        })
        .map(|(n, _)| n)
        .collect();
    assert!(
        new.is_empty() && fixed.is_empty() && changed.is_empty(),
        "failures differ from KNOWN_FAILURES: new failures {new:?}, passing now {fixed:?}, \
         failing differently {changed:?}"
    );
}

#[test]
fn known_failures_name_cases_once_and_say_why() {
    let names: Vec<String> = cases().into_iter().map(|c| c.name).collect();
    let listed: Vec<&str> = KNOWN_FAILURES
        .iter()
        .flat_map(|k| k.cases.iter().copied())
        .collect();
    for (index, name) in listed.iter().enumerate() {
        assert!(names.iter().any(|n| n == name), "{name} is not a case");
        assert!(!listed[..index].contains(name), "{name} is listed twice");
    }
    for known in KNOWN_FAILURES {
        assert!(!known.cases.is_empty(), "a known failure without cases");
        assert!(
            !known.first_difference.trim().is_empty(),
            "{:?}: no first difference",
            known.cases
        );
        assert!(
            known.reason.trim().len() > 40,
            "{:?}: needs a written reason",
            known.cases
        );
    }
}

#[test]
fn invalid_inputs_are_rejected_as_mjml_invalid() {
    let inputs = files_with_extension(&fixtures().join("error"), "mjml");
    assert_eq!(inputs.len(), 1, "error/: .mjml files");
    for path in inputs {
        match compile_mjml(&read(&path)) {
            Ok(_) => panic!("{} compiled, but must be rejected", path.display()),
            Err(e) => assert_eq!(e.code, "mjml_invalid", "{}: {}", path.display(), e.message),
        }
    }
}
