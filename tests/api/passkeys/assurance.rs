//! What relying parties are told: `amr` names the methods of the session
//! (`pwd`, `otp`, `hwk`, `swk`, `mfa`), and `acr` says level 2 only for an
//! account proven at level 2 in a strong session; asking for level 2 with a
//! weaker session leads to the second step, not to an error.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{Authenticator, add_passkey, listed, passkey_step};
use crate::{
    helpers::{Citizen, TestApp},
    oidc_flow::{REDIRECT, SECRET, provider, tokens_for},
};

const LOA_1: &str = "urn:vn:hcm:eservices:loa:1";
const LOA_2: &str = "urn:vn:hcm:eservices:loa:2";

/// The claims of the ID token a relying party gets for `app.client`'s session.
async fn id_token_claims(app: &TestApp) -> Value {
    let tokens = tokens_for(app, "cong-thong-tin", SECRET, REDIRECT, "openid").await;
    let jwt = tokens["id_token"].as_str().expect("an ID token");
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json")
}

/// `amr` and `acr` of the session of `app.client`.
async fn assurance(app: &TestApp) -> (Value, Value) {
    let claims = id_token_claims(app).await;
    (claims["amr"].clone(), claims["acr"].clone())
}

async fn level_2_citizen(app: &TestApp, seq: u32) -> Citizen {
    let citizen = Citizen::sample(seq);
    app.active_citizen(&citizen).await;
    let mut db = app.db().await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE accounts SET assurance_level = 2 WHERE national_id = '{}'",
            citizen.national_id
        )),
        &mut db,
    )
    .await
    .expect("raised");
    citizen
}

#[tokio::test]
async fn level_2_is_claimed_only_for_a_strong_session_and_asked_for_by_a_step_up() {
    let mut app = TestApp::spawn().await;
    provider(&app).await;
    let citizen = level_2_citizen(&app, 1460).await;
    let res = app.sign_in(&citizen.national_id, &citizen.password).await;
    assert_eq!(res.status(), 303);
    assert_eq!(assurance(&app).await, (json!(["pwd"]), json!(LOA_1)));

    // A relying party that needs level 2 sends the citizen to the second step.
    let res = app
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id=cong-thong-tin&redirect_uri={}\
             &scope=openid&state=s1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256&acr_values=urn%3Avn%3Ahcm%3Aeservices%3Aloa%3A2",
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("ascii");
    assert!(location.starts_with("/login/verify"), "{location}");

    assert_eq!(app.step_up_by_email(&app.client).await.status(), 303);
    assert_eq!(
        assurance(&app).await,
        (json!(["pwd", "otp", "mfa"]), json!(LOA_2))
    );

    let mut authenticator = Authenticator::new();
    add_passkey(&app, &app.client, &mut authenticator, "Khóa").await;
    app.client = TestApp::fresh_client();
    let res = passkey_step(&app, &app.client, &mut authenticator, "signin").await;
    assert_eq!(res.status(), 200);
    assert_eq!(assurance(&app).await, (json!(["hwk", "mfa"]), json!(LOA_2)));

    // A password, then the passkey as the second step.
    app.client = TestApp::fresh_client();
    let res = app.sign_in(&citizen.email, &citizen.password).await;
    assert_eq!(res.status(), 303);
    let res = passkey_step(&app, &app.client, &mut authenticator, "second_step").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        assurance(&app).await,
        (json!(["pwd", "hwk", "mfa"]), json!(LOA_2))
    );
}

#[tokio::test]
async fn a_synced_passkey_is_swk_and_a_level_1_account_stays_at_level_1() {
    let mut app = TestApp::spawn().await;
    provider(&app).await;
    super::strong_citizen(&app, &app.client, 1461).await;
    let mut authenticator = Authenticator::synced();
    let item = add_passkey(&app, &app.client, &mut authenticator, "Điện thoại").await;
    assert_eq!(item["synced"], true);

    app.client = TestApp::fresh_client();
    let res = passkey_step(&app, &app.client, &mut authenticator, "signin").await;
    assert_eq!(res.status(), 200);
    assert_eq!(listed(&app, &app.client).await[0]["synced"], true);
    assert_eq!(assurance(&app).await, (json!(["swk", "mfa"]), json!(LOA_1)));
}

#[tokio::test]
async fn a_device_bound_passkey_of_a_level_1_account_is_hwk_at_level_1() {
    let mut app = TestApp::spawn().await;
    provider(&app).await;
    super::strong_citizen(&app, &app.client, 1462).await;
    let mut authenticator = Authenticator::new();
    add_passkey(&app, &app.client, &mut authenticator, "Khóa").await;
    app.client = TestApp::fresh_client();
    let res = passkey_step(&app, &app.client, &mut authenticator, "signin").await;
    assert_eq!(res.status(), 200);
    assert_eq!(assurance(&app).await, (json!(["hwk", "mfa"]), json!(LOA_1)));
}
