//! The `business` and `address` claims: a representative acting for a
//! confirmed business gets them from verified data only (the address VNeID
//! vouched for, nothing else); refresh keeps the business; issuing,
//! refreshing and revoking tokens are in the citizen's security events.

use eservices::oidc::clients::{NewClient, register};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, TestOptions, Tokens, VneidOptions, vneid_account},
    oidc_flow::{REDIRECT, SECRET, provider, tokens_for},
};

#[tokio::test]
async fn business_and_address_claims_come_from_verified_data_and_tokens_are_audited() {
    let app = app_with_a_representative().await;
    provider(&app).await;
    register(
        &app.state,
        NewClient {
            client_id: "cong-doanh-nghiep".into(),
            redirect_uris: vec![REDIRECT.into()],
            secret: Some(SECRET.into()),
            scopes: vec![
                "openid".into(),
                "business".into(),
                "national_id".into(),
                "address".into(),
                "offline_access".into(),
            ],
            ..NewClient::default()
        },
    )
    .await
    .expect("client");
    assert_eq!(app.sign_in_with_vneid("rep").await.status(), 303);
    crate::trust_business::acting_for_a_confirmed_business(&app).await;

    let tokens = tokens_for(
        &app,
        "cong-doanh-nghiep",
        SECRET,
        REDIRECT,
        "openid business national_id address offline_access",
    )
    .await;
    let access = tokens["access_token"].as_str().expect("access");
    userinfo_names_the_business_and_the_vouched_address(&app, access).await;
    let refresh_token = tokens["refresh_token"].as_str().expect("rt");
    refresh_keeps_the_business_and_revocation_works(&app, refresh_token).await;

    let events: Value = app
        .get("/api/v1/me/events")
        .await
        .json()
        .await
        .expect("events");
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .or_else(|| events.as_array())
        .expect("a list")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for kind in [
        "consent_granted",
        "oidc_tokens_issued",
        "oidc_tokens_refreshed",
        "oidc_token_revoked",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}

/// The address VNeID vouches for (without the unexpected member).
fn vouched_address() -> Value {
    json!({
        "formatted": "12 Lê Lợi, Phường Sài Gòn, Thành phố Hồ Chí Minh",
        "street_address": "12 Lê Lợi",
        "locality": "Phường Sài Gòn",
        "region": "Thành phố Hồ Chí Minh",
        "country": "VN",
    })
}

/// An app whose VNeID knows a representative `rep` with an address (and a
/// member we do not expect), asked for with scope `address`.
async fn app_with_a_representative() -> TestApp {
    let mut rep = vneid_account(
        "rep",
        "vneid-sub-rep-oidc",
        "079188000002",
        "Trần Thị Đại Diện",
        "1988-04-04",
        "female",
    );
    rep["claims"]["address"] = vouched_address();
    rep["claims"]["address"]["unexpected"] = json!("dropped");
    TestApp::spawn_with(TestOptions {
        vneid: Some(VneidOptions {
            accounts: vec![rep],
            fail_with: None,
        }),
        env: vec![(
            "VNEID_SCOPES",
            "openid profile national_id address".to_owned(),
        )],
        ..TestOptions::default()
    })
    .await
}

/// UserInfo for `access_token`.
async fn userinfo(app: &TestApp, access_token: &str) -> Value {
    app.client
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json")
}

/// UserInfo names the person, the business acted for (with the capacity),
/// and exactly the address VNeID vouched for.
async fn userinfo_names_the_business_and_the_vouched_address(app: &TestApp, access: &str) {
    let userinfo = userinfo(app, access).await;
    assert_eq!(userinfo["national_id"], "079188000002", "{userinfo}");
    assert_eq!(
        userinfo["acting_for"]["tax_code"], "0100109106",
        "{userinfo}"
    );
    assert_eq!(userinfo["business"][0]["capacity"], "representative");
    assert_eq!(userinfo["business"][0]["name"], "Công ty TNHH Bến Nghé");
    assert_eq!(
        userinfo["address"],
        vouched_address(),
        "the address VNeID vouched for, and nothing else"
    );
}

/// Refresh keeps the business; revocation works (and is audited).
async fn refresh_keeps_the_business_and_revocation_works(app: &TestApp, refresh_token: &str) {
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth("cong-doanh-nghiep", Some(SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .expect("refresh");
    let refreshed = Tokens::read(res).await;
    let userinfo = userinfo(app, &refreshed.access_token).await;
    assert_eq!(userinfo["acting_for"]["tax_code"], "0100109106");
    let res = app
        .client
        .post(app.url("/oauth2/revoke"))
        .basic_auth("cong-doanh-nghiep", Some(SECRET))
        .form(&[("token", refreshed.refresh())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 200);
}
