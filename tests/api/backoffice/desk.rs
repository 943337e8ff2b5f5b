//! A dossier worked at the desk from the queue to its result: filters and
//! search, the dossier page with sources and actions, nothing done without
//! confirmation, a fresh page and the CSRF token, other agencies kept out,
//! reasons required, the result paper checked, and what the applicant sees.

use serde_json::Value;

use super::{WARD, desk, filed, post_action, status};
use crate::{
    dossiers::pdf,
    helpers::{Citizen, TestApp, input_value},
};

#[tokio::test]
async fn a_dossier_is_worked_from_the_queue_to_its_result_in_the_back_office() {
    let app = TestApp::spawn().await;
    let (id, receipt, citizen) = filed(&app, 71).await;
    let receiver = desk(&app, "bo.tiepnhan", WARD, "receiver").await;
    the_queue_filters_and_searches(&app, &receiver, &receipt, &citizen).await;
    let path = format!("/backoffice/dossiers/{id}");
    let html = the_dossier_page_shows_sources_and_the_intake(&app, &receiver, &path).await;
    nothing_happens_unconfirmed_stale_or_forged(&app, &receiver, &id, &html).await;

    // Intake.
    let res = post_action(
        &receiver,
        &app,
        &id,
        &html,
        &[("action", "accept"), ("version", "2"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, html) = app
        .page(
            &receiver,
            res.headers()["location"].to_str().expect("ascii"),
        )
        .await;
    assert!(html.contains("Đã thực hiện: Tiếp nhận hồ sơ."), "{html}");
    assert_eq!(status(&app, &id).await, "accepted");

    // Another agency's civil servant does not see it.
    let elsewhere = desk(&app, "bo.khac", "000.00.12.H29", "receiver").await;
    let (code, _) = app.page(&elsewhere, &path).await;
    assert_eq!(code, 404);

    let processor = desk(&app, "bo.xuly", WARD, "processor").await;
    the_processor_gives_reasons_and_stages_a_real_pdf(&app, &processor, &id, &path).await;
    approved_and_returned(&app, &receiver, &id, &path).await;

    // What the applicant sees.
    let body: Value = app
        .get(&format!("/api/v1/dossiers/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["status"], "returned");
    assert_eq!(body["decision"], "approved");
    assert!(body["result_document"]["id"].is_string());
    let (_, html) = app.page(&receiver, &path).await;
    assert!(
        html.contains("Quá trình xử lý") && html.contains("Trả kết quả"),
        "{html}"
    );
}

/// The queue: filed dossiers, searchable by receipt code, ID number and
/// name, filtered by channel and field; bad filters are refused.
async fn the_queue_filters_and_searches(
    app: &TestApp,
    receiver: &reqwest::Client,
    receipt: &str,
    citizen: &Citizen,
) {
    let (code, html) = app.page(receiver, "/backoffice/queue").await;
    assert_eq!(code, 200);
    assert!(html.contains(receipt), "{html}");
    for q in [receipt, citizen.national_id.as_str(), "Văn An"] {
        let enc: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
        let (code, html) = app
            .page(receiver, &format!("/backoffice/queue?q={enc}"))
            .await;
        assert_eq!(code, 200);
        assert!(html.contains(receipt), "search {q}");
    }
    let (code, html) = app
        .page(receiver, "/backoffice/queue?channel=counter")
        .await;
    assert_eq!(code, 200);
    assert!(!html.contains(receipt), "filed online, not at the counter");
    let field = |name: &str| {
        let enc: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        format!("/backoffice/queue?field={enc}")
    };
    let (code, html) = app.page(receiver, &field("Hòa giải ở cơ sở")).await;
    assert_eq!(code, 200);
    assert!(
        html.contains(receipt),
        "HGCS-001 is in the field Hòa giải ở cơ sở"
    );
    let (code, html) = app.page(receiver, &field("Hộ tịch")).await;
    assert_eq!(code, 200);
    assert!(!html.contains(receipt), "another field");
    let (code, html) = app.page(receiver, "/backoffice/queue?status=bogus").await;
    assert_eq!(code, 400);
    assert!(html.contains("Trạng thái không hợp lệ."));
    let (code, html) = app
        .page(receiver, "/backoffice/queue?from=2026-13-40")
        .await;
    assert_eq!(code, 400);
    assert!(html.contains("Từ ngày"));
}

/// The dossier page: values with their source, the intake with its due
/// date, only the receiver's actions. The page.
async fn the_dossier_page_shows_sources_and_the_intake(
    app: &TestApp,
    receiver: &reqwest::Client,
    path: &str,
) -> String {
    let (code, html) = app.page(receiver, path).await;
    assert_eq!(code, 200);
    assert!(
        html.contains("Kho dữ liệu"),
        "prefilled values show their source"
    );
    assert!(html.contains("Người nộp tự khai"));
    assert!(html.contains("Hạn giải quyết sẽ là"));
    assert!(html.contains("value=\"accept\""));
    assert!(
        !html.contains("value=\"approve\""),
        "not a receiver's action"
    );
    html
}

/// No confirmation, a stale page, a wrong CSRF token: nothing happens.
async fn nothing_happens_unconfirmed_stale_or_forged(
    app: &TestApp,
    receiver: &reqwest::Client,
    id: &str,
    html: &str,
) {
    let res = post_action(
        receiver,
        app,
        id,
        html,
        &[("action", "accept"), ("version", "2")],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .expect("page")
            .contains("đánh dấu xác nhận")
    );
    let res = post_action(
        receiver,
        app,
        id,
        html,
        &[("action", "accept"), ("version", "1"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(res.status(), 412);
    assert!(res.text().await.expect("page").contains("đã được thay đổi"));
    let res = receiver
        .post(app.url(&format!("/backoffice/dossiers/{id}/act")))
        .header("Origin", app.address.as_str())
        .form(&[
            ("csrf_token", "forged"),
            ("action", "accept"),
            ("version", "2"),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    assert_eq!(status(app, id).await, "submitted");
}

/// The processor uploads the result paper with the form `csrf`.
async fn upload_result(
    app: &TestApp,
    processor: &reqwest::Client,
    id: &str,
    csrf: String,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf)
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name("ket-qua.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        );
    processor
        .post(app.url(&format!("/backoffice/dossiers/{id}/result")))
        .header("Origin", app.address.as_str())
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

/// A supplement request needs what is missing; the result paper uploaded
/// with the form must be a real PDF.
async fn the_processor_gives_reasons_and_stages_a_real_pdf(
    app: &TestApp,
    processor: &reqwest::Client,
    id: &str,
    path: &str,
) {
    let (_, html) = app.page(processor, path).await;
    let res = post_action(
        processor,
        app,
        id,
        &html,
        &[
            ("action", "request_supplement"),
            ("version", "3"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.expect("page").contains("Cần ghi rõ"));

    // The result paper, uploaded with the form, then the decision.
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    let res = upload_result(app, processor, id, csrf.clone(), pdf("ket qua")).await;
    assert_eq!(res.status(), 303);
    let res = upload_result(app, processor, id, csrf, b"not a pdf".to_vec()).await;
    // Bytes that are not a well-formed file of the declared type.
    assert_eq!(res.status(), 422);
}

/// The approver sees the staged paper and approves; the receiver sees the
/// result issued and returns it.
async fn approved_and_returned(app: &TestApp, receiver: &reqwest::Client, id: &str, path: &str) {
    let approver = desk(app, "bo.pheduyet", WARD, "approver").await;
    let (_, html) = app.page(&approver, path).await;
    assert!(html.contains("ket-qua.pdf"), "the staged paper is named");
    let res = post_action(
        &approver,
        app,
        id,
        &html,
        &[("action", "approve"), ("version", "3"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, html) = app.page(receiver, path).await;
    assert!(html.contains("Kết quả đã cấp"));
    let res = post_action(
        receiver,
        app,
        id,
        &html,
        &[
            ("action", "return_result"),
            ("version", "4"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
}
