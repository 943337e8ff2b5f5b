//! Proof beats claim: a counter check or a VNeID sign-in binds the person
//! proven, never whoever registered their national ID first; registration
//! tells nobody whose ID is taken.

use serde_json::{Value, json};

use crate::helpers::{Citizen, TestApp, TestOptions, VneidOptions, input_value, vneid_account};

const AGENCY: &str = "000.00.02.H29";
pub(crate) const EVIDENCE: &str = "Thẻ căn cước gắn chip, đọc chip thành công";

/// A receiver's browser at the counter page, with its CSRF token.
pub(crate) async fn counter(app: &TestApp) -> (reqwest::Client, String) {
    let receiver = app.staff("tiepnhan.trust", AGENCY, &["receiver"]).await;
    let browser = app.backoffice(&receiver).await;
    let (status, page) = app
        .page(&browser, "/backoffice/identity-verifications")
        .await;
    assert_eq!(status, 200);
    let csrf = input_value(&page, "csrf_token").expect("csrf");
    (browser, csrf)
}

pub(crate) async fn post(
    app: &TestApp,
    browser: &reqwest::Client,
    form: &[(&str, &str)],
) -> (u16, String) {
    let res = browser
        .post(app.url("/backoffice/identity-verifications"))
        .form(form)
        .send()
        .await
        .expect("post");
    (res.status().as_u16(), res.text().await.expect("page"))
}

async fn account(app: &TestApp, national_id: &str) -> Value {
    let mut db = app.db().await;
    let row = eservices::storage::accounts::find_by_national_id(&mut db, national_id)
        .await
        .expect("query")
        .expect("an account");
    json!({
        "id": row.id.to_string(),
        "email": row.email,
        "email_verified": row.email_verified_at.is_some(),
        "phone": row.phone,
        "has_password": row.password_hash.is_some(),
        "level": row.assurance_level,
        "status": row.status,
        "full_name": row.full_name,
    })
}

/// A stranger registered the citizen's national ID with their own email and
/// password and uses it. The citizen proves themself at the counter and does
/// not recognise the account: it becomes theirs, and the claimant loses
/// everything (password, email, phone, session) in that same step.
#[tokio::test]
async fn a_counter_check_replaces_a_squatters_account_and_the_owner_sets_their_own_password() {
    let app = TestApp::spawn().await;
    let squatter = Citizen::sample(41);
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
    let (browser, csrf) = counter(&app).await;
    let desk = Desk {
        app: &app,
        browser: &browser,
        csrf: &csrf,
    };
    let shown = desk.step_one_shows_the_account_masked(&squatter).await;
    let owner_email = "chinh.chu@example.vn";
    desk.the_citizen_does_not_recognise_it(&squatter, &shown, owner_email)
        .await;
    the_claimant_opens_nothing_any_more(&app, &squatters_browser, &squatter).await;
    the_owner_sets_their_password_from_the_mailed_link(&app, &squatter, owner_email).await;

    // The claimant's address learns it, and the agency's trail shows the check.
    assert!(
        app.smtp
            .messages_to(&squatter.email)
            .iter()
            .any(|m| m.subject() == "Tài khoản Dịch vụ công đã được chủ số định danh nhận lại")
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM staff_events WHERE kind IN ('citizen.identity_looked_up', 'citizen.identity_verified')").await,
        2,
        "one look-up (the page the receiver saw) and the check"
    );
}

/// The receiver's counter page: the browser and its CSRF token.
struct Desk<'a> {
    app: &'a TestApp,
    browser: &'a reqwest::Client,
    csrf: &'a str,
}

impl Desk<'_> {
    /// Step one shows the account masked, for the receiver to ask the
    /// citizen; the id of the account shown.
    async fn step_one_shows_the_account_masked(&self, squatter: &Citizen) -> String {
        let (app, browser, csrf) = (self.app, self.browser, self.csrf);
        let look_up = [
            ("national_id", squatter.national_id.as_str()),
            ("evidence", EVIDENCE),
            ("csrf_token", csrf),
        ];
        let (status, page) = post(app, browser, &look_up).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("ci***@e***.vn"), "masked email shown: {page}");
        assert!(!page.contains(&squatter.email));
        assert!(page.contains("*** *** 678"), "masked phone shown");
        assert!(page.contains("Mức 1"));
        input_value(&page, "account_id").expect("the account shown")
    }

    /// The citizen does not recognise the account `shown`: it is replaced
    /// with their own email; the claimant's password and phone are gone.
    async fn the_citizen_does_not_recognise_it(
        &self,
        squatter: &Citizen,
        shown: &str,
        owner_email: &str,
    ) {
        let (app, browser, csrf) = (self.app, self.browser, self.csrf);
        let (status, page) = post(
            app,
            browser,
            &[
                ("national_id", squatter.national_id.as_str()),
                ("evidence", EVIDENCE),
                ("csrf_token", csrf),
                ("step", "confirm"),
                ("account_id", shown),
                ("recognised", "no"),
                ("full_name", "Nguyễn Văn An"),
                ("date_of_birth", "1990-05-17"),
                ("sex", "male"),
                ("email", owner_email),
                ("phone", ""),
                ("confirm", "yes"),
            ],
        )
        .await;
        assert_eq!(status, 303, "{page}");

        let row = account(app, &squatter.national_id).await;
        assert_eq!(row["id"], shown, "the same account, now the owner's");
        assert_eq!(row["level"], 2);
        assert_eq!(row["status"], "active");
        assert_eq!(row["email"], owner_email);
        assert_eq!(row["email_verified"], false);
        assert_eq!(
            row["has_password"], false,
            "the claimant's password is gone"
        );
        assert!(row["phone"].is_null(), "the claimant's phone is gone");
    }
}

/// The claimant's session and password open nothing any more.
async fn the_claimant_opens_nothing_any_more(
    app: &TestApp,
    squatters_browser: &reqwest::Client,
    squatter: &Citizen,
) {
    let res = squatters_browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401);
    assert_eq!(
        app.sign_in_with(
            &TestApp::fresh_client(),
            &squatter.national_id,
            &squatter.password
        )
        .await
        .status(),
        401
    );
}

/// The owner sets their password from the link mailed to their address,
/// signs in at level 2, and the link proved the address.
async fn the_owner_sets_their_password_from_the_mailed_link(
    app: &TestApp,
    squatter: &Citizen,
    owner_email: &str,
) {
    app.run_jobs().await;
    let setup = app
        .smtp
        .messages_to(owner_email)
        .into_iter()
        .find(|m| m.subject() == "Đặt mật khẩu cho tài khoản Dịch vụ công của bạn")
        .expect("the set-up email");
    let token = crate::helpers::token_in(&setup.text()).expect("a token");
    let res = app
        .post_json(
            "/api/v1/password-resets/confirm",
            &json!({ "token": token, "new_password": "Chính chủ giữ tài khoản 2026" }),
        )
        .await;
    assert!(
        res.status().is_success(),
        "{}",
        res.text().await.unwrap_or_default()
    );
    let owners_browser = TestApp::fresh_client();
    assert_eq!(
        app.sign_in_with(
            &owners_browser,
            &squatter.national_id,
            "Chính chủ giữ tài khoản 2026"
        )
        .await
        .status(),
        303
    );
    let me: Value = owners_browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(me["assurance_level"], 2);
    assert_eq!(
        account(app, &squatter.national_id).await["email_verified"],
        true,
        "the set-up link proved the owner's address"
    );
}

/// A pending registration (its email never verified) is never raised or
/// activated by a proof, even when the form is forged to say the citizen
/// recognised it; replacing it deletes it.
#[tokio::test]
async fn a_proof_never_activates_a_pending_registration() {
    let app = TestApp::spawn().await;
    let squatter = Citizen::sample(42);
    let squatters_link = app.register(&squatter).await;
    let before = account(&app, &squatter.national_id).await;
    let (browser, csrf) = counter(&app).await;
    let (status, page) = post(
        &app,
        &browser,
        &[
            ("national_id", squatter.national_id.as_str()),
            ("evidence", EVIDENCE),
            ("csrf_token", csrf.as_str()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("chưa kích hoạt"));
    assert!(
        !page.contains("name=\"recognised\" value=\"yes\""),
        "a pending account offers no 'it is mine'"
    );

    // Forged: "recognised", no email for the citizen.
    let (status, _) = post(
        &app,
        &browser,
        &[
            ("national_id", squatter.national_id.as_str()),
            ("evidence", EVIDENCE),
            ("csrf_token", csrf.as_str()),
            ("step", "confirm"),
            ("account_id", before["id"].as_str().expect("id")),
            ("recognised", "yes"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        account(&app, &squatter.national_id).await,
        before,
        "nothing changed"
    );

    let after =
        properly_the_registration_is_replaced(&app, &browser, &csrf, &squatter, &before).await;

    // The claimant's verification link died with their registration.
    let res = app
        .post_json(
            "/api/v1/registrations/verify-email",
            &json!({ "token": squatters_link }),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(account(&app, &squatter.national_id).await, after);
}

/// Properly: the pending registration `before` is replaced by a new
/// account (the only one) at level 2; the new account.
async fn properly_the_registration_is_replaced(
    app: &TestApp,
    browser: &reqwest::Client,
    csrf: &str,
    squatter: &Citizen,
    before: &Value,
) -> Value {
    let (status, page) = post(
        app,
        browser,
        &[
            ("national_id", squatter.national_id.as_str()),
            ("evidence", EVIDENCE),
            ("csrf_token", csrf),
            ("step", "confirm"),
            ("account_id", before["id"].as_str().expect("id")),
            ("recognised", "no"),
            ("full_name", "Nguyễn Văn An"),
            ("date_of_birth", "1990-05-17"),
            ("sex", "male"),
            ("email", "an.that@example.vn"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let after = account(app, &squatter.national_id).await;
    assert_ne!(after["id"], before["id"], "the registration was deleted");
    assert_eq!(after["email"], "an.that@example.vn");
    assert_eq!(after["level"], 2);
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 1);
    after
}

/// The confirmation names the account the receiver was shown: a different one
/// (another citizen's, or the holder changed meanwhile) is refused.
#[tokio::test]
async fn a_counter_confirmation_for_an_account_not_shown_changes_nothing() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(43);
    let other = Citizen::sample(44);
    app.active_citizen(&citizen).await;
    app.active_citizen(&other).await;
    let others = account(&app, &other.national_id).await;
    let before = account(&app, &citizen.national_id).await;
    let (browser, csrf) = counter(&app).await;
    let (status, page) = post(
        &app,
        &browser,
        &[
            ("national_id", citizen.national_id.as_str()),
            ("evidence", EVIDENCE),
            ("csrf_token", csrf.as_str()),
            ("step", "confirm"),
            ("account_id", others["id"].as_str().expect("id")),
            ("recognised", "yes"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("vừa thay đổi"));

    // Without the account shown: refused, on the page, as HTML.
    let (status, page) = post(
        &app,
        &browser,
        &[
            ("national_id", citizen.national_id.as_str()),
            ("evidence", EVIDENCE),
            ("csrf_token", csrf.as_str()),
            ("step", "confirm"),
            ("recognised", "yes"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Vui lòng tra cứu tài khoản"), "{page}");
    // Without the confirmation box: the receiver is asked again.
    let (status, page) = post(
        &app,
        &browser,
        &[
            ("national_id", citizen.national_id.as_str()),
            ("evidence", EVIDENCE),
            ("csrf_token", csrf.as_str()),
            ("step", "confirm"),
            ("account_id", before["id"].as_str().expect("id")),
            ("recognised", "yes"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Vui lòng xác nhận đã đối chiếu"), "{page}");
    assert_eq!(account(&app, &citizen.national_id).await, before);
    assert_eq!(account(&app, &other.national_id).await, others);
}

/// Registering a national ID that has an account answers exactly like a free
/// one; the typed address learns how the ID's owner takes the account over.
#[tokio::test]
async fn registering_a_taken_national_id_answers_like_a_free_one_and_mails_how_to_take_it_over() {
    let app = TestApp::spawn().await;
    let squatter = Citizen::sample(45);
    let first = app
        .post_json("/api/v1/registrations/citizens", &squatter.json())
        .await;
    assert_eq!(first.status(), 202);
    let first_body = first.text().await.expect("body");

    let mut owner = squatter.clone();
    owner.email = "owner45@example.vn".into();
    owner.password = "Mật khẩu của chính chủ 45".into();
    let second = app
        .post_json("/api/v1/registrations/citizens", &owner.json())
        .await;
    assert_eq!(second.status(), 202);
    assert_eq!(second.text().await.expect("body"), first_body);

    app.run_jobs().await;
    let mails = app.smtp.messages_to(&owner.email);
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].subject(),
        "Số định danh này đã có tài khoản Dịch vụ công"
    );
    let text = mails[0].text();
    assert!(
        text.contains("VNeID") && text.contains("bộ phận một cửa"),
        "{text}"
    );
    assert!(!text.contains(&squatter.email), "nothing of the holder's");
    assert!(
        crate::helpers::token_in(&text).is_none(),
        "no link that does anything"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM auth_events WHERE kind = 'registration_refused_id_taken'"
        )
        .await,
        1,
        "the holder's trail shows the attempt"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 1);
}

/// A squatter's pending registration does not stand between the owner and
/// VNeID: the first VNeID sign-in deletes it and creates the owner's account.
#[tokio::test]
async fn a_vneid_sign_in_replaces_a_pending_registration_of_the_national_id() {
    let app = TestApp::spawn_with(TestOptions {
        vneid: Some(VneidOptions {
            accounts: vec![vneid_account(
                "an",
                "vneid-sub-an",
                "079090000046",
                "Nguyễn Văn An",
                "1990-05-17",
                "male",
            )],
            fail_with: None,
        }),
        ..TestOptions::default()
    })
    .await;
    let squatter = Citizen::sample(46);
    let squatters_link = app.register(&squatter).await;
    let res = app.sign_in_with_vneid("an").await;
    assert_eq!(res.status(), 303);
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["assurance_level"], 2);
    assert!(me["email"].is_null(), "{me}");
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 1);
    let res = app
        .post_json(
            "/api/v1/registrations/verify-email",
            &json!({ "token": squatters_link }),
        )
        .await;
    assert_eq!(res.status(), 400, "the claimant's link died with it");
    let row = account(&app, &squatter.national_id).await;
    assert_eq!(row["status"], "active");
    assert!(row["email"].is_null());
}
