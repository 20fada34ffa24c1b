//! What a database holds as tables, for the commands that must tell this program's database
//! from somebody else's (`wushe demo` refuses another's data, `--reset` clears only its own).

use std::collections::BTreeSet;

use crate::{on_db, Db, DbOptions, StoreError};

/// The tables of the schema the connection works in (the current schema on PostgreSQL).
pub async fn tables(db: &Db) -> Result<BTreeSet<String>, StoreError> {
    let rows: Vec<(String,)> = match db {
        Db::Sqlite { reader, .. } => {
            sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            )
            .fetch_all(reader)
            .await?
        }
        Db::Postgres { pool, .. } => {
            sqlx::query_as("SELECT tablename::TEXT FROM pg_tables WHERE schemaname = current_schema()")
                .fetch_all(pool)
                .await?
        }
    };
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

/// This program's tables, as its migrations leave them: read from a scratch SQLite database
/// migrated for the purpose (the parity test keeps the two backends' tables the same).
pub async fn own_tables() -> Result<BTreeSet<String>, StoreError> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("scratch.db").display());
    let db = Db::connect(&url, &DbOptions { max_connections: 1, ..Default::default() }).await?;
    db.migrate().await?;
    let mut t = tables(&db).await?;
    db.close().await;
    t.insert("_sqlx_migrations".into());
    Ok(t)
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// Rows of one of this schema's tables (a name from [`tables`]; quoted, never bound).
pub async fn row_count(db: &Db, table: &str) -> Result<i64, StoreError> {
    let sql = format!("SELECT COUNT(*) FROM {}", quoted(table));
    let (n,): (i64,) = on_db!(db, |c| sqlx::query_as(&sql).fetch_one(c).await)?;
    Ok(n)
}

/// Drop this program's tables (and its audit trigger function) from PostgreSQL's current
/// schema in one transaction, leaving every other table and the database itself. SQLite
/// databases are files: their owner removes the file instead.
pub async fn drop_own_tables(db: &Db) -> Result<usize, StoreError> {
    let Db::Postgres { pool, .. } = db else {
        return Err(StoreError::Config("SQLite 数据库请删除文件".into()));
    };
    let own = own_tables().await?;
    let present = tables(db).await?;
    let (schema,): (String,) = sqlx::query_as("SELECT current_schema()::TEXT").fetch_one(pool).await?;
    let mut tx = pool.begin().await?;
    let mut dropped = 0;
    for t in present.intersection(&own) {
        sqlx::query(&format!("DROP TABLE IF EXISTS {}.{} CASCADE", quoted(&schema), quoted(t)))
            .execute(&mut *tx)
            .await?;
        dropped += 1;
    }
    sqlx::query(&format!("DROP FUNCTION IF EXISTS {}.audit_log_append_only() CASCADE", quoted(&schema)))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(dropped)
}
