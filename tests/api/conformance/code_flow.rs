//! Basic OP, the code flow itself: `oidcc-server` and its variants (client
//! authentication, the ID token's signature, no nonce, PKCE, scope order,
//! a POSTed authorization request).

use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::{AuthRequest, CLIENT, ClientAuth, Op, TokenSet, assert_no_store, userinfo_claims};

/// The discovery document.
pub(crate) async fn discovery(op: &Op) -> Value {
    let res = op.app.get("/.well-known/openid-configuration").await;
    crate::helpers::read_json(res, 200).await
}

/// Whether the discovery array `name` lists `value`.
pub(crate) fn lists(discovery: &Value, name: &str, value: &str) -> bool {
    discovery[name]
        .as_array()
        .is_some_and(|values| values.iter().any(|v| v == value))
}

/// `oidcc-server`: the person signs in and consents, the browser comes back
/// with a code, `state` and `iss`; `client_secret_basic` buys tokens (not
/// cached, `Bearer`); the ID token passes the standard checks; UserInfo
/// answers for the access token.
#[tokio::test]
async fn oidcc_server() {
    let op = Op::start().await;
    let req = AuthRequest::new(CLIENT);
    let (callback, tokens, claims) = op.code_flow(&req).await;
    assert!(callback.signed_in() && callback.consented);
    let sub = claims["sub"].as_str().expect("sub");
    userinfo_claims(op.userinfo(&tokens.access_token).await, sub).await;
}

/// `oidcc-server-client-secret-post`: the same with the secret in the form.
#[tokio::test]
async fn oidcc_server_client_secret_post() {
    let op = Op::start().await;
    assert!(lists(
        &discovery(&op).await,
        "token_endpoint_auth_methods_supported",
        "client_secret_post"
    ));
    let req = AuthRequest::new(CLIENT);
    let callback = op.authorize(&req).await;
    let code = callback.code(&op, &req);
    let res = op.redeem(&req, &code, ClientAuth::SecretPost).await;
    let tokens = TokenSet::read(res).await;
    let claims = op.id_token_claims(&tokens, &req).await;
    let sub = claims["sub"].as_str().expect("sub");
    userinfo_claims(op.userinfo(&tokens.access_token).await, sub).await;
}

/// `oidcc-idtoken-signature` (dynamic clients only in the Foundation's
/// plan): a client that names no algorithm gets RS256 ID tokens with a
/// `kid` (Core §3.1.3.7, §10.1).
#[tokio::test]
async fn oidcc_idtoken_signature() {
    let op = Op::start().await;
    assert!(lists(
        &discovery(&op).await,
        "id_token_signing_alg_values_supported",
        "RS256"
    ));
    let req = AuthRequest::new(CLIENT);
    let (_, tokens, _) = op.code_flow(&req).await;
    let header = jsonwebtoken::decode_header(tokens.id_token()).expect("header");
    assert_eq!(header.alg, Algorithm::RS256);
    assert!(header.kid.is_some());
}

/// `oidcc-idtoken-unsigned` (dynamic clients only): skipped by the suite
/// because discovery does not offer `none`; no client can be registered
/// with it either.
#[tokio::test]
async fn oidcc_idtoken_unsigned() {
    let op = Op::start().await;
    let doc = discovery(&op).await;
    assert!(lists(
        &doc,
        "id_token_signing_alg_values_supported",
        "RS256"
    ));
    assert!(!lists(
        &doc,
        "id_token_signing_alg_values_supported",
        "none"
    ));
    let refused = eservices::oidc::clients::register(
        &op.app.state,
        eservices::oidc::clients::NewClient {
            client_id: "unsigned-id-tokens".into(),
            redirect_uris: vec![super::REDIRECT.into()],
            secret: Some(super::SECRET.into()),
            id_token_alg: Some("none".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(refused.is_err(), "unsigned ID tokens are never offered");
}

/// `oidcc-ensure-request-without-nonce-succeeds-for-code-flow`: the code
/// flow needs no nonce, and the ID token then carries none.
#[tokio::test]
async fn oidcc_ensure_request_without_nonce_succeeds_for_code_flow() {
    let op = Op::start().await;
    let req = AuthRequest::new(CLIENT).without("nonce");
    let (_, _, claims) = op.code_flow(&req).await;
    assert!(claims.get("nonce").is_none(), "{claims}");
}

/// `oidcc-ensure-request-with-valid-pkce-succeeds`: S256 is offered and a
/// right verifier buys tokens; a wrong one does not (RFC 7636 §4.6).
#[tokio::test]
async fn oidcc_ensure_request_with_valid_pkce_succeeds() {
    let op = Op::start().await;
    assert!(lists(
        &discovery(&op).await,
        "code_challenge_methods_supported",
        "S256"
    ));
    let req = AuthRequest::new(CLIENT).with_pkce();
    op.code_flow(&req).await;

    let req = AuthRequest::new(CLIENT).with_pkce();
    let callback = op.authorize(&req).await;
    let code = callback.code(&op, &req);
    let wrong = eservices::crypto::tokens::generate();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", super::REDIRECT),
        ("code_verifier", wrong.as_str()),
    ];
    let res = op
        .token_request(CLIENT, ClientAuth::SecretBasic, &form)
        .await;
    assert_no_store(&res);
    let error = crate::helpers::OAuthError::read(res, 400).await;
    assert_eq!(error.error, "invalid_grant");

    // A verifier for a request that had no challenge is a downgrade attempt
    // (RFC 9700 §4.8.2); and a client not exempted must send PKCE.
    let req = AuthRequest::new(CLIENT);
    let callback = op.authorize(&req).await;
    let code = callback.code(&op, &req);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", super::REDIRECT),
        ("code_verifier", wrong.as_str()),
    ];
    let res = op
        .token_request(CLIENT, ClientAuth::SecretBasic, &form)
        .await;
    let error = crate::helpers::OAuthError::read(res, 400).await;
    assert_eq!(error.error, "invalid_grant");
}

/// `oidcc-ensure-other-scope-order-succeeds` (now `oidcc-alternate-happy-flow`):
/// scopes in another order and the parameters reordered change nothing
/// (RFC 6749 §3.3).
#[tokio::test]
async fn oidcc_ensure_other_scope_order_succeeds() {
    let op = Op::start().await;
    let forward = AuthRequest::new(CLIENT).with("scope", "openid email");
    let reordered = AuthRequest::new(CLIENT)
        .without("client_id")
        .without("response_type")
        .with("scope", "email openid")
        .with("response_type", "code")
        .with("client_id", CLIENT);
    assert!(reordered.query().starts_with("redirect_uri="));
    let mut subjects = Vec::new();
    for req in [forward, reordered] {
        let (_, tokens, claims) = op.code_flow(&req).await;
        let sub = claims["sub"].as_str().expect("sub").to_owned();
        let info = userinfo_claims(op.userinfo(&tokens.access_token).await, &sub).await;
        assert_eq!(info["email"], op.citizen.email.as_str());
        subjects.push(sub);
    }
    assert_eq!(subjects[0], subjects[1]);
}

/// `oidcc-ensure-post-request-succeeds`: the authorization request as a
/// form POST works like GET (Core §3.1.2.1: the OP MUST support both).
#[tokio::test]
async fn oidcc_ensure_post_request_succeeds() {
    let op = Op::start().await;
    let req = AuthRequest::new(CLIENT);
    let callback = op.authorize_by_post(&req).await;
    assert!(callback.signed_in() && callback.consented);
    let tokens = op.exchange(&req, &callback).await;
    op.id_token_claims(&tokens, &req).await;
}
