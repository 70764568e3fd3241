//! Cap windows: a positive number of whole seconds, written `"1d"`, `"7d"`, `"90m"` or as a
//! number of seconds.

use std::fmt;
use std::str::FromStr;

use chrono::Duration;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// No window is longer than this, valid or not: every instant arithmetic on windows stays
/// far inside chrono's range.
const LONGEST_WINDOW_SECS: u64 = 100 * 366 * 86_400;

/// A cap window, in whole seconds. JSON: a number of seconds, or a string of a number and a
/// unit `s`, `m`, `h`, `d` or `w` (`"1d"`, `"7d"`, `"90m"`); written back in the largest unit
/// that divides it. A window is positive and at most a century (a valid policy's, at most
/// [`MAX_WINDOW_DAYS`](super::policy::MAX_WINDOW_DAYS)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window(u64);

const UNITS: [(char, u64); 5] = [
    ('w', 7 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

impl Window {
    pub fn from_secs(secs: u64) -> Option<Window> {
        (1..=LONGEST_WINDOW_SECS)
            .contains(&secs)
            .then_some(Window(secs))
    }

    pub fn secs(self) -> u64 {
        self.0
    }

    pub fn duration(self) -> Duration {
        Duration::seconds(self.0 as i64)
    }
}

impl FromStr for Window {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!("window {s:?} must be a positive number of seconds or a number with a unit s, m, h, d or w, e.g. \"1d\", and at most a century")
        };
        let last = s.chars().next_back().ok_or_else(bad)?;
        let (number, unit) = if last.is_ascii_digit() {
            (s, 's')
        } else {
            (&s[..s.len() - last.len_utf8()], last)
        };
        let factor = UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, f)| *f)
            .ok_or_else(bad)?;
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u64 = number.parse().map_err(|_| bad())?;
        n.checked_mul(factor)
            .and_then(Window::from_secs)
            .ok_or_else(bad)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, factor) = UNITS
            .iter()
            .find(|(_, factor)| self.0.is_multiple_of(*factor))
            .copied()
            .unwrap_or(('s', 1));
        write!(f, "{}{unit}", self.0 / factor)
    }
}

impl Serialize for Window {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct WindowVisitor;
        impl Visitor<'_> for WindowVisitor {
            type Value = Window;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of seconds or a string such as \"1d\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Window, E> {
                Window::from_secs(v)
                    .ok_or_else(|| E::custom("window must be positive and at most a century"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Window, E> {
                u64::try_from(v)
                    .ok()
                    .and_then(Window::from_secs)
                    .ok_or_else(|| E::custom("window must be positive and at most a century"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Window, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(WindowVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        for (text, secs, back) in [
            ("1d", 86_400, "1d"),
            ("7d", 604_800, "1w"),
            ("90m", 5_400, "90m"),
            ("60m", 3_600, "1h"),
            ("3600", 3_600, "1h"),
            ("45s", 45, "45s"),
            ("2w", 1_209_600, "2w"),
        ] {
            let w: Window = text.parse().unwrap();
            assert_eq!(w.secs(), secs, "{text}");
            assert_eq!(w.to_string(), back);
        }
        for bad in [
            "",
            "d",
            "0d",
            "0",
            "-1d",
            "1y",
            "1.5d",
            "1 d",
            "1é",
            "é",
            "99999999999999999999w",
        ] {
            assert!(bad.parse::<Window>().is_err(), "{bad:?}");
        }
        let w: Window = serde_json::from_str("86400").unwrap();
        assert_eq!(w.to_string(), "1d");
        assert_eq!(serde_json::to_string(&w).unwrap(), "\"1d\"");
        assert!(serde_json::from_str::<Window>("0").is_err());
        assert!(serde_json::from_str::<Window>("18446744073709551615").is_err());
        assert!("5300w".parse::<Window>().is_err());
        assert_eq!("5200w".parse::<Window>().unwrap().secs(), 5200 * 604_800);
        assert!(serde_json::from_str::<Window>("-5").is_err());
        assert!(serde_json::from_str::<Window>("1.5").is_err());
    }
}
