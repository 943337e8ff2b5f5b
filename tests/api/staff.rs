//! Civil servants: creation with TOTP enrolment, two-factor sign-in, the
//! counter identity check.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::Duration;
use serde_json::Value;

use crate::helpers::{Citizen, TestApp, TestStaff, input_value};

/// `eservices` with a clean environment pointed at the test's database.
fn eservices_cli(app: &TestApp) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eservices"));
    cmd.current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", app.database_url())
        .env("REDIS_URL", "redis://127.0.0.1:1/")
        .env("PUBLIC_URL", &app.address)
        .env("VAULT_MASTER_KEY", &app.master_key);
    cmd
}

#[tokio::test]
async fn admin_staff_create_enrols_totp_and_the_civil_servant_signs_in_with_it() {
    let app = TestApp::spawn().await;
    let secret = created_with_the_cli(&app);
    signs_in_with_the_enrolled_totp(&app, &secret).await;
    // The CLI refuses bad input with a message naming the argument.
    the_cli_refuses_bad_input(&app);
}

/// `eservices admin staff create` reads the password from standard input
/// and prints the TOTP enrolment and ten recovery codes; the TOTP secret.
fn created_with_the_cli(app: &TestApp) -> eservices::domain::TotpSecret {
    let mut child = eservices_cli(app)
        .args([
            "admin",
            "staff",
            "create",
            "--username",
            "tiepnhan.q1",
            "--agency",
            "000.00.01.H29",
        ])
        .args([
            "--role",
            "receiver",
            "--role",
            "processor",
            "--full-name",
            "Trần Văn Tiếp",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all("Một cửa Quận Một 2026\n".as_bytes())
        .expect("password");
    let out = child.wait_with_output().expect("output");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("created staff tiepnhan.q1 (000.00.01.H29, roles: receiver, processor)"),
        "{stdout}"
    );
    let uri = stdout
        .lines()
        .find_map(|l| l.strip_prefix("TOTP enrolment URI: "))
        .expect("uri");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let secret = stdout
        .lines()
        .find_map(|l| l.strip_prefix("TOTP secret (manual entry): "))
        .expect("secret");
    let secret = eservices::domain::TotpSecret::from_base32(secret).expect("base32");
    let codes: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    assert_eq!(codes.len(), 10);
    secret
}

/// The civil servant signs in with the password and a TOTP code: a
/// back-office session cookie, and the home page greets them with their roles.
async fn signs_in_with_the_enrolled_totp(app: &TestApp, secret: &eservices::domain::TotpSecret) {
    let browser = TestApp::fresh_client();
    let res = app
        .staff_sign_in(
            &browser,
            "tiepnhan.q1",
            "Một cửa Quận Một 2026",
            &app.totp_now(secret),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/backoffice/");
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        cookie.contains("Path=/backoffice")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let home = browser
        .get(app.url("/backoffice/"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("page");
    assert!(home.contains("Xin chào, Trần Văn Tiếp"));
    assert!(home.contains("Cán bộ tiếp nhận, Cán bộ xử lý"));
}

/// The CLI refuses bad input with a message naming each argument.
fn the_cli_refuses_bad_input(app: &TestApp) {
    let out = eservices_cli(app)
        .args([
            "admin",
            "staff",
            "create",
            "--username",
            "x",
            "--agency",
            "H29",
            "--role",
            "boss",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--username")
            && stderr.contains("--roles")
            && stderr.contains("password (standard input)"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_wrong_or_replayed_code_is_refused_and_recovery_codes_work_once() {
    let app = TestApp::spawn().await;
    let staff = app.staff("xuly.q1", "000.00.01.H29", &["processor"]).await;
    let browser = TestApp::fresh_client();
    // The secret is stored sealed under the vault key, never as base32.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM staff WHERE totp_secret LIKE 'v1.%' AND totp_secret NOT LIKE '%{}%'",
            staff.secret.to_base32()
        ))
        .await,
        1
    );

    let res = app
        .staff_sign_in(&browser, &staff.username, &staff.password, "000000")
        .await;
    assert_eq!(res.status(), 401);
    assert!(
        res.text()
            .await
            .expect("page")
            .contains("mã xác thực không đúng")
    );
    let res = app
        .staff_sign_in(
            &browser,
            &staff.username,
            "sai mật khẩu 123",
            &app.totp_now(&staff.secret),
        )
        .await;
    assert_eq!(res.status(), 401);

    let code = app.totp_now(&staff.secret);
    assert_eq!(
        app.staff_sign_in(&browser, &staff.username, &staff.password, &code)
            .await
            .status(),
        303
    );
    let other = TestApp::fresh_client();
    assert_eq!(
        app.staff_sign_in(&other, &staff.username, &staff.password, &code)
            .await
            .status(),
        401,
        "a code works once"
    );
    app.clock.advance(Duration::seconds(30));
    assert_eq!(
        app.staff_sign_in(
            &other,
            &staff.username,
            &staff.password,
            &app.totp_now(&staff.secret)
        )
        .await
        .status(),
        303,
        "the next step's code works"
    );

    let recovery = staff.recovery_codes[0].to_uppercase();
    let third = TestApp::fresh_client();
    assert_eq!(
        app.staff_sign_in(&third, &staff.username, &staff.password, &recovery)
            .await
            .status(),
        303
    );
    let fourth = TestApp::fresh_client();
    assert_eq!(
        app.staff_sign_in(&fourth, &staff.username, &staff.password, &recovery)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn a_receiver_raises_a_citizen_to_level_2_at_the_counter() {
    let app = TestApp::spawn().await;
    let citizen = Citizen::sample(1);
    app.active_citizen(&citizen).await;
    // A session opened at level 1, before the counter check.
    let before = TestApp::fresh_client();
    assert_eq!(
        app.sign_in_with(&before, &citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    let receiver = app
        .staff("tiepnhan.p1", "000.00.02.H29", &["receiver"])
        .await;
    let processor = app.staff("xuly.p1", "000.00.02.H29", &["processor"]).await;

    // A processor may not do it.
    let browser = app.backoffice(&processor).await;
    let res = browser
        .get(app.url("/backoffice/identity-verifications"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 403);

    the_receiver_checks_the_id_then_the_citizen_recognises_the_account(&app, &receiver, &citizen)
        .await;
    let res = before.get(app.url("/api/v1/me")).send().await.expect("get");
    assert_eq!(
        res.status(),
        401,
        "sessions opened at level 1 end when the level changes"
    );
    assert_eq!(
        app.sign_in(&citizen.national_id, &citizen.password)
            .await
            .status(),
        303
    );
    let me: Value = app.get("/api/v1/me").await.json().await.expect("json");
    assert_eq!(me["assurance_level"], 2);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM identity_verifications WHERE method = 'counter' AND verified_by IS NOT NULL AND agency_code = '000.00.02.H29'").await,
        1
    );
    app.run_jobs().await;
    assert!(
        app.smtp
            .messages_to(&citizen.email)
            .iter()
            .any(|m| m.subject() == "Tài khoản của bạn đã được định danh mức độ 2")
    );
}

/// At the counter: an ID without an account is not found; step one shows
/// the account holding the ID with its contact details masked; the citizen
/// recognises it and it is raised with its credentials.
async fn the_receiver_checks_the_id_then_the_citizen_recognises_the_account(
    app: &TestApp,
    receiver: &TestStaff,
    citizen: &Citizen,
) {
    let counter = app.backoffice(receiver).await;
    let page = counter
        .get(app.url("/backoffice/identity-verifications"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("page");
    let csrf = input_value(&page, "csrf_token").expect("csrf");

    let res = counter
        .post(app.url("/backoffice/identity-verifications"))
        .form(&[
            ("national_id", "079090999999"),
            ("evidence", "Thẻ căn cước gắn chip"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 404);
    assert!(
        res.text()
            .await
            .expect("page")
            .contains("chưa có tài khoản")
    );

    // Step one shows the account holding the ID, its contact details masked.
    let res = counter
        .post(app.url("/backoffice/identity-verifications"))
        .form(&[
            ("national_id", citizen.national_id.as_str()),
            ("evidence", "Thẻ căn cước gắn chip, đọc chip thành công"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    let page = res.text().await.expect("page");
    assert!(!page.contains(&citizen.email), "the email is masked");
    let account_id = input_value(&page, "account_id").expect("the account shown");
    // The citizen recognises it: it is raised with its credentials.
    let res = counter
        .post(app.url("/backoffice/identity-verifications"))
        .form(&[
            ("national_id", citizen.national_id.as_str()),
            ("evidence", "Thẻ căn cước gắn chip, đọc chip thành công"),
            ("csrf_token", csrf.as_str()),
            ("step", "confirm"),
            ("account_id", account_id.as_str()),
            ("recognised", "yes"),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn an_agency_admin_adds_staff_who_enrol_their_second_factor_at_first_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app
        .staff("quantri.p2", "000.00.03.H29", &["agency_admin"])
        .await;
    let processor = app.staff("xuly.p2", "000.00.03.H29", &["processor"]).await;

    let other = app.backoffice(&processor).await;
    assert_eq!(
        other
            .get(app.url("/backoffice/staff"))
            .send()
            .await
            .expect("get")
            .status(),
        403
    );

    the_admin_adds_a_civil_servant_without_a_second_factor(&app, &admin).await;
    let secret = first_sign_in_enrols_the_authenticator(&app).await;

    // From now on the second factor is required.
    app.clock.advance(Duration::seconds(30));
    let again = TestApp::fresh_client();
    assert_eq!(
        app.staff_sign_in(&again, "moi.canbo", "Cán bộ mới vào 2026", "")
            .await
            .status(),
        401
    );
    assert_eq!(
        app.staff_sign_in(
            &again,
            "moi.canbo",
            "Cán bộ mới vào 2026",
            &app.totp_now(&secret)
        )
        .await
        .status(),
        303
    );
}

/// The agency admin lists the agency's staff and adds one, whose second
/// factor waits for their first sign-in.
async fn the_admin_adds_a_civil_servant_without_a_second_factor(app: &TestApp, admin: &TestStaff) {
    let browser = app.backoffice(admin).await;
    let page = browser
        .get(app.url("/backoffice/staff"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("page");
    assert!(page.contains("xuly.p2"));
    let csrf = input_value(&page, "csrf_token").expect("csrf");
    let res = browser
        .post(app.url("/backoffice/staff"))
        .form(&[
            ("username", "moi.canbo"),
            ("full_name", "Đỗ Minh Mới"),
            ("role", "processor"),
            ("role", "approver"),
            ("password", "Cán bộ mới vào 2026"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 201);
    assert!(
        res.text()
            .await
            .expect("page")
            .contains("Chờ thiết lập khi đăng nhập lần đầu")
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM staff WHERE username = 'moi.canbo' AND agency_code = '000.00.03.H29' AND totp_secret IS NULL").await,
        1
    );
}

/// First sign-in: password only, then the authenticator is set up (a wrong
/// code refused); the TOTP secret.
async fn first_sign_in_enrols_the_authenticator(app: &TestApp) -> eservices::domain::TotpSecret {
    let newcomer = TestApp::fresh_client();
    let res = app
        .staff_sign_in(&newcomer, "moi.canbo", "Cán bộ mới vào 2026", "")
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/backoffice/enrol");
    assert_eq!(
        newcomer
            .get(app.url("/backoffice/"))
            .send()
            .await
            .expect("get")
            .status(),
        303,
        "not signed in yet"
    );
    let page = newcomer
        .get(app.url("/backoffice/enrol"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("page");
    let secret = page
        .split("<code>")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .expect("secret");
    let secret = eservices::domain::TotpSecret::from_base32(secret).expect("base32");
    let csrf = input_value(&page, "csrf_token").expect("csrf");
    let res = newcomer
        .post(app.url("/backoffice/enrol"))
        .form(&[("totp", "123456"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 422);
    let code = app.totp_now(&secret);
    let res = newcomer
        .post(app.url("/backoffice/enrol"))
        .form(&[("totp", code.as_str()), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 303);
    let home = newcomer
        .get(app.url("/backoffice/"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("page");
    assert!(home.contains("Xin chào, Đỗ Minh Mới"));
    secret
}
