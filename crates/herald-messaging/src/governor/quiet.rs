//! Quiet hours in a person's time zone, as instants.
//!
//! The quiet window of local date D runs from the first instant the person's clock shows D at
//! `start` to the first instant it shows `end` (on D, or on D+1 when `end` is before `start`).
//! "The first instant the clock shows" makes daylight saving time exact:
//! - a time skipped when clocks go forward (02:30 on a spring-forward night in Berlin) is
//!   reached at the transition, when the clock jumps past it (03:00 CEST);
//! - a time shown twice when clocks go back is reached the first time, so a window ending at
//!   02:30 on a fall-back night ends at 02:30 CEST and the repeated half hour (02:00–02:30
//!   CET) is not quiet again.
//!
//! Windows never overlap, but two can touch: when both `end` and `start` fall into one DST gap
//! (quiet 03:00 to 02:30 on a spring-forward night), one window ends at the instant the next
//! begins. Quiet hours are the union of the windows, and [`quiet_until`] gives the end of the
//! quiet period holding an instant, through touching windows. So that end is never quiet: a
//! message deferred to it is not deferred again for quiet hours.

use chrono::{DateTime, Datelike, Days, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::policy::QuietHours;

/// The end of the quiet period that holds `at`, or `None` when `at` is not in quiet hours.
/// Quiet hours exist in the years 0001 to 9999, the times Herald accepts anywhere (ingest
/// refuses others); beyond, local clocks are not computed.
pub fn quiet_until(quiet: &QuietHours, tz: Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if !(1..=9999).contains(&at.year()) {
        return None;
    }
    let mut end = window_end(quiet, tz, at)?;
    // Windows touch only on the night of a DST gap, at most a few times a year: a chain of
    // more than two cannot happen; the bound keeps the loop finite whatever the zone data.
    for _ in 0..8 {
        match window_end(quiet, tz, end) {
            Some(next) => end = next,
            None => break,
        }
    }
    Some(end)
}

/// The end of the one window that holds `at`.
fn window_end(quiet: &QuietHours, tz: Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = at.with_timezone(&tz).date_naive();
    // The window holding `at` started on its local date or the day before; the day after is
    // looked at too for zones whose clocks go back across midnight.
    let days = [
        today.checked_sub_days(Days::new(1)),
        Some(today),
        today.checked_add_days(Days::new(1)),
    ];
    days.into_iter().flatten().find_map(|day| {
        let start = first_instant_showing(tz, day.and_time(quiet.start.time()))?;
        let end_day = if quiet.end > quiet.start {
            day
        } else {
            day.checked_add_days(Days::new(1))?
        };
        let end = first_instant_showing(tz, end_day.and_time(quiet.end.time()))?;
        (start <= at && at < end).then_some(end)
    })
}

/// The first instant at which the clock of `tz` shows `local` or a later time. `None` only at
/// the edges of chrono's range.
pub fn first_instant_showing(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        chrono::LocalResult::None => gap_end(tz, local),
    }
}

/// `local` falls in a gap (clocks went forward): the instant of the transition, found by
/// bisection over whole seconds. UTC offsets lie between -12 h and +14 h, so 15 h before
/// `local` read as UTC the clock shows an earlier time and 13 h after a later one; no zone
/// moves its clocks twice within those 28 hours, so the clock only goes forward between them.
fn gap_end(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let as_utc = local.and_utc().timestamp();
    let shows_local = |secs: i64| {
        DateTime::from_timestamp(secs, 0)
            .is_some_and(|t| t.with_timezone(&tz).naive_local() >= local)
    };
    let (mut lo, mut hi) = (as_utc - 15 * 3_600, as_utc + 13 * 3_600);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if shows_local(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::from_timestamp(hi, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governor::policy::{ClockTime, QuietAction};
    use chrono_tz::{America, Europe};

    fn quiet(start: (u32, u32), end: (u32, u32)) -> QuietHours {
        QuietHours {
            start: ClockTime::new(start.0, start.1).unwrap(),
            end: ClockTime::new(end.0, end.1).unwrap(),
            action: QuietAction::Defer,
            channels: None,
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    // The expected instants below are the IANA rules: Europe/Berlin is UTC+1 (CET) and UTC+2
    // (CEST) from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC;
    // America/New_York is UTC-5 (EST) and UTC-4 (EDT) from the second Sunday of March 02:00
    // local to the first Sunday of November 02:00 local.

    #[test]
    fn overnight_window_in_winter_and_summer() {
        let q = quiet((21, 0), (8, 0));
        let berlin = Europe::Berlin;
        // 22:00 CET = 21:00 UTC: quiet until 08:00 CET = 07:00 UTC.
        assert_eq!(
            quiet_until(&q, berlin, utc("2024-01-15T21:00:00Z")),
            Some(utc("2024-01-16T07:00:00Z"))
        );
        // 07:59 CEST (05:59 UTC) in July: quiet until 06:00 UTC.
        assert_eq!(
            quiet_until(&q, berlin, utc("2024-07-10T05:59:00Z")),
            Some(utc("2024-07-10T06:00:00Z"))
        );
        // The window is half-open: 21:00 local is quiet, 08:00 local is not.
        assert_eq!(
            quiet_until(&q, berlin, utc("2024-07-10T19:00:00Z")),
            Some(utc("2024-07-11T06:00:00Z"))
        );
        assert_eq!(quiet_until(&q, berlin, utc("2024-07-10T06:00:00Z")), None);
        assert_eq!(quiet_until(&q, berlin, utc("2024-07-10T18:59:59Z")), None);
    }

    #[test]
    fn daytime_window() {
        let q = quiet((12, 0), (14, 0));
        let ny = America::New_York;
        assert_eq!(
            quiet_until(&q, ny, utc("2024-01-15T17:30:00Z")),
            Some(utc("2024-01-15T19:00:00Z"))
        );
        assert_eq!(quiet_until(&q, ny, utc("2024-01-15T19:00:00Z")), None);
        assert_eq!(quiet_until(&q, ny, utc("2024-01-15T03:00:00Z")), None);
    }

    #[test]
    fn spring_forward_berlin() {
        // 2024-03-31: 02:00 CET (01:00 UTC) becomes 03:00 CEST.
        let berlin = Europe::Berlin;
        // Ending at 02:30, a time that does not exist that night: ends at the jump.
        let q = quiet((21, 0), (2, 30));
        assert_eq!(
            quiet_until(&q, berlin, utc("2024-03-31T00:45:00Z")),
            Some(utc("2024-03-31T01:00:00Z"))
        );
        assert_eq!(quiet_until(&q, berlin, utc("2024-03-31T01:00:00Z")), None);
        // Ending at 08:00: the night is an hour shorter, 08:00 CEST = 06:00 UTC.
        let q = quiet((21, 0), (8, 0));
        assert_eq!(
            quiet_until(&q, berlin, utc("2024-03-30T22:00:00Z")),
            Some(utc("2024-03-31T06:00:00Z"))
        );
        // Starting at 02:15, skipped: the window starts at the jump.
        let q = quiet((2, 15), (6, 0));
        assert_eq!(quiet_until(&q, berlin, utc("2024-03-31T00:59:59Z")), None);
        assert_eq!(
            quiet_until(&q, berlin, utc("2024-03-31T01:00:00Z")),
            Some(utc("2024-03-31T04:00:00Z"))
        );
    }

    #[test]
    fn windows_touching_in_a_gap_are_one_quiet_period() {
        // Quiet 03:00 to 02:30. On 2024-03-31 in Berlin both 02:30 and 03:00 are first shown
        // at the jump (01:00 UTC): the window of the 30th ends as the window of the 31st
        // begins, so the quiet period lasts until 02:30 CEST on April 1st (00:30 UTC).
        let q = quiet((3, 0), (2, 30));
        let berlin = Europe::Berlin;
        assert_eq!(
            quiet_until(&q, berlin, utc("2024-03-30T23:00:00Z")),
            Some(utc("2024-04-01T00:30:00Z"))
        );
        assert_eq!(
            quiet_until(&q, berlin, utc("2024-03-31T01:00:00Z")),
            Some(utc("2024-04-01T00:30:00Z"))
        );
        // Any other night has its half hour: 02:30 to 03:00 CET on March 30th.
        assert_eq!(
            quiet_until(&q, berlin, utc("2024-03-29T12:00:00Z")),
            Some(utc("2024-03-30T01:30:00Z"))
        );
        assert_eq!(quiet_until(&q, berlin, utc("2024-03-30T01:30:00Z")), None);
    }

    #[test]
    fn fall_back_berlin() {
        // 2024-10-27: 03:00 CEST (01:00 UTC) becomes 02:00 CET; 02:00–03:00 is shown twice.
        let berlin = Europe::Berlin;
        let q = quiet((21, 0), (2, 30));
        // 02:10 CEST (00:10 UTC): quiet until the first 02:30, CEST = 00:30 UTC.
        assert_eq!(
            quiet_until(&q, berlin, utc("2024-10-27T00:10:00Z")),
            Some(utc("2024-10-27T00:30:00Z"))
        );
        // The repeated 02:10 (CET, 01:10 UTC) is not quiet again.
        assert_eq!(quiet_until(&q, berlin, utc("2024-10-27T01:10:00Z")), None);
        // A window ending at 08:00 is an hour longer: 08:00 CET = 07:00 UTC.
        let q = quiet((21, 0), (8, 0));
        assert_eq!(
            quiet_until(&q, berlin, utc("2024-10-26T19:00:00Z")),
            Some(utc("2024-10-27T07:00:00Z"))
        );
    }

    #[test]
    fn new_york_transitions() {
        let ny = America::New_York;
        // 2024-03-10: 02:00 EST (07:00 UTC) becomes 03:00 EDT.
        let q = quiet((22, 0), (2, 30));
        assert_eq!(
            quiet_until(&q, ny, utc("2024-03-10T06:30:00Z")),
            Some(utc("2024-03-10T07:00:00Z"))
        );
        // 2024-11-03: 02:00 EDT (06:00 UTC) becomes 01:00 EST; 01:00–02:00 is shown twice.
        let q = quiet((22, 0), (1, 30));
        // 01:10 EDT = 05:10 UTC: until the first 01:30, EDT = 05:30 UTC.
        assert_eq!(
            quiet_until(&q, ny, utc("2024-11-03T05:10:00Z")),
            Some(utc("2024-11-03T05:30:00Z"))
        );
        // 01:10 EST (06:10 UTC), the second time round, is not quiet.
        assert_eq!(quiet_until(&q, ny, utc("2024-11-03T06:10:00Z")), None);
        // A window starting at 01:15 starts at the first 01:15 (EDT, 05:15 UTC).
        let q = quiet((1, 15), (6, 0));
        assert_eq!(
            quiet_until(&q, ny, utc("2024-11-03T05:15:00Z")),
            Some(utc("2024-11-03T11:00:00Z"))
        );
        assert_eq!(quiet_until(&q, ny, utc("2024-11-03T05:14:00Z")), None);
    }

    #[test]
    fn no_quiet_hours_outside_the_years_herald_accepts() {
        let q = quiet((0, 0), (23, 30));
        assert_eq!(
            quiet_until(&q, Europe::Berlin, DateTime::<Utc>::MAX_UTC),
            None
        );
        assert_eq!(
            quiet_until(&q, Europe::Berlin, DateTime::<Utc>::MIN_UTC),
            None
        );
        assert_eq!(
            quiet_until(&q, Europe::Berlin, utc("9999-12-31T12:00:00Z")),
            Some(utc("9999-12-31T22:30:00Z"))
        );
    }

    #[test]
    fn first_instant_showing_a_skipped_time_is_the_jump() {
        let local = "2024-03-31T02:30:00".parse::<NaiveDateTime>().unwrap();
        assert_eq!(
            first_instant_showing(Europe::Berlin, local),
            Some(utc("2024-03-31T01:00:00Z"))
        );
        let twice = "2024-10-27T02:30:00".parse::<NaiveDateTime>().unwrap();
        assert_eq!(
            first_instant_showing(Europe::Berlin, twice),
            Some(utc("2024-10-27T00:30:00Z"))
        );
    }
}
