//! Subscription preferences and suppression over HTTP (docs/preferences.md): the admin REST
//! API ([`admin`]), and the pages a message's signed links open without a login ([`page`]).
//! Both change preferences through [`change`], which records every change of a status in
//! effect as a `Subscription Changed` event on the person.

pub mod admin;
mod change;
pub mod page;

use axum::routing::{delete, get};
use axum::Router;

use crate::AppState;

/// Under `/api/v1`, behind the admin authorization.
pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/topics", get(admin::list_topics))
        .route(
            "/api/v1/profiles/{id}/subscriptions",
            get(admin::profile_subscriptions).patch(admin::change_subscriptions),
        )
        .route(
            "/api/v1/address-suppressions",
            get(admin::list_address_suppressions).post(admin::suppress_address),
        )
        .route(
            "/api/v1/address-suppressions/{channel}/{address}",
            delete(admin::unsuppress_address),
        )
}

/// The signed pages: the token is the authority.
pub fn public_routes() -> Router<AppState> {
    page::routes()
}
