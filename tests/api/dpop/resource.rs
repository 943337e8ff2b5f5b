//! The JSON API and UserInfo as DPoP resource servers (RFC 9449 §7).

use super::{DpopKey, api_get, bound_tokens, nonce};
use crate::helpers::TestApp;

fn challenge(res: &reqwest::Response) -> String {
    res.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_api_serves_a_dpop_bound_token_with_a_fresh_proof_of_its_key() {
    let app = TestApp::spawn().await;
    let (key, tokens) = bound_tokens(&app, 3201).await;
    let access = tokens["access_token"].as_str().expect("at");
    let nonce = nonce(&app, &key).await;
    let me = app.url("/api/v1/me");
    let proof = key.proof(&app, "GET", &me, Some(&nonce), Some(access));
    let res = api_get(
        &app,
        "/api/v1/me",
        "DPoP",
        access,
        std::slice::from_ref(&proof),
    )
    .await;
    assert_eq!(res.status(), 200);
    // The same proof again is a replay.
    let res = api_get(&app, "/api/v1/me", "DPoP", access, &[proof]).await;
    assert_eq!(res.status(), 401);
    assert!(challenge(&res).contains("invalid_dpop_proof"));
    // UserInfo too.
    let userinfo = app.url("/oauth2/userinfo");
    let proof = key.proof(&app, "GET", &userinfo, Some(&nonce), Some(access));
    let res = api_get(&app, "/oauth2/userinfo", "DPoP", access, &[proof]).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_dpop_bound_token_presented_as_bearer_is_refused() {
    let app = TestApp::spawn().await;
    let (_key, tokens) = bound_tokens(&app, 3202).await;
    let access = tokens["access_token"].as_str().expect("at");
    for path in ["/api/v1/me", "/oauth2/userinfo"] {
        let res = api_get(&app, path, "Bearer", access, &[]).await;
        assert_eq!(res.status(), 401, "{path}");
        let header = challenge(&res);
        assert!(
            header.starts_with("DPoP ") && header.contains("invalid_token"),
            "{header}"
        );
        assert!(header.contains("algs=\""), "{header}");
    }
}

#[tokio::test]
async fn without_a_server_nonce_the_api_gives_one_and_it_works() {
    let app = TestApp::spawn().await;
    let (key, tokens) = bound_tokens(&app, 3203).await;
    let access = tokens["access_token"].as_str().expect("at");
    let me = app.url("/api/v1/me");
    let proof = key.proof(&app, "GET", &me, None, Some(access));
    let res = api_get(&app, "/api/v1/me", "DPoP", access, &[proof]).await;
    assert_eq!(res.status(), 401);
    assert!(challenge(&res).contains("use_dpop_nonce"));
    let nonce = res.headers()["dpop-nonce"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let proof = key.proof(&app, "GET", &me, Some(&nonce), Some(access));
    let res = api_get(&app, "/api/v1/me", "DPoP", access, &[proof]).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_proof_of_another_key_or_without_ath_is_refused() {
    let app = TestApp::spawn().await;
    let (key, tokens) = bound_tokens(&app, 3204).await;
    let access = tokens["access_token"].as_str().expect("at");
    let nonce = nonce(&app, &key).await;
    let me = app.url("/api/v1/me");
    let thief = DpopKey::new();
    let cases = [
        (
            "another key",
            thief.proof(&app, "GET", &me, Some(&nonce), Some(access)),
        ),
        ("no ath", key.proof(&app, "GET", &me, Some(&nonce), None)),
        (
            "ath of another token",
            key.proof(&app, "GET", &me, Some(&nonce), Some("other")),
        ),
        (
            "wrong method",
            key.proof(&app, "POST", &me, Some(&nonce), Some(access)),
        ),
        (
            "another path",
            key.proof(
                &app,
                "GET",
                &app.url("/api/v1/dossiers"),
                Some(&nonce),
                Some(access),
            ),
        ),
    ];
    for (case, proof) in cases {
        let res = api_get(&app, "/api/v1/me", "DPoP", access, &[proof]).await;
        assert_eq!(res.status(), 401, "{case}");
        assert!(challenge(&res).contains("invalid_dpop_proof"), "{case}");
    }
    let res = api_get(&app, "/api/v1/me", "DPoP", access, &[]).await;
    assert_eq!(res.status(), 401, "no proof at all");
}

#[tokio::test]
async fn a_bearer_token_is_refused_under_the_dpop_scheme_and_401s_name_both_schemes() {
    let app = TestApp::spawn().await;
    super::register_app(&app, "optional").await;
    let res = TestApp::fresh_client()
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("api");
    assert_eq!(res.status(), 401);
    let header = challenge(&res);
    assert!(
        header.contains("Bearer") && header.contains("DPoP algs=\""),
        "{header}"
    );
    let code = super::code(&app, 3205, "").await;
    let res = super::exchange_without_proof(&app, &code).await;
    let tokens: serde_json::Value = res.json().await.expect("json");
    let bearer = tokens["access_token"].as_str().expect("bearer");
    let key = DpopKey::new();
    let proof = key.proof(&app, "GET", &app.url("/api/v1/me"), None, Some(bearer));
    let res = api_get(&app, "/api/v1/me", "DPoP", bearer, &[proof]).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        api_get(&app, "/api/v1/me", "Bearer", bearer, &[])
            .await
            .status(),
        200
    );
}
