//! The routes: `POST /graphql` (queries and mutations), `GET /graphql` upgraded to a
//! WebSocket speaking `graphql-ws` (subscriptions; queries and mutations too), and
//! `GET /graphql/schema.graphql` (the schema in SDL).

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::extract::{FromRequestParts, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use herald_api::error::ApiError;
use herald_api::extract::Json;
use herald_api::AppState;

use crate::caller::{authenticate, Caller};
use crate::HeraldSchema;

#[derive(Clone)]
struct GraphqlState {
    app: AppState,
    schema: HeraldSchema,
}

pub fn routes(state: AppState) -> Router {
    let schema = crate::schema(state.clone());
    Router::new()
        .route("/graphql", get(websocket).post(execute))
        .route("/graphql/schema.graphql", get(sdl))
        .with_state(GraphqlState { app: state, schema })
}

async fn execute(
    State(state): State<GraphqlState>,
    headers: HeaderMap,
    Json(request): Json<async_graphql::Request>,
) -> Result<GraphQLResponse, ApiError> {
    let caller = authenticate(&state.app, &headers, None).await?;
    Ok(state.schema.execute(request.data(caller)).await.into())
}

/// The origin a browser page of this server sends: its own scheme and `Host`.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Not a browser: nothing for Cross-Site WebSocket Hijacking to exploit.
        return true;
    };
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

async fn websocket(
    State(state): State<GraphqlState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let (mut parts, _) = request.into_parts();
    if !headers.contains_key(header::UPGRADE) {
        return Err(ApiError::Rejected(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "send queries with POST, or open a WebSocket (graphql-ws) here for subscriptions"
                .into(),
        ));
    }
    if !same_origin(&headers) {
        return Err(ApiError::Rejected(
            StatusCode::FORBIDDEN,
            "foreign_origin",
            "a WebSocket from another site's page is refused".into(),
        ));
    }
    let protocol = GraphQLProtocol::from_request_parts(&mut parts, &())
        .await
        .map_err(|_| {
            ApiError::bad_request(
                "unsupported_protocol",
                "the WebSocket subprotocol must be `graphql-transport-ws` (graphql-ws) or `graphql-ws`",
            )
        })?;
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &())
        .await
        .map_err(|e| ApiError::bad_request("invalid_upgrade", e.body_text()))?;
    let schema = state.schema.clone();
    let app = state.app.clone();
    Ok(upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let authorization = payload
                        .get("authorization")
                        .or_else(|| payload.get("Authorization"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned);
                    let caller: Caller = authenticate(&app, &headers, authorization.as_deref())
                        .await
                        .map_err(|e| async_graphql::Error::new(e.into_body().1.message))?;
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
        }))
}

async fn sdl() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        crate::sdl(),
    )
}
