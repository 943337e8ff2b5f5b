//! E-dossiers through the citizen and staff APIs: whole lives, receipt codes
//! under concurrency, two civil servants at once, bad input, the public
//! look-up, overdue apologies, files and forwarding. The helpers here are
//! shared with the back office, vault and agency tests.

mod concurrency;
mod files;
mod forwarding;
mod input;
mod life;
mod lookup;
mod overdue;
mod tampering;

use serde_json::{Value, json};

use crate::helpers::{Citizen, TestApp};

pub(crate) const WARD: &str = "000.21.11.H29";
pub(crate) const SERVICE: &str = "HGCS-001";

/// Every value the service's form requires.
pub(crate) fn complete_values(citizen: &Citizen) -> Value {
    json!({
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1990-01-01",
        "national_id": citizen.national_id,
        "permanent_address": "12 Lê Lợi, Phường Bến Thành",
        "phone": "0901234567",
    })
}

/// A new civil servant of `agency` with `role`; their staff API token.
pub async fn staff_token(app: &TestApp, username: &str, agency: &str, role: &str) -> String {
    let staff = app.staff(username, agency, &[role]).await;
    let res = app
        .client
        .post(app.url("/api/v1/staff/tokens"))
        .json(&json!({
            "username": staff.username,
            "password": staff.password,
            "totp": app.totp_now(&staff.secret),
        }))
        .send()
        .await
        .expect("token");
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let body: Value = res.json().await.expect("json");
    body["access_token"].as_str().expect("token").to_owned()
}

/// A civil servant takes `action` on dossier `id` through the staff API.
pub async fn staff_act(
    app: &TestApp,
    token: &str,
    id: &str,
    action: &str,
    note: Option<&str>,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/staff/dossiers/{id}/{action}")))
        .bearer_auth(token)
        .json(&json!({ "note": note }))
        .send()
        .await
        .expect("act")
}

/// A new draft with `values`, as its applicant sees it.
pub(crate) async fn draft(app: &TestApp, values: Value) -> Value {
    let res = app
        .post_json(
            "/api/v1/dossiers",
            &json!({ "service_code": SERVICE, "agency_code": WARD, "form_values": values }),
        )
        .await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    res.json().await.expect("json")
}

/// The actions of a dossier's whole life with one supplement, as its applicant's log lists them.
pub const LIFE_WITH_SUPPLEMENT: [&str; 7] = [
    "create",
    "submit",
    "accept",
    "request_supplement",
    "supplement",
    "approve",
    "return_result",
];

/// The applicant's view of a dossier's log, and its actions in order.
pub async fn applicant_log(app: &TestApp, id: &str) -> (Value, Vec<String>) {
    let events: Value = app
        .get(&format!("/api/v1/dossiers/{id}/events"))
        .await
        .json()
        .await
        .expect("json");
    let actions = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect();
    (events, actions)
}

/// The applicant files dossier `id`, with an `Idempotency-Key` if given.
pub(crate) async fn submit(app: &TestApp, id: &str, key: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")));
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    req.send().await.expect("submit")
}

/// A new draft with every required value; its id.
async fn complete_draft(app: &TestApp, citizen: &Citizen) -> String {
    draft(app, complete_values(citizen)).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// A civil servant stages a dossier's result paper.
pub async fn stage_result(
    app: &TestApp,
    token: &str,
    id: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/api/v1/staff/dossiers/{id}/result?name=ket-qua.pdf"
        )))
        .bearer_auth(token)
        .header("Content-Type", "application/pdf")
        .body(bytes)
        .send()
        .await
        .expect("stage")
}

/// A tiny well-formed PDF whose only content is `text`.
pub fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n%%EOF\n").into_bytes()
}
