//! The token endpoint (RFC 6749 §3.2, OpenID Connect Core §3.1.3): which
//! grant a request asks for. The grants live in [`crate::oidc::grant`], one
//! per file.

use crate::oidc::Provider;
use crate::{
    domain::oauth::GrantType,
    oidc::{
        error::OAuthError,
        grant::{
            authorization_code::{self, CodeRequest},
            client_credentials, refresh_token,
        },
    },
    storage::oidc::ClientRow,
};

pub use crate::domain::oauth::refresh::{REFRESH_REUSE_GRACE, REFRESH_TOKEN_TTL};
pub use crate::oidc::grant::TokenResponse;

/// The parameters of a token request (after client authentication).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenRequest<'a> {
    /// `grant_type`.
    pub grant_type: Option<&'a str>,
    /// `code` (authorization_code).
    pub code: Option<&'a str>,
    /// `redirect_uri` (authorization_code).
    pub redirect_uri: Option<&'a str>,
    /// `code_verifier` (authorization_code).
    pub code_verifier: Option<&'a str>,
    /// `refresh_token` (refresh_token).
    pub refresh_token: Option<&'a str>,
    /// `scope` (refresh_token, client_credentials).
    pub scope: Option<&'a str>,
    /// RFC 8707 `resource`.
    pub resource: Option<&'a str>,
    /// The DPoP key the request proved it holds (RFC 9449), if any.
    pub dpop_jkt: Option<&'a str>,
}

/// Runs the grant `req` asks for, for the authenticated `client`.
pub async fn exchange(
    state: &Provider,
    client: &ClientRow,
    req: TokenRequest<'_>,
) -> Result<TokenResponse, OAuthError> {
    let raw = req
        .grant_type
        .ok_or_else(|| OAuthError::new("invalid_request", "grant_type is required"))?;
    let grant = GrantType::parse(raw).ok_or_else(|| {
        OAuthError::new(
            "unsupported_grant_type",
            "supported: authorization_code, refresh_token, client_credentials",
        )
    })?;
    match grant {
        GrantType::AuthorizationCode => {
            let code = CodeRequest {
                code: req.code,
                redirect_uri: req.redirect_uri,
                code_verifier: req.code_verifier,
                resource: req.resource,
                jkt: req.dpop_jkt,
            };
            authorization_code::exchange(state, client, code).await
        }
        GrantType::RefreshToken if req.resource.is_some() => Err(OAuthError::new(
            "invalid_target",
            "refreshed tokens are for the API; ask for another resource in the authorization request",
        )),
        GrantType::RefreshToken => {
            refresh_token::exchange(state, client, req.refresh_token, req.scope, req.dpop_jkt).await
        }
        GrantType::ClientCredentials => {
            client_credentials::issue(state, client, req.scope, req.resource, req.dpop_jkt).await
        }
    }
}
