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

impl ApprovingLevel {
    /// The level whose officials a scope belongs to: a 2-digit scope is a province's, 4 a
    /// city's, 6 a county's. Township, village and national scopes approve no star.
    pub fn of_scope(division: &str) -> Option<ApprovingLevel> {
        match division.len() {
            2 => Some(ApprovingLevel::Province),
            4 => Some(ApprovingLevel::City),
            6 => Some(ApprovingLevel::County),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovingLevel::County => "county",
            ApprovingLevel::City => "city",
            ApprovingLevel::Province => "province",
        }
    }
}

impl StarRules {
    /// Minutes of confirmed service that earn `star` (1–5).
    pub fn threshold_minutes(&self, star: u8) -> Option<i64> {
        let i = usize::from(star).checked_sub(1)?;
        self.thresholds_hours.get(i).map(|h| i64::from(*h) * 60)
    }

    /// The level of government that approves `star` (1–5).
    pub fn approving_level(&self, star: u8) -> Option<ApprovingLevel> {
        let i = usize::from(star).checked_sub(1)?;
        self.approving.get(i).copied()
    }

    /// The stars that officials of `level` approve, lowest first.
    pub fn stars_approved_by(&self, level: ApprovingLevel) -> Vec<u8> {
        (1..=5u8).filter(|s| self.approving_level(*s) == Some(level)).collect()
    }

    /// The highest star the hours reach, whatever the registration period (0 = none).
    pub fn reached(&self, total_minutes: i64) -> u8 {
        self.level(total_minutes, None, NaiveDate::MIN)
    }

    /// The first day a star reached on `reached_on` may be approved: at once, or when the
    /// minimum registration period is over.
    pub fn eligible_on(&self, registered_on: Option<NaiveDate>, reached_on: NaiveDate) -> NaiveDate {
        let due = match (self.min_registration_months, registered_on) {
            (Some(m), Some(reg)) => reg.checked_add_months(chrono::Months::new(m)).unwrap_or(NaiveDate::MAX),
            _ => reached_on,
        };
        due.max(reached_on)
    }
}

/// Where a star award stands. An award is created (pending) when the confirmed hours reach
/// the star's threshold; an official of the approving level approves or rejects it; it lapses
/// when a correction takes the hours back below the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AwardStatus {
    Pending,
    Approved,
    Rejected,
    Lapsed,
}

impl AwardStatus {
    pub const ALL: [AwardStatus; 4] =
        [AwardStatus::Pending, AwardStatus::Approved, AwardStatus::Rejected, AwardStatus::Lapsed];

    pub fn as_str(self) -> &'static str {
        match self {
            AwardStatus::Pending => "pending",
            AwardStatus::Approved => "approved",
            AwardStatus::Rejected => "rejected",
            AwardStatus::Lapsed => "lapsed",
        }
    }

    pub fn parse(s: &str) -> Option<AwardStatus> {
        AwardStatus::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            AwardStatus::Pending => "待审批",
            AwardStatus::Approved => "已认定",
            AwardStatus::Rejected => "未通过",
            AwardStatus::Lapsed => "已失效",
        }
    }
}

/// What the rules need to know of one of a volunteer's awards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Award {
    pub id: i64,
    pub star: u8,
    pub status: AwardStatus,
    /// The threshold the award was created under (an approval stands while the hours
    /// stay at or above it, even if the settings change later).
    pub threshold_minutes: i64,
    pub reached_on: NaiveDate,
    pub eligible_on: NaiveDate,
    /// The volunteer's total when it was approved or rejected.
    pub total_at_decision: Option<i64>,
}

/// A change to a volunteer's awards after their confirmed total changed (or the rules did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StarChange {
    /// The hours reach the star: a new pending award.
    Create { star: u8, threshold_minutes: i64, eligible_on: NaiveDate },
    /// The hours no longer reach it (a correction): a pending or approved award lapses.
    Lapse { id: i64, star: u8, was_approved: bool },
    /// The registration period changed in the settings: a pending award's first day moves.
    Reschedule { id: i64, eligible_on: NaiveDate },
}

/// Bring a volunteer's awards in line with their confirmed total:
/// - a pending award lapses when the total is below the star's threshold under the current
///   rules, an approved one when it is below the threshold it was approved under;
/// - every star the total reaches that has no pending or approved award gets one, unless
///   that star was rejected at a total at least as high as now (a rejection stands until
///   more service is confirmed);
/// - pending awards follow a changed registration period.
pub fn reconcile(
    rules: &StarRules,
    total_minutes: i64,
    registered_on: Option<NaiveDate>,
    today: NaiveDate,
    awards: &[Award],
) -> Vec<StarChange> {
    let mut out = Vec::new();
    let mut held = [false; 6];
    for a in awards {
        let star = usize::from(a.star.min(5));
        match a.status {
            AwardStatus::Pending => {
                let needed = rules.threshold_minutes(a.star).unwrap_or(i64::MAX);
                if total_minutes < needed {
                    out.push(StarChange::Lapse { id: a.id, star: a.star, was_approved: false });
                } else {
                    held[star] = true;
                    let due = rules.eligible_on(registered_on, a.reached_on);
                    if due != a.eligible_on {
                        out.push(StarChange::Reschedule { id: a.id, eligible_on: due });
                    }
                }
            }
            AwardStatus::Approved => {
                if total_minutes < a.threshold_minutes {
                    out.push(StarChange::Lapse { id: a.id, star: a.star, was_approved: true });
                } else {
                    held[star] = true;
                }
            }
            AwardStatus::Rejected | AwardStatus::Lapsed => {}
        }
    }
    for star in 1..=rules.reached(total_minutes) {
        if held[usize::from(star)] {
            continue;
        }
        let rejected_at = awards
            .iter()
            .filter(|a| a.star == star && a.status == AwardStatus::Rejected)
            .filter_map(|a| a.total_at_decision)
            .max();
        if rejected_at.is_some_and(|t| total_minutes <= t) {
            continue;
        }
        out.push(StarChange::Create {
            star,
            threshold_minutes: rules.threshold_minutes(star).unwrap_or_default(),
            eligible_on: rules.eligible_on(registered_on, today),
        });
    }
    out
}

/// The star a volunteer holds: the highest approved one (0 = none).
pub fn held_star(awards: &[Award]) -> u8 {
    awards.iter().filter(|a| a.status == AwardStatus::Approved).map(|a| a.star).max().unwrap_or(0)
}

/// Why an official may not decide on an award; messages are shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionRefused {
    #[error("{star}星志愿者由{needed}民政部门审批，您的管辖范围是{own}")]
    WrongLevel { star: u8, needed: &'static str, own: &'static str },
    #[error("该志愿者不在您的管辖范围内")]
    OutsideScope,
    #[error("该星级已处理（{0}），不能再审批")]
    NotPending(&'static str),
    #[error("注册时间未满，{0} 起方可审批")]
    TooEarly(NaiveDate),
    #[error("累计时长已低于{star}星门槛，不能认定")]
    BelowThreshold { star: u8 },
}

/// The one rule for approving or rejecting a star: the award is pending, the official's
/// scope is exactly the level that approves this star (per the settings) and covers the
/// volunteer's home region; an approval also needs the registration period over and the
/// hours still at the threshold.
#[allow(clippy::too_many_arguments)]
pub fn check_decision(
    rules: &StarRules,
    star: u8,
    status: AwardStatus,
    official_scope: &str,
    volunteer_division: &str,
    approve: bool,
    eligible_on: NaiveDate,
    total_minutes: i64,
    today: NaiveDate,
) -> Result<(), DecisionRefused> {
    let needed = rules.approving_level(star).unwrap_or(ApprovingLevel::Province);
    let own = ApprovingLevel::of_scope(official_scope);
    if own != Some(needed) {
        let own = match official_scope.len() {
            0 => "全部区域",
            9 => "乡级",
            12 => "村级",
            _ => own.map_or("其他", ApprovingLevel::label),
        };
        return Err(DecisionRefused::WrongLevel { star, needed: needed.label(), own });
    }
    if !crate::accounts::in_scope(official_scope, volunteer_division) {
        return Err(DecisionRefused::OutsideScope);
    }
    if status != AwardStatus::Pending {
        return Err(DecisionRefused::NotPending(status.label()));
    }
    if approve {
        if eligible_on > today {
            return Err(DecisionRefused::TooEarly(eligible_on));
        }
        if total_minutes < rules.threshold_minutes(star).unwrap_or(i64::MAX) {
            return Err(DecisionRefused::BelowThreshold { star });
        }
    }
    Ok(())
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

    fn award(id: i64, star: u8, status: AwardStatus, threshold_hours: i64) -> Award {
        Award {
            id,
            star,
            status,
            threshold_minutes: threshold_hours * 60,
            reached_on: d(2026, 1, 1),
            eligible_on: d(2026, 1, 1),
            total_at_decision: None,
        }
    }

    #[test]
    fn approving_levels_follow_the_settings() {
        let r = StarRules::default();
        assert_eq!(ApprovingLevel::of_scope("420106"), Some(ApprovingLevel::County));
        assert_eq!(ApprovingLevel::of_scope("4201"), Some(ApprovingLevel::City));
        assert_eq!(ApprovingLevel::of_scope("42"), Some(ApprovingLevel::Province));
        assert_eq!(ApprovingLevel::of_scope("420106001"), None);
        assert_eq!(ApprovingLevel::of_scope(""), None);
        assert_eq!(r.stars_approved_by(ApprovingLevel::County), vec![1, 2]);
        assert_eq!(r.stars_approved_by(ApprovingLevel::City), vec![3, 4]);
        assert_eq!(r.stars_approved_by(ApprovingLevel::Province), vec![5]);
        let all_county = StarRules { approving: [ApprovingLevel::County; 5], ..r.clone() };
        assert_eq!(all_county.stars_approved_by(ApprovingLevel::County), vec![1, 2, 3, 4, 5]);
        assert_eq!(r.threshold_minutes(3), Some(600 * 60));
        assert_eq!(r.threshold_minutes(0), None);
        assert_eq!(r.threshold_minutes(6), None);
    }

    #[test]
    fn eligibility_waits_for_the_registration_period() {
        let r = StarRules { min_registration_months: Some(12), ..Default::default() };
        assert_eq!(r.eligible_on(Some(d(2025, 6, 1)), d(2026, 1, 10)), d(2026, 6, 1));
        assert_eq!(r.eligible_on(Some(d(2024, 6, 1)), d(2026, 1, 10)), d(2026, 1, 10));
        assert_eq!(StarRules::default().eligible_on(Some(d(2025, 12, 1)), d(2026, 1, 10)), d(2026, 1, 10));
    }

    #[test]
    fn reaching_thresholds_creates_pending_awards() {
        let r = StarRules::default();
        let today = d(2026, 3, 1);
        assert!(reconcile(&r, 99 * 60, None, today, &[]).is_empty());
        // a big jump reaches two stars at once: both need approval
        let ch = reconcile(&r, 320 * 60, None, today, &[]);
        assert_eq!(
            ch,
            vec![
                StarChange::Create { star: 1, threshold_minutes: 6000, eligible_on: today },
                StarChange::Create { star: 2, threshold_minutes: 18000, eligible_on: today },
            ]
        );
        // held awards are not created again
        let held = [award(1, 1, AwardStatus::Approved, 100), award(2, 2, AwardStatus::Pending, 300)];
        assert!(reconcile(&r, 320 * 60, None, today, &held).is_empty());
    }

    #[test]
    fn corrections_below_a_threshold_lapse_awards() {
        let r = StarRules::default();
        let today = d(2026, 3, 1);
        let held = [award(1, 1, AwardStatus::Approved, 100), award(2, 2, AwardStatus::Pending, 300)];
        assert_eq!(
            reconcile(&r, 250 * 60, None, today, &held),
            vec![StarChange::Lapse { id: 2, star: 2, was_approved: false }]
        );
        assert_eq!(
            reconcile(&r, 90 * 60, None, today, &held),
            vec![
                StarChange::Lapse { id: 1, star: 1, was_approved: true },
                StarChange::Lapse { id: 2, star: 2, was_approved: false }
            ]
        );
        // an approval stands under the threshold it was given at, even if the rules rise
        let raised = StarRules { thresholds_hours: [150, 300, 600, 1000, 1500], ..r.clone() };
        assert!(reconcile(&raised, 120 * 60, None, today, &held[..1]).is_empty());
        // a lapsed star is reached again: a new pending award
        let lapsed = [award(1, 1, AwardStatus::Lapsed, 100)];
        assert_eq!(reconcile(&r, 100 * 60, None, today, &lapsed).len(), 1);
    }

    #[test]
    fn a_rejection_stands_until_more_service_is_confirmed() {
        let r = StarRules::default();
        let today = d(2026, 3, 1);
        let mut rejected = award(1, 1, AwardStatus::Rejected, 100);
        rejected.total_at_decision = Some(120 * 60);
        assert!(reconcile(&r, 120 * 60, None, today, &[rejected.clone()]).is_empty());
        assert_eq!(
            reconcile(&r, 122 * 60, None, today, &[rejected]),
            vec![StarChange::Create { star: 1, threshold_minutes: 6000, eligible_on: today }]
        );
    }

    #[test]
    fn pending_awards_follow_a_changed_registration_period() {
        let r = StarRules { min_registration_months: Some(6), ..Default::default() };
        let p = award(7, 1, AwardStatus::Pending, 100);
        assert_eq!(
            reconcile(&r, 150 * 60, Some(d(2025, 12, 15)), d(2026, 3, 1), &[p]),
            vec![StarChange::Reschedule { id: 7, eligible_on: d(2026, 6, 15) }]
        );
        assert_eq!(held_star(&[award(1, 1, AwardStatus::Approved, 100), award(2, 3, AwardStatus::Approved, 600)]), 3);
    }

    #[test]
    fn only_the_approving_level_decides_within_its_scope() {
        let r = StarRules::default();
        let (today, home) = (d(2026, 3, 1), "420106001001");
        let ok = |star, scope: &str, approve| {
            check_decision(&r, star, AwardStatus::Pending, scope, home, approve, today, 5000 * 60, today)
        };
        assert_eq!(ok(1, "420106", true), Ok(()));
        assert_eq!(ok(2, "420106", false), Ok(()));
        assert_eq!(ok(3, "420106", true), Err(DecisionRefused::WrongLevel { star: 3, needed: "市级", own: "县级" }));
        assert_eq!(ok(3, "4201", true), Ok(()));
        assert_eq!(ok(5, "42", true), Ok(()));
        // a higher level does not stand in for the lower one
        assert!(matches!(ok(1, "42", true), Err(DecisionRefused::WrongLevel { .. })));
        assert!(matches!(ok(1, "", true), Err(DecisionRefused::WrongLevel { own: "全部区域", .. })));
        assert!(matches!(ok(1, "420106001", true), Err(DecisionRefused::WrongLevel { own: "乡级", .. })));
        assert_eq!(ok(1, "420111", true), Err(DecisionRefused::OutsideScope));
        assert_eq!(ok(3, "4202", true), Err(DecisionRefused::OutsideScope));
        let decided = check_decision(&r, 1, AwardStatus::Approved, "420106", home, true, today, 6000, today);
        assert_eq!(decided, Err(DecisionRefused::NotPending("已认定")));
        let later = d(2026, 6, 1);
        assert_eq!(
            check_decision(&r, 1, AwardStatus::Pending, "420106", home, true, later, 6000, today),
            Err(DecisionRefused::TooEarly(later))
        );
        // a rejection needs no waiting
        assert_eq!(check_decision(&r, 1, AwardStatus::Pending, "420106", home, false, later, 6000, today), Ok(()));
        assert_eq!(
            check_decision(&r, 1, AwardStatus::Pending, "420106", home, true, today, 5999, today),
            Err(DecisionRefused::BelowThreshold { star: 1 })
        );
        assert_eq!(
            DecisionRefused::WrongLevel { star: 3, needed: "市级", own: "县级" }.to_string(),
            "3星志愿者由市级民政部门审批，您的管辖范围是县级"
        );
    }

    #[test]
    fn settings_are_checked() {
        assert!(StarRules::default().validate().is_ok());
        let bad = StarRules { thresholds_hours: [100, 100, 600, 1000, 1500], ..Default::default() };
        assert_eq!(bad.validate().unwrap_err().0, "thresholds_hours");
        assert_eq!(stars_label(2), "★★☆☆☆");
    }
}
