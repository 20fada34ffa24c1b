//! Organizations: registration facts, types, the status history (never overwritten: the
//! current status is a summary of it), and scoped lists with Chinese fragment search.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;
use wushe_domain::accounts::Scope;
use wushe_domain::registry::search;

use super::grams;
use crate::query::{self, Filter, Param};
use crate::{on_db, on_tx, Db, Page, Paged, StoreError, Tx};

pub const GRAM_KIND: &str = "org";

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct OrganizationRow {
    pub id: i64,
    pub name: String,
    pub credit_code: Option<String>,
    pub org_type: String,
    pub division_code: String,
    pub registration_authority: Option<String>,
    pub registered_on: Option<NaiveDate>,
    pub status: String,
    pub is_charity: bool,
    pub fundraising_qualified: bool,
    pub legal_representative: Option<String>,
    pub contact_person: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub created_at: DateTime<Utc>,
}

const COLS: &str =
    "o.id, o.name, o.credit_code, o.org_type, o.division_code, o.registration_authority, o.registered_on, \
                    o.status, o.is_charity, o.fundraising_qualified, o.legal_representative, o.contact_person, \
                    o.contact_phone, o.address, o.created_at";

pub struct NewOrganization<'a> {
    pub name: &'a str,
    pub credit_code: Option<&'a str>,
    /// Main type; `types` lists all (including the main one).
    pub org_type: &'a str,
    pub types: &'a [&'a str],
    /// 12-digit code of the region of activity.
    pub division_code: &'a str,
    pub registration_authority: Option<&'a str>,
    pub registered_on: Option<NaiveDate>,
    pub legal_representative: Option<&'a str>,
    pub contact_person: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
    pub address: Option<&'a str>,
}

/// Insert an organization with its types and gram index. Its status history starts with
/// the caller's first [`append_status`].
pub async fn create_organization(tx: &mut Tx, o: &NewOrganization<'_>) -> Result<i64, StoreError> {
    let now = crate::time::now();
    let res: Result<(i64,), sqlx::Error> = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO organizations (name, name_folded, credit_code, org_type, division_code, registration_authority, \
         registered_on, legal_representative, contact_person, contact_phone, address, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id"
    )
    .bind(o.name)
    .bind(search::fold(o.name))
    .bind(o.credit_code)
    .bind(o.org_type)
    .bind(o.division_code)
    .bind(o.registration_authority)
    .bind(o.registered_on)
    .bind(o.legal_representative)
    .bind(o.contact_person)
    .bind(o.contact_phone)
    .bind(o.address)
    .bind(now)
    .fetch_one(c)
    .await
    });
    let id = match res.map_err(StoreError::from) {
        Ok((id,)) => id,
        Err(e) if e.is_unique_violation() => {
            return Err(StoreError::Conflict(format!("统一社会信用代码 {} 已登记", o.credit_code.unwrap_or_default())))
        }
        Err(e) => return Err(e),
    };
    let mut types: Vec<&str> = o.types.to_vec();
    if !types.contains(&o.org_type) {
        types.push(o.org_type);
    }
    for t in types {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO organization_types (organization_id, org_type) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        )
        .bind(id)
        .bind(t)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    grams::index(tx, GRAM_KIND, id, o.name).await?;
    Ok(id)
}

/// One entry of the status history.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct StatusRow {
    pub id: i64,
    pub organization_id: i64,
    pub status: String,
    pub effective_on: NaiveDate,
    pub authority: String,
    pub document_number: Option<String>,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<i64>,
}

pub struct NewStatus<'a> {
    pub status: &'a str,
    pub effective_on: NaiveDate,
    pub authority: &'a str,
    pub document_number: Option<&'a str>,
    pub note: Option<&'a str>,
    pub recorded_by: Option<i64>,
}

/// The summary the organization row keeps of its history (decided by the domain rule).
pub struct Standing<'a> {
    pub status: &'a str,
    pub is_charity: bool,
    pub fundraising_qualified: bool,
}

/// Append a status event and update the summary on the organization row.
pub async fn append_status(
    tx: &mut Tx,
    org_id: i64,
    ev: &NewStatus<'_>,
    standing: &Standing<'_>,
) -> Result<i64, StoreError> {
    let (id,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO organization_status_history (organization_id, status, effective_on, authority, document_number, \
         note, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
    )
    .bind(org_id)
    .bind(ev.status)
    .bind(ev.effective_on)
    .bind(ev.authority)
    .bind(ev.document_number)
    .bind(ev.note)
    .bind(crate::time::now())
    .bind(ev.recorded_by)
    .fetch_one(c)
    .await
    })?;
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE organizations SET status = $1, is_charity = $2, fundraising_qualified = $3, updated_at = $4 WHERE id = $5"
    )
    .bind(standing.status)
    .bind(standing.is_charity)
    .bind(standing.fundraising_qualified)
    .bind(crate::time::now())
    .bind(org_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(id)
}

pub async fn status_history(db: &Db, org_id: i64) -> Result<Vec<StatusRow>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as::<_, StatusRow>(
        "SELECT id, organization_id, status, effective_on, authority, document_number, note, recorded_at, recorded_by \
         FROM organization_status_history WHERE organization_id = $1 ORDER BY id"
    )
    .bind(org_id)
    .fetch_all(c)
    .await)?)
}

pub async fn types_of(db: &Db, org_id: i64) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = on_db!(db, |c| sqlx::query_as(
        "SELECT org_type FROM organization_types WHERE organization_id = $1 ORDER BY org_type"
    )
    .bind(org_id)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

fn scope_filter(f: &mut Filter, scope: &Scope) {
    // the whole country adds no condition (and a name search is then counted in its index)
    f.within_division("o.division_code", &scope.division);
    if let Some(org) = scope.organization_id {
        f.and("o.id = {}", vec![Param::Int(org)]);
    }
}

/// Load an organization inside the caller's scope (region subtree, and the caller's own
/// organization for organization staff).
pub async fn get_organization(db: &Db, scope: &Scope, id: i64) -> Result<OrganizationRow, StoreError> {
    let mut f = Filter::new();
    scope_filter(&mut f, scope);
    f.and("o.id = {}", vec![Param::Int(id)]);
    let sql = format!("SELECT {COLS} FROM organizations o{}", f.where_sql());
    query::fetch_all::<OrganizationRow>(db, &sql, &f.params).await?.into_iter().next().ok_or(StoreError::NotFound)
}

#[derive(Debug, Default, Clone)]
pub struct OrgFilter {
    /// Name fragment, or a credit code (exact).
    pub q: Option<String>,
    /// Region subtree (significant digits), inside the scope.
    pub region: Option<String>,
    pub org_type: Option<String>,
    pub status: Option<String>,
    pub charity: Option<bool>,
    pub sort: OrgSort,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum OrgSort {
    #[default]
    Newest,
    Name,
    Code,
}

/// The WHERE clause of a list, the FROM prefix of an index-driven name search, and that
/// search's grams when they are the list's only condition (the gram index can count it).
async fn list_filter(
    db: &Db,
    scope: &Scope,
    f: &OrgFilter,
) -> Result<(Filter, &'static str, Option<grams::GramQuery>), StoreError> {
    let mut w = Filter::new();
    let mut from = "";
    let mut alone = None;
    scope_filter(&mut w, scope);
    if let Some(r) = f.region.as_deref().filter(|r| !r.is_empty()) {
        w.within_division("o.division_code", r);
    }
    if let Some(t) = f.org_type.as_deref().filter(|t| !t.is_empty()) {
        w.and(
            "o.id IN (SELECT organization_id FROM organization_types WHERE org_type = {})",
            vec![Param::Text(t.to_string())],
        );
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        w.and("o.status = {}", vec![Param::Text(s.to_string())]);
    }
    if let Some(c) = f.charity {
        w.and(if c { "o.is_charity = TRUE" } else { "o.is_charity = FALSE" }, vec![]);
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let upper = q.to_ascii_uppercase();
        if upper.len() == 18 && upper.chars().all(|c| c.is_ascii_alphanumeric()) {
            w.and("o.credit_code = {}", vec![Param::Text(upper)]);
        } else {
            let gq = grams::rank(db, GRAM_KIND, q).await?;
            let only = w.is_empty();
            from = grams::restrict(&mut w, GRAM_KIND, "o.id", "o.name_folded", &gq);
            alone = only.then_some(gq);
        }
    }
    Ok((w, from, alone))
}

fn order_by(f: &OrgFilter, gram_driven: bool) -> &'static str {
    match f.sort {
        // Same order as o.id, but lets the planner walk the gram index backwards and stop.
        OrgSort::Newest if gram_driven => "g.entity_id DESC",
        OrgSort::Newest => "o.id DESC",
        OrgSort::Name => "o.name_folded, o.id",
        OrgSort::Code => "o.credit_code, o.id",
    }
}

pub async fn list(db: &Db, scope: &Scope, f: &OrgFilter, page: &Page) -> Result<Paged<OrganizationRow>, StoreError> {
    let (w, from, alone) = list_filter(db, scope, f).await?;
    let from_where = format!(" FROM {from}organizations o{}", w.where_sql());
    let counted = match &alone {
        Some(gq) => grams::count_alone(db, GRAM_KIND, gq, query::COUNT_CAP).await?,
        None => None,
    };
    let (total, capped) = match counted {
        Some(c) => c,
        None => query::fetch_count_capped(db, &from_where, &w.params, query::COUNT_CAP).await?,
    };
    let n = w.next_placeholder();
    let sql =
        format!("SELECT {COLS}{from_where} ORDER BY {} LIMIT ${n} OFFSET ${}", order_by(f, !from.is_empty()), n + 1);
    let mut params = w.params.clone();
    params.push(Param::Int(page.limit()));
    params.push(Param::Int(page.offset()));
    let items = query::fetch_all::<OrganizationRow>(db, &sql, &params).await?;
    Ok(Paged { items, total, capped, page: page.clone() })
}

/// Every row the filter selects, in list order, up to `limit` (for exports: ask for one
/// more than allowed to detect a selection that is too large).
pub async fn select_all(db: &Db, scope: &Scope, f: &OrgFilter, limit: i64) -> Result<Vec<OrganizationRow>, StoreError> {
    let (w, from, _) = list_filter(db, scope, f).await?;
    let n = w.next_placeholder();
    let sql = format!(
        "SELECT {COLS} FROM {from}organizations o{} ORDER BY {} LIMIT ${n}",
        w.where_sql(),
        order_by(f, !from.is_empty())
    );
    let mut params = w.params.clone();
    params.push(Param::Int(limit));
    query::fetch_all::<OrganizationRow>(db, &sql, &params).await
}

pub async fn count_in_scope(db: &Db, scope: &Scope) -> Result<i64, StoreError> {
    let mut f = Filter::new();
    scope_filter(&mut f, scope);
    query::fetch_count(db, &format!("SELECT COUNT(*) FROM organizations o{}", f.where_sql()), &f.params).await
}

/// Public lookup: registered organizations anywhere in the deployment, by name fragment or
/// credit code (no personal data in the result).
pub async fn public_lookup(db: &Db, q: &str, limit: i64) -> Result<Vec<OrganizationRow>, StoreError> {
    let f = OrgFilter { q: Some(q.to_string()), ..Default::default() };
    Ok(list(db, &Scope::national(), &f, &Page::new(Some(1), Some(limit as u32))).await?.items)
}

/// An organization already registered, as import de-duplication needs it.
#[derive(Debug, Clone, FromRow)]
pub struct ExistingOrg {
    pub id: i64,
    pub name: String,
    pub credit_code: Option<String>,
    pub division_code: String,
}

/// Organizations registered under any of these credit codes, or (for rows without a code)
/// with any of these names, anywhere: a credit code is unique nationally.
pub async fn existing_for_import(
    tx: &mut Tx,
    codes: &[String],
    names: &[String],
) -> Result<Vec<ExistingOrg>, StoreError> {
    let mut out = Vec::new();
    for (col, values) in [("credit_code", codes), ("name", names)] {
        for chunk in values.chunks(500) {
            let rows: Vec<ExistingOrg> = on_tx!(tx, |c| {
                let mut qb = sqlx::QueryBuilder::new(format!(
                    "SELECT id, name, credit_code, division_code FROM organizations WHERE {col} IN ("
                ));
                let mut sep = qb.separated(", ");
                for v in chunk {
                    sep.push_bind(v);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(c).await
            })?;
            out.extend(rows);
        }
    }
    Ok(out)
}
