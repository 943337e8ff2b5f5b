//! The password policy for citizen and civil-servant accounts: length limits,
//! no reuse of the account's own identifiers, and no common or trivially
//! guessable passwords (in line with NIST SP 800-63B §5.1.1.2).
//!
//! The list of common passwords is `data/common-passwords.txt`, embedded in
//! the binary.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::Invalid;

/// Fewest characters (Unicode scalar values, not bytes) in a password.
pub const MIN_CHARS: usize = 10;
/// Most characters in a password.
pub const MAX_CHARS: usize = 128;

/// The embedded list: one lower-case password a line; `#` starts a comment line.
const COMMON_PASSWORDS_TXT: &str = include_str!("../../data/common-passwords.txt");

/// The common passwords, looked up in lower case.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_PASSWORDS_TXT
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

fn common_error() -> Invalid {
    Invalid::new(
        "password_common",
        "Mật khẩu này quá phổ biến và dễ bị đoán; vui lòng chọn mật khẩu khác.",
    )
}

/// Checks a new password against the policy.
///
/// `identifiers` are the account's own identifiers (national ID, email,
/// phone number, user name…). Fails with:
/// - `password_length` unless it has 10 to 128 characters;
/// - `password_identifier` if, ignoring case and surrounding spaces, it
///   equals one of `identifiers`, or contains one that is an ID number
///   (9 or more ASCII digits, e.g. the 12-digit national ID);
/// - `password_common` if it is on the list of common passwords (ignoring
///   case), a single repeated character, or a straight run of digits or
///   letters such as `0123456789`, `9876543210` or `abcdefghij`.
pub fn check_password(password: &str, identifiers: &[&str]) -> Result<(), Invalid> {
    let len = password.chars().count();
    if !(MIN_CHARS..=MAX_CHARS).contains(&len) {
        return Err(Invalid::new(
            "password_length",
            format!("Mật khẩu phải có từ {MIN_CHARS} đến {MAX_CHARS} ký tự."),
        ));
    }

    let lowered = password.trim().to_lowercase();
    let reuses_identifier = identifiers.iter().any(|raw| {
        let id = raw.trim().to_lowercase();
        !id.is_empty() && (lowered == id || (is_id_number(&id) && lowered.contains(&id)))
    });
    if reuses_identifier {
        return Err(Invalid::new(
            "password_identifier",
            "Mật khẩu không được trùng với số định danh hoặc email.",
        ));
    }

    let lowered_whole = password.to_lowercase();
    if COMMON_PASSWORDS.contains(lowered_whole.as_str())
        || COMMON_PASSWORDS.contains(lowered.as_str())
        || is_trivial_sequence(&lowered_whole)
        || is_trivial_sequence(&lowered)
    {
        return Err(common_error());
    }
    Ok(())
}

/// An identity number worth looking for inside a password: 9 or more ASCII
/// digits (12-digit national ID, 9-digit old ID card, phone number digits).
fn is_id_number(id: &str) -> bool {
    id.len() >= 9 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `text` (already lower case) is one character repeated, or a
/// straight ascending or descending run of digits (wrapping 9→0, as in
/// `1234567890`) or of letters.
fn is_trivial_sequence(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if text.chars().all(|c| text.starts_with(c)) {
        return true;
    }
    let steps = |step: fn(u8) -> Option<u8>| bytes.windows(2).all(|w| step(w[0]) == Some(w[1]));
    if bytes.iter().all(u8::is_ascii_digit) {
        let up = |d: u8| Some(if d == b'9' { b'0' } else { d + 1 });
        let down = |d: u8| Some(if d == b'0' { b'9' } else { d - 1 });
        return steps(up) || steps(down);
    }
    if first.is_ascii_lowercase() && bytes.iter().all(u8::is_ascii_lowercase) {
        let up = |c: u8| (c < b'z').then(|| c + 1);
        let down = |c: u8| (c > b'a').then(|| c - 1);
        return steps(up) || steps(down);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const NATIONAL_ID: &str = "079203001234";
    const EMAIL: &str = "Nguyen.Van.An@Example.vn";

    fn code(password: &str) -> Option<&'static str> {
        check_password(password, &[NATIONAL_ID, EMAIL])
            .err()
            .map(|e| e.code)
    }

    #[test]
    fn accepts_a_reasonable_password() {
        assert_eq!(code("ngựa vằn ăn cỏ lúc 5 giờ"), None);
        assert_eq!(code("Tr0ub4dor&3xyz"), None);
        assert_eq!(code("correct horse battery staple"), None);
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert_eq!(code("abcxyz123"), Some("password_length"));
        assert_eq!(code(""), Some("password_length"));
        // 9 Vietnamese letters are 9 characters but more than 10 bytes.
        let nine = "ệệệệệệệệệ";
        assert!(nine.len() >= MIN_CHARS);
        assert_eq!(code(nine), Some("password_length"));
        assert_eq!(code("ệcdễfgh1ả2"), None);
        // Upper bound.
        let max: String = "ab1Cd2".chars().cycle().take(MAX_CHARS).collect();
        assert_eq!(code(&max), None);
        let over: String = "ab1Cd2".chars().cycle().take(MAX_CHARS + 1).collect();
        assert_eq!(code(&over), Some("password_length"));
        let err = check_password("short", &[]).expect_err("short");
        assert_eq!(err.message, "Mật khẩu phải có từ 10 đến 128 ký tự.");
    }

    #[test]
    fn rejects_identifiers_ignoring_case_and_spaces() {
        assert_eq!(code(NATIONAL_ID), Some("password_identifier"));
        assert_eq!(code("  079203001234 "), Some("password_identifier"));
        assert_eq!(
            code("nguyen.van.an@example.vn"),
            Some("password_identifier")
        );
        assert_eq!(
            code(" NGUYEN.VAN.AN@EXAMPLE.VN"),
            Some("password_identifier")
        );
        let err = check_password(NATIONAL_ID, &[NATIONAL_ID]).expect_err("id");
        assert_eq!(
            err.message,
            "Mật khẩu không được trùng với số định danh hoặc email."
        );
    }

    #[test]
    fn rejects_passwords_containing_the_national_id() {
        assert_eq!(code("abc079203001234"), Some("password_identifier"));
        assert_eq!(code("079203001234!Xyz"), Some("password_identifier"));
        // The email is only compared whole, not searched for.
        assert_eq!(code("x nguyen.van.an@example.vn x"), None);
        // Blank identifiers never match.
        assert_eq!(check_password("Ng0c-Lan-2024", &["", "  "]), Ok(()));
    }

    #[test]
    fn rejects_common_passwords_ignoring_case() {
        for pw in [
            "1234567890",
            "qwertyuiop",
            "password123",
            "Password123",
            "PASSWORD123",
            "iloveyou12",
            "matkhau123",
            "AnhYeuEm123",
            "123456789a",
            "1q2w3e4r5t",
        ] {
            assert_eq!(code(pw), Some("password_common"), "{pw}");
        }
        let err = check_password("password123", &[]).expect_err("common");
        assert_eq!(
            err.message,
            "Mật khẩu này quá phổ biến và dễ bị đoán; vui lòng chọn mật khẩu khác."
        );
    }

    #[test]
    fn rejects_repeated_characters_and_straight_sequences() {
        for pw in [
            "aaaaaaaaaa",
            "AAAAAAAAAAAA",
            "ææææææææææ",
            "0123456789",
            "9876543210",
            "3456789012",
            "2109876543",
            "abcdefghij",
            "jihgfedcba",
            "QRSTUVWXYZ",
            "mnopqrstuvwxyz",
            "          ",
            " 0123456789 ",
            " password123",
        ] {
            assert_eq!(code(pw), Some("password_common"), "{pw}");
        }
        for pw in ["abcdefghik", "0123456780", "xyzabcdefg", "abcde12345x"] {
            assert_ne!(code(pw), Some("password_common"), "{pw}");
        }
    }

    #[test]
    fn trivial_sequence_detector() {
        assert!(is_trivial_sequence("aaaaaaaaaa"));
        assert!(is_trivial_sequence("1234567890"));
        assert!(is_trivial_sequence("zyxwvutsrq"));
        assert!(!is_trivial_sequence(""));
        assert!(!is_trivial_sequence("yzabcdefgh"));
        assert!(!is_trivial_sequence("a1b2c3d4e5"));
        assert!(!is_trivial_sequence("abcdefghiJ"));
    }

    #[test]
    fn common_list_is_large_lower_case_and_clean() {
        let entries: Vec<&str> = COMMON_PASSWORDS_TXT
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert!(entries.len() >= 1000, "{}", entries.len());
        assert_eq!(COMMON_PASSWORDS.len(), entries.len(), "no duplicates");
        for entry in &entries {
            assert_eq!(*entry, entry.trim(), "{entry:?}");
            assert!(!entry.is_empty());
            assert_eq!(*entry, entry.to_lowercase(), "{entry}");
            assert!(
                entry.chars().count() >= MIN_CHARS,
                "{entry} can never be chosen"
            );
        }
        for required in ["matkhau123", "anhyeuem123", "123456789a", "iloveyou12"] {
            assert!(COMMON_PASSWORDS.contains(required), "{required}");
        }
    }
}
