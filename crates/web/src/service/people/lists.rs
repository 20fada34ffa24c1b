//! Reading people: scoped lists, one person's details, the audited full view of personal
//! data, and exports.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use wushe_domain::codes::division::DivisionCode;
use wushe_domain::privacy::mask;
use wushe_domain::registry::person::{PersonRole, SkillDictionary};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::registry::people::{self as store, PeopleFilter, PersonRow};
use wushe_store::registry::skills;
use wushe_store::{regions, Page, Paged};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

use super::{require_role, Labelled, PersonView};

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
