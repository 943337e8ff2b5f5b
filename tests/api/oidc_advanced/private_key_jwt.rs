//! private_key_jwt client authentication (RFC 7523): a signed assertion
//! works once, for the issuer only, within its lifetime, with the client's
//! key and an asymmetric algorithm; the same authentication serves
//! introspection; private keys are refused at registration.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use eservices::oidc::clients::{NewClient, register};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::{
    helpers::{OAuthError, TestApp},
    oidc_flow::{REDIRECT, SECRET, provider},
};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[tokio::test]
async fn private_key_jwt_clients_authenticate_with_signed_assertions_once() {
    let app = TestApp::spawn().await;
    provider(&app).await;
    let (key, jwks) = client_key("k1");
    let registered = register(
        &app.state,
        NewClient {
            client_id: "he-thong-thue".into(),
            redirect_uris: vec![REDIRECT.into()],
            scopes: vec!["openid".into(), "dossiers".into()],
            jwks: Some(jwks.clone()),
            // It introspects API tokens below: a resource server of the API.
            resource_audience: Some(eservices::oidc::jwt::api_audience(&app.state)),
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
    assert!(
        registered.secret.is_none(),
        "no secret for a key-based client"
    );
    let client = Client {
        key,
        jwks,
        now: app.now().timestamp(),
        issuer: app.address.clone(),
    };

    let good = client.sign(&client.claims("j1", &client.issuer, 60));
    let res = with_assertion(&app, &good).await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    // Only the issuer identifier is an accepted audience (RFC 7523bis, FAPI 2.0),
    // not the token endpoint's URL.
    let token_endpoint = format!("{}/oauth2/token", client.issuer);
    let res = with_assertion(
        &app,
        &client.sign(&client.claims("j2", &token_endpoint, 60)),
    )
    .await;
    assert_eq!(res.status(), 401);

    for (bad, why) in &client.refused(&good) {
        let res = with_assertion(&app, bad).await;
        assert_eq!(res.status(), 401, "{why}");
        assert!(res.headers().contains_key("www-authenticate"));
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], "invalid_client", "{why}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap_or_default()
                .contains(why),
            "{why}: {body}"
        );
    }
    other_methods_are_refused(&app, &good).await;
    introspection_takes_the_same_authentication(&app, &client).await;
    private_keys_are_refused_at_registration(&app, &client.jwks).await;
}

/// An EC P-256 key pair for a client: its signing key and its public JWK Set.
fn client_key(kid: &str) -> (EncodingKey, Value) {
    use p256::{
        elliptic_curve::sec1::ToEncodedPoint,
        pkcs8::{EncodePrivateKey, LineEnding},
    };
    let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let pem = secret.to_pkcs8_pem(LineEnding::LF).expect("pem");
    let point = secret.public_key().to_encoded_point(false);
    let jwks = json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
        "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
        "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
    }]});
    (EncodingKey::from_ec_pem(pem.as_bytes()).expect("key"), jwks)
}

/// An ES256 client assertion signed with `key` under `kid`.
fn assertion(key: &EncodingKey, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, key).expect("signs")
}

/// Asks for a client-credentials token, authenticated by `assertion` alone.
async fn with_assertion(app: &TestApp, assertion: &str) -> reqwest::Response {
    app.client
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "dossiers"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .expect("token")
}

/// The client `he-thong-thue`: its key, its public keys, and the time and
/// issuer its assertions are made for.
struct Client {
    key: EncodingKey,
    jwks: Value,
    now: i64,
    issuer: String,
}

impl Client {
    /// Assertion claims with `jti` for `aud`, expiring `ttl` seconds from now.
    fn claims(&self, jti: &str, aud: &str, ttl: i64) -> Value {
        json!({ "iss": "he-thong-thue", "sub": "he-thong-thue", "aud": aud, "jti": jti, "iat": self.now, "exp": self.now + ttl })
    }

    /// `claims` signed with the client's key.
    fn sign(&self, claims: &Value) -> String {
        assertion(&self.key, "k1", claims)
    }

    /// Assertions the token endpoint must refuse, and a word its reason names.
    fn refused(&self, used: &str) -> Vec<(String, &'static str)> {
        let (issuer, now) = (self.issuer.as_str(), self.now);
        vec![
            (used.to_owned(), "already used"),
            (
                self.sign(&self.claims("j3", "https://other.example", 60)),
                "invalid",
            ),
            (self.sign(&self.claims("j4", issuer, -1)), "expired"),
            (self.sign(&self.claims("j5", issuer, 3600)), "too long"),
            (
                self.sign(
                    &json!({ "iss": "he-thong-thue", "sub": "he-thong-thue", "aud": issuer, "exp": now + 60 }),
                ),
                "jti",
            ),
            (
                self.sign(
                    &json!({ "iss": "he-thong-thue", "sub": "he-thong-thue", "aud": issuer, "jti": "j6", "iat": now + 3600, "exp": now + 120 }),
                ),
                "not valid yet",
            ),
            (
                assertion(&client_key("k1").0, "k1", &self.claims("j7", issuer, 60)),
                "invalid",
            ),
            (
                // HS256 with the client's public key as the secret.
                jsonwebtoken::encode(
                    &Header::new(Algorithm::HS256),
                    &self.claims("j8", issuer, 60),
                    &EncodingKey::from_secret(self.jwks.to_string().as_bytes()),
                )
                .expect("hs256"),
                "asymmetric",
            ),
            (
                format!(
                    "{}.{}.",
                    URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
                    URL_SAFE_NO_PAD.encode(self.claims("j9", issuer, 60).to_string())
                ),
                "not a valid JWT",
            ),
            ("garbage".to_owned(), "names no client"),
        ]
    }
}

/// Another assertion type, or half of the pair, is refused; a secret is not
/// this client's method.
async fn other_methods_are_refused(app: &TestApp, good: &str) {
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ),
            ("client_assertion", good),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(OAuthError::read(res, 401).await.error, "invalid_client");
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(OAuthError::read(res, 400).await.error, "invalid_request");
    // A secret is not this client's method.
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("he-thong-thue", Some(SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 401);
}

/// Introspection accepts the same authentication.
async fn introspection_takes_the_same_authentication(app: &TestApp, client: &Client) {
    let issuer = client.issuer.as_str();
    let token: Value = with_assertion(app, &client.sign(&client.claims("j10", issuer, 60)))
        .await
        .json()
        .await
        .expect("json");
    let res = app
        .client
        .post(app.url("/oauth2/introspect"))
        .form(&[
            ("token", token["access_token"].as_str().expect("token")),
            ("client_assertion_type", JWT_BEARER),
            (
                "client_assertion",
                &client.sign(&client.claims("j11", issuer, 60)),
            ),
        ])
        .send()
        .await
        .expect("introspect");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["active"], true, "{body}");
}

/// Private keys are refused at registration.
async fn private_keys_are_refused_at_registration(app: &TestApp, jwks: &Value) {
    let mut leaked = jwks.clone();
    leaked["keys"][0]["d"] = json!("c2VjcmV0");
    let err = register(
        &app.state,
        NewClient {
            client_id: "leaky".into(),
            redirect_uris: vec![REDIRECT.into()],
            jwks: Some(leaked),
            ..NewClient::default()
        },
    )
    .await
    .expect_err("private key refused");
    assert_eq!(err.code().as_str(), "validation_failed");
}
