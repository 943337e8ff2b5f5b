//! Vietnamese text folded for search: lower case, diacritics removed (`đ`
//! becomes `d`), punctuation turned into spaces, so "dang ky khai sinh" finds
//! "Đăng ký khai sinh".

use unicode_normalization::UnicodeNormalization;

/// `text` folded: NFD, combining marks dropped, `đ`→`d`, lower case,
/// anything not a letter or digit a single space.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The words of a folded query (at most 12, each at most 40 characters).
pub fn words(query: &str) -> Vec<String> {
    fold(query)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(12)
        .map(|w| w.chars().take(40).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_diacritics_and_case() {
        assert_eq!(fold("Đăng ký khai sinh"), "dang ky khai sinh");
        assert_eq!(
            fold("  CẤP Phiếu lý lịch tư pháp (số 1)!"),
            "cap phieu ly lich tu phap so 1"
        );
        assert_eq!(
            fold("Giấy phép xây dựng – nhà ở riêng lẻ"),
            "giay phep xay dung nha o rieng le"
        );
        assert_eq!(fold(""), "");
        assert_eq!(words("dang  ky, KHAI-sinh"), ["dang", "ky", "khai", "sinh"]);
    }
}
