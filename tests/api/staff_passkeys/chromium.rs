//! The back office's passkeys in a real headless Chromium with WebDriver's
//! virtual authenticator: a civil servant signs in with TOTP, registers a
//! passkey on /backoffice/passkeys (the page's own script), signs out, then
//! signs in with the password and the passkey. Screenshots go to
//! target/screenshots/.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::Value;

use crate::{
    browser::{Driver, click, fill, shot},
    browser_passkeys::add_authenticator,
    helpers::{TestApp, TestOptions, TestStaff},
};

const NAME: &str = "Khóa trên máy tính bàn";

#[tokio::test]
async fn a_civil_servant_registers_a_passkey_in_chromium_and_signs_in_with_it_instead_of_totp() {
    let app = TestApp::spawn_with(TestOptions {
        localhost: true,
        ..TestOptions::default()
    })
    .await;
    let staff = app.staff("tn.chromium", super::WARD, &["receiver"]).await;
    let driver = Driver::start().await;
    let c = driver.browser().await;
    add_authenticator(&c).await;

    totp_then_a_passkey_registered_with_the_page(&c, &app, &staff).await;
    the_password_and_the_passkey_sign_in(&c, &staff).await;
    c.close().await.expect("close");

    let signed_in = super::events(&app, "signed_in").await;
    let amr: Vec<&str> = signed_in
        .last()
        .expect("the passkey sign-in")
        .get("amr")
        .and_then(Value::as_array)
        .expect("amr")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(amr[0], "pwd", "{amr:?}");
    assert!(amr.contains(&"hwk") || amr.contains(&"swk"), "{amr:?}");
    assert!(!amr.contains(&"otp"), "{amr:?}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM passkeys WHERE last_used_at IS NOT NULL")
            .await,
        1
    );
}

/// Password and TOTP, then the home page's link to my passkeys, where the
/// page's button registers one.
async fn totp_then_a_passkey_registered_with_the_page(
    c: &Client,
    app: &TestApp,
    staff: &TestStaff,
) {
    c.goto(&app.url("/backoffice/login")).await.expect("login");
    fill(c, "input[name=username]", &staff.username).await;
    fill(c, "input[name=password]", &staff.password).await;
    fill(c, "input[name=totp]", &app.totp_now(&staff.secret)).await;
    click(c, "button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("a[href='/backoffice/passkeys']"))
        .await
        .expect("the home page links to my passkeys")
        .click()
        .await
        .expect("open my passkeys");

    // Register one with the page's button.
    c.wait()
        .for_element(Locator::Css("#passkey-name"))
        .await
        .expect("the passkeys page");
    fill(c, "#passkey-name", NAME).await;
    click(c, "button[data-passkey=register]").await;
    let listed = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(&format!("//td[normalize-space()='{NAME}']")))
        .await;
    if listed.is_err() {
        shot(c, "staff-pk-failed-register").await;
        let error = c
            .find(Locator::Css("#passkey-error"))
            .await
            .expect("the error box")
            .text()
            .await
            .unwrap_or_default();
        panic!("the passkey is not listed; #passkey-error says: {error:?}");
    }
    shot(c, "staff-pk-01-registered").await;
}

/// Signed out, the password with no code and the passkey sign in.
async fn the_password_and_the_passkey_sign_in(c: &Client, staff: &TestStaff) {
    click(c, "form[action='/backoffice/logout'] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("input[name=username]"))
        .await
        .expect("signed out: the sign-in page");
    fill(c, "input[name=username]", &staff.username).await;
    fill(c, "input[name=password]", &staff.password).await;
    click(c, "button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("button[data-passkey=staff_second_step]"))
        .await
        .expect("the passkey step")
        .click()
        .await
        .expect("use the passkey");
    let home = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("a[href='/backoffice/queue']"))
        .await;
    if home.is_err() {
        shot(c, "staff-pk-failed-sign-in").await;
        panic!("not signed in with the passkey");
    }
    shot(c, "staff-pk-02-signed-in").await;
}
