//! Records: typed data about a person or a business. Some are held by the
//! identity core itself (identity, verified contacts, the VNeID address, a
//! business's registration) and shown as records; the rest (results' data,
//! self-declared values) are stored here, each payload encrypted under its
//! own data key.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{owner_bound, record_context};
use crate::crypto::keyring::DataKey;
use crate::infra::Core;
use crate::{
    domain::{
        AccountId,
        vault::{Candidate, Owner, Provenance},
    },
    error::{AppError, AppResult, ErrorKind},
    storage::{
        accounts, businesses,
        vault::{self as store, RecordRow},
    },
};

/// A record as its owner sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordView {
    /// Id (`account:identity` and the like for data the account itself holds).
    pub id: String,
    /// `identity`, `address`, `civil_status`, `contact`, `business` …
    pub record_type: String,
    /// The data.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    /// `vneid`, `agency`, `counter`, `account` or `self_declared`.
    pub provenance: String,
    /// Where it came from, in Vietnamese.
    pub provenance_label: String,
    /// Verified by the state.
    pub verified: bool,
    /// The agency that established it.
    pub source_agency_code: Option<String>,
    /// The dossier it came from.
    pub source_dossier_id: Option<Uuid>,
    /// Holds since.
    pub issued_at: DateTime<Utc>,
    /// Holds until.
    pub valid_until: Option<DateTime<Utc>>,
    /// Whether the owner may delete it (self-declared records only).
    pub deletable: bool,
}

impl RecordView {
    fn of(c: &Candidate, row: Option<&RecordRow>) -> Self {
        Self {
            id: c.id.clone(),
            record_type: c.record_type.clone(),
            data: c.data.clone(),
            provenance: c.provenance.as_str().into(),
            provenance_label: c.provenance.label().into(),
            verified: c.verified,
            source_agency_code: row.and_then(|r| r.source_agency_code.clone()),
            source_dossier_id: row.and_then(|r| r.source_dossier_id),
            issued_at: c.issued_at,
            valid_until: c.valid_until,
            deletable: row.is_some() && c.provenance == Provenance::SelfDeclared,
        }
    }
}

fn sex_label(sex: &str) -> &'static str {
    if sex == "female" { "Nữ" } else { "Nam" }
}

/// Opens a stored record.
fn open(state: &Core, row: &RecordRow) -> AppResult<Candidate> {
    let context = record_context(row.id);
    let bound = owner_bound(&context, row.account_id, row.business_id);
    let key = DataKey::open(&state.settings.keyring, &row.data_key, &context);
    let plain = key
        .and_then(|k| k.decrypt_versioned(&row.payload, &bound, &context))
        .map_err(|e| {
            tracing::error!(record = %row.id, error = %e, "a vault record does not open");
            AppError::conflict("vault_integrity_failed")
                .with_detail("Dữ liệu lưu trữ không còn nguyên vẹn; bộ phận kỹ thuật đã được báo.")
        })?;
    let data: Map<String, Value> = serde_json::from_slice(&plain).map_err(AppError::internal)?;
    Ok(Candidate {
        id: row.id.to_string(),
        record_type: row.record_type.clone(),
        data,
        provenance: Provenance::parse(&row.provenance).unwrap_or(Provenance::SelfDeclared),
        verified: row.verified,
        issued_at: row.issued_at,
        valid_until: row.valid_until,
    })
}

/// What the identity core holds about the owner, as records.
async fn held(conn: &mut AsyncPgConnection, owner: Owner) -> AppResult<Vec<Candidate>> {
    let mut out = Vec::new();
    match owner {
        Owner::Account(account) => {
            let row = accounts::find(conn, account.as_uuid()).await?;
            let (provenance, since) = if row.assurance_level >= 2 {
                match store::identity_method(conn, row.id).await? {
                    Some((m, at)) if m == "counter" => (Provenance::Counter, at),
                    Some((_, at)) => (Provenance::Vneid, at),
                    None => (Provenance::Vneid, row.updated_at),
                }
            } else {
                (Provenance::SelfDeclared, row.created_at)
            };
            out.push(Candidate {
                id: "account:identity".into(),
                record_type: "identity".into(),
                data: json!({
                    "full_name": row.full_name,
                    "date_of_birth": row.date_of_birth.to_string(),
                    "sex": sex_label(&row.sex),
                    "national_id": row.national_id,
                })
                .as_object()
                .cloned()
                .unwrap_or_default(),
                provenance,
                verified: row.assurance_level >= 2,
                issued_at: since,
                valid_until: None,
            });
            let mut contact = Map::new();
            if let (Some(e), Some(_)) = (&row.email, row.email_verified_at) {
                contact.insert("email".into(), Value::String(e.clone()));
            }
            if let (Some(p), Some(_)) = (&row.phone, row.phone_verified_at) {
                contact.insert("phone".into(), Value::String(p.clone()));
            }
            if !contact.is_empty() {
                out.push(Candidate {
                    id: "account:contact".into(),
                    record_type: "contact".into(),
                    data: contact,
                    provenance: Provenance::Account,
                    verified: true,
                    issued_at: row
                        .email_verified_at
                        .into_iter()
                        .chain(row.phone_verified_at)
                        .max()
                        .unwrap_or(row.created_at),
                    valid_until: None,
                });
            }
            if let Some(address) = accounts::address_of(conn, row.id).await?
                && let Some(formatted) = address.get("formatted").and_then(Value::as_str)
            {
                out.push(Candidate {
                    id: "account:address".into(),
                    record_type: "address".into(),
                    data: json!({ "permanent": formatted })
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    provenance: Provenance::Vneid,
                    verified: true,
                    issued_at: since,
                    valid_until: None,
                });
            }
        }
        Owner::Business(business) => {
            let row = businesses::find(conn, business.as_uuid()).await?;
            out.push(Candidate {
                id: "business:registration".into(),
                record_type: "business".into(),
                data: json!({
                    "registration": row.tax_code,
                    "name": row.name,
                    "address": row.address,
                })
                .as_object()
                .cloned()
                .unwrap_or_default(),
                provenance: Provenance::SelfDeclared,
                verified: false,
                issued_at: row.created_at,
                valid_until: None,
            });
        }
    }
    Ok(out)
}

/// Every current record of the owner (held and stored), opened.
pub async fn candidates(
    state: &Core,
    conn: &mut AsyncPgConnection,
    owner: Owner,
) -> AppResult<Vec<Candidate>> {
    let mut out = held(conn, owner).await?;
    for row in store::current_records(conn, owner, &[]).await? {
        out.push(open(state, &row)?);
    }
    Ok(out)
}

/// A record to store.
#[derive(Debug, Clone)]
pub struct NewRecord<'a> {
    /// Whose.
    pub owner: Owner,
    /// Its type.
    pub record_type: &'a str,
    /// Its fields.
    pub data: Map<String, Value>,
    /// Where it came from.
    pub provenance: Provenance,
    /// The agency that established it.
    pub source_agency_code: Option<&'a str>,
    /// The dossier it came from.
    pub source_dossier_id: Option<Uuid>,
    /// Holds until.
    pub valid_until: Option<DateTime<Utc>>,
}

/// Stores a record, replacing the owner's current one of the same type and
/// provenance (in the caller's transaction).
pub async fn store(
    state: &Core,
    conn: &mut AsyncPgConnection,
    new: NewRecord<'_>,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    let context = record_context(id);
    let (key, sealed) = DataKey::generate(&state.settings.keyring, &context);
    let plain = serde_json::to_vec(&new.data).map_err(AppError::internal)?;
    let (account_id, business_id) = new.owner.columns();
    store::supersede_records(
        conn,
        new.owner,
        new.record_type,
        new.provenance.as_str(),
        now,
    )
    .await?;
    store::insert_record(
        conn,
        &RecordRow {
            id,
            account_id,
            business_id,
            record_type: new.record_type.to_owned(),
            data_key: sealed,
            payload: key.encrypt_bound(&plain, &owner_bound(&context, account_id, business_id)),
            provenance: new.provenance.as_str().into(),
            source_agency_code: new.source_agency_code.map(str::to_owned),
            source_dossier_id: new.source_dossier_id,
            verified: !matches!(new.provenance, Provenance::SelfDeclared),
            issued_at: now,
            valid_until: new.valid_until,
            created_at: now,
            superseded_at: None,
            deleted_at: None,
        },
    )
    .await?;
    Ok(id)
}

/// Merges self-declared values, by record type, into the owner's
/// self-declared records ("store only if submitted": called when a dossier
/// is filed). One read; a record is written only when something changed.
pub async fn declare(
    state: &Core,
    conn: &mut AsyncPgConnection,
    owner: Owner,
    by_type: std::collections::BTreeMap<String, Map<String, Value>>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if by_type.is_empty() {
        return Ok(());
    }
    let types: Vec<String> = by_type.keys().cloned().collect();
    let current = store::current_records(conn, owner, &types).await?;
    for (record_type, values) in by_type {
        let mut data = Map::new();
        if let Some(row) = current.iter().rev().find(|r| {
            r.record_type == record_type && r.provenance == Provenance::SelfDeclared.as_str()
        }) {
            data = open(state, row)?.data;
        }
        let before = data.clone();
        data.extend(values);
        if data == before {
            continue;
        }
        store(
            state,
            conn,
            NewRecord {
                owner,
                record_type: &record_type,
                data,
                provenance: Provenance::SelfDeclared,
                source_agency_code: None,
                source_dossier_id: None,
                valid_until: None,
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// The owner's records.
pub async fn list(state: &Core, owner: Owner) -> AppResult<Vec<RecordView>> {
    let mut conn = state.db.get().await?;
    let mut out: Vec<RecordView> = held(&mut conn, owner)
        .await?
        .iter()
        .map(|c| RecordView::of(c, None))
        .collect();
    for row in store::current_records(&mut conn, owner, &[]).await? {
        out.push(RecordView::of(&open(state, &row)?, Some(&row)));
    }
    Ok(out)
}

/// Deletes one of the account's self-declared records.
pub async fn delete(state: &Core, account: AccountId, id: &str) -> AppResult<()> {
    let not_found =
        || AppError::not_found("record_not_found").with_detail("Không tìm thấy dữ liệu này.");
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(if id.starts_with("account:") {
            AppError::new(ErrorKind::Conflict, "record_not_deletable").with_detail(
                "Dữ liệu này do cơ quan nhà nước xác thực hoặc thuộc tài khoản; không xóa được.",
            )
        } else {
            not_found()
        });
    };
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let row = store::record_for_update(c, id)
            .await?
            .filter(|r| {
                r.account_id == Some(account.as_uuid())
                    && r.deleted_at.is_none()
                    && r.superseded_at.is_none()
            })
            .ok_or_else(not_found)?;
        if row.provenance != Provenance::SelfDeclared.as_str() {
            return Err(AppError::conflict("record_not_deletable").with_detail(
                "Chỉ xóa được dữ liệu tự khai; dữ liệu do cơ quan nhà nước xác thực được giữ lại.",
            ));
        }
        store::delete_record(c, id, now).await?;
        Ok(())
    })
    .await
}

/// A record type's name (Vietnamese, English) for consent pages.
pub fn type_label(record_type: &str) -> (&'static str, &'static str) {
    match record_type {
        "identity" => ("Thông tin định danh", "Identity"),
        "address" => ("Địa chỉ", "Addresses"),
        "civil_status" => ("Tình trạng hôn nhân, hộ tịch", "Civil status"),
        "contact" => ("Thông tin liên hệ", "Contact details"),
        "education" => ("Văn bằng, học vấn", "Education"),
        _ => ("Dữ liệu khác", "Other data"),
    }
}

fn field_label(field: &str, english: bool) -> &str {
    let (vi, en) = match field {
        "full_name" => ("Họ tên", "Name"),
        "date_of_birth" => ("Ngày sinh", "Date of birth"),
        "sex" => ("Giới tính", "Sex"),
        "national_id" => ("Số định danh", "ID number"),
        "permanent" => ("Thường trú", "Permanent residence"),
        "current" => ("Nơi ở hiện tại", "Current residence"),
        "marital" => ("Tình trạng hôn nhân", "Marital status"),
        "email" => ("Email", "Email"),
        "phone" => ("Số điện thoại", "Phone"),
        other => (other, other),
    };
    if english { en } else { vi }
}

fn scope_type(scope: &str) -> Option<&str> {
    scope
        .strip_prefix("vault:")
        .filter(|_| crate::domain::vault::VAULT_SCOPES.contains(&scope))
}

/// The consent page's line for a vault scope: the concrete values the
/// client would read, and where they come from.
pub async fn consent_line(
    state: &Core,
    account: AccountId,
    scope: &str,
    english: bool,
) -> AppResult<Option<String>> {
    let Some(record_type) = scope_type(scope) else {
        return Ok(None);
    };
    let (vi, en) = type_label(record_type);
    let items = list(state, Owner::Account(account)).await?;
    let values: Vec<String> = items
        .iter()
        .filter(|r| r.record_type == record_type)
        .map(|r| {
            let fields: Vec<String> = r
                .data
                .iter()
                .map(|(k, v)| {
                    let shown = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    format!("{}: {shown}", field_label(k, english))
                })
                .collect();
            format!("{} ({})", fields.join("; "), r.provenance_label)
        })
        .collect();
    let label = if english { en } else { vi };
    Ok(Some(if values.is_empty() {
        format!(
            "{}: {label} — {}",
            if english {
                "Data vault"
            } else {
                "Kho dữ liệu"
            },
            if english {
                "nothing held yet"
            } else {
                "chưa có dữ liệu"
            }
        )
    } else {
        format!(
            "{}: {label} — {}",
            if english {
                "Data vault"
            } else {
                "Kho dữ liệu"
            },
            values.join(" | ")
        )
    }))
}

/// The `vault` claim for a client's consented vault scopes (none: no claim);
/// each scope read is in the owner's access log.
pub async fn for_client(
    state: &Core,
    account: AccountId,
    client_id: &str,
    scopes: &[&str],
) -> AppResult<Option<Value>> {
    let types: Vec<(&str, &str)> = scopes
        .iter()
        .filter_map(|s| Some((*s, scope_type(s)?)))
        .collect();
    if types.is_empty() {
        return Ok(None);
    }
    let now = state.clock.now();
    let items = list(state, Owner::Account(account)).await?;
    let mut claim = Map::new();
    let mut conn = state.db.get().await?;
    for (scope, record_type) in types {
        let of_type: Vec<&RecordView> = items
            .iter()
            .filter(|r| r.record_type == record_type)
            .collect();
        let mut keys: Vec<String> = of_type
            .iter()
            .flat_map(|r| r.data.keys().map(|k| format!("{record_type}.{k}")))
            .collect();
        keys.sort();
        keys.dedup();
        claim.insert(
            record_type.to_owned(),
            json!(
                of_type
                    .iter()
                    .map(|r| json!({
                        "data": r.data,
                        "provenance": r.provenance,
                        "verified": r.verified,
                        "issued_at": r.issued_at,
                        "valid_until": r.valid_until,
                    }))
                    .collect::<Vec<_>>()
            ),
        );
        if !keys.is_empty() {
            super::access::record(
                &mut conn,
                Owner::Account(account),
                super::access::Reader::Client { client_id, scope },
                keys,
                format!("Ứng dụng {client_id} đọc dữ liệu theo phạm vi {scope} đã được đồng ý"),
                now,
            )
            .await?;
        }
    }
    Ok(Some(Value::Object(claim)))
}
