//! Where dossiers meet the vault: the result a civil servant stages before
//! the decision, its issue (signed, into the applicant's vault, with the
//! records it establishes) when the dossier is approved, the vault documents
//! a dossier uses by reference, and the access-log rows of staff reads.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{files, not_found};
use crate::infra::Core;
use crate::{
    catalog,
    domain::{
        AccountId, BusinessId,
        dossier::Status,
        staff::StaffRole,
        staff_event::StaffEvent,
        vault::{Owner, Provenance, VaultKey},
    },
    error::{AppError, AppResult, ErrorKind},
    identity::{
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    storage::{
        catalog::ServiceRow,
        dossiers::{self as store, DossierRow},
        vault::{self as vault_store, DocumentRow},
    },
    vault::{
        access::{self, Reader},
        documents::{self, DocumentView},
        records::{self, NewRecord},
    },
};

/// The owner of a dossier's vault items: the business it is filed for, or the applicant.
pub fn owner_of(row: &DossierRow) -> Owner {
    match row.business_id {
        Some(b) => Owner::Business(BusinessId::from(b)),
        None => Owner::Account(AccountId::from(row.applicant_id)),
    }
}

/// A vault document a dossier uses.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VaultRefView {
    /// The requirement it fulfils (a required-document code of the service).
    pub required_type: String,
    /// The document.
    pub document: DocumentView,
}

/// The vault documents a dossier refers to.
pub async fn refs(
    state: &Core,
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> AppResult<Vec<VaultRefView>> {
    Ok(vault_store::refs(conn, dossier)
        .await?
        .into_iter()
        .map(|(required_type, row)| VaultRefView {
            required_type,
            document: DocumentView::of(state, &row),
        })
        .collect())
}

/// The result issued for a dossier, if any.
pub async fn issued(
    state: &Core,
    conn: &mut AsyncPgConnection,
    dossier: Uuid,
) -> AppResult<Option<DocumentView>> {
    Ok(vault_store::issued_for(conn, dossier)
        .await?
        .map(|r| DocumentView::of(state, &r)))
}

/// A civil servant stages the result document of a dossier being processed
/// (replacing one staged before); it is issued when the dossier is approved.
pub async fn stage(
    state: &Core,
    staff: &StaffSession,
    dossier: Uuid,
    upload: files::Upload,
) -> AppResult<DocumentView> {
    if !(staff.has(StaffRole::Processor) || staff.has(StaffRole::Approver)) {
        return Err(AppError::new(ErrorKind::Forbidden, "role_not_allowed")
            .with_detail("Chỉ cán bộ xử lý hoặc phê duyệt được tải lên văn bản kết quả."));
    }
    let (name, content_type) = files::check_upload(&upload)?;
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let row = store::find(&mut conn, dossier)
        .await?
        .filter(|r| r.agency_code == staff.agency_code && r.status != Status::Draft.as_str())
        .ok_or_else(not_found)?;
    let service = service_of(&mut conn, &row).await?;
    let result = catalog::result_of(&service)?.ok_or_else(|| {
        AppError::conflict("no_result_document")
            .with_detail("Thủ tục này không cấp văn bản kết quả.")
    })?;
    drop(conn);
    let id = Uuid::now_v7();
    let owner = owner_of(&row);
    let (data_key, sha256) = documents::put(state, id, owner, &upload.bytes).await?;
    let (account_id, business_id) = owner.columns();
    let doc = DocumentRow {
        id,
        account_id,
        business_id,
        document_type: result.type_code.clone(),
        satisfies: result.satisfies.clone(),
        title: result.name.clone(),
        file_name: name.clone(),
        content_type: content_type.to_owned(),
        size: i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX),
        sha256,
        data_key,
        status: "staged".into(),
        issuer_agency_code: None,
        source_dossier_id: Some(dossier),
        receipt_code: None,
        issued_at: None,
        valid_until: None,
        signing_key_id: None,
        signature: None,
        created_at: now,
    };
    let mut conn = state.db.get().await?;
    let outcome = conn
        .transaction::<_, AppError, _>(async |c| {
            let locked = store::find_for_update(c, dossier)
                .await?
                .filter(|r| r.agency_code == staff.agency_code)
                .ok_or_else(not_found)?;
            if !matches!(
                Status::parse(&locked.status),
                Some(Status::Accepted | Status::Processing)
            ) {
                return Err(AppError::conflict("not_processing")
                    .with_detail("Chỉ tải lên văn bản kết quả khi hồ sơ đang được giải quyết."));
            }
            let replaced = vault_store::delete_staged(c, dossier).await?;
            vault_store::insert_document(c, &doc).await?;
            super::log(
                c,
                dossier,
                now,
                "staff",
                Some(staff.staff_id),
                "result_staged",
                None,
                None,
                Some(&name),
                false,
            )
            .await?;
            staff_events::record(
                c,
                &staff.into(),
                Entry::dossier(StaffEvent::ResultUploaded, dossier)
                    .with(serde_json::json!({ "document": id, "replaced": replaced })),
                now,
            )
            .await?;
            Ok(replaced)
        })
        .await;
    match outcome {
        Ok(replaced) => {
            if let Some(old) = replaced {
                documents::remove(state, old).await;
            }
            Ok(DocumentView::of(state, &doc))
        }
        Err(err) => {
            documents::remove(state, id).await;
            Err(err)
        }
    }
}

async fn service_of(conn: &mut AsyncPgConnection, row: &DossierRow) -> AppResult<ServiceRow> {
    crate::storage::catalog::service(conn, &row.service_code)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("service vanished")))
}

/// On approval (in its transaction): issues the staged result, signed by the
/// deciding agency, and stores the records it establishes. A service with a
/// result cannot be approved without one staged.
pub async fn on_approve(
    state: &Core,
    conn: &mut AsyncPgConnection,
    row: &DossierRow,
    service: &ServiceRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(result) = catalog::result_of(service)? else {
        return Ok(());
    };
    let staged = vault_store::staged_for(conn, row.id)
        .await?
        .ok_or_else(|| {
            AppError::conflict("result_missing").with_detail(format!(
                "Cần tải lên văn bản kết quả ({}) trước khi phê duyệt.",
                result.name
            ))
        })?;
    let valid_until = result
        .valid_days
        .map(|d| now + Duration::days(i64::from(d)));
    documents::issue(
        state,
        conn,
        &staged,
        &row.agency_code,
        row.receipt_code.as_deref(),
        valid_until,
        now,
    )
    .await?;
    let mut by_record: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (key, spec) in &result.establishes {
        let Ok(key) = VaultKey::parse(key) else {
            continue;
        };
        let value = match (&spec.value, &spec.field) {
            (Some(v), _) => Value::String(v.clone()),
            (None, Some(f)) => match row.form_values.get(f) {
                Some(v) if !v.is_null() => v.clone(),
                _ => continue,
            },
            (None, None) => continue,
        };
        by_record
            .entry(key.record().to_owned())
            .or_default()
            .insert(key.field().to_owned(), value);
    }
    let person = Owner::Account(AccountId::from(row.applicant_id));
    for (record_type, data) in by_record {
        let owner = match (record_type == "business", row.business_id) {
            (true, Some(b)) => Owner::Business(BusinessId::from(b)),
            _ => person,
        };
        records::store(
            state,
            conn,
            NewRecord {
                owner,
                record_type: &record_type,
                data,
                provenance: Provenance::Agency,
                source_agency_code: Some(&row.agency_code),
                source_dossier_id: Some(row.id),
                valid_until,
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// When a dossier ends without a result (rejected, stopped, withdrawn): the
/// staged result goes (its data key with its row; the bytes are unreadable).
pub async fn on_close(conn: &mut AsyncPgConnection, dossier: Uuid) -> AppResult<()> {
    vault_store::delete_staged(conn, dossier).await?;
    Ok(())
}

/// Logs a civil servant's view of the vault data in a dossier: the values
/// prefilled from the vault and the documents it uses.
pub async fn log_staff_view(
    conn: &mut AsyncPgConnection,
    staff: &StaffSession,
    row: &DossierRow,
    refs: &[VaultRefView],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut person = Vec::new();
    let mut company = Vec::new();
    if let Some(sources) = row.value_sources.as_object() {
        for s in sources.values().filter(|s| s["source"] == "vault") {
            if let Some(key) = s["vault_key"].as_str() {
                if key.starts_with("business.") {
                    company.push(key.to_owned());
                } else {
                    person.push(key.to_owned());
                }
            }
        }
    }
    let docs: Vec<String> = refs
        .iter()
        .map(|r| format!("document:{}", r.document.id))
        .collect();
    match row.business_id {
        Some(_) => company.extend(docs),
        None => person.extend(docs),
    }
    let purpose = format!(
        "Xem hồ sơ {}",
        row.receipt_code.as_deref().unwrap_or("chưa có mã")
    );
    let reader = || Reader::Staff {
        staff_id: staff.staff_id,
        agency_code: &staff.agency_code,
        dossier_id: row.id,
    };
    if !person.is_empty() {
        person.sort();
        person.dedup();
        let owner = Owner::Account(AccountId::from(row.applicant_id));
        access::record(conn, owner, reader(), person, purpose.clone(), now).await?;
    }
    if let (false, Some(b)) = (company.is_empty(), row.business_id) {
        company.sort();
        company.dedup();
        let owner = Owner::Business(BusinessId::from(b));
        access::record(conn, owner, reader(), company, purpose, now).await?;
    }
    Ok(())
}

/// A vault document a dossier of the civil servant's agency uses (or its
/// result), its bytes; the read is in the owner's access log.
pub async fn staff_read(
    state: &Core,
    staff: &StaffSession,
    dossier: Uuid,
    document: Uuid,
) -> AppResult<(DocumentRow, Bytes)> {
    let missing =
        || AppError::not_found("document_not_found").with_detail("Không tìm thấy tài liệu.");
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let row = store::find(&mut conn, dossier)
        .await?
        .filter(|r| r.agency_code == staff.agency_code && r.status != Status::Draft.as_str())
        .ok_or_else(not_found)?;
    let referenced = vault_store::refs(&mut conn, dossier)
        .await?
        .into_iter()
        .any(|(_, d)| d.id == document);
    let doc = vault_store::document(&mut conn, document)
        .await?
        .filter(|d| referenced || d.source_dossier_id == Some(dossier))
        .ok_or_else(missing)?;
    drop(conn);
    let bytes = documents::bytes(state, &doc).await?;
    if referenced {
        let owner = Owner::from_columns(doc.account_id, doc.business_id)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("document without owner")))?;
        let mut conn = state.db.get().await?;
        access::record(
            &mut conn,
            owner,
            Reader::Staff {
                staff_id: staff.staff_id,
                agency_code: &staff.agency_code,
                dossier_id: row.id,
            },
            vec![format!("document:{}", doc.id)],
            format!(
                "Xem giấy tờ “{}” của hồ sơ {}",
                doc.title,
                row.receipt_code.as_deref().unwrap_or("chưa có mã")
            ),
            now,
        )
        .await?;
    }
    Ok((doc, bytes))
}
