//! Callbacks that misbehave, lost callbacks, stale payments, a platform
//! that does not answer: each with a clear outcome, nothing paid twice.

use serde_json::json;

use super::{
    FEE, actions, app_with_platform, attempts, filed, payments_of, start_payment, status_of,
};

#[tokio::test]
async fn duplicate_and_out_of_order_callbacks_change_nothing_twice() {
    let (app, platform) = app_with_platform("filing").await;
    let (id, _) = filed(&app, 3511).await;
    let (_, payment) = start_payment(&app, &id).await;
    let txn = payment["transaction_id"].as_str().expect("transaction id");
    let answer = platform.pay(txn, "paid", "duplicate", json!({})).await;
    let got = attempts(&answer);
    assert_eq!(got.len(), 2, "{answer}");
    assert!(
        got.iter().all(|(s, c)| *s == 200 && c == "00"),
        "both acknowledged: {answer}"
    );
    // A failure reported after the payment (out of order) changes nothing.
    let late = platform
        .ipn(json!({ "transaction_id": txn, "status": "failed" }))
        .await;
    assert_eq!(attempts(&late), [(200, "00".to_owned())]);
    let listed = payments_of(&app, &id).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "paid");
    let paid_rows = actions(&app, &id)
        .await
        .iter()
        .filter(|a| *a == "fee_paid")
        .count();
    assert_eq!(paid_rows, 1, "one log row, one email, one receipt");
}

#[tokio::test]
async fn forged_wrong_amount_and_unknown_callbacks_are_refused_and_change_nothing() {
    let (app, platform) = app_with_platform("filing").await;
    let (id, _) = filed(&app, 3512).await;
    let (_, payment) = start_payment(&app, &id).await;
    let txn = payment["transaction_id"].as_str().expect("transaction id");
    let forged = platform
        .ipn(json!({ "transaction_id": txn, "status": "paid", "forge": true }))
        .await;
    assert_eq!(attempts(&forged)[0], (400, "97".to_owned()));
    let one_dong_short = platform
        .ipn(json!({ "transaction_id": txn, "status": "paid", "amount": FEE - 1 }))
        .await;
    assert_eq!(attempts(&one_dong_short)[0], (400, "04".to_owned()));
    let unknown = app
        .client
        .post(app.url("/api/v1/payments/callback"))
        .body("not json")
        .send()
        .await
        .expect("callback");
    assert_eq!(unknown.status(), 400);
    assert_eq!(status_of(&app, &id).await, "fee_requested");
    assert_eq!(payments_of(&app, &id).await[0]["status"], "pending");
    // The ward's receivers see both refusals on their alerts page.
    let desk =
        crate::backoffice::desk(&app, "canh-bao-3512", crate::dossiers::WARD, "receiver").await;
    let (code, page) = app.page(&desk, "/backoffice/payments").await;
    assert_eq!(code, 200);
    let table = page
        .split("<table id=\"payment-alerts\">")
        .nth(1)
        .expect("alerts");
    assert!(
        table.contains("sai số tiền") && table.contains("sai chữ ký"),
        "{table}"
    );
    assert!(table.contains(txn), "{table}");
    // The real payment still goes through.
    platform.pay(txn, "paid", "normal", json!({})).await;
    assert_eq!(status_of(&app, &id).await, "submitted");
}

#[tokio::test]
async fn a_lost_callback_is_reconciled_and_a_payment_left_pending_expires() {
    let (app, platform) = app_with_platform("filing").await;
    let (id, _) = filed(&app, 3513).await;
    let (_, payment) = start_payment(&app, &id).await;
    let txn = payment["transaction_id"].as_str().expect("transaction id");
    platform.pay(txn, "paid", "none", json!({})).await;
    assert_eq!(
        status_of(&app, &id).await,
        "fee_requested",
        "no callback came"
    );
    app.clock.advance(chrono::Duration::minutes(3));
    let done = eservices::payments::jobs::reconcile(&app.state)
        .await
        .expect("reconciled");
    assert!(done.contains("1 paid"), "{done}");
    assert_eq!(status_of(&app, &id).await, "submitted");

    let (other, citizen) = filed(&app, 3514).await;
    let (_, stale) = start_payment(&app, &other).await;
    app.clock.advance(chrono::Duration::minutes(31));
    let done = eservices::payments::jobs::reconcile(&app.state)
        .await
        .expect("reconciled");
    assert!(done.contains("1 expired"), "{done}");
    // (The browser session aged out meanwhile.)
    let res = app.sign_in(&citizen.national_id, &citizen.password).await;
    assert_eq!(res.status(), 303);
    assert_eq!(payments_of(&app, &other).await[0]["status"], "expired");
    let (status, fresh) = start_payment(&app, &other).await;
    assert_eq!(status, 201, "a new payment after expiry");
    assert_ne!(fresh["id"], stale["id"]);
}

#[tokio::test]
async fn a_platform_that_times_out_gets_a_clear_503_and_the_retry_finds_the_same_transaction() {
    let (app, platform) = app_with_platform("filing").await;
    let (id, _) = filed(&app, 3515).await;
    platform.mode("timeout", "ok").await;
    let (status, problem) = start_payment(&app, &id).await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(problem["code"], "payment_platform_unavailable");
    platform.mode("garbage", "ok").await;
    assert_eq!(
        start_payment(&app, &id).await.0,
        503,
        "an answer that is not JSON"
    );
    platform.mode("ok", "ok").await;
    let (status, payment) = start_payment(&app, &id).await;
    assert!(status == 200 || status == 201, "{payment}");
    assert!(payment["payment_url"].is_string());
    assert_eq!(
        payments_of(&app, &id).await.len(),
        1,
        "one payment, retried"
    );
}

#[tokio::test]
async fn a_fee_paid_after_the_dossier_was_withdrawn_is_to_refund_and_moves_nothing() {
    let (app, platform) = app_with_platform("filing").await;
    let (id, _) = filed(&app, 3516).await;
    let (_, payment) = start_payment(&app, &id).await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/withdraw")))
        .send()
        .await
        .expect("withdraw");
    assert_eq!(res.status(), 200);
    let txn = payment["transaction_id"].as_str().expect("transaction id");
    let answer = platform.pay(txn, "paid", "normal", json!({})).await;
    assert_eq!(attempts(&answer), [(200, "00".to_owned())], "acknowledged");
    assert_eq!(status_of(&app, &id).await, "withdrawn");
    let listed = payments_of(&app, &id).await;
    assert_eq!(listed[0]["status"], "refund_due");
    assert!(
        listed[0]["receipt_document_id"].is_null(),
        "no receipt for nothing"
    );
    assert!(!actions(&app, &id).await.contains(&"fee_paid".to_owned()));
}

#[tokio::test]
async fn without_a_payment_platform_the_app_says_so_and_callbacks_are_not_taken() {
    let app = crate::helpers::TestApp::spawn().await;
    let citizen = app.signed_in_citizen(3517).await;
    let id = crate::dossiers::draft(&app, crate::dossiers::complete_values(&citizen)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, problem) = start_payment(&app, &id).await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(problem["code"], "payment_platform_unavailable");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Bộ phận một cửa"))
    );
    let res = app
        .client
        .post(app.url("/api/v1/payments/callback"))
        .json(&json!({ "transaction_id": "DVC1", "status": "paid" }))
        .send()
        .await
        .expect("callback");
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["code"], "01");
}
