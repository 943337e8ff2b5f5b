//! The once-only data vault: a second dossier that needs the result of the
//! first asks for nothing again; results are signed and checkable by anyone;
//! every staff read is in the owner's access log; export; tampering is
//! detected; the master key rotates without loss and a wrong one refuses to start.

use std::io::Read;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    dossiers::{pdf, staff_act, staff_token, stage_result},
    helpers::{TestApp, test_master_key},
};

const WARD: &str = "000.21.11.H29";
/// Cấp Giấy xác nhận tình trạng hôn nhân: its result stands for GXN_TTHN.
const TTHN: &str = "HT-013";
/// Đăng ký kết hôn: requires GXN_TTHN.
const MARRIAGE: &str = "HT-002";

async fn ok_json(res: reqwest::Response, status: u16) -> Value {
    let code = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(code, status, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn create(app: &TestApp, service: &str, values: Value) -> Value {
    ok_json(
        app.post_json(
            "/api/v1/dossiers",
            &json!({ "service_code": service, "agency_code": WARD, "form_values": values }),
        )
        .await,
        201,
    )
    .await
}

struct Issued {
    citizen: crate::helpers::Citizen,
    first: String,
    document: Value,
    bytes: Vec<u8>,
    receiver: String,
}

/// A citizen files HT-013, the ward decides it with a signed result.
async fn first_dossier_decided(app: &TestApp, seq: u32) -> Issued {
    let citizen = app.signed_in_citizen(seq).await;
    let draft = create(app, TTHN, json!({})).await;
    // What the account holds is prefilled, with its source.
    assert_eq!(
        draft["form_values"]["national_id"],
        citizen.national_id.as_str()
    );
    assert_eq!(
        draft["form_values"]["full_name"],
        citizen.full_name.as_str()
    );
    assert_eq!(draft["form_values"]["sex"], "Nam");
    assert_eq!(draft["value_sources"]["national_id"]["source"], "vault");
    assert_eq!(
        draft["value_sources"]["national_id"]["record_id"],
        "account:identity"
    );
    assert_eq!(draft["value_sources"]["email"]["provenance"], "account");
    assert!(draft["form_values"].get("permanent_address").is_none());
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
    let edited = ok_json(res, 200).await;
    assert_eq!(edited["value_sources"]["phone"]["source"], "self_declared");
    assert_eq!(edited["value_sources"]["full_name"]["source"], "vault");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")))
        .send()
        .await
        .expect("submit");
    ok_json(res, 200).await;

    let receiver = staff_token(app, &format!("v.tn{seq}"), WARD, "receiver").await;
    let processor = staff_token(app, &format!("v.xl{seq}"), WARD, "processor").await;
    let approver = staff_token(app, &format!("v.pd{seq}"), WARD, "approver").await;
    let paper = pdf(&format!("Giay xac nhan tinh trang hon nhan {seq}"));
    let early = ok_json(stage_result(app, &processor, &id, paper.clone()).await, 409).await;
    assert_eq!(early["code"], "not_processing", "no result before intake");
    ok_json(staff_act(app, &receiver, &id, "accept", None).await, 200).await;
    ok_json(stage_result(app, &processor, &id, paper.clone()).await, 201).await;
    let approved = ok_json(staff_act(app, &approver, &id, "approve", None).await, 200).await;
    let document = approved["result_document"].clone();
    assert_eq!(
        document["document_type"],
        "GIAY_XAC_NHAN_TINH_TRANG_HON_NHAN"
    );
    assert_eq!(document["issuer_agency_code"], WARD);
    ok_json(
        staff_act(app, &receiver, &id, "return_result", None).await,
        200,
    )
    .await;
    Issued {
        citizen,
        first: id,
        document,
        bytes: paper,
        receiver,
    }
}

#[tokio::test]
async fn a_second_dossier_needing_the_first_ones_result_asks_for_nothing_again() {
    let app = TestApp::spawn().await;
    let issued = first_dossier_decided(&app, 61).await;
    let doc_id = issued.document["id"].as_str().expect("id").to_owned();
    let hex: String = Sha256::digest(&issued.bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    // The result is in the applicant's vault, valid for 180 days, intact.
    let docs = ok_json(app.get("/api/v1/vault/documents").await, 200).await;
    assert_eq!(docs["items"].as_array().map(Vec::len), Some(1));
    let doc = &docs["items"][0];
    assert_eq!(doc["id"], doc_id.as_str());
    assert_eq!(doc["satisfies"], json!(["GXN_TTHN"]));
    assert_eq!(doc["sha256"], hex.as_str());
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
        issued.bytes.as_slice()
    );

    // The decision established a verified record; the self-declared values
    // of the filed dossier were kept.
    let records = ok_json(app.get("/api/v1/vault/records").await, 200).await;
    let items = records["items"].as_array().expect("items");
    let civil = items
        .iter()
        .find(|r| r["record_type"] == "civil_status" && r["provenance"] == "agency")
        .expect("civil status record from the decision");
    assert_eq!(civil["verified"], true);
    assert_eq!(civil["source_dossier_id"], issued.first.as_str());
    assert_eq!(civil["data"]["marital"], "Chưa đăng ký kết hôn với ai");
    assert_eq!(civil["deletable"], false);
    let address = items
        .iter()
        .find(|r| r["record_type"] == "address")
        .expect("address record");
    assert_eq!(address["provenance"], "self_declared");
    assert_eq!(address["data"]["permanent"], "12 Lê Lợi, Phường Bến Thành");

    // The second dossier: everything known is prefilled, the certificate
    // attached by reference.
    let second = create(&app, MARRIAGE, json!({})).await;
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
    assert_eq!(refs[0]["document"]["id"], doc_id.as_str());
    let id = second["id"].as_str().expect("id").to_owned();

    // Only the partner's details are new; nothing re-entered, nothing uploaded.
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
    let edited = ok_json(res, 200).await;
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
    ok_json(res, 200).await;
    let files = ok_json(
        app.get(&format!("/api/v1/dossiers/{id}/attachments")).await,
        200,
    )
    .await;
    assert_eq!(files["items"], json!([]));

    // The ward's receiver opens it and reads the certificate: both logged.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/staff/dossiers/{id}")))
        .bearer_auth(&issued.receiver)
        .send()
        .await
        .expect("staff view");
    let seen = ok_json(res, 200).await;
    assert_eq!(
        seen["dossier"]["vault_documents"][0]["document"]["id"],
        doc_id.as_str()
    );
    let res = app
        .client
        .get(app.url(&format!("/api/v1/staff/dossiers/{id}/documents/{doc_id}")))
        .bearer_auth(&issued.receiver)
        .send()
        .await
        .expect("staff read");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.bytes().await.expect("bytes").as_ref(),
        issued.bytes.as_slice()
    );
    // Another agency's civil servant sees neither.
    let elsewhere = staff_token(&app, "v.other", "000.00.12.H29", "receiver").await;
    let res = app
        .client
        .get(app.url(&format!("/api/v1/staff/dossiers/{id}/documents/{doc_id}")))
        .bearer_auth(&elsewhere)
        .send()
        .await
        .expect("other agency");
    assert_eq!(res.status(), 404);

    let log = ok_json(app.get("/api/v1/vault/access-log").await, 200).await;
    let rows = log["items"].as_array().expect("items");
    let doc_item = format!("document:{doc_id}");
    let download = rows
        .iter()
        .find(|r| r["items"] == json!([doc_item.clone()]))
        .expect("the download is logged");
    assert_eq!(download["reader"], "staff");
    assert_eq!(download["agency_code"], WARD);
    assert_eq!(download["dossier_id"], id.as_str());
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

    // Anyone can check the result; nothing personal is shown.
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
    assert_eq!(check["sha256"], hex.as_str());
    assert!(!text.contains(&issued.citizen.national_id));
    assert!(!text.contains(&issued.citizen.full_name));
    let copy = |bytes: Vec<u8>| {
        anyone
            .post(app.url(&format!("/verify/{doc_id}")))
            .header("Content-Type", "application/pdf")
            .body(bytes)
            .send()
    };
    let same = ok_json(copy(issued.bytes.clone()).await.expect("post"), 200).await;
    assert_eq!(same["file_matches"], true);
    let mut forged = issued.bytes.clone();
    forged.extend_from_slice(b"% edited\n");
    let other = ok_json(copy(forged).await.expect("post"), 200).await;
    assert_eq!(other["file_matches"], false);

    // The export: one JSON file plus the files (after a strong sign-in).
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
    assert_eq!(index["documents"][0]["id"], doc_id.as_str());
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

    // The owner deletes self-declared records only.
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
    let third = create(&app, MARRIAGE, json!({})).await;
    assert!(
        third["form_values"].get("permanent_address").is_none(),
        "a deleted record prefills nothing"
    );
}

#[tokio::test]
async fn tampering_is_detected_and_refused() {
    let app = TestApp::spawn().await;
    let issued = first_dossier_decided(&app, 62).await;
    let doc_id = issued.document["id"].as_str().expect("id").to_owned();
    let anyone = TestApp::fresh_client();
    let verify = |id: String| anyone.get(app.url(&format!("/verify/{id}"))).send();

    // Unknown ids: a clear 404, not an error page.
    for bad in [uuid::Uuid::now_v7().to_string(), "not-an-id".to_owned()] {
        let res = verify(bad).await.expect("verify");
        assert_eq!(res.status(), 404);
        let problem: Value = res.json().await.expect("problem");
        assert_eq!(problem["code"], "document_not_found");
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
    assert_eq!(res.status(), 409);
    let problem: Value = res.json().await.expect("problem");
    assert_eq!(problem["code"], "vault_integrity_failed");

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
    let check = ok_json(verify(doc_id.clone()).await.expect("verify"), 200).await;
    assert_eq!(check["valid"], true);
    diesel::sql_query(format!(
        "UPDATE vault_documents SET issuer_agency_code = '000.00.12.H29' WHERE id = '{doc_id}'"
    ))
    .execute(&mut *db)
    .await
    .expect("forge issuer");
    let check = ok_json(verify(doc_id.clone()).await.expect("verify"), 200).await;
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
    let check = ok_json(verify(doc_id).await.expect("verify"), 200).await;
    assert_eq!(check["valid"], false);
}

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

    // Nothing was lost: everything opens with the new key alone.
    let mut settings = (*app.state.settings).clone();
    settings.keyring = eservices::vault::crypto::Keyring::new(
        eservices::vault::crypto::MasterKey::parse(&new_key).expect("key"),
        vec![],
    );
    let state =
        eservices::startup::AppState::build(settings, app.state.clock.clone()).expect("state");
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

/// Runs the code flow for `client_id` asking `scope`; the consent page and the access token.
async fn authorize(app: &TestApp, client_id: &str, scope: &str) -> (String, String) {
    use base64::Engine;
    let verifier = "v".repeat(20) + &uuid::Uuid::new_v4().simple().to_string();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let mut url = url::Url::parse(&app.url("/oauth2/authorize")).expect("url");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", crate::oidc_flow::REDIRECT)
        .append_pair("scope", scope)
        .append_pair("state", "s-123")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let res = app
        .client
        .get(url.as_str())
        .send()
        .await
        .expect("authorize");
    if res.status() == 303 {
        // Consent given before covers it.
        let location = res.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let code = crate::oidc_flow::query(&location, "code").expect("code");
        return (
            String::new(),
            exchange(app, client_id, &code, &verifier).await,
        );
    }
    assert_eq!(res.status(), 200);
    let page = res.text().await.expect("page");
    let res = app
        .client
        .post(app.url("/oauth2/consent"))
        .form(&[
            (
                "consent_id",
                crate::helpers::input_value(&page, "consent_id").expect("id"),
            ),
            (
                "csrf_token",
                crate::helpers::input_value(&page, "csrf_token").expect("csrf"),
            ),
            ("decision", "allow".to_owned()),
        ])
        .send()
        .await
        .expect("consent");
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let code = crate::oidc_flow::query(&location, "code").expect("code");
    let token = exchange(app, client_id, &code, &verifier).await;
    (page, token)
}

async fn exchange(app: &TestApp, client_id: &str, code: &str, verifier: &str) -> String {
    let res = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth(client_id, Some(crate::oidc_flow::SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", crate::oidc_flow::REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token");
    let tokens = ok_json(res, 200).await;
    tokens["access_token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn integrators_read_vault_data_only_through_consented_scopes_and_each_read_is_logged() {
    let app = TestApp::spawn().await;
    eservices::oidc::keys::ensure(&app.state)
        .await
        .expect("keys");
    let issued = first_dossier_decided(&app, 64).await;
    crate::oidc_flow::register_client(
        &app,
        "ngan-hang-so",
        &["openid", "vault:civil_status", "vault:address"],
        None,
    )
    .await;

    // The consent page shows the concrete values and where they come from.
    let (page, token) = authorize(&app, "ngan-hang-so", "openid vault:civil_status").await;
    assert!(page.contains("Kho dữ liệu"), "{page}");
    assert!(page.contains("Chưa đăng ký kết hôn với ai"), "{page}");
    assert!(
        page.contains("Kết quả giải quyết thủ tục hành chính"),
        "{page}"
    );
    assert!(!page.contains("12 Lê Lợi"), "no scope, no address");

    let userinfo = |token: String| {
        TestApp::fresh_client()
            .get(app.url("/oauth2/userinfo"))
            .bearer_auth(token)
            .send()
    };
    let info = ok_json(userinfo(token).await.expect("userinfo"), 200).await;
    let civil = info["vault"]["civil_status"]
        .as_array()
        .expect("civil status");
    assert!(
        civil
            .iter()
            .any(|r| r["data"]["marital"] == "Chưa đăng ký kết hôn với ai" && r["verified"] == true),
        "{info}"
    );
    assert!(
        info["vault"].get("address").is_none(),
        "not consented, not given"
    );

    // Without a vault scope: no vault claim at all.
    let (_, plain) = authorize(&app, "ngan-hang-so", "openid").await;
    let info = ok_json(userinfo(plain).await.expect("userinfo"), 200).await;
    assert!(info.get("vault").is_none(), "{info}");

    let log = ok_json(app.get("/api/v1/vault/access-log").await, 200).await;
    let reads: Vec<&Value> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|r| r["reader"] == "client")
        .collect();
    assert_eq!(reads.len(), 1, "{log}");
    assert_eq!(reads[0]["client_id"], "ngan-hang-so");
    assert_eq!(reads[0]["scope"], "vault:civil_status");
    assert_eq!(reads[0]["items"], json!(["civil_status.marital"]));
    let _ = issued;
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
    let a = ok_json(check(&first).await.expect("verify"), 200).await;
    let b = ok_json(check(&second).await.expect("verify"), 200).await;
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
    let a = ok_json(check(&first).await.expect("verify"), 200).await;
    assert_eq!(a["signature_valid"], true);
    assert_eq!(a["valid"], false);
    assert!(
        a["reason"]
            .as_str()
            .is_some_and(|r| r.contains("hết thời hạn")),
        "{a}"
    );
}
