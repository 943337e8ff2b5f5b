//! The kinds of file we take (PDF, PNG, JPEG) and whether some bytes are a
//! well-formed file of a kind: not only its first bytes (which any other
//! document, an HTML page say, can start with) but the structure its readers
//! rely on: a PDF's header and `%%EOF` trailer, a PNG's signature, `IHDR`
//! header (with its CRC) and `IEND` end, a JPEG's SOI and EOI markers.

use std::fmt;

/// A kind of file we take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `application/pdf`.
    Pdf,
    /// `image/png`.
    Png,
    /// `image/jpeg`.
    Jpeg,
}

/// Why bytes are not a well-formed file of their kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// No `%PDF-x.y` header.
    PdfHeader,
    /// No `%%EOF` at the end.
    PdfTrailer,
    /// No PNG signature.
    PngSignature,
    /// The first chunk is not a valid `IHDR`.
    PngHeader,
    /// The last chunk is not `IEND`.
    PngEnd,
    /// No SOI marker followed by another marker.
    JpegStart,
    /// No EOI marker at the end.
    JpegEnd,
}

impl Malformed {
    /// What is wrong, in Vietnamese, for the person who uploaded the file.
    pub fn detail(self) -> &'static str {
        match self {
            Self::PdfHeader => "Nội dung tệp không phải là tệp PDF hợp lệ (thiếu phần đầu %PDF-).",
            Self::PdfTrailer => {
                "Nội dung tệp không phải là tệp PDF hợp lệ (thiếu phần kết thúc %%EOF)."
            }
            Self::PngSignature => "Nội dung tệp không phải là ảnh PNG hợp lệ (sai chữ ký PNG).",
            Self::PngHeader => {
                "Nội dung tệp không phải là ảnh PNG hợp lệ (phần IHDR không hợp lệ)."
            }
            Self::PngEnd => "Nội dung tệp không phải là ảnh PNG hợp lệ (thiếu phần kết thúc IEND).",
            Self::JpegStart => {
                "Nội dung tệp không phải là ảnh JPEG hợp lệ (thiếu dấu bắt đầu SOI)."
            }
            Self::JpegEnd => "Nội dung tệp không phải là ảnh JPEG hợp lệ (thiếu dấu kết thúc EOI).",
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.detail())
    }
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const PNG_IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

impl FileKind {
    /// The kind a media type (parameters ignored, any case) names, if one we take.
    pub fn from_media_type(raw: &str) -> Option<Self> {
        let essence = raw.split(';').next().unwrap_or_default().trim();
        if essence.eq_ignore_ascii_case("application/pdf") {
            Some(Self::Pdf)
        } else if essence.eq_ignore_ascii_case("image/png") {
            Some(Self::Png)
        } else if essence.eq_ignore_ascii_case("image/jpeg") {
            Some(Self::Jpeg)
        } else {
            None
        }
    }

    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    /// The kind the first bytes announce (before any structural check).
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(&PNG_SIGNATURE) {
            Some(Self::Png)
        } else {
            None
        }
    }

    /// Whether a file name's extension fits the kind.
    pub fn extension_fits(self, name: &str) -> bool {
        let lower = name.to_lowercase();
        match self {
            Self::Pdf => lower.ends_with(".pdf"),
            Self::Jpeg => lower.ends_with(".jpg") || lower.ends_with(".jpeg"),
            Self::Png => lower.ends_with(".png"),
        }
    }

    /// Whether `bytes` are a well-formed file of this kind.
    pub fn check(self, bytes: &[u8]) -> Result<(), Malformed> {
        match self {
            Self::Pdf => check_pdf(bytes),
            Self::Png => check_png(bytes),
            Self::Jpeg => check_jpeg(bytes),
        }
    }
}

/// `%PDF-d.d` first, `%%EOF` last (only line ends and spaces after it).
fn check_pdf(bytes: &[u8]) -> Result<(), Malformed> {
    match bytes {
        [b'%', b'P', b'D', b'F', b'-', major, b'.', minor, ..]
            if major.is_ascii_digit() && minor.is_ascii_digit() => {}
        _ => return Err(Malformed::PdfHeader),
    }
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n' | b' ' | b'\t' | b'\x0C' | 0))
        .map_or(0, |i| i + 1);
    // The header itself is not the trailer.
    if end < 8 + 5 || !bytes[..end].ends_with(b"%%EOF") {
        return Err(Malformed::PdfTrailer);
    }
    Ok(())
}

/// The signature, a first chunk `IHDR` of 13 bytes with sane values and a
/// correct CRC, and `IEND` last.
fn check_png(bytes: &[u8]) -> Result<(), Malformed> {
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(Malformed::PngSignature);
    }
    // 8 signature + 4 length + 4 type + 13 data + 4 CRC.
    let Some(chunk) = bytes.get(8..33) else {
        return Err(Malformed::PngHeader);
    };
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let length = be32(&chunk[0..4]);
    let data = &chunk[8..21];
    let width = be32(&data[0..4]);
    let height = be32(&data[4..8]);
    let (depth, colour, compression, filter, interlace) =
        (data[8], data[9], data[10], data[11], data[12]);
    let depth_ok = match colour {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    let header_ok = length == 13
        && &chunk[4..8] == b"IHDR"
        && (1..=0x7FFF_FFFF).contains(&width)
        && (1..=0x7FFF_FFFF).contains(&height)
        && depth_ok
        && compression == 0
        && filter == 0
        && interlace <= 1
        && crc32(&chunk[4..21]) == be32(&chunk[21..25]);
    if !header_ok {
        return Err(Malformed::PngHeader);
    }
    if bytes.len() < 33 + PNG_IEND.len() || !bytes.ends_with(&PNG_IEND) {
        return Err(Malformed::PngEnd);
    }
    Ok(())
}

/// SOI and a marker first, EOI last.
fn check_jpeg(bytes: &[u8]) -> Result<(), Malformed> {
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(Malformed::JpegStart);
    }
    if bytes.len() < 5 || !bytes.ends_with(&[0xFF, 0xD9]) {
        return Err(Malformed::JpegEnd);
    }
    Ok(())
}

/// CRC-32 (ISO 3309, as PNG uses it).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A minimal well-formed PNG of `width` × `height` (its header and end;
/// enough for the checks above), for tests and samples.
pub fn png_skeleton(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = PNG_SIGNATURE.to_vec();
    out.extend_from_slice(&13_u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    out.extend_from_slice(&PNG_IEND);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf(body: &str) -> Vec<u8> {
        format!("%PDF-1.7\n{body}\n%%EOF\n").into_bytes()
    }

    #[test]
    fn media_types_and_extensions() {
        assert_eq!(
            FileKind::from_media_type("Application/PDF; charset=binary"),
            Some(FileKind::Pdf)
        );
        assert_eq!(FileKind::from_media_type("image/png"), Some(FileKind::Png));
        assert_eq!(
            FileKind::from_media_type(" image/jpeg "),
            Some(FileKind::Jpeg)
        );
        assert_eq!(FileKind::from_media_type("text/html"), None);
        assert_eq!(FileKind::from_media_type("image/svg+xml"), None);
        assert_eq!(FileKind::from_media_type(""), None);
        assert_eq!(FileKind::Jpeg.media_type(), "image/jpeg");
        assert!(FileKind::Pdf.extension_fits("Giấy tờ.PDF"));
        assert!(FileKind::Jpeg.extension_fits("anh.jpeg"));
        assert!(FileKind::Jpeg.extension_fits("anh.JPG"));
        assert!(!FileKind::Png.extension_fits("anh.png.html"));
        assert!(!FileKind::Pdf.extension_fits("pdf"));
    }

    #[test]
    fn sniffing_reads_only_the_first_bytes() {
        assert_eq!(FileKind::sniff(&pdf("x")), Some(FileKind::Pdf));
        assert_eq!(FileKind::sniff(&png_skeleton(1, 1)), Some(FileKind::Png));
        assert_eq!(
            FileKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xD9]),
            Some(FileKind::Jpeg)
        );
        assert_eq!(FileKind::sniff(b"<!doctype html>"), None);
        assert_eq!(FileKind::sniff(b""), None);
    }

    #[test]
    fn a_pdf_needs_its_header_and_its_trailer() {
        assert_eq!(FileKind::Pdf.check(&pdf("1 0 obj << >> endobj")), Ok(()));
        assert_eq!(FileKind::Pdf.check(b"%PDF-2.0\n%%EOF"), Ok(()));
        assert_eq!(FileKind::Pdf.check(b"%PDF-1.4\n%%EOF\r\n\0 \t"), Ok(()));
        for (bytes, why) in [
            (
                &b"<html><script>alert(document.cookie)</script></html>"[..],
                Malformed::PdfHeader,
            ),
            (b"%PDF-", Malformed::PdfHeader),
            (b"%PDF-x.y\n%%EOF", Malformed::PdfHeader),
            (b" %PDF-1.4\n%%EOF", Malformed::PdfHeader),
            (b"", Malformed::PdfHeader),
            (
                b"%PDF-1.4\n<html><script>alert(1)</script></html>\n",
                Malformed::PdfTrailer,
            ),
            (b"%PDF-1.4\n%%EOF trailing junk", Malformed::PdfTrailer),
            (b"%PDF-1.4\n%%EO", Malformed::PdfTrailer),
            (b"%PDF-1.4", Malformed::PdfTrailer),
        ] {
            assert_eq!(
                FileKind::Pdf.check(bytes),
                Err(why),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn a_png_needs_its_signature_a_valid_ihdr_and_iend() {
        let good = png_skeleton(640, 480);
        assert_eq!(FileKind::Png.check(&good), Ok(()));
        assert_eq!(
            FileKind::Png.check(b"<svg onload=alert(1)>"),
            Err(Malformed::PngSignature)
        );
        // The signature alone, or with anything but a header after it.
        assert_eq!(
            FileKind::Png.check(&[&PNG_SIGNATURE[..], &[0; 16]].concat()),
            Err(Malformed::PngHeader)
        );
        assert_eq!(
            FileKind::Png.check(&PNG_SIGNATURE),
            Err(Malformed::PngHeader)
        );
        let mut bad_crc = good.clone();
        bad_crc[30] ^= 1;
        assert_eq!(FileKind::Png.check(&bad_crc), Err(Malformed::PngHeader));
        let zero_width = png_skeleton(0, 480);
        assert_eq!(FileKind::Png.check(&zero_width), Err(Malformed::PngHeader));
        // Colour type 2 (truecolour) takes only 8 or 16 bits: change the
        // depth and fix the CRC, so only the depth is wrong.
        let mut bad_depth = good.clone();
        bad_depth[24] = 4;
        let crc = crc32(&bad_depth[12..29]);
        bad_depth[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(FileKind::Png.check(&bad_depth), Err(Malformed::PngHeader));
        let truncated = &good[..good.len() - 1];
        assert_eq!(FileKind::Png.check(truncated), Err(Malformed::PngEnd));
        let html_after = [&good[..33], b"<html><script>x</script>"].concat();
        assert_eq!(FileKind::Png.check(&html_after), Err(Malformed::PngEnd));
    }

    #[test]
    fn the_crc_is_the_one_png_uses() {
        // The IEND chunk's CRC is fixed by the PNG specification.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_jpeg_needs_soi_and_eoi() {
        assert_eq!(
            FileKind::Jpeg.check(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0xFF, 0xD9]),
            Ok(())
        );
        for (bytes, why) in [
            (&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10][..], Malformed::JpegEnd),
            (&[0xFF, 0xD8, 0xFF, 0xD9][..], Malformed::JpegEnd),
            (
                &[0xFF, 0xD8, 0x3C, 0x68, 0xFF, 0xD9][..],
                Malformed::JpegStart,
            ),
            (&b"GIF89a"[..], Malformed::JpegStart),
            (&[][..], Malformed::JpegStart),
        ] {
            assert_eq!(FileKind::Jpeg.check(bytes), Err(why), "{bytes:?}");
        }
    }

    #[test]
    fn every_reason_reads_in_vietnamese() {
        for why in [
            Malformed::PdfHeader,
            Malformed::PdfTrailer,
            Malformed::PngSignature,
            Malformed::PngHeader,
            Malformed::PngEnd,
            Malformed::JpegStart,
            Malformed::JpegEnd,
        ] {
            assert!(why.detail().starts_with("Nội dung tệp không phải là"));
            assert_eq!(why.to_string(), why.detail());
        }
    }
}
