//! The one export path: a list view becomes a table (headers and text cells, masked as the
//! viewer's role requires) and is written as CSV (UTF-8 with BOM, so Excel opens Chinese
//! correctly) or .xlsx (constant memory: rows go to a temporary file as they are written).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format as XlsxFormat, Workbook};

use crate::error::AppError;

/// Most rows one export writes; larger selections must be narrowed by the filter.
pub const MAX_ROWS: i64 = 200_000;

/// Refuse a selection larger than [`MAX_ROWS`] (fetch `MAX_ROWS + 1` rows to tell).
pub fn check_size(rows: usize) -> Result<(), AppError> {
    if rows as i64 > MAX_ROWS {
        return Err(AppError::BadRequest(format!("超过单次导出上限 {MAX_ROWS} 条，请缩小筛选范围")));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// `None` for the default JSON view.
    pub fn parse(s: Option<&str>) -> Result<Option<Format>, AppError> {
        match s.map(str::trim) {
            None | Some("") | Some("json") => Ok(None),
            Some("csv") => Ok(Some(Format::Csv)),
            Some("xlsx") => Ok(Some(Format::Xlsx)),
            Some(other) => {
                Err(AppError::validation("format", format!("不支持的导出格式「{other}」，可选 csv 或 xlsx")))
            }
        }
    }
}

pub struct Table {
    /// Used for the sheet and file name, e.g. 社会组织.
    pub title: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

fn csv_bytes(t: &Table) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(&t.headers).map_err(AppError::internal)?;
    for r in &t.rows {
        w.write_record(r).map_err(AppError::internal)?;
    }
    w.into_inner().map_err(AppError::internal)
}

fn xlsx_bytes(t: &Table) -> Result<Vec<u8>, AppError> {
    let mut wb = Workbook::new();
    let mut ws = wb.new_worksheet_with_constant_memory().map_err(AppError::internal)?;
    ws.set_name(&t.title).map_err(AppError::internal)?;
    let bold = XlsxFormat::new().set_bold();
    for (c, h) in t.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(AppError::internal)?;
        ws.set_column_width(c as u16, 18).map_err(AppError::internal)?;
    }
    ws.set_freeze_panes(1, 0).map_err(AppError::internal)?;
    for (i, r) in t.rows.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            // Codes stay text: Excel would turn 18-digit numbers into floats.
            ws.write_string(i as u32 + 1, c as u16, v).map_err(AppError::internal)?;
        }
    }
    wb.push_worksheet(ws);
    wb.save_to_buffer().map_err(AppError::internal)
}

/// Render the table as a download.
pub fn download(t: &Table, format: Format) -> Result<Response, AppError> {
    let (bytes, mime, ext) = match format {
        Format::Csv => (csv_bytes(t)?, "text/csv; charset=utf-8", "csv"),
        Format::Xlsx => (xlsx_bytes(t)?, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    };
    let date = wushe_domain::time::today().format("%Y%m%d");
    let filename = format!("{}-{date}.{ext}", t.title);
    let encoded: String = crate::ui::url_encode(&filename);
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"export.{ext}\"; filename*=UTF-8''{encoded}"))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
