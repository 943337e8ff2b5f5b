//! One run of a dossier's synchronisation: the record (created or updated
//! by `MaHoSo`) when something new changed it, then each progress-log row
//! after the cursor, in order. Each call is made holding the dossier's
//! cursor row (`FOR UPDATE`), which is advanced when the portal
//! acknowledges, so two runs of one dossier never send a row twice and a
//! failed call is repeated later from where it stopped. A run goes round
//! again until no row is beyond the cursor, so rows logged while it ran are
//! sent too; the scheduled sweep queues a run for a dossier whose last row
//! was committed just as its run was finishing.

use std::collections::HashMap;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::{
    client::{CallError, PortalClient},
    payload::{DossierRecord, Progress, RecordSource, log_row},
};
use crate::{
    config::NationalPortalSettings,
    domain::dossier::Status,
    infra::Core,
    notify::{Job, JobFailure, outbox},
    storage::{
        catalog as catalog_store,
        dossiers::{self as dossier_store, DossierRow, EventRow},
        national_portal as store,
    },
};

/// Rounds one run makes at most (each sends what the previous one found).
const MAX_ROUNDS: usize = 8;
/// Dossiers the sweep queues at most per run.
const SWEEP_BATCH: i64 = 500;
/// How long a dossier's rows wait before the sweep takes them for left behind.
const SWEEP_AFTER_MINUTES: i64 = 5;

/// Why a round stopped.
#[derive(Debug)]
enum RunError {
    /// The database failed: try again later.
    Database(String),
    /// The portal did not take a call.
    Portal(CallError),
    /// The dossier cannot be sent as it is (Vietnamese, for the admins).
    Unsendable(String),
}

impl From<diesel::result::Error> for RunError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(e.to_string())
    }
}

impl From<CallError> for RunError {
    fn from(e: CallError) -> Self {
        Self::Portal(e)
    }
}

/// What a round did.
enum Round {
    /// Nothing was beyond the cursor.
    UpToDate,
    /// This many calls were accepted (maybe none: rows not for the portal).
    Sent(usize),
}

/// Sends the portal what it has not received of `dossier_id` (the nil id:
/// the sweep).
pub async fn run(core: &Core, dossier_id: Uuid) -> Result<String, JobFailure> {
    let Some(settings) = &core.settings.national_portal else {
        // Nothing leaves without settings; the cursor stays where it is,
        // so the history goes with the dossier's next change once set.
        if !dossier_id.is_nil() {
            let mut conn = core.db.get().await.map_err(database)?;
            store::settle_backlog(&mut conn, dossier_id, i32::MAX)
                .await
                .map_err(database)?;
        }
        return Ok(format!(
            "national portal not configured; dossier {dossier_id} not sent"
        ));
    };
    if dossier_id.is_nil() {
        return sweep(core).await;
    }
    let client = PortalClient::new(core, settings);
    let mut calls = 0;
    for _ in 0..MAX_ROUNDS {
        match round(core, settings, &client, dossier_id).await {
            Ok(Round::UpToDate) => {
                let mut conn = core.db.get().await.map_err(database)?;
                store::succeeded(&mut conn, dossier_id, core.clock.now())
                    .await
                    .map_err(database)?;
                return Ok(format!("{calls} calls accepted; the portal is up to date"));
            }
            Ok(Round::Sent(n)) => calls += n,
            Err(e) => return Err(failure(core, dossier_id, e).await),
        }
    }
    Ok(format!(
        "{calls} calls accepted; rows keep coming, the sweep queues the rest"
    ))
}

/// One pass over the rows beyond the cursor.
async fn round(
    core: &Core,
    settings: &NationalPortalSettings,
    client: &PortalClient<'_>,
    id: Uuid,
) -> Result<Round, RunError> {
    let now = core.clock.now();
    let mut conn = core
        .db
        .get()
        .await
        .map_err(|e| RunError::Database(e.to_string()))?;
    // The log first, then the dossier: the record is never older than the
    // rows it is sent with.
    let log = dossier_store::events(&mut conn, id, false).await?;
    let dossier = dossier_store::find(&mut conn, id)
        .await?
        .ok_or_else(|| RunError::Unsendable("Không tìm thấy hồ sơ.".into()))?;
    let cursor = store::cursor(&mut conn, id, &dossier.agency_code, now).await?;
    let last = log.last().map_or(0, |r| r.seq);
    if cursor.acked_seq >= last {
        store::settle_backlog(&mut conn, id, cursor.acked_seq).await?;
        return Ok(Round::UpToDate);
    }
    let filed = log.iter().find(|r| log_row(r).files()).map(|r| r.seq);
    let pending: Vec<&EventRow> = log
        .iter()
        .filter(|r| filed.is_some_and(|f| r.seq >= f))
        .filter(|r| r.seq > cursor.acked_seq && log_row(r).for_portal())
        .collect();
    let Some(newest) = pending.last().map(|r| r.seq) else {
        // A draft, or rows the portal does not hear of.
        store::advance(&mut conn, id, last, now).await?;
        return Ok(Round::Sent(0));
    };
    let mut calls = 0;
    let receipt = dossier
        .receipt_code
        .clone()
        .ok_or_else(|| RunError::Unsendable("Hồ sơ đã nộp nhưng chưa có mã hồ sơ.".into()))?;
    if cursor.record_seq < newest {
        let record = record(&mut conn, settings, &dossier, &receipt, &log).await?;
        let sent = conn
            .transaction::<_, RunError, _>(async |c| {
                if store::lock(c, id).await?.record_seq >= newest {
                    return Ok(false);
                }
                client.post(&["api", "dossiers"], &record).await?;
                store::record_sent(c, id, last, now).await?;
                Ok(true)
            })
            .await?;
        calls += usize::from(sent);
    }
    let names = names(&mut conn, &pending).await?;
    for row in pending {
        let entry = Progress::of(row, status_after(&log, row.seq), &who(row, &names));
        let sent = conn
            .transaction::<_, RunError, _>(async |c| {
                if store::lock(c, id).await?.acked_seq >= row.seq {
                    return Ok(false);
                }
                client
                    .post(&["api", "dossiers", &receipt, "progress"], &entry)
                    .await?;
                store::advance(c, id, row.seq, now).await?;
                Ok(true)
            })
            .await?;
        calls += usize::from(sent);
    }
    // Rows after the last one for the portal are not for it either.
    store::advance(&mut conn, id, last, now).await?;
    Ok(Round::Sent(calls))
}

/// The record of `dossier` as it stands; unsendable without a national
/// procedure code.
async fn record(
    conn: &mut AsyncPgConnection,
    settings: &NationalPortalSettings,
    dossier: &DossierRow,
    receipt: &str,
    log: &[EventRow],
) -> Result<DossierRecord, RunError> {
    let service = catalog_store::service(conn, &dossier.service_code)
        .await?
        .ok_or_else(|| RunError::Unsendable("Không tìm thấy thủ tục của hồ sơ.".into()))?;
    let Some(national_code) = service.national_code.clone() else {
        return Err(RunError::Unsendable(format!(
            "Thủ tục {} ({}) chưa có mã thủ tục hành chính quốc gia (mã TTHC) trong danh mục, nên hồ sơ chưa gửi được lên Cổng. Bổ sung mã trong danh mục rồi bấm \"Gửi lại\".",
            service.code, service.name
        )));
    };
    let (name, number) = store::applicant(conn, dossier.applicant_id, dossier.business_id).await?;
    let supplements = store::supplements(conn, dossier.id).await?;
    Ok(DossierRecord::of(&RecordSource {
        dossier,
        receipt_code: receipt,
        service: &service,
        national_code: &national_code,
        unit_code: &settings.unit_code,
        applicant: (&name, &number, dossier.business_id.is_some()),
        log,
        supplements: &supplements,
    }))
}

/// The names of who acted in `rows`.
async fn names(
    conn: &mut AsyncPgConnection,
    rows: &[&EventRow],
) -> Result<HashMap<Uuid, String>, RunError> {
    let ids = |kind: &str| -> Vec<Uuid> {
        rows.iter()
            .filter(|r| r.actor_kind == kind)
            .filter_map(|r| r.actor_id)
            .collect()
    };
    Ok(store::names(conn, &ids("staff"), &ids("applicant")).await?)
}

/// `NguoiXuLy`: the civil servant or the applicant by name, or the system.
fn who(row: &EventRow, names: &HashMap<Uuid, String>) -> String {
    let named = row.actor_id.and_then(|id| names.get(&id)).cloned();
    match row.actor_kind.as_str() {
        "staff" => named.unwrap_or_else(|| "Cán bộ".into()),
        "applicant" => named.unwrap_or_else(|| "Người nộp hồ sơ".into()),
        _ => "Hệ thống".into(),
    }
}

/// The dossier's status after log row `seq`.
fn status_after(log: &[EventRow], seq: i32) -> Status {
    log.iter()
        .filter(|r| r.seq <= seq)
        .filter_map(|r| log_row(r).to)
        .next_back()
        .unwrap_or(Status::Submitted)
}

/// What a failed round means for the job (and for the admins when it is for
/// good).
async fn failure(core: &Core, id: Uuid, error: RunError) -> JobFailure {
    let now = core.clock.now();
    let (for_good, detail) = match &error {
        RunError::Database(detail) => {
            return JobFailure::retry(format!("database unavailable: {detail}"));
        }
        RunError::Unsendable(reason) => (Some(reason.clone()), reason.clone()),
        RunError::Portal(CallError::Refused(reason)) => (
            Some(format!(
                "Cổng Dịch vụ công quốc gia từ chối hồ sơ ({reason})."
            )),
            format!("the portal refused: {reason}"),
        ),
        RunError::Portal(CallError::Passing(detail)) => (None, detail.clone()),
    };
    let Ok(mut conn) = core.db.get().await else {
        return JobFailure::retry(format!("{detail} (and the database is unavailable)"));
    };
    let recorded = match for_good {
        Some(reason) => store::failed(&mut conn, id, &reason, now)
            .await
            .map(|()| true),
        None => {
            let max = Job::SyncNationalPortal { dossier_id: id }
                .policy()
                .max_attempts;
            match store::passing_failure(&mut conn, id, &detail, now).await {
                Ok(retries) if retries >= max => {
                    let reason = format!(
                        "Cổng Dịch vụ công quốc gia không nhận hồ sơ sau {retries} lần thử (lần cuối: {detail})."
                    );
                    store::failed(&mut conn, id, &reason, now)
                        .await
                        .map(|()| true)
                }
                Ok(_) => Ok(false),
                Err(e) => Err(e),
            }
        }
    };
    match recorded {
        Ok(true) => {
            tracing::warn!(dossier = %id, error = %detail, "national portal: the dossier could not be sent; given up until an admin sends it again");
            JobFailure::give_up(detail)
        }
        Ok(false) => {
            tracing::warn!(dossier = %id, error = %detail, "national portal: sending failed; will retry");
            JobFailure::retry(detail)
        }
        Err(e) => JobFailure::retry(format!("{detail} (recording it failed: {e})")),
    }
}

/// Queues a run for every dossier whose rows have waited too long with no
/// failure recorded (its run finished just before the row was committed, or
/// the job was lost).
async fn sweep(core: &Core) -> Result<String, JobFailure> {
    let now = core.clock.now();
    let mut conn = core.db.get().await.map_err(database)?;
    let behind = store::left_behind(
        &mut conn,
        now - chrono::Duration::minutes(SWEEP_AFTER_MINUTES),
        SWEEP_BATCH,
    )
    .await
    .map_err(database)?;
    let mut queued = 0;
    for dossier_id in &behind {
        let job = Job::SyncNationalPortal {
            dossier_id: *dossier_id,
        };
        if outbox::enqueue(&mut conn, now, &job)
            .await
            .map_err(|e| JobFailure::retry(format!("queueing a run: {e}")))?
            .is_some()
        {
            queued += 1;
        }
    }
    if queued > 0 {
        tracing::info!(
            queued,
            "national portal: runs queued for dossiers left behind"
        );
    }
    Ok(format!(
        "{queued} runs queued for {} dossiers left behind",
        behind.len()
    ))
}

fn database(e: impl std::fmt::Display) -> JobFailure {
    JobFailure::retry(format!("database unavailable: {e}"))
}
