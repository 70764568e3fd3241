//! The query and result types (camelCase JSON), their errors and the time buckets.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// At most this many time buckets in a trend, or cohorts in a retention query.
pub const MAX_BUCKETS: i64 = 2_000;
/// A funnel has at least 2 and at most this many steps.
pub const MAX_STEPS: usize = 10;
/// A breakdown shows at most this many values (plus `none` and `other`).
pub const MAX_BREAKDOWN_VALUES: u32 = 100;
/// A retention query follows each cohort for at most this many periods.
pub const MAX_PERIODS: u32 = 400;
/// A funnel's conversion window is at most a year.
pub const MAX_WINDOW_MS: i64 = 366 * DAY_MS;

pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;
pub(crate) const WEEK_MS: i64 = 7 * DAY_MS;

/// The type of a Segment call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum EventKind {
    Track,
    Page,
    Screen,
    Identify,
    Group,
    Alias,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Track => "track",
            EventKind::Page => "page",
            EventKind::Screen => "screen",
            EventKind::Identify => "identify",
            EventKind::Group => "group",
            EventKind::Alias => "alias",
        }
    }
}

/// Which events count: all of `name` (the timeline name: a track event's `event`, else the
/// type such as `page`), `type` and every property filter must hold; an absent `name` or
/// `type` matches any.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<EventKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<PropertyFilter>,
}

/// A test of one top-level property of the event's `properties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropertyFilter {
    pub key: String,
    pub op: FilterOp,
    /// A string, number or boolean (`eq`, `neq`); a string (`contains`); a number (`gt`,
    /// `lt`); absent for `isSet` / `isNotSet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub value: Option<Value>,
}

/// `eq`: the value's text equals; `neq`: not `eq` (an unset property is not equal);
/// `contains`: the text contains the string (case-sensitive); `gt`/`lt`: the value is a
/// decimal number greater/less than; `isSet`/`isNotSet`: the property has a scalar value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum FilterOp {
    Eq,
    Neq,
    Contains,
    Gt,
    Lt,
    IsSet,
    IsNotSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Interval {
    Hour,
    Day,
}

impl Interval {
    pub(crate) fn ms(self) -> i64 {
        match self {
            Interval::Hour => HOUR_MS,
            Interval::Day => DAY_MS,
        }
    }
}

/// What a trend counts in each bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Measure {
    /// Matching events.
    #[default]
    Events,
    /// Distinct profiles with a matching event.
    Profiles,
}

/// Break a trend down by one property of the counted events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Breakdown {
    pub property: String,
    /// How many values get a series of their own (1–100, default 10).
    #[serde(default = "default_limit", deserialize_with = "whole::u32")]
    pub limit: u32,
}

fn default_limit() -> u32 {
    10
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrendQuery {
    /// Events at or after this instant count.
    pub from: DateTime<Utc>,
    /// Events before this instant count.
    pub to: DateTime<Utc>,
    pub interval: Interval,
    #[serde(default)]
    pub measure: Measure,
    /// Absent: every event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<Breakdown>,
    /// Only profiles that are members of this audience now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Buckets start at midnight (or the hour) at this fixed offset from UTC (-1440..1440).
    #[serde(default, deserialize_with = "whole::i32")]
    pub utc_offset_minutes: i32,
}

/// What a series stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum BreakdownValue {
    /// Events whose property has this value (its text).
    Value { value: String },
    /// Events without the property.
    None,
    /// Events whose value is not among the values shown.
    Other,
    /// Profiles that are members of this audience now.
    Audience { id: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrendResult {
    /// The start of each bucket.
    pub buckets: Vec<DateTime<Utc>>,
    pub series: Vec<TrendSeries>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrendSeries {
    /// Absent without a breakdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<BreakdownValue>,
    /// One number per bucket.
    pub data: Vec<u64>,
    /// Events in the whole range, or distinct profiles in the whole range.
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FunnelQuery {
    /// Attempts start with a step-1 event at or after this instant...
    pub from: DateTime<Utc>,
    /// ...and before this one (later steps may fall after it, within the window).
    pub to: DateTime<Utc>,
    /// 2–10 steps, in order.
    pub steps: Vec<EventFilter>,
    /// Every step of an attempt happens at most this long after its step-1 event.
    #[serde(deserialize_with = "whole::i64")]
    pub window_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<FunnelBreakdown>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

/// Either `property` (of the attempt's step-1 event; top `limit` values by entries, then
/// `none` and `other`) or `audiences` (a series per audience, of its members now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FunnelBreakdown {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    #[serde(default = "default_limit", deserialize_with = "whole::u32")]
    pub limit: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunnelResult {
    pub steps: Vec<FunnelStep>,
    /// One entry per breakdown series; empty without a breakdown.
    pub breakdown: Vec<FunnelSeries>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunnelSeries {
    pub breakdown: BreakdownValue,
    pub steps: Vec<FunnelStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunnelStep {
    /// The step's event name (`null`: any event).
    pub name: Option<String>,
    /// Profiles that reached this step.
    pub count: u64,
    /// `count` / the first step's count (`null` when that is 0).
    pub conversion_from_first: Option<f64>,
    /// `count` / the previous step's count (`null` for the first step or when that is 0).
    pub conversion_from_previous: Option<f64>,
    /// Median time from the previous step, ms (`null`: first step, or nobody reached it).
    pub median_ms_from_previous: Option<f64>,
    pub average_ms_from_previous: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Period {
    /// UTC days.
    Day,
    /// Weeks from Monday 00:00 UTC.
    Week,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetentionQuery {
    /// Cohorts of profiles whose first start event falls in [from, to).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub period: Period,
    /// Periods followed after the cohort's own (1–400).
    #[serde(deserialize_with = "whole::u32")]
    pub periods: u32,
    /// Absent: any event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_event: Option<EventFilter>,
    /// Absent: any event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_event: Option<EventFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionResult {
    pub cohorts: Vec<Cohort>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cohort {
    /// The start of the cohort's period.
    pub start: DateTime<Utc>,
    pub size: u64,
    /// `values[0]` is `size`; `values[k]`: cohort members with a return event in the k-th
    /// period after the cohort's; `null` when that period has not started yet.
    pub values: Vec<Option<u64>>,
    /// `values[k]` / `size` × 100; `null` with an empty cohort or a future period.
    pub percentages: Vec<Option<f64>>,
}

/// A query the engine refuses; `code()` is stable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    InvalidRange(String),
    #[error("{0}")]
    TooManyBuckets(String),
    #[error("{0}")]
    InvalidSteps(String),
    #[error("{0}")]
    InvalidWindow(String),
    #[error("{0}")]
    InvalidFilter(String),
    #[error("{0}")]
    InvalidBreakdown(String),
    #[error("{0}")]
    InvalidPeriods(String),
    #[error("no audience {0:?}")]
    UnknownAudience(String),
}

impl QueryError {
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::InvalidRange(_) => "invalid_range",
            QueryError::TooManyBuckets(_) => "too_many_buckets",
            QueryError::InvalidSteps(_) => "invalid_steps",
            QueryError::InvalidWindow(_) => "invalid_window",
            QueryError::InvalidFilter(_) => "invalid_filter",
            QueryError::InvalidBreakdown(_) => "invalid_breakdown",
            QueryError::InvalidPeriods(_) => "invalid_periods",
            QueryError::UnknownAudience(_) => "audience_not_found",
        }
    }
}

/// What a query needs from outside the index: the time now, and the members (profile ids)
/// of the audiences the query names (`audience_ids` of the query says which).
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub now_ms: i64,
    pub audiences: HashMap<String, Vec<String>>,
}

impl TrendQuery {
    pub fn audience_ids(&self) -> Vec<String> {
        self.audience.iter().cloned().collect()
    }
}

impl FunnelQuery {
    pub fn audience_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.audience.iter().cloned().collect();
        if let Some(b) = &self.breakdown {
            ids.extend(b.audiences.iter().cloned());
        }
        ids
    }
}

impl RetentionQuery {
    pub fn audience_ids(&self) -> Vec<String> {
        self.audience.iter().cloned().collect()
    }
}

/// `[from, to)` in ms, checked.
pub(crate) fn range_ms(from: &DateTime<Utc>, to: &DateTime<Utc>) -> Result<(i64, i64), QueryError> {
    let (f, t) = (from.timestamp_millis(), to.timestamp_millis());
    if f >= t {
        return Err(QueryError::InvalidRange(format!(
            "`from` ({from}) must be before `to` ({to})"
        )));
    }
    Ok((f, t))
}

/// Buckets of `len` ms aligned to `offset` ms before UTC midnight: `floor((ts + offset) / len)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Buckets {
    pub(crate) len: i64,
    pub(crate) offset: i64,
    pub(crate) first: i64,
    pub(crate) count: i64,
}

impl Buckets {
    pub(crate) fn over(from: i64, to: i64, len: i64, offset: i64) -> Result<Buckets, QueryError> {
        let first = (from + offset).div_euclid(len);
        let last = (to - 1 + offset).div_euclid(len);
        let count = last - first + 1;
        if count > MAX_BUCKETS {
            return Err(QueryError::TooManyBuckets(format!(
                "the range spans {count} buckets; at most {MAX_BUCKETS}"
            )));
        }
        Ok(Buckets {
            len,
            offset,
            first,
            count,
        })
    }

    /// The bucket of `ts`, relative to the first (may be out of range).
    #[inline]
    pub(crate) fn of(&self, ts: i64) -> i64 {
        (ts + self.offset).div_euclid(self.len) - self.first
    }

    pub(crate) fn start_ms(&self, k: i64) -> i64 {
        (self.first + k) * self.len - self.offset
    }

    pub(crate) fn starts(&self) -> Vec<DateTime<Utc>> {
        (0..self.count).map(|k| instant(self.start_ms(k))).collect()
    }
}

pub(crate) fn instant(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Whole numbers as JSON Schema's `integer` reads them: `4` and `4.0` alike. One beyond the
/// field's range is saturated, so that the query's own checks refuse it with their code.
mod whole {
    use serde::{Deserialize, Deserializer};

    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        if let Some(i) = n.as_i64() {
            return Ok(i);
        }
        if n.as_u64().is_some() {
            return Ok(i64::MAX);
        }
        match n.as_f64() {
            Some(f) if f.fract() == 0.0 => Ok(f.clamp(i64::MIN as f64, i64::MAX as f64) as i64),
            _ => Err(serde::de::Error::custom(format!(
                "{n} is not a whole number"
            ))),
        }
    }

    pub(super) fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        read(d)
    }

    pub(super) fn i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        Ok(read(d)?.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
    }

    pub(super) fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        Ok(read(d)?.clamp(0, u32::MAX as i64) as u32)
    }
}
