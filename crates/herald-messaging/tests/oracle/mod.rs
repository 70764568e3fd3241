//! A naive model of the send governor, written from docs/messaging.md and nothing else: quiet
//! hours found by walking the clock in 15-minute steps, caps counted from scratch, deferrals
//! found by trying every 15-minute instant in turn, displacement redone from scratch after
//! every pick. Slow and obvious on purpose; it shares no code with the crate's governor (it
//! reads the policy's fields, never its methods).
//!
//! It is exact for scenarios on a 15-minute grid: every time in them (message times, cap
//! windows, quiet-hours boundaries, UTC offsets and DST transitions of the zones used) is a
//! multiple of 15 minutes.

pub mod scenario;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Days, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use herald_messaging::governor::{
    CappedAction, Displaced, LedgerState, Policy, QuietAction, QuietHours,
};
use herald_messaging::preferences::Status;
use herald_messaging::{Address, Candidate, Channel, Decision, LedgerEntry, Outcome, Reason};

pub const STEP: i64 = 15 * 60;
/// How far the model looks for the end of a deferral: longer than any cap window plus a day
/// of quiet hours in the scenarios.
pub const HORIZON_DAYS: i64 = 6;

/// What the model knows of the person (the scenario builds the crate's inputs from the same).
#[derive(Debug, Clone)]
pub struct ModelPerson {
    pub email: Option<Address>,
    pub sms: Option<Address>,
    pub suppressed: BTreeSet<Channel>,
    pub unsubscribed: BTreeSet<Channel>,
    /// The person's explicit status on the email topic `news` (opt-in) and `offers` (opt-out).
    pub news: Option<Status>,
    pub offers: Option<Status>,
}

/// From one instant (included) to another (excluded).
type Span = (DateTime<Utc>, DateTime<Utc>);

pub struct Model {
    pub policy: Policy,
    pub person: ModelPerson,
    tz: Tz,
    /// The quiet window of each local date looked at so far, as UTC instants.
    windows: RefCell<BTreeMap<NaiveDate, Span>>,
}

/// The first instant on the 15-minute grid at which the clock of `tz` shows `local` or later.
fn first_showing(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut t = local.and_utc() - Duration::hours(15);
    while t.with_timezone(&tz).naive_local() < local {
        t += Duration::seconds(STEP);
    }
    t
}

impl Model {
    pub fn new(policy: Policy, person: ModelPerson, tz: Tz) -> Model {
        Model {
            policy,
            person,
            tz,
            windows: RefCell::new(BTreeMap::new()),
        }
    }

    /// The quiet window of local date `day`: from the first instant the clock shows `start`
    /// that day to the first instant it shows `end` (that day, or the next if `end` comes
    /// first on the clock).
    fn window(&self, q: &QuietHours, day: NaiveDate) -> Span {
        *self.windows.borrow_mut().entry(day).or_insert_with(|| {
            let (start, end) = (q.start.time(), q.end.time());
            let end_day = if end > start { day } else { day + Days::new(1) };
            (
                first_showing(self.tz, day.and_time(start)),
                first_showing(self.tz, end_day.and_time(end)),
            )
        })
    }

    fn quiet_hours_for(&self, channel: Channel) -> Option<&QuietHours> {
        self.policy
            .quiet_hours
            .as_ref()
            .filter(|q| q.channels.as_ref().is_none_or(|cs| cs.contains(&channel)))
    }

    /// Whether `t` is in the quiet window of any date (those of the two days around it are
    /// the only ones that can hold it, and more are looked at).
    pub fn is_quiet(&self, channel: Channel, t: DateTime<Utc>) -> bool {
        let Some(q) = self.quiet_hours_for(channel) else {
            return false;
        };
        let today = t.with_timezone(&self.tz).date_naive();
        (0..6).any(|back| {
            let (s, e) = self.window(q, today + Days::new(2) - Days::new(back));
            s <= t && t < e
        })
    }

    /// How many ledger entries cap `i` counts at `t` for a message keyed `key`.
    fn count(&self, i: usize, ledger: &[&LedgerEntry], key: &str, t: DateTime<Utc>) -> usize {
        let cap = &self.policy.caps[i];
        ledger
            .iter()
            .filter(|e| !e.transactional && e.key != key)
            .filter(|e| cap.channel.is_none_or(|c| c == e.channel))
            .filter(|e| cap.category.as_ref().is_none_or(|c| *c == e.category))
            .filter(|e| e.at > t - cap.window.duration())
            .count()
    }

    fn caps_of(&self, channel: Channel, category: &herald_messaging::Category) -> Vec<usize> {
        (0..self.policy.caps.len())
            .filter(|&i| {
                let cap = &self.policy.caps[i];
                cap.channel.is_none_or(|c| c == channel)
                    && cap.category.as_ref().is_none_or(|c| c == category)
            })
            .collect()
    }

    /// The caps of the message that are full at `t`.
    fn full_caps(
        &self,
        channel: Channel,
        category: &herald_messaging::Category,
        ledger: &[&LedgerEntry],
        key: &str,
        t: DateTime<Utc>,
    ) -> Vec<usize> {
        self.caps_of(channel, category)
            .into_iter()
            .filter(|&i| self.count(i, ledger, key, t) >= self.policy.caps[i].max as usize)
            .collect()
    }

    /// The first grid instant after `now` at which the message fits under every cap and is
    /// outside quiet hours.
    fn next_slot(
        &self,
        channel: Channel,
        category: &herald_messaging::Category,
        ledger: &[&LedgerEntry],
        key: &str,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let mut t = now;
        while t < now + Duration::days(HORIZON_DAYS) {
            t += Duration::seconds(STEP);
            let fits = self.full_caps(channel, category, ledger, key, t).is_empty();
            if fits && !self.is_quiet(channel, t) {
                return Some(t);
            }
        }
        None
    }

    /// The decision, or `None` when a deferral would reach past the horizon (the scenario is
    /// then wrong, and the test says so).
    pub fn decide(
        &self,
        c: &Candidate,
        ledger: &[LedgerEntry],
        now: DateTime<Utc>,
    ) -> Option<Decision> {
        let skip = |reason| {
            Some(Decision {
                outcome: Outcome::Skip,
                reason,
                displaced: Vec::new(),
            })
        };
        if c.holdout {
            return skip(Reason::Holdout);
        }
        let address = match c.channel {
            Channel::Email => self.person.email.clone(),
            Channel::Sms => self.person.sms.clone(),
            _ => None,
        };
        let Some(address) = address else {
            return skip(Reason::NoAddress);
        };
        if self.person.suppressed.contains(&c.channel) {
            return skip(Reason::Suppressed);
        }
        let send = |displaced| {
            Some(Decision {
                outcome: Outcome::Send {
                    to: address.clone(),
                },
                reason: Reason::Sent,
                displaced,
            })
        };
        if c.transactional {
            return send(Vec::new());
        }
        // The email topics of the scenarios: `news` (opt-in) and `offers` (opt-out).
        let (explicit, opt_in) = match (c.channel, c.topic.as_deref()) {
            (_, None) => (None, false),
            (Channel::Email, Some("news")) => (self.person.news, true),
            (Channel::Email, Some("offers")) => (self.person.offers, false),
            _ => return skip(Reason::UnknownTopic),
        };
        if self.person.unsubscribed.contains(&c.channel) {
            return skip(Reason::Unsubscribed);
        }
        if c.topic.is_some() {
            match explicit {
                Some(Status::Subscribed) => {}
                Some(Status::Unsubscribed) => return skip(Reason::Unsubscribed),
                Some(Status::PendingConfirmation) => return skip(Reason::PendingConfirmation),
                None if opt_in => return skip(Reason::NotOptedIn),
                None => {}
            }
        }
        if self.is_quiet(c.channel, now) {
            let q = self.quiet_hours_for(c.channel)?;
            if q.action == QuietAction::Drop {
                return skip(Reason::QuietHoursDropped);
            }
            let mut t = now;
            loop {
                t += Duration::seconds(STEP);
                if !self.is_quiet(c.channel, t) {
                    break;
                }
                if t > now + Duration::days(HORIZON_DAYS) {
                    return None;
                }
            }
            return Some(Decision {
                outcome: Outcome::Defer { until: t },
                reason: Reason::QuietHoursDeferred,
                displaced: Vec::new(),
            });
        }
        let all: Vec<&LedgerEntry> = ledger.iter().collect();
        let full_without = |taken: &[&LedgerEntry]| {
            let rest: Vec<&LedgerEntry> = all
                .iter()
                .copied()
                .filter(|e| !taken.iter().any(|t| t.key == e.key))
                .collect();
            self.full_caps(c.channel, &c.category, &rest, &c.key, now)
        };
        if full_without(&[]).is_empty() {
            return send(Vec::new());
        }
        let mut order: Vec<&LedgerEntry> = all
            .iter()
            .copied()
            .filter(|e| !e.transactional && e.key != c.key)
            .filter(|e| e.state == LedgerState::Reserved && e.priority < c.priority)
            .collect();
        order.sort_by(|a, b| {
            a.priority
                .cmp(&b.priority)
                .then(b.at.cmp(&a.at))
                .then(a.key.cmp(&b.key))
        });
        let mut taken: Vec<&LedgerEntry> = Vec::new();
        for e in order {
            let still_full = full_without(&taken);
            if still_full.is_empty() {
                break;
            }
            let counts_toward = still_full.iter().any(|&i| {
                let one = [e];
                self.count(i, &one, &c.key, now) == 1
            });
            if counts_toward {
                taken.push(e);
            }
        }
        if full_without(&taken).is_empty() {
            for i in (0..taken.len()).rev() {
                let mut without = taken.clone();
                without.remove(i);
                if full_without(&without).is_empty() {
                    taken = without;
                }
            }
            let mut after: Vec<LedgerEntry> = all
                .iter()
                .filter(|e| !taken.iter().any(|t| t.key == e.key))
                .map(|e| (*e).clone())
                .collect();
            after.push(LedgerEntry {
                key: c.key.clone(),
                at: now,
                channel: c.channel,
                category: c.category.clone(),
                priority: c.priority,
                transactional: false,
                state: LedgerState::Reserved,
            });
            let after: Vec<&LedgerEntry> = after.iter().collect();
            let mut displaced = Vec::new();
            for loser in &taken {
                let defer_until = match self.policy.on_capped {
                    CappedAction::Drop => None,
                    CappedAction::Defer => Some(self.next_slot(
                        loser.channel,
                        &loser.category,
                        &after,
                        &loser.key,
                        now,
                    )?),
                };
                displaced.push(Displaced {
                    key: loser.key.clone(),
                    defer_until,
                });
            }
            return send(displaced);
        }
        match self.policy.on_capped {
            CappedAction::Drop => skip(Reason::Capped),
            CappedAction::Defer => Some(Decision {
                outcome: Outcome::Defer {
                    until: self.next_slot(c.channel, &c.category, &all, &c.key, now)?,
                },
                reason: Reason::CappedDeferred,
                displaced: Vec::new(),
            }),
        }
    }

    /// The most messages cap `i` counts in a window ending at an entry the simulation added
    /// (keys `m..`) that the cap counts: that is where the governor admitted one more. Windows
    /// ending elsewhere may hold more than `max`: the history before the run was made under
    /// another policy, and transactional messages pass anyway.
    pub fn max_in_windows_ending_at_new_entries(&self, i: usize, ledger: &[LedgerEntry]) -> usize {
        let all: Vec<&LedgerEntry> = ledger.iter().collect();
        ledger
            .iter()
            .filter(|e| e.key.starts_with('m') && self.count(i, &[*e], "", e.at) == 1)
            .map(|e| {
                let upto: Vec<&LedgerEntry> =
                    all.iter().copied().filter(|x| x.at <= e.at).collect();
                self.count(i, &upto, "", e.at)
            })
            .max()
            .unwrap_or(0)
    }
}
