//! RP-Initiated Logout 1.0 by POST (§2: the OP MUST support GET and POST
//! at the end-session endpoint): the same confirmation as GET, then back to
//! the registered post-logout URI with the client's `state`; the session is
//! over, so `prompt=none` needs a sign-in again (the Foundation's
//! `oidcc-rp-initiated-logout` checks it so).

use super::{AuthRequest, CLIENT, Op, POST_LOGOUT, location};
use crate::helpers::input_value;

/// The browser POSTs the logout request `form`; the answer.
async fn post_logout(op: &Op, form: &[(&str, &str)]) -> reqwest::Response {
    op.browser
        .post(op.app.url("/oauth2/logout"))
        .form(form)
        .send()
        .await
        .expect("logout")
}

/// `rp-initiated-logout` with the request POSTed as a form.
#[tokio::test]
async fn rp_initiated_logout_by_post() {
    let op = Op::start().await;
    let (_, tokens, _) = op.code_flow(&AuthRequest::new(CLIENT)).await;
    // A long state, as the suite sends, to see it comes back intact.
    let state = eservices::crypto::tokens::generate().repeat(3);
    let form = [
        ("id_token_hint", tokens.id_token()),
        ("post_logout_redirect_uri", POST_LOGOUT),
        ("state", state.as_str()),
        ("client_id", CLIENT),
    ];
    let res = post_logout(&op, &form).await;
    assert_eq!(res.status(), 200, "the confirmation page, as for GET");
    let page = res.text().await.expect("page");
    let logout_id = input_value(&page, "logout_id").expect("a logout id");
    let csrf = input_value(&page, "csrf_token").expect("a CSRF field");
    let confirm = [
        ("logout_id", logout_id.as_str()),
        ("csrf_token", csrf.as_str()),
        ("decision", "logout"),
    ];
    let res = post_logout(&op, &confirm).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("{POST_LOGOUT}?state={state}"));

    let req = AuthRequest::new(CLIENT).with("prompt", "none");
    let callback = op.authorize(&req).await;
    assert_eq!(callback.error(&op, &req), "login_required");

    // An unregistered post-logout URI is refused, as by GET: no redirect.
    let form = [
        ("post_logout_redirect_uri", "https://evil.example/"),
        ("client_id", CLIENT),
    ];
    let res = post_logout(&op, &form).await;
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());
}
