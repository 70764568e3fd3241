//! Broadcasts: one template sent to an audience, now or at a time — the same instant for
//! everyone, or the same wall-clock time in each person's time zone — with a holdout group.
//! What is pure about them: their lifecycle ([`Status::after`]), when a person's message is
//! due ([`Schedule::due_for`]) and when the fan-out must start to meet the earliest of those
//! ([`Schedule::start`]).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::governor::quiet::first_instant_showing;

/// Where a broadcast stands.
///
/// ```text
/// scheduled ──▶ running ──▶ finished
///     │  ▲        │  ▲         │
///     ▼  │ resume ▼  │ resume  │ pause
///     paused ◀────┘──┘◀────────┘
/// scheduled, running, paused, finished ──cancel──▶ cancelled
/// ```
///
/// `finished` means every member has their message, not that every message went out: a
/// local-time broadcast's messages wait for each person's clock, so a finished broadcast can
/// still be paused or cancelled (the API refuses when none of its messages waits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for its start.
    Scheduled,
    /// Enqueueing its audience's messages (the send pipeline sends them as they fall due).
    Running,
    /// Enqueues nothing and its queued messages wait (`paused`) until it is resumed.
    Paused,
    /// Stopped for good: its messages not yet handed over are `cancelled`.
    Cancelled,
    /// Every member of the audience has its message (sent, skipped, or still due).
    Finished,
}

/// What a person can do to a broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pause,
    Resume,
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BroadcastError {
    #[error("a {status} broadcast cannot be {action}")]
    Transition {
        status: Status,
        action: &'static str,
    },
    #[error("the holdout is a percentage from 0 to 100, not {0}")]
    Holdout(String),
    #[error("{0:?} is not a local time: YYYY-MM-DDTHH:MM[:SS] without an offset")]
    LocalTime(String),
    #[error("{0:?} is not a time zone of the IANA database (e.g. Europe/Berlin)")]
    TimeZone(String),
}

impl BroadcastError {
    pub fn code(&self) -> &'static str {
        match self {
            BroadcastError::Transition { .. } => "invalid_transition",
            BroadcastError::Holdout(_) => "invalid_holdout",
            BroadcastError::LocalTime(_) => "invalid_local_time",
            BroadcastError::TimeZone(_) => "invalid_time_zone",
        }
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Cancelled => "cancelled",
            Status::Finished => "finished",
        }
    }

    /// The status after `action`, or why it cannot be done. Resuming goes back to
    /// `running` (or `scheduled` when nothing was enqueued yet: `started` false).
    pub fn after(self, action: Action, started: bool) -> Result<Status, BroadcastError> {
        let next = match (self, action) {
            (Status::Scheduled | Status::Running | Status::Finished, Action::Pause) => {
                Some(Status::Paused)
            }
            (Status::Paused, Action::Resume) if started => Some(Status::Running),
            (Status::Paused, Action::Resume) => Some(Status::Scheduled),
            (
                Status::Scheduled | Status::Running | Status::Paused | Status::Finished,
                Action::Cancel,
            ) => Some(Status::Cancelled),
            _ => None,
        };
        next.ok_or(BroadcastError::Transition {
            status: self,
            action: match action {
                Action::Pause => "paused",
                Action::Resume => "resumed",
                Action::Cancel => "cancelled",
            },
        })
    }

    /// Whether the fan-out works on it.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Scheduled | Status::Running)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Status, String> {
        Ok(match s {
            "scheduled" => Status::Scheduled,
            "running" => Status::Running,
            "paused" => Status::Paused,
            "cancelled" => Status::Cancelled,
            "finished" => Status::Finished,
            other => return Err(format!("unknown broadcast status {other:?}")),
        })
    }
}

/// When a broadcast's messages are due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Everyone at this instant.
    At(DateTime<Utc>),
    /// Everyone when their own clock shows this time; people whose time zone is unknown, when
    /// `fallback`'s clock shows it.
    LocalTime { local: NaiveDateTime, fallback: Tz },
}

/// The largest UTC offset in use (Kiribati, UTC+14): the first clocks to show a local time.
const EARLIEST_OFFSET_HOURS: i64 = 14;

impl Schedule {
    /// A local-time schedule from `YYYY-MM-DDTHH:MM[:SS]` and the fallback zone's name.
    pub fn local_time(local: &str, fallback: &str) -> Result<Schedule, BroadcastError> {
        let parsed = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M"))
            .map_err(|_| BroadcastError::LocalTime(local.to_owned()))?;
        let fallback = fallback
            .parse::<Tz>()
            .map_err(|_| BroadcastError::TimeZone(fallback.to_owned()))?;
        Ok(Schedule::LocalTime {
            local: parsed,
            fallback,
        })
    }

    /// The schedule as stored: `at:<RFC 3339>` or `local:<YYYY-MM-DDTHH:MM:SS>@<zone>`.
    pub fn encode(&self) -> String {
        match self {
            Schedule::At(at) => format!("at:{}", at.to_rfc3339_opts(SecondsFormat::Millis, true)),
            Schedule::LocalTime { local, fallback } => {
                format!(
                    "local:{}@{}",
                    local.format("%Y-%m-%dT%H:%M:%S"),
                    fallback.name()
                )
            }
        }
    }

    /// A stored schedule ([`Schedule::encode`]).
    pub fn decode(stored: &str) -> Option<Schedule> {
        if let Some(at) = stored.strip_prefix("at:") {
            return DateTime::parse_from_rfc3339(at)
                .ok()
                .map(|t| Schedule::At(t.with_timezone(&Utc)));
        }
        let (local, zone) = stored.strip_prefix("local:")?.split_once('@')?;
        Schedule::local_time(local, zone).ok()
    }

    /// When the fan-out starts: the instant itself, or when the first clock on Earth shows
    /// the local time.
    pub fn start(&self) -> DateTime<Utc> {
        match self {
            Schedule::At(at) => *at,
            Schedule::LocalTime { local, .. } => {
                local.and_utc() - Duration::hours(EARLIEST_OFFSET_HOURS)
            }
        }
    }

    /// When the message to a person in `timezone` (an IANA name from their events; unknown
    /// or invalid names use the fallback) is due: the first instant their clock shows the
    /// local time (a time skipped by a DST change is the moment the clock jumps).
    pub fn due_for(&self, timezone: Option<&str>) -> DateTime<Utc> {
        match self {
            Schedule::At(at) => *at,
            Schedule::LocalTime { local, fallback } => {
                let tz = timezone
                    .and_then(|t| t.parse::<Tz>().ok())
                    .unwrap_or(*fallback);
                first_instant_showing(tz, *local).unwrap_or_else(|| local.and_utc())
            }
        }
    }
}

/// A holdout percentage from outside: 0 to 100, finite.
pub fn holdout_percent(raw: f64) -> Result<f64, BroadcastError> {
    if raw.is_finite() && (0.0..=100.0).contains(&raw) {
        Ok(raw)
    } else {
        Err(BroadcastError::Holdout(raw.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn lifecycle() {
        use Action::*;
        use Status::*;
        assert_eq!(Scheduled.after(Pause, false), Ok(Paused));
        assert_eq!(Running.after(Pause, true), Ok(Paused));
        assert_eq!(Paused.after(Resume, true), Ok(Running));
        assert_eq!(Paused.after(Resume, false), Ok(Scheduled));
        assert_eq!(Finished.after(Pause, true), Ok(Paused));
        for s in [Scheduled, Running, Paused, Finished] {
            assert_eq!(s.after(Cancel, true), Ok(Cancelled));
        }
        for a in [Pause, Resume, Cancel] {
            assert_eq!(
                Cancelled.after(a, true).unwrap_err().code(),
                "invalid_transition"
            );
        }
        for s in [Scheduled, Running, Finished] {
            assert!(s.after(Resume, true).is_err());
        }
        assert_eq!(
            Cancelled.after(Pause, true).unwrap_err().to_string(),
            "a cancelled broadcast cannot be paused"
        );
        for s in [Scheduled, Running, Paused, Cancelled, Finished] {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
    }

    #[test]
    fn local_time_is_each_persons_clock() {
        let s = Schedule::local_time("2026-12-05T09:00", "Europe/Berlin").unwrap();
        let utc = |h, m| Utc.with_ymd_and_hms(2026, 12, 5, h, m, 0).unwrap();
        assert_eq!(s.due_for(Some("Europe/Berlin")), utc(8, 0));
        assert_eq!(s.due_for(Some("America/New_York")), utc(14, 0));
        assert_eq!(s.due_for(Some("Asia/Kolkata")), utc(3, 30));
        // Unknown or missing: the fallback's clock.
        assert_eq!(s.due_for(None), utc(8, 0));
        assert_eq!(s.due_for(Some("Mars/Olympus")), utc(8, 0));
        // The fan-out starts when Kiribati's clock shows 09:00, before anyone is due.
        assert_eq!(
            s.start(),
            Utc.with_ymd_and_hms(2026, 12, 4, 19, 0, 0).unwrap()
        );
        assert!(s.start() <= s.due_for(Some("Pacific/Kiritimati")));
        // 02:30 on the night Berlin's clocks jump from 02:00 to 03:00: the jump.
        let gap = Schedule::local_time("2026-03-29T02:30:00", "UTC").unwrap();
        assert_eq!(
            gap.due_for(Some("Europe/Berlin")),
            Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap()
        );
        for schedule in [s.clone(), gap.clone(), Schedule::At(utc(10, 0))] {
            assert_eq!(Schedule::decode(&schedule.encode()), Some(schedule));
        }
        assert_eq!(s.encode(), "local:2026-12-05T09:00:00@Europe/Berlin");
        assert_eq!(Schedule::decode("soon"), None);
        let at = Schedule::At(utc(10, 0));
        assert_eq!(
            (at.start(), at.due_for(Some("Asia/Tokyo"))),
            (utc(10, 0), utc(10, 0))
        );
    }

    #[test]
    fn bad_input() {
        for bad in [
            "2026-12-05",
            "2026-12-05T09:00Z",
            "09:00",
            "2026-13-05T09:00",
        ] {
            assert_eq!(
                Schedule::local_time(bad, "UTC").unwrap_err().code(),
                "invalid_local_time",
                "{bad}"
            );
        }
        assert_eq!(
            Schedule::local_time("2026-12-05T09:00", "Nowhere/City")
                .unwrap_err()
                .code(),
            "invalid_time_zone"
        );
        for bad in [-0.1, 100.5, f64::NAN, f64::INFINITY] {
            assert_eq!(holdout_percent(bad).unwrap_err().code(), "invalid_holdout");
        }
        assert_eq!(holdout_percent(12.5), Ok(12.5));
    }
}
