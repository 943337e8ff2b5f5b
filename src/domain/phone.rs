//! A Vietnamese mobile phone number, stored in E.164 form (`+84` and nine
//! digits).
//!
//! Mobile prefixes after the trunk `0` (since the 2018 renumbering from 11 to
//! 10 digits): 32–39, 52, 55, 56, 58, 59, 70, 76–79, 81–89, 90–94, 96–99.

use std::fmt;

use super::Invalid;

/// The two digits after the trunk `0` that start a mobile number.
const MOBILE_PREFIXES: [&str; 36] = [
    "32", "33", "34", "35", "36", "37", "38", "39", //
    "52", "55", "56", "58", "59", //
    "70", "76", "77", "78", "79", //
    "81", "82", "83", "84", "85", "86", "87", "88", "89", //
    "90", "91", "92", "93", "94", "96", "97", "98", "99",
];

/// A Vietnamese mobile number, stored as `+84xxxxxxxxx`.
///
/// Personal data: `Debug` shows only the last 3 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

fn format_error() -> Invalid {
    Invalid::new(
        "phone_format",
        "Số điện thoại di động không hợp lệ (ví dụ: 0912 345 678).",
    )
}

impl PhoneNumber {
    /// Parses `0xxxxxxxxx`, `+84xxxxxxxxx` or `84xxxxxxxxx`, ignoring spaces,
    /// dots, dashes and parentheses (`(+84) 912.345.678`). A trunk `0` typed
    /// after the country code (`+84 0912 345 678`) is tolerated.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let compact: String = raw
            .chars()
            .filter(|c| !(c.is_whitespace() || matches!(c, '.' | '-' | '(' | ')')))
            .collect();
        let subscriber = if let Some(rest) = compact.strip_prefix("+84") {
            rest.strip_prefix('0').unwrap_or(rest)
        } else if let Some(rest) = compact.strip_prefix('0') {
            rest
        } else if let Some(rest) = compact.strip_prefix("84") {
            rest.strip_prefix('0').unwrap_or(rest)
        } else {
            return Err(format_error());
        };
        if subscriber.len() != 9
            || !subscriber.bytes().all(|b| b.is_ascii_digit())
            || !MOBILE_PREFIXES.contains(&&subscriber[..2])
        {
            return Err(format_error());
        }
        Ok(Self(format!("+84{subscriber}")))
    }

    /// The E.164 form, `+84xxxxxxxxx`.
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// The E.164 form (same as [`PhoneNumber::e164`]).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The national form, `0xxxxxxxxx`.
    pub fn national(&self) -> String {
        format!("0{}", &self.0[3..])
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shows only the last 3 digits, so the number does not end up in logs by accident.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = self.0.get(9..).unwrap_or("");
        write!(f, "PhoneNumber(+84******{tail})")
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_ways_of_writing_a_number() {
        for raw in [
            "0912345678",
            "0912 345 678",
            " 0912.345.678 ",
            "0912-345-678",
            "+84912345678",
            "+84 912 345 678",
            "84912345678",
            "84 912-345-678",
            "(+84) 912.345.678",
            "+84 0912 345 678",
            "840912345678",
            "0912\u{a0}345\u{a0}678",
        ] {
            let phone = PhoneNumber::parse(raw).expect(raw);
            assert_eq!(phone.e164(), "+84912345678", "{raw}");
            assert_eq!(phone.as_str(), "+84912345678", "{raw}");
            assert_eq!(phone.national(), "0912345678", "{raw}");
            assert_eq!(phone.to_string(), "+84912345678", "{raw}");
        }
    }

    #[test]
    fn accepts_every_mobile_prefix() {
        for prefix in MOBILE_PREFIXES {
            let raw = format!("0{prefix}1234567");
            let phone = PhoneNumber::parse(&raw).expect(&raw);
            assert_eq!(phone.e164(), format!("+84{prefix}1234567"));
        }
        assert_eq!(MOBILE_PREFIXES.len(), 8 + 5 + 5 + 9 + 9);
    }

    #[test]
    fn rejects_non_mobile_prefixes() {
        for prefix in [
            "10", "20", "24", "28", "30", "31", "40", "50", "51", "53", "54", "57", "60", "71",
            "72", "75", "80", "95",
        ] {
            let raw = format!("0{prefix}1234567");
            assert_eq!(
                PhoneNumber::parse(&raw).expect_err(&raw).code,
                "phone_format",
                "{raw}"
            );
        }
    }

    #[test]
    fn rejects_wrong_shapes() {
        for raw in [
            "",
            "0912",
            "091234567",
            "09123456789",
            "+8491234567",
            "+849123456789",
            "912345678",
            "+1 912 345 678",
            "+840 0912345678",
            "0912a45678",
            "0912_345_678",
            "００９１２３４５６７８",
            "02838123456", // Ho Chi Minh City landline
            "01212345678", // pre-2018 11-digit mobile
        ] {
            let err = PhoneNumber::parse(raw).expect_err(raw);
            assert_eq!(err.code, "phone_format", "{raw}");
            assert_eq!(
                err.message,
                "Số điện thoại di động không hợp lệ (ví dụ: 0912 345 678)."
            );
        }
    }

    #[test]
    fn debug_shows_only_the_last_three_digits() {
        let phone = PhoneNumber::parse("0912345678").expect("valid");
        let shown = format!("{phone:?}");
        assert_eq!(shown, "PhoneNumber(+84******678)");
        assert!(!shown.contains("912345"));
    }
}
