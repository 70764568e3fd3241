//! The audience rule language: its syntax tree, shared by the JSON form (`json.rs`) and the
//! text form (`text.rs`), which both round-trip through it.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

/// A rule: a boolean condition on one profile at one moment.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    /// A profile trait (`identify` traits), by name or dotted path.
    Trait {
        path: String,
        test: Test,
    },
    /// A trait of any group (account) the profile belongs to.
    GroupTrait {
        path: String,
        test: Test,
    },
    /// A computed trait, by name.
    Computed {
        name: String,
        test: Test,
    },
    /// How many matching events happened in the window, compared with `count`.
    Performed {
        event: String,
        filters: Vec<Filter>,
        count: Count,
        window: Window,
    },
    /// The time of the first (or last) matching event, tested with a time test; false when the
    /// event never happened.
    FirstPerformed {
        event: String,
        filters: Vec<Filter>,
        test: Test,
    },
    LastPerformed {
        event: String,
        filters: Vec<Filter>,
        test: Test,
    },
    /// Matching events in this order, the whole chain within `within`, all in the window.
    Sequence {
        steps: Vec<Step>,
        within: Span,
        window: Window,
    },
    /// Membership of another audience, by id.
    InAudience(String),
}

/// A property condition on an event (`where cart_value > 50`).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub path: String,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub event: String,
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub op: CountOp,
    pub value: u64,
}

impl Count {
    pub const AT_LEAST_ONCE: Count = Count {
        op: CountOp::Gte,
        value: 1,
    };

    pub fn holds(self, n: u64) -> bool {
        match self.op {
            CountOp::Eq => n == self.value,
            CountOp::Neq => n != self.value,
            CountOp::Gt => n > self.value,
            CountOp::Gte => n >= self.value,
            CountOp::Lt => n < self.value,
            CountOp::Lte => n <= self.value,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountOp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CountOp {
    pub const ALL: [CountOp; 6] = [
        CountOp::Eq,
        CountOp::Neq,
        CountOp::Gt,
        CountOp::Gte,
        CountOp::Lt,
        CountOp::Lte,
    ];

    pub fn json_name(self) -> &'static str {
        match self {
            CountOp::Eq => "eq",
            CountOp::Neq => "neq",
            CountOp::Gt => "gt",
            CountOp::Gte => "gte",
            CountOp::Lt => "lt",
            CountOp::Lte => "lte",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CountOp::Eq => "=",
            CountOp::Neq => "!=",
            CountOp::Gt => ">",
            CountOp::Gte => ">=",
            CountOp::Lt => "<",
            CountOp::Lte => "<=",
        }
    }
}

/// When matching events count.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    Ever,
    /// Event time after `now − span`.
    Last(Span),
    /// Event time in `[from, to)`.
    Between(Instant, Instant),
}

impl Window {
    /// Whether an event at `ts` (Unix ms) is inside the window at `now`.
    pub fn contains(&self, ts: i64, now: i64) -> bool {
        match self {
            Window::Ever => true,
            Window::Last(span) => ts > now - span.millis(),
            Window::Between(from, to) => ts >= from.millis() && ts < to.millis(),
        }
    }

    /// How far back the window ever reaches, for pruning: `None` when it is unbounded.
    pub fn reach(&self) -> Option<i64> {
        match self {
            Window::Last(span) => Some(span.millis()),
            Window::Ever | Window::Between(..) => None,
        }
    }
}

/// A relative duration, kept in the unit it was written in so that both forms round-trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub amount: u32,
    pub unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl Unit {
    pub const ALL: [Unit; 4] = [Unit::Minutes, Unit::Hours, Unit::Days, Unit::Weeks];

    fn millis(self) -> i64 {
        match self {
            Unit::Minutes => 60_000,
            Unit::Hours => 3_600_000,
            Unit::Days => 86_400_000,
            Unit::Weeks => 7 * 86_400_000,
        }
    }

    pub fn letter(self) -> char {
        match self {
            Unit::Minutes => 'm',
            Unit::Hours => 'h',
            Unit::Days => 'd',
            Unit::Weeks => 'w',
        }
    }

    pub fn word(self, amount: u32) -> &'static str {
        match (self, amount == 1) {
            (Unit::Minutes, true) => "minute",
            (Unit::Minutes, false) => "minutes",
            (Unit::Hours, true) => "hour",
            (Unit::Hours, false) => "hours",
            (Unit::Days, true) => "day",
            (Unit::Days, false) => "days",
            (Unit::Weeks, true) => "week",
            (Unit::Weeks, false) => "weeks",
        }
    }

    pub fn from_word(word: &str) -> Option<Unit> {
        Some(match word {
            "minute" | "minutes" => Unit::Minutes,
            "hour" | "hours" => Unit::Hours,
            "day" | "days" => Unit::Days,
            "week" | "weeks" => Unit::Weeks,
            _ => return None,
        })
    }
}

/// Spans are limited to about 100 years so that time arithmetic never overflows.
pub const MAX_SPAN_DAYS: i64 = 36_600;

impl Span {
    pub fn millis(self) -> i64 {
        i64::from(self.amount) * self.unit.millis()
    }

    /// The JSON form: `"7d"`, `"1h"`, `"30m"`, `"2w"`.
    pub fn compact(self) -> String {
        format!("{}{}", self.amount, self.unit.letter())
    }

    pub fn parse_compact(s: &str) -> Result<Span, String> {
        let bad = || format!("`{s}` is not a duration like \"30m\", \"12h\", \"7d\" or \"2w\"");
        let (digits, letter) = s.split_at(s.len().saturating_sub(1));
        let unit = Unit::ALL
            .into_iter()
            .find(|u| letter.starts_with(u.letter()))
            .ok_or_else(bad)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let amount: u32 = digits.parse().map_err(|_| bad())?;
        Span::checked(amount, unit)
    }

    pub fn checked(amount: u32, unit: Unit) -> Result<Span, String> {
        let span = Span { amount, unit };
        if amount == 0 {
            return Err("a duration must be positive".into());
        }
        if span.millis() > MAX_SPAN_DAYS * Unit::Days.millis() {
            return Err(format!("a duration can be at most {MAX_SPAN_DAYS} days"));
        }
        Ok(span)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.unit.word(self.amount))
    }
}

/// An absolute time written as an RFC 3339 timestamp or a `YYYY-MM-DD` date (midnight UTC). The
/// text is kept as written so that both forms round-trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instant {
    pub text: String,
    pub at: DateTime<Utc>,
}

impl Instant {
    pub fn parse(text: &str) -> Result<Instant, String> {
        parse_time(text)
            .map(|at| Instant {
                text: text.to_owned(),
                at,
            })
            .ok_or_else(|| {
                format!("`{text}` is not a date (\"2026-01-31\") or an RFC 3339 timestamp")
            })
    }

    pub fn millis(&self) -> i64 {
        self.at.timestamp_millis()
    }
}

/// A trait or property value read as a time: an RFC 3339 string or a `YYYY-MM-DD` date.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// A test of one value (a trait, a property, a computed trait, an event time).
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Eq(Value),
    /// True when the value is missing or differs.
    Neq(Value),
    In(Vec<Value>),
    /// True when the value is missing or is none of these.
    NotIn(Vec<Value>),
    Gt(Value),
    Gte(Value),
    Lt(Value),
    Lte(Value),
    /// Inclusive at both ends.
    Between(Value, Value),
    Contains(String),
    StartsWith(String),
    Exists,
    NotExists,
    Before(Instant),
    After(Instant),
    /// The value, read as a time, is at least this long ago.
    MoreThanAgo(Span),
    /// The value, read as a time, is less than this long ago.
    LessThanAgo(Span),
}

impl Test {
    /// The JSON operator name.
    pub fn op_name(&self) -> &'static str {
        match self {
            Test::Eq(_) => "eq",
            Test::Neq(_) => "neq",
            Test::In(_) => "in",
            Test::NotIn(_) => "not_in",
            Test::Gt(_) => "gt",
            Test::Gte(_) => "gte",
            Test::Lt(_) => "lt",
            Test::Lte(_) => "lte",
            Test::Between(..) => "between",
            Test::Contains(_) => "contains",
            Test::StartsWith(_) => "starts_with",
            Test::Exists => "exists",
            Test::NotExists => "not_exists",
            Test::Before(_) => "before",
            Test::After(_) => "after",
            Test::MoreThanAgo(_) => "more_than_ago",
            Test::LessThanAgo(_) => "less_than_ago",
        }
    }

    /// Tests of a time: the only ones allowed on first/last performed.
    pub fn is_time_test(&self) -> bool {
        matches!(
            self,
            Test::Before(_) | Test::After(_) | Test::MoreThanAgo(_) | Test::LessThanAgo(_)
        )
    }

    /// Tests whose outcome depends on the current time.
    pub fn is_relative(&self) -> bool {
        matches!(self, Test::MoreThanAgo(_) | Test::LessThanAgo(_))
    }
}

/// Where a rule is wrong: a byte offset with line and column in the text form, or a JSON path
/// (`/and/1/where/0/op`) in the JSON form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Text {
        offset: usize,
        line: usize,
        column: usize,
    },
    Json(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at {})", self.location_display())]
pub struct RuleError {
    pub location: Location,
    pub message: String,
}

impl RuleError {
    fn location_display(&self) -> String {
        match &self.location {
            Location::Text { line, column, .. } => format!("line {line}, column {column}"),
            Location::Json(path) if path.is_empty() => "/".to_owned(),
            Location::Json(path) => path.clone(),
        }
    }
}

impl Rule {
    /// `first performed` (`first == true`) or `last performed`.
    pub fn performed_at(first: bool, event: String, filters: Vec<Filter>, test: Test) -> Rule {
        if first {
            Rule::FirstPerformed {
                event,
                filters,
                test,
            }
        } else {
            Rule::LastPerformed {
                event,
                filters,
                test,
            }
        }
    }

    /// Every rule node, depth first, with `f`.
    pub fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Rule)) {
        f(self);
        match self {
            Rule::And(rules) | Rule::Or(rules) => rules.iter().for_each(|r| r.visit(f)),
            Rule::Not(rule) => rule.visit(f),
            _ => {}
        }
    }

    /// Ids of the audiences this rule refers to.
    pub fn audiences(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit(&mut |r| {
            if let Rule::InAudience(id) = r {
                out.push(id.as_str());
            }
        });
        out
    }

    /// Names of the computed traits this rule refers to.
    pub fn computed_traits(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit(&mut |r| {
            if let Rule::Computed { name, .. } = r {
                out.push(name.as_str());
            }
        });
        out
    }

    /// Whether the rule reads group traits (a `group` call by anyone in the group can change it).
    pub fn reads_group_traits(&self) -> bool {
        let mut found = false;
        self.visit(&mut |r| found |= matches!(r, Rule::GroupTrait { .. }));
        found
    }
}
