//! Middleware: security headers on every response, metrics and access log,
//! panic containment, and problem+json for errors the framework produces
//! itself (unknown method, bad path, …).

use std::{panic::AssertUnwindSafe, time::Instant};

use actix_web::{
    Error, ResponseError,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderMap, HeaderValue},
    middleware::{ErrorHandlerResponse, ErrorHandlers, Next},
    web,
};
use futures_util::FutureExt;

use crate::{
    error::{AppError, ErrorKind},
    http::AppState,
    telemetry::panic_message,
};

/// `Strict-Transport-Security` sent when `PUBLIC_URL` is https.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";
/// `Referrer-Policy`: the origin at most, never a path (paths carry ids);
/// `no-referrer` would make browsers send `Origin: null` on our own forms.
pub const REFERRER_POLICY: &str = "strict-origin";
/// The policy of responses that set none of their own: never framed.
pub const DEFAULT_CSP: &str = "frame-ancestors 'none'";

/// Adds the headers every response carries, keeping those a handler chose
/// (a page's or a download's own `Content-Security-Policy`).
pub fn add_security_headers(headers: &mut HeaderMap, https: bool) {
    let defaults = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, REFERRER_POLICY),
        (header::CONTENT_SECURITY_POLICY, DEFAULT_CSP),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
}

/// The outermost layer: security headers on every response, errors that
/// escaped the inner layers (a contained panic, a middleware's refusal)
/// included.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let https = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.settings.public_url.scheme() == "https");
    match next.call(req).await {
        Ok(mut res) => {
            add_security_headers(res.headers_mut(), https);
            Ok(res)
        }
        Err(err) => {
            // The server renders an escaped error by itself; render it here
            // instead, so it carries the headers too.
            let mut response = err.error_response();
            add_security_headers(response.headers_mut(), https);
            Err(actix_web::error::InternalError::from_response("request failed", response).into())
        }
    }
}

/// Counts and times every request by route pattern (never by raw path, which
/// may carry personal data) and writes one access-log line.
pub async fn track_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let result = next.call(req).await;
    let (status, route) = match &result {
        Ok(res) => (
            res.status(),
            res.request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into()),
        ),
        Err(err) => (err.as_response_error().status_code(), "unmatched".into()),
    };
    let elapsed = started.elapsed();
    if let Some(m) = metrics {
        m.http_requests
            .with_label_values(&[method.as_str(), route.as_str(), status.as_str()])
            .inc();
        m.http_duration
            .with_label_values(&[method.as_str(), route.as_str()])
            .observe(elapsed.as_secs_f64());
    }
    tracing::info!(
        method,
        route,
        status = status.as_u16(),
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    result
}

/// Turns a panic in a handler into a 500 problem instead of a dropped connection.
///
/// The request cannot be cloned before routing (the router needs it unshared),
/// so the panic becomes an error that actix renders through [`AppError`].
pub async fn catch_panic(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => Err(AppError::internal(anyhow::anyhow!(
            "handler panicked: {}",
            panic_message(payload.as_ref())
        ))
        .into()),
    }
}

/// Replaces the framework's plain-text or empty error responses (404, 405,
/// extractor failures) with problem+json; responses already carrying a body
/// of another type (our problems, HTML pages) pass untouched.
pub fn problem_defaults<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(to_problem)
}

fn to_problem<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let replace = match res.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(ct) => ct.as_bytes().starts_with(b"text/plain"),
    };
    if !replace {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let kind = ErrorKind::from_status(status);
    let mut err = AppError::of_kind(kind);
    if let Some(allow) = allow.as_ref().and_then(|v| v.to_str().ok()) {
        err = err.with_header(header::ALLOW, allow);
    }
    let mut response = err.error_response();
    // Keep the framework's exact status (e.g. 431) when it has no kind of its own.
    *response.status_mut() = status;
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body::<B>(),
    ))
}
