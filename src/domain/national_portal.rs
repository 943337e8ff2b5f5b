//! The National Public Service Portal's side of a dossier (Cổng Dịch vụ công
//! quốc gia): the national status codes of our statuses (one table, which
//! `Status::national_code` reads), the procedure code (mã TTHC), the portal's
//! time format, which progress-log rows it hears of and what it reads in
//! them, and what an answer of the portal means for the synchronisation.
//! Pure: no I/O; times are passed in.

use chrono::{DateTime, Utc};

use super::{
    Invalid,
    calendar::city_tz,
    dossier::{Status, event_label},
};

/// Our statuses and their national codes (`TrangThaiHoSo`), as DESIGN.md
/// lists them. The only place the codes are written down.
pub const STATUS_CODES: [(Status, i16); 11] = [
    (Status::Draft, 0),
    (Status::Submitted, 1),
    (Status::Accepted, 2),
    (Status::Refused, 3),
    (Status::Processing, 4),
    (Status::SupplementRequested, 5),
    (Status::FeeRequested, 6),
    (Status::Withdrawn, 7),
    (Status::Stopped, 8),
    (Status::Processed, 9),
    (Status::Returned, 10),
];

/// The national code of `status`.
pub fn status_code(status: Status) -> i16 {
    STATUS_CODES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(0, |(_, code)| *code)
}

/// The status of a national code.
pub fn status_of_code(code: i16) -> Option<Status> {
    STATUS_CODES
        .iter()
        .find(|(_, c)| *c == code)
        .map(|(s, _)| *s)
}

/// A procedure's code in the national database of administrative procedures
/// (mã thủ tục hành chính, e.g. `1.001193` for a birth registration):
/// digits in groups separated by dots.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NationalCode(String);

impl NationalCode {
    /// Parses a code: groups of digits separated by single dots, at least
    /// two groups, at most 32 characters.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let groups: Vec<&str> = raw.split('.').collect();
        let ok = raw.len() <= 32
            && groups.len() >= 2
            && groups
                .iter()
                .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::new(
                "invalid_national_code",
                "Mã thủ tục hành chính quốc gia gồm các nhóm chữ số cách nhau bởi dấu chấm, ví dụ 1.001193.",
            ))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An instant as the portal writes it: `yyyyMMddHHmmss` in the city's time.
pub fn portal_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&city_tz())
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// A progress-log row, as far as the portal is concerned.
#[derive(Debug, Clone, Copy)]
pub struct LogRow<'a> {
    /// The action (`submit`, `accept`, `attach` …).
    pub action: &'a str,
    /// The status before, for a status change.
    pub from: Option<Status>,
    /// The status after, for a status change.
    pub to: Option<Status>,
    /// Whether the applicant sees it.
    pub visible: bool,
    /// Its note.
    pub note: Option<&'a str>,
}

impl LogRow<'_> {
    /// Whether the row files the dossier (online or at the counter): the
    /// portal hears of nothing before it.
    pub fn files(&self) -> bool {
        // Out of a draft: to intake, or to the fee asked at filing.
        self.from == Some(Status::Draft)
            && matches!(self.to, Some(Status::Submitted | Status::FeeRequested))
            || self.to == Some(Status::Submitted) && self.from.is_none()
    }

    /// Whether the portal hears of the row (once the dossier is filed): a
    /// change of status, or a step the applicant sees. Internal rows (a
    /// civil servant reading a file, a staged result, an apology drafted)
    /// stay with us.
    pub fn for_portal(&self) -> bool {
        self.visible || (self.to.is_some() && self.to != self.from)
    }

    /// What the portal shows of it (`NoiDungXuLy`): what was done, and the
    /// note when the applicant reads it too.
    pub fn content(&self) -> String {
        let label = event_label(self.action);
        match self.note.map(str::trim).filter(|n| !n.is_empty()) {
            Some(note) if self.visible => format!("{label}: {note}"),
            _ => label.to_owned(),
        }
    }
}

/// What an answer of the portal means for the synchronisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Accepted: the next call may follow.
    Accepted,
    /// The session is unknown or expired: log in again and repeat once.
    SessionRejected,
    /// A passing trouble (5xx, 408, 429): try again later, with backoff.
    TryLater,
    /// A definitive refusal (any other 4xx): retrying the same cannot help.
    Refused,
}

impl Answer {
    /// The meaning of an HTTP status the portal answered with.
    pub fn of_status(status: u16) -> Self {
        match status {
            200..=299 => Self::Accepted,
            401 => Self::SessionRejected,
            408 | 429 => Self::TryLater,
            400..=499 => Self::Refused,
            _ => Self::TryLater,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_one_national_code_and_back() {
        let codes: Vec<i16> = Status::ALL.iter().map(|s| status_code(*s)).collect();
        assert_eq!(codes, (0..=10).collect::<Vec<i16>>());
        for s in Status::ALL {
            assert_eq!(status_of_code(status_code(s)), Some(s));
            assert_eq!(s.national_code(), status_code(s));
        }
        assert_eq!(status_of_code(11), None);
    }

    #[test]
    fn national_codes_are_digits_and_dots() {
        for ok in ["1.001193", "2.000635", "1.2.3"] {
            assert_eq!(NationalCode::parse(ok).expect(ok).as_str(), ok);
        }
        for bad in [
            "",
            "1001193",
            "1.",
            ".001193",
            "1..001193",
            "1.00119a",
            "1.001193.000.00.00.H29",
            " 1.001193",
            &format!("1.{}", "0".repeat(31)),
        ] {
            assert!(NationalCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn portal_times_are_local_and_fourteen_digits() {
        let at = DateTime::parse_from_rfc3339("2026-12-31T17:30:05Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(portal_time(at), "20270101003005");
    }

    #[test]
    fn the_portal_hears_of_status_changes_and_visible_steps() {
        let row = |action, from, to, visible, note| LogRow {
            action,
            from,
            to,
            visible,
            note,
        };
        let filed = row(
            "submit",
            Some(Status::Draft),
            Some(Status::Submitted),
            true,
            None,
        );
        assert!(filed.files() && filed.for_portal());
        assert_eq!(filed.content(), "Nộp hồ sơ trực tuyến");
        let read = row("file_read", None, None, false, Some("tệp"));
        assert!(!read.files() && !read.for_portal());
        let asked = row(
            "request_supplement",
            Some(Status::Processing),
            Some(Status::SupplementRequested),
            true,
            Some(" Thiếu bản sao giấy khai sinh "),
        );
        assert_eq!(
            asked.content(),
            "Yêu cầu bổ sung hồ sơ: Thiếu bản sao giấy khai sinh"
        );
        let internal = row("overdue", None, None, false, Some("quá hạn"));
        assert_eq!(internal.content(), "Quá hạn giải quyết");
        let counter = row(
            "counter_filing",
            Some(Status::Draft),
            Some(Status::Submitted),
            true,
            None,
        );
        assert!(counter.files());
        // A fee asked at filing: filing is the step out of the draft, and
        // the payment that sends it on to intake is not a second filing.
        let with_fee = row(
            "submit",
            Some(Status::Draft),
            Some(Status::FeeRequested),
            true,
            None,
        );
        assert!(with_fee.files());
        let paid = row(
            "fee_paid",
            Some(Status::FeeRequested),
            Some(Status::Submitted),
            true,
            None,
        );
        assert!(!paid.files() && paid.for_portal());
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(Answer::of_status(200), Answer::Accepted);
        assert_eq!(Answer::of_status(201), Answer::Accepted);
        assert_eq!(Answer::of_status(401), Answer::SessionRejected);
        assert_eq!(Answer::of_status(408), Answer::TryLater);
        assert_eq!(Answer::of_status(429), Answer::TryLater);
        assert_eq!(Answer::of_status(400), Answer::Refused);
        assert_eq!(Answer::of_status(404), Answer::Refused);
        assert_eq!(Answer::of_status(422), Answer::Refused);
        assert_eq!(Answer::of_status(500), Answer::TryLater);
        assert_eq!(Answer::of_status(503), Answer::TryLater);
        assert_eq!(Answer::of_status(302), Answer::TryLater);
    }
}
