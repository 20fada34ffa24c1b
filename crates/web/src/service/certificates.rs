//! Volunteer service certificates (志愿服务记录证明): a volunteer asks an organization that
//! recorded their hours ("who records certifies"); its staff issue (after the optional
//! publicity period), decline or revoke; the PDF; the public verification by number.
//! Certificates are free of charge: nothing here has a price.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wushe_domain::accounts::{Role, Scope};
use wushe_domain::privacy::mask;
use wushe_domain::stats::metric;
use wushe_domain::time::local_date;
use wushe_domain::volunteering::certificate::{
    self as rules, CertificateAction, CertificateNumber, CertificateRules, CertificateStatus, Outcome,
};
use wushe_domain::volunteering::hours::hours_label;
use wushe_store::accounts::audit::{self, Event};
use wushe_store::registry::organizations;
use wushe_store::stats::{self, Delta};
use wushe_store::volunteering::certificates::{self as store, CertificateFilter, CertificateRow, Item, Viewer};
use wushe_store::{settings, Page, Paged};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

pub const CERTIFICATE_RULES_KEY: &str = "volunteering.certificates";
/// The only kind of ID the registry holds.
pub const ID_TYPE: &str = "居民身份证";
/// Characters of an activity's content kept per itemized service.
const CONTENT_CHARS: usize = 120;

/// What the caller may see: volunteers their own, organization staff their organization's,
/// officials and station staff those issued in their region.
pub fn viewer(user: &CurrentUser) -> Result<Viewer, AppError> {
    match (user.role, user.person_id) {
        (Role::Volunteer, Some(p)) => Ok(Viewer::Person(p)),
        (Role::Volunteer, None) => Err(AppError::Forbidden("您的账号尚未关联志愿者登记信息，请联系所在组织".into())),
        (r, _) if r.runs_activities() || r.oversees_volunteering() => Ok(Viewer::Scoped(user.scope())),
        _ => Err(AppError::Forbidden(format!("您的角色（{}）无权查看志愿服务记录证明", user.role.label()))),
    }
}

/// Whether the user acts for the issuing organization.
fn acts_for(user: &CurrentUser, organization_id: i64) -> bool {
    user.role.runs_activities() && (user.role == Role::Admin || user.organization_id == Some(organization_id))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CertificateView {
    pub id: i64,
    /// Given at issue, grouped for reading (`2026-7KQ2-M9XD-4HTR-C`).
    pub number: Option<String>,
    /// requested | publicity | issued | declined | revoked
    pub status: String,
    pub status_label: String,
    pub person_id: i64,
    pub person_name: String,
    pub organization_id: i64,
    pub organization_name: String,
    /// What the volunteer needs it for.
    pub purpose: Option<String>,
    pub requested_at: DateTime<Utc>,
    /// End of the publicity period (while in publicity).
    pub publicity_until: Option<DateTime<Utc>>,
    pub issued_on: Option<NaiveDate>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it was declined or revoked.
    pub reason: Option<String>,
    /// Issued certificates: the total certified.
    pub total_minutes: Option<i64>,
    pub total_hours: Option<String>,
    pub services: Option<i64>,
    /// A record it lists was corrected after issue: it should be re-issued.
    pub records_corrected: bool,
    /// Public verification page (issued and revoked certificates).
    pub verify_path: Option<String>,
}

impl From<CertificateRow> for CertificateView {
    fn from(c: CertificateRow) -> Self {
        let status = CertificateStatus::parse(&c.status);
        let number = c.number.as_deref().and_then(|n| CertificateNumber::parse(n).ok());
        CertificateView {
            id: c.id,
            verify_path: number.as_ref().map(|n| format!("/verify/{}", n.as_str())),
            number: number.map(|n| n.display()),
            status_label: status.map_or(c.status.clone(), |s| s.label().into()),
            status: c.status,
            person_id: c.person_id,
            person_name: c.person_name,
            organization_id: c.organization_id,
            organization_name: c.organization_name,
            purpose: c.purpose,
            requested_at: c.requested_at,
            publicity_until: c.publicity_until,
            issued_on: c.issued_on,
            revoked_at: c.revoked_at,
            reason: c.reason,
            total_hours: c.total_minutes.map(hours_label),
            total_minutes: c.total_minutes,
            services: c.item_count,
            records_corrected: c.records_corrected_at.is_some(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub record_id: i64,
    pub activity_title: String,
    pub service_date: NaiveDate,
    pub place: String,
    pub content: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub credited_minutes: i64,
    pub hours: String,
}

impl From<Item> for ItemView {
    fn from(i: Item) -> Self {
        ItemView {
            hours: hours_label(i.credited_minutes),
            record_id: i.record_id,
            activity_title: i.activity_title,
            service_date: i.service_date,
            place: i.place,
            content: i.content,
            started_at: i.started_at,
            ended_at: i.ended_at,
            credited_minutes: i.credited_minutes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateDetail {
    pub certificate: CertificateView,
    /// Issued: as stated at issue. In progress: the holder's current facts.
    pub holder_name: String,
    pub id_type: String,
    pub id_masked: String,
    pub volunteer_number: String,
    pub issuer_name: String,
    pub issuer_credit_code: Option<String>,
    /// 负责人
    pub person_in_charge: Option<String>,
    /// 经办人 (the staff member who issued it)
    pub handler_name: Option<String>,
    pub contact: Option<String>,
    /// Issued: the services listed at issue. In progress: what issuing now would list.
    pub items: Vec<ItemView>,
    pub total_minutes: i64,
    pub total_hours: String,
    /// Whether the caller may issue, decline or revoke it.
    pub manages: bool,
}

// ---------- requests ----------

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RequestInput {
    /// The organization that recorded the hours.
    pub organization_id: i64,
    /// What the certificate is for (optional, up to 100 characters).
    #[serde(default, deserialize_with = "crate::text::line::opt")]
    #[schema(max_length = 200)]
    pub purpose: Option<String>,
}

/// Organizations that recorded hours for the volunteer (they may ask each for a certificate).
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerView {
    pub organization_id: i64,
    pub organization_name: String,
    pub services: i64,
    pub minutes: i64,
    pub hours: String,
    /// A request to it is in progress.
    pub pending: bool,
}

fn volunteer_person(user: &CurrentUser) -> Result<i64, AppError> {
    match (user.role, user.person_id) {
        (Role::Volunteer, Some(p)) => Ok(p),
        (Role::Volunteer, None) => Err(AppError::Forbidden("您的账号尚未关联志愿者登记信息，请联系所在组织".into())),
        _ => Err(AppError::Forbidden("证明由志愿者本人申请，请使用志愿者账号".into())),
    }
}

/// The organizations the volunteer may ask (those that recorded their hours).
pub async fn issuers(state: &AppState, user: &CurrentUser) -> Result<Vec<IssuerView>, AppError> {
    let person = volunteer_person(user)?;
    let pending = store::list(
        &state.db,
        &Viewer::Person(person),
        &CertificateFilter::default(),
        &Page::new(None, Some(Page::MAX_PER_PAGE)),
    )
    .await?;
    Ok(store::issuers_for(&state.db, person)
        .await?
        .into_iter()
        .map(|i| IssuerView {
            pending: pending.items.iter().any(|c| {
                c.organization_id == i.organization_id
                    && CertificateStatus::parse(&c.status).is_some_and(CertificateStatus::is_pending)
            }),
            organization_id: i.organization_id,
            organization_name: i.organization_name,
            services: i.services,
            hours: hours_label(i.minutes),
            minutes: i.minutes,
        })
        .collect())
}

/// The volunteer asks an organization for a certificate of the hours it recorded.
pub async fn request(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: RequestInput,
) -> Result<i64, AppError> {
    let person = volunteer_person(user)?;
    let issuer =
        store::issuers_for(&state.db, person).await?.into_iter().find(|i| i.organization_id == input.organization_id);
    let Some(issuer) = issuer else {
        return Err(AppError::validation(
            "organization_id",
            "该组织没有为您记录过志愿服务时长。按“谁记录谁证明”，只能向记录了您服务时长的组织申请证明",
        ));
    };
    if issuer.minutes <= 0 {
        return Err(AppError::validation(
            "organization_id",
            format!("您在「{}」已确认的服务时长为 0 小时，没有可以证明的时长", issuer.organization_name),
        ));
    }
    let purpose = input.purpose.as_deref().map(str::trim).filter(|p| !p.is_empty());
    if purpose.is_some_and(|p| p.chars().count() > 100) {
        return Err(AppError::validation("用途", "不超过 100 个字符"));
    }
    let org = organizations::get_organization(&state.db, &Scope::national(), issuer.organization_id).await?;
    let mut tx = state.db.begin().await?;
    let id = store::insert_request(
        &mut tx,
        &store::NewRequest {
            person_id: person,
            organization_id: org.id,
            division_code: &org.division_code,
            purpose,
            requested_by: user.id,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "request",
            entity: "certificate",
            entity_id: Some(id.to_string()),
            division_code: &org.division_code,
            organization_id: Some(org.id),
            summary: serde_json::json!({ "person": person, "purpose": purpose, "minutes": issuer.minutes }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

// ---------- the organization's decisions ----------

/// Issue (or start the publicity), decline or revoke; a decline or revocation needs a reason.
pub async fn decide(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    id: i64,
    action: CertificateAction,
    reason: Option<&str>,
) -> Result<CertificateView, AppError> {
    user.require(user.role.runs_activities())?;
    let reason = match action {
        CertificateAction::Issue => None,
        _ => Some(rules::check_reason(reason.unwrap_or("")).map_err(|m| AppError::validation("原因", m))?),
    };
    let mut tx = state.db.begin().await?;
    let c = store::get_tx(&mut tx, id).await?;
    if !acts_for(user, c.organization_id) {
        return Err(AppError::NotFound("记录不存在或不在您的管辖范围内".into()));
    }
    if user.person_id == Some(c.person_id) {
        return Err(AppError::Forbidden("不能为自己出具或处理证明".into()));
    }
    let from = CertificateStatus::parse(&c.status).ok_or_else(|| AppError::internal("unknown certificate status"))?;
    let cert_rules: CertificateRules = settings::get_tx(&mut tx, CERTIFICATE_RULES_KEY).await?;
    let now = wushe_store::time::now();
    let outcome = rules::transition(from, action, &cert_rules, c.publicity_until, now).map_err(AppError::Conflict)?;
    let mut summary =
        serde_json::json!({ "from": from.as_str(), "to": outcome.status().as_str(), "person": c.person_id });
    match outcome {
        Outcome::Publicize { until } => {
            store::start_publicity(&mut tx, id, until, user.id).await?;
            summary["publicity_until"] = serde_json::json!(until);
        }
        Outcome::Issue => {
            let (number, minutes, n) = write_issue(state, &mut tx, user, &c, now).await?;
            stats::append(&mut tx, &[Delta::new(metric::CERTIFICATES, &c.division_code, local_date(now), 1)]).await?;
            summary["number"] = serde_json::json!(number);
            summary["total_minutes"] = serde_json::json!(minutes);
            summary["services"] = serde_json::json!(n);
        }
        Outcome::Decline => {
            store::decline(&mut tx, id, reason.unwrap_or_default(), user.id).await?;
            summary["reason"] = serde_json::json!(reason);
        }
        Outcome::Revoke => {
            store::revoke(&mut tx, id, reason.unwrap_or_default(), user.id).await?;
            // taken back where and when it was counted (as corrections are)
            let day = c.issued_on.unwrap_or_else(|| local_date(now));
            stats::append(&mut tx, &[Delta::new(metric::CERTIFICATES, &c.division_code, day, -1)]).await?;
            summary["reason"] = serde_json::json!(reason);
            summary["number"] = serde_json::json!(c.number);
        }
    }
    let action_name = match outcome {
        Outcome::Publicize { .. } => "publicize",
        Outcome::Issue => "issue",
        Outcome::Decline => "decline",
        Outcome::Revoke => "revoke",
    };
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: action_name,
            entity: "certificate",
            entity_id: Some(id.to_string()),
            division_code: &c.division_code,
            organization_id: Some(c.organization_id),
            summary,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(store::get(&state.db, &Viewer::Scoped(Scope::national()), id).await?.into())
}

/// The snapshot an issued certificate keeps, and its number. Returns (number, minutes, services).
async fn write_issue(
    state: &AppState,
    tx: &mut wushe_store::Tx,
    user: &CurrentUser,
    c: &CertificateRow,
    now: DateTime<Utc>,
) -> Result<(String, i64, usize), AppError> {
    let mut items = store::services_for(tx, c.person_id, c.organization_id).await?;
    for it in &mut items {
        // an activity's description runs to 5000 characters; a certificate lists its gist
        if it.content.chars().count() > CONTENT_CHARS {
            it.content = it.content.chars().take(CONTENT_CHARS - 1).chain(['…']).collect();
        }
    }
    let total: i64 = items.iter().map(|i| i.credited_minutes).sum();
    if items.is_empty() || total <= 0 {
        return Err(AppError::Conflict("该志愿者在本组织已确认的服务时长为 0 小时，没有可以证明的时长".into()));
    }
    let (name, id_masked, volunteer_number) = store::holder(tx, c.person_id).await?;
    let org = organizations::get_organization(&state.db, &Scope::national(), c.organization_id).await?;
    let contact = match (org.contact_person.as_deref(), org.contact_phone.as_deref()) {
        (Some(p), Some(t)) => Some(format!("{p} {t}")),
        (p, t) => p.or(t).map(str::to_string),
    };
    let issued_on = local_date(now);
    // 60 random bits: a clash is all but impossible, but the unique index decides
    let mut number = None;
    for _ in 0..5 {
        let candidate = CertificateNumber::generate(chrono::Datelike::year(&issued_on), rand::random::<u64>());
        if !store::number_taken(tx, candidate.as_str()).await? {
            number = Some(candidate);
            break;
        }
    }
    let number = number.ok_or_else(|| AppError::internal("no free certificate number"))?;
    store::issue(
        tx,
        c.id,
        &store::Snapshot {
            number: number.as_str(),
            issued_at: now,
            issued_on,
            issued_by: user.id,
            holder_name: &name,
            id_type: ID_TYPE,
            id_masked: &id_masked,
            volunteer_number: &volunteer_number,
            issuer_name: &org.name,
            issuer_credit_code: org.credit_code.as_deref(),
            person_in_charge: org.legal_representative.as_deref().or(org.contact_person.as_deref()),
            handler_name: &user.display_name,
            contact: contact.as_deref(),
            total_minutes: total,
            items: &items,
        },
    )
    .await?;
    Ok((number.display(), total, items.len()))
}

// ---------- lists and the full view ----------

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    pub organization_id: Option<i64>,
}

pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    f: &ListFilter,
    page: &Page,
) -> Result<Paged<CertificateView>, AppError> {
    let status = match f.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(
            CertificateStatus::parse(s)
                .ok_or_else(|| AppError::validation("status", format!("未知的证明状态「{s}」")))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let p =
        store::list(&state.db, &viewer(user)?, &CertificateFilter { status, organization_id: f.organization_id }, page)
            .await?;
    Ok(Paged { items: p.items.into_iter().map(Into::into).collect(), total: p.total, capped: p.capped, page: p.page })
}

/// One certificate in full (holder, issuer, itemized services); every view is audited.
pub async fn detail(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    id: i64,
) -> Result<CertificateDetail, AppError> {
    let c = store::get(&state.db, &viewer(user)?, id).await?;
    let manages = acts_for(user, c.organization_id) && user.person_id != Some(c.person_id);
    let issued = c.number.is_some();
    let (items, holder, issuer) = if issued {
        let items = store::items(&state.db, id).await?;
        let holder = (
            c.holder_name.clone().unwrap_or_default(),
            c.id_masked.clone().unwrap_or_default(),
            c.volunteer_number.clone().unwrap_or_default(),
        );
        let issuer = (
            c.issuer_name.clone().unwrap_or_default(),
            c.issuer_credit_code.clone(),
            c.person_in_charge.clone(),
            c.contact.clone(),
        );
        (items, holder, issuer)
    } else {
        // what issuing now would state
        let items = store::services_preview(&state.db, c.person_id, c.organization_id).await?;
        let holder = store::holder_preview(&state.db, c.person_id).await?;
        let org = organizations::get_organization(&state.db, &Scope::national(), c.organization_id).await?;
        let issuer = (
            org.name,
            org.credit_code,
            org.legal_representative.or(org.contact_person.clone()),
            org.contact_person.zip(org.contact_phone).map(|(p, t)| format!("{p} {t}")),
        );
        (items, holder, issuer)
    };
    let total: i64 = if issued { c.total_minutes.unwrap_or(0) } else { items.iter().map(|i| i.credited_minutes).sum() };
    audit::append_now(
        &state.db,
        &meta.actor(Some(user)),
        &Event {
            action: "view",
            entity: "certificate",
            entity_id: Some(id.to_string()),
            division_code: &c.division_code,
            organization_id: Some(c.organization_id),
            summary: serde_json::json!({ "person": c.person_id, "name": mask::mask_name(&c.person_name) }),
        },
    )
    .await?;
    let handler_name = c.handler_name.clone();
    Ok(CertificateDetail {
        holder_name: holder.0,
        id_type: ID_TYPE.into(),
        id_masked: holder.1,
        volunteer_number: holder.2,
        issuer_name: issuer.0,
        issuer_credit_code: issuer.1,
        person_in_charge: issuer.2,
        handler_name,
        contact: issuer.3,
        items: items.into_iter().map(Into::into).collect(),
        total_hours: hours_label(total),
        total_minutes: total,
        manages,
        certificate: c.into(),
    })
}

/// The issued certificate as a PDF (its holder, the issuing organization, or officials of
/// the region); every download is audited. `origin` is this site's address as the request
/// names it, used for the QR code when no public address is configured.
pub async fn pdf(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    id: i64,
    origin: Option<String>,
) -> Result<(String, Vec<u8>), AppError> {
    let c = store::get(&state.db, &viewer(user)?, id).await?;
    let number = match (c.status.as_str(), c.number.as_deref().and_then(|n| CertificateNumber::parse(n).ok())) {
        ("issued", Some(n)) => n,
        ("revoked", _) => return Err(AppError::Conflict("该证明已撤销，不能下载".into())),
        _ => return Err(AppError::Conflict("证明尚未出具，出具后才能下载".into())),
    };
    let items = store::items(&state.db, id).await?;
    let base = match state.config.public_url.trim_end_matches('/') {
        "" => origin.unwrap_or_default(),
        configured => configured.to_string(),
    };
    let verify_url = format!("{base}/verify/{}", number.as_str());
    let display = number.display();
    let bytes = tokio::task::spawn_blocking({
        let c = c.clone();
        move || {
            crate::certificate_pdf::render(&crate::certificate_pdf::CertificateDoc {
                number: &display,
                holder_name: c.holder_name.as_deref().unwrap_or_default(),
                id_type: c.id_type.as_deref().unwrap_or(ID_TYPE),
                id_masked: c.id_masked.as_deref().unwrap_or_default(),
                volunteer_number: c.volunteer_number.as_deref().unwrap_or_default(),
                total_minutes: c.total_minutes.unwrap_or(0),
                items: &items,
                issuer_name: c.issuer_name.as_deref().unwrap_or_default(),
                issuer_credit_code: c.issuer_credit_code.as_deref(),
                person_in_charge: c.person_in_charge.as_deref(),
                handler_name: c.handler_name.as_deref().unwrap_or_default(),
                contact: c.contact.as_deref(),
                issued_on: c.issued_on.unwrap_or_else(|| local_date(Utc::now())),
                verify_url: &verify_url,
            })
        }
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    audit::append_now(
        &state.db,
        &meta.actor(Some(user)),
        &Event {
            action: "download",
            entity: "certificate",
            entity_id: Some(id.to_string()),
            division_code: &c.division_code,
            organization_id: Some(c.organization_id),
            summary: serde_json::json!({ "number": number.as_str(), "person": c.person_id }),
        },
    )
    .await?;
    Ok((format!("志愿服务记录证明-{}.pdf", number.as_str()), bytes))
}

// ---------- public verification ----------

/// What anyone may learn from a certificate number: whether it is valid, who issued it, the
/// masked holder and the hours.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicCertificate {
    /// Grouped for reading.
    pub number: String,
    /// Issued and not revoked.
    pub valid: bool,
    /// issued | revoked
    pub status: String,
    /// 有效 / 已撤销
    pub status_label: String,
    pub issuer_name: String,
    pub issuer_credit_code: Option<String>,
    /// Masked (李*华).
    pub holder_name: String,
    /// Masked (110101********1234).
    pub id_masked: String,
    pub volunteer_number: String,
    pub total_minutes: i64,
    pub total_hours: String,
    pub services: i64,
    pub issued_on: NaiveDate,
    pub revoked_on: Option<NaiveDate>,
    /// A record it lists was corrected after issue (it states the hours as they stood then).
    pub records_corrected_after_issue: bool,
}

/// The public verification: the typed number is checked first (a typo is reported without a
/// lookup), then one indexed lookup. Fast by design: no audit write, no join.
pub async fn verify(state: &AppState, number: &str) -> Result<PublicCertificate, AppError> {
    let n = CertificateNumber::parse(number).map_err(|e| AppError::validation("证明编号", e.to_string()))?;
    let Some(r) = store::verify(&state.db, n.as_str()).await? else {
        return Err(AppError::NotFound(format!(
            "未找到编号为 {} 的志愿服务记录证明，请核对编号，或向出具单位咨询",
            n.display()
        )));
    };
    let valid = r.status == CertificateStatus::Issued.as_str();
    Ok(PublicCertificate {
        number: n.display(),
        valid,
        status_label: if valid { "有效".into() } else { "已撤销".into() },
        status: r.status,
        issuer_name: r.issuer_name,
        issuer_credit_code: r.issuer_credit_code,
        holder_name: mask::mask_name_ends(&r.holder_name),
        id_masked: r.id_masked,
        volunteer_number: r.volunteer_number,
        total_hours: hours_label(r.total_minutes),
        total_minutes: r.total_minutes,
        services: r.item_count,
        issued_on: r.issued_on,
        revoked_on: r.revoked_at.map(local_date),
        records_corrected_after_issue: r.records_corrected_at.is_some(),
    })
}
