//! Password reset and password change.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use crate::{
    error::AppError,
    http::{csrf, session::CurrentSession},
    identity::{ClientInfo, credentials},
    startup::AppState,
};

/// Body of a reset request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    username: String,
}

/// `POST /api/v1/password-resets`: always 202.
#[utoipa::path(post, path = "/api/v1/password-resets", tag = "accounts",
    request_body = ResetRequest,
    responses(
        (status = 202, description = "Accepted (whether or not the account exists)", body = crate::http::api::openapi::StatusMessage),
        (status = 429, description = "Too many requests", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn request_reset(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<ResetRequest>,
) -> Result<HttpResponse, AppError> {
    credentials::request_reset(&state, body.username.trim(), &client).await?;
    Ok(HttpResponse::Accepted().json(json!({
        "status": "accepted",
        "message": "Nếu thông tin khớp với một tài khoản đã xác minh email, liên kết đặt lại mật khẩu đã được gửi tới email của tài khoản đó.",
    })))
}

/// Body of a reset confirmation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmation {
    token: String,
    #[schema(value_type = String, format = Password)]
    new_password: SecretString,
}

/// `POST /api/v1/password-resets/confirm`.
#[utoipa::path(post, path = "/api/v1/password-resets/confirm", tag = "accounts",
    request_body = ResetConfirmation,
    responses(
        (status = 200, description = "Password set; every session ended", body = crate::http::api::openapi::StatusMessage),
        (status = 400, description = "Unknown, used or expired token", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The new password breaks the policy (the link stays usable)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_reset(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<ResetConfirmation>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    credentials::confirm_reset(&state, body.token.trim(), body.new_password, &client).await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "password_changed",
        "message": "Mật khẩu đã được đặt lại. Mọi phiên đăng nhập cũ đã bị đăng xuất.",
    })))
}

/// Body of a password change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(value_type = String, format = Password)]
    current_password: SecretString,
    #[schema(value_type = String, format = Password)]
    new_password: SecretString,
}

/// `POST /api/v1/me/password`: other sessions are ended.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "account",
    request_body = PasswordChange, security(("session" = [])),
    responses(
        (status = 200, description = "Changed; other sessions ended", body = crate::http::api::openapi::StatusMessage),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Cross-site request", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password or a weak new one", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    current: CurrentSession,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    let body = body.into_inner();
    credentials::change_password(
        &state,
        current.session.account_id,
        &current.token,
        body.current_password,
        body.new_password,
        &client,
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "password_changed",
        "message": "Đã đổi mật khẩu. Các phiên đăng nhập khác đã bị đăng xuất.",
    })))
}

/// Body of an email change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChange {
    email: String,
}

/// `POST /api/v1/me/email`: 202; the address changes once the link sent to it is followed.
#[utoipa::path(post, path = "/api/v1/me/email", tag = "account",
    request_body = EmailChange, security(("session" = [])),
    responses(
        (status = 202, description = "A verification link went to the new address", body = crate::http::api::openapi::StatusMessage),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an email address", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    current: CurrentSession,
    body: web::Json<EmailChange>,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    let email = crate::domain::EmailAddress::parse(&body.email).map_err(|e| {
        AppError::new(crate::error::ErrorKind::Unprocessable, "validation_failed")
            .with_detail(e.to_string())
            .with_field("email", "email_format", e.to_string())
    })?;
    credentials::request_email_change(&state, current.session.account_id, &email, &client).await?;
    Ok(HttpResponse::Accepted().json(json!({
        "status": "pending_verification",
        "message": "Một liên kết xác minh đã được gửi tới địa chỉ email mới. Địa chỉ sẽ được thay đổi khi bạn mở liên kết đó.",
    })))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/password-resets").route(web::post().to(request_reset)))
        .service(web::resource("/password-resets/confirm").route(web::post().to(confirm_reset)))
        .service(web::resource("/me/password").route(web::post().to(change_password)))
        .service(web::resource("/me/email").route(web::post().to(change_email)));
}
