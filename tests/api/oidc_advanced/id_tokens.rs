//! ID tokens: ES256 when a client asks for it (verified by our JWKS and by
//! the openidconnect crate), RS256 otherwise; pairwise subjects shared
//! within a sector only.

use eservices::oidc::clients::{NewClient, register};
use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::{claims_of, verify_with_jwks};
use crate::{
    helpers::TestApp,
    oidc_flow::{REDIRECT, SECRET, provider, tokens_for},
};

/// Registers a confidential client of `sector` signing ID tokens with `alg`.
async fn secret_client(app: &TestApp, id: &str, sector: Option<&str>, alg: Option<&str>) {
    register(
        &app.state,
        NewClient {
            client_id: id.into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(SECRET.into()),
            scopes: vec!["openid".into()],
            sector_identifier: sector.map(str::to_owned),
            id_token_alg: alg.map(str::to_owned),
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
}

#[tokio::test]
async fn es256_id_tokens_on_request_and_pairwise_subjects_per_sector() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    secret_client(&app, "tu-phap-a", Some("so-tu-phap"), Some("ES256")).await;
    secret_client(&app, "tu-phap-b", Some("so-tu-phap"), None).await;
    secret_client(&app, "xay-dung", None, None).await;
    app.signed_in_citizen(32).await;

    let a = tokens_for(&app, "tu-phap-a", SECRET, REDIRECT, "openid").await;
    let b = tokens_for(&app, "tu-phap-b", SECRET, REDIRECT, "openid").await;
    let c = tokens_for(&app, "xay-dung", SECRET, REDIRECT, "openid").await;
    let id_a = a["id_token"].as_str().expect("id token");
    assert_eq!(
        jsonwebtoken::decode_header(id_a).expect("header").alg,
        Algorithm::ES256
    );
    assert_eq!(
        jsonwebtoken::decode_header(b["id_token"].as_str().expect("id"))
            .expect("header")
            .alg,
        Algorithm::RS256
    );
    let claims_a = verify_with_jwks(&app, id_a, "tu-phap-a").await;
    assert_eq!(claims_a["nonce"], "n1");
    // The openidconnect crate accepts the ES256 ID token too.
    let (metadata, _) = {
        let http = openidconnect::reqwest::ClientBuilder::new()
            .build()
            .expect("http");
        let metadata = openidconnect::core::CoreProviderMetadata::discover_async(
            openidconnect::IssuerUrl::new(app.address.clone()).expect("issuer"),
            &http,
        )
        .await
        .expect("discovery");
        (metadata, http)
    };
    let rp = openidconnect::core::CoreClient::from_provider_metadata(
        metadata,
        openidconnect::ClientId::new("tu-phap-a".into()),
        Some(openidconnect::ClientSecret::new(SECRET.into())),
    );
    let id_token: openidconnect::core::CoreIdToken = id_a.parse().expect("id token");
    id_token
        .claims(
            &rp.id_token_verifier(),
            &openidconnect::Nonce::new("n1".into()),
        )
        .expect("the library verifies our ES256 ID token");

    let sub = |t: &Value| claims_of(t["id_token"].as_str().expect("id"))["sub"].clone();
    assert_eq!(sub(&a), sub(&b), "one sector, one subject");
    assert_ne!(sub(&a), sub(&c), "another sector cannot join");
    let me: Value = app.get("/api/v1/me").await.json().await.expect("me");
    let account_id = me["id"].as_str().expect("the account id").to_owned();
    for t in [&a, &b, &c] {
        let s = sub(t);
        let s = s.as_str().expect("a subject");
        assert_ne!(s, account_id, "pairwise, not the account id");
        assert_eq!(s.len(), 43, "base64url of an HMAC-SHA-256");
    }
}
