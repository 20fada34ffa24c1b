use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_domain::registry::org::{OrgStatus, OrgType};
use wushe_store::registry::organizations as orgs;
use wushe_store::{regions, Page};

use super::{render, set_flash, take_flash, url_encode, Layout};
use crate::api::registry::{OrgDetailDto, OrgDto, OrgListParams};
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::registry::{self as svc, NewOrgInput, OrgStatusInput, PublicOrg};
use crate::state::AppState;

fn type_options() -> Vec<(&'static str, &'static str)> {
    OrgType::ALL.iter().map(|t| (t.as_str(), t.label())).collect()
}

fn status_options() -> Vec<(&'static str, &'static str)> {
    OrgStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect()
}

#[derive(Template)]
#[template(path = "registry/org_list.html")]
struct ListPage {
    layout: Layout,
    flash: Option<String>,
    items: Vec<OrgDto>,
    total: String,
    q: String,
    org_type: String,
    status: String,
    region: String,
    types: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
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
    org_type: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    status: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    region: String,
    page: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Query(p): Query<ListQuery>,
) -> Result<Response, AppError> {
    let params = OrgListParams {
        q: Some(p.q.clone()),
        region: Some(p.region.clone()),
        org_type: Some(p.org_type.clone()),
        status: Some(p.status.clone()),
        sort: None,
        page: p.page,
        per_page: Some(20),
        format: None,
    };
    let res = orgs::list(&state.db, &user.scope(), &params.filter()?, &Page::new(p.page, Some(20))).await?;
    let layout = Layout::new(&session, Some(&user), "社会组织", "organizations")
        .await?
        .crumb("/", "首页")
        .crumb("/organizations", "社会组织");
    let page_base = format!(
        "/organizations?q={}&org_type={}&status={}&region={}&",
        url_encode(&p.q),
        url_encode(&p.org_type),
        url_encode(&p.status),
        url_encode(&p.region)
    );
    let export_query = format!(
        "q={}&org_type={}&status={}&region={}",
        url_encode(&p.q),
        url_encode(&p.org_type),
        url_encode(&p.status),
        url_encode(&p.region)
    );
    render(&ListPage {
        layout,
        export_query,
        flash: take_flash(&session).await,
        total: res.total_label(),
        page: res.page.page,
        pages: res.pages(),
        items: res.items.into_iter().map(Into::into).collect(),
        q: p.q,
        org_type: p.org_type,
        status: p.status,
        region: p.region,
        types: type_options(),
        statuses: status_options(),
        can_register: user.role.manages_registry(),
        page_base,
    })
}

#[derive(Deserialize, Default)]
pub struct OrgForm {
    #[serde(deserialize_with = "crate::text::line::one", default)]
    name: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    credit_code: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    org_type: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    division_code: String,
    #[serde(deserialize_with = "crate::text::line::one", default)]
    registration_authority: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    registered_on: String,
    #[serde(deserialize_with = "crate::text::line::one", default)]
    document_number: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    legal_representative: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    contact_person: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    contact_phone: String,
    #[serde(deserialize_with = "crate::text::line::one", default)]
    address: String,
}

#[derive(Template)]
#[template(path = "registry/org_new.html")]
struct NewPage {
    layout: Layout,
    form: OrgForm,
    error: Option<String>,
    types: Vec<(&'static str, &'static str)>,
}

async fn new_page(
    session: &Session,
    user: &CurrentUser,
    form: OrgForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let layout = Layout::new(session, Some(user), "登记社会组织", "organizations")
        .await?
        .crumb("/", "首页")
        .crumb("/organizations", "社会组织")
        .crumb("", "登记");
    render(&NewPage { layout, form, error, types: type_options() })
}

pub async fn new_form(session: Session, user: CurrentUser) -> Result<Response, AppError> {
    user.require(user.role.manages_registry())?;
    let form = OrgForm {
        division_code: user.scope_division.clone(),
        org_type: "social_work_agency".into(),
        ..Default::default()
    };
    new_page(&session, &user, form, None).await
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|v| !v.is_empty())
}

pub async fn create(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<OrgForm>,
) -> Result<Response, AppError> {
    let input = NewOrgInput {
        name: f.name.clone(),
        credit_code: opt(&f.credit_code),
        org_type: f.org_type.clone(),
        other_types: Vec::new(),
        division_code: f.division_code.clone(),
        registration_authority: f.registration_authority.clone(),
        registered_on: f.registered_on.clone(),
        legal_representative: opt(&f.legal_representative),
        contact_person: opt(&f.contact_person),
        contact_phone: opt(&f.contact_phone),
        address: opt(&f.address),
        document_number: opt(&f.document_number),
    };
    match svc::create_organization(&state, &user, &meta, input).await {
        Ok(d) => {
            set_flash(&session, &format!("已登记：{}", d.org.name)).await;
            Ok(Redirect::to(&format!("/organizations/{}", d.org.id)).into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            let status = e.status();
            Ok((status, new_page(&session, &user, f, Some(e.to_string())).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "registry/org_show.html")]
struct ShowPage {
    layout: Layout,
    flash: Option<String>,
    d: OrgDetailDto,
    type_labels: Vec<&'static str>,
    region_name: String,
    can_register: bool,
    statuses: Vec<(&'static str, &'static str)>,
    today: String,
    error: Option<String>,
    pairings: Vec<crate::api::registry::PairingDto>,
    pairing_error: Option<String>,
}

async fn show_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    id: i64,
    error: Option<String>,
    pairing_error: Option<String>,
) -> Result<Response, AppError> {
    let d: OrgDetailDto = svc::detail(state, user, id).await?.into();
    let region_name = match wushe_domain::codes::division::DivisionCode::parse(&d.organization.division_code) {
        Ok(c) => regions::get(&state.db, &c).await?.map(|r| r.name).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let type_labels = d.types.iter().filter_map(|t| OrgType::parse(t)).map(|t| t.label()).collect();
    let layout = Layout::new(session, Some(user), &d.organization.name, "organizations")
        .await?
        .crumb("/", "首页")
        .crumb("/organizations", "社会组织")
        .crumb("", d.organization.name.clone());
    render(&ShowPage {
        layout,
        flash: take_flash(session).await,
        d,
        type_labels,
        region_name,
        can_register: user.role.manages_registry(),
        statuses: status_options(),
        today: svc::today().to_string(),
        error,
        pairings: wushe_store::registry::pairings::list(&state.db, &user.scope(), Some(id))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        pairing_error,
    })
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    show_page(&state, &session, &user, id, None, None).await
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(deserialize_with = "crate::text::label::one")]
    status: String,
    #[serde(deserialize_with = "crate::text::label::one")]
    effective_on: String,
    #[serde(deserialize_with = "crate::text::line::one")]
    authority: String,
    #[serde(deserialize_with = "crate::text::line::one", default)]
    document_number: String,
    #[serde(deserialize_with = "crate::text::note::one", default)]
    note: String,
}

pub async fn change_status(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Result<Response, AppError> {
    let input = OrgStatusInput {
        status: f.status,
        effective_on: f.effective_on,
        authority: f.authority,
        document_number: opt(&f.document_number),
        note: opt(&f.note),
    };
    match svc::change_status(&state, &user, &meta, id, input).await {
        Ok(d) => {
            let label = OrgStatus::parse(&d.org.status).map(|s| s.label()).unwrap_or("");
            set_flash(&session, &format!("已记录，当前状态：{label}")).await;
            Ok(Redirect::to(&format!("/organizations/{id}")).into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            let status = e.status();
            Ok((status, show_page(&state, &session, &user, id, Some(e.to_string()), None).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "public/lookup.html")]
struct LookupPage {
    layout: Layout,
    q: String,
    searched: bool,
    results: Vec<PublicOrg>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LookupQuery {
    #[serde(deserialize_with = "crate::text::line::one", default)]
    q: String,
}

/// Public organization lookup (no login).
pub async fn public_lookup(
    State(state): State<AppState>,
    session: Session,
    Query(p): Query<LookupQuery>,
) -> Result<Response, AppError> {
    let layout =
        Layout::new(&session, None, "社会组织查询", "public").await?.crumb("/public/organizations", "社会组织查询");
    let q = p.q.trim().to_string();
    if q.is_empty() {
        return render(&LookupPage { layout, q, searched: false, results: Vec::new(), error: None });
    }
    match svc::public_lookup(&state, &q).await {
        Ok(results) => render(&LookupPage { layout, q, searched: true, results, error: None }),
        Err(e @ AppError::Validation { .. }) => {
            let status = e.status();
            let msg = match &e {
                AppError::Validation { message, .. } => message.clone(),
                _ => e.to_string(),
            };
            Ok((status, render(&LookupPage { layout, q, searched: false, results: Vec::new(), error: Some(msg) })?)
                .into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct PairingForm {
    #[serde(deserialize_with = "crate::text::label::one")]
    programme: String,
    #[serde(deserialize_with = "crate::text::label::one")]
    helped_org_id: String,
    #[serde(deserialize_with = "crate::text::label::one")]
    starts_on: String,
    #[serde(deserialize_with = "crate::text::label::one")]
    ends_on: String,
    #[serde(deserialize_with = "crate::text::note::one")]
    goals: String,
}

/// Add a pairing with this organization as the helper.
pub async fn create_pairing(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<PairingForm>,
) -> Result<Response, AppError> {
    let result = match f.helped_org_id.trim().parse::<i64>() {
        Err(_) => Err(AppError::validation("受助组织编号", "应为数字")),
        Ok(helped) => {
            let input = svc::PairingInput {
                programme: f.programme,
                helper_org_id: id,
                helped_org_id: helped,
                starts_on: f.starts_on,
                ends_on: f.ends_on,
                goals: f.goals,
            };
            svc::create_pairing(&state, &user, &meta, input).await
        }
    };
    match result {
        Ok(_) => {
            set_flash(&session, "已新增结对帮扶").await;
            Ok(Redirect::to(&format!("/organizations/{id}")).into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            let status = e.status();
            Ok((status, show_page(&state, &session, &user, id, None, Some(e.to_string())).await?).into_response())
        }
        Err(e) => Err(e),
    }
}
