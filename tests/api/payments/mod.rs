//! Fees paid online against the payment-platform simulator (a separate
//! process speaking the platform's protocol): the whole path from filing to
//! intake with the receipt in the vault, callbacks duplicated, late, out of
//! order, forged or for another amount, lost callbacks reconciled, stale
//! payments expired, a platform that times out, a counter payment.

mod callbacks;
mod life;
mod whole;

use diesel_async::RunQueryDsl;
use serde_json::Value;

use crate::dossiers::{SERVICE, complete_values, draft, submit};
use crate::helpers::{Citizen, PaymentPlatform, TestApp, TestOptions};

/// The fee of the test service.
pub(crate) const FEE: i64 = 150_000;

/// An app using a fresh simulator; the test service asks `FEE` at `stage`.
pub(crate) async fn app_with_platform(stage: &str) -> (TestApp, PaymentPlatform) {
    let platform = PaymentPlatform::start();
    let app = TestApp::spawn_with(TestOptions {
        env: platform.env(),
        ..TestOptions::default()
    })
    .await;
    let mut conn = app.db().await;
    diesel::sql_query("UPDATE services SET fee_vnd = $1, fee_stage = $2 WHERE code = $3")
        .bind::<diesel::sql_types::BigInt, _>(FEE)
        .bind::<diesel::sql_types::Text, _>(stage)
        .bind::<diesel::sql_types::Text, _>(SERVICE)
        .execute(&mut conn)
        .await
        .expect("fee set");
    (app, platform)
}

/// A signed-in citizen's filed dossier; its id and the citizen.
pub(crate) async fn filed(app: &TestApp, seq: u32) -> (String, Citizen) {
    let citizen = app.signed_in_citizen(seq).await;
    let id = draft(app, complete_values(&citizen)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let res = submit(app, &id, None).await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    (id, citizen)
}

/// The applicant starts (or resumes) the online payment; status and body.
pub(crate) async fn start_payment(app: &TestApp, id: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/payments")))
        .send()
        .await
        .expect("payments");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The dossier's payments as its applicant lists them.
pub(crate) async fn payments_of(app: &TestApp, id: &str) -> Vec<Value> {
    let body: Value = app
        .get(&format!("/api/v1/dossiers/{id}/payments"))
        .await
        .json()
        .await
        .expect("json");
    body["items"].as_array().cloned().unwrap_or_default()
}

/// The dossier's status as its applicant sees it.
pub(crate) async fn status_of(app: &TestApp, id: &str) -> String {
    let body: Value = app
        .get(&format!("/api/v1/dossiers/{id}"))
        .await
        .json()
        .await
        .expect("json");
    body["status"].as_str().unwrap_or_default().to_owned()
}

/// The actions of the applicant's log.
pub(crate) async fn actions(app: &TestApp, id: &str) -> Vec<String> {
    crate::dossiers::applicant_log(app, id).await.1
}

/// The code and HTTP status of each callback attempt a control call reports.
pub(crate) fn attempts(answer: &Value) -> Vec<(u64, String)> {
    answer["attempts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| {
            (
                a["status"].as_u64().unwrap_or(0),
                a["body"]["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}
