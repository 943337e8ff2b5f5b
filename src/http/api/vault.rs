//! The owner's vault (scope `vault`): records, documents, the access log,
//! the export, deleting self-declared records. `on_behalf_of=<tax code>`
//! shows a business's vault to someone acting for it.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::{
    domain::{BusinessId, TaxCode, vault::Owner},
    error::AppError,
    http::AppState,
    http::{api::dossiers::bytes_response, csrf, session::ApiCaller},
    storage::businesses,
    vault::{access, documents, export, records},
};

/// Whose vault.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OwnerQuery {
    /// A business the caller acts for (tax code); mine when absent.
    on_behalf_of: Option<String>,
}

async fn owner(
    state: &AppState,
    caller: &ApiCaller,
    on_behalf_of: Option<&str>,
) -> Result<Owner, AppError> {
    let Some(raw) = on_behalf_of else {
        return Ok(Owner::Account(caller.account_id));
    };
    let not_acting = || {
        AppError::not_found("business_not_found")
            .with_detail("Bạn không đại diện hoặc không được ủy quyền cho doanh nghiệp này.")
    };
    let tax = TaxCode::parse(raw).map_err(|_| not_acting())?;
    let mut conn = state.db.get().await?;
    businesses::acting_for(&mut conn, caller.account_id.as_uuid(), state.clock.now())
        .await?
        .into_iter()
        .find(|(b, _)| b.tax_code == tax.as_str())
        .map(|(b, _)| Owner::Business(BusinessId::from(b.id)))
        .ok_or_else(not_acting)
}

fn no_store(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// `GET /api/v1/vault/records`: what the vault holds, with where each came from.
#[utoipa::path(get, path = "/api/v1/vault/records", tag = "vault", params(OwnerQuery),
    security(("session" = []), ("bearer" = ["vault"])),
    responses((status = 200, description = "`items`", body = Object)))]
pub async fn list_records(
    state: web::Data<AppState>,
    caller: ApiCaller,
    query: web::Query<OwnerQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("vault")?;
    let owner = owner(&state, &caller, query.on_behalf_of.as_deref()).await?;
    let items = records::list(&state, owner).await?;
    Ok(no_store(json!({ "items": items })))
}

/// `DELETE /api/v1/vault/records/{id}`: deletes a self-declared record.
#[utoipa::path(delete, path = "/api/v1/vault/records/{id}", tag = "vault",
    security(("session" = []), ("bearer" = ["vault"])),
    params(("id" = String, Path, description = "The record")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such record of mine", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not self-declared", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_record(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("vault")?;
    csrf::check_origin(&state, &req)?;
    records::delete(&state, caller.account_id, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/vault/documents`: results the city issued me.
#[utoipa::path(get, path = "/api/v1/vault/documents", tag = "vault", params(OwnerQuery),
    security(("session" = []), ("bearer" = ["vault"])),
    responses((status = 200, description = "`items`", body = Object)))]
pub async fn list_documents(
    state: web::Data<AppState>,
    caller: ApiCaller,
    query: web::Query<OwnerQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("vault")?;
    let owner = owner(&state, &caller, query.on_behalf_of.as_deref()).await?;
    let items = documents::list(&state, owner).await?;
    Ok(no_store(json!({ "items": items })))
}

/// `GET /api/v1/vault/documents/{id}/content`: the file, checked against its SHA-256.
#[utoipa::path(get, path = "/api/v1/vault/documents/{id}/content", tag = "vault",
    security(("session" = []), ("bearer" = ["vault"])),
    params(("id" = Uuid, Path, description = "The document")),
    responses((status = 200, description = "The file"), (status = 404, description = "No such document of mine", body = crate::http::api::openapi::Problem, content_type = "application/problem+json")))]
pub async fn download(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("vault")?;
    let id = Uuid::parse_str(&path).map_err(|_| {
        AppError::not_found("document_not_found").with_detail("Không tìm thấy tài liệu.")
    })?;
    let (row, bytes) = documents::download(&state, caller.account_id, id).await?;
    Ok(bytes_response(&row.file_name, &row.content_type, bytes))
}

/// Query of the access log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AccessQuery {
    /// A business the caller acts for (tax code).
    on_behalf_of: Option<String>,
    /// The `id` of the last row of the previous page.
    before: Option<i64>,
    /// Page size, 1–100 (default 50).
    limit: Option<i64>,
}

/// `GET /api/v1/vault/access-log`: who read my data, when and why.
#[utoipa::path(get, path = "/api/v1/vault/access-log", tag = "vault", params(AccessQuery),
    security(("session" = []), ("bearer" = ["vault"])),
    responses((status = 200, description = "`items` and `next_before`", body = Object)))]
pub async fn access_log(
    state: web::Data<AppState>,
    caller: ApiCaller,
    query: web::Query<AccessQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("vault")?;
    let owner = owner(&state, &caller, query.on_behalf_of.as_deref()).await?;
    let limit = query.limit.unwrap_or(50);
    let items = access::list(&state, owner, query.before, limit).await?;
    let next = (i64::try_from(items.len()).ok() == Some(limit))
        .then(|| items.last().map(|a| a.id))
        .flatten();
    Ok(no_store(json!({ "items": items, "next_before": next })))
}

/// `GET /api/v1/vault/export`: everything, as a ZIP (`vault.json` and `documents/`).
#[utoipa::path(get, path = "/api/v1/vault/export", tag = "vault",
    security(("session" = []), ("bearer" = ["vault"])),
    responses(
        (status = 200, description = "A ZIP archive", content_type = "application/zip"),
        (status = 401, description = "Not signed in, or no strong sign-in in the last ten minutes (`step_up_required`)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn export(
    state: web::Data<AppState>,
    caller: ApiCaller,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("vault")?;
    // Everything at once: only after a recent strong sign-in.
    caller.require_recent_strong(state.clock.now())?;
    let archive = export::archive(&state, caller.account_id).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            crate::http::api::dossiers::FILE_CSP,
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"kho-du-lieu.zip\"",
        ))
        .body(archive))
}

/// Registers the vault routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/vault/records").route(web::get().to(list_records)))
        .service(web::resource("/vault/records/{id}").route(web::delete().to(delete_record)))
        .service(web::resource("/vault/documents").route(web::get().to(list_documents)))
        .service(web::resource("/vault/documents/{id}/content").route(web::get().to(download)))
        .service(web::resource("/vault/access-log").route(web::get().to(access_log)))
        .service(web::resource("/vault/export").route(web::get().to(export)));
}
