//! A fee paid online from filing to intake; a fee asked later; the counter.

use serde_json::{Value, json};

use super::{FEE, actions, app_with_platform, filed, payments_of, start_payment, status_of};
use crate::dossiers::{WARD, staff_act, staff_token};

#[tokio::test]
async fn a_fee_due_at_filing_is_paid_online_and_the_dossier_goes_to_intake_with_a_receipt() {
    let (app, platform) = app_with_platform("filing").await;
    let (id, citizen) = filed(&app, 3501).await;
    assert_eq!(status_of(&app, &id).await, "fee_requested");
    let (status, payment) = start_payment(&app, &id).await;
    assert_eq!(status, 201, "{payment}");
    assert_eq!(
        (payment["status"].as_str(), payment["amount_vnd"].as_i64()),
        (Some("pending"), Some(FEE))
    );
    assert!(
        payment["payment_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&platform.url))
    );
    // Asking again resumes the same payment.
    let (again, same) = start_payment(&app, &id).await;
    assert_eq!((again, &same["id"]), (200, &payment["id"]));
    // The platform got the bill as specified.
    let sent = platform.transactions().await;
    assert_eq!(sent.len(), 1);
    let bill = &sent[0]["bill"];
    assert_eq!(bill["payer"]["id_number"], citizen.national_id.as_str());
    assert_eq!(bill["agency_code"], WARD);
    assert_eq!(bill["fee_lines"][0]["amount"], FEE);
    assert!(
        bill["dossier_number"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );

    let txn = payment["transaction_id"].as_str().expect("transaction id");
    let answer = platform.pay(txn, "paid", "normal", json!({})).await;
    assert_eq!(super::attempts(&answer), [(200, "00".to_owned())]);
    assert_eq!(status_of(&app, &id).await, "submitted", "on to intake");
    let paid = payments_of(&app, &id).await;
    assert_eq!(paid[0]["status"], "paid");
    assert!(paid[0]["payment_url"].is_null());
    let receipt = paid[0]["receipt_document_id"].as_str().expect("a receipt");
    assert!(actions(&app, &id).await.contains(&"fee_paid".to_owned()));
    // The receipt is in the payer's vault, signed, checkable by anyone.
    let documents: Value = app
        .get("/api/v1/vault/documents")
        .await
        .json()
        .await
        .expect("json");
    let listed = documents["items"].as_array().expect("items");
    assert!(
        listed
            .iter()
            .any(|d| d["id"] == receipt && d["document_type"] == "BIEN_LAI_PHI"),
        "{documents}"
    );
    let verify = reqwest::get(app.url(&format!("/verify/{receipt}")))
        .await
        .expect("verify");
    assert_eq!(verify.status(), 200);
    // The agency's head sees the fee collected, all of it online.
    let head = crate::backoffice::desk(&app, "lanh-dao-3501", WARD, "approver").await;
    let (_, dashboard) = app.page(&head, "/backoffice/dashboard").await;
    let fees = dashboard
        .split("<tr id=\"fees\">")
        .nth(1)
        .and_then(|t| t.split("</tr>").next())
        .expect("the fees row");
    assert_eq!(
        fees,
        "<td>150.000 đ</td><td>150.000 đ</td><td>0 đ</td><td>100,0 %</td>"
    );
    app.run_jobs().await;
    let mails = app.smtp.messages_to(&citizen.email);
    assert!(
        mails
            .iter()
            .any(|m| m.text().contains("nộp phí, lệ phí thành công")),
        "an email says so"
    );
}

#[tokio::test]
async fn a_fee_asked_during_processing_is_paid_online_and_processing_goes_on() {
    let (app, platform) = app_with_platform("on_request").await;
    let (id, _) = filed(&app, 3502).await;
    assert_eq!(status_of(&app, &id).await, "submitted", "no fee at filing");
    let receiver = staff_token(&app, "tiep-nhan-3502", WARD, "receiver").await;
    let processor = staff_token(&app, "xu-ly-3502", WARD, "processor").await;
    for (token, action) in [
        (&receiver, "accept"),
        (&processor, "start_processing"),
        (&processor, "request_fee"),
    ] {
        assert_eq!(
            staff_act(&app, token, &id, action, Some("Lệ phí theo quy định"))
                .await
                .status(),
            200,
            "{action}"
        );
    }
    let (_, payment) = start_payment(&app, &id).await;
    let txn = payment["transaction_id"].as_str().expect("transaction id");
    platform.pay(txn, "paid", "normal", json!({})).await;
    assert_eq!(status_of(&app, &id).await, "processing");
}

#[tokio::test]
async fn a_receiver_records_a_fee_paid_at_the_counter_with_its_receipt() {
    let (app, _platform) = app_with_platform("filing").await;
    let (id, _) = filed(&app, 3503).await;
    let (_, online) = start_payment(&app, &id).await;
    let receiver = staff_token(&app, "tiep-nhan-3503", WARD, "receiver").await;
    assert_eq!(
        staff_act(&app, &receiver, &id, "confirm_payment", None)
            .await
            .status(),
        200
    );
    assert_eq!(status_of(&app, &id).await, "submitted");
    let listed = payments_of(&app, &id).await;
    let counter = listed
        .iter()
        .find(|p| p["channel"] == "counter")
        .expect("a counter payment");
    assert_eq!(
        (counter["status"].as_str(), counter["amount_vnd"].as_i64()),
        (Some("paid"), Some(FEE))
    );
    assert!(counter["receipt_document_id"].is_string());
    let superseded = listed
        .iter()
        .find(|p| p["id"] == online["id"])
        .expect("the online one");
    assert_eq!(superseded["status"], "cancelled");
    // Nothing is left to pay online.
    assert_eq!(start_payment(&app, &id).await.0, 409);
    // The back office shows both, the receipt linked.
    let desk = crate::backoffice::desk(&app, "quay-3503", WARD, "receiver").await;
    let (_, page) = app.page(&desk, &format!("/backoffice/dossiers/{id}")).await;
    let table = page
        .split("<table id=\"payments\">")
        .nth(1)
        .expect("the payments table");
    assert!(
        table.contains("Tại quầy")
            && table.contains("150.000 đ")
            && table.contains("Đã thanh toán"),
        "{table}"
    );
    assert!(
        table.contains("Đã hủy") && table.contains("Biên lai điện tử"),
        "{table}"
    );
}
