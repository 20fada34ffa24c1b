//! Activities (志愿服务项目/活动): their service categories, life cycle, slot checks and who
//! may sign up.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

macro_rules! keyed_enum {
    ($name:ident { $($v:ident = $key:literal / $label:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $key),+ } }
            pub fn label(self) -> &'static str { match self { $($name::$v => $label),+ } }
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|x| x.as_str() == s || x.label() == s)
            }
        }
    };
}

keyed_enum!(ServiceCategory {
    Community = "community" / "社区服务",
    Elderly = "elderly" / "扶老助残",
    Children = "children" / "关爱儿童",
    Poverty = "poverty" / "助困帮扶",
    Emergency = "emergency" / "应急救援",
    Environment = "environment" / "生态环保",
    Culture = "culture" / "文化体育",
    Health = "health" / "医疗健康",
    Legal = "legal" / "法律服务",
    Science = "science" / "科普教育",
    Safety = "safety" / "平安建设",
    Other = "other" / "其他",
});

keyed_enum!(ActivityStatus {
    Draft = "draft" / "草稿",
    Published = "published" / "招募中",
    Closed = "closed" / "已结束",
    Cancelled = "cancelled" / "已取消",
});

impl ActivityStatus {
    /// Allowed moves: draft → published → closed, and cancelling before it closes.
    pub fn can_become(self, to: ActivityStatus) -> bool {
        use ActivityStatus::*;
        matches!((self, to), (Draft, Published) | (Published, Closed) | (Draft | Published, Cancelled))
    }

    /// Whether volunteers and the public may see it: a draft or a cancelled activity is
    /// its organization's business, not even its existence is shown.
    pub fn is_public(self) -> bool {
        matches!(self, ActivityStatus::Published | ActivityStatus::Closed)
    }
}

/// Largest slot length and capacity accepted.
pub const MAX_SLOT_HOURS: i64 = 24;
pub const MAX_CAPACITY: i64 = 10_000;

/// Check one time slot: (field, message) on failure.
pub fn check_slot(starts: DateTime<Utc>, ends: DateTime<Utc>, capacity: i64) -> Result<(), (&'static str, String)> {
    if ends <= starts {
        return Err(("slots", "时段的结束时间应晚于开始时间".into()));
    }
    if ends - starts > Duration::hours(MAX_SLOT_HOURS) {
        return Err(("slots", format!("一个时段不能超过 {MAX_SLOT_HOURS} 小时，多日活动请分成多个时段")));
    }
    if !(1..=MAX_CAPACITY).contains(&capacity) {
        return Err(("slots", format!("时段名额应在 1–{MAX_CAPACITY} 之间")));
    }
    Ok(())
}

/// Age in whole years on `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i64 {
    on.years_since(birth).map(i64::from).unwrap_or(0)
}

/// What a sign-up is checked against.
pub struct Eligibility<'a> {
    pub min_age: Option<i64>,
    pub risky: bool,
    pub required_skills: &'a [String],
    pub recruit_until: Option<DateTime<Utc>>,
    pub status: ActivityStatus,
    pub slot_starts: DateTime<Utc>,
}

/// Why a volunteer may not sign up (Chinese, shown as is), or Ok.
pub fn may_sign_up(
    e: &Eligibility,
    birth: NaiveDate,
    has_guardian_consent: bool,
    skills: &[String],
    now: DateTime<Utc>,
) -> Result<(), String> {
    if e.status != ActivityStatus::Published {
        return Err(format!("活动{}，不接受报名", e.status.label()));
    }
    if e.recruit_until.is_some_and(|d| now > d) {
        return Err("已过报名截止时间".into());
    }
    if now >= e.slot_starts {
        return Err("该时段已开始，不能再报名".into());
    }
    let age = age_on(birth, crate::time::local_date(e.slot_starts));
    if let Some(min) = e.min_age {
        if age < min {
            return Err(format!("本活动要求年满 {min} 周岁"));
        }
    }
    if age < crate::registry::person::ADULT_AGE as i64 {
        if e.risky {
            return Err("本活动有风险，未成年人不能参加".into());
        }
        if !has_guardian_consent {
            return Err("未成年志愿者须有监护人同意".into());
        }
    }
    let missing: Vec<&str> = e.required_skills.iter().filter(|s| !skills.contains(s)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(format!("本活动要求的技能您尚未登记：{}", missing.join("、")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn e(now_offset_days: i64) -> (Eligibility<'static>, DateTime<Utc>) {
        let starts = Utc.with_ymd_and_hms(2026, 6, 1, 1, 0, 0).unwrap();
        (
            Eligibility {
                min_age: Some(16),
                risky: false,
                required_skills: &[],
                recruit_until: Some(starts - Duration::days(1)),
                status: ActivityStatus::Published,
                slot_starts: starts,
            },
            starts + Duration::days(now_offset_days),
        )
    }

    #[test]
    fn who_may_sign_up() {
        let (el, now) = e(-3);
        let adult = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
        let teen = NaiveDate::from_ymd_opt(2009, 1, 1).unwrap();
        let child = NaiveDate::from_ymd_opt(2014, 1, 1).unwrap();
        assert!(may_sign_up(&el, adult, false, &[], now).is_ok());
        assert!(may_sign_up(&el, teen, true, &[], now).is_ok());
        assert!(may_sign_up(&el, teen, false, &[], now).unwrap_err().contains("监护人"));
        assert!(may_sign_up(&el, child, true, &[], now).unwrap_err().contains("16"));
        let risky = Eligibility { risky: true, ..e(-3).0 };
        assert!(may_sign_up(&risky, teen, true, &[], now).unwrap_err().contains("未成年"));
        let (el, late) = e(0);
        assert!(may_sign_up(&el, adult, false, &[], late).is_err());
        let skills = ["first_aid".to_string()];
        let needs = Eligibility { required_skills: &skills, ..e(-3).0 };
        assert!(may_sign_up(&needs, adult, false, &[], now).unwrap_err().contains("first_aid"));
        assert!(may_sign_up(&needs, adult, false, &skills, now).is_ok());
        let draft = Eligibility { status: ActivityStatus::Draft, ..e(-3).0 };
        assert!(may_sign_up(&draft, adult, false, &[], now).is_err());
    }

    #[test]
    fn life_cycle_and_slots() {
        use ActivityStatus::*;
        assert!(Draft.can_become(Published) && Published.can_become(Closed) && Published.can_become(Cancelled));
        assert!(!Closed.can_become(Published) && !Cancelled.can_become(Published) && !Closed.can_become(Cancelled));
        assert!(Published.is_public() && Closed.is_public() && !Draft.is_public() && !Cancelled.is_public());
        let s = Utc.with_ymd_and_hms(2026, 6, 1, 1, 0, 0).unwrap();
        assert!(check_slot(s, s + Duration::hours(2), 10).is_ok());
        assert!(check_slot(s, s, 10).is_err());
        assert!(check_slot(s, s + Duration::hours(25), 10).is_err());
        assert!(check_slot(s, s + Duration::hours(2), 0).is_err());
        assert_eq!(ServiceCategory::parse("扶老助残"), Some(ServiceCategory::Elderly));
        assert_eq!(ServiceCategory::parse("elderly"), Some(ServiceCategory::Elderly));
    }
}
