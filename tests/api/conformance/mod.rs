//! The OpenID Foundation's certification plans for OpenID Providers, walked
//! module by module against the running provider: Basic OP
//! (`oidcc-basic-certification-test-plan`) and Config OP
//! (`oidcc-config-certification-test-plan`), plus RP-initiated logout by
//! POST and `offline_access` (Core §11). Each test is named after its
//! module (`oidcc-max-age-1` → `oidcc_max_age_1`) and checks what that
//! module checks; docs/CONFORMANCE.md says, module by module, what we answer.
//!
//! The driver (this file, `browser`, `exchange`) plays the Foundation's
//! suite: a statically registered confidential client, a browser that
//! keeps cookies and does what the pages ask (signs in, completes the
//! second step, allows), the token exchange, and the ID token checks of the
//! suite's `PerformStandardIdTokenChecks`. Like the suite, requests carry
//! PKCE only in `oidcc-ensure-request-with-valid-pkce-succeeds`: the suite's
//! clients are registered with `--pkce-optional` (confidential clients
//! only; every other client must send PKCE S256).

mod browser;
mod code_flow;
mod discovery;
mod exchange;
mod logout;
mod parameters;
mod redirects;
mod request_objects;
mod sessions;
mod tokens;
mod userinfo;

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::Digest;
use url::Url;

pub(crate) use exchange::{ClientAuth, TokenSet, assert_no_store, claims_of, userinfo_claims};

use crate::helpers::{Citizen, TestApp};

/// The client the suite is configured with.
pub(crate) const CLIENT: &str = "oidf-conformance";
/// The second client of `oidcc-refresh-token`.
pub(crate) const OTHER_CLIENT: &str = "oidf-conformance-2";
/// Both clients' secret.
pub(crate) const SECRET: &str = "oidf-conformance-secret-0123456789-abcdef";
/// The registered redirect URI (the suite's callback).
pub(crate) const REDIRECT: &str = "https://rp.example/test/a/oidf/callback";
/// A second registered redirect URI, with a query (`oidcc-redirect-uri-query-*`).
pub(crate) const REDIRECT_WITH_QUERY: &str =
    "https://rp.example/test/a/oidf/callback?dummy1=lorem&dummy2=ipsum";
/// The registered post-logout redirect URI.
pub(crate) const POST_LOGOUT: &str = "https://rp.example/test/a/oidf/post_logout_redirect";
/// Where every client-side URI lives: the browser stops there.
const CLIENT_ORIGIN: &str = "https://rp.example/";

/// The provider under test, its clients registered, one citizen who can
/// sign in, a browser (not signed in yet) and the client's own HTTP client.
pub(crate) struct Op {
    pub(crate) app: TestApp,
    pub(crate) citizen: Citizen,
    /// Keeps cookies, follows nothing by itself.
    pub(crate) browser: reqwest::Client,
    /// The relying party's back channel (token, UserInfo): no cookies.
    pub(crate) rp: reqwest::Client,
}

impl Op {
    /// A fresh provider with the suite's clients and an active citizen.
    pub(crate) async fn start() -> Self {
        let app = TestApp::spawn().await;
        eservices::oidc::keys::ensure(&app.state)
            .await
            .expect("keys");
        register(&app, CLIENT, &[REDIRECT, REDIRECT_WITH_QUERY]).await;
        register(&app, OTHER_CLIENT, &[REDIRECT]).await;
        let citizen = Citizen::sample(16);
        app.active_citizen(&citizen).await;
        Self {
            app,
            citizen,
            browser: TestApp::fresh_client(),
            rp: reqwest::Client::new(),
        }
    }

    /// Our issuer identifier.
    pub(crate) fn issuer(&self) -> &str {
        &self.app.address
    }
}

/// Registers a confidential client (secret, Basic or form) with every
/// scope the plans ask for.
async fn register(app: &TestApp, client_id: &str, redirects: &[&str]) {
    eservices::oidc::clients::register(
        &app.state,
        eservices::oidc::clients::NewClient {
            client_id: client_id.into(),
            redirect_uris: redirects.iter().map(|r| (*r).to_owned()).collect(),
            post_logout_redirect_uris: vec![POST_LOGOUT.into()],
            secret: Some(SECRET.into()),
            scopes: [
                "openid",
                "profile",
                "email",
                "address",
                "phone",
                "offline_access",
            ]
            .map(str::to_owned)
            .to_vec(),
            pkce_optional: true,
            ..Default::default()
        },
    )
    .await
    .expect("client");
}

/// An authorization request as the suite builds it: `code`, the client,
/// its redirect URI, `openid`, a random `state` and `nonce` (PKCE when
/// [`AuthRequest::with_pkce`] adds it).
#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    params: Vec<(String, String)>,
    verifier: Option<String>,
}

impl AuthRequest {
    /// The request with a PKCE S256 challenge (its verifier kept for the exchange).
    pub(crate) fn with_pkce(mut self) -> Self {
        let verifier = eservices::crypto::tokens::generate();
        let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
        self.verifier = Some(verifier);
        self.with("code_challenge", &challenge)
            .with("code_challenge_method", "S256")
    }

    /// The suite's request for `client_id`.
    pub(crate) fn new(client_id: &str) -> Self {
        let state = eservices::crypto::tokens::generate();
        let nonce = eservices::crypto::tokens::generate();
        let params = [
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("response_type", "code"),
        ];
        Self {
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            verifier: None,
        }
    }

    /// The request with parameter `name` set to `value`.
    pub(crate) fn with(mut self, name: &str, value: &str) -> Self {
        match self.params.iter_mut().find(|(k, _)| k == name) {
            Some(param) => value.clone_into(&mut param.1),
            None => self.params.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    /// The request without parameter `name`.
    pub(crate) fn without(mut self, name: &str) -> Self {
        self.params.retain(|(k, _)| k != name);
        self
    }

    /// The value of parameter `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The client it is for.
    pub(crate) fn client_id(&self) -> &str {
        self.get("client_id").expect("a client_id")
    }

    /// The PKCE verifier of its challenge, if it has one.
    pub(crate) fn verifier(&self) -> Option<&str> {
        self.verifier.as_deref()
    }

    /// Its parameters, form-urlencoded.
    pub(crate) fn query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(&self.params);
        query.finish()
    }

    /// The authorization endpoint's path with its parameters.
    pub(crate) fn path(&self) -> String {
        format!("/oauth2/authorize?{}", self.query())
    }
}

/// Where an authorization ended: the browser sent back to a client.
#[derive(Debug, Default)]
pub(crate) struct Callback {
    /// The client URI with the response.
    pub(crate) location: String,
    /// Its query parameters.
    pub(crate) params: HashMap<String, String>,
    /// The sign-in page the person was shown on the way, if any.
    pub(crate) login_page: Option<String>,
    /// Whether the consent page was shown on the way.
    pub(crate) consented: bool,
    /// Whether the second step (a code by email) was asked on the way.
    pub(crate) stepped_up: bool,
}

impl Callback {
    /// A parameter of the response.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// Whether the person had to sign in on the way.
    pub(crate) fn signed_in(&self) -> bool {
        self.login_page.is_some()
    }

    /// The code of a successful response at `req`'s redirect URI, with its
    /// `state` and our `iss` (RFC 9207).
    pub(crate) fn code(&self, op: &Op, req: &AuthRequest) -> String {
        let redirect = req.get("redirect_uri").expect("a redirect_uri");
        assert!(self.location.starts_with(redirect), "{}", self.location);
        assert_eq!(self.param("error"), None, "{:?}", self.params);
        assert_eq!(
            self.param("state"),
            req.get("state"),
            "state echoed exactly"
        );
        assert_eq!(self.param("iss"), Some(op.issuer()));
        self.param("code").expect("a code").to_owned()
    }

    /// The error of an error response (Core §3.1.2.6) at `req`'s redirect
    /// URI, checked as the suite's generic error validation: its `state`,
    /// our `iss`, no code, no other parameter, a well-formed description.
    pub(crate) fn error(&self, op: &Op, req: &AuthRequest) -> &str {
        let redirect = req.get("redirect_uri").expect("a redirect_uri");
        assert!(self.location.starts_with(redirect), "{}", self.location);
        assert_eq!(
            self.param("state"),
            req.get("state"),
            "state echoed exactly"
        );
        assert_eq!(self.param("iss"), Some(op.issuer()));
        assert_eq!(self.param("code"), None, "no code beside an error");
        let allowed = [
            "error",
            "error_description",
            "error_uri",
            "state",
            "iss",
            "dummy1",
            "dummy2",
        ];
        let unexpected: Vec<&String> = self
            .params
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        assert!(unexpected.is_empty(), "unexpected {unexpected:?}");
        if let Some(description) = self.param("error_description") {
            assert_error_text(description);
        }
        self.param("error").expect("an error")
    }
}

/// RFC 6749 §4.1.2.1/§5.2: an `error_description` is `%x20-21 / %x23-5B / %x5D-7E`.
pub(crate) fn assert_error_text(text: &str) {
    assert!(
        text.bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
        "error_description with characters RFC 6749 forbids: {text:?}"
    );
}

/// The query parameters of an absolute URL.
pub(crate) fn query_pairs(url: &str) -> HashMap<String, String> {
    Url::parse(url)
        .expect("an absolute URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The `Location` of a redirect.
pub(crate) fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .expect("a Location")
        .to_str()
        .expect("ascii")
        .to_owned()
}
