//! Documents: result files the city issued, encrypted in the object store
//! under their own data key, with the SHA-256 of the plaintext checked on
//! every read. A civil servant stages the result of a dossier; approving the
//! dossier signs it with the agency's key and puts it in the applicant's (or
//! the business's) vault. Anyone can check a signed result at /verify.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use object_store::{ObjectStoreExt, PutPayload};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{document_context, object_path, owner_bound, signing};
use crate::crypto::keyring::DataKey;
use crate::infra::Core;
use crate::{
    domain::{
        AccountId,
        vault::{Owner, ResultStatement},
    },
    error::{AppError, AppResult},
    storage::{
        businesses,
        vault::{self as store, DocumentRow},
    },
};

/// A document as its owner sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    /// Id (also the path of its public check: `/verify/{id}`).
    pub id: Uuid,
    /// Document type code.
    pub document_type: String,
    /// Required-document codes it also stands for.
    pub satisfies: Vec<String>,
    /// What it is.
    pub title: String,
    /// File name.
    pub file_name: String,
    /// Media type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// The issuing agency.
    pub issuer_agency_code: Option<String>,
    /// The dossier it decided.
    pub source_dossier_id: Option<Uuid>,
    /// Its receipt code.
    pub receipt_code: Option<String>,
    /// Issued.
    pub issued_at: Option<DateTime<Utc>>,
    /// Valid until.
    pub valid_until: Option<DateTime<Utc>>,
    /// Where anyone can check it.
    pub verify_url: String,
}

impl DocumentView {
    /// The view of a row.
    pub fn of(state: &Core, row: &DocumentRow) -> Self {
        Self {
            id: row.id,
            document_type: row.document_type.clone(),
            satisfies: row.satisfies.clone(),
            title: row.title.clone(),
            file_name: row.file_name.clone(),
            content_type: row.content_type.clone(),
            size: row.size,
            sha256: crate::crypto::tokens::hex(&row.sha256),
            issuer_agency_code: row.issuer_agency_code.clone(),
            source_dossier_id: row.source_dossier_id,
            receipt_code: row.receipt_code.clone(),
            issued_at: row.issued_at,
            valid_until: row.valid_until,
            verify_url: format!("{}/verify/{}", state.settings.public_url, row.id),
        }
    }
}

/// Encrypts `bytes` under a new data key for document `id` of `owner` (bound
/// to both) and stores them; the sealed data key and the plaintext's SHA-256.
pub async fn put(
    state: &Core,
    id: Uuid,
    owner: Owner,
    bytes: &[u8],
) -> AppResult<(String, Vec<u8>)> {
    let context = document_context(id);
    let (account, business) = owner.columns();
    let (key, sealed) = DataKey::generate(&state.settings.keyring, &context);
    let digest = Sha256::digest(bytes).to_vec();
    state
        .files
        .put(
            &object_path(id),
            PutPayload::from(key.encrypt_bound(bytes, &owner_bound(&context, account, business))),
        )
        .await
        .map_err(|e| {
            AppError::unavailable("file_store_unavailable").with_source(anyhow::anyhow!(e))
        })?;
    Ok((sealed, digest))
}

/// Removes a document's bytes (after its row is gone or never came).
pub async fn remove(state: &Core, id: Uuid) {
    let _ = state.files.delete(&object_path(id)).await;
}

fn tampered(id: Uuid, why: &str) -> AppError {
    tracing::error!(document = %id, why, "a vault document failed its integrity check");
    AppError::conflict("vault_integrity_failed")
        .with_detail("Tài liệu lưu trữ không còn nguyên vẹn; bộ phận kỹ thuật đã được báo.")
}

/// A document's plaintext, after decrypting it and checking its SHA-256.
pub async fn bytes(state: &Core, row: &DocumentRow) -> AppResult<Bytes> {
    let stored = state
        .files
        .get(&object_path(row.id))
        .await
        .map_err(|e| {
            AppError::unavailable("file_store_unavailable").with_source(anyhow::anyhow!(e))
        })?
        .bytes()
        .await
        .map_err(|e| {
            AppError::unavailable("file_store_unavailable").with_source(anyhow::anyhow!(e))
        })?;
    let context = document_context(row.id);
    let key = DataKey::open(&state.settings.keyring, &row.data_key, &context)
        .map_err(|_| tampered(row.id, "data key"))?;
    let bound = owner_bound(&context, row.account_id, row.business_id);
    let plain = key
        .decrypt_versioned(&stored, &bound, &context)
        .map_err(|_| tampered(row.id, "ciphertext"))?;
    if Sha256::digest(&plain)[..] != row.sha256[..] {
        return Err(tampered(row.id, "sha256"));
    }
    Ok(Bytes::from(plain))
}

/// The statement a document's signature covers.
pub fn statement(row: &DocumentRow) -> Option<ResultStatement<'_>> {
    Some(ResultStatement {
        document_id: row.id,
        document_type: &row.document_type,
        issuer: row.issuer_agency_code.as_deref()?,
        receipt_code: row.receipt_code.as_deref(),
        issued_at: row.issued_at?,
        valid_until: row.valid_until,
        sha256: &row.sha256,
    })
}

/// Issues a staged document in the caller's transaction: dated, signed by
/// `agency`'s key.
pub async fn issue(
    state: &Core,
    conn: &mut AsyncPgConnection,
    staged: &DocumentRow,
    agency: &str,
    receipt_code: Option<&str>,
    valid_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut issued = staged.clone();
    issued.issuer_agency_code = Some(agency.to_owned());
    issued.receipt_code = receipt_code.map(str::to_owned);
    issued.issued_at = Some(now);
    issued.valid_until = valid_until;
    let message = statement(&issued)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("statement incomplete")))?
        .to_bytes();
    let (key, signature) = signing::sign(state, conn, agency, &message, now).await?;
    store::issue_document(
        conn,
        staged.id,
        agency,
        key,
        &signature,
        now,
        valid_until,
        receipt_code,
    )
    .await?;
    Ok(())
}

/// The owner's issued documents.
pub async fn list(state: &Core, owner: Owner) -> AppResult<Vec<DocumentView>> {
    let mut conn = state.db.get().await?;
    Ok(store::owner_documents(&mut conn, owner)
        .await?
        .iter()
        .map(|r| DocumentView::of(state, r))
        .collect())
}

/// One of the account's documents (or of a business it acts for), with its bytes.
pub async fn download(
    state: &Core,
    account: AccountId,
    id: Uuid,
) -> AppResult<(DocumentRow, Bytes)> {
    let not_found =
        || AppError::not_found("document_not_found").with_detail("Không tìm thấy tài liệu.");
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let row = store::document(&mut conn, id)
        .await?
        .filter(|r| r.status == "issued")
        .ok_or_else(not_found)?;
    let mine = match Owner::from_columns(row.account_id, row.business_id) {
        Some(Owner::Account(a)) => a == account,
        Some(Owner::Business(b)) => businesses::acting_for(&mut conn, account.as_uuid(), now)
            .await?
            .iter()
            .any(|(x, _)| x.id == b.as_uuid()),
        None => false,
    };
    if !mine {
        return Err(not_found());
    }
    drop(conn);
    let bytes = bytes(state, &row).await?;
    Ok((row, bytes))
}

/// What /verify tells anyone about a document: nothing about its holder.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    /// The document.
    pub document_id: Uuid,
    /// Whether the issuing agency's signature over these facts is valid.
    pub signature_valid: bool,
    /// Whether it is within its validity (and the signature is valid).
    pub valid: bool,
    /// Why not, in Vietnamese.
    pub reason: Option<String>,
    /// Document type code.
    pub document_type: String,
    /// What it is.
    pub title: String,
    /// The issuing agency's code.
    pub issuer_agency_code: Option<String>,
    /// Its name.
    pub issuer_name: Option<String>,
    /// The dossier's receipt code.
    pub receipt_code: Option<String>,
    /// Issued.
    pub issued_at: Option<DateTime<Utc>>,
    /// Valid until.
    pub valid_until: Option<DateTime<Utc>>,
    /// SHA-256 of the genuine file, hex: compare a copy's.
    pub sha256: String,
    /// `ES256`.
    pub algorithm: Option<String>,
    /// The signing key.
    pub key_id: Option<Uuid>,
    /// With an uploaded copy: whether it is the genuine file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_matches: Option<bool>,
}

/// Checks a document's signature (and, with `copy`, a copy of its file).
pub async fn verify(state: &Core, id: Uuid, copy: Option<&[u8]>) -> AppResult<Verification> {
    let not_found = || {
        AppError::not_found("document_not_found")
            .with_detail("Không có văn bản nào do Thành phố cấp với mã này.")
    };
    let mut conn = state.db.get().await?;
    let (row, key, issuer_name) = store::verification(&mut conn, id)
        .await?
        .ok_or_else(not_found)?;
    drop(conn);
    let signature_valid = match (&key, &row.signature, statement(&row)) {
        (Some(k), Some(sig), Some(st)) => {
            Some(&k.agency_code) == row.issuer_agency_code.as_ref()
                && signing::verifies(&k.public_key, &st.to_bytes(), sig)
        }
        _ => false,
    };
    let now = state.clock.now();
    let expired = row.valid_until.is_some_and(|v| v <= now);
    let reason = if !signature_valid {
        Some("Chữ ký số không hợp lệ: nội dung văn bản đã bị thay đổi hoặc không do cơ quan này cấp.".to_owned())
    } else if expired {
        Some("Văn bản đã hết thời hạn sử dụng.".to_owned())
    } else {
        None
    };
    Ok(Verification {
        document_id: row.id,
        signature_valid,
        valid: signature_valid && !expired,
        reason,
        document_type: row.document_type.clone(),
        title: row.title.clone(),
        issuer_agency_code: row.issuer_agency_code.clone(),
        issuer_name,
        receipt_code: row.receipt_code.clone(),
        issued_at: row.issued_at,
        valid_until: row.valid_until,
        sha256: crate::crypto::tokens::hex(&row.sha256),
        algorithm: key.as_ref().map(|k| k.algorithm.clone()),
        key_id: key.as_ref().map(|k| k.id),
        file_matches: copy.map(|c| Sha256::digest(c)[..] == row.sha256[..]),
    })
}
