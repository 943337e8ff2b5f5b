//! How a calendar counts working time: the length of a working day, adding
//! working time to an instant (deadlines), and measuring it between two
//! instants (pauses).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};

use super::{Calendar, city_tz};

impl Calendar {
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

    pub(super) fn local(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
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
    use crate::domain::calendar::fixtures::{at, city_2026, date};

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
}
