//! End to end in a real headless Chromium (Debian's chromium and
//! chromedriver, driven over WebDriver): a civil servant signs in with TOTP
//! and takes a filed dossier through intake, a supplement request and the
//! decision with a result paper; the applicant then sees it through the API.
//! Screenshots of the pages go to target/screenshots/ for review.

use std::{
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::{
    backoffice::filed,
    dossiers::pdf,
    helpers::{TestApp, TestStaff, free_port, wait_until},
};

const WARD: &str = "000.21.11.H29";

/// chromedriver on a free port, stopped on drop.
pub(crate) struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    pub(crate) async fn start() -> Self {
        let port = free_port();
        let child =
            Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver (Debian package chromium-driver) runs");
        wait_until(
            "chromedriver listens",
            Duration::from_secs(20),
            || async move { TcpStream::connect(("127.0.0.1", port)).is_ok() },
        )
        .await;
        Self { child, port }
    }

    pub(crate) async fn browser(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1100", "--lang=vi"],
            }),
        );
        // Both rustls back-ends are in the dependency graph: pick one.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        ClientBuilder::rustls()
            .expect("tls")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

pub(crate) async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).expect("saved");
}

pub(crate) async fn fill(c: &Client, css: &str, text: &str) {
    let field = c.find(Locator::Css(css)).await.expect(css);
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

pub(crate) async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .expect(css)
        .click()
        .await
        .expect("click");
}

/// Signs in at /backoffice/login with password and TOTP (a screenshot of the form first if named).
async fn sign_in(c: &Client, app: &TestApp, staff: &TestStaff, screenshot: Option<&str>) {
    c.goto(&app.url("/backoffice/login"))
        .await
        .expect("login page");
    if let Some(name) = screenshot {
        shot(c, name).await;
    }
    fill(c, "input[name=username]", &staff.username).await;
    fill(c, "input[name=password]", &staff.password).await;
    fill(c, "input[name=totp]", &app.totp_now(&staff.secret)).await;
    click(c, "button[type=submit]").await;
}

/// Waits for the dossier page the server redirected to after `done`.
async fn landed(c: &Client, app: &TestApp, id: &str, done: &str) {
    let url =
        url::Url::parse(&app.url(&format!("/backoffice/dossiers/{id}?done={done}"))).expect("url");
    c.wait()
        .for_url(&url)
        .await
        .expect("the page after the action");
    c.wait()
        .for_element(Locator::Css(".notice"))
        .await
        .expect("the page confirms the action");
}

/// Confirms and submits the form of `action` on the dossier page.
async fn act(c: &Client, app: &TestApp, id: &str, action: &str, note: Option<&str>) {
    if let Some(note) = note {
        fill(c, &format!("#note-{action}"), note).await;
    }
    click(c, &format!("#form-{action} input[name=confirm]")).await;
    click(c, &format!("#form-{action} button[type=submit]")).await;
    landed(c, app, id, action).await;
}

/// The dossier page's status line.
async fn status_text(c: &Client) -> String {
    c.find(Locator::Css("#status"))
        .await
        .expect("status")
        .text()
        .await
        .expect("text")
}

#[tokio::test]
async fn a_civil_servant_works_a_dossier_in_chromium_and_the_applicant_sees_it() {
    let app = TestApp::spawn().await;
    let (id, receipt, _) = filed(&app, 81).await;
    let staff = app
        .staff(
            "bo.trinhduyet",
            WARD,
            &["receiver", "processor", "approver"],
        )
        .await;
    let driver = Driver::start().await;
    let c = driver.browser().await;

    // Sign-in with password and TOTP.
    sign_in(&c, &app, &staff, Some("01-login")).await;
    c.wait()
        .for_element(Locator::LinkText("Hồ sơ cần xử lý"))
        .await
        .expect("the home page")
        .click()
        .await
        .expect("to the queue");

    the_queue_leads_to_the_dossier_with_its_due_date(&c, &id, &receipt).await;

    // Intake, then a supplement request.
    act(&c, &app, &id, "accept", None).await;
    assert!(status_text(&c).await.contains("Đã tiếp nhận"));
    act(
        &c,
        &app,
        &id,
        "request_supplement",
        Some("Bổ sung bản sao giấy tờ chứng minh nơi cư trú."),
    )
    .await;
    assert!(status_text(&c).await.contains("bổ sung"));
    shot(&c, "04-supplement-requested").await;

    // The applicant supplements through the API.
    let res = app
        .post_json(
            &format!("/api/v1/dossiers/{id}/supplement"),
            &json!({ "note": "Đã bổ sung" }),
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );

    the_result_is_uploaded_approved_and_handed_over(&c, &app, &id).await;
    c.close().await.expect("close");

    // What the applicant sees.
    let body: Value = app
        .get(&format!("/api/v1/dossiers/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["status"], "returned");
    assert_eq!(body["decision"], "approved");
    assert!(body["result_document"]["verify_url"].is_string());
    let (_, actions) = crate::dossiers::applicant_log(&app, &id).await;
    assert_eq!(actions, crate::dossiers::LIFE_WITH_SUPPLEMENT);
}

/// The queue has the filed dossier (`receipt`); its page shows the due date
/// before intake.
async fn the_queue_leads_to_the_dossier_with_its_due_date(c: &Client, id: &str, receipt: &str) {
    c.wait()
        .for_element(Locator::LinkText(receipt))
        .await
        .expect("the filed dossier is in the queue");
    shot(c, "02-queue").await;
    click(c, &format!("a[href='/backoffice/dossiers/{id}']")).await;
    c.wait()
        .for_element(Locator::Css("#form-accept"))
        .await
        .expect("the intake form");
    let page = c.source().await.expect("source");
    assert!(
        page.contains("Hạn giải quyết sẽ là"),
        "the due date is shown before intake"
    );
    shot(c, "03-dossier").await;
}

/// The result paper, then the decision and the hand-over.
async fn the_result_is_uploaded_approved_and_handed_over(c: &Client, app: &TestApp, id: &str) {
    c.refresh().await.expect("reload");
    let paper = std::env::temp_dir().join(format!("ket-qua-{id}.pdf"));
    std::fs::write(&paper, pdf("giay xac nhan")).expect("paper");
    c.find(Locator::Css("#result-file"))
        .await
        .expect("the upload field")
        .send_keys(paper.to_str().expect("path"))
        .await
        .expect("choose the file");
    click(c, "form[action$='/result'] button[type=submit]").await;
    landed(c, app, id, "result").await;
    act(c, app, id, "approve", Some("Đủ điều kiện")).await;
    shot(c, "05-approved").await;
    act(c, app, id, "return_result", None).await;
    assert!(status_text(c).await.contains("Đã trả kết quả"));
    shot(c, "06-returned").await;
    let _ = std::fs::remove_file(paper);
}

#[tokio::test]
async fn an_agency_admin_sets_the_agencys_working_time_and_reads_its_trail_in_chromium() {
    let app = TestApp::spawn().await;
    let admin = app
        .staff("bo.quantri", WARD, &["agency_admin", "approver"])
        .await;
    let driver = Driver::start().await;
    let c = driver.browser().await;
    sign_in(&c, &app, &admin, None).await;
    c.wait()
        .for_element(Locator::LinkText("Giờ làm việc và ngày nghỉ"))
        .await
        .expect("the home page")
        .click()
        .await
        .expect("to the calendar");

    sunday_mornings_open_too(&c, &app).await;

    // A service suspended from its row.
    c.goto(&app.url("/backoffice/agency/services?q=HGCS-001"))
        .await
        .expect("services");
    click(&c, "#svc-HGCS-001 button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css(".notice"))
        .await
        .expect("suspended");
    assert!(
        c.find(Locator::Css("#svc-HGCS-001"))
            .await
            .expect("row")
            .text()
            .await
            .expect("text")
            .contains("Tạm ngừng")
    );
    shot(&c, "08-agency-services").await;

    // The trail names both changes and the sign-in.
    c.goto(&app.url("/backoffice/audit")).await.expect("audit");
    let trail = c
        .find(Locator::Css("#audit"))
        .await
        .expect("the trail")
        .text()
        .await
        .expect("text");
    for label in [
        "Đổi giờ làm việc",
        "Tạm ngừng tiếp nhận thủ tục",
        "Đăng nhập",
    ] {
        assert!(trail.contains(label), "{label} in {trail}");
    }
    shot(&c, "09-audit").await;
    c.close().await.expect("close");
}

/// Sunday mornings open too, saved from the hours form. (How a time input
/// takes keystrokes depends on the browser's locale, so the value is set as
/// the picker would.)
async fn sunday_mornings_open_too(c: &Client, app: &TestApp) {
    c.wait()
        .for_element(Locator::Css("input[name=open_7_0]"))
        .await
        .expect("the hours form");
    for (name, value) in [("open_7_0", "07:30"), ("close_7_0", "11:30")] {
        c.execute(
            "document.querySelector(`input[name=${arguments[0]}]`).value = arguments[1];",
            vec![json!(name), json!(value)],
        )
        .await
        .expect("set the time");
    }
    click(
        c,
        "form[action='/backoffice/agency/hours'] button[type=submit]",
    )
    .await;
    c.wait()
        .for_element(Locator::Css(".notice"))
        .await
        .expect("saved");
    let hours: Value = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use eservices::storage::schema::agencies;
        let mut conn = app.db().await;
        agencies::table
            .find(WARD)
            .select(agencies::working_hours)
            .first(&mut conn)
            .await
            .expect("hours")
    };
    assert!(
        hours
            .as_array()
            .expect("list")
            .contains(&json!({ "weekday": 7, "open": "07:30", "close": "11:30" })),
        "{hours}"
    );
    shot(c, "07-agency-calendar").await;
}
