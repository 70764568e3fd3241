//! The `date` filter: reading dates (timestamps, `now`/`today`, ISO 8601, RFC 2822 and
//! the common English forms such as `March 14, 2016`) and Ruby's `strftime`. Times without
//! an offset are UTC; `now` is the value the caller passed to `render`.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Timelike, Utc};

use crate::error::Error;
use crate::value::Value;

pub(crate) fn date_filter(
    input: Value,
    format: &Value,
    now: DateTime<Utc>,
) -> Result<Value, Error> {
    let fmt = format.to_str();
    if fmt.is_empty() {
        return Ok(input);
    }
    let date = match &input {
        Value::Int(i) => DateTime::from_timestamp(*i, 0).map(|d| d.fixed_offset()),
        Value::Str(s) if !s.is_empty() => parse(s, now),
        _ => None,
    };
    Ok(match date {
        Some(d) => Value::string(strftime(&d, &fmt)),
        None => input,
    })
}

const DATES: &[&str] = &[
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%B %d, %Y",
    "%B %d %Y",
    "%d %B %Y",
    "%d %B, %Y",
    "%a, %d %B %Y",
    "%A, %B %d, %Y",
    "%a %B %d %Y",
    "%a, %B %d, %Y",
    "%B %d,%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
];
const TIMES: &[&str] = &[
    "",
    " %H:%M",
    " %H:%M:%S",
    "T%H:%M",
    "T%H:%M:%S",
    "T%H:%M:%S%.f",
    " %H:%M:%S%.f",
    " %I:%M %p",
    " %I:%M:%S %p",
    " %I:%M%p",
    " at %H:%M",
    " at %I:%M %p",
];
const ZONES: &[&str] = &[" %z", "%z", " %:z", "%:z"];

fn parse(s: &str, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let t = s.trim().to_ascii_lowercase();
    if t == "now" || t == "today" {
        return Some(now.fixed_offset());
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<i64>()
            .ok()
            .and_then(|n| DateTime::from_timestamp(n, 0))
            .map(|d| d.fixed_offset());
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(&t.to_ascii_uppercase()) {
        return Some(d);
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s.trim()) {
        return Some(d);
    }
    let utc = FixedOffset::east_opt(0)?;
    let stripped = t
        .strip_suffix(" utc")
        .or_else(|| t.strip_suffix(" gmt"))
        .or_else(|| t.strip_suffix('z'))
        .unwrap_or(&t);
    // Zone formats are only worth trying when something looks like an offset.
    let zoned =
        t.contains('+') || t.contains(" -") || t.rfind('-').is_some_and(|i| t[..i].contains(':'));
    for date in DATES {
        for time in TIMES {
            let f = format!("{date}{time}");
            if time.is_empty() {
                if let Ok(d) = NaiveDate::parse_from_str(stripped, &f) {
                    return d
                        .and_hms_opt(0, 0, 0)
                        .map(|n| n.and_utc().with_timezone(&utc));
                }
                continue;
            }
            if let Ok(n) = NaiveDateTime::parse_from_str(stripped, &f) {
                return Some(n.and_utc().with_timezone(&utc));
            }
            for zone in ZONES.iter().filter(|_| zoned) {
                if let Ok(d) = DateTime::parse_from_str(&t, &format!("{f}{zone}")) {
                    return Some(d);
                }
            }
        }
    }
    None
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Ruby's `Time#strftime`, with the `-`, `_`, `0`, `^` and `#` flags and field widths.
pub(crate) fn strftime(d: &DateTime<FixedOffset>, fmt: &str) -> String {
    let mut out = String::new();
    let mut chars = fmt.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&(_, f)) = chars.peek() {
            if matches!(f, '-' | '_' | '0' | '^' | '#') {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&(_, w)) = chars.peek() {
            if w.is_ascii_digit() && width.len() < 3 {
                width.push(w);
                chars.next();
            } else {
                break;
            }
        }
        let colon = chars.peek().is_some_and(|&(_, ch)| ch == ':');
        if colon {
            chars.next();
        }
        let Some((end, conv)) = chars.next() else {
            out.push_str(&fmt[start..]);
            break;
        };
        match directive(d, conv, colon) {
            Some(field) => out.push_str(&field.render(&flags, width.parse().ok())),
            None => out.push_str(&fmt[start..end + conv.len_utf8()]),
        }
    }
    out
}

enum Field {
    Num(i64, usize, char),
    Text(String),
}

impl Field {
    fn render(self, flags: &str, width: Option<usize>) -> String {
        match self {
            Field::Num(n, default_width, default_pad) => {
                let pad = if flags.contains('-') {
                    None
                } else if flags.contains('_') {
                    Some(' ')
                } else if flags.contains('0') {
                    Some('0')
                } else {
                    Some(default_pad)
                };
                let digits = n.unsigned_abs().to_string();
                let sign = if n < 0 { "-" } else { "" };
                let w = width.unwrap_or(default_width).saturating_sub(sign.len());
                match pad {
                    Some(p) if digits.len() < w => {
                        let fill: String = std::iter::repeat_n(p, w - digits.len()).collect();
                        if p == '0' {
                            format!("{sign}{fill}{digits}")
                        } else {
                            format!("{fill}{sign}{digits}")
                        }
                    }
                    _ => format!("{sign}{digits}"),
                }
            }
            Field::Text(s) => {
                let s = if flags.contains('^') {
                    s.to_uppercase()
                } else if flags.contains('#') {
                    s.chars()
                        .map(|c| {
                            if c.is_uppercase() {
                                c.to_ascii_lowercase()
                            } else {
                                c.to_ascii_uppercase()
                            }
                        })
                        .collect()
                } else {
                    s
                };
                match width {
                    Some(w) if s.chars().count() < w && !flags.contains('-') => {
                        let pad = if flags.contains('0') { '0' } else { ' ' };
                        let fill: String =
                            std::iter::repeat_n(pad, w - s.chars().count()).collect();
                        format!("{fill}{s}")
                    }
                    _ => s,
                }
            }
        }
    }
}

fn directive(d: &DateTime<FixedOffset>, c: char, colon: bool) -> Option<Field> {
    let num = |n: i64, w: usize| Some(Field::Num(n, w, '0'));
    let text = |s: String| Some(Field::Text(s));
    let hour12 = i64::from(if d.hour().is_multiple_of(12) {
        12
    } else {
        d.hour() % 12
    });
    let month = MONTHS[d.month0() as usize];
    let day = DAYS[d.weekday().num_days_from_sunday() as usize];
    match c {
        'Y' => num(i64::from(d.year()), 1),
        'C' => num(i64::from(d.year()).div_euclid(100), 2),
        'y' => num(i64::from(d.year()).rem_euclid(100), 2),
        'm' => num(i64::from(d.month()), 2),
        'B' => text(month.to_string()),
        'b' | 'h' => text(month[..3].to_string()),
        'd' => num(i64::from(d.day()), 2),
        'e' => Some(Field::Num(i64::from(d.day()), 2, ' ')),
        'j' => num(i64::from(d.ordinal()), 3),
        'H' => num(i64::from(d.hour()), 2),
        'k' => Some(Field::Num(i64::from(d.hour()), 2, ' ')),
        'I' => num(hour12, 2),
        'l' => Some(Field::Num(hour12, 2, ' ')),
        'P' => text(if d.hour() < 12 { "am" } else { "pm" }.to_string()),
        'p' => text(if d.hour() < 12 { "AM" } else { "PM" }.to_string()),
        'M' => num(i64::from(d.minute()), 2),
        'S' => num(i64::from(d.second()), 2),
        'L' => num(i64::from(d.timestamp_subsec_millis()), 3),
        'N' => num(i64::from(d.timestamp_subsec_nanos()), 9),
        's' => num(d.timestamp(), 1),
        'A' => text(day.to_string()),
        'a' => text(day[..3].to_string()),
        'u' => num(i64::from(d.weekday().number_from_monday()), 1),
        'w' => num(i64::from(d.weekday().num_days_from_sunday()), 1),
        'U' => num(
            i64::from((d.ordinal0() + 7 - d.weekday().num_days_from_sunday()) / 7),
            2,
        ),
        'W' => num(
            i64::from((d.ordinal0() + 7 - d.weekday().num_days_from_monday()) / 7),
            2,
        ),
        'G' => num(i64::from(d.iso_week().year()), 4),
        'g' => num(i64::from(d.iso_week().year()).rem_euclid(100), 2),
        'V' => num(i64::from(d.iso_week().week()), 2),
        'z' => {
            let secs = d.offset().local_minus_utc();
            let sign = if secs < 0 { '-' } else { '+' };
            let (h, m) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
            text(if colon {
                format!("{sign}{h:02}:{m:02}")
            } else {
                format!("{sign}{h:02}{m:02}")
            })
        }
        'Z' => text(if d.offset().local_minus_utc() == 0 {
            "UTC".to_string()
        } else {
            String::new()
        }),
        '%' => text("%".to_string()),
        'n' => text("\n".to_string()),
        't' => text("\t".to_string()),
        'c' => text(strftime(d, "%a %b %e %H:%M:%S %Y")),
        'D' | 'x' => text(strftime(d, "%m/%d/%y")),
        'F' => text(strftime(d, "%Y-%m-%d")),
        'T' | 'X' => text(strftime(d, "%H:%M:%S")),
        'R' => text(strftime(d, "%H:%M")),
        'r' => text(strftime(d, "%I:%M:%S %p")),
        _ => None,
    }
}
