//! Love supermarkets: outlets, goods priced in points with stock, and redemptions that take
//! the points and the stock together or not at all.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;
use wushe_domain::accounts::Scope;

use crate::{on_db, on_tx, Db, StoreError, Tx};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct OutletRow {
    pub id: i64,
    pub name: String,
    pub division_code: String,
    pub address: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GoodsRow {
    pub id: i64,
    pub outlet_id: i64,
    pub name: String,
    pub points: i64,
    pub stock: i64,
    pub active: bool,
}

pub async fn create_outlet(
    tx: &mut Tx,
    name: &str,
    division_code: &str,
    address: &str,
    by: Option<i64>,
) -> Result<i64, StoreError> {
    let (id,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO outlets (name, division_code, address, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id"
    )
    .bind(name)
    .bind(division_code)
    .bind(address)
    .bind(by)
    .bind(crate::time::now())
    .fetch_one(c)
    .await
    })?;
    Ok(id)
}

/// Outlets in a region (everyone may see where to redeem).
pub async fn outlets(db: &Db, region: &str) -> Result<Vec<OutletRow>, StoreError> {
    let (lo, hi) = Scope::region(region).division_range();
    Ok(on_db!(db, |c| sqlx::query_as::<_, OutletRow>(
        "SELECT id, name, division_code, address, created_at FROM outlets \
         WHERE division_code >= $1 AND division_code <= $2 ORDER BY division_code, id LIMIT 500"
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(c)
    .await)?)
}

pub async fn outlet_tx(tx: &mut Tx, id: i64) -> Result<OutletRow, StoreError> {
    on_tx!(tx, |c| sqlx::query_as::<_, OutletRow>(
        "SELECT id, name, division_code, address, created_at FROM outlets WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?
    .ok_or(StoreError::NotFound)
}

pub async fn add_goods(tx: &mut Tx, outlet_id: i64, name: &str, points: i64, stock: i64) -> Result<i64, StoreError> {
    let (id,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO goods (outlet_id, name, points, stock, active, created_at) VALUES ($1, $2, $3, $4, TRUE, $5) RETURNING id"
    )
    .bind(outlet_id)
    .bind(name)
    .bind(points)
    .bind(stock)
    .bind(crate::time::now())
    .fetch_one(c)
    .await
    })?;
    Ok(id)
}

/// Add to (or, with a negative number, correct down) a good's stock; never below zero.
pub async fn restock(tx: &mut Tx, goods_id: i64, delta: i64) -> Result<i64, StoreError> {
    let row: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
        "UPDATE goods SET stock = stock + $1 WHERE id = $2 AND stock + $1 >= 0 RETURNING stock"
    )
    .bind(delta)
    .bind(goods_id)
    .fetch_optional(c)
    .await)?;
    row.map(|r| r.0).ok_or_else(|| StoreError::Conflict("库存不能小于 0".into()))
}

pub async fn goods(db: &Db, outlet_id: i64) -> Result<Vec<GoodsRow>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as::<_, GoodsRow>(
        "SELECT id, outlet_id, name, points, stock, active FROM goods WHERE outlet_id = $1 ORDER BY id"
    )
    .bind(outlet_id)
    .fetch_all(c)
    .await)?)
}

pub async fn goods_by_id(db: &Db, id: i64) -> Result<GoodsRow, StoreError> {
    on_db!(db, |c| sqlx::query_as::<_, GoodsRow>(
        "SELECT id, outlet_id, name, points, stock, active FROM goods WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?
    .ok_or(StoreError::NotFound)
}

pub async fn goods_tx(tx: &mut Tx, id: i64) -> Result<GoodsRow, StoreError> {
    on_tx!(tx, |c| sqlx::query_as::<_, GoodsRow>(
        "SELECT id, outlet_id, name, points, stock, active FROM goods WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?
    .ok_or(StoreError::NotFound)
}

/// Take `quantity` from stock if there is that much: Ok(false) when there is not.
pub async fn take_stock(tx: &mut Tx, goods_id: i64, quantity: i64) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE goods SET stock = stock - $1 WHERE id = $2 AND active = TRUE AND stock >= $1"
    )
    .bind(quantity)
    .bind(goods_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

#[allow(clippy::too_many_arguments)]
pub async fn record_redemption(
    tx: &mut Tx,
    goods_id: i64,
    person_id: i64,
    quantity: i64,
    points: i64,
    transaction_id: i64,
    by: Option<i64>,
) -> Result<i64, StoreError> {
    let (id,): (i64,) = on_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO redemptions (goods_id, person_id, quantity, points, transaction_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
    )
    .bind(goods_id)
    .bind(person_id)
    .bind(quantity)
    .bind(points)
    .bind(transaction_id)
    .bind(by)
    .bind(crate::time::now())
    .fetch_one(c)
    .await)?;
    Ok(id)
}

/// Record that two people are direct relatives (both directions).
pub async fn add_relation(
    tx: &mut Tx,
    a: i64,
    b: i64,
    relation_a_to_b: &str,
    relation_b_to_a: &str,
    by: Option<i64>,
) -> Result<(), StoreError> {
    for (p, r, rel) in [(a, b, relation_a_to_b), (b, a, relation_b_to_a)] {
        on_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO person_relations (person_id, relative_id, relation, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (person_id, relative_id) DO UPDATE SET relation = excluded.relation"
        )
        .bind(p)
        .bind(r)
        .bind(rel)
        .bind(by)
        .bind(crate::time::now())
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Remove the relation between two people (both directions). Returns how `b` was related to
/// `a` before the removal, or None when nothing was recorded from `a` to `b`. Half-recorded
/// pairs (one direction only) are cleaned up as well.
pub async fn remove_relation(tx: &mut Tx, a: i64, b: i64) -> Result<Option<String>, StoreError> {
    let removed: Option<(String,)> = on_tx!(tx, |c| sqlx::query_as(
        "DELETE FROM person_relations WHERE person_id = $1 AND relative_id = $2 RETURNING relation"
    )
    .bind(a)
    .bind(b)
    .fetch_optional(c)
    .await)?;
    on_tx!(tx, |c| sqlx::query("DELETE FROM person_relations WHERE person_id = $1 AND relative_id = $2")
        .bind(b)
        .bind(a)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(removed.map(|r| r.0))
}

/// How `relative` is related to `person` (e.g. "子女"), if recorded.
pub async fn relation(tx: &mut Tx, person: i64, relative: i64) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT relation FROM person_relations WHERE person_id = $1 AND relative_id = $2"
    )
    .bind(person)
    .bind(relative)
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|r| r.0))
}

/// Change a good's point price (redemptions already made keep the price they paid).
pub async fn set_price(tx: &mut Tx, goods_id: i64, points: i64) -> Result<(), StoreError> {
    let n = on_tx!(tx, |c| sqlx::query("UPDATE goods SET points = $1 WHERE id = $2")
        .bind(points)
        .bind(goods_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Put a good on the shelf or take it off (it stays listed for the record).
pub async fn set_active(tx: &mut Tx, goods_id: i64, active: bool) -> Result<(), StoreError> {
    let n = on_tx!(tx, |c| sqlx::query("UPDATE goods SET active = $1 WHERE id = $2")
        .bind(active)
        .bind(goods_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

pub async fn outlet(db: &Db, id: i64) -> Result<OutletRow, StoreError> {
    on_db!(db, |c| sqlx::query_as::<_, OutletRow>(
        "SELECT id, name, division_code, address, created_at FROM outlets WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?
    .ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RedemptionRow {
    pub id: i64,
    pub goods_id: i64,
    pub goods_name: String,
    pub outlet_id: i64,
    pub outlet_name: String,
    pub person_id: i64,
    pub person_name: String,
    pub quantity: i64,
    pub points: i64,
    pub created_at: DateTime<Utc>,
}

const REDEMPTION_SQL: &str =
    "SELECT r.id, r.goods_id, g.name AS goods_name, o.id AS outlet_id, o.name AS outlet_name, \
     r.person_id, p.name AS person_name, r.quantity, r.points, r.created_at FROM redemptions r \
     JOIN goods g ON g.id = r.goods_id JOIN outlets o ON o.id = g.outlet_id JOIN people p ON p.id = r.person_id";

/// The latest redemptions at an outlet.
pub async fn redemptions_at(db: &Db, outlet_id: i64, limit: i64) -> Result<Vec<RedemptionRow>, StoreError> {
    let sql = format!("{REDEMPTION_SQL} WHERE g.outlet_id = $1 ORDER BY r.id DESC LIMIT $2");
    Ok(on_db!(db, |c| sqlx::query_as::<_, RedemptionRow>(&sql).bind(outlet_id).bind(limit).fetch_all(c).await)?)
}

/// A person's latest redemptions.
pub async fn redemptions_of(db: &Db, person_id: i64, limit: i64) -> Result<Vec<RedemptionRow>, StoreError> {
    let sql = format!("{REDEMPTION_SQL} WHERE r.person_id = $1 ORDER BY r.id DESC LIMIT $2");
    Ok(on_db!(db, |c| sqlx::query_as::<_, RedemptionRow>(&sql).bind(person_id).bind(limit).fetch_all(c).await)?)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RelativeRow {
    pub person_id: i64,
    pub name: String,
    /// How the relative is related to the person (父母 / 配偶 / 子女).
    pub relation: String,
    pub birth_date: NaiveDate,
    pub division_code: String,
}

/// The relatives recorded for a person.
pub async fn relatives(db: &Db, person_id: i64) -> Result<Vec<RelativeRow>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as::<_, RelativeRow>(
        "SELECT r.relative_id AS person_id, p.name, r.relation, p.birth_date, p.division_code FROM person_relations r \
         JOIN people p ON p.id = r.relative_id WHERE r.person_id = $1 ORDER BY r.recorded_at, r.relative_id"
    )
    .bind(person_id)
    .fetch_all(c)
    .await)?)
}

/// Name, birth date and division of a person (for the time-bank pages).
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Holder {
    pub id: i64,
    pub name: String,
    pub birth_date: NaiveDate,
    pub division_code: String,
    pub id_masked: String,
}

pub async fn holder(db: &Db, person_id: i64) -> Result<Holder, StoreError> {
    on_db!(db, |c| sqlx::query_as::<_, Holder>(
        "SELECT id, name, birth_date, division_code, id_masked FROM people WHERE id = $1"
    )
    .bind(person_id)
    .fetch_optional(c)
    .await)?
    .ok_or(StoreError::NotFound)
}

pub async fn division_of(tx: &mut Tx, person_id: i64) -> Result<String, StoreError> {
    let row: Option<(String,)> = on_tx!(tx, |c| sqlx::query_as("SELECT division_code FROM people WHERE id = $1")
        .bind(person_id)
        .fetch_optional(c)
        .await)?;
    row.map(|r| r.0).ok_or(StoreError::NotFound)
}
