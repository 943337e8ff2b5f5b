//! Pushed authorization requests (RFC 9126): a pushed request survives the
//! sign-in and works once, a client may be made to use them, they are
//! checked at once, and another client cannot use one.

use eservices::oidc::clients::{NewClient, register};
use serde_json::Value;

use super::{VERIFIER, challenge, enc};
use crate::{
    helpers::{Citizen, OAuthError, TestApp, input_value, read_json},
    oidc_flow::{REDIRECT, SECRET, consent, provider, query, register_client},
};

#[tokio::test]
async fn pushed_authorization_requests_work_once_and_can_be_required() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    register(
        &app.state,
        NewClient {
            client_id: "par-only".into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(SECRET.into()),
            scopes: vec!["openid".into()],
            require_par: true,
            ..NewClient::default()
        },
    )
    .await
    .expect("client");

    let return_to = a_pushed_request_asks_for_a_sign_in_and_works_once(&app).await;
    let code = signed_in_and_allowed(&app, &return_to).await;
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("par-only", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );

    signed_in_a_second_pushed_request_goes_straight_to_a_code(&app).await;
    pushed_requests_are_required_and_checked_at_once(&app).await;
    another_client_cannot_use_it(&app).await;
    let discovery: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        format!("{}/oauth2/par", app.address)
    );
}

/// Pushes an authorization request of `client_id`, with `extra` parameters
/// replacing or adding to the usual ones.
async fn push(
    app: &TestApp,
    client_id: &str,
    secret: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let challenge = challenge();
    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "par-state"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        form.retain(|(name, _)| name != k);
        form.push((k, v));
    }
    app.client
        .post(app.url("/oauth2/par"))
        .basic_auth(client_id, Some(secret))
        .form(&form)
        .send()
        .await
        .expect("par")
}

/// Not signed in yet: the pushed request survives the sign-in, whose
/// continuation carries no parameters; the request_uri itself works once.
/// The continuation.
async fn a_pushed_request_asks_for_a_sign_in_and_works_once(app: &TestApp) -> String {
    let res = push(app, "par-only", SECRET, &[]).await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let pushed: Value = read_json(res, 201).await;
    assert_eq!(pushed["expires_in"], 90);
    let request_uri = pushed["request_uri"].as_str().expect("uri").to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    let authorize = format!(
        "/oauth2/authorize?client_id=par-only&request_uri={}",
        enc(&request_uri)
    );
    let res = app.get(&authorize).await;
    assert_eq!(res.status(), 303);
    let login = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(login.starts_with("/login?return_to="), "{login}");
    let return_to = query(&format!("http://x{login}"), "return_to").expect("return_to");
    assert!(
        return_to.contains("request_uri=") && !return_to.contains("redirect_uri"),
        "the continuation carries no parameters: {return_to}"
    );
    // The request_uri itself worked once.
    assert_eq!(app.get(&authorize).await.status(), 400);
    return_to
}

/// A citizen signs in with `return_to`, lands on the consent page and
/// allows; the code sent back with the pushed state.
async fn signed_in_and_allowed(app: &TestApp, return_to: &str) -> String {
    let citizen = Citizen::sample(31);
    app.active_citizen(&citizen).await;
    let page = app.get("/login").await.text().await.expect("page");
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", citizen.national_id.as_str()),
            ("password", citizen.password.as_str()),
            (
                "csrf_token",
                input_value(&page, "csrf_token").expect("csrf").as_str(),
            ),
            ("return_to", return_to),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], return_to);
    let page = app.get(return_to).await;
    assert_eq!(page.status(), 200, "consent");
    let res = consent(app, &page.text().await.expect("page"), "allow").await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("ascii");
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(query(location, "state").as_deref(), Some("par-state"));
    query(location, "code").expect("code")
}

/// Signed in: a second pushed request goes straight to a code (consent
/// remembered), ignoring parameters outside it.
async fn signed_in_a_second_pushed_request_goes_straight_to_a_code(app: &TestApp) {
    let pushed: Value = push(app, "par-only", SECRET, &[])
        .await
        .json()
        .await
        .expect("json");
    let res = app
        .get(&format!(
            "/oauth2/authorize?client_id=par-only&request_uri={}&scope=openid%20email",
            enc(pushed["request_uri"].as_str().expect("uri"))
        ))
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("ascii");
    assert!(
        query(location, "code").is_some(),
        "parameters outside the pushed request are ignored: {location}"
    );
}

/// This client may not skip PAR; a pushed request is checked at once and
/// answered directly.
async fn pushed_requests_are_required_and_checked_at_once(app: &TestApp) {
    let res = app
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id=par-only&redirect_uri={}&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
            enc(REDIRECT),
            challenge()
        ))
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("ascii");
    assert_eq!(query(location, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query(location, "state").as_deref(), Some("s"));

    // A pushed request is checked at once, and answered directly.
    let bad = push(
        app,
        "par-only",
        SECRET,
        &[("redirect_uri", "https://evil.example/cb")],
    )
    .await;
    assert_eq!(OAuthError::read(bad, 400).await.error, "invalid_request");
    let bad = push(
        app,
        "par-only",
        SECRET,
        &[("code_challenge_method", "plain")],
    )
    .await;
    assert_eq!(bad.status(), 400);
    let bad = push(app, "par-only", SECRET, &[("scope", "openid dossiers")]).await;
    assert_eq!(
        bad.json::<Value>().await.expect("json")["error"],
        "invalid_scope"
    );
    let bad = push(
        app,
        "par-only",
        "wrong-secret-wrong-secret-wrong-secret",
        &[],
    )
    .await;
    assert_eq!(bad.status(), 401);
    assert!(bad.headers().contains_key("www-authenticate"));
    let bad = push(app, "par-only", SECRET, &[("request_uri", "urn:x")]).await;
    assert_eq!(bad.status(), 400);
}

/// Another client cannot use this client's request_uri.
async fn another_client_cannot_use_it(app: &TestApp) {
    register_client(app, "other-rp", &["openid"], None).await;
    let pushed: Value = push(app, "par-only", SECRET, &[])
        .await
        .json()
        .await
        .expect("json");
    let res = app
        .get(&format!(
            "/oauth2/authorize?client_id=other-rp&request_uri={}",
            enc(pushed["request_uri"].as_str().expect("uri"))
        ))
        .await;
    assert_eq!(res.status(), 400);
    assert!(!res.headers().contains_key("location"));
}
