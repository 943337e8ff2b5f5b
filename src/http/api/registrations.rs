//! `POST /api/v1/registrations/…`: citizen self-registration and email verification.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::{
    domain::EmailAddress,
    error::{AppError, ErrorKind},
    http::AppState,
    identity::{ClientInfo, registration},
};

/// `POST /api/v1/registrations/citizens`: 202, a verification email is on its way.
#[utoipa::path(post, path = "/api/v1/registrations/citizens", tag = "accounts",
    request_body = registration::RegistrationRequest,
    responses(
        (status = 202, description = "Accepted: a verification link was emailed (or, when the national ID already has an account, an email saying so and how its owner takes it over; the answer is the same)", body = crate::http::api::openapi::StatusMessage),
        (status = 422, description = "Invalid fields, each named in `errors`", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many registrations from this address", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn register_citizen(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<registration::RegistrationRequest>,
) -> Result<HttpResponse, AppError> {
    let today = crate::identity::emails::vietnam_date(state.clock.now());
    let parsed = body.into_inner().parse(today)?;
    registration::register(&state.identity, parsed, &client).await?;
    Ok(HttpResponse::Accepted().json(json!({
        "status": "pending_verification",
        "message": "Đã nhận đăng ký. Vui lòng mở thư đã gửi tới email của bạn để tiếp tục.",
    })))
}

/// Body of the verification call.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    token: String,
}

/// `POST /api/v1/registrations/verify-email`.
#[utoipa::path(post, path = "/api/v1/registrations/verify-email", tag = "accounts",
    request_body = TokenBody,
    responses(
        (status = 200, description = "Verified; the account is active", body = crate::http::api::openapi::StatusMessage),
        (status = 400, description = "Unknown, used or expired token", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The address is verified on another account", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify_email(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<TokenBody>,
) -> Result<HttpResponse, AppError> {
    registration::verify_email(&state.identity, body.token.trim(), &client).await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "verified",
        "message": "Email đã được xác minh. Tài khoản của bạn đã được kích hoạt.",
    })))
}

/// Body of the resend call.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    email: String,
}

/// `POST /api/v1/registrations/resend-verification`: always 202.
#[utoipa::path(post, path = "/api/v1/registrations/resend-verification", tag = "accounts",
    request_body = EmailBody,
    responses(
        (status = 202, description = "Accepted (whether or not the address is known)", body = crate::http::api::openapi::StatusMessage),
        (status = 422, description = "Not an email address", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn resend_verification(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<EmailBody>,
) -> Result<HttpResponse, AppError> {
    let email = EmailAddress::parse(&body.email).map_err(|e| {
        AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_detail(e.to_string())
            .with_field("email", "email_format", e.to_string())
    })?;
    registration::resend_verification(&state.identity, &email, &client).await?;
    Ok(HttpResponse::Accepted().json(json!({
        "status": "accepted",
        "message": "Nếu địa chỉ này thuộc một đăng ký chưa xác minh, một liên kết mới đã được gửi tới đó.",
    })))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/registrations/citizens").route(web::post().to(register_citizen)))
        .service(web::resource("/registrations/verify-email").route(web::post().to(verify_email)))
        .service(
            web::resource("/registrations/resend-verification")
                .route(web::post().to(resend_verification)),
        );
}
