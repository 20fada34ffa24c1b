//! The one clock of Wushe: instants are stored in UTC and shown, dated and counted in China's
//! local time. China has kept one offset, UTC+8 without daylight saving, since 1991, so a
//! fixed offset is exact; this module is the only place that knows it. Service dates, per-day
//! caps, statistics days, ages and "today" all follow from it, so two of them can never
//! disagree about which day an instant belongs to.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Seconds east of UTC of China Standard Time.
const OFFSET_SECONDS: i32 = 8 * 3600;

/// The local calendar day of an instant.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    local_datetime(t).date()
}

/// The local wall-clock time of an instant.
pub fn local_datetime(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc() + Duration::seconds(i64::from(OFFSET_SECONDS))
}

/// The instant of a local wall-clock time (unambiguous: a fixed offset has no gaps).
pub fn from_local(t: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(t - Duration::seconds(i64::from(OFFSET_SECONDS))))
}

/// The instant a local day begins.
pub fn start_of_day(d: NaiveDate) -> DateTime<Utc> {
    from_local(d.and_time(chrono::NaiveTime::MIN))
}

/// Today in China.
pub fn today() -> NaiveDate {
    local_date(Utc::now())
}

/// An instant as shown to people, in local time (`%Y-%m-%d %H:%M` and the like).
pub fn format_local(t: DateTime<Utc>, fmt: &str) -> String {
    local_datetime(t).format(fmt).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_day_turns_at_utc_sixteen() {
        let before = Utc.with_ymd_and_hms(2026, 4, 30, 15, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 4, 30, 16, 0, 0).unwrap();
        assert_eq!(local_date(before), NaiveDate::from_ymd_opt(2026, 4, 30).unwrap());
        assert_eq!(local_date(after), NaiveDate::from_ymd_opt(2026, 5, 1).unwrap());
        assert_eq!(start_of_day(NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()), after);
        assert_eq!(from_local(local_datetime(before)), before);
        assert_eq!(format_local(after, "%Y-%m-%d %H:%M"), "2026-05-01 00:00");
    }
}
