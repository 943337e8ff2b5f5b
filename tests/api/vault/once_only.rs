//! Once only: the first dossier's signed result lands in the applicant's
//! vault with a verified record; a second dossier needing it is prefilled
//! and takes the result by reference; the ward's reads are in the owner's
//! access log; anyone can check the result; the owner exports everything
//! and deletes only what they declared.

use std::io::Read;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Issued, MARRIAGE, WARD, create, first_dossier_decided};
use crate::{
    dossiers::staff_token,
    helpers::{TestApp, read_json},
};

#[tokio::test]
async fn a_second_dossier_needing_the_first_ones_result_asks_for_nothing_again() {
    let app = TestApp::spawn().await;
    let issued = first_dossier_decided(&app, 61).await;
    let doc_id = issued.document["id"].as_str().expect("id").to_owned();
    let hex: String = Sha256::digest(&issued.bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let result = TheResult {
        app: &app,
        issued: &issued,
        doc_id: &doc_id,
        hex: &hex,
    };

    result.is_in_the_applicants_vault().await;
    let (civil, address) = result.records_from_the_decision_and_the_filing().await;
    let id = result.a_second_dossier_asks_for_nothing_again().await;
    result
        .the_ward_reads_it_and_another_agency_does_not(&id)
        .await;
    result.the_owner_sees_every_read(&id).await;
    result.anyone_checks_it().await;
    result.the_export_holds_it().await;
    only_self_declared_records_are_deleted(&app, &civil, &address).await;
}

/// The first dossier's result and what the steps of the scenario share.
struct TheResult<'a> {
    app: &'a TestApp,
    issued: &'a Issued,
    doc_id: &'a str,
    hex: &'a str,
}

impl TheResult<'_> {
    /// The result is in the applicant's vault, valid for 180 days, intact.
    async fn is_in_the_applicants_vault(&self) {
        let (app, doc_id) = (self.app, self.doc_id);
        let docs: Value = read_json(app.get("/api/v1/vault/documents").await, 200).await;
        assert_eq!(docs["items"].as_array().map(Vec::len), Some(1));
        let doc = &docs["items"][0];
        assert_eq!(doc["id"], doc_id);
        assert_eq!(doc["satisfies"], json!(["GXN_TTHN"]));
        assert_eq!(doc["sha256"], self.hex);
        let issued_at: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(doc["issued_at"].clone()).expect("issued_at");
        let until: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(doc["valid_until"].clone()).expect("valid_until");
        assert_eq!(until - issued_at, chrono::Duration::days(180));
        let res = app
            .get(&format!("/api/v1/vault/documents/{doc_id}/content"))
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.bytes().await.expect("bytes").as_ref(),
            self.issued.bytes.as_slice()
        );
    }

    /// The decision established a verified record; the self-declared values
    /// of the filed dossier were kept. The civil status and address records.
    async fn records_from_the_decision_and_the_filing(&self) -> (Value, Value) {
        let records: Value = read_json(self.app.get("/api/v1/vault/records").await, 200).await;
        let items = records["items"].as_array().expect("items");
        let civil = items
            .iter()
            .find(|r| r["record_type"] == "civil_status" && r["provenance"] == "agency")
            .expect("civil status record from the decision");
        assert_eq!(civil["verified"], true);
        assert_eq!(civil["source_dossier_id"], self.issued.first.as_str());
        assert_eq!(civil["data"]["marital"], "Chưa đăng ký kết hôn với ai");
        assert_eq!(civil["deletable"], false);
        let address = items
            .iter()
            .find(|r| r["record_type"] == "address")
            .expect("address record");
        assert_eq!(address["provenance"], "self_declared");
        assert_eq!(address["data"]["permanent"], "12 Lê Lợi, Phường Bến Thành");
        (civil.clone(), address.clone())
    }

    /// The second dossier: everything known is prefilled, the certificate
    /// attached by reference; only the partner's details are new, nothing
    /// re-entered, nothing uploaded. Its id, filed.
    async fn a_second_dossier_asks_for_nothing_again(&self) -> String {
        let app = self.app;
        let second = create(app, MARRIAGE, json!({})).await;
        let values = &second["form_values"];
        let sources = &second["value_sources"];
        assert_eq!(values["permanent_address"], "12 Lê Lợi, Phường Bến Thành");
        assert_eq!(values["phone"], "0901234567");
        assert_eq!(values["marital_status"], "Chưa đăng ký kết hôn với ai");
        assert_eq!(sources["marital_status"]["provenance"], "agency");
        assert_eq!(sources["marital_status"]["verified"], true);
        assert_eq!(sources["permanent_address"]["provenance"], "self_declared");
        for field in ["full_name", "date_of_birth", "national_id", "sex", "email"] {
            assert_eq!(sources[field]["source"], "vault", "{field}");
        }
        let refs = second["vault_documents"].as_array().expect("refs");
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0]["required_type"], "GXN_TTHN");
        assert_eq!(refs[0]["document"]["id"], self.doc_id);
        let id = second["id"].as_str().expect("id").to_owned();
        only_the_partners_details_are_new(app, &id).await;
        id
    }

    /// The ward's receiver opens dossier `id` and reads the certificate;
    /// another agency's civil servant sees neither.
    async fn the_ward_reads_it_and_another_agency_does_not(&self, id: &str) {
        let (app, doc_id) = (self.app, self.doc_id);
        let res = app
            .client
            .get(app.url(&format!("/api/v1/staff/dossiers/{id}")))
            .bearer_auth(&self.issued.receiver)
            .send()
            .await
            .expect("staff view");
        let seen: Value = read_json(res, 200).await;
        assert_eq!(
            seen["dossier"]["vault_documents"][0]["document"]["id"],
            doc_id
        );
        let res = app
            .client
            .get(app.url(&format!("/api/v1/staff/dossiers/{id}/documents/{doc_id}")))
            .bearer_auth(&self.issued.receiver)
            .send()
            .await
            .expect("staff read");
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.bytes().await.expect("bytes").as_ref(),
            self.issued.bytes.as_slice()
        );
        // Another agency's civil servant sees neither.
        let elsewhere = staff_token(app, "v.other", "000.00.12.H29", "receiver").await;
        let res = app
            .client
            .get(app.url(&format!("/api/v1/staff/dossiers/{id}/documents/{doc_id}")))
            .bearer_auth(&elsewhere)
            .send()
            .await
            .expect("other agency");
        assert_eq!(res.status(), 404);
    }

    /// The owner's access log has the download and the view of dossier
    /// `id`, by the ward's staff, and nothing by anyone else.
    async fn the_owner_sees_every_read(&self, id: &str) {
        let log: Value = read_json(self.app.get("/api/v1/vault/access-log").await, 200).await;
        let rows = log["items"].as_array().expect("items");
        let doc_item = format!("document:{}", self.doc_id);
        let download = rows
            .iter()
            .find(|r| r["items"] == json!([doc_item.clone()]))
            .expect("the download is logged");
        assert_eq!(download["reader"], "staff");
        assert_eq!(download["agency_code"], WARD);
        assert_eq!(download["dossier_id"], id);
        assert!(
            download["reader_label"]
                .as_str()
                .is_some_and(|l| l.starts_with("Cán bộ")),
            "{download}"
        );
        let view = rows
            .iter()
            .find(|r| {
                r["items"]
                    .as_array()
                    .is_some_and(|i| i.contains(&json!("civil_status.marital")))
            })
            .expect("the view of the dossier is logged");
        assert!(
            view["items"]
                .as_array()
                .is_some_and(|i| i.contains(&json!(doc_item))),
            "{view}"
        );
        assert!(
            rows.iter().all(|r| r["agency_code"] == WARD),
            "the other agency read nothing: {rows:?}"
        );
    }

    /// Anyone can check the result, and whether a copy is the same file;
    /// nothing personal is shown.
    async fn anyone_checks_it(&self) {
        let (app, doc_id, issued) = (self.app, self.doc_id, self.issued);
        let anyone = TestApp::fresh_client();
        let res = anyone
            .get(app.url(&format!("/verify/{doc_id}")))
            .send()
            .await
            .expect("verify");
        let text = res.text().await.expect("text");
        let check: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(check["valid"], true, "{check}");
        assert_eq!(check["signature_valid"], true);
        assert_eq!(check["algorithm"], "ES256");
        assert_eq!(check["issuer_agency_code"], WARD);
        assert_eq!(check["sha256"], self.hex);
        assert!(!text.contains(&issued.citizen.national_id));
        assert!(!text.contains(&issued.citizen.full_name));
        let copy = |bytes: Vec<u8>| {
            anyone
                .post(app.url(&format!("/verify/{doc_id}")))
                .header("Content-Type", "application/pdf")
                .body(bytes)
                .send()
        };
        let same: Value = read_json(copy(issued.bytes.clone()).await.expect("post"), 200).await;
        assert_eq!(same["file_matches"], true);
        let mut forged = issued.bytes.clone();
        forged.extend_from_slice(b"% edited\n");
        let other: Value = read_json(copy(forged).await.expect("post"), 200).await;
        assert_eq!(other["file_matches"], false);
    }

    /// The export: one JSON file plus the files (after a strong sign-in).
    async fn the_export_holds_it(&self) {
        let (app, issued) = (self.app, self.issued);
        assert_eq!(app.step_up_by_email(&app.client).await.status(), 303);
        let res = app.get("/api/v1/vault/export").await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-type"].to_str().expect("type"),
            "application/zip"
        );
        let bytes = res.bytes().await.expect("zip");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
        let mut index = String::new();
        zip.by_name("vault.json")
            .expect("vault.json")
            .read_to_string(&mut index)
            .expect("read");
        let index: Value = serde_json::from_str(&index).expect("json");
        assert_eq!(
            index["subject"]["national_id"],
            issued.citizen.national_id.as_str()
        );
        assert_eq!(index["documents"][0]["id"], self.doc_id);
        assert!(index["access_log"].as_array().is_some_and(|a| a.len() >= 2));
        assert!(index["records"].as_array().is_some_and(|a| a.len() >= 4));
        let path = index["documents"][0]["file"]
            .as_str()
            .expect("path")
            .to_owned();
        let mut file = Vec::new();
        zip.by_name(&path)
            .expect("the file")
            .read_to_end(&mut file)
            .expect("read");
        assert_eq!(file, issued.bytes);
    }
}

/// Only the partner's details (and a new phone) are entered in dossier
/// `id`; it is filed with no file uploaded.
async fn only_the_partners_details_are_new(app: &TestApp, id: &str) {
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/dossiers/{id}")))
        .json(&json!({ "form_values": {
            "partner_full_name": "Trần Thị Bình",
            "partner_date_of_birth": "1992-05-04",
            "partner_nationality": "Việt Nam",
            "partner_residence": "45 Nguyễn Huệ, Phường Sài Gòn",
            "partner_marital_status": "Chưa đăng ký kết hôn với ai",
            "phone": "0907654321",
        }}))
        .send()
        .await
        .expect("patch");
    let edited: Value = read_json(res, 200).await;
    assert_eq!(
        edited["value_sources"]["phone"]["source"], "self_declared",
        "an overridden vault value counts as self-declared"
    );
    assert_eq!(edited["value_sources"]["marital_status"]["source"], "vault");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")))
        .send()
        .await
        .expect("submit");
    read_json::<Value>(res, 200).await;
    let files: Value = read_json(
        app.get(&format!("/api/v1/dossiers/{id}/attachments")).await,
        200,
    )
    .await;
    assert_eq!(files["items"], json!([]));
}

/// The owner deletes self-declared records only (the `address`, once), not
/// the agency's `civil` record nor the account's identity; a deleted record
/// prefills nothing.
async fn only_self_declared_records_are_deleted(app: &TestApp, civil: &Value, address: &Value) {
    let delete = |id: String| {
        app.client
            .delete(app.url(&format!("/api/v1/vault/records/{id}")))
            .send()
    };
    let address_id = address["id"].as_str().expect("id").to_owned();
    assert_eq!(
        delete(address_id.clone()).await.expect("delete").status(),
        204
    );
    assert_eq!(delete(address_id).await.expect("delete").status(), 404);
    let civil_id = civil["id"].as_str().expect("id").to_owned();
    let res = delete(civil_id).await.expect("delete");
    assert_eq!(res.status(), 409);
    assert_eq!(
        delete("account:identity".into())
            .await
            .expect("delete")
            .status(),
        409
    );
    assert_eq!(
        delete(uuid::Uuid::now_v7().to_string())
            .await
            .expect("delete")
            .status(),
        404
    );
    let third = create(app, MARRIAGE, json!({})).await;
    assert!(
        third["form_values"].get("permanent_address").is_none(),
        "a deleted record prefills nothing"
    );
}
