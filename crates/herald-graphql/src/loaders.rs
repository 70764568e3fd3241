//! Batch loaders: a list that resolves a nested profile for each item reads them all in one
//! storage call (one blocking task), not one per item.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use herald_api::admin::profiles::ProfileSummaryView;
use herald_api::admin::views::ProfileView;
use herald_api::admin::{blocking, profile_view};
use herald_api::AppState;
use herald_core::identity::ProfileId;

use crate::error::gql;
use crate::types::ProfileSummary;

/// Count a batch (`herald_graphql_loader_batches_total`) and its keys
/// (`herald_graphql_loader_keys_total`), by loader: how a test sees that a list is loaded in
/// one call.
fn count(loader: &'static str, keys: usize) {
    metrics::counter!("herald_graphql_loader_batches_total", "loader" => loader).increment(1);
    metrics::counter!("herald_graphql_loader_keys_total", "loader" => loader)
        .increment(keys as u64);
}

/// Profiles' identifiers and traits by profile id (`Store::profile_summaries`, one query).
pub struct SummaryLoader(pub AppState);

impl Loader<String> for SummaryLoader {
    type Value = ProfileSummary;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, ProfileSummary>, Self::Error> {
        count("summary", keys.len());
        let ids: Vec<ProfileId> = keys.iter().cloned().map(ProfileId).collect();
        let summaries = blocking(&self.0, move |s| s.profile_summaries(&ids))
            .await
            .map_err(gql)?;
        Ok(summaries
            .into_iter()
            .map(|s| {
                let view = ProfileSummaryView::from(s);
                (view.profile_id.clone(), ProfileSummary::from(view))
            })
            .collect())
    }
}

/// Whole profiles (record, computed traits, audiences) by profile id, read in one blocking
/// task.
pub struct ProfileLoader(pub AppState);

impl Loader<String> for ProfileLoader {
    type Value = ProfileView;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, ProfileView>, Self::Error> {
        count("profile", keys.len());
        let ids: Vec<ProfileId> = keys.iter().cloned().map(ProfileId).collect();
        blocking(&self.0, move |s| {
            let mut out = HashMap::with_capacity(ids.len());
            for id in ids {
                if let Some(record) = s.profile(&id)? {
                    let audiences = s.audience_state_of(&id)?;
                    out.insert(id.0, profile_view(record, audiences));
                }
            }
            Ok(out)
        })
        .await
        .map_err(gql)
    }
}
