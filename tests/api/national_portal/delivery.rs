//! A dossier's whole life reaches the portal in order, each status and
//! progress row once, every field in the national format; the session is
//! cached, and renewed when the portal forgets it; without settings nothing
//! leaves.

use serde_json::{Value, json};

use super::{
    NATIONAL_CODE, SERVICE, WARD, act, app_with_portal, calls_about, cursor, filed, portal_time,
    progress_seqs, ward,
};
use crate::{
    dossiers::{pdf, stage_result},
    helpers::TestApp,
};

/// Every date of a call: `yyyyMMddHHmmss` (fields named Ngay… or ThoiDiem…).
fn dates_are_well_formed(value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if (key.starts_with("Ngay") || key.starts_with("ThoiDiem")) && !v.is_null() {
                    let s = v.as_str().unwrap_or_default();
                    assert!(
                        s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()),
                        "{key}: {v}"
                    );
                }
                dates_are_well_formed(v);
            }
        }
        Value::Array(items) => items.iter().for_each(dates_are_well_formed),
        _ => {}
    }
}

#[tokio::test]
async fn a_dossiers_whole_life_reaches_the_portal_in_order_once_and_well_formed() {
    let (app, portal) = app_with_portal().await;
    let staff = ward(&app, "np").await;
    let (id, receipt, citizen) = filed(&app, 301, SERVICE).await;
    app.run_jobs().await;
    let accepted = act(&app, &staff.receiver, &id, "accept", None).await;
    app.run_jobs().await;
    let missing = "Thiếu bản chụp giấy khai sinh cần trích lục";
    act(
        &app,
        &staff.processor,
        &id,
        "request_supplement",
        Some(missing),
    )
    .await;
    app.run_jobs().await;
    // Ten minutes of opening hours pass before the applicant supplements.
    app.clock.advance(chrono::Duration::minutes(10));
    let res = app
        .post_json(
            &format!("/api/v1/dossiers/{id}/supplement"),
            &json!({ "note": "Đã bổ sung" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let supplemented: Value = res.json().await.expect("json");
    app.run_jobs().await;
    let res = stage_result(&app, &staff.processor, &id, pdf("ban sao trich luc")).await;
    assert_eq!(res.status(), 201);
    app.run_jobs().await;
    act(&app, &staff.approver, &id, "approve", None).await;
    app.run_jobs().await;
    let returned = act(&app, &staff.receiver, &id, "return_result", None).await;
    app.run_jobs().await;

    let calls = calls_about(&portal, &receipt).await;
    // One record update and one progress entry per step, the record first.
    let kinds: Vec<&str> = calls
        .iter()
        .map(|c| c["call"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["dossier", "progress"].repeat(6), "{calls:#?}");
    let statuses = |kind: &str, field: &str| -> Vec<i64> {
        calls
            .iter()
            .filter(|c| c["call"] == kind)
            .map(|c| c["body"][field].as_i64().expect(field))
            .collect()
    };
    assert_eq!(statuses("dossier", "TrangThaiHoSo"), [1, 2, 5, 4, 9, 10]);
    assert_eq!(statuses("progress", "TrangThai"), [1, 2, 5, 4, 9, 10]);
    let seqs = progress_seqs(&calls);
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in log order: {seqs:?}"
    );
    for call in &calls {
        dates_are_well_formed(&call["body"]);
    }
    assert_eq!(
        portal.calls("login").await.len(),
        1,
        "the session is cached between runs"
    );

    // What each progress entry says, and who did it.
    let progress: Vec<&Value> = calls
        .iter()
        .filter(|c| c["call"] == "progress")
        .map(|c| &c["body"])
        .collect();
    assert_eq!(progress[0]["NoiDungXuLy"], "Nộp hồ sơ trực tuyến");
    assert_eq!(progress[0]["NguoiXuLy"], citizen.full_name);
    assert_eq!(
        progress[0]["ThoiDiemXuLy"],
        portal_time(&accepted["submitted_at"])
    );
    assert_eq!(progress[1]["NoiDungXuLy"], "Tiếp nhận hồ sơ");
    assert_eq!(progress[1]["NguoiXuLy"], "Phạm Thị Tiếp Nhận");
    assert_eq!(
        progress[2]["NoiDungXuLy"],
        format!("Yêu cầu bổ sung hồ sơ: {missing}")
    );
    assert_eq!(progress[5]["NoiDungXuLy"], "Trả kết quả");

    // The last record: the dossier as it ended.
    let record = &calls[calls.len() - 2]["body"];
    assert_eq!(record["MaHoSo"], receipt);
    assert_eq!(record["MaTTHC"], NATIONAL_CODE);
    assert_eq!(record["MaDonVi"], "000.00.00.H29");
    assert_eq!(record["DonViXuLy"], WARD);
    assert_eq!(
        record["ChuHoSo"],
        json!({ "LoaiDoiTuong": 1, "HoVaTen": citizen.full_name, "SoDinhDanh": citizen.national_id })
    );
    assert_eq!(
        record["NgayTiepNhan"],
        portal_time(&returned["submitted_at"])
    );
    assert_eq!(record["NgayHenTra"], portal_time(&returned["due_at"]));
    assert_eq!(record["NgayTra"], progress[5]["ThoiDiemXuLy"]);
    assert_eq!(record["PhiLePhi"][0]["MucPhi"], 8000);
    // The supplement, with the due date before and the one it set.
    let supplement = &record["DanhSachBoSung"];
    assert_eq!(supplement.as_array().map(Vec::len), Some(1), "{record}");
    assert_eq!(supplement[0]["NoiDungBoSung"], missing);
    assert_eq!(
        supplement[0]["NgayYeuCauBoSung"],
        progress[2]["ThoiDiemXuLy"]
    );
    assert_eq!(supplement[0]["NgayBoSung"], progress[3]["ThoiDiemXuLy"]);
    assert_eq!(
        supplement[0]["NgayHenTraCu"],
        portal_time(&accepted["due_at"])
    );
    assert_eq!(
        supplement[0]["NgayHenTraMoi"],
        portal_time(&supplemented["due_at"])
    );
    assert_ne!(
        supplement[0]["NgayHenTraCu"], supplement[0]["NgayHenTraMoi"],
        "ten minutes of working time moved the due date"
    );
    // Nothing before filing, no internal row (the staged result), and the
    // cursor at the end of the log with no failure.
    assert!(
        progress
            .iter()
            .all(|p| !p["NoiDungXuLy"].as_str().unwrap_or("").contains("tải lên"))
    );
    let (acked, failed, _, retries) = cursor(&app, &id).await;
    assert!(!failed && retries == 0);
    assert_eq!(
        i64::from(acked),
        app.count(&format!(
            "SELECT max(seq)::bigint AS n FROM dossier_events WHERE dossier_id = '{id}'"
        ))
        .await
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM national_portal_backlog")
            .await,
        0,
        "nothing waits"
    );
}

#[tokio::test]
async fn a_session_the_portal_forgot_is_renewed_and_the_call_made_once() {
    let (app, portal) = app_with_portal().await;
    let staff = ward(&app, "ss").await;
    let (id, receipt, _) = filed(&app, 302, SERVICE).await;
    app.run_jobs().await;
    assert_eq!(portal.calls("login").await.len(), 1);

    portal.expire_sessions().await;
    act(&app, &staff.receiver, &id, "accept", None).await;
    app.run_jobs().await;
    assert_eq!(portal.calls("login").await.len(), 2, "a 401 logs in again");
    let calls = calls_about(&portal, &receipt).await;
    let kinds: Vec<&str> = calls
        .iter()
        .map(|c| c["call"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["dossier", "progress", "dossier", "progress"]);
    assert_eq!(calls[2]["body"]["TrangThaiHoSo"], 2);
    let (_, failed, _, retries) = cursor(&app, &id).await;
    assert!(!failed && retries == 0, "a renewed session is no failure");
}

#[tokio::test]
async fn without_settings_nothing_is_sent_and_nothing_waits() {
    let app = TestApp::spawn().await;
    let (_, _, _) = filed(&app, 303, SERVICE).await;
    app.run_jobs().await;
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM jobs WHERE kind = 'sync_national_portal' AND state = 'done'"
        )
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.kind = 'sync_national_portal' AND a.detail LIKE '%not configured%'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM national_portal_backlog")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM national_portal_syncs")
            .await,
        0
    );
}
