//! Proof of representation for businesses, and the counter's vault look-ups
//! in the citizen's access log and the agency's audit trail.

use serde_json::{Value, json};

use crate::helpers::{Citizen, TestApp, TestOptions, VneidOptions, input_value, vneid_account};

const WARD: &str = "000.21.11.H29";
const OTHER_AGENCY: &str = "000.00.12.H29";
const SERVICE: &str = "HGCS-001";
const TAX_CODE: &str = "0100109106";

/// A receiver of `WARD` signs in to the back office and confirms (or
/// rejects) the pending registration of `business_id`, as at the counter.
pub async fn decide_business(app: &TestApp, business_id: &str, decision: &str) {
    let username = format!("dn.{}", &business_id[business_id.len() - 8..]);
    let receiver = app
        .backoffice(&app.staff(&username, WARD, &["receiver"]).await)
        .await;
    let res = post_decision(
        app,
        &receiver,
        business_id,
        &[
            ("decision", decision),
            (
                "evidence",
                "Bản gốc Giấy chứng nhận ĐKKD và căn cước của người đăng ký",
            ),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
}

/// Confirms a pending business registration through the back office.
pub async fn confirm_business(app: &TestApp, business_id: &str) {
    decide_business(app, business_id, "confirm").await;
}

/// The signed-in representative registers Công ty TNHH Bến Nghé, a
/// receiver confirms it, and the session chooses to act for it; its id.
pub async fn acting_for_a_confirmed_business(app: &TestApp) -> String {
    let res = app
        .post_json(
            "/api/v1/businesses",
            &json!({ "tax_code": TAX_CODE, "name": "Công ty TNHH Bến Nghé", "address": "1 Nguyễn Huệ, Phường Sài Gòn" }),
        )
        .await;
    assert_eq!(
        res.status(),
        202,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let business: Value = res.json().await.expect("json");
    let business_id = business["id"].as_str().expect("id").to_owned();
    // A receiver checks the papers before anyone acts for it.
    confirm_business(app, &business_id).await;
    // Choose to act for it in this session.
    let page = app
        .get("/login/choose?return_to=/api/v1/me")
        .await
        .text()
        .await
        .expect("page");
    let res = app
        .client
        .post(app.url("/login/choose"))
        .form(&[
            ("acting_for", business_id.as_str()),
            (
                "csrf_token",
                input_value(&page, "csrf_token").expect("csrf").as_str(),
            ),
            ("return_to", "/api/v1/me"),
        ])
        .send()
        .await
        .expect("choose");
    assert_eq!(res.status(), 303);
    business_id
}

/// Posts the decision form of `business_id` as the pending list shows it.
async fn post_decision(
    app: &TestApp,
    browser: &reqwest::Client,
    business_id: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    // The home page's sign-out form carries the browser's CSRF token.
    let (code, html) = app.page(browser, "/backoffice/").await;
    assert_eq!(code, 200, "{html}");
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    browser
        .post(app.url(&format!("/backoffice/businesses/{business_id}/decide")))
        .header("Origin", app.address.as_str())
        .form(&form)
        .send()
        .await
        .expect("post")
}

/// An app whose VNeID stand-in knows the citizens `Citizen::sample(seq)`
/// for each `(login, seq)`; each is registered with a verified email first.
async fn app_with(citizens: &[(&str, u32)]) -> TestApp {
    let accounts = citizens
        .iter()
        .map(|(login, seq)| {
            let c = Citizen::sample(*seq);
            vneid_account(
                login,
                &format!("vneid-sub-{login}"),
                &c.national_id,
                &c.full_name,
                &c.date_of_birth,
                "male",
            )
        })
        .collect();
    let app = TestApp::spawn_with(TestOptions {
        vneid: Some(VneidOptions {
            accounts,
            fail_with: None,
        }),
        ..TestOptions::default()
    })
    .await;
    for (_, seq) in citizens {
        let citizen = Citizen::sample(*seq);
        app.active_citizen(&citizen).await;
        // Proven earlier (as at a counter, keeping their email): the VNeID
        // sign-in below links the account instead of replacing a claimant's.
        let mut db = app.db().await;
        diesel_async::RunQueryDsl::execute(
            diesel::sql_query(format!(
                "UPDATE accounts SET assurance_level = 2 WHERE national_id = '{}'",
                citizen.national_id
            )),
            &mut db,
        )
        .await
        .expect("raised");
    }
    app
}

/// Signs `login` in through VNeID (level 2) in a new browser, which becomes
/// the app's main client.
async fn level_2(app: &mut TestApp, login: &str) {
    app.client = TestApp::fresh_client();
    assert_eq!(app.sign_in_with_vneid(login).await.status(), 303);
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["assurance_level"], 2, "{me}");
}

async fn register(app: &TestApp, name: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/businesses",
        &json!({
            "tax_code": TAX_CODE,
            "name": name,
            "address": "12 Lê Lợi, Phường Sài Gòn, TP. Hồ Chí Minh",
            "desk_agency_code": WARD,
        }),
    )
    .await
}

async fn file_for_business(app: &TestApp) -> reqwest::Response {
    app.post_json(
        "/api/v1/dossiers",
        &json!({ "service_code": SERVICE, "agency_code": WARD, "on_behalf_of": TAX_CODE }),
    )
    .await
}

#[tokio::test]
async fn a_claimed_tax_code_gives_no_power_until_a_receiver_confirms_it() {
    let mut app = app_with(&[("mallory", 31)]).await;
    let attacker = Citizen::sample(31);
    level_2(&mut app, "mallory").await;

    // The attacker registers a stranger's tax code: accepted for checking only.
    let res = register(&app, "Công ty TNHH Người Khác").await;
    assert_eq!(
        res.status(),
        202,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let business: Value = res.json().await.expect("json");
    assert_eq!(business["status"], "pending");
    let business_id = business["id"].as_str().expect("id").to_owned();

    while_pending_it_gives_no_power(&app, &business_id).await;
    only_receivers_of_the_chosen_desk_decide(&app, &business_id).await;
    let receiver = app
        .backoffice(&app.staff("dn.tiepnhan", WARD, &["receiver"]).await)
        .await;
    nothing_happens_unconfirmed_without_evidence_or_token(&app, &receiver, &business_id, &attacker)
        .await;
    confirmed_after_the_papers_it_works_and_is_decided_once(&app, &receiver, &business_id).await;
    the_claimant_is_told_and_the_trail_names_the_receiver(&app, &attacker).await;
}

/// While pending: no dossier on its behalf, no authorisations, not listed
/// as acted for.
async fn while_pending_it_gives_no_power(app: &TestApp, business_id: &str) {
    let res = file_for_business(app).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.expect("json");
    assert_eq!(
        body["errors"][0]["code"], "not_acting_for_business",
        "{body}"
    );
    let stranger = Citizen::sample(32);
    app.active_citizen(&stranger).await;
    let res = app
        .post_json(
            &format!("/api/v1/businesses/{business_id}/authorizations"),
            &json!({ "national_id": stranger.national_id }),
        )
        .await;
    assert_eq!(res.status(), 404);
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["businesses"], json!([]), "{me}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM dossiers").await,
        0,
        "nothing filed"
    );
}

/// Only receivers decide, and only for the desk the claimant chose.
async fn only_receivers_of_the_chosen_desk_decide(app: &TestApp, business_id: &str) {
    let processor = app
        .backoffice(&app.staff("dn.xuly", WARD, &["processor"]).await)
        .await;
    let (code, _) = app.page(&processor, "/backoffice/businesses").await;
    assert_eq!(code, 403);
    let elsewhere = app
        .backoffice(&app.staff("dn.quan", OTHER_AGENCY, &["receiver"]).await)
        .await;
    let (code, html) = app.page(&elsewhere, "/backoffice/businesses").await;
    assert_eq!(code, 200);
    assert!(!html.contains(TAX_CODE), "another desk's registration");
    let res = post_decision(
        app,
        &elsewhere,
        business_id,
        &[
            ("decision", "confirm"),
            ("evidence", "Giấy ĐKKD bản gốc, căn cước"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(res.status(), 404);
}

/// The ward's receiver: the list names it (and the `attacker`); without the
/// box ticked, without evidence or without the CSRF token nothing happens.
async fn nothing_happens_unconfirmed_without_evidence_or_token(
    app: &TestApp,
    receiver: &reqwest::Client,
    business_id: &str,
    attacker: &Citizen,
) {
    let (code, html) = app.page(receiver, "/backoffice/businesses").await;
    assert_eq!(code, 200);
    assert!(html.contains(TAX_CODE) && html.contains(&attacker.full_name));
    let res = post_decision(
        app,
        receiver,
        business_id,
        &[
            ("decision", "confirm"),
            ("evidence", "Giấy ĐKKD bản gốc, căn cước"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422, "not confirmed");
    let res = post_decision(
        app,
        receiver,
        business_id,
        &[
            ("decision", "confirm"),
            ("evidence", ""),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422, "no evidence");
    let res = receiver
        .post(app.url(&format!("/backoffice/businesses/{business_id}/decide")))
        .form(&[
            ("decision", "confirm"),
            ("evidence", "Giấy ĐKKD bản gốc, căn cước"),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403, "no CSRF token");
    assert_eq!(file_for_business(app).await.status(), 422, "still pending");
}

/// Confirmed after the papers were seen: now it works; decided once, a
/// second decision is refused.
async fn confirmed_after_the_papers_it_works_and_is_decided_once(
    app: &TestApp,
    receiver: &reqwest::Client,
    business_id: &str,
) {
    let res = post_decision(
        app,
        receiver,
        business_id,
        &[
            ("decision", "confirm"),
            (
                "evidence",
                "Giấy ĐKKD bản gốc số 0100109106, căn cước gắn chip",
            ),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, html) = app
        .page(receiver, "/backoffice/businesses?done=confirmed")
        .await;
    assert!(html.contains("Đã xác nhận người đại diện") && !html.contains(TAX_CODE));
    let res = file_for_business(app).await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["businesses"][0]["tax_code"], TAX_CODE);
    assert_eq!(me["businesses"][0]["role"], "representative");

    // Decided once: a second decision is refused.
    let res = post_decision(
        app,
        receiver,
        business_id,
        &[
            ("decision", "reject"),
            ("evidence", "Thử từ chối lại sau khi đã xác nhận"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(res.status(), 409);
}

/// The claimant is told; the agency's trail names the receiver's decision.
async fn the_claimant_is_told_and_the_trail_names_the_receiver(app: &TestApp, attacker: &Citizen) {
    app.run_jobs().await;
    assert!(
        app.smtp
            .messages_to(&attacker.email)
            .iter()
            .any(|m| m.subject() == format!("Đã xác nhận người đại diện doanh nghiệp {TAX_CODE}")),
        "the claimant is emailed the outcome"
    );
    let admin = app
        .backoffice(&app.staff("dn.quantri", WARD, &["agency_admin"]).await)
        .await;
    let (code, html) = app
        .page(&admin, "/backoffice/audit?kind=business.confirmed")
        .await;
    assert_eq!(code, 200);
    assert!(
        html.contains("Xác nhận người đại diện doanh nghiệp") && html.contains("dn.tiepnhan"),
        "{html}"
    );
}

#[tokio::test]
async fn a_second_claim_on_a_held_tax_code_takes_nothing_over() {
    let mut app = app_with(&[("an", 33), ("binh", 34)]).await;
    let first = Citizen::sample(33);

    level_2(&mut app, "an").await;
    let res = register(&app, "Công ty TNHH An Bình").await;
    assert_eq!(res.status(), 202);
    let claimed: Value = res.json().await.expect("json");
    let claimed_id = claimed["id"].as_str().expect("id").to_owned();

    // While one claim is pending, another citizen's claim is refused and changes nothing.
    level_2(&mut app, "binh").await;
    let res = register(&app, "Công ty TNHH Bình An").await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "tax_code_taken");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM businesses WHERE tax_code = '{TAX_CODE}' AND status = 'pending' AND name = 'Công ty TNHH An Bình'"
        ))
        .await,
        1
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM businesses").await, 1);

    // The papers show the first claimant is not the representative: rejected, told why.
    decide_business(&app, &claimed_id, "reject").await;
    app.run_jobs().await;
    let mails = app.smtp.messages_to(&first.email);
    let mail = mails
        .iter()
        .find(|m| m.subject() == format!("Đăng ký doanh nghiệp {TAX_CODE} không được xác nhận"))
        .expect("the rejection email");
    assert!(mail.text().contains("Lý do: Bản gốc Giấy chứng nhận ĐKKD"));

    // The tax code is free again for the real representative, who is confirmed.
    let res = register(&app, "Công ty TNHH Bình An").await;
    assert_eq!(
        res.status(),
        202,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let real: Value = res.json().await.expect("json");
    let real_id = real["id"].as_str().expect("id").to_owned();
    confirm_business(&app, &real_id).await;
    assert_eq!(file_for_business(&app).await.status(), 201);

    // Once confirmed, a new claim is refused too, and gives the claimant nothing.
    level_2(&mut app, "an").await;
    assert_eq!(register(&app, "Công ty TNHH An Bình").await.status(), 409);
    assert_eq!(file_for_business(&app).await.status(), 422);
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["businesses"], json!([]));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM businesses WHERE tax_code = '{TAX_CODE}' AND status = 'confirmed'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn a_counter_prefill_is_in_the_citizens_access_log_and_the_agency_trail() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(35).await;
    let service: Value = app
        .get(&format!("/api/v1/services/{SERVICE}"))
        .await
        .json()
        .await
        .expect("json");
    let service_name = service["name"].as_str().expect("name").to_owned();
    let before: Value = app
        .get("/api/v1/vault/access-log")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(before["items"], json!([]));

    // A receiver looks the citizen up at the counter: the form comes prefilled.
    let receiver = app
        .backoffice(&app.staff("quay.tiepnhan", WARD, &["receiver"]).await)
        .await;
    let (code, html) = app
        .page(
            &receiver,
            &format!(
                "/backoffice/counter?national_id={}&service={SERVICE}",
                citizen.national_id
            ),
        )
        .await;
    assert_eq!(code, 200);
    assert!(html.contains(&format!("value=\"{}\"", citizen.full_name)));

    // The citizen sees who read what, where and why.
    let log: Value = app
        .get("/api/v1/vault/access-log")
        .await
        .json()
        .await
        .expect("json");
    let rows = log["items"].as_array().expect("items");
    assert_eq!(rows.len(), 1, "{log}");
    let read = &rows[0];
    assert_eq!(read["reader"], "staff");
    assert_eq!(read["agency_code"], WARD);
    assert_eq!(
        read["purpose"],
        format!("Tiếp nhận hồ sơ tại quầy: {service_name}")
    );
    assert!(
        read["reader_label"]
            .as_str()
            .is_some_and(|l| l.starts_with("Cán bộ ")),
        "{read}"
    );
    assert!(
        read["items"]
            .as_array()
            .expect("items")
            .contains(&json!("identity.full_name")),
        "{read}"
    );
    assert_eq!(read["dossier_id"], Value::Null);

    // The agency's audit trail lists the look-up, without the citizen's data.
    let admin = app
        .backoffice(&app.staff("quay.quantri", WARD, &["agency_admin"]).await)
        .await;
    let (code, html) = app
        .page(&admin, "/backoffice/audit?kind=vault.counter_prefilled")
        .await;
    assert_eq!(code, 200);
    assert!(
        html.contains("Tra cứu kho dữ liệu của công dân tại quầy")
            && html.contains("quay.tiepnhan"),
        "{html}"
    );
    assert!(!html.contains(&citizen.full_name));
}
