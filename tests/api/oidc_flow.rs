//! The authorization code flow, driven by a certified-style relying-party
//! library (the openidconnect crate) against the running provider.

use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims},
};
use serde_json::Value;
use url::Url;

use crate::helpers::{Citizen, TestApp, input_value};

pub(crate) const REDIRECT: &str = "http://127.0.0.1:9/cb";
pub(crate) const SECRET: &str = "rp-secret-0123456789-0123456789-abcd";

pub(crate) async fn provider(
    app: &TestApp,
) -> (CoreProviderMetadata, openidconnect::reqwest::Client) {
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    register_client(
        app,
        "cong-thong-tin",
        &["openid", "profile", "email", "national_id"],
        None,
    )
    .await;
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(app.address.clone()).expect("issuer"),
        &http,
    )
    .await
    .expect("discovery");
    (metadata, http)
}

/// Registers a confidential client with `SECRET`, redirecting to `REDIRECT`.
pub(crate) async fn register_client(
    app: &TestApp,
    client_id: &str,
    scopes: &[&str],
    post_logout: Option<&str>,
) {
    eservices::oidc::clients::register(
        &app.state,
        eservices::oidc::clients::NewClient {
            client_id: client_id.into(),
            redirect_uris: vec![REDIRECT.into()],
            post_logout_redirect_uris: post_logout.map(str::to_owned).into_iter().collect(),
            secret: Some(SECRET.into()),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        },
    )
    .await
    .expect("client");
}

pub(crate) fn query(location: &str, name: &str) -> Option<String> {
    Url::parse(location)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn a_relying_party_signs_a_citizen_in_with_consent_pkce_and_userinfo() {
    let app = TestApp::spawn().await;
    let (metadata, http) = provider(&app).await;
    let citizen = Citizen::sample(1);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );

    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("cong-thong-tin".into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).expect("redirect"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf_state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The browser: consent page, then back to the client with a code.
    let page = app
        .client
        .get(auth_url.as_str())
        .send()
        .await
        .expect("authorize");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("page");
    assert!(
        page.contains("cong-thong-tin") && page.contains("Địa chỉ email"),
        "{page}"
    );
    let res = app
        .client
        .post(app.url("/oauth2/consent"))
        .form(&[
            (
                "consent_id",
                input_value(&page, "consent_id").expect("id").as_str(),
            ),
            (
                "csrf_token",
                input_value(&page, "csrf_token").expect("csrf").as_str(),
            ),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("consent");
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query(&location, "state").as_deref(),
        Some(csrf_state.secret().as_str())
    );
    assert_eq!(
        query(&location, "iss").as_deref(),
        Some(app.address.as_str())
    );
    let code = query(&location, "code").expect("code");

    let response = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("tokens");
    let id_token = response.id_token().expect("an ID token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("a valid ID token");
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some("urn:vn:hcm:eservices:loa:1")
    );
    let subject = claims.subject().as_str().to_owned();
    assert_ne!(subject.len(), 36, "a pairwise subject, not the account id");

    let info: CoreUserInfoClaims = client
        .user_info(response.access_token().clone(), None)
        .expect("userinfo endpoint")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.subject().as_str(), subject);
    assert_eq!(
        info.email().map(|e| e.as_str()),
        Some(citizen.email.as_str())
    );
    assert_eq!(
        info.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        Some("Nguyễn Văn An")
    );

    // A code works once.
    let replay = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("cong-thong-tin", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", "x".repeat(43).as_str()),
        ])
        .send()
        .await
        .expect("replay");
    assert_eq!(replay.status(), 400);
    assert_eq!(replay.headers()["cache-control"], "no-store");
    let body: Value = replay.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");

    // Consent is remembered: the next authorization goes straight back with a code.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let res = app
        .client
        .get(auth_url.as_str())
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), 303);
    assert!(query(res.headers()["location"].to_str().expect("ascii"), "code").is_some());
}

#[tokio::test]
async fn authorization_errors_follow_the_specification() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let url = |extra: &str| {
        format!(
            "/oauth2/authorize?response_type=code&client_id=cong-thong-tin&redirect_uri={}&scope=openid&state=s1&code_challenge={challenge}&code_challenge_method=S256{extra}",
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
        )
    };

    // Never redirect to an unknown client or an unregistered URI.
    let res = app.get("/oauth2/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2F&scope=openid").await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
    let res = app
        .get(&url("").replace("127.0.0.1%3A9", "evil.example"))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());

    // Not signed in: prompt=none answers login_required; otherwise sign-in first.
    let res = app.get(&url("&prompt=none")).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(query(&location, "error").as_deref(), Some("login_required"));
    assert_eq!(query(&location, "state").as_deref(), Some("s1"));
    let res = app.get(&url("")).await;
    assert!(
        res.headers()["location"]
            .to_str()
            .expect("ascii")
            .starts_with("/login?return_to=%2Foauth2%2Fauthorize")
    );

    // PKCE is required, and plain is refused.
    let no_pkce = url("").replace(
        "&code_challenge_method=S256",
        "&code_challenge_method=plain",
    );
    let res = app.get(&no_pkce).await;
    assert_eq!(
        query(res.headers()["location"].to_str().expect("ascii"), "error").as_deref(),
        Some("invalid_request")
    );
    let res = app
        .get(&url("").replace("scope=openid", "scope=openid%20dossiers"))
        .await;
    assert_eq!(
        query(res.headers()["location"].to_str().expect("ascii"), "error").as_deref(),
        Some("invalid_scope")
    );

    // A level-1 citizen asked for at level 2 is refused, not silently downgraded.
    let citizen = Citizen::sample(2);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    let res = app
        .get(&url("&acr_values=urn%3Avn%3Ahcm%3Aeservices%3Aloa%3A2"))
        .await;
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        query(&location, "error").as_deref(),
        Some("access_denied"),
        "{location}"
    );

    // Denied consent goes back as access_denied.
    let page = app.get(&url("")).await.text().await.expect("consent page");
    let res = app
        .client
        .post(app.url("/oauth2/consent"))
        .form(&[
            (
                "consent_id",
                input_value(&page, "consent_id").expect("id").as_str(),
            ),
            (
                "csrf_token",
                input_value(&page, "csrf_token").expect("csrf").as_str(),
            ),
            ("decision", "deny"),
        ])
        .send()
        .await
        .expect("deny");
    assert_eq!(
        query(res.headers()["location"].to_str().expect("ascii"), "error").as_deref(),
        Some("access_denied")
    );

    // The token endpoint: wrong secret is 401 invalid_client with WWW-Authenticate.
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
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("cong-thong-tin", Some(SECRET))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .expect("token");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "unsupported_grant_type");

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

/// Runs the code flow by hand for the signed-in browser of `app`; returns the token response.
pub(crate) async fn tokens_for(
    app: &TestApp,
    client_id: &str,
    secret: &str,
    redirect: &str,
    scope: &str,
) -> Value {
    tokens_with(app, client_id, secret, redirect, scope, "").await
}

/// `tokens_for` with further authorization parameters (`&acr_values=…`).
pub(crate) async fn tokens_with(
    app: &TestApp,
    client_id: &str,
    secret: &str,
    redirect: &str,
    scope: &str,
    extra: &str,
) -> Value {
    use base64::Engine;
    use sha2::Digest;
    let verifier = "v".repeat(50);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let url = format!(
        "/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope={}&state=st&nonce=n1&code_challenge={challenge}&code_challenge_method=S256{extra}",
        enc(redirect),
        enc(scope)
    );
    let mut res = app.get(&url).await;
    if res.status() == 200 {
        let page = res.text().await.expect("consent page");
        res = app
            .client
            .post(app.url("/oauth2/consent"))
            .form(&[
                (
                    "consent_id",
                    input_value(&page, "consent_id").expect("id").as_str(),
                ),
                (
                    "csrf_token",
                    input_value(&page, "csrf_token").expect("csrf").as_str(),
                ),
                ("decision", "allow"),
            ])
            .send()
            .await
            .expect("consent");
    }
    let code = query(res.headers()["location"].to_str().expect("ascii"), "code").expect("code");
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", verifier.as_str()),
            ("client_id", client_id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

#[tokio::test]
async fn the_api_takes_bearer_tokens_by_scope_and_connected_apps_can_be_revoked() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    register_client(&app, "ung-dung", &["openid", "profile", "account"], None).await;
    let citizen = Citizen::sample(3);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );

    let narrow = tokens_for(&app, "cong-thong-tin", SECRET, REDIRECT, "openid profile").await;
    let wide = tokens_for(&app, "ung-dung", SECRET, REDIRECT, "openid account").await;
    let bearer = |token: &Value| token["access_token"].as_str().expect("token").to_owned();

    // A separate client without cookies: only the bearer token speaks.
    let api = reqwest::Client::new();
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(bearer(&narrow))
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 403);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains("insufficient_scope")
    );
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(bearer(&wide))
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.expect("json");
    // Scope `account` alone: the subject and level, no national ID (that
    // needs scope `national_id` at level 2, as in UserInfo).
    assert!(
        me["sub"].is_string() && me.get("national_id").is_none(),
        "{me}"
    );
    assert_eq!(me["assurance_level"], 1);
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth("eyJhbGciOiJub25lIn0.e30.")
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 401, "unsigned tokens are refused");

    // Expired after 5 minutes.
    app.clock.advance(chrono::Duration::minutes(6));
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(bearer(&wide))
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 401);

    let apps: Value = app
        .get("/api/v1/connected-apps")
        .await
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = apps["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["client_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"cong-thong-tin") && ids.contains(&"ung-dung"));
    let res = app
        .client
        .delete(app.url("/api/v1/connected-apps/ung-dung"))
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 204);
    let res = app
        .client
        .delete(app.url("/api/v1/connected-apps/ung-dung"))
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 404);
    // The next authorization asks again.
    let verifier_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let res = app
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id=ung-dung&redirect_uri={}&scope=openid%20account&code_challenge={verifier_challenge}&code_challenge_method=S256",
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(res.status(), 200, "the consent page again");
    let events: Value = app
        .get("/api/v1/me/events")
        .await
        .json()
        .await
        .expect("json");
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert!(
        kinds.contains(&"consent_granted") && kinds.contains(&"consent_revoked"),
        "{kinds:?}"
    );
}

async fn refresh(app: &TestApp, client_id: &str, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/oauth2/token"))
        .basic_auth(client_id, Some(SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .expect("refresh")
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    register_client(
        &app,
        "app-offline",
        &["openid", "account", "offline_access", "dossiers"],
        None,
    )
    .await;
    let citizen = Citizen::sample(4);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    let first = tokens_for(
        &app,
        "app-offline",
        SECRET,
        REDIRECT,
        "openid account offline_access",
    )
    .await;
    let r1 = first["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();

    let res = refresh(&app, "app-offline", &r1).await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.expect("json");
    let r2 = second["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_ne!(r1, r2);
    assert!(
        second.get("id_token").is_none(),
        "a refresh answers without an ID token (Core 12.2)"
    );
    let api = reqwest::Client::new();
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(second["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 200);

    // The old one again, after the grace period: the whole family ends.
    app.clock.advance(chrono::Duration::seconds(30));
    let res = refresh(&app, "app-offline", &r1).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");
    let res = refresh(&app, "app-offline", &r2).await;
    assert_eq!(res.status(), 400, "the legitimate successor is revoked too");

    // Withdrawing consent ends refresh tokens as well.
    let third = tokens_for(
        &app,
        "app-offline",
        SECRET,
        REDIRECT,
        "openid account offline_access",
    )
    .await;
    let r3 = third["refresh_token"].as_str().expect("refresh").to_owned();
    assert_eq!(
        app.client
            .delete(app.url("/api/v1/connected-apps/app-offline"))
            .send()
            .await
            .expect("delete")
            .status(),
        204
    );
    assert_eq!(refresh(&app, "app-offline", &r3).await.status(), 400);

    // Client credentials: a system token without a person.
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("app-offline", Some(SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", "dossiers")])
        .send()
        .await
        .expect("cc");
    assert_eq!(res.status(), 200);
    let cc: Value = res.json().await.expect("json");
    assert!(cc.get("id_token").is_none() && cc.get("refresh_token").is_none());
    assert_eq!(cc["scope"], "dossiers");
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(cc["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 403, "a system token is no person");
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("app-offline", Some(SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", "openid")])
        .send()
        .await
        .expect("cc");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "invalid_scope");
}

#[tokio::test]
async fn a_replayed_code_revokes_what_it_issued() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    register_client(&app, "app-offline", &["openid", "offline_access"], None).await;
    let citizen = Citizen::sample(5);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );

    use base64::Engine;
    use sha2::Digest;
    let verifier = "w".repeat(50);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let redirect = url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>();
    let page = app
        .get(&format!("/oauth2/authorize?response_type=code&client_id=app-offline&redirect_uri={redirect}&scope=openid%20offline_access&code_challenge={challenge}&code_challenge_method=S256"))
        .await
        .text()
        .await
        .expect("consent");
    let res = app
        .client
        .post(app.url("/oauth2/consent"))
        .form(&[
            (
                "consent_id",
                input_value(&page, "consent_id").expect("id").as_str(),
            ),
            (
                "csrf_token",
                input_value(&page, "csrf_token").expect("csrf").as_str(),
            ),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("consent");
    let code = query(res.headers()["location"].to_str().expect("ascii"), "code").expect("code");
    let exchange = || async {
        app.client
            .post(app.url("/oauth2/token"))
            .basic_auth("app-offline", Some(SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier.as_str()),
            ])
            .send()
            .await
            .expect("token")
    };
    let first: Value = exchange().await.json().await.expect("json");
    let refresh_token = first["refresh_token"].as_str().expect("refresh").to_owned();
    assert_eq!(exchange().await.status(), 400, "a code works once");
    assert_eq!(
        refresh(&app, "app-offline", &refresh_token).await.status(),
        400,
        "and its replay revokes what it issued"
    );
}

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
    let citizen = Citizen::sample(6);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
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
    let introspect = |token: String| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url("/oauth2/introspect"))
                .basic_auth("cong-api", Some(SECRET))
                .form(&[("token", token.as_str())])
                .send()
                .await
                .expect("introspect");
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.expect("json")
        }
    };
    let info = introspect(access.clone()).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], "app-offline");
    assert_eq!(info["scope"], "account offline_access openid");
    assert_eq!(
        introspect("garbage".into()).await,
        serde_json::json!({ "active": false })
    );

    let revoke = |token: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/oauth2/revoke"))
                .basic_auth("app-offline", Some(SECRET))
                .form(&[("token", token.as_str())])
                .send()
                .await
                .expect("revoke")
                .status()
        }
    };
    assert_eq!(revoke(access.clone()).await, 200);
    assert_eq!(
        revoke("unknown-token".into()).await,
        200,
        "unknown tokens answer the same"
    );
    assert_eq!(introspect(access.clone()).await["active"], false);
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 401, "a revoked access token is refused");

    assert_eq!(revoke(refresh_token.clone()).await, 200);
    assert_eq!(
        refresh(&app, "app-offline", &refresh_token).await.status(),
        400
    );

    // A malformed body is an OAuth error, not a page.
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");
}

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
    let citizen = Citizen::sample(7);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
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
