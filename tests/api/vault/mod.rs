//! The once-only data vault: a second dossier that needs the result of the
//! first asks for nothing again; results are signed and checkable by anyone;
//! every staff read is in the owner's access log; export; tampering is
//! detected; the master key rotates without loss and a wrong one refuses to
//! start; integrators read only what was consented to.

mod integrators;
mod keys;
mod once_only;
mod tampering;

use serde_json::{Value, json};

use crate::{
    dossiers::{pdf, staff_act, staff_token, stage_result},
    helpers::{Problem, TestApp, read_json},
};

const WARD: &str = "000.21.11.H29";
/// Cấp Giấy xác nhận tình trạng hôn nhân: its result stands for GXN_TTHN.
const TTHN: &str = "HT-013";
/// Đăng ký kết hôn: requires GXN_TTHN.
const MARRIAGE: &str = "HT-002";

/// A new draft of `service` at the ward with `values`, as its applicant sees it.
async fn create(app: &TestApp, service: &str, values: Value) -> Value {
    read_json(
        app.post_json(
            "/api/v1/dossiers",
            &json!({ "service_code": service, "agency_code": WARD, "form_values": values }),
        )
        .await,
        201,
    )
    .await
}

/// A decided first dossier: its applicant, its id, the signed result (as
/// listed, and its bytes) and the ward receiver's token.
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
    let edited = read_json::<Value>(res, 200).await;
    assert_eq!(edited["value_sources"]["phone"]["source"], "self_declared");
    assert_eq!(edited["value_sources"]["full_name"]["source"], "vault");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{id}/submit")))
        .send()
        .await
        .expect("submit");
    read_json::<Value>(res, 200).await;

    let receiver = staff_token(app, &format!("v.tn{seq}"), WARD, "receiver").await;
    let processor = staff_token(app, &format!("v.xl{seq}"), WARD, "processor").await;
    let approver = staff_token(app, &format!("v.pd{seq}"), WARD, "approver").await;
    let paper = pdf(&format!("Giay xac nhan tinh trang hon nhan {seq}"));
    let early = Problem::read(stage_result(app, &processor, &id, paper.clone()).await, 409).await;
    assert_eq!(early.code, "not_processing", "no result before intake");
    read_json::<Value>(staff_act(app, &receiver, &id, "accept", None).await, 200).await;
    read_json::<Value>(stage_result(app, &processor, &id, paper.clone()).await, 201).await;
    let approved =
        read_json::<Value>(staff_act(app, &approver, &id, "approve", None).await, 200).await;
    let document = approved["result_document"].clone();
    assert_eq!(
        document["document_type"],
        "GIAY_XAC_NHAN_TINH_TRANG_HON_NHAN"
    );
    assert_eq!(document["issuer_agency_code"], WARD);
    read_json::<Value>(
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
