//! CSS read just far enough to compare two style sheets rule by rule.
//!
//! A sheet is a list of rules in source order: statements (`@import url(…);`) and blocks
//! (`selectors { declarations }`, `@media … { rules }`). Comments are removed; a prelude has its
//! whitespace collapsed and none kept around `,` `>` `+` `~`, inside `(`…`)` or, in at-rule
//! preludes, around `:`; declarations form a map (see [`declarations`]).
//!
//! Limits, as a simple splitter rather than a CSS parser: only `@media`, `@supports`,
//! `@container`, `@layer` and `@document` blocks hold rules (any other block holds declarations);
//! a selector list is compared as written (order kept); escapes (`\;`) are not understood;
//! values are compared as text (`0px` differs from `0`, `#FFF` from `#ffffff`).

use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// An at-rule without a block, `@import url(…)`.
    Statement(String),
    Declarations {
        prelude: String,
        declarations: BTreeMap<String, String>,
    },
    Nested {
        prelude: String,
        rules: Vec<Rule>,
    },
}

impl Rule {
    fn prelude(&self) -> &str {
        match self {
            Rule::Statement(prelude)
            | Rule::Declarations { prelude, .. }
            | Rule::Nested { prelude, .. } => prelude,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Statement(prelude) => write!(f, "`{prelude};`"),
            Rule::Declarations { prelude, .. } | Rule::Nested { prelude, .. } => {
                write!(f, "`{prelude} {{…}}`")
            }
        }
    }
}

/// The rules of a style sheet, or why it cannot be read (an unclosed block or string).
pub fn parse(css: &str) -> Result<Vec<Rule>, String> {
    let text = strip_comments(css);
    let mut scanner = Scanner {
        chars: text.chars().collect(),
        pos: 0,
    };
    let rules = scanner.rules(false)?;
    Ok(rules)
}

/// `name: value; …` as a map: names trimmed and lower-cased, values trimmed with whitespace runs
/// collapsed and `!important` written one way (CSS allows `! important` and `x!important`),
/// empty declarations skipped, a repeated name keeping its last value (as CSS does).
/// A declaration without `:` is kept with an empty value, so it still has to match.
pub fn declarations(text: &str) -> BTreeMap<String, String> {
    split_top_level(text, ';')
        .into_iter()
        .filter_map(|chunk| {
            let (name, value) = chunk.split_once(':').unwrap_or((chunk.as_str(), ""));
            let name = name.trim().to_ascii_lowercase();
            (!name.is_empty()).then(|| (name, normalise_value(value)))
        })
        .collect()
}

/// The first difference between two sheets, as a sentence naming the rule.
pub fn first_difference(expected: &[Rule], actual: &[Rule]) -> Option<String> {
    for (index, pair) in expected.iter().zip(actual).enumerate() {
        if let Some(difference) = rule_difference(pair.0, pair.1) {
            return Some(format!("CSS rule {}: {difference}", index + 1));
        }
    }
    match expected.len().cmp(&actual.len()) {
        std::cmp::Ordering::Greater => Some(format!(
            "CSS rule {}: expected {}, got no more rules",
            actual.len() + 1,
            expected[actual.len()]
        )),
        std::cmp::Ordering::Less => Some(format!(
            "CSS rule {}: expected no more rules, got {}",
            expected.len() + 1,
            actual[expected.len()]
        )),
        std::cmp::Ordering::Equal => None,
    }
}

fn rule_difference(expected: &Rule, actual: &Rule) -> Option<String> {
    match (expected, actual) {
        (Rule::Statement(e), Rule::Statement(a)) if e == a => None,
        (
            Rule::Declarations {
                prelude: ep,
                declarations: ed,
            },
            Rule::Declarations {
                prelude: ap,
                declarations: ad,
            },
        ) if ep == ap => map_difference(ed, ad).map(|d| format!("in `{ep}`: {d}")),
        (
            Rule::Nested {
                prelude: ep,
                rules: er,
            },
            Rule::Nested {
                prelude: ap,
                rules: ar,
            },
        ) if ep == ap => first_difference(er, ar).map(|d| format!("in `{ep}`: {d}")),
        _ if expected.prelude() == actual.prelude() => Some(format!(
            "`{}`: expected {expected}, got a different kind of rule {actual}",
            expected.prelude()
        )),
        _ => Some(format!("expected {expected}, got {actual}")),
    }
}

/// The first declaration that is missing, extra or different.
pub fn map_difference(
    expected: &BTreeMap<String, String>,
    actual: &BTreeMap<String, String>,
) -> Option<String> {
    for (name, value) in expected {
        match actual.get(name) {
            None => return Some(format!("declaration `{name}:{value}` missing")),
            Some(got) if got != value => {
                return Some(format!(
                    "declaration `{name}`: expected `{value}`, got `{got}`"
                ))
            }
            Some(_) => {}
        }
    }
    actual
        .iter()
        .find(|(name, _)| !expected.contains_key(*name))
        .map(|(name, value)| format!("unexpected declaration `{name}:{value}`"))
}

struct Scanner {
    chars: Vec<char>,
    pos: usize,
}

impl Scanner {
    /// Rules until the end (top level) or the `}` that closes the enclosing block (nested).
    fn rules(&mut self, nested: bool) -> Result<Vec<Rule>, String> {
        let mut rules = Vec::new();
        loop {
            let (prelude, stop) = self.until(&['{', ';', '}'])?;
            let prelude = normalise_prelude(&prelude);
            match stop {
                None if nested => return Err("unclosed `{` block".into()),
                None if prelude.is_empty() => return Ok(rules),
                None if prelude.starts_with('@') => {
                    rules.push(Rule::Statement(prelude));
                    return Ok(rules);
                }
                Some('}') if !nested => return Err("unexpected `}`".into()),
                Some('}') if prelude.is_empty() => return Ok(rules),
                None | Some('}') => return Err(format!("`{prelude}` has no block")),
                Some(';') if prelude.is_empty() => {}
                Some(';') => rules.push(Rule::Statement(prelude)),
                Some(_) if holds_rules(&prelude) => {
                    let inner = self.rules(true)?;
                    rules.push(Rule::Nested {
                        prelude,
                        rules: inner,
                    });
                }
                Some(_) => {
                    let (body, stop) = self.until(&['}'])?;
                    if stop.is_none() {
                        return Err(format!("`{prelude}` has an unclosed block"));
                    }
                    rules.push(Rule::Declarations {
                        prelude,
                        declarations: declarations(&body),
                    });
                }
            }
        }
    }

    /// The text up to the first of `stops` outside strings and brackets, and that stop (consumed);
    /// `None` at the end of the text.
    fn until(&mut self, stops: &[char]) -> Result<(String, Option<char>), String> {
        let mut text = String::new();
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        while let Some(&c) = self.chars.get(self.pos) {
            self.pos += 1;
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if depth == 0 && stops.contains(&c) => return Ok((text, Some(c))),
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == '(' || c == '[' => depth += 1,
                None if c == ')' || c == ']' => depth = depth.saturating_sub(1),
                None => {}
            }
            text.push(c);
        }
        match quote {
            Some(q) => Err(format!("unclosed string {q}")),
            None => Ok((text, None)),
        }
    }
}

fn holds_rules(prelude: &str) -> bool {
    ["@media", "@supports", "@container", "@layer", "@document"]
        .iter()
        .any(|name| {
            prelude
                .strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '(']))
        })
}

/// Splits at `separator` outside strings and brackets.
fn split_top_level(text: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if depth == 0 && c == separator => {
                parts.push(String::new());
                continue;
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '(' || c == '[' => depth += 1,
            None if c == ')' || c == ']' => depth = depth.saturating_sub(1),
            None => {}
        }
        if let Some(part) = parts.last_mut() {
            part.push(c);
        }
    }
    parts
}

fn strip_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    let mut quote: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        if quote.is_none() && rest.starts_with("/*") {
            rest = rest[2..].find("*/").map_or("", |end| &rest[2 + end + 2..]);
            out.push(' ');
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '"' || c == '\'' => quote = Some(c),
            _ => {}
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Whitespace collapsed, and the importance flag written as ` !important`.
fn normalise_value(value: &str) -> String {
    let collapsed = collapse_whitespace(value);
    let lower = collapsed.to_ascii_lowercase();
    let base = lower
        .strip_suffix("important")
        .and_then(|rest| rest.trim_end().strip_suffix('!'));
    match base {
        Some(base) => format!(
            "{} !important",
            collapsed[..base.trim_end().len()].trim_end()
        ),
        None => collapsed,
    }
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn normalise_prelude(prelude: &str) -> String {
    let collapsed = collapse_whitespace(prelude);
    let at_rule = collapsed.starts_with('@');
    let tight = |c: char| matches!(c, ',' | '>' | '+' | '~') || (at_rule && c == ':');
    let chars: Vec<char> = collapsed.chars().collect();
    let mut out = String::with_capacity(collapsed.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
            let after = chars.get(i + 1).copied();
            let drop = before.is_some_and(|b| tight(b) || b == '(')
                || after.is_some_and(|a| tight(a) || a == ')');
            if drop {
                continue;
            }
        }
        out.push(c);
    }
    out
}
