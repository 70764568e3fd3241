//! Evaluating expressions, filter chains and conditions.

use std::cmp::Ordering;

use super::Renderer;
use crate::error::{snippet, Error, ErrorKind};
use crate::expr::lex::CmpOp;
use crate::expr::{Comparison, Condition, Expr, Filtered, Logic, Path, Segment};
use crate::filters::{self, FilterEnv, FilterId};
use crate::number::{cmp_num, to_i, Num};
use crate::value::{liquid_eq, Value};

fn undefined(what: &str) -> Error {
    Error::new(
        ErrorKind::UndefinedVariable,
        format!("undefined variable '{what}'"),
    )
}

impl Renderer<'_> {
    pub fn eval(&mut self, e: &Expr) -> Result<Value, Error> {
        match e {
            Expr::Lit(v) => Ok(v.clone()),
            Expr::Range(a, b) => {
                let a = to_i(&self.eval(a)?);
                let b = to_i(&self.eval(b)?);
                Ok(Value::Range(a, b))
            }
            Expr::Path(p) => self.lookup(p),
        }
    }

    fn lookup(&mut self, p: &Path) -> Result<Value, Error> {
        let (mut current, mut name) = match &p.root {
            Segment::Key(k) => (self.resolve(k), k.clone()),
            Segment::Dynamic(e) => {
                let key = self.eval(e)?;
                let v = match &key {
                    Value::Str(s) => self.resolve(s),
                    _ => None,
                };
                (v, key.to_str().into_owned())
            }
        };
        for seg in &p.segments {
            let Some(base) = current else {
                break;
            };
            current = match seg {
                Segment::Key(k) => {
                    name = format!("{name}.{k}");
                    base.get_key(k)
                }
                Segment::Dynamic(e) => {
                    let key = self.eval(e)?;
                    name = format!("{name}[{}]", snippet(&key.to_str()));
                    match &key {
                        Value::Int(i) => base.get_index(*i),
                        Value::Str(s) => base.get_key(s),
                        _ => None,
                    }
                }
            };
        }
        match current {
            Some(v) => Ok(v),
            None if self.shared.strict_variables => Err(undefined(&name)),
            None => Ok(Value::Nil),
        }
    }

    pub fn eval_filtered(&mut self, f: &Filtered) -> Result<Value, Error> {
        // `x | default: y` is how a template says "x may be missing": allowed even with
        // strict variables.
        let defaulted = f
            .filters
            .first()
            .is_some_and(|c| c.id == Some(FilterId::Default));
        let strict = self.shared.strict_variables;
        self.shared.strict_variables = strict && !defaulted;
        let first = self.eval(&f.expr);
        self.shared.strict_variables = strict;
        let mut v = first?;
        for call in &f.filters {
            let mut args = Vec::with_capacity(call.args.len());
            for a in &call.args {
                args.push(self.eval(a)?);
            }
            let mut kwargs = Vec::with_capacity(call.kwargs.len());
            for (k, e) in &call.kwargs {
                kwargs.push((k.clone(), self.eval(e)?));
            }
            let Some(id) = call.id else {
                continue;
            };
            let weight: u64 = args.iter().map(Value::weight).sum::<u64>() + v.weight();
            self.spend(1 + weight)?;
            let mut env = FilterEnv {
                now: self.shared.now,
                max_bytes: self.shared.limits.max_output_bytes,
                loops_left: &mut self.shared.loops_left,
            };
            v = filters::apply(id, v, &args, &kwargs, &mut env).map_err(|e| match e.kind() {
                ErrorKind::FilterArgument => Error::new(
                    ErrorKind::FilterArgument,
                    format!("{}: {}", call.name, e.message()),
                ),
                _ => e,
            })?;
        }
        Ok(v)
    }

    pub fn eval_condition(&mut self, c: &Condition) -> Result<bool, Error> {
        for (cmp, logic) in &c.terms {
            let r = self.eval_comparison(cmp)?;
            match logic {
                Some(Logic::And) if !r => return Ok(false),
                Some(Logic::Or) if r => return Ok(true),
                Some(_) => {}
                None => return Ok(r),
            }
        }
        Ok(false)
    }

    fn eval_comparison(&mut self, c: &Comparison) -> Result<bool, Error> {
        let left = self.eval(&c.left)?;
        let Some((op, right)) = &c.op else {
            return Ok(left.is_truthy());
        };
        let right = self.eval(right)?;
        self.spend(left.weight() + right.weight())?;
        compare(*op, &left, &right)
    }
}

fn as_num(v: &Value) -> Option<Num> {
    match v {
        Value::Int(i) => Some(Num::Int(*i)),
        Value::Float(f) => Some(Num::Float(*f)),
        _ => None,
    }
}

/// Liquid's comparison operators.
pub(crate) fn compare(op: CmpOp, left: &Value, right: &Value) -> Result<bool, Error> {
    let ord = match op {
        CmpOp::Eq => return Ok(liquid_eq(left, right)),
        CmpOp::Ne => return Ok(!liquid_eq(left, right)),
        CmpOp::Contains => return Ok(contains(left, right)),
        _ => match (left, right) {
            (Value::Str(a), Value::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (Value::Str(_), Value::Int(_) | Value::Float(_))
            | (Value::Int(_) | Value::Float(_), Value::Str(_)) => {
                return Err(Error::new(
                    ErrorKind::Type,
                    format!(
                        "cannot compare {} with {}",
                        type_name(left),
                        type_name(right)
                    ),
                ))
            }
            _ => match (as_num(left), as_num(right)) {
                (Some(a), Some(b)) => cmp_num(a, b),
                _ => None,
            },
        },
    };
    let Some(ord) = ord else {
        return Ok(false);
    };
    Ok(match op {
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Le => ord != Ordering::Greater,
        _ => ord != Ordering::Less,
    })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Str(_) => "string",
        Value::Int(_) => "integer",
        Value::Float(_) => "float",
        _ => "value",
    }
}

fn contains(left: &Value, right: &Value) -> bool {
    if !right.is_truthy() {
        return false;
    }
    match left {
        Value::Str(s) => s.contains(right.to_str().as_ref()),
        Value::Array(a) => a.iter().any(|v| liquid_eq(v, right)),
        Value::Object(o) => matches!(right, Value::Str(k) if o.contains_key(k.as_ref())),
        Value::Range(a, b) => matches!(right, Value::Int(i) if a <= i && i <= b),
        _ => false,
    }
}
