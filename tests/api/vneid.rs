//! Sign-in with VNeID against an independent OpenID provider (npm's oidc-provider).

use serde_json::Value;

use crate::helpers::{Citizen, TestApp, TestOptions, VneidOptions, vneid_account};

fn an() -> Value {
    vneid_account(
        "an",
        "vneid-sub-an",
        "079090000001",
        "Nguyễn Văn An",
        "1990-05-17",
        "male",
    )
}

async fn app_with(accounts: Vec<Value>, fail_with: Option<&str>) -> TestApp {
    TestApp::spawn_with(TestOptions {
        vneid: Some(VneidOptions {
            accounts,
            fail_with: fail_with.map(str::to_owned),
        }),
        ..TestOptions::default()
    })
    .await
}

#[tokio::test]
async fn a_first_vneid_sign_in_creates_a_level_2_account_and_later_ones_reuse_it() {
    let app = app_with(vec![an()], None).await;
    let page = app.get("/login").await.text().await.expect("page");
    assert!(page.contains("Đăng nhập bằng tài khoản định danh điện tử VNeID"));

    let res = app.sign_in_with_vneid("an").await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(res.headers()["location"], "/api/v1/me");
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["national_id"], "079090000001");
    assert_eq!(me["full_name"], "Nguyễn Văn An");
    assert_eq!(me["assurance_level"], 2);
    assert_eq!(me["date_of_birth"], "1990-05-17");

    // Again (a new session): same account, no duplicate.
    let res = app.sign_in_with_vneid("an").await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM federated_identities")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM identity_verifications WHERE method = 'vneid'")
            .await,
        1
    );
}

/// Anyone can self-register a stranger's national ID (it is printed on every
/// card). When the ID's owner proves themself with VNeID, they get the
/// account, and nothing of the claimant's survives: not the password, not the
/// email or phone, not a session.
#[tokio::test]
async fn an_unproven_account_with_that_national_id_is_replaced_never_raised_for_its_claimant() {
    let mut squatter = Citizen::sample(1);
    squatter.national_id = "079090000001".into();
    let app = app_with(vec![an()], None).await;
    app.active_citizen(&squatter).await;
    let squatters_browser = TestApp::fresh_client();
    assert_eq!(
        app.sign_in_with(
            &squatters_browser,
            &squatter.national_id,
            &squatter.password
        )
        .await
        .status(),
        303
    );

    let res = app.sign_in_with_vneid("an").await;
    assert_eq!(res.status(), 303);
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["assurance_level"], 2);
    assert_eq!(me["full_name"], "Nguyễn Văn An", "the proven identity");
    assert!(me["email"].is_null(), "the claimant's email is gone: {me}");
    assert!(me["phone"].is_null(), "the claimant's phone is gone: {me}");
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 1);

    // The claimant's password and session no longer open anything.
    let other = TestApp::fresh_client();
    assert_eq!(
        app.sign_in_with(&other, &squatter.national_id, &squatter.password)
            .await
            .status(),
        401
    );
    let res = squatters_browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401);

    // The claimant's address is told, and is not congratulated on level 2.
    app.run_jobs().await;
    let mails = app.smtp.messages_to(&squatter.email);
    assert!(
        mails
            .iter()
            .any(|m| m.subject() == "Tài khoản Dịch vụ công đã được chủ số định danh nhận lại")
    );
    assert!(
        !mails
            .iter()
            .any(|m| m.subject() == "Tài khoản của bạn đã được định danh mức độ 2")
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM auth_events WHERE kind = 'identity_reclaimed'")
            .await,
        1
    );
}

#[tokio::test]
async fn an_upstream_refusal_shows_a_clear_page_and_changes_nothing() {
    let app = app_with(vec![an()], Some("access_denied")).await;
    let res = app.sign_in_with_vneid("an").await;
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let page = res.text().await.expect("page");
    assert!(
        page.contains("Bạn đã từ chối hoặc hủy đăng nhập bằng VNeID."),
        "{page}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 0);
    assert_eq!(app.get("/api/v1/me").await.status(), 401);
}

#[tokio::test]
async fn a_callback_with_a_forged_or_replayed_state_is_refused() {
    let app = app_with(vec![an()], None).await;
    // No sign-in was started by this browser.
    let res = app.get("/login/vneid/callback?code=abc&state=forged").await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .expect("page")
            .contains("Phiên đăng nhập VNeID không hợp lệ")
    );

    // A finished sign-in's callback cannot be replayed.
    let first = app.sign_in_with_vneid("an").await;
    assert_eq!(first.status(), 303);
    let replay = app
        .client
        .get(first.url().clone())
        .send()
        .await
        .expect("replay");
    assert_eq!(replay.status(), 400);
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 1);
}

#[tokio::test]
async fn claims_that_contradict_each_other_create_no_account() {
    // The ID says born in 1990; the birthdate claim says 1991.
    let bad = vneid_account(
        "bad",
        "vneid-sub-bad",
        "079090000002",
        "Trần Thị Bình",
        "1991-01-01",
        "female",
    );
    let app = app_with(vec![bad], None).await;
    let res = app.sign_in_with_vneid("bad").await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .expect("page")
            .contains("Đăng nhập bằng VNeID không thành công")
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 0);
}
