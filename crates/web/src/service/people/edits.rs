//! Editing a person: the checker's rules for each role's patch, saving the edit with its
//! audit entry, and a volunteer leaving an organization.

use chrono::NaiveDate;
use wushe_domain::codes::division::DivisionCode;
use wushe_domain::privacy::mask;
use wushe_domain::registry::person::{self as rules, PersonRole};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::registry::people::{self as store, PersonRow};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::registry::today;
use crate::state::AppState;

use super::{
    date, detail, ferr, opt, require_role, text, BeneficiaryPatch, Checker, Edit, FieldError, PersonDetail, RolePatch,
    SocialWorkerPatch, VolunteerPatch,
};

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
