//! Volunteers, social workers and beneficiaries in the UI: lists with search, filters, paging
//! and export; details with the audited full view of personal data; registration forms that
//! show every problem next to its field. The handlers call the same services as the API.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;
use wushe_domain::registry::person::{BeneficiaryCategory, CredentialLevel, PersonRole, Skill};

use super::{render, set_flash, take_flash, url_encode, Layout};
use crate::api::people::PeopleParams;
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::people::{
    self as svc, BeneficiaryInput, Checker, FieldError, PersonDetail, PersonInput, PersonView, SocialWorkerInput,
    VolunteerInput,
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
fn kind_options(role: PersonRole) -> Vec<(&'static str, &'static str)> {
    match role {
        PersonRole::Volunteer => Skill::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        PersonRole::SocialWorker => CredentialLevel::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        PersonRole::Beneficiary => BeneficiaryCategory::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
    }
}

const SORTS: [(&str, &str); 3] = [("newest", "最近登记"), ("name", "按姓名"), ("region", "按区划")];

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
    kinds: Vec<(&'static str, &'static str)>,
    sorts: [(&'static str, &'static str); 3],
    can_register: bool,
    page: u32,
    pages: u32,
    page_base: String,
    export_query: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    skill: String,
    #[serde(default)]
    credential_level: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    sort: String,
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
    if let Some(o) = p.organization_id {
        query.push_str(&format!("&organization_id={o}"));
    }
    let page = wushe_store::Page::new(p.page, Some(20));
    let (res, error) = match params.filter(role) {
        Ok(filter) => (Some(svc::list(&state, &user, role, &filter, &page).await?), None),
        Err(e @ AppError::Validation { .. }) => (None, Some(e)),
        Err(e) => return Err(e),
    };
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
        kinds: kind_options(role),
        sorts: SORTS,
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

#[derive(Template)]
#[template(path = "people/show.html")]
struct ShowPage {
    layout: Layout,
    flash: Option<String>,
    r: RoleInfo,
    d: PersonDetail,
    can_reveal: bool,
}

pub async fn show<W: Which>(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let role = W::ROLE;
    let r = info(role);
    let d = svc::detail(&state, &user, role, id).await?;
    let layout = Layout::new(&session, Some(&user), &d.person.name, r.section)
        .await?
        .crumb("/", "首页")
        .crumb(r.path, r.label)
        .crumb("", d.person.name.clone());
    render(&ShowPage {
        layout,
        flash: take_flash(&session).await,
        r,
        d,
        can_reveal: user.role.may_view_full_personal_data(),
    })
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
    errors: Vec<FieldError>,
    by_field: HashMap<String, Vec<String>>,
    skills: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
    levels: Vec<(&'static str, &'static str)>,
    /// Organization staff register for their own organization only.
    own_org: Option<i64>,
    today: String,
}

impl NewPage {
    /// The messages for a field (Chinese field name), joined.
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

async fn new_page(
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
    let mut by_field: HashMap<String, Vec<String>> = HashMap::new();
    for e in &errors {
        by_field.entry(e.field.clone()).or_default().push(e.message.clone());
    }
    render(&NewPage {
        layout,
        r,
        form,
        error,
        errors,
        by_field,
        skills: kind_options(PersonRole::Volunteer),
        categories: kind_options(PersonRole::Beneficiary),
        levels: kind_options(PersonRole::SocialWorker),
        own_org: user.organization_id,
        today: today().to_string(),
    })
}

pub async fn new_form<W: Which>(session: Session, user: CurrentUser) -> Result<Response, AppError> {
    svc::require_role(&user, W::ROLE, true)?;
    let form = PersonForm {
        division_code: user.scope_division.clone(),
        credential_level: CredentialLevel::Assistant.as_str().into(),
        consent_on: today().to_string(),
        ..Default::default()
    };
    new_page(&session, &user, W::ROLE, form, Vec::new(), None).await
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
        Ok(_) => return again(&session, &user, role, f, errs, None).await,
        Err(more) => {
            errs.extend(more);
            return again(&session, &user, role, f, errs, None).await;
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
            again(&session, &user, role, f, errs, None).await
        }
        Err(AppError::Validation { field, message }) => {
            again(&session, &user, role, f, vec![FieldError { field, message }], None).await
        }
        Err(e @ AppError::Forbidden(_)) => {
            let m = e.to_string();
            let mut res = new_page(&session, &user, role, f, Vec::new(), Some(m)).await?;
            *res.status_mut() = e.status();
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

/// The form again, with its problems (422).
async fn again(
    session: &Session,
    user: &CurrentUser,
    role: PersonRole,
    f: PersonForm,
    errs: Vec<FieldError>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let mut res = new_page(session, user, role, f, errs, error).await?;
    *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}
