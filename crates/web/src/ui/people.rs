//! Volunteers, social workers and beneficiaries in the UI: lists with search, filters, paging
//! and export; details with the audited full view of personal data; registration forms that
//! show every problem next to its field. The handlers call the same services as the API.

use std::collections::HashMap;

use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_domain::registry::person::{BeneficiaryCategory, CredentialLevel, PersonRole, SkillDictionary};
use wushe_store::registry::skills;

use super::{render, set_flash, take_flash, url_encode, Layout};
use crate::api::people::PeopleParams;
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::people::{
    self as svc, BeneficiaryInput, BeneficiaryPatch, Checker, FieldError, PersonDetail, PersonInput, PersonPatch,
    PersonView, RolePatch, SocialWorkerInput, SocialWorkerPatch, VolunteerInput, VolunteerPatch,
};
use crate::service::registry::today;
use crate::state::AppState;

/// Which role a generic handler serves (one route set per role, same handlers).
pub trait Which: Send + Sync + 'static {
    const ROLE: PersonRole;
}

pub struct Volunteers;
pub struct SocialWorkers;
pub struct Beneficiaries;

impl Which for Volunteers {
    const ROLE: PersonRole = PersonRole::Volunteer;
}
impl Which for SocialWorkers {
    const ROLE: PersonRole = PersonRole::SocialWorker;
}
impl Which for Beneficiaries {
    const ROLE: PersonRole = PersonRole::Beneficiary;
}

/// Paths and words of a role's pages.
pub struct RoleInfo {
    /// volunteer | social_worker | beneficiary (for the templates).
    pub key: &'static str,
    pub label: &'static str,
    /// `/volunteers`
    pub path: &'static str,
    /// `/api/v1/volunteers` (the export links)
    pub api: &'static str,
    /// Navigation section.
    pub section: &'static str,
    /// The import kind (`/imports` card anchor).
    pub import_kind: &'static str,
    /// The filter's query parameter (the API's name) and its "all" option.
    pub kind_param: &'static str,
    pub kind_all: &'static str,
    /// The organization field's Chinese name (as in field errors and import columns).
    pub org_field: &'static str,
}

pub fn info(role: PersonRole) -> RoleInfo {
    match role {
        PersonRole::Volunteer => RoleInfo {
            key: "volunteer",
            label: "志愿者",
            path: "/volunteers",
            api: "/api/v1/volunteers",
            section: "volunteers",
            import_kind: "volunteers",
            kind_param: "skill",
            kind_all: "全部技能",
            org_field: "所属组织",
        },
        PersonRole::SocialWorker => RoleInfo {
            key: "social_worker",
            label: "社会工作者",
            path: "/social-workers",
            api: "/api/v1/social-workers",
            section: "social_workers",
            import_kind: "social_workers",
            kind_param: "credential_level",
            kind_all: "全部等级",
            org_field: "所在机构",
        },
        PersonRole::Beneficiary => RoleInfo {
            key: "beneficiary",
            label: "服务对象",
            path: "/beneficiaries",
            api: "/api/v1/beneficiaries",
            section: "beneficiaries",
            import_kind: "beneficiaries",
            kind_param: "category",
            kind_all: "全部类别",
            org_field: "服务机构",
        },
    }
}

/// The role's dictionary as (key, label) pairs: skills, credential levels or categories.
/// Forms offer active skills only; a list filter offers retired ones too (volunteers keep
/// them), marked as such.
fn kind_options(role: PersonRole, skills: &SkillDictionary, with_retired: bool) -> Vec<(String, String)> {
    match role {
        PersonRole::Volunteer => skills
            .entries()
            .iter()
            .filter(|e| e.active || with_retired)
            .map(|e| {
                let label = if e.active { e.label.clone() } else { format!("{}（已停用）", e.label) };
                (e.key.clone(), label)
            })
            .collect(),
        PersonRole::SocialWorker => {
            CredentialLevel::ALL.iter().map(|s| (s.as_str().to_string(), s.label().to_string())).collect()
        }
        PersonRole::Beneficiary => {
            BeneficiaryCategory::ALL.iter().map(|s| (s.as_str().to_string(), s.label().to_string())).collect()
        }
    }
}

const SORTS: [(&str, &str); 3] = [("newest", "最近登记"), ("name", "按姓名"), ("region", "按区划")];
const STATUSES: [(&str, &str); 3] = [("current", "在册"), ("ended", "已结束"), ("all", "全部")];

fn may_register(user: &CurrentUser, role: PersonRole) -> bool {
    svc::require_role(user, role, true).is_ok()
}

#[derive(Template)]
#[template(path = "people/list.html")]
struct ListPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    r: RoleInfo,
    items: Vec<PersonView>,
    total: String,
    q: String,
    region: String,
    kind: String,
    sort: String,
    status: String,
    kinds: Vec<(String, String)>,
    sorts: [(&'static str, &'static str); 3],
    statuses: [(&'static str, &'static str); 3],
    can_register: bool,
    page: u32,
    pages: u32,
    page_base: String,
    export_query: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(deserialize_with = "crate::text::line::one", default)]
    q: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    region: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    skill: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    credential_level: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    category: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    sort: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    status: String,
    organization_id: Option<i64>,
    page: Option<u32>,
}

fn given(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|v| !v.is_empty())
}

pub async fn list<W: Which>(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Query(p): Query<ListQuery>,
) -> Result<Response, AppError> {
    let role = W::ROLE;
    let r = info(role);
    svc::require_role(&user, role, false)?;
    let kind = match role {
        PersonRole::Volunteer => p.skill.clone(),
        PersonRole::SocialWorker => p.credential_level.clone(),
        PersonRole::Beneficiary => p.category.clone(),
    };
    let params = PeopleParams {
        q: given(&p.q),
        region: given(&p.region),
        skill: given(&p.skill),
        credential_level: given(&p.credential_level),
        category: given(&p.category),
        organization_id: p.organization_id,
        sort: given(&p.sort),
        status: given(&p.status),
        page: p.page,
        per_page: Some(20),
        format: None,
    };
    let mut query = format!(
        "q={}&region={}&{}={}&sort={}",
        url_encode(p.q.trim()),
        url_encode(p.region.trim()),
        r.kind_param,
        url_encode(kind.trim()),
        url_encode(p.sort.trim())
    );
    if !p.status.trim().is_empty() {
        query.push_str(&format!("&status={}", url_encode(p.status.trim())));
    }
    if let Some(o) = p.organization_id {
        query.push_str(&format!("&organization_id={o}"));
    }
    let page = wushe_store::Page::new(p.page, Some(20));
    let listed = match params.filter(role) {
        Ok(filter) => svc::list(&state, &user, role, &filter, &page).await,
        Err(e) => Err(e),
    };
    // A bad filter is shown above the list, not as an error page.
    let (res, error) = match listed {
        Ok(res) => (Some(res), None),
        Err(e @ AppError::Validation { .. }) => (None, Some(e)),
        Err(e) => return Err(e),
    };
    let dict = skills::dictionary(&state.db).await?;
    let layout =
        Layout::new(&session, Some(&user), r.label, r.section).await?.crumb("/", "首页").crumb(r.path, r.label);
    let status = error.as_ref().map(AppError::status);
    let mut list = ListPage {
        layout,
        flash: take_flash(&session).await,
        error: error.map(|e| e.to_string()),
        items: Vec::new(),
        total: "0".into(),
        page: 1,
        pages: 1,
        page_base: format!("{}?{query}&", r.path),
        export_query: query,
        q: p.q,
        region: p.region,
        kind,
        sort: p.sort,
        status: p.status,
        kinds: kind_options(role, &dict, true),
        sorts: SORTS,
        statuses: STATUSES,
        can_register: may_register(&user, role),
        r,
    };
    if let Some(res) = res {
        list.total = res.total_label();
        list.page = res.page.page;
        list.pages = res.pages();
        list.items = res.items;
    }
    let out = render(&list)?;
    Ok(match status {
        Some(s) => (s, out).into_response(),
        None => out,
    })
}

/// Field problems of a form, in order and by field (Chinese field names, as the service
/// names them), for the templates.
#[derive(Default)]
struct Problems {
    list: Vec<FieldError>,
    by_field: HashMap<String, Vec<String>>,
}

impl Problems {
    fn new(list: Vec<FieldError>) -> Problems {
        let mut by_field: HashMap<String, Vec<String>> = HashMap::new();
        for e in &list {
            by_field.entry(e.field.clone()).or_default().push(e.message.clone());
        }
        Problems { list, by_field }
    }

    /// The messages for a field, joined.
    fn err(&self, field: &str) -> String {
        self.by_field.get(field).map(|v| v.join("；")).unwrap_or_default()
    }

    /// ` is-invalid` when the field has a problem.
    fn invalid(&self, field: &str) -> &'static str {
        if self.by_field.contains_key(field) {
            " is-invalid"
        } else {
            ""
        }
    }
}

#[derive(Template)]
#[template(path = "people/show.html")]
struct ShowPage {
    layout: Layout,
    flash: Option<String>,
    r: RoleInfo,
    d: PersonDetail,
    can_reveal: bool,
    /// Who may register the role may edit it (the edit form and the leave buttons).
    can_edit: bool,
    form: PersonForm,
    /// The edit form starts open when it comes back with problems.
    edit_open: bool,
    /// A problem not tied to one field (the record changed meanwhile, a taken certificate).
    error: Option<String>,
    problems: Problems,
    skills: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    own_org: Option<i64>,
    today: String,
}

/// The edit form filled with what is registered. Phones are not filled in: only their masked
/// copies are shown, and a phone typed in replaces the registered one.
fn edit_form(v: &PersonView) -> PersonForm {
    let mut f = PersonForm {
        division_code: v.division_code.clone(),
        address: v.address.clone().unwrap_or_default(),
        ended_on: v.ended_on.map(|d| d.to_string()).unwrap_or_default(),
        end_reason: v.end_reason.clone().unwrap_or_default(),
        ..Default::default()
    };
    if let Some(vf) = &v.volunteer {
        f.skills = vf.skills.iter().map(|s| s.key.clone()).collect();
        f.availability = vf.availability.clone().unwrap_or_default();
        f.latitude = vf.latitude.map(|x| format!("{x:.6}")).unwrap_or_default();
        f.longitude = vf.longitude.map(|x| format!("{x:.6}")).unwrap_or_default();
    }
    if let Some(sf) = &v.social_worker {
        f.credential_level = sf.credential_level.clone();
        f.certificate_number = sf.certificate_number.clone().unwrap_or_default();
        f.registered_on = sf.registered_on.map(|d| d.to_string()).unwrap_or_default();
        f.ce_hours = sf.ce_hours.to_string();
        f.organization_id = sf.employer_org_id.map(|o| o.to_string()).unwrap_or_default();
        f.station_code = sf.station_code.clone().unwrap_or_default();
    }
    if let Some(bf) = &v.beneficiary {
        f.categories = bf.categories.iter().map(|c| c.key.clone()).collect();
        f.guardian_name = bf.guardian_name.clone().unwrap_or_default();
        f.guardian_relation = bf.guardian_relation.clone().unwrap_or_default();
        f.organization_id = bf.serving_org_id.map(|o| o.to_string()).unwrap_or_default();
    }
    f
}

#[allow(clippy::too_many_arguments)]
async fn show_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    role: PersonRole,
    d: PersonDetail,
    form: Option<PersonForm>,
    problems: Problems,
    error: Option<String>,
) -> Result<Response, AppError> {
    let r = info(role);
    let layout = Layout::new(session, Some(user), &d.person.name, r.section)
        .await?
        .crumb("/", "首页")
        .crumb(r.path, r.label)
        .crumb("", d.person.name.clone());
    let dict = skills::dictionary(&state.db).await?;
    let mut skill_options = kind_options(PersonRole::Volunteer, &dict, false);
    // Retired skills the volunteer holds stay on offer, so that saving keeps them.
    for held in d.person.volunteer.iter().flat_map(|v| &v.skills) {
        if !skill_options.iter().any(|(k, _)| *k == held.key) {
            skill_options.push((held.key.clone(), format!("{}（已停用）", held.label)));
        }
    }
    let edit_open = form.is_some();
    render(&ShowPage {
        layout,
        flash: take_flash(session).await,
        can_reveal: user.role.may_view_full_personal_data(),
        can_edit: svc::require_role(user, role, true).is_ok(),
        form: form.unwrap_or_else(|| edit_form(&d.person)),
        edit_open,
        error,
        problems,
        skills: skill_options,
        categories: kind_options(PersonRole::Beneficiary, &dict, false),
        levels: kind_options(PersonRole::SocialWorker, &dict, false),
        own_org: user.organization_id,
        today: today().to_string(),
        r,
        d,
    })
}

pub async fn show<W: Which>(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let d = svc::detail(&state, &user, W::ROLE, id).await?;
    show_page(&state, &session, &user, W::ROLE, d, None, Problems::default(), None).await
}

#[derive(Template)]
#[template(path = "people/personal_data.html")]
struct PersonalDataFragment {
    citizen_id: String,
    phone: Option<String>,
    guardian_phone: Option<String>,
}

/// The unmasked ID number and phones (htmx fragment replacing the masked ones); audited.
pub async fn reveal<W: Which>(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let full = svc::reveal(&state, &user, &meta, W::ROLE, id).await?;
    let html =
        PersonalDataFragment { citizen_id: full.citizen_id, phone: full.phone, guardian_phone: full.guardian_phone }
            .render()
            .map_err(AppError::internal)?;
    Ok(Html(html).into_response())
}

/// The registration form's fields as typed (checkboxes repeat their name).
#[derive(Debug, Default)]
pub struct PersonForm {
    name: String,
    citizen_id: String,
    phone: String,
    division_code: String,
    address: String,
    skills: Vec<String>,
    availability: String,
    latitude: String,
    longitude: String,
    guardian_name: String,
    guardian_phone: String,
    guardian_consent_on: String,
    guardian_relation: String,
    organization_id: String,
    credential_level: String,
    certificate_number: String,
    registered_on: String,
    ce_hours: String,
    station_code: String,
    categories: Vec<String>,
    consent_given_by: String,
    consent_on: String,
    ended_on: String,
    end_reason: String,
}

impl PersonForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> PersonForm {
        let mut f = PersonForm::default();
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "name" => &mut f.name,
                "citizen_id" => &mut f.citizen_id,
                "phone" => &mut f.phone,
                "division_code" => &mut f.division_code,
                "address" => &mut f.address,
                "availability" => &mut f.availability,
                "latitude" => &mut f.latitude,
                "longitude" => &mut f.longitude,
                "guardian_name" => &mut f.guardian_name,
                "guardian_phone" => &mut f.guardian_phone,
                "guardian_consent_on" => &mut f.guardian_consent_on,
                "guardian_relation" => &mut f.guardian_relation,
                "organization_id" => &mut f.organization_id,
                "credential_level" => &mut f.credential_level,
                "certificate_number" => &mut f.certificate_number,
                "registered_on" => &mut f.registered_on,
                "ce_hours" => &mut f.ce_hours,
                "station_code" => &mut f.station_code,
                "consent_given_by" => &mut f.consent_given_by,
                "consent_on" => &mut f.consent_on,
                "ended_on" => &mut f.ended_on,
                "end_reason" => &mut f.end_reason,
                "skills" => {
                    f.skills.push(v);
                    continue;
                }
                "categories" => {
                    f.categories.push(v);
                    continue;
                }
                _ => continue,
            };
            *slot = v;
        }
        f
    }

    fn person(&self) -> PersonInput {
        PersonInput {
            name: self.name.clone(),
            citizen_id: self.citizen_id.clone(),
            phone: given(&self.phone),
            division_code: self.division_code.clone(),
            address: given(&self.address),
        }
    }

    fn has_skill(&self, key: &str) -> bool {
        self.skills.iter().any(|s| s == key)
    }

    fn has_category(&self, key: &str) -> bool {
        self.categories.iter().any(|s| s == key)
    }
}

/// A number typed into the form, or a field error in Chinese.
fn number<T: std::str::FromStr>(errs: &mut Vec<FieldError>, field: &str, s: &str, what: &str) -> Option<T> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match s.parse() {
        Ok(v) => Some(v),
        Err(_) => {
            errs.push(FieldError { field: field.into(), message: format!("应为{what}") });
            None
        }
    }
}

#[derive(Template)]
#[template(path = "people/new.html")]
struct NewPage {
    layout: Layout,
    r: RoleInfo,
    form: PersonForm,
    /// A problem not tied to one field (a conflict with what is registered).
    error: Option<String>,
    problems: Problems,
    skills: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    /// Organization staff register for their own organization only.
    own_org: Option<i64>,
    today: String,
}

async fn new_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    role: PersonRole,
    form: PersonForm,
    errors: Vec<FieldError>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let r = info(role);
    let layout = Layout::new(session, Some(user), &format!("登记{}", r.label), r.section)
        .await?
        .crumb("/", "首页")
        .crumb(r.path, r.label)
        .crumb("", "登记");
    render(&NewPage {
        layout,
        r,
        form,
        error,
        problems: Problems::new(errors),
        skills: kind_options(PersonRole::Volunteer, &skills::dictionary(&state.db).await?, false),
        categories: kind_options(PersonRole::Beneficiary, &SkillDictionary::default(), false),
        levels: kind_options(PersonRole::SocialWorker, &SkillDictionary::default(), false),
        own_org: user.organization_id,
        today: today().to_string(),
    })
}

pub async fn new_form<W: Which>(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
) -> Result<Response, AppError> {
    svc::require_role(&user, W::ROLE, true)?;
    let form = PersonForm {
        division_code: user.scope_division.clone(),
        credential_level: CredentialLevel::Assistant.as_str().into(),
        consent_on: today().to_string(),
        ..Default::default()
    };
    new_page(&state, &session, &user, W::ROLE, form, Vec::new(), None).await
}

pub async fn create<W: Which>(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let role = W::ROLE;
    svc::require_role(&user, role, true)?;
    let f = PersonForm::from_pairs(pairs);
    let r = info(role);
    // Numbers the form could not even parse, then every rule of the service.
    let mut errs = Vec::new();
    let org = number::<i64>(&mut errs, r.org_field, &f.organization_id, "组织编号（数字）");
    let mut checker = Checker::new(&state, &user);
    let checked = match role {
        PersonRole::Volunteer => {
            let lat = number::<f64>(&mut errs, "位置", &f.latitude, "数字（纬度）");
            let lng = number::<f64>(&mut errs, "位置", &f.longitude, "数字（经度）");
            let input = VolunteerInput {
                person: f.person(),
                skills: f.skills.clone(),
                availability: given(&f.availability),
                latitude: lat,
                longitude: lng,
                guardian_name: given(&f.guardian_name),
                guardian_phone: given(&f.guardian_phone),
                guardian_consent_on: given(&f.guardian_consent_on),
                organization_id: org,
            };
            checker.volunteer(&input).await?
        }
        PersonRole::SocialWorker => {
            let ce = number::<i64>(&mut errs, "继续教育学时", &f.ce_hours, "整数");
            let input = SocialWorkerInput {
                person: f.person(),
                credential_level: f.credential_level.clone(),
                certificate_number: given(&f.certificate_number),
                registered_on: f.registered_on.clone(),
                ce_hours: ce,
                employer_org_id: org,
                station_code: given(&f.station_code),
            };
            checker.social_worker(&input).await?
        }
        PersonRole::Beneficiary => {
            let input = BeneficiaryInput {
                person: f.person(),
                categories: f.categories.clone(),
                guardian_name: given(&f.guardian_name),
                guardian_relation: given(&f.guardian_relation),
                guardian_phone: given(&f.guardian_phone),
                consent_given_by: f.consent_given_by.clone(),
                consent_on: f.consent_on.clone(),
                serving_org_id: org,
            };
            checker.beneficiary(&input).await?
        }
    };
    let entry = match checked {
        Ok(entry) if errs.is_empty() => entry,
        Ok(_) => return again(&state, &session, &user, role, f, errs, None).await,
        Err(more) => {
            errs.extend(more);
            return again(&state, &session, &user, role, f, errs, None).await;
        }
    };
    let name = entry.person.name.clone();
    match svc::register(&state, &user, &meta, Ok(entry)).await {
        Ok(id) => {
            set_flash(&session, &format!("已登记{}：{name}", r.label)).await;
            Ok(Redirect::to(&format!("{}/{id}", r.path)).into_response())
        }
        // Conflicts with what is registered are about the ID number.
        Err(AppError::Conflict(m)) => {
            let errs = vec![FieldError { field: "身份证号".into(), message: m }];
            again(&state, &session, &user, role, f, errs, None).await
        }
        Err(AppError::Validation { field, message }) => {
            again(&state, &session, &user, role, f, vec![FieldError { field, message }], None).await
        }
        Err(e @ AppError::Forbidden(_)) => {
            let m = e.to_string();
            let mut res = new_page(&state, &session, &user, role, f, Vec::new(), Some(m)).await?;
            *res.status_mut() = e.status();
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

/// The form again, with its problems (422).
async fn again(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    role: PersonRole,
    f: PersonForm,
    errs: Vec<FieldError>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let mut res = new_page(state, session, user, role, f, errs, error).await?;
    *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

/// The edit form as a patch: every field the form shows is given (an empty one clears it),
/// except the phones, which only a typed number changes.
fn form_patch(f: &PersonForm, role: PersonRole, org_field: &str, errs: &mut Vec<FieldError>) -> RolePatch {
    let person = PersonPatch {
        phone: given(&f.phone).map(Some),
        address: Some(given(&f.address)),
        division_code: Some(f.division_code.clone()),
        ended_on: Some(given(&f.ended_on)),
        end_reason: given(&f.end_reason),
        ..Default::default()
    };
    let org = number::<i64>(errs, org_field, &f.organization_id, "组织编号（数字）");
    match role {
        PersonRole::Volunteer => RolePatch::Volunteer(VolunteerPatch {
            person,
            skills: Some(f.skills.clone()),
            availability: Some(given(&f.availability)),
            latitude: Some(number::<f64>(errs, "位置", &f.latitude, "数字（纬度）")),
            longitude: Some(number::<f64>(errs, "位置", &f.longitude, "数字（经度）")),
        }),
        PersonRole::SocialWorker => RolePatch::SocialWorker(SocialWorkerPatch {
            person,
            credential_level: Some(f.credential_level.clone()),
            certificate_number: Some(given(&f.certificate_number)),
            registered_on: Some(f.registered_on.clone()),
            ce_hours: number::<i64>(errs, "继续教育学时", &f.ce_hours, "整数"),
            employer_org_id: Some(org),
            station_code: Some(given(&f.station_code)),
        }),
        PersonRole::Beneficiary => RolePatch::Beneficiary(BeneficiaryPatch {
            person,
            categories: Some(f.categories.clone()),
            guardian_name: Some(given(&f.guardian_name)),
            guardian_relation: Some(given(&f.guardian_relation)),
            guardian_phone: given(&f.guardian_phone).map(Some),
            serving_org_id: Some(org),
        }),
    }
}

/// Save the edit form of the detail page; with problems, the page again with the form open.
pub async fn update<W: Which>(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let role = W::ROLE;
    let r = info(role);
    let current = svc::for_edit(&state, &user, role, id).await?;
    let f = PersonForm::from_pairs(pairs);
    let mut errs = Vec::new();
    let patch = form_patch(&f, role, r.org_field, &mut errs);
    let checked = Checker::new(&state, &user).edit(&current, &patch).await?;
    let unprocessable = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    let edit = match checked {
        Ok(edit) if errs.is_empty() => edit,
        Ok(_) => return edit_again(&state, &session, &user, role, id, f, errs, None, unprocessable).await,
        Err(more) => {
            errs.extend(more);
            return edit_again(&state, &session, &user, role, id, f, errs, None, unprocessable).await;
        }
    };
    match svc::save_edit(&state, &user, &meta, role, &current, edit).await {
        Ok(changed) => {
            set_flash(&session, if changed { "已保存修改" } else { "没有需要保存的修改" }).await;
            Ok(Redirect::to(&format!("{}/{id}", r.path)).into_response())
        }
        Err(e @ AppError::Conflict(_)) => {
            let (status, m) = (e.status(), e.to_string());
            edit_again(&state, &session, &user, role, id, f, Vec::new(), Some(m), status).await
        }
        Err(e) => Err(e),
    }
}

/// The detail page again with the edit form as typed, open, and its problems.
#[allow(clippy::too_many_arguments)]
async fn edit_again(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    role: PersonRole,
    id: i64,
    f: PersonForm,
    errs: Vec<FieldError>,
    error: Option<String>,
    status: axum::http::StatusCode,
) -> Result<Response, AppError> {
    let d = svc::detail(state, user, role, id).await?;
    let mut res = show_page(state, session, user, role, d, Some(f), Problems::new(errs), error).await?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize, Default)]
pub struct LeaveForm {
    #[serde(deserialize_with = "crate::text::note::one", default)]
    reason: String,
}

/// A volunteer leaves an organization (from the detail page).
pub async fn leave(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path((id, org_id)): Path<(i64, i64)>,
    Form(f): Form<LeaveForm>,
) -> Result<Response, AppError> {
    svc::leave_organization(&state, &user, &meta, id, org_id, given(&f.reason).as_deref()).await?;
    set_flash(&session, "已办理退出组织").await;
    // Organization staff no longer see a volunteer who has left their organization.
    let to = if user.organization_id.is_some() { "/volunteers".to_string() } else { format!("/volunteers/{id}") };
    Ok(Redirect::to(&to).into_response())
}
