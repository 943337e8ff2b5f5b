//! Sign-in lockout cannot be raced (parallel wrong passwords) or sidestepped
//! (another name for the account, the account pages' password checks).

use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn twelve_parallel_wrong_passwords_check_at_most_the_locking_attempt() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(307);
    app.active_citizen(&citizen).await;
    // Open the pool's connections first, so the burst waits on nothing but
    // the throttle (opening many at once on a busy machine may time out).
    let mut warm = Vec::new();
    for _ in 0..8 {
        warm.push(app.db().await);
    }
    drop(warm);
    let mut attempts = Vec::new();
    for _ in 0..12 {
        let client = TestApp::fresh_client();
        let csrf = login_csrf(&app, &client).await;
        attempts.push((client, csrf));
    }
    let statuses = futures_util::future::join_all(
        attempts
            .iter()
            .map(|(client, csrf)| post_login(&app, client, csrf, &citizen.national_id, WRONG)),
    )
    .await;
    // Four free failures and the fifth, which locks: no more are checked.
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let limit = eservices::identity::throttle::SIGN_IN_ACCOUNT.free_failures as usize + 1;
    assert!(checked <= limit, "{checked} checked: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 12 - checked);
    assert!(sign_in_failures(&app).await <= limit as i64);
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        429,
        "locked, even for the right password"
    );
}

#[tokio::test]
async fn the_national_id_and_the_email_of_one_account_share_one_counter() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(308);
    app.active_citizen(&citizen).await;
    for i in 0..5 {
        let name = if i % 2 == 0 {
            citizen.national_id.clone()
        } else {
            citizen.email.to_uppercase()
        };
        assert_eq!(app.sign_in(&name, WRONG).await.status(), 401);
    }
    assert_eq!(
        app.sign_in(&citizen.email, &citizen.password)
            .await
            .status(),
        429
    );
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        429
    );
    // An unknown name answers like a known one, on a counter of its own.
    assert_eq!(app.sign_in("079090999998", WRONG).await.status(), 401);
}

#[tokio::test]
async fn wrong_passwords_on_the_account_pages_count_against_the_sign_in_counter() {
    let app = TestApp::spawn().await;
    let citizen = signed_in_citizen(&app, 309).await;
    for _ in 0..3 {
        let res = app
            .post_json(
                "/api/v1/me/password",
                &json!({ "current_password": WRONG, "new_password": "Phở bò Nam Định 2029" }),
            )
            .await;
        assert_eq!(res.status(), 422);
    }
    for _ in 0..2 {
        let res = app
            .post_json(
                "/api/v1/me/email",
                &json!({ "email": "moi-309@example.vn", "current_password": WRONG }),
            )
            .await;
        assert_eq!(res.status(), 422);
    }
    let res = app
        .post_json(
            "/api/v1/me/password",
            &json!({ "current_password": citizen.password, "new_password": "Phở bò Nam Định 2029" }),
        )
        .await;
    assert_eq!(
        res.status(),
        429,
        "five wrong passwords lock the account's counter"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "sign_in_locked");
    assert_eq!(
        app.sign_in_with(&TestApp::fresh_client(), &citizen.email, &citizen.password)
            .await
            .status(),
        429
    );
}
