//! Registration writes: de-duplication by the ID blind index, new people with their name
//! grams, the roles (volunteer numbers per county), memberships and consents.

use chrono::NaiveDate;
use sqlx::FromRow;
use wushe_domain::codes::citizen_id::CitizenId;
use wushe_domain::privacy::mask;
use wushe_domain::registry::search;

use crate::crypto::{Aad, KeyRing};
use crate::registry::grams;
use crate::{on_tx, StoreError, Tx};

use super::{
    id_index, insert_categories, seal_guardian_phone, seal_phone, uids_of, SealedPhone, BATCH, CERTIFICATE_TAKEN,
    GRAM_KIND,
};

/// A person to insert. The name is normalized and the phone normalized by the caller.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub name: String,
    pub citizen_id: CitizenId,
    pub phone: Option<String>,
    /// 12-digit code of the home region (down to village).
    pub division_code: String,
    pub address: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewVolunteer {
    pub person_id: i64,
    /// County (6 digits) the volunteer number is issued in.
    pub county: String,
    /// Keys of the skill dictionary (table `skills`).
    pub skills: Vec<String>,
    pub availability: Option<String>,
    pub latitude_e6: Option<i64>,
    pub longitude_e6: Option<i64>,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    pub registered_on: NaiveDate,
    /// Organization the volunteer joins on registration.
    pub organization_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewSocialWorker {
    pub person_id: i64,
    pub credential_level: String,
    pub certificate_number: Option<String>,
    pub registered_on: NaiveDate,
    pub ce_hours: i64,
    pub employer_org_id: Option<i64>,
    pub station_code: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewBeneficiary {
    pub person_id: i64,
    /// Keys of `BeneficiaryCategory`.
    pub categories: Vec<String>,
    pub guardian_name: Option<String>,
    pub guardian_relation: Option<String>,
    pub guardian_phone: Option<String>,
    pub serving_org_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewConsent {
    pub person_id: i64,
    /// e.g. `personal_data`, `guardian`.
    pub purpose: String,
    pub given_by: String,
    pub given_on: NaiveDate,
    pub note: Option<String>,
    pub recorded_by: Option<i64>,
}

/// What de-duplication needs to know about a person already registered.
#[derive(Debug, Clone, FromRow)]
pub struct ExistingPerson {
    pub id: i64,
    pub name: String,
    pub division_code: String,
    pub is_volunteer: bool,
    pub is_social_worker: bool,
    pub is_beneficiary: bool,
}

const EXISTING_COLS: &str = "p.id, p.name, p.division_code, \
    EXISTS (SELECT 1 FROM volunteers v WHERE v.person_id = p.id) AS is_volunteer, \
    EXISTS (SELECT 1 FROM social_workers s WHERE s.person_id = p.id) AS is_social_worker, \
    EXISTS (SELECT 1 FROM beneficiaries b WHERE b.person_id = p.id) AS is_beneficiary";

/// People already registered under any of these ID blind indexes (for de-duplication; the
/// answer carries no personal data beyond the name, which the caller already has).
pub async fn existing_by_id_index(
    tx: &mut Tx,
    indexes: &[String],
) -> Result<Vec<(String, ExistingPerson)>, StoreError> {
    let mut out = Vec::with_capacity(indexes.len());
    for chunk in indexes.chunks(BATCH) {
        let rows: Vec<ExistingWithIndex> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(format!(
                "SELECT p.id_index, {EXISTING_COLS} FROM people p WHERE p.id_index IN ("
            ));
            let mut sep = qb.separated(", ");
            for i in chunk {
                sep.push_bind(i);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(|r| (r.id_index, r.person)));
    }
    Ok(out)
}

#[derive(FromRow)]
struct ExistingWithIndex {
    id_index: String,
    #[sqlx(flatten)]
    person: ExistingPerson,
}

/// Insert people (none of whom may exist yet) with their name grams; returns their ids in
/// the order given.
pub async fn insert_people(tx: &mut Tx, keys: &KeyRing, people: &[NewPerson]) -> Result<Vec<i64>, StoreError> {
    let now = crate::time::now();
    let mut ids = Vec::with_capacity(people.len());
    for chunk in people.chunks(BATCH) {
        let rows: Vec<Prepared> = chunk.iter().map(|p| Prepared::new(keys, p)).collect();
        let returned: Result<Vec<(i64, String)>, sqlx::Error> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO people (uid, name, name_folded, gender, birth_date, id_index, id_cipher, id_masked, \
                 phone_index, phone_cipher, phone_masked, division_code, address, created_at, updated_at) ",
            );
            qb.push_values(&rows, |mut b, r| {
                b.push_bind(&r.uid)
                    .push_bind(&r.p.name)
                    .push_bind(search::fold(&r.p.name))
                    .push_bind(r.gender)
                    .push_bind(r.p.citizen_id.birth_date())
                    .push_bind(&r.id_index)
                    .push_bind(&r.id_cipher)
                    .push_bind(mask::mask_id_number(r.p.citizen_id.as_str()))
                    .push_bind(r.phone.as_ref().map(|ph| ph.index.as_str()))
                    .push_bind(r.phone.as_ref().map(|ph| ph.cipher.as_slice()))
                    .push_bind(r.phone.as_ref().map(|ph| ph.masked.as_str()))
                    .push_bind(&r.p.division_code)
                    .push_bind(r.p.address.as_deref())
                    .push_bind(now)
                    .push_bind(now);
            });
            qb.push(" RETURNING id, uid");
            qb.build_query_as().fetch_all(c).await
        });
        let returned = match returned.map_err(StoreError::from) {
            Ok(r) => r,
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::Conflict("身份证号已登记（可能刚被他人同时登记），请刷新后重试".into()))
            }
            Err(e) => return Err(e),
        };
        let by_uid: std::collections::HashMap<String, i64> = returned.into_iter().map(|(id, uid)| (uid, id)).collect();
        let mut named = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = *by_uid.get(&r.uid).ok_or_else(|| StoreError::Integrity("插入人员后未返回编号".into()))?;
            ids.push(id);
            named.push((id, r.p.name.as_str()));
        }
        grams::index_new(tx, GRAM_KIND, &named).await?;
    }
    Ok(ids)
}

struct Prepared<'a> {
    p: &'a NewPerson,
    uid: String,
    gender: &'static str,
    id_index: String,
    id_cipher: Vec<u8>,
    phone: Option<SealedPhone>,
}

impl<'a> Prepared<'a> {
    fn new(keys: &KeyRing, p: &'a NewPerson) -> Prepared<'a> {
        let uid = uuid::Uuid::now_v7().to_string();
        let id_cipher = keys.encrypt(&Aad { table: "people", column: "id_number", row: &uid }, p.citizen_id.as_str());
        Prepared {
            gender: gender_key(&p.citizen_id),
            id_index: id_index(keys, &p.citizen_id),
            phone: p.phone.as_deref().map(|ph| seal_phone(keys, &uid, ph)),
            id_cipher,
            uid,
            p,
        }
    }
}

fn gender_key(id: &CitizenId) -> &'static str {
    match id.gender() {
        wushe_domain::codes::citizen_id::Gender::Male => "male",
        wushe_domain::codes::citizen_id::Gender::Female => "female",
    }
}

/// Reserve `n` consecutive volunteer serials in `county`; returns the first.
pub async fn reserve_volunteer_serials(tx: &mut Tx, county: &str, n: i64) -> Result<i64, StoreError> {
    let (last,): (i64,) = on_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO volunteer_serials (county, last_serial) VALUES ($1, $2) \
         ON CONFLICT (county) DO UPDATE SET last_serial = volunteer_serials.last_serial + $2 RETURNING last_serial"
    )
    .bind(county)
    .bind(n)
    .fetch_one(c)
    .await)?;
    Ok(last - n + 1)
}

/// Insert volunteers with their numbers (serials reserved per county here) and their first
/// organization. Returns the volunteer numbers in the order given.
#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
pub async fn insert_volunteers(tx: &mut Tx, keys: &KeyRing, vols: &[NewVolunteer]) -> Result<Vec<String>, StoreError> {
    let mut per_county: std::collections::BTreeMap<&str, i64> = Default::default();
    for v in vols {
        *per_county.entry(v.county.as_str()).or_default() += 1;
    }
    let mut next: std::collections::HashMap<&str, i64> = Default::default();
    for (county, n) in &per_county {
        next.insert(county, reserve_volunteer_serials(tx, county, *n).await?);
    }
    let mut numbers = Vec::with_capacity(vols.len());
    for v in vols {
        let serial = next.get_mut(v.county.as_str()).expect("reserved above");
        let s = u64::try_from(*serial).unwrap_or(u64::MAX);
        if s > wushe_domain::registry::person::MAX_VOLUNTEER_SERIAL {
            return Err(StoreError::Conflict(format!("区县 {} 的志愿者编号已用尽", v.county)));
        }
        numbers.push(wushe_domain::registry::person::volunteer_number(&v.county, s));
        *serial += 1;
    }
    let uids = uids_of(tx, &vols.iter().map(|v| v.person_id).collect::<Vec<_>>()).await?;
    let now = crate::time::now();
    for (chunk_i, chunk) in vols.chunks(BATCH).enumerate() {
        let base = chunk_i * BATCH;
        let guardian: Vec<Option<(Vec<u8>, String)>> = chunk
            .iter()
            .map(|v| {
                v.guardian_phone.as_deref().map(|ph| {
                    let uid = uids.get(&v.person_id).map(String::as_str).unwrap_or_default();
                    seal_guardian_phone(keys, "volunteers", uid, ph)
                })
            })
            .collect();
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO volunteers (person_id, volunteer_number, skills, availability, latitude_e6, longitude_e6, \
                 guardian_name, guardian_phone_cipher, guardian_phone_masked, registered_on, created_at) ",
            );
            qb.push_values(chunk.iter().enumerate(), |mut b, (i, v)| {
                b.push_bind(v.person_id)
                    .push_bind(&numbers[base + i])
                    .push_bind(v.skills.join(","))
                    .push_bind(v.availability.as_deref())
                    .push_bind(v.latitude_e6)
                    .push_bind(v.longitude_e6)
                    .push_bind(v.guardian_name.as_deref())
                    .push_bind(guardian[i].as_ref().map(|g| g.0.as_slice()))
                    .push_bind(guardian[i].as_ref().map(|g| g.1.as_str()))
                    .push_bind(v.registered_on)
                    .push_bind(now);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
        let joins: Vec<(i64, i64, NaiveDate)> =
            chunk.iter().filter_map(|v| v.organization_id.map(|o| (v.person_id, o, v.registered_on))).collect();
        join_organizations(tx, &joins).await?;
        let ids: Vec<i64> = chunk.iter().map(|v| v.person_id).collect();
        crate::volunteering::counts::volunteers_registered(tx, &ids).await?;
    }
    Ok(numbers)
}

/// Add volunteers to organizations: `(person_id, organization_id, joined_on)`; already
/// joined pairs are left as they are.
pub async fn join_organizations(tx: &mut Tx, joins: &[(i64, i64, NaiveDate)]) -> Result<(), StoreError> {
    for chunk in joins.chunks(BATCH) {
        on_tx!(tx, |c| {
            let mut qb =
                sqlx::QueryBuilder::new("INSERT INTO volunteer_organizations (person_id, organization_id, joined_on) ");
            qb.push_values(chunk, |mut b, (p, o, d)| {
                b.push_bind(*p).push_bind(*o).push_bind(*d);
            });
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

pub async fn insert_social_workers(tx: &mut Tx, rows: &[NewSocialWorker]) -> Result<(), StoreError> {
    let now = crate::time::now();
    for chunk in rows.chunks(BATCH) {
        let res: Result<u64, sqlx::Error> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO social_workers (person_id, credential_level, certificate_number, registered_on, ce_hours, \
                 employer_org_id, station_code, created_at) ",
            );
            qb.push_values(chunk, |mut b, s| {
                b.push_bind(s.person_id)
                    .push_bind(&s.credential_level)
                    .push_bind(s.certificate_number.as_deref())
                    .push_bind(s.registered_on)
                    .push_bind(s.ce_hours)
                    .push_bind(s.employer_org_id)
                    .push_bind(s.station_code.as_deref())
                    .push_bind(now);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        });
        match res.map_err(StoreError::from) {
            Ok(_) => {}
            Err(e) if e.is_unique_violation() => return Err(StoreError::Conflict(CERTIFICATE_TAKEN.into())),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub async fn insert_beneficiaries(tx: &mut Tx, keys: &KeyRing, rows: &[NewBeneficiary]) -> Result<(), StoreError> {
    let now = crate::time::now();
    let uids = uids_of(tx, &rows.iter().map(|r| r.person_id).collect::<Vec<_>>()).await?;
    for chunk in rows.chunks(BATCH) {
        let guardian: Vec<Option<(Vec<u8>, String)>> = chunk
            .iter()
            .map(|r| {
                r.guardian_phone.as_deref().map(|ph| {
                    let uid = uids.get(&r.person_id).map(String::as_str).unwrap_or_default();
                    seal_guardian_phone(keys, "beneficiaries", uid, ph)
                })
            })
            .collect();
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO beneficiaries (person_id, categories, guardian_name, guardian_relation, \
                 guardian_phone_cipher, guardian_phone_masked, serving_org_id, created_at) ",
            );
            qb.push_values(chunk.iter().enumerate(), |mut b, (i, r)| {
                b.push_bind(r.person_id)
                    .push_bind(r.categories.join(","))
                    .push_bind(r.guardian_name.as_deref())
                    .push_bind(r.guardian_relation.as_deref())
                    .push_bind(guardian[i].as_ref().map(|g| g.0.as_slice()))
                    .push_bind(guardian[i].as_ref().map(|g| g.1.as_str()))
                    .push_bind(r.serving_org_id)
                    .push_bind(now);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
        let cats: Vec<(i64, &str)> =
            chunk.iter().flat_map(|r| r.categories.iter().map(move |c| (r.person_id, c.as_str()))).collect();
        insert_categories(tx, &cats).await?;
    }
    Ok(())
}

pub async fn insert_consents(tx: &mut Tx, rows: &[NewConsent]) -> Result<(), StoreError> {
    let now = crate::time::now();
    for chunk in rows.chunks(BATCH) {
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO person_consents (person_id, purpose, given_by, given_on, note, recorded_at, recorded_by) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.person_id)
                    .push_bind(&r.purpose)
                    .push_bind(&r.given_by)
                    .push_bind(r.given_on)
                    .push_bind(r.note.as_deref())
                    .push_bind(now)
                    .push_bind(r.recorded_by);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}
