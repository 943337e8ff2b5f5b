//! Pushed authorization requests (RFC 9126): a client posts its
//! authorization request to us directly (authenticated, checked at once, no
//! parameters in the browser's URL) and sends the browser with only a
//! `request_uri`. A `request_uri` works once and for 90 seconds; when the
//! person has to sign in first, the request continues under a fresh handle
//! that lives as long as a sign-in may take.

use redis::AsyncCommands;
use serde::Serialize;

use crate::infra::Core;
use crate::{
    crypto::tokens,
    error::{AppError, AppResult},
    oidc::{
        flow::{self, AuthorizeRequest, Rejection},
        token::OAuthError,
    },
    storage::oidc::ClientRow,
};

/// The prefix of our request URIs.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a pushed request waits for the browser.
pub const PUSHED_TTL_SECS: u64 = 90;
/// How long a request waits while the person signs in.
const CONTINUATION_TTL_SECS: u64 = 900;

/// The answer to a push (RFC 9126 §2.2).
#[derive(Debug, Serialize)]
pub struct Pushed {
    /// Where the browser goes, as `request_uri`.
    pub request_uri: String,
    /// Seconds it stays valid.
    pub expires_in: u64,
}

fn key(state: &Core, id: &str) -> String {
    state.kv.key(&format!("oidc_par:{}", tokens::hash_hex(id)))
}

async fn store(state: &Core, req: &AuthorizeRequest, ttl: u64) -> AppResult<String> {
    let id = tokens::generate();
    let body = serde_json::to_string(req).map_err(AppError::internal)?;
    let mut kv = state.kv.conn().await?;
    let _: () = kv.set_ex(key(state, &id), body, ttl).await?;
    Ok(format!("{REQUEST_URI_PREFIX}{id}"))
}

/// Checks and keeps a pushed request of the authenticated `client`.
pub async fn push(
    state: &Core,
    client: &ClientRow,
    mut req: AuthorizeRequest,
) -> Result<Pushed, OAuthError> {
    if req.request_uri.is_some() {
        return Err(OAuthError::new(
            "invalid_request",
            "request_uri cannot be pushed",
        ));
    }
    if req
        .client_id
        .as_deref()
        .is_some_and(|id| id != client.client_id)
    {
        return Err(OAuthError::new(
            "invalid_request",
            "client_id does not match the authenticated client",
        ));
    }
    req.client_id = Some(client.client_id.clone());
    match flow::check_request(client, &req) {
        Ok(_) => {}
        Err(Rejection::Untrusted(_, _)) => {
            return Err(OAuthError::new(
                "invalid_request",
                "redirect_uri is not registered for this client",
            ));
        }
        Err(Rejection::ToClient(error, description)) => {
            return Err(OAuthError::new(error, description));
        }
    }
    Ok(Pushed {
        request_uri: store(state, &req, PUSHED_TTL_SECS).await?,
        expires_in: PUSHED_TTL_SECS,
    })
}

/// Takes the pushed request behind `request_uri` (once), if it is the client's and still valid.
pub async fn resolve(
    state: &Core,
    client: &ClientRow,
    request_uri: &str,
) -> AppResult<Option<AuthorizeRequest>> {
    let Some(id) = request_uri.strip_prefix(REQUEST_URI_PREFIX) else {
        return Ok(None);
    };
    if !tokens::well_formed(id) {
        return Ok(None);
    }
    let mut kv = state.kv.conn().await?;
    let raw: Option<String> = redis::cmd("GETDEL")
        .arg(key(state, id))
        .query_async(&mut kv)
        .await?;
    Ok(raw
        .and_then(|r| serde_json::from_str::<AuthorizeRequest>(&r).ok())
        .filter(|r| r.client_id.as_deref() == Some(client.client_id.as_str())))
}

/// Keeps `req` while the person signs in; returns the authorization URL to come back to.
pub async fn continuation(
    state: &Core,
    client: &ClientRow,
    req: &AuthorizeRequest,
) -> AppResult<String> {
    let uri = store(state, req, CONTINUATION_TTL_SECS).await?;
    let query = serde_urlencoded::to_string([
        ("client_id", client.client_id.as_str()),
        ("request_uri", uri.as_str()),
    ])
    .map_err(AppError::internal)?;
    Ok(format!("/oauth2/authorize?{query}"))
}
