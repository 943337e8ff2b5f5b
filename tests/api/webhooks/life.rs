//! A dossier's whole life reaches a subscriber: each event once, signed
//! (the receiver's own verdict), in order; and the applicant's name only
//! for a subscriber allowed personal data.

use eservices::integrations::webhooks::admin::NewSubscriber;
use serde_json::json;

use super::{
    WARD, act, attempts, deliveries, filed, kinds, subscribe, subscribe_all, ward_receiver,
};
use crate::{
    dossiers::{pdf, staff_token, stage_result},
    helpers::TestApp,
    webhooks::receiver::Receiver,
};

#[tokio::test]
async fn a_dossiers_life_reaches_a_webhook_subscriber_once_per_event_signed_and_in_order() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    let citizen = app.signed_in_citizen(171).await;
    let subscriber = subscribe_all(&app, &receiver, "/so-noi-vu").await;
    let intake = ward_receiver(&app).await;
    let processor = staff_token(&app, "bt.xuly", WARD, "processor").await;
    let approver = staff_token(&app, "bt.pheduyet", WARD, "approver").await;

    let id = filed(&app, &citizen).await;
    act(&app, &intake, &id, "accept", None).await;
    act(
        &app,
        &processor,
        &id,
        "request_supplement",
        Some("Thiếu bản sao"),
    )
    .await;
    let res = app
        .post_json(
            &format!("/api/v1/dossiers/{id}/supplement"),
            &json!({ "note": "Đã bổ sung" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    act(
        &app,
        &processor,
        &id,
        "request_fee",
        Some("Lệ phí 50.000 đồng"),
    )
    .await;
    act(&app, &intake, &id, "confirm_payment", None).await;
    assert_eq!(
        stage_result(&app, &processor, &id, pdf("ket qua"))
            .await
            .status(),
        201
    );
    act(&app, &approver, &id, "approve", None).await;
    act(&app, &intake, &id, "return_result", None).await;

    // One run of the outbox: each delivery queues the next on success.
    app.run_jobs().await;
    let got = receiver.received().await;
    assert_eq!(
        kinds(&got),
        [
            "dossier.filed",
            "dossier.accepted",
            "dossier.supplement_requested",
            "dossier.supplemented",
            "dossier.fee_requested",
            "dossier.fee_paid",
            "dossier.decided",
            "dossier.returned",
        ]
    );
    let rows = deliveries(&app, subscriber).await;
    assert_eq!(rows.len(), got.len());
    let sent_at = app.now().timestamp().to_string();
    for (r, row) in got.iter().zip(&rows) {
        assert!(r.verified, "{:?}", r.error);
        assert_eq!(r.timestamp.as_deref(), Some(sent_at.as_str()));
        assert_eq!(r.answered, Some(204));
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        assert_eq!(r.id.as_deref(), Some(row.id.to_string().as_str()));
        assert_eq!(r.body["data"]["dossier_id"], id);
        assert_eq!(r.body["data"]["sequence"], row.seq);
        assert!(row.delivered_at.is_some());
        assert_eq!(row.attempts, 1);
        let tried = attempts(&app, row.id).await;
        assert_eq!(tried.len(), 1);
        assert_eq!(tried[0].http_status, Some(204));
    }
    let last = &got[7].body;
    assert_eq!(last["data"]["status"], "returned");
    assert_eq!(last["data"]["status_code"], 10);
    assert_eq!(last["data"]["previous_status"], "processed");
    assert_eq!(last["data"]["service_code"], "HGCS-001");
    assert_eq!(last["data"]["agency_code"], WARD);
    let receipt = got[0].body["data"]["receipt_code"]
        .as_str()
        .expect("receipt");
    assert!(receipt.starts_with(&format!("{WARD}-")), "{receipt}");

    // Nothing is sent twice.
    app.clock.advance(chrono::Duration::minutes(2));
    app.run_jobs().await;
    assert_eq!(receiver.received().await.len(), 8);
}

#[tokio::test]
async fn the_applicant_is_named_only_to_a_subscriber_allowed_personal_data() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    let citizen = app.signed_in_citizen(172).await;
    subscribe_all(&app, &receiver, "/thong-ke").await;
    subscribe(
        &app,
        &receiver,
        "/mot-cua",
        NewSubscriber {
            personal_data: true,
            ..NewSubscriber::default()
        },
    )
    .await;

    filed(&app, &citizen).await;
    app.run_jobs().await;
    let plain = receiver.received_at("/thong-ke").await;
    let personal = receiver.received_at("/mot-cua").await;
    assert_eq!(kinds(&plain), ["dossier.filed"]);
    assert_eq!(kinds(&personal), ["dossier.filed"]);
    assert!(plain[0].verified && personal[0].verified);
    assert_eq!(
        personal[0].body["data"]["applicant_name"],
        citizen.full_name
    );
    assert!(plain[0].body["data"].get("applicant_name").is_none());
    let text = plain[0].body.to_string();
    for personal_value in [
        citizen.full_name.as_str(),
        citizen.national_id.as_str(),
        citizen.email.as_str(),
        "0901234567",
        "Lê Lợi",
        "1990-01-01",
    ] {
        assert!(!text.contains(personal_value), "{personal_value} in {text}");
    }
    // The subscriber allowed personal data gets the name, and nothing more.
    let text = personal[0].body.to_string();
    for other in [
        citizen.national_id.as_str(),
        citizen.email.as_str(),
        "Lê Lợi",
    ] {
        assert!(!text.contains(other), "{other} in {text}");
    }
}
