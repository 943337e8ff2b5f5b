//! Bad input is refused clearly and changes nothing; someone else's dossier
//! does not exist; a withdrawn dossier takes no more actions; an
//! Idempotency-Key is bound to its request; the list pages by keyset.

use serde_json::{Value, json};

use super::{SERVICE, WARD, complete_draft, submit};
use crate::helpers::{Citizen, Problem, TestApp};

#[tokio::test]
async fn bad_input_is_refused_clearly_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(45).await;
    invalid_drafts_are_refused_field_by_field(&app).await;

    // Someone else's dossier is not found; so is nonsense.
    let id = complete_draft(&app, &citizen).await;
    another_citizen_does_not_find_it(&app, &id).await;

    // Withdrawal, then nothing more.
    assert_eq!(submit(&app, &id, None).await.status(), 200);
    let res = app
        .post_json(
            &format!("/api/v1/dossiers/{id}/withdraw"),
            &json!({ "note": "Nộp nhầm" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .post_json(&format!("/api/v1/dossiers/{id}/withdraw"), &json!({}))
        .await;
    assert_eq!(res.status(), 409);
    // The same Idempotency-Key for another request is refused.
    let second = complete_draft(&app, &citizen).await;
    assert_eq!(submit(&app, &second, Some("k")).await.status(), 200);
    let third = complete_draft(&app, &citizen).await;
    let res = submit(&app, &third, Some("k")).await;
    assert_eq!(res.status(), 422);

    the_list_pages_newest_first_and_filters_by_status(&app, &id, &third).await;
}

/// Unknown services and agencies, an agency that does not handle the
/// service, a business not acted for, bad and unknown form values: each
/// names its field and code, and no dossier is stored.
async fn invalid_drafts_are_refused_field_by_field(app: &TestApp) {
    let before = app.count("SELECT count(*) AS n FROM dossiers").await;
    for (body, field, code) in [
        (
            json!({ "service_code": "KHONG-CO", "agency_code": WARD }),
            "service_code",
            "service_unknown",
        ),
        (
            json!({ "service_code": SERVICE, "agency_code": "000.99.99.H29" }),
            "agency_code",
            "agency_unknown",
        ),
        (
            json!({ "service_code": SERVICE, "agency_code": "000.00.12.H29" }),
            "agency_code",
            "agency_does_not_handle_service",
        ),
        (
            json!({ "service_code": SERVICE, "agency_code": WARD, "on_behalf_of": "0100109106" }),
            "on_behalf_of",
            "not_acting_for_business",
        ),
        (
            json!({ "service_code": SERVICE, "agency_code": WARD, "form_values": { "date_of_birth": "31/12/1990" } }),
            "form_values.date_of_birth",
            "form_value_not_date",
        ),
        (
            json!({ "service_code": SERVICE, "agency_code": WARD, "form_values": { "nope": 1 } }),
            "form_values.nope",
            "form_field_unknown",
        ),
    ] {
        let res = app.post_json("/api/v1/dossiers", &body).await;
        let problem = Problem::read(res, 422).await;
        assert!(problem.has_error(field, code), "{body}: {problem:?}");
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM dossiers").await,
        before
    );
}

/// Another signed-in citizen gets 404 for dossier `id`; a malformed id is 404.
async fn another_citizen_does_not_find_it(app: &TestApp, id: &str) {
    let stranger = TestApp::fresh_client();
    let other = Citizen::sample(46);
    app.active_citizen(&other).await;
    app.sign_in_with(&stranger, &other.national_id, &other.password)
        .await;
    let res = stranger
        .get(app.url(&format!("/api/v1/dossiers/{id}")))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 404);
    assert_eq!(app.get("/api/v1/dossiers/not-an-id").await.status(), 404);
}

/// The list: newest first, by status, in keyset pages; `id` was withdrawn
/// and `newest` created last.
async fn the_list_pages_newest_first_and_filters_by_status(app: &TestApp, id: &str, newest: &str) {
    let list: Value = app
        .get("/api/v1/dossiers?limit=2")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"].as_array().expect("items").len(), 2);
    assert_eq!(list["items"][0]["id"], newest);
    let next = list["next_before"].as_str().expect("next");
    let page: Value = app
        .get(&format!("/api/v1/dossiers?limit=2&before={next}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["items"][0]["id"], id);
    let withdrawn: Value = app
        .get("/api/v1/dossiers?status=withdrawn")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(withdrawn["items"].as_array().expect("items").len(), 1);
    assert_eq!(app.get("/api/v1/dossiers?status=lost").await.status(), 400);
}
