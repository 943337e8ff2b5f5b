//! Password reset and change, email and phone changes (which need the
//! holder: a recent sign-in or the password) and the undo link that takes
//! such a change back and locks the account.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use crate::{
    error::AppError,
    http::AppState,
    http::{csrf, session::CurrentSession},
    identity::{ClientInfo, credentials},
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
    credentials::request_reset(&state.identity, body.username.trim(), &client).await?;
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
    credentials::confirm_reset(
        &state.identity,
        body.token.trim(),
        body.new_password,
        &client,
    )
    .await?;
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
        (status = 200, description = "Changed; other sessions and every refresh token ended", body = crate::http::api::openapi::StatusMessage),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Cross-site request, or an account without a password and no recent sign-in (`reauthentication_required`)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password or a weak new one", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords for this account (`sign_in_locked`)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
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
        &state.identity,
        current.session.account_id,
        (&current.token, current.session.authenticated_at),
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
    /// The current password; needed unless the session signed in within
    /// the last five minutes.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    current_password: Option<SecretString>,
}

/// `POST /api/v1/me/email`: 202; the address changes once the link sent to it is followed.
#[utoipa::path(post, path = "/api/v1/me/email", tag = "account",
    request_body = EmailChange, security(("session" = [])),
    responses(
        (status = 202, description = "A verification link went to the new address; the old one is told, with an undo link", body = crate::http::api::openapi::StatusMessage),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Cross-site request, or neither a sign-in in the last five minutes nor the current password (`reauthentication_required`)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an email address, or a wrong current password", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords for this account (`sign_in_locked`)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
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
    let body = body.into_inner();
    credentials::request_email_change(
        &state.identity,
        current.session.account_id,
        crate::identity::account_changes::Holder::of(&current.session, body.current_password),
        &email,
        &client,
    )
    .await?;
    Ok(HttpResponse::Accepted().json(json!({
        "status": "pending_verification",
        "message": "Một liên kết xác minh đã được gửi tới địa chỉ email mới. Địa chỉ sẽ được thay đổi khi bạn mở liên kết đó.",
    })))
}

/// Body of a phone change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneChange {
    /// Vietnamese mobile number (0912 345 678, +84912345678, …).
    phone: String,
    /// The current password; needed unless the session signed in within
    /// the last five minutes.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    current_password: Option<SecretString>,
}

/// `POST /api/v1/me/phone`: 202; a code is sent by SMS to the new number.
#[utoipa::path(post, path = "/api/v1/me/phone", tag = "account",
    request_body = PhoneChange, security(("session" = [])),
    responses(
        (status = 202, description = "A 6-digit code went to the new number by SMS; the verified email is told, with an undo link", body = crate::http::api::openapi::StatusMessage),
        (status = 401, description = "Not signed in", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Cross-site request, or neither a sign-in in the last five minutes nor the current password (`reauthentication_required`)", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a Vietnamese mobile number, or a wrong current password", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many codes requested, or too many wrong passwords", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_phone(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    current: CurrentSession,
    body: web::Json<PhoneChange>,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    let phone = crate::domain::PhoneNumber::parse(&body.phone).map_err(|e| {
        AppError::new(crate::error::ErrorKind::Unprocessable, "validation_failed")
            .with_detail(e.message.to_string())
            .with_field("phone", e.code, e.message)
    })?;
    let body = body.into_inner();
    crate::identity::phone::request_change(
        &state.identity,
        current.session.account_id,
        crate::identity::account_changes::Holder::of(&current.session, body.current_password),
        &phone,
        &client,
    )
    .await?;
    Ok(HttpResponse::Accepted().json(json!({
        "status": "pending_verification",
        "message": "Mã xác minh đã được gửi tới số điện thoại mới. Số sẽ được thay đổi khi bạn nhập đúng mã.",
    })))
}

/// Body of a phone verification.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneCode {
    /// The 6-digit code from the SMS.
    code: String,
}

/// `POST /api/v1/me/phone/verify`.
#[utoipa::path(post, path = "/api/v1/me/phone/verify", tag = "account",
    request_body = PhoneCode, security(("session" = [])),
    responses(
        (status = 200, description = "The number is now the account's verified phone", body = crate::http::api::openapi::StatusMessage),
        (status = 400, description = "No pending code, expired, or too many wrong tries", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong code", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify_phone(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientInfo,
    current: CurrentSession,
    body: web::Json<PhoneCode>,
) -> Result<HttpResponse, AppError> {
    csrf::check_origin(&state, &req)?;
    crate::identity::phone::confirm(&state, current.session.account_id, &body.code, &client)
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "phone_changed",
        "message": "Số điện thoại đã được xác minh và cập nhật.",
    })))
}

/// Body of an undo.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UndoChange {
    /// The token of the link sent to the old address.
    token: String,
}

/// `POST /api/v1/account-changes/undo`: the holder takes back an email or
/// phone change from the link sent to the old address; the account is locked.
#[utoipa::path(post, path = "/api/v1/account-changes/undo", tag = "accounts",
    request_body = UndoChange,
    responses(
        (status = 200, description = "The previous value is back; the account is locked and all its access ended", body = crate::http::api::openapi::StatusMessage),
        (status = 400, description = "Unknown, used or expired link", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many bad links from this address", body = crate::http::api::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub async fn undo_change(
    state: web::Data<AppState>,
    client: ClientInfo,
    body: web::Json<UndoChange>,
) -> Result<HttpResponse, AppError> {
    crate::identity::account_changes::undo_change(&state.identity, body.token.trim(), &client)
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "account_locked",
        "message": crate::identity::account_changes::UNDONE_MESSAGE,
    })))
}

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/password-resets").route(web::post().to(request_reset)))
        .service(web::resource("/password-resets/confirm").route(web::post().to(confirm_reset)))
        .service(web::resource("/me/password").route(web::post().to(change_password)))
        .service(web::resource("/me/email").route(web::post().to(change_email)))
        .service(web::resource("/me/phone").route(web::post().to(change_phone)))
        .service(web::resource("/me/phone/verify").route(web::post().to(verify_phone)))
        .service(web::resource("/account-changes/undo").route(web::post().to(undo_change)));
}
