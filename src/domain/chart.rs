//! Charts drawn on the server as SVG (no script, readable without styles):
//! bars per group, each with its online part.

use std::fmt::Write;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A bar chart of `(label, total, online)` groups titled `title`.
pub fn bars(title: &str, groups: &[(String, i64, i64)]) -> String {
    const WIDTH: i64 = 760;
    const HEIGHT: i64 = 260;
    const TOP: i64 = 30;
    const BOTTOM: i64 = 40;
    const LEFT: i64 = 40;
    let plot = HEIGHT - TOP - BOTTOM;
    let max = groups.iter().map(|g| g.1).max().unwrap_or(0).max(1);
    let n = i64::try_from(groups.len()).unwrap_or(1).max(1);
    let slot = (WIDTH - LEFT - 10) / n;
    let bar = (slot * 3 / 5).max(4);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{y}" x2="{x2}" y2="{y}" stroke="#9aa5b1"/>"##,
        y = TOP + plot,
        x2 = WIDTH - 10
    );
    for (i, (label, total, online)) in groups.iter().enumerate() {
        let i = i64::try_from(i).unwrap_or(0);
        let x = LEFT + i * slot + (slot - bar) / 2;
        let h = total * plot / max;
        let ho = online * plot / max;
        let base = TOP + plot;
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{y}" width="{bar}" height="{h}" fill="#9fb3c8"><title>{l}: {total} hồ sơ, {online} trực tuyến</title></rect><rect x="{x}" y="{yo}" width="{bar}" height="{ho}" fill="#b71c1c"/><text x="{cx}" y="{ty}" font-size="11" text-anchor="middle">{total}</text><text x="{cx}" y="{ly}" font-size="12" text-anchor="middle">{l}</text>"##,
            y = base - h,
            yo = base - ho,
            cx = x + bar / 2,
            ty = base - h - 4,
            ly = base + 16,
            l = escape(label),
        );
    }
    let _ = write!(
        out,
        r##"<rect x="{LEFT}" y="{ly}" width="10" height="10" fill="#b71c1c"/><text x="{tx}" y="{ty}" font-size="12">Nộp trực tuyến</text><rect x="{x2}" y="{ly}" width="10" height="10" fill="#9fb3c8"/><text x="{tx2}" y="{ty}" font-size="12">Tổng số hồ sơ tiếp nhận</text></svg>"##,
        ly = HEIGHT - 14,
        tx = LEFT + 14,
        ty = HEIGHT - 5,
        x2 = LEFT + 130,
        tx2 = LEFT + 144
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_group_and_escape_labels() {
        let svg = bars(
            "Hồ sơ <2026>",
            &[
                ("T1".into(), 10, 5),
                ("T2".into(), 20, 20),
                ("T3".into(), 0, 0),
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Hồ sơ &lt;2026&gt;"));
        // The largest bar fills the plot (190 px), half of it half that.
        assert!(svg.contains(r##"height="190" fill="#9fb3c8""##), "{svg}");
        assert!(svg.contains(r##"height="95" fill="#9fb3c8""##), "{svg}");
        assert!(svg.contains("T3"));
    }
}
