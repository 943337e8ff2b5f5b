//! A receiver files a dossier for a citizen at the counter: the agency's
//! services, refusals for a stranger or a service not handled, a form
//! prefilled from the vault that needs what is missing and a confirmation;
//! the citizen then follows it like any other. Only receivers do this.

use serde_json::Value;

use super::{WARD, desk};
use crate::helpers::{TestApp, input_value};

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

    a_stranger_and_a_service_not_handled_are_refused(&app, &receiver).await;

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

    the_citizen_follows_it_like_any_other(&app, &receiver).await;

    let processor = desk(&app, "qt.xuly", WARD, "processor").await;
    let (code, _) = app.page(&processor, "/backoffice/counter").await;
    assert_eq!(code, 403);
}

/// The citizen follows the counter's dossier like any other; the queue's
/// counter filter finds it.
async fn the_citizen_follows_it_like_any_other(app: &TestApp, receiver: &reqwest::Client) {
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
        .page(receiver, "/backoffice/queue?channel=counter")
        .await;
    assert!(html.contains(dossier["receipt_code"].as_str().expect("code")));
}

/// Someone without an account, a service the ward does not handle: refused,
/// saying both.
async fn a_stranger_and_a_service_not_handled_are_refused(
    app: &TestApp,
    receiver: &reqwest::Client,
) {
    let stranger = crate::helpers::Citizen::sample(76).national_id;
    let (code, html) = app
        .page(
            receiver,
            &format!("/backoffice/counter?national_id={stranger}&service=LLTP-001"),
        )
        .await;
    assert_eq!(code, 422);
    assert!(html.contains("chưa có tài khoản") && html.contains("không giải quyết"));
}
