//! The dashboard: received, on-time share, overdue and the share filed
//! online, by agency, service and month, from the precomputed figures
//! (`storage::stats`, refreshed by the scheduled `refresh_stats` job). An
//! agency's heads (agency admins, approvers) see their agency; the agency
//! admins of the City People's Committee see the whole city.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::error::Code;
use crate::infra::Core;
use crate::{
    domain::{staff::StaffRole, staff_event::StaffEvent},
    error::{AppError, AppResult},
    identity::{
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    storage::{catalog as catalog_store, stats as store},
};

/// The root agency: its agency admins see the whole city.
pub const CITY: &str = "000.00.00.H29";

/// Figures of a group (a month, a service, an agency, or everything).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Filed.
    pub received: i64,
    /// Filed online.
    pub online: i64,
    /// Decided.
    pub decided: i64,
    /// Decided by the due date.
    pub on_time: i64,
    /// Overdue.
    pub overdue: i64,
}

impl Figures {
    fn add(&mut self, other: Self) {
        self.received += other.received;
        self.online += other.online;
        self.decided += other.decided;
        self.on_time += other.on_time;
        self.overdue += other.overdue;
    }

    /// Share decided on time, in percent (one decimal), if any was decided.
    pub fn on_time_pct(&self) -> Option<f64> {
        percent(self.on_time, self.decided)
    }

    /// Share filed online, in percent (one decimal), if any was filed.
    pub fn online_pct(&self) -> Option<f64> {
        percent(self.online, self.received)
    }
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    (whole > 0).then(|| ((part as f64) * 1000.0 / (whole as f64)).round() / 10.0)
}

/// What the dashboard shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The year.
    pub year: i32,
    /// The agency, or none for the city.
    pub agency: Option<String>,
    /// Its name.
    pub agency_name: Option<String>,
    /// Everything.
    pub total: Figures,
    /// By month 1–12.
    pub by_month: Vec<(u32, Figures)>,
    /// By service (code, name), most received first.
    pub by_service: Vec<(String, String, Figures)>,
    /// By agency (code, name), most received first (the city view).
    pub by_agency: Vec<(String, String, Figures)>,
    /// When the figures were computed.
    pub refreshed_at: Option<DateTime<Utc>>,
    /// Fees collected in the year.
    pub fees: FeeFigures,
}

/// Fees collected, by channel (VND).
#[derive(Debug, Clone, Copy, Default)]
pub struct FeeFigures {
    /// Paid online.
    pub online_vnd: i64,
    /// Paid at the counter.
    pub counter_vnd: i64,
}

impl FeeFigures {
    /// Everything collected.
    pub fn total_vnd(&self) -> i64 {
        self.online_vnd + self.counter_vnd
    }

    /// Share paid online, in percent (one decimal), if anything was paid.
    pub fn online_pct(&self) -> Option<f64> {
        percent(self.online_vnd, self.total_vnd())
    }
}

/// Whether the civil servant sees the whole city's figures (the city's agency admins).
pub fn sees_city(staff: &StaffSession) -> bool {
    staff.agency_code == CITY && staff.has(StaffRole::AgencyAdmin)
}

/// Which agency's figures the civil servant may see: theirs, or, for the
/// city's agency admins, any (`None`: the whole city).
pub fn scope(staff: &StaffSession, asked: Option<&str>) -> AppResult<Option<String>> {
    let city = sees_city(staff);
    if !(city || staff.has(StaffRole::AgencyAdmin) || staff.has(StaffRole::Approver)) {
        return Err(AppError::from(Code::RoleNotAllowed).with_detail(
            "Chỉ lãnh đạo đơn vị (quản trị đơn vị, cán bộ phê duyệt) xem được báo cáo.",
        ));
    }
    match asked {
        Some(a) if city => Ok(Some(a.to_owned())),
        None if city => Ok(None),
        Some(a) if a != staff.agency_code => Err(AppError::from(Code::AgencyNotAllowed)),
        _ => Ok(Some(staff.agency_code.clone())),
    }
}

fn keyed(r: &store::KeyedRow) -> Figures {
    Figures {
        received: r.received,
        online: r.online,
        decided: r.decided,
        on_time: r.on_time,
        overdue: r.overdue,
    }
}

/// Raw rows for the CSV export (`agency` as [`scope`] allowed it); the
/// export is in the agency's audit trail.
pub async fn rows(
    state: &Core,
    by: &StaffSession,
    year: i32,
    agency: Option<&str>,
) -> AppResult<Vec<store::StatRow>> {
    let (from, to) = year_bounds(year)?;
    let mut conn = state.db.get().await?;
    if let Some(code) = agency {
        known_agency(&mut conn, code).await?;
    }
    let mut rows = store::rows(&mut conn, from, to, agency).await?;
    staff_events::record(
        &mut conn,
        &by.into(),
        Entry::about(StaffEvent::ReportExported, agency.unwrap_or("city"))
            .with(serde_json::json!({ "year": year, "rows": rows.len() })),
        state.clock.now(),
    )
    .await?;
    rows.sort_by(|a, b| {
        (a.month, &a.agency_code, &a.service_code).cmp(&(b.month, &b.agency_code, &b.service_code))
    });
    Ok(rows)
}

/// The name of an agency asked for by code; 404 for a code the catalog lacks.
async fn known_agency(conn: &mut diesel_async::AsyncPgConnection, code: &str) -> AppResult<String> {
    catalog_store::agency(conn, code)
        .await?
        .map(|a| a.name)
        .ok_or_else(|| {
            AppError::from(Code::AgencyNotFound).with_detail("Không có đơn vị với mã này.")
        })
}

fn year_bounds(year: i32) -> AppResult<(NaiveDate, NaiveDate)> {
    let bad = || AppError::from(Code::InvalidYear);
    if !(2000..=2100).contains(&year) {
        return Err(bad());
    }
    Ok((
        NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(bad)?,
        NaiveDate::from_ymd_opt(year + 1, 1, 1).ok_or_else(bad)?,
    ))
}

/// The dashboard of `year` for `agency` (none: the city).
pub async fn dashboard(state: &Core, year: i32, agency: Option<&str>) -> AppResult<Dashboard> {
    let (from, to) = year_bounds(year)?;
    let mut conn = state.db.get().await?;
    let agency_name = match agency {
        Some(code) => Some(known_agency(&mut conn, code).await?),
        None => None,
    };
    let refreshed_at = store::refreshed_at(&mut conn).await?;
    let (online_vnd, counter_vnd) =
        crate::storage::payments::collected(&mut conn, from, to, agency).await?;
    let fees = FeeFigures {
        online_vnd,
        counter_vnd,
    };
    let mut total = Figures::default();
    let mut months: BTreeMap<u32, Figures> = (1..=12).map(|m| (m, Figures::default())).collect();
    let mut services: BTreeMap<String, Figures> = BTreeMap::new();
    let mut agencies: BTreeMap<String, Figures> = BTreeMap::new();
    // (service, month, figures) of the agency, or of the city.
    let by_service: Vec<(String, NaiveDate, Figures)> = match agency {
        Some(a) => store::rows(&mut conn, from, to, Some(a))
            .await?
            .into_iter()
            .map(|r| {
                let f = Figures {
                    received: r.received,
                    online: r.online,
                    decided: r.decided,
                    on_time: r.on_time,
                    overdue: r.overdue,
                };
                (r.service_code, r.month, f)
            })
            .collect(),
        None => store::city(&mut conn, store::By::CityService, from, to)
            .await?
            .into_iter()
            .map(|r| (r.key.clone(), r.month, keyed(&r)))
            .collect(),
    };
    for (service, month, f) in by_service {
        total.add(f);
        months.entry(month.month()).or_default().add(f);
        services.entry(service).or_default().add(f);
    }
    if agency.is_none() {
        for r in store::city(&mut conn, store::By::CityAgency, from, to).await? {
            agencies.entry(r.key.clone()).or_default().add(keyed(&r));
        }
    }
    let codes: Vec<String> = services.keys().cloned().collect();
    let names: BTreeMap<String, String> = catalog_store::service_names(&mut conn, &codes)
        .await?
        .into_iter()
        .collect();
    let mut by_service: Vec<(String, String, Figures)> = services
        .into_iter()
        .map(|(code, f)| {
            let name = names.get(&code).cloned().unwrap_or_default();
            (code, name, f)
        })
        .collect();
    by_service.sort_by(|a, b| b.2.received.cmp(&a.2.received).then(a.0.cmp(&b.0)));
    let agency_codes: Vec<String> = agencies.keys().cloned().collect();
    let agency_names: BTreeMap<String, String> =
        catalog_store::agency_names(&mut conn, &agency_codes)
            .await?
            .into_iter()
            .collect();
    let mut by_agency: Vec<(String, String, Figures)> = if agency.is_none() {
        agencies
            .into_iter()
            .map(|(code, f)| {
                let name = agency_names
                    .get(&code)
                    .cloned()
                    .unwrap_or_else(|| code.clone());
                (code, name, f)
            })
            .collect()
    } else {
        Vec::new()
    };
    by_agency.sort_by(|a, b| b.2.received.cmp(&a.2.received).then(a.0.cmp(&b.0)));
    Ok(Dashboard {
        year,
        agency: agency.map(str::to_owned),
        agency_name,
        total,
        by_month: months.into_iter().collect(),
        by_service,
        by_agency,
        refreshed_at,
        fees,
    })
}

/// Recomputes the figures now.
pub async fn refresh(state: &Core) -> AppResult<()> {
    let mut conn = state.db.get().await?;
    store::refresh(&mut conn, state.clock.now()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_rounded_percentages_and_absent_without_a_base() {
        let f = Figures {
            received: 3,
            online: 2,
            decided: 3,
            on_time: 1,
            overdue: 0,
        };
        assert_eq!(f.online_pct(), Some(66.7));
        assert_eq!(f.on_time_pct(), Some(33.3));
        assert_eq!(Figures::default().online_pct(), None);
    }
}
