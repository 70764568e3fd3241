//! `GET /api/v1/catalog`: the names seen in the data — track event names, property names,
//! trait names — for completing rules and insight queries in the dashboard.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use herald_storage::ProfileSearch;
use serde::Serialize;
use utoipa::ToSchema;

use crate::admin::blocking;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::AppState;

/// Profiles whose traits are read for trait names.
pub const TRAIT_SAMPLE: usize = 1_000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/catalog", get(catalog))
}

/// Names seen in the data, each list sorted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogView {
    /// Every track event name in the insights index (names stay once seen).
    pub event_names: Vec<String>,
    /// Every top-level event property name in the insights index.
    pub property_names: Vec<String>,
    /// The trait names of the first 1,000 profiles (in profile id order, which is random).
    pub trait_names: Vec<String>,
}

/// Names seen in the data, for completion.
#[utoipa::path(get, path = "/api/v1/catalog", tag = "insights",
    responses((status = 200, body = CatalogView),
        (status = 503, description = "`insights_warming`: the insights index is still loading; retry after `Retry-After` seconds", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn catalog(State(state): State<AppState>) -> Result<Json<CatalogView>, ApiError> {
    let (event_names, property_names) = crate::insights::run(&state, Vec::new(), |index, _| {
        Ok((index.event_names(), index.property_keys()))
    })
    .await?;
    let trait_names = blocking(&state, |s| {
        let ids = s.search_profiles(&ProfileSearch::default(), None, TRAIT_SAMPLE)?;
        let names: BTreeSet<String> = s
            .profile_summaries(&ids)?
            .into_iter()
            .flat_map(|p| p.state.traits.into_keys())
            .collect();
        Ok(names.into_iter().collect())
    })
    .await?;
    Ok(Json(CatalogView {
        event_names,
        property_names,
        trait_names,
    }))
}
