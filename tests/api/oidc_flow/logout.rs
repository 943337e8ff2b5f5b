//! RP-initiated logout: only to a registered post-logout URI, confirmed by
//! a form (a GET alone does not sign out), announced in discovery.

use serde_json::Value;

use super::{REDIRECT, SECRET, provider, register_client, tokens_for};
use crate::helpers::{TestApp, input_value};

#[tokio::test]
async fn rp_initiated_logout_ends_the_session_and_returns_to_a_registered_uri() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    register_client(
        &app,
        "cong-logout",
        &["openid"],
        Some("http://127.0.0.1:9/bye"),
    )
    .await;
    app.signed_in_citizen(7).await;
    let tokens = tokens_for(&app, "cong-logout", SECRET, REDIRECT, "openid").await;
    let hint = tokens["id_token"].as_str().expect("id token").to_owned();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();

    let res = app
        .get(&format!(
            "/oauth2/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
            enc("https://evil.example/")
        ))
        .await;
    assert_eq!(res.status(), 400, "only registered post-logout URIs");

    let page = app
        .get(&format!(
            "/oauth2/logout?id_token_hint={hint}&post_logout_redirect_uri={}&state=xyz",
            enc("http://127.0.0.1:9/bye")
        ))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("cong-logout"), "{page}");
    assert_eq!(
        app.get("/api/v1/me").await.status(),
        200,
        "a GET alone does not sign out"
    );
    let res = app
        .client
        .post(app.url("/oauth2/logout"))
        .form(&[
            (
                "logout_id",
                input_value(&page, "logout_id").expect("id").as_str(),
            ),
            (
                "csrf_token",
                input_value(&page, "csrf_token").expect("csrf").as_str(),
            ),
            ("decision", "logout"),
        ])
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "http://127.0.0.1:9/bye?state=xyz"
    );
    assert_eq!(app.get("/api/v1/me").await.status(), 401);
    let discovery: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        discovery["end_session_endpoint"],
        format!("{}/oauth2/logout", app.address)
    );
}
