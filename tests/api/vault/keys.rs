//! Keys: the master key rotates without loss (a process with the wrong one
//! refuses to start), and a rotated signing key signs new results while old
//! ones verify until they expire.

use serde_json::Value;

use super::{Issued, WARD, first_dossier_decided};
use crate::helpers::{TestApp, read_json, test_master_key};

/// The `eservices` binary with a clean environment.
fn eservices() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_eservices"));
    cmd.current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[tokio::test]
async fn the_master_key_rotates_without_loss_and_a_wrong_one_refuses_to_start() {
    let app = TestApp::spawn().await;
    let issued = first_dossier_decided(&app, 63).await;
    let run = |args: &[&str], key: &str, retired: Option<&str>| {
        let mut cmd = eservices();
        cmd.args(args)
            .env("DATABASE_URL", app.database_url())
            .env("REDIS_URL", "redis://127.0.0.1:1/")
            .env("PUBLIC_URL", &app.address)
            .env("BIND_ADDR", "127.0.0.1:1")
            .env("VAULT_MASTER_KEY", key);
        if let Some(r) = retired {
            cmd.env("VAULT_RETIRED_KEYS", r);
        }
        cmd.output().expect("runs")
    };
    let new_key = test_master_key();

    // A process with another key refuses to start, naming the reason.
    let out = run(&["serve"], &new_key, None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to start"), "{stderr}");

    // Rotation with the old key retired re-seals everything.
    let out = run(
        &["admin", "vault", "rotate-master-key"],
        &new_key,
        Some(&app.master_key),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("vault_documents: 1 re-sealed"), "{stdout}");
    assert!(stdout.contains("is no longer used"), "{stdout}");
    let out = run(&["admin", "vault", "rotate-master-key"], &new_key, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("vault_documents: 0 re-sealed"),
        "a second run has nothing left to do"
    );
    // Now the old key alone is the wrong one.
    let out = run(&["serve"], &app.master_key, None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to start"));

    everything_opens_with_the_new_key_alone(&app, &issued, &new_key).await;
}

/// Nothing was lost: a state with the new key alone opens the records and
/// the document, whose signature survives the rotation.
async fn everything_opens_with_the_new_key_alone(app: &TestApp, issued: &Issued, new_key: &str) {
    let mut settings = (*app.state.settings).clone();
    settings.keyring = eservices::crypto::keyring::Keyring::new(
        eservices::crypto::keyring::MasterKey::parse(new_key).expect("key"),
        vec![],
    );
    let state = eservices::http::AppState::build(settings, app.state.clock.clone()).expect("state");
    state.check_master_key().await.expect("the new key fits");
    let owner = eservices::domain::vault::Owner::Account(
        app.state_account(&issued.citizen.national_id).await,
    );
    let records = eservices::vault::records::list(&state, owner)
        .await
        .expect("records open");
    assert!(
        records.iter().any(|r| r.record_type == "civil_status"
            && r.data["marital"] == "Chưa đăng ký kết hôn với ai")
    );
    let doc_id = uuid::Uuid::parse_str(issued.document["id"].as_str().expect("id")).expect("uuid");
    let (_, bytes) = eservices::vault::documents::download(
        &state,
        app.state_account(&issued.citizen.national_id).await,
        doc_id,
    )
    .await
    .expect("the document opens");
    assert_eq!(bytes.as_ref(), issued.bytes.as_slice());
    let check = eservices::vault::documents::verify(&state, doc_id, None)
        .await
        .expect("verify");
    assert!(check.valid, "signatures survive the rotation");
}

#[tokio::test]
async fn a_rotated_signing_key_signs_new_results_and_old_ones_verify_until_they_expire() {
    let app = TestApp::spawn().await;
    let first = first_dossier_decided(&app, 65).await;
    let new_key = eservices::vault::signing::rotate(&app.state, WARD)
        .await
        .expect("rotated");
    let second = first_dossier_decided(&app, 66).await;
    let anyone = TestApp::fresh_client();
    let check = |issued: &Issued| {
        anyone
            .get(app.url(&format!(
                "/verify/{}",
                issued.document["id"].as_str().expect("id")
            )))
            .send()
    };
    let a = read_json::<Value>(check(&first).await.expect("verify"), 200).await;
    let b = read_json::<Value>(check(&second).await.expect("verify"), 200).await;
    assert_eq!(a["valid"], true, "signed before the rotation, still valid");
    assert_eq!(b["valid"], true);
    assert_ne!(a["key_id"], b["key_id"], "the new result has the new key");
    assert_eq!(
        b["key_id"],
        new_key.to_string(),
        "the key the rotation made signs now"
    );

    // A marital-status certificate is valid for 180 days.
    app.clock.advance(chrono::Duration::days(181));
    let a = read_json::<Value>(check(&first).await.expect("verify"), 200).await;
    assert_eq!(a["signature_valid"], true);
    assert_eq!(a["valid"], false);
    assert!(
        a["reason"]
            .as_str()
            .is_some_and(|r| r.contains("hết thời hạn")),
        "{a}"
    );
}
