//! The back office's desk over HTTP: the queue with filters and search, the
//! dossier page, actions with confirmation, reasons, stale pages, other
//! agencies, and the result upload; what the applicant then sees; the
//! dashboard, apology letters and filing at the counter.

mod apologies;
mod counter;
mod dashboard;
mod desk;

use serde_json::{Value, json};

use crate::helpers::{TestApp, input_value};

const WARD: &str = "000.21.11.H29";

/// A civil servant's browser, signed in to the back office.
pub(crate) async fn desk(
    app: &TestApp,
    username: &str,
    agency: &str,
    role: &str,
) -> reqwest::Client {
    app.backoffice(&app.staff(username, agency, &[role]).await)
        .await
}

/// Posts the action form found on the dossier page `html`, with `fields`.
async fn post_action(
    browser: &reqwest::Client,
    app: &TestApp,
    id: &str,
    html: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = input_value(html, "csrf_token").expect("csrf");
    let mut form: Vec<(&str, String)> = vec![("csrf_token", csrf)];
    form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    browser
        .post(app.url(&format!("/backoffice/dossiers/{id}/act")))
        .header("Origin", app.address.as_str())
        .form(&form)
        .send()
        .await
        .expect("post")
}

/// A citizen (`Citizen::sample(seq)`, signed in) files HGCS-001 at the
/// ward; its id, receipt code and the citizen.
pub(crate) async fn filed(app: &TestApp, seq: u32) -> (String, String, crate::helpers::Citizen) {
    let citizen = app.signed_in_citizen(seq).await;
    let res = app
        .post_json(
            "/api/v1/dossiers",
            &json!({
                "service_code": "HGCS-001",
                "agency_code": WARD,
                "form_values": {
                    "permanent_address": "12 Lê Lợi, Phường Bến Thành",
                    "phone": "0901234567",
                },
            }),
        )
        .await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let draft: Value = res.json().await.expect("json");
    let id = draft["id"].as_str().expect("id").to_owned();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")))
        .send()
        .await
        .expect("submit");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let body: Value = res.json().await.expect("json");
    (
        id,
        body["receipt_code"].as_str().expect("code").to_owned(),
        citizen,
    )
}

/// The dossier's status as its applicant sees it.
async fn status(app: &TestApp, id: &str) -> String {
    let body: Value = app
        .get(&format!("/api/v1/dossiers/{id}"))
        .await
        .json()
        .await
        .expect("json");
    body["status"].as_str().expect("status").to_owned()
}
