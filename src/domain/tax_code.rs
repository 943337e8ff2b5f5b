//! The Vietnamese enterprise tax code (mã số thuế, which is also the
//! enterprise code, mã số doanh nghiệp) of a business or one of its
//! dependent units.
//!
//! Structure (Circular 105/2020/TT-BTC, Article 5):
//!
//! - 10 digits `N1N2 N3N4N5N6N7N8N9 N10`: `N1N2` a province/ministry prefix,
//!   `N3`–`N9` a serial number, `N10` a check digit;
//! - 13 characters `N1…N10-N11N12N13` for a dependent unit (branch,
//!   representative office): the parent's 10-digit code, a hyphen, and a
//!   branch number `001`–`999`.
//!
//! Check digit: the circular defines `N10` as a check digit without giving
//! the formula. We use the formula implemented by widely used validators
//! (python-stdnum's `stdnum.vn.mst` and others):
//! `N10 = 10 − (31·N1 + 29·N2 + 23·N3 + 19·N4 + 17·N5 + 13·N6 + 7·N7 + 5·N8 + 3·N9) mod 11`,
//! where a result of 10 means no valid code has those nine digits. The tests
//! check it against the published codes of well-known enterprises.

use std::fmt;

use super::Invalid;

/// Weights of `N1`…`N9` in the check digit.
const WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

/// A valid enterprise tax code, stored as `NNNNNNNNNN` or `NNNNNNNNNN-NNN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaxCode(String);

fn format_error() -> Invalid {
    Invalid::new(
        "tax_code_format",
        "Mã số thuế phải gồm 10 chữ số, hoặc 10 chữ số, dấu gạch ngang và 3 chữ số của đơn vị phụ thuộc (ví dụ: 0100109106-001).",
    )
}

/// The check digit of the nine digits `n1_to_n9`, or `None` if no valid code
/// starts with them (the formula gives 10).
fn check_digit(n1_to_n9: &[u8]) -> Option<u8> {
    let sum: u32 = n1_to_n9
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = 10 - sum % 11;
    u8::try_from(check).ok().filter(|c| *c < 10)
}

impl TaxCode {
    /// Parses `raw` after trimming surrounding whitespace: 10 digits, or 13
    /// digits with or without a hyphen after the tenth. The branch number
    /// must not be `000`, the serial `N3`–`N9` not `0000000`, and `N10` must
    /// be the check digit.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        if !trimmed.is_ascii() {
            return Err(format_error());
        }
        let bytes = trimmed.as_bytes();
        let (parent, branch) = match bytes.len() {
            10 => (trimmed, None),
            13 => (&trimmed[..10], Some(&trimmed[10..])),
            14 if bytes.get(10) == Some(&b'-') => (&trimmed[..10], Some(&trimmed[11..])),
            _ => return Err(format_error()),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(parent) || !branch.is_none_or(all_digits) {
            return Err(format_error());
        }
        if &parent[2..9] == "0000000" || branch == Some("000") {
            return Err(format_error());
        }
        let expected = check_digit(&parent.as_bytes()[..9]);
        let actual = parent.as_bytes()[9] - b'0';
        if expected != Some(actual) {
            return Err(Invalid::new(
                "tax_code_checksum",
                "Mã số thuế không đúng (chữ số kiểm tra không khớp); vui lòng kiểm tra lại.",
            ));
        }
        Ok(Self(match branch {
            Some(branch) => format!("{parent}-{branch}"),
            None => parent.to_owned(),
        }))
    }

    /// The canonical form: `NNNNNNNNNN` or `NNNNNNNNNN-NNN`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 10-digit code of the enterprise (the whole code when this is not a branch).
    pub fn parent(&self) -> &str {
        &self.0[..10]
    }

    /// The 3-digit branch number (`"001"`–`"999"`) of a dependent unit, or
    /// `None` for the enterprise itself.
    pub fn branch(&self) -> Option<&str> {
        self.0.get(11..)
    }

    /// Whether this is the code of a dependent unit (13-digit form).
    pub fn is_branch(&self) -> bool {
        self.branch().is_some()
    }
}

impl fmt::Display for TaxCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TaxCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published codes of well-known enterprises (and the python-stdnum examples).
    const KNOWN_VALID: [&str; 7] = [
        "0100109106", // Viettel
        "0300588569", // Vinamilk
        "0101248141", // FPT
        "0100112437", // Vietcombank
        "0100233488",
        "0314409058",
        "0312687878",
    ];

    #[test]
    fn formula_matches_known_codes() {
        for code in KNOWN_VALID {
            let b = code.as_bytes();
            assert_eq!(check_digit(&b[..9]), Some(b[9] - b'0'), "{code}");
            let parsed = TaxCode::parse(code).expect(code);
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.parent(), code);
            assert_eq!(parsed.branch(), None);
            assert!(!parsed.is_branch());
        }
    }

    #[test]
    fn worked_example_of_the_formula() {
        // 0100109106: 0·31 + 1·29 + 0·23 + 0·19 + 1·17 + 0·13 + 9·7 + 1·5 + 0·3
        // = 114; 114 mod 11 = 4; 10 − 4 = 6.
        assert_eq!(check_digit(b"010010910"), Some(6));
    }

    #[test]
    fn every_other_last_digit_fails_the_checksum() {
        for code in KNOWN_VALID {
            let good = code.as_bytes()[9];
            for d in b'0'..=b'9' {
                if d == good {
                    continue;
                }
                let bad = format!("{}{}", &code[..9], d as char);
                let err = TaxCode::parse(&bad).expect_err(&bad);
                assert_eq!(err.code, "tax_code_checksum", "{bad}");
            }
        }
    }

    #[test]
    fn nine_digits_whose_check_would_be_ten_are_never_valid() {
        // About one prefix in eleven has a weighted sum divisible by 11.
        let prefix = (100_000_000..100_001_000)
            .map(|n: u32| format!("{n:09}"))
            .find(|p| check_digit(p.as_bytes()).is_none())
            .expect("some prefix sums to 0 mod 11");
        for d in 0..=9 {
            let code = format!("{prefix}{d}");
            assert_eq!(
                TaxCode::parse(&code).expect_err(&code).code,
                "tax_code_checksum"
            );
        }
    }

    #[test]
    fn branch_codes_with_or_without_hyphen_are_stored_with_it() {
        for raw in ["0314409058-002", "0314409058002", " 0314409058-002 "] {
            let code = TaxCode::parse(raw).expect(raw);
            assert_eq!(code.as_str(), "0314409058-002");
            assert_eq!(code.to_string(), "0314409058-002");
            assert_eq!(code.parent(), "0314409058");
            assert_eq!(code.branch(), Some("002"));
            assert!(code.is_branch());
        }
        let code = TaxCode::parse("0100109106-999").expect("valid");
        assert_eq!(code.branch(), Some("999"));
    }

    #[test]
    fn branch_of_an_invalid_parent_fails_the_checksum() {
        let err = TaxCode::parse("0314409059-002").expect_err("bad parent");
        assert_eq!(err.code, "tax_code_checksum");
    }

    #[test]
    fn rejects_wrong_shapes_with_format_code() {
        for raw in [
            "",
            "010010910",
            "01001091066",
            "010010910a",
            "0100109106-",
            "0100109106-01",
            "0100109106-0001",
            "0100109106-000",
            "0100109106000",
            "0100109106_001",
            "0100109106 001",
            "01-00109106",
            "0100000000",
            "+100109106",
            "０１００１０９１０６",
            "010010910é",
            "0100109106-0é",
            "010010910é01", // 13 bytes, byte 10 inside the 'é'
        ] {
            let err = TaxCode::parse(raw).expect_err(raw);
            assert_eq!(err.code, "tax_code_format", "{raw}");
        }
    }
}
