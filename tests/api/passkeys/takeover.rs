//! A squatter's passkey does not outlive the owner's proof of identity.

use super::{Authenticator, add_passkey, passkey_step, problem, stored_passkeys};
use crate::{
    helpers::{Citizen, TestApp, input_value},
    trust_identity::{EVIDENCE, counter, post},
};

/// A stranger registered the citizen's national ID, signed in strongly
/// (their own mailbox) and added a passkey to keep access. The citizen
/// proves themself at the counter and does not recognise the account: the
/// passkey goes with the password, and no longer signs anyone in.
#[tokio::test]
async fn a_squatters_passkey_is_removed_when_the_owner_proves_their_identity() {
    let app = TestApp::spawn().await;
    let squatter = Citizen::sample(1470);
    app.active_citizen(&squatter).await;
    let squatters_browser = TestApp::fresh_client();
    app.sign_in_strongly_with(
        &squatters_browser,
        &squatter.national_id,
        &squatter.password,
    )
    .await;
    let mut key = Authenticator::new();
    add_passkey(&app, &squatters_browser, &mut key, "Khóa của kẻ chiếm").await;
    assert_eq!(stored_passkeys(&app, &squatter).await, 1);

    let (browser, csrf) = counter(&app).await;
    let look_up = [
        ("national_id", squatter.national_id.as_str()),
        ("evidence", EVIDENCE),
        ("csrf_token", csrf.as_str()),
    ];
    let (status, page) = post(&app, &browser, &look_up).await;
    assert_eq!(status, 200, "{page}");
    let shown = input_value(&page, "account_id").expect("the account shown");
    let (status, page) = post(
        &app,
        &browser,
        &[
            ("national_id", squatter.national_id.as_str()),
            ("evidence", EVIDENCE),
            ("csrf_token", csrf.as_str()),
            ("step", "confirm"),
            ("account_id", shown.as_str()),
            ("recognised", "no"),
            ("full_name", "Nguyễn Văn An"),
            ("date_of_birth", "1990-05-17"),
            ("sex", "male"),
            ("email", "chu.that-1470@example.vn"),
            ("phone", ""),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");

    assert_eq!(stored_passkeys(&app, &squatter).await, 0);
    let later = TestApp::fresh_client();
    let (status, code) = problem(passkey_step(&app, &later, &mut key, "signin").await).await;
    assert_eq!((status, code.as_str()), (401, "passkey_invalid"));
    assert_eq!(
        later
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .expect("me")
            .status(),
        401
    );
}
