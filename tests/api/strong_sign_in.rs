//! Assurance as it is: a password alone is level 1 whatever the account;
//! level 2 and sensitive actions need a strong sign-in, which a client (or
//! our own API) gets by a step-up, not a refusal. Each test performs what
//! a holder of a stolen password would try.

use serde_json::{Value, json};

use crate::{
    helpers::{Citizen, TestApp, input_value},
    oidc_flow::{REDIRECT, SECRET, provider, query, register_client, tokens_for, tokens_with},
};

const CLIENT: &str = "app-strong-sign-in";
const LOA1: &str = "urn:vn:hcm:eservices:loa:1";
const LOA2: &str = "urn:vn:hcm:eservices:loa:2";

/// The claims of a JWT (its signature is checked by the provider's own tests).
fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json claims")
}

/// An active citizen proven at level 2 (as a counter check leaves it).
async fn proven_citizen(app: &TestApp, seq: u32) -> Citizen {
    let citizen = Citizen::sample(seq);
    app.active_citizen(&citizen).await;
    let raised = app
        .count(&format!(
            "WITH u AS (UPDATE accounts SET assurance_level = 2 WHERE national_id = '{}' \
             RETURNING 1) SELECT count(*) AS n FROM u",
            citizen.national_id
        ))
        .await;
    assert_eq!(raised, 1);
    citizen
}

/// Signs `citizen` in on `app.client` with the password alone.
async fn password_sign_in(app: &TestApp, citizen: &Citizen) {
    let res = app.sign_in(&citizen.national_id, &citizen.password).await;
    assert_eq!(res.status(), 303);
}

fn authorize_url(extra: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest("v".repeat(50).as_bytes()));
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "/oauth2/authorize?response_type=code&client_id={CLIENT}&redirect_uri={}&scope={}&state=st&nonce=n1&code_challenge={challenge}&code_challenge_method=S256{extra}",
        enc(REDIRECT),
        enc("openid account vault offline_access"),
    )
}

async fn setup(app: &TestApp) {
    provider(app).await;
    register_client(
        app,
        CLIENT,
        &["openid", "account", "vault", "offline_access"],
        None,
    )
    .await;
}

async fn tokens(app: &TestApp) -> Value {
    tokens_for(
        app,
        CLIENT,
        SECRET,
        REDIRECT,
        "openid account vault offline_access",
    )
    .await
}

#[tokio::test]
async fn a_password_alone_is_level_one_even_for_a_proven_account() {
    let app = TestApp::spawn().await;
    setup(&app).await;
    let citizen = proven_citizen(&app, 1501).await;
    password_sign_in(&app, &citizen).await;
    let tokens = tokens(&app).await;
    let id = claims(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(id["acr"], LOA1, "a stolen password must not act as level 2");
    assert_eq!(id["amr"], json!(["pwd"]));
    let access = claims(tokens["access_token"].as_str().expect("access token"));
    assert_eq!(access["acr"], LOA1);
    assert_eq!(access["amr"], json!(["pwd"]));
    assert!(access["auth_time"].is_i64());
    // The profile says what the account is proven to be.
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["assurance_level"], 2);
}

#[tokio::test]
async fn asking_for_level_two_steps_a_password_session_up_instead_of_refusing() {
    let app = TestApp::spawn().await;
    setup(&app).await;
    let citizen = proven_citizen(&app, 1502).await;
    password_sign_in(&app, &citizen).await;
    let acr = format!(
        "&acr_values={}",
        url::form_urlencoded::byte_serialize(LOA2.as_bytes()).collect::<String>()
    );

    // Without a page to show, the client is told that interaction is needed.
    let res = app.get(&authorize_url(&format!("{acr}&prompt=none"))).await;
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        query(&location, "error").as_deref(),
        Some("interaction_required")
    );

    // Otherwise the browser goes to the second step and back.
    let res = app.get(&authorize_url(&acr)).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        location.starts_with("/login/verify?return_to="),
        "{location}"
    );
    the_email_code_steps_the_session_up_under_a_new_token(&app).await;

    let tokens = tokens_with(
        &app,
        CLIENT,
        SECRET,
        REDIRECT,
        "openid account vault offline_access",
        &acr,
    )
    .await;
    let id = claims(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(id["acr"], LOA2);
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));

    // The owner's trail says how the session got there.
    let events: Value = app
        .get("/api/v1/me/events")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        events["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|e| e["kind"] == "step_up_succeeded"
                && e["detail"]["signed_in_with"] == "Mật khẩu + mã xác thực")
    );
}

/// The email code steps the session up under a new token (a copy of the
/// old one is worth nothing): still one session, now strong.
async fn the_email_code_steps_the_session_up_under_a_new_token(app: &TestApp) {
    let sessions_before: Value = app
        .get("/api/v1/me/sessions")
        .await
        .json()
        .await
        .expect("json");
    let res = app.step_up_by_email(&app.client).await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let sessions: Value = app
        .get("/api/v1/me/sessions")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(sessions["items"].as_array().expect("items").len(), 1);
    assert_ne!(
        sessions["items"][0]["id"],
        sessions_before["items"][0]["id"]
    );
    assert_eq!(
        sessions["items"][0]["signed_in_with"],
        "Mật khẩu + mã xác thực"
    );
}

#[tokio::test]
async fn a_level_one_account_asked_for_level_two_is_still_refused() {
    let app = TestApp::spawn().await;
    setup(&app).await;
    let citizen = Citizen::sample(1503);
    app.active_citizen(&citizen).await;
    app.sign_in_strongly(&citizen.national_id, &citizen.password)
        .await;
    let acr = format!(
        "&acr_values={}",
        url::form_urlencoded::byte_serialize(LOA2.as_bytes()).collect::<String>()
    );
    let res = app.get(&authorize_url(&acr)).await;
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(query(&location, "error").as_deref(), Some("access_denied"));
}

#[tokio::test]
async fn sensitive_actions_of_a_password_session_need_a_recent_strong_sign_in() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(1504);
    app.active_citizen(&citizen).await;
    password_sign_in(&app, &citizen).await;
    for (path, body) in [
        (
            "/api/v1/me/email",
            json!({ "email": "ke-gian-1504@example.vn" }),
        ),
        ("/api/v1/me/phone", json!({ "phone": "0903111504" })),
        ("/api/v1/me/passkeys/registrations", json!({})),
    ] {
        let res = app.post_json(path, &body).await;
        assert_eq!(res.status(), 401, "{path}");
        let problem: Value = res.json().await.expect("json");
        assert_eq!(problem["code"], "step_up_required", "{path}");
    }
    assert_eq!(app.get("/api/v1/vault/export").await.status(), 401);
    app.run_jobs().await;
    assert!(app.smtp.messages_to("ke-gian-1504@example.vn").is_empty());
    assert!(app.sms_messages().is_empty());

    // A second factor, and the same session may.
    let res = app.step_up_by_email(&app.client).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.get("/api/v1/vault/export").await.status(), 200);
    // Ten minutes later, no longer.
    app.clock.advance(chrono::Duration::minutes(11));
    assert_eq!(app.get("/api/v1/vault/export").await.status(), 401);
}

#[tokio::test]
async fn a_bearer_token_from_a_password_sign_in_gets_the_step_up_challenge() {
    let app = TestApp::spawn().await;
    setup(&app).await;
    let citizen = Citizen::sample(1505);
    app.active_citizen(&citizen).await;
    password_sign_in(&app, &citizen).await;
    let tokens = tokens(&app).await;
    let bearer = tokens["access_token"].as_str().expect("token").to_owned();
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/vault/export"))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        challenge.contains("error=\"insufficient_user_authentication\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("acr_values=\"urn:vn:hcm:eservices:mfa\""),
        "{challenge}"
    );
    assert!(challenge.contains("max_age=600"), "{challenge}");

    // The app asks as the challenge says; the browser takes the second step.
    let res = app
        .get(&authorize_url(
            "&acr_values=urn%3Avn%3Ahcm%3Aeservices%3Amfa&max_age=600",
        ))
        .await;
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(location.starts_with("/login/verify"), "{location}");
    assert_eq!(app.step_up_by_email(&app.client).await.status(), 303);
    let strong = tokens_for(
        &app,
        CLIENT,
        SECRET,
        REDIRECT,
        "openid account vault offline_access",
    )
    .await;
    let access = strong["access_token"].as_str().expect("token");
    assert_eq!(claims(access)["amr"], json!(["pwd", "otp", "mfa"]));
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/vault/export"))
        .bearer_auth(access)
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_refresh_family_never_asserts_more_than_its_sign_in_supports() {
    let app = TestApp::spawn().await;
    setup(&app).await;
    let citizen = proven_citizen(&app, 1506).await;
    password_sign_in(&app, &citizen).await;
    let tokens = tokens(&app).await;
    // A family stored at level 2 by a password sign-in (as before this rule).
    app.count("WITH u AS (UPDATE oidc_refresh_tokens SET level = 2 RETURNING 1) SELECT count(*) AS n FROM u")
        .await;
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                tokens["refresh_token"].as_str().expect("refresh"),
            ),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(res.status(), 200);
    let refreshed: Value = res.json().await.expect("json");
    let access = claims(refreshed["access_token"].as_str().expect("token"));
    assert_eq!(access["acr"], LOA1);
}

#[tokio::test]
async fn emailed_codes_work_once_and_wrong_ones_count_with_wrong_passwords() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(1507);
    app.active_citizen(&citizen).await;
    password_sign_in(&app, &citizen).await;
    let page = app
        .get("/login/verify?return_to=/")
        .await
        .text()
        .await
        .expect("page");
    let csrf = input_value(&page, "csrf_token").expect("csrf");
    let res = app
        .client
        .post(app.url("/login/verify/email-code"))
        .form(&[("csrf_token", csrf.as_str()), ("return_to", "/")])
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 303);
    app.run_jobs().await;
    let mail = app
        .smtp
        .messages_to(&citizen.email)
        .into_iter()
        .rev()
        .find(|m| m.subject().contains("Mã xác thực"))
        .expect("code email");
    assert!(
        !mail.subject().chars().any(|c| c.is_ascii_digit()),
        "no code in the stored subject"
    );
    let code = crate::helpers::sign_in_code_in(&mail.text()).expect("code");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let post = |code: String| {
        let csrf = csrf.clone();
        let app = &app;
        async move {
            app.client
                .post(app.url("/login/verify"))
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("return_to", "/"),
                    ("code", code.as_str()),
                ])
                .send()
                .await
                .expect("check")
        }
    };
    for _ in 0..5 {
        assert_eq!(post(wrong.to_owned()).await.status(), 401);
    }
    // The fifth wrong code locked the account's sign-in: even the right code waits.
    assert_eq!(post(code.clone()).await.status(), 429);
    let sessions: Value = app
        .get("/api/v1/me/sessions")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        sessions["items"][0]["signed_in_with"], "Mật khẩu",
        "no step-up happened"
    );
}

#[tokio::test]
async fn a_copy_of_the_session_cookie_taken_before_a_step_up_does_not_become_strong() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(1508);
    app.active_citizen(&citizen).await;
    let res = app.sign_in(&citizen.national_id, &citizen.password).await;
    assert_eq!(res.status(), 303);
    let stolen = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("es_session="))
        .and_then(|c| c.split(';').next())
        .expect("the session cookie")
        .to_owned();
    let thief = reqwest::Client::new();
    let as_thief = |path: &str| {
        thief
            .get(app.url(path))
            .header("Cookie", format!("es_session={stolen}"))
            .send()
    };
    assert_eq!(as_thief("/api/v1/me").await.expect("me").status(), 200);

    // The owner steps up; the copy is worth nothing, let alone strong.
    assert_eq!(app.step_up_by_email(&app.client).await.status(), 303);
    assert_eq!(as_thief("/api/v1/me").await.expect("me").status(), 401);
    assert_eq!(
        as_thief("/api/v1/vault/export")
            .await
            .expect("export")
            .status(),
        401
    );
    assert_eq!(app.get("/api/v1/vault/export").await.status(), 200);
}
