//! Changes of contact details: a new email address replaces the old one
//! only once verified; a new phone number only after its SMS code, which
//! works once and is void after five wrong tries.

use serde_json::json;

use super::{profile, verify_email};
use crate::helpers::{Citizen, TestApp, token_in};

#[tokio::test]
async fn a_new_email_address_replaces_the_old_one_only_once_verified() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(14);
    app.active_citizen(&citizen).await;
    // Changes of email and phone need a strong sign-in.
    app.sign_in_strongly(&citizen.national_id, &citizen.password)
        .await;
    let res = app
        .post_json("/api/v1/me/email", &json!({ "email": "moi@example.vn" }))
        .await;
    assert_eq!(res.status(), 202);
    let me = profile(&app).await;
    assert_eq!(
        me["email"],
        citizen.email.as_str(),
        "unchanged until verified"
    );

    app.run_jobs().await;
    let mail = app.smtp.messages_to("moi@example.vn");
    let token = token_in(&mail[0].text()).expect("token");
    let res = verify_email(&app, &token).await;
    assert_eq!(res.status(), 200);
    let me = profile(&app).await;
    assert_eq!(me["email"], "moi@example.vn");
    assert_eq!(me["email_verified"], true);
    // The new address signs in; the old one no longer does.
    let other = TestApp::fresh_client();
    assert_eq!(
        app.sign_in_with(&other, "moi@example.vn", &citizen.password)
            .await
            .status(),
        303
    );
    assert_eq!(
        app.sign_in_with(&TestApp::fresh_client(), &citizen.email, &citizen.password)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn a_new_phone_number_is_verified_by_an_sms_code_before_it_replaces_the_old_one() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(15);
    app.active_citizen(&citizen).await;
    // Changes of email and phone need a strong sign-in.
    app.sign_in_strongly(&citizen.national_id, &citizen.password)
        .await;
    let me = profile(&app).await;
    assert_eq!(
        me["phone_verified"], false,
        "a registration's phone is not verified"
    );

    let bad = app
        .post_json("/api/v1/me/phone", &json!({ "phone": "0123 456" }))
        .await;
    assert_eq!(bad.status(), 422);
    let res = app
        .post_json("/api/v1/me/phone", &json!({ "phone": "+84 903 111 222" }))
        .await;
    assert_eq!(res.status(), 202);
    app.run_jobs().await;
    let messages = app.sms_messages();
    assert_eq!(messages.len(), 1);
    let (to, text) = &messages[0];
    assert_eq!(to, "+84903111222");
    assert!(
        text.starts_with("Mã xác minh số điện thoại Dịch vụ công TP.HCM: "),
        "{text}"
    );
    let code: String = text.chars().filter(char::is_ascii_digit).take(6).collect();
    assert_eq!(
        app.count("SELECT count(*) AS n FROM sms_messages WHERE status = 'sent' AND body IS NULL")
            .await,
        1,
        "the code is not kept once sent"
    );

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = app
        .post_json("/api/v1/me/phone/verify", &json!({ "code": wrong }))
        .await;
    assert_eq!(res.status(), 422);
    let me = profile(&app).await;
    assert_eq!(me["phone"], "+84912345678", "unchanged until verified");

    let res = app
        .post_json("/api/v1/me/phone/verify", &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), 200);
    let me = profile(&app).await;
    assert_eq!(me["phone"], "+84903111222");
    assert_eq!(me["phone_verified"], true);
    let again = app
        .post_json("/api/v1/me/phone/verify", &json!({ "code": code }))
        .await;
    assert_eq!(again.status(), 400, "a code works once");
}

#[tokio::test]
async fn five_wrong_sms_codes_void_the_verification() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(16);
    app.active_citizen(&citizen).await;
    // Changes of email and phone need a strong sign-in.
    app.sign_in_strongly(&citizen.national_id, &citizen.password)
        .await;
    assert_eq!(
        app.post_json("/api/v1/me/phone", &json!({ "phone": "0903111222" }))
            .await
            .status(),
        202
    );
    app.run_jobs().await;
    let code: String = app.sms_messages()[0]
        .1
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(
            app.post_json("/api/v1/me/phone/verify", &json!({ "code": wrong }))
                .await
                .status(),
            422
        );
    }
    let res = app
        .post_json("/api/v1/me/phone/verify", &json!({ "code": code }))
        .await;
    assert_eq!(
        res.status(),
        400,
        "after five wrong codes even the right one is refused"
    );
    let me = profile(&app).await;
    assert_eq!(me["phone"], "+84912345678");
}
