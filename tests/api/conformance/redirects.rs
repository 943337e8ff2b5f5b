//! Basic OP, requests the provider must refuse: no `response_type`, a
//! redirect URI nobody registered; and the redirect-URI query modules of
//! the dynamic plan, which apply to our exact matching as well.

use super::{AuthRequest, CLIENT, OTHER_CLIENT, Op, REDIRECT, REDIRECT_WITH_QUERY};

/// The browser opens `req` and gets an error page: never a redirect, to
/// the URI asked for or any other.
async fn error_page(op: &Op, req: &AuthRequest) -> String {
    let res = op
        .browser
        .get(op.app.url(&req.path()))
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none(), "no redirect");
    let html = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html"));
    assert!(html, "a page for the person: {:?}", res.headers());
    res.text().await.expect("page")
}

/// `oidcc-response-type-missing`: without `response_type` the browser goes
/// back with `unsupported_response_type` or `invalid_request` (RFC 6749
/// §3.1.1), in the query, with `state` and `iss`, and no code.
#[tokio::test]
async fn oidcc_response_type_missing() {
    let op = Op::start().await;
    let req = AuthRequest::new(CLIENT).without("response_type");
    let callback = op.authorize(&req).await;
    assert!(!callback.signed_in());
    let error = callback.error(&op, &req);
    assert!(
        ["unsupported_response_type", "invalid_request"].contains(&error),
        "{error}"
    );
}

/// `oidcc-ensure-registered-redirect-uri`: a redirect URI with a random
/// path nobody registered gets an error page.
#[tokio::test]
async fn oidcc_ensure_registered_redirect_uri() {
    let op = Op::start().await;
    let random: String = eservices::crypto::tokens::generate()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(10)
        .collect();
    let unregistered = format!("https://rp.example/test/a/oidf/callback/{random}");
    let req = AuthRequest::new(CLIENT).with("redirect_uri", &unregistered);
    error_page(&op, &req).await;

    // Signed in and consented, the same request still goes nowhere.
    op.code_flow(&AuthRequest::new(CLIENT)).await;
    error_page(&op, &req).await;
}

/// `oidcc-redirect-uri-query-OK`: a registered redirect URI with a query
/// works; the response keeps the query and adds its parameters.
#[tokio::test]
async fn oidcc_redirect_uri_query_ok() {
    let op = Op::start().await;
    let req = AuthRequest::new(CLIENT).with("redirect_uri", REDIRECT_WITH_QUERY);
    let callback = op.authorize(&req).await;
    assert_eq!(callback.param("dummy1"), Some("lorem"));
    assert_eq!(callback.param("dummy2"), Some("ipsum"));
    let tokens = op.exchange(&req, &callback).await;
    op.id_token_claims(&tokens, &req).await;
}

/// `oidcc-redirect-uri-query-mismatch`: the registered URI's query
/// replaced by another gets an error page.
#[tokio::test]
async fn oidcc_redirect_uri_query_mismatch() {
    let op = Op::start().await;
    for mismatched in [
        format!("{REDIRECT}?foo=bar"),
        REDIRECT_WITH_QUERY.replace("ipsum", "dolor"),
    ] {
        let req = AuthRequest::new(CLIENT).with("redirect_uri", &mismatched);
        error_page(&op, &req).await;
    }
}

/// `oidcc-redirect-uri-query-added`: a query added to a redirect URI
/// registered without one gets an error page.
#[tokio::test]
async fn oidcc_redirect_uri_query_added() {
    let op = Op::start().await;
    let added = format!("{REDIRECT}?foo=bar");
    let req = AuthRequest::new(OTHER_CLIENT).with("redirect_uri", &added);
    error_page(&op, &req).await;
    let added = format!("{REDIRECT_WITH_QUERY}&foo=bar");
    let req = AuthRequest::new(CLIENT).with("redirect_uri", &added);
    error_page(&op, &req).await;
}
