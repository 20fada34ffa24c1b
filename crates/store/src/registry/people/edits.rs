//! Edits: the changes to a person's facts and to one role's, written with a check that the
//! record did not change since it was read; and a volunteer leaving an organization.

use chrono::{DateTime, NaiveDate, Utc};
use wushe_domain::registry::person::PersonRole;

use crate::crypto::KeyRing;
use crate::{on_tx, StoreError, Tx};

use super::{insert_categories, seal_guardian_phone, seal_phone, uids_of, CERTIFICATE_TAKEN};

/// Changes to a person's own facts in an edit; `None` leaves a field as it is. Name, citizen
/// ID, gender and birth date are not here: they come from the ID number.
#[derive(Debug, Clone, Default)]
pub struct PersonChanges {
    /// Normalized phone, or `Some(None)` to remove it.
    pub phone: Option<Option<String>>,
    pub address: Option<Option<String>>,
    /// 12-digit code of the new home region.
    pub division_code: Option<String>,
}

impl PersonChanges {
    pub fn is_empty(&self) -> bool {
        self.phone.is_none() && self.address.is_none() && self.division_code.is_none()
    }
}

/// Changes to the facts of one role; only the fields of the role being edited may be set.
#[derive(Debug, Clone, Default)]
pub struct RoleChanges {
    // volunteer
    pub skills: Option<Vec<String>>,
    pub availability: Option<Option<String>>,
    /// Latitude and longitude in millionths of a degree.
    pub location: Option<Option<(i64, i64)>>,
    // social worker
    pub credential_level: Option<String>,
    pub certificate_number: Option<Option<String>>,
    pub registered_on: Option<NaiveDate>,
    pub ce_hours: Option<i64>,
    pub employer_org_id: Option<Option<i64>>,
    pub station_code: Option<Option<String>>,
    // beneficiary
    pub categories: Option<Vec<String>>,
    pub guardian_name: Option<Option<String>>,
    pub guardian_relation: Option<Option<String>>,
    /// Normalized phone, or `Some(None)` to remove it.
    pub guardian_phone: Option<Option<String>>,
    pub serving_org_id: Option<Option<i64>>,
    // every role
    /// The role ends on this date (with a reason), or `Some(None)` to resume it.
    pub ended: Option<Option<(NaiveDate, Option<String>)>>,
}

impl RoleChanges {
    pub fn is_empty(&self) -> bool {
        self.fields(PersonRole::Volunteer).is_empty()
            && self.fields(PersonRole::SocialWorker).is_empty()
            && self.fields(PersonRole::Beneficiary).is_empty()
    }

    /// Names of the fields set that belong to `role`'s table.
    fn fields(&self, role: PersonRole) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut f = |set: bool, name| {
            if set {
                out.push(name);
            }
        };
        match role {
            PersonRole::Volunteer => {
                f(self.skills.is_some(), "skills");
                f(self.availability.is_some(), "availability");
                f(self.location.is_some(), "location");
            }
            PersonRole::SocialWorker => {
                f(self.credential_level.is_some(), "credential_level");
                f(self.certificate_number.is_some(), "certificate_number");
                f(self.registered_on.is_some(), "registered_on");
                f(self.ce_hours.is_some(), "ce_hours");
                f(self.employer_org_id.is_some(), "employer_org_id");
                f(self.station_code.is_some(), "station_code");
            }
            PersonRole::Beneficiary => {
                f(self.categories.is_some(), "categories");
                f(self.guardian_name.is_some(), "guardian_name");
                f(self.guardian_relation.is_some(), "guardian_relation");
                f(self.guardian_phone.is_some(), "guardian_phone");
                f(self.serving_org_id.is_some(), "serving_org_id");
            }
        }
        out
    }
}

/// Apply an edit of a person in one role, in `tx`. `expected_updated_at` is the `updated_at`
/// of the copy the editor read: if the record changed since, nothing is written and the
/// editor is asked to reload (the "before" values they saw, and audit, would be stale).
pub async fn update(
    tx: &mut Tx,
    keys: &KeyRing,
    role: PersonRole,
    person_id: i64,
    expected_updated_at: DateTime<Utc>,
    p: &PersonChanges,
    r: &RoleChanges,
) -> Result<(), StoreError> {
    let stray: Vec<&str> = PersonRole::ALL.into_iter().filter(|o| *o != role).flat_map(|o| r.fields(o)).collect();
    if !stray.is_empty() {
        return Err(StoreError::Integrity(format!("{}不能修改这些字段：{}", role.label(), stray.join(", "))));
    }
    let uid = uids_of(tx, &[person_id]).await?.remove(&person_id).ok_or(StoreError::NotFound)?;
    // a new home region or a changed end of the role moves the registered-volunteer count
    let counted = p.division_code.is_some() || (role == PersonRole::Volunteer && r.ended.is_some());
    let before = if counted { crate::volunteering::counts::enrolment_tx(tx, person_id).await? } else { None };
    let phone = p.phone.as_ref().map(|ph| ph.as_deref().map(|ph| seal_phone(keys, &uid, ph)));
    let now = crate::time::now();
    let n = on_tx!(tx, |c| {
        let mut qb = sqlx::QueryBuilder::new("UPDATE people SET updated_at = ");
        qb.push_bind(now);
        if let Some(ph) = &phone {
            qb.push(", phone_index = ").push_bind(ph.as_ref().map(|s| s.index.as_str()));
            qb.push(", phone_cipher = ").push_bind(ph.as_ref().map(|s| s.cipher.as_slice()));
            qb.push(", phone_masked = ").push_bind(ph.as_ref().map(|s| s.masked.as_str()));
        }
        if let Some(a) = &p.address {
            qb.push(", address = ").push_bind(a.as_deref());
        }
        if let Some(d) = &p.division_code {
            qb.push(", division_code = ").push_bind(d.as_str());
        }
        qb.push(" WHERE id = ").push_bind(person_id).push(" AND updated_at = ").push_bind(expected_updated_at);
        qb.build().execute(c).await.map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(StoreError::Conflict("此人的信息刚被他人修改，请刷新页面后重新填写".into()));
    }
    if r.fields(role).is_empty() && r.ended.is_none() {
        return crate::volunteering::counts::person_edited(tx, person_id, before).await;
    }
    let guardian = r
        .guardian_phone
        .as_ref()
        .map(|ph| ph.as_deref().map(|ph| seal_guardian_phone(keys, "beneficiaries", &uid, ph)));
    let table = match role {
        PersonRole::Volunteer => "volunteers",
        PersonRole::SocialWorker => "social_workers",
        PersonRole::Beneficiary => "beneficiaries",
    };
    let res: Result<u64, sqlx::Error> = on_tx!(tx, |c| {
        let mut qb = sqlx::QueryBuilder::new(format!("UPDATE {table} SET "));
        let mut set = qb.separated(", ");
        if let Some(s) = &r.skills {
            set.push("skills = ").push_bind_unseparated(s.join(","));
        }
        if let Some(a) = &r.availability {
            set.push("availability = ").push_bind_unseparated(a.as_deref());
        }
        if let Some(l) = &r.location {
            set.push("latitude_e6 = ").push_bind_unseparated(l.map(|l| l.0));
            set.push("longitude_e6 = ").push_bind_unseparated(l.map(|l| l.1));
        }
        if let Some(v) = &r.credential_level {
            set.push("credential_level = ").push_bind_unseparated(v.as_str());
        }
        if let Some(v) = &r.certificate_number {
            set.push("certificate_number = ").push_bind_unseparated(v.as_deref());
        }
        if let Some(v) = r.registered_on {
            set.push("registered_on = ").push_bind_unseparated(v);
        }
        if let Some(v) = r.ce_hours {
            set.push("ce_hours = ").push_bind_unseparated(v);
        }
        if let Some(v) = r.employer_org_id {
            set.push("employer_org_id = ").push_bind_unseparated(v);
        }
        if let Some(v) = &r.station_code {
            set.push("station_code = ").push_bind_unseparated(v.as_deref());
        }
        if let Some(v) = &r.categories {
            set.push("categories = ").push_bind_unseparated(v.join(","));
        }
        if let Some(v) = &r.guardian_name {
            set.push("guardian_name = ").push_bind_unseparated(v.as_deref());
        }
        if let Some(v) = &r.guardian_relation {
            set.push("guardian_relation = ").push_bind_unseparated(v.as_deref());
        }
        if let Some(g) = &guardian {
            set.push("guardian_phone_cipher = ").push_bind_unseparated(g.as_ref().map(|g| g.0.as_slice()));
            set.push("guardian_phone_masked = ").push_bind_unseparated(g.as_ref().map(|g| g.1.as_str()));
        }
        if let Some(v) = r.serving_org_id {
            set.push("serving_org_id = ").push_bind_unseparated(v);
        }
        if let Some(e) = &r.ended {
            set.push("ended_on = ").push_bind_unseparated(e.as_ref().map(|e| e.0));
            set.push("end_reason = ").push_bind_unseparated(e.as_ref().and_then(|e| e.1.as_deref()));
        }
        qb.push(" WHERE person_id = ").push_bind(person_id);
        qb.build().execute(c).await.map(|r| r.rows_affected())
    });
    match res.map_err(StoreError::from) {
        Ok(0) => return Err(StoreError::NotFound),
        Ok(_) => {}
        Err(e) if e.is_unique_violation() => return Err(StoreError::Conflict(CERTIFICATE_TAKEN.into())),
        Err(e) => return Err(e),
    }
    if let Some(cats) = &r.categories {
        on_tx!(tx, |c| sqlx::query("DELETE FROM beneficiary_categories WHERE person_id = $1")
            .bind(person_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        let rows: Vec<(i64, &str)> = cats.iter().map(|c| (person_id, c.as_str())).collect();
        insert_categories(tx, &rows).await?;
    }
    crate::volunteering::counts::person_edited(tx, person_id, before).await
}

/// End a volunteer's membership of an organization: the membership moves to the history
/// table (the live table holds current members only). Returns the day they had joined.
pub async fn leave_organization(
    tx: &mut Tx,
    person_id: i64,
    organization_id: i64,
    left_on: NaiveDate,
    reason: Option<&str>,
    recorded_by: Option<i64>,
) -> Result<NaiveDate, StoreError> {
    let joined: Option<(NaiveDate,)> = on_tx!(tx, |c| sqlx::query_as(
        "DELETE FROM volunteer_organizations WHERE person_id = $1 AND organization_id = $2 RETURNING joined_on"
    )
    .bind(person_id)
    .bind(organization_id)
    .fetch_optional(c)
    .await)?;
    let (joined_on,) = joined.ok_or(StoreError::NotFound)?;
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO volunteer_organization_history (person_id, organization_id, joined_on, left_on, reason, \
         recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(person_id)
    .bind(organization_id)
    .bind(joined_on)
    .bind(left_on)
    .bind(reason)
    .bind(crate::time::now())
    .bind(recorded_by)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(joined_on)
}
