//! The profile list and its searches, and the columns member lists can show for each profile.

use std::collections::HashMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use herald_core::identity::{IdKind, ProfileId};
use herald_storage::{ProfileSearch, ProfileSummary};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::blocking;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Query};
use crate::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProfilesQuery {
    /// Only profiles with an identifier of this kind whose value starts with this prefix,
    /// written `kind:prefix` (`email:ana`, `user_id:42`; `email:` for any email). The prefix
    /// is normalised as far as a prefix can be: leading spaces dropped, emails lower-cased,
    /// phones reduced to `+` and digits.
    #[param(pattern = r"^(user_id|email|phone|anonymous_id):")]
    pub identifier: Option<String>,
    /// Only profiles whose trait of this name has `value` (both or neither).
    #[serde(rename = "trait")]
    #[param(rename = "trait")]
    pub trait_name: Option<String>,
    /// The trait value searched for: a string trait equal to it, a number trait equal to it
    /// read as a number (`42` finds `42` and `42.0`), or a boolean trait (`true`, `false`).
    pub value: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One profile in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileSummaryView {
    pub profile_id: String,
    /// Its identifiers, `kind:value`, in the order they joined.
    pub identifiers: Vec<String>,
    #[schema(value_type = Object)]
    pub traits: Map<String, Value>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
}

impl From<ProfileSummary> for ProfileSummaryView {
    fn from(s: ProfileSummary) -> Self {
        ProfileSummaryView {
            profile_id: s.profile_id.to_string(),
            identifiers: s
                .identities
                .iter()
                .map(|i| i.identifier.to_string())
                .collect(),
            traits: s.state.trait_values(),
            first_seen: s.state.first_seen,
            last_seen: s.state.last_seen,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfilesPage {
    pub profiles: Vec<ProfileSummaryView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn invalid_query(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_query", message)
}

/// A prefix normalised the way identity resolution normalises whole values, as far as that
/// applies to the start of one.
fn normalise_prefix(kind: IdKind, raw: &str) -> String {
    let trimmed = raw.trim_start();
    match kind {
        IdKind::Email => trimmed.to_lowercase(),
        IdKind::Phone => {
            let digits = trimmed.chars().filter(char::is_ascii_digit);
            if trimmed.starts_with('+') {
                std::iter::once('+').chain(digits).collect()
            } else {
                digits.collect()
            }
        }
        IdKind::UserId | IdKind::AnonymousId => trimmed.to_owned(),
    }
}

fn search_of(q: &ProfilesQuery) -> Result<ProfileSearch, ApiError> {
    let identifier = q
        .identifier
        .as_deref()
        .map(|raw| {
            let (kind, prefix) = raw.split_once(':').ok_or_else(|| {
                invalid_query("`identifier` is written `kind:prefix`, e.g. `email:ana`")
            })?;
            let kind: IdKind = kind
                .parse()
                .map_err(|e: herald_core::identity::IdentifierError| invalid_query(e.0))?;
            Ok::<_, ApiError>((kind, normalise_prefix(kind, prefix)))
        })
        .transpose()?;
    let trait_value = match (&q.trait_name, &q.value) {
        (Some(name), Some(value)) if !name.is_empty() => Some((name.clone(), value.clone())),
        (None, None) => None,
        _ => {
            return Err(invalid_query(
                "`trait` (a trait name) and `value` go together",
            ))
        }
    };
    Ok(ProfileSearch {
        identifier,
        trait_value,
    })
}

/// Profiles in id order (oldest first), all or those a search finds, with their identifiers
/// and traits.
#[utoipa::path(get, path = "/api/v1/profiles", tag = "profiles", params(ProfilesQuery),
    responses((status = 200, body = ProfilesPage), (status = 400, description = "`invalid_query`: `identifier` not `kind:prefix`, `trait` without `value` (or the reverse), `limit` out of range", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn list_profiles(
    State(state): State<AppState>,
    Query(q): Query<ProfilesQuery>,
) -> Result<Json<ProfilesPage>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(invalid_query("`limit` must be between 1 and 1000"));
    }
    let search = search_of(&q)?;
    let after = q.cursor.clone().map(ProfileId);
    let (ids, summaries) = blocking(&state, move |s| {
        let ids = s.search_profiles(&search, after.as_ref(), limit + 1)?;
        let summaries = s.profile_summaries(&ids[..ids.len().min(limit)])?;
        Ok((ids, summaries))
    })
    .await?;
    let next_cursor = (ids.len() > limit).then(|| ids[limit - 1].to_string());
    Ok(Json(ProfilesPage {
        profiles: summaries.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// A column of a member list: `profile_id`, `entered_at`, an identifier kind (the profile's
/// earliest-joined identifier of that kind) or `trait.<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    ProfileId,
    EnteredAt,
    Identifier(IdKind),
    Trait(String),
}

impl Column {
    pub fn name(&self) -> String {
        match self {
            Column::ProfileId => "profile_id".into(),
            Column::EnteredAt => "entered_at".into(),
            Column::Identifier(kind) => kind.as_str().into(),
            Column::Trait(name) => format!("trait.{name}"),
        }
    }

    /// Whether the column needs the profile's state or identities.
    pub fn reads_profile(&self) -> bool {
        matches!(self, Column::Identifier(_) | Column::Trait(_))
    }

    /// The column's value for a member: `null` when the profile has none.
    pub fn value(
        &self,
        profile: &ProfileId,
        since: i64,
        summary: Option<&ProfileSummary>,
    ) -> Value {
        match self {
            Column::ProfileId => Value::String(profile.to_string()),
            Column::EnteredAt => DateTime::from_timestamp_millis(since)
                .map(|t| Value::String(herald_core::event::rfc3339(t)))
                .unwrap_or(Value::Null),
            Column::Identifier(kind) => summary
                .and_then(|s| s.identities.iter().find(|i| i.identifier.kind == *kind))
                .map(|i| Value::String(i.identifier.value.clone()))
                .unwrap_or(Value::Null),
            Column::Trait(name) => summary
                .and_then(|s| s.state.traits.get(name))
                .map(|t| t.value.clone())
                .unwrap_or(Value::Null),
        }
    }
}

/// Parse `columns=user_id,email,trait.plan` (a column named twice is shown twice in CSV, once
/// in JSON).
pub fn parse_columns(raw: &str) -> Result<Vec<Column>, ApiError> {
    let mut out: Vec<Column> = Vec::new();
    for name in raw.split(',') {
        let column = match name {
            "profile_id" => Column::ProfileId,
            "entered_at" => Column::EnteredAt,
            _ => match name.strip_prefix("trait.") {
                Some(t) if !t.is_empty() => Column::Trait(t.to_owned()),
                _ => Column::Identifier(name.parse().map_err(|_| {
                    ApiError::bad_request(
                        "invalid_columns",
                        format!("unknown column {name:?}: columns are profile_id, entered_at, user_id, email, phone, anonymous_id and trait.<name>"),
                    )
                })?),
            },
        };
        out.push(column);
    }
    Ok(out)
}

/// The summaries of these members when a column needs them (one batched read), by id.
pub fn summaries_for(
    s: &dyn herald_storage::Store,
    columns: &[Column],
    members: &[(ProfileId, i64)],
) -> Result<HashMap<ProfileId, ProfileSummary>, herald_storage::StorageError> {
    if !columns.iter().any(Column::reads_profile) {
        return Ok(HashMap::new());
    }
    let ids: Vec<ProfileId> = members.iter().map(|(p, _)| p.clone()).collect();
    Ok(s.profile_summaries(&ids)?
        .into_iter()
        .map(|summary| (summary.profile_id.clone(), summary))
        .collect())
}

/// One CSV field: quoted when it holds a comma, a quote or a line break; a value that is not
/// a string is written as JSON, `null` as an empty field.
pub fn csv_field(value: &Value) -> String {
    let text = match value {
        Value::Null => return String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_parse_and_refuse_unknown_names() {
        assert_eq!(
            parse_columns("profile_id,email,trait.plan,user_id").unwrap(),
            [
                Column::ProfileId,
                Column::Identifier(IdKind::Email),
                Column::Trait("plan".into()),
                Column::Identifier(IdKind::UserId),
            ]
        );
        for bad in ["emails", "trait.", "email,", " email", ""] {
            assert!(parse_columns(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field(&Value::from("pro")), "pro");
        assert_eq!(csv_field(&Value::from("a,b")), "\"a,b\"");
        assert_eq!(csv_field(&Value::from("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field(&serde_json::json!({"a": 1})), "\"{\"\"a\"\":1}\"");
        assert_eq!(csv_field(&Value::from(42)), "42");
        assert_eq!(csv_field(&Value::Null), "");
    }

    #[test]
    fn prefixes_normalise_like_whole_values() {
        assert_eq!(normalise_prefix(IdKind::Email, " ANA@Ex"), "ana@ex");
        assert_eq!(normalise_prefix(IdKind::Phone, "+1 (415"), "+1415");
        assert_eq!(normalise_prefix(IdKind::UserId, " Ana B"), "Ana B");
    }
}
