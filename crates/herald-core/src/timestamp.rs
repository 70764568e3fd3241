//! Timestamps: lenient ISO-8601 parsing and client clock-skew correction.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parse the date-time forms SDKs send: RFC 3339 (`Z` or offset), and a naive date-time or a
/// bare date, both read as UTC.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // Python's isoformat() with an offset but a space separator, or `+0000` offsets.
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// Segment's skew correction: the client's clock may be wrong, but the interval between when it
/// stamped the event and when it sent it is right. So
/// `timestamp = receivedAt − (sentAt − originalTimestamp)`.
pub fn correct_for_skew(
    received_at: DateTime<Utc>,
    sent_at: DateTime<Utc>,
    original: DateTime<Utc>,
) -> DateTime<Utc> {
    received_at - (sent_at - original)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let expected = parse_timestamp("2026-03-01T10:00:00Z").unwrap();
        for s in [
            "2026-03-01T10:00:00.000Z",
            "2026-03-01T11:00:00+01:00",
            "2026-03-01T10:00:00+0000",
            "2026-03-01 10:00:00+00:00",
            "2026-03-01T10:00:00",
            "2026-03-01 10:00:00.000",
        ] {
            assert_eq!(parse_timestamp(s), Some(expected), "{s}");
        }
        assert!(parse_timestamp("2026-03-01").is_some());
        assert_eq!(parse_timestamp("not a date"), None);
        assert_eq!(parse_timestamp("2026-13-01T00:00:00Z"), None);
    }
}
