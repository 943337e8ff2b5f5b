//! Refresh tokens rotate and a reused one ends its whole family; withdrawn
//! consent ends them too; client credentials give a system token; a
//! replayed code revokes what it issued.

use serde_json::Value;

use super::{
    REDIRECT, SECRET, consent, location, provider, query, refresh, register_client, tokens_for,
};
use crate::helpers::{OAuthError, TestApp, Tokens};

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    register_client(
        &app,
        "app-offline",
        &["openid", "account", "offline_access", "dossiers"],
        None,
    )
    .await;
    app.signed_in_citizen(4).await;
    let first = tokens_for(
        &app,
        "app-offline",
        SECRET,
        REDIRECT,
        "openid account offline_access",
    )
    .await;
    let r1 = first["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    rotated_then_reused(&app, &r1).await;

    // Withdrawing consent ends refresh tokens as well.
    let third = tokens_for(
        &app,
        "app-offline",
        SECRET,
        REDIRECT,
        "openid account offline_access",
    )
    .await;
    let r3 = third["refresh_token"].as_str().expect("refresh").to_owned();
    assert_eq!(
        app.client
            .delete(app.url("/api/v1/connected-apps/app-offline"))
            .send()
            .await
            .expect("delete")
            .status(),
        204
    );
    assert_eq!(refresh(&app, "app-offline", &r3).await.status(), 400);

    client_credentials_give_a_system_token_without_a_person(&app).await;
}

/// `r1` rotates into a working successor; used again after the grace
/// period, it ends the whole family.
async fn rotated_then_reused(app: &TestApp, r1: &str) {
    let res = refresh(app, "app-offline", r1).await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.expect("json");
    let r2 = second["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(r1, r2);
    assert!(
        second.get("id_token").is_none(),
        "a refresh answers without an ID token (Core 12.2)"
    );
    let api = reqwest::Client::new();
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(second["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 200);

    // The old one again, after the grace period: the whole family ends.
    app.clock.advance(chrono::Duration::seconds(30));
    let res = refresh(app, "app-offline", r1).await;
    assert_eq!(OAuthError::read(res, 400).await.error, "invalid_grant");
    let res = refresh(app, "app-offline", &r2).await;
    assert_eq!(res.status(), 400, "the legitimate successor is revoked too");
}

/// Client credentials: a system token without a person, and no `openid`.
async fn client_credentials_give_a_system_token_without_a_person(app: &TestApp) {
    let client_credentials = |scope: &'static str| {
        app.client
            .post(app.url("/oauth2/token"))
            .basic_auth("app-offline", Some(SECRET))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
    };
    let res = client_credentials("dossiers").await.expect("cc");
    assert_eq!(res.status(), 200);
    let cc: Value = res.json().await.expect("json");
    assert!(cc.get("id_token").is_none() && cc.get("refresh_token").is_none());
    assert_eq!(cc["scope"], "dossiers");
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(cc["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 403, "a system token is no person");
    let res = client_credentials("openid").await.expect("cc");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "invalid_scope");
}

#[tokio::test]
async fn a_replayed_code_revokes_what_it_issued() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    register_client(&app, "app-offline", &["openid", "offline_access"], None).await;
    app.signed_in_citizen(5).await;

    use base64::Engine;
    use sha2::Digest;
    let verifier = "w".repeat(50);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let redirect = url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>();
    let page = app
        .get(&format!("/oauth2/authorize?response_type=code&client_id=app-offline&redirect_uri={redirect}&scope=openid%20offline_access&code_challenge={challenge}&code_challenge_method=S256"))
        .await
        .text()
        .await
        .expect("consent");
    let res = consent(&app, &page, "allow").await;
    let code = query(&location(&res), "code").expect("code");
    let exchange = || async {
        app.client
            .post(app.url("/oauth2/token"))
            .basic_auth("app-offline", Some(SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier.as_str()),
            ])
            .send()
            .await
            .expect("token")
    };
    let first = Tokens::read(exchange().await).await;
    assert_eq!(exchange().await.status(), 400, "a code works once");
    assert_eq!(
        refresh(&app, "app-offline", first.refresh()).await.status(),
        400,
        "and its replay revokes what it issued"
    );
}
