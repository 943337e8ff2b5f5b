//! DPoP (RFC 9449) against the running provider: the mobile app's tokens
//! bound to its key at the token endpoint, its refresh tokens and codes
//! bound too, the JSON API as a DPoP resource server, and every negative
//! case of the Foundation's DPoP tests. Proofs are made here with a fresh
//! P-256 key per test, independently of the server's code.

mod binding;
mod fapi2;
mod negatives;
mod resource;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::{
    ecdsa::{Signature, SigningKey, signature::Signer},
    pkcs8::{EncodePrivateKey, LineEnding},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;
use crate::oidc_flow::query;

pub(crate) const APP: &str = "ung-dung-dpop";
pub(crate) const CALLBACK: &str = "http://127.0.0.1:9/app-cb";
const VERIFIER: &str = "dpop-verifier-0123456789-0123456789-0123456789";

/// A client's DPoP key pair.
pub(crate) struct DpopKey {
    secret: SigningKey,
    pem: String,
    /// The public JWK put in proofs.
    pub(crate) jwk: Value,
}

impl DpopKey {
    /// A fresh P-256 key.
    pub(crate) fn new() -> Self {
        let secret = SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let point = secret.verifying_key().to_encoded_point(false);
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        Self {
            secret: secret.clone(),
            pem: secret
                .to_pkcs8_pem(LineEnding::LF)
                .expect("pem")
                .to_string(),
            jwk: json!({
                "kty": "EC", "crv": "P-256",
                "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y")),
            }),
        }
    }

    /// The RFC 7638 thumbprint, computed here.
    pub(crate) fn jkt(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().expect("x"),
            self.jwk["y"].as_str().expect("y")
        );
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// Signs `claims` (ES256, by hand) under a proof header with these
    /// members replaced (the `jwk` is ours unless given), exactly as given.
    pub(crate) fn sign(&self, header: Value, claims: &Value) -> String {
        let mut full = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk });
        for (k, v) in header.as_object().expect("object") {
            full[k] = v.clone();
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(full.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = self.secret.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// The claims of a proof for `method` on `url`, now.
    pub(crate) fn claims(
        &self,
        app: &TestApp,
        method: &str,
        url: &str,
        nonce: Option<&str>,
        token: Option<&str>,
    ) -> Value {
        let mut claims = json!({
            "jti": uuid::Uuid::new_v4().to_string(),
            "htm": method,
            "htu": url,
            "iat": app.now().timestamp(),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        if let Some(token) = token {
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())));
        }
        claims
    }

    /// A JWT of `claims` signed with this key as a client's key `kid` (`typ: JWT`).
    pub(crate) fn sign_as_client(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        let key = EncodingKey::from_ec_pem(self.pem.as_bytes()).expect("key");
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }

    /// A good proof.
    pub(crate) fn proof(
        &self,
        app: &TestApp,
        method: &str,
        url: &str,
        nonce: Option<&str>,
        token: Option<&str>,
    ) -> String {
        self.sign(json!({}), &self.claims(app, method, url, nonce, token))
    }
}

/// Registers the public app with the DPoP policy `dpop`.
pub(crate) async fn register_app(app: &TestApp, dpop: &str) {
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    eservices::oidc::clients::register(
        &app.state,
        eservices::oidc::clients::NewClient {
            client_id: APP.into(),
            redirect_uris: vec![CALLBACK.into()],
            public: true,
            scopes: ["openid", "profile", "account", "offline_access"]
                .map(str::to_owned)
                .to_vec(),
            dpop: Some(dpop.into()),
            ..Default::default()
        },
    )
    .await
    .expect("client");
}

/// A server nonce: what the token endpoint gives a proof without one
/// (whatever the request's fate; here an unknown client's).
pub(crate) async fn nonce(app: &TestApp, key: &DpopKey) -> String {
    let url = app.url("/oauth2/token");
    let res = TestApp::fresh_client()
        .post(&url)
        .header("DPoP", key.proof(app, "POST", &url, None, None))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody-here"),
        ])
        .send()
        .await
        .expect("token");
    let nonce = res
        .headers()
        .get("dpop-nonce")
        .map(|v| v.to_str().expect("ascii").to_owned());
    nonce.expect("a DPoP-Nonce header")
}

/// Signs a citizen in on `app.client` and runs the authorization request
/// (with `extra` parameters, consent given); returns the code.
pub(crate) async fn code(app: &TestApp, seq: u32, extra: &str) -> String {
    app.signed_in_citizen(seq).await;
    code_for_signed_in(app, extra).await
}

/// The authorization request for the browser already signed in.
pub(crate) async fn code_for_signed_in(app: &TestApp, extra: &str) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let url = format!(
        "/oauth2/authorize?response_type=code&client_id={APP}&redirect_uri={}&scope=openid%20account%20offline_access&state=s1&nonce=n1&code_challenge={challenge}&code_challenge_method=S256{extra}",
        url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
    );
    let mut res = app.get(&url).await;
    if res.status() == 200 {
        let page = res.text().await.expect("consent page");
        res = crate::oidc_flow::consent(app, &page, "allow").await;
    }
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    query(&location, "code").unwrap_or_else(|| panic!("no code in {location}"))
}

/// Posts a token request of the app with `fields` and these DPoP headers.
pub(crate) async fn token_request(
    app: &TestApp,
    fields: &[(&str, &str)],
    proofs: &[String],
) -> reqwest::Response {
    let mut request = app.client.post(app.url("/oauth2/token"));
    for proof in proofs {
        request = request.header("DPoP", proof);
    }
    let mut form = vec![("client_id", APP)];
    form.extend_from_slice(fields);
    request.form(&form).send().await.expect("token")
}

/// Exchanges `code` without a proof.
pub(crate) async fn exchange_without_proof(app: &TestApp, code: &str) -> reqwest::Response {
    token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
        &[],
    )
    .await
}

/// Exchanges `code` with a good proof of `key`.
pub(crate) async fn exchange(app: &TestApp, key: &DpopKey, code: &str) -> reqwest::Response {
    let nonce = nonce(app, key).await;
    let proof = key.proof(app, "POST", &app.url("/oauth2/token"), Some(&nonce), None);
    token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
        &[proof],
    )
    .await
}

/// A citizen's DPoP-bound tokens for the app: (key, token response).
pub(crate) async fn bound_tokens(app: &TestApp, seq: u32) -> (DpopKey, Value) {
    register_app(app, "required").await;
    let key = DpopKey::new();
    let code = code(app, seq, "").await;
    let res = exchange(app, &key, &code).await;
    assert_eq!(res.status(), 200);
    (key, res.json().await.expect("json"))
}

/// Calls `GET path` of the API with `token` under `scheme` and these proofs.
pub(crate) async fn api_get(
    app: &TestApp,
    path: &str,
    scheme: &str,
    token: &str,
    proofs: &[String],
) -> reqwest::Response {
    let mut request = TestApp::fresh_client()
        .get(app.url(path))
        .header("authorization", format!("{scheme} {token}"));
    for proof in proofs {
        request = request.header("DPoP", proof);
    }
    request.send().await.expect("api")
}

/// The `error` of a JSON answer.
pub(crate) async fn error_of(res: reqwest::Response) -> String {
    let body: Value = res.json().await.expect("json");
    body["error"].as_str().unwrap_or_default().to_owned()
}
