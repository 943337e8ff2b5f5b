//! The OAuth error answer (RFC 6749 §5.2): `error` and `error_description`
//! as JSON, never cached, `401` with `WWW-Authenticate` when the client
//! failed to authenticate. Every OAuth endpoint (token, PAR, revocation,
//! introspection) answers its errors through this one type.

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};
use serde_json::json;

use crate::error::AppError;

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(Debug)]
pub struct OAuthError {
    /// HTTP status (400, or 401 for client authentication).
    pub status: u16,
    /// The error code.
    pub error: &'static str,
    /// A description for developers.
    pub description: String,
}

impl OAuthError {
    /// An error with the status RFC 6749 gives it.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: if error == "invalid_client" { 401 } else { 400 },
            error,
            description: description.into(),
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST)
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        builder
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if self.status == 401 {
            builder.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"eservices\""));
        }
        builder.json(json!({ "error": self.error, "error_description": self.description }))
    }
}

impl From<AppError> for OAuthError {
    fn from(err: AppError) -> Self {
        let status = err.kind().status().as_u16();
        Self {
            status: if status == 503 { 503 } else { 500 },
            error: if status == 503 {
                "temporarily_unavailable"
            } else {
                "server_error"
            },
            description: err.detail().to_owned(),
        }
    }
}

impl From<diesel::result::Error> for OAuthError {
    fn from(err: diesel::result::Error) -> Self {
        AppError::from(err).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_client_is_401_with_a_basic_challenge() {
        let response = OAuthError::new("invalid_client", "unknown client").error_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .map(|v| v.as_bytes()),
            Some(&b"Basic realm=\"eservices\""[..])
        );
        assert_eq!(
            response
                .headers()
                .get(header::CACHE_CONTROL)
                .map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
    }

    #[test]
    fn other_errors_are_400_without_a_challenge() {
        let response = OAuthError::new("invalid_grant", "expired").error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn an_unavailable_store_is_temporarily_unavailable() {
        let err = OAuthError::from(AppError::from(crate::error::Code::DatabaseUnavailable));
        assert_eq!((err.status, err.error), (503, "temporarily_unavailable"));
    }
}
