//! The agency's working time: its own closed days and its opening hours
//! move the due dates of dossiers accepted afterwards, not before; bad days
//! and hours are refused; a reload of the catalog keeps the agency's hours;
//! days ahead can be removed, days lived through cannot.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::{WARD, kinds_in_trail, post};
use crate::{
    backoffice::filed,
    dossiers::{staff_act, staff_token},
    helpers::{TestApp, read_json},
};

const CAL: &str = "/backoffice/agency/calendar";

#[tokio::test]
async fn an_agencys_own_days_and_hours_move_the_due_dates_of_dossiers_accepted_afterwards() {
    let app = TestApp::spawn().await;
    app.clock.set(monday_afternoon());
    let admin = app.staff("qt.lich", WARD, &["agency_admin"]).await;
    let browser = app.backoffice(&admin).await;
    let receiver = staff_token(&app, "tn.lich", WARD, "receiver").await;

    let (code, html) = app.page(&browser, CAL).await;
    assert_eq!(code, 200);
    assert!(
        html.contains("value=\"07:30\""),
        "the catalog's hours in the form"
    );

    // HGCS-001 takes 3 working days. Accepted on Monday at 14:00 with the
    // office week, it is due on Thursday at 14:00.
    let (first, _, _) = filed(&app, 81).await;
    assert_eq!(
        accept(&app, &receiver, &first).await,
        city(2026, 11, 26, 14)
    );

    // The ward closes on Tuesday: a dossier accepted now is due a day later.
    let (code, _, location) = post(
        &browser,
        &app,
        CAL,
        "/backoffice/agency/days",
        &[
            ("day", "2026-11-24"),
            ("kind", "closed"),
            ("name", "Di dời trụ sở"),
        ],
    )
    .await;
    assert_eq!(code, 303);
    assert_eq!(
        location.as_deref(),
        Some("/backoffice/agency/calendar?saved=day")
    );
    let (second, _, _) = filed(&app, 82).await;
    assert_eq!(
        accept(&app, &receiver, &second).await,
        city(2026, 11, 27, 14)
    );

    days_that_change_nothing_are_past_or_twice_are_refused(&app, &browser).await;
    mornings_only_move_later_due_dates_not_earlier_ones(&app, &browser, &receiver, &first).await;
    days_ahead_are_removed_and_past_ones_stay(&app, &browser).await;

    let trail = kinds_in_trail(&app, WARD).await;
    for kind in [
        "agency.day_added",
        "agency.hours_changed",
        "agency.day_removed",
        "dossier.accept",
    ] {
        assert!(trail.iter().any(|k| k == kind), "{kind} in {trail:?}");
    }
}

/// Monday 23 November 2026, 14:00 in the city.
fn monday_afternoon() -> DateTime<Utc> {
    eservices::domain::calendar::city_tz()
        .with_ymd_and_hms(2026, 11, 23, 14, 0, 0)
        .single()
        .expect("instant")
        .with_timezone(&Utc)
}

/// `h` o'clock on the given day in the city.
fn city(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    eservices::domain::calendar::city_tz()
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("instant")
        .with_timezone(&Utc)
}

/// The receiver accepts dossier `id`; its due date.
async fn accept(app: &TestApp, receiver: &str, id: &str) -> DateTime<Utc> {
    let res = staff_act(app, receiver, id, "accept", None).await;
    let body: Value = read_json(res, 200).await;
    body["due_at"]
        .as_str()
        .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
        .expect("due_at")
        .with_timezone(&Utc)
}

/// Days that change nothing, are past, or are set twice are refused, as
/// are bad dates, reasons and kinds; only the one closed day is stored.
async fn days_that_change_nothing_are_past_or_twice_are_refused(
    app: &TestApp,
    browser: &reqwest::Client,
) {
    for (fields, status, message) in [
        (
            [
                ("day", "2026-11-25"),
                ("kind", "worked"),
                ("name", "Làm thêm"),
            ],
            422,
            "vốn đã là ngày làm việc",
        ),
        (
            [
                ("day", "2026-11-29"),
                ("kind", "closed"),
                ("name", "Chủ nhật"),
            ],
            422,
            "vốn đã là ngày nghỉ",
        ),
        (
            [
                ("day", "2026-11-23"),
                ("kind", "closed"),
                ("name", "Hôm nay"),
            ],
            422,
            "từ ngày mai trở đi",
        ),
        (
            [("day", "24/11/2026"), ("kind", "worked"), ("name", "Đổi ý")],
            409,
            "hãy bỏ ngày cũ trước",
        ),
        (
            [
                ("day", "ngày mai"),
                ("kind", "closed"),
                ("name", "Sai ngày"),
            ],
            422,
            "Ngày không hợp lệ",
        ),
        (
            [("day", "2026-12-01"), ("kind", "closed"), ("name", "x")],
            422,
            "Ghi lý do (3–200 ký tự).",
        ),
        (
            [("day", "2026-12-01"), ("kind", "holiday"), ("name", "Nghỉ")],
            422,
            "Chọn ngày nghỉ hoặc ngày làm việc.",
        ),
    ] {
        let (code, html, _) = post(browser, app, CAL, "/backoffice/agency/days", &fields).await;
        assert_eq!(code, status, "{fields:?}");
        assert!(html.contains(message), "{fields:?}: {html}");
    }
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM agency_days WHERE agency_code = '{WARD}'"
        ))
        .await,
        1
    );
}

/// The opening-hours form: mornings 07:00–11:00 on weekdays, nothing else.
fn mornings_only() -> Vec<(String, String)> {
    let mut hours: Vec<(String, String)> = Vec::new();
    for day in 1..=7 {
        let (open, close) = if day <= 5 {
            ("07:00", "11:00")
        } else {
            ("", "")
        };
        hours.push((format!("open_{day}_0"), open.into()));
        hours.push((format!("close_{day}_0"), close.into()));
        hours.push((format!("open_{day}_1"), String::new()));
        hours.push((format!("close_{day}_1"), String::new()));
    }
    hours
}

/// Mornings only, 07:00–11:00: the working day is four hours, and a
/// dossier accepted on Monday afternoon starts counting on Wednesday; the
/// `first` dossier, accepted before, keeps its date; a reload of the
/// catalog keeps the agency's hours.
async fn mornings_only_move_later_due_dates_not_earlier_ones(
    app: &TestApp,
    browser: &reqwest::Client,
    receiver: &str,
    first: &str,
) {
    let hours = mornings_only();
    let mut bad = hours.clone();
    bad[0].1 = "11:00".into();
    bad[1].1 = "07:00".into();
    let send = |v: Vec<(String, String)>| async move {
        let refs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        post(browser, app, CAL, "/backoffice/agency/hours", &refs).await
    };
    let (code, html, _) = send(bad).await;
    assert_eq!(code, 422);
    assert!(
        html.contains("Thứ Hai, buổi 1: Giờ đóng cửa phải sau giờ mở cửa."),
        "{html}"
    );
    assert!(html.contains("value=\"11:00\""), "what was typed is kept");
    let (code, _, location) = send(hours).await;
    assert_eq!(code, 303);
    assert_eq!(
        location.as_deref(),
        Some("/backoffice/agency/calendar?saved=hours")
    );
    let (third, _, _) = filed(app, 83).await;
    assert_eq!(accept(app, receiver, &third).await, city(2026, 11, 27, 11));
    // The dossiers accepted before keep their dates.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM dossiers WHERE id = '{first}' AND due_at = '{}'",
            city(2026, 11, 26, 14).to_rfc3339()
        ))
        .await,
        1
    );

    // Reloading the catalog keeps the agency's hours.
    let mut conn = app.db().await;
    eservices::catalog::loader::load(
        &mut conn,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(eservices::seed::CATALOG_DIR),
        app.now(),
    )
    .await
    .expect("reload");
    drop(conn);
    let (_, html) = app.page(browser, CAL).await;
    assert!(html.contains("value=\"07:00\"") && !html.contains("value=\"07:30\""));
}

/// The day can be removed while it is ahead (once); days already lived
/// through stay as they were.
async fn days_ahead_are_removed_and_past_ones_stay(app: &TestApp, browser: &reqwest::Client) {
    let remove = |day: &'static str| async move {
        post(
            browser,
            app,
            CAL,
            &format!("/backoffice/agency/days/{day}/remove"),
            &[],
        )
        .await
    };
    let (code, _, _) = remove("2026-11-24").await;
    assert_eq!(code, 303);
    let (code, _, _) = remove("2026-11-24").await;
    assert_eq!(code, 404);
    // Days already lived through stay as they were.
    let (code, html, _) = remove("2026-11-20").await;
    assert_eq!(code, 409);
    assert!(html.contains("Không bỏ được ngày đã qua"), "{html}");
}
