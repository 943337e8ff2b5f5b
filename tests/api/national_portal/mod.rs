//! Dossiers mirrored on the National Public Service Portal, against the
//! simulated portal (tests/support/national-portal): a whole life in order
//! with well-formed fields, a session renewed, the portal down in three ways
//! and caught up later, two runs at once, a row left behind, a service
//! without a national code given up, shown to admins and sent again.

mod delivery;
mod failures;
mod resilience;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use crate::{
    dossiers::{staff_act, staff_token},
    helpers::{Citizen, NationalPortal, TestApp, TestOptions},
};

const WARD: &str = "000.21.11.H29";
/// Cấp bản sao Trích lục hộ tịch: a national code (2.000635), a fee, a result.
pub(crate) const SERVICE: &str = "HT-014";
const NATIONAL_CODE: &str = "2.000635";

/// An app pointed at a fresh simulated portal, its clock on a Monday
/// morning (the ward is open, so working time passes as the clock moves).
async fn app_with_portal() -> (TestApp, NationalPortal) {
    app_with(NationalPortal::start()).await
}

/// An app pointed at `portal`, its clock on that Monday morning.
async fn app_with(portal: NationalPortal) -> (TestApp, NationalPortal) {
    let app = TestApp::spawn_with(TestOptions {
        env: portal.env(),
        ..TestOptions::default()
    })
    .await;
    app.clock.set(city(2026, 12, 7, 9, 0));
    // These tests follow the portal, not fees: the service's fee is asked
    // on request here, so filing goes straight to intake (the fee at filing
    // is the payments tests' subject, and the whole-life test's there).
    let mut conn = app.db().await;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("UPDATE services SET fee_stage = 'on_request' WHERE code = $1")
            .bind::<diesel::sql_types::Text, _>(SERVICE),
        &mut conn,
    )
    .await
    .expect("fee stage");
    drop(conn);
    (app, portal)
}

/// `h:m` on the given day in the city.
fn city(y: i32, mo: u32, d: u32, h: u32, m: u32) -> DateTime<Utc> {
    eservices::domain::calendar::city_tz()
        .with_ymd_and_hms(y, mo, d, h, m, 0)
        .single()
        .expect("instant")
        .with_timezone(&Utc)
}

/// An instant as the portal writes it.
fn portal_time(raw: &Value) -> String {
    let at: DateTime<Utc> = raw.as_str().expect("a time").parse().expect("RFC 3339");
    at.with_timezone(&eservices::domain::calendar::city_tz())
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// A new citizen files a dossier for `service` at the ward; its id and
/// receipt code.
pub(crate) async fn filed(app: &TestApp, seq: u32, service: &str) -> (String, String, Citizen) {
    let citizen = app.signed_in_citizen(seq).await;
    let mut values = json!({
        "permanent_address": "12 Lê Lợi, Phường Bến Thành",
        "phone": "0901234567",
    });
    if service == SERVICE {
        values["record_type"] = "Khai sinh".into();
        values["subject_full_name"] = "Nguyễn Văn Bình".into();
        values["copies"] = 2.into();
    }
    let res = app
        .post_json(
            "/api/v1/dossiers",
            &json!({ "service_code": service, "agency_code": WARD, "form_values": values }),
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
    let receipt = body["receipt_code"].as_str().expect("receipt").to_owned();
    (id, receipt, citizen)
}

/// The ward's receiver, processor and approver (staff API tokens).
pub(crate) struct Ward {
    pub(crate) receiver: String,
    pub(crate) processor: String,
    pub(crate) approver: String,
}

pub(crate) async fn ward(app: &TestApp, prefix: &str) -> Ward {
    Ward {
        receiver: staff_token(app, &format!("{prefix}.tn"), WARD, "receiver").await,
        processor: staff_token(app, &format!("{prefix}.xl"), WARD, "processor").await,
        approver: staff_token(app, &format!("{prefix}.pd"), WARD, "approver").await,
    }
}

/// A civil servant takes `action`; it must succeed. The dossier afterwards.
pub(crate) async fn act(
    app: &TestApp,
    token: &str,
    id: &str,
    action: &str,
    note: Option<&str>,
) -> Value {
    let res = staff_act(app, token, id, action, note).await;
    assert_eq!(
        res.status(),
        200,
        "{action}: {}",
        res.text().await.unwrap_or_default()
    );
    res.json().await.expect("json")
}

/// The accepted calls about one dossier (`dossier` and `progress`), in order.
pub(crate) async fn calls_about(portal: &NationalPortal, receipt: &str) -> Vec<Value> {
    portal
        .received()
        .await
        .into_iter()
        .filter(|c| c["body"]["MaHoSo"] == receipt || c["MaHoSo"] == receipt)
        .collect()
}

/// The `SoThuTu` of the progress calls among `calls`.
fn progress_seqs(calls: &[Value]) -> Vec<i64> {
    calls
        .iter()
        .filter(|c| c["call"] == "progress")
        .map(|c| c["body"]["SoThuTu"].as_i64().expect("SoThuTu"))
        .collect()
}

/// The dossier's synchronisation cursor: (acked_seq, failed, failure, retries).
async fn cursor(app: &TestApp, id: &str) -> (i32, bool, Option<String>, i32) {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use eservices::storage::schema::national_portal_syncs as s;
    let id: uuid::Uuid = id.parse().expect("uuid");
    let mut conn = app.db().await;
    let (acked, failed_at, failure, retries): (i32, Option<DateTime<Utc>>, Option<String>, i32) =
        s::table
            .find(id)
            .select((s::acked_seq, s::failed_at, s::failure, s::retries))
            .first(&mut conn)
            .await
            .expect("a cursor");
    (acked, failed_at.is_some(), failure, retries)
}

/// The sync jobs of a dossier: (state, attempts), oldest first.
async fn sync_jobs(app: &TestApp, id: &str) -> Vec<(String, i32)> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use eservices::storage::schema::jobs;
    let mut conn = app.db().await;
    jobs::table
        .filter(jobs::kind.eq("sync_national_portal"))
        .filter(jobs::payload.eq(json!({ "dossier_id": id })))
        .order(jobs::id)
        .select((jobs::state, jobs::attempts))
        .load(&mut conn)
        .await
        .expect("jobs")
}
