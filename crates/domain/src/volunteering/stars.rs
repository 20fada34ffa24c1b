//! Star levels (星级志愿者): cumulative confirmed hours reach a threshold per star. The
//! thresholds, the level of government that approves each star and an optional minimum
//! registration period are settings (the default 100/300/600/1000/1500 h; many places use
//! others, e.g. 50/150/300/800/1500).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Government level that approves a star.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovingLevel {
    County,
    City,
    Province,
}

impl ApprovingLevel {
    pub fn label(self) -> &'static str {
        match self {
            ApprovingLevel::County => "县级",
            ApprovingLevel::City => "市级",
            ApprovingLevel::Province => "省级",
        }
    }

    /// Significant digits of a division code at this level (2 province, 4 city, 6 county).
    pub fn code_len(self) -> usize {
        match self {
            ApprovingLevel::County => 6,
            ApprovingLevel::City => 4,
            ApprovingLevel::Province => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StarRules {
    /// Hours for stars 1 to 5, strictly increasing.
    pub thresholds_hours: [u32; 5],
    /// Who approves stars 1 to 5.
    pub approving: [ApprovingLevel; 5],
    /// Months registered before any star (None: no minimum).
    pub min_registration_months: Option<u32>,
}

impl Default for StarRules {
    fn default() -> Self {
        use ApprovingLevel::*;
        StarRules {
            thresholds_hours: [100, 300, 600, 1000, 1500],
            approving: [County, County, City, City, Province],
            min_registration_months: None,
        }
    }
}

impl StarRules {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let t = &self.thresholds_hours;
        if t[0] == 0 || t.windows(2).any(|w| w[0] >= w[1]) {
            return Err(("thresholds_hours", "星级时长门槛应大于 0 且逐级递增".into()));
        }
        if self.min_registration_months.is_some_and(|m| m > 120) {
            return Err(("min_registration_months", "最短注册时间不能超过 120 个月".into()));
        }
        Ok(())
    }

    /// The star level the hours earn (0 = none), if the registration period is met on `today`.
    pub fn level(&self, total_minutes: i64, registered_on: Option<NaiveDate>, today: NaiveDate) -> u8 {
        if let (Some(min), Some(reg)) = (self.min_registration_months, registered_on) {
            match reg.checked_add_months(chrono::Months::new(min)) {
                Some(due) if due <= today => {}
                _ => return 0,
            }
        }
        let hours = total_minutes.max(0) / 60;
        self.thresholds_hours.iter().take_while(|&&h| hours >= i64::from(h)).count() as u8
    }

    /// Hours still needed for the next star, or None at five stars.
    pub fn hours_to_next(&self, total_minutes: i64) -> Option<i64> {
        let level = self.level(total_minutes, None, NaiveDate::MIN) as usize;
        self.thresholds_hours.get(level).map(|&h| (i64::from(h) * 60 - total_minutes.max(0) + 59) / 60)
    }
}

/// "★★★☆☆" for a level.
pub fn stars_label(level: u8) -> String {
    let l = usize::from(level.min(5));
    format!("{}{}", "★".repeat(l), "☆".repeat(5 - l))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn thresholds() {
        let r = StarRules::default();
        let today = d(2026, 1, 1);
        assert_eq!(r.level(99 * 60 + 59, None, today), 0);
        assert_eq!(r.level(100 * 60, None, today), 1);
        assert_eq!(r.level(600 * 60, None, today), 3);
        assert_eq!(r.level(5000 * 60, None, today), 5);
        assert_eq!(r.hours_to_next(90 * 60), Some(10));
        assert_eq!(r.hours_to_next(1500 * 60), None);
        let local = StarRules { thresholds_hours: [50, 150, 300, 800, 1500], ..r };
        assert_eq!(local.level(160 * 60, None, today), 2);
    }

    #[test]
    fn registration_period() {
        let r = StarRules { min_registration_months: Some(12), ..Default::default() };
        assert_eq!(r.level(200 * 60, Some(d(2025, 6, 1)), d(2026, 5, 31)), 0);
        assert_eq!(r.level(200 * 60, Some(d(2025, 6, 1)), d(2026, 6, 1)), 1);
    }

    #[test]
    fn settings_are_checked() {
        assert!(StarRules::default().validate().is_ok());
        let bad = StarRules { thresholds_hours: [100, 100, 600, 1000, 1500], ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().0, "thresholds_hours");
        assert_eq!(stars_label(2), "★★☆☆☆");
    }
}
