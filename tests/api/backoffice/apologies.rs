//! An approver sends an overdue dossier's apology from the back office: a
//! receiver sees it but cannot approve; without confirmation nothing is
//! sent; the applicant sees the new date.

use serde_json::Value;

use super::{WARD, desk, filed};
use crate::helpers::{TestApp, input_value};

#[tokio::test]
async fn an_approver_sends_an_overdue_dossiers_apology_from_the_back_office() {
    let app = TestApp::spawn().await;
    let (id, _, citizen) = filed(&app, 74).await;
    let receiver = crate::dossiers::staff_token(&app, "ap.tn", WARD, "receiver").await;
    let res = crate::dossiers::staff_act(&app, &receiver, &id, "accept", None).await;
    assert_eq!(res.status(), 200);
    app.clock.advance(chrono::Duration::days(10));
    eservices::dossiers::overdue::draft_apologies(&app.state)
        .await
        .expect("drafted");

    // A receiver sees the letter but cannot approve it.
    let clerk = desk(&app, "ap.tiepnhan", WARD, "receiver").await;
    let (code, html) = app.page(&clerk, "/backoffice/apologies").await;
    assert_eq!(code, 200);
    assert!(html.contains(&id) && html.contains("Chờ cán bộ phê duyệt"));

    let approver = desk(&app, "ap.pheduyet", WARD, "approver").await;
    let (_, html) = app.page(&approver, "/backoffice/apologies").await;
    let action = html
        .split("action=\"")
        .find_map(|s| {
            s.split('"')
                .next()
                .filter(|a| a.starts_with("/backoffice/apologies/"))
        })
        .expect("the letter's form")
        .to_owned();
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    let post = |fields: Vec<(&'static str, String)>| {
        approver
            .post(app.url(&action))
            .header("Origin", app.address.as_str())
            .form(&fields)
            .send()
    };
    let res = post(vec![
        ("csrf_token", csrf.clone()),
        ("reason", "Chờ ý kiến cơ quan liên quan".into()),
    ])
    .await
    .expect("post");
    assert_eq!(res.status(), 422, "no confirmation, nothing sent");
    let res = post(vec![
        ("csrf_token", csrf.clone()),
        ("reason", "Chờ ý kiến cơ quan liên quan".into()),
        ("new_due", "2040-01-05".into()),
        ("confirm", "yes".into()),
    ])
    .await
    .expect("post");
    assert_eq!(res.status(), 303);
    let (_, html) = app.page(&approver, "/backoffice/apologies?sent=1").await;
    assert!(html.contains("Đã duyệt và gửi thư xin lỗi") && html.contains("Không có thư nào"));
    // Ten days on, the applicant signs in again.
    app.sign_in(&citizen.national_id, &citizen.password).await;
    let body: Value = app
        .get(&format!("/api/v1/dossiers/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["due_at"], "2040-01-05T10:00:00Z", "17:00 local time");
}
