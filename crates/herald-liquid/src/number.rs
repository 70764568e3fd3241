//! Numbers as Liquid sees them: integers stay integers, and arithmetic with a float is done
//! in decimal (as Shopify's BigDecimal does), so `10.1 | minus: 2.2` is `7.9`, not
//! `7.8999999999999995`.

use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub fn into_value(self) -> Value {
        match self {
            Num::Int(i) => Value::Int(i),
            Num::Float(f) => Value::Float(f),
        }
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// Shopify's `Utils.to_number`: numbers as they are, decimal strings as floats, other strings
/// by their leading integer, everything else 0.
pub(crate) fn to_number(v: &Value) -> Num {
    match v {
        Value::Int(i) => Num::Int(*i),
        Value::Float(f) => Num::Float(*f),
        Value::Str(s) => {
            let t = s.trim();
            if is_decimal(t) {
                t.parse::<f64>().map(Num::Float).unwrap_or(Num::Int(0))
            } else {
                Num::Int(leading_int(t))
            }
        }
        _ => Num::Int(0),
    }
}

fn is_decimal(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    match body.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Ruby's `String#to_i`: optional sign and leading digits, else 0 (saturating).
pub(crate) fn leading_int(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for c in rest.bytes() {
        if c == b'_' {
            continue;
        }
        if !c.is_ascii_digit() {
            break;
        }
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// Shopify's `Utils.to_integer`: integers, or strings that are exactly an integer.
pub(crate) fn to_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Str(s) => {
            let t = s.trim().replace('_', "");
            t.strip_prefix('+').unwrap_or(&t).parse::<i64>().ok()
        }
        _ => None,
    }
}

/// Ruby's `to_i` on any value (used by ranges and `tablerow`).
pub(crate) fn to_i(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => float_to_i(*f),
        Value::Str(s) => leading_int(s),
        _ => 0,
    }
}

pub(crate) fn float_to_i(f: f64) -> i64 {
    if f.is_nan() {
        0
    } else {
        f.trunc().clamp(i64::MIN as f64, i64::MAX as f64) as i64
    }
}

/// An exact decimal `mant * 10^-scale`.
#[derive(Debug, Clone, Copy)]
struct Dec {
    mant: i128,
    scale: u32,
}

const MAX_SCALE: u32 = 36;

fn dec_of(n: Num) -> Option<Dec> {
    match n {
        Num::Int(i) => Some(Dec {
            mant: i128::from(i),
            scale: 0,
        }),
        Num::Float(f) => {
            if !f.is_finite() {
                return None;
            }
            // Shortest round-trip form, e.g. "7.8999999999999995e0".
            let s = format!("{f:e}");
            let (m, e) = s.split_once('e')?;
            let e: i32 = e.parse().ok()?;
            let neg = m.starts_with('-');
            let m = m.trim_start_matches('-');
            let (int_part, frac) = m.split_once('.').unwrap_or((m, ""));
            let digits = format!("{int_part}{frac}");
            let mut mant: i128 = digits.parse().ok()?;
            if neg {
                mant = -mant;
            }
            let scale = frac.len() as i32 - e;
            if scale < 0 {
                let mul = 10i128.checked_pow(scale.unsigned_abs())?;
                Some(Dec {
                    mant: mant.checked_mul(mul)?,
                    scale: 0,
                })
            } else if scale as u32 > MAX_SCALE {
                None
            } else {
                Some(Dec {
                    mant,
                    scale: scale as u32,
                })
            }
        }
    }
}

fn align(a: Dec, b: Dec) -> Option<(i128, i128, u32)> {
    let scale = a.scale.max(b.scale);
    let am = a.mant.checked_mul(10i128.checked_pow(scale - a.scale)?)?;
    let bm = b.mant.checked_mul(10i128.checked_pow(scale - b.scale)?)?;
    Some((am, bm, scale))
}

fn dec_to_f64(mant: i128, scale: u32) -> f64 {
    format!("{mant}e-{scale}").parse().unwrap_or(f64::NAN)
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// `a op b` with Liquid's rules. `Err` is a division by zero.
pub(crate) fn arith(a: Num, b: Num, op: Op) -> Result<Num, &'static str> {
    if let (Num::Int(x), Num::Int(y)) = (a, b) {
        return int_arith(x, y, op);
    }
    if matches!(op, Op::Div | Op::Rem) && b.as_f64() == 0.0 {
        return Err("divided by 0");
    }
    let exact = dec_of(a)
        .zip(dec_of(b))
        .and_then(|(x, y)| dec_arith(x, y, op));
    Ok(Num::Float(exact.unwrap_or_else(|| {
        float_arith(a.as_f64(), b.as_f64(), op)
    })))
}

fn int_arith(x: i64, y: i64, op: Op) -> Result<Num, &'static str> {
    let r = match op {
        Op::Add => x.checked_add(y),
        Op::Sub => x.checked_sub(y),
        Op::Mul => x.checked_mul(y),
        Op::Div | Op::Rem if y == 0 => return Err("divided by 0"),
        Op::Div => x.checked_div(y).map(|q| {
            if x % y != 0 && (x < 0) != (y < 0) {
                q - 1
            } else {
                q
            }
        }),
        Op::Rem => x.checked_rem(y).map(|r| {
            if r != 0 && (r < 0) != (y < 0) {
                r + y
            } else {
                r
            }
        }),
    };
    Ok(match r {
        Some(v) => Num::Int(v),
        None => Num::Float(float_arith(x as f64, y as f64, op)),
    })
}

fn float_arith(x: f64, y: f64, op: Op) -> f64 {
    match op {
        Op::Add => x + y,
        Op::Sub => x - y,
        Op::Mul => x * y,
        Op::Div => x / y,
        Op::Rem => x - y * (x / y).floor(),
    }
}

fn dec_arith(a: Dec, b: Dec, op: Op) -> Option<f64> {
    match op {
        Op::Add | Op::Sub => {
            let (x, y, s) = align(a, b)?;
            let m = if matches!(op, Op::Add) {
                x.checked_add(y)?
            } else {
                x.checked_sub(y)?
            };
            Some(dec_to_f64(m, s))
        }
        Op::Mul => {
            let scale = a.scale + b.scale;
            if scale > 2 * MAX_SCALE {
                return None;
            }
            Some(dec_to_f64(a.mant.checked_mul(b.mant)?, scale))
        }
        Op::Div => Some(dec_to_f64(a.mant, a.scale) / dec_to_f64(b.mant, b.scale)),
        Op::Rem => {
            let (x, y, s) = align(a, b)?;
            let r = x.checked_rem(y)?;
            let r = if r != 0 && (r < 0) != (y < 0) {
                r + y
            } else {
                r
            };
            Some(dec_to_f64(r, s))
        }
    }
}

/// Rounds half away from zero to `digits` decimals, as Ruby's `round`.
pub(crate) fn round(n: Num, digits: i64) -> Num {
    match n {
        Num::Int(i) => {
            if digits >= 0 {
                return Num::Int(i);
            }
            let p = match 10i64.checked_pow(digits.unsigned_abs().min(19) as u32) {
                Some(p) => p,
                None => return Num::Int(0),
            };
            let r = (i128::from(i) + i128::from(p / 2) * i128::from(i.signum())) / i128::from(p)
                * i128::from(p);
            Num::Int(i64::try_from(r).unwrap_or(0))
        }
        Num::Float(f) => {
            let d = digits.clamp(-20, 20) as i32;
            let r = match dec_of(n) {
                Some(dec) if (dec.scale as i32) > d => {
                    let drop = (dec.scale as i32 - d) as u32;
                    match 10i128.checked_pow(drop) {
                        Some(p) => {
                            let half = p / 2 * dec.mant.signum();
                            let q = dec.mant.checked_add(half).map_or(0, |m| m / p);
                            if d >= 0 {
                                dec_to_f64(q, d as u32)
                            } else {
                                dec_to_f64(q, 0) * 10f64.powi(-d)
                            }
                        }
                        None => 0.0,
                    }
                }
                Some(_) => f,
                None => {
                    let p = 10f64.powi(d);
                    (f * p).round() / p
                }
            };
            if digits <= 0 {
                Num::Int(float_to_i(r))
            } else {
                Num::Float(r)
            }
        }
    }
}

/// Ruby's `Float#to_s`: `5.0`, `2.857142857142857`, `1.0e+20`, `1.0e-05`.
pub(crate) fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = f.abs();
    if a == 0.0 || (1e-4..1e16).contains(&a) {
        let s = format!("{f}");
        if s.contains('.') {
            s
        } else {
            s + ".0"
        }
    } else {
        let s = format!("{f:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') {
            m.to_string()
        } else {
            format!("{m}.0")
        };
        let (sign, digits) = match e.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', e),
        };
        format!("{m}e{sign}{digits:0>2}")
    }
}

/// Compares two numbers.
pub(crate) fn cmp_num(a: Num, b: Num) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        _ => a.as_f64().partial_cmp(&b.as_f64()),
    }
}
