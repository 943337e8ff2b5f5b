//! Fees paid online: the applicant starts or resumes a payment and lists
//! them; the payment platform posts its callback (IPN) here, answered in
//! the platform's convention (a code), never a problem document.

use actix_web::{HttpResponse, http::header, web};
use serde_json::json;

use super::dossiers::dossier_id;
use crate::error::Code;
use crate::{error::AppError, http::AppState, http::session::ApiCaller, payments};

/// `POST /api/v1/dossiers/{id}/payments`: starts the online payment of the
/// dossier's open fee (or resumes the one pending); open `payment_url`.
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/payments", tag = "dossiers",
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("id" = Uuid, Path, description = "The dossier")),
    responses(
        (status = 201, description = "Created at the payment platform", body = crate::payments::PaymentView),
        (status = 200, description = "The payment already pending", body = crate::payments::PaymentView),
        (status = 409, description = "Nothing to pay online", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The payment platform did not answer; try again", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    let id = dossier_id(&path)?;
    let platform = payments::platform::configured(&state).ok_or_else(|| {
        AppError::from(Code::PaymentPlatformUnavailable).with_detail(
            "Thanh toán trực tuyến chưa được cấu hình; vui lòng nộp tại Bộ phận một cửa.",
        )
    })?;
    let (status, view) = payments::create(&state, &platform, caller.account_id, id).await?;
    let mut response = if status == 201 {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(view))
}

/// `GET /api/v1/dossiers/{id}/payments`: the dossier's payments, oldest first.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}/payments", tag = "dossiers",
    security(("session" = []), ("bearer" = ["dossiers"])),
    params(("id" = Uuid, Path, description = "The dossier")),
    responses((status = 200, description = "`items`", body = Object)))]
pub async fn list(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.require_scope("dossiers")?;
    let items = payments::list(&state, caller.account_id, dossier_id(&path)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "items": items })))
}

/// `POST /api/v1/payments/callback`: the payment platform's notice (IPN),
/// checked under key 2 and against the amount we stored.
pub async fn callback(
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let Some(platform) = payments::platform::configured(&state) else {
        return Ok(HttpResponse::NotFound()
            .json(json!({ "code": "01", "message": "no payment platform" })));
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        tracing::warn!("a payment callback was not JSON");
        return Ok(HttpResponse::BadRequest().json(json!({ "code": "02", "message": "malformed" })));
    };
    let answer = payments::callback::receive(&state, &platform, &json).await?;
    Ok(HttpResponse::build(
        actix_web::http::StatusCode::from_u16(answer.status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .insert_header((header::CACHE_CONTROL, "no-store"))
    .json(answer))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/dossiers/{id}/payments")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/payments/callback")
            .app_data(web::PayloadConfig::new(64 * 1024))
            .route(web::post().to(callback)),
    );
}
