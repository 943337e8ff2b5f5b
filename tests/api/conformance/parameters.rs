//! Basic OP, the optional request parameters every OP must at least accept
//! without an error (Core §15.1): `display`, `ui_locales`,
//! `claims_locales`, `login_hint`, `acr_values`, `claims`, and parameters
//! no specification defines (RFC 6749 §3.1).

use super::code_flow::discovery;
use super::{AuthRequest, CLIENT, Op, userinfo_claims};

/// The code flow of `req` completes: a code, tokens, a valid ID token.
async fn completes(op: &Op, req: &AuthRequest) {
    let (callback, _, _) = op.code_flow(req).await;
    assert!(callback.signed_in(), "a fresh browser signs in");
}

/// `oidcc-display-page`.
#[tokio::test]
async fn oidcc_display_page() {
    let op = Op::start().await;
    completes(&op, &AuthRequest::new(CLIENT).with("display", "page")).await;
}

/// `oidcc-display-popup`.
#[tokio::test]
async fn oidcc_display_popup() {
    let op = Op::start().await;
    completes(&op, &AuthRequest::new(CLIENT).with("display", "popup")).await;
}

/// `oidcc-ui-locales`: the suite's `se` is no error; a language we have
/// (`en`, after it) gives the sign-in page in that language.
#[tokio::test]
async fn oidcc_ui_locales() {
    let op = Op::start().await;
    let req = AuthRequest::new(CLIENT).with("ui_locales", "se en");
    let (callback, _, _) = op.code_flow(&req).await;
    let page = callback.login_page.expect("a sign-in page");
    assert!(page.contains("<html lang=\"en\">"), "{page}");
}

/// `oidcc-claims-locales`: `claims_locales=se` is no error.
#[tokio::test]
async fn oidcc_claims_locales() {
    let op = Op::start().await;
    completes(&op, &AuthRequest::new(CLIENT).with("claims_locales", "se")).await;
}

/// `oidcc-login-hint`: the hint (an email address, as the suite sends) is
/// no error and prefills the sign-in form.
#[tokio::test]
async fn oidcc_login_hint() {
    let op = Op::start().await;
    let email = op.citizen.email.clone();
    let req = AuthRequest::new(CLIENT).with("login_hint", &email);
    let (callback, _, _) = op.code_flow(&req).await;
    let page = callback.login_page.expect("a sign-in page");
    assert!(page.contains(&format!("value=\"{email}\"")), "prefilled");
}

/// `oidcc-ensure-request-with-unknown-parameter-succeeds`: `extra=foobar`
/// is ignored (RFC 6749 §3.1).
#[tokio::test]
async fn oidcc_ensure_request_with_unknown_parameter_succeeds() {
    let op = Op::start().await;
    completes(&op, &AuthRequest::new(CLIENT).with("extra", "foobar")).await;
}

/// `oidcc-ensure-request-with-acr-values-succeeds`: the suite asks for
/// every value of `acr_values_supported`, in order of preference; the
/// sign-in must succeed (Core §15.1: at minimum, asking is no error), and
/// the ID token should carry one of them. The person here is a level-1
/// citizen with a password, as the suite's tester may be.
#[tokio::test]
async fn oidcc_ensure_request_with_acr_values_succeeds() {
    let op = Op::start().await;
    let doc = discovery(&op).await;
    let supported: Vec<&str> = doc["acr_values_supported"]
        .as_array()
        .expect("acr_values_supported")
        .iter()
        .map(|v| v.as_str().expect("a string"))
        .collect();
    let req = AuthRequest::new(CLIENT).with("acr_values", &supported.join(" "));
    let callback = op.authorize(&req).await;
    assert_eq!(callback.param("error"), None, "{:?}", callback.params);
    let tokens = op.exchange(&req, &callback).await;
    let claims = op.id_token_claims(&tokens, &req).await;
    let acr = claims["acr"].as_str().expect("acr");
    assert!(supported.contains(&acr), "{acr}");
}

/// `oidcc-claims-essential`: `name` asked for as an essential UserInfo
/// claim; the sign-in must succeed. We do not take the `claims` parameter
/// (discovery says so), so the suite warns when `name` is missing; the ID
/// token must not carry it either way.
#[tokio::test]
async fn oidcc_claims_essential() {
    let op = Op::start().await;
    assert_eq!(discovery(&op).await["claims_parameter_supported"], false);
    let claims = r#"{"userinfo":{"name":{"essential":true}}}"#;
    let req = AuthRequest::new(CLIENT).with("claims", claims);
    let (_, tokens, id) = op.code_flow(&req).await;
    assert!(id.get("name").is_none(), "{id}");
    let sub = id["sub"].as_str().expect("sub");
    let info = userinfo_claims(op.userinfo(&tokens.access_token).await, sub).await;
    if let Some(name) = info.get("name") {
        assert_eq!(name, op.citizen.full_name.as_str());
    }
}
