//! Passkey sign-ins that must open no session: a cloned authenticator,
//! another account's passkey in a second step, the wrong origin or relying
//! party, replays, another browser's or an expired challenge, no user
//! verification, a forged signature, oversized input; and failures lock the
//! account's sign-in as wrong passwords do.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    Authenticator, assertion_body, citizen_with_passkey, finish_sign_in, listed, origin,
    passkey_step, problem, sign_in_options, signed_in,
};
use crate::helpers::TestApp;

fn invalid() -> (u16, String) {
    (401, "passkey_invalid".to_owned())
}

fn expired() -> (u16, String) {
    (400, "passkey_challenge_expired".to_owned())
}

/// Signs in from a new browser with `authenticator` after `prepare`; checks
/// that no session was opened and the passkey was not marked used.
async fn attempt(seq: u32, prepare: impl FnOnce(&mut Authenticator)) -> (u16, String) {
    let app = TestApp::spawn().await;
    let (_, mut authenticator) = citizen_with_passkey(&app, seq).await;
    prepare(&mut authenticator);
    let browser = TestApp::fresh_client();
    let answer = problem(passkey_step(&app, &browser, &mut authenticator, "signin").await).await;
    assert!(!signed_in(&app, &browser).await, "{answer:?}");
    assert!(
        listed(&app, &app.client).await[0]["last_used_at"].is_null(),
        "{answer:?}"
    );
    answer
}

#[tokio::test]
async fn an_assertion_made_for_another_origin_is_refused() {
    let answer = attempt(1440, |a| {
        a.origin_override = Some("https://dichvucong.gia-mao.vn".into());
    })
    .await;
    assert_eq!(answer, invalid());
}

#[tokio::test]
async fn an_assertion_made_for_another_relying_party_is_refused() {
    let answer = attempt(1441, |a| {
        a.rp_id_hash_override = Some(Sha256::digest(b"gia-mao.vn").into());
    })
    .await;
    assert_eq!(answer, invalid());
}

#[tokio::test]
async fn an_assertion_without_user_verification_is_refused() {
    let answer = attempt(1442, |a| a.uv = false).await;
    assert_eq!(answer, invalid());
}

#[tokio::test]
async fn a_forged_signature_is_refused() {
    let answer = attempt(1443, |a| a.tamper_signature = true).await;
    assert_eq!(answer, invalid());
}

#[tokio::test]
async fn an_unknown_passkey_is_refused() {
    // The same key and user handle under a credential id the app never saw.
    let answer = attempt(1444, |a| a.credential_id = vec![7; 32]).await;
    assert_eq!(answer, invalid());
}

#[tokio::test]
async fn an_oversized_client_data_is_refused_without_an_error() {
    let (status, code) = attempt(1445, |a| a.client_data_padding = 100 * 1024).await;
    assert!(
        status == 413 || ((status == 401 || status == 422) && code == "passkey_invalid"),
        "{status} {code}"
    );
}

#[tokio::test]
async fn a_cloned_authenticator_is_refused_once_the_original_has_moved_on() {
    let app = TestApp::spawn().await;
    let (_, mut original) = citizen_with_passkey(&app, 1446).await;
    // Copied (key and counter) before the original is used.
    let mut clone = original.clone();
    for _ in 0..2 {
        let browser = TestApp::fresh_client();
        let res = passkey_step(&app, &browser, &mut original, "signin").await;
        assert_eq!(res.status(), 200);
    }
    // The clone's counter (1) is behind what the app last saw (2).
    let browser = TestApp::fresh_client();
    let answer = problem(passkey_step(&app, &browser, &mut clone, "signin").await).await;
    assert_eq!(answer, invalid());
    assert!(!signed_in(&app, &browser).await);
    // Even level with the original, a counter that does not move on is refused.
    let mut level = original.clone();
    level.counter -= 1;
    let answer = problem(passkey_step(&app, &browser, &mut level, "signin").await).await;
    assert_eq!(answer, invalid());
    assert!(!signed_in(&app, &browser).await);
}

#[tokio::test]
async fn a_passkey_of_another_account_cannot_complete_a_second_step() {
    let app = TestApp::spawn().await;
    let (victim, _) = citizen_with_passkey(&app, 1447).await;
    // The attacker has an account and a passkey of their own, and the
    // victim's password.
    let attacker = TestApp::fresh_client();
    let citizen = super::strong_citizen(&app, &attacker, 1448).await;
    let mut own = Authenticator::new();
    super::add_passkey(&app, &attacker, &mut own, "Của kẻ gian").await;

    let browser = TestApp::fresh_client();
    let res = app
        .sign_in_with(&browser, &victim.national_id, &victim.password)
        .await;
    assert_eq!(res.status(), 303);
    let answer = problem(passkey_step(&app, &browser, &mut own, "second_step").await).await;
    assert_eq!(answer, invalid());
    assert!(!signed_in(&app, &browser).await);
    // Nor does the pending sign-in turn into the attacker's own account.
    let me: Value = attacker
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["national_id"], citizen.national_id);
}

/// A client that keeps no cookies: the test carries them by hand, as an
/// attacker replaying captured requests would.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The `name=value` parts of an answer's cookies.
fn cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let app = TestApp::spawn().await;
    let (_, mut authenticator) = citizen_with_passkey(&app, 1449).await;
    let client = bare_client();
    let res = client
        .post(app.url("/login/passkey/options"))
        .json(&serde_json::json!({ "mode": "signin" }))
        .send()
        .await
        .expect("options");
    assert_eq!(res.status(), 200);
    let binding = cookies(&res).join("; ");
    assert!(binding.contains("es_webauthn="), "{binding}");
    let body: Value = res.json().await.expect("json");
    let challenge_id = body["challenge_id"].as_str().expect("id");
    let credential = authenticator.assert(&body["options"], &origin(&app));
    let post = || {
        client
            .post(app.url("/login/passkey"))
            .header("cookie", &binding)
            .json(&assertion_body(challenge_id, &credential))
            .send()
    };
    assert_eq!(post().await.expect("first").status(), 200);

    let replay = post().await.expect("replay");
    let given = cookies(&replay);
    assert_eq!(problem(replay).await, expired());
    // Whatever cookies the replay got open no session.
    let res = client
        .get(app.url("/api/v1/me"))
        .header("cookie", given.join("; "))
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_challenge_of_another_browser_is_refused() {
    let app = TestApp::spawn().await;
    let (_, mut authenticator) = citizen_with_passkey(&app, 1450).await;
    let victim = TestApp::fresh_client();
    let (challenge_id, options) = sign_in_options(&app, &victim, "signin").await;
    let credential = authenticator.assert(&options, &origin(&app));
    let attacker = TestApp::fresh_client();
    let res = finish_sign_in(&app, &attacker, &challenge_id, &credential).await;
    assert_eq!(problem(res).await, expired());
    assert!(!signed_in(&app, &attacker).await);
    assert!(listed(&app, &app.client).await[0]["last_used_at"].is_null());
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let app = TestApp::spawn().await;
    let (_, mut authenticator) = citizen_with_passkey(&app, 1451).await;
    let browser = TestApp::fresh_client();
    let (challenge_id, options) = sign_in_options(&app, &browser, "signin").await;
    app.clock
        .advance(chrono::Duration::minutes(5) + chrono::Duration::seconds(1));
    let credential = authenticator.assert(&options, &origin(&app));
    let res = finish_sign_in(&app, &browser, &challenge_id, &credential).await;
    assert_eq!(problem(res).await, expired());
    assert!(!signed_in(&app, &browser).await);
}

#[tokio::test]
async fn failed_passkey_sign_ins_lock_the_account_like_wrong_passwords() {
    let app = TestApp::spawn().await;
    let (citizen, mut authenticator) = citizen_with_passkey(&app, 1452).await;
    let limit = eservices::identity::throttle::SIGN_IN_ACCOUNT.free_failures + 1;
    authenticator.tamper_signature = true;
    for attempt in 0..limit {
        let browser = TestApp::fresh_client();
        let answer =
            problem(passkey_step(&app, &browser, &mut authenticator, "signin").await).await;
        assert_eq!(answer, invalid(), "attempt {attempt}");
    }
    let res = app
        .sign_in_with(
            &TestApp::fresh_client(),
            &citizen.national_id,
            &citizen.password,
        )
        .await;
    assert_eq!(res.status(), 429, "the password waits for the lock too");
    // And so does the passkey itself, used rightly.
    authenticator.tamper_signature = false;
    let browser = TestApp::fresh_client();
    let (status, code) =
        problem(passkey_step(&app, &browser, &mut authenticator, "signin").await).await;
    assert_eq!((status, code.as_str()), (429, "sign_in_locked"));
    assert!(!signed_in(&app, &browser).await);
}

#[tokio::test]
async fn a_passkey_naming_another_accounts_user_handle_is_refused() {
    let app = TestApp::spawn().await;
    let (_, victims) = citizen_with_passkey(&app, 1453).await;
    let attacker = TestApp::fresh_client();
    let citizen = super::strong_citizen(&app, &attacker, 1454).await;
    let mut own = Authenticator::new();
    super::add_passkey(&app, &attacker, &mut own, "Của kẻ gian").await;
    // The user handle is not signed: the attacker's own, valid assertion
    // claims to be the victim's.
    let own_handle = own.user_handle.clone();
    own.user_handle.clone_from(&victims.user_handle);
    let browser = TestApp::fresh_client();
    let answer = problem(passkey_step(&app, &browser, &mut own, "signin").await).await;
    assert_eq!(answer, invalid());
    assert!(!signed_in(&app, &browser).await);
    assert!(listed(&app, &app.client).await[0]["last_used_at"].is_null());
    // Honestly presented, the same passkey signs the attacker in, as themselves.
    own.user_handle = own_handle;
    let res = passkey_step(&app, &browser, &mut own, "signin").await;
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

#[tokio::test]
async fn a_locked_account_cannot_sign_in_with_its_passkey() {
    let app = TestApp::spawn().await;
    let (citizen, mut authenticator) = citizen_with_passkey(&app, 1455).await;
    eservices::admin::set_account_lock(&app.state.identity, &citizen.national_id, true)
        .await
        .expect("locked");
    let browser = TestApp::fresh_client();
    let answer = problem(passkey_step(&app, &browser, &mut authenticator, "signin").await).await;
    assert_eq!(answer, (403, "account_disabled".to_owned()));
    assert!(!signed_in(&app, &browser).await);

    eservices::admin::set_account_lock(&app.state.identity, &citizen.national_id, false)
        .await
        .expect("unlocked");
    let res = passkey_step(&app, &browser, &mut authenticator, "signin").await;
    assert_eq!(res.status(), 200);
    assert!(signed_in(&app, &browser).await);
}
