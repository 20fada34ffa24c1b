//! Volunteer service in the UI, phone first: the activity list (public), the organizer's
//! activity form, the activity page with sign-ups and — for its organizer — the roster,
//! check-in/out from the roster, missing check-outs and bulk hour confirmation; the big-screen
//! rotating check-in QR, the check-in page a volunteer's phone opens from it, the volunteer's
//! own record with correction requests, and the organization's correction reviews.
//!
//! Times are entered and shown in Beijing time (UTC+8, no daylight saving) and stored in UTC.
//! The handlers call the same services as the API.
//!
//! One file per page; this module holds Beijing time, the small form and label helpers the
//! pages share, and the correction row both the record and the reviews show.

mod activity_form;
mod activity_list;
mod activity_page;
mod checkin;
mod correction_reviews;
mod qr_screen;
mod record;

pub use activity_form::*;
pub use activity_list::*;
pub use activity_page::*;
pub use checkin::*;
pub use correction_reviews::*;
pub use qr_screen::*;
pub use record::*;

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use wushe_domain::volunteering::activity::ServiceCategory;
use wushe_domain::volunteering::attendance::AttendanceStatus;
use wushe_domain::volunteering::hours::hours_label;
use wushe_domain::volunteering::signup::SignupStatus;

use crate::error::AppError;
use crate::service::volunteering as svc;

// ---------- Beijing time ----------

fn local(t: DateTime<Utc>) -> NaiveDateTime {
    wushe_domain::time::local_datetime(t)
}

/// "2026-05-01 09:00" in Beijing time.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// The value of a `datetime-local` input for an instant.
pub fn fmt_input(t: DateTime<Utc>) -> String {
    local(t).format("%Y-%m-%dT%H:%M").to_string()
}

/// "2026-05-01 09:00–12:00", or both ends in full when they fall on different days.
pub fn fmt_range(s: DateTime<Utc>, e: DateTime<Utc>) -> String {
    let (ls, le) = (local(s), local(e));
    if ls.date() == le.date() {
        format!("{}–{}", ls.format("%Y-%m-%d %H:%M"), le.format("%H:%M"))
    } else {
        format!("{} 至 {}", ls.format("%Y-%m-%d %H:%M"), le.format("%Y-%m-%d %H:%M"))
    }
}

/// A Beijing time typed into a form (`datetime-local`, or "2026-05-01 09:00" from browsers
/// without that input) as UTC; None when empty.
pub fn parse_local(field: &str, s: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .ok_or_else(|| AppError::validation(field, "时间格式应为 2026-05-01 09:00（北京时间）"))?;
    Ok(Some(wushe_domain::time::from_local(naive)))
}

// ---------- form and label helpers ----------

fn given(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|v| !v.is_empty())
}

/// A number typed into a form (None when empty).
fn number<T: std::str::FromStr>(field: &str, s: &str, what: &str) -> Result<Option<T>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| AppError::validation(field, format!("应为{what}")))
}

fn category_options() -> Vec<(&'static str, &'static str)> {
    ServiceCategory::ALL.iter().map(|c| (c.as_str(), c.label())).collect()
}

/// Bootstrap badge colour of an activity status.
fn status_class(status: &str) -> &'static str {
    match status {
        "published" => "text-bg-success",
        "draft" => "text-bg-secondary",
        "closed" => "text-bg-dark",
        _ => "text-bg-danger",
    }
}

fn signup_label(status: &str) -> &'static str {
    SignupStatus::parse(status).map_or("未知", SignupStatus::label)
}

fn attendance_label(status: &str) -> &'static str {
    AttendanceStatus::parse(status).map_or("未知", AttendanceStatus::label)
}

/// A page again with its error (the status of the error).
fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    res
}

// ---------- a correction request, as the record and the reviews list it ----------

pub struct CorrectionRowView {
    id: i64,
    pending: bool,
    status_label: &'static str,
    void: bool,
    kind_label: &'static str,
    person_name: String,
    volunteer_number: String,
    activity_id: i64,
    activity_title: String,
    record_time: String,
    record_hours: String,
    asked_time: String,
    travel: i64,
    reason: String,
    requested_at: String,
    review_note: String,
}

impl From<svc::CorrectionView> for CorrectionRowView {
    fn from(v: svc::CorrectionView) -> Self {
        let c = v.correction;
        CorrectionRowView {
            id: c.id,
            pending: c.status == "pending",
            status_label: v.status_label,
            void: c.void,
            kind_label: v.kind_label,
            person_name: v.person_name,
            volunteer_number: v.volunteer_number,
            activity_id: v.record.activity_id,
            activity_title: v.record.activity_title,
            record_time: fmt_range(v.record.started_at, v.record.ended_at),
            record_hours: hours_label(v.record.credited_minutes),
            asked_time: match (c.started_at, c.ended_at) {
                (Some(s), Some(e)) => fmt_range(s, e),
                _ => String::new(),
            },
            travel: c.travel_minutes,
            reason: c.reason,
            requested_at: fmt_time(c.requested_at),
            review_note: c.review_note.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn beijing_time_round_trips() {
        let t = parse_local("t", "2026-05-01T09:30").unwrap().unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 5, 1, 1, 30, 0).unwrap());
        assert_eq!(fmt_input(t), "2026-05-01T09:30");
        assert_eq!(parse_local("t", "2026-05-01 09:30").unwrap(), Some(t));
        assert_eq!(parse_local("t", " ").unwrap(), None);
        assert!(parse_local("t", "5月1日").is_err());
        assert_eq!(fmt_range(t, t + Duration::hours(3)), "2026-05-01 09:30–12:30");
        assert_eq!(fmt_range(t, t + Duration::hours(15)), "2026-05-01 09:30 至 2026-05-02 00:30");
    }
}
