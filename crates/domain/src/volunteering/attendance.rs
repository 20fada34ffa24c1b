//! Check-in and check-out: rotating QR codes (a photo of an old code does not work), the
//! optional geofence, and missing check-outs, which are flagged for the organizer and never
//! counted silently.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Seconds one check-in code is shown for. The code of the previous window is accepted too,
/// so a code read just before it changes still works (at most two windows old).
pub const CODE_WINDOW_SECONDS: i64 = 30;

fn window(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(CODE_WINDOW_SECONDS)
}

#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
fn code_for(secret: &[u8], activity_id: i64, window: i64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&activity_id.to_be_bytes());
    mac.update(&window.to_be_bytes());
    let b = mac.finalize().into_bytes();
    let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) % 1_000_000;
    format!("{n:06}")
}

/// The code an activity shows at `at`, and the instant it changes.
pub fn current_code(secret: &[u8], activity_id: i64, at: DateTime<Utc>) -> (String, DateTime<Utc>) {
    let w = window(at);
    let next = DateTime::from_timestamp((w + 1) * CODE_WINDOW_SECONDS, 0).unwrap_or(at);
    (code_for(secret, activity_id, w), next)
}

/// Whether `code` is the activity's code now or in the previous window.
pub fn code_is_valid(secret: &[u8], activity_id: i64, code: &str, at: DateTime<Utc>) -> bool {
    let w = window(at);
    let code = code.trim();
    [w, w - 1].iter().any(|&w| constant_time_eq(code_for(secret, activity_id, w).as_bytes(), code.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A point in WGS-84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lng: f64,
}

impl GeoPoint {
    pub fn new(lat: f64, lng: f64) -> Option<GeoPoint> {
        ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng) && lat.is_finite() && lng.is_finite())
            .then_some(GeoPoint { lat, lng })
    }

    /// Great-circle distance in metres (haversine; metres of error at these distances).
    pub fn distance_m(self, other: GeoPoint) -> f64 {
        const R: f64 = 6_371_000.0;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lng - self.lng).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().asin()
    }
}

/// Geofence check: Ok when the activity has no fence, or the position is inside it.
pub fn check_fence(center: Option<GeoPoint>, radius_m: Option<i64>, at: Option<GeoPoint>) -> Result<(), String> {
    let (Some(c), Some(r)) = (center, radius_m) else { return Ok(()) };
    let Some(p) = at else {
        return Err("本活动要求在活动地点签到：请允许手机定位后重试，或请组织方在花名册中签到".into());
    };
    let d = c.distance_m(p);
    if d > r as f64 {
        return Err(format!("您距活动地点约 {:.0} 米，超出签到范围（{r} 米）", d));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    /// Checked in, not yet out.
    Open,
    /// Checked out: ready to confirm.
    Closed,
    /// No check-out by the end of the slot plus the grace period: the organizer must resolve it.
    Flagged,
    /// Hours confirmed (a service record exists).
    Confirmed,
}

impl AttendanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Flagged => "flagged",
            Self::Confirmed => "confirmed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Closed, Self::Flagged, Self::Confirmed].into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "已签到",
            Self::Closed => "已签退",
            Self::Flagged => "缺签退待处理",
            Self::Confirmed => "时长已确认",
        }
    }
}

/// Hours after a slot's end without a check-out before the attendance is flagged.
pub const MISSING_CHECKOUT_GRACE_HOURS: i64 = 2;

/// Whether an open attendance has gone too long without a check-out.
pub fn is_missing_checkout(slot_ends: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now > slot_ends + Duration::hours(MISSING_CHECKOUT_GRACE_HOURS)
}

/// Earliest check-in before a slot starts, in minutes.
pub const EARLY_CHECKIN_MINUTES: i64 = 60;

/// Check-in is open from an hour before the slot starts until it ends.
pub fn checkin_window(starts: DateTime<Utc>, ends: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if now < starts - Duration::minutes(EARLY_CHECKIN_MINUTES) {
        return Err(format!("签到尚未开始：最早可在开始前 {EARLY_CHECKIN_MINUTES} 分钟签到"));
    }
    if now > ends {
        return Err("本时段已结束，不能再签到；如确有服务，请联系组织方补录".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn codes_rotate_and_old_ones_fail() {
        let secret = b"0123456789abcdef";
        let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap();
        let (code, next) = current_code(secret, 7, t0);
        assert_eq!(code.len(), 6);
        assert_eq!(next, t0 + Duration::seconds(CODE_WINDOW_SECONDS));
        assert!(code_is_valid(secret, 7, &code, t0));
        assert!(code_is_valid(secret, 7, &code, t0 + Duration::seconds(45)));
        assert!(!code_is_valid(secret, 7, &code, t0 + Duration::seconds(61)));
        assert!(!code_is_valid(secret, 7, &code, t0 + Duration::days(1)));
        assert!(!code_is_valid(secret, 8, &code, t0), "another activity's code");
        assert!(!code_is_valid(b"another secret..", 7, &code, t0));
    }

    #[test]
    fn geofence() {
        let c = GeoPoint::new(30.5434, 114.3425);
        let near = GeoPoint::new(30.5440, 114.3430);
        let far = GeoPoint::new(30.5600, 114.3425);
        assert!(check_fence(c, Some(200), near).is_ok());
        let e = check_fence(c, Some(200), far).unwrap_err();
        assert!(e.contains("超出签到范围"), "{e}");
        assert!(check_fence(c, Some(200), None).is_err());
        assert!(check_fence(None, None, None).is_ok());
        assert!(GeoPoint::new(91.0, 0.0).is_none());
        let d = c.unwrap().distance_m(far.unwrap());
        assert!((1830.0..1850.0).contains(&d), "{d}");
    }

    #[test]
    fn windows() {
        let s = Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap();
        let e = s + Duration::hours(2);
        assert!(checkin_window(s, e, s - Duration::minutes(61)).is_err());
        assert!(checkin_window(s, e, s - Duration::minutes(59)).is_ok());
        assert!(checkin_window(s, e, e + Duration::minutes(1)).is_err());
        assert!(!is_missing_checkout(e, e + Duration::hours(2)));
        assert!(is_missing_checkout(e, e + Duration::hours(2) + Duration::seconds(1)));
    }
}
