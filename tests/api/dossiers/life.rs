//! One dossier's whole life: an incomplete draft, versioned edits, filing
//! with a receipt code, intake by the ward's receiver only, a supplement that
//! pauses the clock, a decision that needs its result paper, and what the
//! applicant reads and is emailed along the way.

use chrono::{DateTime, Duration, Utc};
use eservices::domain::calendar::Calendar;
use serde_json::{Value, json};

use super::{
    LIFE_WITH_SUPPLEMENT, WARD, applicant_log, complete_values, draft, pdf, staff_act, staff_token,
    stage_result, submit,
};
use crate::helpers::{Citizen, DossierView, Problem, TestApp, read_json};

#[tokio::test]
async fn a_dossier_goes_from_draft_to_returned_result_with_a_supplement_and_emails() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(41).await;
    let receiver = staff_token(&app, "bt.tiepnhan", WARD, "receiver").await;
    let processor = staff_token(&app, "bt.xuly", WARD, "processor").await;

    let id = drafted_and_edited(&app, &citizen).await;
    let receipt = filed_once(&app, &id).await;
    taken_in_only_by_the_wards_receiver(&app, &id, &receiver, &processor).await;
    let (due, calendar) = accepted_with_a_due_date(&app, &id, &receiver).await;
    let paused_at = supplement_asked(&app, &id, &processor).await;

    // Two days later (sessions and staff tokens have expired meanwhile).
    app.clock.advance(Duration::days(2));
    let staff = signed_in_again(&app, &citizen, &receiver).await;
    supplemented(&app, &id, &calendar, due, paused_at).await;
    decided_and_returned(&app, &id, &staff).await;
    the_applicant_reads_the_log_and_was_emailed(&app, &id, &citizen, &receipt).await;
}

/// The ward's civil servants after the break.
struct Staff {
    receiver: String,
    processor: String,
    approver: String,
}

/// The applicant edits dossier `id` with the version they saw.
async fn edit(app: &TestApp, id: &str, version: &str, values: Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/v1/dossiers/{id}")))
        .header("If-Match", version.to_owned())
        .json(&json!({ "form_values": values }))
        .send()
        .await
        .expect("patch")
}

/// A draft may be incomplete; filing needs every required value; edits
/// carry the version they saw. The draft's id.
async fn drafted_and_edited(app: &TestApp, citizen: &Citizen) -> String {
    let created = draft(app, json!({ "full_name": "Nguyễn Văn An" })).await;
    assert_eq!(created["status"], "draft");
    assert_eq!(created["status_code"], 0);
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().expect("id").to_owned();
    let problem = Problem::read(submit(app, &id, None).await, 422).await;
    assert!(
        problem.fields().contains(&"form_values.phone"),
        "{problem:?}"
    );

    // Edits carry the version they saw.
    let res = edit(app, &id, "\"1\"", complete_values(citizen)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let res = edit(app, &id, "\"1\"", json!({ "phone": "0909999999" })).await;
    assert_eq!(res.status(), 412, "a stale edit is refused");
    id
}

/// Filing: a receipt code; a retry with the same key gets the same answer;
/// filing again is refused. The receipt code.
async fn filed_once(app: &TestApp, id: &str) -> String {
    let filed: Value = read_json(submit(app, id, Some("nop-1")).await, 200).await;
    let receipt = filed["receipt_code"].as_str().expect("receipt").to_owned();
    let day = app
        .now()
        .with_timezone(&eservices::domain::calendar::city_tz())
        .format("%y%m%d")
        .to_string();
    assert_eq!(receipt, format!("{WARD}-{day}-0001"));
    let again: Value = submit(app, id, Some("nop-1"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again, filed, "the retry replays the first answer");
    let problem = Problem::read(submit(app, id, None).await, 409).await;
    assert_eq!(problem.code, "transition_not_allowed");
    assert!(problem.detail.contains("withdraw"));
    receipt
}

/// Intake: only a receiver of this ward; another agency's dossier does not
/// exist for its staff.
async fn taken_in_only_by_the_wards_receiver(
    app: &TestApp,
    id: &str,
    receiver: &str,
    processor: &str,
) {
    let queue: Value = app
        .client
        .get(app.url("/api/v1/staff/queue"))
        .bearer_auth(receiver)
        .send()
        .await
        .expect("queue")
        .json()
        .await
        .expect("json");
    assert_eq!(queue["items"][0]["id"], id);
    let res = staff_act(app, processor, id, "accept", None).await;
    assert_eq!(res.status(), 403);
    let other = staff_token(app, "stp.tiepnhan", "000.00.12.H29", "receiver").await;
    assert_eq!(
        staff_act(app, &other, id, "accept", None).await.status(),
        404
    );
    let res = app
        .client
        .get(app.url(&format!("/api/v1/staff/dossiers/{id}")))
        .bearer_auth(&other)
        .send()
        .await
        .expect("get");
    assert_eq!(
        res.status(),
        404,
        "another agency's dossier does not exist for them"
    );
}

/// The receiver accepts: due in 3 working days of the ward. The due date
/// and the ward's calendar.
async fn accepted_with_a_due_date(
    app: &TestApp,
    id: &str,
    receiver: &str,
) -> (DateTime<Utc>, Calendar) {
    let accepted_at = app.now();
    let res = staff_act(app, receiver, id, "accept", None).await;
    let accepted = DossierView::read(res, 200).await;
    assert_eq!(accepted.status_code, 2);
    let due = accepted.due();
    let mut conn = app.db().await;
    let ward = eservices::storage::catalog::agency(&mut conn, WARD)
        .await
        .expect("query")
        .expect("ward");
    let calendar = eservices::catalog::calendar_for(&mut conn, &ward, 2026)
        .await
        .expect("calendar");
    drop(conn);
    assert_eq!(
        due,
        calendar.due(accepted_at, 3),
        "3 working days of the ward"
    );
    (due, calendar)
}

/// A supplement request needs its content and pauses the clock; when.
async fn supplement_asked(app: &TestApp, id: &str, processor: &str) -> DateTime<Utc> {
    assert_eq!(
        staff_act(app, processor, id, "request_supplement", None)
            .await
            .status(),
        422
    );
    let res = staff_act(
        app,
        processor,
        id,
        "request_supplement",
        Some("Thiếu bản sao giấy tờ tùy thân"),
    )
    .await;
    assert_eq!(res.status(), 200);
    app.now()
}

/// Old staff tokens no longer work; the citizen signs in again and the
/// ward's civil servants get new tokens.
async fn signed_in_again(app: &TestApp, citizen: &Citizen, old_receiver: &str) -> Staff {
    assert_eq!(
        app.client
            .get(app.url("/api/v1/staff/queue"))
            .bearer_auth(old_receiver)
            .send()
            .await
            .expect("queue")
            .status(),
        401
    );
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    Staff {
        receiver: staff_token(app, "bt.tiepnhan2", WARD, "receiver").await,
        processor: staff_token(app, "bt.xuly2", WARD, "processor").await,
        approver: staff_token(app, "bt.pheduyet", WARD, "approver").await,
    }
}

/// The applicant changes values and supplements; the due date moves by the
/// paused working time.
async fn supplemented(
    app: &TestApp,
    id: &str,
    calendar: &Calendar,
    due: DateTime<Utc>,
    paused_at: DateTime<Utc>,
) {
    let res = edit(
        app,
        id,
        "\"5\"",
        json!({ "request_details": "Đã bổ sung bản sao" }),
    )
    .await;
    assert_eq!(
        res.status(),
        200,
        "values can change while a supplement is asked for"
    );
    let res = app
        .post_json(
            &format!("/api/v1/dossiers/{id}/supplement"),
            &json!({ "note": "Đã bổ sung" }),
        )
        .await;
    let resumed = DossierView::read(res, 200).await;
    assert_eq!(resumed.status, "processing");
    assert!(!resumed.paused);
    let moved = resumed.due();
    assert_eq!(
        moved,
        calendar.add_working_time(due, calendar.working_time_between(paused_at, app.now())),
        "the due date moves by the paused working time"
    );
    assert!(moved > due);
}

/// Decision and result: approval needs the result paper staged first, by a
/// processor; the receiver returns the result.
async fn decided_and_returned(app: &TestApp, id: &str, staff: &Staff) {
    assert_eq!(
        staff_act(app, &staff.processor, id, "approve", None)
            .await
            .status(),
        403
    );
    let res = staff_act(app, &staff.approver, id, "approve", None).await;
    let problem = Problem::read(res, 409).await;
    assert_eq!(problem.code, "result_missing");
    assert!(problem.detail.contains("văn bản kết quả"));
    let res = stage_result(app, &staff.receiver, id, pdf("ket qua")).await;
    assert_eq!(res.status(), 403, "a receiver does not stage results");
    let res = stage_result(app, &staff.processor, id, pdf("ket qua")).await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let res = staff_act(app, &staff.approver, id, "approve", None).await;
    assert_eq!(res.status(), 200);
    let approved: Value = res.json().await.expect("json");
    assert_eq!(
        approved["result_document"]["receipt_code"],
        approved["receipt_code"]
    );
    let res = staff_act(app, &staff.receiver, id, "return_result", None).await;
    let done = DossierView::read(res, 200).await;
    assert_eq!(done.status, "returned");
    assert_eq!(done.status_code, 10);
    assert_eq!(done.decision.as_deref(), Some("approved"));
}

/// The applicant's log, in Vietnamese, and its chain; the applicant was
/// emailed at each step they can see.
async fn the_applicant_reads_the_log_and_was_emailed(
    app: &TestApp,
    id: &str,
    citizen: &Citizen,
    receipt: &str,
) {
    let (events, actions) = applicant_log(app, id).await;
    assert_eq!(actions, LIFE_WITH_SUPPLEMENT);
    assert_eq!(events["items"][3]["note"], "Thiếu bản sao giấy tờ tùy thân");
    assert_eq!(events["items"][2]["label"], "Tiếp nhận hồ sơ");
    let dossier_id = uuid::Uuid::parse_str(id).expect("uuid");
    assert_eq!(
        eservices::dossiers::verify_log(&app.state, dossier_id)
            .await
            .expect("verify"),
        None
    );

    // The applicant was emailed at each step they can see.
    app.run_jobs().await;
    let mails = app.smtp.messages_to(&citizen.email);
    let subjects: Vec<String> = mails
        .iter()
        .map(|m| m.subject())
        .filter(|s| s.contains(receipt))
        .collect();
    assert_eq!(subjects.len(), 6, "{subjects:?}");
    assert!(
        subjects.iter().any(|s| s.contains("đã được tiếp nhận")),
        "{subjects:?}"
    );
    assert!(
        mails
            .iter()
            .any(|m| m.text().contains("Thiếu bản sao giấy tờ tùy thân"))
    );
}
