//! Writing valid entries: the [`Plan`] for each against the people already registered,
//! [`apply`] (shared with the bulk import) and the single, audited [`register`].

use std::collections::HashMap;

use serde::Serialize;
use wushe_domain::privacy::mask;
use wushe_domain::registry::person::PersonRole;
use wushe_store::accounts::audit::{self, Event};
use wushe_store::registry::people::{
    self as store, ExistingPerson, NewBeneficiary, NewConsent, NewPerson, NewSocialWorker, NewVolunteer,
};
use wushe_store::Tx;

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::registry::today;
use crate::state::AppState;

use super::{ferr, require_role, FieldError, ValidEntry, ValidRole};

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
