//! Registry use cases: organizations (creation, status changes under the domain's state
//! machine), the banned list, and the public lookup.

use chrono::NaiveDate;
use serde::Deserialize;
use wushe_domain::codes::credit_code::CreditCode;
use wushe_domain::registry::org::{self as rules, OrgStatus, OrgType, RegistryRules, StatusEvent};
use wushe_domain::registry::person::normalize_phone;
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::registry::banned::{self, BannedRow, NewBanned};
use wushe_store::registry::organizations::{self as orgs, NewOrganization, NewStatus, OrganizationRow, StatusRow};
use wushe_store::registry::pairings;
use wushe_store::{regions, Page, Tx};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

/// Today in Beijing time: decisions and registrations are dated locally.
pub fn today() -> NaiveDate {
    wushe_domain::time::today()
}

fn parse_date(field: &str, s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| AppError::validation(field, "日期格式应为 YYYY-MM-DD"))
}

fn opt_text(field: &str, s: &Option<String>, max: usize) -> Result<Option<String>, AppError> {
    match s.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().count() > max => Err(AppError::validation(field, format!("不能超过 {max} 个字符"))),
        Some(v) => Ok(Some(v.to_string())),
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewOrgInput {
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub name: String,
    /// 统一社会信用代码 (18 characters, check digit verified).
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub credit_code: Option<String>,
    /// Main type key, e.g. `social_work_agency`.
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub org_type: String,
    /// Further types or recognitions the organization holds.
    #[serde(deserialize_with = "crate::text::label::many", default)]
    pub other_types: Vec<String>,
    /// Region of activity: a current division code (2–12 digits) inside your scope.
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub division_code: String,
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub registration_authority: String,
    /// YYYY-MM-DD
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub registered_on: String,
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub legal_representative: Option<String>,
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub contact_person: Option<String>,
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    #[schema(max_length = 50)]
    pub contact_phone: Option<String>,
    #[serde(deserialize_with = "crate::text::line::opt", default)]
    #[schema(max_length = 200)]
    pub address: Option<String>,
    #[serde(deserialize_with = "crate::text::line::opt", default)]
    #[schema(max_length = 200)]
    pub document_number: Option<String>,
}

/// An organization with its types and full status history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrgDetail {
    pub org: OrganizationRow,
    pub types: Vec<String>,
    pub history: Vec<StatusRow>,
}

/// What the organization row keeps of the domain's standing.
fn store_standing(s: &rules::Standing) -> orgs::Standing<'static> {
    orgs::Standing {
        status: s.status.map(OrgStatus::as_str).unwrap_or("registered"),
        is_charity: s.is_charity,
        fundraising_qualified: s.fundraising_qualified,
    }
}

fn parse_type(field: &str, key: &str) -> Result<OrgType, AppError> {
    OrgType::parse(key.trim()).ok_or_else(|| AppError::validation(field, format!("未知的组织类型「{key}」")))
}

/// A new organization that passed every check, ready to be written.
#[derive(Debug, Clone)]
pub struct ValidOrg {
    pub name: String,
    pub credit_code: Option<CreditCode>,
    pub types: Vec<OrgType>,
    pub code: wushe_domain::codes::division::DivisionCode,
    pub authority: String,
    pub phone: Option<String>,
    pub legal: Option<String>,
    pub contact: Option<String>,
    pub address: Option<String>,
    pub document_number: Option<String>,
    /// Status history to record, oldest first (valid under the domain's state machine).
    pub history: Vec<StatusEvent>,
}

/// Check a new organization against every rule; nothing is written.
pub async fn validate_new_org(state: &AppState, user: &CurrentUser, input: NewOrgInput) -> Result<ValidOrg, AppError> {
    user.require(user.role.manages_registry())?;
    let name = input.name.trim();
    if name.chars().count() < 2 || name.chars().count() > 100 {
        return Err(AppError::validation("组织名称", "应为 2–100 个字符"));
    }
    let credit_code = match input.credit_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(CreditCode::parse(c).map_err(|e| AppError::validation("统一社会信用代码", e.to_string()))?),
        None => None,
    };
    let main_type = parse_type("组织类型", &input.org_type)?;
    let mut types = vec![main_type];
    for t in &input.other_types {
        let t = parse_type("其他类型", t)?;
        if !types.contains(&t) {
            types.push(t);
        }
    }
    let code = crate::service::regions::parse_code("活动区域", &input.division_code)?;
    if !user.covers(code.prefix()) {
        return Err(AppError::Forbidden(format!("活动区域 {} 不在您的管辖范围内", code.prefix())));
    }
    if !regions::exists(&state.db, &code).await? {
        return Err(AppError::validation("活动区域", format!("区划代码 {} 不存在", code.prefix())));
    }
    let authority = input.registration_authority.trim();
    if authority.is_empty() || authority.chars().count() > 100 {
        return Err(AppError::validation("登记管理机关", "不能为空，且不超过 100 个字符"));
    }
    let registered_on = parse_date("登记日期", &input.registered_on)?;
    if registered_on > today() {
        return Err(AppError::validation("登记日期", "不能晚于今天"));
    }
    let phone = match input.contact_phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Some(normalize_phone(p).map_err(|m| AppError::validation("联系电话", m))?),
        None => None,
    };
    Ok(ValidOrg {
        name: name.to_string(),
        credit_code,
        code,
        authority: authority.to_string(),
        phone,
        legal: opt_text("法定代表人", &input.legal_representative, 50)?,
        contact: opt_text("联系人", &input.contact_person, 50)?,
        address: opt_text("地址", &input.address, 200)?,
        document_number: opt_text("文号", &input.document_number, 100)?,
        // Registered directly as a charity organization: recognized on the registration date.
        history: rules::initial_history(registered_on, main_type == OrgType::CharityOrganization),
        types,
    })
}

/// Write a validated organization, its status history and the audit entry in `tx`.
pub async fn write_new_org(
    tx: &mut Tx,
    actor: &Actor,
    recorded_by: Option<i64>,
    v: &ValidOrg,
) -> Result<i64, AppError> {
    rules::validate_history(&v.history, &RegistryRules::default())
        .map_err(|(_, e)| AppError::Conflict(e.to_string()))?;
    let type_keys: Vec<&str> = v.types.iter().map(|t| t.as_str()).collect();
    let registered_on = v.history.first().map(|e| e.effective);
    let id = orgs::create_organization(
        tx,
        &NewOrganization {
            name: &v.name,
            credit_code: v.credit_code.as_ref().map(|c| c.as_str()),
            org_type: type_keys[0],
            types: &type_keys,
            division_code: v.code.full(),
            registration_authority: Some(&v.authority),
            registered_on,
            legal_representative: v.legal.as_deref(),
            contact_person: v.contact.as_deref(),
            contact_phone: v.phone.as_deref(),
            address: v.address.as_deref(),
        },
    )
    .await?;
    for i in 0..v.history.len() {
        let ev = &v.history[i];
        orgs::append_status(
            tx,
            id,
            &NewStatus {
                status: ev.status.as_str(),
                effective_on: ev.effective,
                authority: &v.authority,
                document_number: if i == 0 { v.document_number.as_deref() } else { None },
                note: None,
                recorded_by,
            },
            &store_standing(&rules::standing(&v.history[..=i])),
        )
        .await?;
    }
    audit::append(
        tx,
        actor,
        &Event {
            action: "create",
            entity: "organization",
            entity_id: Some(id.to_string()),
            division_code: v.code.full(),
            organization_id: Some(id),
            summary: serde_json::json!({"after": {"name": v.name, "credit_code": v.credit_code.as_ref().map(|c| c.as_str()),
                "types": type_keys, "division_code": v.code.prefix(), "registered_on": registered_on,
                "status": store_standing(&rules::standing(&v.history)).status}}),
        },
    )
    .await?;
    Ok(id)
}

pub async fn create_organization(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: NewOrgInput,
) -> Result<OrgDetail, AppError> {
    let v = validate_new_org(state, user, input).await?;
    let mut tx = state.db.begin().await?;
    let id = write_new_org(&mut tx, &meta.actor(Some(user)), Some(user.id), &v).await?;
    tx.commit().await?;
    detail(state, user, id).await
}

pub async fn detail(state: &AppState, user: &CurrentUser, id: i64) -> Result<OrgDetail, AppError> {
    let org = orgs::get_organization(&state.db, &user.scope(), id).await?;
    let types = orgs::types_of(&state.db, id).await?;
    let history = orgs::status_history(&state.db, id).await?;
    Ok(OrgDetail { org, types, history })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OrgStatusInput {
    /// registered | recognized_charity | fundraising_qualified | suspended | revoked | deregistered
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub status: String,
    /// YYYY-MM-DD
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub effective_on: String,
    /// 决定机关
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub authority: String,
    #[serde(deserialize_with = "crate::text::line::opt", default)]
    #[schema(max_length = 200)]
    pub document_number: Option<String>,
    #[serde(deserialize_with = "crate::text::note::opt", default)]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

fn history_events(history: &[StatusRow]) -> Vec<StatusEvent> {
    history
        .iter()
        .filter_map(|h| OrgStatus::parse(&h.status).map(|status| StatusEvent { status, effective: h.effective_on }))
        .collect()
}

/// Record a status decision; the domain's state machine decides whether it is allowed.
pub async fn change_status(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    id: i64,
    input: OrgStatusInput,
) -> Result<OrgDetail, AppError> {
    user.require(user.role.manages_registry())?;
    let before = detail(state, user, id).await?;
    let to = OrgStatus::parse(input.status.trim())
        .ok_or_else(|| AppError::validation("状态", format!("未知的状态「{}」", input.status)))?;
    let on = parse_date("生效日期", &input.effective_on)?;
    if on > today() {
        return Err(AppError::validation("生效日期", "不能晚于今天"));
    }
    let authority = input.authority.trim();
    if authority.is_empty() || authority.chars().count() > 100 {
        return Err(AppError::validation("决定机关", "不能为空，且不超过 100 个字符"));
    }
    let doc = opt_text("文号", &input.document_number, 100)?;
    let note = opt_text("说明", &input.note, 500)?;
    let mut events = history_events(&before.history);
    rules::check_transition(&events, to, on, &RegistryRules::default())
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    events.push(StatusEvent { status: to, effective: on });
    let standing = rules::standing(&events);
    let mut tx = state.db.begin().await?;
    orgs::append_status(
        &mut tx,
        id,
        &NewStatus {
            status: to.as_str(),
            effective_on: on,
            authority,
            document_number: doc.as_deref(),
            note: note.as_deref(),
            recorded_by: Some(user.id),
        },
        &store_standing(&standing),
    )
    .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "update",
            entity: "organization",
            entity_id: Some(id.to_string()),
            division_code: &before.org.division_code,
            organization_id: Some(id),
            summary: serde_json::json!({"before": {"status": before.org.status}, "after": {"status": store_standing(&standing).status,
                "decision": to.as_str(), "effective_on": on, "authority": authority, "document_number": doc}}),
        },
    )
    .await?;
    tx.commit().await?;
    detail(state, user, id).await
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BannedInput {
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub name: String,
    /// YYYY-MM-DD
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub banned_on: String,
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub authority: String,
    #[serde(deserialize_with = "crate::text::line::opt", default)]
    #[schema(max_length = 200)]
    pub document_number: Option<String>,
    #[serde(deserialize_with = "crate::text::note::opt", default)]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

pub async fn add_banned(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: BannedInput,
) -> Result<i64, AppError> {
    user.require(user.role.manages_registry())?;
    let name = input.name.trim();
    if name.chars().count() < 2 || name.chars().count() > 100 {
        return Err(AppError::validation("组织名称", "应为 2–100 个字符"));
    }
    let on = parse_date("取缔日期", &input.banned_on)?;
    let authority = input.authority.trim();
    if authority.is_empty() {
        return Err(AppError::validation("取缔机关", "不能为空"));
    }
    let doc = opt_text("文号", &input.document_number, 100)?;
    let note = opt_text("说明", &input.note, 500)?;
    let division = user.scope_division.clone();
    let mut tx = state.db.begin().await?;
    let id = banned::create(
        &mut tx,
        &NewBanned {
            name,
            banned_on: on,
            authority,
            document_number: doc.as_deref(),
            note: note.as_deref(),
            division_code: &division,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "create",
            entity: "banned_organization",
            entity_id: Some(id.to_string()),
            division_code: &division,
            organization_id: None,
            summary: serde_json::json!({"after": {"name": name, "banned_on": on, "authority": authority}}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// One answer of the public lookup.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublicOrg {
    pub name: String,
    pub credit_code: Option<String>,
    /// Main type key (absent for banned organizations).
    pub org_type: Option<String>,
    pub org_type_label: Option<String>,
    /// registered | recognized_charity | fundraising_qualified | suspended | revoked | deregistered | banned
    pub status: String,
    pub status_label: String,
    pub is_charity: bool,
    pub fundraising_qualified: bool,
    /// Registration authority, or the authority that banned it.
    pub authority: Option<String>,
    /// Registration date, or the date of the ban.
    pub date: Option<NaiveDate>,
    pub region: Option<String>,
}

pub async fn public_lookup(state: &AppState, q: &str) -> Result<Vec<PublicOrg>, AppError> {
    let q = q.trim();
    if q.chars().count() < 2 {
        return Err(AppError::validation("q", "请至少输入 2 个字，或完整的统一社会信用代码"));
    }
    if q.chars().count() > 60 {
        return Err(AppError::validation("q", "查询内容不能超过 60 个字符"));
    }
    let mut out = Vec::new();
    for b in banned::list(&state.db, Some(q), &Page::new(Some(1), Some(20))).await?.items {
        out.push(banned_answer(b));
    }
    for o in orgs::public_lookup(&state.db, q, 30).await? {
        let region = match wushe_domain::codes::division::DivisionCode::parse(&o.division_code) {
            Ok(c) => regions::get(&state.db, &c).await?.map(|d| d.name),
            Err(_) => None,
        };
        let status = OrgStatus::parse(&o.status);
        out.push(PublicOrg {
            org_type_label: OrgType::parse(&o.org_type).map(|t| t.label().to_string()),
            org_type: Some(o.org_type),
            name: o.name,
            credit_code: o.credit_code,
            status_label: status.map(|s| s.label().to_string()).unwrap_or_else(|| o.status.clone()),
            status: o.status,
            is_charity: o.is_charity,
            fundraising_qualified: o.fundraising_qualified,
            authority: o.registration_authority,
            date: o.registered_on,
            region,
        });
    }
    Ok(out)
}

fn banned_answer(b: BannedRow) -> PublicOrg {
    PublicOrg {
        name: b.name,
        credit_code: None,
        org_type: None,
        org_type_label: None,
        status: "banned".into(),
        status_label: "已取缔（非法社会组织）".into(),
        is_charity: false,
        fundraising_qualified: false,
        authority: Some(b.authority),
        date: Some(b.banned_on),
        region: None,
    }
}

/// Every organization the filter selects in the user's scope, as an export table; the
/// export itself is audited. Contact phones are masked for roles that do not need them.
pub async fn export_organizations(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    filter: &orgs::OrgFilter,
) -> Result<crate::export::Table, AppError> {
    let items = orgs::select_all(&state.db, &user.scope(), filter, crate::export::MAX_ROWS + 1).await?;
    crate::export::check_size(items.len())?;
    let full_phone = user.role.sees_org_contacts();
    let rows = items
        .iter()
        .map(|o| {
            let phone = o.contact_phone.clone().unwrap_or_default();
            vec![
                o.name.clone(),
                o.credit_code.clone().unwrap_or_default(),
                OrgType::parse(&o.org_type).map(|t| t.label().to_string()).unwrap_or_default(),
                OrgStatus::parse(&o.status).map(|t| t.label().to_string()).unwrap_or_default(),
                if o.is_charity { "是" } else { "否" }.to_string(),
                if o.fundraising_qualified { "是" } else { "否" }.to_string(),
                wushe_domain::codes::division::DivisionCode::parse(&o.division_code)
                    .map(|c| c.prefix().to_string())
                    .unwrap_or_default(),
                o.registration_authority.clone().unwrap_or_default(),
                o.registered_on.map(|d| d.to_string()).unwrap_or_default(),
                o.legal_representative.clone().unwrap_or_default(),
                o.contact_person.clone().unwrap_or_default(),
                if full_phone || phone.is_empty() { phone } else { wushe_domain::privacy::mask::mask_phone(&phone) },
                o.address.clone().unwrap_or_default(),
            ]
        })
        .collect::<Vec<_>>();
    audit::append_now(
        &state.db,
        &meta.actor(Some(user)),
        &Event {
            action: "export",
            entity: "organization",
            entity_id: None,
            division_code: &user.scope_division,
            organization_id: user.organization_id,
            summary: serde_json::json!({"rows": rows.len(), "filter": {"q": filter.q, "region": filter.region,
                "org_type": filter.org_type, "status": filter.status}}),
        },
    )
    .await?;
    Ok(crate::export::Table {
        title: "社会组织".into(),
        headers: vec![
            "名称",
            "统一社会信用代码",
            "类型",
            "状态",
            "慈善组织",
            "公开募捐资格",
            "活动区域代码",
            "登记管理机关",
            "登记日期",
            "法定代表人",
            "联系人",
            "联系电话",
            "地址",
        ],
        rows,
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PairingInput {
    /// Programme name, e.g. 牵手计划 2026.
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub programme: String,
    /// The organization that helps.
    pub helper_org_id: i64,
    /// The organization (in a weaker area) that is helped.
    pub helped_org_id: i64,
    /// YYYY-MM-DD
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub starts_on: String,
    /// YYYY-MM-DD
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub ends_on: String,
    #[serde(deserialize_with = "crate::text::note::one")]
    #[schema(max_length = 2000)]
    pub goals: String,
}

/// Record a pairing programme. The official must have both organizations in scope (a
/// provincial official pairs across counties); the domain rule checks dates and standing.
pub async fn create_pairing(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: PairingInput,
) -> Result<i64, AppError> {
    user.require(user.role.manages_registry())?;
    let programme = input.programme.trim();
    if programme.is_empty() || programme.chars().count() > 100 {
        return Err(AppError::validation("项目名称", "不能为空，且不超过 100 个字符"));
    }
    let goals = input.goals.trim();
    if goals.is_empty() || goals.chars().count() > 2000 {
        return Err(AppError::validation("帮扶目标", "不能为空，且不超过 2000 个字符"));
    }
    let start = parse_date("开始日期", &input.starts_on)?;
    let end = parse_date("结束日期", &input.ends_on)?;
    let not_found = |field: &'static str| move |_| AppError::validation(field, "组织不存在或不在您的管辖范围内");
    let helper =
        orgs::get_organization(&state.db, &user.scope(), input.helper_org_id).await.map_err(not_found("帮扶方"))?;
    let helped =
        orgs::get_organization(&state.db, &user.scope(), input.helped_org_id).await.map_err(not_found("受助方"))?;
    let active = |o: &OrganizationRow| OrgStatus::parse(&o.status).is_some_and(|s| s.is_active());
    rules::check_pairing(helper.id, helped.id, active(&helper), active(&helped), start, end)
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    let mut tx = state.db.begin().await?;
    let id = pairings::create(
        &mut tx,
        &pairings::NewPairing {
            programme,
            helper_org_id: helper.id,
            helped_org_id: helped.id,
            starts_on: start,
            ends_on: end,
            goals,
            created_by: Some(user.id),
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "create",
            entity: "pairing",
            entity_id: Some(id.to_string()),
            division_code: &helped.division_code,
            organization_id: Some(helped.id),
            summary: serde_json::json!({"after": {"programme": programme, "helper": helper.name, "helped": helped.name,
                "starts_on": start, "ends_on": end}}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
