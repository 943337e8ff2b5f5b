//! Instants, dates and a city calendar shared by the calendar's tests.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::{Calendar, DayKind};

/// A local (city) date and time as an instant.
pub(super) fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Calendar::local(
        NaiveDate::from_ymd_opt(y, m, d).expect("date"),
        NaiveTime::from_hms_opt(h, min, 0).expect("time"),
    )
}

/// A date.
pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// The office week with 2026's special days.
pub(super) fn city_2026() -> Calendar {
    // Tết 2026: Saturday 14 to Sunday 22 February closed (the weekdays in it
    // are holidays); Hùng Kings 26 April is a Sunday, made up on Monday 27.
    let mut days: Vec<(NaiveDate, DayKind)> = (16..=20)
        .map(|d| (date(2026, 2, d), DayKind::Closed))
        .collect();
    days.push((date(2026, 4, 27), DayKind::Closed));
    days.push((date(2026, 1, 1), DayKind::Closed));
    days.push((date(2026, 1, 3), DayKind::Worked));
    Calendar::new(Calendar::office_week(), days).expect("calendar")
}
