//! People use cases: registering volunteers, social workers and beneficiaries (one person
//! record per citizen ID, several roles), scoped lists and details with masked data, the
//! audited full view, and exports. The bulk import validates and writes through the same
//! functions ([`Checker`], [`plan`], [`apply`]).

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use wushe_domain::codes::citizen_id::{CitizenId, Gender};
use wushe_domain::codes::division::{DivisionCode, Level};
use wushe_domain::privacy::mask;
use wushe_domain::registry::person::{
    self as rules, BeneficiaryCategory, CredentialLevel, PersonRole, SkillDictionary,
};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::registry::organizations as orgs;
use wushe_store::registry::people::{
    self as store, ExistingPerson, NewBeneficiary, NewConsent, NewPerson, NewSocialWorker, NewVolunteer, PeopleFilter,
    PersonRow,
};
use wushe_store::registry::skills;
use wushe_store::{regions, Page, Paged, Tx};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::registry::today;
use crate::state::AppState;

/// A field that failed a rule: the field's Chinese name (also the import column) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn ferr(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.to_string(), message: message.into() }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> AppError {
        AppError::validation(e.field, e.message)
    }
}

/// Who may work with people in which role.
pub fn require_role(user: &CurrentUser, role: PersonRole, writing: bool) -> Result<(), AppError> {
    let allowed = user.role.works_with_people()
        && !(writing && role == PersonRole::SocialWorker && !user.role.registers_social_workers());
    user.require(allowed)
}

/// Personal facts common to every role.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PersonInput {
    /// 姓名 (2–30 characters; Chinese, Latin letters, `·`).
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub name: String,
    /// 公民身份号码 (18 characters, check digit verified). Gender and birth date come from it.
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub citizen_id: String,
    /// 联系电话: mobile or landline with area code.
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub phone: Option<String>,
    /// Home region: a current division code, county level or below (down to village).
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub division_code: String,
    #[serde(deserialize_with = "crate::text::line::opt", default)]
    #[schema(max_length = 200)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct VolunteerInput {
    #[serde(flatten)]
    pub person: PersonInput,
    /// Skill keys or labels from the dictionary (`GET /api/v1/dictionaries/skills`).
    #[serde(deserialize_with = "crate::text::label::many", default)]
    pub skills: Vec<String>,
    /// e.g. 周末上午, 工作日晚上.
    #[serde(deserialize_with = "crate::text::line::opt", default)]
    #[schema(max_length = 200)]
    pub availability: Option<String>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    /// Required for minors (under 18): guardian's name, phone and date of consent.
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_name: Option<String>,
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_phone: Option<String>,
    /// YYYY-MM-DD
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_consent_on: Option<String>,
    /// Organization the volunteer joins (organization staff: always their own).
    #[serde(default)]
    pub organization_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SocialWorkerInput {
    #[serde(flatten)]
    pub person: PersonInput,
    /// assistant | intermediate | senior (or 助理社会工作师 / 社会工作师 / 高级社会工作师).
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub credential_level: String,
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub certificate_number: Option<String>,
    /// Registration date (YYYY-MM-DD); valid for 3 years.
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub registered_on: String,
    /// Continuing-education hours in the current cycle.
    #[serde(default)]
    pub ce_hours: Option<i64>,
    /// Employer (organization staff: always their own).
    #[serde(default)]
    pub employer_org_id: Option<i64>,
    /// Township (街道/乡镇) code of the social-work station.
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub station_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct BeneficiaryInput {
    #[serde(flatten)]
    pub person: PersonInput,
    /// Category keys or labels, at least one (低保, 特困, 留守老人 …).
    #[serde(default, deserialize_with = "crate::text::label::many")]
    pub categories: Vec<String>,
    /// Required for minors.
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_name: Option<String>,
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_relation: Option<String>,
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub guardian_phone: Option<String>,
    /// Who consented to the processing of the data (the person, or the guardian of a minor).
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub consent_given_by: String,
    /// YYYY-MM-DD
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub consent_on: String,
    /// Serving organization (organization staff: always their own).
    #[serde(default)]
    pub serving_org_id: Option<i64>,
}

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

    fn organization(&self) -> Option<i64> {
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

fn opt(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn text(errs: &mut Vec<FieldError>, field: &str, s: &Option<String>, max: usize) -> Option<String> {
    let v = opt(s)?;
    if v.chars().count() > max {
        errs.push(ferr(field, format!("不能超过 {max} 个字符")));
        return None;
    }
    Some(v.to_string())
}

fn date(errs: &mut Vec<FieldError>, field: &str, s: &str, today: NaiveDate) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        Err(_) => {
            errs.push(ferr(field, if s.trim().is_empty() { "不能为空" } else { "日期格式应为 YYYY-MM-DD" }));
            None
        }
        Ok(d) if d > today => {
            errs.push(ferr(field, "不能晚于今天"));
            None
        }
        Ok(d) => Some(d),
    }
}

/// Validates input rows for one user, caching the region and organization checks (an
/// import of 100,000 rows touches a few thousand villages) and the skill dictionary (loaded
/// once per request or import). Registration and edits check each field with the same rule.
pub struct Checker<'a> {
    state: &'a AppState,
    user: &'a CurrentUser,
    today: NaiveDate,
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
    async fn organization(
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
    fn phone(&self, errs: &mut Vec<FieldError>, s: &Option<String>, required: bool) -> Option<String> {
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
    async fn home_region(&mut self, errs: &mut Vec<FieldError>, input: &str) -> Result<Option<DivisionCode>, AppError> {
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

    fn guardian_phone(&self, errs: &mut Vec<FieldError>, s: &Option<String>, required: bool) -> Option<String> {
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
    async fn skill_keys(
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
    fn location(errs: &mut Vec<FieldError>, lat: Option<f64>, lng: Option<f64>) -> Option<(i64, i64)> {
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

    fn credential_level(errs: &mut Vec<FieldError>, s: &str) -> Option<CredentialLevel> {
        let level = CredentialLevel::parse(s);
        if level.is_none() {
            errs.push(ferr(
                "资格等级",
                format!("「{}」不是有效的等级，应为助理社会工作师、社会工作师或高级社会工作师", s.trim()),
            ));
        }
        level
    }

    fn certificate_number(errs: &mut Vec<FieldError>, s: &Option<String>) -> Option<String> {
        match opt(s) {
            Some(c) if c.len() > 40 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') => {
                errs.push(ferr("证书编号", "只能包含字母、数字和短横线，不超过 40 位"));
                None
            }
            Some(c) => Some(c.to_ascii_uppercase()),
            None => None,
        }
    }

    fn ce_hours(errs: &mut Vec<FieldError>, hours: i64) -> i64 {
        if !(0..=2000).contains(&hours) {
            errs.push(ferr("继续教育学时", "应为 0–2000 之间的整数"));
        }
        hours
    }

    /// 所在社工站: a current township inside the user's region, as a 12-digit code.
    async fn station(&mut self, errs: &mut Vec<FieldError>, s: &Option<String>) -> Result<Option<String>, AppError> {
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
    fn categories(errs: &mut Vec<FieldError>, input: &[String]) -> Vec<BeneficiaryCategory> {
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

/// What writing one valid entry will do, decided against the people already registered.
#[derive(Debug, Clone)]
pub enum Plan {
    /// A new person with the role.
    New,
    /// An existing person takes on the role.
    AddRole(i64),
    /// An existing volunteer joins the entry's organization.
    Join(i64),
    /// Already registered in this role (and organization): nothing to write.
    Skip(i64),
    /// Cannot be written; the message names the conflict.
    Conflict(FieldError),
}

/// Decide, inside the write transaction, what each entry will do.
pub async fn plan(
    tx: &mut Tx,
    state: &AppState,
    user: &CurrentUser,
    entries: &[ValidEntry],
) -> Result<Vec<Plan>, AppError> {
    let indexes: Vec<String> = entries.iter().map(|e| store::id_index(&state.keys, &e.person.id)).collect();
    let existing: HashMap<String, ExistingPerson> =
        store::existing_by_id_index(tx, &indexes).await?.into_iter().collect();
    let mut joined: HashMap<i64, Vec<i64>> = HashMap::new();
    let vol_ids: Vec<i64> = existing.values().filter(|p| p.is_volunteer).map(|p| p.id).collect();
    for chunk in vol_ids.chunks(500) {
        for (pid, oid) in store::memberships(tx, chunk).await? {
            joined.entry(pid).or_default().push(oid);
        }
    }
    let mut out = Vec::with_capacity(entries.len());
    for (e, idx) in entries.iter().zip(&indexes) {
        let Some(p) = existing.get(idx) else {
            out.push(Plan::New);
            continue;
        };
        if p.name != e.person.name {
            out.push(Plan::Conflict(ferr(
                "身份证号",
                format!(
                    "该身份证号已登记，姓名为「{}」，与本次填写的「{}」不一致",
                    mask::mask_name(&p.name),
                    e.person.name
                ),
            )));
            continue;
        }
        let role = e.role.role();
        let holds = match role {
            PersonRole::Volunteer => p.is_volunteer,
            PersonRole::SocialWorker => p.is_social_worker,
            PersonRole::Beneficiary => p.is_beneficiary,
        };
        let org = e.role.organization();
        let plan = if !holds {
            if user.organization_id.is_none() && !user.covers(&p.division_code) {
                Plan::Conflict(ferr("身份证号", "此人已在其他地区登记，请由其所在地区办理"))
            } else {
                Plan::AddRole(p.id)
            }
        } else if role == PersonRole::Volunteer {
            match org {
                Some(o) if !joined.get(&p.id).is_some_and(|js| js.contains(&o)) => Plan::Join(p.id),
                _ => Plan::Skip(p.id),
            }
        } else {
            Plan::Skip(p.id)
        };
        out.push(plan);
    }
    Ok(out)
}

/// What [`apply`] wrote.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Written {
    /// Person ids given the role (new people and existing ones taking on the role).
    pub created: Vec<i64>,
    /// Volunteers already registered who joined the organization.
    pub joined: usize,
    /// Already registered: nothing written.
    pub skipped: usize,
}

/// Write planned entries (no conflicts allowed) in `tx`. Volunteer numbers are issued per
/// county of the home region.
pub async fn apply(
    tx: &mut Tx,
    state: &AppState,
    user: &CurrentUser,
    entries: &[ValidEntry],
    plans: &[Plan],
) -> Result<Written, AppError> {
    let new_people: Vec<NewPerson> = entries
        .iter()
        .zip(plans)
        .filter(|(_, p)| matches!(p, Plan::New))
        .map(|(e, _)| NewPerson {
            name: e.person.name.clone(),
            citizen_id: e.person.id.clone(),
            phone: e.person.phone.clone(),
            division_code: e.person.code.full().to_string(),
            address: e.person.address.clone(),
        })
        .collect();
    let mut new_ids = store::insert_people(tx, &state.keys, &new_people).await?.into_iter();
    let mut written = Written::default();
    let mut vols = Vec::new();
    let mut sws = Vec::new();
    let mut bens = Vec::new();
    let mut consents = Vec::new();
    let mut joins = Vec::new();
    let today = today();
    for (e, p) in entries.iter().zip(plans) {
        let pid = match p {
            Plan::New => new_ids.next().ok_or_else(|| AppError::internal("人员编号数量不符"))?,
            Plan::AddRole(id) => *id,
            Plan::Join(id) => {
                joins.push((*id, e.role.organization().unwrap_or_default(), today));
                written.joined += 1;
                continue;
            }
            Plan::Skip(_) => {
                written.skipped += 1;
                continue;
            }
            Plan::Conflict(c) => return Err(c.clone().into()),
        };
        written.created.push(pid);
        match &e.role {
            ValidRole::Volunteer { skills, availability, location, guardian, organization_id } => {
                if let Some((gname, _, on)) = guardian {
                    consents.push(NewConsent {
                        person_id: pid,
                        purpose: "guardian".into(),
                        given_by: gname.clone(),
                        given_on: *on,
                        note: Some("监护人同意未成年人参加志愿服务".into()),
                        recorded_by: Some(user.id),
                    });
                }
                vols.push(NewVolunteer {
                    person_id: pid,
                    county: e.person.code.full()[..6].to_string(),
                    skills: skills.clone(),
                    availability: availability.clone(),
                    latitude_e6: location.map(|l| l.0),
                    longitude_e6: location.map(|l| l.1),
                    guardian_name: guardian.as_ref().map(|g| g.0.clone()),
                    guardian_phone: guardian.as_ref().map(|g| g.1.clone()),
                    registered_on: today,
                    organization_id: *organization_id,
                });
            }
            ValidRole::SocialWorker {
                level,
                certificate_number,
                registered_on,
                ce_hours,
                employer_org_id,
                station_code,
            } => {
                sws.push(NewSocialWorker {
                    person_id: pid,
                    credential_level: level.as_str().to_string(),
                    certificate_number: certificate_number.clone(),
                    registered_on: *registered_on,
                    ce_hours: *ce_hours,
                    employer_org_id: *employer_org_id,
                    station_code: station_code.clone(),
                });
            }
            ValidRole::Beneficiary { categories, guardian, consent, serving_org_id } => {
                consents.push(NewConsent {
                    person_id: pid,
                    purpose: "personal_data".into(),
                    given_by: consent.0.clone(),
                    given_on: consent.1,
                    note: Some("同意采集和使用个人信息用于社会救助与服务".into()),
                    recorded_by: Some(user.id),
                });
                bens.push(NewBeneficiary {
                    person_id: pid,
                    categories: categories.iter().map(|c| c.as_str().to_string()).collect(),
                    guardian_name: guardian.as_ref().map(|g| g.0.clone()),
                    guardian_relation: guardian.as_ref().map(|g| g.1.clone()).filter(|r| !r.is_empty()),
                    guardian_phone: guardian.as_ref().and_then(|g| g.2.clone()),
                    serving_org_id: *serving_org_id,
                });
            }
        }
    }
    store::insert_volunteers(tx, &state.keys, &vols).await?;
    store::insert_social_workers(tx, &sws).await?;
    store::insert_beneficiaries(tx, &state.keys, &bens).await?;
    store::insert_consents(tx, &consents).await?;
    store::join_organizations(tx, &joins).await?;
    Ok(written)
}

/// Register one person in a role (API and form): validation, de-duplication, audit.
pub async fn register(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    entry: Result<ValidEntry, Vec<FieldError>>,
) -> Result<i64, AppError> {
    let entry = entry.map_err(|mut errs| AppError::from(errs.remove(0)))?;
    let role = entry.role.role();
    require_role(user, role, true)?;
    let mut tx = state.db.begin().await?;
    let plans = plan(&mut tx, state, user, std::slice::from_ref(&entry)).await?;
    let id = match &plans[0] {
        Plan::Conflict(c) => return Err(AppError::Conflict(c.message.clone())),
        Plan::Skip(id) => {
            return Err(AppError::Conflict(format!("此人已登记为{}（人员编号 {id}），无需重复登记", role.label())))
        }
        Plan::New | Plan::AddRole(_) | Plan::Join(_) => {
            let w = apply(&mut tx, state, user, std::slice::from_ref(&entry), &plans).await?;
            match &plans[0] {
                Plan::Join(id) => *id,
                _ => w.created[0],
            }
        }
    };
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: if matches!(plans[0], Plan::Join(_)) { "join" } else { "create" },
            entity: role.as_str(),
            entity_id: Some(id.to_string()),
            division_code: entry.person.code.full(),
            organization_id: entry.role.organization(),
            summary: serde_json::json!({"after": {"name": entry.person.name,
                "citizen_id": mask::mask_id_number(entry.person.id.as_str()),
                "division_code": entry.person.code.prefix(), "existing_person": !matches!(plans[0], Plan::New)}}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A person in one role as lists and details show them: masked personal data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: i64,
    pub name: String,
    /// male | female (from the ID number)
    pub gender: String,
    pub gender_label: String,
    pub birth_date: NaiveDate,
    pub age: u32,
    /// Masked: 420106********123X
    pub citizen_id: String,
    /// Masked: 138****5678
    pub phone: Option<String>,
    /// Significant digits of the home region.
    pub division_code: String,
    pub region_name: Option<String>,
    pub address: Option<String>,
    pub registered_at: String,
    /// The day this role ended (e.g. a beneficiary no longer served); absent while it goes on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volunteer: Option<VolunteerFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_worker: Option<SocialWorkerFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<BeneficiaryFacts>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Labelled {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VolunteerFacts {
    /// 志愿者编号 (never the ID number).
    pub volunteer_number: String,
    pub skills: Vec<Labelled>,
    pub availability: Option<String>,
    pub guardian_name: Option<String>,
    /// Masked.
    pub guardian_phone: Option<String>,
    pub registered_on: Option<NaiveDate>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SocialWorkerFacts {
    pub credential_level: String,
    pub credential_label: String,
    pub certificate_number: Option<String>,
    pub registered_on: Option<NaiveDate>,
    /// Last day of the 3-year registration.
    pub valid_until: Option<NaiveDate>,
    pub registration_valid: bool,
    pub ce_hours: i64,
    /// 72 (助理社会工作师) or 90 hours per cycle.
    pub ce_required: u32,
    pub ce_met: bool,
    pub employer_org_id: Option<i64>,
    pub employer_name: Option<String>,
    pub station_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BeneficiaryFacts {
    pub categories: Vec<Labelled>,
    pub guardian_name: Option<String>,
    pub guardian_relation: Option<String>,
    /// Masked.
    pub guardian_phone: Option<String>,
    pub serving_org_id: Option<i64>,
    pub serving_org_name: Option<String>,
}

/// Keys stored comma-separated, with their labels (`label` maps a key to its label).
fn labelled<'a>(csv: Option<&'a str>, label: impl Fn(&'a str) -> Option<String>) -> Vec<Labelled> {
    csv.unwrap_or_default()
        .split(',')
        .filter(|k| !k.is_empty())
        .filter_map(|k| label(k).map(|l| Labelled { key: k.to_string(), label: l }))
        .collect()
}

impl PersonView {
    /// `skills` gives the labels of volunteers' skills (the dictionary administrators keep).
    pub fn from_row(
        r: PersonRow,
        role: PersonRole,
        region_name: Option<String>,
        skills: &SkillDictionary,
    ) -> PersonView {
        let today = today();
        let age = {
            let mut a = chrono::Datelike::year(&today) - chrono::Datelike::year(&r.birth_date);
            if (chrono::Datelike::month(&today), chrono::Datelike::day(&today))
                < (chrono::Datelike::month(&r.birth_date), chrono::Datelike::day(&r.birth_date))
            {
                a -= 1;
            }
            u32::try_from(a).unwrap_or(0)
        };
        let volunteer = (role == PersonRole::Volunteer).then(|| VolunteerFacts {
            volunteer_number: r.volunteer_number.clone().unwrap_or_default(),
            skills: labelled(r.skills.as_deref(), |k| Some(skills.label(k).to_string())),
            availability: r.availability.clone(),
            guardian_name: r.guardian_name.clone(),
            guardian_phone: r.guardian_phone_masked.clone(),
            registered_on: r.registered_on,
            latitude: r.latitude_e6.map(|v| v as f64 / 1e6),
            longitude: r.longitude_e6.map(|v| v as f64 / 1e6),
        });
        let social_worker = (role == PersonRole::SocialWorker).then(|| {
            let level =
                r.credential_level.as_deref().and_then(CredentialLevel::parse).unwrap_or(CredentialLevel::Assistant);
            let hours = r.ce_hours.unwrap_or(0);
            let (required, met) = rules::ce_status(level, u32::try_from(hours).unwrap_or(0));
            let valid_until = r.registered_on.map(rules::registration_valid_until);
            SocialWorkerFacts {
                credential_level: level.as_str().to_string(),
                credential_label: level.label().to_string(),
                certificate_number: r.certificate_number.clone(),
                registered_on: r.registered_on,
                registration_valid: valid_until.is_some_and(|v| v >= today),
                valid_until,
                ce_hours: hours,
                ce_required: required,
                ce_met: met,
                employer_org_id: r.employer_org_id,
                employer_name: r.employer_name.clone(),
                station_code: r
                    .station_code
                    .as_deref()
                    .and_then(|c| DivisionCode::parse(c).ok())
                    .map(|c| c.prefix().to_string()),
            }
        });
        let beneficiary = (role == PersonRole::Beneficiary).then(|| BeneficiaryFacts {
            categories: labelled(r.categories.as_deref(), |k| {
                BeneficiaryCategory::parse(k).map(|c| c.label().to_string())
            }),
            guardian_name: r.guardian_name.clone(),
            guardian_relation: r.guardian_relation.clone(),
            guardian_phone: r.guardian_phone_masked.clone(),
            serving_org_id: r.serving_org_id,
            serving_org_name: r.serving_org_name.clone(),
        });
        let gender_label = if r.gender == "male" { Gender::Male.label() } else { Gender::Female.label() };
        PersonView {
            id: r.id,
            name: r.name,
            gender_label: gender_label.to_string(),
            gender: r.gender,
            birth_date: r.birth_date,
            age,
            citizen_id: r.id_masked,
            phone: r.phone_masked,
            division_code: DivisionCode::parse(&r.division_code)
                .map(|c| c.prefix().to_string())
                .unwrap_or(r.division_code),
            region_name,
            address: r.address,
            registered_at: wushe_domain::time::format_local(r.created_at, "%Y-%m-%d %H:%M"),
            ended_on: r.ended_on,
            end_reason: r.end_reason,
            volunteer,
            social_worker,
            beneficiary,
        }
    }
}

/// Region names for a page of people, from township down ("街道 社区"): one query for every
/// code on the page and their parents.
async fn region_names(state: &AppState, rows: &[PersonRow]) -> Result<HashMap<String, String>, AppError> {
    let codes: Vec<(String, DivisionCode)> = rows
        .iter()
        .filter_map(|r| DivisionCode::parse(&r.division_code).ok().map(|c| (r.division_code.clone(), c)))
        .collect();
    let wanted: Vec<DivisionCode> =
        codes.iter().flat_map(|(_, c)| c.ancestors().into_iter().chain(std::iter::once(c.clone()))).collect();
    let found = regions::get_many(&state.db, &wanted).await?;
    let mut out = HashMap::new();
    for (raw, c) in codes {
        let parents = c.ancestors().into_iter().filter_map(|a| found.get(a.prefix())).filter(|d| d.level >= 3);
        let names: Vec<&str> = parents.chain(found.get(c.prefix())).map(|d| d.name.as_str()).collect();
        out.insert(raw, names.join(" "));
    }
    Ok(out)
}

/// A volunteer list's skill filter as a key: the API and the UI pass a key or a label, checked
/// against the dictionary (retired skills included, since volunteers still hold them).
fn resolve_kind(dict: &SkillDictionary, role: PersonRole, filter: &PeopleFilter) -> Result<PeopleFilter, AppError> {
    let mut f = filter.clone();
    if role == PersonRole::Volunteer {
        if let Some(k) = filter.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            let e = dict.find(k).ok_or_else(|| AppError::validation("skill", format!("未知的技能「{k}」")))?;
            f.kind = Some(e.key.clone());
        }
    }
    Ok(f)
}

pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    role: PersonRole,
    filter: &PeopleFilter,
    page: &Page,
) -> Result<Paged<PersonView>, AppError> {
    require_role(user, role, false)?;
    let dict = skills::dictionary(&state.db).await?;
    let filter = resolve_kind(&dict, role, filter)?;
    let res = store::list(&state.db, &state.keys, &user.scope(), role, &filter, page).await?;
    let names = region_names(state, &res.items).await?;
    Ok(Paged {
        items: res
            .items
            .into_iter()
            .map(|r| {
                let n = names.get(&r.division_code).cloned();
                PersonView::from_row(r, role, n, &dict)
            })
            .collect(),
        total: res.total,
        capped: res.capped,
        page: res.page,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgRef {
    pub id: i64,
    pub name: String,
    pub joined_on: NaiveDate,
    /// Set for organizations the volunteer has left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    /// personal_data | guardian
    pub purpose: String,
    pub given_by: String,
    pub given_on: NaiveDate,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonDetail {
    pub person: PersonView,
    /// Volunteers: the organizations they belong to.
    pub organizations: Vec<OrgRef>,
    /// Volunteers: the organizations they have left.
    pub past_organizations: Vec<OrgRef>,
    pub consents: Vec<ConsentView>,
}

pub async fn detail(state: &AppState, user: &CurrentUser, role: PersonRole, id: i64) -> Result<PersonDetail, AppError> {
    require_role(user, role, false)?;
    let row = store::get(&state.db, &state.keys, &user.scope(), role, id).await?;
    let names = region_names(state, std::slice::from_ref(&row)).await?;
    let region = names.get(&row.division_code).cloned();
    // Organization staff see only their own organization's memberships.
    let own = |oid: i64| user.organization_id.is_none_or(|own| own == oid);
    let (organizations, past_organizations) = if role == PersonRole::Volunteer {
        let current = store::organizations_of(&state.db, id)
            .await?
            .into_iter()
            .filter(|(oid, _, _)| own(*oid))
            .map(|(id, name, joined_on)| OrgRef { id, name, joined_on, left_on: None, left_reason: None })
            .collect();
        let past = store::past_organizations_of(&state.db, id)
            .await?
            .into_iter()
            .filter(|m| own(m.organization_id))
            .map(|m| OrgRef {
                id: m.organization_id,
                name: m.name,
                joined_on: m.joined_on,
                left_on: Some(m.left_on),
                left_reason: m.reason,
            })
            .collect();
        (current, past)
    } else {
        (Vec::new(), Vec::new())
    };
    let consents = store::consents_of(&state.db, id)
        .await?
        .into_iter()
        .map(|c| ConsentView { purpose: c.purpose, given_by: c.given_by, given_on: c.given_on, note: c.note })
        .collect();
    let dict = skills::dictionary(&state.db).await?;
    Ok(PersonDetail {
        person: PersonView::from_row(row, role, region, &dict),
        organizations,
        past_organizations,
        consents,
    })
}

/// The unmasked ID number and phones, for roles whose work needs them; every view is audited.
pub async fn reveal(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    role: PersonRole,
    id: i64,
) -> Result<store::FullPersonalData, AppError> {
    require_role(user, role, false)?;
    user.require(user.role.may_view_full_personal_data())?;
    let row = store::get(&state.db, &state.keys, &user.scope(), role, id).await?;
    let full = store::reveal(&state.db, &state.keys, role, id).await?;
    audit::append_now(
        &state.db,
        &meta.actor(Some(user)),
        &Event {
            action: "view_personal_data",
            entity: role.as_str(),
            entity_id: Some(id.to_string()),
            division_code: &row.division_code,
            organization_id: user.organization_id,
            summary: serde_json::json!({"fields": ["citizen_id", "phone", "guardian_phone"], "name": mask::mask_name(&row.name)}),
        },
    )
    .await?;
    Ok(full)
}

/// Every person the filter selects in the user's scope, as an export table.
pub async fn export(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    role: PersonRole,
    filter: &PeopleFilter,
) -> Result<crate::export::Table, AppError> {
    require_role(user, role, false)?;
    let dict = skills::dictionary(&state.db).await?;
    let filter = &resolve_kind(&dict, role, filter)?;
    let rows =
        store::select_all(&state.db, &state.keys, &user.scope(), role, filter, crate::export::MAX_ROWS + 1).await?;
    crate::export::check_size(rows.len())?;
    let full = user.role.exports_full_personal_data();
    let plain = if full {
        store::reveal_many(&state.db, &state.keys, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?
    } else {
        HashMap::new()
    };
    let mut headers = vec!["姓名", "性别", "出生日期", "身份证号", "联系电话", "所在区划"];
    headers.extend(match role {
        PersonRole::Volunteer => vec!["志愿者编号", "技能", "服务时间", "监护人", "登记日期"],
        PersonRole::SocialWorker => {
            vec!["资格等级", "证书编号", "登记日期", "有效期至", "继续教育学时", "所在机构", "所在社工站"]
        }
        PersonRole::Beneficiary => vec!["对象类别", "监护人", "监护关系", "服务机构"],
    });
    // Lists of ended roles say when and why each ended.
    let with_end = filter.status != store::RoleStatus::Current;
    if with_end {
        headers.extend(["结束日期", "结束原因"]);
    }
    let n = rows.len();
    let mut out = Vec::with_capacity(n);
    for r in rows {
        let (id_no, phone) = match plain.get(&r.id) {
            Some((id, ph)) => (id.clone(), ph.clone().unwrap_or_default()),
            None => (r.id_masked.clone(), r.phone_masked.clone().unwrap_or_default()),
        };
        let v = PersonView::from_row(r, role, None, &dict);
        let mut cells = vec![v.name, v.gender_label, v.birth_date.to_string(), id_no, phone, v.division_code];
        let join = |l: &[Labelled]| l.iter().map(|x| x.label.as_str()).collect::<Vec<_>>().join("、");
        if let Some(f) = v.volunteer {
            cells.extend([
                f.volunteer_number,
                join(&f.skills),
                f.availability.unwrap_or_default(),
                f.guardian_name.unwrap_or_default(),
                f.registered_on.map(|d| d.to_string()).unwrap_or_default(),
            ]);
        }
        if let Some(f) = v.social_worker {
            cells.extend([
                f.credential_label,
                f.certificate_number.unwrap_or_default(),
                f.registered_on.map(|d| d.to_string()).unwrap_or_default(),
                f.valid_until.map(|d| d.to_string()).unwrap_or_default(),
                f.ce_hours.to_string(),
                f.employer_name.unwrap_or_default(),
                f.station_code.unwrap_or_default(),
            ]);
        }
        if let Some(f) = v.beneficiary {
            cells.extend([
                join(&f.categories),
                f.guardian_name.unwrap_or_default(),
                f.guardian_relation.unwrap_or_default(),
                f.serving_org_name.unwrap_or_default(),
            ]);
        }
        if with_end {
            cells.extend([v.ended_on.map(|d| d.to_string()).unwrap_or_default(), v.end_reason.unwrap_or_default()]);
        }
        out.push(cells);
    }
    audit::append_now(
        &state.db,
        &meta.actor(Some(user)),
        &Event {
            action: "export",
            entity: role.as_str(),
            entity_id: None,
            division_code: &user.scope_division,
            organization_id: user.organization_id,
            summary: serde_json::json!({"rows": n, "full_personal_data": full, "filter": {"q": filter.q.as_deref().map(|q| if q.chars().any(|c| c.is_ascii_digit()) { mask::mask_id_number(q) } else { q.to_string() }),
                "region": filter.region, "kind": filter.kind,
                "status": format!("{:?}", filter.status).to_lowercase()}}),
        },
    )
    .await?;
    Ok(crate::export::Table {
        title: match role {
            PersonRole::Volunteer => "志愿者",
            PersonRole::SocialWorker => "社会工作者",
            PersonRole::Beneficiary => "服务对象",
        }
        .into(),
        headers,
        rows: out,
    })
}

/// An optional field of a PATCH body: absent = unchanged, `null` = cleared (JSON merge
/// patch, RFC 7396).
fn patch<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes to the facts every role shares. Absent fields stay as they are, `null` clears
/// one. Name, citizen ID, gender and birth date cannot be changed: they come from the ID
/// number (a wrong ID number is a different person, to be registered anew).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PersonPatch {
    /// 联系电话; volunteers and social workers must keep one.
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::text::line::patch")]
    #[schema(max_length = 200, value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// New home region: a current division code inside your scope, county level or below.
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub division_code: Option<String>,
    /// End this role on the given day (YYYY-MM-DD), e.g. a beneficiary no longer served;
    /// `null` resumes it. The record is kept.
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub ended_on: Option<Option<String>>,
    /// Why the role ended.
    #[serde(deserialize_with = "crate::text::note::opt", default)]
    #[schema(max_length = 2000)]
    pub end_reason: Option<String>,
    // Present only to refuse them with a clear message.
    #[serde(default)]
    #[schema(ignore)]
    pub name: Option<serde_json::Value>,
    #[serde(default)]
    #[schema(ignore)]
    pub citizen_id: Option<serde_json::Value>,
    #[serde(default)]
    #[schema(ignore)]
    pub gender: Option<serde_json::Value>,
    #[serde(default)]
    #[schema(ignore)]
    pub birth_date: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct VolunteerPatch {
    #[serde(flatten)]
    pub person: PersonPatch,
    /// The whole new list of skill keys or labels (active skills; those already held are kept
    /// even if retired since).
    #[serde(deserialize_with = "crate::text::label::opt_many", default)]
    pub skills: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::text::line::patch")]
    #[schema(max_length = 200, value_type = Option<String>)]
    pub availability: Option<Option<String>>,
    /// Latitude and longitude are given (or cleared with `null`) together.
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<f64>)]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<f64>)]
    pub longitude: Option<Option<f64>>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SocialWorkerPatch {
    #[serde(flatten)]
    pub person: PersonPatch,
    /// assistant | intermediate | senior (or the Chinese label).
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub credential_level: Option<String>,
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub certificate_number: Option<Option<String>>,
    /// YYYY-MM-DD
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub registered_on: Option<String>,
    #[serde(default)]
    pub ce_hours: Option<i64>,
    /// Employer (organization staff cannot move a social worker to another organization).
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<i64>)]
    pub employer_org_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub station_code: Option<Option<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct BeneficiaryPatch {
    #[serde(flatten)]
    pub person: PersonPatch,
    /// The whole new list of categories, at least one.
    #[serde(deserialize_with = "crate::text::label::opt_many", default)]
    pub categories: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub guardian_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub guardian_relation: Option<Option<String>>,
    /// Send only to change it (the current number is shown masked).
    #[serde(default, deserialize_with = "crate::text::label::patch")]
    #[schema(max_length = 50, value_type = Option<String>)]
    pub guardian_phone: Option<Option<String>>,
    /// Serving organization (organization staff cannot move a beneficiary to another one).
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<i64>)]
    pub serving_org_id: Option<Option<i64>>,
}

/// An edit of one person in one role.
#[derive(Debug, Clone)]
pub enum RolePatch {
    Volunteer(VolunteerPatch),
    SocialWorker(SocialWorkerPatch),
    Beneficiary(BeneficiaryPatch),
}

impl RolePatch {
    pub fn role(&self) -> PersonRole {
        match self {
            RolePatch::Volunteer(_) => PersonRole::Volunteer,
            RolePatch::SocialWorker(_) => PersonRole::SocialWorker,
            RolePatch::Beneficiary(_) => PersonRole::Beneficiary,
        }
    }

    fn person(&self) -> &PersonPatch {
        match self {
            RolePatch::Volunteer(p) => &p.person,
            RolePatch::SocialWorker(p) => &p.person,
            RolePatch::Beneficiary(p) => &p.person,
        }
    }
}

/// A checked edit: what to write and, for the audit log, each changed field before and after
/// (phones masked).
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub person: store::PersonChanges,
    pub role: store::RoleChanges,
    pub changes: serde_json::Map<String, serde_json::Value>,
}

impl Edit {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    fn note(&mut self, field: &str, before: impl Serialize, after: impl Serialize) {
        self.changes.insert(field.into(), serde_json::json!({"before": before, "after": after}));
    }
}

/// Keys of a comma-separated column, as a sorted set (order does not make a change).
fn key_set(csv: Option<&str>) -> Vec<String> {
    let mut v: Vec<String> = csv.unwrap_or_default().split(',').filter(|k| !k.is_empty()).map(str::to_string).collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A cleared field given as `null` or as empty text (forms send empty fields).
fn cleared(v: &Option<Option<String>>) -> Option<Option<String>> {
    v.as_ref().map(|v| opt(v).map(str::to_string))
}

impl Checker<'_> {
    /// Check an edit of `current` (loaded in the user's scope) with the same field rules as
    /// registration, and work out what actually changes.
    pub async fn edit(
        &mut self,
        current: &PersonRow,
        patch: &RolePatch,
    ) -> Result<Result<Edit, Vec<FieldError>>, AppError> {
        let mut errs = Vec::new();
        let mut edit = Edit::default();
        let role = patch.role();
        let p = patch.person();
        for (given, field) in
            [(&p.name, "姓名"), (&p.citizen_id, "身份证号"), (&p.gender, "性别"), (&p.birth_date, "出生日期")]
        {
            if given.is_some() {
                errs.push(ferr(
                    field,
                    "不能修改：姓名、身份证号、性别和出生日期以身份证为准；身份证号有误的，请作为新人员登记",
                ));
            }
        }
        // Phone: compared through the blind index, audited masked.
        if let Some(given) = &p.phone {
            let required = role != PersonRole::Beneficiary;
            let phone = self.phone(&mut errs, given, required);
            let index = phone.as_deref().map(|ph| store::phone_index(&self.state.keys, ph));
            let valid = phone.is_some() || opt(given).is_none();
            if valid && index != current.phone_index {
                edit.note("phone", &current.phone_masked, phone.as_deref().map(mask::mask_phone));
                edit.person.phone = Some(phone);
            }
        }
        if let Some(given) = &p.address {
            let address = text(&mut errs, "住址", given, 200);
            if address != current.address && (address.is_some() || opt(given).is_none()) {
                edit.note("address", &current.address, &address);
                edit.person.address = Some(address);
            }
        }
        if let Some(code) = &p.division_code {
            if let Some(c) = self.home_region(&mut errs, code).await? {
                if c.full() != current.division_code {
                    let before = DivisionCode::parse(&current.division_code)
                        .map(|d| d.prefix().to_string())
                        .unwrap_or_else(|_| current.division_code.clone());
                    edit.note("division_code", before, c.prefix());
                    edit.person.division_code = Some(c.full().to_string());
                }
            }
        }
        if let Some(given) = &p.ended_on {
            let ended = match opt(given) {
                None => None,
                Some(d) => {
                    let reason = text(&mut errs, "结束原因", &p.end_reason, 100);
                    let started = wushe_domain::time::local_date(current.created_at);
                    match date(&mut errs, "结束日期", d, self.today) {
                        Some(on) if on < started => {
                            errs.push(ferr("结束日期", format!("不能早于登记日期 {started}")));
                            None
                        }
                        Some(on) => Some((on, reason)),
                        None => None,
                    }
                }
            };
            let before = current.ended_on.map(|d| (d, current.end_reason.clone()));
            let valid = ended.is_some() || opt(given).is_none();
            if valid && ended != before {
                edit.note(
                    "ended_on",
                    serde_json::json!({"on": current.ended_on, "reason": current.end_reason}),
                    serde_json::json!({"on": ended.as_ref().map(|e| e.0), "reason": ended.as_ref().and_then(|e| e.1.clone())}),
                );
                edit.role.ended = Some(ended);
            }
        }
        match patch {
            RolePatch::Volunteer(v) => self.volunteer_edit(&mut errs, &mut edit, current, v).await?,
            RolePatch::SocialWorker(v) => self.social_worker_edit(&mut errs, &mut edit, current, v).await?,
            RolePatch::Beneficiary(v) => self.beneficiary_edit(&mut errs, &mut edit, current, v).await?,
        }
        Ok(if errs.is_empty() { Ok(edit) } else { Err(errs) })
    }

    async fn volunteer_edit(
        &mut self,
        errs: &mut Vec<FieldError>,
        edit: &mut Edit,
        current: &PersonRow,
        v: &VolunteerPatch,
    ) -> Result<(), AppError> {
        if let Some(given) = &v.skills {
            let held = key_set(current.skills.as_deref());
            let held: Vec<&str> = held.iter().map(String::as_str).collect();
            let before = errs.len();
            let keys = self.skill_keys(errs, given, &held).await?;
            if errs.len() == before && sorted(keys.clone()) != key_set(current.skills.as_deref()) {
                edit.note("skills", key_set(current.skills.as_deref()), sorted(keys.clone()));
                edit.role.skills = Some(keys);
            }
        }
        if let Some(given) = &v.availability {
            let a = text(errs, "服务时间", given, 100);
            if a != current.availability && (a.is_some() || opt(given).is_none()) {
                edit.note("availability", &current.availability, &a);
                edit.role.availability = Some(a);
            }
        }
        if v.latitude.is_some() || v.longitude.is_some() {
            let before = errs.len();
            let lat = v.latitude.flatten();
            let lng = v.longitude.flatten();
            let loc = Self::location(errs, lat, lng);
            let old = current.latitude_e6.zip(current.longitude_e6);
            if errs.len() == before && loc != old {
                let deg =
                    |l: Option<(i64, i64)>| l.map(|(a, b)| format!("{:.6},{:.6}", a as f64 / 1e6, b as f64 / 1e6));
                edit.note("location", deg(old), deg(loc));
                edit.role.location = Some(loc);
            }
        }
        Ok(())
    }

    async fn social_worker_edit(
        &mut self,
        errs: &mut Vec<FieldError>,
        edit: &mut Edit,
        current: &PersonRow,
        v: &SocialWorkerPatch,
    ) -> Result<(), AppError> {
        if let Some(given) = &v.credential_level {
            if let Some(level) = Self::credential_level(errs, given) {
                if Some(level.as_str()) != current.credential_level.as_deref() {
                    edit.note("credential_level", &current.credential_level, level.as_str());
                    edit.role.credential_level = Some(level.as_str().to_string());
                }
            }
        }
        if let Some(given) = &v.certificate_number {
            let before = errs.len();
            let c = Self::certificate_number(errs, given);
            if errs.len() == before && c != current.certificate_number {
                edit.note("certificate_number", &current.certificate_number, &c);
                edit.role.certificate_number = Some(c);
            }
        }
        if let Some(given) = &v.registered_on {
            if let Some(d) = date(errs, "登记日期", given, self.today) {
                if Some(d) != current.registered_on {
                    edit.note("registered_on", current.registered_on, d);
                    edit.role.registered_on = Some(d);
                }
            }
        }
        if let Some(h) = v.ce_hours {
            let before = errs.len();
            let h = Self::ce_hours(errs, h);
            if errs.len() == before && Some(h) != current.ce_hours {
                edit.note("ce_hours", current.ce_hours, h);
                edit.role.ce_hours = Some(h);
            }
        }
        // Organization staff keep their employees: the employer is not theirs to change, and
        // asking to is refused rather than ignored.
        if let (Some(given), Some(_)) = (v.employer_org_id, self.user.organization_id) {
            if given != current.employer_org_id {
                errs.push(ferr("所在机构", "组织工作人员不能更改所在机构"));
            }
        }
        if let (Some(given), None) = (v.employer_org_id, self.user.organization_id) {
            let before = errs.len();
            let org = self.organization(errs, "所在机构", given).await?;
            if errs.len() == before && org != current.employer_org_id {
                edit.note("employer_org_id", current.employer_org_id, org);
                edit.role.employer_org_id = Some(org);
            }
        }
        if let Some(given) = &v.station_code {
            let before = errs.len();
            let st = self.station(errs, given).await?;
            if errs.len() == before && st != current.station_code {
                let short = |c: &Option<String>| {
                    c.as_deref().and_then(|c| DivisionCode::parse(c).ok()).map(|c| c.prefix().to_string())
                };
                edit.note("station_code", short(&current.station_code), short(&st));
                edit.role.station_code = Some(st);
            }
        }
        Ok(())
    }

    async fn beneficiary_edit(
        &mut self,
        errs: &mut Vec<FieldError>,
        edit: &mut Edit,
        current: &PersonRow,
        v: &BeneficiaryPatch,
    ) -> Result<(), AppError> {
        if let Some(given) = &v.categories {
            let before = errs.len();
            let cats: Vec<String> = Self::categories(errs, given).into_iter().map(|c| c.as_str().to_string()).collect();
            if errs.len() == before && sorted(cats.clone()) != key_set(current.categories.as_deref()) {
                edit.note("categories", key_set(current.categories.as_deref()), sorted(cats.clone()));
                edit.role.categories = Some(cats);
            }
        }
        let name = cleared(&v.guardian_name).map(|n| text(errs, "监护人姓名", &n, 30));
        let relation = cleared(&v.guardian_relation).map(|r| text(errs, "监护关系", &r, 20));
        let phone = cleared(&v.guardian_phone).map(|p| self.guardian_phone(errs, &p, false));
        // A minor keeps a complete guardian: check the record as it will be.
        let minor = rules::needs_guardian(age_on(current.birth_date, self.today));
        if minor {
            if name.clone().unwrap_or(current.guardian_name.clone()).is_none() {
                errs.push(ferr("监护人姓名", "未成年人必须填写监护人"));
            }
            if relation.clone().unwrap_or(current.guardian_relation.clone()).is_none() {
                errs.push(ferr("监护关系", "未成年人必须填写与监护人的关系"));
            }
            let has_phone = match &phone {
                Some(p) => p.is_some(),
                None => current.guardian_phone_masked.is_some(),
            };
            if !has_phone && !errs.iter().any(|e| e.field == "监护人电话") {
                errs.push(ferr("监护人电话", "未成年人必须填写监护人电话"));
            }
        }
        if let Some(n) = name.filter(|n| *n != current.guardian_name) {
            edit.note("guardian_name", &current.guardian_name, &n);
            edit.role.guardian_name = Some(n);
        }
        if let Some(r) = relation.filter(|r| *r != current.guardian_relation) {
            edit.note("guardian_relation", &current.guardian_relation, &r);
            edit.role.guardian_relation = Some(r);
        }
        // Without a blind index the old number cannot be compared: a number given is written.
        if let Some(p) = phone.filter(|p| p.is_some() || current.guardian_phone_masked.is_some()) {
            edit.note("guardian_phone", &current.guardian_phone_masked, p.as_deref().map(mask::mask_phone));
            edit.role.guardian_phone = Some(p);
        }
        if let (Some(given), Some(_)) = (v.serving_org_id, self.user.organization_id) {
            if given != current.serving_org_id {
                errs.push(ferr("服务机构", "组织工作人员不能更改服务机构"));
            }
        }
        if let (Some(given), None) = (v.serving_org_id, self.user.organization_id) {
            let before = errs.len();
            let org = self.organization(errs, "服务机构", given).await?;
            if errs.len() == before && org != current.serving_org_id {
                edit.note("serving_org_id", current.serving_org_id, org);
                edit.role.serving_org_id = Some(org);
            }
        }
        Ok(())
    }
}

/// Age in whole years on `today`.
fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    use chrono::Datelike;
    let mut a = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    u32::try_from(a).unwrap_or(0)
}

/// Load a person for an edit: the user must be allowed to register the role, and the person
/// must be theirs (their region, or their organization's people).
pub async fn for_edit(state: &AppState, user: &CurrentUser, role: PersonRole, id: i64) -> Result<PersonRow, AppError> {
    require_role(user, role, true)?;
    Ok(store::get(&state.db, &state.keys, &user.scope(), role, id).await?)
}

/// Write a checked edit with its audit entry in one transaction. Returns false when nothing
/// changed (nothing written, nothing audited).
pub async fn save_edit(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    role: PersonRole,
    current: &PersonRow,
    edit: Edit,
) -> Result<bool, AppError> {
    require_role(user, role, true)?;
    if edit.is_empty() {
        return Ok(false);
    }
    let mut tx = state.db.begin().await?;
    store::update(&mut tx, &state.keys, role, current.id, current.updated_at, &edit.person, &edit.role).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "update",
            entity: role.as_str(),
            entity_id: Some(current.id.to_string()),
            division_code: &current.division_code,
            organization_id: user.organization_id,
            summary: serde_json::json!({"name": mask::mask_name(&current.name), "changes": edit.changes}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Edit a person in one role (the API): the first problem is the error.
pub async fn edit(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    id: i64,
    patch: &RolePatch,
) -> Result<PersonDetail, AppError> {
    let role = patch.role();
    let current = for_edit(state, user, role, id).await?;
    let edit = Checker::new(state, user).edit(&current, patch).await?.map_err(|mut e| AppError::from(e.remove(0)))?;
    save_edit(state, user, meta, role, &current, edit).await?;
    detail(state, user, role, id).await
}

/// A volunteer leaves an organization: the membership moves to the history and is audited.
/// Organization staff may end memberships of their own organization only.
pub async fn leave_organization(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    id: i64,
    organization_id: i64,
    reason: Option<&str>,
) -> Result<(), AppError> {
    let current = for_edit(state, user, PersonRole::Volunteer, id).await?;
    if user.organization_id.is_some_and(|own| own != organization_id) {
        return Err(AppError::Forbidden("只能办理志愿者退出本组织".into()));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 100) {
        return Err(AppError::validation("退出原因", "不能超过 100 个字符"));
    }
    let today = today();
    let mut tx = state.db.begin().await?;
    let joined_on = match store::leave_organization(&mut tx, id, organization_id, today, reason, Some(user.id)).await {
        Err(wushe_store::StoreError::NotFound) => {
            return Err(AppError::NotFound(format!("该志愿者不是组织 {organization_id} 的成员")))
        }
        other => other?,
    };
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "leave_organization",
            entity: PersonRole::Volunteer.as_str(),
            entity_id: Some(id.to_string()),
            division_code: &current.division_code,
            organization_id: Some(organization_id),
            summary: serde_json::json!({"name": mask::mask_name(&current.name), "organization_id": organization_id,
                "joined_on": joined_on, "left_on": today, "reason": reason}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
