//! The n-gram index behind Chinese fragment search: unigrams and bigrams of folded names in
//! `search_grams`, written in the same transaction as the record.

use wushe_domain::registry::search;

use crate::query::{Filter, Param};
use crate::{on_tx, StoreError, Tx};

/// Replace the grams of one record.
pub async fn index(tx: &mut Tx, kind: &str, entity_id: i64, name: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM search_grams WHERE kind = $1 AND entity_id = $2")
        .bind(kind)
        .bind(entity_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    for g in search::grams(name) {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO search_grams (kind, gram, entity_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
        .bind(kind)
        .bind(&g)
        .bind(entity_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Restrict `filter` to records of `kind` whose folded name contains `q`: every gram of the
/// query must be indexed for the record (`id_col` names the record's id column), and the
/// folded name must contain the query (grams alone do not fix their order).
pub fn restrict(filter: &mut Filter, kind: &str, id_col: &str, folded_col: &str, q: &str) {
    let grams = search::query_grams(q);
    for g in &grams {
        filter.and(
            &format!("{id_col} IN (SELECT entity_id FROM search_grams WHERE kind = {{}} AND gram = {{}})"),
            vec![Param::Text(kind.to_string()), Param::Text(g.clone())],
        );
    }
    filter.and(
        &format!("{folded_col} LIKE {{}} ESCAPE '\\'"),
        vec![Param::Text(format!("%{}%", crate::escape_like(&search::fold(q))))],
    );
}
