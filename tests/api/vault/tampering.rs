//! Tampering is detected and refused: unknown ids are a clear 404, an
//! altered file on disk or record in the database is refused, and /verify
//! says an altered result (issuer or hash) is invalid.

use serde_json::Value;

use super::{WARD, first_dossier_decided};
use crate::helpers::{Problem, TestApp, read_json};

#[tokio::test]
async fn tampering_is_detected_and_refused() {
    let app = TestApp::spawn().await;
    let issued = first_dossier_decided(&app, 62).await;
    let doc_id = issued.document["id"].as_str().expect("id").to_owned();
    let anyone = TestApp::fresh_client();
    let verify = |id: String| anyone.get(app.url(&format!("/verify/{id}"))).send();

    // Unknown ids: a clear 404, not an error page.
    for bad in [uuid::Uuid::now_v7().to_string(), "not-an-id".to_owned()] {
        let problem = Problem::read(verify(bad).await.expect("verify"), 404).await;
        assert_eq!(problem.code, "document_not_found");
    }

    // An altered file on disk: refused on download.
    let path = app.files_dir().join("vault").join(&doc_id);
    let mut stored = std::fs::read(&path).expect("the encrypted file");
    assert!(
        !stored.windows(12).any(|w| w == &issued.bytes[..12]),
        "the file is encrypted at rest"
    );
    let last = stored.len() - 1;
    stored[last] ^= 1;
    std::fs::write(&path, &stored).expect("tamper");
    let res = app
        .get(&format!("/api/v1/vault/documents/{doc_id}/content"))
        .await;
    let problem = Problem::read(res, 409).await;
    assert_eq!(problem.code, "vault_integrity_failed");

    // An altered record in the database: refused.
    let mut db = app.db().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "UPDATE vault_records SET payload = set_byte(payload, 20, get_byte(payload, 20) # 1) \
         WHERE record_type = 'civil_status'",
    )
    .execute(&mut *db)
    .await
    .expect("tamper record");
    let res = app.get("/api/v1/vault/records").await;
    assert_eq!(res.status(), 409);

    // An altered result (its issuer or its hash): /verify says invalid.
    let check = read_json::<Value>(verify(doc_id.clone()).await.expect("verify"), 200).await;
    assert_eq!(check["valid"], true);
    diesel::sql_query(format!(
        "UPDATE vault_documents SET issuer_agency_code = '000.00.12.H29' WHERE id = '{doc_id}'"
    ))
    .execute(&mut *db)
    .await
    .expect("forge issuer");
    let check = read_json::<Value>(verify(doc_id.clone()).await.expect("verify"), 200).await;
    assert_eq!(check["signature_valid"], false);
    assert_eq!(check["valid"], false);
    assert!(
        check["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Chữ ký số"))
    );
    diesel::sql_query(format!(
        "UPDATE vault_documents SET issuer_agency_code = '{WARD}', \
         sha256 = sha256('forged'::bytea) WHERE id = '{doc_id}'"
    ))
    .execute(&mut *db)
    .await
    .expect("forge hash");
    let check = read_json::<Value>(verify(doc_id).await.expect("verify"), 200).await;
    assert_eq!(check["valid"], false);
}
