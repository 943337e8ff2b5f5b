//! Sign-in protections: one generic answer for wrong passwords, then a
//! lockout, all audited; forms without their CSRF token change nothing;
//! forwarded addresses count only behind trusted proxies.

use serde_json::Value;

use crate::helpers::{Citizen, TestApp};

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

/// The address the security events record for a sign-in sent with
/// `X-Forwarded-For: forwarded_for`.
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
