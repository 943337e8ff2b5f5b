//! Registrations that must not store a passkey: the wrong origin or relying
//! party, broken or unsupported keys, no user verification, oversized
//! input, a registration of another session, used or expired, and a
//! credential already registered elsewhere.

use p256::elliptic_curve::rand_core::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    Authenticator, add_passkey, authenticator, finish_registration, origin, problem, registration,
    stored_passkeys, strong_citizen,
};
use crate::helpers::TestApp;

/// Registers an authenticator prepared by `prepare`, its response edited by
/// `edit`, for a new strong citizen; returns the answer's status and code,
/// having checked that nothing was stored.
async fn attempt(
    seq: u32,
    prepare: impl FnOnce(&mut Authenticator),
    edit: impl FnOnce(&mut Value),
) -> (u16, String) {
    let app = TestApp::spawn().await;
    let citizen = strong_citizen(&app, &app.client, seq).await;
    let mut authenticator = Authenticator::new();
    prepare(&mut authenticator);
    let (id, options) = registration(&app, &app.client).await;
    let mut credential = authenticator.register(&options, &origin(&app));
    edit(&mut credential);
    let answer =
        problem(finish_registration(&app, &app.client, &id, "Khóa", &credential).await).await;
    assert_eq!(stored_passkeys(&app, &citizen).await, 0, "{answer:?}");
    assert!(
        super::listed(&app, &app.client).await.is_empty(),
        "{answer:?}"
    );
    answer
}

fn invalid() -> (u16, String) {
    (422, "passkey_invalid".to_owned())
}

#[tokio::test]
async fn a_registration_made_for_another_origin_is_refused() {
    let answer = attempt(
        1420,
        |a| a.origin_override = Some("https://dichvucong.gia-mao.vn".into()),
        |_| {},
    )
    .await;
    assert_eq!(answer, invalid());
}

#[tokio::test]
async fn a_registration_made_for_another_relying_party_is_refused() {
    let answer = attempt(
        1421,
        |a| a.rp_id_hash_override = Some(Sha256::digest(b"gia-mao.vn").into()),
        |_| {},
    )
    .await;
    assert_eq!(answer, invalid());
}

#[tokio::test]
async fn a_malformed_attestation_is_refused() {
    let answer = attempt(
        1422,
        |_| {},
        |credential| {
            let mut junk = vec![0u8; 200];
            p256::elliptic_curve::rand_core::OsRng.fill_bytes(&mut junk);
            credential["response"]["attestationObject"] = authenticator::b64(&junk).into();
        },
    )
    .await;
    assert_eq!(answer, invalid());
}

#[tokio::test]
async fn a_key_of_an_algorithm_not_asked_for_is_refused() {
    for (seq, alg) in [(1423, authenticator::EDDSA), (1424, authenticator::ES512)] {
        let answer = attempt(seq, |a| a.cose_alg = alg, |_| {}).await;
        assert_eq!(answer, invalid(), "COSE algorithm {alg}");
    }
}

#[tokio::test]
async fn a_registration_without_user_verification_is_refused() {
    let answer = attempt(1425, |a| a.uv = false, |_| {}).await;
    assert_eq!(answer, invalid());
}

#[tokio::test]
async fn an_oversized_client_data_is_refused_without_an_error() {
    let (status, code) = attempt(1426, |a| a.client_data_padding = 100 * 1024, |_| {}).await;
    assert!(
        status == 413 || (status == 422 && code == "passkey_invalid"),
        "{status} {code}"
    );
    // Past the JSON body limit, the body is not even read.
    let (status, _) = attempt(1432, |a| a.client_data_padding = 300 * 1024, |_| {}).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn a_registration_of_another_session_is_refused() {
    let app = TestApp::spawn().await;
    let victim = TestApp::fresh_client();
    strong_citizen(&app, &victim, 1427).await;
    let (victims_registration, _) = registration(&app, &victim).await;
    // The attacker, signed in strongly to an account of their own, tries to
    // finish the victim's registration (a stolen or fixed registration id).
    let citizen = strong_citizen(&app, &app.client, 1428).await;
    let (_, options) = registration(&app, &app.client).await;
    let mut authenticator = Authenticator::new();
    let credential = authenticator.register(&options, &origin(&app));
    let res = finish_registration(
        &app,
        &app.client,
        &victims_registration,
        "Khóa",
        &credential,
    )
    .await;
    assert_eq!(
        problem(res).await,
        (400, "passkey_challenge_expired".to_owned())
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM passkeys").await, 0);
    assert_eq!(stored_passkeys(&app, &citizen).await, 0);
}

#[tokio::test]
async fn a_used_or_expired_registration_is_refused() {
    let app = TestApp::spawn().await;
    let citizen = strong_citizen(&app, &app.client, 1429).await;
    let (id, options) = registration(&app, &app.client).await;
    let mut first = Authenticator::new();
    let credential = first.register(&options, &origin(&app));
    let res = finish_registration(&app, &app.client, &id, "Khóa 1", &credential).await;
    assert_eq!(res.status(), 201);
    // The same registration again, with another key.
    let mut second = Authenticator::new();
    let credential = second.register(&options, &origin(&app));
    let res = finish_registration(&app, &app.client, &id, "Khóa 2", &credential).await;
    assert_eq!(
        problem(res).await,
        (400, "passkey_challenge_expired".to_owned())
    );
    assert_eq!(stored_passkeys(&app, &citizen).await, 1);

    // A registration finished after its five minutes (the sign-in, six
    // minutes old, is still recent enough to add a passkey).
    let (id, options) = registration(&app, &app.client).await;
    app.clock.advance(chrono::Duration::minutes(6));
    let mut late = Authenticator::new();
    let credential = late.register(&options, &origin(&app));
    let res = finish_registration(&app, &app.client, &id, "Khóa 3", &credential).await;
    assert_eq!(
        problem(res).await,
        (400, "passkey_challenge_expired".to_owned())
    );
    assert_eq!(stored_passkeys(&app, &citizen).await, 1);
}

#[tokio::test]
async fn a_credential_registered_to_another_account_is_refused() {
    let app = TestApp::spawn().await;
    let owner = strong_citizen(&app, &app.client, 1430).await;
    let mut authenticator = Authenticator::new();
    add_passkey(&app, &app.client, &mut authenticator, "Khóa").await;
    // Someone registers the same credential id (with their own key) to
    // another account, to hijack or shadow the owner's passkey.
    let other = TestApp::fresh_client();
    let citizen = strong_citizen(&app, &other, 1431).await;
    let mut copy = Authenticator::new();
    copy.credential_id = authenticator.credential_id.clone();
    let (id, options) = registration(&app, &other).await;
    let credential = copy.register(&options, &origin(&app));
    let res = finish_registration(&app, &other, &id, "Khóa", &credential).await;
    assert_eq!(
        problem(res).await,
        (409, "passkey_already_registered".to_owned())
    );
    assert_eq!(stored_passkeys(&app, &citizen).await, 0);
    assert_eq!(stored_passkeys(&app, &owner).await, 1);
    // The owner's passkey still signs the owner in.
    let browser = TestApp::fresh_client();
    let res = super::passkey_step(&app, &browser, &mut authenticator, "signin").await;
    assert_eq!(res.status(), 200);
    let me: Value = browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["national_id"], owner.national_id);
}
