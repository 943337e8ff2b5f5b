//! `/verify/{document_id}`: anyone (a bank, another agency) checks that a
//! result is authentic: issuer, date, hash and whether the signature is
//! valid; a copy of the file can be sent to compare. Nothing about the holder.

use actix_web::{HttpResponse, http::header, web};
use uuid::Uuid;

use crate::{error::AppError, http::AppState, vault::documents};

fn document_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| {
        AppError::not_found("document_not_found")
            .with_detail("Không có văn bản nào do Thành phố cấp với mã này.")
    })
}

/// `GET /verify/{id}`.
#[utoipa::path(get, path = "/verify/{id}", tag = "vault",
    params(("id" = Uuid, Path, description = "The document")),
    responses(
        (status = 200, description = "The check (an altered result is `valid: false`)", body = crate::vault::documents::Verification),
        (status = 404, description = "No such document", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn check(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let view = documents::verify(&state, document_id(&path)?, None).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(view))
}

/// `POST /verify/{id}`: the body is a copy of the file; `file_matches` says
/// whether it is the genuine one.
#[utoipa::path(post, path = "/verify/{id}", tag = "vault",
    params(("id" = Uuid, Path, description = "The document")),
    request_body(content = Vec<u8>, content_type = "application/pdf"),
    responses(
        (status = 200, description = "The check, with `file_matches`", body = crate::vault::documents::Verification),
        (status = 404, description = "No such document", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn check_copy(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let view = documents::verify(&state, document_id(&path)?, Some(&body)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(view))
}

/// Registers the route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/verify/{id}")
            .app_data(crate::http::api::dossiers::upload_config())
            .route(web::get().to(check))
            .route(web::post().to(check_copy)),
    );
}
