//! E-dossiers through the citizen and staff APIs: whole lives, receipt codes
//! under concurrency, two civil servants at once, bad input.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{Citizen, TestApp};

const WARD: &str = "000.21.11.H29";
const SERVICE: &str = "HGCS-001";

fn complete_values(citizen: &Citizen) -> Value {
    json!({
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1990-01-01",
        "national_id": citizen.national_id,
        "permanent_address": "12 Lê Lợi, Phường Bến Thành",
        "phone": "0901234567",
    })
}

pub async fn signed_in(app: &TestApp, seq: u32) -> Citizen {
    let citizen = Citizen::sample(seq);
    app.active_citizen(&citizen).await;
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    citizen
}

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

async fn draft(app: &TestApp, values: Value) -> Value {
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

async fn submit(app: &TestApp, id: &str, key: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")));
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    req.send().await.expect("submit")
}

#[tokio::test]
async fn a_dossier_goes_from_draft_to_returned_result_with_a_supplement_and_emails() {
    let app = TestApp::spawn().await;
    let citizen = signed_in(&app, 41).await;
    let receiver = staff_token(&app, "bt.tiepnhan", WARD, "receiver").await;
    let processor = staff_token(&app, "bt.xuly", WARD, "processor").await;

    // A draft may be incomplete; filing needs every required value.
    let created = draft(&app, json!({ "full_name": "Nguyễn Văn An" })).await;
    assert_eq!(created["status"], "draft");
    assert_eq!(created["status_code"], 0);
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().expect("id").to_owned();
    let res = submit(&app, &id, None).await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.expect("json");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(fields.contains(&"form_values.phone"), "{problem}");

    // Edits carry the version they saw.
    let patch = |version: &str, values: Value| {
        app.client
            .patch(app.url(&format!("/api/v1/dossiers/{id}")))
            .header("If-Match", version.to_owned())
            .json(&json!({ "form_values": values }))
            .send()
    };
    let res = patch("\"1\"", complete_values(&citizen))
        .await
        .expect("patch");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let res = patch("\"1\"", json!({ "phone": "0909999999" }))
        .await
        .expect("patch");
    assert_eq!(res.status(), 412, "a stale edit is refused");

    // Filing: a receipt code; a retry with the same key gets the same answer.
    let res = submit(&app, &id, Some("nop-1")).await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let filed: Value = res.json().await.expect("json");
    let receipt = filed["receipt_code"].as_str().expect("receipt").to_owned();
    let day = app
        .now()
        .with_timezone(&eservices::domain::calendar::city_tz())
        .format("%y%m%d")
        .to_string();
    assert_eq!(receipt, format!("{WARD}-{day}-0001"));
    let again: Value = submit(&app, &id, Some("nop-1"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again, filed, "the retry replays the first answer");
    let res = submit(&app, &id, None).await;
    assert_eq!(res.status(), 409);
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["code"], "transition_not_allowed");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("withdraw")
    );

    // Intake: only a receiver of this ward.
    let queue: Value = app
        .client
        .get(app.url("/api/v1/staff/queue"))
        .bearer_auth(&receiver)
        .send()
        .await
        .expect("queue")
        .json()
        .await
        .expect("json");
    assert_eq!(queue["items"][0]["id"], id.as_str());
    let res = staff_act(&app, &processor, &id, "accept", None).await;
    assert_eq!(res.status(), 403);
    let other = staff_token(&app, "stp.tiepnhan", "000.00.12.H29", "receiver").await;
    assert_eq!(
        staff_act(&app, &other, &id, "accept", None).await.status(),
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

    let accepted_at = app.now();
    let res = staff_act(&app, &receiver, &id, "accept", None).await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let accepted: Value = res.json().await.expect("json");
    assert_eq!(accepted["status_code"], 2);
    let due: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(accepted["due_at"].clone()).expect("due");
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

    // A supplement request needs its content, pauses the clock.
    assert_eq!(
        staff_act(&app, &processor, &id, "request_supplement", None)
            .await
            .status(),
        422
    );
    let res = staff_act(
        &app,
        &processor,
        &id,
        "request_supplement",
        Some("Thiếu bản sao giấy tờ tùy thân"),
    )
    .await;
    assert_eq!(res.status(), 200);
    let paused_at = app.now();
    // Two days later (sessions and staff tokens have expired meanwhile).
    app.clock.advance(Duration::days(2));
    assert_eq!(
        app.client
            .get(app.url("/api/v1/staff/queue"))
            .bearer_auth(&receiver)
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
    let receiver = staff_token(&app, "bt.tiepnhan2", WARD, "receiver").await;
    let processor = staff_token(&app, "bt.xuly2", WARD, "processor").await;
    let approver = staff_token(&app, "bt.pheduyet", WARD, "approver").await;
    let res = patch("\"5\"", json!({ "request_details": "Đã bổ sung bản sao" }))
        .await
        .expect("patch");
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
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let resumed: Value = res.json().await.expect("json");
    assert_eq!(resumed["status"], "processing");
    assert_eq!(resumed["paused"], false);
    let moved: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(resumed["due_at"].clone()).expect("due");
    assert_eq!(
        moved,
        calendar.add_working_time(due, calendar.working_time_between(paused_at, app.now())),
        "the due date moves by the paused working time"
    );
    assert!(moved > due);

    // Decision and result: approval needs the result paper staged first.
    assert_eq!(
        staff_act(&app, &processor, &id, "approve", None)
            .await
            .status(),
        403
    );
    let res = staff_act(&app, &approver, &id, "approve", None).await;
    assert_eq!(res.status(), 409);
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["code"], "result_missing");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("văn bản kết quả"))
    );
    let res = stage_result(&app, &receiver, &id, pdf("ket qua")).await;
    assert_eq!(res.status(), 403, "a receiver does not stage results");
    let res = stage_result(&app, &processor, &id, pdf("ket qua")).await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let res = staff_act(&app, &approver, &id, "approve", None).await;
    assert_eq!(res.status(), 200);
    let approved: Value = res.json().await.expect("json");
    assert_eq!(
        approved["result_document"]["receipt_code"],
        approved["receipt_code"]
    );
    let res = staff_act(&app, &receiver, &id, "return_result", None).await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.expect("json");
    assert_eq!(done["status"], "returned");
    assert_eq!(done["status_code"], 10);
    assert_eq!(done["decision"], "approved");

    // The applicant's log, in Vietnamese, and its chain.
    let (events, actions) = applicant_log(&app, &id).await;
    assert_eq!(actions, LIFE_WITH_SUPPLEMENT);
    assert_eq!(events["items"][3]["note"], "Thiếu bản sao giấy tờ tùy thân");
    assert_eq!(events["items"][2]["label"], "Tiếp nhận hồ sơ");
    let dossier_id = uuid::Uuid::parse_str(&id).expect("uuid");
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
        .filter(|s| s.contains(&receipt))
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

#[tokio::test]
async fn the_progress_log_refuses_edits_and_shows_tampering() {
    let app = TestApp::spawn().await;
    let citizen = signed_in(&app, 42).await;
    let id = draft(&app, complete_values(&citizen)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(submit(&app, &id, None).await.status(), 200);
    let dossier_id = uuid::Uuid::parse_str(&id).expect("uuid");
    use diesel_async::RunQueryDsl;
    let mut conn = app.db().await;
    let edit = diesel::sql_query(format!(
        "UPDATE dossier_events SET note = 'sửa' WHERE dossier_id = '{id}' AND seq = 1"
    ))
    .execute(&mut conn)
    .await;
    assert!(edit.is_err(), "the log is append-only");
    // Someone with the power to switch the guard off still leaves a trace.
    diesel::sql_query("ALTER TABLE dossier_events DISABLE TRIGGER dossier_events_append_only")
        .execute(&mut conn)
        .await
        .expect("owner may");
    diesel::sql_query(format!(
        "UPDATE dossier_events SET note = 'sửa' WHERE dossier_id = '{id}' AND seq = 1"
    ))
    .execute(&mut conn)
    .await
    .expect("edit");
    drop(conn);
    assert_eq!(
        eservices::dossiers::verify_log(&app.state, dossier_id)
            .await
            .expect("verify"),
        Some(1)
    );
    // The operator's command finds it too.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_eservices"))
        .args(["admin", "dossiers", "verify-log"])
        .current_dir(std::env::temp_dir())
        .env("DATABASE_URL", app.database_url())
        .env("REDIS_URL", "redis://127.0.0.1:1/")
        .env("PUBLIC_URL", &app.address)
        .env("VAULT_MASTER_KEY", &app.master_key)
        .output()
        .await
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("dossier {id}: the log is broken at row 1")),
        "{stdout}"
    );
    assert!(
        stdout.contains("checked 1 progress logs; 1 broken"),
        "{stdout}"
    );
}

#[tokio::test]
async fn receipt_codes_have_no_gaps_or_duplicates_under_concurrent_filing() {
    let app = TestApp::spawn().await;
    let citizen = signed_in(&app, 43).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(
            draft(&app, complete_values(&citizen)).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let filings = ids.iter().map(|id| submit(&app, id, None));
    let answers = futures_util::future::join_all(filings).await;
    let mut codes = Vec::new();
    for res in answers {
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.expect("json");
        codes.push(body["receipt_code"].as_str().expect("code").to_owned());
    }
    codes.sort();
    let day = app
        .now()
        .with_timezone(&eservices::domain::calendar::city_tz())
        .format("%y%m%d")
        .to_string();
    let expected: Vec<String> = (1..=12).map(|n| format!("{WARD}-{day}-{n:04}")).collect();
    assert_eq!(codes, expected);
}

#[tokio::test]
async fn two_civil_servants_acting_at_once_one_wins_and_nothing_is_half_done() {
    let app = TestApp::spawn().await;
    let citizen = signed_in(&app, 44).await;
    let first = staff_token(&app, "bt.tn1", WARD, "receiver").await;
    let second = staff_token(&app, "bt.tn2", WARD, "receiver").await;
    for round in 0..3 {
        let id = draft(&app, complete_values(&citizen)).await["id"]
            .as_str()
            .expect("id")
            .to_owned();
        assert_eq!(submit(&app, &id, None).await.status(), 200);
        let (a, b) = tokio::join!(
            staff_act(&app, &first, &id, "accept", None),
            staff_act(
                &app,
                &second,
                &id,
                "refuse",
                Some("Hồ sơ không thuộc thẩm quyền")
            )
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}");
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) AS n FROM dossier_events WHERE dossier_id = '{id}' AND action IN ('accept', 'refuse')"
            ))
            .await,
            1
        );
    }
}

#[tokio::test]
async fn bad_input_is_refused_clearly_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let citizen = signed_in(&app, 45).await;
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
        assert_eq!(res.status(), 422, "{body}");
        let problem: Value = res.json().await.expect("json");
        assert!(
            problem["errors"]
                .as_array()
                .expect("errors")
                .iter()
                .any(|e| e["field"] == field && e["code"] == code),
            "{body}: {problem}"
        );
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM dossiers").await,
        before
    );

    // Someone else's dossier is not found; so is nonsense.
    let id = draft(&app, complete_values(&citizen)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
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
    let second = draft(&app, complete_values(&citizen)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(submit(&app, &second, Some("k")).await.status(), 200);
    let third = draft(&app, complete_values(&citizen)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let res = submit(&app, &third, Some("k")).await;
    assert_eq!(res.status(), 422);

    // The list: newest first, by status, in keyset pages.
    let list: Value = app
        .get("/api/v1/dossiers?limit=2")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"].as_array().expect("items").len(), 2);
    assert_eq!(list["items"][0]["id"], third.as_str());
    let next = list["next_before"].as_str().expect("next");
    let page: Value = app
        .get(&format!("/api/v1/dossiers?limit=2&before={next}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["items"][0]["id"], id.as_str());
    let withdrawn: Value = app
        .get("/api/v1/dossiers?status=withdrawn")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(withdrawn["items"].as_array().expect("items").len(), 1);
    assert_eq!(app.get("/api/v1/dossiers?status=lost").await.status(), 400);
}

#[tokio::test]
async fn the_public_lookup_shows_status_only_and_guessing_is_throttled() {
    let app = TestApp::spawn().await;
    let citizen = signed_in(&app, 47).await;
    let id = draft(&app, complete_values(&citizen)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let filed: Value = submit(&app, &id, None).await.json().await.expect("json");
    let receipt = filed["receipt_code"].as_str().expect("receipt").to_owned();

    let anyone = TestApp::fresh_client();
    let look = |code: String, national_id: Option<String>| {
        let mut url = app.url(&format!("/api/v1/lookup/{code}"));
        if let Some(n) = national_id {
            url.push_str(&format!("?national_id={n}"));
        }
        anyone.get(url).send()
    };
    let res = look(receipt.clone(), Some(citizen.national_id.clone()))
        .await
        .expect("lookup");
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("body");
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(body["status"], "submitted");
    assert_eq!(body["status_label"], "Đã nộp, chờ tiếp nhận");
    assert_eq!(body["service_name"], "Công nhận hòa giải viên");
    assert!(
        !text.contains(&citizen.national_id) && !text.contains("Nguyễn Văn An"),
        "no personal data: {text}"
    );
    assert_eq!(
        look(receipt.clone(), None).await.expect("lookup").status(),
        400
    );
    // A wrong ID number looks exactly like an unknown code.
    let wrong = look(receipt.clone(), Some("079090999999".into()))
        .await
        .expect("lookup");
    assert_eq!(wrong.status(), 404);
    let unknown = look(
        format!("{WARD}-000101-0001"),
        Some(citizen.national_id.clone()),
    )
    .await
    .expect("lookup");
    assert_eq!(unknown.status(), 404);
    let (a, b): (Value, Value) = (
        wrong.json().await.expect("json"),
        unknown.json().await.expect("json"),
    );
    assert_eq!(a["detail"], b["detail"]);
    // Guessing: after 20 misses from one address, even a right guess waits.
    for n in 0..19 {
        let res = look(
            format!("{WARD}-000101-{n:04}"),
            Some(citizen.national_id.clone()),
        )
        .await
        .expect("lookup");
        assert_eq!(res.status(), 404, "miss {n}");
    }
    let res = look(receipt.clone(), Some(citizen.national_id.clone()))
        .await
        .expect("lookup");
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));

    // What we sent the applicant, with its delivery status.
    app.run_jobs().await;
    let sent: Value = app
        .get("/api/v1/notifications")
        .await
        .json()
        .await
        .expect("json");
    let item = sent["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|n| n["event"] == "dossier_update")
        .cloned()
        .expect("the filing email");
    assert_eq!(item["status"], "sent");
    assert!(
        item["subject"]
            .as_str()
            .unwrap_or_default()
            .contains(&receipt)
    );
    assert_eq!(app.get("/api/v1/notifications?limit=0").await.status(), 400);
}

#[tokio::test]
async fn an_overdue_dossier_gets_an_apology_letter_approved_and_sent() {
    let app = TestApp::spawn().await;
    let citizen = signed_in(&app, 48).await;
    let receiver = staff_token(&app, "bt.tn-ovd", WARD, "receiver").await;
    let id = draft(&app, complete_values(&citizen)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(submit(&app, &id, None).await.status(), 200);
    let accepted: Value = staff_act(&app, &receiver, &id, "accept", None)
        .await
        .json()
        .await
        .expect("json");
    let missed = accepted["due_at"].clone();

    // Ten days later the office has not decided.
    app.clock.advance(Duration::days(10));
    app.state
        .worker()
        .schedule_maintenance()
        .await
        .expect("schedule");
    app.run_jobs().await;
    app.state
        .worker()
        .schedule_maintenance()
        .await
        .expect("schedule");
    app.run_jobs().await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM apology_letters").await,
        1,
        "one letter, however often the job runs"
    );
    let approver = staff_token(&app, "bt.pd-ovd", WARD, "approver").await;
    let receiver = staff_token(&app, "bt.tn-ovd2", WARD, "receiver").await;
    let letters: Value = app
        .client
        .get(app.url("/api/v1/staff/apologies"))
        .bearer_auth(&approver)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let letter = letters["items"][0].clone();
    assert_eq!(letter["dossier_id"], id.as_str());
    assert_eq!(letter["missed_due"], missed);
    let letter_id = letter["id"].as_str().expect("id").to_owned();
    let approve = |token: String, body: Value| {
        app.client
            .post(app.url(&format!("/api/v1/staff/apologies/{letter_id}/approve")))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let reason = "Hồ sơ cần xác minh thêm với cơ quan khác.";
    assert_eq!(
        approve(receiver.clone(), json!({ "reason": reason }))
            .await
            .expect("post")
            .status(),
        403
    );
    assert_eq!(
        approve(approver.clone(), json!({ "reason": " " }))
            .await
            .expect("post")
            .status(),
        422
    );
    let res = approve(approver.clone(), json!({ "reason": reason }))
        .await
        .expect("post");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let approved: Value = res.json().await.expect("json");
    assert_eq!(approved["status"], "approved");
    assert_eq!(
        approve(approver.clone(), json!({ "reason": reason }))
            .await
            .expect("post")
            .status(),
        409
    );

    // The applicant's dossier has the new date; the log and the email say why.
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    let dossier: Value = app
        .get(&format!("/api/v1/dossiers/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(dossier["due_at"], approved["new_due"]);
    let (_, actions) = applicant_log(&app, &id).await;
    assert!(actions.iter().any(|a| a == "apology"), "{actions:?}");
    assert!(
        !actions.iter().any(|a| a == "overdue"),
        "the internal row is not shown"
    );
    app.run_jobs().await;
    let mails = app.smtp.messages_to(&citizen.email);
    let letter_mail = mails
        .iter()
        .find(|m| m.subject().starts_with("Thư xin lỗi"))
        .expect("the apology email");
    assert!(letter_mail.text().contains(reason));
    assert!(letter_mail.text().contains("Ngày hẹn trả kết quả mới"));
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

pub fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n%%EOF\n").into_bytes()
}

async fn upload(
    app: &TestApp,
    id: &str,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let enc: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    app.client
        .post(app.url(&format!(
            "/api/v1/dossiers/{id}/attachments?name={enc}&document_type=CCCD"
        )))
        .header("Content-Type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("upload")
}

#[tokio::test]
async fn files_are_checked_by_content_kept_intact_and_staff_reads_are_logged() {
    let app = TestApp::spawn().await;
    let citizen = signed_in(&app, 49).await;
    let id = draft(&app, complete_values(&citizen)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let res = upload(
        &app,
        &id,
        "../../căn cước.pdf",
        "application/pdf",
        pdf("cccd"),
    )
    .await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let file: Value = res.json().await.expect("json");
    assert_eq!(file["name"], "căn cước.pdf", "no path in a name");
    assert_eq!(file["content_type"], "application/pdf");
    let png = eservices::domain::file_kind::png_skeleton(2, 2);
    assert_eq!(
        upload(&app, &id, "anh.png", "image/png", png.clone())
            .await
            .status(),
        201
    );

    // Lying names and types, unknown content, oversize: refused, nothing stored.
    for (name, content_type, bytes, status) in [
        // Bytes that are not a well-formed file of the declared type: 422.
        ("anh.pdf", "application/pdf", png.clone(), 422),
        ("giay.pdf", "image/png", pdf("x"), 422),
        (
            "script.pdf",
            "application/pdf",
            b"#!/bin/sh\necho".to_vec(),
            422,
        ),
        // A type we do not take, or a name that disagrees: 415.
        ("trang.html", "text/html", b"<html></html>".to_vec(), 415),
        ("giay.png", "application/pdf", pdf("x"), 415),
        ("rong.pdf", "application/pdf", Vec::new(), 422),
        (
            "lon.pdf",
            "application/pdf",
            [pdf("x"), vec![0; 11 * 1024 * 1024]].concat(),
            413,
        ),
    ] {
        let res = upload(&app, &id, name, content_type, bytes).await;
        assert_eq!(res.status(), status, "{name}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{name}"
        );
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM dossier_files").await,
        2
    );

    // The applicant reads it back; a staff read is logged; other agencies see nothing.
    let file_id = file["id"].as_str().expect("id").to_owned();
    let res = app
        .get(&format!("/api/v1/dossiers/{id}/attachments/{file_id}"))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.expect("bytes").to_vec(), pdf("cccd"));
    assert_eq!(submit(&app, &id, None).await.status(), 200);
    assert_eq!(
        upload(&app, &id, "muon.pdf", "application/pdf", pdf("late"))
            .await
            .status(),
        409,
        "a filed dossier takes no more files until a supplement is asked"
    );
    let receiver = staff_token(&app, "bt.tn-file", WARD, "receiver").await;
    let other = staff_token(&app, "stp.tn-file", "000.00.12.H29", "receiver").await;
    let staff_get = |token: String| {
        app.client
            .get(app.url(&format!(
                "/api/v1/staff/dossiers/{id}/attachments/{file_id}"
            )))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(staff_get(other).await.expect("get").status(), 404);
    let res = staff_get(receiver.clone()).await.expect("get");
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM dossier_events WHERE dossier_id = '{id}' AND action = 'file_read' AND visible = false"
        ))
        .await,
        1
    );

    // A file changed in storage is caught on the next read.
    let stored = app.files_dir().join(format!("dossiers/{id}/{file_id}"));
    std::fs::write(&stored, pdf("forged")).expect("tamper");
    let res = app
        .get(&format!("/api/v1/dossiers/{id}/attachments/{file_id}"))
        .await;
    assert_eq!(res.status(), 409);
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["code"], "file_integrity_failed");
}

#[tokio::test]
async fn a_dossier_forwarded_to_another_agency_leaves_one_queue_for_the_other() {
    let app = TestApp::spawn().await;
    let citizen = signed_in(&app, 50).await;
    let other_ward = "000.01.11.H29";
    let receiver = staff_token(&app, "bt.tn-fw", WARD, "receiver").await;
    let processor = staff_token(&app, "bt.xl-fw", WARD, "processor").await;
    let there = staff_token(&app, "p1.xl-fw", other_ward, "processor").await;
    let id = draft(&app, complete_values(&citizen)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(submit(&app, &id, None).await.status(), 200);
    assert_eq!(
        staff_act(&app, &receiver, &id, "accept", None)
            .await
            .status(),
        200
    );
    let forward = |token: String, body: Value| {
        app.client
            .post(app.url(&format!("/api/v1/staff/dossiers/{id}/forward")))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    assert_eq!(
        forward(
            receiver.clone(),
            json!({ "to_agency": other_ward, "note": "x" })
        )
        .await
        .expect("post")
        .status(),
        403
    );
    assert_eq!(
        forward(processor.clone(), json!({ "to_agency": other_ward }))
            .await
            .expect("post")
            .status(),
        422,
        "a reason is required"
    );
    assert_eq!(
        forward(
            processor.clone(),
            json!({ "to_agency": "000.00.12.H29", "note": "x" })
        )
        .await
        .expect("post")
        .status(),
        422,
        "the target must handle the service"
    );
    let res = forward(
        processor.clone(),
        json!({ "to_agency": other_ward, "note": "Đúng địa bàn cư trú" }),
    )
    .await
    .expect("post");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let moved: Value = res.json().await.expect("json");
    assert_eq!(moved["agency_code"], other_ward);
    assert_eq!(moved["status"], "processing");
    let app_ref = &app;
    let queue = |token: String| async move {
        let app = app_ref;
        let body: Value = app
            .client
            .get(app.url("/api/v1/staff/queue"))
            .bearer_auth(token)
            .send()
            .await
            .expect("queue")
            .json()
            .await
            .expect("json");
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|d| d["id"].as_str().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    assert!(!queue(processor.clone()).await.contains(&id));
    assert!(queue(there.clone()).await.contains(&id));
    assert_eq!(
        staff_act(&app, &processor, &id, "request_supplement", Some("x"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn concurrent_retries_with_one_idempotency_key_make_one_draft() {
    let app = TestApp::spawn().await;
    let citizen = signed_in(&app, 51).await;
    let body = json!({ "service_code": SERVICE, "agency_code": WARD, "form_values": complete_values(&citizen) });
    let attempts = (0..6).map(|_| {
        app.client
            .post(app.url("/api/v1/dossiers"))
            .header("Idempotency-Key", "tao-ho-so-1")
            .json(&body)
            .send()
    });
    let mut answers = Vec::new();
    for res in futures_util::future::join_all(attempts).await {
        let res = res.expect("create");
        assert_eq!(res.status(), 201);
        answers.push(res.json::<Value>().await.expect("json"));
    }
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "every retry gets the first answer"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM dossiers").await, 1);
}
