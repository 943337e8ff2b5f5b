//! Authorization and token errors as the specifications say: never a
//! redirect to an unknown client or URI, errors sent back to a registered
//! one with the state, PKCE (S256) required, no silent downgrade of the
//! level asked for, `invalid_client` with `WWW-Authenticate`.

use super::{REDIRECT, SECRET, consent, location, provider, query};
use crate::helpers::{OAuthError, TestApp};

#[tokio::test]
async fn authorization_errors_follow_the_specification() {
    let app = TestApp::spawn().await;
    provider(&app).await;

    // Never redirect to an unknown client or an unregistered URI.
    let res = app.get("/oauth2/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2F&scope=openid").await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    let res = app
        .get(&authorize("").replace("127.0.0.1%3A9", "evil.example"))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());

    // Not signed in: prompt=none answers login_required; otherwise sign-in first.
    let res = app.get(&authorize("&prompt=none")).await;
    assert_eq!(res.status(), 303);
    let location = location(&res);
    assert_eq!(query(&location, "error").as_deref(), Some("login_required"));
    assert_eq!(query(&location, "state").as_deref(), Some("s1"));
    let res = app.get(&authorize("")).await;
    assert!(
        res.headers()["location"]
            .to_str()
            .expect("ascii")
            .starts_with("/login?return_to=%2Foauth2%2Fauthorize")
    );

    // PKCE is required, and plain is refused.
    let no_pkce = authorize("").replace(
        "&code_challenge_method=S256",
        "&code_challenge_method=plain",
    );
    assert_eq!(
        error_of(app.get(&no_pkce).await).as_deref(),
        Some("invalid_request")
    );
    let res = app
        .get(&authorize("").replace("scope=openid", "scope=openid%20dossiers"))
        .await;
    assert_eq!(error_of(res).as_deref(), Some("invalid_scope"));

    signed_in_at_level_one_the_citizen_is_refused_or_denies(&app).await;
    the_token_and_userinfo_endpoints_refuse_bad_callers(&app).await;
}

/// An authorization request of `cong-thong-tin` with `extra` parameters.
fn authorize(extra: &str) -> String {
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    format!(
        "/oauth2/authorize?response_type=code&client_id=cong-thong-tin&redirect_uri={}&scope=openid&state=s1&code_challenge={challenge}&code_challenge_method=S256{extra}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    )
}

/// The `error` the redirect of an answer carries.
fn error_of(res: reqwest::Response) -> Option<String> {
    query(&location(&res), "error")
}

/// A level-1 citizen asked for at level 2 is refused, not silently
/// downgraded; denied consent goes back as access_denied.
async fn signed_in_at_level_one_the_citizen_is_refused_or_denies(app: &TestApp) {
    app.signed_in_citizen(2).await;
    let res = app
        .get(&authorize(
            "&acr_values=urn%3Avn%3Ahcm%3Aeservices%3Aloa%3A2",
        ))
        .await;
    let location = location(&res);
    assert_eq!(
        query(&location, "error").as_deref(),
        Some("access_denied"),
        "{location}"
    );

    // Denied consent goes back as access_denied.
    let page = app
        .get(&authorize(""))
        .await
        .text()
        .await
        .expect("consent page");
    let res = consent(app, &page, "deny").await;
    assert_eq!(error_of(res).as_deref(), Some("access_denied"));
}

/// The token endpoint: a wrong secret is 401 invalid_client with
/// WWW-Authenticate, an unknown grant unsupported; UserInfo without a valid
/// token is 401 invalid_token.
async fn the_token_and_userinfo_endpoints_refuse_bad_callers(app: &TestApp) {
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth(
            "cong-thong-tin",
            Some("wrong-secret-wrong-secret-wrong-secret"),
        )
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .expect("token");
    assert!(res.headers().contains_key("www-authenticate"));
    assert_eq!(OAuthError::read(res, 401).await.error, "invalid_client");
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("cong-thong-tin", Some(SECRET))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .expect("token");
    assert_eq!(
        OAuthError::read(res, 400).await.error,
        "unsupported_grant_type"
    );

    // UserInfo without a valid token.
    let res = app
        .client
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .expect("userinfo");
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains("invalid_token")
    );
}
