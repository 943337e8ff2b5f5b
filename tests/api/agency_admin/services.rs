//! Which services the agency takes new dossiers for: a suspended service
//! takes no new drafts or filings (dossiers filed before go on), only the
//! catalog's services of the agency can be switched, only by its admin; the
//! audit trail shows who did what, only to admins, and nobody rewrites it.

use serde_json::{Value, json};

use super::{WARD, post};
use crate::{
    backoffice::filed,
    dossiers::{staff_act, staff_token},
    helpers::{Problem, TestApp},
};

const SERVICES: &str = "/backoffice/agency/services";

#[tokio::test]
async fn a_suspended_service_takes_no_new_dossiers_and_the_trail_shows_who_did_what() {
    let app = TestApp::spawn().await;
    let admin = app.staff("qt.dv", WARD, &["agency_admin"]).await;
    let browser = app.backoffice(&admin).await;
    // A dossier filed before the suspension, and a draft not yet filed.
    let (in_flight, _, _) = filed(&app, 91).await;
    let (code, draft) = draft_status(&app).await;
    assert_eq!(code, 201);
    let draft_id = draft["id"].as_str().expect("id").to_owned();

    suspended_from_the_services_page(&app, &browser).await;
    no_new_dossiers_while_suspended(&app, &draft_id).await;
    // The dossier filed before goes on.
    let receiver = staff_token(&app, "tn.dv", WARD, "receiver").await;
    let res = staff_act(&app, &receiver, &in_flight, "accept", None).await;
    assert_eq!(res.status(), 200);
    changes_out_of_reach_are_refused(&app, &browser).await;

    let (code, _, _) = post(
        &browser,
        &app,
        SERVICES,
        &format!("{SERVICES}/HGCS-001"),
        &[("offered", "true")],
    )
    .await;
    assert_eq!(code, 303);
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{draft_id}/submit")))
        .send()
        .await
        .expect("submit");
    assert_eq!(res.status(), 200, "offered again: the draft files");

    the_trail_shows_who_did_what_to_admins_only(&app, &browser, &in_flight).await;
}

/// The signed-in citizen creates a draft of HGCS-001 at the ward; the
/// status and the body.
async fn draft_status(app: &TestApp) -> (u16, Value) {
    let res = app
        .post_json(
            "/api/v1/dossiers",
            &json!({
                "service_code": "HGCS-001",
                "agency_code": WARD,
                "form_values": { "permanent_address": "12 Lê Lợi", "phone": "0901234567" },
            }),
        )
        .await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The admin finds HGCS-001 on the services page and suspends it; the page
/// says so.
async fn suspended_from_the_services_page(app: &TestApp, browser: &reqwest::Client) {
    let (code, html) = app.page(browser, &format!("{SERVICES}?q=HGCS-001")).await;
    assert_eq!(code, 200);
    assert!(html.contains("id=\"svc-HGCS-001\""), "{html}");
    assert!(html.contains("Đang tiếp nhận"));
    let (code, _, location) = post(
        browser,
        app,
        SERVICES,
        &format!("{SERVICES}/HGCS-001"),
        &[("offered", "false"), ("field", ""), ("q", "HGCS-001")],
    )
    .await;
    assert_eq!(code, 303);
    let location = location.expect("location");
    assert_eq!(
        location,
        "/backoffice/agency/services?saved=off&service=HGCS-001&field=&q=HGCS-001#svc-HGCS-001"
    );
    let (_, html) = app.page(browser, &location).await;
    assert!(
        html.contains("tạm ngừng tiếp nhận hồ sơ mới của thủ tục HGCS-001"),
        "{html}"
    );
    assert!(html.contains("<strong>Tạm ngừng</strong>"));
}

/// No new draft, no filing of the old draft `draft_id`; the catalog stops
/// naming the ward.
async fn no_new_dossiers_while_suspended(app: &TestApp, draft_id: &str) {
    let (code, body) = draft_status(app).await;
    assert_eq!(code, 422);
    assert_eq!(body["errors"][0]["code"], "agency_does_not_handle_service");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{draft_id}/submit")))
        .send()
        .await
        .expect("submit");
    let problem = Problem::read(res, 409).await;
    assert_eq!(problem.code, "service_not_offered");
    assert!(problem.detail.contains("tạm ngừng"));
    let detail: Value = app
        .get("/api/v1/services/HGCS-001")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        !detail["agencies"]
            .as_array()
            .expect("agencies")
            .iter()
            .any(|a| a == WARD),
        "{detail}"
    );
}

/// A service the catalog does not give the ward cannot be switched on; a
/// bad value is refused; another agency's admin does not see the ward's
/// offer.
async fn changes_out_of_reach_are_refused(app: &TestApp, browser: &reqwest::Client) {
    let (code, _, _) = post(
        browser,
        app,
        SERVICES,
        &format!("{SERVICES}/NO-SUCH-1"),
        &[("offered", "true")],
    )
    .await;
    assert_eq!(code, 404);
    let (code, _, _) = post(
        browser,
        app,
        SERVICES,
        &format!("{SERVICES}/HGCS-001"),
        &[("offered", "maybe")],
    )
    .await;
    assert_eq!(code, 400);
    // Another agency's admin does not touch the ward's offer.
    let theirs = app
        .staff("qt.khac", "000.00.12.H29", &["agency_admin"])
        .await;
    let other = app.backoffice(&theirs).await;
    let (code, html) = app.page(&other, &format!("{SERVICES}?q=HGCS-001")).await;
    assert_eq!(code, 200);
    assert!(!html.contains("svc-HGCS-001"));
}

/// The trail: the admin's own changes and the receiver's API action on
/// `in_flight`, filtered by kind; only admins read it; nobody rewrites it.
async fn the_trail_shows_who_did_what_to_admins_only(
    app: &TestApp,
    browser: &reqwest::Client,
    in_flight: &str,
) {
    let (code, html) = app.page(browser, "/backoffice/audit").await;
    assert_eq!(code, 200);
    for label in [
        "Tạm ngừng tiếp nhận thủ tục",
        "Tiếp nhận lại thủ tục",
        "Hồ sơ: ",
        "Đăng nhập",
    ] {
        assert!(html.contains(label), "{label}");
    }
    assert!(html.contains("tn.dv") && html.contains("qt.dv"));
    assert!(
        !html.contains("qt.khac"),
        "another agency's events stay there"
    );
    let (code, html) = app
        .page(browser, "/backoffice/audit?kind=dossier.accept")
        .await;
    assert_eq!(code, 200);
    let rows = html.matches("<tr><td>").count();
    assert_eq!(rows, 1, "{html}");
    assert!(html.contains(in_flight));
    for bad in ["kind=nothing", "dossier=HS-123", "from=31/02/2026"] {
        let (code, _) = app.page(browser, &format!("/backoffice/audit?{bad}")).await;
        assert_eq!(code, 400, "{bad}");
    }
    let clerk = app.staff("tn.dv2", WARD, &["receiver"]).await;
    let clerk = app.backoffice(&clerk).await;
    let (code, _) = app.page(&clerk, "/backoffice/audit").await;
    assert_eq!(code, 403);
    let mut conn = app.db().await;
    use diesel_async::RunQueryDsl;
    let err = diesel::sql_query("UPDATE staff_events SET kind = 'signed_out'")
        .execute(&mut conn)
        .await
        .expect_err("append-only");
    assert!(err.to_string().contains("append-only"), "{err}");
}
