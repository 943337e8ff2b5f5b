//! The provider against an independent relying-party implementation: npm's
//! certified `openid-client`, run as an integrator would run it
//! (tests/support/rp/rp.mjs): discovery, code + PKCE, ID token, UserInfo,
//! refresh, introspection, revocation, RP-initiated logout; and a second client
//! with pushed authorization requests, private_key_jwt and ES256 ID tokens.

use serde_json::Value;

use crate::helpers::{Citizen, TestApp};

#[tokio::test]
async fn openid_client_from_npm_runs_a_whole_sign_in_life_against_us() {
    let app = TestApp::spawn().await;
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    let secret = "independent-rp-secret-0123456789-abcdef";
    eservices::oidc::clients::register(
        &app.state,
        eservices::oidc::clients::NewClient {
            client_id: "he-thong-doc-lap".into(),
            redirect_uris: vec!["http://127.0.0.1:9/callback".into()],
            post_logout_redirect_uris: vec!["http://127.0.0.1:9/signed-out".into()],
            secret: Some(secret.into()),
            scopes: ["openid", "profile", "email", "account", "offline_access"]
                .map(str::to_owned)
                .to_vec(),
            // The script introspects its API tokens: only a resource server of the API may.
            resource_audience: Some(eservices::oidc::jwt::api_audience(&app.state)),
            ..Default::default()
        },
    )
    .await
    .expect("client");
    let private_jwk = a_key_client_registered(&app, "he-thong-khoa", None).await;
    let fapi_jwk = a_key_client_registered(&app, "he-thong-fapi", Some("fapi2")).await;
    eservices::oidc::clients::register(
        &app.state,
        eservices::oidc::clients::NewClient {
            client_id: "ung-dung-di-dong".into(),
            redirect_uris: vec!["http://127.0.0.1:9/callback".into()],
            public: true,
            scopes: ["openid", "account", "offline_access"]
                .map(str::to_owned)
                .to_vec(),
            dpop: Some("required".into()),
            ..Default::default()
        },
    )
    .await
    .expect("app");
    let citizen = Citizen::sample(1);
    app.active_citizen(&citizen).await;

    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/rp/rp.mjs");
    // Async: the test's runtime drives connections the app shares (a blocking wait would stall them).
    let out = tokio::process::Command::new("node")
        .arg(script)
        .env("ISSUER", &app.address)
        .env("CLIENT_ID", "he-thong-doc-lap")
        .env("CLIENT_SECRET", secret)
        .env("REDIRECT_URI", "http://127.0.0.1:9/callback")
        .env("POST_LOGOUT_REDIRECT_URI", "http://127.0.0.1:9/signed-out")
        .env("USERNAME", &citizen.national_id)
        .env("PASSWORD", &citizen.password)
        .env("KEY_CLIENT_ID", "he-thong-khoa")
        .env("KEY_CLIENT_JWK", private_jwk.to_string())
        .env("APP_CLIENT_ID", "ung-dung-di-dong")
        .env("FAPI_CLIENT_ID", "he-thong-fapi")
        .env("FAPI_CLIENT_JWK", fapi_jwk.to_string())
        .output()
        .await
        .expect("node runs (npm ci --prefix tests/support/rp)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(seen["id_token_nonce_ok"], true);
    assert_eq!(seen["acr"], "urn:vn:hcm:eservices:loa:1");
    assert_eq!(seen["userinfo_sub"], seen["sub"]);
    assert_eq!(seen["userinfo_name"], "Nguyễn Văn An");
    assert_eq!(seen["userinfo_email"], citizen.email.as_str());
    assert_eq!(seen["refreshed_rotated"], true);
    assert_eq!(seen["introspection_active"], true);
    assert_eq!(seen["introspection_client_id"], "he-thong-doc-lap");
    assert_eq!(seen["revoked_refresh_active"], false);
    assert_eq!(seen["par_request_uri_only"], true);
    assert_eq!(seen["key_client_id_token_alg"], "ES256");
    assert_eq!(seen["key_client_nonce_ok"], true);
    assert_ne!(seen["key_client_sub"], seen["sub"], "pairwise per client");
    // The mobile app, DPoP through and through.
    assert_eq!(
        seen["app_token_type"], "dpop",
        "openid-client lower-cases it"
    );
    assert_eq!(seen["app_me_status"], 200);
    assert_eq!(seen["app_userinfo_sub_ok"], true);
    assert_eq!(seen["app_refreshed_token_type"], "dpop");
    assert_eq!(seen["app_refresh_rotated"], true);
    assert_eq!(seen["app_token_as_bearer_status"], 401);
    // The FAPI 2.0 system.
    assert_eq!(seen["fapi_token_type"], "dpop");
    assert_eq!(seen["fapi_nonce_ok"], true);
    assert_eq!(seen["fapi_me_status"], 200);
    assert_eq!(seen["logout_status"], 303);
    assert_eq!(
        seen["logout_location"],
        "http://127.0.0.1:9/signed-out?state=bye-state"
    );
}

/// A client with a key pair whose public half we register (PAR required,
/// ES256 ID tokens; the FAPI 2.0 profile when `profile` says so); its
/// private JWK, for the script.
async fn a_key_client_registered(app: &TestApp, client_id: &str, profile: Option<&str>) -> Value {
    let (private_jwk, public_jwks) = {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let point = secret.public_key().to_encoded_point(false);
        let public = serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": "rp-key-1",
            "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
            "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
        });
        let mut private = public.clone();
        private["d"] = URL_SAFE_NO_PAD.encode(secret.to_bytes()).into();
        (private, serde_json::json!({ "keys": [public] }))
    };
    eservices::oidc::clients::register(
        &app.state,
        eservices::oidc::clients::NewClient {
            client_id: client_id.into(),
            redirect_uris: vec!["http://127.0.0.1:9/callback".into()],
            scopes: vec!["openid".into(), "account".into()],
            profile: profile.map(str::to_owned),
            jwks: Some(public_jwks),
            id_token_alg: Some("ES256".into()),
            require_par: true,
            ..Default::default()
        },
    )
    .await
    .expect("key client");
    private_jwk
}
