//! Organizations (社会组织): their types, their statuses and the state machine over a status
//! history that is never overwritten (RULES.md, "Charity"; issue 3, "Organizations").
//!
//! A history is a list of [`StatusEvent`]s in the order they were decided. The rules:
//!
//! - The first event is always 已登记 (`Registered`).
//! - 已登记 → 已认定为慈善组织 / 暂停活动 / 撤销登记 / 注销登记.
//! - 已认定为慈善组织 → 具有公开募捐资格 once the organization has been a charity for at least
//!   [`RegistryRules::fundraising_min_years`] (default 1 year, Charity Law as amended in
//!   2023), counted from the recognition date; → 暂停活动 / 撤销登记 / 注销登记.
//! - 具有公开募捐资格 → 暂停活动 / 撤销登记 / 注销登记.
//! - 暂停活动 → 恢复活动, recorded as re-entering the status held before the suspension
//!   (and only that one); → 撤销登记 / 注销登记.
//! - 撤销登记 and 注销登记 are terminal.
//! - No event is dated before the previous one; an event repeating the current status is
//!   refused.
//!
//! **Registered directly as a charity organization.** Since 2016 an organization can be
//! registered as a 慈善组织 from the start. This is recorded as 已登记 followed by
//! 已认定为慈善组织 *on the same date*; the one-year wait then counts from the registration
//! date, and refusals say "登记" instead of "认定". No flag and no organization type is
//! consulted: the history alone decides, so an organization holding several types (a
//! 社会服务机构 that is also a 慈善组织) is handled the same way.
//!
//! The one-year wait ends on the same month and day one year later (29 February → 28
//! February): recognized on 2026-03-01, eligible from 2027-03-01. Time spent suspended is
//! not deducted.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::add_years;

keyed_enum! {
    /// Kinds of organization; one organization may hold several.
    pub enum OrgType ("组织类型") {
        /// 慈善组织
        CharityOrganization = "charity_organization", "慈善组织";
        /// 社会工作服务机构
        SocialWorkAgency = "social_work_agency", "社会工作服务机构";
        /// 志愿服务组织
        VolunteerOrganization = "volunteer_organization", "志愿服务组织";
        /// 基金会
        Foundation = "foundation", "基金会";
        /// 社会团体
        Association = "association", "社会团体";
        /// 社会服务机构 (formerly 民办非企业单位)
        SocialServiceOrganization = "social_service_organization", "社会服务机构";
        /// 社区社会组织
        CommunitySocialOrganization = "community_social_organization", "社区社会组织";
        /// 枢纽型社会组织
        HubOrganization = "hub_organization", "枢纽型社会组织";
        /// 行业协会商会
        IndustryAssociation = "industry_association", "行业协会商会";
    }
}

keyed_enum! {
    /// Registration status of an organization, one per [`StatusEvent`].
    pub enum OrgStatus ("组织状态") {
        /// 已登记
        Registered = "registered", "已登记";
        /// 已认定为慈善组织 (or registered as one, see the module documentation)
        RecognizedCharity = "recognized_charity", "已认定为慈善组织";
        /// 具有公开募捐资格
        FundraisingQualified = "fundraising_qualified", "具有公开募捐资格";
        /// 暂停活动
        Suspended = "suspended", "暂停活动";
        /// 撤销登记 (terminal)
        Revoked = "revoked", "撤销登记";
        /// 注销登记 (terminal)
        Deregistered = "deregistered", "注销登记";
    }
}

impl OrgStatus {
    /// Revoked and deregistered organizations never change status again.
    pub fn is_terminal(self) -> bool {
        matches!(self, OrgStatus::Revoked | OrgStatus::Deregistered)
    }

    /// An organization in this status may carry out activities.
    pub fn is_active(self) -> bool {
        matches!(self, OrgStatus::Registered | OrgStatus::RecognizedCharity | OrgStatus::FundraisingQualified)
    }
}

/// One entry of a status history: the new status and the date it takes effect. (Deciding
/// authority, document number and note are kept by the store next to it.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatusEvent {
    pub status: OrgStatus,
    pub effective: NaiveDate,
}

impl StatusEvent {
    pub fn new(status: OrgStatus, effective: NaiveDate) -> StatusEvent {
        StatusEvent { status, effective }
    }
}

/// Settings of the registry rules (per deployment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistryRules {
    /// Years an organization must have been a charity before it may be granted public
    /// fundraising qualification: 1 under the Charity Law as amended in 2023 (2 before).
    pub fundraising_min_years: u32,
}

impl Default for RegistryRules {
    fn default() -> RegistryRules {
        RegistryRules { fundraising_min_years: 1 }
    }
}

/// How the organization became a charity, which decides the wording of refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CharityBasis {
    /// Registered directly as a charity organization (recognition dated the registration day).
    Registration,
    /// Recognized as a charity organization after registration.
    Recognition,
}

impl CharityBasis {
    /// "登记" or "认定".
    pub fn label(self) -> &'static str {
        match self {
            CharityBasis::Registration => "登记",
            CharityBasis::Recognition => "认定",
        }
    }
}

impl std::fmt::Display for CharityBasis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Where an organization stands after its history, for lists and the public lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Standing {
    /// The latest status; `None` for an empty history (not registered).
    pub status: Option<OrgStatus>,
    /// Holds charity recognition (also while suspended); false once revoked or deregistered.
    pub is_charity: bool,
    /// Holds public fundraising qualification (also while suspended); false once revoked or
    /// deregistered. Whether it may raise funds *now* is [`Standing::may_fundraise`].
    pub fundraising_qualified: bool,
    /// Registered and neither suspended, revoked nor deregistered.
    pub active: bool,
    /// Date of the first recognition as a charity (the registration date for an organization
    /// registered directly as a charity).
    pub charity_since: Option<NaiveDate>,
    /// How it became a charity, when it is or was one.
    pub charity_basis: Option<CharityBasis>,
    /// Date of registration (the first event).
    pub registered_on: Option<NaiveDate>,
    /// While suspended: the status that 恢复活动 returns to.
    pub resumes_to: Option<OrgStatus>,
}

impl Standing {
    /// Qualified for public fundraising and currently active.
    pub fn may_fundraise(&self) -> bool {
        self.fundraising_qualified && self.active
    }
}

/// Why a status change was refused. Messages are Chinese and name the rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegistryError {
    /// A history must start with 已登记.
    #[error("状态历史的第一条必须是「已登记」，不能是「{to}」")]
    FirstMustBeRegistered { to: OrgStatus },
    /// Revoked or deregistered organizations never change again.
    #[error("已{status}，不能再变更状态", status = .status.label())]
    Terminal { status: OrgStatus },
    /// The new event is dated before the latest one.
    #[error("生效日期 {on} 早于上一次状态变更的生效日期 {previous}：状态历史必须按时间先后记录")]
    BackDated { on: NaiveDate, previous: NaiveDate },
    /// The new status is the current one.
    #[error("当前已是「{status}」，无需重复变更")]
    Unchanged { status: OrgStatus },
    /// Public fundraising qualification requires charity recognition first.
    #[error("尚未认定为慈善组织，不能取得公开募捐资格")]
    NotCharity,
    /// Too early for public fundraising qualification.
    #[error("{basis}为慈善组织未满 {years} 年（{since} {basis}），{eligible} 起方可申请公开募捐资格")]
    FundraisingTooEarly { basis: CharityBasis, years: u32, since: NaiveDate, eligible: NaiveDate },
    /// A suspended organization can only resume its previous status or end.
    #[error("暂停活动期间只能恢复活动（恢复为「{held}」）或撤销、注销登记，不能变更为「{to}」")]
    MustResume { held: OrgStatus, to: OrgStatus },
    /// Any other change the state machine does not have.
    #[error("不能从「{from}」变更为「{to}」")]
    NotAllowed { from: OrgStatus, to: OrgStatus },
}

/// The history of a newly registered organization: 已登记 on `registered_on`, followed on
/// the same day by 已认定为慈善组织 when it is registered directly as a charity organization
/// (see the module documentation).
pub fn initial_history(registered_on: NaiveDate, registered_as_charity: bool) -> Vec<StatusEvent> {
    let mut h = vec![StatusEvent::new(OrgStatus::Registered, registered_on)];
    if registered_as_charity {
        h.push(StatusEvent::new(OrgStatus::RecognizedCharity, registered_on));
    }
    h
}

/// Where an organization stands after `history` (events in order). Lenient: it never
/// fails, even on a history [`validate_history`] would refuse.
pub fn standing(history: &[StatusEvent]) -> Standing {
    let mut s = Standing::default();
    let mut held: Option<OrgStatus> = None;
    let mut qualified = false;
    for e in history {
        match e.status {
            OrgStatus::Registered => {
                s.registered_on.get_or_insert(e.effective);
            }
            OrgStatus::RecognizedCharity => {
                if s.charity_since.is_none() {
                    s.charity_since = Some(e.effective);
                    s.charity_basis = Some(if s.registered_on == Some(e.effective) {
                        CharityBasis::Registration
                    } else {
                        CharityBasis::Recognition
                    });
                }
            }
            OrgStatus::FundraisingQualified => qualified = true,
            OrgStatus::Suspended | OrgStatus::Revoked | OrgStatus::Deregistered => {}
        }
        if e.status != OrgStatus::Suspended {
            held = Some(e.status);
        }
        s.status = Some(e.status);
    }
    let ended = s.status.is_some_and(OrgStatus::is_terminal);
    s.is_charity = s.charity_since.is_some() && !ended;
    s.fundraising_qualified = qualified && !ended;
    s.active = s.status.is_some_and(OrgStatus::is_active);
    if s.status == Some(OrgStatus::Suspended) {
        s.resumes_to = held;
    }
    s
}

/// Checks that `to`, effective (decided) on `on`, may follow `history`. The history itself
/// is assumed valid (built through this function, or checked with [`validate_history`]).
pub fn check_transition(
    history: &[StatusEvent],
    to: OrgStatus,
    on: NaiveDate,
    rules: &RegistryRules,
) -> Result<(), RegistryError> {
    use OrgStatus::*;

    let Some(last) = history.last() else {
        return if to == Registered { Ok(()) } else { Err(RegistryError::FirstMustBeRegistered { to }) };
    };
    let from = last.status;
    if from.is_terminal() {
        return Err(RegistryError::Terminal { status: from });
    }
    if on < last.effective {
        return Err(RegistryError::BackDated { on, previous: last.effective });
    }
    if to == from {
        return Err(RegistryError::Unchanged { status: from });
    }
    match (from, to) {
        (_, Revoked | Deregistered) => Ok(()),
        (Suspended, _) => match standing(history).resumes_to {
            Some(held) if held == to => Ok(()),
            Some(held) => Err(RegistryError::MustResume { held, to }),
            None => Err(RegistryError::NotAllowed { from, to }),
        },
        (_, Suspended) => Ok(()),
        (Registered, RecognizedCharity) => Ok(()),
        (Registered, FundraisingQualified) => Err(RegistryError::NotCharity),
        (RecognizedCharity, FundraisingQualified) => {
            let st = standing(history);
            let since = st.charity_since.unwrap_or(last.effective);
            let years = rules.fundraising_min_years;
            let eligible = add_years(since, years);
            if on < eligible {
                let basis = st.charity_basis.unwrap_or(CharityBasis::Recognition);
                return Err(RegistryError::FundraisingTooEarly { basis, years, since, eligible });
            }
            Ok(())
        }
        _ => Err(RegistryError::NotAllowed { from, to }),
    }
}

/// Replays a whole history (e.g. from an import) through [`check_transition`]; on failure
/// returns the 0-based index of the first refused event and why.
pub fn validate_history(history: &[StatusEvent], rules: &RegistryRules) -> Result<(), (usize, RegistryError)> {
    for (i, e) in history.iter().enumerate() {
        check_transition(&history[..i], e.status, e.effective, rules).map_err(|err| (i, err))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrgStatus::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn ev(status: OrgStatus, y: i32, m: u32, day: u32) -> StatusEvent {
        StatusEvent::new(status, d(y, m, day))
    }

    fn rules() -> RegistryRules {
        RegistryRules::default()
    }

    #[test]
    fn keys_labels_and_parse() {
        assert_eq!(OrgType::SocialWorkAgency.as_str(), "social_work_agency");
        assert_eq!(OrgType::ALL.len(), 9);
        assert_eq!(OrgStatus::ALL.len(), 6);
        for t in OrgType::ALL {
            assert_eq!(OrgType::parse(t.as_str()), Some(t));
            assert_eq!(OrgType::parse(t.label()), Some(t));
            assert_eq!(t.to_string(), t.label());
        }
        for s in OrgStatus::ALL {
            assert_eq!(OrgStatus::parse(&format!(" {} ", s.as_str())), Some(s));
            assert_eq!(OrgStatus::parse(s.label()), Some(s));
        }
        assert_eq!(OrgType::parse("慈善组织"), Some(OrgType::CharityOrganization));
        assert_eq!(OrgType::parse("行业协会商会"), Some(OrgType::IndustryAssociation));
        assert_eq!(OrgType::parse("unknown"), None);
        let keys: Vec<_> = OrgStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            keys,
            ["registered", "recognized_charity", "fundraising_qualified", "suspended", "revoked", "deregistered"]
        );
    }

    #[test]
    fn serde_uses_keys() {
        use serde::de::value::{Error, StrDeserializer};
        use serde::de::IntoDeserializer;
        for t in OrgType::ALL {
            let de: StrDeserializer<'_, Error> = t.as_str().into_deserializer();
            assert_eq!(OrgType::deserialize(de).unwrap(), t);
        }
        let de: StrDeserializer<'_, Error> = "慈善组织".into_deserializer();
        let e = OrgType::deserialize(de).unwrap_err();
        assert!(e.to_string().contains("未知的组织类型「慈善组织」"), "{e}");
        let de: StrDeserializer<'_, Error> = "revoked".into_deserializer();
        assert_eq!(OrgStatus::deserialize(de).unwrap(), Revoked);
    }

    #[test]
    fn empty_history() {
        let s = standing(&[]);
        assert_eq!(s, Standing::default());
        assert!(!s.active);
        assert!(check_transition(&[], Registered, d(2020, 1, 1), &rules()).is_ok());
        let e = check_transition(&[], RecognizedCharity, d(2020, 1, 1), &rules()).unwrap_err();
        assert_eq!(e, RegistryError::FirstMustBeRegistered { to: RecognizedCharity });
        assert_eq!(e.to_string(), "状态历史的第一条必须是「已登记」，不能是「已认定为慈善组织」");
    }

    #[test]
    fn full_path_to_fundraising() {
        let mut h = vec![ev(Registered, 2020, 5, 10)];
        let s = standing(&h);
        assert_eq!(s.status, Some(Registered));
        assert!(s.active && !s.is_charity && !s.fundraising_qualified);
        assert_eq!(s.registered_on, Some(d(2020, 5, 10)));

        check_transition(&h, RecognizedCharity, d(2026, 3, 1), &rules()).unwrap();
        h.push(ev(RecognizedCharity, 2026, 3, 1));
        let s = standing(&h);
        assert!(s.is_charity && s.active);
        assert_eq!(s.charity_since, Some(d(2026, 3, 1)));
        assert_eq!(s.charity_basis, Some(CharityBasis::Recognition));

        let e = check_transition(&h, FundraisingQualified, d(2027, 2, 28), &rules()).unwrap_err();
        assert_eq!(e.to_string(), "认定为慈善组织未满 1 年（2026-03-01 认定），2027-03-01 起方可申请公开募捐资格");
        check_transition(&h, FundraisingQualified, d(2027, 3, 1), &rules()).unwrap();
        h.push(ev(FundraisingQualified, 2027, 3, 1));
        let s = standing(&h);
        assert!(s.fundraising_qualified && s.may_fundraise() && s.is_charity);
        assert!(validate_history(&h, &rules()).is_ok());
    }

    #[test]
    fn registered_directly_as_charity_counts_from_registration() {
        let mut h = vec![ev(Registered, 2025, 7, 1)];
        check_transition(&h, RecognizedCharity, d(2025, 7, 1), &rules()).unwrap();
        h.push(ev(RecognizedCharity, 2025, 7, 1));
        assert_eq!(h, initial_history(d(2025, 7, 1), true));
        assert_eq!(initial_history(d(2025, 7, 1), false), [ev(Registered, 2025, 7, 1)]);
        assert!(validate_history(&h, &rules()).is_ok());
        let s = standing(&h);
        assert!(s.is_charity && s.active);
        assert_eq!(s.charity_since, Some(d(2025, 7, 1)));
        assert_eq!(s.charity_basis, Some(CharityBasis::Registration));
        let e = check_transition(&h, FundraisingQualified, d(2026, 6, 30), &rules()).unwrap_err();
        assert_eq!(e.to_string(), "登记为慈善组织未满 1 年（2025-07-01 登记），2026-07-01 起方可申请公开募捐资格");
        assert!(check_transition(&h, FundraisingQualified, d(2026, 7, 1), &rules()).is_ok());
    }

    #[test]
    fn min_years_is_a_setting_and_leap_day_clamps() {
        let h = [ev(Registered, 2020, 1, 1), ev(RecognizedCharity, 2024, 2, 29)];
        let two = RegistryRules { fundraising_min_years: 2 };
        let e = check_transition(&h, FundraisingQualified, d(2025, 3, 1), &two).unwrap_err();
        assert_eq!(
            e,
            RegistryError::FundraisingTooEarly {
                basis: CharityBasis::Recognition,
                years: 2,
                since: d(2024, 2, 29),
                eligible: d(2026, 2, 28)
            }
        );
        assert!(check_transition(&h, FundraisingQualified, d(2026, 2, 28), &two).is_ok());
        assert!(check_transition(&h, FundraisingQualified, d(2025, 2, 28), &rules()).is_ok());
        assert!(check_transition(&h, FundraisingQualified, d(2025, 2, 27), &rules()).is_err());
        let zero = RegistryRules { fundraising_min_years: 0 };
        assert!(check_transition(&h, FundraisingQualified, d(2024, 2, 29), &zero).is_ok());
    }

    #[test]
    fn fundraising_needs_charity_first() {
        let h = [ev(Registered, 2010, 1, 1)];
        let e = check_transition(&h, FundraisingQualified, d(2026, 1, 1), &rules()).unwrap_err();
        assert_eq!(e, RegistryError::NotCharity);
        assert_eq!(e.to_string(), "尚未认定为慈善组织，不能取得公开募捐资格");
    }

    #[test]
    fn suspension_and_resumption() {
        let mut h = vec![ev(Registered, 2015, 1, 1), ev(RecognizedCharity, 2017, 1, 1)];
        check_transition(&h, Suspended, d(2020, 6, 1), &rules()).unwrap();
        h.push(ev(Suspended, 2020, 6, 1));
        let s = standing(&h);
        assert_eq!(s.status, Some(Suspended));
        assert!(!s.active && s.is_charity && !s.may_fundraise());
        assert_eq!(s.resumes_to, Some(RecognizedCharity));

        // Only back to the status held before, or the end.
        let e = check_transition(&h, FundraisingQualified, d(2021, 1, 1), &rules()).unwrap_err();
        assert_eq!(e, RegistryError::MustResume { held: RecognizedCharity, to: FundraisingQualified });
        assert_eq!(
            e.to_string(),
            "暂停活动期间只能恢复活动（恢复为「已认定为慈善组织」）或撤销、注销登记，不能变更为「具有公开募捐资格」"
        );
        assert!(check_transition(&h, Registered, d(2021, 1, 1), &rules()).is_err());
        assert_eq!(
            check_transition(&h, Suspended, d(2021, 1, 1), &rules()).unwrap_err(),
            RegistryError::Unchanged { status: Suspended }
        );
        assert!(check_transition(&h, Revoked, d(2021, 1, 1), &rules()).is_ok());

        check_transition(&h, RecognizedCharity, d(2021, 1, 1), &rules()).unwrap();
        h.push(ev(RecognizedCharity, 2021, 1, 1));
        let s = standing(&h);
        assert!(s.active && s.is_charity);
        assert_eq!(s.resumes_to, None);
        // The first recognition date still counts.
        assert_eq!(s.charity_since, Some(d(2017, 1, 1)));
        assert!(check_transition(&h, FundraisingQualified, d(2021, 1, 2), &rules()).is_ok());
        assert!(validate_history(&h, &rules()).is_ok());
    }

    #[test]
    fn suspended_fundraiser_keeps_qualification_but_may_not_raise() {
        let h = [
            ev(Registered, 2015, 1, 1),
            ev(RecognizedCharity, 2017, 1, 1),
            ev(FundraisingQualified, 2019, 1, 1),
            ev(Suspended, 2022, 1, 1),
        ];
        let s = standing(&h);
        assert!(s.fundraising_qualified && !s.may_fundraise());
        assert_eq!(s.resumes_to, Some(FundraisingQualified));
        assert!(check_transition(&h, FundraisingQualified, d(2022, 2, 1), &rules()).is_ok());
        assert!(check_transition(&h, RecognizedCharity, d(2022, 2, 1), &rules()).is_err());
    }

    #[test]
    fn terminal_statuses() {
        let h = [ev(Registered, 2015, 1, 1), ev(Revoked, 2020, 1, 1)];
        let s = standing(&h);
        assert!(!s.active && !s.is_charity && !s.fundraising_qualified);
        for to in OrgStatus::ALL {
            let e = check_transition(&h, to, d(2021, 1, 1), &rules()).unwrap_err();
            assert_eq!(e.to_string(), "已撤销登记，不能再变更状态");
        }
        let h = [ev(Registered, 2015, 1, 1), ev(RecognizedCharity, 2016, 1, 1), ev(Deregistered, 2020, 1, 1)];
        assert!(!standing(&h).is_charity);
        let e = check_transition(&h, Registered, d(2021, 1, 1), &rules()).unwrap_err();
        assert_eq!(e.to_string(), "已注销登记，不能再变更状态");
    }

    #[test]
    fn dates_must_not_go_back() {
        let h = [ev(Registered, 2020, 5, 10)];
        let e = check_transition(&h, Suspended, d(2020, 5, 9), &rules()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "生效日期 2020-05-09 早于上一次状态变更的生效日期 2020-05-10：状态历史必须按时间先后记录"
        );
        assert!(check_transition(&h, Suspended, d(2020, 5, 10), &rules()).is_ok());
    }

    #[test]
    fn other_changes_refused() {
        let h = [ev(Registered, 2015, 1, 1), ev(RecognizedCharity, 2016, 1, 1)];
        let e = check_transition(&h, Registered, d(2021, 1, 1), &rules()).unwrap_err();
        assert_eq!(e.to_string(), "不能从「已认定为慈善组织」变更为「已登记」");
        let e = check_transition(&h, RecognizedCharity, d(2021, 1, 1), &rules()).unwrap_err();
        assert_eq!(e.to_string(), "当前已是「已认定为慈善组织」，无需重复变更");
        let h = [ev(Registered, 2015, 1, 1), ev(RecognizedCharity, 2016, 1, 1), ev(FundraisingQualified, 2018, 1, 1)];
        assert!(check_transition(&h, RecognizedCharity, d(2021, 1, 1), &rules()).is_err());
        assert!(check_transition(&h, Registered, d(2021, 1, 1), &rules()).is_err());
        assert!(check_transition(&h, Deregistered, d(2021, 1, 1), &rules()).is_ok());
    }

    #[test]
    fn validate_history_names_the_bad_event() {
        let h = [ev(Registered, 2015, 1, 1), ev(RecognizedCharity, 2025, 1, 1), ev(FundraisingQualified, 2025, 6, 1)];
        let (i, e) = validate_history(&h, &rules()).unwrap_err();
        assert_eq!(i, 2);
        assert!(matches!(e, RegistryError::FundraisingTooEarly { .. }));
        let (i, _) = validate_history(&[ev(Suspended, 2015, 1, 1)], &rules()).unwrap_err();
        assert_eq!(i, 0);
        assert!(validate_history(&[], &rules()).is_ok());
    }

    #[test]
    fn lenient_standing_on_invalid_history() {
        // A history starting with a suspension has nothing to resume to.
        let h = [ev(Suspended, 2015, 1, 1)];
        assert_eq!(standing(&h).resumes_to, None);
        assert_eq!(
            check_transition(&h, Registered, d(2016, 1, 1), &rules()).unwrap_err(),
            RegistryError::NotAllowed { from: Suspended, to: Registered }
        );
    }

    #[test]
    fn rules_default() {
        assert_eq!(RegistryRules::default().fundraising_min_years, 1);
    }
}

/// Why a pairing programme (结对帮扶) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PairingError {
    #[error("帮扶方和受助方不能是同一个组织")]
    SameOrganization,
    #[error("结束日期 {end} 必须晚于开始日期 {start}")]
    EndsBeforeStart { start: NaiveDate, end: NaiveDate },
    #[error("结对期限不能超过 {0} 年")]
    TooLong(u32),
    #[error("{0}已不在正常活动状态，不能参加结对")]
    Inactive(&'static str),
}

/// The longest pairing programme accepted, in years.
pub const PAIRING_MAX_YEARS: u32 = 5;

/// A pairing links two different, active organizations for a period of at most
/// [`PAIRING_MAX_YEARS`] years.
pub fn check_pairing(
    helper_org: i64,
    helped_org: i64,
    helper_active: bool,
    helped_active: bool,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<(), PairingError> {
    if helper_org == helped_org {
        return Err(PairingError::SameOrganization);
    }
    if end <= start {
        return Err(PairingError::EndsBeforeStart { start, end });
    }
    if end > add_years(start, PAIRING_MAX_YEARS) {
        return Err(PairingError::TooLong(PAIRING_MAX_YEARS));
    }
    if !helper_active {
        return Err(PairingError::Inactive("帮扶方"));
    }
    if !helped_active {
        return Err(PairingError::Inactive("受助方"));
    }
    Ok(())
}

#[cfg(test)]
mod pairing_tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn pairing_rules() {
        assert_eq!(check_pairing(1, 2, true, true, d(2026, 1, 1), d(2027, 12, 31)), Ok(()));
        assert_eq!(check_pairing(1, 1, true, true, d(2026, 1, 1), d(2027, 1, 1)), Err(PairingError::SameOrganization));
        assert!(matches!(
            check_pairing(1, 2, true, true, d(2026, 1, 1), d(2026, 1, 1)),
            Err(PairingError::EndsBeforeStart { .. })
        ));
        assert_eq!(check_pairing(1, 2, true, true, d(2026, 1, 1), d(2031, 1, 1)), Ok(()));
        assert_eq!(check_pairing(1, 2, true, true, d(2026, 1, 1), d(2031, 1, 2)), Err(PairingError::TooLong(5)));
        assert_eq!(
            check_pairing(1, 2, true, false, d(2026, 1, 1), d(2027, 1, 1)),
            Err(PairingError::Inactive("受助方"))
        );
        assert!(check_pairing(1, 2, true, true, d(2026, 1, 1), d(2025, 1, 1))
            .unwrap_err()
            .to_string()
            .contains("必须晚于"));
    }
}
