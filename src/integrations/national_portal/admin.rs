//! What agency admins see of the portal: their agency's dossiers that
//! could not be sent for good (the city's agency admins see every agency's),
//! and "send again", which forgets the failure and queues the dossier's run
//! in one transaction, with a line in the agency's audit trail.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::{
    domain::{staff::StaffRole, staff_event::StaffEvent},
    error::{AppError, AppResult, Code},
    identity::{
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    infra::Core,
    notify::{Job, outbox},
    storage::{
        catalog as catalog_store,
        national_portal::{self as store, FailureRow},
    },
};

/// Failures shown per page.
pub const PAGE: i64 = 50;

const ADMINS_ONLY: &str = "Chỉ quản trị viên của đơn vị xem và gửi lại hồ sơ chưa đồng bộ được lên Cổng Dịch vụ công quốc gia.";

/// A page of failures and the keyset of the next one.
#[derive(Debug, Clone)]
pub struct Failures {
    /// Newest first.
    pub items: Vec<FailureRow>,
    /// Where the next page starts, if there is one.
    pub next: Option<(DateTime<Utc>, Uuid)>,
    /// Whether they are the whole city's.
    pub city_wide: bool,
}

/// The agency the admin sees (`None`: the whole city, for the city's own
/// agency, the root of the tree).
async fn scope(core: &Core, session: &StaffSession) -> AppResult<Option<String>> {
    session.require(StaffRole::AgencyAdmin, ADMINS_ONLY)?;
    let mut conn = core.db.get().await?;
    let agency = catalog_store::agency(&mut conn, &session.agency_code).await?;
    Ok(match agency {
        Some(a) if a.parent_code.is_none() => None,
        _ => Some(session.agency_code.clone()),
    })
}

/// The failures the admin may see, after the keyset `before`.
pub async fn failures(
    core: &Core,
    session: &StaffSession,
    before: Option<(DateTime<Utc>, Uuid)>,
) -> AppResult<Failures> {
    let agency = scope(core, session).await?;
    let mut conn = core.db.get().await?;
    let mut items = store::failures(&mut conn, agency.as_deref(), before, PAGE + 1).await?;
    let next = if items.len() > usize::try_from(PAGE).unwrap_or(usize::MAX) {
        items.pop();
        items.last().map(|f| (f.failed_at, f.dossier_id))
    } else {
        None
    };
    Ok(Failures {
        items,
        next,
        city_wide: agency.is_none(),
    })
}

/// Sends a failed dossier again: its failure is forgotten and its run
/// queued. 404 when the admin's scope holds no failure of that dossier.
pub async fn resend(core: &Core, session: &StaffSession, dossier: Uuid) -> AppResult<()> {
    let agency = scope(core, session).await?;
    let now = core.clock.now();
    let mut conn = core.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        if !store::clear_failure(c, dossier, agency.as_deref(), now).await? {
            return Err(AppError::from(Code::DossierNotFound)
                .with_detail("Không có hồ sơ chưa đồng bộ được nào với mã này."));
        }
        outbox::enqueue(
            c,
            now,
            &Job::SyncNationalPortal {
                dossier_id: dossier,
            },
        )
        .await?;
        staff_events::record(
            c,
            &session.into(),
            Entry::dossier(StaffEvent::NationalPortalResent, dossier),
            now,
        )
        .await
    })
    .await
}
