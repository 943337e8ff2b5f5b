//! Basic OP, the token endpoint over time: a code used twice (at once and
//! 30 seconds later) and refresh tokens bound to their client; and
//! `offline_access`, which needs consent given for it (Core §11).

use chrono::Duration;
use serde_json::Value;

use super::code_flow::{discovery, lists};
use super::{
    AuthRequest, CLIENT, ClientAuth, OTHER_CLIENT, Op, TokenSet, assert_error_text,
    assert_no_store, userinfo_claims,
};

/// An error answer of the token endpoint: 400, JSON, not cached,
/// `invalid_grant` with a well-formed description (RFC 6749 §5.2).
async fn invalid_grant(res: reqwest::Response) {
    assert_no_store(&res);
    let body: Value = crate::helpers::read_json(res, 400).await;
    assert_eq!(body["error"], "invalid_grant", "{body}");
    if let Some(description) = body["error_description"].as_str() {
        assert_error_text(description);
    }
    if let Some(uri) = body.get("error_uri") {
        url::Url::parse(uri.as_str().expect("a string")).expect("a URI");
    }
}

/// A code redeemed once, then again after `wait`: the replay is
/// `invalid_grant` and the access token the code bought stops working
/// (RFC 6749 §4.1.2: the OP SHOULD revoke what the code issued).
async fn code_reused_after(wait: Duration) {
    let op = Op::start().await;
    let req = AuthRequest::new(CLIENT);
    let callback = op.authorize(&req).await;
    let code = callback.code(&op, &req);
    let res = op.redeem(&req, &code, ClientAuth::SecretBasic).await;
    let tokens = TokenSet::read(res).await;
    let claims = op.id_token_claims(&tokens, &req).await;
    let sub = claims["sub"].as_str().expect("sub");
    userinfo_claims(op.userinfo(&tokens.access_token).await, sub).await;

    op.app.clock.advance(wait);
    invalid_grant(op.redeem(&req, &code, ClientAuth::SecretBasic).await).await;
    let res = op.userinfo(&tokens.access_token).await;
    assert_eq!(res.status(), 401, "the first access token is revoked");
    let challenge = res.headers()["www-authenticate"].to_str().expect("ascii");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
}

/// `oidcc-codereuse`.
#[tokio::test]
async fn oidcc_codereuse() {
    code_reused_after(Duration::zero()).await;
}

/// `oidcc-codereuse-30seconds`.
#[tokio::test]
async fn oidcc_codereuse_30seconds() {
    code_reused_after(Duration::seconds(30)).await;
}

/// One client's part of `oidcc-refresh-token`: signed in with
/// `offline_access` and `prompt=consent`, it gets a refresh token and, a
/// second later, uses it: new tokens for the same person; the refresh
/// token it may use next.
async fn refreshes(op: &Op, client_id: &str) -> String {
    let req = AuthRequest::new(client_id)
        .with("scope", "openid offline_access")
        .with("prompt", "consent");
    let (callback, tokens, first) = op.code_flow(&req).await;
    assert!(callback.consented, "prompt=consent asks");
    let refresh = tokens.refresh_token.clone().expect("a refresh token");
    assert!(refresh.len() >= 22, "128 bits at least (RFC 6749 §10.10)");

    op.app.clock.advance(Duration::seconds(1));
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("scope", "openid offline_access"),
    ];
    let res = op.token_request(client_id, ClientAuth::SecretBasic, &form);
    let renewed = TokenSet::read(res.await).await;
    assert_ne!(renewed.access_token, tokens.access_token);
    if let Some(id_token) = &renewed.id_token {
        let claims = super::claims_of(id_token);
        for name in ["iss", "sub", "aud", "auth_time", "azp"] {
            assert_eq!(claims.get(name), first.get(name), "{name} (Core §12.2)");
        }
    }
    let sub = first["sub"].as_str().expect("sub");
    userinfo_claims(op.userinfo(&renewed.access_token).await, sub).await;
    renewed.refresh_token.unwrap_or(refresh)
}

/// `oidcc-refresh-token`: refresh tokens work for the client they were
/// issued to, and another client presenting one gets `invalid_grant`.
#[tokio::test]
async fn oidcc_refresh_token() {
    let op = Op::start().await;
    let doc = discovery(&op).await;
    assert!(lists(&doc, "scopes_supported", "offline_access"));
    assert!(lists(&doc, "grant_types_supported", "refresh_token"));
    refreshes(&op, CLIENT).await;
    let others = refreshes(&op, OTHER_CLIENT).await;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", others.as_str()),
    ];
    let res = op.token_request(CLIENT, ClientAuth::SecretBasic, &form);
    invalid_grant(res.await).await;
}

/// `offline_access` needs consent given for it (Core §11: `prompt=consent`
/// MUST be used unless other conditions permit, and the OP MUST always
/// obtain consent to returning a refresh token). Consented with
/// `prompt=consent` once, a request without it must either ask again or
/// issue no refresh token.
#[tokio::test]
async fn oidcc_offline_access_needs_prompt_consent() {
    let op = Op::start().await;
    let offline = || AuthRequest::new(CLIENT).with("scope", "openid offline_access");
    let (callback, tokens, _) = op.code_flow(&offline().with("prompt", "consent")).await;
    assert!(callback.consented && tokens.refresh_token.is_some());

    let (callback, tokens, _) = op.code_flow(&offline()).await;
    assert!(
        callback.consented || tokens.refresh_token.is_none(),
        "offline access granted from remembered consent, without prompt=consent"
    );
}
