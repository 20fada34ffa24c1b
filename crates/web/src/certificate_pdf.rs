//! The certificate as a PDF (A4): title, holder, the itemized services (paginated), the
//! total, the issuer block with a drawn seal, and a QR code of the public verification URL,
//! drawn as vector squares. Text is set in WenQuanYi Micro Hei, embedded in the binary, so
//! Chinese renders on a machine without Chinese fonts; krilla embeds only the glyphs used
//! (with a ToUnicode map, so the text can be searched and copied).

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use wushe_store::volunteering::certificates::Item;

static FONT_DATA: &[u8] = include_bytes!("../static/fonts/wqy-microhei.ttc");

/// The font for krilla (cheap to clone) and its metrics for measuring text.
#[allow(clippy::expect_used, reason = "the font is embedded in the binary; a test renders with it")]
static FONT: LazyLock<Font> = LazyLock::new(|| Font::new(FONT_DATA.into(), 0).expect("embedded font"));
#[allow(clippy::expect_used, reason = "the font is embedded in the binary; a test renders with it")]
static FACE: LazyLock<ttf_parser::Face<'static>> =
    LazyLock::new(|| ttf_parser::Face::parse(FONT_DATA, 0).expect("embedded font"));

// A4 in points, and the margins.
const W: f32 = 595.28;
const H: f32 = 841.89;
const LEFT: f32 = 45.0;
const RIGHT: f32 = W - 45.0;
/// Lowest baseline of page content (the footer sits below).
const BOTTOM: f32 = H - 60.0;

/// Everything printed on a certificate.
pub struct CertificateDoc<'a> {
    /// Grouped for reading.
    pub number: &'a str,
    pub holder_name: &'a str,
    pub id_type: &'a str,
    pub id_masked: &'a str,
    pub volunteer_number: &'a str,
    pub total_minutes: i64,
    pub items: &'a [Item],
    pub issuer_name: &'a str,
    pub issuer_credit_code: Option<&'a str>,
    pub person_in_charge: Option<&'a str>,
    pub handler_name: &'a str,
    pub contact: Option<&'a str>,
    pub issued_on: NaiveDate,
    pub verify_url: &'a str,
}

/// Width of `text` at `size` points.
fn width(text: &str, size: f32) -> f32 {
    let face = &*FACE;
    let upem = f32::from(face.units_per_em());
    let units: u32 = text
        .chars()
        .map(|c| {
            let g = face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
            u32::from(face.glyph_hor_advance(g).unwrap_or(0))
        })
        .sum();
    units as f32 / upem * size
}

/// Lines of `text` no wider than `max` (Chinese breaks between any two characters), at
/// most `max_lines`; the last one ends with "…" when text was cut.
#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
fn wrap(text: &str, size: f32, max: f32, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in text.chars().filter(|c| !c.is_control()) {
        let mut next = cur.clone();
        next.push(c);
        if width(&next, size) > max && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
            cur.push(c);
        } else {
            cur = next;
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        let last = lines.last_mut().expect("one line");
        while !last.is_empty() && width(&format!("{last}…"), size) > max {
            last.pop();
        }
        last.push('…');
    }
    lines
}

fn black() -> Fill {
    Fill::default()
}

fn color(r: u8, g: u8, b: u8) -> Fill {
    Fill { paint: rgb::Color::new(r, g, b).into(), opacity: NormalizedF32::ONE, rule: Default::default() }
}

fn stroke(width: f32, r: u8, g: u8, b: u8) -> Stroke {
    Stroke { paint: rgb::Color::new(r, g, b).into(), width, ..Default::default() }
}

fn text(s: &mut Surface, x: f32, y: f32, size: f32, t: &str) {
    if !t.is_empty() {
        s.draw_text(Point::from_xy(x, y), FONT.clone(), size, t, false, TextDirection::Auto);
    }
}

fn text_right(s: &mut Surface, right: f32, y: f32, size: f32, t: &str) {
    text(s, right - width(t, size), y, size, t);
}

fn text_center(s: &mut Surface, cx: f32, y: f32, size: f32, t: &str) {
    text(s, cx - width(t, size) / 2.0, y, size, t);
}

fn rect(s: &mut Surface, x: f32, y: f32, w: f32, h: f32, fill: Option<Fill>, line: Option<Stroke>) {
    let mut pb = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(x, y, w, h) {
        pb.push_rect(r);
    }
    if let Some(p) = pb.finish() {
        s.set_fill(fill);
        s.set_stroke(line);
        s.draw_path(&p);
    }
}

fn line(s: &mut Surface, x1: f32, y1: f32, x2: f32, y2: f32, st: Stroke) {
    let mut pb = PathBuilder::new();
    pb.move_to(x1, y1);
    pb.line_to(x2, y2);
    if let Some(p) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(st));
        s.draw_path(&p);
    }
}

fn circle(s: &mut Surface, cx: f32, cy: f32, r: f32, st: Stroke) {
    // four cubic arcs (k = 4/3·(√2−1))
    let k = 0.552_284_8 * r;
    let mut pb = PathBuilder::new();
    pb.move_to(cx + r, cy);
    pb.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    pb.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    pb.close();
    if let Some(p) = pb.finish() {
        s.set_fill(None);
        s.set_stroke(Some(st));
        s.draw_path(&p);
    }
}

fn star(s: &mut Surface, cx: f32, cy: f32, r: f32, fill: Fill) {
    let mut pb = PathBuilder::new();
    for i in 0..10 {
        let rr = if i % 2 == 0 { r } else { r * 0.382 };
        let a = std::f32::consts::PI * (i as f32) / 5.0 - std::f32::consts::FRAC_PI_2;
        let (x, y) = (cx + rr * a.cos(), cy + rr * a.sin());
        if i == 0 {
            pb.move_to(x, y);
        } else {
            pb.line_to(x, y);
        }
    }
    pb.close();
    if let Some(p) = pb.finish() {
        s.set_fill(Some(fill));
        s.set_stroke(None);
        s.draw_path(&p);
    }
}

/// A round seal: the organization's name along the upper arc, a star, and 志愿服务证明专用章.
fn seal(s: &mut Surface, cx: f32, cy: f32, name: &str) {
    let red = (200, 30, 30);
    circle(s, cx, cy, 56.0, stroke(2.5, red.0, red.1, red.2));
    circle(s, cx, cy, 52.0, stroke(0.6, red.0, red.1, red.2));
    star(s, cx, cy, 15.0, color(red.0, red.1, red.2));
    s.set_fill(Some(color(red.0, red.1, red.2)));
    s.set_stroke(None);
    let chars: Vec<char> = name.chars().collect();
    let n = chars.len().max(1) as f32;
    let size = if n > 16.0 { 9.0 } else { 11.0 };
    // spread over up to 240° of the upper arc, centred on the top
    let span = (n * 15.0).min(240.0).to_radians();
    for (i, c) in chars.iter().enumerate() {
        let angle = if n > 1.0 { -span / 2.0 + span * i as f32 / (n - 1.0) } else { 0.0 };
        let (sin, cos) = angle.sin_cos();
        let t = Transform::from_row(cos, sin, -sin, cos, cx, cy);
        s.push_transform(&t);
        let ch = c.to_string();
        text(s, -width(&ch, size) / 2.0, -56.0 + 6.0 + size, size, &ch);
        s.pop();
    }
    text_center(s, cx, cy + 32.0, 8.0, "志愿服务证明专用章");
    s.set_fill(Some(black()));
}

/// The QR code of `url` as filled squares, `size` points wide, top-left at (x, y).
fn qr(s: &mut Surface, x: f32, y: f32, size: f32, url: &str) -> Result<(), String> {
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| format!("二维码生成失败：{e}"))?;
    let n = code.width();
    // a quiet zone of 2 modules on each side
    let m = size / (n as f32 + 4.0);
    rect(s, x, y, size, size, Some(color(255, 255, 255)), None);
    let mut pb = PathBuilder::new();
    for (i, c) in code.to_colors().into_iter().enumerate() {
        if c == qrcode::Color::Dark {
            let (col, row) = ((i % n) as f32, (i / n) as f32);
            if let Some(r) = Rect::from_xywh(x + (col + 2.0) * m, y + (row + 2.0) * m, m, m) {
                pb.push_rect(r);
            }
        }
    }
    if let Some(p) = pb.finish() {
        s.set_fill(Some(black()));
        s.set_stroke(None);
        s.draw_path(&p);
    }
    Ok(())
}

/// Columns of the services table: title and width.
const COLUMNS: [(&str, f32); 7] = [
    ("序号", 26.0),
    ("活动名称", 104.0),
    ("服务日期", 58.0),
    ("服务地点", 86.0),
    ("服务内容", 126.0),
    ("起止时间", 62.0),
    ("时长(小时)", 43.28),
];
const TABLE_SIZE: f32 = 8.0;
const TABLE_LEADING: f32 = 11.0;

fn beijing(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    wushe_domain::time::local_datetime(t)
}

/// The cells of one service, wrapped.
fn row_cells(i: usize, it: &Item) -> Vec<Vec<String>> {
    let (s, e) = (beijing(it.started_at), beijing(it.ended_at));
    let when = if s.date() == e.date() {
        format!("{}–{}", s.format("%H:%M"), e.format("%H:%M"))
    } else {
        format!("{}–{}", s.format("%H:%M"), e.format("%m-%d %H:%M"))
    };
    let values = [
        (i + 1).to_string(),
        it.activity_title.clone(),
        it.service_date.to_string(),
        it.place.clone(),
        it.content.clone(),
        when,
        wushe_domain::volunteering::hours::hours_label(it.credited_minutes),
    ];
    values.iter().zip(COLUMNS).map(|(v, (_, w))| wrap(v, TABLE_SIZE, w - 6.0, 3)).collect()
}

fn row_height(cells: &[Vec<String>]) -> f32 {
    let lines = cells.iter().map(Vec::len).max().unwrap_or(1) as f32;
    lines * TABLE_LEADING + 6.0
}

fn draw_row(s: &mut Surface, y: f32, cells: &[Vec<String>], header: bool) -> f32 {
    let h = row_height(cells);
    let fill = if header { Some(color(235, 238, 242)) } else { None };
    let mut x = LEFT;
    for ((_, w), lines) in COLUMNS.iter().zip(cells) {
        rect(s, x, y, *w, h, fill.clone(), Some(stroke(0.5, 120, 120, 120)));
        s.set_fill(Some(black()));
        s.set_stroke(None);
        for (k, l) in lines.iter().enumerate() {
            text(s, x + 3.0, y + 3.0 + TABLE_SIZE + k as f32 * TABLE_LEADING, TABLE_SIZE, l);
        }
        x += w;
    }
    h
}

fn header_cells() -> Vec<Vec<String>> {
    COLUMNS.iter().map(|(t, _)| vec![t.to_string()]).collect()
}

fn date_cn(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// Render the certificate.
#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
pub fn render(doc: &CertificateDoc<'_>) -> Result<Vec<u8>, String> {
    let total_hours = wushe_domain::volunteering::hours::hours_label(doc.total_minutes);
    let rows: Vec<Vec<Vec<String>>> = doc.items.iter().enumerate().map(|(i, it)| row_cells(i, it)).collect();

    // Lay the table out on pages first, so that every page can say "第 n 页 共 m 页".
    const FIRST_TABLE_TOP: f32 = 245.0;
    const NEXT_TABLE_TOP: f32 = 70.0;
    const CLOSING: f32 = 250.0;
    let header_h = row_height(&header_cells());
    let mut pages: Vec<Vec<usize>> = vec![Vec::new()];
    let mut y = FIRST_TABLE_TOP + header_h;
    for (i, r) in rows.iter().enumerate() {
        let h = row_height(r);
        if y + h > BOTTOM {
            pages.push(Vec::new());
            y = NEXT_TABLE_TOP + header_h;
        }
        pages.last_mut().expect("a page").push(i);
        y += h;
    }
    // the total row, then the issuer block with the seal and the QR code
    let total_h = TABLE_LEADING + 8.0;
    let closing_on_new_page = y + total_h + CLOSING > BOTTOM + 20.0;
    let page_count = pages.len() + usize::from(closing_on_new_page);

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("志愿服务记录证明 {}", doc.number))
            .creator("五社联动服务平台".into())
            .language("zh-CN".into()),
    );
    let settings = || PageSettings::from_wh(W, H).expect("A4");
    for (p, rows_here) in pages.iter().enumerate() {
        let mut page = document.start_page_with(settings());
        let mut s = page.surface();
        s.set_fill(Some(black()));
        let mut y = if p == 0 {
            text_center(&mut s, W / 2.0, 78.0, 24.0, "志愿服务记录证明");
            text_right(&mut s, RIGHT, 106.0, 9.5, &format!("证明编号：{}", doc.number));
            holder_block(&mut s, doc, 118.0);
            let intro = format!(
                "兹证明上述志愿者在本单位参加志愿服务，经本单位记录，累计志愿服务时长 {total_hours} 小时（共 {} 次）。服务明细如下：",
                doc.items.len()
            );
            for (k, l) in wrap(&intro, 11.0, RIGHT - LEFT, 2).iter().enumerate() {
                text(&mut s, LEFT, 196.0 + k as f32 * 17.0, 11.0, l);
            }
            FIRST_TABLE_TOP
        } else {
            continued(&mut s, doc);
            NEXT_TABLE_TOP
        };
        y += draw_row(&mut s, y, &header_cells(), true);
        for &i in rows_here {
            y += draw_row(&mut s, y, &rows[i], false);
        }
        if p + 1 == pages.len() {
            // the total, as the table's last row
            let tw: f32 = COLUMNS.iter().map(|c| c.1).sum();
            rect(&mut s, LEFT, y, tw, total_h, Some(color(245, 247, 250)), Some(stroke(0.5, 120, 120, 120)));
            s.set_fill(Some(black()));
            s.set_stroke(None);
            text(&mut s, LEFT + 3.0, y + 13.0, 10.0, &format!("合计：{} 次，{total_hours} 小时", doc.items.len()));
            y += total_h;
            if !closing_on_new_page {
                closing(&mut s, doc, y + 24.0)?;
            }
        }
        footer(&mut s, doc, p + 1, page_count);
        s.finish();
        page.finish();
    }
    if closing_on_new_page {
        let mut page = document.start_page_with(settings());
        let mut s = page.surface();
        continued(&mut s, doc);
        closing(&mut s, doc, NEXT_TABLE_TOP)?;
        footer(&mut s, doc, page_count, page_count);
        s.finish();
        page.finish();
    }
    document.finish().map_err(|e| format!("PDF 生成失败：{e:?}"))
}

fn continued(s: &mut Surface, doc: &CertificateDoc<'_>) {
    s.set_fill(Some(black()));
    text(s, LEFT, 50.0, 10.0, &format!("志愿服务记录证明（续）  证明编号：{}", doc.number));
}

fn holder_block(s: &mut Surface, doc: &CertificateDoc<'_>, top: f32) {
    // two rows of label | value | label | value
    let cols = [(LEFT, 62.0), (LEFT + 62.0, 185.5), (LEFT + 247.5, 70.0), (LEFT + 317.5, 187.78)];
    let rows = [
        [("姓名", doc.holder_name), ("证件类型", doc.id_type)],
        [("证件号码", doc.id_masked), ("志愿者编号", doc.volunteer_number)],
    ];
    let h = 24.0;
    for (r, row) in rows.iter().enumerate() {
        let y = top + r as f32 * h;
        for (k, (label, value)) in row.iter().enumerate() {
            let (lx, lw) = cols[k * 2];
            let (vx, vw) = cols[k * 2 + 1];
            rect(s, lx, y, lw, h, Some(color(235, 238, 242)), Some(stroke(0.5, 120, 120, 120)));
            rect(s, vx, y, vw, h, None, Some(stroke(0.5, 120, 120, 120)));
            s.set_fill(Some(black()));
            s.set_stroke(None);
            text(s, lx + 5.0, y + 16.0, 10.0, label);
            let v = wrap(value, 11.0, vw - 10.0, 1).remove(0);
            text(s, vx + 5.0, y + 16.5, 11.0, &v);
        }
    }
}

fn closing(s: &mut Surface, doc: &CertificateDoc<'_>, top: f32) -> Result<(), String> {
    let lines = [
        format!("出具单位：{}", doc.issuer_name),
        format!("统一社会信用代码：{}", doc.issuer_credit_code.unwrap_or("—")),
        format!("负责人：{}", doc.person_in_charge.unwrap_or("—")),
        format!("经办人：{}", doc.handler_name),
        format!("联系方式：{}", doc.contact.unwrap_or("—")),
        format!("出具日期：{}", date_cn(doc.issued_on)),
    ];
    s.set_fill(Some(black()));
    for (k, l) in lines.iter().enumerate() {
        let l = wrap(l, 10.5, 250.0, 1).remove(0);
        text(s, LEFT, top + 14.0 + k as f32 * 19.0, 10.5, &l);
    }
    text(s, LEFT, top + 14.0 + 6.0 * 19.0 + 6.0, 9.0, "本证明免费出具。出具单位（盖章）：");
    seal(s, LEFT + 330.0, top + 72.0, doc.issuer_name);
    let qr_size = 96.0;
    let qx = RIGHT - qr_size;
    qr(s, qx, top, qr_size, doc.verify_url)?;
    s.set_fill(Some(black()));
    text_center(s, qx + qr_size / 2.0, top + qr_size + 12.0, 8.5, "扫码查验真伪");
    let url_lines = wrap(doc.verify_url, 6.5, qr_size + 20.0, 3);
    for (k, l) in url_lines.iter().enumerate() {
        text_center(s, qx + qr_size / 2.0, top + qr_size + 23.0 + k as f32 * 8.0, 6.5, l);
    }
    Ok(())
}

fn footer(s: &mut Surface, doc: &CertificateDoc<'_>, page: usize, pages: usize) {
    s.set_fill(Some(color(90, 90, 90)));
    s.set_stroke(None);
    line(s, LEFT, H - 44.0, RIGHT, H - 44.0, stroke(0.4, 160, 160, 160));
    s.set_fill(Some(color(90, 90, 90)));
    text(s, LEFT, H - 30.0, 8.0, &format!("证明编号 {} · 可扫描二维码或访问查验页面输入编号核验", doc.number));
    text_right(s, RIGHT, H - 30.0, 8.0, &format!("第 {page} 页 共 {pages} 页"));
    s.set_fill(Some(black()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn item(i: usize) -> Item {
        let s = Utc.with_ymd_and_hms(2026, 3, 1, 1, 0, 0).unwrap() + chrono::Duration::days(i as i64);
        Item {
            record_id: i as i64,
            activity_title: format!("社区助老陪伴第{i}期"),
            service_date: wushe_domain::time::local_date(s),
            place: "武昌区积玉桥街道社区党群服务中心".into(),
            content: "上门探访独居老人，陪伴聊天、读报，检查水电燃气安全".repeat(1 + i % 3),
            started_at: s,
            ended_at: s + chrono::Duration::minutes(150),
            credited_minutes: 150,
        }
    }

    fn doc(items: &[Item]) -> CertificateDoc<'_> {
        CertificateDoc {
            number: "2026-7KQ2-M9XD-4HTR-C",
            holder_name: "李小华",
            id_type: "居民身份证",
            id_masked: "420106********1234",
            volunteer_number: "V4201060000012",
            total_minutes: items.iter().map(|i| i.credited_minutes).sum(),
            items,
            issuer_name: "武昌区心连心社会工作服务中心",
            issuer_credit_code: Some("52420106MJH123456X"),
            person_in_charge: Some("张主任"),
            handler_name: "王经办",
            contact: Some("王经办 027-88886666"),
            issued_on: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
            verify_url: "https://wushe.example.gov.cn/verify/20267KQ2M9XD4HTRC",
        }
    }

    #[test]
    fn wraps_by_measured_width() {
        assert!(width("志愿", 10.0) > width("志", 10.0));
        let lines = wrap(&"志".repeat(30), 10.0, 100.0, 9);
        assert!(lines.len() > 1 && lines.iter().all(|l| width(l, 10.0) <= 100.0));
        let cut = wrap(&"志".repeat(100), 10.0, 100.0, 2);
        assert_eq!(cut.len(), 2);
        assert!(cut[1].ends_with('…'));
    }

    #[test]
    fn renders_short_and_long_certificates() {
        for n in [1usize, 60] {
            let items: Vec<Item> = (0..n).map(item).collect();
            let pdf = render(&doc(&items)).unwrap();
            assert!(pdf.starts_with(b"%PDF-"), "{n} items");
            // the font is subset: far smaller than the 5 MB font file
            assert!(pdf.len() < 400_000, "{n} items: {} bytes", pdf.len());
            if let Some(dir) = std::env::var_os("WUSHE_PDF_OUT") {
                std::fs::write(std::path::Path::new(&dir).join(format!("certificate-{n}.pdf")), &pdf).unwrap();
            }
        }
    }
}
