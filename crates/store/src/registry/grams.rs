//! The n-gram index behind Chinese fragment search: unigrams and bigrams of folded names in
//! `search_grams`, written in the same transaction as the record.

use wushe_domain::registry::search;

use crate::query::{Filter, Param};
use crate::{on_tx, StoreError, Tx};

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

/// Restrict `filter` to records of `kind` whose folded name contains `q`.
///
/// The search is driven by the index: the first gram of the query is scanned from
/// `search_grams g` (so a list ordered by `g.entity_id` stops after one page), every other
/// gram is probed with EXISTS, and the folded name must contain the query (grams alone do
/// not fix their order). Returns the table expression to put in front of the record's
/// table in FROM — `"search_grams g CROSS JOIN "` (CROSS JOIN keeps SQLite from reordering)
/// — or `""` when the query has no grams.
pub fn restrict(filter: &mut Filter, kind: &str, id_col: &str, folded_col: &str, q: &str) -> &'static str {
    let grams = search::query_grams(q);
    let mut from = "";
    if let Some((first, rest)) = grams.split_first() {
        from = "search_grams g CROSS JOIN ";
        filter.and(
            &format!("g.kind = {{}} AND g.gram = {{}} AND {id_col} = g.entity_id"),
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
    }
    filter.and(
        &format!("{folded_col} LIKE {{}} ESCAPE '\\'"),
        vec![Param::Text(format!("%{}%", crate::escape_like(&search::fold(q))))],
    );
    from
}
