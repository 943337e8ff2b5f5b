//! Working time of an agency: its opening hours per weekday, the city's
//! public holidays (lunar Tết included) and compensatory days off, and the
//! Saturdays worked in exchange. Deadlines are counted in working time: a
//! dossier due in N working days is due after N days' worth of the agency's
//! opening hours have passed, skipping nights, weekends and holidays; a
//! dossier received after closing starts counting at the next opening.
//!
//! Pure: time zones, dates and hours in, instants out.
//!
//! This module holds the calendar itself; `working_time` counts with it,
//! `hours` reads and shows the opening-hours form, and `agency_days` checks
//! the days an agency sets for itself.

mod agency_days;
mod hours;
mod working_time;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod props;

use std::collections::BTreeSet;

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveTime, Weekday};

pub use agency_days::{AGENCY_DAY_HORIZON_DAYS, check_agency_day};
pub use hours::{HoursInput, parse_hours, week_summary, weekday};

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_kinds_round_trip_through_their_stored_names() {
        for kind in [DayKind::Closed, DayKind::Worked] {
            assert_eq!(DayKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(DayKind::parse("holiday"), None);
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
