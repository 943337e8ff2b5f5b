//! Civil servants' passkeys: registered in the back office after a recent
//! sign-in, then a password with a passkey signs in instead of TOTP; an
//! agency admin may require them (TOTP then no longer signs in one who has
//! a passkey, and one without is sent to register one first); nobody
//! else's passkey (a citizen's, a colleague's) passes the staff step.

mod attacks;
mod chromium;

use chrono::Duration;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, TestStaff, input_value},
    passkeys::{Authenticator, citizen_with_passkey},
};

const WARD: &str = "000.21.11.H29";
const OTHER_AGENCY: &str = "000.00.12.H29";

/// A JSON POST from `browser`; status and body.
async fn post_json(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let res = browser
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .expect("post");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Registers `authenticator` as a passkey named `name` from a signed-in
/// back-office `browser`; returns the answer.
async fn register(
    app: &TestApp,
    browser: &reqwest::Client,
    authenticator: &mut Authenticator,
    name: &str,
) -> (u16, Value) {
    let (status, start) = post_json(app, browser, "/backoffice/passkeys/options", &json!({})).await;
    if status != 200 {
        return (status, start);
    }
    let pk = &start["options"]["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    let credential = authenticator.register(&start["options"], &app.webauthn_origin);
    post_json(
        app,
        browser,
        "/backoffice/passkeys",
        &json!({
            "registration_id": start["registration_id"],
            "name": name,
            "credential": credential,
        }),
    )
    .await
}

/// A civil servant signed in with TOTP who registered a passkey.
async fn staff_with_passkey(
    app: &TestApp,
    username: &str,
    agency: &str,
    role: &str,
) -> (TestStaff, reqwest::Client, Authenticator) {
    let staff = app.staff(username, agency, &[role]).await;
    let browser = app.backoffice(&staff).await;
    let mut authenticator = Authenticator::new();
    let (status, body) = register(app, &browser, &mut authenticator, "Khóa ở bàn làm việc").await;
    assert_eq!(status, 201, "{body}");
    (staff, browser, authenticator)
}

/// The password with no code: the answer (303 to the passkey step when the
/// civil servant has passkeys).
async fn password_only(
    app: &TestApp,
    browser: &reqwest::Client,
    staff: &TestStaff,
) -> reqwest::Response {
    app.staff_sign_in(browser, &staff.username, &staff.password, "")
        .await
}

/// The passkey step of `browser`'s pending sign-in answered by
/// `authenticator`: status and body of the finish.
async fn passkey_step(
    app: &TestApp,
    browser: &reqwest::Client,
    authenticator: &mut Authenticator,
) -> (u16, Value) {
    let (status, start) = post_json(
        app,
        browser,
        "/backoffice/login/passkey/options",
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{start}");
    let credential = authenticator.assert(&start["options"], &app.webauthn_origin);
    post_json(
        app,
        browser,
        "/backoffice/login/passkey",
        &json!({ "challenge_id": start["challenge_id"], "credential": credential }),
    )
    .await
}

/// Signs in with password + passkey on a fresh browser.
async fn sign_in_with_passkey(
    app: &TestApp,
    staff: &TestStaff,
    authenticator: &mut Authenticator,
) -> reqwest::Client {
    let browser = TestApp::fresh_client();
    let res = password_only(app, &browser, staff).await;
    assert_eq!(res.status(), 303);
    let (status, body) = passkey_step(app, &browser, authenticator).await;
    assert_eq!(status, 200, "{body}");
    browser
}

/// Where a GET of `path` sends `browser` (its `Location`), or its status.
async fn location(app: &TestApp, browser: &reqwest::Client, path: &str) -> (u16, String) {
    let res = browser.get(app.url(path)).send().await.expect("get");
    let status = res.status().as_u16();
    let to = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, to)
}

/// Posts the policy form of the staff page (`required` = yes/no) for `agency`.
async fn post_policy(
    app: &TestApp,
    browser: &reqwest::Client,
    agency: &str,
    required: &str,
) -> u16 {
    let (_, html) = app.page(browser, "/backoffice/staff").await;
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    browser
        .post(app.url("/backoffice/agency/passkey-policy"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("agency_code", agency),
            ("required", required),
        ])
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

async fn policy_of(app: &TestApp, agency: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) AS n FROM agencies WHERE code = '{agency}' AND staff_passkeys_required"
    ))
    .await
}

async fn events(app: &TestApp, kind: &str) -> Vec<Value> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use eservices::storage::schema::staff_events;
    let mut conn = app.db().await;
    staff_events::table
        .filter(staff_events::kind.eq(kind))
        .order(staff_events::id)
        .select(staff_events::detail)
        .load(&mut conn)
        .await
        .expect("events")
}

#[tokio::test]
async fn a_civil_servant_registers_a_passkey_then_signs_in_with_password_and_passkey() {
    let app = TestApp::spawn().await;
    let staff = app.staff("tn.pk", WARD, &["receiver"]).await;
    let browser = app.backoffice(&staff).await;
    let (status, html) = app.page(&browser, "/backoffice/passkeys").await;
    assert_eq!(status, 200);
    assert!(html.contains("Bạn chưa có passkey nào"));
    assert!(html.contains(r#"data-passkey="register""#));
    assert!(html.contains(r#"data-start-url="/backoffice/passkeys/options""#));
    assert!(html.contains(r#"data-finish-url="/backoffice/passkeys""#));

    let mut authenticator = Authenticator::new();
    let (status, item) = register(&app, &browser, &mut authenticator, "Khóa USB").await;
    assert_eq!(status, 201, "{item}");
    assert_eq!(item["name"], "Khóa USB");
    let (_, html) = app.page(&browser, "/backoffice/passkeys").await;
    assert!(html.contains("Khóa USB"));
    let today = eservices::identity::emails::vietnam_date(app.now())
        .format("%d/%m/%Y")
        .to_string();
    assert!(html.contains(&today), "the date it was added");
    assert!(html.contains("Chưa dùng"));
    assert_eq!(events(&app, "passkey.added").await.len(), 1);

    let other = TestApp::fresh_client();
    a_wrong_password_gets_the_same_answer_as_before_passkeys(&app, &other, &staff).await;
    the_right_password_alone_leads_to_the_passkey_step(&app, &other, &staff, &mut authenticator)
        .await;
    let id = item["id"].as_str().expect("id");
    adding_or_removing_needs_a_recent_sign_in(&app, &other, &staff, &mut authenticator, id).await;
}

/// A wrong password with no code: the same answer as before passkeys, and
/// no pending sign-in.
async fn a_wrong_password_gets_the_same_answer_as_before_passkeys(
    app: &TestApp,
    other: &reqwest::Client,
    staff: &TestStaff,
) {
    let res = app
        .staff_sign_in(other, &staff.username, "Sai mật khẩu 2026!", "")
        .await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("location").is_none());
    assert!(
        res.text()
            .await
            .expect("page")
            .contains("Tên đăng nhập, mật khẩu hoặc mã xác thực không đúng.")
    );
    let (status, _) = post_json(app, other, "/backoffice/login/passkey/options", &json!({})).await;
    assert_eq!(status, 400, "no pending sign-in after a wrong password");
}

/// The right password with no code: the passkey step, no session before
/// it; the passkey signs in (recorded as such) and uses the pending
/// sign-in up.
async fn the_right_password_alone_leads_to_the_passkey_step(
    app: &TestApp,
    other: &reqwest::Client,
    staff: &TestStaff,
    authenticator: &mut Authenticator,
) {
    let res = password_only(app, other, staff).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers().get("location").and_then(|l| l.to_str().ok()),
        Some("/backoffice/login/passkey")
    );
    let (status, html) = app.page(other, "/backoffice/login/passkey").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-passkey="staff_second_step""#));
    assert_eq!(
        location(app, other, "/backoffice/").await,
        (303, "/backoffice/login".to_owned()),
        "no session before the passkey"
    );
    let (status, body) = passkey_step(app, other, authenticator).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["location"], "/backoffice/");
    let (status, _) = app.page(other, "/backoffice/").await;
    assert_eq!(status, 200);
    let signed_in = events(app, "signed_in").await;
    assert_eq!(signed_in[0]["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(
        signed_in.last().expect("the passkey sign-in")["amr"],
        json!(["pwd", "hwk", "mfa"])
    );
    // The pending sign-in was used up.
    let (status, body) =
        post_json(app, other, "/backoffice/login/passkey/options", &json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("sign_in_expired"))
    );
    let (_, html) = app.page(other, "/backoffice/passkeys").await;
    assert!(!html.contains("Chưa dùng"), "the last use is shown");
}

/// Adding or removing needs a sign-in in the last ten minutes; a fresh
/// sign-in removes passkey `id` (with the form's token only); without
/// passkeys, an empty code is a wrong code again.
async fn adding_or_removing_needs_a_recent_sign_in(
    app: &TestApp,
    other: &reqwest::Client,
    staff: &TestStaff,
    authenticator: &mut Authenticator,
    id: &str,
) {
    app.clock.advance(Duration::minutes(11));
    let (status, body) = register(app, other, &mut Authenticator::new(), "Khác").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("recent_sign_in_required"))
    );
    let (_, html) = app.page(other, "/backoffice/passkeys").await;
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    let remove = format!("/backoffice/passkeys/{id}/remove");
    let res = other
        .post(app.url(&remove))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("remove");
    assert_eq!(res.status(), 401);
    // A fresh sign-in removes it (with the form's token only).
    let fresh = sign_in_with_passkey(app, staff, authenticator).await;
    let res = fresh
        .post(app.url(&remove))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .expect("remove");
    assert_eq!(res.status(), 403);
    let (_, html) = app.page(&fresh, "/backoffice/passkeys").await;
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    let res = fresh
        .post(app.url(&remove))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("remove");
    assert_eq!(res.status(), 303);
    assert_eq!(app.count("SELECT count(*) AS n FROM passkeys").await, 0);
    assert_eq!(events(app, "passkey.removed").await.len(), 1);
    // Without passkeys, an empty code is a wrong code again.
    let res = password_only(app, &TestApp::fresh_client(), staff).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn totp_no_longer_signs_in_a_civil_servant_with_a_passkey_once_the_agency_requires_passkeys()
{
    let app = TestApp::spawn().await;
    let admin = app.staff("qt.pk", WARD, &["agency_admin"]).await;
    let admin_browser = app.backoffice(&admin).await;
    let (clerk, _, mut authenticator) = staff_with_passkey(&app, "tn.pk2", WARD, "receiver").await;

    // The admin is under the policy too: not without a passkey of their own.
    assert_eq!(post_policy(&app, &admin_browser, WARD, "yes").await, 409);
    assert_eq!(policy_of(&app, WARD).await, 0);
    let (status, body) = register(&app, &admin_browser, &mut Authenticator::new(), "Khóa QT").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(post_policy(&app, &admin_browser, WARD, "yes").await, 303);
    assert_eq!(policy_of(&app, WARD).await, 1);
    let changed = events(&app, "agency.passkey_policy_changed").await;
    assert_eq!(changed, [json!({ "before": false, "after": true })]);
    let (_, html) = app.page(&admin_browser, "/backoffice/staff").await;
    assert!(html.contains("Thôi yêu cầu passkey"));

    app.clock.advance(Duration::seconds(30));
    let res = app
        .staff_sign_in(
            &TestApp::fresh_client(),
            &clerk.username,
            &clerk.password,
            &app.totp_now(&clerk.secret),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .expect("page")
            .contains("Đơn vị của bạn yêu cầu đăng nhập bằng passkey")
    );
    // Nor a staff API token.
    app.clock.advance(Duration::seconds(30));
    let (status, body) = post_json(
        &app,
        &app.client,
        "/api/v1/staff/tokens",
        &json!({
            "username": clerk.username,
            "password": clerk.password,
            "totp": app.totp_now(&clerk.secret),
        }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("passkey_sign_in_required"))
    );
    // The passkey still signs in.
    let browser = sign_in_with_passkey(&app, &clerk, &mut authenticator).await;
    assert_eq!(app.page(&browser, "/backoffice/queue").await.0, 200);
    // …and the last one stays while the policy holds.
    let (_, html) = app.page(&browser, "/backoffice/passkeys").await;
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    let ids: Vec<uuid::Uuid> = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use eservices::storage::schema::passkeys;
        let mut conn = app.db().await;
        passkeys::table
            .filter(passkeys::name.eq("Khóa ở bàn làm việc"))
            .select(passkeys::id)
            .load(&mut conn)
            .await
            .expect("ids")
    };
    let res = browser
        .post(app.url(&format!("/backoffice/passkeys/{}/remove", ids[0])))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("remove");
    assert_eq!(res.status(), 409);
    assert_eq!(app.count("SELECT count(*) AS n FROM passkeys").await, 2);
}

#[tokio::test]
async fn without_a_passkey_every_page_leads_to_registering_one_when_the_agency_requires_them() {
    let app = TestApp::spawn().await;
    let (_, admin_browser, _) = staff_with_passkey(&app, "qt.pk3", WARD, "agency_admin").await;
    assert_eq!(post_policy(&app, &admin_browser, WARD, "yes").await, 303);
    let clerk = app.staff("tn.pk3", WARD, &["receiver"]).await;

    // TOTP still signs in one who has no passkey yet…
    let browser = app.backoffice(&clerk).await;
    // …but every page sends them to register one.
    for page in ["/backoffice/", "/backoffice/queue", "/backoffice/counter"] {
        assert_eq!(
            location(&app, &browser, page).await,
            (303, "/backoffice/passkeys".to_owned()),
            "{page}"
        );
    }
    let (status, html) = app.page(&browser, "/backoffice/passkeys").await;
    assert_eq!(status, 200);
    assert!(html.contains("Đơn vị của bạn yêu cầu cán bộ đăng nhập bằng passkey"));
    // So does the staff API.
    app.clock.advance(Duration::seconds(30));
    let (status, body) = post_json(
        &app,
        &app.client,
        "/api/v1/staff/tokens",
        &json!({
            "username": clerk.username,
            "password": clerk.password,
            "totp": app.totp_now(&clerk.secret),
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let token = body["access_token"].as_str().expect("token").to_owned();
    let queue = || {
        app.client
            .get(app.url("/api/v1/staff/queue"))
            .bearer_auth(&token)
            .send()
    };
    let res = queue().await.expect("queue");
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "passkey_required");

    // The admin sees who has none yet.
    let (_, html) = app.page(&admin_browser, "/backoffice/staff").await;
    assert!(html.contains("Chưa có"));
    // Registering one opens everything again.
    let mut authenticator = Authenticator::new();
    let (status, body) = register(&app, &browser, &mut authenticator, "Điện thoại").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(app.page(&browser, "/backoffice/").await.0, 200);
    assert_eq!(queue().await.expect("queue").status(), 200);
    let (_, html) = app.page(&admin_browser, "/backoffice/staff").await;
    assert!(!html.contains("Chưa có"), "everyone has a passkey now");

    // Sign-out stayed open all along; an admin who lifts the policy is trailed.
    assert_eq!(post_policy(&app, &admin_browser, WARD, "no").await, 303);
    assert_eq!(policy_of(&app, WARD).await, 0);
    assert_eq!(events(&app, "agency.passkey_policy_changed").await.len(), 2);
}

#[tokio::test]
async fn a_citizens_or_a_colleagues_passkey_does_not_pass_the_staff_step() {
    let app = TestApp::spawn().await;
    let (_, mut citizens) = citizen_with_passkey(&app, 1801).await;
    let (staff, _, mut own) = staff_with_passkey(&app, "tn.pk4", WARD, "receiver").await;
    let (_, _, mut colleagues) = staff_with_passkey(&app, "xl.pk4", WARD, "processor").await;

    let browser = TestApp::fresh_client();
    assert_eq!(password_only(&app, &browser, &staff).await.status(), 303);
    for foreign in [&mut citizens, &mut colleagues] {
        let (status, body) = passkey_step(&app, &browser, foreign).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("passkey_invalid"))
        );
        assert_eq!(
            location(&app, &browser, "/backoffice/").await,
            (303, "/backoffice/login".to_owned()),
            "no session"
        );
    }
    assert_eq!(events(&app, "sign_in_failed").await.len(), 2);
    // The civil servant's own passkey still completes the step.
    let (status, body) = passkey_step(&app, &browser, &mut own).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.page(&browser, "/backoffice/").await.0, 200);
}

#[tokio::test]
async fn an_agency_admin_of_another_agency_cannot_change_the_policy() {
    let app = TestApp::spawn().await;
    let (_, other, _) = staff_with_passkey(&app, "qt.khac.pk", OTHER_AGENCY, "agency_admin").await;
    assert_eq!(post_policy(&app, &other, WARD, "yes").await, 403);
    assert_eq!(policy_of(&app, WARD).await, 0);
    assert!(
        events(&app, "agency.passkey_policy_changed")
            .await
            .is_empty()
    );
    // A civil servant who is not an admin cannot change their own agency's.
    let clerk = app.staff("tn.pk5", WARD, &["receiver"]).await;
    let clerk_browser = app.backoffice(&clerk).await;
    let (_, html) = app.page(&clerk_browser, "/backoffice/passkeys").await;
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    let res = clerk_browser
        .post(app.url("/backoffice/agency/passkey-policy"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("agency_code", WARD),
            ("required", "yes"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    assert_eq!(policy_of(&app, WARD).await, 0);
    // Their own agency's policy is theirs to set.
    assert_eq!(post_policy(&app, &other, OTHER_AGENCY, "yes").await, 303);
    assert_eq!(policy_of(&app, OTHER_AGENCY).await, 1);
}

#[tokio::test]
async fn the_policy_form_needs_its_csrf_token() {
    let app = TestApp::spawn().await;
    let admin = app.staff("qt.pk6", WARD, &["agency_admin"]).await;
    let browser = app.backoffice(&admin).await;
    for token in ["", "forged-token-0000000000000000000000000"] {
        let res = browser
            .post(app.url("/backoffice/agency/passkey-policy"))
            .form(&[
                ("csrf_token", token),
                ("agency_code", WARD),
                ("required", "yes"),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 403);
    }
    // A cross-site form (another Origin) with the right token is refused too.
    let (_, html) = app.page(&browser, "/backoffice/staff").await;
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    let res = browser
        .post(app.url("/backoffice/agency/passkey-policy"))
        .header("Origin", "https://evil.example")
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("agency_code", WARD),
            ("required", "yes"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    assert_eq!(policy_of(&app, WARD).await, 0);
    assert!(
        events(&app, "agency.passkey_policy_changed")
            .await
            .is_empty()
    );
}
