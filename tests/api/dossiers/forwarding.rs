//! Forwarding: a processor (not a receiver) sends an accepted dossier, with
//! a reason, to another agency that handles the service; it leaves one queue
//! for the other.

use serde_json::{Value, json};

use super::{WARD, complete_draft, staff_act, staff_token, submit};
use crate::helpers::{DossierView, TestApp};

const OTHER_WARD: &str = "000.01.11.H29";

#[tokio::test]
async fn a_dossier_forwarded_to_another_agency_leaves_one_queue_for_the_other() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(50).await;
    let receiver = staff_token(&app, "bt.tn-fw", WARD, "receiver").await;
    let processor = staff_token(&app, "bt.xl-fw", WARD, "processor").await;
    let there = staff_token(&app, "p1.xl-fw", OTHER_WARD, "processor").await;
    let id = complete_draft(&app, &citizen).await;
    assert_eq!(submit(&app, &id, None).await.status(), 200);
    assert_eq!(
        staff_act(&app, &receiver, &id, "accept", None)
            .await
            .status(),
        200
    );
    bad_forwards_are_refused(&app, &id, &receiver, &processor).await;
    let res = forward(
        &app,
        &id,
        &processor,
        json!({ "to_agency": OTHER_WARD, "note": "Đúng địa bàn cư trú" }),
    )
    .await;
    let moved = DossierView::read(res, 200).await;
    assert_eq!(moved.agency_code, OTHER_WARD);
    assert_eq!(moved.status, "processing");
    assert!(!queue(&app, &processor).await.contains(&id));
    assert!(queue(&app, &there).await.contains(&id));
    assert_eq!(
        staff_act(&app, &processor, &id, "request_supplement", Some("x"))
            .await
            .status(),
        404
    );
}

/// A civil servant with `token` forwards dossier `id`.
async fn forward(app: &TestApp, id: &str, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/staff/dossiers/{id}/forward")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("post")
}

/// The ids in the queue of the civil servant with `token`.
async fn queue(app: &TestApp, token: &str) -> Vec<String> {
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
}

/// A receiver may not forward; a processor needs a reason and a target that
/// handles the service.
async fn bad_forwards_are_refused(app: &TestApp, id: &str, receiver: &str, processor: &str) {
    assert_eq!(
        forward(
            app,
            id,
            receiver,
            json!({ "to_agency": OTHER_WARD, "note": "x" })
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        forward(app, id, processor, json!({ "to_agency": OTHER_WARD }))
            .await
            .status(),
        422,
        "a reason is required"
    );
    assert_eq!(
        forward(
            app,
            id,
            processor,
            json!({ "to_agency": "000.00.12.H29", "note": "x" })
        )
        .await
        .status(),
        422,
        "the target must handle the service"
    );
}
