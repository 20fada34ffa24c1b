//! The [`Checker`]: every field rule of registration (and, in `edits`, of edits), with the
//! region, organization and skill-dictionary lookups cached; and the valid entries it gives.

use std::collections::HashMap;

use chrono::NaiveDate;
use wushe_domain::codes::citizen_id::CitizenId;
use wushe_domain::codes::division::{DivisionCode, Level};
use wushe_domain::registry::person::{
    self as rules, BeneficiaryCategory, CredentialLevel, PersonRole, SkillDictionary,
};
use wushe_store::regions;
use wushe_store::registry::organizations as orgs;
use wushe_store::registry::skills;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::service::registry::today;
use crate::state::AppState;

use super::{date, ferr, opt, text, BeneficiaryInput, FieldError, PersonInput, SocialWorkerInput, VolunteerInput};

#[derive(Debug, Clone)]
pub struct ValidPerson {
    pub name: String,
    pub id: CitizenId,
    pub phone: Option<String>,
    pub code: DivisionCode,
    pub address: Option<String>,
}

#[derive(Debug, Clone)]
pub enum ValidRole {
    Volunteer {
        /// Skill keys.
        skills: Vec<String>,
        availability: Option<String>,
        location: Option<(i64, i64)>,
        guardian: Option<(String, String, NaiveDate)>,
        organization_id: Option<i64>,
    },
    SocialWorker {
        level: CredentialLevel,
        certificate_number: Option<String>,
        registered_on: NaiveDate,
        ce_hours: i64,
        employer_org_id: Option<i64>,
        station_code: Option<String>,
    },
    Beneficiary {
        categories: Vec<BeneficiaryCategory>,
        guardian: Option<(String, String, Option<String>)>,
        consent: (String, NaiveDate),
        serving_org_id: Option<i64>,
    },
}

impl ValidRole {
    pub fn role(&self) -> PersonRole {
        match self {
            ValidRole::Volunteer { .. } => PersonRole::Volunteer,
            ValidRole::SocialWorker { .. } => PersonRole::SocialWorker,
            ValidRole::Beneficiary { .. } => PersonRole::Beneficiary,
        }
    }

    pub(super) fn organization(&self) -> Option<i64> {
        match self {
            ValidRole::Volunteer { organization_id, .. } => *organization_id,
            ValidRole::SocialWorker { employer_org_id, .. } => *employer_org_id,
            ValidRole::Beneficiary { serving_org_id, .. } => *serving_org_id,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ValidEntry {
    pub person: ValidPerson,
    pub role: ValidRole,
}

/// Validates input rows for one user, caching the region and organization checks (an
/// import of 100,000 rows touches a few thousand villages) and the skill dictionary (loaded
/// once per request or import). Registration and edits check each field with the same rule.
pub struct Checker<'a> {
    pub(super) state: &'a AppState,
    pub(super) user: &'a CurrentUser,
    pub(super) today: NaiveDate,
    regions: HashMap<String, bool>,
    orgs: HashMap<i64, bool>,
    skills: Option<SkillDictionary>,
}

impl<'a> Checker<'a> {
    pub fn new(state: &'a AppState, user: &'a CurrentUser) -> Checker<'a> {
        Checker { state, user, today: today(), regions: HashMap::new(), orgs: HashMap::new(), skills: None }
    }

    async fn region_exists(&mut self, code: &DivisionCode) -> Result<bool, AppError> {
        if let Some(&b) = self.regions.get(code.full()) {
            return Ok(b);
        }
        let b = regions::exists(&self.state.db, code).await?;
        self.regions.insert(code.full().to_string(), b);
        Ok(b)
    }

    async fn org_in_scope(&mut self, id: i64) -> Result<bool, AppError> {
        if let Some(&b) = self.orgs.get(&id) {
            return Ok(b);
        }
        let b = match orgs::get_organization(&self.state.db, &self.user.scope(), id).await {
            Ok(_) => true,
            Err(wushe_store::StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        self.orgs.insert(id, b);
        Ok(b)
    }

    /// The skill dictionary, loaded on first use.
    pub async fn skill_dictionary(&mut self) -> Result<&SkillDictionary, AppError> {
        if self.skills.is_none() {
            self.skills = Some(skills::dictionary(&self.state.db).await?);
        }
        Ok(self.skills.get_or_insert_with(Default::default))
    }

    /// The organization a record is tied to: organization staff always act for their own.
    pub(super) async fn organization(
        &mut self,
        errs: &mut Vec<FieldError>,
        field: &str,
        given: Option<i64>,
    ) -> Result<Option<i64>, AppError> {
        if let Some(own) = self.user.organization_id {
            if given.is_some_and(|g| g != own) {
                errs.push(ferr(field, "组织工作人员只能填写本组织，不能指定其他组织"));
            }
            return Ok(Some(own));
        }
        match given {
            Some(id) if !self.org_in_scope(id).await? => {
                errs.push(ferr(field, format!("组织 {id} 不存在或不在您的管辖范围内")));
                Ok(None)
            }
            other => Ok(other),
        }
    }

    /// 联系电话: a mobile or landline, normalized.
    pub(super) fn phone(&self, errs: &mut Vec<FieldError>, s: &Option<String>, required: bool) -> Option<String> {
        match opt(s) {
            Some(ph) => rules::normalize_phone(ph).map_err(|m| errs.push(ferr("联系电话", m))).ok(),
            None => {
                if required {
                    errs.push(ferr("联系电话", "不能为空"));
                }
                None
            }
        }
    }

    /// 所在区划: a current division, county level or below, inside the user's region (not
    /// checked for organization staff, whose people may live anywhere).
    pub(super) async fn home_region(
        &mut self,
        errs: &mut Vec<FieldError>,
        input: &str,
    ) -> Result<Option<DivisionCode>, AppError> {
        Ok(match DivisionCode::parse(input.trim()) {
            Err(e) => {
                errs.push(ferr(
                    "所在区划",
                    if input.trim().is_empty() { "不能为空".to_string() } else { e.to_string() },
                ));
                None
            }
            Ok(c) if c.level() < Level::County => {
                errs.push(ferr("所在区划", "应填写到区县或以下（街道、乡镇、社区、村）"));
                None
            }
            Ok(c) if self.user.organization_id.is_none() && !self.user.covers(c.prefix()) => {
                errs.push(ferr("所在区划", format!("{} 不在您的管辖范围内", c.prefix())));
                None
            }
            Ok(c) if !self.region_exists(&c).await? => {
                errs.push(ferr("所在区划", format!("区划代码 {} 不存在", c.prefix())));
                None
            }
            Ok(c) => Some(c),
        })
    }

    async fn person(
        &mut self,
        errs: &mut Vec<FieldError>,
        p: &PersonInput,
        phone_required: bool,
    ) -> Result<Option<ValidPerson>, AppError> {
        let name = rules::normalize_name(&p.name).map_err(|m| errs.push(ferr("姓名", m))).ok();
        let id =
            CitizenId::parse(&p.citizen_id, self.today).map_err(|e| errs.push(ferr("身份证号", e.to_string()))).ok();
        let phone = self.phone(errs, &p.phone, phone_required);
        let code = self.home_region(errs, &p.division_code).await?;
        let address = text(errs, "住址", &p.address, 200);
        Ok(match (name, id, code) {
            (Some(name), Some(id), Some(code)) => Some(ValidPerson { name, id, phone, code, address }),
            _ => None,
        })
    }

    pub(super) fn guardian_phone(
        &self,
        errs: &mut Vec<FieldError>,
        s: &Option<String>,
        required: bool,
    ) -> Option<String> {
        match opt(s) {
            Some(ph) => rules::normalize_phone(ph).map_err(|m| errs.push(ferr("监护人电话", m))).ok(),
            None => {
                if required {
                    errs.push(ferr("监护人电话", "未成年人必须填写监护人电话"));
                }
                None
            }
        }
    }

    /// 技能: keys or labels of active skills (lists as typed in a form or a cell). Skills in
    /// `held` are kept even if deactivated since: a volunteer keeps what they have.
    pub(super) async fn skill_keys(
        &mut self,
        errs: &mut Vec<FieldError>,
        input: &[String],
        held: &[&str],
    ) -> Result<Vec<String>, AppError> {
        let dict = self.skill_dictionary().await?;
        let mut keys: Vec<String> = Vec::new();
        for s in input {
            let found = rules::parse_list(s, |part| {
                dict.find(part).filter(|e| e.active || held.contains(&e.key.as_str())).map(|e| e.key.as_str())
            });
            match found {
                Ok(list) => {
                    for k in list {
                        if !keys.iter().any(|x| x == k) {
                            keys.push(k.to_string());
                        }
                    }
                }
                Err(bad) => errs.push(ferr("技能", format!("「{bad}」不在技能字典中"))),
            }
        }
        Ok(keys)
    }

    /// 位置: latitude and longitude together, inside China, in millionths of a degree.
    pub(super) fn location(errs: &mut Vec<FieldError>, lat: Option<f64>, lng: Option<f64>) -> Option<(i64, i64)> {
        match (lat, lng) {
            (None, None) => None,
            (Some(lat), Some(lng)) if (3.0..=54.0).contains(&lat) && (73.0..=136.0).contains(&lng) => {
                Some(((lat * 1e6).round() as i64, (lng * 1e6).round() as i64))
            }
            (Some(_), Some(_)) => {
                errs.push(ferr("位置", "经纬度不在我国范围内（纬度 3–54，经度 73–136）"));
                None
            }
            _ => {
                errs.push(ferr("位置", "纬度和经度须同时填写"));
                None
            }
        }
    }

    pub(super) fn credential_level(errs: &mut Vec<FieldError>, s: &str) -> Option<CredentialLevel> {
        let level = CredentialLevel::parse(s);
        if level.is_none() {
            errs.push(ferr(
                "资格等级",
                format!("「{}」不是有效的等级，应为助理社会工作师、社会工作师或高级社会工作师", s.trim()),
            ));
        }
        level
    }

    pub(super) fn certificate_number(errs: &mut Vec<FieldError>, s: &Option<String>) -> Option<String> {
        match opt(s) {
            Some(c) if c.len() > 40 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') => {
                errs.push(ferr("证书编号", "只能包含字母、数字和短横线，不超过 40 位"));
                None
            }
            Some(c) => Some(c.to_ascii_uppercase()),
            None => None,
        }
    }

    pub(super) fn ce_hours(errs: &mut Vec<FieldError>, hours: i64) -> i64 {
        if !(0..=2000).contains(&hours) {
            errs.push(ferr("继续教育学时", "应为 0–2000 之间的整数"));
        }
        hours
    }

    /// 所在社工站: a current township inside the user's region, as a 12-digit code.
    pub(super) async fn station(
        &mut self,
        errs: &mut Vec<FieldError>,
        s: &Option<String>,
    ) -> Result<Option<String>, AppError> {
        let Some(s) = opt(s) else { return Ok(None) };
        Ok(match DivisionCode::parse(s) {
            Ok(c) if c.level() != Level::Township => {
                errs.push(ferr("所在社工站", "应为街道或乡镇的区划代码（9 位）"));
                None
            }
            Ok(c) if self.user.organization_id.is_none() && !self.user.covers(c.prefix()) => {
                errs.push(ferr("所在社工站", format!("{} 不在您的管辖范围内", c.prefix())));
                None
            }
            Ok(c) if !self.region_exists(&c).await? => {
                errs.push(ferr("所在社工站", format!("区划代码 {} 不存在", c.prefix())));
                None
            }
            Ok(c) => Some(c.full().to_string()),
            Err(e) => {
                errs.push(ferr("所在社工站", e.to_string()));
                None
            }
        })
    }

    /// 对象类别: at least one.
    pub(super) fn categories(errs: &mut Vec<FieldError>, input: &[String]) -> Vec<BeneficiaryCategory> {
        let mut categories = Vec::new();
        for s in input {
            match rules::parse_list(s, BeneficiaryCategory::parse) {
                Ok(list) => categories.extend(list.into_iter().filter(|k| !categories.contains(k)).collect::<Vec<_>>()),
                Err(bad) => errs.push(ferr("对象类别", format!("「{bad}」不是有效的类别"))),
            }
        }
        if categories.is_empty() && !errs.iter().any(|e| e.field == "对象类别") {
            errs.push(ferr("对象类别", "至少选择一个类别"));
        }
        categories
    }

    pub async fn volunteer(&mut self, input: &VolunteerInput) -> Result<Result<ValidEntry, Vec<FieldError>>, AppError> {
        let mut errs = Vec::new();
        let person = self.person(&mut errs, &input.person, true).await?;
        let skills = self.skill_keys(&mut errs, &input.skills, &[]).await?;
        let availability = text(&mut errs, "服务时间", &input.availability, 100);
        let location = Self::location(&mut errs, input.latitude, input.longitude);
        let minor = person.as_ref().is_some_and(|p| rules::needs_guardian(p.id.age_on(self.today)));
        let guardian = if minor {
            let name = text(&mut errs, "监护人姓名", &input.guardian_name, 30);
            if name.is_none() && opt(&input.guardian_name).is_none() {
                errs.push(ferr("监护人姓名", "未成年人登记为志愿者须经监护人同意，请填写监护人"));
            }
            let phone = self.guardian_phone(&mut errs, &input.guardian_phone, true);
            let on = match opt(&input.guardian_consent_on) {
                Some(d) => date(&mut errs, "监护人同意日期", d, self.today),
                None => {
                    errs.push(ferr("监护人同意日期", "未成年人须记录监护人同意的日期"));
                    None
                }
            };
            match (name, phone, on) {
                (Some(n), Some(p), Some(d)) => Some((n, p, d)),
                _ => None,
            }
        } else {
            None
        };
        let organization_id = self.organization(&mut errs, "所属组织", input.organization_id).await?;
        Ok(match person {
            Some(person) if errs.is_empty() => Ok(ValidEntry {
                person,
                role: ValidRole::Volunteer { skills, availability, location, guardian, organization_id },
            }),
            _ => Err(errs),
        })
    }

    pub async fn social_worker(
        &mut self,
        input: &SocialWorkerInput,
    ) -> Result<Result<ValidEntry, Vec<FieldError>>, AppError> {
        let mut errs = Vec::new();
        let person = self.person(&mut errs, &input.person, true).await?;
        if person.as_ref().is_some_and(|p| p.id.age_on(self.today) < rules::ADULT_AGE) {
            errs.push(ferr("身份证号", "社会工作者应年满 18 周岁"));
        }
        let level = Self::credential_level(&mut errs, &input.credential_level);
        let certificate_number = Self::certificate_number(&mut errs, &input.certificate_number);
        let registered_on = date(&mut errs, "登记日期", &input.registered_on, self.today);
        let ce_hours = Self::ce_hours(&mut errs, input.ce_hours.unwrap_or(0));
        let employer_org_id = self.organization(&mut errs, "所在机构", input.employer_org_id).await?;
        let station_code = self.station(&mut errs, &input.station_code).await?;
        Ok(match (person, level, registered_on) {
            (Some(person), Some(level), Some(registered_on)) if errs.is_empty() => Ok(ValidEntry {
                person,
                role: ValidRole::SocialWorker {
                    level,
                    certificate_number,
                    registered_on,
                    ce_hours,
                    employer_org_id,
                    station_code,
                },
            }),
            _ => Err(errs),
        })
    }

    pub async fn beneficiary(
        &mut self,
        input: &BeneficiaryInput,
    ) -> Result<Result<ValidEntry, Vec<FieldError>>, AppError> {
        let mut errs = Vec::new();
        let person = self.person(&mut errs, &input.person, false).await?;
        let categories = Self::categories(&mut errs, &input.categories);
        let minor = person.as_ref().is_some_and(|p| rules::needs_guardian(p.id.age_on(self.today)));
        let gname = text(&mut errs, "监护人姓名", &input.guardian_name, 30);
        let relation = text(&mut errs, "监护关系", &input.guardian_relation, 20);
        let gphone = self.guardian_phone(&mut errs, &input.guardian_phone, minor);
        if minor && gname.is_none() {
            errs.push(ferr("监护人姓名", "未成年人必须填写监护人"));
        }
        if minor && relation.is_none() {
            errs.push(ferr("监护关系", "未成年人必须填写与监护人的关系"));
        }
        let guardian = match (gname, relation) {
            (Some(n), Some(r)) => Some((n, r, gphone)),
            (Some(n), None) => Some((n, String::new(), gphone)),
            _ => None,
        };
        let given_by = input.consent_given_by.trim();
        if given_by.is_empty() {
            errs.push(ferr("同意人", "须记录本人（或未成年人的监护人）同意采集信息"));
        } else if given_by.chars().count() > 30 {
            errs.push(ferr("同意人", "不能超过 30 个字符"));
        }
        let consent_on = date(&mut errs, "同意日期", &input.consent_on, self.today);
        let serving_org_id = self.organization(&mut errs, "服务机构", input.serving_org_id).await?;
        Ok(match (person, consent_on) {
            (Some(person), Some(on)) if errs.is_empty() => Ok(ValidEntry {
                person,
                role: ValidRole::Beneficiary {
                    categories,
                    guardian,
                    consent: (given_by.to_string(), on),
                    serving_org_id,
                },
            }),
            _ => Err(errs),
        })
    }
}
