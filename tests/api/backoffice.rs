//! The back office's desk over HTTP: the queue with filters and search, the
//! dossier page, actions with confirmation, reasons, stale pages, other
//! agencies, and the result upload; what the applicant then sees.

use serde_json::{Value, json};

use crate::{
    dossiers::pdf,
    helpers::{TestApp, input_value},
};

const WARD: &str = "000.21.11.H29";

/// A civil servant's browser, signed in to the back office.
async fn desk(app: &TestApp, username: &str, agency: &str, role: &str) -> reqwest::Client {
    app.backoffice(&app.staff(username, agency, &[role]).await)
        .await
}

/// Posts the form of `action` found on the dossier page, with `changes`.
async fn post_action(
    browser: &reqwest::Client,
    app: &TestApp,
    id: &str,
    html: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = input_value(html, "csrf_token").expect("csrf");
    let mut form: Vec<(&str, String)> = vec![("csrf_token", csrf)];
    form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    browser
        .post(app.url(&format!("/backoffice/dossiers/{id}/act")))
        .header("Origin", app.address.as_str())
        .form(&form)
        .send()
        .await
        .expect("post")
}

pub(crate) async fn filed(app: &TestApp, seq: u32) -> (String, String, crate::helpers::Citizen) {
    let citizen = app.signed_in_citizen(seq).await;
    let res = app
        .post_json(
            "/api/v1/dossiers",
            &json!({
                "service_code": "HGCS-001",
                "agency_code": WARD,
                "form_values": {
                    "permanent_address": "12 Lê Lợi, Phường Bến Thành",
                    "phone": "0901234567",
                },
            }),
        )
        .await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let draft: Value = res.json().await.expect("json");
    let id = draft["id"].as_str().expect("id").to_owned();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")))
        .send()
        .await
        .expect("submit");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let body: Value = res.json().await.expect("json");
    (
        id,
        body["receipt_code"].as_str().expect("code").to_owned(),
        citizen,
    )
}

async fn status(app: &TestApp, id: &str) -> String {
    let body: Value = app
        .get(&format!("/api/v1/dossiers/{id}"))
        .await
        .json()
        .await
        .expect("json");
    body["status"].as_str().expect("status").to_owned()
}

#[tokio::test]
async fn a_dossier_is_worked_from_the_queue_to_its_result_in_the_back_office() {
    let app = TestApp::spawn().await;
    let (id, receipt, citizen) = filed(&app, 71).await;
    let receiver = desk(&app, "bo.tiepnhan", WARD, "receiver").await;

    // The queue: filed dossiers, searchable by receipt code, ID number and name.
    let (code, html) = app.page(&receiver, "/backoffice/queue").await;
    assert_eq!(code, 200);
    assert!(html.contains(&receipt), "{html}");
    for q in [receipt.as_str(), citizen.national_id.as_str(), "Văn An"] {
        let enc: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
        let (code, html) = app
            .page(&receiver, &format!("/backoffice/queue?q={enc}"))
            .await;
        assert_eq!(code, 200);
        assert!(html.contains(&receipt), "search {q}");
    }
    let (code, html) = app
        .page(&receiver, "/backoffice/queue?channel=counter")
        .await;
    assert_eq!(code, 200);
    assert!(!html.contains(&receipt), "filed online, not at the counter");
    let field = |name: &str| {
        let enc: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        format!("/backoffice/queue?field={enc}")
    };
    let (code, html) = app.page(&receiver, &field("Hòa giải ở cơ sở")).await;
    assert_eq!(code, 200);
    assert!(
        html.contains(&receipt),
        "HGCS-001 is in the field Hòa giải ở cơ sở"
    );
    let (code, html) = app.page(&receiver, &field("Hộ tịch")).await;
    assert_eq!(code, 200);
    assert!(!html.contains(&receipt), "another field");
    let (code, html) = app.page(&receiver, "/backoffice/queue?status=bogus").await;
    assert_eq!(code, 400);
    assert!(html.contains("Trạng thái không hợp lệ."));
    let (code, html) = app
        .page(&receiver, "/backoffice/queue?from=2026-13-40")
        .await;
    assert_eq!(code, 400);
    assert!(html.contains("Từ ngày"));

    // The dossier page: values with their source, the intake with its due date.
    let path = format!("/backoffice/dossiers/{id}");
    let (code, html) = app.page(&receiver, &path).await;
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

    // No confirmation, a stale page, a wrong CSRF token: nothing happens.
    let res = post_action(
        &receiver,
        &app,
        &id,
        &html,
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
        &receiver,
        &app,
        &id,
        &html,
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
    assert_eq!(status(&app, &id).await, "submitted");

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

    // A supplement request needs what is missing.
    let processor = desk(&app, "bo.xuly", WARD, "processor").await;
    let (_, html) = app.page(&processor, &path).await;
    let res = post_action(
        &processor,
        &app,
        &id,
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
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf)
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf("ket qua"))
                .file_name("ket-qua.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        );
    let res = processor
        .post(app.url(&format!("/backoffice/dossiers/{id}/result")))
        .header("Origin", app.address.as_str())
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), 303);
    let lying = reqwest::multipart::Form::new()
        .text(
            "csrf_token",
            input_value(&html, "csrf_token").expect("csrf"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"not a pdf".to_vec())
                .file_name("ket-qua.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        );
    let res = processor
        .post(app.url(&format!("/backoffice/dossiers/{id}/result")))
        .header("Origin", app.address.as_str())
        .multipart(lying)
        .send()
        .await
        .expect("upload");
    // Bytes that are not a well-formed file of the declared type.
    assert_eq!(res.status(), 422);

    let approver = desk(&app, "bo.pheduyet", WARD, "approver").await;
    let (_, html) = app.page(&approver, &path).await;
    assert!(html.contains("ket-qua.pdf"), "the staged paper is named");
    let res = post_action(
        &approver,
        &app,
        &id,
        &html,
        &[("action", "approve"), ("version", "3"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, html) = app.page(&receiver, &path).await;
    assert!(html.contains("Kết quả đã cấp"));
    let res = post_action(
        &receiver,
        &app,
        &id,
        &html,
        &[
            ("action", "return_result"),
            ("version", "4"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);

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

#[tokio::test]
async fn the_dashboard_shows_an_agencys_figures_to_its_heads_and_the_city_to_city_admins() {
    let app = TestApp::spawn().await;
    let (decided, _, _) = filed(&app, 72).await;
    filed(&app, 73).await;
    let receiver = crate::dossiers::staff_token(&app, "db.tn", WARD, "receiver").await;
    let approver = crate::dossiers::staff_token(&app, "db.pd", WARD, "approver").await;
    for (token, action) in [(&receiver, "accept")] {
        let res = crate::dossiers::staff_act(&app, token, &decided, action, None).await;
        assert_eq!(res.status(), 200);
    }
    let res = crate::dossiers::stage_result(&app, &approver, &decided, pdf("kq")).await;
    assert_eq!(res.status(), 201);
    let res = crate::dossiers::staff_act(&app, &approver, &decided, "approve", None).await;
    assert_eq!(res.status(), 200);
    eservices::dossiers::stats::refresh(&app.state)
        .await
        .expect("refresh");

    let head = desk(&app, "db.lanhdao", WARD, "approver").await;
    let (code, html) = app.page(&head, "/backoffice/dashboard").await;
    assert_eq!(code, 200);
    let totals = html
        .split("<tr id=\"totals\">")
        .nth(1)
        .and_then(|t| t.split("</tr>").next())
        .expect("totals row");
    assert_eq!(
        totals,
        "<td>2</td><td>1</td><td>100.0 %</td><td>0</td><td>100.0 % ✓</td>"
    );
    assert!(html.contains("<svg"), "a chart drawn on the server");
    let (code, csv) = app.page(&head, "/backoffice/dashboard.csv").await;
    assert_eq!(code, 200);
    let month = app
        .now()
        .with_timezone(&eservices::domain::calendar::city_tz())
        .format("%Y-%m")
        .to_string();
    assert_eq!(
        csv,
        format!(
            "agency_code,service_code,month,received,online,decided,on_time,overdue\n\
             {WARD},HGCS-001,{month},2,2,1,1,0\n"
        )
    );
    let (code, _) = app
        .page(&head, "/backoffice/dashboard?agency=000.00.12.H29")
        .await;
    assert_eq!(code, 403, "another agency's figures");
    let clerk = desk(&app, "db.tiepnhan", WARD, "receiver").await;
    let (code, _) = app.page(&clerk, "/backoffice/dashboard").await;
    assert_eq!(code, 403, "not a head of the agency");

    let city = desk(&app, "db.thanhpho", "000.00.00.H29", "agency_admin").await;
    let (code, html) = app.page(&city, "/backoffice/dashboard").await;
    assert_eq!(code, 200);
    assert!(html.contains("toàn Thành phố"));
    assert!(
        html.contains(&format!("agency={WARD}")),
        "the ward in the city's table"
    );
    // The city admin drills into the ward: its name, its months, a way back.
    let (code, html) = app
        .page(&city, &format!("/backoffice/dashboard?agency={WARD}"))
        .await;
    assert_eq!(code, 200);
    assert!(html.contains("– Phường Bến Thành</h1>"), "{html}");
    assert!(html.contains("‹ Toàn Thành phố"));
    let totals = html
        .split("<tr id=\"totals\">")
        .nth(1)
        .and_then(|t| t.split("</tr>").next())
        .expect("totals row");
    assert!(totals.starts_with("<td>2</td><td>1</td>"), "{totals}");
    for path in [
        "/backoffice/dashboard?agency=000.99.99.H29",
        "/backoffice/dashboard.csv?agency=000.99.99.H29",
    ] {
        let (code, html) = app.page(&city, path).await;
        assert_eq!(code, 404, "{path}");
        assert!(html.contains("Không có đơn vị với mã này."));
    }
}

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

#[tokio::test]
async fn a_receiver_files_a_dossier_for_a_citizen_at_the_counter() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(75).await;
    let receiver = desk(&app, "qt.tiepnhan", WARD, "receiver").await;
    let (code, html) = app.page(&receiver, "/backoffice/counter").await;
    assert_eq!(code, 200);
    assert!(
        html.contains("HGCS-001"),
        "the agency's services to choose from"
    );

    // Someone without an account, a service the ward does not handle.
    let stranger = crate::helpers::Citizen::sample(76).national_id;
    let (code, html) = app
        .page(
            &receiver,
            &format!("/backoffice/counter?national_id={stranger}&service=LLTP-001"),
        )
        .await;
    assert_eq!(code, 422);
    assert!(html.contains("chưa có tài khoản") && html.contains("không giải quyết"));

    // The form, prefilled from the citizen's vault.
    let path = format!(
        "/backoffice/counter?national_id={}&service=HGCS-001",
        citizen.national_id
    );
    let (code, html) = app.page(&receiver, &path).await;
    assert_eq!(code, 200);
    assert!(
        html.contains(&format!("value=\"{}\"", citizen.full_name)),
        "{html}"
    );
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    let post = |extra: Vec<(&'static str, String)>| {
        let mut form = vec![
            ("csrf_token", csrf.clone()),
            ("national_id", citizen.national_id.clone()),
            ("service", "HGCS-001".to_owned()),
            ("f.full_name", citizen.full_name.clone()),
            ("f.date_of_birth", citizen.date_of_birth.clone()),
            ("f.national_id", citizen.national_id.clone()),
            ("f.phone", "0901234567".to_owned()),
        ];
        form.extend(extra);
        receiver
            .post(app.url("/backoffice/counter"))
            .header("Origin", app.address.as_str())
            .form(&form)
            .send()
    };
    let res = post(vec![("confirm", "yes".into())]).await.expect("post");
    assert_eq!(res.status(), 422, "the address is missing");
    let text = res.text().await.expect("page");
    assert!(text.contains("Nơi thường trú"), "{text}");
    let res = post(vec![(
        "f.permanent_address",
        "5 Lê Duẩn, Phường Sài Gòn".into(),
    )])
    .await
    .expect("post");
    assert_eq!(res.status(), 422, "not confirmed");
    let res = post(vec![
        ("f.permanent_address", "5 Lê Duẩn, Phường Sài Gòn".into()),
        ("confirm", "yes".into()),
    ])
    .await
    .expect("post");
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let (_, html) = app.page(&receiver, &location).await;
    assert!(html.contains("Đã nộp hồ sơ tại quầy") && html.contains("Tại quầy"));

    // The citizen follows it like any other.
    let mine: Value = app
        .get("/api/v1/dossiers")
        .await
        .json()
        .await
        .expect("json");
    let dossier = &mine["items"][0];
    assert_eq!(dossier["channel"], "counter");
    assert_eq!(dossier["status"], "submitted");
    assert_eq!(
        dossier["form_values"]["permanent_address"],
        "5 Lê Duẩn, Phường Sài Gòn"
    );
    let id = dossier["id"].as_str().expect("id");
    let events: Value = app
        .get(&format!("/api/v1/dossiers/{id}/events"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(events["items"][1]["label"], "Nộp hồ sơ tại bộ phận một cửa");
    let (_, html) = app
        .page(&receiver, "/backoffice/queue?channel=counter")
        .await;
    assert!(html.contains(dossier["receipt_code"].as_str().expect("code")));

    let processor = desk(&app, "qt.xuly", WARD, "processor").await;
    let (code, _) = app.page(&processor, "/backoffice/counter").await;
    assert_eq!(code, 403);
}
