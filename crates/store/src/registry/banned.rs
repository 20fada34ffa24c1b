//! The list of illegal (banned) organizations (非法社会组织) published by civil-affairs
//! authorities, with the date and authority of each ban.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;
use wushe_domain::registry::search;

use super::grams;
use crate::query::{self, Filter, Param};
use crate::{on_tx, Db, Page, Paged, StoreError, Tx};

pub const GRAM_KIND: &str = "banned";

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct BannedRow {
    pub id: i64,
    pub name: String,
    pub banned_on: NaiveDate,
    pub authority: String,
    pub document_number: Option<String>,
    pub note: Option<String>,
    pub division_code: String,
    pub created_at: DateTime<Utc>,
}

const COLS: &str = "b.id, b.name, b.banned_on, b.authority, b.document_number, b.note, b.division_code, b.created_at";

pub struct NewBanned<'a> {
    pub name: &'a str,
    pub banned_on: NaiveDate,
    pub authority: &'a str,
    pub document_number: Option<&'a str>,
    pub note: Option<&'a str>,
    /// Division of the banning authority (empty for national bodies).
    pub division_code: &'a str,
}

pub async fn create(tx: &mut Tx, b: &NewBanned<'_>) -> Result<i64, StoreError> {
    let res: Result<(i64,), sqlx::Error> = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO banned_organizations (name, name_folded, banned_on, authority, document_number, note, division_code, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
    )
    .bind(b.name)
    .bind(search::fold(b.name))
    .bind(b.banned_on)
    .bind(b.authority)
    .bind(b.document_number)
    .bind(b.note)
    .bind(b.division_code)
    .bind(crate::time::now())
    .fetch_one(c)
    .await
    });
    let id = match res.map_err(StoreError::from) {
        Ok((id,)) => id,
        Err(e) if e.is_unique_violation() => {
            return Err(StoreError::Conflict(format!("「{}」已在{}的取缔名单中", b.name, b.authority)))
        }
        Err(e) => return Err(e),
    };
    grams::index(tx, GRAM_KIND, id, b.name).await?;
    Ok(id)
}

/// The banned list is public: anyone may search it.
pub async fn list(db: &Db, q: Option<&str>, page: &Page) -> Result<Paged<BannedRow>, StoreError> {
    let mut w = Filter::new();
    let mut from = "";
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        let gq = grams::rank(db, GRAM_KIND, q).await?;
        from = grams::restrict(&mut w, GRAM_KIND, "b.id", "b.name_folded", &gq);
    }
    let from_where = format!(" FROM {from}banned_organizations b{}", w.where_sql());
    let (total, capped) = query::fetch_count_capped(db, &from_where, &w.params, query::COUNT_CAP).await?;
    let n = w.next_placeholder();
    let sql = format!("SELECT {COLS}{from_where} ORDER BY b.banned_on DESC, b.id LIMIT ${n} OFFSET ${}", n + 1);
    let mut params = w.params.clone();
    params.push(Param::Int(page.limit()));
    params.push(Param::Int(page.offset()));
    let items = query::fetch_all::<BannedRow>(db, &sql, &params).await?;
    Ok(Paged { items, total, capped, page: page.clone() })
}
