//! Working time of an agency: its opening hours per weekday, the city's
//! public holidays (lunar Tết included) and compensatory days off, and the
//! Saturdays worked in exchange. Deadlines are counted in working time: a
//! dossier due in N working days is due after N days' worth of the agency's
//! opening hours have passed, skipping nights, weekends and holidays; a
//! dossier received after closing starts counting at the next opening.
//!
//! Pure: time zones, dates and hours in, instants out.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};

/// The city's time (UTC+7 all year: Vietnam keeps no daylight saving time).
pub fn city_tz() -> FixedOffset {
    match FixedOffset::east_opt(7 * 3600) {
        Some(tz) => tz,
        None => unreachable!("UTC+7 is a valid offset"),
    }
}

/// One opening interval on a weekday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// The weekday.
    pub weekday: Weekday,
    /// Opens (local time).
    pub open: NaiveTime,
    /// Closes (local time), after `open`.
    pub close: NaiveTime,
}

/// How a date differs from the usual week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// A public holiday or a compensatory day off: closed.
    Closed,
    /// A weekend day worked in exchange for a bridge holiday: open as on Monday.
    Worked,
}

impl DayKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Worked => "worked",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Closed, Self::Worked]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

/// An agency's working calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    openings: Vec<Opening>,
    closed: BTreeSet<NaiveDate>,
    worked: BTreeSet<NaiveDate>,
}

/// Why a calendar cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// No opening at all: nothing could ever be due.
    #[error("the agency has no opening hours")]
    NoOpenings,
    /// An interval closes before it opens.
    #[error("an opening interval closes before it opens")]
    Inverted,
    /// Two intervals of the same weekday overlap.
    #[error("two opening intervals of a weekday overlap")]
    Overlapping,
}

impl Calendar {
    /// A calendar from opening intervals and special days.
    pub fn new(
        mut openings: Vec<Opening>,
        days: impl IntoIterator<Item = (NaiveDate, DayKind)>,
    ) -> Result<Self, CalendarError> {
        if openings.is_empty() {
            return Err(CalendarError::NoOpenings);
        }
        if openings.iter().any(|o| o.close <= o.open) {
            return Err(CalendarError::Inverted);
        }
        openings.sort_by_key(|o| (o.weekday.num_days_from_monday(), o.open));
        if openings
            .windows(2)
            .any(|w| w[0].weekday == w[1].weekday && w[1].open < w[0].close)
        {
            return Err(CalendarError::Overlapping);
        }
        let mut closed = BTreeSet::new();
        let mut worked = BTreeSet::new();
        for (date, kind) in days {
            match kind {
                DayKind::Closed => closed.insert(date),
                DayKind::Worked => worked.insert(date),
            };
        }
        Ok(Self {
            openings,
            closed,
            worked,
        })
    }

    /// The usual office week: Monday to Friday, 07:30–11:30 and 13:00–17:00.
    pub fn office_week() -> Vec<Opening> {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
        .into_iter()
        .flat_map(|weekday| {
            [
                Opening {
                    weekday,
                    open: t(7, 30),
                    close: t(11, 30),
                },
                Opening {
                    weekday,
                    open: t(13, 0),
                    close: t(17, 0),
                },
            ]
        })
        .collect()
    }

    /// The opening intervals of a local date, in order.
    fn intervals(&self, date: NaiveDate) -> Vec<(NaiveTime, NaiveTime)> {
        if self.closed.contains(&date) {
            return Vec::new();
        }
        // A worked weekend day keeps Monday's hours.
        let weekday = if self.worked.contains(&date) {
            Weekday::Mon
        } else {
            date.weekday()
        };
        self.openings
            .iter()
            .filter(|o| o.weekday == weekday)
            .map(|o| (o.open, o.close))
            .collect()
    }

    /// How long one working day is (the longest weekday's hours): the unit a
    /// deadline of N working days is counted in.
    pub fn working_day(&self) -> Duration {
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .map(|weekday| {
            self.openings
                .iter()
                .filter(|o| o.weekday == weekday)
                .map(|o| o.close - o.open)
                .fold(Duration::zero(), |a, b| a + b)
        })
        .max()
        .unwrap_or_else(Duration::zero)
    }

    fn local(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        // Vietnam has no daylight saving time: every local time exists once.
        city_tz()
            .from_local_datetime(&date.and_time(time))
            .earliest()
            .map_or_else(|| date.and_time(time).and_utc(), |t| t.with_timezone(&Utc))
    }

    /// The instant after `working` of working time has passed from `start`.
    /// Zero working time from outside opening hours gives the next opening.
    pub fn add_working_time(&self, start: DateTime<Utc>, working: Duration) -> DateTime<Utc> {
        let mut left = working;
        let local = start.with_timezone(&city_tz());
        let mut date = local.date_naive();
        let mut from = local.time();
        // Ten years of days is far beyond any deadline: a guard, not a rule.
        for _ in 0..3660 {
            for (open, close) in self.intervals(date) {
                if close <= from {
                    continue;
                }
                let begin = open.max(from);
                let available = close - begin;
                if left < available || (left == available && !left.is_zero()) {
                    return Self::local(date, begin) + left;
                }
                if left.is_zero() {
                    return Self::local(date, begin);
                }
                left -= available;
            }
            date = date.succ_opt().unwrap_or(date);
            from = NaiveTime::MIN;
        }
        start + working
    }

    /// The due instant of `days` working days counted from `start`.
    pub fn due(&self, start: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        self.add_working_time(
            start,
            self.working_day() * i32::try_from(days).unwrap_or(i32::MAX),
        )
    }

    /// Working time between two instants (zero if `to` is not after `from`):
    /// how long a paused clock stood still, to extend a due date by it.
    pub fn working_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        let mut total = Duration::zero();
        let start = from.with_timezone(&city_tz());
        let end = to.with_timezone(&city_tz());
        let mut date = start.date_naive();
        while date <= end.date_naive() {
            for (open, close) in self.intervals(date) {
                let begin = Self::local(date, open).max(from);
                let finish = Self::local(date, close).min(to);
                if finish > begin {
                    total += finish - begin;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// Whether a local date is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.intervals(date).is_empty()
    }
}

/// A weekday from its number, 1 (Monday) … 7 (Sunday).
pub fn weekday(n: u64) -> Option<Weekday> {
    Some(match n {
        1 => Weekday::Mon,
        2 => Weekday::Tue,
        3 => Weekday::Wed,
        4 => Weekday::Thu,
        5 => Weekday::Fri,
        6 => Weekday::Sat,
        7 => Weekday::Sun,
        _ => return None,
    })
}

/// One interval of the opening-hours form as typed: weekday 1 (Monday) … 7
/// (Sunday), its slot on that day, and the times (`HH:MM`, both empty for
/// none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursInput {
    /// 1 (Monday) … 7 (Sunday).
    pub weekday: u8,
    /// 0, 1 … (morning, afternoon …).
    pub slot: u8,
    /// Opens.
    pub open: String,
    /// Closes.
    pub close: String,
}

impl HoursInput {
    /// The form field it is reported under.
    pub fn field(&self) -> String {
        format!("hours.{}.{}", self.weekday, self.slot)
    }
}

/// Parses the opening-hours form into a week the calendar accepts; every
/// bad interval is reported under its field.
pub fn parse_hours(
    rows: &[HoursInput],
) -> Result<Vec<Opening>, Vec<(String, crate::domain::Invalid)>> {
    use crate::domain::Invalid;
    let mut errors = Vec::new();
    let mut openings = Vec::new();
    for row in rows {
        let (open, close) = (row.open.trim(), row.close.trim());
        if open.is_empty() && close.is_empty() {
            continue;
        }
        let Some(weekday) = weekday(u64::from(row.weekday)) else {
            errors.push((
                row.field(),
                Invalid::new("weekday_invalid", "Thứ trong tuần không hợp lệ."),
            ));
            continue;
        };
        let time = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").ok();
        match (time(open), time(close)) {
            (Some(open), Some(close)) if open < close => openings.push(Opening {
                weekday,
                open,
                close,
            }),
            (Some(_), Some(_)) => errors.push((
                row.field(),
                Invalid::new("hours_inverted", "Giờ đóng cửa phải sau giờ mở cửa."),
            )),
            _ => errors.push((
                row.field(),
                Invalid::new(
                    "hours_invalid",
                    "Nhập cả giờ mở và giờ đóng cửa theo dạng GG:PP (ví dụ 07:30), hoặc để trống cả hai.",
                ),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    match Calendar::new(openings.clone(), []) {
        Ok(_) => Ok(openings),
        Err(CalendarError::NoOpenings) => Err(vec![(
            "hours".into(),
            Invalid::new(
                "hours_empty",
                "Đơn vị phải làm việc ít nhất một buổi trong tuần.",
            ),
        )]),
        Err(CalendarError::Overlapping) => Err(vec![(
            "hours".into(),
            Invalid::new(
                "hours_overlapping",
                "Hai buổi làm việc trong cùng một ngày không được trùng giờ.",
            ),
        )]),
        Err(CalendarError::Inverted) => Err(vec![(
            "hours".into(),
            Invalid::new("hours_inverted", "Giờ đóng cửa phải sau giờ mở cửa."),
        )]),
    }
}

/// A week's opening hours in a line people read: `T2 07:30–11:30, 13:00–17:00; T7 07:30–11:30`.
pub fn week_summary(openings: &[Opening]) -> String {
    let mut days: Vec<String> = Vec::new();
    for n in 1..=7u32 {
        let times: Vec<String> = openings
            .iter()
            .filter(|o| o.weekday.number_from_monday() == n)
            .map(|o| format!("{}–{}", o.open.format("%H:%M"), o.close.format("%H:%M")))
            .collect();
        if !times.is_empty() {
            let day = if n == 7 {
                "CN".to_owned()
            } else {
                format!("T{}", n + 1)
            };
            days.push(format!("{day} {}", times.join(", ")));
        }
    }
    days.join("; ")
}

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
) -> Result<(), crate::domain::Invalid> {
    use crate::domain::Invalid;
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

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Calendar::local(
            NaiveDate::from_ymd_opt(y, m, d).expect("date"),
            NaiveTime::from_hms_opt(h, min, 0).expect("time"),
        )
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn city_2026() -> Calendar {
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

    #[test]
    fn a_working_day_is_eight_office_hours() {
        assert_eq!(city_2026().working_day(), Duration::hours(8));
    }

    #[test]
    fn deadlines_skip_nights_weekends_and_holidays() {
        let cal = city_2026();
        // Friday 10:00 + 1 working day: Monday 10:00.
        assert_eq!(cal.due(at(2026, 11, 20, 10, 0), 1), at(2026, 11, 23, 10, 0));
        // Thursday 12 February 2026 at 16:00, three working days: an hour on
        // Thursday, Friday 13th, then Tết closes the office until Monday 23rd.
        assert_eq!(cal.due(at(2026, 2, 12, 16, 0), 3), at(2026, 2, 24, 16, 0));
        // Received on a Sunday: counting starts Monday 07:30.
        assert_eq!(cal.due(at(2026, 11, 22, 9, 0), 1), at(2026, 11, 23, 17, 0));
        // Received in the lunch break: counting starts at 13:00.
        assert_eq!(
            cal.add_working_time(at(2026, 11, 23, 12, 0), Duration::hours(1)),
            at(2026, 11, 23, 14, 0)
        );
        // Zero days: the next opening.
        assert_eq!(cal.due(at(2026, 11, 21, 9, 0), 0), at(2026, 11, 23, 7, 30));
        // A worked Saturday counts.
        assert!(cal.is_working_day(date(2026, 1, 3)));
        assert!(!cal.is_working_day(date(2026, 1, 1)));
        assert_eq!(cal.due(at(2026, 1, 2, 17, 0), 1), at(2026, 1, 3, 17, 0));
    }

    #[test]
    fn a_pause_is_measured_in_working_time() {
        let cal = city_2026();
        // Friday 16:00 to Monday 09:00: one hour Friday, 1.5 hours Monday.
        assert_eq!(
            cal.working_time_between(at(2026, 11, 20, 16, 0), at(2026, 11, 23, 9, 0)),
            Duration::minutes(150)
        );
        assert_eq!(
            cal.working_time_between(at(2026, 11, 23, 9, 0), at(2026, 11, 20, 16, 0)),
            Duration::zero()
        );
        // Extending a due date by the pause gives the same as counting around it.
        let start = at(2026, 11, 20, 10, 0);
        let paused = cal.working_time_between(at(2026, 11, 20, 16, 0), at(2026, 11, 23, 9, 0));
        let due = cal.due(start, 2);
        assert_eq!(due, at(2026, 11, 24, 10, 0));
        assert_eq!(cal.add_working_time(due, paused), at(2026, 11, 24, 14, 0));
    }

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

    #[test]
    fn the_hours_form_is_parsed_and_every_bad_row_named() {
        let row = |weekday, slot, open: &str, close: &str| HoursInput {
            weekday,
            slot,
            open: open.into(),
            close: close.into(),
        };
        let week = parse_hours(&[
            row(1, 0, "07:30", "11:30"),
            row(1, 1, "13:00", "17:00"),
            row(6, 0, " 07:30 ", "11:30"),
            row(7, 0, "", ""),
        ])
        .expect("week");
        assert_eq!(week.len(), 3);
        assert_eq!(week[2].weekday, Weekday::Sat);
        assert_eq!(
            week_summary(&week),
            "T2 07:30–11:30, 13:00–17:00; T7 07:30–11:30"
        );
        let errors = parse_hours(&[
            row(1, 0, "07:30", ""),
            row(2, 0, "17:00", "08:00"),
            row(3, 1, "7h", "11:30"),
            row(9, 0, "07:00", "11:00"),
        ])
        .expect_err("bad");
        let fields: Vec<(&str, &str)> = errors.iter().map(|(f, e)| (f.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            vec![
                ("hours.1.0", "hours_invalid"),
                ("hours.2.0", "hours_inverted"),
                ("hours.3.1", "hours_invalid"),
                ("hours.9.0", "weekday_invalid"),
            ]
        );
        let code = |rows: &[HoursInput]| parse_hours(rows).expect_err("bad")[0].1.code;
        assert_eq!(code(&[row(1, 0, "", "")]), "hours_empty");
        assert_eq!(
            code(&[row(1, 0, "07:30", "12:00"), row(1, 1, "11:00", "17:00")]),
            "hours_overlapping"
        );
    }

    #[test]
    fn a_calendar_needs_sane_openings() {
        assert_eq!(
            Calendar::new(Vec::new(), []).expect_err("empty"),
            CalendarError::NoOpenings
        );
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("time");
        assert_eq!(
            Calendar::new(
                vec![Opening {
                    weekday: Weekday::Mon,
                    open: t(17),
                    close: t(8)
                }],
                []
            )
            .expect_err("inverted"),
            CalendarError::Inverted
        );
        let at = |open, close| Opening {
            weekday: Weekday::Tue,
            open: t(open),
            close: t(close),
        };
        assert_eq!(
            Calendar::new(vec![at(13, 17), at(8, 14)], []).expect_err("overlap"),
            CalendarError::Overlapping
        );
        assert!(Calendar::new(vec![at(13, 17), at(8, 12)], []).is_ok());
    }
}
