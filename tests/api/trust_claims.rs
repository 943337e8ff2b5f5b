//! What tokens say and to whom: no internal id in any token or
//! introspection answer, audiences per resource server (RFC 8707),
//! introspection only for the token's own resource server, `/api/v1/me` by
//! scope for bearer callers, and the `vault` scope for the mobile app.

use std::process::Command;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use eservices::oidc::clients::{NewClient, register};
use serde_json::{Value, json};
use sha2::Digest;

use crate::helpers::{OAuthError, TestApp, TestOptions, VneidOptions, vneid_account};
use crate::oidc_flow::{REDIRECT, SECRET, consent, query};

const VERIFIER: &str = "trust-claims-verifier-0123456789-0123456789-abcdef";
const KHO_BAC: &str = "https://khobac.example.vn/api";

/// `s` form-urlencoded.
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The decoded payload of a JWT, as text (to search) and as JSON.
fn payload(jwt: &str) -> (String, Value) {
    let part = jwt.split('.').nth(1).expect("a JWT");
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("utf-8");
    let json = serde_json::from_str(&text).expect("json");
    (text, json)
}

/// Runs `eservices admin …` against the test's database.
fn admin(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eservices"))
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.database_url())
        .env("REDIS_URL", "redis://127.0.0.1:1/")
        .env("PUBLIC_URL", &app.address)
        .env("VAULT_MASTER_KEY", &app.master_key)
        .arg("admin")
        .args(args)
        .output()
        .expect("runs")
}

/// Registers a confidential client with `SECRET` (a resource server if
/// `audience` is given).
async fn confidential(app: &TestApp, id: &str, scopes: &[&str], audience: Option<&str>) {
    register(
        &app.state,
        NewClient {
            client_id: id.into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(SECRET.into()),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            resource_audience: audience.map(str::to_owned),
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
}

/// The authorization request of the browser signed in on `app` (consenting
/// if asked); the redirect's location.
async fn authorize(
    app: &TestApp,
    client_id: &str,
    redirect: &str,
    scope: &str,
    extra: &str,
) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
    let url = format!(
        "/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope={}&state=st&nonce=n1&code_challenge={challenge}&code_challenge_method=S256{extra}",
        enc(redirect),
        enc(scope)
    );
    let mut res = app.get(&url).await;
    if res.status() == 200 {
        let page = res.text().await.expect("consent page");
        res = consent(app, &page, "allow").await;
    }
    assert_eq!(res.status(), 303);
    res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// Exchanges the code of `location`; `secret` `None` for a public client.
async fn exchange(
    app: &TestApp,
    client_id: &str,
    secret: Option<&str>,
    redirect: &str,
    location: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let code = query(location, "code").expect("a code");
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", VERIFIER),
        ("client_id", client_id),
    ];
    if let Some(secret) = secret {
        form.push(("client_secret", secret));
    }
    form.extend_from_slice(extra);
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .form(&form)
        .send()
        .await
        .expect("token");
    (res.status().as_u16(), res.json().await.expect("json"))
}

/// Tokens of a confidential client registered with `SECRET` at `REDIRECT`.
async fn tokens(app: &TestApp, client_id: &str, scope: &str) -> Value {
    let location = authorize(app, client_id, REDIRECT, scope, "").await;
    let (status, body) = exchange(app, client_id, Some(SECRET), REDIRECT, &location, &[]).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// `client_id` introspects `token`; the answer as text and as JSON.
async fn introspect(app: &TestApp, client_id: &str, token: &str) -> (String, Value) {
    let res = app
        .client
        .post(app.url("/oauth2/introspect"))
        .basic_auth(client_id, Some(SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspect");
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("body");
    let json = serde_json::from_str(&text).expect("json");
    (text, json)
}

/// A cookie-less GET of `path` with bearer `token`; the status and body.
async fn bearer_get(app: &TestApp, path: &str, token: &str) -> (u16, String) {
    let res = TestApp::fresh_client()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    (res.status().as_u16(), res.text().await.expect("body"))
}

/// The access token of a token answer.
fn access(tokens: &Value) -> &str {
    tokens["access_token"].as_str().expect("access token")
}

#[tokio::test]
async fn tokens_of_pairwise_clients_name_no_internal_account_and_the_api_still_works() {
    let app = TestApp::spawn().await;
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    let api = eservices::oidc::jwt::api_audience(&app.state);
    let scopes = ["openid", "profile", "account"];
    confidential(&app, "so-giao-thong", &scopes, None).await;
    confidential(&app, "so-y-te", &scopes, None).await;
    confidential(&app, "cong-api", &[], Some(&api)).await;
    let citizen = app.signed_in_citizen(41).await;
    let account = app.state_account(&citizen.national_id).await.as_uuid();
    let needles = [account.to_string(), account.simple().to_string()];
    let leaks = |text: &str| needles.iter().any(|n| text.to_lowercase().contains(n));

    let mut seen = Vec::new();
    for client in ["so-giao-thong", "so-y-te", "so-giao-thong"] {
        let t = tokens(&app, client, "openid profile account").await;
        let (at_text, at) = payload(access(&t));
        let (id_text, id) = payload(t["id_token"].as_str().expect("id token"));
        assert!(
            !leaks(&at_text),
            "access token names the account: {at_text}"
        );
        assert!(!leaks(&id_text), "ID token names the account: {id_text}");
        assert!(
            at.get("account_id").is_none() && at.get("acting_for").is_none(),
            "{at}"
        );
        assert!(at["ctx"].is_string(), "the account travels sealed: {at}");
        assert_eq!(at["sub"], id["sub"]);

        let (info_text, info) = introspect(&app, "cong-api", access(&t)).await;
        assert_eq!(info["active"], true, "{info}");
        assert_eq!(info["sub"], id["sub"]);
        assert!(
            !leaks(&info_text),
            "introspection names the account: {info_text}"
        );

        // The API still finds the person behind the token.
        let (status, me) = bearer_get(&app, "/api/v1/me", access(&t)).await;
        assert_eq!(status, 200, "{me}");
        assert!(!leaks(&me), "/me names the account to a client: {me}");
        let me: Value = serde_json::from_str(&me).expect("json");
        assert_eq!(me["sub"], id["sub"]);
        assert_eq!(me["full_name"], citizen.full_name.as_str());
        seen.push((client, at["sub"].clone(), at["ctx"].clone()));
    }
    assert_ne!(
        seen[0].1, seen[1].1,
        "pairwise: each client its own subject"
    );
    assert_eq!(seen[0].1, seen[2].1, "stable per client");
    assert_ne!(seen[0].2, seen[2].2, "every token's sealed blob differs");
    assert_ne!(seen[0].2, seen[1].2);

    // A client an administrator trusts with public subjects keeps sub = id.
    register(
        &app.state,
        NewClient {
            client_id: "cong-tin-cay".into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(SECRET.into()),
            scopes: vec!["openid".into()],
            public_subject: true,
            ..NewClient::default()
        },
    )
    .await
    .expect("trusted client");
    let t = tokens(&app, "cong-tin-cay", "openid").await;
    let (_, id) = payload(t["id_token"].as_str().expect("id token"));
    assert_eq!(id["sub"], account.to_string());
}

#[tokio::test]
async fn introspection_and_the_api_take_only_tokens_for_their_own_audience() {
    let app = TestApp::spawn().await;
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    let api = eservices::oidc::jwt::api_audience(&app.state);
    resource_servers_are_registered_by_the_administrator(&app, &api);
    confidential(
        &app,
        "ung-dung",
        &["openid", "account", "offline_access"],
        None,
    )
    .await;
    app.signed_in_citizen(42).await;

    api_tokens_are_for_the_api_and_its_resource_server_only(&app, &api).await;
    a_token_for_the_treasury_is_refused_by_our_api(&app).await;
    resource_at_the_token_endpoint_must_agree_with_the_authorization(&app, &api).await;
    unknown_resources_are_refused_everywhere(&app).await;
}

/// Resource servers are registered by the administrator (the API's and the
/// treasury's); a resource that is no https URL is refused.
fn resource_servers_are_registered_by_the_administrator(app: &TestApp, api: &str) {
    for (id, audience) in [("cong-api", api), ("kho-bac", KHO_BAC)] {
        let out = admin(
            app,
            &[
                "client",
                "create",
                "--client-id",
                id,
                "--redirect-uri",
                REDIRECT,
                "--secret",
                SECRET,
                "--resource-server",
                audience,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .contains(&format!("resource server of audience {audience}")),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = admin(
        app,
        &[
            "client",
            "create",
            "--client-id",
            "sai",
            "--redirect-uri",
            REDIRECT,
            "--resource-server",
            "ftp://x.example/api",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ftp://x.example/api"));
}

/// A token for the API (the default) is introspected by the API's resource
/// server only; a refresh gives API tokens and refuses another resource.
async fn api_tokens_are_for_the_api_and_its_resource_server_only(app: &TestApp, api: &str) {
    let t = tokens(app, "ung-dung", "openid account offline_access").await;
    assert_eq!(payload(access(&t)).1["aud"], api);
    // The attack: a client that is no resource server (here the token's own
    // client) or another resource server asks about the token.
    assert_eq!(
        introspect(app, "ung-dung", access(&t)).await.1,
        json!({ "active": false })
    );
    assert_eq!(
        introspect(app, "kho-bac", access(&t)).await.1,
        json!({ "active": false })
    );
    let refresh = t["refresh_token"].as_str().expect("refresh token");
    assert_eq!(
        introspect(app, "ung-dung", refresh).await.1,
        json!({ "active": false })
    );
    assert_eq!(
        introspect(app, "cong-api", refresh).await.1,
        json!({ "active": false })
    );
    let (_, info) = introspect(app, "cong-api", access(&t)).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["aud"], api);
    // A refresh gives API tokens; asking it for another resource is refused.
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("ung-dung", Some(SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("resource", KHO_BAC),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(OAuthError::read(res, 400).await.error, "invalid_target");
    assert_eq!(bearer_get(app, "/api/v1/me", access(&t)).await.0, 200);
}

/// A token for the treasury's system (RFC 8707 `resource` at authorize):
/// the treasury introspects it; our API and UserInfo refuse it.
async fn a_token_for_the_treasury_is_refused_by_our_api(app: &TestApp) {
    let location = authorize(
        app,
        "ung-dung",
        REDIRECT,
        "openid account",
        &format!("&resource={}", enc(KHO_BAC)),
    )
    .await;
    let (status, t) = exchange(app, "ung-dung", Some(SECRET), REDIRECT, &location, &[]).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(payload(access(&t)).1["aud"], KHO_BAC);
    assert_eq!(
        introspect(app, "kho-bac", access(&t)).await.1["active"],
        true
    );
    assert_eq!(
        introspect(app, "cong-api", access(&t)).await.1,
        json!({ "active": false })
    );
    // Our API and UserInfo refuse a token meant for someone else.
    assert_eq!(bearer_get(app, "/api/v1/me", access(&t)).await.0, 401);
    assert_eq!(bearer_get(app, "/oauth2/userinfo", access(&t)).await.0, 401);
}

/// `resource` at the token endpoint works, and must agree with the
/// authorization request's.
async fn resource_at_the_token_endpoint_must_agree_with_the_authorization(
    app: &TestApp,
    api: &str,
) {
    let location = authorize(app, "ung-dung", REDIRECT, "openid account", "").await;
    let (status, t) = exchange(
        app,
        "ung-dung",
        Some(SECRET),
        REDIRECT,
        &location,
        &[("resource", KHO_BAC)],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(payload(access(&t)).1["aud"], KHO_BAC);
    // … must agree with the authorization request's.
    let location = authorize(
        app,
        "ung-dung",
        REDIRECT,
        "openid account",
        &format!("&resource={}", enc(KHO_BAC)),
    )
    .await;
    let (status, body) = exchange(
        app,
        "ung-dung",
        Some(SECRET),
        REDIRECT,
        &location,
        &[("resource", api)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target")),
        "{body}"
    );
}

/// Unknown resources are refused at authorize, at the token endpoint and
/// for client credentials; a known one is granted.
async fn unknown_resources_are_refused_everywhere(app: &TestApp) {
    let unknown = "https://la.example.vn/api";
    let location = authorize(
        app,
        "ung-dung",
        REDIRECT,
        "openid account",
        &format!("&resource={}", enc(unknown)),
    )
    .await;
    assert_eq!(
        query(&location, "error").as_deref(),
        Some("invalid_target"),
        "{location}"
    );
    assert!(query(&location, "code").is_none());
    let location = authorize(app, "ung-dung", REDIRECT, "openid account", "").await;
    let (status, body) = exchange(
        app,
        "ung-dung",
        Some(SECRET),
        REDIRECT,
        &location,
        &[("resource", unknown)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target")),
        "{body}"
    );
    let cc = |resource: &'static str| {
        app.client
            .post(app.url("/oauth2/token"))
            .basic_auth("kho-bac", Some(SECRET))
            .form(&[("grant_type", "client_credentials"), ("resource", resource)])
            .send()
    };
    let res = cc(unknown).await.expect("token");
    assert_eq!(OAuthError::read(res, 400).await.error, "invalid_target");
    let body: Value = cc(KHO_BAC)
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    assert_eq!(payload(access(&body)).1["aud"], KHO_BAC, "{body}");
}

mod scopes;
