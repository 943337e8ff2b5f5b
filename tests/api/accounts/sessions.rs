//! Sessions: the owner lists them and ends one (a new device is announced
//! by email), signing out needs a confirmed form, and sessions end after
//! idle and absolute timeouts.

use serde_json::Value;

use crate::helpers::{Citizen, Problem, TestApp, input_value};

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

    let phone = a_new_device_signs_in_and_is_announced(&app, &citizen).await;
    the_phones_session_is_ended_from_the_list(&app, &phone).await;

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

/// A second device signs in; a sign-in from a new device is announced by
/// email naming it. Its client.
async fn a_new_device_signs_in_and_is_announced(
    app: &TestApp,
    citizen: &Citizen,
) -> reqwest::Client {
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
    phone
}

/// Both sessions are listed; ending the phone's from here ends it, once.
async fn the_phones_session_is_ended_from_the_list(app: &TestApp, phone: &reqwest::Client) {
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
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::spawn().await;
    app.signed_in_citizen(8).await;
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
    let problem = Problem::read(app.get("/api/v1/me").await, 401).await;
    assert_eq!(problem.code, "not_signed_in");
}

#[tokio::test]
async fn sessions_end_after_idle_and_absolute_timeouts() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(17).await;
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
