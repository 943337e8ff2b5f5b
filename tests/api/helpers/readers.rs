//! Typed readers for the answers tests check again and again: a problem+json
//! error, an OAuth error, a token response, a dossier. A missing or mistyped
//! field fails the read, as a wrong value fails an assertion.

use chrono::{DateTime, Utc};
use serde::{Deserialize, de::DeserializeOwned};

/// Reads an answer of `status` as `T`; the body is shown when the status
/// differs or the body is not a `T`.
pub async fn read_json<T: DeserializeOwned>(res: reqwest::Response, status: u16) -> T {
    let actual = res.status().as_u16();
    let text = res.text().await.expect("body");
    assert_eq!(actual, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A problem+json error (RFC 9457) as the API answers it.
#[derive(Debug, Deserialize)]
pub struct Problem {
    /// The HTTP status, repeated in the body.
    pub status: u16,
    /// The stable machine code.
    pub code: String,
    /// The Vietnamese explanation.
    pub detail: String,
    /// One entry per invalid field, if any.
    #[serde(default)]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a [`Problem`].
#[derive(Debug, Deserialize)]
pub struct FieldError {
    /// The field as the client named it (`form_values.phone`).
    pub field: String,
    /// The stable machine code.
    pub code: String,
}

impl Problem {
    /// Reads the problem of an answer of `status` (and checks the body says
    /// the same status).
    pub async fn read(res: reqwest::Response, status: u16) -> Self {
        let problem: Self = read_json(res, status).await;
        assert_eq!(problem.status, status, "{problem:?}");
        problem
    }

    /// The invalid fields it names.
    pub fn fields(&self) -> Vec<&str> {
        self.errors.iter().map(|e| e.field.as_str()).collect()
    }

    /// Whether it names `field` as invalid with `code`.
    pub fn has_error(&self, field: &str, code: &str) -> bool {
        self.errors
            .iter()
            .any(|e| e.field == field && e.code == code)
    }
}

/// An OAuth 2.0 error answer (`{"error": …}`).
#[derive(Debug, Deserialize)]
pub struct OAuthError {
    /// The error code (`invalid_grant`, …).
    pub error: String,
}

impl OAuthError {
    /// Reads the OAuth error of an answer of `status`.
    pub async fn read(res: reqwest::Response, status: u16) -> Self {
        read_json(res, status).await
    }
}

/// A token endpoint's answer.
#[derive(Debug, Deserialize)]
pub struct Tokens {
    /// The access token (a JWT).
    pub access_token: String,
    /// The refresh token, when one was issued.
    pub refresh_token: Option<String>,
}

impl Tokens {
    /// Reads a successful token answer.
    pub async fn read(res: reqwest::Response) -> Self {
        read_json(res, 200).await
    }

    /// The refresh token, which must have been issued.
    pub fn refresh(&self) -> &str {
        self.refresh_token.as_deref().expect("a refresh token")
    }
}

/// A dossier as the citizen and staff APIs show it.
#[derive(Debug, Clone, Deserialize)]
pub struct DossierView {
    /// The agency it is filed at.
    pub agency_code: String,
    /// `draft`, `submitted`, `processing`, …
    pub status: String,
    /// The national status code (0–10).
    pub status_code: i64,
    /// The receipt code, once filed.
    pub receipt_code: Option<String>,
    /// When it is due, once accepted.
    pub due_at: Option<DateTime<Utc>>,
    /// Whether the clock is paused for a supplement.
    pub paused: bool,
    /// `approved` or `rejected`, once decided.
    pub decision: Option<String>,
}

impl DossierView {
    /// Reads a dossier from an answer of `status`.
    pub async fn read(res: reqwest::Response, status: u16) -> Self {
        read_json(res, status).await
    }

    /// The receipt code, which it must have.
    pub fn receipt(&self) -> String {
        self.receipt_code.clone().expect("a receipt code")
    }

    /// The due date, which it must have.
    pub fn due(&self) -> DateTime<Utc> {
        self.due_at.expect("a due date")
    }
}
