//! Files attached to dossiers: PDF, JPEG and PNG, the bytes checked to be a
//! well-formed file of the declared type (`domain::file_kind`; bytes that are
//! not are refused with 422, a name or type we do not take with 415), limits per file and
//! per dossier, safe names, SHA-256 stored and checked on every read. The
//! applicant uploads while the dossier is a draft or waits for a supplement;
//! the applicant and the staff of its agency read them, each staff read
//! being a row of the dossier's log.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use object_store::{ObjectStoreExt, PutPayload, path::Path};
use serde::Serialize;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::infra::Core;
use crate::{
    domain::{AccountId, dossier::Status, file_kind::FileKind},
    error::{AppError, AppResult, ErrorKind},
    identity::staff::StaffSession,
    storage::dossiers::{self as store, FileRow},
};

/// Largest file.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Largest total per dossier.
pub const MAX_DOSSIER_BYTES: i64 = 50 * 1024 * 1024;
/// Most files per dossier.
pub const MAX_FILES: usize = 30;

/// A file as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// `application/pdf`, `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// The document type it stands for.
    pub document_type: Option<String>,
    /// Uploaded.
    pub uploaded_at: DateTime<Utc>,
}

impl From<FileRow> for FileView {
    fn from(r: FileRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            content_type: r.content_type,
            size: r.size,
            sha256: r.sha256.iter().map(|b| format!("{b:02x}")).collect(),
            document_type: r.document_type,
            uploaded_at: r.uploaded_at,
        }
    }
}

/// A safe display name: no path, no control characters, NFC, at most 150 characters.
pub fn safe_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .nfc()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '|' | ':' | '*' | '?'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    (!cleaned.is_empty() && cleaned.chars().count() <= 150).then_some(cleaned)
}

fn unsupported(detail: &str) -> AppError {
    AppError::new(ErrorKind::UnsupportedMediaType, "file_type_refused")
        .with_detail(detail.to_owned())
}

fn object_path(dossier: Uuid, file: Uuid) -> Path {
    Path::from(format!("dossiers/{dossier}/{file}"))
}

/// What an upload says about itself.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The file name given.
    pub name: String,
    /// The declared `Content-Type`.
    pub declared_type: Option<String>,
    /// The document type it stands for.
    pub document_type: Option<String>,
    /// The bytes.
    pub bytes: Bytes,
}

/// Checks an upload's name, size and content: its safe name and real type.
pub fn check_upload(upload: &Upload) -> AppResult<(String, &'static str)> {
    let name = safe_name(&upload.name).ok_or_else(|| {
        AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_detail("Tên tệp không hợp lệ.")
            .with_field(
                "name",
                "file_name_invalid",
                "Tên tệp không hợp lệ (tối đa 150 ký tự).",
            )
    })?;
    if upload.bytes.is_empty() {
        return Err(AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_detail("Tệp rỗng.")
            .with_field("file", "file_empty", "Tệp rỗng."));
    }
    if upload.bytes.len() > MAX_FILE_BYTES {
        return Err(AppError::new(ErrorKind::PayloadTooLarge, "file_too_large")
            .with_detail("Mỗi tệp tối đa 10 MB."));
    }
    // The declared type when there is one (it is what a browser would go
    // by), else what the first bytes announce; then the whole structure.
    let kind = match upload.declared_type.as_deref() {
        Some(declared) => FileKind::from_media_type(declared),
        None => FileKind::sniff(&upload.bytes),
    }
    .ok_or_else(|| unsupported("Chỉ nhận tệp PDF, JPEG hoặc PNG."))?;
    kind.check(&upload.bytes).map_err(|why| {
        AppError::new(ErrorKind::Unprocessable, "file_content_invalid")
            .with_detail(why.detail())
            .with_field("file", "file_content_invalid", why.detail())
    })?;
    if !kind.extension_fits(&name) {
        return Err(unsupported(
            "Nội dung tệp không khớp với tên hoặc loại tệp đã khai báo.",
        ));
    }
    let content_type = kind.media_type();
    Ok((name, content_type))
}

/// Attaches a file to one of the applicant's dossiers.
pub async fn attach(
    state: &Core,
    applicant: AccountId,
    dossier: Uuid,
    upload: Upload,
) -> AppResult<FileView> {
    let (name, content_type) = check_upload(&upload)?;
    if let Some(t) = &upload.document_type
        && (t.is_empty()
            || t.len() > 64
            || !t
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
    {
        return Err(AppError::new(ErrorKind::Unprocessable, "validation_failed")
            .with_detail("Mã loại giấy tờ không hợp lệ.")
            .with_field(
                "document_type",
                "document_type_invalid",
                "Mã loại giấy tờ không hợp lệ.",
            ));
    }
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let digest = Sha256::digest(&upload.bytes).to_vec();
    let size = i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX);
    // The bytes first (an orphan object is harmless; a row without bytes is not).
    state
        .files
        .put(
            &object_path(dossier, id),
            PutPayload::from_bytes(upload.bytes.clone()),
        )
        .await
        .map_err(|e| {
            AppError::unavailable("file_store_unavailable").with_source(anyhow::anyhow!(e))
        })?;
    let mut conn = state.db.get().await?;
    let row = conn
        .transaction::<_, AppError, _>(async |c| {
            let dossier_row = store::find_for_update(c, dossier)
                .await?
                .filter(|r| r.applicant_id == applicant.as_uuid())
                .ok_or_else(|| {
                    AppError::not_found("dossier_not_found").with_detail("Không tìm thấy hồ sơ.")
                })?;
            if !matches!(
                Status::parse(&dossier_row.status),
                Some(Status::Draft | Status::SupplementRequested)
            ) {
                return Err(AppError::conflict("not_editable").with_detail(
                    "Chỉ đính kèm tệp vào hồ sơ đang soạn hoặc đang được yêu cầu bổ sung.",
                ));
            }
            let existing = store::files(c, dossier).await?;
            if existing.len() >= MAX_FILES {
                return Err(AppError::new(ErrorKind::PayloadTooLarge, "too_many_files")
                    .with_detail("Mỗi hồ sơ tối đa 30 tệp."));
            }
            if existing.iter().map(|f| f.size).sum::<i64>() + size > MAX_DOSSIER_BYTES {
                return Err(
                    AppError::new(ErrorKind::PayloadTooLarge, "dossier_files_too_large")
                        .with_detail("Tổng dung lượng tệp của một hồ sơ tối đa 50 MB."),
                );
            }
            let row = FileRow {
                id,
                dossier_id: dossier,
                name: name.clone(),
                content_type: content_type.to_owned(),
                size,
                sha256: digest.clone(),
                document_type: upload.document_type.clone(),
                uploaded_at: now,
            };
            store::insert_file(c, &row).await?;
            super::log(
                c,
                dossier,
                now,
                "applicant",
                Some(applicant.as_uuid()),
                "attach",
                None,
                None,
                Some(&name),
                true,
            )
            .await?;
            Ok(row)
        })
        .await;
    match row {
        Ok(row) => Ok(FileView::from(row)),
        Err(err) => {
            // Nothing refers to the bytes: remove them.
            let _ = state.files.delete(&object_path(dossier, id)).await;
            Err(err)
        }
    }
}

/// The files of one of the applicant's dossiers.
pub async fn list(state: &Core, applicant: AccountId, dossier: Uuid) -> AppResult<Vec<FileView>> {
    let mut conn = state.db.get().await?;
    store::find(&mut conn, dossier)
        .await?
        .filter(|r| r.applicant_id == applicant.as_uuid())
        .ok_or_else(|| {
            AppError::not_found("dossier_not_found").with_detail("Không tìm thấy hồ sơ.")
        })?;
    Ok(store::files(&mut conn, dossier)
        .await?
        .into_iter()
        .map(FileView::from)
        .collect())
}

/// Who reads a file.
pub enum Reader<'a> {
    /// The applicant.
    Applicant(AccountId),
    /// A civil servant of the dossier's agency (the read is logged).
    Staff(&'a StaffSession),
}

/// A file's bytes, after checking them against their SHA-256.
pub async fn read(
    state: &Core,
    reader: Reader<'_>,
    dossier: Uuid,
    file: Uuid,
) -> AppResult<(FileRow, Bytes)> {
    let not_found = || AppError::not_found("file_not_found").with_detail("Không tìm thấy tệp.");
    let mut conn = state.db.get().await?;
    let dossier_row = store::find(&mut conn, dossier)
        .await?
        .ok_or_else(not_found)?;
    let allowed = match &reader {
        Reader::Applicant(a) => dossier_row.applicant_id == a.as_uuid(),
        Reader::Staff(s) => {
            dossier_row.agency_code == s.agency_code && dossier_row.status != Status::Draft.as_str()
        }
    };
    if !allowed {
        return Err(not_found());
    }
    let row = store::file(&mut conn, dossier, file)
        .await?
        .ok_or_else(not_found)?;
    drop(conn);
    let bytes = state
        .files
        .get(&object_path(dossier, file))
        .await
        .map_err(|e| {
            AppError::unavailable("file_store_unavailable").with_source(anyhow::anyhow!(e))
        })?
        .bytes()
        .await
        .map_err(|e| {
            AppError::unavailable("file_store_unavailable").with_source(anyhow::anyhow!(e))
        })?;
    if Sha256::digest(&bytes).to_vec() != row.sha256 {
        tracing::error!(dossier = %dossier, file = %file, "a stored file does not match its SHA-256");
        return Err(AppError::conflict("file_integrity_failed")
            .with_detail("Tệp lưu trữ không còn nguyên vẹn; bộ phận kỹ thuật đã được báo."));
    }
    if let Reader::Staff(s) = reader {
        let now = state.clock.now();
        let mut conn = state.db.get().await?;
        let note = format!("Xem tệp: {}", row.name);
        conn.transaction::<_, AppError, _>(async |c| {
            // Serialise with other log writers of this dossier.
            store::find_for_update(c, dossier).await?;
            super::log(
                c,
                dossier,
                now,
                "staff",
                Some(s.staff_id),
                "file_read",
                None,
                None,
                Some(&note),
                false,
            )
            .await
        })
        .await?;
    }
    Ok((row, bytes))
}
