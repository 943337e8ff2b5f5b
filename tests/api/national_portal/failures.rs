//! A dossier whose service has no national procedure code cannot be sent:
//! the job gives up with that reason, the ward's admins see it at
//! /backoffice/national-portal (no one else does), and "Gửi lại" after the
//! catalog is fixed sends everything, in order. A forged form sends nothing.
//! A dossier the portal refuses (400) is given up with the portal's reason.

use super::{
    NATIONAL_CODE, WARD, act, app_with, app_with_portal, calls_about, cursor, filed, sync_jobs,
    ward,
};
use crate::helpers::{NationalPortal, TestApp, input_value};

const PAGE: &str = "/backoffice/national-portal";
/// Công nhận hòa giải viên: the catalog has no national code for it.
const UNCODED: &str = "HGCS-001";

/// Posts "Gửi lại" for `id` from `browser` with `csrf`.
async fn resend(
    app: &TestApp,
    browser: &reqwest::Client,
    id: &str,
    csrf: &str,
) -> (u16, Option<String>, String) {
    let res = browser
        .post(app.url(&format!("{PAGE}/{id}/resend")))
        .header("Origin", app.address.as_str())
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .expect("post");
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    (
        res.status().as_u16(),
        location,
        res.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_service_without_a_national_code_is_given_up_shown_to_admins_and_sent_again() {
    let (app, portal) = app_with_portal().await;
    let staff = ward(&app, "nc").await;
    let (id, receipt, _) = filed(&app, 341, UNCODED).await;
    app.run_jobs().await;
    act(&app, &staff.receiver, &id, "accept", None).await;
    app.run_jobs().await;

    // Given up, with the reason, and nothing sent (not even a log-in).
    assert!(portal.received().await.is_empty());
    let (acked, failed, failure, _) = cursor(&app, &id).await;
    assert_eq!(acked, 0);
    assert!(failed);
    let failure = failure.expect("a reason");
    assert!(
        failure.contains(UNCODED) && failure.contains("mã TTHC"),
        "{failure}"
    );
    assert!(
        sync_jobs(&app, &id)
            .await
            .iter()
            .all(|(state, attempts)| state == "dead" && *attempts == 1),
        "definitive: no retries"
    );

    // The ward's admin sees it, linked from the home page.
    let admin = app.staff("qt.np", WARD, &["agency_admin"]).await;
    let browser = app.backoffice(&admin).await;
    let (_, home) = app.page(&browser, "/backoffice/").await;
    assert!(home.contains(&format!("href=\"{PAGE}\"")));
    let (code, html) = app.page(&browser, PAGE).await;
    assert_eq!(code, 200);
    assert!(
        html.contains(&receipt) && html.contains("mã TTHC"),
        "{html}"
    );
    assert!(html.contains(&format!("{PAGE}/{id}/resend")) && html.contains("Gửi lại"));
    let csrf = input_value(&html, "csrf_token").expect("csrf");

    // The city's admins see every agency's; another ward's admin and a
    // clerk of this ward do not.
    let city = app
        .staff("qt.thanhpho", "000.00.00.H29", &["agency_admin"])
        .await;
    let city = app.backoffice(&city).await;
    let (code, html) = app.page(&city, PAGE).await;
    assert_eq!(code, 200);
    assert!(
        html.contains(&receipt) && html.contains("mọi đơn vị"),
        "{html}"
    );
    let other = app
        .staff("qt.khac", "000.01.11.H29", &["agency_admin"])
        .await;
    let other = app.backoffice(&other).await;
    let (code, html) = app.page(&other, PAGE).await;
    assert_eq!(code, 200);
    assert!(!html.contains(&receipt) && html.contains("no-failures"));
    let (_, other_home) = app.page(&other, "/backoffice/").await;
    let other_csrf = input_value(&other_home, "csrf_token").expect("csrf");
    let (code, _, _) = resend(&app, &other, &id, &other_csrf).await;
    assert_eq!(code, 404, "another ward cannot send it");
    let clerk = app.staff("tn.np", WARD, &["receiver"]).await;
    let clerk = app.backoffice(&clerk).await;
    let (code, _) = app.page(&clerk, PAGE).await;
    assert_eq!(code, 403);
    let (_, clerk_home) = app.page(&clerk, "/backoffice/").await;
    assert!(!clerk_home.contains(&format!("href=\"{PAGE}\"")));

    // A forged form, a clerk, an unknown dossier: nothing is queued.
    let queued = || {
        app.count("SELECT count(*) AS n FROM jobs WHERE kind = 'sync_national_portal' AND state = 'queued'")
    };
    let (code, _, _) = resend(&app, &browser, &id, "forged").await;
    assert_eq!(code, 403);
    let (_, clerk_page) = app.page(&clerk, "/backoffice/").await;
    let clerk_csrf = input_value(&clerk_page, "csrf_token").expect("csrf");
    let (code, _, _) = resend(&app, &clerk, &id, &clerk_csrf).await;
    assert_eq!(code, 403);
    let (code, _, body) = resend(&app, &browser, &uuid::Uuid::new_v4().to_string(), &csrf).await;
    assert_eq!(code, 404);
    assert!(body.contains("Không có hồ sơ chưa đồng bộ"), "{body}");
    assert_eq!(queued().await, 0);
    assert!(portal.received().await.is_empty());

    // The catalog is fixed (a code for the test), then "Gửi lại".
    code_service(&app, UNCODED, "9.000001").await;
    let (code, location, _) = resend(&app, &browser, &id, &csrf).await;
    assert_eq!(code, 303);
    assert_eq!(
        location.as_deref(),
        Some("/backoffice/national-portal?done=resent")
    );
    assert_eq!(queued().await, 1);
    let (_, html) = app
        .page(&browser, "/backoffice/national-portal?done=resent")
        .await;
    assert!(html.contains("Đã xếp hồ sơ vào hàng đợi gửi lại") && html.contains("no-failures"));
    app.run_jobs().await;

    let calls = calls_about(&portal, &receipt).await;
    let kinds: Vec<&str> = calls
        .iter()
        .map(|c| c["call"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["dossier", "progress", "progress"]);
    assert_eq!(calls[0]["body"]["MaTTHC"], "9.000001");
    let statuses: Vec<i64> = calls[1..]
        .iter()
        .map(|c| c["body"]["TrangThai"].as_i64().expect("status"))
        .collect();
    assert_eq!(statuses, [1, 2]);
    let (_, failed, failure, _) = cursor(&app, &id).await;
    assert!(!failed && failure.is_none());
    assert_eq!(
        app.count("SELECT count(*) AS n FROM staff_events WHERE kind = 'national_portal.resent'")
            .await,
        1,
        "the admin's re-send is in the agency's trail"
    );
    // Sent: a second re-send finds nothing to send again.
    let (code, _, _) = resend(&app, &browser, &id, &csrf).await;
    assert_eq!(code, 404);
}

/// Gives `service` the national code `code` in this test's catalog.
async fn code_service(app: &TestApp, service: &str, code: &str) {
    app.count(&format!(
        "WITH fixed AS (UPDATE services SET national_code = '{code}' WHERE code = '{service}' \
         RETURNING 1) SELECT count(*) AS n FROM fixed"
    ))
    .await;
}

#[tokio::test]
async fn a_dossier_the_portal_refuses_is_given_up_with_the_portals_reason() {
    let (app, portal) = app_with(NationalPortal::start_knowing(Some(&[NATIONAL_CODE]))).await;
    // A code the national database does not have.
    code_service(&app, UNCODED, "9.000001").await;
    let (id, receipt, _) = filed(&app, 351, UNCODED).await;
    app.run_jobs().await;

    assert!(calls_about(&portal, &receipt).await.is_empty());
    let (acked, failed, failure, retries) = cursor(&app, &id).await;
    assert_eq!((acked, failed, retries), (0, true, 0));
    let failure = failure.expect("a reason");
    assert!(
        failure.contains("từ chối") && failure.contains("HTTP 400") && failure.contains("9.000001"),
        "{failure}"
    );
    assert_eq!(
        sync_jobs(&app, &id).await,
        [("dead".to_owned(), 1)],
        "a refusal is not retried"
    );
    let admin = app.staff("qt.tc", WARD, &["agency_admin"]).await;
    let browser = app.backoffice(&admin).await;
    let (code, html) = app.page(&browser, PAGE).await;
    assert_eq!(code, 200);
    assert!(
        html.contains(&receipt) && html.contains("not in the national database"),
        "{html}"
    );
}
