//! Basic OP, UserInfo: the three ways of presenting the access token, and
//! the claims each standard scope returns (Core §5.3, §5.4).

use serde_json::Value;

use super::code_flow::{discovery, lists};
use super::{AuthRequest, CLIENT, Op, userinfo_claims};

/// A sign-in for `scope`; the access token and the ID token's subject.
async fn signed_in_for(op: &Op, scope: &str) -> (String, String) {
    let req = AuthRequest::new(CLIENT).with("scope", scope);
    let (_, tokens, claims) = op.code_flow(&req).await;
    let sub = claims["sub"].as_str().expect("sub").to_owned();
    (tokens.access_token, sub)
}

/// `oidcc-userinfo-get`.
#[tokio::test]
async fn oidcc_userinfo_get() {
    let op = Op::start().await;
    let (access_token, sub) = signed_in_for(&op, "openid").await;
    userinfo_claims(op.userinfo(&access_token).await, &sub).await;
}

/// `oidcc-userinfo-post-header`: POST with the token in `Authorization`.
#[tokio::test]
async fn oidcc_userinfo_post_header() {
    let op = Op::start().await;
    let (access_token, sub) = signed_in_for(&op, "openid").await;
    let res = op
        .rp
        .post(op.app.url("/oauth2/userinfo"))
        .bearer_auth(&access_token)
        .send()
        .await
        .expect("userinfo");
    userinfo_claims(res, &sub).await;
}

/// `oidcc-userinfo-post-body`: POST with the token in the form body (RFC
/// 6750 §2.2): the claims; the token in the header and the body at once is
/// refused.
#[tokio::test]
async fn oidcc_userinfo_post_body() {
    let op = Op::start().await;
    let (access_token, sub) = signed_in_for(&op, "openid").await;
    let res = op
        .rp
        .post(op.app.url("/oauth2/userinfo"))
        .form(&[("access_token", access_token.as_str())])
        .send()
        .await
        .expect("userinfo");
    assert_eq!(res.status(), 200, "the form body's token is read");
    userinfo_claims(res, &sub).await;
    // One method per request (RFC 6750 §2): header and body together are refused.
    let res = op
        .rp
        .post(op.app.url("/oauth2/userinfo"))
        .bearer_auth(&access_token)
        .form(&[("access_token", access_token.as_str())])
        .send()
        .await
        .expect("userinfo");
    assert_eq!(res.status(), 401);
}

/// The UserInfo claims of a sign-in for `scope`, which discovery offers.
async fn claims_for(op: &Op, scope: &str) -> Value {
    let doc = discovery(op).await;
    for value in scope.split(' ') {
        assert!(lists(&doc, "scopes_supported", value), "{value}");
    }
    let (access_token, sub) = signed_in_for(op, scope).await;
    userinfo_claims(op.userinfo(&access_token).await, &sub).await
}

/// Whether `claims` has every one of `names`.
fn has_all(claims: &Value, names: &[&str]) -> bool {
    names.iter().all(|n| claims.get(*n).is_some())
}

/// The profile claims we hold (the suite warns about the other eleven of
/// Core §5.4, which we do not keep: nickname, picture, …).
const PROFILE: [&str; 3] = ["name", "birthdate", "gender"];
/// The email claims.
const EMAIL: [&str; 2] = ["email", "email_verified"];
/// The phone claims.
const PHONE: [&str; 2] = ["phone_number", "phone_number_verified"];

/// Gives the citizen an address, as a VNeID sign-in would have.
async fn with_address(op: &Op) -> Value {
    let address = serde_json::json!({
        "formatted": "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
        "street_address": "12 Lê Lợi",
        "locality": "Quận 1",
        "region": "TP. Hồ Chí Minh",
        "country": "VN",
    });
    let account = op.app.state_account(&op.citizen.national_id).await;
    let mut conn = op.app.db().await;
    eservices::storage::accounts::set_address(
        &mut conn,
        account.as_uuid(),
        &address,
        "vneid",
        op.app.now(),
    )
    .await
    .expect("address");
    address
}

/// `oidcc-scope-profile`.
#[tokio::test]
async fn oidcc_scope_profile() {
    let op = Op::start().await;
    let claims = claims_for(&op, "openid profile").await;
    assert!(has_all(&claims, &PROFILE), "{claims}");
    assert_eq!(claims["name"], op.citizen.full_name.as_str());
    assert_eq!(claims["birthdate"], op.citizen.date_of_birth.as_str());
    assert!(!has_all(&claims, &EMAIL[..1]), "only what the scope asks");
}

/// `oidcc-scope-email`.
#[tokio::test]
async fn oidcc_scope_email() {
    let op = Op::start().await;
    let claims = claims_for(&op, "openid email").await;
    assert_eq!(claims["email"], op.citizen.email.as_str());
    assert_eq!(claims["email_verified"], true);
    assert!(claims.get("name").is_none(), "only what the scope asks");
}

/// `oidcc-scope-address`: the address VNeID vouched for, as Core §5.1.1's
/// structure.
#[tokio::test]
async fn oidcc_scope_address() {
    let op = Op::start().await;
    let address = with_address(&op).await;
    let claims = claims_for(&op, "openid address").await;
    assert_eq!(claims["address"], address);
}

/// `oidcc-scope-phone`: E.164 number and whether it was verified.
#[tokio::test]
async fn oidcc_scope_phone() {
    let op = Op::start().await;
    let claims = claims_for(&op, "openid phone").await;
    assert!(has_all(&claims, &PHONE), "{claims}");
    assert_eq!(claims["phone_number"], "+84912345678");
    assert!(claims.get("email").is_none(), "only what the scope asks");
}

/// `oidcc-scope-all`.
#[tokio::test]
async fn oidcc_scope_all() {
    let op = Op::start().await;
    with_address(&op).await;
    let claims = claims_for(&op, "openid profile email address phone").await;
    for names in [&PROFILE[..], &EMAIL, &PHONE, &["address"]] {
        assert!(has_all(&claims, names), "{names:?} in {claims}");
    }
}
