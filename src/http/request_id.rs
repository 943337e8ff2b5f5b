//! A request id for every request: taken from a sane incoming `X-Request-Id`
//! or made anew, put on the response, on every log line (a tracing span) and
//! in every problem document (the task-local of `telemetry`, which the error
//! type reads).

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::HeaderValue,
    middleware::Next,
};
use tracing::Instrument;

pub use crate::telemetry::{REQUEST_ID_HEADER as HEADER, current_request_id as current};

/// The id, as a request extension for handlers that want it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn acceptable(incoming: &str) -> bool {
    (8..=64).contains(&incoming.len())
        && incoming
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// The middleware.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| uuid::Uuid::now_v7().simple().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id);
    let mut res =
        crate::telemetry::with_request_id(id.clone(), next.call(req).instrument(span)).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_plain_ids_of_sane_length_are_taken_over() {
        assert!(acceptable("0192f0c4-7a1b-7c3d-9e8f-0a1b2c3d4e5f"));
        assert!(!acceptable("short"));
        assert!(!acceptable("has space in it"));
        assert!(!acceptable("line\nbreak-injected"));
        assert!(!acceptable(&"a".repeat(65)));
    }
}
