//! The agency admin's pages over HTTP: changing a civil servant (roles,
//! disabling, resetting the second factor; never locking oneself out), the
//! agency's working time (its own days and opening hours move the due dates
//! of dossiers accepted afterwards, not before), which services it takes
//! new dossiers for, and the audit trail every one of these actions (and
//! every dossier action, from the pages or the staff API) leaves.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};

use crate::{
    backoffice::filed,
    dossiers::{staff_act, staff_token},
    helpers::{TestApp, input_value},
};

const WARD: &str = "000.21.11.H29";

/// Monday 23 November 2026, 14:00 in the city.
fn monday_afternoon() -> DateTime<Utc> {
    eservices::domain::calendar::city_tz()
        .with_ymd_and_hms(2026, 11, 23, 14, 0, 0)
        .single()
        .expect("instant")
        .with_timezone(&Utc)
}

fn city(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    eservices::domain::calendar::city_tz()
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("instant")
        .with_timezone(&Utc)
}

/// Posts a form with the CSRF token of the page at `from`.
async fn post(
    browser: &reqwest::Client,
    app: &TestApp,
    from: &str,
    to: &str,
    fields: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    let (_, html) = app.page(browser, from).await;
    let csrf = input_value(&html, "csrf_token").expect("csrf");
    let mut form: Vec<(&str, String)> = vec![("csrf_token", csrf)];
    form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let res = browser
        .post(app.url(to))
        .form(&form)
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
        res.text().await.unwrap_or_default(),
        location,
    )
}

async fn staff_id(app: &TestApp, username: &str) -> String {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use eservices::storage::schema::staff;
    let mut conn = app.db().await;
    let id: uuid::Uuid = staff::table
        .filter(staff::username.eq(username))
        .select(staff::id)
        .first(&mut conn)
        .await
        .expect("staff");
    id.to_string()
}

async fn kinds_in_trail(app: &TestApp, agency: &str) -> Vec<String> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use eservices::storage::schema::staff_events;
    let mut conn = app.db().await;
    staff_events::table
        .filter(staff_events::agency_code.eq(agency))
        .order(staff_events::id)
        .select(staff_events::kind)
        .load(&mut conn)
        .await
        .expect("events")
}

#[tokio::test]
async fn an_agency_admin_changes_roles_disables_and_resets_staff_but_never_their_own_access() {
    let app = TestApp::spawn().await;
    let admin = app.staff("qt.ward", WARD, &["agency_admin"]).await;
    let clerk = app.staff("tn.ward", WARD, &["receiver"]).await;
    let elsewhere = app.staff("tn.khac", "000.00.12.H29", &["receiver"]).await;
    let browser = app.backoffice(&admin).await;
    let clerk_browser = app.backoffice(&clerk).await;
    let clerk_id = staff_id(&app, "tn.ward").await;
    let admin_id = staff_id(&app, "qt.ward").await;
    let member = format!("/backoffice/staff/{clerk_id}");

    let (code, html) = app.page(&browser, "/backoffice/staff").await;
    assert_eq!(code, 200);
    assert!(
        html.contains(&member),
        "each civil servant links to their page"
    );

    // Without the confirmation box nothing changes.
    let (code, html, _) = post(
        &browser,
        &app,
        &member,
        &member,
        &[("change", "roles"), ("role", "processor")],
    )
    .await;
    assert_eq!(code, 422);
    assert!(html.contains("Vui lòng đánh dấu xác nhận"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM staff WHERE username = 'tn.ward' AND roles = ARRAY['receiver']").await,
        1
    );

    let (code, _, location) = post(
        &browser,
        &app,
        &member,
        &member,
        &[
            ("change", "roles"),
            ("role", "receiver"),
            ("role", "processor"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(code, 303);
    assert_eq!(
        location.as_deref(),
        Some(format!("{member}?saved=roles").as_str())
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM staff WHERE username = 'tn.ward' AND roles = ARRAY['receiver','processor']").await,
        1
    );
    // The clerk's session carried the old roles: it is over.
    let res = clerk_browser
        .get(app.url("/backoffice/queue"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/backoffice/login");

    // Disabled: the right password and code no longer sign in.
    let (code, _, _) = post(
        &browser,
        &app,
        &member,
        &member,
        &[("change", "disable"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(code, 303);
    app.clock.advance(Duration::seconds(30));
    let res = app
        .staff_sign_in(
            &TestApp::fresh_client(),
            &clerk.username,
            &clerk.password,
            &app.totp_now(&clerk.secret),
        )
        .await;
    assert_eq!(res.status(), 401);
    let (code, _, _) = post(
        &browser,
        &app,
        &member,
        &member,
        &[("change", "enable"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(code, 303);

    // An unknown change changes nothing.
    let (code, _, _) = post(
        &browser,
        &app,
        &member,
        &member,
        &[("change", "promote"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(code, 400);

    // A reset second factor: the next sign-in enrols again.
    let (code, _, _) = post(
        &browser,
        &app,
        &member,
        &member,
        &[("change", "reset_second_factor"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(code, 303);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM staff_recovery_codes r JOIN staff s ON s.id = r.staff_id WHERE s.username = 'tn.ward'").await,
        0
    );
    app.clock.advance(Duration::seconds(30));
    let res = app
        .staff_sign_in(
            &TestApp::fresh_client(),
            &clerk.username,
            &clerk.password,
            "",
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/backoffice/enrol");

    // The admin's own account: no lock-out, whatever the form says.
    let own = format!("/backoffice/staff/{admin_id}");
    let (code, html) = app.page(&browser, &own).await;
    assert_eq!(code, 200);
    assert!(
        !html.contains("Khóa tài khoản</button>"),
        "no disable button on one's own page"
    );
    for fields in [
        vec![
            ("change", "roles"),
            ("role", "receiver"),
            ("confirm", "yes"),
        ],
        vec![("change", "disable"), ("confirm", "yes")],
        vec![("change", "reset_second_factor"), ("confirm", "yes")],
    ] {
        let (code, html, _) = post(&browser, &app, &own, &own, &fields).await;
        assert_eq!(code, 409, "{fields:?}");
        assert!(html.contains("Bạn không thể tự khóa"), "{html}");
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM staff WHERE username = 'qt.ward' AND status = 'active' AND roles = ARRAY['agency_admin'] AND totp_secret IS NOT NULL").await,
        1
    );

    // Another agency's civil servant is not found; a non-admin is refused.
    let theirs = format!(
        "/backoffice/staff/{}",
        staff_id(&app, &elsewhere.username).await
    );
    let (code, _) = app.page(&browser, &theirs).await;
    assert_eq!(code, 404);
    let (code, _, _) = post(
        &browser,
        &app,
        &member,
        &theirs,
        &[("change", "disable"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM staff WHERE username = 'tn.khac' AND status = 'active'"
        )
        .await,
        1
    );
    let processor = app.staff("xl.ward", WARD, &["processor"]).await;
    let other = app.backoffice(&processor).await;
    let (code, _) = app.page(&other, &member).await;
    assert_eq!(code, 403);

    let trail = kinds_in_trail(&app, WARD).await;
    for kind in [
        "signed_in",
        "staff.roles_changed",
        "staff.disabled",
        "sign_in_failed",
        "staff.enabled",
        "staff.second_factor_reset",
    ] {
        assert!(trail.iter().any(|k| k == kind), "{kind} in {trail:?}");
    }
    assert_eq!(
        trail.iter().filter(|k| k.starts_with("staff.")).count(),
        4,
        "refused changes leave no change event: {trail:?}"
    );
}

async fn accept(app: &TestApp, receiver: &str, id: &str) -> DateTime<Utc> {
    let res = staff_act(app, receiver, id, "accept", None).await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let body: Value = res.json().await.expect("json");
    body["due_at"]
        .as_str()
        .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
        .expect("due_at")
        .with_timezone(&Utc)
}

#[tokio::test]
async fn an_agencys_own_days_and_hours_move_the_due_dates_of_dossiers_accepted_afterwards() {
    let app = TestApp::spawn().await;
    app.clock.set(monday_afternoon());
    let admin = app.staff("qt.lich", WARD, &["agency_admin"]).await;
    let browser = app.backoffice(&admin).await;
    let receiver = staff_token(&app, "tn.lich", WARD, "receiver").await;
    const CAL: &str = "/backoffice/agency/calendar";

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

    // Days that change nothing, are past, or are set twice are refused.
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
        let (code, html, _) = post(&browser, &app, CAL, "/backoffice/agency/days", &fields).await;
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

    // Mornings only, 07:00–11:00: the working day is four hours, and a
    // dossier accepted on Monday afternoon starts counting on Wednesday.
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
    let mut bad = hours.clone();
    bad[0].1 = "11:00".into();
    bad[1].1 = "07:00".into();
    let send = |v: Vec<(String, String)>| {
        let browser = browser.clone();
        let app = &app;
        async move {
            let refs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            post(&browser, app, CAL, "/backoffice/agency/hours", &refs).await
        }
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
    let (third, _, _) = filed(&app, 83).await;
    assert_eq!(
        accept(&app, &receiver, &third).await,
        city(2026, 11, 27, 11)
    );
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
    let (_, html) = app.page(&browser, CAL).await;
    assert!(html.contains("value=\"07:00\"") && !html.contains("value=\"07:30\""));

    // The day can be removed while it is ahead.
    let (code, _, _) = post(
        &browser,
        &app,
        CAL,
        "/backoffice/agency/days/2026-11-24/remove",
        &[],
    )
    .await;
    assert_eq!(code, 303);
    let (code, _, _) = post(
        &browser,
        &app,
        CAL,
        "/backoffice/agency/days/2026-11-24/remove",
        &[],
    )
    .await;
    assert_eq!(code, 404);
    // Days already lived through stay as they were.
    let (code, html, _) = post(
        &browser,
        &app,
        CAL,
        "/backoffice/agency/days/2026-11-20/remove",
        &[],
    )
    .await;
    assert_eq!(code, 409);
    assert!(html.contains("Không bỏ được ngày đã qua"), "{html}");

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

async fn draft_status(app: &TestApp) -> (u16, Value) {
    let res = app
        .post_json(
            "/api/v1/dossiers",
            &json!({
                "service_code": "HGCS-001",
                "agency_code": WARD,
                "form_values": { "permanent_address": "12 Lê Lợi", "phone": "0901234567" },
            }),
        )
        .await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_suspended_service_takes_no_new_dossiers_and_the_trail_shows_who_did_what() {
    let app = TestApp::spawn().await;
    let admin = app.staff("qt.dv", WARD, &["agency_admin"]).await;
    let browser = app.backoffice(&admin).await;
    const SERVICES: &str = "/backoffice/agency/services";
    // A dossier filed before the suspension, and a draft not yet filed.
    let (in_flight, _, _) = filed(&app, 91).await;
    let (code, draft) = draft_status(&app).await;
    assert_eq!(code, 201);
    let draft_id = draft["id"].as_str().expect("id").to_owned();

    let (code, html) = app.page(&browser, &format!("{SERVICES}?q=HGCS-001")).await;
    assert_eq!(code, 200);
    assert!(html.contains("id=\"svc-HGCS-001\""), "{html}");
    assert!(html.contains("Đang tiếp nhận"));
    let (code, _, location) = post(
        &browser,
        &app,
        SERVICES,
        &format!("{SERVICES}/HGCS-001"),
        &[("offered", "false"), ("field", ""), ("q", "HGCS-001")],
    )
    .await;
    assert_eq!(code, 303);
    let location = location.expect("location");
    assert_eq!(
        location,
        "/backoffice/agency/services?saved=off&service=HGCS-001&field=&q=HGCS-001#svc-HGCS-001"
    );
    let (_, html) = app.page(&browser, &location).await;
    assert!(
        html.contains("tạm ngừng tiếp nhận hồ sơ mới của thủ tục HGCS-001"),
        "{html}"
    );
    assert!(html.contains("<strong>Tạm ngừng</strong>"));

    // No new draft, no filing of the old draft; the catalog stops naming the ward.
    let (code, body) = draft_status(&app).await;
    assert_eq!(code, 422);
    assert_eq!(body["errors"][0]["code"], "agency_does_not_handle_service");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{draft_id}/submit")))
        .send()
        .await
        .expect("submit");
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "service_not_offered");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("tạm ngừng")
    );
    let detail: Value = app
        .get("/api/v1/services/HGCS-001")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        !detail["agencies"]
            .as_array()
            .expect("agencies")
            .iter()
            .any(|a| a == WARD),
        "{detail}"
    );
    // The dossier filed before goes on.
    let receiver = staff_token(&app, "tn.dv", WARD, "receiver").await;
    let res = staff_act(&app, &receiver, &in_flight, "accept", None).await;
    assert_eq!(res.status(), 200);

    // A service the catalog does not give the ward cannot be switched on.
    let (code, _, _) = post(
        &browser,
        &app,
        SERVICES,
        &format!("{SERVICES}/NO-SUCH-1"),
        &[("offered", "true")],
    )
    .await;
    assert_eq!(code, 404);
    let (code, _, _) = post(
        &browser,
        &app,
        SERVICES,
        &format!("{SERVICES}/HGCS-001"),
        &[("offered", "maybe")],
    )
    .await;
    assert_eq!(code, 400);
    // Another agency's admin does not touch the ward's offer.
    let theirs = app
        .staff("qt.khac", "000.00.12.H29", &["agency_admin"])
        .await;
    let other = app.backoffice(&theirs).await;
    let (code, html) = app.page(&other, &format!("{SERVICES}?q=HGCS-001")).await;
    assert_eq!(code, 200);
    assert!(!html.contains("svc-HGCS-001"));

    let (code, _, _) = post(
        &browser,
        &app,
        SERVICES,
        &format!("{SERVICES}/HGCS-001"),
        &[("offered", "true")],
    )
    .await;
    assert_eq!(code, 303);
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{draft_id}/submit")))
        .send()
        .await
        .expect("submit");
    assert_eq!(res.status(), 200, "offered again: the draft files");

    // The trail: the admin's own changes and the receiver's API action,
    // filtered by kind; only admins read it; nobody rewrites it.
    let (code, html) = app.page(&browser, "/backoffice/audit").await;
    assert_eq!(code, 200);
    for label in [
        "Tạm ngừng tiếp nhận thủ tục",
        "Tiếp nhận lại thủ tục",
        "Hồ sơ: ",
        "Đăng nhập",
    ] {
        assert!(html.contains(label), "{label}");
    }
    assert!(html.contains("tn.dv") && html.contains("qt.dv"));
    assert!(
        !html.contains("qt.khac"),
        "another agency's events stay there"
    );
    let (code, html) = app
        .page(&browser, "/backoffice/audit?kind=dossier.accept")
        .await;
    assert_eq!(code, 200);
    let rows = html.matches("<tr><td>").count();
    assert_eq!(rows, 1, "{html}");
    assert!(html.contains(&in_flight));
    for bad in ["kind=nothing", "dossier=HS-123", "from=31/02/2026"] {
        let (code, _) = app
            .page(&browser, &format!("/backoffice/audit?{bad}"))
            .await;
        assert_eq!(code, 400, "{bad}");
    }
    let clerk = app.staff("tn.dv2", WARD, &["receiver"]).await;
    let clerk = app.backoffice(&clerk).await;
    let (code, _) = app.page(&clerk, "/backoffice/audit").await;
    assert_eq!(code, 403);
    let mut conn = app.db().await;
    use diesel_async::RunQueryDsl;
    let err = diesel::sql_query("UPDATE staff_events SET kind = 'signed_out'")
        .execute(&mut conn)
        .await
        .expect_err("append-only");
    assert!(err.to_string().contains("append-only"), "{err}");
}
