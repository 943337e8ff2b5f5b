//! The Foundation's DPoP negative tests, each against the token endpoint:
//! a proof that breaks one rule is refused with `invalid_dpop_proof`,
//! while the same request with a good proof gets past DPoP (and fails
//! later, on its unknown refresh token).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{DpopKey, error_of, nonce, register_app, token_request};
use crate::helpers::TestApp;

const BOGUS_REFRESH: &str = "bogus-refresh-token-0123456789";

async fn answer(app: &TestApp, proofs: &[String]) -> String {
    let res = token_request(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", BOGUS_REFRESH),
        ],
        proofs,
    )
    .await;
    assert_eq!(res.status(), 400);
    error_of(res).await
}

fn unsigned(header: &Value, claims: &Value) -> String {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.c2lnbmF0dXJl", b64(header), b64(claims))
}

#[tokio::test]
async fn every_broken_proof_is_refused_and_a_good_one_passes() {
    let app = TestApp::spawn().await;
    register_app(&app, "required").await;
    let key = DpopKey::new();
    let nonce = nonce(&app, &key).await;
    let url = app.url("/oauth2/token");
    let good = || key.claims(&app, "POST", &url, Some(&nonce), None);
    let without = |claim: &str| {
        let mut c = good();
        c.as_object_mut().expect("object").remove(claim);
        c
    };
    let with = |claim: &str, value: Value| {
        let mut c = good();
        c[claim] = value;
        c
    };
    let mut private = key.jwk.clone();
    private["d"] = json!("AAAA");
    let other = DpopKey::new();
    let now = app.now().timestamp();
    let cases: Vec<(&str, String)> = vec![
        ("typ JWT", key.sign(json!({ "typ": "JWT" }), &good())),
        (
            "no typ",
            unsigned(&json!({ "alg": "ES256", "jwk": key.jwk }), &good()),
        ),
        (
            "alg none",
            unsigned(
                &json!({ "typ": "dpop+jwt", "alg": "none", "jwk": key.jwk }),
                &good(),
            ),
        ),
        (
            "HS256",
            unsigned(
                &json!({ "typ": "dpop+jwt", "alg": "HS256", "jwk": { "kty": "oct", "k": "c2VjcmV0" } }),
                &good(),
            ),
        ),
        (
            "private key in jwk",
            key.sign(json!({ "jwk": private }), &good()),
        ),
        (
            "no jwk",
            unsigned(&json!({ "typ": "dpop+jwt", "alg": "ES256" }), &good()),
        ),
        (
            "another key's jwk",
            key.sign(json!({ "jwk": other.jwk }), &good()),
        ),
        ("no jti", key.sign(json!({}), &without("jti"))),
        ("no htm", key.sign(json!({}), &without("htm"))),
        ("no htu", key.sign(json!({}), &without("htu"))),
        ("no iat", key.sign(json!({}), &without("iat"))),
        ("htm GET", key.sign(json!({}), &with("htm", json!("GET")))),
        (
            "htu of PAR",
            key.sign(json!({}), &with("htu", json!(app.url("/oauth2/par")))),
        ),
        (
            "htu of another host",
            key.sign(
                json!({}),
                &with("htu", json!("https://evil.example/oauth2/token")),
            ),
        ),
        (
            "iat 5 minutes old",
            key.sign(json!({}), &with("iat", json!(now - 300))),
        ),
        (
            "iat 1 minute ahead",
            key.sign(json!({}), &with("iat", json!(now + 60))),
        ),
        (
            "a forged nonce",
            key.sign(
                json!({}),
                &with("nonce", json!("1.AAAAAAAAAAAAAAAAAAAAAAAA")),
            ),
        ),
        ("tampered signature", {
            let p = key.sign(json!({}), &good());
            format!("{}AA", &p[..p.len() - 2])
        }),
    ];
    for (case, proof) in cases {
        let got = answer(&app, &[proof]).await;
        let expected = if case == "a forged nonce" {
            "use_dpop_nonce"
        } else {
            "invalid_dpop_proof"
        };
        assert_eq!(got, expected, "{case}");
    }
    // The control: a good proof gets past DPoP to the (bogus) grant.
    assert_eq!(
        answer(&app, &[key.sign(json!({}), &good())]).await,
        "invalid_grant"
    );
}

#[tokio::test]
async fn iat_within_ten_seconds_either_way_is_accepted() {
    let app = TestApp::spawn().await;
    register_app(&app, "required").await;
    let key = DpopKey::new();
    let nonce = nonce(&app, &key).await;
    let url = app.url("/oauth2/token");
    let now = app.now().timestamp();
    for iat in [now - 10, now + 10] {
        let mut claims = key.claims(&app, "POST", &url, Some(&nonce), None);
        claims["iat"] = json!(iat);
        assert_eq!(
            answer(&app, &[key.sign(json!({}), &claims)]).await,
            "invalid_grant"
        );
    }
}

#[tokio::test]
async fn a_proof_is_accepted_once_and_two_dpop_headers_are_refused() {
    let app = TestApp::spawn().await;
    register_app(&app, "required").await;
    let key = DpopKey::new();
    let nonce = nonce(&app, &key).await;
    let url = app.url("/oauth2/token");
    let proof = key.proof(&app, "POST", &url, Some(&nonce), None);
    assert_eq!(
        answer(&app, std::slice::from_ref(&proof)).await,
        "invalid_grant"
    );
    assert_eq!(
        answer(&app, &[proof]).await,
        "invalid_dpop_proof",
        "replayed jti"
    );
    let a = key.proof(&app, "POST", &url, Some(&nonce), None);
    let b = key.proof(&app, "POST", &url, Some(&nonce), None);
    assert_eq!(
        answer(&app, &[a, b]).await,
        "invalid_dpop_proof",
        "two headers"
    );
}

#[tokio::test]
async fn htu_is_compared_normalised_without_query_or_fragment() {
    let app = TestApp::spawn().await;
    register_app(&app, "required").await;
    let key = DpopKey::new();
    let nonce = nonce(&app, &key).await;
    let url = app.url("/oauth2/token");
    let variant = format!(
        "{}/oauth2/../oauth2/token?x=1#frag",
        app.address.to_uppercase().replacen("HTTP://", "http://", 1)
    );
    let mut claims = key.claims(&app, "POST", &url, Some(&nonce), None);
    claims["htu"] = json!(variant);
    assert_eq!(
        answer(&app, &[key.sign(json!({}), &claims)]).await,
        "invalid_grant"
    );
}
