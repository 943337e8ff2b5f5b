//! Changes of email and phone need the holder (a stolen or stale session
//! cannot make them), and the undo link sent to the old address restores it
//! and locks the account, ending every access an intruder had.

use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn a_stolen_session_older_than_five_minutes_cannot_change_the_email_without_the_password() {
    let app = TestApp::spawn().await;
    let citizen = signed_in_citizen(&app, 304).await;
    app.clock.advance(chrono::Duration::minutes(11));

    let res = app
        .post_json(
            "/api/v1/me/email",
            &json!({ "email": "ke-gian@example.vn" }),
        )
        .await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "reauthentication_required");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("mật khẩu")
    );
    let res = app
        .post_json(
            "/api/v1/me/email",
            &json!({ "email": "ke-gian@example.vn", "current_password": WRONG }),
        )
        .await;
    assert_eq!(res.status(), 422);
    app.run_jobs().await;
    assert!(app.smtp.messages_to("ke-gian@example.vn").is_empty());
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["email"], citizen.email.as_str());

    // The holder, with the password, can; the old address is told.
    let res = app
        .post_json(
            "/api/v1/me/email",
            &json!({ "email": "moi-304@example.vn", "current_password": citizen.password }),
        )
        .await;
    assert_eq!(res.status(), 202);
    app.run_jobs().await;
    assert_eq!(app.smtp.messages_to("moi-304@example.vn").len(), 1);
    let notice = last_email(&app, &citizen.email, CHANGE_SUBJECT);
    assert!(notice.text().contains("/undo-change?token="));
    assert!(notice.text().contains("địa chỉ email"));
}

#[tokio::test]
async fn a_stale_session_cannot_change_the_phone_and_the_undo_link_restores_it() {
    let app = TestApp::spawn().await;
    let citizen = signed_in_citizen(&app, 305).await;
    app.clock.advance(chrono::Duration::minutes(11));
    let res = app
        .post_json("/api/v1/me/phone", &json!({ "phone": "0903 111 222" }))
        .await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "reauthentication_required");

    // A fresh strong sign-in is enough (within ten minutes).
    app.sign_in_strongly(&citizen.national_id, &citizen.password)
        .await;
    let res = app
        .post_json("/api/v1/me/phone", &json!({ "phone": "0903 111 222" }))
        .await;
    assert_eq!(res.status(), 202);
    app.run_jobs().await;
    let code: String = app.sms_messages()[0]
        .1
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect();
    let res = app
        .post_json("/api/v1/me/phone/verify", &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), 200);
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["phone"], "+84903111222");

    let notice = last_email(&app, &citizen.email, CHANGE_SUBJECT);
    assert!(notice.text().contains("số điện thoại"));
    let undo = token_in(&notice.text()).expect("undo token");
    let res = app
        .post_json("/api/v1/account-changes/undo", &json!({ "token": undo }))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.get("/api/v1/me").await.status(), 401, "sessions ended");
    let phone = app
        .count(&format!(
            "SELECT count(*) AS n FROM accounts WHERE national_id = '{}' \
             AND phone = '+84912345678' AND phone_verified_at IS NULL AND status = 'disabled'",
            citizen.national_id
        ))
        .await;
    assert_eq!(phone, 1, "the old number is back and the account is locked");
}

#[tokio::test]
async fn the_undo_link_restores_the_old_email_locks_the_account_and_ends_all_its_access() {
    let app = TestApp::spawn().await;
    let citizen = signed_in_citizen(&app, 306).await;
    let token = refresh_token(&app).await;
    let (intruder, intruder_reset) =
        an_intruder_moves_the_account_to_their_address(&app, &citizen).await;
    let undo = the_holder_follows_the_undo_link(&app, &citizen).await;
    let intrusion = Intrusion {
        refresh_token: token,
        intruder,
        intruder_reset,
        undo,
    };
    locked_every_access_is_dead(&app, &citizen, &intrusion).await;

    // The holder recovers through a reset sent to the restored address.
    app.post_json(
        "/api/v1/password-resets",
        &json!({ "username": citizen.email }),
    )
    .await;
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
    assert_eq!(
        app.sign_in_with(
            &TestApp::fresh_client(),
            &citizen.email,
            "Phở bò Nam Định 2029"
        )
        .await
        .status(),
        303
    );
}

/// What the intruder holds, and the holder's undo link.
struct Intrusion {
    refresh_token: String,
    intruder: reqwest::Client,
    intruder_reset: String,
    undo: String,
}

/// An intruder who has the password and, for a moment, the mailbox (the
/// emailed code) moves the account to their address and asks for a reset
/// link there; their browser and that link's token.
async fn an_intruder_moves_the_account_to_their_address(
    app: &TestApp,
    citizen: &Citizen,
) -> (reqwest::Client, String) {
    let intruder = TestApp::fresh_client();
    app.sign_in_strongly_with(&intruder, &citizen.national_id, &citizen.password)
        .await;
    let res = intruder
        .post(app.url("/api/v1/me/email"))
        .json(&json!({ "email": "ke-gian-306@example.vn" }))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 202);
    app.run_jobs().await;
    let verify =
        token_in(&app.smtp.messages_to("ke-gian-306@example.vn")[0].text()).expect("token");
    let res = app
        .post_json(
            "/api/v1/registrations/verify-email",
            &json!({ "token": verify }),
        )
        .await;
    assert_eq!(res.status(), 200);
    // The intruder also asks for a reset link at their new address.
    app.post_json(
        "/api/v1/password-resets",
        &json!({ "username": "ke-gian-306@example.vn" }),
    )
    .await;
    app.run_jobs().await;
    let intruder_reset =
        token_in(&last_email(app, "ke-gian-306@example.vn", "Đặt lại mật khẩu").text())
            .expect("reset token");
    (intruder, intruder_reset)
}

/// The holder follows the link sent to the old address (the page's button);
/// the undo token.
async fn the_holder_follows_the_undo_link(app: &TestApp, citizen: &Citizen) -> String {
    let notice = last_email(app, &citizen.email, CHANGE_SUBJECT);
    let undo = token_in(&notice.text()).expect("undo token");
    let holder = TestApp::fresh_client();
    let page = holder
        .get(app.url(&format!("/undo-change?token={undo}")))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("page");
    let csrf = input_value(&page, "csrf_token").expect("csrf");
    let res = holder
        .post(app.url("/undo-change"))
        .form(&[("token", undo.as_str()), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("page").contains("khóa tài khoản"));
    undo
}

/// Locked: every session, the refresh token and the intruder's reset link
/// are dead; the old address is back; the undo link works once.
async fn locked_every_access_is_dead(app: &TestApp, citizen: &Citizen, intrusion: &Intrusion) {
    let (token, intruder, intruder_reset, undo) = (
        &intrusion.refresh_token,
        &intrusion.intruder,
        &intrusion.intruder_reset,
        &intrusion.undo,
    );
    assert_refused(app, token).await;
    assert_eq!(app.get("/api/v1/me").await.status(), 401);
    let res = intruder
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM accounts WHERE national_id = '{}' \
             AND email = '{}' AND email_verified_at IS NOT NULL AND status = 'disabled'",
            citizen.national_id, citizen.email
        ))
        .await,
        1,
        "the old address is back and the account is locked"
    );
    let res = app
        .post_json(
            "/api/v1/password-resets/confirm",
            &json!({ "token": intruder_reset, "new_password": "Kẻ gian đổi mật khẩu 2029" }),
        )
        .await;
    assert_eq!(res.status(), 400, "the intruder's reset link is void");
    assert_eq!(
        app.sign_in_with(
            &TestApp::fresh_client(),
            &citizen.national_id,
            &citizen.password
        )
        .await
        .status(),
        403
    );
    let res = app
        .post_json("/api/v1/account-changes/undo", &json!({ "token": undo }))
        .await;
    assert_eq!(res.status(), 400, "the link works once");
}
