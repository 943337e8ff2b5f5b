//! The days an agency sets for itself on top of the city's calendar.

use chrono::{Duration, NaiveDate};

use super::{Calendar, DayKind};
use crate::domain::Invalid;

/// How far ahead an agency may set its own days.
pub const AGENCY_DAY_HORIZON_DAYS: i64 = 730;

/// Checks a day an agency sets for itself against its calendar without that
/// day (`base`): only days after `today` (working time already spent is
/// history), within two years, and only a change: closing a day it would
/// work, or working a day it would be closed. A worked day keeps Monday's
/// hours.
pub fn check_agency_day(
    base: &Calendar,
    day: NaiveDate,
    kind: DayKind,
    today: NaiveDate,
) -> Result<(), Invalid> {
    if day <= today {
        return Err(Invalid::new(
            "day_not_in_future",
            "Chỉ đặt được ngày từ ngày mai trở đi.",
        ));
    }
    if day > today + Duration::days(AGENCY_DAY_HORIZON_DAYS) {
        return Err(Invalid::new(
            "day_too_far",
            "Chỉ đặt được ngày trong vòng hai năm tới.",
        ));
    }
    match (kind, base.is_working_day(day)) {
        (DayKind::Closed, false) => Err(Invalid::new(
            "day_already_closed",
            "Ngày này vốn đã là ngày nghỉ của đơn vị.",
        )),
        (DayKind::Worked, true) => Err(Invalid::new(
            "day_already_worked",
            "Ngày này vốn đã là ngày làm việc của đơn vị.",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::fixtures::{city_2026, date};

    #[test]
    fn an_agency_day_must_be_ahead_and_change_something() {
        let calendar = city_2026();
        let today = date(2026, 4, 20);
        // A Monday that is worked anyway, a Saturday that is closed anyway.
        let monday = date(2026, 5, 4);
        let saturday = date(2026, 5, 9);
        assert!(check_agency_day(&calendar, monday, DayKind::Closed, today).is_ok());
        assert!(check_agency_day(&calendar, saturday, DayKind::Worked, today).is_ok());
        let code = |d, k| check_agency_day(&calendar, d, k, today).map_err(|e| e.code);
        assert_eq!(code(monday, DayKind::Worked), Err("day_already_worked"));
        assert_eq!(code(saturday, DayKind::Closed), Err("day_already_closed"));
        // The Hùng Kings' day off is a city holiday: closing it again changes nothing.
        assert_eq!(
            code(date(2026, 4, 27), DayKind::Closed),
            Err("day_already_closed")
        );
        assert_eq!(code(today, DayKind::Closed), Err("day_not_in_future"));
        assert_eq!(
            code(date(2026, 4, 1), DayKind::Closed),
            Err("day_not_in_future")
        );
        assert_eq!(code(date(2028, 5, 1), DayKind::Closed), Err("day_too_far"));
    }
}
