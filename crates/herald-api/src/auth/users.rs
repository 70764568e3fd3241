//! `/api/v1/users`: dashboard users, admin only. The last admin can be neither deleted nor
//! demoted (409 `last_admin`).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use herald_storage::{DashboardUser, Role, UserChange, UserUpdate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::password::{hash_password, validate_password};
use super::{valid_email, Principal};
use crate::admin::blocking;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;

fn role_schema() -> utoipa::openapi::schema::ObjectBuilder {
    crate::openapi::one_of_strings(&["admin", "viewer"]).description(Some(
        "`admin`: everything, keys and users included; `viewer`: reads only",
    ))
}

/// The role, or null for no change.
fn optional_role_schema() -> utoipa::openapi::schema::ObjectBuilder {
    use utoipa::openapi::schema::{SchemaType, Type};
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some([
            serde_json::json!("admin"),
            serde_json::json!("viewer"),
            serde_json::Value::Null,
        ]))
        .description(Some(
            "A new role, `admin` or `viewer`; absent or null: unchanged",
        ))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub email: String,
    #[schema(schema_with = role_schema)]
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl From<&DashboardUser> for UserView {
    fn from(u: &DashboardUser) -> Self {
        UserView {
            id: u.id.clone(),
            email: u.email.clone(),
            role: u.role,
            created_at: u.created_at,
        }
    }
}

/// No `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
pub struct CreateUser {
    pub email: String,
    /// At least 10 characters (and at most 1024 bytes).
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
    #[schema(schema_with = role_schema)]
    pub role: Role,
}

/// No `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
pub struct UpdateUser {
    #[schema(schema_with = optional_role_schema)]
    pub role: Option<Role>,
    /// A new password (at least 10 characters, at most 1024 bytes): the user's other sessions
    /// are revoked.
    #[schema(min_length = 10, max_length = 1024)]
    pub password: Option<String>,
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound("user_not_found", format!("no dashboard user {id}"))
}

fn last_admin() -> ApiError {
    ApiError::Conflict(
        "last_admin",
        "this is the last admin: make another user admin first".into(),
    )
}

/// Dashboard users, oldest first.
#[utoipa::path(get, path = "/api/v1/users", tag = "dashboard",
    responses((status = 200, body = Vec<UserView>), (status = 403, description = "`forbidden_role`: only admins manage users", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<UserView>>, ApiError> {
    principal.require_admin()?;
    let users = blocking(&state, |s| s.users()).await?;
    Ok(Json(users.iter().map(UserView::from).collect()))
}

/// Add a dashboard user.
#[utoipa::path(post, path = "/api/v1/users", tag = "dashboard", request_body = CreateUser,
    responses((status = 201, body = UserView),
        (status = 400, description = "`invalid_email`", body = ErrorBody),
        (status = 403, description = "`forbidden_role`: only admins manage users; `csrf_token_invalid`", body = ErrorBody),
        (status = 409, description = "`email_taken`: a user has this email", body = ErrorBody),
        (status = 422, description = "`weak_password` (under 10 characters), `password_too_long`, or `unprocessable_body`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CreateUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    principal.require_admin()?;
    let email = valid_email(&body.email)?;
    validate_password(&body.password)?;
    let hash = hash_password(body.password).await?;
    let user = DashboardUser::new(&email, body.role, hash, herald_storage::clock::now());
    let stored = user.clone();
    if !blocking(&state, move |s| s.create_user(&stored, false)).await? {
        return Err(ApiError::Conflict(
            "email_taken",
            format!("a dashboard user has the email {email}"),
        ));
    }
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// Change a user's role and/or password. A new password revokes the user's sessions, but
/// the caller's own.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "dashboard", request_body = UpdateUser,
    params(("id" = String, Path)),
    responses((status = 200, body = UserView),
        (status = 403, description = "`forbidden_role`: only admins manage users; `csrf_token_invalid`", body = ErrorBody),
        (status = 404, description = "`user_not_found`", body = ErrorBody),
        (status = 409, description = "`last_admin`: demoting the last admin", body = ErrorBody),
        (status = 422, description = "`weak_password` (under 10 characters), `password_too_long`, or `unprocessable_body`", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn update_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<serde_json::Map<String, serde_json::Value>>,
) -> Result<Json<UserView>, ApiError> {
    principal.require_admin()?;
    // Read through a map: serde would take a struct of optional fields from an array too.
    let body: UpdateUser = serde_json::from_value(body.into()).map_err(|e| {
        ApiError::Rejected(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable_body",
            e.to_string(),
        )
    })?;
    let password_hash = match body.password {
        Some(password) => {
            validate_password(&password)?;
            Some(hash_password(password).await?)
        }
        None => None,
    };
    let update = UserUpdate {
        role: body.role,
        password_hash,
        keep_session: principal.user().map(|u| u.session_hash.clone()),
    };
    let key = id.clone();
    match blocking(&state, move |s| s.update_user(&key, &update)).await? {
        UserChange::Done(user) => Ok(Json(UserView::from(&user))),
        UserChange::NotFound => Err(not_found(&id)),
        UserChange::LastAdmin => Err(last_admin()),
    }
}

/// Delete a user; their sessions end at once.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "dashboard",
    params(("id" = String, Path)),
    responses((status = 204),
        (status = 403, description = "`forbidden_role`: only admins manage users; `csrf_token_invalid`", body = ErrorBody),
        (status = 404, description = "`user_not_found`", body = ErrorBody),
        (status = 409, description = "`last_admin`: deleting the last admin", body = ErrorBody)),
    security(("admin_key" = [])))]
pub async fn delete_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require_admin()?;
    let key = id.clone();
    match blocking(&state, move |s| s.delete_user(&key)).await? {
        UserChange::Done(_) => Ok(StatusCode::NO_CONTENT),
        UserChange::NotFound => Err(not_found(&id)),
        UserChange::LastAdmin => Err(last_admin()),
    }
}
