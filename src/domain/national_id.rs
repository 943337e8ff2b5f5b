//! The 12-digit Vietnamese personal identification number (số định danh cá
//! nhân, printed on the citizen identity card, CCCD) and the sex recorded with
//! it.
//!
//! Structure (Decree 137/2015/NĐ-CP, Circular 07/2016/TT-BCA, Circular
//! 59/2021/TT-BCA):
//!
//! | digits | meaning |
//! | --- | --- |
//! | 1–3 | province code of the place where the birth was registered (one of the 63 pre-2025 provinces) |
//! | 4 | century of birth and sex: 0/1 = 1900s, 2/3 = 2000s, 4/5 = 2100s, 6/7 = 2200s, 8/9 = 1800s; even = male, odd = female |
//! | 5–6 | last two digits of the year of birth |
//! | 7–12 | random |
//!
//! The province codes are those of the birth registration, so they stay the
//! pre-2025 ones even after the 2025 province mergers.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::Invalid;

/// The 63 province codes of digits 1–3 and the province names, sorted by code.
///
/// The array type fixes the count at 63 at compile time.
const PROVINCES: [(&str, &str); 63] = [
    ("001", "Hà Nội"),
    ("002", "Hà Giang"),
    ("004", "Cao Bằng"),
    ("006", "Bắc Kạn"),
    ("008", "Tuyên Quang"),
    ("010", "Lào Cai"),
    ("011", "Điện Biên"),
    ("012", "Lai Châu"),
    ("014", "Sơn La"),
    ("015", "Yên Bái"),
    ("017", "Hòa Bình"),
    ("019", "Thái Nguyên"),
    ("020", "Lạng Sơn"),
    ("022", "Quảng Ninh"),
    ("024", "Bắc Giang"),
    ("025", "Phú Thọ"),
    ("026", "Vĩnh Phúc"),
    ("027", "Bắc Ninh"),
    ("030", "Hải Dương"),
    ("031", "Hải Phòng"),
    ("033", "Hưng Yên"),
    ("034", "Thái Bình"),
    ("035", "Hà Nam"),
    ("036", "Nam Định"),
    ("037", "Ninh Bình"),
    ("038", "Thanh Hóa"),
    ("040", "Nghệ An"),
    ("042", "Hà Tĩnh"),
    ("044", "Quảng Bình"),
    ("045", "Quảng Trị"),
    ("046", "Thừa Thiên Huế"),
    ("048", "Đà Nẵng"),
    ("049", "Quảng Nam"),
    ("051", "Quảng Ngãi"),
    ("052", "Bình Định"),
    ("054", "Phú Yên"),
    ("056", "Khánh Hòa"),
    ("058", "Ninh Thuận"),
    ("060", "Bình Thuận"),
    ("062", "Kon Tum"),
    ("064", "Gia Lai"),
    ("066", "Đắk Lắk"),
    ("067", "Đắk Nông"),
    ("068", "Lâm Đồng"),
    ("070", "Bình Phước"),
    ("072", "Tây Ninh"),
    ("074", "Bình Dương"),
    ("075", "Đồng Nai"),
    ("077", "Bà Rịa – Vũng Tàu"),
    ("079", "Hồ Chí Minh"),
    ("080", "Long An"),
    ("082", "Tiền Giang"),
    ("083", "Bến Tre"),
    ("084", "Trà Vinh"),
    ("086", "Vĩnh Long"),
    ("087", "Đồng Tháp"),
    ("089", "An Giang"),
    ("091", "Kiên Giang"),
    ("092", "Cần Thơ"),
    ("093", "Hậu Giang"),
    ("094", "Sóc Trăng"),
    ("095", "Bạc Liêu"),
    ("096", "Cà Mau"),
];

/// The name of the province with the 3-digit birth-registration `code`.
fn province_name(code: &str) -> Option<&'static str> {
    PROVINCES
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .and_then(|i| PROVINCES.get(i))
        .map(|(_, name)| *name)
}

/// Sex as recorded in the civil registry and encoded in digit 4 of the
/// personal identification number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    /// Nam.
    Male,
    /// Nữ.
    Female,
}

impl Sex {
    /// Parses `"male"`/`"female"` (the stored form) or the Vietnamese labels
    /// `"nam"`/`"nữ"`, ignoring case and surrounding spaces.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value: String = raw.trim().nfc().collect::<String>().to_lowercase();
        match value.as_str() {
            "male" | "nam" => Ok(Self::Male),
            "female" | "nữ" => Ok(Self::Female),
            _ => Err(Invalid::new(
                "sex_format",
                "Giới tính phải là \"nam\" hoặc \"nữ\".",
            )),
        }
    }

    /// The stored form: `"male"` or `"female"` (same as the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
        }
    }

    /// The Vietnamese label shown to people: "Nam" or "Nữ".
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Male => "Nam",
            Self::Female => "Nữ",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 12-digit personal identification number with a known province code.
///
/// Personal data: `Debug` shows only the last 3 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NationalId(String);

impl NationalId {
    /// Parses `raw` after trimming surrounding whitespace: exactly 12 ASCII
    /// digits whose first three are a known province code.
    ///
    /// Every value of digit 4 encodes some century (1800–2299) and sex, so
    /// digit 4 cannot be wrong on its own; [`NationalId::check_birth`] checks
    /// it against the declared date of birth and sex.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        if trimmed.len() != 12 || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new(
                "national_id_format",
                "Số định danh cá nhân phải gồm đúng 12 chữ số.",
            ));
        }
        let code = &trimmed[..3];
        if province_name(code).is_none() {
            return Err(Invalid::new(
                "national_id_province",
                format!(
                    "Ba chữ số đầu của số định danh cá nhân ({code}) không phải là mã tỉnh, thành phố hợp lệ."
                ),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits 1–3: the province code of the birth registration (e.g. `"079"`).
    pub fn province_code(&self) -> &str {
        &self.0[..3]
    }

    /// The name of the province of digits 1–3 (e.g. "Hồ Chí Minh" for `079`).
    pub fn province_name(&self) -> &'static str {
        // `parse` only accepts known codes, so the fallback is never used.
        province_name(self.province_code()).unwrap_or("")
    }

    /// Digit 4 as a number (0–9).
    fn century_sex_digit(&self) -> u8 {
        self.0.as_bytes().get(3).map_or(0, |b| b - b'0')
    }

    /// The first year of the century of birth encoded in digit 4: 1800, 1900,
    /// 2000, 2100 or 2200.
    pub fn century_start_year(&self) -> i32 {
        match self.century_sex_digit() {
            0 | 1 => 1900,
            2 | 3 => 2000,
            4 | 5 => 2100,
            6 | 7 => 2200,
            _ => 1800,
        }
    }

    /// Digits 5–6: the last two digits of the year of birth (0–99).
    pub fn birth_year_suffix(&self) -> u8 {
        let b = self.0.as_bytes();
        match (b.get(4), b.get(5)) {
            (Some(tens), Some(ones)) => (tens - b'0') * 10 + (ones - b'0'),
            _ => 0,
        }
    }

    /// The full year of birth encoded in digits 4–6.
    pub fn birth_year(&self) -> i32 {
        self.century_start_year() + i32::from(self.birth_year_suffix())
    }

    /// The sex encoded in digit 4 (even = male, odd = female).
    pub fn sex(&self) -> Sex {
        if self.century_sex_digit().is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Checks that the number agrees with the declared date of birth and sex.
    ///
    /// Fails with `national_id_birth_year` when the century or the two-digit
    /// year differ from the year of `date_of_birth`, else with
    /// `national_id_sex` when the sex differs.
    pub fn check_birth(&self, date_of_birth: NaiveDate, sex: Sex) -> Result<(), Invalid> {
        if date_of_birth.year() != self.birth_year() {
            return Err(Invalid::new(
                "national_id_birth_year",
                "Năm sinh trong số định danh cá nhân không khớp với ngày sinh đã khai.",
            ));
        }
        if sex != self.sex() {
            return Err(Invalid::new(
                "national_id_sex",
                "Giới tính trong số định danh cá nhân không khớp với giới tính đã khai.",
            ));
        }
        Ok(())
    }
}

impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shows only the last 3 digits, so the number does not end up in logs by accident.
impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = self.0.get(9..).unwrap_or("");
        write!(f, "NationalId(*********{tail})")
    }
}

impl AsRef<str> for NationalId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn province_table_has_63_sorted_unique_codes() {
        assert_eq!(PROVINCES.len(), 63);
        for pair in PROVINCES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} !< {}", pair[0].0, pair[1].0);
        }
        for (code, name) in PROVINCES {
            assert_eq!(code.len(), 3);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
            assert!(!name.is_empty());
            assert_eq!(province_name(code), Some(name));
        }
    }

    #[test]
    fn parses_a_valid_number_and_reads_its_parts() {
        let id = NationalId::parse(" 079203001234\n").expect("valid");
        assert_eq!(id.as_str(), "079203001234");
        assert_eq!(id.to_string(), "079203001234");
        assert_eq!(id.province_code(), "079");
        assert_eq!(id.province_name(), "Hồ Chí Minh");
        assert_eq!(id.century_start_year(), 2000);
        assert_eq!(id.birth_year_suffix(), 3);
        assert_eq!(id.birth_year(), 2003);
        assert_eq!(id.sex(), Sex::Male);
    }

    #[test]
    fn digit_four_encodes_century_and_sex() {
        let cases = [
            ('0', 1900, Sex::Male),
            ('1', 1900, Sex::Female),
            ('2', 2000, Sex::Male),
            ('3', 2000, Sex::Female),
            ('4', 2100, Sex::Male),
            ('5', 2100, Sex::Female),
            ('6', 2200, Sex::Male),
            ('7', 2200, Sex::Female),
            ('8', 1800, Sex::Male),
            ('9', 1800, Sex::Female),
        ];
        for (digit, century, sex) in cases {
            let id = NationalId::parse(&format!("001{digit}85123456")).expect("valid");
            assert_eq!(id.century_start_year(), century, "{digit}");
            assert_eq!(id.birth_year(), century + 85, "{digit}");
            assert_eq!(id.sex(), sex, "{digit}");
        }
    }

    #[test]
    fn province_names_cover_first_last_and_special_entries() {
        let name = |code: &str| {
            NationalId::parse(&format!("{code}090123456"))
                .expect("valid")
                .province_name()
        };
        assert_eq!(name("001"), "Hà Nội");
        assert_eq!(name("096"), "Cà Mau");
        assert_eq!(name("048"), "Đà Nẵng");
        assert_eq!(name("077"), "Bà Rịa – Vũng Tàu");
        assert_eq!(name("046"), "Thừa Thiên Huế");
    }

    #[test]
    fn rejects_wrong_shapes_with_format_code() {
        for raw in [
            "",
            "07920300123",
            "0792030012345",
            "07920300123a",
            "079 203 001 234",
            "079-203-001234",
            "０７９２０３００１２３４", // full-width digits
            "+79203001234",
        ] {
            let err = NationalId::parse(raw).expect_err(raw);
            assert_eq!(err.code, "national_id_format", "{raw}");
            assert_eq!(err.message, "Số định danh cá nhân phải gồm đúng 12 chữ số.");
        }
    }

    #[test]
    fn rejects_unknown_province_codes_naming_the_code() {
        for code in [
            "000", "003", "005", "009", "013", "047", "078", "097", "100", "999",
        ] {
            let err = NationalId::parse(&format!("{code}203001234")).expect_err(code);
            assert_eq!(err.code, "national_id_province", "{code}");
            assert!(err.message.contains(code), "{}", err.message);
        }
    }

    #[test]
    fn check_birth_accepts_matching_date_and_sex() {
        let id = NationalId::parse("079185001234").expect("valid");
        assert_eq!(id.check_birth(date(1985, 12, 31), Sex::Female), Ok(()));
        let id = NationalId::parse("001899000001").expect("valid");
        assert_eq!(id.check_birth(date(1899, 1, 1), Sex::Male), Ok(()));
    }

    #[test]
    fn check_birth_rejects_wrong_century_or_year() {
        let id = NationalId::parse("079085001234").expect("valid");
        // Same two digits, other century.
        let err = id
            .check_birth(date(2085, 5, 1), Sex::Male)
            .expect_err("century");
        assert_eq!(err.code, "national_id_birth_year");
        // Same century, other year.
        let err = id
            .check_birth(date(1986, 5, 1), Sex::Male)
            .expect_err("year");
        assert_eq!(err.code, "national_id_birth_year");
        // Year mismatch is reported before a sex mismatch.
        let err = id
            .check_birth(date(1986, 5, 1), Sex::Female)
            .expect_err("both");
        assert_eq!(err.code, "national_id_birth_year");
    }

    #[test]
    fn check_birth_rejects_wrong_sex() {
        let id = NationalId::parse("079305001234").expect("valid");
        assert_eq!(id.sex(), Sex::Female);
        let err = id
            .check_birth(date(2005, 2, 3), Sex::Male)
            .expect_err("sex");
        assert_eq!(err.code, "national_id_sex");
    }

    #[test]
    fn debug_shows_only_the_last_three_digits() {
        let id = NationalId::parse("079203001234").expect("valid");
        let shown = format!("{id:?}");
        assert_eq!(shown, "NationalId(*********234)");
        assert!(!shown.contains("079203"));
    }

    #[test]
    fn sex_parses_stored_and_vietnamese_forms() {
        assert_eq!(Sex::parse("male"), Ok(Sex::Male));
        assert_eq!(Sex::parse(" Female "), Ok(Sex::Female));
        assert_eq!(Sex::parse("Nam"), Ok(Sex::Male));
        assert_eq!(Sex::parse("NỮ"), Ok(Sex::Female));
        // "nữ" typed in decomposed form.
        assert_eq!(Sex::parse("nu\u{31b}\u{303}"), Ok(Sex::Female));
        for raw in ["", "m", "nu", "other"] {
            assert_eq!(Sex::parse(raw).expect_err(raw).code, "sex_format");
        }
    }

    #[test]
    fn sex_names_and_serde_form() {
        assert_eq!(Sex::Male.as_str(), "male");
        assert_eq!(Sex::Female.as_str(), "female");
        assert_eq!(Sex::Male.label_vi(), "Nam");
        assert_eq!(Sex::Female.label_vi(), "Nữ");
        assert_eq!(Sex::Female.to_string(), "female");
        assert_eq!(
            serde_json::to_string(&Sex::Female).expect("serialise"),
            "\"female\""
        );
        assert_eq!(
            serde_json::from_str::<Sex>("\"male\"").expect("deserialise"),
            Sex::Male
        );
        assert!(serde_json::from_str::<Sex>("\"Male\"").is_err());
    }
}
