//! Certificates in the UI: the volunteer asks from "我的志愿记录" (see `ui::volunteering`),
//! the organization reviews requests here (issue / decline / revoke), officials see those
//! issued in their region, and anyone verifies a number at `/verify` (no login; the QR code
//! printed on a certificate opens `/verify/{number}`).

use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_domain::accounts::Role;
use wushe_domain::volunteering::certificate::CertificateNumber;
use wushe_store::Page;

use super::volunteering::{fmt_range, fmt_time};
use super::{render, set_flash, take_flash, Layout};
use crate::auth::{CurrentUser, MaybeUser, RequestMeta};
use crate::error::AppError;
use crate::service::certificates::{self as svc, CertificateView, PublicCertificate, RequestInput};
use crate::state::AppState;

/// A certificate as a list shows it.
pub struct CertCard {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub status_label: String,
    pub badge: &'static str,
    pub person_name: String,
    pub organization_name: String,
    pub purpose: String,
    pub requested_at: String,
    pub publicity_until: String,
    pub issued_on: String,
    pub hours: String,
    pub services: i64,
    pub reason: String,
    pub records_corrected: bool,
    pub verify_path: String,
    pub pending: bool,
    pub issued: bool,
}

pub fn badge(status: &str) -> &'static str {
    match status {
        "issued" => "text-bg-success",
        "requested" => "text-bg-warning",
        "publicity" => "text-bg-info",
        "revoked" => "text-bg-danger",
        _ => "text-bg-secondary",
    }
}

impl From<CertificateView> for CertCard {
    fn from(c: CertificateView) -> Self {
        CertCard {
            id: c.id,
            number: c.number.unwrap_or_default(),
            badge: badge(&c.status),
            pending: matches!(c.status.as_str(), "requested" | "publicity"),
            issued: c.status == "issued",
            status: c.status,
            status_label: c.status_label,
            person_name: c.person_name,
            organization_name: c.organization_name,
            purpose: c.purpose.unwrap_or_default(),
            requested_at: fmt_time(c.requested_at),
            publicity_until: c.publicity_until.map(fmt_time).unwrap_or_default(),
            issued_on: c.issued_on.map(|d| d.to_string()).unwrap_or_default(),
            hours: c.total_hours.unwrap_or_default(),
            services: c.services.unwrap_or(0),
            reason: c.reason.unwrap_or_default(),
            records_corrected: c.records_corrected,
            verify_path: c.verify_path.unwrap_or_default(),
        }
    }
}

// ---------- the organization's (and officials') list ----------

#[derive(Template)]
#[template(path = "certificates/list.html")]
struct ListPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    items: Vec<CertCard>,
    total: String,
    /// Organization staff: may issue, decline and revoke.
    decides: bool,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    page: u32,
    pages: u32,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    status: String,
    page: Option<u32>,
}

async fn list_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    q: &ListQuery,
    error: Option<String>,
) -> Result<Response, AppError> {
    if user.role == Role::Volunteer {
        return Ok(Redirect::to("/me/record#certificates").into_response());
    }
    let page = Page::new(q.page, Some(50));
    let f = svc::ListFilter { status: Some(q.status.clone()).filter(|s| !s.is_empty()), organization_id: None };
    let res = svc::list(state, user, &f, &page).await?;
    let layout = Layout::new(session, Some(user), "志愿服务记录证明", "certificates")
        .await?
        .crumb("/", "首页")
        .crumb("", "志愿服务记录证明");
    use wushe_domain::volunteering::certificate::CertificateStatus as S;
    render(&ListPage {
        layout,
        flash: take_flash(session).await,
        error,
        total: res.total_label(),
        pages: res.pages(),
        items: res.items.into_iter().map(Into::into).collect(),
        decides: (user.role.runs_activities() && user.organization_id.is_some()) || user.role == Role::Admin,
        status: q.status.clone(),
        statuses: S::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        page: page.page,
    })
}

/// `GET /certificates`
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    list_page(&state, &session, &user, &q, None).await
}

#[derive(Deserialize, Default)]
pub struct RequestForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    organization_id: String,
    #[serde(deserialize_with = "crate::text::line::one", default)]
    purpose: String,
}

/// `POST /certificates`: the volunteer asks an organization (from 我的志愿记录).
pub async fn request(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<RequestForm>,
) -> Result<Response, AppError> {
    let organization_id = f
        .organization_id
        .trim()
        .parse()
        .map_err(|_| AppError::validation("organization_id", "请选择出具证明的组织"))?;
    let input = RequestInput { organization_id, purpose: Some(f.purpose) };
    match svc::request(&state, &user, &meta, input).await {
        Ok(_) => {
            set_flash(&session, "证明申请已提交，等待组织审核出具（免费）").await;
            Ok(Redirect::to("/me/record#certificates").into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            let (status, m) = (e.status(), e.to_string());
            let mut res = super::volunteering::my_record_with_error(&state, &session, &user, m).await?;
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct DecisionForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    action: String,
    #[serde(deserialize_with = "crate::text::note::one", default)]
    reason: String,
}

/// `POST /certificates/{id}/decision`: issue, decline or revoke.
pub async fn decide(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, AppError> {
    let result = match crate::api::certificates::parse_action(&f.action) {
        Ok(action) => svc::decide(&state, &user, &meta, id, action, Some(&f.reason)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => {
            let msg = match c.status.as_str() {
                "issued" => format!("已出具证明，编号 {}", c.number.unwrap_or_default()),
                "publicity" => format!("已开始公示，公示期至 {}", c.publicity_until.map(fmt_time).unwrap_or_default()),
                "declined" => "已决定不出具，原因已告知志愿者".to_string(),
                _ => "证明已撤销，查验时将显示“已撤销”".to_string(),
            };
            set_flash(&session, &msg).await;
            Ok(Redirect::to("/certificates").into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            let (status, m) = (e.status(), e.to_string());
            let mut res = list_page(&state, &session, &user, &ListQuery::default(), Some(m)).await?;
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

// ---------- one certificate ----------

pub struct ItemRow {
    pub n: usize,
    pub title: String,
    pub date: String,
    pub place: String,
    pub content: String,
    pub time: String,
    pub hours: String,
}

#[derive(Template)]
#[template(path = "certificates/show.html")]
struct ShowPage {
    layout: Layout,
    c: CertCard,
    d: svc::CertificateDetail,
    items: Vec<ItemRow>,
}

/// `GET /certificates/{id}`: the full certificate (audited).
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let mut d = svc::detail(&state, &user, &meta, id).await?;
    let items = std::mem::take(&mut d.items)
        .into_iter()
        .enumerate()
        .map(|(i, it)| ItemRow {
            n: i + 1,
            title: it.activity_title,
            date: it.service_date.to_string(),
            place: it.place,
            content: it.content,
            time: fmt_range(it.started_at, it.ended_at),
            hours: it.hours,
        })
        .collect();
    let c: CertCard = d.certificate.clone().into();
    let back = if user.role == Role::Volunteer {
        ("/me/record", "我的志愿记录")
    } else {
        ("/certificates", "志愿服务记录证明")
    };
    let layout = Layout::new(&session, Some(&user), "志愿服务记录证明", "certificates")
        .await?
        .crumb("/", "首页")
        .crumb(back.0, back.1)
        .crumb("", format!("证明 #{id}"));
    render(&ShowPage { layout, c, d, items })
}

// ---------- public verification ----------

#[derive(Template)]
#[template(path = "certificates/verify.html")]
struct VerifyPage {
    layout: Layout,
    number: String,
    result: Option<PublicCertificate>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct VerifyQuery {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    number: String,
}

async fn verify_page(
    state: &AppState,
    session: &Session,
    user: Option<&CurrentUser>,
    number: &str,
) -> Result<Response, AppError> {
    let layout = Layout::new(session, user, "证明查验", "verify").await?;
    let (result, error, status) = if number.trim().is_empty() {
        (None, None, StatusCode::OK)
    } else {
        match svc::verify(state, number).await {
            Ok(r) => (Some(r), None, StatusCode::OK),
            Err(e @ (AppError::Validation { .. } | AppError::NotFound(_))) => {
                let status = e.status();
                let m = match e {
                    AppError::Validation { message, .. } => message,
                    e => e.to_string(),
                };
                (None, Some(m), status)
            }
            Err(e) => return Err(e),
        }
    };
    let mut res = render(&VerifyPage { layout, number: number.trim().to_string(), result, error })?;
    *res.status_mut() = status;
    Ok(res)
}

/// `GET /verify` (the form; `?number=` verifies).
pub async fn verify_form(
    State(state): State<AppState>,
    session: Session,
    MaybeUser(user): MaybeUser,
    Query(q): Query<VerifyQuery>,
) -> Result<Response, AppError> {
    // a well-formed number gets its own address, the one the QR code opens
    if let Ok(n) = CertificateNumber::parse(&q.number) {
        return Ok(Redirect::to(&format!("/verify/{}", n.as_str())).into_response());
    }
    verify_page(&state, &session, user.as_ref(), &q.number).await
}

/// `GET /verify/{number}`: what the certificate's QR code opens.
pub async fn verify(
    State(state): State<AppState>,
    session: Session,
    MaybeUser(user): MaybeUser,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    verify_page(&state, &session, user.as_ref(), &number).await
}
