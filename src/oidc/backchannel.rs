//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when a
//! browser session ends, every client that received tokens in it and
//! registered a `backchannel_logout_uri` is told so with a signed logout
//! token. Notices go through the outbox, queued when the session ends
//! (`identity::session_end`), so a slow or unreachable client gets its notice later (with
//! retries) instead of never; the token is signed at delivery time, so a
//! late delivery still carries a fresh, short-lived token.

use chrono::Duration;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::oidc::Provider;
use crate::{
    crypto::tokens,
    notify::mailer::DeliveryError,
    oidc::{clients, jwt, subject, token},
};

/// A logout token lives this long (the client checks `iat`/`exp`).
const LOGOUT_TOKEN_TTL: Duration = Duration::minutes(2);
/// The event a logout token carries.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

#[derive(Serialize)]
struct LogoutClaims {
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    jti: String,
    sub: String,
    sid: String,
    events: serde_json::Value,
}

fn failed(detail: String, retryable: bool) -> DeliveryError {
    DeliveryError { detail, retryable }
}

/// Delivers one logout notice; the answer is recorded as the job's outcome.
pub async fn deliver(
    state: &Provider,
    client_id: &str,
    sid: &str,
    account: Uuid,
) -> Result<String, DeliveryError> {
    let unavailable = |e: crate::error::AppError| failed(format!("unavailable: {e}"), true);
    let Some(client) = clients::find(state, client_id).await.map_err(unavailable)? else {
        return Ok("the client was deleted; nothing to tell".into());
    };
    let Some(uri) = client.backchannel_logout_uri.as_deref() else {
        return Ok("the client has no back-channel logout URI".into());
    };
    let now = state.clock.now();
    let claims = LogoutClaims {
        iss: state.settings.issuer(),
        aud: client.client_id.clone(),
        iat: now.timestamp(),
        exp: (now + LOGOUT_TOKEN_TTL).timestamp(),
        jti: tokens::generate(),
        sub: subject::subject(state, &client, account)
            .await
            .map_err(unavailable)?,
        sid: sid.to_owned(),
        events: json!({ LOGOUT_EVENT: {} }),
    };
    let token = jwt::sign(state, token::id_token_alg(&client), "logout+jwt", &claims)
        .await
        .map_err(unavailable)?;
    let response = state
        .http
        .post(uri)
        .header(reqwest::header::CACHE_CONTROL, "no-store")
        .form(&[("logout_token", token.as_str())])
        .send()
        .await
        .map_err(|e| failed(format!("POST failed: {}", without_url(&e)), true))?;
    let status = response.status();
    if status.is_success() {
        Ok(format!("{}: logout notice accepted", status.as_u16()))
    } else {
        // The client refusing the token (400) will refuse it again; anything
        // else (5xx, 429, 408) may be a passing trouble.
        let retryable = !status.is_client_error() || matches!(status.as_u16(), 408 | 425 | 429);
        Err(failed(
            format!("{}: the client refused the logout notice", status.as_u16()),
            retryable,
        ))
    }
}

/// A transport error without the URL (it is the client's, but keep logs lean).
fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "<backchannel_logout_uri>");
    }
    if err.is_timeout() {
        "timed out".into()
    } else if err.is_connect() {
        format!("could not connect ({text})")
    } else {
        text
    }
}
