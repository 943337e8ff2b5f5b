//! A password reset or change and the support desk's lock end all access,
//! refresh tokens included.

use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn a_refresh_token_from_before_a_password_reset_is_refused_after_it() {
    let app = TestApp::spawn().await;
    let citizen = signed_in_citizen(&app, 301).await;
    let token = refresh_token(&app).await;

    let res = app
        .post_json(
            "/api/v1/password-resets",
            &json!({ "username": citizen.email }),
        )
        .await;
    assert_eq!(res.status(), 202);
    app.run_jobs().await;
    let reset =
        token_in(&last_email(&app, &citizen.email, "Đặt lại mật khẩu").text()).expect("token");
    let res = app
        .post_json(
            "/api/v1/password-resets/confirm",
            &json!({ "token": reset, "new_password": "Phở bò Nam Định 2029" }),
        )
        .await;
    assert_eq!(res.status(), 200);

    assert_refused(&app, &token).await;
    assert_eq!(
        app.get("/api/v1/me").await.status(),
        401,
        "sessions end too"
    );
}

#[tokio::test]
async fn a_refresh_token_from_before_a_password_change_is_refused_after_it() {
    let app = TestApp::spawn().await;
    let citizen = signed_in_citizen(&app, 302).await;
    let first = refresh_token(&app).await;
    let res = refresh(&app, &first).await;
    assert_eq!(res.status(), 200, "it works before the change");
    let rotated: Value = res.json().await.expect("json");
    let token = rotated["refresh_token"]
        .as_str()
        .expect("rotated")
        .to_owned();

    let res = app
        .post_json(
            "/api/v1/me/password",
            &json!({ "current_password": citizen.password, "new_password": "Phở bò Nam Định 2029" }),
        )
        .await;
    assert_eq!(res.status(), 200);

    assert_refused(&app, &token).await;
}

#[tokio::test]
async fn a_lock_by_the_support_desk_ends_refresh_tokens_and_sessions_until_unlocked() {
    let app = TestApp::spawn().await;
    let citizen = signed_in_citizen(&app, 303).await;
    let token = refresh_token(&app).await;

    let outcome =
        eservices::admin::set_account_lock(&app.state.identity, &citizen.national_id, true)
            .await
            .expect("locked");
    assert_eq!(outcome, eservices::admin::AccountLockOutcome::Changed);

    assert_refused(&app, &token).await;
    assert_eq!(app.get("/api/v1/me").await.status(), 401);
    let browser = TestApp::fresh_client();
    assert_eq!(
        app.sign_in_with(&browser, &citizen.national_id, &citizen.password)
            .await
            .status(),
        403,
        "the right password opens no locked account"
    );
    // A password reset does not reopen what the support desk locked.
    app.post_json(
        "/api/v1/password-resets",
        &json!({ "username": citizen.national_id }),
    )
    .await;
    app.run_jobs().await;
    assert!(
        app.smtp
            .messages_to(&citizen.email)
            .iter()
            .all(|m| !m.subject().contains("Đặt lại mật khẩu")),
        "no reset link for an account the support desk locked"
    );

    let outcome =
        eservices::admin::set_account_lock(&app.state.identity, &citizen.national_id, false)
            .await
            .expect("unlocked");
    assert_eq!(outcome, eservices::admin::AccountLockOutcome::Changed);
    assert_eq!(
        app.sign_in_with(&browser, &citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    assert!(
        eservices::admin::set_account_lock(&app.state.identity, "12345", true)
            .await
            .is_err(),
        "a malformed national ID is refused"
    );
}
