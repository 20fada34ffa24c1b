//! Credited hours. Travel is excluded; the rounding unit, the caps per activity and per day
//! and the back-fill window are settings (there is no national rule; RULES.md gives examples
//! such as "round up to 1 h" and "at most 2 h per activity"). Hours are integer minutes.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Down to a whole unit (never credits time not served).
    Down,
    /// To the nearest unit, halves up.
    Nearest,
    /// Up to a whole unit.
    Up,
}

impl Rounding {
    pub fn label(self) -> &'static str {
        match self {
            Rounding::Down => "向下取整",
            Rounding::Nearest => "四舍五入",
            Rounding::Up => "向上取整",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourRules {
    /// Rounding unit in minutes (1 = no rounding).
    pub unit_minutes: u32,
    pub rounding: Rounding,
    /// Most minutes one activity session credits (None: no cap).
    pub max_per_activity_minutes: Option<u32>,
    /// Most minutes one volunteer is credited on one local day, over all activities.
    pub max_per_day_minutes: Option<u32>,
    /// Days after a service ended within which it may still be confirmed.
    pub backfill_days: u32,
}

impl Default for HourRules {
    fn default() -> Self {
        HourRules {
            unit_minutes: 30,
            rounding: Rounding::Down,
            max_per_activity_minutes: Some(8 * 60),
            max_per_day_minutes: Some(12 * 60),
            backfill_days: 30,
        }
    }
}

impl HourRules {
    /// Settings that make sense; the message names the setting (Chinese, for the settings form).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(1..=240).contains(&self.unit_minutes) {
            return Err(("unit_minutes", "取整单位应在 1–240 分钟之间".into()));
        }
        if let Some(m) = self.max_per_activity_minutes {
            if !(self.unit_minutes..=24 * 60).contains(&m) {
                return Err(("max_per_activity_minutes", "每次活动上限应在取整单位到 24 小时之间".into()));
            }
        }
        if let Some(m) = self.max_per_day_minutes {
            if !(self.unit_minutes..=24 * 60).contains(&m) {
                return Err(("max_per_day_minutes", "每日上限应在取整单位到 24 小时之间".into()));
            }
        }
        if self.backfill_days > 366 {
            return Err(("backfill_days", "补录期限不能超过 366 天".into()));
        }
        Ok(())
    }

    fn round(&self, minutes: i64) -> i64 {
        let u = i64::from(self.unit_minutes.max(1));
        match self.rounding {
            Rounding::Down => minutes / u * u,
            Rounding::Nearest => (minutes + u / 2) / u * u,
            Rounding::Up => (minutes + u - 1) / u * u,
        }
    }
}

/// Why a service is not credited at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditError {
    /// Check-out before check-in, or travel longer than the time recorded.
    NoServiceTime,
    /// The service ended more than `backfill_days` ago.
    BackfillExpired { days: u32 },
    /// The service ends in the future.
    NotEnded,
}

impl CreditError {
    pub fn message(&self) -> String {
        match self {
            CreditError::NoServiceTime => "扣除路途时间后没有服务时长".into(),
            CreditError::BackfillExpired { days } => format!("服务结束已超过 {days} 天的补录期限，不能再确认"),
            CreditError::NotEnded => "服务尚未结束，不能确认时长".into(),
        }
    }
}

/// How a credited figure came about, for the record and the volunteer's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credit {
    /// Minutes between start and end.
    pub recorded_minutes: i64,
    pub travel_minutes: i64,
    /// After travel and rounding.
    pub rounded_minutes: i64,
    /// What counts.
    pub credited_minutes: i64,
    /// The activity cap cut the figure.
    pub capped_by_activity: bool,
    /// The day cap cut the figure.
    pub capped_by_day: bool,
}

/// Credit one service from `start` to `end` (UTC), minus `travel_minutes`, given the minutes
/// already credited to the same volunteer on the same local day, checked at `now`.
pub fn credit(
    rules: &HourRules,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    travel_minutes: i64,
    credited_same_day: i64,
    now: DateTime<Utc>,
) -> Result<Credit, CreditError> {
    if end > now + Duration::minutes(1) {
        return Err(CreditError::NotEnded);
    }
    if now - end > Duration::days(i64::from(rules.backfill_days)) {
        return Err(CreditError::BackfillExpired { days: rules.backfill_days });
    }
    let recorded = super::minutes_between(start, end);
    let travel = travel_minutes.max(0);
    let served = recorded - travel;
    if served <= 0 {
        return Err(CreditError::NoServiceTime);
    }
    let rounded = rules.round(served);
    let mut credited = rounded;
    let mut capped_by_activity = false;
    if let Some(cap) = rules.max_per_activity_minutes.map(i64::from) {
        if credited > cap {
            credited = cap;
            capped_by_activity = true;
        }
    }
    let mut capped_by_day = false;
    if let Some(cap) = rules.max_per_day_minutes.map(i64::from) {
        let room = (cap - credited_same_day.max(0)).max(0);
        if credited > room {
            credited = room;
            capped_by_day = true;
        }
    }
    Ok(Credit {
        recorded_minutes: recorded,
        travel_minutes: travel,
        rounded_minutes: rounded,
        credited_minutes: credited,
        capped_by_activity,
        capped_by_day,
    })
}

/// Minutes as 小时 with one decimal place where needed ("2", "2.5", "0.3").
pub fn hours_label(minutes: i64) -> String {
    let tenths = (minutes * 10 + 30) / 60;
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, h, m, 0).unwrap()
    }

    #[test]
    fn travel_is_excluded_and_time_rounded_down_by_default() {
        let r = HourRules::default();
        let c = credit(&r, t(1, 0), t(3, 50), 20, 0, t(4, 0)).unwrap();
        assert_eq!((c.recorded_minutes, c.rounded_minutes, c.credited_minutes), (170, 150, 150));
        let up = HourRules { unit_minutes: 60, rounding: Rounding::Up, ..r.clone() };
        assert_eq!(credit(&up, t(1, 0), t(2, 1), 0, 0, t(4, 0)).unwrap().credited_minutes, 120);
        let near = HourRules { unit_minutes: 60, rounding: Rounding::Nearest, ..r };
        assert_eq!(credit(&near, t(1, 0), t(2, 29), 0, 0, t(4, 0)).unwrap().credited_minutes, 60);
        assert_eq!(credit(&near, t(1, 0), t(2, 30), 0, 0, t(4, 0)).unwrap().credited_minutes, 120);
    }

    #[test]
    fn caps_per_activity_and_per_day() {
        let r = HourRules { max_per_activity_minutes: Some(120), max_per_day_minutes: Some(180), ..Default::default() };
        let c = credit(&r, t(0, 0), t(4, 0), 0, 0, t(5, 0)).unwrap();
        assert_eq!((c.credited_minutes, c.capped_by_activity, c.capped_by_day), (120, true, false));
        let c = credit(&r, t(0, 0), t(4, 0), 0, 120, t(5, 0)).unwrap();
        assert_eq!((c.credited_minutes, c.capped_by_day), (60, true));
        assert_eq!(credit(&r, t(0, 0), t(4, 0), 0, 200, t(5, 0)).unwrap().credited_minutes, 0);
    }

    #[test]
    fn refusals() {
        let r = HourRules::default();
        assert_eq!(credit(&r, t(2, 0), t(1, 0), 0, 0, t(5, 0)), Err(CreditError::NoServiceTime));
        assert_eq!(credit(&r, t(1, 0), t(2, 0), 60, 0, t(5, 0)), Err(CreditError::NoServiceTime));
        assert_eq!(credit(&r, t(1, 0), t(6, 0), 0, 0, t(5, 0)), Err(CreditError::NotEnded));
        let late = t(2, 0) + Duration::days(31);
        assert_eq!(credit(&r, t(1, 0), t(2, 0), 0, 0, late), Err(CreditError::BackfillExpired { days: 30 }));
    }

    #[test]
    fn labels() {
        assert_eq!(hours_label(120), "2");
        assert_eq!(hours_label(150), "2.5");
        assert_eq!(hours_label(20), "0.3");
        assert_eq!(hours_label(0), "0");
    }

    #[test]
    fn settings_are_checked() {
        assert!(HourRules::default().validate().is_ok());
        assert_eq!(HourRules { unit_minutes: 0, ..Default::default() }.validate().unwrap_err().0, "unit_minutes");
        let bad = HourRules { max_per_day_minutes: Some(25 * 60), ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().0, "max_per_day_minutes");
    }
}
