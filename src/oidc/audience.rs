//! Audiences of access tokens (RFC 8707 resource indicators): our JSON API
//! by default, or a resource server an administrator registered (a client
//! with `--resource-server AUDIENCE`). A token names exactly one audience;
//! our API takes only its own, and a resource server introspects only its own.

use crate::infra::Core;
use crate::{
    error::AppResult,
    oidc::{jwt::api_audience, token::OAuthError},
    storage::oidc as store,
};

/// The audience a request for `resource` gets: the API's when none is
/// named, the named one when it is the API or a registered resource server,
/// `None` when nobody is registered for it (RFC 8707 `invalid_target`).
pub async fn resolve(state: &Core, resource: Option<&str>) -> AppResult<Option<String>> {
    let api = api_audience(state);
    let Some(resource) = resource else {
        return Ok(Some(api));
    };
    if resource == api {
        return Ok(Some(api));
    }
    if resource.is_empty() || resource.len() > 500 || resource.contains('#') {
        return Ok(None);
    }
    let mut conn = state.db.get().await?;
    Ok(store::resource_audience_exists(&mut conn, resource)
        .await?
        .then(|| resource.to_owned()))
}

/// Whether an audience URI may be registered for a resource server: an
/// absolute https URI (http only on loopback, for development), without a
/// fragment (RFC 8707 §2).
pub fn valid_audience(raw: &str) -> bool {
    match url::Url::parse(raw) {
        Ok(url) if url.fragment().is_none() && raw.len() <= 500 => match url.scheme() {
            "https" => url.host_str().is_some(),
            "http" => matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
            _ => false,
        },
        _ => false,
    }
}

/// The audience of a code exchange: the `resource` of the token request
/// (`requested`), else the one of the authorization request (`granted`),
/// else the API. Both named and different, or unknown: `invalid_target`.
pub async fn for_code(
    state: &Core,
    granted: Option<&str>,
    requested: Option<&str>,
) -> Result<String, OAuthError> {
    if let (Some(g), Some(r)) = (granted, requested)
        && g != r
    {
        return Err(invalid_target(
            "resource differs from the authorization request's",
        ));
    }
    resolve(state, requested.or(granted))
        .await?
        .ok_or_else(|| invalid_target("no resource server is registered for this resource"))
}

/// RFC 8707 §2 `invalid_target`.
pub fn invalid_target(description: &str) -> OAuthError {
    OAuthError::new("invalid_target", description)
}
