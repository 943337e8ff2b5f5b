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
    }
}
