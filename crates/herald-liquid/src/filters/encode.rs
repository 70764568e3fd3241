//! HTML, URL and base64 filters.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use super::{FilterEnv, FilterId};
use crate::error::Error;
use crate::value::Value;

const URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(super) fn apply(id: FilterId, input: &Value, env: &FilterEnv) -> Result<Value, Error> {
    let nil_passes = matches!(
        id,
        FilterId::Escape | FilterId::UrlEncode | FilterId::UrlDecode
    );
    if nil_passes && input.is_nil() {
        return Ok(Value::Nil);
    }
    let s = input.to_str();
    let out = match id {
        FilterId::Escape => escape_html(&s, false),
        FilterId::EscapeOnce => escape_html(&s, true),
        FilterId::StripHtml => strip_html(&s),
        FilterId::UrlEncode => url_encode(&s),
        FilterId::UrlDecode => url_decode(&s)?,
        FilterId::Base64Encode => STANDARD.encode(s.as_bytes()),
        FilterId::Base64UrlSafeEncode => URL_SAFE.encode(s.as_bytes()),
        FilterId::Base64Decode => decode(STANDARD.decode(s.as_bytes()), "base64_decode")?,
        _ => decode(URL_SAFE.decode(s.as_bytes()), "base64_url_safe_decode")?,
    };
    env.string(out)
}

fn decode(r: Result<Vec<u8>, base64::DecodeError>, name: &str) -> Result<String, Error> {
    match r {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(_) => Err(Error::filter(format!("invalid base64 provided to {name}"))),
    }
}

/// `&` starts an entity when followed by letters or `#digits` and a `;`.
fn is_entity(rest: &str) -> bool {
    let body = rest.strip_prefix('#').unwrap_or(rest);
    let numeric = body.len() != rest.len();
    let n = body
        .find(|c: char| {
            !(if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            })
        })
        .unwrap_or(body.len());
    n > 0 && body[n..].starts_with(';')
}

fn escape_html(s: &str, once: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        match c {
            '&' if once && is_entity(&s[i + 1..]) => out.push('&'),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn strip_html(s: &str) -> String {
    const BLOCKS: [(&str, &str); 3] = [
        ("<script", "</script>"),
        ("<!--", "-->"),
        ("<style", "</style>"),
    ];
    let mut without_blocks = String::with_capacity(s.len());
    let mut i = 0;
    // Once a closing tag is missing after some point it is missing after every later one:
    // remembering that keeps this linear.
    let mut unclosed = [false; 3];
    'outer: while let Some(c) = s[i..].chars().next() {
        if c == '<' {
            for (k, (open, close)) in BLOCKS.iter().enumerate() {
                if !unclosed[k] && s[i..].starts_with(open) {
                    match s[i + open.len()..].find(close) {
                        Some(end) => {
                            i += open.len() + end + close.len();
                            continue 'outer;
                        }
                        None => unclosed[k] = true,
                    }
                }
            }
        }
        without_blocks.push(c);
        i += c.len_utf8();
    }
    let mut out = String::with_capacity(without_blocks.len());
    let mut rest = without_blocks.as_str();
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        match rest[lt..].find('>') {
            Some(gt) => rest = &rest[lt + gt + 1..],
            None => {
                out.push_str(&rest[lt..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn url_decode(s: &str) -> Result<String, Error> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| Error::filter("url_decode: invalid byte sequence"))
}
