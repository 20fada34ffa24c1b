//! People: one row per real person, found by the blind index of the citizen ID, with the
//! roles they hold (volunteer, social worker, beneficiary). ID numbers and phones are
//! encrypted with AAD bound to the row's uid; lists read only the masked copies.
//!
//! Lists and loads take the caller's [`Scope`] and the role being worked on: officials and
//! station staff see people whose home region is in their scope, organization staff only the
//! people of their own organization (its volunteers, its employed social workers, the
//! beneficiaries it serves).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;
use wushe_domain::accounts::Scope;
use wushe_domain::codes::citizen_id::CitizenId;
use wushe_domain::privacy::mask;
use wushe_domain::registry::person::PersonRole;
use wushe_domain::registry::search::{self, classify_term, SearchTerm};

use super::grams;
use crate::crypto::{Aad, KeyRing};
use crate::query::{self, Filter, Param};
use crate::{on_db, on_tx, Db, Page, Paged, StoreError, Tx};

pub const GRAM_KIND: &str = "person";

/// Rows per multi-row INSERT.
const BATCH: usize = 500;

const CERTIFICATE_TAKEN: &str = "证书编号已登记在另一位社会工作者名下";

/// Blind-index domains.
const ID_KIND: &str = "citizen_id";
const PHONE_KIND: &str = "phone";

pub fn id_index(keys: &KeyRing, id: &CitizenId) -> String {
    keys.blind_index(ID_KIND, id.as_str())
}

/// `phone` must be normalized (`normalize_phone`).
pub fn phone_index(keys: &KeyRing, phone: &str) -> String {
    keys.blind_index(PHONE_KIND, phone)
}

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

/// A person's phone as stored: the blind index (exact search), the ciphertext bound to the
/// row's uid, the masked copy lists show. Registration, import and edits all seal phones
/// here, so the three never drift apart.
struct SealedPhone {
    index: String,
    cipher: Vec<u8>,
    masked: String,
}

/// `phone` must be normalized (`normalize_phone`).
fn seal_phone(keys: &KeyRing, uid: &str, phone: &str) -> SealedPhone {
    SealedPhone {
        index: phone_index(keys, phone),
        cipher: keys.encrypt(&Aad { table: "people", column: "phone", row: uid }, phone),
        masked: mask::mask_phone(phone),
    }
}

/// A guardian's phone as stored in `table` (volunteers or beneficiaries): ciphertext bound
/// to the person's uid and the masked copy; guardians are not searched, so no blind index.
fn seal_guardian_phone(keys: &KeyRing, table: &str, uid: &str, phone: &str) -> (Vec<u8>, String) {
    (keys.encrypt(&Aad { table, column: "guardian_phone", row: uid }, phone), mask::mask_phone(phone))
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

/// The category index rows behind the category filter: `(person_id, category key)`.
async fn insert_categories(tx: &mut Tx, cats: &[(i64, &str)]) -> Result<(), StoreError> {
    for cc in cats.chunks(BATCH) {
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO beneficiary_categories (person_id, category) ");
            qb.push_values(cc, |mut b, (p, cat)| {
                b.push_bind(*p).push_bind(*cat);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
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

async fn uids_of(tx: &mut Tx, ids: &[i64]) -> Result<std::collections::HashMap<i64, String>, StoreError> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let rows: Vec<(i64, String)> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new("SELECT id, uid FROM people WHERE id IN (");
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

/// One person as a list shows them in one role: masked personal data plus the role's facts.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub gender: String,
    pub birth_date: NaiveDate,
    pub id_masked: String,
    pub phone_masked: Option<String>,
    /// Blind index of the phone: tells an edit whether the phone really changes.
    #[serde(skip)]
    pub phone_index: Option<String>,
    pub division_code: String,
    pub address: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Changes with every edit; an edit made from an older copy is refused.
    pub updated_at: DateTime<Utc>,
    // the role
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    // volunteer
    pub volunteer_number: Option<String>,
    pub skills: Option<String>,
    pub availability: Option<String>,
    pub guardian_name: Option<String>,
    pub guardian_phone_masked: Option<String>,
    pub registered_on: Option<NaiveDate>,
    pub latitude_e6: Option<i64>,
    pub longitude_e6: Option<i64>,
    // social worker
    pub credential_level: Option<String>,
    pub certificate_number: Option<String>,
    pub ce_hours: Option<i64>,
    pub employer_org_id: Option<i64>,
    pub employer_name: Option<String>,
    pub station_code: Option<String>,
    // beneficiary
    pub categories: Option<String>,
    pub guardian_relation: Option<String>,
    pub serving_org_id: Option<i64>,
    pub serving_org_name: Option<String>,
}

const PERSON_COLS: &str = "p.id, p.name, p.gender, p.birth_date, p.id_masked, p.phone_masked, p.phone_index, \
    p.division_code, \
    p.address, p.created_at, p.updated_at";

/// The role-specific part of the SELECT list and FROM clause (after `people p`).
fn role_sql(role: PersonRole) -> (&'static str, &'static str) {
    match role {
        PersonRole::Volunteer => (
            "v.ended_on, v.end_reason, v.volunteer_number, v.skills, v.availability, v.guardian_name, \
             v.guardian_phone_masked, v.registered_on, v.latitude_e6, v.longitude_e6, NULL AS credential_level, NULL AS certificate_number, CAST(NULL AS BIGINT) AS ce_hours, \
             CAST(NULL AS BIGINT) AS employer_org_id, NULL AS employer_name, NULL AS station_code, NULL AS categories, \
             NULL AS guardian_relation, CAST(NULL AS BIGINT) AS serving_org_id, NULL AS serving_org_name",
            " JOIN volunteers v ON v.person_id = p.id",
        ),
        PersonRole::SocialWorker => (
            "s.ended_on, s.end_reason, NULL AS volunteer_number, NULL AS skills, NULL AS availability, \
             NULL AS guardian_name, NULL AS guardian_phone_masked, s.registered_on, CAST(NULL AS BIGINT) AS latitude_e6, \
             CAST(NULL AS BIGINT) AS longitude_e6, s.credential_level, s.certificate_number, s.ce_hours, \
             s.employer_org_id, (SELECT o.name FROM organizations o WHERE o.id = s.employer_org_id) AS employer_name, \
             s.station_code, NULL AS categories, NULL AS guardian_relation, CAST(NULL AS BIGINT) AS serving_org_id, \
             NULL AS serving_org_name",
            " JOIN social_workers s ON s.person_id = p.id",
        ),
        PersonRole::Beneficiary => (
            "b.ended_on, b.end_reason, NULL AS volunteer_number, NULL AS skills, NULL AS availability, b.guardian_name, \
             b.guardian_phone_masked, CAST(NULL AS DATE) AS registered_on, CAST(NULL AS BIGINT) AS latitude_e6, \
             CAST(NULL AS BIGINT) AS longitude_e6, NULL AS credential_level, NULL AS certificate_number, \
             CAST(NULL AS BIGINT) AS ce_hours, CAST(NULL AS BIGINT) AS employer_org_id, NULL AS employer_name, \
             NULL AS station_code, b.categories, b.guardian_relation, b.serving_org_id, \
             (SELECT o.name FROM organizations o WHERE o.id = b.serving_org_id) AS serving_org_name",
            " JOIN beneficiaries b ON b.person_id = p.id",
        ),
    }
}

/// The scope rule for people in one role (see the module comment).
fn scope_filter(w: &mut Filter, scope: &Scope, role: PersonRole) {
    match scope.organization_id {
        Some(org) => {
            let clause = match role {
                PersonRole::Volunteer => {
                    "p.id IN (SELECT person_id FROM volunteer_organizations WHERE organization_id = {})"
                }
                PersonRole::SocialWorker => "s.employer_org_id = {}",
                PersonRole::Beneficiary => "b.serving_org_id = {}",
            };
            w.and(clause, vec![Param::Int(org)]);
        }
        None => {
            w.within_division("p.division_code", &scope.division);
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PeopleSort {
    #[default]
    Newest,
    Name,
    Region,
}

/// What a people list selects. `q` is a name fragment, a citizen ID (exact, through the blind
/// index), a phone number (exact, likewise) or a volunteer / certificate number.
#[derive(Debug, Clone, Default)]
pub struct PeopleFilter {
    pub q: Option<String>,
    /// Region subtree (significant digits), inside the scope.
    pub region: Option<String>,
    /// Volunteers: skill key. Beneficiaries: category key. Social workers: credential level.
    pub kind: Option<String>,
    /// Volunteers of this organization / social workers it employs / beneficiaries it serves.
    pub organization_id: Option<i64>,
    pub sort: PeopleSort,
    pub status: RoleStatus,
}

/// Whether a list shows people whose role goes on, has ended, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RoleStatus {
    #[default]
    Current,
    Ended,
    All,
}

/// The alias of the role's table in the list SQL (see `role_sql`).
fn role_alias(role: PersonRole) -> &'static str {
    match role {
        PersonRole::Volunteer => "v",
        PersonRole::SocialWorker => "s",
        PersonRole::Beneficiary => "b",
    }
}

/// The WHERE clause of a list and the FROM prefix of the table driving it: the gram index
/// for a name search, a volunteer organization's member index for its volunteers (walked
/// newest first, so a page or a capped count stops early), or nothing.
async fn list_filter(
    db: &Db,
    keys: &KeyRing,
    scope: &Scope,
    role: PersonRole,
    f: &PeopleFilter,
) -> Result<(Filter, &'static str), StoreError> {
    let mut w = Filter::new();
    let mut from = "";
    let member_of = match role {
        PersonRole::Volunteer => scope.organization_id.or(f.organization_id),
        _ => None,
    };
    let name_search = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(classify_term);
    let gram_driven = matches!(name_search, Some(SearchTerm::Name(_)))
        || matches!((&name_search, role), (Some(SearchTerm::Number(_)), PersonRole::Beneficiary));
    let mut driven_by = None;
    if let (Some(org), false) = (member_of, gram_driven) {
        from = "volunteer_organizations vo CROSS JOIN ";
        w.and("vo.organization_id = {} AND p.id = vo.person_id", vec![Param::Int(org)]);
        driven_by = Some(org);
    }
    // The member index already restricts to `driven_by`: the same condition again as an IN
    // list would build a temporary index of every member (100,000 for a big organization).
    if !(role == PersonRole::Volunteer && scope.organization_id.is_some() && scope.organization_id == driven_by) {
        scope_filter(&mut w, scope, role);
    }
    match f.status {
        RoleStatus::Current => {
            w.and(&format!("{}.ended_on IS NULL", role_alias(role)), vec![]);
        }
        RoleStatus::Ended => {
            w.and(&format!("{}.ended_on IS NOT NULL", role_alias(role)), vec![]);
        }
        RoleStatus::All => {}
    }
    if let Some(r) = f.region.as_deref().filter(|r| !r.is_empty()) {
        w.within_division("p.division_code", r);
    }
    if let Some(k) = f.kind.as_deref().filter(|k| !k.is_empty()) {
        match role {
            PersonRole::Volunteer => {
                w.and(
                    "(',' || v.skills || ',') LIKE {} ESCAPE '\\'",
                    vec![Param::Text(format!("%,{},%", crate::escape_like(k)))],
                );
            }
            PersonRole::SocialWorker => {
                w.and("s.credential_level = {}", vec![Param::Text(k.to_string())]);
            }
            PersonRole::Beneficiary => {
                w.and(
                    "p.id IN (SELECT person_id FROM beneficiary_categories WHERE category = {})",
                    vec![Param::Text(k.to_string())],
                );
            }
        }
    }
    if let Some(org) = f.organization_id.filter(|o| role != PersonRole::Volunteer || driven_by != Some(*o)) {
        let clause = match role {
            PersonRole::Volunteer => {
                "p.id IN (SELECT person_id FROM volunteer_organizations WHERE organization_id = {})"
            }
            PersonRole::SocialWorker => "s.employer_org_id = {}",
            PersonRole::Beneficiary => "b.serving_org_id = {}",
        };
        w.and(clause, vec![Param::Int(org)]);
    }
    if let Some(term) = name_search {
        match term {
            SearchTerm::CitizenId(id) => {
                w.and("p.id_index = {}", vec![Param::Text(keys.blind_index(ID_KIND, &id))]);
            }
            SearchTerm::Phone(ph) => {
                w.and("p.phone_index = {}", vec![Param::Text(phone_index(keys, &ph))]);
            }
            SearchTerm::Number(n) if role == PersonRole::Volunteer => {
                w.and("v.volunteer_number = {}", vec![Param::Text(n)]);
            }
            SearchTerm::Number(n) if role == PersonRole::SocialWorker => {
                w.and("s.certificate_number = {}", vec![Param::Text(n)]);
            }
            SearchTerm::Number(name) | SearchTerm::Name(name) => {
                let gq = grams::rank(db, GRAM_KIND, &name).await?;
                from = grams::restrict(&mut w, GRAM_KIND, "p.id", "p.name_folded", &gq);
            }
        }
    }
    Ok((w, from))
}

fn order_by(f: &PeopleFilter, from: &str) -> &'static str {
    match f.sort {
        PeopleSort::Newest if from.starts_with("search_grams") => "g.entity_id DESC",
        PeopleSort::Newest if from.starts_with("volunteer_organizations") => "vo.person_id DESC",
        PeopleSort::Newest => "p.id DESC",
        PeopleSort::Name => "p.name_folded, p.id",
        PeopleSort::Region => "p.division_code, p.id",
    }
}

fn from_where(role: PersonRole, from: &str, w: &Filter) -> String {
    format!(" FROM {from}people p{}{}", role_sql(role).1, w.where_sql())
}

pub async fn list(
    db: &Db,
    keys: &KeyRing,
    scope: &Scope,
    role: PersonRole,
    f: &PeopleFilter,
    page: &Page,
) -> Result<Paged<PersonRow>, StoreError> {
    let (w, from) = list_filter(db, keys, scope, role, f).await?;
    let fw = from_where(role, from, &w);
    let (total, capped) = query::fetch_count_capped(db, &fw, &w.params, query::COUNT_CAP).await?;
    let n = w.next_placeholder();
    let sql = format!(
        "SELECT {PERSON_COLS}, {}{fw} ORDER BY {} LIMIT ${n} OFFSET ${}",
        role_sql(role).0,
        order_by(f, from),
        n + 1
    );
    let mut params = w.params.clone();
    params.push(Param::Int(page.limit()));
    params.push(Param::Int(page.offset()));
    let items = query::fetch_all::<PersonRow>(db, &sql, &params).await?;
    Ok(Paged { items, total, capped, page: page.clone() })
}

/// Every row the filter selects, in list order, up to `limit` (for exports).
pub async fn select_all(
    db: &Db,
    keys: &KeyRing,
    scope: &Scope,
    role: PersonRole,
    f: &PeopleFilter,
    limit: i64,
) -> Result<Vec<PersonRow>, StoreError> {
    let (w, from) = list_filter(db, keys, scope, role, f).await?;
    let n = w.next_placeholder();
    let sql = format!(
        "SELECT {PERSON_COLS}, {}{} ORDER BY {} LIMIT ${n}",
        role_sql(role).0,
        from_where(role, from, &w),
        order_by(f, from)
    );
    let mut params = w.params.clone();
    params.push(Param::Int(limit));
    query::fetch_all::<PersonRow>(db, &sql, &params).await
}

/// Load one person in one role (ended or not), inside the caller's scope.
pub async fn get(db: &Db, keys: &KeyRing, scope: &Scope, role: PersonRole, id: i64) -> Result<PersonRow, StoreError> {
    let all = PeopleFilter { status: RoleStatus::All, ..Default::default() };
    let (mut w, from) = list_filter(db, keys, scope, role, &all).await?;
    w.and("p.id = {}", vec![Param::Int(id)]);
    let sql = format!("SELECT {PERSON_COLS}, {}{}", role_sql(role).0, from_where(role, from, &w));
    query::fetch_all::<PersonRow>(db, &sql, &w.params).await?.into_iter().next().ok_or(StoreError::NotFound)
}

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
