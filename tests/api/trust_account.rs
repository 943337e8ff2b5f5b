//! Account changes need the holder; sign-in lockout cannot be raced or
//! sidestepped; a password reset or change and a lock end all access,
//! refresh tokens included. Each test performs the attack.

use serde_json::{Value, json};

use crate::{
    helpers::{Citizen, TestApp, input_value, token_in},
    oidc_flow::{REDIRECT, SECRET, provider, register_client, tokens_for},
};

const CLIENT: &str = "app-trust-account";
const WRONG: &str = "sai mật khẩu rồi";

/// An active citizen signed in on `app.client`.
async fn signed_in_citizen(app: &TestApp, seq: u32) -> Citizen {
    let citizen = Citizen::sample(seq);
    app.active_citizen(&citizen).await;
    // The holder signs in strongly (password and the emailed code).
    app.sign_in_strongly(&citizen.national_id, &citizen.password)
        .await;
    citizen
}

/// A refresh token obtained by a relying party with `offline_access` for
/// the citizen signed in on `app.client`.
async fn refresh_token(app: &TestApp) -> String {
    provider(app).await;
    register_client(app, CLIENT, &["openid", "account", "offline_access"], None).await;
    let tokens = tokens_for(
        app,
        CLIENT,
        SECRET,
        REDIRECT,
        "openid account offline_access",
    )
    .await;
    tokens["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned()
}

/// The relying party uses its refresh token.
async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    TestApp::fresh_client()
        .post(app.url("/oauth2/token"))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .expect("refresh")
}

async fn assert_refused(app: &TestApp, token: &str) {
    let res = refresh(app, token).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");
}

/// Fetches the sign-in form with `client`; returns its CSRF token.
async fn login_csrf(app: &TestApp, client: &reqwest::Client) -> String {
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("page");
    input_value(&page, "csrf_token").expect("a CSRF field")
}

async fn post_login(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    username: &str,
    password: &str,
) -> u16 {
    client
        .post(app.url("/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", csrf),
            ("return_to", "/api/v1/me"),
        ])
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

async fn sign_in_failures(app: &TestApp) -> i64 {
    app.count("SELECT count(*) AS n FROM auth_events WHERE kind = 'sign_in_failed'")
        .await
}

/// The last email to `to` whose subject contains `subject_part`.
fn last_email(app: &TestApp, to: &str, subject_part: &str) -> crate::helpers::ReceivedEmail {
    app.smtp
        .messages_to(to)
        .into_iter()
        .rev()
        .find(|m| m.subject().contains(subject_part))
        .unwrap_or_else(|| panic!("an email to {to} about {subject_part}"))
}

const CHANGE_SUBJECT: &str = "Thông tin liên hệ";

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

    // An intruder who has the password and, for a moment, the mailbox (the
    // emailed code) moves the account to their address.
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
        token_in(&last_email(&app, "ke-gian-306@example.vn", "Đặt lại mật khẩu").text())
            .expect("reset token");

    // The holder follows the link sent to the old address (the page's button).
    let notice = last_email(&app, &citizen.email, CHANGE_SUBJECT);
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

    // Locked: every session, the refresh token and the intruder's reset link are dead.
    assert_refused(&app, &token).await;
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

#[tokio::test]
async fn twelve_parallel_wrong_passwords_check_at_most_the_locking_attempt() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(307);
    app.active_citizen(&citizen).await;
    // Open the pool's connections first, so the burst waits on nothing but
    // the throttle (opening many at once on a busy machine may time out).
    let mut warm = Vec::new();
    for _ in 0..8 {
        warm.push(app.db().await);
    }
    drop(warm);
    let mut attempts = Vec::new();
    for _ in 0..12 {
        let client = TestApp::fresh_client();
        let csrf = login_csrf(&app, &client).await;
        attempts.push((client, csrf));
    }
    let statuses = futures_util::future::join_all(
        attempts
            .iter()
            .map(|(client, csrf)| post_login(&app, client, csrf, &citizen.national_id, WRONG)),
    )
    .await;
    // Four free failures and the fifth, which locks: no more are checked.
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let limit = eservices::identity::throttle::SIGN_IN_ACCOUNT.free_failures as usize + 1;
    assert!(checked <= limit, "{checked} checked: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 12 - checked);
    assert!(sign_in_failures(&app).await <= limit as i64);
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        429,
        "locked, even for the right password"
    );
}

#[tokio::test]
async fn the_national_id_and_the_email_of_one_account_share_one_counter() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(308);
    app.active_citizen(&citizen).await;
    for i in 0..5 {
        let name = if i % 2 == 0 {
            citizen.national_id.clone()
        } else {
            citizen.email.to_uppercase()
        };
        assert_eq!(app.sign_in(&name, WRONG).await.status(), 401);
    }
    assert_eq!(
        app.sign_in(&citizen.email, &citizen.password)
            .await
            .status(),
        429
    );
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        429
    );
    // An unknown name answers like a known one, on a counter of its own.
    assert_eq!(app.sign_in("079090999998", WRONG).await.status(), 401);
}

#[tokio::test]
async fn wrong_passwords_on_the_account_pages_count_against_the_sign_in_counter() {
    let app = TestApp::spawn().await;
    let citizen = signed_in_citizen(&app, 309).await;
    for _ in 0..3 {
        let res = app
            .post_json(
                "/api/v1/me/password",
                &json!({ "current_password": WRONG, "new_password": "Phở bò Nam Định 2029" }),
            )
            .await;
        assert_eq!(res.status(), 422);
    }
    for _ in 0..2 {
        let res = app
            .post_json(
                "/api/v1/me/email",
                &json!({ "email": "moi-309@example.vn", "current_password": WRONG }),
            )
            .await;
        assert_eq!(res.status(), 422);
    }
    let res = app
        .post_json(
            "/api/v1/me/password",
            &json!({ "current_password": citizen.password, "new_password": "Phở bò Nam Định 2029" }),
        )
        .await;
    assert_eq!(
        res.status(),
        429,
        "five wrong passwords lock the account's counter"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "sign_in_locked");
    assert_eq!(
        app.sign_in_with(&TestApp::fresh_client(), &citizen.email, &citizen.password)
            .await
            .status(),
        429
    );
}
