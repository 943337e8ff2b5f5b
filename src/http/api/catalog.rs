//! The public catalog: `GET /api/v1/agencies`, `GET /api/v1/services?q=…`,
//! `GET /api/v1/services/{code}`. No sign-in needed.

use actix_web::{HttpResponse, http::header, web};
use serde::Deserialize;
use serde_json::json;

use crate::{catalog, error::AppError, http::AppState};

/// `GET /api/v1/agencies`: every agency, each naming its parent (a tree of any depth).
#[utoipa::path(get, path = "/api/v1/agencies", tag = "catalog",
    responses((status = 200, description = "Agencies (`items`)", body = crate::http::api::openapi::AgencyList)))]
pub async fn agencies(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let items = catalog::agencies(&state).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(json!({ "items": items })))
}

/// Query of the service search.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// Words, with or without Vietnamese diacritics.
    q: Option<String>,
    /// Only services this agency handles (its code).
    agency: Option<String>,
    /// Only this field (lĩnh vực), exactly as listed.
    field: Option<String>,
    /// `full` (toàn trình) or `partial` (một phần).
    level: Option<String>,
    /// Page size, 1–100 (default 20).
    limit: Option<i64>,
    /// Results to skip, 0–1000.
    offset: Option<i64>,
}

/// `GET /api/v1/services`: services ranked by how well their names match `q`.
#[utoipa::path(get, path = "/api/v1/services", tag = "catalog", params(SearchQuery),
    responses(
        (status = 200, description = "Matching services, best first (`items`)", body = crate::http::api::openapi::ServiceList),
        (status = 400, description = "A bad filter or page", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn services(
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let items = catalog::search(
        &state,
        &catalog::Search {
            q: query.q,
            agency: query.agency,
            field: query.field,
            level: query.level,
            limit: query.limit,
            offset: query.offset,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

/// `GET /api/v1/services/{code}`: a service with its agencies and form.
#[utoipa::path(get, path = "/api/v1/services/{code}", tag = "catalog",
    params(("code" = String, Path, description = "The service's code")),
    responses(
        (status = 200, description = "The service", body = crate::catalog::ServiceDetail),
        (status = 404, description = "No such service", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn service(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let detail = catalog::service(&state, &path).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(detail))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/agencies").route(web::get().to(agencies)))
        .service(web::resource("/services").route(web::get().to(services)))
        .service(web::resource("/services/{code}").route(web::get().to(service)));
}
