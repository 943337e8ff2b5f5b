//! The records the portal takes, with the field names of the national
//! specification: the dossier (`POST /api/dossiers`, created or updated by
//! `MaHoSo`) and its progress entries (`POST /api/dossiers/{MaHoSo}/progress`).
//! Every date is `yyyyMMddHHmmss` in the city's time.

use serde::Serialize;

use crate::{
    domain::{
        dossier::Status,
        national_portal::{LogRow, portal_time, status_code},
    },
    storage::{
        catalog::ServiceRow,
        dossiers::{DossierRow, EventRow},
        national_portal::SupplementRow,
    },
};

/// The dossier as the portal holds it.
#[derive(Debug, Clone, Serialize)]
pub struct DossierRecord {
    /// The receipt code (mã hồ sơ).
    #[serde(rename = "MaHoSo")]
    pub ma_ho_so: String,
    /// The national procedure code (mã TTHC).
    #[serde(rename = "MaTTHC")]
    pub ma_tthc: String,
    /// The procedure's name.
    #[serde(rename = "TenTTHC")]
    pub ten_tthc: String,
    /// The city's unit code in the national catalogue.
    #[serde(rename = "MaDonVi")]
    pub ma_don_vi: String,
    /// The agency handling it (its unit code).
    #[serde(rename = "DonViXuLy")]
    pub don_vi_xu_ly: String,
    /// The applicant.
    #[serde(rename = "ChuHoSo")]
    pub chu_ho_so: Applicant,
    /// When it was received (filed).
    #[serde(rename = "NgayTiepNhan")]
    pub ngay_tiep_nhan: String,
    /// The due date, once taken in.
    #[serde(rename = "NgayHenTra")]
    pub ngay_hen_tra: Option<String>,
    /// The national status code (1–10).
    #[serde(rename = "TrangThaiHoSo")]
    pub trang_thai_ho_so: i16,
    /// When the result was handed over.
    #[serde(rename = "NgayTra")]
    pub ngay_tra: Option<String>,
    /// Fees.
    #[serde(rename = "PhiLePhi")]
    pub phi_le_phi: Vec<Fee>,
    /// Supplements asked for, with the due dates before and after.
    #[serde(rename = "DanhSachBoSung")]
    pub danh_sach_bo_sung: Vec<Supplement>,
}

/// The applicant (chủ hồ sơ).
#[derive(Debug, Clone, Serialize)]
pub struct Applicant {
    /// 1: a person; 2: an organisation.
    #[serde(rename = "LoaiDoiTuong")]
    pub loai_doi_tuong: u8,
    /// Full name, or the business's name.
    #[serde(rename = "HoVaTen")]
    pub ho_va_ten: String,
    /// The personal identification number, or the tax code.
    #[serde(rename = "SoDinhDanh")]
    pub so_dinh_danh: String,
}

/// A fee (phí, lệ phí).
#[derive(Debug, Clone, Serialize)]
pub struct Fee {
    /// What it is.
    #[serde(rename = "TenPhiLePhi")]
    pub ten: String,
    /// The amount in VND.
    #[serde(rename = "MucPhi")]
    pub muc_phi: i64,
}

/// A supplement asked for.
#[derive(Debug, Clone, Serialize)]
pub struct Supplement {
    /// When it was asked for.
    #[serde(rename = "NgayYeuCauBoSung")]
    pub ngay_yeu_cau: String,
    /// What was missing.
    #[serde(rename = "NoiDungBoSung")]
    pub noi_dung: String,
    /// When the applicant supplied it.
    #[serde(rename = "NgayBoSung")]
    pub ngay_bo_sung: Option<String>,
    /// The due date before the request.
    #[serde(rename = "NgayHenTraCu")]
    pub ngay_hen_tra_cu: Option<String>,
    /// The due date the supplement set.
    #[serde(rename = "NgayHenTraMoi")]
    pub ngay_hen_tra_moi: Option<String>,
}

/// A progress entry (tiến độ xử lý).
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    /// Its place in the dossier's log (the portal takes each once).
    #[serde(rename = "SoThuTu")]
    pub so_thu_tu: i32,
    /// Who acted.
    #[serde(rename = "NguoiXuLy")]
    pub nguoi_xu_ly: String,
    /// When.
    #[serde(rename = "ThoiDiemXuLy")]
    pub thoi_diem_xu_ly: String,
    /// What was done.
    #[serde(rename = "NoiDungXuLy")]
    pub noi_dung_xu_ly: String,
    /// The national status code after it.
    #[serde(rename = "TrangThai")]
    pub trang_thai: i16,
}

/// What the record is made of.
pub struct RecordSource<'a> {
    /// The dossier.
    pub dossier: &'a DossierRow,
    /// Its receipt code.
    pub receipt_code: &'a str,
    /// Its service.
    pub service: &'a ServiceRow,
    /// The national procedure code.
    pub national_code: &'a str,
    /// The city's unit code.
    pub unit_code: &'a str,
    /// The applicant: name and ID (or tax code); whether a business.
    pub applicant: (&'a str, &'a str, bool),
    /// The whole log, in order.
    pub log: &'a [EventRow],
    /// The supplement requests.
    pub supplements: &'a [SupplementRow],
}

/// A log row as the domain reads it.
pub fn log_row(row: &EventRow) -> LogRow<'_> {
    LogRow {
        action: &row.action,
        from: row.from_status.as_deref().and_then(Status::parse),
        to: row.to_status.as_deref().and_then(Status::parse),
        visible: row.visible,
        note: row.note.as_deref(),
    }
}

impl DossierRecord {
    /// The record of a filed dossier as it stands.
    pub fn of(source: &RecordSource<'_>) -> Self {
        let d = source.dossier;
        let status = Status::parse(&d.status).unwrap_or(Status::Submitted);
        let time = |at: &Option<chrono::DateTime<chrono::Utc>>| at.map(portal_time);
        let ngay_tra = (status == Status::Returned)
            .then(|| {
                source
                    .log
                    .iter()
                    .rev()
                    .find(|r| log_row(r).to == Some(Status::Returned))
                    .map(|r| portal_time(r.at))
            })
            .flatten();
        let note_of = |seq: i32| {
            source
                .log
                .iter()
                .find(|r| r.seq == seq)
                .and_then(|r| r.note.clone())
                .unwrap_or_default()
        };
        let (name, id, business) = source.applicant;
        Self {
            ma_ho_so: source.receipt_code.to_owned(),
            ma_tthc: source.national_code.to_owned(),
            ten_tthc: source.service.name.clone(),
            ma_don_vi: source.unit_code.to_owned(),
            don_vi_xu_ly: d.agency_code.clone(),
            chu_ho_so: Applicant {
                loai_doi_tuong: if business { 2 } else { 1 },
                ho_va_ten: name.to_owned(),
                so_dinh_danh: id.to_owned(),
            },
            ngay_tiep_nhan: portal_time(d.submitted_at.unwrap_or(d.created_at)),
            ngay_hen_tra: time(&d.due_at),
            trang_thai_ho_so: status_code(status),
            ngay_tra,
            phi_le_phi: source
                .service
                .fee_vnd
                .filter(|amount| *amount > 0)
                .map(|amount| Fee {
                    ten: source
                        .service
                        .fee_note
                        .clone()
                        .unwrap_or_else(|| "Phí, lệ phí".into()),
                    muc_phi: amount,
                })
                .into_iter()
                .collect(),
            danh_sach_bo_sung: source
                .supplements
                .iter()
                .map(|s| Supplement {
                    ngay_yeu_cau: portal_time(s.requested_at),
                    noi_dung: note_of(s.requested_seq),
                    ngay_bo_sung: time(&s.supplied_at),
                    ngay_hen_tra_cu: time(&s.due_before),
                    ngay_hen_tra_moi: time(&s.due_after),
                })
                .collect(),
        }
    }
}

impl Progress {
    /// The entry of log row `row`, after which the dossier is in `status`,
    /// done by `who`.
    pub fn of(row: &EventRow, status: Status, who: &str) -> Self {
        Self {
            so_thu_tu: row.seq,
            nguoi_xu_ly: who.to_owned(),
            thoi_diem_xu_ly: portal_time(row.at),
            noi_dung_xu_ly: log_row(row).content(),
            trang_thai: status_code(status),
        }
    }
}
