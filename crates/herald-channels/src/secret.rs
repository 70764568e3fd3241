//! Provider credentials that are never printed.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A credential (a password, an API token, a private key). Read from configuration like a
/// string; its `Debug`, `Display` and `Serialize` show only `****`, followed by its last four
/// characters when it is long enough (at least 16 characters) for those not to give much of it
/// away, so an operator can tell which key is configured. Only [`Secret::expose`] gives the
/// value, for the one place that sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Below this length nothing of the value is shown.
    pub const MIN_LEN_TO_HINT: usize = 16;

    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is shown instead of the value.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < Self::MIN_LEN_TO_HINT {
            return "****".to_owned();
        }
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("****{tail}")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({:?})", self.masked())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.masked())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &str = "pm-server-token-0123456789abcdef";

    #[test]
    fn long_secrets_show_their_last_four_characters_only() {
        let s = Secret::new(LONG);
        assert_eq!(s.to_string(), "****cdef");
        assert_eq!(format!("{s:?}"), "Secret(\"****cdef\")");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"****cdef\"");
        assert_eq!(s.expose(), LONG);
        for shown in [s.to_string(), format!("{s:?}"), format!("{s:#?}")] {
            assert!(!shown.contains("0123456789"), "{shown}");
        }
    }

    #[test]
    fn short_secrets_show_nothing() {
        for value in ["", "abc", "fifteen chars!!", "pässwörtchen"] {
            let s = Secret::new(value);
            assert_eq!(s.to_string(), "****", "{value:?}");
            assert_eq!(serde_json::to_string(&s).unwrap(), "\"****\"");
        }
        // Sixteen characters, counted as characters rather than bytes.
        assert_eq!(Secret::new("ääääääääääää1234").to_string(), "****1234");
    }

    #[test]
    fn secrets_inside_configuration_stay_masked() {
        #[derive(Debug, Serialize, Deserialize)]
        struct Config {
            user: String,
            password: Secret,
        }
        let config: Config =
            serde_json::from_str(&format!(r#"{{"user": "herald", "password": "{LONG}"}}"#))
                .unwrap();
        assert_eq!(config.password.expose(), LONG);
        let debug = format!("{config:?}");
        let json = serde_json::to_string(&config).unwrap();
        for shown in [debug, json] {
            assert!(!shown.contains(LONG), "{shown}");
            assert!(shown.contains("****cdef"), "{shown}");
        }
    }
}
