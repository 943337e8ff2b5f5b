//! CSRF protection for every form: a random token in an HttpOnly,
//! SameSite=Strict cookie that each form repeats in a hidden field (double
//! submit), compared in constant time; and, when the browser sends one, an
//! `Origin` that must be our own.

use actix_web::{
    HttpRequest,
    cookie::{Cookie, SameSite},
    http::header,
};

use crate::{
    crypto::tokens,
    error::{AppError, ErrorKind},
    http::AppState,
};

/// The CSRF cookie's name.
pub const CSRF_COOKIE: &str = "es_csrf";
/// The hidden form field's name.
pub const CSRF_FIELD: &str = "csrf_token";

/// The request's CSRF token, and the cookie to set if it had none.
pub fn token_for(state: &AppState, req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(existing) = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| tokens::well_formed(v))
    {
        return (existing, None);
    }
    let token = tokens::generate();
    let cookie = Cookie::build(CSRF_COOKIE, token.clone())
        .path("/")
        .http_only(true)
        .secure(state.settings.public_url.scheme() == "https")
        .same_site(SameSite::Strict)
        .finish();
    (token, Some(cookie))
}

fn failed() -> AppError {
    AppError::new(ErrorKind::Forbidden, "csrf_failed").with_detail(
        "Phiên làm việc của biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và thử lại.",
    )
}

/// Checks a submitted form's token against the cookie and the request's origin.
pub fn verify(state: &AppState, req: &HttpRequest, submitted: &str) -> Result<(), AppError> {
    check_origin(state, req)?;
    let cookie = req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned());
    match cookie {
        Some(cookie) if tokens::well_formed(&cookie) && tokens::equal(&cookie, submitted) => Ok(()),
        _ => Err(failed()),
    }
}

/// Refuses a request whose `Origin` (when present) is not our public origin.
pub fn check_origin(state: &AppState, req: &HttpRequest) -> Result<(), AppError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let ours = state.settings.public_url.origin().ascii_serialization();
    if origin.as_bytes() == ours.as_bytes() {
        Ok(())
    } else {
        Err(failed())
    }
}
