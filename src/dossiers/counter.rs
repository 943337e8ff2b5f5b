//! Counter intake: a receiver files a dossier for a citizen who came to the
//! one-stop counter in person. The dossier is the citizen's (they follow it
//! in the app and get its emails), its channel is `counter`, its form is
//! prefilled from the citizen's vault like an online draft, and it is filed
//! at once with a receipt code; the log names the receiver.

use chrono::DateTime;
use chrono::Utc;
use diesel_async::AsyncConnection;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{LogLine, append_after, emails, form_errors};
use crate::infra::Core;
use crate::{
    catalog,
    domain::{
        AccountId, NationalId,
        calendar::city_tz,
        dossier::{self, Action, Status},
        form::{self, FormField},
        staff::StaffRole,
        staff_event::StaffEvent,
        vault::Owner,
    },
    error::{AppError, AppResult, ErrorKind},
    identity::{
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    storage::{
        accounts, catalog as catalog_store,
        dossiers::{self as store, DossierRow},
        vault as vault_store,
    },
    vault::access::Reader,
};

/// The citizen at the counter and the form of the service they ask for,
/// prefilled from their vault.
#[derive(Debug)]
pub struct CounterForm {
    /// The citizen's account.
    pub account: AccountId,
    /// Their name.
    pub full_name: String,
    /// The service's code and name.
    pub service: (String, String),
    /// The form's fields.
    pub fields: Vec<FormField>,
    /// Values known already (from the vault).
    pub values: Map<String, Value>,
}

/// Why a receiver reads a citizen's vault at the counter (the access log's purpose).
pub fn counter_purpose(service_name: &str) -> String {
    format!("Tiếp nhận hồ sơ tại quầy: {service_name}")
}

fn receiver_only(staff: &StaffSession) -> AppResult<()> {
    if staff.has(StaffRole::Receiver) {
        Ok(())
    } else {
        Err(AppError::new(ErrorKind::Forbidden, "role_not_allowed")
            .with_detail("Chỉ cán bộ tiếp nhận được nhận hồ sơ tại quầy."))
    }
}

/// The citizen's account, the service and its form, checked.
struct Found {
    account: accounts::AccountRow,
    service: crate::storage::catalog::ServiceRow,
    fields: Vec<FormField>,
}

/// Finds the citizen and the service (one the receiver's agency handles).
async fn find(
    conn: &mut diesel_async::AsyncPgConnection,
    staff: &StaffSession,
    national_id: &str,
    service_code: &str,
) -> AppResult<Found> {
    receiver_only(staff)?;
    let mut errors = crate::error::FieldErrors::default();
    let id = match NationalId::parse(national_id.trim()) {
        Ok(id) => Some(id),
        Err(e) => {
            errors.push("national_id", e);
            None
        }
    };
    let account = match &id {
        Some(id) => {
            let found = accounts::find_by_national_id(conn, id.as_str()).await?;
            if found.as_ref().is_none_or(|a| a.status != "active") {
                errors.push(
                    "national_id",
                    crate::domain::Invalid::new(
                        "citizen_without_account",
                        "Công dân chưa có tài khoản đang hoạt động: hướng dẫn công dân đăng ký tài khoản trước.",
                    ),
                );
            }
            found
        }
        None => None,
    };
    let service = catalog_store::service(conn, service_code.trim()).await?;
    let handles = match &service {
        Some(s) => catalog_store::handles(conn, &staff.agency_code, &s.code).await?,
        None => false,
    };
    if !handles {
        errors.push(
            "service_code",
            crate::domain::Invalid::new(
                "agency_does_not_handle_service",
                "Đơn vị của bạn không giải quyết hoặc đang tạm ngừng tiếp nhận thủ tục này.",
            ),
        );
    }
    errors.into_result()?;
    let (Some(account), Some(service)) = (account, service) else {
        return Err(AppError::internal(anyhow::anyhow!("checked above")));
    };
    let fields = catalog::form_of(&service)?;
    Ok(Found {
        account,
        service,
        fields,
    })
}

/// The citizen and the form of the service, prefilled from their vault.
pub async fn start(
    state: &Core,
    staff: &StaffSession,
    national_id: &str,
    service_code: &str,
) -> AppResult<CounterForm> {
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let found = find(&mut conn, staff, national_id, service_code).await?;
    let account = AccountId::from(found.account.id);
    let prefilled = crate::vault::prefill::prefill(
        state,
        &mut conn,
        account,
        None,
        &found.fields,
        Map::new(),
        &[],
        now,
    )
    .await?;
    // The look-up is a read of the citizen's vault by someone else: the
    // citizen's access log and the agency's trail say who, where and why.
    let items = prefilled.vault_items();
    conn.transaction::<_, AppError, _>(async |c| {
        crate::vault::access::record(
            c,
            Owner::Account(account),
            Reader::Counter {
                staff_id: staff.staff_id,
                agency_code: &staff.agency_code,
            },
            items.clone(),
            counter_purpose(&found.service.name),
            now,
        )
        .await?;
        staff_events::record(
            c,
            &staff.into(),
            Entry::about(StaffEvent::CounterPrefilled, account.to_string())
                .with(serde_json::json!({ "service": found.service.code, "items": items })),
            now,
        )
        .await
    })
    .await?;
    Ok(CounterForm {
        account: AccountId::from(found.account.id),
        full_name: found.account.full_name,
        service: (found.service.code, found.service.name),
        fields: found.fields,
        values: prefilled.values,
    })
}

/// Files the dossier for the citizen with the values the receiver entered
/// (empty ones left out); its id.
pub async fn file(
    state: &Core,
    staff: &StaffSession,
    national_id: &str,
    service_code: &str,
    entered: Map<String, Value>,
) -> AppResult<Uuid> {
    let now: DateTime<Utc> = state.clock.now();
    let mut conn = state.db.get().await?;
    let Found {
        account,
        service,
        fields,
    } = find(&mut conn, staff, national_id, service_code).await?;
    let account = AccountId::from(account.id);
    let entered: Map<String, Value> = entered
        .into_iter()
        .filter(|(_, v)| v.as_str().is_none_or(|s| !s.trim().is_empty()))
        .collect();
    let given = form::check_values(&fields, &entered, false).map_err(form_errors)?;
    let prefilled = crate::vault::prefill::prefill(
        state,
        &mut conn,
        account,
        None,
        &fields,
        given,
        &catalog::required_documents(&service),
        now,
    )
    .await?;
    form::check_values(&fields, &prefilled.values, true).map_err(form_errors)?;
    conn.transaction::<_, AppError, _>(async |c| {
        let day = now.with_timezone(&city_tz()).date_naive();
        let seq = store::next_receipt_number(c, &staff.agency_code, day).await?;
        let row = DossierRow {
            id: Uuid::now_v7(),
            service_code: service.code.clone(),
            agency_code: staff.agency_code.clone(),
            applicant_id: account.as_uuid(),
            business_id: None,
            status: Status::Submitted.as_str().into(),
            status_code: Status::Submitted.national_code(),
            channel: "counter".into(),
            form_values: Value::Object(prefilled.values.clone()),
            value_sources: Value::Object(prefilled.sources.clone()),
            version: 1,
            receipt_code: Some(dossier::receipt_code(&staff.agency_code, day, seq)),
            submitted_at: Some(now),
            accepted_at: None,
            due_at: None,
            paused_at: None,
            decided_at: None,
            decision: None,
            queue_at: Some(now),
            created_at: now,
            updated_at: now,
        };
        store::insert(c, &row).await?;
        vault_store::insert_refs(c, row.id, &prefilled.refs, now).await?;
        let items = prefilled.vault_items();
        if !items.is_empty() {
            crate::vault::access::record(
                c,
                Owner::Account(account),
                Reader::Staff {
                    staff_id: staff.staff_id,
                    agency_code: &staff.agency_code,
                    dossier_id: row.id,
                },
                items,
                counter_purpose(&service.name),
                now,
            )
            .await?;
        }
        let created = append_after(
            c,
            row.id,
            None,
            LogLine {
                at: now,
                actor_kind: "staff",
                actor_id: Some(staff.staff_id),
                action: "create",
                from: None,
                to: Some(Status::Draft),
                note: Some("Tiếp nhận tại quầy"),
                visible: true,
            },
        )
        .await?;
        append_after(
            c,
            row.id,
            Some(created),
            LogLine {
                at: now,
                actor_kind: "staff",
                actor_id: Some(staff.staff_id),
                action: "counter_filing",
                from: Some(Status::Draft),
                to: Some(Status::Submitted),
                note: None,
                visible: true,
            },
        )
        .await?;
        crate::vault::prefill::keep_declared(
            state,
            c,
            account,
            None,
            &fields,
            &prefilled.values,
            &prefilled.sources,
            now,
        )
        .await?;
        emails::notify_applicant(state, c, &row, &service, Action::Submit, None, now).await?;
        staff_events::record(
            c,
            &staff.into(),
            Entry::dossier(StaffEvent::CounterFiled, row.id)
                .with(serde_json::json!({ "service": service.code })),
            now,
        )
        .await?;
        Ok(row.id)
    })
    .await
}
