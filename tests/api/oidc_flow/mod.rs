//! The authorization code flow, driven by a certified-style relying-party
//! library (the openidconnect crate) and by hand against the running
//! provider: consent, specification errors, bearer tokens on the API,
//! refresh rotation, code replay, revocation and introspection, logout. The
//! relying-party helpers here are shared with the other provider tests.

mod bearer;
mod errors;
mod logout;
mod refresh;
mod relying_party;
mod revocation;

use openidconnect::{IssuerUrl, core::CoreProviderMetadata};
use serde_json::Value;
use url::Url;

use crate::helpers::{TestApp, input_value};

pub(crate) const REDIRECT: &str = "http://127.0.0.1:9/cb";
pub(crate) const SECRET: &str = "rp-secret-0123456789-0123456789-abcd";

/// The provider's keys and the client `cong-thong-tin`; its discovered
/// metadata and an HTTP client that does not follow redirects.
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

/// The query parameter `name` of a URL.
pub(crate) fn query(location: &str, name: &str) -> Option<String> {
    Url::parse(location)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The `Location` of an answer.
fn location(res: &reqwest::Response) -> String {
    res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// Answers the consent page `page` with `decision` (`allow` or `deny`).
pub(crate) async fn consent(app: &TestApp, page: &str, decision: &str) -> reqwest::Response {
    app.client
        .post(app.url("/oauth2/consent"))
        .form(&[
            (
                "consent_id",
                input_value(page, "consent_id").expect("id").as_str(),
            ),
            (
                "csrf_token",
                input_value(page, "csrf_token").expect("csrf").as_str(),
            ),
            ("decision", decision),
        ])
        .send()
        .await
        .expect("consent")
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
        res = consent(app, &page, "allow").await;
    }
    let code = query(&location(&res), "code").expect("code");
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

/// Client `client_id` (with `SECRET`) redeems refresh token `token`.
async fn refresh(app: &TestApp, client_id: &str, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/oauth2/token"))
        .basic_auth(client_id, Some(SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .expect("refresh")
}
