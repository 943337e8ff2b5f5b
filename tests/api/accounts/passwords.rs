//! Passwords: a forgotten one is reset by an emailed link that works once
//! and ends every session (the answer tells nobody whether the account
//! exists); changing one needs the current one, a same-site request, and
//! ends the other sessions.

use serde_json::{Value, json};

use crate::helpers::{Citizen, Problem, TestApp, token_in};

#[tokio::test]
async fn a_forgotten_password_is_reset_by_email_once_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(10).await;
    let token = a_reset_is_asked_for_and_emailed(&app, &citizen).await;

    // A weak password is refused without using the link up.
    let weak = app
        .post_json(
            "/api/v1/password-resets/confirm",
            &json!({ "token": token, "new_password": "password123" }),
        )
        .await;
    assert_eq!(Problem::read(weak, 422).await.fields()[0], "new_password");

    let new_password = "Phở bò tái nạm 2027";
    let ok = app
        .post_json(
            "/api/v1/password-resets/confirm",
            &json!({ "token": token, "new_password": new_password }),
        )
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(
        app.get("/api/v1/me").await.status(),
        401,
        "old sessions are ended"
    );
    let again = app
        .post_json(
            "/api/v1/password-resets/confirm",
            &json!({ "token": token, "new_password": "Một mật khẩu khác 99" }),
        )
        .await;
    assert_eq!(again.status(), 400, "a reset link works once");

    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.sign_in(&citizen.national_id, new_password)
            .await
            .status(),
        303
    );
    // The link-carrying body is not kept once delivered.
    assert_eq!(
        app.count("SELECT count(*) AS n FROM emails WHERE template = 'password_reset' AND body_text IS NOT NULL").await,
        0
    );
}

/// A reset asked for a known and an unknown account gets the same answer;
/// the known one's holder is emailed a link. Its token.
async fn a_reset_is_asked_for_and_emailed(app: &TestApp, citizen: &Citizen) -> String {
    let known = app
        .post_json(
            "/api/v1/password-resets",
            &json!({ "username": citizen.national_id }),
        )
        .await;
    let unknown = app
        .post_json(
            "/api/v1/password-resets",
            &json!({ "username": "079090123999" }),
        )
        .await;
    assert_eq!(
        (known.status().as_u16(), unknown.status().as_u16()),
        (202, 202)
    );
    let (a, b): (Value, Value) = (
        known.json().await.expect("json"),
        unknown.json().await.expect("json"),
    );
    assert_eq!(
        a, b,
        "the answer does not reveal whether the account exists"
    );

    app.run_jobs().await;
    let mail = app
        .smtp
        .messages_to(&citizen.email)
        .into_iter()
        .find(|m| m.subject() == "Đặt lại mật khẩu tài khoản Dịch vụ công")
        .expect("a reset email");
    assert!(
        mail.text()
            .contains(&format!("{}/reset-password?token=", app.address))
    );
    token_in(&mail.text()).expect("token")
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(11).await;
    let other = TestApp::fresh_client();
    assert_eq!(
        app.sign_in_with(&other, &citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );

    let wrong = app
        .post_json("/api/v1/me/password", &json!({ "current_password": "không đúng đâu", "new_password": "Bánh mì Sài Gòn 2028" }))
        .await;
    assert_eq!(
        Problem::read(wrong, 422).await.fields()[0],
        "current_password"
    );

    let cross_site = app
        .client
        .post(app.url("/api/v1/me/password"))
        .header("origin", "https://evil.example")
        .json(&json!({ "current_password": citizen.password, "new_password": "Bánh mì Sài Gòn 2028" }))
        .send()
        .await
        .expect("post");
    assert_eq!(
        cross_site.status(),
        403,
        "a request from another site is refused"
    );

    let ok = app
        .post_json("/api/v1/me/password", &json!({ "current_password": citizen.password, "new_password": "Bánh mì Sài Gòn 2028" }))
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(
        app.get("/api/v1/me").await.status(),
        200,
        "this session stays"
    );
    let res = other.get(app.url("/api/v1/me")).send().await.expect("get");
    assert_eq!(res.status(), 401, "the other session is ended");
    assert_eq!(
        app.sign_in_with(
            &TestApp::fresh_client(),
            &citizen.national_id,
            "Bánh mì Sài Gòn 2028"
        )
        .await
        .status(),
        303
    );
}
