//! Scopes: `/api/v1/me` discloses to a bearer only what its scopes grant, and
//! scope `vault` is registrable and reaches the vault API.

use super::*;

#[tokio::test]
async fn bearer_callers_of_me_get_only_what_their_scopes_grant() {
    let app = app_with_a_representative().await;
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    let all = [
        "openid",
        "account",
        "profile",
        "email",
        "phone",
        "national_id",
        "business",
    ];
    confidential(&app, "cong-dan-so", &all, None).await;

    // A level-2 sign-in (VNeID), acting for a business it represents.
    assert_eq!(app.sign_in_with_vneid("rep").await.status(), 303);
    let business = crate::trust_business::acting_for_a_confirmed_business(&app).await;
    let session_me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    let account = session_me["id"]
        .as_str()
        .expect("the session sees its id")
        .to_owned();
    assert_eq!(
        session_me["national_id"], "079188000007",
        "a session sees all of its own"
    );
    let hidden = [account.as_str(), business.as_str()];
    scope_account_alone_reads_only_the_subject_and_level(&app, &hidden).await;
    wider_scopes_read_what_they_grant(&app, &hidden).await;

    // A level-1 account: scope national_id is not enough.
    let citizen = app.signed_in_citizen(43).await;
    let t = tokens(&app, "cong-dan-so", "openid account national_id email").await;
    let (status, text) = bearer_get(&app, "/api/v1/me", access(&t)).await;
    assert_eq!(status, 200);
    let me: Value = serde_json::from_str(&text).expect("json");
    assert!(me.get("national_id").is_none(), "{me}");
    assert_eq!(me["email"], citizen.email.as_str());
}

/// An app whose VNeID knows the representative `rep` (level 2).
async fn app_with_a_representative() -> TestApp {
    let rep = vneid_account(
        "rep",
        "vneid-sub-trust",
        "079188000007",
        "Trần Thị Đại Diện",
        "1988-04-04",
        "female",
    );
    TestApp::spawn_with(TestOptions {
        vneid: Some(VneidOptions {
            accounts: vec![rep],
            fail_with: None,
        }),
        env: vec![("VNEID_SCOPES", "openid profile national_id".to_owned())],
        ..TestOptions::default()
    })
    .await
}

/// The attack: a token with scope `account` alone read everything. Now it
/// reads the subject and level, and none of the `hidden` ids.
async fn scope_account_alone_reads_only_the_subject_and_level(app: &TestApp, hidden: &[&str]) {
    let narrow = tokens(app, "cong-dan-so", "openid account").await;
    let (status, text) = bearer_get(app, "/api/v1/me", access(&narrow)).await;
    assert_eq!(status, 200);
    assert!(!hidden.iter().any(|id| text.contains(id)), "{text}");
    let me: Value = serde_json::from_str(&text).expect("json");
    for field in [
        "id",
        "national_id",
        "full_name",
        "date_of_birth",
        "email",
        "phone",
        "businesses",
        "acting_for",
    ] {
        assert!(me.get(field).is_none(), "{field} without its scope: {me}");
    }
    assert_eq!(me["assurance_level"], 2);
    assert!(me["sub"].is_string());
}

/// Scopes profile, national_id and business read those (the business acted
/// for recovered from the sealed context), still none of the `hidden` ids,
/// nor email or phone; UserInfo agrees.
async fn wider_scopes_read_what_they_grant(app: &TestApp, hidden: &[&str]) {
    let wide = tokens(
        app,
        "cong-dan-so",
        "openid account profile national_id business",
    )
    .await;
    let (at_text, _) = payload(access(&wide));
    assert!(!hidden.iter().any(|id| at_text.contains(id)), "{at_text}");
    let (status, text) = bearer_get(app, "/api/v1/me", access(&wide)).await;
    assert_eq!(status, 200);
    assert!(!hidden.iter().any(|id| text.contains(id)), "{text}");
    let me: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        me["national_id"], "079188000007",
        "level 2 and scope national_id"
    );
    assert_eq!(me["full_name"], "Trần Thị Đại Diện");
    assert_eq!(me["businesses"][0]["tax_code"], "0100109106");
    assert_eq!(
        me["acting_for"]["tax_code"], "0100109106",
        "the sealed business is recovered"
    );
    assert!(
        me.get("email").is_none() && me.get("phone").is_none(),
        "{me}"
    );
    // UserInfo, with the same token, agrees.
    let (_, info) = bearer_get(app, "/oauth2/userinfo", access(&wide)).await;
    let info: Value = serde_json::from_str(&info).expect("json");
    assert_eq!(info["national_id"], me["national_id"]);
    assert_eq!(info["sub"], me["sub"]);
}

#[tokio::test]
async fn a_client_registered_with_scope_vault_reads_the_vault_with_its_tokens() {
    let app = TestApp::spawn().await;
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    // The administrator's command path, as for the mobile app (public, PKCE).
    let out = admin(
        &app,
        &[
            "client",
            "create",
            "--client-id",
            "so-tay-cong-dan",
            "--public",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid account vault",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.signed_in_citizen(44).await;

    let location = authorize(&app, "so-tay-cong-dan", REDIRECT, "openid vault", "").await;
    assert!(query(&location, "code").is_some(), "{location}");
    let (status, t) = exchange(&app, "so-tay-cong-dan", None, REDIRECT, &location, &[]).await;
    assert_eq!(status, 200, "{t}");
    let (status, body) = bearer_get(&app, "/api/v1/vault/records", access(&t)).await;
    assert_eq!(status, 200, "{body}");
    let records: Value = serde_json::from_str(&body).expect("json");
    assert!(records["items"].is_array(), "{records}");
    assert_eq!(
        bearer_get(&app, "/api/v1/vault/access-log", access(&t))
            .await
            .0,
        200
    );

    // Without the scope, the vault stays closed.
    let location = authorize(&app, "so-tay-cong-dan", REDIRECT, "openid account", "").await;
    let (_, t) = exchange(&app, "so-tay-cong-dan", None, REDIRECT, &location, &[]).await;
    assert_eq!(
        bearer_get(&app, "/api/v1/vault/records", access(&t))
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn the_demo_app_gets_the_vault_scope_also_when_it_was_seeded_before() {
    let app = TestApp::spawn().await;
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    let callback = "http://127.0.0.1:8765/callback";
    // As an earlier seed registered it.
    register(
        &app.state,
        NewClient {
            client_id: "dichvucong-app".into(),
            redirect_uris: vec![callback.into()],
            public: true,
            scopes: vec!["openid".into(), "account".into()],
            ..NewClient::default()
        },
    )
    .await
    .expect("old demo app");
    let catalog =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(eservices::seed::CATALOG_DIR);
    eservices::seed::run(&app.state.identity, &app.state.oidc, &catalog, true)
        .await
        .expect("seed");
    let mut conn = app.db().await;
    let row = eservices::storage::oidc::client(&mut conn, "dichvucong-app")
        .await
        .expect("query")
        .expect("client");
    assert!(row.scopes.iter().any(|s| s == "vault"), "{:?}", row.scopes);
    assert!(row.scopes.iter().any(|s| s == "account"));
    // The re-seed also makes the app's tokens DPoP-bound.
    assert_eq!(row.dpop, eservices::domain::oauth::DpopPolicy::Required);
    drop(conn);

    app.signed_in_citizen(45).await;
    let location = authorize(&app, "dichvucong-app", callback, "openid vault", "").await;
    let (status, t) = exchange(&app, "dichvucong-app", None, callback, &location, &[]).await;
    assert_eq!(
        (status, t["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let key = crate::dpop::DpopKey::new();
    let nonce = crate::dpop::nonce(&app, &key).await;
    let location = authorize(&app, "dichvucong-app", callback, "openid vault", "").await;
    let code = query(&location, "code").expect("code");
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .header(
            "DPoP",
            key.proof(&app, "POST", &app.url("/oauth2/token"), Some(&nonce), None),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", callback),
            ("code_verifier", super::VERIFIER),
            ("client_id", "dichvucong-app"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 200);
    let t: serde_json::Value = res.json().await.expect("json");
    let token = t["access_token"].as_str().expect("at");
    let records = app.url("/api/v1/vault/records");
    let proof = key.proof(&app, "GET", &records, Some(&nonce), Some(token));
    let res = crate::dpop::api_get(&app, "/api/v1/vault/records", "DPoP", token, &[proof]).await;
    assert_eq!(res.status(), 200);
}
