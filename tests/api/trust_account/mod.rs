//! Account changes need the holder; sign-in lockout cannot be raced or
//! sidestepped; a password reset or change and a lock end all access,
//! refresh tokens included. Each test performs the attack.

mod access;
mod changes;
mod lockout;

use serde_json::Value;

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
