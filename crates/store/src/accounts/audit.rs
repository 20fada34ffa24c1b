//! The append-only, hash-chained audit log. Each entry's hash covers its fields and the hash
//! of the entry before it, so editing or deleting any entry breaks the chain at that point.
//! Entries are written in the same transaction as the change they describe.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use wushe_domain::accounts::Scope;

use crate::db::AuditHead;
use crate::query::{self, Filter, Param};
use crate::{on_db, on_tx, Db, Page, Paged, StoreError, Tx};

/// Who did it and from where.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub role: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

/// What happened to which record; `division_code` and `organization_id` place the entry in a
/// scope so officials see the log of their own region only.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<String>,
    pub division_code: &'a str,
    pub organization_id: Option<i64>,
    pub summary: serde_json::Value,
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub division_code: String,
    pub organization_id: Option<i64>,
    pub summary: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

const COLS: &str = "id, at, user_id, username, role, action, entity, entity_id, division_code, organization_id, \
                    summary, ip, request_id, prev_hash, hash";

fn entry_hash(r: &AuditRow) -> String {
    let mut h = Sha256::new();
    let fields: [String; 14] = [
        r.id.to_string(),
        r.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        r.user_id.map(|v| v.to_string()).unwrap_or_default(),
        r.username.clone().unwrap_or_default(),
        r.role.clone().unwrap_or_default(),
        r.action.clone(),
        r.entity.clone(),
        r.entity_id.clone().unwrap_or_default(),
        r.division_code.clone(),
        r.organization_id.map(|v| v.to_string()).unwrap_or_default(),
        r.summary.clone(),
        r.ip.clone().unwrap_or_default(),
        r.request_id.clone().unwrap_or_default(),
        r.prev_hash.clone(),
    ];
    for f in &fields {
        // Length-prefix each field so that no two different entries serialize alike.
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Append one entry inside the caller's transaction.
pub async fn append(tx: &mut Tx, actor: &Actor, ev: &Event<'_>) -> Result<i64, StoreError> {
    Ok(append_many(tx, &[(actor, ev)]).await?[0])
}

/// Append entries in order inside the caller's transaction, one statement per thousand.
pub async fn append_many(tx: &mut Tx, entries: &[(&Actor, &Event<'_>)]) -> Result<Vec<i64>, StoreError> {
    let head = match tx.memo.audit_head.take() {
        Some(h) => h,
        None => {
            // The transaction's first entry takes the head's row lock (PostgreSQL; SQLite
            // already has a single writer), which serializes writers of the chain until
            // commit. Later entries carry the head in memory; commit writes it back once.
            let (seq, hash): (i64, String) =
                on_tx!(tx, |c| sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                    .fetch_one(c)
                    .await)?;
            AuditHead { seq, hash, dirty: false }
        }
    };
    let at = crate::time::now();
    let mut rows = Vec::with_capacity(entries.len());
    let (mut seq, mut prev) = (head.seq, head.hash.clone());
    for (actor, ev) in entries {
        let mut row = AuditRow {
            id: seq + 1,
            at,
            user_id: actor.user_id,
            username: actor.username.clone(),
            role: actor.role.clone(),
            action: ev.action.to_string(),
            entity: ev.entity.to_string(),
            entity_id: ev.entity_id.clone(),
            division_code: ev.division_code.to_string(),
            organization_id: ev.organization_id,
            summary: ev.summary.to_string(),
            ip: actor.ip.clone(),
            request_id: actor.request_id.clone(),
            prev_hash: prev,
            hash: String::new(),
        };
        row.hash = entry_hash(&row);
        (seq, prev) = (row.id, row.hash.clone());
        rows.push(row);
    }
    for chunk in crate::query::statement_chunks(tx.backend(), &rows) {
        let inserted = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO audit_log ({COLS}) "));
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.id)
                    .push_bind(r.at)
                    .push_bind(r.user_id)
                    .push_bind(&r.username)
                    .push_bind(&r.role)
                    .push_bind(&r.action)
                    .push_bind(&r.entity)
                    .push_bind(&r.entity_id)
                    .push_bind(&r.division_code)
                    .push_bind(r.organization_id)
                    .push_bind(&r.summary)
                    .push_bind(&r.ip)
                    .push_bind(&r.request_id)
                    .push_bind(&r.prev_hash)
                    .push_bind(&r.hash);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        });
        if let Err(e) = inserted {
            // the chain stays where it was; the caller's transaction is failing anyway
            tx.memo.audit_head = Some(head);
            return Err(e.into());
        }
    }
    tx.memo.audit_head = Some(AuditHead { seq, hash: prev, dirty: head.dirty || !rows.is_empty() });
    Ok(rows.iter().map(|r| r.id).collect())
}

/// Write the chain's head back if this transaction appended to it (called by commit).
pub(crate) async fn write_head(tx: &mut Tx) -> Result<(), StoreError> {
    let Some(AuditHead { seq, hash, dirty: true }) = tx.memo.audit_head.clone() else { return Ok(()) };
    on_tx!(tx, |c| sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if let Some(h) = tx.memo.audit_head.as_mut() {
        h.dirty = false;
    }
    Ok(())
}

/// Append in a transaction of its own (logins, full views: events with no other write).
pub async fn append_now(db: &Db, actor: &Actor, ev: &Event<'_>) -> Result<i64, StoreError> {
    let mut tx = db.begin().await?;
    let id = append(&mut tx, actor, ev).await?;
    tx.commit().await?;
    Ok(id)
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct AuditFilter {
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The log of a scope, newest first.
pub async fn list(db: &Db, scope: &Scope, f: &AuditFilter, page: &Page) -> Result<Paged<AuditRow>, StoreError> {
    let mut w = Filter::new();
    w.and("division_code LIKE {}", vec![Param::Text(format!("{}%", crate::escape_like(&scope.division)))]);
    if let Some(org) = scope.organization_id {
        w.and("organization_id = {}", vec![Param::Int(org)]);
    }
    if let Some(v) = f.user_id {
        w.and("user_id = {}", vec![Param::Int(v)]);
    }
    for (col, v) in
        [("username", &f.username), ("entity", &f.entity), ("entity_id", &f.entity_id), ("action", &f.action)]
    {
        if let Some(v) = v {
            w.and(&format!("{col} = {{}}"), vec![Param::Text(v.clone())]);
        }
    }
    if let Some(t) = f.from {
        w.and("at >= {}", vec![Param::Time(t)]);
    }
    if let Some(t) = f.to {
        w.and("at < {}", vec![Param::Time(t)]);
    }
    let total = query::fetch_count(db, &format!("SELECT COUNT(*) FROM audit_log{}", w.where_sql()), &w.params).await?;
    let n = w.next_placeholder();
    let sql = format!("SELECT {COLS} FROM audit_log{} ORDER BY id DESC LIMIT ${n} OFFSET ${}", w.where_sql(), n + 1);
    let mut params = w.params.clone();
    params.extend([Param::Int(page.limit()), Param::Int(page.offset())]);
    let items = query::fetch_all::<AuditRow>(db, &sql, &params).await?;
    Ok(Paged { items, total, capped: false, page: page.clone() })
}

/// Result of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: i64,
    /// The first entry at which the chain breaks, with the reason.
    pub broken: Option<(i64, String)>,
}

/// Recompute every hash in id order and check the links, the id sequence and the head.
pub async fn verify(db: &Db, mut progress: impl FnMut(i64, i64)) -> Result<VerifyReport, StoreError> {
    let (head_seq, head_hash): (i64, String) =
        on_db!(db, |c| sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(c).await)?;
    let mut prev = "0".repeat(64);
    let mut expected_id = 1i64;
    let mut last_id = 0i64;
    let batch = 5000i64;
    loop {
        let sql = format!("SELECT {COLS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = on_db!(db, |c| sqlx::query_as::<_, AuditRow>(&sql).bind(last_id).bind(batch).fetch_all(c).await)?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            if r.id != expected_id {
                let why = format!("缺少第 {expected_id} 条记录（可能被删除）");
                return Ok(VerifyReport { entries: expected_id - 1, broken: Some((expected_id, why)) });
            }
            if r.prev_hash != prev {
                return Ok(VerifyReport {
                    entries: r.id - 1, broken: Some((r.id, "与上一条记录的链接不符".into()))
                });
            }
            if entry_hash(r) != r.hash {
                return Ok(VerifyReport {
                    entries: r.id - 1,
                    broken: Some((r.id, "内容与哈希不符（记录被篡改）".into())),
                });
            }
            prev = r.hash.clone();
            expected_id += 1;
            last_id = r.id;
        }
        progress(last_id, head_seq);
    }
    if last_id != head_seq || prev != head_hash {
        let why = format!("链尾不符：最后一条为第 {last_id} 条，登记的链头为第 {head_seq} 条（末尾记录可能被删除）");
        return Ok(VerifyReport { entries: last_id, broken: Some((last_id + 1, why)) });
    }
    Ok(VerifyReport { entries: last_id, broken: None })
}
