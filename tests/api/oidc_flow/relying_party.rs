//! A relying party on the openidconnect crate signs a citizen in: consent,
//! PKCE, a verified ID token with a pairwise subject, UserInfo, a code that
//! works once, and consent remembered.

use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreUserInfoClaims},
};

use super::{REDIRECT, SECRET, consent, location, provider, query};
use crate::helpers::{Citizen, OAuthError, TestApp};

/// The relying party as discovery configures it.
type RelyingParty = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

#[tokio::test]
async fn a_relying_party_signs_a_citizen_in_with_consent_pkce_and_userinfo() {
    let app = TestApp::spawn().await;
    let (metadata, http) = provider(&app).await;
    let citizen = app.signed_in_citizen(1).await;

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

    let code = the_browser_consents(&app, auth_url.as_str(), &csrf_state).await;
    let flow = Flow {
        client: &client,
        http: &http,
        nonce: &nonce,
    };
    flow.tokens_and_userinfo(&code, verifier, &citizen).await;
    a_code_works_once(&app, &code).await;
    consent_is_remembered(&app, &client).await;
}

/// The browser: consent page, then back to the client with a code (and its
/// state and our issuer); the code.
async fn the_browser_consents(app: &TestApp, auth_url: &str, csrf_state: &CsrfToken) -> String {
    let page = app.client.get(auth_url).send().await.expect("authorize");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("page");
    assert!(
        page.contains("cong-thong-tin") && page.contains("Địa chỉ email"),
        "{page}"
    );
    let res = consent(app, &page, "allow").await;
    assert_eq!(res.status(), 303);
    let location = location(&res);
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query(&location, "state").as_deref(),
        Some(csrf_state.secret().as_str())
    );
    assert_eq!(
        query(&location, "iss").as_deref(),
        Some(app.address.as_str())
    );
    query(&location, "code").expect("code")
}

/// What the relying party holds during one sign-in.
struct Flow<'a> {
    client: &'a RelyingParty,
    http: &'a openidconnect::reqwest::Client,
    nonce: &'a Nonce,
}

impl Flow<'_> {
    /// The code buys a verified level-1 ID token with a pairwise subject;
    /// UserInfo names the same subject and the citizen's email and name.
    async fn tokens_and_userinfo(&self, code: &str, verifier: PkceCodeVerifier, citizen: &Citizen) {
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .expect("token endpoint")
            .set_pkce_verifier(verifier)
            .request_async(self.http)
            .await
            .expect("tokens");
        let id_token = response.id_token().expect("an ID token");
        let claims = id_token
            .claims(&self.client.id_token_verifier(), self.nonce)
            .expect("a valid ID token");
        assert_eq!(
            claims.auth_context_ref().map(|a| a.as_str()),
            Some("urn:vn:hcm:eservices:loa:1")
        );
        let subject = claims.subject().as_str().to_owned();
        assert_ne!(subject.len(), 36, "a pairwise subject, not the account id");

        let info: CoreUserInfoClaims = self
            .client
            .user_info(response.access_token().clone(), None)
            .expect("userinfo endpoint")
            .request_async(self.http)
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
    }
}

/// A code works once.
async fn a_code_works_once(app: &TestApp, code: &str) {
    let replay = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("cong-thong-tin", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", "x".repeat(43).as_str()),
        ])
        .send()
        .await
        .expect("replay");
    assert_eq!(replay.headers()["cache-control"], "no-store");
    assert_eq!(OAuthError::read(replay, 400).await.error, "invalid_grant");
}

/// Consent is remembered: the next authorization goes straight back with a code.
async fn consent_is_remembered(app: &TestApp, client: &RelyingParty) {
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
    assert!(query(&location(&res), "code").is_some());
}
