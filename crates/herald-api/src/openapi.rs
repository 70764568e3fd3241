//! The OpenAPI 3.1 document, generated from the handlers, served at `/openapi.json`, and a
//! browsable reference at `/docs`.

use axum::http::header;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::{
    admin, auth, broadcasts, browser, catalog, error, inbox, ingest, insights, messages,
    messaging_settings, ops, preferences, provider_reports, templates, tracking, AppState,
};

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
            "postmark_webhook",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("The webhook_username and webhook_password of the Postmark provider, in the webhook URL set at Postmark"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An admin key. The admin API also takes a dashboard session: the `herald_session` cookie from `POST /api/v1/session`, with `X-CSRF-Token` on changes (docs/dashboard.md)"))
                    .build(),
            ),
        );
    }
}

/// The other ingest paths take the same request as `/v1/identify` (single events) or
/// `/v1/batch`: each gets a copy of that operation under its own operationId.
struct IngestPaths;

impl Modify for IngestPaths {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let copies = [
            ("/v1/identify", "/v1/track", "track"),
            ("/v1/identify", "/v1/page", "page"),
            ("/v1/identify", "/v1/screen", "screen"),
            ("/v1/identify", "/v1/group", "group"),
            ("/v1/identify", "/v1/alias", "alias"),
            ("/v1/identify", "/v1/i", "identify_short"),
            ("/v1/identify", "/v1/t", "track_short"),
            ("/v1/identify", "/v1/p", "page_short"),
            ("/v1/identify", "/v1/s", "screen_short"),
            ("/v1/identify", "/v1/g", "group_short"),
            ("/v1/identify", "/v1/a", "alias_short"),
            ("/v1/batch", "/v1/b", "batch_short"),
            ("/v1/batch", "/beacon/v1/batch", "batch_beacon"),
            ("/v1/batch", "/v1/import", "import"),
        ];
        for (from, to, operation_id) in copies {
            let mut item = openapi.paths.paths[from].clone();
            let operation = item.post.as_mut().expect("ingest paths are POST");
            operation.operation_id = Some(operation_id.to_owned());
            operation.summary = Some(format!("Send {to} (same request as {from})"));
            openapi.paths.paths.insert(to.to_owned(), item);
        }
    }
}

/// Answers every operation can give that are not specific to it: 401 on the admin API, the
/// extractors' rejections (`crate::extract`) where a body or parameters are read, the
/// endpoint's own answers (503 `too_many_connections`, 408 `body_timeout`) and 507
/// `storage_full` where the admin API writes.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let admin = path.starts_with("/api/");
            if admin {
                let writes = [
                    &mut item.post,
                    &mut item.put,
                    &mut item.patch,
                    &mut item.delete,
                ];
                for operation in writes.into_iter().filter_map(Option::as_mut) {
                    add_error(
                        operation,
                        "507",
                        "`storage_full`: the storage is full, nothing was written; retry after `Retry-After` seconds",
                    );
                }
            }
            for operation in operations(item) {
                add_error(
                    operation,
                    "503",
                    "`too_many_connections` (the server is at its connection cap; the connection is closed) or `unavailable`; retry after `Retry-After` seconds",
                );
                if operation.request_body.is_some() {
                    add_error(
                        operation,
                        "408",
                        "`body_timeout`: the body did not arrive within the server's body timeout; the connection is closed",
                    );
                }
                // The session's own operations document their answers themselves.
                if admin && path != "/api/v1/session" {
                    add_error(
                        operation,
                        "401",
                        "`unauthorized`: no admin key, or an unknown or revoked one; `not_signed_in`: a session cookie whose session ended",
                    );
                    add_error(
                        operation,
                        "403",
                        "`forbidden_role`: a viewer's session changing something; `csrf_token_invalid` or `foreign_origin`: a session's request without its CSRF token, or from another origin",
                    );
                }
                let json_body = operation
                    .request_body
                    .as_ref()
                    .is_some_and(|b| b.content.contains_key("application/json"));
                if admin && json_body {
                    add_error(operation, "400", "`invalid_json`: the body is not JSON");
                    add_error(
                        operation,
                        "415",
                        "`unsupported_media_type`: no `Content-Type: application/json`",
                    );
                    add_error(operation, "422", "`unprocessable_body`: JSON of the wrong shape (a missing or mistyped field)");
                }
                if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                    add_error(
                        operation,
                        "400",
                        "`invalid_query` or `invalid_path`: a parameter of the wrong shape",
                    );
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Document an error answer unless the operation already documents that status.
fn add_error(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
                .into()
        });
}

/// A rule: its text form (a string) or its JSON form (an object).
pub(crate) fn rule_schema() -> impl Into<RefOr<Schema>> {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("The text form, e.g. `trait plan = \"trial\"`")),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("The JSON form, e.g. `{\"trait\": \"plan\", \"op\": \"eq\", \"value\": \"trial\"}`")),
        )
        .description(Some("The rule: its text form (a string) or its JSON form (an object); see docs/audiences.md"))
}

/// A string that is one of `values`.
pub(crate) fn one_of_strings(values: &[&str]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Herald API", description = "Segment-compatible ingest, identity resolution, profiles, live audiences and computed traits."),
    paths(
        ingest::identify_doc, ingest::batch_doc,
        browser::segment_settings, browser::rudder_source_config,
        admin::profiles::list_profiles, admin::get_profile, admin::delete_profile, admin::get_timeline, admin::get_identity,
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
        insights::trends, insights::funnels, insights::retention,
        insights::saved::list_saved, insights::saved::create_saved, insights::saved::get_saved,
        insights::saved::put_saved, insights::saved::delete_saved, insights::saved::run_saved,
        catalog::catalog,
        templates::list, templates::create, templates::get_one, templates::update,
        templates::delete, templates::versions, templates::version, templates::preview,
        templates::preview_draft, templates::test_send::test_send,
        messages::send, messages::message, messages::log::profile_messages,
        messages::log::list_messages, messages::log::message_events,
        templates::render::render,
        preferences::admin::list_topics, preferences::admin::profile_subscriptions,
        preferences::admin::change_subscriptions, preferences::admin::list_address_suppressions,
        preferences::admin::suppress_address, preferences::admin::unsuppress_address,
        broadcasts::create_broadcast, broadcasts::list_broadcasts, broadcasts::get_broadcast,
        broadcasts::pause_broadcast, broadcasts::resume_broadcast, broadcasts::cancel_broadcast,
        inbox::list_inbox, inbox::mark_inbox_seen, inbox::mark_inbox_read,
        inbox::archive_inbox_message, inbox::mark_all_inbox_seen, inbox::inbox_stream,
        inbox::inbox_secret, tracking::track_open, tracking::track_click,
        provider_reports::postmark_webhook, provider_reports::twilio_status_callback, messaging_settings::messaging_settings, messaging_settings::update_messaging_settings,
        ops::healthz, ops::readyz, ops::metrics_text,
        auth::session::sign_in, auth::session::who_am_i, auth::session::sign_out,
        auth::users::list_users, auth::users::create_user, auth::users::update_user,
        auth::users::delete_user,
    ),
    components(schemas(error::ErrorBody, error::EventProblem)),
    modifiers(&Security, &IngestPaths, &CommonErrors),
    tags(
        (name = "ingest", description = "Segment Tracking API"),
        (name = "browser", description = "What browser SDKs fetch before sending: Segment analytics.js settings, RudderStack source config"),
        (name = "profiles", description = "Profiles and their timelines"),
        (name = "identity", description = "Identity graph, merges and unmerges"),
        (name = "keys", description = "API keys"),
        (name = "audiences", description = "Audiences and computed traits: live, exact, backfilled"),
        (name = "operations", description = "Health, metrics, status, live tail"),
        (name = "dashboard", description = "Dashboard sign-in, sessions and users (docs/dashboard.md)"),
        (name = "insights", description = "Trends, funnels and retention over every event; saved insights"),
        (name = "messages", description = "Messages to people: send a template to one person, read a message, a person's message log"),
        (name = "templates", description = "Message templates (Liquid, MJML), versioned; preview for a profile; ad-hoc render"),
        (name = "broadcasts", description = "A template to an audience, now, at a time or at each person's local time, with a holdout; progress, pause, resume, cancel (docs/broadcasts.md)"),
        (name = "inbox", description = "The in-app inbox, for browsers and apps: a person's messages with the write key and their user hash, marks, a live stream; the secret for admins (docs/inbox.md)"),
        (name = "tracking", description = "The open pixel and the signed click redirects in HTML emails (docs/tracking.md)"),
        (name = "preferences", description = "Subscription topics, a person's subscriptions, suppressed addresses (docs/preferences.md)"),
    )
)]
pub struct ApiDoc;

/// Where the reference UI's script is served (see `assets/scalar/README.md`).
pub const SCALAR_JS_PATH: &str = "/docs/assets/scalar-api-reference-1.76.4.js";

/// The Scalar API Reference bundle, vendored and compiled in so `/docs` works offline.
const SCALAR_JS: &str = include_str!("../assets/scalar/api-reference-1.76.4.standalone.js");

/// The `/docs` page: the reference UI from this server (not a CDN), reading `/openapi.json`,
/// with the browser's own fonts (Scalar's default fonts come from its servers).
fn docs_html() -> String {
    format!(
        r#"<!doctype html>
<html>
<head>
    <title>Herald API</title>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1"/>
</head>
<body>
<div id="app"></div>
<script src="{SCALAR_JS_PATH}"></script>
<script>Scalar.createApiReference('#app', {{ url: '/openapi.json', withDefaultFonts: false }})</script>
</body>
</html>
"#
    )
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/docs", get(|| async { Html(docs_html()) }))
        .route(
            SCALAR_JS_PATH,
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        // The file name carries the version: it never changes under this URL.
                        (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                    ],
                    SCALAR_JS,
                )
            }),
        )
}
