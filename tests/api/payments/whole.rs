//! Issue 17's whole path: a dossier with a fee, from filing to its result,
//! the fee paid through the payment-platform simulator, its receipt in the
//! vault, every status mirrored in the simulated national portal in order,
//! and a city system's webhook receiving each event once, signed.

use serde_json::{Value, json};

use super::{payments_of, start_payment, status_of};
use crate::{
    dossiers::{pdf, stage_result},
    helpers::{NationalPortal, PaymentPlatform, TestApp, TestOptions},
    national_portal::{SERVICE, act, calls_about, filed, ward},
    webhooks::{receiver::Receiver, subscribe_all},
};

/// Runs due jobs until none is left (deliveries queue their successors).
async fn drain(app: &TestApp) {
    for _ in 0..20 {
        if app.run_jobs().await == 0 {
            return;
        }
    }
    panic!("jobs kept coming");
}

#[tokio::test]
async fn a_fee_paid_dossier_reaches_its_result_mirrored_in_the_portal_and_told_to_subscribers() {
    let platform = PaymentPlatform::start();
    let portal = NationalPortal::start();
    let receiver = Receiver::start();
    let mut env = platform.env();
    env.extend(portal.env());
    let app = TestApp::spawn_with(TestOptions {
        env,
        ..TestOptions::default()
    })
    .await;
    // (The app's clock stays the real one: the subscriber's library checks
    // the signed timestamp against its own.)
    subscribe_all(&app, &receiver, "/he-thong-thanh-pho").await;
    let staff = ward(&app, "tt").await;

    // Filed: the service asks its fee at filing.
    let (id, receipt, _citizen) = filed(&app, 3601, SERVICE).await;
    assert_eq!(status_of(&app, &id).await, "fee_requested");
    let (status, payment) = start_payment(&app, &id).await;
    assert_eq!(status, 201, "{payment}");
    let txn = payment["transaction_id"].as_str().expect("transaction id");
    platform.pay(txn, "paid", "normal", json!({})).await;
    assert_eq!(status_of(&app, &id).await, "submitted");
    drain(&app).await;
    act(&app, &staff.receiver, &id, "accept", None).await;
    drain(&app).await;
    let res = stage_result(&app, &staff.processor, &id, pdf("ban sao trich luc")).await;
    assert_eq!(res.status(), 201);
    act(&app, &staff.approver, &id, "approve", None).await;
    act(&app, &staff.receiver, &id, "return_result", None).await;
    drain(&app).await;

    // The receipt is in the payer's vault.
    let paid = payments_of(&app, &id).await;
    let receipt_id = paid[0]["receipt_document_id"].as_str().expect("a receipt");
    let documents: Value = app
        .get("/api/v1/vault/documents")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        documents["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|d| d["id"] == receipt_id)
    );

    // Every status in the portal's progress entries, in order, each row once
    // (the record itself carries the dossier's status when it is sent).
    let calls = calls_about(&portal, &receipt).await;
    let national = |s: eservices::domain::dossier::Status| i64::from(s.national_code());
    use eservices::domain::dossier::Status::{
        Accepted, FeeRequested, Processed, Returned, Submitted,
    };
    let statuses: Vec<i64> = calls
        .iter()
        .filter(|c| c["call"] == "progress")
        .map(|c| c["body"]["TrangThai"].as_i64().expect("status"))
        .collect();
    let shown: Vec<(i64, i64, String)> = calls
        .iter()
        .filter(|c| c["call"] == "progress")
        .map(|c| {
            (
                c["body"]["SoThuTu"].as_i64().unwrap_or(0),
                c["body"]["TrangThai"].as_i64().unwrap_or(0),
                c["body"]["NoiDungXuLy"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(30)
                    .collect(),
            )
        })
        .collect();
    let mut distinct = statuses.clone();
    distinct.dedup();
    assert_eq!(
        distinct,
        [FeeRequested, Submitted, Accepted, Processed, Returned].map(national),
        "every status change, in order: {shown:?}"
    );
    let seqs: Vec<i64> = calls
        .iter()
        .filter(|c| c["call"] == "progress")
        .map(|c| c["body"]["SoThuTu"].as_i64().expect("SoThuTu"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in order, once: {seqs:?}"
    );

    // The city system got each event once, signed.
    let got = receiver.received_at("/he-thong-thanh-pho").await;
    let unverified: Vec<_> = got.iter().filter(|r| !r.verified).collect();
    assert!(
        unverified.is_empty(),
        "every signature verifies: {unverified:?}"
    );
    let mut ids: Vec<&str> = got.iter().filter_map(|r| r.id.as_deref()).collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "no event twice");
    let kinds: Vec<&str> = got.iter().map(|r| r.kind()).collect();
    assert!(kinds.contains(&"dossier.fee_paid"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"dossier.returned"), "{kinds:?}");
}
