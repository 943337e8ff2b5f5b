//! Tokens, refresh tokens and codes bound to the app's DPoP key.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;

use super::{
    APP, CALLBACK, DpopKey, bound_tokens, code, error_of, exchange, exchange_without_proof, nonce,
    register_app, token_request,
};
use crate::helpers::TestApp;

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

async fn refresh_with(app: &TestApp, token: &str, proofs: &[String]) -> reqwest::Response {
    token_request(
        app,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
        proofs,
    )
    .await
}

#[tokio::test]
async fn the_access_token_is_bound_to_the_proofs_key() {
    let app = TestApp::spawn().await;
    let (key, tokens) = bound_tokens(&app, 3101).await;
    assert_eq!(tokens["token_type"], "DPoP");
    let access = tokens["access_token"].as_str().expect("access token");
    assert_eq!(payload(access)["cnf"]["jkt"], key.jkt());
    assert!(tokens["refresh_token"].is_string());
}

#[tokio::test]
async fn a_client_that_requires_dpop_gets_nothing_without_a_proof() {
    let app = TestApp::spawn().await;
    register_app(&app, "required").await;
    let code = code(&app, 3102, "").await;
    let res = exchange_without_proof(&app, &code).await;
    assert_eq!(res.status(), 400);
    assert_eq!(error_of(res).await, "invalid_dpop_proof");
}

#[tokio::test]
async fn an_optional_client_without_a_proof_gets_bearer_tokens() {
    let app = TestApp::spawn().await;
    register_app(&app, "optional").await;
    let code = code(&app, 3103, "").await;
    let res = exchange_without_proof(&app, &code).await;
    let tokens: Value = res.json().await.expect("json");
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(payload(tokens["access_token"].as_str().expect("at"))["cnf"].is_null());
}

#[tokio::test]
async fn a_stolen_refresh_token_is_useless_without_the_key() {
    let app = TestApp::spawn().await;
    let (key, tokens) = bound_tokens(&app, 3104).await;
    let refresh = tokens["refresh_token"].as_str().expect("refresh token");
    let url = app.url("/oauth2/token");
    // The thief has the token, not the key.
    let res = refresh_with(&app, refresh, &[]).await;
    assert_eq!(error_of(res).await, "invalid_dpop_proof");
    let thief = DpopKey::new();
    let thief_nonce = nonce(&app, &thief).await;
    let proof = thief.proof(&app, "POST", &url, Some(&thief_nonce), None);
    let res = refresh_with(&app, refresh, &[proof]).await;
    assert_eq!(error_of(res).await, "invalid_dpop_proof");
    // The app, with its key, still refreshes (the attempts ended nothing).
    let nonce = nonce(&app, &key).await;
    let proof = key.proof(&app, "POST", &url, Some(&nonce), None);
    let res = refresh_with(&app, refresh, &[proof]).await;
    assert_eq!(res.status(), 200);
    let renewed: Value = res.json().await.expect("json");
    assert_eq!(renewed["token_type"], "DPoP");
    let access = renewed["access_token"].as_str().expect("at");
    assert_eq!(payload(access)["cnf"]["jkt"], key.jkt());
    // Its successor is bound to the same key.
    let successor = renewed["refresh_token"].as_str().expect("successor");
    let res = refresh_with(&app, successor, &[]).await;
    assert_eq!(error_of(res).await, "invalid_dpop_proof");
}

#[tokio::test]
async fn dpop_jkt_at_the_authorization_endpoint_binds_the_code() {
    let app = TestApp::spawn().await;
    register_app(&app, "required").await;
    let key = DpopKey::new();
    let other = DpopKey::new();
    let code = code(&app, 3105, &format!("&dpop_jkt={}", key.jkt())).await;
    let res = exchange(&app, &other, &code).await;
    assert_eq!(res.status(), 400);
    assert_eq!(error_of(res).await, "invalid_dpop_proof");
    let code = super::code_for_signed_in(&app, &format!("&dpop_jkt={}", key.jkt())).await;
    let res = exchange(&app, &key, &code).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_pushed_request_with_a_proof_binds_the_code_to_its_key() {
    use sha2::Digest;
    let app = TestApp::spawn().await;
    register_app(&app, "required").await;
    app.signed_in_citizen(3106).await;
    let key = DpopKey::new();
    let nonce = nonce(&app, &key).await;
    let par_url = app.url("/oauth2/par");
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(
        "dpop-verifier-0123456789-0123456789-0123456789".as_bytes(),
    ));
    let res = app
        .client
        .post(&par_url)
        .header(
            "DPoP",
            key.proof(&app, "POST", &par_url, Some(&nonce), None),
        )
        .form(&[
            ("client_id", APP),
            ("response_type", "code"),
            ("redirect_uri", CALLBACK),
            ("scope", "openid account"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("par");
    assert_eq!(res.status(), 201);
    let pushed: Value = res.json().await.expect("json");
    let request_uri = pushed["request_uri"].as_str().expect("request_uri");
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut res = app
        .get(&format!(
            "/oauth2/authorize?client_id={APP}&request_uri={}",
            enc(request_uri)
        ))
        .await;
    if res.status() == 200 {
        let page = res.text().await.expect("consent");
        res = crate::oidc_flow::consent(&app, &page, "allow").await;
    }
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let code = crate::oidc_flow::query(&location, "code").expect("code");
    let res = exchange(&app, &DpopKey::new(), &code).await;
    assert_eq!(error_of(res).await, "invalid_dpop_proof", "another key");
}

#[tokio::test]
async fn revocation_ends_dpop_bound_tokens_without_a_proof() {
    let app = TestApp::spawn().await;
    let (key, tokens) = bound_tokens(&app, 3107).await;
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let access = tokens["access_token"].as_str().expect("access");
    for token in [refresh, access] {
        let res = app
            .client
            .post(app.url("/oauth2/revoke"))
            .form(&[("client_id", APP), ("token", token)])
            .send()
            .await
            .expect("revoke");
        assert_eq!(res.status(), 200);
    }
    let url = app.url("/oauth2/token");
    let nonce = nonce(&app, &key).await;
    let proof = key.proof(&app, "POST", &url, Some(&nonce), None);
    let res = refresh_with(&app, refresh, &[proof]).await;
    assert_eq!(error_of(res).await, "invalid_grant");
    let me = app.url("/api/v1/me");
    let proof = key.proof(&app, "GET", &me, Some(&nonce), Some(access));
    let res = super::api_get(&app, "/api/v1/me", "DPoP", access, &[proof]).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn rp_initiated_logout_works_with_the_id_token_of_a_dpop_grant() {
    let app = TestApp::spawn().await;
    let (_key, tokens) = bound_tokens(&app, 3108).await;
    let id_token = tokens["id_token"].as_str().expect("id token");
    // The app posts its logout request (RP-Initiated Logout 1.0 §2: POST works as GET).
    let res = app
        .client
        .post(app.url("/oauth2/logout"))
        .form(&[("id_token_hint", id_token), ("client_id", APP)])
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 200);
    let page = res.text().await.expect("confirmation page");
    let res = app
        .client
        .post(app.url("/oauth2/logout"))
        .form(&[
            (
                "logout_id",
                crate::helpers::input_value(&page, "logout_id")
                    .expect("id")
                    .as_str(),
            ),
            (
                "csrf_token",
                crate::helpers::input_value(&page, "csrf_token")
                    .expect("csrf")
                    .as_str(),
            ),
            ("decision", "logout"),
        ])
        .send()
        .await
        .expect("confirm");
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.get("/api/v1/me").await.status(),
        401,
        "the session has ended"
    );
}
