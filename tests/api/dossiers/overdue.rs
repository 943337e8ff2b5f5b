//! An overdue dossier: the scheduled job drafts one apology letter however
//! often it runs, an approver (only) approves it with a reason, and the
//! applicant sees the new date, the log row and the email.

use chrono::Duration;
use serde_json::{Value, json};

use super::{WARD, applicant_log, complete_draft, staff_act, staff_token, submit};
use crate::helpers::{Citizen, TestApp, read_json};

const REASON: &str = "Hồ sơ cần xác minh thêm với cơ quan khác.";

#[tokio::test]
async fn an_overdue_dossier_gets_an_apology_letter_approved_and_sent() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(48).await;
    let receiver = staff_token(&app, "bt.tn-ovd", WARD, "receiver").await;
    let id = complete_draft(&app, &citizen).await;
    assert_eq!(submit(&app, &id, None).await.status(), 200);
    let accepted: Value = staff_act(&app, &receiver, &id, "accept", None)
        .await
        .json()
        .await
        .expect("json");
    let missed = accepted["due_at"].clone();

    // Ten days later the office has not decided.
    app.clock.advance(Duration::days(10));
    for _ in 0..2 {
        app.state
            .worker()
            .schedule_maintenance()
            .await
            .expect("schedule");
        app.run_jobs().await;
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM apology_letters").await,
        1,
        "one letter, however often the job runs"
    );
    let new_due = approved_by_an_approver_only(&app, &id, &missed).await;
    the_applicant_sees_the_new_date_and_why(&app, &citizen, &id, &new_due).await;
}

/// An approver lists the letter of dossier `id` (which missed `missed`) and
/// approves it with a reason, once; a receiver may not, nor without a
/// reason. The new due date.
async fn approved_by_an_approver_only(app: &TestApp, id: &str, missed: &Value) -> Value {
    let approver = staff_token(app, "bt.pd-ovd", WARD, "approver").await;
    let receiver = staff_token(app, "bt.tn-ovd2", WARD, "receiver").await;
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
    assert_eq!(letter["dossier_id"], id);
    assert_eq!(&letter["missed_due"], missed);
    let letter_id = letter["id"].as_str().expect("id");
    let approve_as = |token: &str, body: Value| approve(app, letter_id, token.to_owned(), body);
    assert_eq!(
        approve_as(&receiver, json!({ "reason": REASON }))
            .await
            .status(),
        403
    );
    assert_eq!(
        approve_as(&approver, json!({ "reason": " " }))
            .await
            .status(),
        422
    );
    let res = approve_as(&approver, json!({ "reason": REASON })).await;
    let approved: Value = read_json(res, 200).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(
        approve_as(&approver, json!({ "reason": REASON }))
            .await
            .status(),
        409
    );
    approved["new_due"].clone()
}

/// A civil servant with `token` approves apology letter `letter_id`.
async fn approve(app: &TestApp, letter_id: &str, token: String, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/staff/apologies/{letter_id}/approve")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("post")
}

/// The applicant's dossier has the new date; the log and the email say why.
async fn the_applicant_sees_the_new_date_and_why(
    app: &TestApp,
    citizen: &Citizen,
    id: &str,
    new_due: &Value,
) {
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
    assert_eq!(&dossier["due_at"], new_due);
    let (_, actions) = applicant_log(app, id).await;
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
    assert!(letter_mail.text().contains(REASON));
    assert!(letter_mail.text().contains("Ngày hẹn trả kết quả mới"));
}
