//! Managing passkeys from the account API: removal needs a recent strong
//! sign-in and is announced by email, names are checked, an account has at
//! most ten, and another account's passkey is not found.

use serde_json::json;

use super::{
    Authenticator, add_passkey, begin_registration, citizen_with_passkey, finish_registration,
    listed, origin, passkey_step, problem, registration, signed_in, stored_passkeys,
    strong_citizen,
};
use crate::helpers::TestApp;

#[tokio::test]
async fn removing_a_passkey_needs_a_recent_strong_sign_in() {
    let app = TestApp::spawn().await;
    let (citizen, mut authenticator) = citizen_with_passkey(&app, 1404).await;
    let id = listed(&app, &app.client).await[0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let delete = || async {
        app.client
            .delete(app.url(&format!("/api/v1/me/passkeys/{id}")))
            .send()
            .await
            .expect("delete")
    };

    app.clock.advance(chrono::Duration::minutes(11));
    let (status, code) = problem(delete().await).await;
    assert_eq!((status, code.as_str()), (401, "step_up_required"));
    assert_eq!(stored_passkeys(&app, &citizen).await, 1);

    // The passkey itself steps the current session up.
    let res = passkey_step(&app, &app.client, &mut authenticator, "second_step").await;
    assert_eq!(res.status(), 200);
    assert_eq!(delete().await.status(), 204);
    assert_eq!(stored_passkeys(&app, &citizen).await, 0);
    app.run_jobs().await;
    let notices = app.smtp.messages_to(&citizen.email);
    assert!(
        notices
            .last()
            .is_some_and(|m| m.subject().contains("Passkey đã được gỡ")),
        "the holder is told"
    );
    assert!(listed(&app, &app.client).await.is_empty());
    // A removed passkey signs no one in.
    let browser = TestApp::fresh_client();
    let (status, code) =
        problem(passkey_step(&app, &browser, &mut authenticator, "signin").await).await;
    assert_eq!((status, code.as_str()), (401, "passkey_invalid"));
    assert!(!signed_in(&app, &browser).await);
}

#[tokio::test]
async fn another_accounts_passkey_can_be_neither_renamed_nor_removed() {
    let app = TestApp::spawn().await;
    let (victim, _) = citizen_with_passkey(&app, 1405).await;
    let victims_id = listed(&app, &app.client).await[0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let attacker = TestApp::fresh_client();
    strong_citizen(&app, &attacker, 1406).await;
    let url = app.url(&format!("/api/v1/me/passkeys/{victims_id}"));

    let res = attacker.delete(&url).send().await.expect("delete");
    assert_eq!(problem(res).await, (404, "passkey_not_found".to_owned()));
    let res = attacker
        .patch(&url)
        .json(&json!({ "name": "Của tôi" }))
        .send()
        .await
        .expect("rename");
    assert_eq!(problem(res).await, (404, "passkey_not_found".to_owned()));
    assert_eq!(stored_passkeys(&app, &victim).await, 1);
    assert_eq!(listed(&app, &app.client).await[0]["name"], "Khóa của tôi");
    assert!(listed(&app, &attacker).await.is_empty());
}

#[tokio::test]
async fn a_passkey_needs_a_name_of_one_to_sixty_four_characters() {
    let app = TestApp::spawn().await;
    let citizen = strong_citizen(&app, &app.client, 1407).await;
    let mut authenticator = Authenticator::new();
    let (id, options) = registration(&app, &app.client).await;
    let credential = authenticator.register(&options, &origin(&app));
    for name in ["", "   ", &"k".repeat(65), "Khóa\u{7}"] {
        let res = finish_registration(&app, &app.client, &id, name, &credential).await;
        assert_eq!(
            problem(res).await,
            (422, "passkey_name_invalid".to_owned()),
            "{name:?}"
        );
    }
    assert_eq!(stored_passkeys(&app, &citizen).await, 0);
    // Trimmed, 64 characters are fine.
    let name = "ắ".repeat(64);
    let res = finish_registration(&app, &app.client, &id, &format!(" {name} "), &credential).await;
    assert_eq!(res.status(), 201);
    assert_eq!(listed(&app, &app.client).await[0]["name"], name.as_str());
    let item_id = listed(&app, &app.client).await[0]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/me/passkeys/{item_id}")))
        .json(&json!({ "name": "" }))
        .send()
        .await
        .expect("rename");
    assert_eq!(problem(res).await, (422, "passkey_name_invalid".to_owned()));
    assert_eq!(listed(&app, &app.client).await[0]["name"], name.as_str());
}

#[tokio::test]
async fn an_account_holds_at_most_ten_passkeys() {
    let app = TestApp::spawn().await;
    let citizen = strong_citizen(&app, &app.client, 1408).await;
    let mut first = Authenticator::new();
    add_passkey(&app, &app.client, &mut first, "Khóa 1").await;
    // A registration started before the limit was reached.
    let (late_id, late_options) = registration(&app, &app.client).await;
    for n in 2..=10 {
        add_passkey(
            &app,
            &app.client,
            &mut Authenticator::new(),
            &format!("Khóa {n}"),
        )
        .await;
    }
    let (status, code) = problem(begin_registration(&app, &app.client).await).await;
    assert_eq!((status, code.as_str()), (409, "passkey_limit"));
    let credential = Authenticator::new().register(&late_options, &origin(&app));
    let res = finish_registration(&app, &app.client, &late_id, "Khóa 11", &credential).await;
    assert_eq!(problem(res).await, (409, "passkey_limit".to_owned()));
    assert_eq!(stored_passkeys(&app, &citizen).await, 10);
    assert_eq!(listed(&app, &app.client).await.len(), 10);
    // Creation options exclude what the account has (no device registers twice).
    let excluded: Vec<&str> = late_options["publicKey"]["excludeCredentials"]
        .as_array()
        .expect("excluded credentials")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(excluded, [first.id()]);
}

/// A server whose public address is an IP (no domain to bind passkeys to)
/// runs with passkeys off: the sign-in page offers none and every passkey
/// route says so plainly, never a 500.
#[tokio::test]
async fn a_server_without_a_domain_has_passkeys_off_and_says_so() {
    let app = TestApp::spawn_with(crate::helpers::TestOptions {
        env: vec![
            ("WEBAUTHN_RP_ID", String::new()),
            ("WEBAUTHN_ORIGINS", String::new()),
        ],
        ..crate::helpers::TestOptions::default()
    })
    .await;
    let login = app.get("/login").await.text().await.expect("page");
    assert!(!login.contains("data-passkey"), "no passkey button");
    let res = app
        .post_json("/login/passkey/options", &json!({ "mode": "signin" }))
        .await;
    assert_eq!(problem(res).await, (404, "passkeys_unavailable".to_owned()));
    let citizen = strong_citizen(&app, &app.client, 1463).await;
    let res = begin_registration(&app, &app.client).await;
    assert_eq!(problem(res).await, (404, "passkeys_unavailable".to_owned()));
    assert_eq!(stored_passkeys(&app, &citizen).await, 0);
    assert!(listed(&app, &app.client).await.is_empty());
}
