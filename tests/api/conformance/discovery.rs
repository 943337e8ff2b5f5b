//! Config OP: `oidcc-discovery-endpoint-verification`, the provider's
//! metadata (OpenID Connect Discovery §3, §4; RFC 8414 §2) and its JWKS,
//! served as in production: behind an https `PUBLIC_URL`.

use std::collections::HashSet;

use jsonwebtoken::{DecodingKey, jwk::Jwk};
use serde_json::Value;

use crate::helpers::{TestApp, TestOptions};

/// The issuer the provider is published as in this test.
const ISSUER: &str = "https://dichvucong.hcm.test";

/// The provider behind an https `PUBLIC_URL`, with its keys.
async fn published_op() -> TestApp {
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("PUBLIC_URL", ISSUER.to_owned())],
        ..Default::default()
    })
    .await;
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    app
}

/// The strings of array `name`, which must be a non-empty array.
fn strings<'a>(doc: &'a Value, name: &str) -> Vec<&'a str> {
    let values = doc[name].as_array().unwrap_or_else(|| panic!("{name}"));
    assert!(!values.is_empty(), "{name} is empty");
    values
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("{name}: {v}")))
        .collect()
}

/// `oidcc-discovery-endpoint-verification`.
#[tokio::test]
async fn oidcc_discovery_endpoint_verification() {
    let app = published_op().await;
    let res = app.get("/.well-known/openid-configuration").await;
    let json = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    assert!(json, "{:?}", res.headers());
    let doc: Value = crate::helpers::read_json(res, 200).await;
    issuer_and_endpoints(&doc);
    values_supported(&doc);
    published_keys(&app, &doc).await;
}

/// The issuer is the URL the document was found under (Discovery §4.3):
/// https, no query or fragment; every endpoint is https (the suite's
/// `CheckDiscEndpointAllEndpointsAreHttps`), and the ones a code flow needs
/// are there.
fn issuer_and_endpoints(doc: &Value) {
    assert_eq!(doc["issuer"], ISSUER);
    let issuer = url::Url::parse(ISSUER).expect("a URL");
    assert!(issuer.query().is_none() && issuer.fragment().is_none());
    for name in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ] {
        assert!(doc.get(name).is_some(), "{name}");
    }
    let object = doc.as_object().expect("an object");
    for (name, value) in object {
        if name.ends_with("_endpoint") || name.ends_with("_uri") {
            let url = value.as_str().unwrap_or_else(|| panic!("{name}"));
            assert!(url.starts_with(&format!("{ISSUER}/")), "{name}: {url}");
        }
    }
}

/// What the code flow and the certification profiles need, with the types
/// and syntax the suite checks.
fn values_supported(doc: &Value) {
    assert!(strings(doc, "response_types_supported").contains(&"code"));
    let subjects = strings(doc, "subject_types_supported");
    assert!(subjects.iter().all(|s| ["public", "pairwise"].contains(s)));
    let algs = strings(doc, "id_token_signing_alg_values_supported");
    assert!(algs.contains(&"RS256") && !algs.contains(&"none"));
    let grants = strings(doc, "grant_types_supported");
    assert!(grants.contains(&"authorization_code"));
    let scopes = strings(doc, "scopes_supported");
    assert!(scopes.contains(&"openid"));
    // RFC 6749 §3.3: scope-token = 1*NQCHAR.
    for scope in scopes {
        assert!(
            scope
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b)),
            "{scope}"
        );
    }
    let claims = strings(doc, "claims_supported");
    assert!(
        ["sub", "iss", "auth_time", "acr"]
            .iter()
            .all(|c| claims.contains(c))
    );
    for flag in [
        "claims_parameter_supported",
        "request_parameter_supported",
        "request_uri_parameter_supported",
    ] {
        assert!(doc[flag].is_boolean(), "{flag}");
    }
    // RFC 5646 canonical casing: lower-case language subtags.
    for locale in strings(doc, "ui_locales_supported") {
        assert_eq!(locale, locale.to_ascii_lowercase());
    }
    assert!(strings(doc, "code_challenge_methods_supported").contains(&"S256"));
    assert!(strings(doc, "token_endpoint_auth_methods_supported").contains(&"client_secret_basic"));
}

/// The JWKS at `jwks_uri`: public keys only, each with a distinct `kid`,
/// usable for signatures (the suite's `ValidateJwksSequence`,
/// `CheckForKeyIdInServerJWKs`, `CheckDistinctKeyIdValueInServerJWKs`).
async fn published_keys(app: &TestApp, doc: &Value) {
    let jwks_uri = doc["jwks_uri"].as_str().expect("jwks_uri");
    let path = jwks_uri.strip_prefix(ISSUER).expect("under the issuer");
    let jwks: Value = crate::helpers::read_json(app.get(path).await, 200).await;
    let keys = jwks["keys"].as_array().expect("keys");
    assert!(!keys.is_empty());
    let mut kids = HashSet::new();
    for key in keys {
        let kid = key["kid"].as_str().expect("a kid");
        assert!(kids.insert(kid.to_owned()), "kid {kid} twice");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{kid} publishes {private}");
        }
        assert!(key.get("use").is_none_or(|u| u == "sig"), "{key}");
        let jwk: Jwk = serde_json::from_value(key.clone()).expect("a JWK");
        DecodingKey::from_jwk(&jwk).expect("a usable public key");
    }
}
