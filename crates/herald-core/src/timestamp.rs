//! Timestamps: lenient ISO-8601 parsing and client clock-skew correction.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// The earliest event time Herald stores: 0001-01-01T00:00:00Z.
pub fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The latest event time Herald stores: 9999-12-31T23:59:59.999Z.
pub fn latest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
        + chrono::TimeDelta::milliseconds(999)
}

/// Whether `t` is a time Herald stores: one with a four-digit year, the range RFC 3339 (and so
/// the log's text form, every SQL timestamp type and every SDK) can express. A time outside it
/// is refused at ingest with `timestamp_out_of_range`, never clamped: an event is stored with
/// the time it was sent with, or not at all.
pub fn in_range(t: DateTime<Utc>) -> bool {
    (earliest()..=latest()).contains(&t)
}

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
/// `timestamp = receivedAt − (sentAt − originalTimestamp)`. `None` when the result is not a
/// time Herald stores ([`in_range`]): a client clock can be wrong by any amount.
pub fn correct_for_skew(
    received_at: DateTime<Utc>,
    sent_at: DateTime<Utc>,
    original: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    received_at
        .checked_sub_signed(sent_at.signed_duration_since(original))
        .filter(|t| in_range(*t))
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

    #[test]
    fn skew_correction_outside_the_stored_range_is_none() {
        let at = |s| parse_timestamp(s).unwrap();
        let received = at("2026-01-01T00:00:00Z");
        let (first, last) = (at("0001-01-01T00:00:00Z"), at("9999-12-31T23:59:59.999Z"));
        assert_eq!((earliest(), latest()), (first, last));
        assert_eq!(correct_for_skew(received, last, first), None);
        assert_eq!(correct_for_skew(received, first, last), None);
        // Within range, the interval between stamping and sending is kept.
        assert_eq!(
            correct_for_skew(
                received,
                at("2026-01-01T01:00:05Z"),
                at("2026-01-01T01:00:00Z")
            ),
            Some(at("2025-12-31T23:59:55Z"))
        );
        assert!(in_range(first) && in_range(last));
        assert!(!in_range(first - chrono::TimeDelta::milliseconds(1)));
        assert!(!in_range(last + chrono::TimeDelta::milliseconds(1)));
    }
}
