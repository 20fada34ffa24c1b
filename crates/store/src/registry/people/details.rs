//! One person's details: decrypted personal data (one or many), organizations joined and
//! left, consents, memberships, and whether a person is in a scope.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;
use wushe_domain::accounts::Scope;
use wushe_domain::registry::person::PersonRole;

use crate::crypto::{Aad, KeyRing};
use crate::{on_db, on_tx, Db, StoreError, Tx};

use super::BATCH;

/// The full (decrypted) personal data of a person; the caller must have loaded the person in
/// scope first and audits the view.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FullPersonalData {
    pub citizen_id: String,
    pub phone: Option<String>,
    pub guardian_phone: Option<String>,
}

pub async fn reveal(db: &Db, keys: &KeyRing, role: PersonRole, person_id: i64) -> Result<FullPersonalData, StoreError> {
    let (uid, id_cipher, phone_cipher): (String, Vec<u8>, Option<Vec<u8>>) =
        on_db!(db, |c| sqlx::query_as("SELECT uid, id_cipher, phone_cipher FROM people WHERE id = $1")
            .bind(person_id)
            .fetch_optional(c)
            .await)?
        .ok_or(StoreError::NotFound)?;
    let guardian: Option<Vec<u8>> = match role {
        PersonRole::Volunteer => on_db!(db, |c| sqlx::query_as::<_, (Option<Vec<u8>>,)>(
            "SELECT guardian_phone_cipher FROM volunteers WHERE person_id = $1"
        )
        .bind(person_id)
        .fetch_optional(c)
        .await)?
        .and_then(|r| r.0),
        PersonRole::Beneficiary => on_db!(db, |c| sqlx::query_as::<_, (Option<Vec<u8>>,)>(
            "SELECT guardian_phone_cipher FROM beneficiaries WHERE person_id = $1"
        )
        .bind(person_id)
        .fetch_optional(c)
        .await)?
        .and_then(|r| r.0),
        PersonRole::SocialWorker => None,
    };
    let dec = |table: &str, column: &str, blob: &[u8]| {
        keys.decrypt(&Aad { table, column, row: &uid }, blob).map_err(|e| StoreError::Crypto(e.to_string()))
    };
    Ok(FullPersonalData {
        citizen_id: dec("people", "id_number", &id_cipher)?,
        phone: phone_cipher.as_deref().map(|b| dec("people", "phone", b)).transpose()?,
        guardian_phone: guardian
            .as_deref()
            .map(|b| {
                let table = if role == PersonRole::Volunteer { "volunteers" } else { "beneficiaries" };
                dec(table, "guardian_phone", b)
            })
            .transpose()?,
    })
}

/// Organizations a volunteer has joined: (id, name, joined_on).
pub async fn organizations_of(db: &Db, person_id: i64) -> Result<Vec<(i64, String, NaiveDate)>, StoreError> {
    Ok(on_db!(db, |c| {
        sqlx::query_as(
        "SELECT o.id, o.name, vo.joined_on FROM volunteer_organizations vo JOIN organizations o ON o.id = vo.organization_id \
         WHERE vo.person_id = $1 ORDER BY vo.joined_on, o.id"
    )
    .bind(person_id)
    .fetch_all(c)
    .await
    })?)
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ConsentRow {
    pub id: i64,
    pub purpose: String,
    pub given_by: String,
    pub given_on: NaiveDate,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

pub async fn consents_of(db: &Db, person_id: i64) -> Result<Vec<ConsentRow>, StoreError> {
    Ok(on_db!(db, |c| {
        sqlx::query_as::<_, ConsentRow>(
        "SELECT id, purpose, given_by, given_on, note, recorded_at FROM person_consents WHERE person_id = $1 ORDER BY id"
    )
    .bind(person_id)
    .fetch_all(c)
    .await
    })?)
}

/// Organizations the given volunteers have joined: `(person_id, organization_id)`.
pub async fn memberships(tx: &mut Tx, person_ids: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut out = Vec::new();
    for chunk in person_ids.chunks(BATCH) {
        let rows: Vec<(i64, i64)> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT person_id, organization_id FROM volunteer_organizations WHERE person_id IN (",
            );
            let mut sep = qb.separated(", ");
            for i in chunk {
                sep.push_bind(*i);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// id, uid, encrypted ID number, encrypted phone.
type CipherRow = (i64, String, Vec<u8>, Option<Vec<u8>>);

/// Decrypted ID numbers and phones of many people (for exports by roles that need them;
/// the caller selected the ids in scope and audits the export).
pub async fn reveal_many(
    db: &Db,
    keys: &KeyRing,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, (String, Option<String>)>, StoreError> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let rows: Vec<CipherRow> = on_db!(db, |c| {
            let mut qb = sqlx::QueryBuilder::new("SELECT id, uid, id_cipher, phone_cipher FROM people WHERE id IN (");
            let mut sep = qb.separated(", ");
            for i in chunk {
                sep.push_bind(*i);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(c).await
        })?;
        for (id, uid, idc, phc) in rows {
            let dec = |column: &str, blob: &[u8]| {
                keys.decrypt(&Aad { table: "people", column, row: &uid }, blob)
                    .map_err(|e| StoreError::Crypto(e.to_string()))
            };
            let citizen = dec("id_number", &idc)?;
            let phone = phc.as_deref().map(|b| dec("phone", b)).transpose()?;
            out.insert(id, (citizen, phone));
        }
    }
    Ok(out)
}

/// A membership that ended.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct PastMembership {
    pub organization_id: i64,
    pub name: String,
    pub joined_on: NaiveDate,
    pub left_on: NaiveDate,
    pub reason: Option<String>,
}

/// Organizations a volunteer has left, most recent first.
pub async fn past_organizations_of(db: &Db, person_id: i64) -> Result<Vec<PastMembership>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as::<_, PastMembership>(
        "SELECT h.organization_id, o.name, h.joined_on, h.left_on, h.reason FROM volunteer_organization_history h \
         JOIN organizations o ON o.id = h.organization_id WHERE h.person_id = $1 ORDER BY h.left_on DESC, h.id DESC"
    )
    .bind(person_id)
    .fetch_all(c)
    .await)?)
}

/// Whether a person, in any role, is inside the scope: by home region, or for an
/// organization's staff as its volunteer, its social worker or the beneficiary it serves.
pub async fn person_in_scope(db: &Db, scope: &Scope, person_id: i64) -> Result<bool, StoreError> {
    let row: Option<(i64,)> = match scope.organization_id {
        None => {
            let (lo, hi) = scope.division_range();
            on_db!(db, |c| sqlx::query_as(
                "SELECT id FROM people WHERE id = $1 AND division_code >= $2 AND division_code <= $3"
            )
            .bind(person_id)
            .bind(&lo)
            .bind(&hi)
            .fetch_optional(c)
            .await)?
        }
        Some(org) => on_db!(db, |c| sqlx::query_as(
            "SELECT p.id FROM people p WHERE p.id = $1 AND (\
             EXISTS (SELECT 1 FROM volunteer_organizations vo WHERE vo.person_id = p.id AND vo.organization_id = $2) \
             OR EXISTS (SELECT 1 FROM social_workers s WHERE s.person_id = p.id AND s.employer_org_id = $2) \
             OR EXISTS (SELECT 1 FROM beneficiaries b WHERE b.person_id = p.id AND b.serving_org_id = $2))"
        )
        .bind(person_id)
        .bind(org)
        .fetch_optional(c)
        .await)?,
    };
    Ok(row.is_some())
}
