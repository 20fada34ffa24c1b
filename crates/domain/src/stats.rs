//! Statistics keys: where a delta is counted. A delta at a 12-digit division code on a local
//! date is added to the national total and to each of the five code prefixes (province, city,
//! county, township, village), for its year, month and day.

use chrono::{Datelike, NaiveDate};

/// Significant lengths of the division levels (province … village); "" is national.
pub const LEVEL_LENGTHS: [usize; 5] = [2, 4, 6, 9, 12];

/// The regions a 12-digit code counts towards: "", then the prefix of each level whose own
/// digits are not all zeros (东莞's townships sit under the city with county digits 00).
pub fn regions_of(code12: &str) -> Vec<&str> {
    let mut out = vec![""];
    let mut prev = 0;
    for len in LEVEL_LENGTHS {
        let Some(p) = code12.get(..len) else { break };
        if !p[prev..].bytes().all(|b| b == b'0') {
            out.push(p);
        }
        prev = len;
    }
    out
}

/// Period keys of a day: year, month, day.
pub fn periods_of(day: NaiveDate) -> [String; 3] {
    [format!("y{}", day.year()), format!("m{}-{:02}", day.year(), day.month()), format!("d{}", day.format("%Y-%m-%d"))]
}

pub fn year_key(year: i32) -> String {
    format!("y{year}")
}

pub fn month_key(year: i32, month: u32) -> String {
    format!("m{year}-{month:02}")
}

/// First year a stock figure (registered volunteers, star holders) sums from: a stock at
/// the end of a year is the sum of its yearly changes up to that year.
pub const FIRST_YEAR: i32 = 1949;

/// The year keys whose sum is a stock at the end of `year`.
pub fn years_through(year: i32) -> Vec<String> {
    (FIRST_YEAR..=year.max(FIRST_YEAR)).map(year_key).collect()
}

/// Metric names (stable: they are keys in the rollup table).
pub mod metric {
    /// Confirmed credited minutes (corrections add −old and +new).
    pub const VOLUNTEER_MINUTES: &str = "volunteer_minutes";
    /// Confirmed service records in force.
    pub const SERVICE_RECORDS: &str = "service_records";
    /// Activities published.
    pub const ACTIVITIES: &str = "activities";
    /// Check-ins.
    pub const CHECKINS: &str = "checkins";
    /// Certificates issued (revocations subtract).
    pub const CERTIFICATES: &str = "certificates";

    /// Registered volunteers at their home region: +1 on the registration day, −1 on the
    /// day the role ends; a move takes effect on the day it is recorded. A stock: read the
    /// sum of the year keys through a year ([`super::years_through`]).
    pub const REGISTERED_VOLUNTEERS: &str = "registered_volunteers";
    /// Volunteers with a confirmed service in force in a year, at their home region when the
    /// year's first service was confirmed; counted on 1 January, so read the year key only.
    /// One person is one delta per year, so regions sum without counting anyone twice.
    pub const ACTIVE_VOLUNTEERS: &str = "active_volunteers";

    /// Volunteers whose highest approved star is `star` (1–5), at their home region. A stock.
    pub fn star_volunteers(star: u8) -> String {
        format!("star_volunteers:{star}")
    }

    /// Confirmed minutes of one service category.
    pub fn minutes_in(category: &str) -> String {
        format!("volunteer_minutes:{category}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        assert_eq!(regions_of("420106001001"), vec!["", "42", "4201", "420106", "420106001", "420106001001"]);
        assert_eq!(regions_of("420106001000"), vec!["", "42", "4201", "420106", "420106001"]);
        assert_eq!(regions_of("420100000000"), vec!["", "42", "4201"]);
        // 东莞 (4419) has townships directly under the city
        assert_eq!(regions_of("441900003000"), vec!["", "44", "4419", "441900003"]);
    }

    #[test]
    fn stock_years() {
        let y = years_through(2026);
        assert_eq!((y.first().map(String::as_str), y.last().map(String::as_str)), (Some("y1949"), Some("y2026")));
        assert_eq!(y.len(), 78);
        assert_eq!(metric::star_volunteers(3), "star_volunteers:3");
    }

    #[test]
    fn periods() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        assert_eq!(periods_of(d), ["y2026".to_string(), "m2026-05".into(), "d2026-05-01".into()]);
    }
}
