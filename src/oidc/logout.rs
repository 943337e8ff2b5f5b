//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the client
//! sends the browser to the end-session endpoint; after the person confirms,
//! the session ends and the browser goes back to a post-logout URI the client
//! registered (exactly), with the client's `state`.

use jsonwebtoken::Validation;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use crate::error::Code;
use crate::infra::Core;
use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    error::{AppError, AppResult},
    storage::oidc as store,
};

/// The query of the end-session endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EndSessionRequest {
    /// An ID token we issued to the client (expired ones are accepted).
    pub id_token_hint: Option<String>,
    /// The client, when no ID token is given.
    pub client_id: Option<String>,
    /// Where to go afterwards (must be registered).
    pub post_logout_redirect_uri: Option<String>,
    /// Echoed back.
    pub state: Option<String>,
}

/// A logout waiting for confirmation (kept in Redis, 10 minutes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogout {
    /// The client asking, if known.
    pub client_id: Option<String>,
    /// Where to go after, already checked against the registration.
    pub redirect: Option<String>,
}

fn bad(detail: &str) -> AppError {
    AppError::from(Code::InvalidLogoutRequest).with_detail(detail.to_owned())
}

/// Whom an ID token of ours names: its client and subject.
#[derive(Deserialize)]
struct Hinted {
    aud: String,
    sub: String,
}

/// The client an ID token was issued to, if it is one of ours (signature checked; expiry not).
async fn audience_of(state: &Provider, id_token: &str) -> AppResult<Option<String>> {
    Ok(hinted(state, id_token).await?.map(|h| h.aud))
}

/// Whether `id_token` (an `id_token_hint`) is ours, for `client`, and
/// names `account` (Core §3.1.2.1; its expiry does not matter).
pub async fn hint_names(
    state: &Provider,
    client: &crate::storage::oidc::ClientRow,
    id_token: &str,
    account: uuid::Uuid,
) -> AppResult<bool> {
    let Some(hint) = hinted(state, id_token).await? else {
        return Ok(false);
    };
    Ok(hint.aud == client.client_id
        && hint.sub == crate::oidc::subject::subject(state, client, account).await?)
}

async fn hinted(state: &Provider, id_token: &str) -> AppResult<Option<Hinted>> {
    let Ok(header) = jsonwebtoken::decode_header(id_token) else {
        return Ok(None);
    };
    let Some(kid) = header.kid else {
        return Ok(None);
    };
    // The same cached keys that verify access tokens.
    let Some((_, key)) = crate::oidc::keys::verifier(state, &kid).await? else {
        return Ok(None);
    };
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[state.settings.issuer()]);
    Ok(jsonwebtoken::decode::<Hinted>(id_token, &key, &validation)
        .ok()
        .map(|d| d.claims))
}

fn pending_key(state: &Core, id: &str) -> String {
    state
        .kv
        .key(&format!("oidc_logout:{}", tokens::hash_hex(id)))
}

/// Checks a logout request and keeps it until the person confirms; returns its id.
pub async fn start(
    state: &Provider,
    req: &EndSessionRequest,
) -> AppResult<(String, PendingLogout)> {
    let hinted = match &req.id_token_hint {
        Some(token) => Some(
            audience_of(state, token)
                .await?
                .ok_or_else(|| bad("id_token_hint không hợp lệ."))?,
        ),
        None => None,
    };
    let client_id = match (hinted, &req.client_id) {
        (Some(a), Some(c)) if &a != c => {
            return Err(bad("client_id không khớp với id_token_hint."));
        }
        (Some(a), _) => Some(a),
        (None, c) => c.clone(),
    };
    let redirect = match (&req.post_logout_redirect_uri, &client_id) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(bad(
                "Cần id_token_hint hoặc client_id để chuyển hướng sau khi đăng xuất.",
            ));
        }
        (Some(uri), Some(client_id)) => {
            let mut conn = state.db.get().await?;
            let client = store::client(&mut conn, client_id)
                .await?
                .ok_or_else(|| bad("Ứng dụng không được đăng ký."))?;
            if !client.post_logout_redirect_uris.iter().any(|u| u == uri) {
                return Err(bad(
                    "Địa chỉ chuyển hướng sau đăng xuất chưa được ứng dụng đăng ký.",
                ));
            }
            let mut url =
                url::Url::parse(uri).map_err(|_| bad("Địa chỉ chuyển hướng không hợp lệ."))?;
            if let Some(s) = &req.state {
                url.query_pairs_mut().append_pair("state", s);
            }
            Some(url.to_string())
        }
    };
    let pending = PendingLogout {
        client_id,
        redirect,
    };
    let id = tokens::generate();
    let mut kv = state.kv.conn().await?;
    let body = serde_json::to_string(&pending).map_err(AppError::internal)?;
    let _: () = kv.set_ex(pending_key(state, &id), body, 600).await?;
    Ok((id, pending))
}

/// Takes a pending logout (it works once).
pub async fn take(state: &Core, id: &str) -> AppResult<Option<PendingLogout>> {
    if !tokens::well_formed(id) {
        return Ok(None);
    }
    let mut kv = state.kv.conn().await?;
    let raw: Option<String> = redis::cmd("GETDEL")
        .arg(pending_key(state, id))
        .query_async(&mut kv)
        .await?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}
