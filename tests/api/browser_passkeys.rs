//! Passkeys end to end in a real headless Chromium with WebDriver's virtual
//! authenticator (W3C WebAuthn §11): a level-2 citizen signs in with a
//! password, steps up with an email code, adds a passkey on /account, signs
//! out, then signs in to a relying party with the passkey alone (no
//! username typed) and the ID token says level 2 with a hardware-bound or
//! synced key. Screenshots go to target/screenshots/.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use fantoccini::{Client, Locator, wd::WebDriverCompatibleCommand};
use serde_json::{Value, json};
use sha2::Digest;

use crate::{
    browser::{Driver, click, fill, shot},
    helpers::{Citizen, TestApp, TestOptions, sign_in_code_in, wait_until},
    oidc_flow::{REDIRECT, SECRET, query, register_client},
};

const VERIFIER: &str = "browser-passkeys-verifier-0123456789-0123456789-abc";
const PASSKEY_NAME: &str = "Máy tính ở nhà";

/// A command of WebDriver's WebAuthn extension, under the session's URL.
#[derive(Debug)]
struct WebAuthnCommand {
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for WebAuthnCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(ToString::to_string),
        )
    }
}

/// Adds a virtual platform authenticator (resident keys, user verification
/// that always succeeds); returns its id.
pub(crate) async fn add_authenticator(c: &Client) -> String {
    let id = c
        .issue_cmd(WebAuthnCommand {
            method: reqwest::Method::POST,
            path: "authenticator".into(),
            body: Some(json!({
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserVerified": true,
            })),
        })
        .await
        .expect("a virtual authenticator (chromedriver's WebAuthn extension)");
    id.as_str().expect("the authenticator's id").to_owned()
}

/// The credentials the virtual authenticator holds.
async fn credentials(c: &Client, authenticator: &str) -> Vec<Value> {
    c.issue_cmd(WebAuthnCommand {
        method: reqwest::Method::GET,
        path: format!("authenticator/{authenticator}/credentials"),
        body: None,
    })
    .await
    .expect("the credentials")
    .as_array()
    .expect("a list")
    .clone()
}

/// An active citizen proven at level 2.
async fn level2_citizen(app: &TestApp, seq: u32) -> Citizen {
    use diesel_async::RunQueryDsl;
    let citizen = Citizen::sample(seq);
    app.active_citizen(&citizen).await;
    let mut conn = app.db().await;
    let raised =
        diesel::sql_query("UPDATE accounts SET assurance_level = 2 WHERE national_id = $1")
            .bind::<diesel::sql_types::Text, _>(&citizen.national_id)
            .execute(&mut conn)
            .await
            .expect("raise");
    assert_eq!(raised, 1);
    citizen
}

/// The text of the element `css`.
async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .expect(css)
        .text()
        .await
        .expect("text")
}

/// The newest email code sent to `email`.
fn email_code(app: &TestApp, email: &str) -> String {
    let mails = app.smtp.messages_to(email);
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.subject().contains("Mã xác thực"))
        .expect("an email with a code");
    sign_in_code_in(&mail.text()).expect("a 6-digit code in the email")
}

/// Steps up the browser's session with an email code on /login/verify.
async fn step_up_by_email(c: &Client, app: &TestApp, email: &str) {
    click(c, "#step-up-link").await;
    c.wait()
        .for_element(Locator::Css(
            "form[action='/login/verify/email-code'] button",
        ))
        .await
        .expect("the second step's page")
        .click()
        .await
        .expect("send a code");
    let field = c
        .wait()
        .for_element(Locator::Css("input[name=code]"))
        .await
        .expect("the code field");
    let app_ref = app;
    wait_until("the code email", Duration::from_secs(20), || async move {
        app_ref.run_jobs().await;
        app_ref
            .smtp
            .messages_to(email)
            .iter()
            .any(|m| m.subject().contains("Mã xác thực"))
    })
    .await;
    shot(c, "pk-02-verify").await;
    field
        .send_keys(&email_code(app, email))
        .await
        .expect("type the code");
    click(c, "form[action='/login/verify'] button[type=submit]").await;
}

#[tokio::test]
async fn a_citizen_adds_a_passkey_in_chromium_and_signs_in_to_a_relying_party_with_it() {
    let app = TestApp::spawn_with(TestOptions {
        localhost: true,
        ..TestOptions::default()
    })
    .await;
    let citizen = level2_citizen(&app, 61).await;
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    register_client(&app, "cong-dat-dai", &["openid", "profile"], None).await;
    let driver = Driver::start().await;
    let c = driver.browser().await;
    let authenticator = add_authenticator(&c).await;

    a_password_alone_is_not_enough_and_an_email_code_steps_up(&c, &app, &citizen).await;
    a_passkey_is_registered_and_held_by_the_authenticator(&c, &app, &citizen, &authenticator).await;
    // Sign out.
    c.goto(&app.url("/logout")).await.expect("logout");
    click(&c, "form[action='/logout'] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("a[href='/login']"))
        .await
        .expect("signed out");

    let code = a_relying_party_signs_in_with_the_passkey_alone(&c, &app).await;
    c.close().await.expect("close");
    the_id_token_says_level_two_and_no_password(&app, &code).await;
}

/// A password alone: the account page asks for more before a passkey; the
/// email code makes the session strong: level 2.
async fn a_password_alone_is_not_enough_and_an_email_code_steps_up(
    c: &Client,
    app: &TestApp,
    citizen: &Citizen,
) {
    c.goto(&app.url("/account")).await.expect("account");
    c.wait()
        .for_element(Locator::Css("input[name=username]"))
        .await
        .expect("sent to sign in first");
    fill(c, "input[name=username]", &citizen.national_id).await;
    fill(c, "input[name=password]", &citizen.password).await;
    click(c, "form[action='/login'] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("#step-up-notice"))
        .await
        .expect("the account page asks to verify more");
    assert!(text_of(c, "#session-level").await.contains("Mức 1"));
    shot(c, "pk-01-account-password-only").await;

    // The email code makes the session strong: level 2.
    step_up_by_email(c, app, &citizen.email).await;
    c.wait()
        .for_element(Locator::Css("#passkeys"))
        .await
        .expect("back on the account page");
    assert!(
        c.find(Locator::Css("#step-up-notice")).await.is_err(),
        "no notice once stepped up"
    );
    assert!(text_of(c, "#session-level").await.contains("Mức 2"));
}

/// Register a passkey: the browser's ceremony against the virtual
/// authenticator, which then holds one discoverable credential for
/// localhost; the account has it stored.
async fn a_passkey_is_registered_and_held_by_the_authenticator(
    c: &Client,
    app: &TestApp,
    citizen: &Citizen,
    authenticator: &str,
) {
    fill(c, "#passkey-name", PASSKEY_NAME).await;
    click(c, "button[data-passkey=register]").await;
    let listed = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(&format!(
            "//table[@id='passkey-list']//span[@class='passkey-name'][normalize-space()='{PASSKEY_NAME}']"
        )))
        .await;
    if listed.is_err() {
        shot(c, "pk-failed-register").await;
        panic!(
            "the passkey is not listed; #passkey-error says: {:?}",
            text_of(c, "#passkey-error").await
        );
    }
    shot(c, "pk-03-account-with-passkey").await;
    let held = credentials(c, authenticator).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(
        held[0]["isResidentCredential"], true,
        "a discoverable credential"
    );
    assert_eq!(held[0]["rpId"], "localhost");
    let stored = app
        .count(&format!(
            "SELECT count(*) AS n FROM passkeys p JOIN passkey_owners o USING (user_handle) \
             JOIN accounts a ON a.id = o.account_id WHERE a.national_id = '{}'",
            citizen.national_id
        ))
        .await;
    assert_eq!(stored, 1);
}

/// A relying party's sign-in, with the passkey alone (no username typed),
/// then consent; the code sent back.
async fn a_relying_party_signs_in_with_the_passkey_alone(c: &Client, app: &TestApp) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
    let authorize = format!(
        "/oauth2/authorize?response_type=code&client_id=cong-dat-dai&redirect_uri={}&scope=openid%20profile&state=st&nonce=n1&code_challenge={challenge}&code_challenge_method=S256",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    c.goto(&app.url(&authorize)).await.expect("authorize");
    let button = c
        .wait()
        .for_element(Locator::Css("button[data-passkey=signin]"))
        .await
        .expect("the sign-in page's passkey button");
    shot(c, "pk-04-login").await;
    button.click().await.expect("sign in with a passkey");
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("button[name=decision][value=allow]"))
        .await
        .expect("signed in: the consent page")
        .click()
        .await
        .expect("allow");
    let browser = c;
    wait_until(
        "the redirect back to the client",
        Duration::from_secs(20),
        || async move {
            browser
                .current_url()
                .await
                .is_ok_and(|u| u.as_str().starts_with(REDIRECT))
        },
    )
    .await;
    let location = c.current_url().await.expect("url").to_string();
    assert_eq!(query(&location, "state").as_deref(), Some("st"));
    query(&location, "code").expect("a code")
}

/// The code buys an ID token at level 2 with multiple factors and a key,
/// without a password; the sign-in used the stored passkey.
async fn the_id_token_says_level_two_and_no_password(app: &TestApp, code: &str) {
    let res = reqwest::Client::new()
        .post(app.url("/oauth2/token"))
        .basic_auth("cong-dat-dai", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 200);
    let tokens: Value = res.json().await.expect("json");
    let id_token = tokens["id_token"].as_str().expect("an ID token");
    let payload = id_token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json");
    assert_eq!(claims["acr"], "urn:vn:hcm:eservices:loa:2", "{claims}");
    let amr: Vec<&str> = claims["amr"]
        .as_array()
        .expect("amr")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(amr.contains(&"mfa"), "{amr:?}");
    assert!(amr.contains(&"hwk") || amr.contains(&"swk"), "{amr:?}");
    assert!(!amr.contains(&"pwd"), "no password was typed: {amr:?}");

    // The sign-in used the stored passkey.
    let used = app
        .count("SELECT count(*) AS n FROM passkeys WHERE last_used_at IS NOT NULL")
        .await;
    assert_eq!(used, 1);
}
