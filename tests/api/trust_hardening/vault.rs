//! Vault items bound to their owner: moved to another owner's row they do
//! not open; items written before the binding still do, and a rotation
//! moves them to it.

use eservices::crypto::keyring::{DataKey, Keyring, MasterKey};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{WARD, assert_sandboxed_download};
use crate::{
    dossiers::{staff_act, staff_token, stage_result},
    helpers::{Problem, TestApp, read_json},
};

/// Cấp Giấy xác nhận tình trạng hôn nhân: its self-declared values become
/// records; its result is a vault document.
const TTHN: &str = "HT-013";

/// Runs `statement` on the test's database.
async fn sql(app: &TestApp, statement: String) {
    use diesel_async::RunQueryDsl;
    let mut db = app.db().await;
    diesel::sql_query(statement)
        .execute(&mut *db)
        .await
        .expect("sql");
}

/// Citizen A, citizen B in a browser of their own, and their account ids.
struct Owners<'a> {
    app: &'a TestApp,
    b_browser: reqwest::Client,
    a_id: Uuid,
    b_id: Uuid,
}

impl Owners<'_> {
    /// B reads `path`.
    async fn b_get(&self, path: &str) -> reqwest::Response {
        self.b_browser
            .get(self.app.url(path))
            .send()
            .await
            .expect("get")
    }

    /// A's vault records.
    async fn a_records(&self) -> Value {
        read_json(self.app.get("/api/v1/vault/records").await, 200).await
    }
}

#[tokio::test]
async fn a_vault_item_moved_to_another_owner_does_not_open_and_old_items_still_do() {
    let app = TestApp::spawn().await;
    // Citizen A files HT-013 (self-declared values are kept as records) and
    // the ward issues its result into A's vault.
    let a = app.signed_in_citizen(132).await;
    let (doc_id, paper) = a_result_issued_into_the_vault(&app).await;
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
    let owners = Owners {
        app: &app,
        b_browser,
        a_id: app.state_account(&a.national_id).await.as_uuid(),
        b_id: app.state_account(&b.national_id).await.as_uuid(),
    };
    read_json::<Value>(owners.b_get("/api/v1/vault/records").await, 200).await;

    moved_to_b_nothing_opens(&owners, &doc_id, &content).await;
    back_with_their_owner_both_open_again(&owners, &doc_id, &content, &paper).await;
    a_record_from_before_the_binding_opens_and_a_rotation_binds_it(&owners).await;
}

/// The signed-in citizen files HT-013 with self-declared values and the
/// ward decides it; the result document's id and its bytes.
async fn a_result_issued_into_the_vault(app: &TestApp) -> (String, Vec<u8>) {
    let draft: Value = read_json(
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
    read_json::<Value>(res, 200).await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")))
        .send()
        .await
        .expect("submit");
    read_json::<Value>(res, 200).await;
    let receiver = staff_token(app, "hd.v.tn", WARD, "receiver").await;
    let processor = staff_token(app, "hd.v.xl", WARD, "processor").await;
    let approver = staff_token(app, "hd.v.pd", WARD, "approver").await;
    read_json::<Value>(staff_act(app, &receiver, &id, "accept", None).await, 200).await;
    let paper = eservices::seed::demo_pdf("Giay xac nhan tinh trang hon nhan");
    read_json::<Value>(stage_result(app, &processor, &id, paper.clone()).await, 201).await;
    let approved: Value =
        read_json(staff_act(app, &approver, &id, "approve", None).await, 200).await;
    let doc_id = approved["result_document"]["id"]
        .as_str()
        .expect("document")
        .to_owned();
    (doc_id, paper)
}

/// A's address record, moved to B's rows with SQL: it does not open for B
/// (a clear problem, no internals), and A's other data still reads. The
/// result document, moved the same way: B cannot read it, A no longer has it.
async fn moved_to_b_nothing_opens(owners: &Owners<'_>, doc_id: &str, content: &str) {
    let (app, a_id, b_id) = (owners.app, owners.a_id, owners.b_id);
    sql(
        app,
        format!(
            "UPDATE vault_records SET account_id = '{b_id}' \
             WHERE account_id = '{a_id}' AND record_type = 'address'"
        ),
    )
    .await;
    let res = owners.b_get("/api/v1/vault/records").await;
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
    let mine = owners.a_records().await;
    assert!(
        mine["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|r| r["record_type"] != "address")
    );

    // The result document, moved the same way: B cannot read it, A no longer has it.
    sql(
        app,
        format!("UPDATE vault_documents SET account_id = '{b_id}' WHERE id = '{doc_id}'"),
    )
    .await;
    let problem = Problem::read(owners.b_get(content).await, 409).await;
    assert_eq!(problem.code, "vault_integrity_failed");
    assert_eq!(app.get(content).await.status(), 404);
}

/// Back with their owner, both open again: nothing was damaged, only bound.
async fn back_with_their_owner_both_open_again(
    owners: &Owners<'_>,
    doc_id: &str,
    content: &str,
    paper: &[u8],
) {
    let (app, a_id, b_id) = (owners.app, owners.a_id, owners.b_id);
    sql(
        app,
        format!("UPDATE vault_records SET account_id = '{a_id}' WHERE account_id = '{b_id}'"),
    )
    .await;
    sql(
        app,
        format!("UPDATE vault_documents SET account_id = '{a_id}' WHERE id = '{doc_id}'"),
    )
    .await;
    let mine = owners.a_records().await;
    let address = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["record_type"] == "address")
        .expect("A's address again")
        .clone();
    assert_eq!(address["data"]["permanent"], "12 Lê Lợi, Phường Bến Thành");
    let res = app.get(content).await;
    assert_eq!(res.status(), 200);
    assert_sandboxed_download(&res, "application/pdf");
    assert_eq!(res.bytes().await.expect("bytes").to_vec(), paper);
    read_json::<Value>(owners.b_get("/api/v1/vault/records").await, 200).await;
}

/// Writes an education record of A the way it was written before owner
/// binding (the item alone as associated data); its id.
async fn a_record_from_before_the_binding(owners: &Owners<'_>, ring: &Keyring) -> Uuid {
    let app = owners.app;
    let legacy_id = Uuid::now_v7();
    let context = format!("vault.record:{legacy_id}");
    let (key, sealed) = DataKey::generate(ring, &context);
    let now = app.now();
    let mut db = app.db().await;
    eservices::storage::vault::insert_record(
        &mut db,
        &eservices::storage::vault::RecordRow {
            id: legacy_id,
            account_id: Some(owners.a_id),
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
    legacy_id
}

/// A record written before owner binding still opens; a rotation moves it
/// to the owner-bound format: it still opens for A, and no longer for
/// anyone else.
async fn a_record_from_before_the_binding_opens_and_a_rotation_binds_it(owners: &Owners<'_>) {
    let (app, b_id) = (owners.app, owners.b_id);
    let ring = Keyring::new(MasterKey::parse(&app.master_key).expect("key"), vec![]);
    let legacy_id = a_record_from_before_the_binding(owners, &ring).await;
    let mine = owners.a_records().await;
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
    let mine = owners.a_records().await;
    assert!(
        mine["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|r| r["id"] == legacy_id.to_string().as_str() && r["data"]["level"] == "Đại học")
    );
    sql(
        app,
        format!("UPDATE vault_records SET account_id = '{b_id}' WHERE id = '{legacy_id}'"),
    )
    .await;
    let res = owners.b_get("/api/v1/vault/records").await;
    assert_eq!(res.status(), 409);
}
