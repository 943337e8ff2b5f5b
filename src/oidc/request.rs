//! An authorization request as it arrives, and its checks against the
//! client's registration (shared by the authorization endpoint and PAR).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::Code;
use crate::storage::oidc::ClientRow;

/// The query of `GET /oauth2/authorize`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    /// The client.
    pub client_id: Option<String>,
    /// Where to answer.
    pub redirect_uri: Option<String>,
    /// Must be `code`.
    pub response_type: Option<String>,
    /// Space-separated, with `openid`.
    pub scope: Option<String>,
    /// Echoed back.
    pub state: Option<String>,
    /// Put in the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
    /// `none`, `login`, `consent`.
    pub prompt: Option<String>,
    /// Seconds since authentication allowed.
    pub max_age: Option<String>,
    /// Requested assurance (space-separated).
    pub acr_values: Option<String>,
    /// A hint for the sign-in name.
    pub login_hint: Option<String>,
    /// Preferred languages.
    pub ui_locales: Option<String>,
    /// A pushed request (RFC 9126) to use instead of these parameters.
    pub request_uri: Option<String>,
    /// A request object (not supported).
    pub request: Option<String>,
    /// The resource server the access token is for (RFC 8707); the API when absent.
    pub resource: Option<String>,
    /// The DPoP key the code is bound to (RFC 9449 §10): a JWK thumbprint.
    pub dpop_jkt: Option<String>,
    /// The ID token of the session the client expects (Core §3.1.2.1).
    pub id_token_hint: Option<String>,
}

/// The page language a request asks for: English when `ui_locales` prefers it.
pub fn page_lang(req: &AuthorizeRequest) -> Option<&'static str> {
    let first = req
        .ui_locales
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .find(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("vi") || l.starts_with("en")
        })?;
    first.to_ascii_lowercase().starts_with("en").then_some("en")
}

/// Why a request cannot go on.
#[derive(Debug)]
pub enum Rejection {
    /// The client or its redirect URI is not trusted: say so, never redirect.
    Untrusted(Code, &'static str),
    /// An error for the client, at its (checked) redirect URI.
    ToClient(&'static str, String),
}

/// What a checked request asks for.
#[derive(Debug)]
pub struct Checked {
    /// The registered redirect URI it named.
    pub redirect_uri: String,
    /// The scopes.
    pub scopes: BTreeSet<String>,
    /// `prompt` values.
    pub prompt: BTreeSet<String>,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
}

/// The `prompt` values and `max_age` of a request, checked.
fn prompt_and_max_age(
    req: &AuthorizeRequest,
) -> Result<(BTreeSet<String>, Option<i64>), Rejection> {
    let to_client = |error: &'static str, description: &str| {
        Err(Rejection::ToClient(error, description.to_owned()))
    };
    let prompt: BTreeSet<String> = req
        .prompt
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if prompt.contains("none") && prompt.len() > 1 {
        return to_client("invalid_request", "prompt=none cannot be combined");
    }
    if let Some(p) = prompt
        .iter()
        .find(|p| !matches!(p.as_str(), "none" | "login" | "consent"))
    {
        return to_client("invalid_request", &format!("prompt={p} is not supported"));
    }
    let max_age = match req.max_age.as_deref() {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(v) if v >= 0 => Some(v),
            _ => return to_client("invalid_request", "max_age must be a non-negative integer"),
        },
    };
    Ok((prompt, max_age))
}

/// Checks an authorization request against its client's registration (also
/// used for pushed requests, whose errors are answered directly).
pub fn check_request(client: &ClientRow, req: &AuthorizeRequest) -> Result<Checked, Rejection> {
    let Some(redirect_uri) = req
        .redirect_uri
        .as_deref()
        .filter(|u| client.redirect_uris.iter().any(|r| r == u))
    else {
        return Err(Rejection::Untrusted(
            Code::InvalidRedirectUriPage,
            "Địa chỉ chuyển hướng không khớp với địa chỉ đã đăng ký của ứng dụng.",
        ));
    };
    let to_client = |error: &'static str, description: &str| {
        Err(Rejection::ToClient(error, description.to_owned()))
    };
    if req.request.is_some() {
        return to_client(
            "request_not_supported",
            "request objects are not supported; use PAR",
        );
    }
    if req.response_type.as_deref() != Some("code") {
        return to_client(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    let scopes: BTreeSet<String> = req
        .scope
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if !scopes.contains("openid") {
        return to_client("invalid_scope", "the openid scope is required");
    }
    if let Some(s) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return to_client(
            "invalid_scope",
            &format!("scope {s} is not allowed for this client"),
        );
    }
    match (
        req.code_challenge.as_deref(),
        req.code_challenge_method.as_deref(),
    ) {
        (Some(c), Some("S256")) if crate::domain::oauth::pkce::valid_challenge(c) => {}
        // An exempted confidential client may leave PKCE out (not get it wrong).
        (None, None) if !client.pkce_required => {}
        _ => {
            return to_client(
                "invalid_request",
                "PKCE with code_challenge_method=S256 is required",
            );
        }
    }
    if req.dpop_jkt.as_deref().is_some_and(|jkt| {
        jkt.len() != 43
            || !jkt
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return to_client(
            "invalid_request",
            "dpop_jkt must be a JWK SHA-256 thumbprint",
        );
    }
    let (prompt, max_age) = prompt_and_max_age(req)?;
    Ok(Checked {
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        prompt,
        max_age,
    })
}
