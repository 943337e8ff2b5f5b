//! A person's full name as written in the civil registry (họ và tên), in
//! Unicode NFC with single spaces, plus its diacritic-free folded form for
//! search.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::Invalid;

/// Fewest characters in a name (after normalisation).
pub const MIN_CHARS: usize = 2;
/// Most characters in a name (after normalisation).
pub const MAX_CHARS: usize = 100;

/// A full name: NFC, whitespace collapsed to single spaces, trimmed; 2–100
/// characters; letters, spaces, apostrophes, hyphens and dots only, with at
/// least one letter.
///
/// Personal data: `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    /// Normalises and checks `raw`.
    ///
    /// A typographic apostrophe (`’`, `ʼ`) becomes `'`, so names of ethnic
    /// minorities such as "H’Hen Niê" are stored the same way whatever
    /// keyboard typed them.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let nfc: String = raw.nfc().collect();
        let name = nfc
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace(['\u{2019}', '\u{2bc}'], "'");
        if name.is_empty() {
            return Err(Invalid::new("name_empty", "Vui lòng nhập họ và tên."));
        }
        let len = name.chars().count();
        if !(MIN_CHARS..=MAX_CHARS).contains(&len) {
            return Err(Invalid::new(
                "name_length",
                format!("Họ và tên phải có từ {MIN_CHARS} đến {MAX_CHARS} ký tự."),
            ));
        }
        let allowed = |c: char| c.is_alphabetic() || matches!(c, ' ' | '\'' | '-' | '.');
        if !name.chars().all(allowed) || !name.chars().any(char::is_alphabetic) {
            return Err(Invalid::new(
                "name_characters",
                "Họ và tên chỉ được gồm chữ cái, khoảng trắng và các dấu ' - .",
            ));
        }
        Ok(Self(name))
    }

    /// The normalised name, e.g. "Nguyễn Văn An".
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name in lower case without diacritics, for search: "nguyen van an".
    ///
    /// Decomposes (NFD), drops the combining marks, and maps `đ`/`Đ` (a
    /// letter of its own, not a `d` with a mark) to `d`.
    pub fn folded(&self) -> String {
        fold(&self.0)
    }
}

/// Lower case without diacritics: NFD, combining marks dropped, `đ`/`Đ` → `d`.
fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .collect::<String>()
        .to_lowercase()
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Hides the name, so it does not end up in logs by accident.
impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(***)")
    }
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::is_nfc;

    #[test]
    fn normalises_spaces_and_composition() {
        let composed = "  Nguyễn   Văn  An ";
        let decomposed: String = composed.nfd().collect();
        assert_ne!(composed, decomposed, "the test input really is decomposed");
        for raw in [composed, decomposed.as_str(), "\tNguyễn\u{a0}Văn\nAn\r\n"] {
            let name = PersonName::parse(raw).expect("valid");
            assert_eq!(name.as_str(), "Nguyễn Văn An");
            assert!(is_nfc(name.as_str()));
            assert_eq!(name.as_str().chars().count(), 13);
            assert_eq!(name.folded(), "nguyen van an");
            assert_eq!(name.to_string(), "Nguyễn Văn An");
        }
    }

    #[test]
    fn folds_all_vietnamese_diacritics_and_d_with_stroke() {
        let name = PersonName::parse("ĐẶNG Thị Ngọc Hưởng Đức Ưu Ơn Ỷ").expect("valid");
        assert_eq!(name.folded(), "dang thi ngoc huong duc uu on y");
        let name = PersonName::parse("Trần Đình Trọng").expect("valid");
        assert_eq!(name.folded(), "tran dinh trong");
        assert!(name.folded().is_ascii());
    }

    #[test]
    fn accepts_apostrophes_hyphens_dots_and_other_scripts() {
        for (raw, stored) in [
            ("H'Hen Niê", "H'Hen Niê"),
            ("H’Hen Niê", "H'Hen Niê"),
            ("Nguyễn Thị Minh-Khai", "Nguyễn Thị Minh-Khai"),
            ("J. R. Smith", "J. R. Smith"),
            ("Lý Tiểu Long 李小龍", "Lý Tiểu Long 李小龍"),
            ("Vi", "Vi"),
        ] {
            assert_eq!(PersonName::parse(raw).expect(raw).as_str(), stored);
        }
    }

    #[test]
    fn rejects_empty_names() {
        for raw in ["", "   ", "\t\n"] {
            assert_eq!(PersonName::parse(raw).expect_err(raw).code, "name_empty");
        }
    }

    #[test]
    fn enforces_length_in_characters_after_normalisation() {
        assert_eq!(
            PersonName::parse("A").expect_err("short").code,
            "name_length"
        );
        // 100 two-byte characters are fine; 101 are not.
        let max = "ễ".repeat(MAX_CHARS);
        assert!(max.len() > MAX_CHARS);
        assert!(PersonName::parse(&max).is_ok());
        let over = "ễ".repeat(MAX_CHARS + 1);
        assert_eq!(
            PersonName::parse(&over).expect_err("long").code,
            "name_length"
        );
        // Decomposed input is measured after composition: "ễ" in NFD is 3
        // code points but counts as one.
        let nfd_max: String = max.nfd().collect();
        assert!(nfd_max.chars().count() > MAX_CHARS);
        assert!(PersonName::parse(&nfd_max).is_ok());
        // Runs of spaces are collapsed before measuring.
        let spaced = format!("An{}Bình", " ".repeat(200));
        assert_eq!(
            PersonName::parse(&spaced).expect("valid").as_str(),
            "An Bình"
        );
    }

    #[test]
    fn rejects_digits_symbols_and_names_without_letters() {
        for raw in [
            "Nguyễn Văn 2",
            "Nguyen_Van",
            "Trần@Minh",
            "An, Bình",
            "<script>",
            "--",
            "'. -",
            "An\u{200b}Bình",
            "Ana\u{301}\u{301}",
        ] {
            assert_eq!(
                PersonName::parse(raw).expect_err(raw).code,
                "name_characters",
                "{raw}"
            );
        }
    }

    #[test]
    fn debug_hides_the_name() {
        let name = PersonName::parse("Nguyễn Văn An").expect("valid");
        let shown = format!("{name:?}");
        assert_eq!(shown, "PersonName(***)");
        assert!(!shown.contains("Nguy"));
    }
}
