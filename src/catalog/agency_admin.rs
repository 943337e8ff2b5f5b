//! What an agency's admin sets about their own agency: opening hours, the
//! agency's own closed or worked days over the city's calendar, and which of
//! the services the catalog assigns to the agency it takes new dossiers for.
//! Each change is one transaction with its audit event. Due dates already
//! set do not move; new ones (intake, supplements) use the new calendar.

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncConnection;
use serde_json::json;

use crate::infra::Core;
use crate::{
    catalog::{self, calendar_for, city_year, openings, openings_json},
    domain::{
        Invalid,
        calendar::{self, DayKind, HoursInput, Opening, city_tz},
        staff::StaffRole,
        staff_event::StaffEvent,
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    identity::{
        staff::StaffSession,
        staff_events::{self, Entry},
    },
    storage::catalog::{self as store, AgencyDayRow, AgencyRow, OfferRow},
};

fn admin_only(admin: &StaffSession) -> AppResult<()> {
    if admin.has(StaffRole::AgencyAdmin) {
        Ok(())
    } else {
        Err(AppError::new(ErrorKind::Forbidden, "role_required")
            .with_detail("Chỉ quản trị đơn vị được thay đổi thông tin của đơn vị."))
    }
}

async fn own_agency(
    conn: &mut diesel_async::AsyncPgConnection,
    admin: &StaffSession,
) -> AppResult<AgencyRow> {
    store::agency(conn, &admin.agency_code)
        .await?
        .ok_or_else(|| {
            AppError::not_found("agency_not_found")
                .with_detail("Đơn vị của bạn không có trong danh mục cơ quan.")
        })
}

fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&city_tz()).date_naive()
}

/// What the working-time page shows.
#[derive(Debug, Clone)]
pub struct WorkingTime {
    /// The agency.
    pub agency: AgencyRow,
    /// Its opening intervals, by weekday then time.
    pub openings: Vec<Opening>,
    /// The city's days from today on (date, kind, name).
    pub city_days: Vec<(NaiveDate, DayKind, String)>,
    /// The agency's own days from today on.
    pub own_days: Vec<AgencyDayRow>,
    /// Today in the city.
    pub today: NaiveDate,
}

/// The agency's working time, from today to the end of next year.
pub async fn working_time(state: &Core, admin: &StaffSession) -> AppResult<WorkingTime> {
    admin_only(admin)?;
    let now = state.clock.now();
    let today = today(now);
    let until = NaiveDate::from_ymd_opt(city_year(now) + 1, 12, 31).unwrap_or(today);
    let mut conn = state.db.get().await?;
    let agency = own_agency(&mut conn, admin).await?;
    let openings =
        openings(&agency.working_hours).map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    let city_days = store::city_days(&mut conn, today, until)
        .await?
        .into_iter()
        .map(|(day, kind, name)| (day, catalog::day_kind(&kind), name))
        .collect();
    let own_days = store::agency_days(&mut conn, &agency.code, today, until).await?;
    Ok(WorkingTime {
        agency,
        openings,
        city_days,
        own_days,
        today,
    })
}

/// Sets the agency's opening hours from the form.
pub async fn set_hours(state: &Core, admin: &StaffSession, rows: &[HoursInput]) -> AppResult<()> {
    admin_only(admin)?;
    let week = calendar::parse_hours(rows).map_err(FieldErrors::problem)?;
    let hours = openings_json(&week);
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let agency = own_agency(c, admin).await?;
        let before = openings(&agency.working_hours)
            .map(|o| calendar::week_summary(&o))
            .unwrap_or_default();
        store::set_working_hours(c, &agency.code, &hours, admin.staff_id, now).await?;
        staff_events::record(
            c,
            &admin.into(),
            Entry::about(StaffEvent::HoursChanged, agency.code.clone())
                .with(json!({ "before": before, "after": calendar::week_summary(&week) })),
            now,
        )
        .await
    })
    .await
}

fn day_field(invalid: Invalid, field: &'static str) -> AppError {
    FieldErrors::problem([(field, invalid)])
}

/// Parses a date typed as `YYYY-MM-DD` (what a date input sends) or `DD/MM/YYYY`.
pub fn parse_day(raw: &str) -> Result<NaiveDate, Invalid> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .map_err(|_| Invalid::new("day_invalid", "Ngày không hợp lệ (ví dụ 30/04/2027)."))
}

/// Adds one of the agency's own days: closed (a day it would work) or worked
/// (a day it would be closed, with Monday's hours).
pub async fn add_day(
    state: &Core,
    admin: &StaffSession,
    day: &str,
    kind: &str,
    name: &str,
) -> AppResult<AgencyDayRow> {
    admin_only(admin)?;
    let day = parse_day(day).map_err(|e| day_field(e, "day"))?;
    let kind = DayKind::parse(kind).ok_or_else(|| {
        day_field(
            Invalid::new("day_kind_invalid", "Chọn ngày nghỉ hoặc ngày làm việc."),
            "kind",
        )
    })?;
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if !(3..=200).contains(&name.chars().count()) {
        return Err(day_field(
            Invalid::new("day_name_length", "Ghi lý do (3–200 ký tự)."),
            "name",
        ));
    }
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let agency = own_agency(c, admin).await?;
        let base = calendar_for(c, &agency, city_year(now)).await?;
        calendar::check_agency_day(&base, day, kind, today(now))
            .map_err(|e| day_field(e, "day"))?;
        let row = AgencyDayRow {
            agency_code: agency.code.clone(),
            day,
            kind: kind.as_str().into(),
            name,
            changed_by: admin.staff_id,
            changed_at: now,
        };
        if !store::insert_agency_day(c, &row).await? {
            return Err(AppError::conflict("day_already_set")
                .with_detail("Đơn vị đã đặt ngày này; hãy bỏ ngày cũ trước."));
        }
        staff_events::record(
            c,
            &admin.into(),
            Entry::about(StaffEvent::DayAdded, day.to_string())
                .with(json!({ "kind": row.kind, "name": row.name })),
            now,
        )
        .await?;
        Ok(row)
    })
    .await
}

/// Removes one of the agency's own days (only days still ahead).
pub async fn remove_day(state: &Core, admin: &StaffSession, day: &str) -> AppResult<()> {
    admin_only(admin)?;
    let not_found =
        || AppError::not_found("day_not_found").with_detail("Đơn vị không đặt riêng ngày này.");
    let day = parse_day(day).map_err(|_| not_found())?;
    let now = state.clock.now();
    if day <= today(now) {
        return Err(AppError::conflict("day_in_past")
            .with_detail("Không bỏ được ngày đã qua hoặc ngày hôm nay."));
    }
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        let removed = store::delete_agency_day(c, &admin.agency_code, day)
            .await?
            .ok_or_else(not_found)?;
        staff_events::record(
            c,
            &admin.into(),
            Entry::about(StaffEvent::DayRemoved, day.to_string())
                .with(json!({ "kind": removed.kind, "name": removed.name })),
            now,
        )
        .await
    })
    .await
}

/// The services the catalog assigns to the admin's agency, and whether it
/// takes new dossiers for each.
pub async fn offers(state: &Core, admin: &StaffSession) -> AppResult<Vec<OfferRow>> {
    admin_only(admin)?;
    let mut conn = state.db.get().await?;
    Ok(store::offers(&mut conn, &admin.agency_code).await?)
}

/// Starts or stops taking new dossiers for a service the catalog assigns
/// to the agency. Dossiers already filed go on.
pub async fn set_offered(
    state: &Core,
    admin: &StaffSession,
    service: &str,
    offered: bool,
) -> AppResult<()> {
    admin_only(admin)?;
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    conn.transaction::<_, AppError, _>(async |c| {
        if !store::set_offered(c, &admin.agency_code, service, offered, admin.staff_id, now).await?
        {
            return Err(AppError::not_found("service_not_assigned")
                .with_detail("Danh mục không giao thủ tục này cho đơn vị của bạn."));
        }
        let event = if offered {
            StaffEvent::ServiceOffered
        } else {
            StaffEvent::ServiceSuspended
        };
        staff_events::record(c, &admin.into(), Entry::about(event, service), now).await
    })
    .await
}
