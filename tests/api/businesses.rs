//! Business accounts: registration by a level-2 citizen, authorisations.

use serde_json::{Value, json};

use crate::helpers::{
    Citizen, Problem, TestApp, TestOptions, VneidOptions, input_value, read_json, vneid_account,
};

/// An app whose VNeID knows the representative `rep`, signed in (level 2).
async fn app_with_representative() -> TestApp {
    let app = TestApp::spawn_with(TestOptions {
        vneid: Some(VneidOptions {
            accounts: vec![vneid_account(
                "rep",
                "vneid-sub-rep",
                "079090000001",
                "Lê Văn Đại Diện",
                "1990-03-03",
                "male",
            )],
            fail_with: None,
        }),
        ..TestOptions::default()
    })
    .await;
    assert_eq!(app.sign_in_with_vneid("rep").await.status(), 303);
    app
}

#[tokio::test]
async fn only_an_identity_verified_citizen_registers_a_business_once_per_tax_code() {
    let app = TestApp::spawn().await;
    app.signed_in_citizen(1).await;
    let res = app
        .post_json("/api/v1/businesses", &json!({ "tax_code": "0100109106", "name": "Công ty TNHH Sao Mai", "address": "12 Lê Lợi, Quận 1" }))
        .await;
    let problem = Problem::read(res, 403).await;
    assert_eq!(problem.code, "assurance_level_too_low");
    assert_eq!(app.count("SELECT count(*) AS n FROM businesses").await, 0);
}

#[tokio::test]
async fn a_representative_registers_authorises_and_revokes() {
    let app = app_with_representative().await;
    let business_id = registered_and_confirmed_once_per_tax_code(&app).await;

    // Authorise a staff member of the business.
    let staff = Citizen::sample(2);
    app.active_citizen(&staff).await;
    let grant = app
        .post_json(
            &format!("/api/v1/businesses/{business_id}/authorizations"),
            &json!({ "national_id": staff.national_id, "valid_until": "2099-12-31T00:00:00Z" }),
        )
        .await;
    let grant: Value = read_json(grant, 201).await;
    app.run_jobs().await;
    assert!(
        app.smtp
            .messages_to(&staff.email)
            .iter()
            .any(|m| m.subject() == "Bạn được ủy quyền thực hiện dịch vụ công cho doanh nghiệp")
    );

    let browser = the_staff_member_acts_for_the_business(&app, &staff, &business_id).await;
    // Someone else cannot see or change the business's authorisations.
    let res = browser
        .get(app.url(&format!("/api/v1/businesses/{business_id}/authorizations")))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 404);

    let grant_id = grant["id"].as_str().expect("id");
    the_representative_revokes_it_once(&app, &business_id, grant_id, &staff).await;
    let me: Value = browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(me["businesses"], json!([]));
}

/// Invalid fields are named; a valid registration waits for a receiver
/// (proof of representation), who confirms it; the tax code is then taken.
/// The business's id.
async fn registered_and_confirmed_once_per_tax_code(app: &TestApp) -> String {
    let bad = app
        .post_json(
            "/api/v1/businesses",
            &json!({ "tax_code": "0100109107", "name": "X", "address": "" }),
        )
        .await;
    let problem = Problem::read(bad, 422).await;
    let codes: Vec<&str> = problem.errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "tax_code_checksum",
            "business_name_length",
            "business_address_length"
        ]
    );

    let res = app
        .post_json("/api/v1/businesses", &json!({ "tax_code": "0100109106", "name": "Công ty TNHH Sao Mai", "address": "12 Lê Lợi, Quận 1, TP. Hồ Chí Minh" }))
        .await;
    // Pending until a receiver has seen the papers (proof of representation).
    assert_eq!(res.status(), 202);
    let business: Value = res.json().await.expect("json");
    assert_eq!(business["status"], "pending");
    let business_id = business["id"].as_str().expect("id").to_owned();
    crate::trust_business::confirm_business(app, &business_id).await;
    let again = app
        .post_json("/api/v1/businesses", &json!({ "tax_code": "0100109106", "name": "Công ty khác", "address": "1 Nguyễn Huệ, Quận 1" }))
        .await;
    assert_eq!(again.status(), 409);

    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["businesses"][0]["role"], "representative");
    assert_eq!(me["businesses"][0]["tax_code"], "0100109106");
    business_id
}

/// The staff member signs in and chooses to act for the business; their
/// browser.
async fn the_staff_member_acts_for_the_business(
    app: &TestApp,
    staff: &Citizen,
    business_id: &str,
) -> reqwest::Client {
    let browser = TestApp::fresh_client();
    let res = app
        .sign_in_with(&browser, &staff.national_id, &staff.password)
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(location.starts_with("/login/choose"), "{location}");
    let page = browser
        .get(app.url(&location))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("page");
    assert!(page.contains("Doanh nghiệp: Công ty TNHH Sao Mai"));
    let csrf = input_value(&page, "csrf_token").expect("csrf");
    let res = browser
        .post(app.url("/login/choose"))
        .form(&[
            ("acting_for", business_id),
            ("csrf_token", csrf.as_str()),
            ("return_to", "/api/v1/me"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 303);
    let me: Value = browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(me["acting_for"], business_id);
    assert_eq!(me["businesses"][0]["role"], "authorized");
    browser
}

/// The representative lists the authorisation and revokes it (once); the
/// staff member is told.
async fn the_representative_revokes_it_once(
    app: &TestApp,
    business_id: &str,
    grant_id: &str,
    staff: &Citizen,
) {
    let list: Value = app
        .get(&format!("/api/v1/businesses/{business_id}/authorizations"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"][0]["full_name"], "Nguyễn Văn An");
    for status in [204, 404] {
        let res = app
            .client
            .delete(app.url(&format!(
                "/api/v1/businesses/{business_id}/authorizations/{grant_id}"
            )))
            .send()
            .await
            .expect("delete");
        assert_eq!(res.status(), status);
    }
    app.run_jobs().await;
    assert!(
        app.smtp
            .messages_to(&staff.email)
            .iter()
            .any(|m| m.subject().contains("đã bị thu hồi"))
    );
}
