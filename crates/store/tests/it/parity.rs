//! The two migration trees must describe the same schema: tables, columns, nullability and
//! indexes (names and columns). Types differ by design (TEXT timestamps on SQLite).

use std::collections::BTreeMap;

use wushe_store::{on_db, Db};
use wushe_testkit::{Backend, TestDb};

type Schema = BTreeMap<String, Vec<(String, bool)>>;
type Indexes = BTreeMap<String, (String, Vec<String>)>;

async fn sqlite_schema(db: &Db) -> (Schema, Indexes) {
    let tables: Vec<(String,)> = on_db!(db, |c| sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name"
    )
    .fetch_all(c)
    .await)
    .unwrap();
    let mut schema = Schema::new();
    let mut indexes = Indexes::new();
    for (t,) in tables {
        let cols: Vec<(String, i64)> =
            on_db!(db, |c| sqlx::query_as("SELECT name, \"notnull\" FROM pragma_table_info($1) ORDER BY cid")
                .bind(&t)
                .fetch_all(c)
                .await)
            .unwrap();
        schema.insert(t.clone(), cols.into_iter().map(|(n, nn)| (n, nn == 1)).collect());
        let idx: Vec<(String,)> = on_db!(db, |c| {
            sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL ORDER BY name"
        )
        .bind(&t)
        .fetch_all(c)
        .await
        })
        .unwrap();
        for (i,) in idx {
            let cols: Vec<(String,)> =
                on_db!(db, |c| sqlx::query_as("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&i)
                    .fetch_all(c)
                    .await)
                .unwrap();
            indexes.insert(i, (t.clone(), cols.into_iter().map(|c| c.0).collect()));
        }
    }
    (schema, indexes)
}

async fn pg_schema(db: &Db) -> (Schema, Indexes) {
    let Db::Postgres { pool, .. } = db else { panic!("PostgreSQL expected") };
    let cols: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, is_nullable::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' ORDER BY table_name, ordinal_position"
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for (t, c, nullable) in cols {
        schema.entry(t).or_default().push((c, nullable == "NO"));
    }
    let idx: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT i.relname::text, t.relname::text, \
                ARRAY(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY k(n, o) \
                      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o) \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() AND NOT ix.indisprimary \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid) \
           AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let indexes = idx.into_iter().map(|(i, t, cols)| (i, (t, cols))).collect();
    (schema, indexes)
}

#[tokio::test]
async fn migration_trees_match() {
    let sqlite = TestDb::new(Backend::Sqlite).await.unwrap();
    let Some(pg) = TestDb::new(Backend::Postgres).await else { return };
    let (s_schema, s_idx) = sqlite_schema(&sqlite.db).await;
    let (p_schema, p_idx) = pg_schema(&pg.db).await;
    assert!(s_schema.len() >= 8, "tables found: {:?}", s_schema.keys());
    assert_eq!(s_schema.keys().collect::<Vec<_>>(), p_schema.keys().collect::<Vec<_>>(), "tables differ");
    for (t, cols) in &s_schema {
        assert_eq!(cols, &p_schema[t], "columns or nullability of {t} differ");
    }
    assert_eq!(s_idx, p_idx, "indexes differ");
    pg.db.close().await;
}
