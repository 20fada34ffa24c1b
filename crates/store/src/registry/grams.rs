//! The n-gram index behind Chinese fragment search: unigrams, bigrams and trigrams of folded
//! names in `search_grams`, written in the same transaction as the record.

use wushe_domain::registry::search;

use crate::query::{Filter, Param};
use crate::{on_db, on_tx, Db, StoreError, Tx};

/// Rows per multi-row INSERT (well under both backends' bind-parameter limits).
const BATCH: usize = 1000;

/// Replace the grams of one record.
pub async fn index(tx: &mut Tx, kind: &str, entity_id: i64, name: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM search_grams WHERE kind = $1 AND entity_id = $2")
        .bind(kind)
        .bind(entity_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    index_new(tx, kind, &[(entity_id, name)]).await
}

/// Index records that have no grams yet (just inserted), in multi-row statements.
pub async fn index_new(tx: &mut Tx, kind: &str, records: &[(i64, &str)]) -> Result<(), StoreError> {
    let rows: Vec<(i64, String)> =
        records.iter().flat_map(|(id, name)| search::grams(name).into_iter().map(move |g| (*id, g))).collect();
    for chunk in rows.chunks(BATCH) {
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO search_grams (kind, gram, entity_id) ");
            qb.push_values(chunk, |mut b, (id, g)| {
                b.push_bind(kind).push_bind(g).push_bind(*id);
            });
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Set by a migration when the index was built under older gram rules.
const META_REBUILD: &str = "search_grams_rebuild";

/// The indexed kinds with the table and column their names come from.
const SOURCES: [(&str, &str); 3] = [
    (super::organizations::GRAM_KIND, "organizations"),
    (super::people::GRAM_KIND, "people"),
    (super::banned::GRAM_KIND, "banned_organizations"),
];

/// Names re-indexed per transaction during a rebuild.
const REBUILD_BATCH: i64 = 5000;

/// Whether a migration flagged the index for a rebuild (see [`rebuild`]).
pub async fn needs_rebuild(db: &Db) -> Result<bool, StoreError> {
    Ok(crate::meta::get(db, META_REBUILD).await?.is_some())
}

/// Rebuild the whole index from the names, reporting (names done, names in all). Each batch
/// commits on its own; the flag is cleared last, so an interrupted rebuild starts again.
pub async fn rebuild(db: &Db, progress: impl Fn(u64, u64)) -> Result<u64, StoreError> {
    let mut total = 0u64;
    for (_, table) in SOURCES {
        total += crate::query::fetch_count(db, &format!("SELECT COUNT(*) FROM {table}"), &[]).await? as u64;
    }
    let mut done = 0u64;
    for (kind, table) in SOURCES {
        let mut tx = db.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query("DELETE FROM search_grams WHERE kind = $1")
            .bind(kind)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        let mut after = 0i64;
        loop {
            let sql = format!("SELECT id, name FROM {table} WHERE id > $1 ORDER BY id LIMIT $2");
            let rows: Vec<(i64, String)> =
                on_db!(db, |c| sqlx::query_as(&sql).bind(after).bind(REBUILD_BATCH).fetch_all(c).await)?;
            let Some(last) = rows.last() else { break };
            after = last.0;
            let mut tx = db.begin().await?;
            let named: Vec<(i64, &str)> = rows.iter().map(|(id, n)| (*id, n.as_str())).collect();
            index_new(&mut tx, kind, &named).await?;
            tx.commit().await?;
            done += rows.len() as u64;
            progress(done, total);
        }
    }
    let mut tx = db.begin().await?;
    crate::meta::delete(&mut tx, META_REBUILD).await?;
    tx.commit().await?;
    Ok(done)
}

/// Rows of one gram counted when ranking a query's grams by rarity.
const RANK_CAP: i64 = 5000;

/// The grams of a name-fragment query, rarest first (so the rarest drives the search).
pub struct GramQuery {
    q: String,
    grams: Vec<String>,
}

/// Rank the query's grams by how many records hold them (each counted up to a cap: a
/// bounded index range scan per gram).
pub async fn rank(db: &Db, kind: &str, q: &str) -> Result<GramQuery, StoreError> {
    let grams = search::query_grams(q);
    let mut ranked = Vec::with_capacity(grams.len());
    if grams.len() > 1 {
        for g in grams {
            let sql = format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM search_grams WHERE kind = $1 AND gram = $2 LIMIT {RANK_CAP}) t"
            );
            let n = crate::query::fetch_count(db, &sql, &[Param::Text(kind.into()), Param::Text(g.clone())]).await?;
            ranked.push((n, g));
        }
        ranked.sort();
    } else {
        ranked.extend(grams.into_iter().map(|g| (0, g)));
    }
    Ok(GramQuery { q: q.to_string(), grams: ranked.into_iter().map(|(_, g)| g).collect() })
}

/// How many records of `kind` hold every gram of the query, up to `cap` (then `(cap, true)`),
/// counted inside the gram index alone. For a list with no condition but the query this is
/// its total when the query is no longer than a gram (the name need not be re-checked);
/// None otherwise: a common bigram matches tens of thousands of records, which need not be
/// joined to be counted (docs/decisions/0011).
pub async fn count_alone(db: &Db, kind: &str, gq: &GramQuery, cap: i64) -> Result<Option<(i64, bool)>, StoreError> {
    if search::fold(&gq.q).chars().count() > search::MAX_GRAM {
        return Ok(None);
    }
    let mut w = Filter::new();
    let from = restrict_by(&mut w, kind, "g.entity_id", &gq.grams);
    if from.is_empty() {
        return Ok(None);
    }
    let from_where = format!(" FROM search_grams g{}", w.where_sql());
    Ok(Some(crate::query::fetch_count_capped(db, &from_where, &w.params, cap).await?))
}

/// The gram conditions of `restrict` (rarest gram scanned from `g`, the others probed).
fn restrict_by(filter: &mut Filter, kind: &str, id_col: &str, grams: &[String]) -> &'static str {
    let Some((first, rest)) = grams.split_first() else {
        return "";
    };
    let join = if id_col == "g.entity_id" { String::new() } else { format!(" AND {id_col} = g.entity_id") };
    filter.and(
        &format!("g.kind = {{}} AND g.gram = {{}}{join}"),
        vec![Param::Text(kind.to_string()), Param::Text(first.clone())],
    );
    for g in rest {
        filter.and(
            &format!(
                "EXISTS (SELECT 1 FROM search_grams g2 WHERE g2.kind = {{}} AND g2.gram = {{}} \
                 AND g2.entity_id = {id_col})"
            ),
            vec![Param::Text(kind.to_string()), Param::Text(g.clone())],
        );
    }
    "search_grams g CROSS JOIN "
}

/// Restrict `filter` to records of `kind` whose folded name contains the query.
///
/// The search is driven by the index: the rarest gram of the query is scanned from
/// `search_grams g` (so a list ordered by `g.entity_id` stops after one page), every other
/// gram is probed with EXISTS, and for queries longer than a gram the folded name must
/// contain the query (grams alone do not fix their order). Returns the table expression to put in front of the record's
/// table in FROM — `"search_grams g CROSS JOIN "` (CROSS JOIN keeps SQLite from reordering)
/// — or `""` when the query has no grams.
pub fn restrict(filter: &mut Filter, kind: &str, id_col: &str, folded_col: &str, gq: &GramQuery) -> &'static str {
    let from = restrict_by(filter, kind, id_col, &gq.grams);
    let q = gq.q.as_str();
    // A query no longer than the longest gram is itself one of the grams, and a record holds
    // that gram exactly when its folded name contains it: no need to re-check the name (and
    // counting stays inside the gram index).
    let folded = search::fold(q);
    if folded.chars().count() > search::MAX_GRAM {
        filter.and(
            &format!("{folded_col} LIKE {{}} ESCAPE '\\'"),
            vec![Param::Text(format!("%{}%", crate::escape_like(&folded)))],
        );
    }
    from
}
