//! Server-rendered pages for people in a browser: sign-in, choice of
//! capacity, sign-out, email verification. Vietnamese, CSRF-protected, usable
//! without JavaScript. Failures render an HTML page, not JSON.

pub mod account;
pub mod account_undo;
pub mod agency;
pub mod audit;
pub mod auth;
pub mod backoffice;
pub mod business_desk;
pub mod counter_check;
pub mod dashboard;
pub mod desk;
pub mod login_texts;
pub mod national_portal;
pub mod passkey_sign_in;
pub mod payment_alerts;
pub mod second_step;
pub mod staff_admin;
pub mod staff_guard;
pub mod staff_passkey_sign_in;
pub mod staff_passkeys;
pub mod vneid;

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use askama::Template;

use crate::error::{AppError, ErrorKind};

/// An error shown as a page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    detail: &'a str,
    request_id: Option<String>,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.kind().status()
    }

    fn error_response(&self) -> HttpResponse {
        // Log exactly as the API does (and keep its headers), then show a page.
        let api = self.0.error_response();
        let page = ErrorPage {
            title: self.0.kind().title(),
            detail: self.0.detail(),
            request_id: crate::http::request_id::current(),
        };
        let mut builder = HttpResponse::build(self.status_code());
        for (name, value) in api.headers() {
            if name != actix_web::http::header::CONTENT_TYPE
                && name != actix_web::http::header::CONTENT_LENGTH
            {
                builder.insert_header((name.clone(), value.clone()));
            }
        }
        match page.render() {
            Ok(body) => builder.content_type("text/html; charset=utf-8").body(body),
            Err(_) => builder
                .content_type("text/plain; charset=utf-8")
                .body(self.0.detail().to_owned()),
        }
    }
}

/// Results of page handlers.
pub type PageResult = Result<HttpResponse, PageError>;

/// A page response: HTML, never cached, never framed, scripts only from us,
/// with the CSRF cookie when the page just issued one.
pub fn html(
    status: actix_web::http::StatusCode,
    body: String,
    csrf_cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    use actix_web::http::header;
    let mut builder = HttpResponse::build(status);
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ));
    if let Some(cookie) = csrf_cookie {
        builder.cookie(cookie);
    }
    builder.body(body)
}

/// Renders a template as a 200 page.
pub fn render(template: &impl Template) -> Result<String, PageError> {
    template
        .render()
        .map_err(|e| PageError(AppError::internal(e)))
}

/// A safe place to go back to after sign-in: a local path only.
pub fn safe_return_to(raw: Option<&str>) -> String {
    match raw {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control)
                && path.len() <= 2048 =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Whether an error is one the person can fix on the same form.
pub fn shown_on_form(err: &AppError) -> bool {
    matches!(
        err.kind(),
        ErrorKind::Unauthorized
            | ErrorKind::Forbidden
            | ErrorKind::TooManyRequests
            | ErrorKind::BadRequest
            | ErrorKind::Conflict
            | ErrorKind::Unprocessable
    )
}

/// What a refused form says: each field's message, or the error's detail.
pub fn form_messages(err: &AppError) -> Vec<String> {
    if err.field_errors().is_empty() {
        vec![err.detail().to_owned()]
    } else {
        err.field_errors()
            .iter()
            .map(|f| f.message.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_return_to(Some("/oauth2/authorize?x=1")),
            "/oauth2/authorize?x=1"
        );
        for bad in [
            "https://evil.test/",
            "//evil.test/",
            "/\\evil.test",
            "javascript:x",
            "/a\nb",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_return_to(None), "/");
    }
}
