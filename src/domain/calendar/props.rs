//! Properties of the working-time arithmetic, over generated weeks (the
//! office week or any non-overlapping intervals), special days and instants.
//!
//! What the rules are, read from the code: `add_working_time(s, w)` is the
//! earliest instant by which `w` of working time has passed since `s`, except
//! that zero working time gives the next opening (an instant inside opening
//! hours is its own next opening). So a positive deadline ends inside an
//! interval (after its opening, at its close at the latest) and a zero one
//! starts one; adding `a` then `b` is adding `a + b` only when `b` is
//! positive (adding zero to a deadline that ends at a close moves it to the
//! next opening, with no working time in between).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use proptest::prelude::*;

use super::{Calendar, DayKind, Opening, city_tz, fixtures::at};

/// Cases per property (proptest's default, stated so the report can say it).
const CASES: u32 = 256;

fn weekdays() -> [Weekday; 7] {
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
}

fn minute(m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(m / 60, m % 60, 0).expect("minute of the day")
}

/// Any week: per weekday up to two intervals cut from sorted distinct
/// minutes, so they never overlap nor invert; at least one opening.
fn any_week() -> impl Strategy<Value = Vec<Opening>> {
    let day = prop::collection::btree_set(0u32..1440, 0..=4);
    prop::collection::vec(day, 7)
        .prop_map(|days| {
            let mut week = Vec::new();
            for (weekday, marks) in weekdays().into_iter().zip(days) {
                let marks: Vec<u32> = marks.into_iter().collect();
                for pair in marks.chunks_exact(2) {
                    week.push(Opening {
                        weekday,
                        open: minute(pair[0]),
                        close: minute(pair[1]),
                    });
                }
            }
            week
        })
        .prop_filter("a week with some opening", |week| !week.is_empty())
}

/// Special days in 2026–2027: holidays and worked weekend days.
fn special_days() -> impl Strategy<Value = Vec<(NaiveDate, DayKind)>> {
    let kind = prop_oneof![3 => Just(DayKind::Closed), 1 => Just(DayKind::Worked)];
    prop::collection::vec((0i64..730, kind), 0..40).prop_map(|days| {
        days.into_iter()
            .map(|(offset, kind)| (day(offset), kind))
            .collect()
    })
}

fn day(offset: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + Duration::days(offset)
}

/// The office week half the time (the real case), any week otherwise.
fn calendar() -> impl Strategy<Value = Calendar> {
    let week = prop_oneof![1 => Just(Calendar::office_week()), 1 => any_week()];
    (week, special_days())
        .prop_map(|(week, days)| Calendar::new(week, days).expect("a valid calendar"))
}

/// An instant in 2026, often on an office-hours boundary or a whole minute.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let boundary = prop::sample::select(vec![0u32, 450, 690, 780, 1020, 1439]);
    let minute = prop_oneof![boundary, 0u32..1440];
    let second = prop_oneof![Just(0i64), 0i64..60];
    (0i64..365, minute, second).prop_map(|(d, m, s)| {
        at(2026, 1, 1, 0, 0)
            + Duration::days(d)
            + Duration::minutes(i64::from(m))
            + Duration::seconds(s)
    })
}

/// Working time up to twenty working days of the calendar, by the second
/// (the loop guard of ten years is never reached).
fn working(calendar: &Calendar) -> impl Strategy<Value = Duration> + use<> {
    let most = calendar.working_day().num_seconds() * 20;
    prop_oneof![Just(0i64), 0..=most].prop_map(Duration::seconds)
}

/// A calendar, an instant and two amounts of working time.
fn case() -> impl Strategy<Value = (Calendar, DateTime<Utc>, Duration, Duration)> {
    calendar().prop_flat_map(|cal| {
        let (a, b) = (working(&cal), working(&cal));
        (Just(cal), instant(), a, b)
    })
}

/// Whether `t` lies in an opening interval of its local date: after the
/// opening and at the close at the latest (`ends`), or from the opening and
/// before the close (a start).
fn in_hours(cal: &Calendar, t: DateTime<Utc>, ends: bool) -> bool {
    let local = t.with_timezone(&city_tz());
    let time = local.time();
    cal.intervals(local.date_naive())
        .into_iter()
        .any(|(open, close)| {
            if ends {
                open < time && time <= close
            } else {
                open <= time && time < close
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Counting the working time up to a deadline gives back what was added.
    #[test]
    fn adding_then_counting_gives_back_the_working_time((cal, start, w, _) in case()) {
        let end = cal.add_working_time(start, w);
        prop_assert!(end >= start);
        prop_assert_eq!(cal.working_time_between(start, end), w);
    }

    /// Adding what was counted up to an instant counts the same, and comes
    /// back to that instant when it is in opening hours (otherwise to the
    /// last close before it).
    #[test]
    fn counting_then_adding_comes_back((cal, start, _, _) in case(), later in instant()) {
        let counted = cal.working_time_between(start, later);
        let back = cal.add_working_time(start, counted);
        prop_assert_eq!(cal.working_time_between(start, back), counted);
        if counted > Duration::zero() {
            prop_assert!(back <= later);
            if in_hours(&cal, later, true) {
                prop_assert_eq!(back, later);
            }
        }
    }

    /// N working days are N times the working day, counted back exactly.
    #[test]
    fn due_dates_round_trip_in_working_days((cal, start, _, _) in case(), n in 0u32..=30) {
        let due = cal.due(start, n);
        prop_assert_eq!(cal.working_time_between(start, due), cal.working_day() * i32::try_from(n).expect("small"));
    }

    /// More working time is a strictly later instant; more days a later due date.
    #[test]
    fn deadlines_grow_with_the_working_time((cal, start, a, b) in case(), n in 0u32..30) {
        let (less, more) = (a.min(b), a.max(b));
        let (early, late) = (cal.add_working_time(start, less), cal.add_working_time(start, more));
        if less < more {
            prop_assert!(early < late);
        } else {
            prop_assert_eq!(early, late);
        }
        prop_assert!(cal.due(start, n) < cal.due(start, n + 1));
    }

    /// A later start never gives an earlier deadline.
    #[test]
    fn deadlines_grow_with_the_start((cal, one, w, _) in case(), other in instant(), n in 0u32..=30) {
        let (first, second) = (one.min(other), one.max(other));
        prop_assert!(cal.add_working_time(first, w) <= cal.add_working_time(second, w));
        prop_assert!(cal.due(first, n) <= cal.due(second, n));
    }

    /// A deadline falls on a working day, inside its opening hours.
    #[test]
    fn deadlines_fall_in_opening_hours((cal, start, w, _) in case(), n in 0u32..=30) {
        let end = cal.add_working_time(start, w);
        prop_assert!(cal.is_working_day(end.with_timezone(&city_tz()).date_naive()));
        prop_assert!(in_hours(&cal, end, !w.is_zero()));
        let due = cal.due(start, n);
        prop_assert!(cal.is_working_day(due.with_timezone(&city_tz()).date_naive()));
        prop_assert!(in_hours(&cal, due, n > 0));
    }

    /// Adding a then b is adding a + b when b is positive; adding zero only
    /// moves to the next opening, across no working time.
    #[test]
    fn working_time_adds_up((cal, start, a, b) in case()) {
        let first = cal.add_working_time(start, a);
        let then = cal.add_working_time(first, b);
        if b.is_zero() {
            prop_assert!(then >= first);
            prop_assert_eq!(cal.working_time_between(first, then), Duration::zero());
        } else {
            prop_assert_eq!(then, cal.add_working_time(start, a + b));
        }
    }

    /// Working days add up the same way: due(due(s, a), b) = due(s, a + b), b > 0.
    #[test]
    fn working_days_add_up((cal, start, _, _) in case(), a in 0u32..=15, b in 1u32..=15) {
        prop_assert_eq!(cal.due(cal.due(start, a), b), cal.due(start, a + b));
    }

    /// Working time between instants is never negative, never more than the
    /// time between them, and splits at any instant in between.
    #[test]
    fn working_time_between_splits((cal, a, _, _) in case(), b in instant(), c in instant()) {
        let mut three = [a, b, c];
        three.sort();
        let [x, y, z] = three;
        let whole = cal.working_time_between(x, z);
        prop_assert!(whole >= Duration::zero());
        prop_assert!(whole <= z - x);
        prop_assert_eq!(whole, cal.working_time_between(x, y) + cal.working_time_between(y, z));
    }

    /// The working time left before a deadline is never negative, shrinks as
    /// time passes, is positive until the deadline and zero from it on.
    #[test]
    fn remaining_working_time_is_never_negative((cal, start, _, _) in case(), n in 1u32..=30, t in instant(), u in instant()) {
        let due = cal.due(start, n);
        let left = cal.working_time_between(t, due);
        prop_assert!(left >= Duration::zero());
        if t < due {
            prop_assert!(left > Duration::zero());
        } else {
            prop_assert_eq!(left, Duration::zero());
        }
        let (sooner, later) = (t.min(u), t.max(u));
        prop_assert!(cal.working_time_between(later, due) <= cal.working_time_between(sooner, due));
    }

    /// A supplement pause (the clock stands still from `paused` to `resumed`)
    /// moves the due date by exactly the paused working time, and the time
    /// left when the clock resumes is the time left when it paused.
    #[test]
    fn a_pause_keeps_the_time_left((cal, start, _, _) in case(), n in 0u32..=30, p in instant(), r in instant()) {
        let due = cal.due(start, n);
        let (paused, resumed) = (start.max(p.min(r)), start.max(p.max(r)));
        let pause = cal.working_time_between(paused, resumed);
        let moved = cal.add_working_time(due, pause);
        prop_assert_eq!(
            cal.working_time_between(start, moved),
            cal.working_time_between(start, due) + pause
        );
        prop_assert_eq!(
            cal.working_time_between(resumed, moved),
            cal.working_time_between(paused, due)
        );
    }

    /// Closing one more day never brings a deadline forward.
    #[test]
    fn a_holiday_never_brings_a_deadline_forward(
        week in prop_oneof![Just(Calendar::office_week()), any_week()],
        days in special_days(),
        holiday in 0i64..400,
        start in instant(),
        n in 0u32..=30,
    ) {
        let base = Calendar::new(week.clone(), days.clone()).expect("calendar");
        let mut more = days;
        more.push((day(holiday), DayKind::Closed));
        let closed = Calendar::new(week, more).expect("calendar");
        prop_assert!(!closed.is_working_day(day(holiday)));
        prop_assert!(closed.due(start, n) >= base.due(start, n));
    }

    /// A day is a working day exactly when it has working time.
    #[test]
    fn working_days_are_days_with_working_time(cal in calendar(), offset in 0i64..730) {
        let date = day(offset);
        let midnight = Calendar::local(date, NaiveTime::MIN);
        let worked = cal.working_time_between(midnight, midnight + Duration::days(1));
        prop_assert_eq!(cal.is_working_day(date), worked > Duration::zero());
    }
}
