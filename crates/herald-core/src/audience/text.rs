//! The readable text form of rules, for people and for audiences kept as code:
//!
//! ```text
//! trait plan = "trial" and performed "Checkout Started" >= 1 in last 7 days where cart_value > 50
//!   and not performed "Order Completed" in last 7 days
//! ```
//!
//! Grammar (`not` binds tighter than `and`, which binds tighter than `or`):
//!
//! ```text
//! rule     := and ("or" and)*
//! and      := unary ("and" unary)*
//! unary    := "not" unary | "(" rule ")" | atom
//! atom     := "trait" path test | "group" "trait" path test | "computed" path test
//!           | "performed" STRING [count] [window] [where]
//!           | ("first" | "last") "performed" STRING timetest [where]
//!           | "sequence" STRING [where] ("then" STRING [where])+ "within" span [window]
//!           | "in" "audience" STRING
//! test     := ("=" | "!=" | ">" | ">=" | "<" | "<=") value | ["not"] "in" list
//!           | "between" value "and" value | "contains" STRING | "starts" "with" STRING
//!           | "exists" | "not" "exists" | timetest
//! timetest := "before" STRING | "after" STRING | ("more" | "less") "than" span "ago"
//! count    := ("=" | "!=" | ">" | ">=" | "<" | "<=") INTEGER
//! window   := "ever" | "in" "last" span | "between" STRING "and" STRING
//! where    := "where" path test ("and" path test)*
//! span     := INTEGER ("minute(s)" | "hour(s)" | "day(s)" | "week(s)")
//! path     := name with dots (`address.city`) | `any text in backticks`
//! ```
//!
//! In a `where` list, `and` followed by a word that starts a condition (`trait`, `performed`,
//! `not`, `(`, …) ends the list; property names that are keywords are written in backticks.
//! [`print`] writes the canonical text; `parse(print(r)) == r` for every rule.

use serde_json::Value;

use super::json::TestUse;
use super::rule::*;

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "trait",
    "group",
    "computed",
    "performed",
    "first",
    "last",
    "sequence",
    "then",
    "within",
    "in",
    "audience",
    "where",
    "ever",
    "between",
    "before",
    "after",
    "more",
    "less",
    "than",
    "ago",
    "exists",
    "contains",
    "starts",
    "with",
    "true",
    "false",
    "null",
];

/// Words that begin a condition: after `and` in a `where` list they end the list.
const RULE_STARTS: &[&str] = &[
    "not",
    "trait",
    "group",
    "computed",
    "performed",
    "first",
    "last",
    "sequence",
    "in",
];

/// How deeply `not` and parentheses may nest (in both forms): deeper rules are refused rather
/// than risking the stack of the parser and the evaluator.
pub const MAX_DEPTH: usize = 32;

pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

pub fn print(rule: &Rule) -> String {
    let mut out = String::new();
    write_rule(&mut out, rule);
    out
}

fn write_rule(out: &mut String, rule: &Rule) {
    match rule {
        Rule::And(rules) | Rule::Or(rules) => {
            let is_and = matches!(rule, Rule::And(_));
            for (i, child) in rules.iter().enumerate() {
                if i > 0 {
                    out.push_str(if is_and { " and " } else { " or " });
                }
                // Same-kind children keep their nesting; an `or` under an `and` needs them for
                // precedence.
                let parens =
                    matches!(child, Rule::Or(_)) || (is_and && matches!(child, Rule::And(_)));
                write_grouped(out, child, parens);
            }
        }
        Rule::Not(inner) => {
            out.push_str("not ");
            write_grouped(out, inner, matches!(**inner, Rule::And(_) | Rule::Or(_)));
        }
        Rule::Trait { path, test } => {
            out.push_str("trait ");
            write_path(out, path);
            write_test(out, test);
        }
        Rule::GroupTrait { path, test } => {
            out.push_str("group trait ");
            write_path(out, path);
            write_test(out, test);
        }
        Rule::Computed { name, test } => {
            out.push_str("computed ");
            write_path(out, name);
            write_test(out, test);
        }
        Rule::Performed {
            event,
            filters,
            count,
            window,
        } => {
            out.push_str("performed ");
            write_string(out, event);
            if *count != Count::AT_LEAST_ONCE {
                out.push_str(&format!(" {} {}", count.op.symbol(), count.value));
            }
            write_window(out, window);
            write_filters(out, filters);
        }
        Rule::FirstPerformed {
            event,
            filters,
            test,
        }
        | Rule::LastPerformed {
            event,
            filters,
            test,
        } => {
            out.push_str(if matches!(rule, Rule::FirstPerformed { .. }) {
                "first performed "
            } else {
                "last performed "
            });
            write_string(out, event);
            write_test(out, test);
            write_filters(out, filters);
        }
        Rule::Sequence {
            steps,
            within,
            window,
        } => {
            out.push_str("sequence ");
            for (i, step) in steps.iter().enumerate() {
                if i > 0 {
                    out.push_str(" then ");
                }
                write_string(out, &step.event);
                write_filters(out, &step.filters);
            }
            out.push_str(&format!(" within {within}"));
            write_window(out, window);
        }
        Rule::InAudience(id) => {
            out.push_str("in audience ");
            write_string(out, id);
        }
    }
}

fn write_grouped(out: &mut String, rule: &Rule, parens: bool) {
    if parens {
        out.push('(');
    }
    write_rule(out, rule);
    if parens {
        out.push(')');
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push_str(&Value::from(s).to_string());
}

fn is_plain_path(path: &str) -> bool {
    let mut chars = path.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '.')
        && !path.ends_with('.')
        && !path.contains("..")
        && !KEYWORDS.contains(&path)
}

fn write_path(out: &mut String, path: &str) {
    if is_plain_path(path) {
        out.push_str(path);
    } else {
        out.push('`');
        out.push_str(path);
        out.push('`');
    }
}

fn write_filters(out: &mut String, filters: &[Filter]) {
    for (i, filter) in filters.iter().enumerate() {
        out.push_str(if i == 0 { " where " } else { " and " });
        write_path(out, &filter.path);
        write_test(out, &filter.test);
    }
}

fn write_window(out: &mut String, window: &Window) {
    match window {
        Window::Ever => {}
        Window::Last(span) => out.push_str(&format!(" in last {span}")),
        Window::Between(from, to) => {
            out.push_str(" between ");
            write_string(out, &from.text);
            out.push_str(" and ");
            write_string(out, &to.text);
        }
    }
}

fn write_test(out: &mut String, test: &Test) {
    let list = |vs: &[Value]| {
        let items: Vec<String> = vs.iter().map(Value::to_string).collect();
        format!("[{}]", items.join(", "))
    };
    let text = match test {
        Test::Eq(v) => format!(" = {v}"),
        Test::Neq(v) => format!(" != {v}"),
        Test::Gt(v) => format!(" > {v}"),
        Test::Gte(v) => format!(" >= {v}"),
        Test::Lt(v) => format!(" < {v}"),
        Test::Lte(v) => format!(" <= {v}"),
        Test::In(vs) => format!(" in {}", list(vs)),
        Test::NotIn(vs) => format!(" not in {}", list(vs)),
        Test::Between(a, b) => format!(" between {a} and {b}"),
        Test::Contains(s) => format!(" contains {}", Value::from(s.as_str())),
        Test::StartsWith(s) => format!(" starts with {}", Value::from(s.as_str())),
        Test::Exists => " exists".to_owned(),
        Test::NotExists => " not exists".to_owned(),
        Test::Before(i) => format!(" before {}", Value::from(i.text.as_str())),
        Test::After(i) => format!(" after {}", Value::from(i.text.as_str())),
        Test::MoreThanAgo(s) => format!(" more than {s} ago"),
        Test::LessThanAgo(s) => format!(" less than {s} ago"),
    };
    out.push_str(&text);
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str(String),
    Num(serde_json::Number),
    Sym(&'static str),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Quoted(w) => format!("`{w}`"),
            Tok::Str(s) => Value::from(s.as_str()).to_string(),
            Tok::Num(n) => n.to_string(),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::End => "the end of the rule".to_owned(),
        }
    }
}

const SYMBOLS: [&str; 11] = [">=", "<=", "!=", "=", ">", "<", "(", ")", "[", "]", ","];

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, (usize, String)> {
    let bytes = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if let Some(sym) = SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) {
            i += sym.len();
            out.push((start, Tok::Sym(sym)));
        } else if c == b'"' {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => return Err((start, "this string is not closed".into())),
                    Some(b'\\') => i += 2,
                    Some(b'"') => break,
                    Some(_) => i += 1,
                }
            }
            i += 1;
            let s: String = serde_json::from_str(&src[start..i])
                .map_err(|e| (start, format!("invalid string: {e}")))?;
            out.push((start, Tok::Str(s)));
        } else if c == b'`' {
            let end = src[i + 1..]
                .find('`')
                .ok_or((start, "this quoted name is not closed".to_owned()))?;
            let name = &src[i + 1..i + 1 + end];
            if name.is_empty() {
                return Err((start, "a quoted name cannot be empty".into()));
            }
            out.push((start, Tok::Quoted(name.to_owned())));
            i += end + 2;
        } else if c.is_ascii_digit() || c == b'-' {
            i += 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'+' | b'-'))
            {
                i += 1;
            }
            let n: serde_json::Number = src[start..i]
                .parse()
                .map_err(|_| (start, format!("`{}` is not a number", &src[start..i])))?;
            out.push((start, Tok::Num(n)));
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'$' | b'.'))
            {
                i += 1;
            }
            out.push((start, Tok::Word(src[start..i].to_owned())));
        } else {
            let ch = src[i..].chars().next().unwrap_or('?');
            return Err((start, format!("unexpected character `{ch}`")));
        }
    }
    out.push((src.len(), Tok::End));
    Ok(out)
}

pub fn parse(src: &str) -> Result<Rule, RuleError> {
    let located = |offset: usize, message: String| {
        let before = &src[..offset.min(src.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        RuleError {
            location: Location::Text {
                offset,
                line,
                column,
            },
            message,
        }
    };
    let tokens = lex(src).map_err(|(at, m)| located(at, m))?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let rule = parser
        .rule()
        .and_then(|rule| match parser.peek() {
            Tok::End => Ok(rule),
            other => Err(parser.fail(format!(
                "expected `and`, `or` or the end of the rule, found {}",
                other.describe()
            ))),
        })
        .map_err(|(at, m)| located(at, m))?;
    Ok(rule)
}

type Parsed<T> = Result<T, (usize, String)>;

struct Parser {
    tokens: Vec<(usize, Tok)>,
    pos: usize,
    /// Nesting depth of `not` and parentheses, bounded by [`MAX_DEPTH`].
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].1
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)].1
    }

    fn offset(&self) -> usize {
        self.tokens[self.pos].0
    }

    fn fail(&self, message: String) -> (usize, String) {
        (self.offset(), message)
    }

    fn next(&mut self) -> Tok {
        let tok = self.tokens[self.pos].1.clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        tok
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w == word)
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.is_word(word);
        if found {
            self.next();
        }
        found
    }

    fn expect_word(&mut self, word: &str, context: &str) -> Parsed<()> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(self.fail(format!(
                "expected `{word}` {context}, found {}",
                self.peek().describe()
            )))
        }
    }

    fn string(&mut self, what: &str) -> Parsed<String> {
        match self.peek().clone() {
            Tok::Str(s) if !s.is_empty() => {
                self.next();
                Ok(s)
            }
            Tok::Str(_) => Err(self.fail(format!("{what} cannot be empty"))),
            other => Err(self.fail(format!(
                "expected {what} in double quotes, found {}",
                other.describe()
            ))),
        }
    }

    fn rule(&mut self) -> Parsed<Rule> {
        self.joined("or", Self::and, Rule::Or)
    }

    fn and(&mut self) -> Parsed<Rule> {
        self.joined("and", Self::unary, Rule::And)
    }

    /// `item (word item)*`: one item as is, several joined with `make`.
    fn joined(
        &mut self,
        word: &str,
        item: fn(&mut Self) -> Parsed<Rule>,
        make: fn(Vec<Rule>) -> Rule,
    ) -> Parsed<Rule> {
        let mut items = vec![item(self)?];
        while self.eat_word(word) {
            items.push(item(self)?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            make(items)
        })
    }

    fn unary(&mut self) -> Parsed<Rule> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.fail(format!("conditions are nested more than {MAX_DEPTH} deep")));
        }
        let rule = self.unary_inner();
        self.depth -= 1;
        rule
    }

    fn unary_inner(&mut self) -> Parsed<Rule> {
        if self.eat_word("not") {
            return Ok(Rule::Not(Box::new(self.unary()?)));
        }
        if self.peek() == &Tok::Sym("(") {
            self.next();
            let rule = self.rule()?;
            if self.peek() != &Tok::Sym(")") {
                return Err(self.fail(format!("expected `)`, found {}", self.peek().describe())));
            }
            self.next();
            return Ok(rule);
        }
        self.atom()
    }

    fn atom(&mut self) -> Parsed<Rule> {
        let word = match self.peek() {
            Tok::Word(w) => w.clone(),
            other => {
                return Err(self.fail(format!(
                    "expected a condition (trait, group trait, computed, performed, first performed, last performed, sequence, in audience, not or `(`), found {}",
                    other.describe()
                )))
            }
        };
        let start = self.offset();
        self.next();
        match word.as_str() {
            "trait" => {
                let path = self.path("a trait name")?;
                let test = self.test(TestUse::Value)?;
                Ok(Rule::Trait { path, test })
            }
            "group" => {
                self.expect_word("trait", "after `group`")?;
                let path = self.path("a group trait name")?;
                let test = self.test(TestUse::Value)?;
                Ok(Rule::GroupTrait { path, test })
            }
            "computed" => {
                let name = self.path("a computed trait name")?;
                let test = self.test(TestUse::Value)?;
                Ok(Rule::Computed { name, test })
            }
            "performed" => {
                let event = self.string("an event name")?;
                let op = match self.peek() {
                    Tok::Sym(s) => CountOp::ALL.into_iter().find(|o| o.symbol() == *s),
                    _ => None,
                };
                let count = match op {
                    Some(op) => {
                        self.next();
                        let value = match self.peek() {
                            Tok::Num(n) if n.is_u64() => n.as_u64().expect("u64"),
                            other => {
                                return Err(self.fail(format!(
                                    "expected a whole number of times, found {}",
                                    other.describe()
                                )))
                            }
                        };
                        self.next();
                        Count { op, value }
                    }
                    None => Count::AT_LEAST_ONCE,
                };
                let window = self.window()?;
                let filters = self.filters()?;
                Ok(Rule::Performed {
                    event,
                    filters,
                    count,
                    window,
                })
            }
            "first" | "last" => {
                self.expect_word("performed", &format!("after `{word}`"))?;
                let event = self.string("an event name")?;
                let test = self.test(TestUse::Time)?;
                let filters = self.filters()?;
                Ok(Rule::performed_at(word == "first", event, filters, test))
            }
            "sequence" => {
                let mut steps = Vec::new();
                loop {
                    let event = self.string("an event name")?;
                    let filters = self.filters()?;
                    steps.push(Step { event, filters });
                    if !self.eat_word("then") {
                        break;
                    }
                }
                if steps.len() < 2 {
                    return Err(
                        self.fail("a sequence needs at least two steps joined by `then`".into())
                    );
                }
                self.expect_word("within", "after the steps of a sequence")?;
                let within = self.span()?;
                let window = self.window()?;
                Ok(Rule::Sequence {
                    steps,
                    within,
                    window,
                })
            }
            "in" => {
                self.expect_word("audience", "after `in`")?;
                Ok(Rule::InAudience(self.string("an audience id")?))
            }
            _ => Err((
                start,
                format!(
                    "expected a condition (trait, group trait, computed, performed, first performed, last performed, sequence, in audience, not or `(`), found `{word}`"
                ),
            )),
        }
    }

    fn path(&mut self, what: &str) -> Parsed<String> {
        match self.peek().clone() {
            Tok::Word(w) if !KEYWORDS.contains(&w.as_str()) => {
                if w.ends_with('.') || w.contains("..") {
                    return Err(self.fail(format!("`{w}` is not a valid name")));
                }
                self.next();
                Ok(w)
            }
            Tok::Quoted(w) => {
                self.next();
                Ok(w)
            }
            Tok::Word(w) => Err(self.fail(format!(
                "expected {what}, found the keyword `{w}` (write `{w}` in backticks to use it as a name)"
            ))),
            other => Err(self.fail(format!("expected {what}, found {}", other.describe()))),
        }
    }

    fn filters(&mut self) -> Parsed<Vec<Filter>> {
        let mut filters = Vec::new();
        if !self.eat_word("where") {
            return Ok(filters);
        }
        loop {
            let path = self.path("a property name")?;
            let test = self.test(TestUse::Property)?;
            filters.push(Filter { path, test });
            let continues = self.is_word("and")
                && match self.peek_at(1) {
                    Tok::Word(w) => !RULE_STARTS.contains(&w.as_str()),
                    Tok::Quoted(_) => true,
                    _ => false,
                };
            if !continues {
                return Ok(filters);
            }
            self.next();
        }
    }

    fn window(&mut self) -> Parsed<Window> {
        if self.eat_word("ever") {
            return Ok(Window::Ever);
        }
        if self.is_word("in") && matches!(self.peek_at(1), Tok::Word(w) if w == "last") {
            self.next();
            self.next();
            return Ok(Window::Last(self.span()?));
        }
        if self.eat_word("between") {
            let from = self.instant()?;
            self.expect_word("and", "between the two dates of a window")?;
            let at = self.offset();
            let to = self.instant()?;
            if to.at <= from.at {
                return Err((at, "the end must be after the start".into()));
            }
            return Ok(Window::Between(from, to));
        }
        Ok(Window::Ever)
    }

    fn span(&mut self) -> Parsed<Span> {
        let at = self.offset();
        let amount = match self.peek() {
            Tok::Num(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| self.fail(format!("`{n}` is not a whole number")))?,
            other => {
                return Err(self.fail(format!(
                    "expected a duration like `7 days`, found {}",
                    other.describe()
                )))
            }
        };
        self.next();
        let unit = match self.peek() {
            Tok::Word(w) => Unit::from_word(w),
            _ => None,
        }
        .ok_or_else(|| {
            self.fail(format!(
                "expected minutes, hours, days or weeks, found {}",
                self.peek().describe()
            ))
        })?;
        self.next();
        Span::checked(amount, unit).map_err(|m| (at, m))
    }

    fn instant(&mut self) -> Parsed<Instant> {
        let at = self.offset();
        let text = self.string("a date")?;
        Instant::parse(&text).map_err(|m| (at, m))
    }

    fn value(&mut self) -> Parsed<Value> {
        let value = match self.peek().clone() {
            Tok::Str(s) => Value::String(s),
            Tok::Num(n) => Value::Number(n),
            Tok::Word(w) if w == "true" => Value::Bool(true),
            Tok::Word(w) if w == "false" => Value::Bool(false),
            Tok::Word(w) if w == "null" => Value::Null,
            other => {
                return Err(self.fail(format!(
                    "expected a value (a \"string\", a number, true, false or null), found {}",
                    other.describe()
                )))
            }
        };
        self.next();
        Ok(value)
    }

    fn list(&mut self) -> Parsed<Vec<Value>> {
        if self.peek() != &Tok::Sym("[") {
            return Err(self.fail(format!(
                "expected a list like [\"a\", \"b\"], found {}",
                self.peek().describe()
            )));
        }
        self.next();
        let mut values = vec![self.value()?];
        while self.peek() == &Tok::Sym(",") {
            self.next();
            values.push(self.value()?);
        }
        if self.peek() != &Tok::Sym("]") {
            return Err(self.fail(format!(
                "expected `,` or `]`, found {}",
                self.peek().describe()
            )));
        }
        self.next();
        Ok(values)
    }

    fn string_value(&mut self) -> Parsed<String> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.next();
                Ok(s)
            }
            other => Err(self.fail(format!(
                "expected a string in double quotes, found {}",
                other.describe()
            ))),
        }
    }

    fn test(&mut self, usage: TestUse) -> Parsed<Test> {
        let at = self.offset();
        let test = match self.peek().clone() {
            Tok::Sym(s) => {
                self.next();
                match s {
                    "=" => Test::Eq(self.value()?),
                    "!=" => Test::Neq(self.value()?),
                    ">" => Test::Gt(self.value()?),
                    ">=" => Test::Gte(self.value()?),
                    "<" => Test::Lt(self.value()?),
                    "<=" => Test::Lte(self.value()?),
                    _ => return Err((at, format!("expected a comparison, found `{s}`"))),
                }
            }
            Tok::Word(w) => {
                self.next();
                match w.as_str() {
                    "in" => Test::In(self.list()?),
                    "not" if self.eat_word("in") => Test::NotIn(self.list()?),
                    "not" if self.eat_word("exists") => Test::NotExists,
                    "not" => {
                        return Err(self.fail(format!(
                            "expected `in` or `exists` after `not`, found {}",
                            self.peek().describe()
                        )))
                    }
                    "exists" => Test::Exists,
                    "between" => {
                        let low = self.value()?;
                        self.expect_word("and", "between the two bounds")?;
                        Test::Between(low, self.value()?)
                    }
                    "contains" => Test::Contains(self.string_value()?),
                    "starts" => {
                        self.expect_word("with", "after `starts`")?;
                        Test::StartsWith(self.string_value()?)
                    }
                    "before" => Test::Before(self.instant()?),
                    "after" => Test::After(self.instant()?),
                    "more" | "less" => {
                        self.expect_word("than", &format!("after `{w}`"))?;
                        let span = self.span()?;
                        self.expect_word("ago", "after the duration")?;
                        if w == "more" {
                            Test::MoreThanAgo(span)
                        } else {
                            Test::LessThanAgo(span)
                        }
                    }
                    _ => return Err((at, format!("expected a comparison, found `{w}`"))),
                }
            }
            other => {
                return Err(self.fail(format!(
                    "expected a comparison (=, !=, >, in, between, contains, exists, before, more than … ago, …), found {}",
                    other.describe()
                )))
            }
        };
        match usage.refuse(&test) {
            Some(message) => Err((at, message)),
            None => Ok(test),
        }
    }
}
