//! Guessing at the back office's passkey step: every refused assertion
//! counts on the civil servant's sign-in counter, with wrong passwords.

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
