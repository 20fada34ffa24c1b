//! Volunteer service certificates: requests, the organization's decisions, the snapshot an
//! issued certificate keeps, and the public verification (one lookup by the unique number).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;
use wushe_domain::accounts::Scope;

use crate::query::{self, Filter, Param};
use crate::{on_db, on_tx, Db, Page, Paged, StoreError, Tx};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CertificateRow {
    pub id: i64,
    pub number: Option<String>,
    pub person_id: i64,
    pub person_name: String,
    pub organization_id: i64,
    pub organization_name: String,
    pub division_code: String,
    pub status: String,
    pub purpose: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub publicity_until: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub issued_at: Option<DateTime<Utc>>,
    pub issued_on: Option<NaiveDate>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub holder_name: Option<String>,
    pub id_type: Option<String>,
    pub id_masked: Option<String>,
    pub volunteer_number: Option<String>,
    pub issuer_name: Option<String>,
    pub issuer_credit_code: Option<String>,
    pub person_in_charge: Option<String>,
    pub handler_name: Option<String>,
    pub contact: Option<String>,
    pub total_minutes: Option<i64>,
    pub item_count: Option<i64>,
    pub records_corrected_at: Option<DateTime<Utc>>,
}

const COLS: &str =
    "c.id, c.number, c.person_id, p.name AS person_name, c.organization_id, o.name AS organization_name, \
    c.division_code, c.status, c.purpose, c.requested_at, c.publicity_until, c.decided_at, c.issued_at, c.issued_on, \
    c.revoked_at, c.reason, c.holder_name, c.id_type, c.id_masked, c.volunteer_number, c.issuer_name, \
    c.issuer_credit_code, c.person_in_charge, c.handler_name, c.contact, c.total_minutes, c.item_count, \
    c.records_corrected_at";
const FROM: &str =
    " FROM certificates c JOIN people p ON p.id = c.person_id JOIN organizations o ON o.id = c.organization_id";

/// Who is looking at certificates.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// Organization staff: their organization's; officials and station staff: those issued
    /// by organizations of their region.
    Scoped(Scope),
    /// A volunteer: their own.
    Person(i64),
}

fn viewer_filter(w: &mut Filter, viewer: &Viewer) {
    match viewer {
        Viewer::Scoped(scope) => match scope.organization_id {
            Some(org) => {
                w.and("c.organization_id = {}", vec![Param::Int(org)]);
            }
            None => {
                w.within_division("c.division_code", &scope.division);
            }
        },
        Viewer::Person(p) => {
            w.and("c.person_id = {}", vec![Param::Int(*p)]);
        }
    }
}

pub struct NewRequest<'a> {
    pub person_id: i64,
    pub organization_id: i64,
    pub division_code: &'a str,
    pub purpose: Option<&'a str>,
    pub requested_by: i64,
}

/// Record a request; Conflict while another request to the same organization is in progress.
pub async fn insert_request(tx: &mut Tx, r: &NewRequest<'_>) -> Result<i64, StoreError> {
    let res: Result<(i64,), StoreError> = on_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO certificates (person_id, organization_id, division_code, status, purpose, requested_at, requested_by) \
         VALUES ($1, $2, $3, 'requested', $4, $5, $6) RETURNING id"
    )
    .bind(r.person_id)
    .bind(r.organization_id)
    .bind(r.division_code)
    .bind(r.purpose)
    .bind(crate::time::now())
    .bind(r.requested_by)
    .fetch_one(c)
    .await)
    .map_err(StoreError::from);
    match res {
        Ok((id,)) => Ok(id),
        Err(e) if e.is_unique_violation() => {
            Err(StoreError::Conflict("您向该组织申请的证明正在办理中，请勿重复申请".into()))
        }
        Err(e) => Err(e),
    }
}

/// A certificate by id inside a write transaction (no scope: the caller checks its rule).
pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<CertificateRow, StoreError> {
    let sql = format!("SELECT {COLS}{FROM} WHERE c.id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, CertificateRow>(&sql).bind(id).fetch_optional(c).await)?
        .ok_or(StoreError::NotFound)
}

/// One certificate the viewer may see.
pub async fn get(db: &Db, viewer: &Viewer, id: i64) -> Result<CertificateRow, StoreError> {
    let mut w = Filter::new();
    viewer_filter(&mut w, viewer);
    w.and("c.id = {}", vec![Param::Int(id)]);
    let sql = format!("SELECT {COLS}{FROM}{}", w.where_sql());
    query::fetch_all::<CertificateRow>(db, &sql, &w.params).await?.into_iter().next().ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct CertificateFilter {
    pub status: Option<String>,
    pub organization_id: Option<i64>,
}

/// Certificates the viewer may see: requests in progress first, then newest first.
pub async fn list(
    db: &Db,
    viewer: &Viewer,
    f: &CertificateFilter,
    page: &Page,
) -> Result<Paged<CertificateRow>, StoreError> {
    let mut w = Filter::new();
    viewer_filter(&mut w, viewer);
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        w.and("c.status = {}", vec![Param::Text(s.to_string())]);
    }
    if let Some(o) = f.organization_id {
        w.and("c.organization_id = {}", vec![Param::Int(o)]);
    }
    let fw = format!("{FROM}{}", w.where_sql());
    let (total, capped) = query::fetch_count_capped(db, &fw, &w.params, query::COUNT_CAP).await?;
    let n = w.next_placeholder();
    let sql = format!(
        "SELECT {COLS}{fw} ORDER BY CASE WHEN c.status IN ('requested', 'publicity') THEN 0 ELSE 1 END, c.id DESC \
         LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let mut params = w.params.clone();
    params.push(Param::Int(page.limit()));
    params.push(Param::Int(page.offset()));
    let items = query::fetch_all(db, &sql, &params).await?;
    Ok(Paged { items, total, capped, page: page.clone() })
}

/// A conditional update changed nothing: someone else decided first.
fn changed(n: u64) -> Result<(), StoreError> {
    if n == 0 {
        return Err(StoreError::Conflict("证明状态已被他人修改，请刷新后重试".into()));
    }
    Ok(())
}

/// Start the publicity period of a request.
pub async fn start_publicity(tx: &mut Tx, id: i64, until: DateTime<Utc>, by: i64) -> Result<(), StoreError> {
    changed(on_tx!(tx, |c| sqlx::query(
        "UPDATE certificates SET status = 'publicity', publicity_until = $1, decided_at = $2, decided_by = $3 \
         WHERE id = $4 AND status = 'requested'"
    )
    .bind(until)
    .bind(crate::time::now())
    .bind(by)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?)
}

/// Decline a request in progress, with the reason.
pub async fn decline(tx: &mut Tx, id: i64, reason: &str, by: i64) -> Result<(), StoreError> {
    changed(on_tx!(tx, |c| sqlx::query(
        "UPDATE certificates SET status = 'declined', reason = $1, decided_at = $2, decided_by = $3 \
         WHERE id = $4 AND status IN ('requested', 'publicity')"
    )
    .bind(reason)
    .bind(crate::time::now())
    .bind(by)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?)
}

/// Revoke an issued certificate, with the reason.
pub async fn revoke(tx: &mut Tx, id: i64, reason: &str, by: i64) -> Result<(), StoreError> {
    changed(on_tx!(tx, |c| sqlx::query(
        "UPDATE certificates SET status = 'revoked', reason = $1, revoked_at = $2, revoked_by = $3 \
         WHERE id = $4 AND status = 'issued'"
    )
    .bind(reason)
    .bind(crate::time::now())
    .bind(by)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?)
}

/// What an issued certificate states, as it stood at issue.
pub struct Snapshot<'a> {
    pub number: &'a str,
    pub issued_at: DateTime<Utc>,
    pub issued_on: NaiveDate,
    pub issued_by: i64,
    pub holder_name: &'a str,
    pub id_type: &'a str,
    pub id_masked: &'a str,
    pub volunteer_number: &'a str,
    pub issuer_name: &'a str,
    pub issuer_credit_code: Option<&'a str>,
    pub person_in_charge: Option<&'a str>,
    pub handler_name: &'a str,
    pub contact: Option<&'a str>,
    pub total_minutes: i64,
    pub items: &'a [Item],
}

/// One itemized service of a certificate.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Item {
    pub record_id: i64,
    pub activity_title: String,
    pub service_date: NaiveDate,
    pub place: String,
    pub content: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub credited_minutes: i64,
}

/// Issue: give the number and write the snapshot. Conflict when the number is taken (the
/// caller draws another) or the certificate is no longer in progress.
pub async fn issue(tx: &mut Tx, id: i64, s: &Snapshot<'_>) -> Result<(), StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE certificates SET status = 'issued', number = $1, issued_at = $2, issued_on = $3, issued_by = $4, \
         decided_at = COALESCE(decided_at, $2), decided_by = COALESCE(decided_by, $4), holder_name = $5, id_type = $6, \
         id_masked = $7, volunteer_number = $8, issuer_name = $9, issuer_credit_code = $10, person_in_charge = $11, \
         handler_name = $12, contact = $13, total_minutes = $14, item_count = $15 \
         WHERE id = $16 AND status IN ('requested', 'publicity')"
    )
    .bind(s.number)
    .bind(s.issued_at)
    .bind(s.issued_on)
    .bind(s.issued_by)
    .bind(s.holder_name)
    .bind(s.id_type)
    .bind(s.id_masked)
    .bind(s.volunteer_number)
    .bind(s.issuer_name)
    .bind(s.issuer_credit_code)
    .bind(s.person_in_charge)
    .bind(s.handler_name)
    .bind(s.contact)
    .bind(s.total_minutes)
    .bind(s.items.len() as i64)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            StoreError::Conflict("证明编号重复".into())
        } else {
            e
        }
    })?;
    changed(n)?;
    for (k, chunk) in s.items.chunks(200).enumerate() {
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO certificate_items (certificate_id, position, record_id, activity_title, service_date, \
                 place, content, started_at, ended_at, credited_minutes) ",
            );
            qb.push_values(chunk.iter().enumerate(), |mut b, (i, it)| {
                b.push_bind(id)
                    .push_bind((k * 200 + i + 1) as i64)
                    .push_bind(it.record_id)
                    .push_bind(&it.activity_title)
                    .push_bind(it.service_date)
                    .push_bind(&it.place)
                    .push_bind(&it.content)
                    .push_bind(it.started_at)
                    .push_bind(it.ended_at)
                    .push_bind(it.credited_minutes);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// The itemized services of an issued certificate, in their order.
pub async fn items(db: &Db, certificate_id: i64) -> Result<Vec<Item>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as::<_, Item>(
        "SELECT record_id, activity_title, service_date, place, content, started_at, ended_at, credited_minutes \
         FROM certificate_items WHERE certificate_id = $1 ORDER BY position"
    )
    .bind(certificate_id)
    .fetch_all(c)
    .await)?)
}

const SERVICES_SQL: &str = "SELECT r.id AS record_id, a.title AS activity_title, r.service_date, a.address AS place, \
    a.content, r.started_at, r.ended_at, r.credited_minutes FROM service_records r \
    JOIN activities a ON a.id = r.activity_id \
    WHERE r.person_id = $1 AND r.organization_id = $2 AND r.superseded = FALSE \
    ORDER BY r.service_date, r.started_at, r.id";

/// The services in force that an organization recorded for a person, oldest first: what a
/// certificate from that organization lists (read in the issuing transaction).
pub async fn services_for(tx: &mut Tx, person_id: i64, organization_id: i64) -> Result<Vec<Item>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, Item>(SERVICES_SQL)
        .bind(person_id)
        .bind(organization_id)
        .fetch_all(c)
        .await)?)
}

/// The same, for showing a request before it is issued.
pub async fn services_preview(db: &Db, person_id: i64, organization_id: i64) -> Result<Vec<Item>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as::<_, Item>(SERVICES_SQL)
        .bind(person_id)
        .bind(organization_id)
        .fetch_all(c)
        .await)?)
}

const HOLDER_SQL: &str = "SELECT p.name, p.id_masked, v.volunteer_number FROM people p \
    JOIN volunteers v ON v.person_id = p.id WHERE p.id = $1";

/// The holder's facts for the snapshot: name, masked ID number, volunteer number.
pub async fn holder(tx: &mut Tx, person_id: i64) -> Result<(String, String, String), StoreError> {
    on_tx!(tx, |c| sqlx::query_as::<_, (String, String, String)>(HOLDER_SQL).bind(person_id).fetch_optional(c).await)?
        .ok_or(StoreError::NotFound)
}

/// The same, for showing a request before it is issued.
pub async fn holder_preview(db: &Db, person_id: i64) -> Result<(String, String, String), StoreError> {
    on_db!(db, |c| sqlx::query_as::<_, (String, String, String)>(HOLDER_SQL).bind(person_id).fetch_optional(c).await)?
        .ok_or(StoreError::NotFound)
}

/// Whether a number is already given (checked before issuing; the unique index decides).
pub async fn number_taken(tx: &mut Tx, number: &str) -> Result<bool, StoreError> {
    let row: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as("SELECT id FROM certificates WHERE number = $1")
        .bind(number)
        .fetch_optional(c)
        .await)?;
    Ok(row.is_some())
}

/// An organization a volunteer may ask for a certificate: it recorded their hours.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Issuer {
    pub organization_id: i64,
    pub organization_name: String,
    /// Services in force it recorded for the person.
    pub services: i64,
    pub minutes: i64,
}

/// The organizations that recorded hours (in force) for a person, most hours first.
pub async fn issuers_for(db: &Db, person_id: i64) -> Result<Vec<Issuer>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as::<_, Issuer>(
        "SELECT r.organization_id, o.name AS organization_name, COUNT(*) AS services, \
         CAST(SUM(r.credited_minutes) AS BIGINT) AS minutes FROM service_records r \
         JOIN organizations o ON o.id = r.organization_id WHERE r.person_id = $1 AND r.superseded = FALSE \
         GROUP BY r.organization_id, o.name ORDER BY minutes DESC, r.organization_id"
    )
    .bind(person_id)
    .fetch_all(c)
    .await)?)
}

/// After a correction superseded `record_id`: stamp the issued certificates that list it.
/// Returns how many.
pub async fn mark_records_corrected(tx: &mut Tx, record_id: i64, at: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query(
        "UPDATE certificates SET records_corrected_at = $1 WHERE status = 'issued' AND records_corrected_at IS NULL \
         AND id IN (SELECT certificate_id FROM certificate_items WHERE record_id = $2)"
    )
    .bind(at)
    .bind(record_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?)
}

/// What the public verification reads: the snapshot of an issued (or revoked) certificate.
#[derive(Debug, Clone, FromRow)]
pub struct VerifyRow {
    pub number: String,
    pub status: String,
    pub holder_name: String,
    pub id_masked: String,
    pub volunteer_number: String,
    pub issuer_name: String,
    pub issuer_credit_code: Option<String>,
    pub total_minutes: i64,
    pub item_count: i64,
    pub issued_on: NaiveDate,
    pub revoked_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub records_corrected_at: Option<DateTime<Utc>>,
}

/// One lookup on the unique number; only issued and revoked certificates have one.
pub async fn verify(db: &Db, number: &str) -> Result<Option<VerifyRow>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as::<_, VerifyRow>(
        "SELECT number, status, holder_name, id_masked, volunteer_number, issuer_name, issuer_credit_code, \
         total_minutes, item_count, issued_on, revoked_at, reason, records_corrected_at FROM certificates \
         WHERE number = $1 AND status IN ('issued', 'revoked')"
    )
    .bind(number)
    .fetch_optional(c)
    .await)?)
}
