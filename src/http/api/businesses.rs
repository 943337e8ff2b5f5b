//! `POST /api/v1/businesses` and the representative's authorisations.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::{
    domain::BusinessId,
    error::AppError,
    http::{csrf, session::CurrentSession},
    identity::{ClientInfo, businesses},
    startup::AppState,
};

/// Body of a business registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBusiness {
    tax_code: String,
    name: String,
    address: String,
}

/// `POST /api/v1/businesses`: 201 with the business; the caller is its representative.
#[utoipa::path(post, path = "/api/v1/businesses", tag = "businesses",
    request_body = NewBusiness, security(("session" = [])),
    responses(
        (status = 201, description = "Registered", body = crate::identity::businesses::BusinessView),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Assurance level 2 required", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The tax code already has an account", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    current: CurrentSession,
    body: web::Json<NewBusiness>,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    let view = businesses::register(
        &state,
        current.session.account_id,
        current.session.level,
        &body.tax_code,
        &body.name,
        &body.address,
        &client,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/businesses/{}", view.id),
        ))
        .json(view))
}

/// `GET /api/v1/businesses/{id}/authorizations`.
#[utoipa::path(get, path = "/api/v1/businesses/{id}/authorizations", tag = "businesses", security(("session" = [])),
    params(("id" = uuid::Uuid, Path, description = "The business")),
    responses(
        (status = 200, description = "Active authorisations (`items`)", body = crate::http::api::openapi::AuthorizationList),
        (status = 404, description = "Not a business the caller represents", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_authorizations(
    state: web::Data<AppState>,
    current: CurrentSession,
    path: web::Path<BusinessId>,
) -> Result<HttpResponse, AppError> {
    let items =
        businesses::authorizations(&state, path.into_inner(), current.session.account_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

/// Body of a grant.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAuthorization {
    national_id: String,
    valid_until: Option<DateTime<Utc>>,
}

/// `POST /api/v1/businesses/{id}/authorizations`: 201.
#[utoipa::path(post, path = "/api/v1/businesses/{id}/authorizations", tag = "businesses",
    request_body = NewAuthorization, security(("session" = [])),
    params(("id" = uuid::Uuid, Path, description = "The business")),
    responses(
        (status = 201, description = "Granted; the person is emailed", body = crate::identity::businesses::AuthorizationView),
        (status = 404, description = "Not a business the caller represents", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid ID, no active account, or an expiry in the past", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn grant(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    current: CurrentSession,
    path: web::Path<BusinessId>,
    body: web::Json<NewAuthorization>,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    let view = businesses::grant(
        &state,
        path.into_inner(),
        current.session.account_id,
        &body.national_id,
        body.valid_until,
        &client,
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// `DELETE /api/v1/businesses/{id}/authorizations/{authorization}`: 204.
#[utoipa::path(delete, path = "/api/v1/businesses/{id}/authorizations/{authorization}", tag = "businesses", security(("session" = [])),
    params(("id" = uuid::Uuid, Path, description = "The business"), ("authorization" = uuid::Uuid, Path, description = "The authorisation")),
    responses(
        (status = 204, description = "Revoked; the person is emailed"),
        (status = 404, description = "No such active authorisation", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    current: CurrentSession,
    path: web::Path<(BusinessId, uuid::Uuid)>,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    let (business, authorization) = path.into_inner();
    businesses::revoke(
        &state,
        business,
        current.session.account_id,
        authorization,
        &client,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/businesses").route(web::post().to(register)))
        .service(
            web::resource("/businesses/{id}/authorizations")
                .route(web::get().to(list_authorizations))
                .route(web::post().to(grant)),
        )
        .service(
            web::resource("/businesses/{id}/authorizations/{authorization}")
                .route(web::delete().to(revoke)),
        );
}
