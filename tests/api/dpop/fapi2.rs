//! A client on the FAPI 2.0 Security Profile: PAR with private_key_jwt,
//! DPoP-bound tokens, ES256 ID tokens, `iss` in the authorization
//! response, nonce and state echoed exactly, no refresh rotation.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::Digest;

use super::{CALLBACK, DpopKey, error_of, nonce};
use crate::helpers::TestApp;
use crate::oidc_flow::query;

const FAPI: &str = "he-thong-fapi";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const VERIFIER: &str = "fapi-verifier-0123456789-0123456789-0123456789";

struct Fapi {
    client_key: DpopKey,
    dpop: DpopKey,
}

impl Fapi {
    async fn register(app: &TestApp) -> Self {
        eservices::oidc::keys::ensure(&app.state)
            .await
            .expect("keys");
        let client_key = DpopKey::new();
        let mut jwk = client_key.jwk.clone();
        jwk["kid"] = json!("c1");
        let registered = eservices::oidc::clients::register(
            &app.state,
            eservices::oidc::clients::NewClient {
                client_id: FAPI.into(),
                redirect_uris: vec![CALLBACK.into()],
                scopes: ["openid", "account", "offline_access"]
                    .map(str::to_owned)
                    .to_vec(),
                jwks: Some(json!({ "keys": [jwk] })),
                profile: Some("fapi2".into()),
                ..Default::default()
            },
        )
        .await
        .expect("a FAPI 2.0 client");
        assert!(registered.client.require_par);
        Self {
            client_key,
            dpop: DpopKey::new(),
        }
    }

    fn assertion(&self, app: &TestApp) -> String {
        let now = app.now().timestamp();
        let claims = json!({
            "iss": FAPI, "sub": FAPI, "aud": app.address,
            "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 60,
        });
        self.client_key.sign_as_client("c1", &claims)
    }

    /// Posts `fields` to `path` authenticated, with a proof (unless `proof` is false).
    async fn post(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
        proof: bool,
    ) -> reqwest::Response {
        let url = app.url(path);
        let assertion = self.assertion(app);
        let mut form = vec![
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.as_str()),
        ];
        form.extend_from_slice(fields);
        let mut request = app.client.post(&url);
        if proof {
            let nonce = nonce(app, &self.dpop).await;
            request = request.header(
                "DPoP",
                self.dpop.proof(app, "POST", &url, Some(&nonce), None),
            );
        }
        request.form(&form).send().await.expect("post")
    }
}

fn header_alg(jwt: &str) -> String {
    let part = jwt.split('.').next().expect("header");
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json");
    header["alg"].as_str().expect("alg").to_owned()
}

fn claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

#[tokio::test]
async fn a_fapi2_client_runs_the_whole_profile() {
    let app = TestApp::spawn().await;
    let fapi = Fapi::register(&app).await;
    app.signed_in_citizen(3301).await;
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
    let nonce_value = "n".repeat(64);
    let state_value = "s".repeat(1000);
    // Without PAR: refused, at the client, with iss.
    let res = app
        .get(&format!(
            "/oauth2/authorize?client_id={FAPI}&response_type=code&redirect_uri={}&scope=openid&code_challenge={challenge}&code_challenge_method=S256&state=x",
            url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
        ))
        .await;
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        query(&location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(
        query(&location, "iss").as_deref(),
        Some(app.address.as_str())
    );
    // PAR, authenticated with an assertion, with a proof of the DPoP key.
    let res = fapi
        .post(
            &app,
            "/oauth2/par",
            &[
                ("client_id", FAPI),
                ("response_type", "code"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid account offline_access"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("nonce", &nonce_value),
                ("state", &state_value),
                ("prompt", "consent"),
            ],
            true,
        )
        .await;
    assert_eq!(res.status(), 201);
    let pushed: Value = res.json().await.expect("json");
    let uri = pushed["request_uri"].as_str().expect("request_uri");
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let res = app
        .get(&format!(
            "/oauth2/authorize?client_id={FAPI}&request_uri={}",
            enc(uri)
        ))
        .await;
    let page = res.text().await.expect("consent page");
    let res = crate::oidc_flow::consent(&app, &page, "allow").await;
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        query(&location, "iss").as_deref(),
        Some(app.address.as_str())
    );
    assert_eq!(
        query(&location, "state").as_deref(),
        Some(state_value.as_str())
    );
    let code = query(&location, "code").expect("code");
    // The code needs a proof of the key PAR was made with.
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let res = fapi.post(&app, "/oauth2/token", &fields, true).await;
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.expect("json");
    assert_eq!(tokens["token_type"], "DPoP");
    let id_token = tokens["id_token"].as_str().expect("id token");
    assert_eq!(header_alg(id_token), "ES256");
    assert_eq!(claims(id_token)["nonce"], nonce_value.as_str());
    assert_eq!(
        claims(tokens["access_token"].as_str().expect("at"))["cnf"]["jkt"],
        fapi.dpop.jkt()
    );
    // No rotation: the same refresh token comes back and keeps working.
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    for _ in 0..2 {
        let res = fapi
            .post(
                &app,
                "/oauth2/token",
                &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
                true,
            )
            .await;
        assert_eq!(res.status(), 200);
        let renewed: Value = res.json().await.expect("json");
        assert_eq!(renewed["refresh_token"], refresh);
        assert_eq!(renewed["token_type"], "DPoP");
    }
}

#[tokio::test]
async fn a_fapi2_client_without_a_proof_or_with_a_secret_gets_nothing() {
    let app = TestApp::spawn().await;
    let fapi = Fapi::register(&app).await;
    let res = fapi
        .post(
            &app,
            "/oauth2/token",
            &[("grant_type", "client_credentials")],
            false,
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(error_of(res).await, "invalid_dpop_proof");
    let refused = eservices::oidc::clients::register(
        &app.state,
        eservices::oidc::clients::NewClient {
            client_id: "fapi-voi-secret".into(),
            redirect_uris: vec![CALLBACK.into()],
            profile: Some("fapi2".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(
        refused.is_err(),
        "a FAPI 2.0 client authenticates with a key"
    );
}
