//! Guessing at the back office's passkey step: every refused assertion
//! counts on the civil servant's sign-in counter, with wrong passwords;
//! and a lost key goes with the admin's second-factor reset.

use chrono::Duration;

use super::{WARD, passkey_step, password_only, staff_with_passkey};
use crate::{helpers::TestApp, passkeys::Authenticator};

#[tokio::test]
async fn refused_passkeys_at_the_staff_step_lock_the_username_like_wrong_passwords() {
    let app = TestApp::spawn().await;
    let (staff, _, mut own) = staff_with_passkey(&app, "tn.pk7", WARD, "receiver").await;
    let browser = TestApp::fresh_client();
    assert_eq!(password_only(&app, &browser, &staff).await.status(), 303);
    // Keys nobody registered: each refused, each counted.
    for _ in 0..5 {
        let (status, body) = passkey_step(&app, &browser, &mut Authenticator::new()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("passkey_invalid"))
        );
    }
    // The fifth locked the username: the right passkey waits…
    let (status, body) = passkey_step(&app, &browser, &mut own).await;
    assert_eq!(status, 429, "{body}");
    // …and so do the right password and TOTP.
    app.clock.advance(Duration::seconds(30));
    let res = app
        .staff_sign_in(
            &TestApp::fresh_client(),
            &staff.username,
            &staff.password,
            &app.totp_now(&staff.secret),
        )
        .await;
    assert_eq!(res.status(), 429);
    assert_eq!(super::events(&app, "sign_in_failed").await.len(), 5);
}

#[tokio::test]
async fn an_admins_second_factor_reset_removes_the_passkeys_too() {
    let app = TestApp::spawn().await;
    let admin = app.staff("qt.pk8", WARD, &["agency_admin"]).await;
    let admin_browser = app.backoffice(&admin).await;
    let (clerk, _, _) = staff_with_passkey(&app, "tn.pk8", WARD, "receiver").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM passkeys").await, 1);
    let member: uuid::Uuid = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use eservices::storage::schema::staff;
        let mut conn = app.db().await;
        staff::table
            .filter(staff::username.eq("tn.pk8"))
            .select(staff::id)
            .first(&mut conn)
            .await
            .expect("staff")
    };
    let page = format!("/backoffice/staff/{member}");
    let (_, html) = app.page(&admin_browser, &page).await;
    let csrf = crate::helpers::input_value(&html, "csrf_token").expect("csrf");
    let res = admin_browser
        .post(app.url(&page))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("change", "reset_second_factor"),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .expect("reset");
    assert_eq!(res.status(), 303);
    assert_eq!(app.count("SELECT count(*) AS n FROM passkeys").await, 0);
    let reset = super::events(&app, "staff.second_factor_reset").await;
    assert_eq!(reset[0]["passkeys_removed"], 1);
    // The lost key no longer opens a passkey step: they enrol again.
    let res = password_only(&app, &TestApp::fresh_client(), &clerk).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers().get("location").and_then(|l| l.to_str().ok()),
        Some("/backoffice/enrol")
    );
}
