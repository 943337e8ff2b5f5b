//! The public look-up by receipt code shows a status and nothing personal,
//! a wrong ID number looks like an unknown code, guessing is throttled; the
//! applicant lists what was sent to them.

use serde_json::Value;

use super::{WARD, complete_draft, submit};
use crate::helpers::{DossierView, TestApp};

#[tokio::test]
async fn the_public_lookup_shows_status_only_and_guessing_is_throttled() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(47).await;
    let id = complete_draft(&app, &citizen).await;
    let receipt = DossierView::read(submit(&app, &id, None).await, 200)
        .await
        .receipt();

    let anyone = TestApp::fresh_client();
    let nid = Some(citizen.national_id.as_str());
    let res = look(&app, &anyone, &receipt, nid).await;
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
    assert_eq!(look(&app, &anyone, &receipt, None).await.status(), 400);
    // A wrong ID number looks exactly like an unknown code.
    let wrong = look(&app, &anyone, &receipt, Some("079090999999")).await;
    assert_eq!(wrong.status(), 404);
    let unknown = look(&app, &anyone, &format!("{WARD}-000101-0001"), nid).await;
    assert_eq!(unknown.status(), 404);
    let (a, b): (Value, Value) = (
        wrong.json().await.expect("json"),
        unknown.json().await.expect("json"),
    );
    assert_eq!(a["detail"], b["detail"]);
    // Guessing: after 20 misses from one address, even a right guess waits.
    for n in 0..19 {
        let res = look(&app, &anyone, &format!("{WARD}-000101-{n:04}"), nid).await;
        assert_eq!(res.status(), 404, "miss {n}");
    }
    let res = look(&app, &anyone, &receipt, nid).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));

    the_applicant_lists_what_was_sent(&app, &receipt).await;
}

/// `anyone` looks up receipt `code`, with a national ID if given.
async fn look(
    app: &TestApp,
    anyone: &reqwest::Client,
    code: &str,
    national_id: Option<&str>,
) -> reqwest::Response {
    let mut url = app.url(&format!("/api/v1/lookup/{code}"));
    if let Some(n) = national_id {
        url.push_str(&format!("?national_id={n}"));
    }
    anyone.get(url).send().await.expect("lookup")
}

/// What we sent the applicant, with its delivery status.
async fn the_applicant_lists_what_was_sent(app: &TestApp, receipt: &str) {
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
            .contains(receipt)
    );
    assert_eq!(app.get("/api/v1/notifications?limit=0").await.status(), 400);
}
