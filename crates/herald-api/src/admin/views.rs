//! JSON shapes of the admin API.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use herald_core::projection::{MergeRecord, RefusalRecord};
use herald_storage::{ApiKey, IdentityRow, MergeRow, ProfileRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdentityView {
    /// `kind:value`, usable wherever the API takes an identifier.
    pub id: String,
    pub kind: String,
    pub value: String,
    /// The identifier it was linked to when it joined the profile; absent for the one that
    /// created the profile.
    pub linked_via: Option<String>,
    /// Log position and message id of the event that brought it.
    pub seq: u64,
    pub message_id: String,
}

impl From<&IdentityRow> for IdentityView {
    fn from(row: &IdentityRow) -> Self {
        IdentityView {
            id: row.identifier.to_string(),
            kind: row.identifier.kind.as_str().to_owned(),
            value: row.identifier.value.clone(),
            linked_via: row.link.via.as_ref().map(ToString::to_string),
            seq: row.link.seq,
            message_id: row.link.message_id.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupView {
    pub group_id: String,
    /// When the person first joined the group (event time).
    pub joined_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub traits: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileView {
    pub profile_id: String,
    /// Traits from identify calls, last writer (by event time) wins per trait.
    #[schema(value_type = Object)]
    pub traits: Map<String, Value>,
    pub identities: Vec<IdentityView>,
    pub groups: Vec<GroupView>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub timezone: Option<String>,
    pub locale: Option<String>,
    /// Events by name: the track event name, or the call type (`page`, `identify`, ...).
    pub event_counts: BTreeMap<String, u64>,
    pub total_events: u64,
    /// Computed traits (`/api/v1/computed-traits`), kept live.
    #[schema(value_type = Object)]
    pub computed_traits: BTreeMap<String, Value>,
    /// Ids of the audiences the profile is in.
    pub audiences: Vec<String>,
}

impl From<ProfileRecord> for ProfileView {
    fn from(r: ProfileRecord) -> Self {
        let groups = r
            .groups
            .iter()
            .map(|(group_id, g)| GroupView {
                group_id: group_id.clone(),
                joined_at: r.state.groups.get(group_id).copied().unwrap_or_default(),
                traits: g.trait_values(),
            })
            .collect();
        ProfileView {
            profile_id: r.profile_id.to_string(),
            traits: r.state.trait_values(),
            identities: r.identities.iter().map(IdentityView::from).collect(),
            groups,
            first_seen: r.state.first_seen,
            last_seen: r.state.last_seen,
            timezone: r.state.timezone.map(|t| t.value),
            locale: r.state.locale.map(|l| l.value),
            event_counts: r.state.event_counts,
            total_events: r.state.total_events,
            computed_traits: BTreeMap::new(),
            audiences: Vec::new(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MergeView {
    pub merge_id: String,
    /// Log position and message id of the event that caused the merge.
    pub seq: u64,
    pub message_id: String,
    pub event_type: String,
    pub winner: String,
    pub loser: String,
    /// The two identifiers the event joined (winner side, loser side).
    pub link: [String; 2],
    pub winner_identifiers: Vec<String>,
    pub loser_identifiers: Vec<String>,
    pub merged_at: DateTime<Utc>,
    pub undone: bool,
}

impl From<MergeRow> for MergeView {
    fn from(row: MergeRow) -> Self {
        let MergeRecord {
            merge_id,
            seq,
            message_id,
            event_type,
            winner,
            loser,
            link,
            winner_identifiers,
            loser_identifiers,
            at,
        } = row.record;
        MergeView {
            merge_id,
            seq,
            message_id,
            event_type: event_type.to_string(),
            winner: winner.to_string(),
            loser: loser.to_string(),
            link: [link.0.to_string(), link.1.to_string()],
            winner_identifiers: winner_identifiers.iter().map(ToString::to_string).collect(),
            loser_identifiers: loser_identifiers.iter().map(ToString::to_string).collect(),
            merged_at: at,
            undone: row.undone,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefusalView {
    pub seq: u64,
    pub identifier: String,
    /// `limit` (a per-kind limit would be exceeded) or `separated` (an undone merge).
    pub reason: String,
}

impl From<RefusalRecord> for RefusalView {
    fn from(r: RefusalRecord) -> Self {
        RefusalView {
            seq: r.seq,
            identifier: r.identifier.to_string(),
            reason: serde_json::to_value(r.reason)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        }
    }
}

/// A profile's identity graph: its identifiers with the links that brought them, the merges
/// that formed it, and the links the rules refused.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityGraphView {
    pub profile_id: String,
    pub identities: Vec<IdentityView>,
    pub merges: Vec<MergeView>,
    pub refused_links: Vec<RefusalView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineView {
    /// Newest first; each is the stored Segment message plus its log position `seq`.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SplitView {
    /// Profiles that hold the affected events now: every profile the operation rebuilt.
    pub profiles: Vec<String>,
    /// Profiles that were rebuilt and no longer exist (a deletion: the deleted person's).
    pub removed_profiles: Vec<String>,
    pub replayed_events: usize,
    pub deleted_events: usize,
    /// Events of other profiles kept with the deleted person's identifiers redacted out.
    pub redacted_events: Vec<RedactedView>,
    pub suppressed_identifiers: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedactedView {
    /// The event's log position.
    pub seq: u64,
    /// The profile it belongs to (`null`: none, it carries only blocked values now).
    pub profile_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub id: String,
    /// `write` or `admin`.
    pub kind: String,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        KeyView {
            id: k.id,
            kind: k.kind.as_str().to_owned(),
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKeyView {
    #[serde(flatten)]
    pub key: KeyView,
    /// The secret. Shown once; only its hash is stored.
    pub secret: String,
}

fn key_kind_schema() -> utoipa::openapi::schema::ObjectBuilder {
    crate::openapi::one_of_strings(&["write", "admin"])
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateKey {
    /// `write` or `admin`.
    #[schema(schema_with = key_kind_schema)]
    pub kind: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    /// Position of the last event appended to the log.
    pub log_head: u64,
    /// Position up to which events are applied to profiles.
    pub processed: u64,
    /// Events stored but not yet applied.
    pub lag: u64,
    /// Events dropped because they carried an identifier of a deleted person.
    pub suppressed_events: u64,
    /// Events whose identifiers were all blocked values.
    pub unattributable_events: u64,
    /// Events removed by person deletions.
    pub deleted_events: u64,
    /// Events the processor set aside instead of applying (`/api/v1/quarantine`).
    pub quarantined_events: u64,
    /// Quarantined events an admin discarded.
    pub discarded_events: u64,
    /// Whether writes find the storage full (ingest answers 507 `storage_full`; processing
    /// waits): cleared by the next successful write once space is freed.
    pub storage_full: bool,
    /// Since when, while `storage_full`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_full_since: Option<DateTime<Utc>>,
    /// The identity rules this node resolves with (`--identity-rules`, docs/identity.md).
    #[schema(value_type = Object)]
    pub identity_rules: Value,
}
