//! The opening-hours form of an agency: parsed into a week the calendar
//! accepts, and summed up in a line people read.

use chrono::{NaiveTime, Weekday};

use super::{Calendar, CalendarError, Opening};
use crate::domain::Invalid;

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
pub fn parse_hours(rows: &[HoursInput]) -> Result<Vec<Opening>, Vec<(String, Invalid)>> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
