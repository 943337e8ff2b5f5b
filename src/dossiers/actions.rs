//! Actions on a dossier (the state machine of `domain::dossier`), each in
//! one transaction: lock, check the version and the transition, apply,
//! log, email.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    drafts::own,
    emails,
    errors::{form_errors, not_found, refused, stale},
    fees,
    idempotency::{remember, replayed, request_hash, settle},
    log::log,
    results,
    views::{detailed, status_of},
};
use crate::error::Code;
use crate::infra::Core;
use crate::{
    catalog,
    domain::{
        AccountId,
        calendar::city_tz,
        dossier::{self, Action, Actor, Status},
        form,
        payment::FeeStage,
        staff::StaffRole,
        staff_event::StaffEvent,
    },
    error::{AppError, AppResult},
    identity::{
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    storage::{
        catalog::{self as catalog_store, ServiceRow},
        dossiers::{self as store, DossierChange, DossierRow},
    },
};

/// Who acts on a dossier.
pub enum By<'a> {
    /// Its applicant.
    Applicant(AccountId),
    /// A civil servant of its agency.
    Staff(&'a StaffSession),
}

/// Takes `action` on a dossier; returns it afterwards.
pub async fn act(
    state: &Core,
    by: By<'_>,
    id: Uuid,
    action: Action,
    if_match: Option<i32>,
    note: Option<String>,
    idempotency_key: Option<&str>,
) -> AppResult<(u16, Value)> {
    let now = state.clock.now();
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::from(Code::ValidationFailed)
            .with_detail("Nội dung tối đa 2000 ký tự.")
            .with_field("note", "note_too_long", "Nội dung tối đa 2000 ký tự."));
    }
    let (account, staff) = match &by {
        By::Applicant(a) => (Some(*a), None),
        By::Staff(s) => (None, Some(*s)),
    };
    let actor = match staff {
        None => Actor::Applicant,
        Some(s) => match action.actor() {
            Actor::Staff(role) if s.has(role) => Actor::Staff(role),
            // Not a staff action, or a role this civil servant lacks.
            // (AgencyAdmin takes no dossier action, so this is refused.)
            _ => Actor::Staff(StaffRole::AgencyAdmin),
        },
    };
    let request = request_hash(&[
        "act",
        &id.to_string(),
        action.as_str(),
        note.as_deref().unwrap_or_default(),
    ]);
    let mut conn = state.db.get().await?;
    if let Some(a) = account
        && let Some(answer) = replayed(&mut conn, a, idempotency_key, &request).await?
    {
        return Ok(answer);
    }
    let step = Step {
        id,
        action,
        actor,
        account,
        staff,
        if_match,
        note: note.as_deref(),
        now,
    };
    let outcome = conn
        .transaction::<_, AppError, _>(async |c| {
            let answer = step.run(state, c).await?;
            if let Some(a) = account {
                remember(c, a, idempotency_key, &request, &answer, now).await?;
            }
            Ok(answer)
        })
        .await;
    drop(conn);
    match account {
        Some(a) => settle(state, a, idempotency_key, &request, outcome).await,
        None => outcome,
    }
}

/// One action on one dossier, as checked and applied in a transaction.
pub(super) struct Step<'a> {
    id: Uuid,
    action: Action,
    actor: Actor,
    account: Option<AccountId>,
    staff: Option<&'a StaffSession>,
    if_match: Option<i32>,
    note: Option<&'a str>,
    now: DateTime<Utc>,
}

impl Step<'_> {
    async fn run(&self, state: &Core, c: &mut AsyncPgConnection) -> AppResult<(u16, Value)> {
        let row = self.locked_row(c).await?;
        stale(self.if_match, &row)?;
        let from = status_of(&row)?;
        let to = dossier::check(from, self.action, self.actor, self.note)
            .map_err(|r| refused(r, self.action))?;
        let (service, offered) =
            catalog_store::service_offered_by(c, &row.service_code, &row.agency_code)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("service vanished")))?;
        let to = fees::target(self.action, to, &row, &service);
        let mut change = DossierChange {
            status: Some(to.as_str().into()),
            status_code: Some(to.national_code()),
            ..DossierChange::default()
        };
        self.apply(state, c, &row, (&service, offered), &mut change)
            .await?;
        let updated = store::update(c, self.id, &change, self.now).await?;
        self.record(state, c, &updated, &service, from, to).await?;
        let body = match self.staff {
            Some(s) => {
                let receiver = Actor::Staff(StaffRole::Receiver);
                detailed(state, c, &updated, receiver, &s.roles).await?
            }
            None => detailed(state, c, &updated, Actor::Applicant, &[]).await?,
        };
        Ok((200, serde_json::to_value(body).map_err(AppError::internal)?))
    }

    /// The dossier, locked: the applicant's own, or a filed one of the civil
    /// servant's agency.
    async fn locked_row(&self, c: &mut AsyncPgConnection) -> AppResult<DossierRow> {
        match (self.account, self.staff) {
            (Some(a), _) => own(c, a, self.id, true).await,
            (None, Some(s)) => store::find_for_update(c, self.id)
                .await?
                .filter(|r| r.agency_code == s.agency_code && r.status != Status::Draft.as_str())
                .ok_or_else(not_found),
            (None, None) => Err(not_found()),
        }
    }

    /// What the action does besides the status: the receipt code, the due
    /// date, the paused clock, the decision and its result.
    async fn apply(
        &self,
        state: &Core,
        c: &mut AsyncPgConnection,
        row: &DossierRow,
        (service, offered): (&ServiceRow, Option<bool>),
        change: &mut DossierChange,
    ) -> AppResult<()> {
        let now = self.now;
        match self.action {
            Action::Submit => self.file(state, c, row, service, offered, change).await?,
            Action::Accept => {
                let due = due_date(c, &row.agency_code, service, now).await?;
                change.accepted_at = Some(now);
                change.due_at = Some(due);
                change.queue_at = Some(due);
            }
            Action::RequestSupplement => change.paused_at = Some(Some(now)),
            Action::Supplement => {
                if let Some(moved) = resumed_due(c, row, now).await? {
                    change.due_at = Some(moved);
                    change.queue_at = Some(moved);
                }
                change.paused_at = Some(None);
            }
            Action::Approve => {
                results::on_approve(state, c, row, service, now).await?;
                change.decided_at = Some(now);
                change.decision = Some("approved".into());
            }
            Action::Reject => {
                results::on_close(c, self.id).await?;
                change.decided_at = Some(now);
                change.decision = Some("rejected".into());
            }
            Action::Stop | Action::Withdraw => results::on_close(c, self.id).await?,
            Action::RequestFee => {
                fees::request(c, row, service, FeeStage::OnRequest, now).await?;
            }
            Action::ConfirmPayment => {
                let receiver = self.staff.map(|s| s.staff_id).ok_or_else(not_found)?;
                fees::paid_at_counter(state, c, row, service, receiver, now).await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Filing: the service must still be offered and the form complete; the
    /// declared values are kept in the vault and the receipt code issued.
    async fn file(
        &self,
        state: &Core,
        c: &mut AsyncPgConnection,
        row: &DossierRow,
        service: &ServiceRow,
        offered: Option<bool>,
        change: &mut DossierChange,
    ) -> AppResult<()> {
        if offered != Some(true) {
            return Err(AppError::from(Code::ServiceNotOffered));
        }
        let now = self.now;
        let fields = catalog::form_of(service)?;
        let values = row.form_values.as_object().cloned().unwrap_or_default();
        form::check_values(&fields, &values, true).map_err(form_errors)?;
        crate::vault::prefill::keep_declared(
            state,
            c,
            AccountId::from(row.applicant_id),
            row.business_id.map(crate::domain::BusinessId::from),
            &fields,
            &values,
            row.value_sources.as_object().unwrap_or(&Map::new()),
            now,
        )
        .await?;
        let day = now.with_timezone(&city_tz()).date_naive();
        let seq = store::next_receipt_number(c, &row.agency_code, day).await?;
        change.receipt_code = Some(dossier::receipt_code(&row.agency_code, day, seq));
        change.submitted_at = Some(now);
        change.queue_at = Some(now);
        if fees::target(Action::Submit, Status::Submitted, row, service) == Status::FeeRequested {
            fees::request(c, row, service, FeeStage::Filing, now).await?;
        }
        Ok(())
    }

    /// The log row, the applicant's email and the civil servant's audit entry.
    async fn record(
        &self,
        state: &Core,
        c: &mut AsyncPgConnection,
        updated: &DossierRow,
        service: &ServiceRow,
        from: Status,
        to: Status,
    ) -> AppResult<()> {
        let (id, action, note, now) = (self.id, self.action, self.note, self.now);
        let (kind, actor_id) = match (self.account, self.staff) {
            (Some(a), _) => ("applicant", Some(a.as_uuid())),
            (None, Some(s)) => ("staff", Some(s.staff_id)),
            (None, None) => ("system", None),
        };
        let action_name = action.as_str();
        log(
            c,
            id,
            now,
            kind,
            actor_id,
            action_name,
            Some(from),
            Some(to),
            note,
            true,
        )
        .await?;
        emails::notify_applicant(state, c, updated, service, action, note, now).await?;
        if let Some(s) = self.staff {
            staff_events::record(
                c,
                &s.into(),
                Entry::dossier(StaffEvent::DossierAction(action), id)
                    .with(serde_json::json!({ "from": from.as_str(), "to": to.as_str() })),
                now,
            )
            .await?;
        }
        Ok(())
    }
}

/// The due date moved by the working time the supplement request paused
/// the clock for (none when the clock was not paused or no date was set).
async fn resumed_due(
    c: &mut AsyncPgConnection,
    row: &DossierRow,
    now: DateTime<Utc>,
) -> AppResult<Option<DateTime<Utc>>> {
    let (Some(paused), Some(due)) = (row.paused_at, row.due_at) else {
        return Ok(None);
    };
    let agency = catalog_store::agency(c, &row.agency_code)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("agency vanished")))?;
    let calendar = catalog::calendar_for(c, &agency, catalog::city_year(paused)).await?;
    Ok(Some(calendar.add_working_time(
        due,
        calendar.working_time_between(paused, now),
    )))
}

/// The due date accepting the dossier now would set (shown before intake).
pub async fn due_if_accepted(state: &Core, id: Uuid) -> AppResult<Option<DateTime<Utc>>> {
    let mut conn = state.db.get().await?;
    let Some(row) = store::find(&mut conn, id).await? else {
        return Ok(None);
    };
    let service = catalog_store::service(&mut conn, &row.service_code)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("service vanished")))?;
    due_date(&mut conn, &row.agency_code, &service, state.clock.now())
        .await
        .map(Some)
}

pub(super) async fn due_date(
    conn: &mut AsyncPgConnection,
    agency_code: &str,
    service: &ServiceRow,
    now: DateTime<Utc>,
) -> AppResult<DateTime<Utc>> {
    let agency = catalog_store::agency(conn, agency_code)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("agency vanished")))?;
    let calendar = catalog::calendar_for(conn, &agency, catalog::city_year(now)).await?;
    Ok(calendar.due(now, u32::try_from(service.processing_days).unwrap_or(0)))
}
