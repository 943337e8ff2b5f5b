//! The citizen's account page, `/account`: who may see it, what it lists,
//! and its passkey removal form (CSRF, a recent strong sign-in, another
//! account's passkey).

use serde_json::Value;

use crate::helpers::{Citizen, TestApp, input_value};

/// A passkey stored for the citizen `national_id` as the registration
/// ceremony stores one; returns its id.
async fn insert_passkey(app: &TestApp, national_id: &str, name: &str, synced: bool) -> String {
    use eservices::storage::passkeys::{Owner, PasskeyRow, handle_for, insert};
    let owner = Owner::Account(app.state_account(national_id).await.as_uuid());
    let mut conn = app.db().await;
    let handle = handle_for(&mut conn, owner, app.now())
        .await
        .expect("a user handle");
    let id = uuid::Uuid::now_v7();
    let stored = insert(
        &mut conn,
        &PasskeyRow {
            id,
            user_handle: handle,
            credential_id: uuid::Uuid::new_v4().as_bytes().to_vec(),
            name: name.to_owned(),
            credential: serde_json::json!({}),
            sign_count: 0,
            synced,
            created_at: app.now(),
            last_used_at: None,
        },
    )
    .await
    .expect("insert");
    assert!(stored);
    id.to_string()
}

async fn passkeys_of(app: &TestApp, national_id: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM passkeys p JOIN passkey_owners o USING (user_handle) \
         JOIN accounts a ON a.id = o.account_id WHERE a.national_id = '{national_id}'"
    ))
    .await
}

async fn account_page(app: &TestApp, client: &reqwest::Client) -> String {
    let (status, page) = app.page(client, "/account").await;
    assert_eq!(status, 200, "{page}");
    page
}

async fn remove(
    app: &TestApp,
    client: &reqwest::Client,
    id: &str,
    csrf: Option<&str>,
) -> reqwest::Response {
    let form: Vec<(&str, &str)> = csrf.map(|c| ("csrf_token", c)).into_iter().collect();
    client
        .post(app.url(&format!("/account/passkeys/{id}/remove")))
        .form(&form)
        .send()
        .await
        .expect("remove")
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    let app = TestApp::spawn().await;
    let res = TestApp::fresh_client()
        .get(app.url("/account"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?return_to=%2Faccount");
}

#[tokio::test]
async fn the_page_shows_the_level_passkeys_sessions_and_events() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(71).await;
    insert_passkey(&app, &citizen.national_id, "Khóa USB ở cơ quan", false).await;
    insert_passkey(&app, &citizen.national_id, "Điện thoại <của tôi>", true).await;

    let page = account_page(&app, &app.client).await;
    assert!(page.contains("Nguyễn Văn An"), "{page}");
    assert!(page.contains("Mức 1"), "{page}");
    assert!(page.contains("Khóa USB ở cơ quan"), "{page}");
    // Names are escaped, and the synced one is marked.
    assert!(page.contains("Điện thoại &#60;của tôi&#62;"), "{page}");
    assert!(!page.contains("<của tôi>"));
    assert_eq!(page.matches("tag synced").count(), 1, "{page}");
    let today = eservices::identity::emails::vietnam_date(app.now())
        .format("%d/%m/%Y")
        .to_string();
    assert!(page.contains(&today), "created dd/mm/yyyy: {page}");
    assert_eq!(
        page.matches("/remove\"").count(),
        2,
        "a removal form per passkey"
    );
    // A password alone does not count as level 2, and adding a passkey first needs more.
    assert!(page.contains("id=\"step-up-notice\""), "{page}");
    assert!(page.contains("href=\"/login/verify?return_to=%2Faccount\""));
    assert!(page.contains("data-passkey=\"register\""));
    assert!(page.contains("id=\"passkey-name\"") && page.contains("id=\"passkey-error\""));
    assert!(page.contains("src=\"/assets/passkeys.js\""));
    // This session, how it signed in, and the sign-in among the events.
    assert!(page.contains("Phiên hiện tại"), "{page}");
    assert!(page.contains("<td>Mật khẩu</td>"), "{page}");
    assert!(page.contains("Đăng nhập</td>"), "{page}");

    // A second browser: two sessions, one current.
    // (The account has passkeys now: a password alone is not a session.)
    let other = TestApp::fresh_client();
    app.sign_in_strongly_with(&other, &citizen.national_id, &citizen.password)
        .await;
    let page = account_page(&app, &app.client).await;
    assert_eq!(page.matches("class=\"current-session\"").count(), 1);
    assert!(page.contains("<td>Mật khẩu + mã xác thực</td>"), "{page}");
    let sessions = &page[page.find("id=\"session-list\"").expect("sessions")..];
    let sessions = &sessions[..sessions.find("</table>").expect("end")];
    assert_eq!(
        sessions.matches("<tr").count(),
        3,
        "a header and two sessions"
    );
}

#[tokio::test]
async fn a_passkey_is_removed_with_the_form_after_a_strong_sign_in_and_not_by_a_forged_one() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(72).await;
    let id = insert_passkey(&app, &citizen.national_id, "Khóa cũ", false).await;
    let page = account_page(&app, &app.client).await;
    let csrf = input_value(&page, "csrf_token").expect("a CSRF field");

    // A forged form: no token, or another site's page.
    let res = remove(&app, &app.client, &id, None).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.expect("page").contains("<html"));
    let res = app
        .client
        .post(app.url(&format!("/account/passkeys/{id}/remove")))
        .header("Origin", "https://evil.example")
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("remove");
    assert_eq!(res.status(), 403);
    assert_eq!(passkeys_of(&app, &citizen.national_id).await, 1);

    // A password alone is not enough: verify more first.
    let res = remove(&app, &app.client, &id, Some(&csrf)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login/verify?return_to=%2Faccount");
    assert_eq!(passkeys_of(&app, &citizen.national_id).await, 1);

    // After the email code, the form removes it.
    assert_eq!(app.step_up_by_email(&app.client).await.status(), 303);
    let res = remove(&app, &app.client, &id, Some(&csrf)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account?done=passkey_removed");
    assert_eq!(passkeys_of(&app, &citizen.national_id).await, 0);
    let (status, page) = app.page(&app.client, "/account?done=passkey_removed").await;
    assert_eq!(status, 200);
    assert!(page.contains("Đã xóa passkey."), "{page}");
    assert!(page.contains("Bạn chưa có passkey nào."), "{page}");
    assert!(!page.contains("id=\"passkey-list\""), "{page}");
    assert!(
        page.contains("<td>Xóa passkey</td><td>Khóa cũ</td>"),
        "the removal among the events: {page}"
    );
    assert!(
        !page.contains("id=\"step-up-notice\""),
        "stepped up: {page}"
    );

    // The API agrees.
    let list: Value = app
        .get("/api/v1/me/passkeys")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));

    // The strong sign-in counts for ten minutes only.
    let spare = insert_passkey(&app, &citizen.national_id, "Khóa dự phòng", false).await;
    app.clock.advance(chrono::Duration::minutes(11));
    let page = account_page(&app, &app.client).await;
    assert!(page.contains("id=\"step-up-notice\""), "{page}");
    let res = remove(&app, &app.client, &spare, Some(&csrf)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login/verify?return_to=%2Faccount");
    assert_eq!(passkeys_of(&app, &citizen.national_id).await, 1);
}

#[tokio::test]
async fn another_accounts_passkey_is_not_found_by_the_form() {
    let app = TestApp::spawn().await;
    let owner = Citizen::sample(73);
    app.active_citizen(&owner).await;
    let theirs = insert_passkey(&app, &owner.national_id, "Của người khác", false).await;
    let _me = app.signed_in_citizen(74).await;
    assert_eq!(app.step_up_by_email(&app.client).await.status(), 303);
    // The browser's CSRF token (the page has no form without a passkey).
    let (_, page) = app.page(&app.client, "/logout").await;
    let csrf = input_value(&page, "csrf_token").expect("a CSRF field");

    for id in [theirs.as_str(), "not-a-uuid"] {
        let res = remove(&app, &app.client, id, Some(&csrf)).await;
        assert_eq!(res.status(), 404, "{id}");
        let body = res.text().await.expect("page");
        assert!(body.contains("<html"), "an HTML page: {body}");
    }
    assert_eq!(passkeys_of(&app, &owner.national_id).await, 1);
}
