//! The canonical JSON form of rules, used by the API and the dashboard.
//!
//! ```json
//! {"and": [
//!   {"trait": "plan", "op": "eq", "value": "trial"},
//!   {"performed": "Checkout Started", "count": {"op": "gte", "value": 1},
//!    "window": {"last": "7d"}, "where": [{"property": "cart_value", "op": "gt", "value": 50}]},
//!   {"not": {"performed": "Order Completed", "window": {"last": "7d"}}}
//! ]}
//! ```
//!
//! [`to_json`] always writes every field; [`from_json`] accepts `count` (default `>= 1`),
//! `window` (default `"ever"`) and `where` (default none) left out. Errors carry the JSON
//! pointer of the offending value.

use serde_json::{json, Map, Value};

use super::catalog::{Aggregate, ComputedTrait};
use super::rule::*;

pub fn to_json(rule: &Rule) -> Value {
    match rule {
        Rule::And(rules) => json!({"and": rules.iter().map(to_json).collect::<Vec<_>>()}),
        Rule::Or(rules) => json!({"or": rules.iter().map(to_json).collect::<Vec<_>>()}),
        Rule::Not(rule) => json!({"not": to_json(rule)}),
        Rule::Trait { path, test } => with_test(json!({"trait": path}), test),
        Rule::GroupTrait { path, test } => with_test(json!({"group_trait": path}), test),
        Rule::Computed { name, test } => with_test(json!({"computed": name}), test),
        Rule::Performed {
            event,
            filters,
            count,
            window,
        } => json!({
            "performed": event,
            "count": {"op": count.op.json_name(), "value": count.value},
            "window": window_json(window),
            "where": filters_json(filters),
        }),
        Rule::FirstPerformed {
            event,
            filters,
            test,
        } => with_test(
            json!({"first_performed": event, "where": filters_json(filters)}),
            test,
        ),
        Rule::LastPerformed {
            event,
            filters,
            test,
        } => with_test(
            json!({"last_performed": event, "where": filters_json(filters)}),
            test,
        ),
        Rule::Sequence {
            steps,
            within,
            window,
        } => json!({
            "sequence": steps
                .iter()
                .map(|s| json!({"event": s.event, "where": filters_json(&s.filters)}))
                .collect::<Vec<_>>(),
            "within": within.compact(),
            "window": window_json(window),
        }),
        Rule::InAudience(id) => json!({"in_audience": id}),
    }
}

fn filters_json(filters: &[Filter]) -> Value {
    Value::Array(
        filters
            .iter()
            .map(|f| with_test(json!({"property": f.path}), &f.test))
            .collect(),
    )
}

fn window_json(window: &Window) -> Value {
    match window {
        Window::Ever => json!("ever"),
        Window::Last(span) => json!({"last": span.compact()}),
        Window::Between(from, to) => json!({"between": [from.text, to.text]}),
    }
}

fn with_test(mut object: Value, test: &Test) -> Value {
    let map = object.as_object_mut().expect("an object");
    map.insert("op".into(), json!(test.op_name()));
    let value = match test {
        Test::Eq(v) | Test::Neq(v) | Test::Gt(v) | Test::Gte(v) | Test::Lt(v) | Test::Lte(v) => {
            Some(v.clone())
        }
        Test::In(vs) | Test::NotIn(vs) => Some(Value::Array(vs.clone())),
        Test::Between(a, b) => Some(json!([a, b])),
        Test::Contains(s) | Test::StartsWith(s) => Some(json!(s)),
        Test::Exists | Test::NotExists => None,
        Test::Before(i) | Test::After(i) => Some(json!(i.text)),
        Test::MoreThanAgo(s) | Test::LessThanAgo(s) => Some(json!(s.compact())),
    };
    if let Some(value) = value {
        map.insert("value".into(), value);
    }
    object
}

/// Parse the JSON form.
pub fn from_json(value: &Value) -> Result<Rule, RuleError> {
    rule(value, &Path::root(), 0)
}

/// A JSON pointer under construction.
#[derive(Clone)]
struct Path(String);

impl Path {
    fn root() -> Path {
        Path(String::new())
    }

    fn at(&self, segment: impl std::fmt::Display) -> Path {
        Path(format!("{}/{segment}", self.0))
    }

    fn error(&self, message: impl Into<String>) -> RuleError {
        RuleError {
            location: Location::Json(self.0.clone()),
            message: message.into(),
        }
    }
}

const RULE_KEYS: [&str; 10] = [
    "and",
    "or",
    "not",
    "trait",
    "group_trait",
    "computed",
    "performed",
    "first_performed",
    "last_performed",
    "sequence",
];

fn rule(value: &Value, path: &Path, depth: usize) -> Result<Rule, RuleError> {
    // Each level of the text form's nesting can hold an `or` and an `and`: anything the text
    // form accepts, this accepts.
    let max = 2 * super::text::MAX_DEPTH + 2;
    if depth > max {
        return Err(path.error(format!("rules are nested more than {max} deep")));
    }
    let object = value
        .as_object()
        .ok_or_else(|| path.error("expected a rule object"))?;
    let kind = RULE_KEYS
        .iter()
        .chain(&["in_audience"])
        .find(|k| object.contains_key(**k))
        .ok_or_else(|| {
            path.error(format!(
                "expected one of the keys {}, in_audience",
                RULE_KEYS.join(", ")
            ))
        })?;
    let fields = Fields { object, path, kind };
    let head = path.at(kind);
    match *kind {
        "and" | "or" => {
            fields.only(&[])?;
            let items = object[*kind]
                .as_array()
                .ok_or_else(|| head.error("expected an array of rules"))?;
            if items.is_empty() {
                return Err(head.error("expected at least one rule"));
            }
            let mut rules = items
                .iter()
                .enumerate()
                .map(|(i, v)| rule(v, &head.at(i), depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            // Canonical form: a one-rule `and`/`or` is that rule.
            if rules.len() == 1 {
                return Ok(rules.pop().expect("one rule"));
            }
            Ok(if *kind == "and" {
                Rule::And(rules)
            } else {
                Rule::Or(rules)
            })
        }
        "not" => {
            fields.only(&[])?;
            Ok(Rule::Not(Box::new(rule(&object["not"], &head, depth + 1)?)))
        }
        "trait" | "group_trait" | "computed" => {
            fields.only(&["op", "value"])?;
            let name = path_name(&object[*kind], &head)?;
            let test = test(object, path, TestUse::Value)?;
            Ok(match *kind {
                "trait" => Rule::Trait { path: name, test },
                "group_trait" => Rule::GroupTrait { path: name, test },
                _ => Rule::Computed { name, test },
            })
        }
        "performed" => {
            fields.only(&["count", "window", "where"])?;
            Ok(Rule::Performed {
                event: name(&object["performed"], &head)?,
                filters: filters(object.get("where"), &path.at("where"))?,
                count: match object.get("count") {
                    None => Count::AT_LEAST_ONCE,
                    Some(v) => count(v, &path.at("count"))?,
                },
                window: window(object.get("window"), &path.at("window"))?,
            })
        }
        "first_performed" | "last_performed" => {
            fields.only(&["where", "op", "value"])?;
            let event = name(&object[*kind], &head)?;
            let filters = filters(object.get("where"), &path.at("where"))?;
            let test = test(object, path, TestUse::Time)?;
            Ok(Rule::performed_at(
                *kind == "first_performed",
                event,
                filters,
                test,
            ))
        }
        "sequence" => {
            fields.only(&["within", "window"])?;
            let items = object["sequence"]
                .as_array()
                .ok_or_else(|| head.error("expected an array of steps"))?;
            if items.len() < 2 {
                return Err(head.error("a sequence needs at least two steps"));
            }
            let steps = items
                .iter()
                .enumerate()
                .map(|(i, v)| step(v, &head.at(i)))
                .collect::<Result<Vec<_>, _>>()?;
            let within_path = path.at("within");
            let within = object
                .get("within")
                .ok_or_else(|| within_path.error("a sequence needs `within`, e.g. \"1h\""))?;
            Ok(Rule::Sequence {
                steps,
                within: span(within, &within_path)?,
                window: window(object.get("window"), &path.at("window"))?,
            })
        }
        _ => {
            fields.only(&[])?;
            Ok(Rule::InAudience(name(&object["in_audience"], &head)?))
        }
    }
}

struct Fields<'a> {
    object: &'a Map<String, Value>,
    path: &'a Path,
    kind: &'a str,
}

impl Fields<'_> {
    /// Refuse keys other than the rule's own and `allowed`.
    fn only(&self, allowed: &[&str]) -> Result<(), RuleError> {
        match self
            .object
            .keys()
            .find(|k| *k != self.kind && !allowed.contains(&k.as_str()))
        {
            None => Ok(()),
            Some(extra) => Err(self.path.at(extra).error(format!(
                "unexpected key `{extra}` in a `{}` rule{}",
                self.kind,
                if allowed.is_empty() {
                    String::new()
                } else {
                    format!(" (allowed: {})", allowed.join(", "))
                }
            ))),
        }
    }
}

fn name(value: &Value, path: &Path) -> Result<String, RuleError> {
    match value.as_str() {
        Some(s) if !s.is_empty() => Ok(s.to_owned()),
        _ => Err(path.error("expected a non-empty string")),
    }
}

/// A trait or property name: anything but a backtick (the text form quotes names with them).
fn path_name(value: &Value, path: &Path) -> Result<String, RuleError> {
    let name = name(value, path)?;
    if name.contains('`') {
        return Err(path.error("a name cannot contain a backtick"));
    }
    Ok(name)
}

fn step(value: &Value, path: &Path) -> Result<Step, RuleError> {
    let object = value
        .as_object()
        .ok_or_else(|| path.error("expected a step object {\"event\": …, \"where\": […]}"))?;
    if let Some(extra) = object.keys().find(|k| *k != "event" && *k != "where") {
        return Err(path
            .at(extra)
            .error(format!("unexpected key `{extra}` in a step")));
    }
    let event = object
        .get("event")
        .ok_or_else(|| path.error("a step needs `event`"))?;
    Ok(Step {
        event: name(event, &path.at("event"))?,
        filters: filters(object.get("where"), &path.at("where"))?,
    })
}

fn filters(value: Option<&Value>, path: &Path) -> Result<Vec<Filter>, RuleError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let items = value
        .as_array()
        .ok_or_else(|| path.error("expected an array of property conditions"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let path = path.at(i);
            let object = v
                .as_object()
                .ok_or_else(|| path.error("expected {\"property\": …, \"op\": …, \"value\": …}"))?;
            if let Some(extra) = object
                .keys()
                .find(|k| !["property", "op", "value"].contains(&k.as_str()))
            {
                return Err(path
                    .at(extra)
                    .error(format!("unexpected key `{extra}` in a property condition")));
            }
            let property = object
                .get("property")
                .ok_or_else(|| path.error("a property condition needs `property`"))?;
            Ok(Filter {
                path: path_name(property, &path.at("property"))?,
                test: test(object, &path, TestUse::Property)?,
            })
        })
        .collect()
}

fn count(value: &Value, path: &Path) -> Result<Count, RuleError> {
    let object = value
        .as_object()
        .ok_or_else(|| path.error("expected {\"op\": \"gte\", \"value\": 1}"))?;
    let op_path = path.at("op");
    let op_name = object
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| op_path.error("expected a count operator"))?;
    let op = CountOp::ALL
        .into_iter()
        .find(|o| o.json_name() == op_name)
        .ok_or_else(|| {
            op_path.error(format!(
                "unknown count operator `{op_name}` (expected eq, neq, gt, gte, lt or lte)"
            ))
        })?;
    let value = object
        .get("value")
        .and_then(Value::as_u64)
        .ok_or_else(|| path.at("value").error("expected a whole number"))?;
    Ok(Count { op, value })
}

fn window(value: Option<&Value>, path: &Path) -> Result<Window, RuleError> {
    match value {
        None => Ok(Window::Ever),
        Some(Value::String(s)) if s == "ever" => Ok(Window::Ever),
        Some(Value::Object(o)) if o.len() == 1 && o.contains_key("last") => {
            Ok(Window::Last(span(&o["last"], &path.at("last"))?))
        }
        Some(Value::Object(o)) if o.len() == 1 && o.contains_key("between") => {
            let path = path.at("between");
            match o["between"].as_array().map(Vec::as_slice) {
                Some([from, to]) => {
                    let from = instant(from, &path.at(0))?;
                    let to = instant(to, &path.at(1))?;
                    if to.at <= from.at {
                        return Err(path.at(1).error("the end must be after the start"));
                    }
                    Ok(Window::Between(from, to))
                }
                _ => Err(path.error("expected [start, end]")),
            }
        }
        Some(_) => Err(path.error(
            "expected \"ever\", {\"last\": \"7d\"} or {\"between\": [\"2026-01-01\", \"2026-02-01\"]}",
        )),
    }
}

fn span(value: &Value, path: &Path) -> Result<Span, RuleError> {
    let text = value
        .as_str()
        .ok_or_else(|| path.error("expected a duration like \"7d\""))?;
    Span::parse_compact(text).map_err(|m| path.error(m))
}

fn instant(value: &Value, path: &Path) -> Result<Instant, RuleError> {
    let text = value
        .as_str()
        .ok_or_else(|| path.error("expected a date string"))?;
    Instant::parse(text).map_err(|m| path.error(m))
}

/// What a test applies to, which limits the operators allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TestUse {
    /// A trait or computed trait: everything.
    Value,
    /// An event property: everything but tests relative to now (they would make a stored
    /// event match or not depending on when it is looked at).
    Property,
    /// The time of a first/last event: time tests only.
    Time,
}

impl TestUse {
    pub(super) fn refuse(self, test: &Test) -> Option<String> {
        match self {
            TestUse::Value => None,
            TestUse::Property if test.is_relative() => Some(format!(
                "`{}` is not allowed on event properties; use a window instead",
                test.op_name()
            )),
            TestUse::Time if !test.is_time_test() => Some(format!(
                "`{}` is not a time test; first/last performed take before, after, more_than_ago or less_than_ago",
                test.op_name()
            )),
            _ => None,
        }
    }
}

fn test(object: &Map<String, Value>, path: &Path, usage: TestUse) -> Result<Test, RuleError> {
    let op_path = path.at("op");
    let op = object
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| op_path.error("expected an operator (`op`)"))?;
    let value_path = path.at("value");
    let value = || {
        object
            .get("value")
            .ok_or_else(|| value_path.error(format!("`{op}` needs a `value`")))
    };
    let scalar = || -> Result<Value, RuleError> {
        let v = value()?;
        if v.is_object() || v.is_array() {
            return Err(value_path.error("expected a string, number, boolean or null"));
        }
        Ok(v.clone())
    };
    let list = || -> Result<Vec<Value>, RuleError> {
        match value()?.as_array() {
            Some(items) if !items.is_empty() => Ok(items.clone()),
            _ => Err(value_path.error("expected a non-empty array of values")),
        }
    };
    let string = || -> Result<String, RuleError> {
        value()?
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| value_path.error("expected a string"))
    };
    let no_value = || -> Result<(), RuleError> {
        match object.get("value") {
            None => Ok(()),
            Some(_) => Err(value_path.error(format!("`{op}` takes no value"))),
        }
    };
    let test = match op {
        "eq" => Test::Eq(scalar()?),
        "neq" => Test::Neq(scalar()?),
        "in" => Test::In(list()?),
        "not_in" => Test::NotIn(list()?),
        "gt" => Test::Gt(scalar()?),
        "gte" => Test::Gte(scalar()?),
        "lt" => Test::Lt(scalar()?),
        "lte" => Test::Lte(scalar()?),
        "between" => match value()?.as_array().map(Vec::as_slice) {
            Some([a, b]) if !a.is_array() && !a.is_object() && !b.is_array() && !b.is_object() => {
                Test::Between(a.clone(), b.clone())
            }
            _ => return Err(value_path.error("expected [low, high]")),
        },
        "contains" => Test::Contains(string()?),
        "starts_with" => Test::StartsWith(string()?),
        "exists" => {
            no_value()?;
            Test::Exists
        }
        "not_exists" => {
            no_value()?;
            Test::NotExists
        }
        "before" => Test::Before(instant(value()?, &value_path)?),
        "after" => Test::After(instant(value()?, &value_path)?),
        "more_than_ago" => Test::MoreThanAgo(span(value()?, &value_path)?),
        "less_than_ago" => Test::LessThanAgo(span(value()?, &value_path)?),
        other => {
            return Err(op_path.error(format!(
                "unknown operator `{other}` (expected eq, neq, in, not_in, gt, gte, lt, lte, between, contains, starts_with, exists, not_exists, before, after, more_than_ago or less_than_ago)"
            )))
        }
    };
    match usage.refuse(&test) {
        Some(message) => Err(op_path.error(message)),
        None => Ok(test),
    }
}

/// The JSON form of a computed trait:
/// `{"name": "revenue_90d", "aggregate": "sum", "event": "Order Completed",
///   "property": "revenue", "where": [], "window": {"last": "90d"}}`.
pub fn computed_to_json(c: &ComputedTrait) -> Value {
    json!({
        "name": c.name,
        "aggregate": c.aggregate.name(),
        "event": c.event,
        "property": c.property,
        "where": filters_json(&c.filters),
        "window": window_json(&c.window),
    })
}

pub fn computed_from_json(value: &Value) -> Result<ComputedTrait, RuleError> {
    let path = Path::root();
    let object = value
        .as_object()
        .ok_or_else(|| path.error("expected a computed trait object"))?;
    const KEYS: [&str; 6] = ["name", "aggregate", "event", "property", "where", "window"];
    if let Some(extra) = object.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(path.at(extra).error(format!(
            "unexpected key `{extra}` (allowed: {})",
            KEYS.join(", ")
        )));
    }
    let name_path = path.at("name");
    let trait_name = name(
        object
            .get("name")
            .ok_or_else(|| name_path.error("a computed trait needs a `name`"))?,
        &name_path,
    )?;
    if !is_identifier(&trait_name) {
        return Err(name_path
            .error("a name is 1–64 letters, digits and underscores, starting with a letter"));
    }
    let aggregate_path = path.at("aggregate");
    let aggregate_name = object
        .get("aggregate")
        .and_then(Value::as_str)
        .ok_or_else(|| aggregate_path.error("expected an aggregate"))?;
    let aggregate = Aggregate::ALL
        .into_iter()
        .find(|a| a.name() == aggregate_name)
        .ok_or_else(|| {
            aggregate_path.error(format!(
                "unknown aggregate `{aggregate_name}` (expected count, sum, avg, min, max, first, last or distinct)"
            ))
        })?;
    let optional = |key: &str| -> Result<Option<String>, RuleError> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => name(v, &path.at(key)).map(Some),
        }
    };
    let property = optional("property")?;
    if aggregate.needs_property() && property.is_none() {
        return Err(path
            .at("property")
            .error(format!("`{aggregate_name}` needs a `property`")));
    }
    Ok(ComputedTrait {
        name: trait_name,
        aggregate,
        event: optional("event")?,
        property,
        filters: filters(object.get("where"), &path.at("where"))?,
        window: window(object.get("window"), &path.at("window"))?,
    })
}

/// Names of computed traits (and the shape of audience ids): they print as plain words in the
/// text form.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 64
        && matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !super::text::is_keyword(s)
}
