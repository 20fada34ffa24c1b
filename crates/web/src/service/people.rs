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
use wushe_domain::registry::person::{self as rules, BeneficiaryCategory, CredentialLevel, PersonRole, Skill};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::registry::organizations as orgs;
use wushe_store::registry::people::{
    self as store, ExistingPerson, NewBeneficiary, NewConsent, NewPerson, NewSocialWorker, NewVolunteer, PeopleFilter,
    PersonRow,
};
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
    pub name: String,
    /// 公民身份号码 (18 characters, check digit verified). Gender and birth date come from it.
    pub citizen_id: String,
    /// 联系电话: mobile or landline with area code.
    #[serde(default)]
    pub phone: Option<String>,
    /// Home region: a current division code, county level or below (down to village).
    pub division_code: String,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct VolunteerInput {
    #[serde(flatten)]
    pub person: PersonInput,
    /// Skill keys or labels from the dictionary (`GET /api/v1/volunteers/skills`).
    #[serde(default)]
    pub skills: Vec<String>,
    /// e.g. 周末上午, 工作日晚上.
    #[serde(default)]
    pub availability: Option<String>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    /// Required for minors (under 18): guardian's name, phone and date of consent.
    #[serde(default)]
    pub guardian_name: Option<String>,
    #[serde(default)]
    pub guardian_phone: Option<String>,
    /// YYYY-MM-DD
    #[serde(default)]
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
    pub credential_level: String,
    #[serde(default)]
    pub certificate_number: Option<String>,
    /// Registration date (YYYY-MM-DD); valid for 3 years.
    pub registered_on: String,
    /// Continuing-education hours in the current cycle.
    #[serde(default)]
    pub ce_hours: Option<i64>,
    /// Employer (organization staff: always their own).
    #[serde(default)]
    pub employer_org_id: Option<i64>,
    /// Township (街道/乡镇) code of the social-work station.
    #[serde(default)]
    pub station_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct BeneficiaryInput {
    #[serde(flatten)]
    pub person: PersonInput,
    /// Category keys or labels, at least one (低保, 特困, 留守老人 …).
    pub categories: Vec<String>,
    /// Required for minors.
    #[serde(default)]
    pub guardian_name: Option<String>,
    #[serde(default)]
    pub guardian_relation: Option<String>,
    #[serde(default)]
    pub guardian_phone: Option<String>,
    /// Who consented to the processing of the data (the person, or the guardian of a minor).
    pub consent_given_by: String,
    /// YYYY-MM-DD
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
        skills: Vec<Skill>,
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
/// import of 100,000 rows touches a few thousand villages).
pub struct Checker<'a> {
    state: &'a AppState,
    user: &'a CurrentUser,
    today: NaiveDate,
    regions: HashMap<String, bool>,
    orgs: HashMap<i64, bool>,
}

impl<'a> Checker<'a> {
    pub fn new(state: &'a AppState, user: &'a CurrentUser) -> Checker<'a> {
        Checker { state, user, today: today(), regions: HashMap::new(), orgs: HashMap::new() }
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

    /// The organization a record is tied to: organization staff always act for their own.
    async fn organization(
        &mut self,
        errs: &mut Vec<FieldError>,
        field: &str,
        given: Option<i64>,
    ) -> Result<Option<i64>, AppError> {
        if let Some(own) = self.user.organization_id {
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

    async fn person(
        &mut self,
        errs: &mut Vec<FieldError>,
        p: &PersonInput,
        phone_required: bool,
    ) -> Result<Option<ValidPerson>, AppError> {
        let name = rules::normalize_name(&p.name).map_err(|m| errs.push(ferr("姓名", m))).ok();
        let id =
            CitizenId::parse(&p.citizen_id, self.today).map_err(|e| errs.push(ferr("身份证号", e.to_string()))).ok();
        let phone = match opt(&p.phone) {
            Some(ph) => rules::normalize_phone(ph).map_err(|m| errs.push(ferr("联系电话", m))).ok(),
            None => {
                if phone_required {
                    errs.push(ferr("联系电话", "不能为空"));
                }
                None
            }
        };
        let code = match DivisionCode::parse(p.division_code.trim()) {
            Err(e) => {
                errs.push(ferr(
                    "所在区划",
                    if p.division_code.trim().is_empty() { "不能为空".to_string() } else { e.to_string() },
                ));
                None
            }
            Ok(c) if c.level() < Level::County => {
                errs.push(ferr("所在区划", "应填写到区县或以下（街道、乡镇、社区、村）"));
                None
            }
            Ok(c) if self.user.organization_id.is_none() && !c.is_within(&self.user.scope_division) => {
                errs.push(ferr("所在区划", format!("{} 不在您的管辖范围内", c.prefix())));
                None
            }
            Ok(c) if !self.region_exists(&c).await? => {
                errs.push(ferr("所在区划", format!("区划代码 {} 不存在", c.prefix())));
                None
            }
            Ok(c) => Some(c),
        };
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

    pub async fn volunteer(&mut self, input: &VolunteerInput) -> Result<Result<ValidEntry, Vec<FieldError>>, AppError> {
        let mut errs = Vec::new();
        let person = self.person(&mut errs, &input.person, true).await?;
        let mut skills = Vec::new();
        for s in &input.skills {
            match rules::parse_list(s, Skill::parse) {
                Ok(list) => skills.extend(list.into_iter().filter(|k| !skills.contains(k)).collect::<Vec<_>>()),
                Err(bad) => errs.push(ferr("技能", format!("「{bad}」不在技能字典中"))),
            }
        }
        let availability = text(&mut errs, "服务时间", &input.availability, 100);
        let location = match (input.latitude, input.longitude) {
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
        };
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
        let level = CredentialLevel::parse(&input.credential_level).ok_or_else(|| {
            ferr(
                "资格等级",
                format!(
                    "「{}」不是有效的等级，应为助理社会工作师、社会工作师或高级社会工作师",
                    input.credential_level.trim()
                ),
            )
        });
        let level = level.map_err(|e| errs.push(e)).ok();
        let certificate_number = match opt(&input.certificate_number) {
            Some(c) if c.len() > 40 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') => {
                errs.push(ferr("证书编号", "只能包含字母、数字和短横线，不超过 40 位"));
                None
            }
            Some(c) => Some(c.to_ascii_uppercase()),
            None => None,
        };
        let registered_on = date(&mut errs, "登记日期", &input.registered_on, self.today);
        let ce_hours = input.ce_hours.unwrap_or(0);
        if !(0..=2000).contains(&ce_hours) {
            errs.push(ferr("继续教育学时", "应为 0–2000 之间的整数"));
        }
        let employer_org_id = self.organization(&mut errs, "所在机构", input.employer_org_id).await?;
        let station_code = match opt(&input.station_code) {
            None => None,
            Some(s) => match DivisionCode::parse(s) {
                Ok(c) if c.level() != Level::Township => {
                    errs.push(ferr("所在社工站", "应为街道或乡镇的区划代码（9 位）"));
                    None
                }
                Ok(c) if self.user.organization_id.is_none() && !c.is_within(&self.user.scope_division) => {
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
            },
        };
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
        let mut categories = Vec::new();
        for s in &input.categories {
            match rules::parse_list(s, BeneficiaryCategory::parse) {
                Ok(list) => categories.extend(list.into_iter().filter(|k| !categories.contains(k)).collect::<Vec<_>>()),
                Err(bad) => errs.push(ferr("对象类别", format!("「{bad}」不是有效的类别"))),
            }
        }
        if categories.is_empty() && !errs.iter().any(|e| e.field == "对象类别") {
            errs.push(ferr("对象类别", "至少选择一个类别"));
        }
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
            if user.organization_id.is_none() && !p.division_code.starts_with(&user.scope_division) {
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
                    skills: skills.iter().map(|s| s.as_str().to_string()).collect(),
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

fn labelled<T: Copy>(
    csv: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    key: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<Labelled> {
    csv.unwrap_or_default()
        .split(',')
        .filter_map(parse)
        .map(|v| Labelled { key: key(v).to_string(), label: label(v).to_string() })
        .collect()
}

impl PersonView {
    pub fn from_row(r: PersonRow, role: PersonRole, region_name: Option<String>) -> PersonView {
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
            skills: labelled(r.skills.as_deref(), Skill::parse, Skill::as_str, Skill::label),
            availability: r.availability.clone(),
            guardian_name: r.guardian_name.clone(),
            guardian_phone: r.guardian_phone_masked.clone(),
            registered_on: r.registered_on,
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
            categories: labelled(
                r.categories.as_deref(),
                BeneficiaryCategory::parse,
                BeneficiaryCategory::as_str,
                BeneficiaryCategory::label,
            ),
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
            registered_at: (r.created_at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string(),
            volunteer,
            social_worker,
            beneficiary,
        }
    }
}

/// Region names for a page of people (one lookup per distinct code).
async fn region_names(state: &AppState, rows: &[PersonRow]) -> Result<HashMap<String, String>, AppError> {
    let mut out = HashMap::new();
    for r in rows {
        if out.contains_key(&r.division_code) {
            continue;
        }
        if let Ok(c) = DivisionCode::parse(&r.division_code) {
            let chain = regions::ancestors(&state.db, &c).await?;
            let mut names: Vec<String> = chain.into_iter().filter(|d| d.level >= 3).map(|d| d.name).collect();
            if let Some(d) = regions::get(&state.db, &c).await? {
                names.push(d.name);
            }
            out.insert(r.division_code.clone(), names.join(" "));
        }
    }
    Ok(out)
}

pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    role: PersonRole,
    filter: &PeopleFilter,
    page: &Page,
) -> Result<Paged<PersonView>, AppError> {
    require_role(user, role, false)?;
    let res = store::list(&state.db, &state.keys, &user.scope(), role, filter, page).await?;
    let names = region_names(state, &res.items).await?;
    Ok(Paged {
        items: res
            .items
            .into_iter()
            .map(|r| {
                let n = names.get(&r.division_code).cloned();
                PersonView::from_row(r, role, n)
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
    /// Volunteers: the organizations joined.
    pub organizations: Vec<OrgRef>,
    pub consents: Vec<ConsentView>,
}

pub async fn detail(state: &AppState, user: &CurrentUser, role: PersonRole, id: i64) -> Result<PersonDetail, AppError> {
    require_role(user, role, false)?;
    let row = store::get(&state.db, &state.keys, &user.scope(), role, id).await?;
    let names = region_names(state, std::slice::from_ref(&row)).await?;
    let region = names.get(&row.division_code).cloned();
    let organizations = if role == PersonRole::Volunteer {
        store::organizations_of(&state.db, id)
            .await?
            .into_iter()
            // Organization staff see only their own organization's membership.
            .filter(|(oid, _, _)| user.organization_id.is_none_or(|own| own == *oid))
            .map(|(id, name, joined_on)| OrgRef { id, name, joined_on })
            .collect()
    } else {
        Vec::new()
    };
    let consents = store::consents_of(&state.db, id)
        .await?
        .into_iter()
        .map(|c| ConsentView { purpose: c.purpose, given_by: c.given_by, given_on: c.given_on, note: c.note })
        .collect();
    Ok(PersonDetail { person: PersonView::from_row(row, role, region), organizations, consents })
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
    let n = rows.len();
    let mut out = Vec::with_capacity(n);
    for r in rows {
        let (id_no, phone) = match plain.get(&r.id) {
            Some((id, ph)) => (id.clone(), ph.clone().unwrap_or_default()),
            None => (r.id_masked.clone(), r.phone_masked.clone().unwrap_or_default()),
        };
        let v = PersonView::from_row(r, role, None);
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
                "region": filter.region, "kind": filter.kind}}),
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
