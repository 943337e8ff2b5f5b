//! Concurrency: receipt codes without gaps or duplicates, two civil servants
//! acting on one dossier at once, retries of one create with one
//! Idempotency-Key.

use serde_json::{Value, json};

use super::{SERVICE, WARD, complete_draft, complete_values, staff_act, staff_token, submit};
use crate::helpers::{DossierView, TestApp};

#[tokio::test]
async fn receipt_codes_have_no_gaps_or_duplicates_under_concurrent_filing() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(43).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(complete_draft(&app, &citizen).await);
    }
    let filings = ids.iter().map(|id| submit(&app, id, None));
    let answers = futures_util::future::join_all(filings).await;
    let mut codes = Vec::new();
    for res in answers {
        codes.push(DossierView::read(res, 200).await.receipt());
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
    let citizen = app.signed_in_citizen(44).await;
    let first = staff_token(&app, "bt.tn1", WARD, "receiver").await;
    let second = staff_token(&app, "bt.tn2", WARD, "receiver").await;
    for round in 0..3 {
        let id = complete_draft(&app, &citizen).await;
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
async fn concurrent_retries_with_one_idempotency_key_make_one_draft() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(51).await;
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
