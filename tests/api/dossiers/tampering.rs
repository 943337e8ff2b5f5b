//! The progress log is append-only, and an edit made with its guard
//! switched off is still found, by the service and by the operator's command.

use super::{complete_draft, submit};
use crate::helpers::TestApp;

#[tokio::test]
async fn the_progress_log_refuses_edits_and_shows_tampering() {
    let app = TestApp::spawn().await;
    let citizen = app.signed_in_citizen(42).await;
    let id = complete_draft(&app, &citizen).await;
    assert_eq!(submit(&app, &id, None).await.status(), 200);
    let dossier_id = uuid::Uuid::parse_str(&id).expect("uuid");
    use diesel_async::RunQueryDsl;
    let mut conn = app.db().await;
    let edit = diesel::sql_query(format!(
        "UPDATE dossier_events SET note = 'sửa' WHERE dossier_id = '{id}' AND seq = 1"
    ))
    .execute(&mut conn)
    .await;
    assert!(edit.is_err(), "the log is append-only");
    // Someone with the power to switch the guard off still leaves a trace.
    diesel::sql_query("ALTER TABLE dossier_events DISABLE TRIGGER dossier_events_append_only")
        .execute(&mut conn)
        .await
        .expect("owner may");
    diesel::sql_query(format!(
        "UPDATE dossier_events SET note = 'sửa' WHERE dossier_id = '{id}' AND seq = 1"
    ))
    .execute(&mut conn)
    .await
    .expect("edit");
    drop(conn);
    assert_eq!(
        eservices::dossiers::verify_log(&app.state, dossier_id)
            .await
            .expect("verify"),
        Some(1)
    );
    // The operator's command finds it too.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_eservices"))
        .args(["admin", "dossiers", "verify-log"])
        .current_dir(std::env::temp_dir())
        .env("DATABASE_URL", app.database_url())
        .env("REDIS_URL", "redis://127.0.0.1:1/")
        .env("PUBLIC_URL", &app.address)
        .env("VAULT_MASTER_KEY", &app.master_key)
        .output()
        .await
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("dossier {id}: the log is broken at row 1")),
        "{stdout}"
    );
    assert!(
        stdout.contains("checked 1 progress logs; 1 broken"),
        "{stdout}"
    );
}
