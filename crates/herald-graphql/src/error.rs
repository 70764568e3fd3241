//! REST errors as GraphQL errors: the same message, and the same stable `code` (plus the HTTP
//! `status` REST would answer, and `location` for an invalid rule) in `extensions`.

use async_graphql::{Error, ErrorExtensions};
use herald_api::error::ApiError;

pub(crate) fn gql(error: ApiError) -> Error {
    let (status, body) = error.into_body();
    Error::new(body.message).extend_with(|_, ext| {
        ext.set("code", body.code);
        ext.set("status", status.as_u16());
        if let Some(location) = body.location {
            if let Ok(value) = async_graphql::Value::from_json(location) {
                ext.set("location", value);
            }
        }
    })
}

/// `Result<T, ApiError>` into a GraphQL result.
pub(crate) trait OrGql<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> OrGql<T> for Result<T, ApiError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(gql)
    }
}
