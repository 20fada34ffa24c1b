//! Scoped lists and loads of people in one role: the filter, the sort, the role's columns,
//! and the scope rule.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;
use wushe_domain::accounts::Scope;
use wushe_domain::registry::person::PersonRole;
use wushe_domain::registry::search::{classify_term, SearchTerm};

use crate::crypto::KeyRing;
use crate::query::{self, Filter, Param};
use crate::registry::grams;
use crate::{Db, Page, Paged, StoreError};

use super::{phone_index, GRAM_KIND, ID_KIND};

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
