//! `POST /api/v1/businesses` and the representative's authorisations.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::{
    domain::BusinessId,
    error::AppError,
    http::AppState,
    http::{csrf, session::CurrentSession},
    identity::{ClientInfo, businesses},
};

/// Body of a business registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBusiness {
    tax_code: String,
    name: String,
    address: String,
    /// The one-stop desk (agency code) where the papers will be shown; any desk if absent.
    #[serde(default)]
    desk_agency_code: Option<String>,
}

/// `POST /api/v1/businesses`: 202 with the registration, `pending` until a
/// receiver has seen the business registration certificate and the caller's
/// ID; until then nobody can act for the business.
#[utoipa::path(post, path = "/api/v1/businesses", tag = "businesses",
    request_body = NewBusiness, security(("session" = [])),
    responses(
        (status = 202, description = "Registered, pending: show the business registration certificate and your ID at a one-stop desk", body = crate::identity::businesses::BusinessView),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Assurance level 2 required", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A pending or confirmed registration holds the tax code", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
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
        businesses::Registration {
            tax_code: &body.tax_code,
            name: &body.name,
            address: &body.address,
            desk_agency_code: body.desk_agency_code.as_deref(),
        },
        &client,
    )
    .await?;
    Ok(HttpResponse::Accepted()
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
    if !current.session.recently_strong(state.clock.now()) {
        return Err(crate::identity::second_step::step_up_required());
    }
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
    if !current.session.recently_strong(state.clock.now()) {
        return Err(crate::identity::second_step::step_up_required());
    }
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
