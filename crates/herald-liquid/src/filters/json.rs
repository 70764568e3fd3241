//! `json`, a Herald extension (as in Shopify's storefront Liquid): the value as JSON, for
//! webhook bodies and `<script>` data. Objects keep their key order; ranges become arrays.

use std::fmt::Write as _;

use super::FilterEnv;
use crate::error::Error;
use crate::number::format_float;
use crate::value::Value;

pub(super) fn apply(input: &Value, env: &mut FilterEnv) -> Result<Value, Error> {
    let mut out = String::new();
    write_json(input, &mut out, env)?;
    env.string(out)
}

fn write_json(v: &Value, out: &mut String, env: &mut FilterEnv) -> Result<(), Error> {
    match v {
        Value::Nil | Value::Loop(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) if f.is_finite() => out.push_str(&format_float(*f)),
        Value::Float(_) => out.push_str("null"),
        Value::Str(s) => write_str(s, out),
        Value::Empty | Value::Blank => out.push_str("\"\""),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out, env)?;
                env.check_len(out.len())?;
            }
            out.push(']');
        }
        Value::Range(..) => {
            let items = env.items(v)?;
            write_json(&Value::array(items), out, env)?;
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, item)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write_json(item, out, env)?;
                env.check_len(out.len())?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Safe inside HTML `<script>` too.
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
