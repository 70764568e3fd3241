//! The OpenAPI 3.1 document, generated from the handlers, served at `/openapi.json`, and a
//! browsable reference at `/docs`.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_scalar::{Scalar, Servable};

use crate::{admin, error, ingest, ops, AppState};

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "write_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("The write key as user name, empty password"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An admin key"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Herald API", description = "Segment-compatible ingest, identity resolution, profiles, live audiences and computed traits."),
    paths(
        ingest::identify_doc, ingest::batch_doc,
        admin::get_profile, admin::delete_profile, admin::get_timeline, admin::get_identity,
        admin::get_merge, admin::undo_merge, admin::list_keys, admin::create_key, admin::revoke_key,
        admin::status, admin::tail::tail,
        admin::suppressions::list_suppressions, admin::suppressions::lift_suppression,
        admin::quarantine::list_quarantined, admin::quarantine::get_quarantined,
        admin::quarantine::retry_quarantined, admin::quarantine::discard_quarantined,
        admin::audiences::list_audiences, admin::audiences::create_audience,
        admin::audiences::get_audience, admin::audiences::edit_audience,
        admin::audiences::delete_audience, admin::audiences::preview_audience,
        admin::audiences::list_members, admin::audiences::export_members,
        admin::audiences::size_history, admin::audiences::profile_audiences,
        admin::audiences::profile_audience_history, admin::audiences::list_computed,
        admin::audiences::get_computed, admin::audiences::put_computed,
        admin::audiences::delete_computed,
        ops::healthz, ops::readyz, ops::metrics_text,
    ),
    components(schemas(error::ErrorBody, error::EventProblem)),
    modifiers(&Security),
    tags(
        (name = "ingest", description = "Segment Tracking API"),
        (name = "profiles", description = "Profiles and their timelines"),
        (name = "identity", description = "Identity graph, merges and unmerges"),
        (name = "keys", description = "API keys"),
        (name = "audiences", description = "Audiences and computed traits: live, exact, backfilled"),
        (name = "operations", description = "Health, metrics, status, live tail"),
    )
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .merge(Scalar::with_url("/docs", ApiDoc::openapi()))
}
