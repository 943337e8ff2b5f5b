//! `GET /api/v1/lookup/{receipt_code}?national_id=…` (public status look-up)
//! and `GET /api/v1/notifications` (what we sent the caller).

use actix_web::{HttpResponse, http::header, web};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::{
    dossiers, error::AppError, http::AppState, http::session::ApiCaller, identity::ClientInfo,
    notify::notifications,
};

/// Query of the look-up.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LookupQuery {
    /// The applicant's 12-digit personal identification number.
    national_id: Option<String>,
}

/// `GET /api/v1/lookup/{receipt_code}`: status and dates only; misses are throttled per address.
#[utoipa::path(get, path = "/api/v1/lookup/{receipt_code}", tag = "dossiers", params(("receipt_code" = String, Path, description = "The receipt code"), LookupQuery),
    responses(
        (status = 200, description = "Status and dates", body = crate::dossiers::LookupView),
        (status = 404, description = "No dossier with this code and ID number", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many misses from this address", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn lookup(
    state: web::Data<AppState>,
    client: ClientInfo,
    path: web::Path<String>,
    query: web::Query<LookupQuery>,
) -> Result<HttpResponse, AppError> {
    let national_id = query.national_id.as_deref().ok_or_else(|| {
        AppError::bad_request("national_id_required")
            .with_detail("Cần số định danh cá nhân của người nộp hồ sơ.")
    })?;
    let ip = client.ip.clone().unwrap_or_else(|| "-".into());
    let view = dossiers::lookup(&state.identity, &path, national_id, &ip).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(view))
}

/// Query of the notifications list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct NotificationsQuery {
    /// The id of the last message of the previous page.
    before: Option<Uuid>,
    /// Page size, 1–100 (default 20).
    limit: Option<i64>,
}

/// `GET /api/v1/notifications`: what we sent the caller, with delivery status.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "dossiers", params(NotificationsQuery),
    security(("session" = []), ("bearer" = ["dossiers"])),
    responses((status = 200, description = "`items` (newest first) and `next_before`", body = Object)))]
pub async fn notifications(
    state: web::Data<AppState>,
    caller: ApiCaller,
    query: web::Query<NotificationsQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    let limit = query.limit.unwrap_or(20);
    let items = notifications::list(&state, caller.account_id, query.before, limit).await?;
    let next = crate::http::api::next_cursor(&items, limit, |n| n.id);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "items": items, "next_before": next })))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/lookup/{receipt_code}").route(web::get().to(lookup)))
        .service(web::resource("/notifications").route(web::get().to(notifications)));
}
