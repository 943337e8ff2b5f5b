//! Citizen accounts: registration, email verification, sign-in, sessions.

use serde_json::{Value, json};

use crate::helpers::{Citizen, TestApp, input_value, token_in};

#[tokio::test]
async fn a_citizen_registers_verifies_the_email_and_signs_in() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(1);
    let token = app.register(&citizen).await;

    let mail = &app.smtp.messages_to(&citizen.email)[0];
    assert_eq!(
        mail.subject(),
        "Xác minh địa chỉ email cho tài khoản Dịch vụ công"
    );
    assert!(
        mail.text()
            .contains(&format!("{}/verify-email?token=", app.address))
    );
    assert_eq!(token.len(), 43);

    // Before verification the account cannot be used.
    let res = app.sign_in(&citizen.national_id, &citizen.password).await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .expect("page")
            .contains("chưa được kích hoạt")
    );

    let res = app
        .post_json(
            "/api/v1/registrations/verify-email",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(res.status(), 200);

    let res = app.sign_in(&citizen.national_id, &citizen.password).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/api/v1/me");
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        cookie.contains("es_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["national_id"], citizen.national_id);
    assert_eq!(me["full_name"], "Nguyễn Văn An");
    assert_eq!(me["assurance_level"], 1);
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["phone"], "+84912345678");
    assert_eq!(me["businesses"], json!([]));

    // The email works as a sign-in name too (case-insensitively).
    let other = TestApp::fresh_client();
    let res = app
        .sign_in_with(&other, &citizen.email.to_uppercase(), &citizen.password)
        .await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_verification_link_works_once() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(2);
    let token = app.register(&citizen).await;
    let first = app
        .post_json(
            "/api/v1/registrations/verify-email",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(first.status(), 200);
    let again = app
        .post_json(
            "/api/v1/registrations/verify-email",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(again.status(), 400);
    let body: Value = again.json().await.expect("json");
    assert_eq!(body["code"], "invalid_token");
    let forged = app
        .post_json(
            "/api/v1/registrations/verify-email",
            &json!({ "token": "x".repeat(43) }),
        )
        .await;
    assert_eq!(forged.status(), 400);
}

#[tokio::test]
async fn one_account_per_national_id_even_under_concurrent_registrations() {
    let app = TestApp::spawn().await;
    let base = Citizen::sample(3);
    let attempts = (0..8).map(|i| {
        let mut c = base.clone();
        c.email = format!("racer{i}@example.vn");
        let app = &app;
        async move {
            app.post_json("/api/v1/registrations/citizens", &c.json())
                .await
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    // A taken national ID answers like a free one: the form tells nobody
    // whose ID is registered.
    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");
    let bodies: std::collections::HashSet<String> =
        futures_util::future::join_all(results.into_iter().map(|r| r.text()))
            .await
            .into_iter()
            .map(|b| b.expect("body"))
            .collect();
    assert_eq!(bodies.len(), 1, "the same answer for all: {bodies:?}");
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 1);
    // One verification link; every other address learns the ID was taken.
    assert_eq!(app.count("SELECT count(*) AS n FROM emails").await, 8);
    assert_eq!(app.count("SELECT count(*) AS n FROM email_tokens").await, 1);
}

#[tokio::test]
async fn every_invalid_field_is_reported_in_vietnamese_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let res = app
        .post_json(
            "/api/v1/registrations/citizens",
            &json!({
                "national_id": "999090123456",
                "full_name": "A",
                "date_of_birth": "1990-02-30",
                "sex": "other",
                "email": "not-an-email",
                "phone": "0123",
                "password": "1234567890",
            }),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.expect("json");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    for field in [
        "national_id",
        "full_name",
        "date_of_birth",
        "sex",
        "email",
        "phone",
        "password",
    ] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    let national = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .find(|e| e["field"] == "national_id")
        .expect("national_id");
    assert_eq!(national["code"], "national_id_province");
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 0);

    // A birth year that contradicts the ID, and a password equal to the ID.
    let mut c = Citizen::sample(4);
    c.date_of_birth = "1991-05-17".into();
    c.password = c.national_id.clone();
    let res = app
        .post_json("/api/v1/registrations/citizens", &c.json())
        .await;
    let body: Value = res.json().await.expect("json");
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["code"].as_str().expect("code"))
        .collect();
    assert!(codes.contains(&"national_id_birth_year"), "{codes:?}");
    assert!(
        codes.contains(&"password_identifier") || codes.contains(&"password_common"),
        "{codes:?}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 0);
}

#[tokio::test]
async fn wrong_passwords_get_one_generic_answer_then_a_lockout_and_are_audited() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(5);
    app.active_citizen(&citizen).await;

    let wrong = app.sign_in(&citizen.national_id, "sai mật khẩu rồi").await;
    assert_eq!(wrong.status(), 401);
    let wrong_page = wrong.text().await.expect("page");
    let unknown = app.sign_in("079090999999", "sai mật khẩu rồi").await;
    assert_eq!(unknown.status(), 401);
    let unknown_page = unknown.text().await.expect("page");
    let message = "Tên đăng nhập hoặc mật khẩu không đúng.";
    assert!(wrong_page.contains(message) && unknown_page.contains(message));

    for _ in 0..4 {
        assert_eq!(
            app.sign_in(&citizen.national_id, "sai mật khẩu rồi")
                .await
                .status(),
            401
        );
    }
    // Five failures: now even the right password waits.
    let locked = app.sign_in(&citizen.national_id, &citizen.password).await;
    assert_eq!(locked.status(), 429);
    assert!(locked.headers().contains_key("retry-after"));
    assert!(
        locked
            .text()
            .await
            .expect("page")
            .contains("Đăng nhập sai quá nhiều lần")
    );

    assert_eq!(
        app.count("SELECT count(*) AS n FROM auth_events WHERE kind = 'sign_in_failed'")
            .await,
        5
    );
}

#[tokio::test]
async fn the_owner_lists_and_revokes_sessions_and_sees_security_events() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(6);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, "mật khẩu sai 123")
            .await
            .status(),
        401
    );
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );

    // A second device.
    let phone = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("DichVuCong-Android/1.0")
        .build()
        .expect("client");
    let res = app
        .sign_in_with(&phone, &citizen.national_id, &citizen.password)
        .await;
    assert_eq!(res.status(), 303);
    app.run_jobs().await;
    let alerts: Vec<_> = app
        .smtp
        .messages_to(&citizen.email)
        .into_iter()
        .filter(|m| m.subject().contains("Đăng nhập mới"))
        .collect();
    assert_eq!(
        alerts.len(),
        1,
        "a sign-in from a new device is announced by email"
    );
    assert!(alerts[0].text().contains("DichVuCong-Android/1.0"));

    let list: Value = app
        .get("/api/v1/me/sessions")
        .await
        .json()
        .await
        .expect("json");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    let other = items
        .iter()
        .find(|s| s["current"] == false)
        .expect("the phone's session");
    let id = other["id"].as_str().expect("id");

    let res = app
        .client
        .delete(app.url(&format!("/api/v1/me/sessions/{id}")))
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 204);
    let res = phone.get(app.url("/api/v1/me")).send().await.expect("get");
    assert_eq!(res.status(), 401, "the revoked session no longer works");
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/me/sessions/{id}")))
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 404);

    let events: Value = app
        .get("/api/v1/me/events")
        .await
        .json()
        .await
        .expect("json");
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds[..4],
        [
            "sign_in_succeeded",
            "sign_in_succeeded",
            "sign_in_failed",
            "email_verified"
        ]
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_change_nothing() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(7);
    app.active_citizen(&citizen).await;
    let res = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", citizen.national_id.as_str()),
            ("password", citizen.password.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    assert!(res.text().await.expect("page").contains("tải lại trang"));
    assert_eq!(app.get("/api/v1/me").await.status(), 401);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM auth_events WHERE kind LIKE 'sign_in%'")
            .await,
        0
    );
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(8);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    assert_eq!(app.get("/api/v1/me").await.status(), 200);

    let page = app.get("/logout").await.text().await.expect("page");
    assert!(
        page.contains("Bạn có muốn đăng xuất"),
        "a GET does not sign out"
    );
    assert_eq!(app.get("/api/v1/me").await.status(), 200);
    let csrf = input_value(&page, "csrf_token").expect("csrf");
    let res = app
        .client
        .post(app.url("/logout"))
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 303);
    let res = app.get("/api/v1/me").await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "not_signed_in");
}

#[tokio::test]
async fn resending_the_verification_replaces_the_link_and_reveals_nothing() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(9);
    let first = app.register(&citizen).await;
    let res = app
        .post_json(
            "/api/v1/registrations/resend-verification",
            &json!({ "email": citizen.email }),
        )
        .await;
    assert_eq!(res.status(), 202);
    let unknown = app
        .post_json(
            "/api/v1/registrations/resend-verification",
            &json!({ "email": "nobody@example.vn" }),
        )
        .await;
    assert_eq!(unknown.status(), 202);
    let (a, b): (Value, Value) = (
        res.json().await.expect("json"),
        unknown.json().await.expect("json"),
    );
    assert_eq!(
        a, b,
        "the answer does not tell registered from unknown addresses"
    );

    app.run_jobs().await;
    let mails = app.smtp.messages_to(&citizen.email);
    assert_eq!(mails.len(), 2);
    let second = token_in(&mails[1].text()).expect("token");
    assert_ne!(first, second);
    let old = app
        .post_json(
            "/api/v1/registrations/verify-email",
            &json!({ "token": first }),
        )
        .await;
    assert_eq!(old.status(), 400, "a new link voids the old one");
    let new = app
        .post_json(
            "/api/v1/registrations/verify-email",
            &json!({ "token": second }),
        )
        .await;
    assert_eq!(new.status(), 200);
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_email_once_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(10);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );

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
    let token = token_in(&mail.text()).expect("token");

    // A weak password is refused without using the link up.
    let weak = app
        .post_json(
            "/api/v1/password-resets/confirm",
            &json!({ "token": token, "new_password": "password123" }),
        )
        .await;
    assert_eq!(weak.status(), 422);
    let body: Value = weak.json().await.expect("json");
    assert_eq!(body["errors"][0]["field"], "new_password");

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

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(11);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
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
    assert_eq!(wrong.status(), 422);
    let body: Value = wrong.json().await.expect("json");
    assert_eq!(body["errors"][0]["field"], "current_password");

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

#[tokio::test]
async fn registrations_never_verified_are_deleted_after_two_days() {
    let app = TestApp::spawn().await;
    app.register(&Citizen::sample(12)).await;
    app.active_citizen(&Citizen::sample(13)).await;
    let worker = app.state.worker();

    worker.schedule_maintenance().await.expect("scheduled");
    worker
        .schedule_maintenance()
        .await
        .expect("scheduled twice");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM jobs WHERE kind = 'purge_stale_registrations' AND state = 'queued'").await,
        1,
        "many workers queue one run"
    );
    app.run_jobs().await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM accounts").await,
        2,
        "too young to purge"
    );

    app.clock.advance(chrono::Duration::hours(49));
    worker.schedule_maintenance().await.expect("scheduled");
    app.run_jobs().await;
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM accounts WHERE status = 'active'")
            .await,
        1
    );
}

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
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(
        me["email"],
        citizen.email.as_str(),
        "unchanged until verified"
    );

    app.run_jobs().await;
    let mail = app.smtp.messages_to("moi@example.vn");
    let token = token_in(&mail[0].text()).expect("token");
    let res = app
        .post_json(
            "/api/v1/registrations/verify-email",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
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
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
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
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["phone"], "+84912345678", "unchanged until verified");

    let res = app
        .post_json("/api/v1/me/phone/verify", &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), 200);
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
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
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["phone"], "+84912345678");
}

#[tokio::test]
async fn sessions_end_after_idle_and_absolute_timeouts() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(17);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    // Used every 25 minutes, the session lives on…
    for _ in 0..4 {
        app.clock.advance(chrono::Duration::minutes(25));
        assert_eq!(app.get("/api/v1/me").await.status(), 200);
    }
    // …but not past 31 idle minutes.
    app.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(app.get("/api/v1/me").await.status(), 401);

    // And never past 12 hours, however busy.
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    for _ in 0..28 {
        app.clock.advance(chrono::Duration::minutes(25));
        let status = app.get("/api/v1/me").await.status();
        assert_eq!(status, 200);
    }
    app.clock.advance(chrono::Duration::minutes(25));
    assert_eq!(
        app.get("/api/v1/me").await.status(),
        401,
        "12 h after sign-in the session ends"
    );
}

#[tokio::test]
async fn an_expired_verification_link_is_refused() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(18);
    let token = app.register(&citizen).await;
    app.clock.advance(chrono::Duration::hours(25));
    let res = app
        .post_json(
            "/api/v1/registrations/verify-email",
            &json!({ "token": token }),
        )
        .await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "invalid_token");
}

async fn ip_seen(app: &TestApp, forwarded_for: &str) -> String {
    let citizen = Citizen::sample(19);
    app.active_citizen(&citizen).await;
    let page = app.get("/login").await.text().await.expect("page");
    let csrf = crate::helpers::input_value(&page, "csrf_token").expect("csrf");
    let res = app
        .client
        .post(app.url("/login"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[
            ("username", citizen.national_id.as_str()),
            ("password", citizen.password.as_str()),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 303);
    let events: Value = app
        .get("/api/v1/me/events")
        .await
        .json()
        .await
        .expect("json");
    events["items"][0]["ip"].as_str().expect("ip").to_owned()
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_trusted_proxies() {
    let direct = TestApp::spawn().await;
    assert_eq!(
        ip_seen(&direct, "198.51.100.7").await,
        "127.0.0.1",
        "a client cannot choose its address"
    );
    let proxied = TestApp::spawn_with(crate::helpers::TestOptions {
        env: vec![("TRUSTED_PROXY_HOPS", "1".into())],
        ..crate::helpers::TestOptions::default()
    })
    .await;
    assert_eq!(
        ip_seen(&proxied, "203.0.113.9, 198.51.100.7").await,
        "198.51.100.7"
    );
}
