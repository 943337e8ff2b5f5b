//! The `eservices` binary: configuration errors and migrations.

use std::process::Command;

use crate::helpers::TestApp;

fn eservices() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eservices"));
    // No .env from the working directory, and no inherited settings.
    cmd.current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[test]
fn a_missing_variable_is_named_and_the_exit_status_is_non_zero() {
    let out = eservices().arg("serve").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PUBLIC_URL is not set"), "{stderr}");
}

#[test]
fn a_malformed_variable_is_named() {
    let out = eservices()
        .arg("migrate")
        .env("DATABASE_URL", "mysql://nope")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DATABASE_URL must start with postgres://"),
        "{stderr}"
    );
}

#[tokio::test]
async fn migrate_is_idempotent_and_admin_commands_work() {
    // The test database is already migrated (cloned from the template).
    let app = TestApp::spawn().await;
    let url = app.database_url();
    let out = eservices()
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "database is up to date"
    );

    let with_env = |args: &[&str]| {
        eservices()
            .args(args)
            .env("DATABASE_URL", &url)
            .env("REDIS_URL", "redis://127.0.0.1:1/")
            .env("PUBLIC_URL", &app.address)
            .env("VAULT_MASTER_KEY", &app.master_key)
            .env("SMTP_URL", format!("smtp://{}", app.smtp.addr))
            .output()
            .expect("runs")
    };
    let out = with_env(&["admin", "mail", "test", "--to", "ops@example.vn"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = with_env(&["admin", "jobs", "stats"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "queued\t1");
    let out = with_env(&["admin", "jobs", "run"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ran 1 jobs");
    assert_eq!(app.smtp.messages_to("ops@example.vn").len(), 1);

    let out = with_env(&["admin", "mail", "test", "--to", "not-an-address"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--to"));
}

#[tokio::test]
async fn seed_demo_is_idempotent_and_its_printed_sign_ins_work() {
    let app = TestApp::spawn().await;
    let run = || {
        eservices()
            .args(["seed", "--demo", "--catalog"])
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/catalog"))
            .env("DATABASE_URL", app.database_url())
            .env("REDIS_URL", "redis://127.0.0.1:1/")
            .env("PUBLIC_URL", &app.address)
            .env("VAULT_MASTER_KEY", &app.master_key)
            .output()
            .expect("runs")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = run();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    // The first line reports the live outbox depth (the demo dossiers' emails
    // wait for a worker); everything else is the same.
    let after_first_line = |out: &[u8]| {
        String::from_utf8_lossy(out)
            .lines()
            .skip(1)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        after_first_line(&first.stdout),
        after_first_line(&second.stdout),
        "a second run changes nothing and prints the same"
    );
    the_demo_has_every_status_and_its_figures(&app).await;
    assert!(
        String::from_utf8_lossy(&first.stdout)
            .contains("catalog: 110 agencies, 47 calendar days, 773 services (0 sample)"),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );

    let out = String::from_utf8_lossy(&first.stdout).into_owned();
    let password = eservices::seed::DEMO_PASSWORD;
    assert_eq!(app.sign_in("079090000001", password).await.status(), 303);
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("phuong-bentanh.receiver"))
        .expect("the ward receiver is listed");
    let secret = line.rsplit("TOTP ").next().expect("secret").trim();
    let secret = eservices::domain::TotpSecret::from_base32(secret).expect("base32");
    let browser = TestApp::fresh_client();
    let res = app
        .staff_sign_in(
            &browser,
            "phuong-bentanh.receiver",
            password,
            &app.totp_now(&secret),
        )
        .await;
    assert_eq!(res.status(), 303);
}

/// The demo data: one dossier in every status, its accounts, business and
/// staff, signed results and the dashboard's figures.
async fn the_demo_has_every_status_and_its_figures(app: &TestApp) {
    assert_eq!(app.count("SELECT count(*) AS n FROM dossiers").await, 11);
    assert_eq!(
        app.count("SELECT count(DISTINCT status) AS n FROM dossiers")
            .await,
        11,
        "one dossier in every status"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM accounts").await, 3);
    assert_eq!(app.count("SELECT count(*) AS n FROM businesses").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM staff").await, 16);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM vault_documents WHERE status = 'issued'")
            .await,
        2,
        "the approved demo dossiers have signed results"
    );
    assert!(
        app.count("SELECT coalesce(sum(received), 0)::bigint AS n FROM dossier_monthly_stats")
            .await
            >= 10,
        "the dashboard's figures are computed"
    );
}

#[tokio::test]
async fn admin_client_create_registers_a_fapi2_client_and_refuses_one_with_a_secret() {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let app = TestApp::spawn().await;
    let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let jwks = serde_json::json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1",
        "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")),
        "y": URL_SAFE_NO_PAD.encode(point.y().expect("y")),
    }]});
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, jwks.to_string()).expect("write");
    let create = |extra: &[&str]| {
        eservices()
            .args([
                "admin",
                "client",
                "create",
                "--redirect-uri",
                "https://bhxh.example/cb",
            ])
            .args(extra)
            .env("DATABASE_URL", app.database_url())
            .env("REDIS_URL", "redis://127.0.0.1:1/")
            .env("PUBLIC_URL", &app.address)
            .env("VAULT_MASTER_KEY", &app.master_key)
            .output()
            .expect("runs")
    };
    let jwks_arg = path.to_str().expect("utf-8");
    let out = create(&[
        "--client-id",
        "bhxh-fapi",
        "--jwks",
        jwks_arg,
        "--profile",
        "fapi2",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("profile fapi2, DPoP required"), "{stdout}");
    let mut conn = app.db().await;
    let row = eservices::storage::oidc::client(&mut conn, "bhxh-fapi")
        .await
        .expect("query")
        .expect("registered");
    assert!(row.require_par);
    assert_eq!(
        row.id_token_alg,
        eservices::domain::oauth::IdTokenAlg::Es256
    );
    let out = create(&["--client-id", "bhxh-secret", "--profile", "fapi2"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAPI 2.0"));
}
