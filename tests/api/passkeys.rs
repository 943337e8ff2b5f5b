//! Passkeys end to end with a software authenticator: adding one needs a
//! strong recent sign-in, it then signs in alone or as the second step of a
//! password, it is managed from the account API, and the attacks on the
//! ceremonies (clones, other origins and accounts, replays, tampering) are
//! refused with nothing stored and no session.

mod assurance;
mod authenticator;
mod conformance;
mod manage;
mod registration_attacks;
mod sign_in_attacks;
mod takeover;

use serde_json::{Value, json};

use crate::helpers::{Citizen, TestApp};
pub(crate) use authenticator::Authenticator;

/// The origin the app accepts in clientDataJSON.
pub(crate) fn origin(app: &TestApp) -> String {
    app.webauthn_origin.clone()
}

/// An answer's status and its problem code (empty when there is none).
pub(crate) async fn problem(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// How many passkeys the account of `citizen` has stored.
pub(crate) async fn stored_passkeys(app: &TestApp, citizen: &Citizen) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM passkeys p \
         JOIN passkey_owners o ON o.user_handle = p.user_handle \
         JOIN accounts a ON a.id = o.account_id WHERE a.national_id = '{}'",
        citizen.national_id
    ))
    .await
}

/// Whether `client` has a session (`GET /api/v1/me`).
pub(crate) async fn signed_in(app: &TestApp, client: &reqwest::Client) -> bool {
    let status = client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("me")
        .status();
    assert!(status == 200 || status == 401, "{status}");
    status == 200
}

/// An active citizen signed in on `client` with a password and an email code.
pub(crate) async fn strong_citizen(app: &TestApp, client: &reqwest::Client, seq: u32) -> Citizen {
    let citizen = Citizen::sample(seq);
    app.active_citizen(&citizen).await;
    app.sign_in_strongly_with(client, &citizen.national_id, &citizen.password)
        .await;
    citizen
}

/// `POST /api/v1/me/passkeys/registrations`.
pub(crate) async fn begin_registration(
    app: &TestApp,
    client: &reqwest::Client,
) -> reqwest::Response {
    client
        .post(app.url("/api/v1/me/passkeys/registrations"))
        .json(&json!({}))
        .send()
        .await
        .expect("registration options")
}

/// A registration's id and its creation options.
pub(crate) async fn registration(app: &TestApp, client: &reqwest::Client) -> (String, Value) {
    let res = begin_registration(app, client).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    let id = body["registration_id"].as_str().expect("an id").to_owned();
    (id, body["options"].clone())
}

/// `POST /api/v1/me/passkeys`.
pub(crate) async fn finish_registration(
    app: &TestApp,
    client: &reqwest::Client,
    registration_id: &str,
    name: &str,
    credential: &Value,
) -> reqwest::Response {
    client
        .post(app.url("/api/v1/me/passkeys"))
        .json(&json!({
            "registration_id": registration_id,
            "name": name,
            "credential": credential,
        }))
        .send()
        .await
        .expect("registration")
}

/// Adds `authenticator` as a passkey named `name` from `client` (signed in
/// strongly); returns the stored item.
pub(crate) async fn add_passkey(
    app: &TestApp,
    client: &reqwest::Client,
    authenticator: &mut Authenticator,
    name: &str,
) -> Value {
    let (id, options) = registration(app, client).await;
    let credential = authenticator.register(&options, &origin(app));
    let res = finish_registration(app, client, &id, name, &credential).await;
    assert_eq!(res.status(), 201);
    res.json().await.expect("json")
}

/// An active citizen signed in strongly on `app.client`, with a passkey.
pub(crate) async fn citizen_with_passkey(app: &TestApp, seq: u32) -> (Citizen, Authenticator) {
    let citizen = Citizen::sample(seq);
    app.active_citizen(&citizen).await;
    app.sign_in_strongly(&citizen.national_id, &citizen.password)
        .await;
    let mut authenticator = Authenticator::new();
    add_passkey(app, &app.client, &mut authenticator, "Khóa của tôi").await;
    (citizen, authenticator)
}

/// `POST /login/passkey/options` in `mode`: the challenge id and request options.
pub(crate) async fn sign_in_options(
    app: &TestApp,
    client: &reqwest::Client,
    mode: &str,
) -> (String, Value) {
    let res = client
        .post(app.url("/login/passkey/options"))
        .json(&json!({ "mode": mode }))
        .send()
        .await
        .expect("options");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    let id = body["challenge_id"].as_str().expect("an id").to_owned();
    (id, body["options"].clone())
}

/// The body of `POST /login/passkey`.
pub(crate) fn assertion_body(challenge_id: &str, credential: &Value) -> Value {
    json!({ "challenge_id": challenge_id, "credential": credential, "return_to": "/api/v1/me" })
}

/// `POST /login/passkey`.
pub(crate) async fn finish_sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    challenge_id: &str,
    credential: &Value,
) -> reqwest::Response {
    client
        .post(app.url("/login/passkey"))
        .json(&assertion_body(challenge_id, credential))
        .send()
        .await
        .expect("sign-in")
}

/// Options in `mode`, an assertion by `authenticator`, and the answer.
pub(crate) async fn passkey_step(
    app: &TestApp,
    client: &reqwest::Client,
    authenticator: &mut Authenticator,
    mode: &str,
) -> reqwest::Response {
    let (id, options) = sign_in_options(app, client, mode).await;
    let credential = authenticator.assert(&options, &origin(app));
    finish_sign_in(app, client, &id, &credential).await
}

/// The passkeys listed to `client`.
pub(crate) async fn listed(app: &TestApp, client: &reqwest::Client) -> Vec<Value> {
    let res = client
        .get(app.url("/api/v1/me/passkeys"))
        .send()
        .await
        .expect("list");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    body["items"].as_array().expect("items").clone()
}

#[tokio::test]
async fn a_passkey_added_after_a_strong_sign_in_is_listed_renamed_and_signs_in_alone() {
    let app = TestApp::spawn().await;
    let citizen = strong_citizen(&app, &app.client, 1401).await;
    app.run_jobs().await;
    let mails_before = app.smtp.messages_to(&citizen.email).len();
    let mut authenticator = Authenticator::new();
    let (registration_id, options) = registration(&app, &app.client).await;
    let pk = &options["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    let algorithms: Vec<i64> = pk["pubKeyCredParams"]
        .as_array()
        .expect("algorithms")
        .iter()
        .filter_map(|p| p["alg"].as_i64())
        .collect();
    assert!(algorithms.contains(&-7), "{algorithms:?}");
    let credential = authenticator.register(&options, &origin(&app));
    let res = finish_registration(
        &app,
        &app.client,
        &registration_id,
        "Máy tính ở nhà",
        &credential,
    )
    .await;
    assert_eq!(res.status(), 201);
    let item: Value = res.json().await.expect("json");
    assert_eq!(item["name"], "Máy tính ở nhà");
    assert_eq!(item["synced"], false);
    assert!(item["last_used_at"].is_null(), "{item}");
    assert_eq!(stored_passkeys(&app, &citizen).await, 1);
    app.run_jobs().await;
    assert_eq!(
        app.smtp.messages_to(&citizen.email).len(),
        mails_before + 1,
        "a notice that a passkey was added"
    );

    let items = listed(&app, &app.client).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], item["id"]);
    let id = item["id"].as_str().expect("an id");
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/me/passkeys/{id}")))
        .json(&json!({ "name": "Điện thoại" }))
        .send()
        .await
        .expect("rename");
    assert_eq!(res.status(), 200);
    let renamed: Value = res.json().await.expect("json");
    assert_eq!(renamed["name"], "Điện thoại");
    assert_eq!(listed(&app, &app.client).await[0]["name"], "Điện thoại");

    another_browser_signs_in_with_the_passkey_alone(&app, &mut authenticator, &citizen).await;
}

/// Another browser signs in with the passkey alone: no username, no
/// password; the passkey's last use is recorded.
async fn another_browser_signs_in_with_the_passkey_alone(
    app: &TestApp,
    authenticator: &mut Authenticator,
    citizen: &Citizen,
) {
    let browser = TestApp::fresh_client();
    let (challenge_id, options) = sign_in_options(app, &browser, "signin").await;
    let allowed = &options["publicKey"]["allowCredentials"];
    assert!(
        allowed.is_null() || allowed.as_array().is_some_and(Vec::is_empty),
        "a discoverable sign-in names no credentials: {allowed}"
    );
    let credential = authenticator.assert(&options, &origin(app));
    let res = finish_sign_in(app, &browser, &challenge_id, &credential).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["location"], "/api/v1/me");
    let me: Value = browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["national_id"], citizen.national_id);
    let items = listed(app, &browser).await;
    assert!(items[0]["last_used_at"].is_string(), "{items:?}");
}

#[tokio::test]
async fn adding_a_passkey_after_a_password_only_sign_in_asks_for_a_step_up() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(1402);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    let res = begin_registration(&app, &app.client).await;
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/problem+json")
    );
    assert_eq!(problem(res).await.1, "step_up_required");
    // An app holding an `account` token of that session is told why, the OAuth way.
    crate::oidc_flow::provider(&app).await;
    crate::oidc_flow::register_client(&app, "ung-dung", &["openid", "account"], None).await;
    let tokens = crate::oidc_flow::tokens_for(
        &app,
        "ung-dung",
        crate::oidc_flow::SECRET,
        crate::oidc_flow::REDIRECT,
        "openid account",
    )
    .await;
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/me/passkeys/registrations"))
        .bearer_auth(tokens["access_token"].as_str().expect("a token"))
        .json(&json!({}))
        .send()
        .await
        .expect("registration options");
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("insufficient_user_authentication"),
        "{challenge}"
    );
    assert_eq!(problem(res).await.1, "step_up_required");
    // Nor can a made-up registration be finished.
    let mut authenticator = Authenticator::new();
    let options = json!({ "publicKey": {
        "challenge": "AAAAAAAAAAAAAAAAAAAAAA",
        "rp": { "id": "localhost", "name": "x" },
        "user": { "id": "AAAAAAAAAAAAAAAAAAAAAA", "name": "x", "displayName": "x" },
    }});
    let credential = authenticator.register(&options, &origin(&app));
    let res = finish_registration(&app, &app.client, "made-up", "Khóa", &credential).await;
    assert!(
        [400, 401].contains(&res.status().as_u16()),
        "{}",
        res.status()
    );
    assert_eq!(stored_passkeys(&app, &citizen).await, 0);
}

#[tokio::test]
async fn a_password_sign_in_of_an_account_with_a_passkey_needs_the_second_step() {
    let app = TestApp::spawn().await;
    let (citizen, mut authenticator) = citizen_with_passkey(&app, 1403).await;

    let browser = TestApp::fresh_client();
    let res = app
        .sign_in_with(&browser, &citizen.national_id, &citizen.password)
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().expect("ascii");
    assert!(location.starts_with("/login/verify"), "{location}");
    assert!(
        !signed_in(&app, &browser).await,
        "a password alone is not enough"
    );

    let (challenge_id, options) = sign_in_options(&app, &browser, "second_step").await;
    let allowed: Vec<&str> = options["publicKey"]["allowCredentials"]
        .as_array()
        .expect("the account's passkeys")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(allowed, [authenticator.id()]);
    let credential = authenticator.assert(&options, &origin(&app));
    let res = finish_sign_in(&app, &browser, &challenge_id, &credential).await;
    assert_eq!(res.status(), 200);
    assert!(signed_in(&app, &browser).await);

    // The email code is the other way through the second step.
    let other = TestApp::fresh_client();
    let res = app
        .sign_in_with(&other, &citizen.email, &citizen.password)
        .await;
    assert_eq!(res.status(), 303);
    assert!(!signed_in(&app, &other).await);
    assert_eq!(app.step_up_by_email(&other).await.status(), 303);
    assert!(signed_in(&app, &other).await);
}

#[tokio::test]
async fn a_synced_passkey_without_a_counter_signs_in_again_and_again() {
    let app = TestApp::spawn().await;
    let citizen = strong_citizen(&app, &app.client, 1409).await;
    // Synced passkeys (iCloud Keychain, Google Password Manager) always say 0.
    let mut authenticator = Authenticator::synced();
    authenticator.counter_step = 0;
    add_passkey(&app, &app.client, &mut authenticator, "iPhone").await;
    for _ in 0..3 {
        let browser = TestApp::fresh_client();
        let res = passkey_step(&app, &browser, &mut authenticator, "signin").await;
        assert_eq!(res.status(), 200);
        let me: Value = browser
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("json");
        assert_eq!(me["national_id"], citizen.national_id);
    }
}

#[tokio::test]
async fn a_second_step_needs_a_sign_in_of_an_account_with_passkeys() {
    let app = TestApp::spawn().await;
    let options = |client: reqwest::Client, mode: &'static str| {
        let url = app.url("/login/passkey/options");
        async move {
            let res = client
                .post(url)
                .json(&json!({ "mode": mode }))
                .send()
                .await
                .expect("options");
            problem(res).await
        }
    };
    let (status, code) = options(TestApp::fresh_client(), "second_step").await;
    assert_eq!((status, code.as_str()), (400, "sign_in_expired"));
    let (status, code) = options(TestApp::fresh_client(), "register").await;
    assert_eq!((status, code.as_str()), (400, "invalid_mode"));
    // Signed in, but without a passkey to confirm with.
    strong_citizen(&app, &app.client, 1410).await;
    let (status, code) = options(app.client.clone(), "second_step").await;
    assert_eq!((status, code.as_str()), (409, "no_passkey"));
}
