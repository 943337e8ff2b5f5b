//! Attachments: checked by their content (not their name or declared type),
//! kept intact, read back by the applicant, read by the agency's staff only
//! (and logged), and a file changed in storage is caught.

use super::{WARD, complete_draft, pdf, staff_token, submit};
use crate::helpers::{Problem, TestApp, read_json};

#[tokio::test]
async fn files_are_checked_by_content_kept_intact_and_staff_reads_are_logged() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(49).await;
    let id = complete_draft(&app, &citizen).await;
    let res = upload(
        &app,
        &id,
        "../../căn cước.pdf",
        "application/pdf",
        pdf("cccd"),
    )
    .await;
    let file: serde_json::Value = read_json(res, 201).await;
    assert_eq!(file["name"], "căn cước.pdf", "no path in a name");
    assert_eq!(file["content_type"], "application/pdf");
    let png = eservices::domain::file_kind::png_skeleton(2, 2);
    assert_eq!(
        upload(&app, &id, "anh.png", "image/png", png.clone())
            .await
            .status(),
        201
    );
    lying_unknown_and_oversize_files_are_refused(&app, &id, &png).await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM dossier_files").await,
        2
    );

    let file_id = file["id"].as_str().expect("id").to_owned();
    read_back_and_read_by_staff_only(&app, &id, &file_id).await;

    // A file changed in storage is caught on the next read.
    let stored = app.files_dir().join(format!("dossiers/{id}/{file_id}"));
    std::fs::write(&stored, pdf("forged")).expect("tamper");
    let res = app
        .get(&format!("/api/v1/dossiers/{id}/attachments/{file_id}"))
        .await;
    let problem = Problem::read(res, 409).await;
    assert_eq!(problem.code, "file_integrity_failed");
}

/// The applicant attaches a file to dossier `id`.
async fn upload(
    app: &TestApp,
    id: &str,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let enc: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    app.client
        .post(app.url(&format!(
            "/api/v1/dossiers/{id}/attachments?name={enc}&document_type=CCCD"
        )))
        .header("Content-Type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("upload")
}

/// Lying names and types, unknown content, oversize: refused as problems.
async fn lying_unknown_and_oversize_files_are_refused(app: &TestApp, id: &str, png: &[u8]) {
    for (name, content_type, bytes, status) in [
        // Bytes that are not a well-formed file of the declared type: 422.
        ("anh.pdf", "application/pdf", png.to_vec(), 422),
        ("giay.pdf", "image/png", pdf("x"), 422),
        (
            "script.pdf",
            "application/pdf",
            b"#!/bin/sh\necho".to_vec(),
            422,
        ),
        // A type we do not take, or a name that disagrees: 415.
        ("trang.html", "text/html", b"<html></html>".to_vec(), 415),
        ("giay.png", "application/pdf", pdf("x"), 415),
        ("rong.pdf", "application/pdf", Vec::new(), 422),
        (
            "lon.pdf",
            "application/pdf",
            [pdf("x"), vec![0; 11 * 1024 * 1024]].concat(),
            413,
        ),
    ] {
        let res = upload(app, id, name, content_type, bytes).await;
        assert_eq!(res.status(), status, "{name}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{name}"
        );
    }
}

/// The applicant reads the file back; once filed, the dossier takes no more
/// files; a staff read is logged; other agencies see nothing.
async fn read_back_and_read_by_staff_only(app: &TestApp, id: &str, file_id: &str) {
    let res = app
        .get(&format!("/api/v1/dossiers/{id}/attachments/{file_id}"))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.expect("bytes").to_vec(), pdf("cccd"));
    assert_eq!(submit(app, id, None).await.status(), 200);
    assert_eq!(
        upload(app, id, "muon.pdf", "application/pdf", pdf("late"))
            .await
            .status(),
        409,
        "a filed dossier takes no more files until a supplement is asked"
    );
    let receiver = staff_token(app, "bt.tn-file", WARD, "receiver").await;
    let other = staff_token(app, "stp.tn-file", "000.00.12.H29", "receiver").await;
    let staff_get = |token: String| {
        app.client
            .get(app.url(&format!(
                "/api/v1/staff/dossiers/{id}/attachments/{file_id}"
            )))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(staff_get(other).await.expect("get").status(), 404);
    let res = staff_get(receiver.clone()).await.expect("get");
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM dossier_events WHERE dossier_id = '{id}' AND action = 'file_read' AND visible = false"
        ))
        .await,
        1
    );
}
