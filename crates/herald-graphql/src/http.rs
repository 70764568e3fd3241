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
use herald_api::auth::{authenticate, bearer, check_csrf, check_origin, Principal};
use herald_api::error::ApiError;
use herald_api::extract::Json;
use herald_api::AppState;

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
    let principal = authenticate(&state.app, &headers, None).await?;
    check_csrf(&principal, &axum::http::Method::POST, &headers)?;
    Ok(state.schema.execute(request.data(principal)).await.into())
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
    // A page of another site must not open a socket with a signed-in browser's cookie
    // (Cross-Site WebSocket Hijacking): the same check as every cookie request's.
    check_origin(&state.app, &headers)?;
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
                    let key = payload
                        .get("authorization")
                        .or_else(|| payload.get("Authorization"))
                        .and_then(|v| v.as_str())
                        .map(|v| bearer(v).unwrap_or(v).to_owned());
                    let principal: Principal =
                        authenticate(&app, &headers, key.as_deref())
                            .await
                            .map_err(|e| async_graphql::Error::new(e.into_body().1.message))?;
                    let mut data = Data::default();
                    data.insert(principal);
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
