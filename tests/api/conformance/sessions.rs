//! Basic OP, the sign-in session: `prompt=none` with and without one,
//! `prompt=login`, `max_age` (1 and 10000 seconds) and `id_token_hint`.
//! Time moves on the test clock, never by sleeping.

use chrono::Duration;
use serde_json::Value;

use super::{AuthRequest, CLIENT, Op};

/// A second ID token describes the same sign-in as the first: the same
/// `sub` and `auth_time` (the suite's `CheckIdTokenSubConsistent…` and
/// `CheckIdTokenAuthTimeClaimsSame…`).
fn same_sign_in(first: &Value, second: &Value) {
    assert_eq!(first["sub"], second["sub"]);
    assert_eq!(first["auth_time"], second["auth_time"]);
}

/// `oidcc-prompt-none-not-logged-in`: no session, `prompt=none` goes back
/// at once with `login_required`, the 128-character `state` intact and
/// our `iss`.
#[tokio::test]
async fn oidcc_prompt_none_not_logged_in() {
    let op = Op::start().await;
    let state = "s".repeat(64) + &eservices::crypto::tokens::generate() + "-0123456789abcdefghij";
    assert_eq!(state.len(), 128);
    let req = AuthRequest::new(CLIENT)
        .with("prompt", "none")
        .with("state", &state);
    let callback = op.authorize(&req).await;
    assert!(!callback.signed_in() && !callback.consented);
    assert_eq!(callback.error(&op, &req), "login_required");
}

/// `oidcc-prompt-none-logged-in`: signed in and consented once, a second
/// request with `prompt=none` comes straight back with a code for the same
/// sign-in.
#[tokio::test]
async fn oidcc_prompt_none_logged_in() {
    let op = Op::start().await;
    let (_, _, first) = op.code_flow(&AuthRequest::new(CLIENT)).await;
    let req = AuthRequest::new(CLIENT).with("prompt", "none");
    let (callback, _, second) = op.code_flow(&req).await;
    assert!(!callback.signed_in() && !callback.consented);
    same_sign_in(&first, &second);
}

/// `oidcc-prompt-login`: a second request a second later with
/// `prompt=login` makes the person sign in again; `auth_time` is later.
#[tokio::test]
async fn oidcc_prompt_login() {
    let op = Op::start().await;
    let (_, _, first) = op.code_flow(&AuthRequest::new(CLIENT)).await;
    op.app.clock.advance(Duration::seconds(1));
    let req = AuthRequest::new(CLIENT).with("prompt", "login");
    let (callback, _, second) = op.code_flow(&req).await;
    assert!(callback.signed_in(), "asked to sign in again");
    assert_eq!(first["sub"], second["sub"]);
    let auth_time = |claims: &Value| claims["auth_time"].as_i64().expect("auth_time");
    assert!(auth_time(&second) > auth_time(&first));
}

/// `oidcc-max-age-1`: two seconds after signing in, `max_age=1` makes the
/// person sign in again; the new ID token has a later, recent `auth_time`.
#[tokio::test]
async fn oidcc_max_age_1() {
    let op = Op::start().await;
    let (_, _, first) = op.code_flow(&AuthRequest::new(CLIENT)).await;
    op.app.clock.advance(Duration::seconds(2));
    let req = AuthRequest::new(CLIENT).with("max_age", "1");
    let (callback, _, second) = op.code_flow(&req).await;
    assert!(callback.signed_in(), "asked to sign in again");
    let auth_time = |claims: &Value| claims["auth_time"].as_i64().expect("auth_time");
    assert!(auth_time(&second) > auth_time(&first));
    assert!(auth_time(&second) >= op.app.now().timestamp() - 1, "recent");
}

/// `oidcc-max-age-10000`: signed in with `max_age=15000`, a request with
/// `max_age=10000` needs no new sign-in; both ID tokens carry the same
/// `auth_time` and `sub`.
#[tokio::test]
async fn oidcc_max_age_10000() {
    let op = Op::start().await;
    let req = AuthRequest::new(CLIENT).with("max_age", "15000");
    let (_, _, first) = op.code_flow(&req).await;
    assert!(first["auth_time"].is_i64(), "auth_time (Core §2, max_age)");
    op.app.clock.advance(Duration::seconds(30));
    let req = AuthRequest::new(CLIENT).with("max_age", "10000");
    let (callback, _, second) = op.code_flow(&req).await;
    assert!(!callback.signed_in());
    same_sign_in(&first, &second);
}

/// `oidcc-id-token-hint`: `prompt=none` with the first ID token as
/// `id_token_hint` comes straight back with a code for the same sign-in.
#[tokio::test]
async fn oidcc_id_token_hint() {
    let op = Op::start().await;
    let (_, tokens, first) = op.code_flow(&AuthRequest::new(CLIENT)).await;
    let req = AuthRequest::new(CLIENT)
        .with("prompt", "none")
        .with("id_token_hint", tokens.id_token());
    let (callback, _, second) = op.code_flow(&req).await;
    assert!(!callback.signed_in() && !callback.consented);
    same_sign_in(&first, &second);
}

/// Core §3.1.2.1 (no plan module checks it): an `id_token_hint` naming
/// someone else than the signed-in person is `login_required` under
/// `prompt=none`, never a code for the signed-in person.
#[tokio::test]
async fn an_id_token_hint_for_someone_else_is_login_required() {
    use crate::dpop::{APP, CALLBACK, code, exchange_without_proof, register_app};
    let app = crate::helpers::TestApp::spawn().await;
    register_app(&app, "optional").await;
    let first = code(&app, 3401, "").await;
    let res = exchange_without_proof(&app, &first).await;
    let tokens: serde_json::Value = res.json().await.expect("json");
    let hint = tokens["id_token"].as_str().expect("id token").to_owned();
    // Another person signs in on the same browser.
    app.signed_in_citizen(3402).await;
    let res = app
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={APP}&redirect_uri={}&scope=openid&state=s&prompt=none&id_token_hint={hint}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
            url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
        ))
        .await;
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        crate::oidc_flow::query(&location, "error").as_deref(),
        Some("login_required")
    );
    assert!(crate::oidc_flow::query(&location, "code").is_none());
}
