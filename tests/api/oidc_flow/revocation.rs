//! Revocation (RFC 7009) and introspection (RFC 7662): revoked tokens are
//! refused everywhere, resource servers learn it by introspecting, unknown
//! tokens answer the same, and a malformed body is an OAuth error.

use serde_json::Value;

use super::{REDIRECT, SECRET, provider, refresh, register_client, tokens_for};
use crate::helpers::{OAuthError, TestApp};

#[tokio::test]
async fn revoked_tokens_are_refused_and_introspection_tells_resource_servers() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    register_client(
        &app,
        "app-offline",
        &["openid", "account", "offline_access"],
        None,
    )
    .await;
    app.signed_in_citizen(6).await;
    let tokens = tokens_for(
        &app,
        "app-offline",
        SECRET,
        REDIRECT,
        "openid account offline_access",
    )
    .await;
    let access = tokens["access_token"].as_str().expect("at").to_owned();
    let refresh_token = tokens["refresh_token"].as_str().expect("rt").to_owned();

    // Introspection is for resource servers: one registered for the API's audience.
    eservices::oidc::clients::register(
        &app.state,
        eservices::oidc::clients::NewClient {
            client_id: "cong-api".into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(SECRET.into()),
            resource_audience: Some(eservices::oidc::jwt::api_audience(&app.state)),
            ..Default::default()
        },
    )
    .await
    .expect("resource server");
    let info = introspect(&app, &access).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], "app-offline");
    assert_eq!(info["scope"], "account offline_access openid");
    assert_eq!(
        introspect(&app, "garbage").await,
        serde_json::json!({ "active": false })
    );

    revoked_tokens_are_refused(&app, &access, &refresh_token).await;

    // A malformed body is an OAuth error, not a page.
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("token");
    assert_eq!(OAuthError::read(res, 400).await.error, "invalid_request");
}

/// The resource server `cong-api` introspects `token`.
async fn introspect(app: &TestApp, token: &str) -> Value {
    let res = app
        .client
        .post(app.url("/oauth2/introspect"))
        .basic_auth("cong-api", Some(SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspect");
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.expect("json")
}

/// `app-offline` revokes `token`; the status.
async fn revoke(app: &TestApp, token: &str) -> reqwest::StatusCode {
    app.client
        .post(app.url("/oauth2/revoke"))
        .basic_auth("app-offline", Some(SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .expect("revoke")
        .status()
}

/// Revoked, the access token is inactive and refused by the API; the
/// refresh token no longer refreshes; unknown tokens answer the same.
async fn revoked_tokens_are_refused(app: &TestApp, access: &str, refresh_token: &str) {
    assert_eq!(revoke(app, access).await, 200);
    assert_eq!(
        revoke(app, "unknown-token").await,
        200,
        "unknown tokens answer the same"
    );
    assert_eq!(introspect(app, access).await["active"], false);
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(access)
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 401, "a revoked access token is refused");

    assert_eq!(revoke(app, refresh_token).await, 200);
    assert_eq!(
        refresh(app, "app-offline", refresh_token).await.status(),
        400
    );
}
