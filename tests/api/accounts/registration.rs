//! Registration: the verification email, one account per national ID even
//! under concurrency, every invalid field named in Vietnamese, verification
//! links that work once, expire and are replaced, and registrations never
//! verified purged.

use serde_json::{Value, json};

use super::{profile, verify_email};
use crate::helpers::{Citizen, Problem, TestApp, token_in};

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

    let res = verify_email(&app, &token).await;
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

    let me = profile(&app).await;
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
    let first = verify_email(&app, &token).await;
    assert_eq!(first.status(), 200);
    let again = Problem::read(verify_email(&app, &token).await, 400).await;
    assert_eq!(again.code, "invalid_token");
    let forged = verify_email(&app, &"x".repeat(43)).await;
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
    let problem = Problem::read(res, 422).await;
    let fields = problem.fields();
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
    let national = problem
        .errors
        .iter()
        .find(|e| e.field == "national_id")
        .expect("national_id");
    assert_eq!(national.code, "national_id_province");
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 0);

    // A birth year that contradicts the ID, and a password equal to the ID.
    let mut c = Citizen::sample(4);
    c.date_of_birth = "1991-05-17".into();
    c.password = c.national_id.clone();
    let res = app
        .post_json("/api/v1/registrations/citizens", &c.json())
        .await;
    let problem = Problem::read(res, 422).await;
    let codes: Vec<&str> = problem.errors.iter().map(|e| e.code.as_str()).collect();
    assert!(codes.contains(&"national_id_birth_year"), "{codes:?}");
    assert!(
        codes.contains(&"password_identifier") || codes.contains(&"password_common"),
        "{codes:?}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 0);
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
    let old = verify_email(&app, &first).await;
    assert_eq!(old.status(), 400, "a new link voids the old one");
    let new = verify_email(&app, &second).await;
    assert_eq!(new.status(), 200);
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
async fn an_expired_verification_link_is_refused() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(18);
    let token = app.register(&citizen).await;
    app.clock.advance(chrono::Duration::hours(25));
    let problem = Problem::read(verify_email(&app, &token).await, 400).await;
    assert_eq!(problem.code, "invalid_token");
}
