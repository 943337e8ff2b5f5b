//! `eservices admin webhooks …` run as the binary: add (the secret shown
//! once, stored sealed), list, pause, resume, replay, and bad arguments
//! named.

use std::process::{Command, Output};

use super::{deliveries, filed, kinds};
use crate::{helpers::TestApp, webhooks::receiver::Receiver};

/// Runs `eservices admin webhooks ARGS` against the test's database.
fn webhooks(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eservices"))
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["admin", "webhooks"])
        .args(args)
        .env("DATABASE_URL", app.database_url())
        .env("REDIS_URL", "redis://127.0.0.1:1/")
        .env("PUBLIC_URL", &app.address)
        .env("VAULT_MASTER_KEY", &app.master_key)
        .output()
        .expect("runs")
}

/// Standard output of a run that must succeed.
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Brings the app's clock up to the time the command ran by (the jobs it
/// queued are due from then).
fn catch_up(app: &TestApp) {
    use eservices::clock::{Clock, SystemClock};
    let now = chrono::SubsecRound::trunc_subsecs(SystemClock.now(), 6);
    if now > app.now() {
        app.clock.set(now);
    }
}

/// The line of `list` about subscriber `id`.
fn listed(app: &TestApp, id: &str) -> String {
    ok(&webhooks(app, &["list"]))
        .lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("{id} listed"))
        .to_owned()
}

#[tokio::test]
async fn the_webhooks_admin_commands_add_list_pause_resume_and_replay() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start();
    let citizen = app.signed_in_citizen(178).await;
    let url = receiver.url("/so-xay-dung");
    let out = ok(&webhooks(
        &app,
        &[
            "add",
            "--name",
            "Sở Xây dựng",
            "--url",
            &url,
            "--service",
            "HGCS-001",
            "--agency",
            "000.21.11.H29",
            "--event",
            "dossier.filed",
            "--event",
            "dossier.accepted",
        ],
    ));
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("registered webhook subscriber "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the id")
        .to_owned();
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("signing secret (shown once): "))
        .expect("the secret")
        .to_owned();
    assert!(secret.starts_with("whsec_"));
    let key = secret.trim_start_matches("whsec_");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM webhook_subscribers \
             WHERE secret LIKE 'v1.%' AND position('{key}' in secret) = 0"
        ))
        .await,
        1,
        "stored sealed"
    );
    receiver.know_secret("/so-xay-dung", &secret).await;

    let line = listed(&app, &id);
    for part in [
        "\tactive\t",
        "Sở Xây dựng",
        "services=HGCS-001",
        "agencies=000.21.11.H29",
        "events=dossier.filed,dossier.accepted",
        "personal_data=no",
        "pending=0",
    ] {
        assert!(line.contains(part), "{part} in {line}");
    }
    assert!(!line.contains(key), "the secret is shown once");

    // Paused: the filing waits.
    ok(&webhooks(&app, &["pause", &id]));
    assert!(listed(&app, &id).contains("\tpaused\t"));
    filed(&app, &citizen).await;
    app.run_jobs().await;
    assert!(receiver.received().await.is_empty());
    assert!(listed(&app, &id).contains("pending=1"));
    ok(&webhooks(&app, &["resume", &id]));
    catch_up(&app);
    app.run_jobs().await;
    assert_eq!(kinds(&receiver.received().await), ["dossier.filed"]);
    assert!(listed(&app, &id).contains("\tactive\t"));

    // Replays: one delivery, then all since a day.
    let subscriber = uuid::Uuid::parse_str(&id).expect("uuid");
    let delivery = deliveries(&app, subscriber).await[0].id.to_string();
    ok(&webhooks(&app, &["replay", "--delivery", &delivery]));
    catch_up(&app);
    app.run_jobs().await;
    let today = app
        .now()
        .with_timezone(&eservices::domain::calendar::city_tz())
        .format("%Y-%m-%d")
        .to_string();
    let out = ok(&webhooks(
        &app,
        &["replay", "--subscriber", &id, "--since", &today],
    ));
    assert!(out.contains("1 deliveries"), "{out}");
    catch_up(&app);
    app.run_jobs().await;
    let got = receiver.received().await;
    assert_eq!(got.len(), 3);
    assert!(
        got.iter()
            .all(|r| r.verified && r.id.as_deref() == Some(delivery.as_str()))
    );
}

#[tokio::test]
async fn the_webhooks_admin_commands_name_what_is_wrong() {
    let app = TestApp::spawn().await;
    let out = webhooks(
        &app,
        &[
            "add",
            "--name",
            "Hệ thống",
            "--url",
            "ftp://he-thong.vn/",
            "--event",
            "dossier.paid",
            "--service",
            "KHONG-CO",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for named in ["--url", "--event", "--service", "dossier.fee_paid"] {
        assert!(stderr.contains(named), "{named} in {stderr}");
    }
    let out = webhooks(&app, &["pause", &uuid::Uuid::now_v7().to_string()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Không có bên nhận sự kiện này"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = webhooks(&app, &["replay", "--since", "2026-12-01"]);
    assert!(!out.status.success(), "--since needs --subscriber");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM webhook_subscribers")
            .await,
        0
    );
}
