//! Dynamic filters: SQL text with `$n` placeholders built at run time, and the values to bind,
//! run on either backend. Used where a list's WHERE clause depends on the filters given.

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::FromRow;

use crate::{Db, StoreError};

#[derive(Debug, Clone)]
pub enum Param {
    Text(String),
    Int(i64),
    Time(chrono::DateTime<chrono::Utc>),
}

/// A WHERE clause under construction: `and("name = {}", Param)` numbers the placeholder.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    clauses: Vec<String>,
    pub params: Vec<Param>,
}

impl Filter {
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Add a condition; each `{}` in `clause` becomes the next placeholder, bound to the
    /// next of `values`.
    pub fn and(&mut self, clause: &str, values: Vec<Param>) -> &mut Filter {
        let mut out = String::new();
        let mut parts = clause.split("{}");
        out.push_str(parts.next().unwrap_or_default());
        for (part, v) in parts.zip(values) {
            self.params.push(v);
            out.push_str(&format!("${}", self.params.len()));
            out.push_str(part);
        }
        self.clauses.push(out);
        self
    }

    /// Keep rows whose `column` (a 12-digit division code) lies under `prefix`; an empty
    /// prefix (the whole country) adds no condition. The bounds are written into the
    /// statement, not bound: the generic plan PostgreSQL reuses after five runs of a prepared
    /// statement guesses one selectivity for a village and a province alike (docs/decisions/
    /// 0012). Only digits reach the SQL text.
    pub fn within_division(&mut self, column: &str, prefix: &str) -> &mut Filter {
        if prefix.is_empty() {
            return self;
        }
        let (lo, hi) = wushe_domain::accounts::division_range(prefix);
        if prefix.len() <= 12 && prefix.bytes().all(|b| b.is_ascii_digit()) {
            self.clauses.push(format!("{column} >= '{lo}' AND {column} <= '{hi}'"));
            self
        } else {
            self.and(&format!("{column} >= {{}} AND {column} <= {{}}"), vec![Param::Text(lo), Param::Text(hi)])
        }
    }

    /// True when no condition has been added yet.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The next placeholder number (for LIMIT/OFFSET after the filter).
    pub fn next_placeholder(&self) -> usize {
        self.params.len() + 1
    }

    pub fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

macro_rules! bind_all {
    ($q:expr, $params:expr) => {{
        let mut q = $q;
        for p in $params {
            q = match p {
                Param::Text(s) => q.bind(s.clone()),
                Param::Int(i) => q.bind(*i),
                Param::Time(t) => q.bind(*t),
            };
        }
        q
    }};
}

pub async fn fetch_all<T>(db: &Db, sql: &str, params: &[Param]) -> Result<Vec<T>, StoreError>
where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    Ok(match db {
        Db::Sqlite { reader, .. } => bind_all!(sqlx::query_as::<_, T>(sql), params).fetch_all(reader).await?,
        Db::Postgres { pool, .. } => bind_all!(sqlx::query_as::<_, T>(sql), params).fetch_all(pool).await?,
    })
}

pub async fn fetch_count(db: &Db, sql: &str, params: &[Param]) -> Result<i64, StoreError> {
    let (n,): (i64,) = match db {
        Db::Sqlite { reader, .. } => bind_all!(sqlx::query_as(sql), params).fetch_one(reader).await?,
        Db::Postgres { pool, .. } => bind_all!(sqlx::query_as(sql), params).fetch_one(pool).await?,
    };
    Ok(n)
}

/// Rows per multi-row statement at most (a power of two): inside SQLite's 32,766 and
/// PostgreSQL's 65,535 bound parameters for the widest row written this way (service
/// records, 19 columns).
const ROWS_PER_STATEMENT: usize = 1024;

/// Largest piece SQLite runs at its exact size (see `statement_chunks`).
const EXACT_ROWS: usize = 32;

/// `rows` cut for multi-row statements. Why: a connection keeps the statements it has
/// prepared, keyed by their text, and preparing a 32-row insert costs about four times
/// running it. Cut anyhow, every batch size from 1 to 1,000 was a text of its own and the
/// hot statements were prepared again on nearly every group commit. So pieces are powers
/// of two (largest first, at most `ROWS_PER_STATEMENT`): at most 11 texts per kind. On
/// SQLite the rest of up to `EXACT_ROWS` rows is one piece of its exact size: the writer
/// keeps 1,024 statements prepared, room for every such size of each kind, and a group
/// commit of 30 confirmations runs one statement per kind instead of four (16 + 8 + 4 + 2),
/// each a round trip to the connection's thread. PostgreSQL's connections keep 100.
pub fn statement_chunks<T>(backend: crate::Backend, rows: &[T]) -> impl Iterator<Item = &[T]> {
    let exact = if backend == crate::Backend::Sqlite { EXACT_ROWS } else { 0 };
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = if rest.len() <= exact { rest.len() } else { ROWS_PER_STATEMENT.min(1 << rest.len().ilog2()) };
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        Some(piece)
    })
}

/// `ids` for `IN (…)` lists: sorted, without repeats, cut into pieces of at most
/// `ROWS_PER_STATEMENT`, each filled up to a power of two by repeating its last id (a
/// repeat changes nothing in an IN list). Same reason as `statement_chunks`, in one
/// statement per piece.
pub fn in_list_chunks(ids: &[i64]) -> Vec<Vec<i64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids.chunks(ROWS_PER_STATEMENT)
        .map(|c| {
            let mut c = c.to_vec();
            let last = c[c.len() - 1];
            c.resize(c.len().next_power_of_two(), last);
            c
        })
        .collect()
}

/// `head` followed by the ids as an IN list and `tail` (e.g. `"… WHERE t.id IN ("`, `")"`),
/// run inside the transaction in chunks the engines accept.
pub async fn fetch_in_tx<T>(tx: &mut crate::Tx, head: &str, ids: &[i64], tail: &str) -> Result<Vec<T>, StoreError>
where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let mut out = Vec::with_capacity(ids.len());
    for chunk in in_list_chunks(ids) {
        let rows: Vec<T> = crate::on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(head);
            let mut sep = qb.separated(", ");
            for id in &chunk {
                sep.push_bind(*id);
            }
            qb.push(tail);
            qb.build_query_as::<T>().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Counting stops here: beyond it lists say "10,000+" (an exact count of a common
/// two-character fragment over a million names costs more than the page itself).
pub const COUNT_CAP: i64 = 10_000;

/// Count the rows of `from_where` (the SQL after `SELECT … `, starting with ` FROM`) up to
/// `cap`: `(count, true)` when there are more than `cap`.
pub async fn fetch_count_capped(
    db: &Db,
    from_where: &str,
    params: &[Param],
    cap: i64,
) -> Result<(i64, bool), StoreError> {
    let sql = format!("SELECT COUNT(*) FROM (SELECT 1{from_where} LIMIT {}) t", cap + 1);
    let n = fetch_count(db, &sql, params).await?;
    Ok(if n > cap { (cap, true) } else { (n, false) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn statement_pieces_are_powers_of_two_that_keep_every_row_in_order(n in 0usize..5000) {
            let rows: Vec<usize> = (0..n).collect();
            let pieces: Vec<&[usize]> = statement_chunks(crate::Backend::Postgres, &rows).collect();
            prop_assert!(pieces.iter().all(|p| p.len().is_power_of_two() && p.len() <= ROWS_PER_STATEMENT));
            prop_assert!(pieces.windows(2).all(|w| w[0].len() >= w[1].len()));
            prop_assert_eq!(pieces.concat(), rows);
        }

        #[test]
        fn sqlite_pieces_are_powers_of_two_then_one_exact_rest(n in 0usize..5000) {
            let rows: Vec<usize> = (0..n).collect();
            let pieces: Vec<&[usize]> = statement_chunks(crate::Backend::Sqlite, &rows).collect();
            if let Some((last, before)) = pieces.split_last() {
                prop_assert!(before.iter().all(|p| p.len().is_power_of_two() && p.len() <= ROWS_PER_STATEMENT));
                prop_assert!(last.len() <= EXACT_ROWS || last.len().is_power_of_two());
            }
            // a batch of up to EXACT_ROWS rows is one statement
            prop_assert!(n == 0 || n > EXACT_ROWS || pieces.len() == 1);
            prop_assert!(pieces.windows(2).all(|w| w[0].len() >= w[1].len()));
            prop_assert_eq!(pieces.concat(), rows);
        }

        #[test]
        fn in_lists_are_powers_of_two_holding_each_id_once_over_all(ids in proptest::collection::vec(0i64..3000, 0..3000)) {
            let lists = in_list_chunks(&ids);
            prop_assert!(lists.iter().all(|l| l.len().is_power_of_two() && l.len() <= ROWS_PER_STATEMENT));
            let mut all: Vec<i64> = lists.concat();
            all.dedup();
            let mut want = ids.clone();
            want.sort_unstable();
            want.dedup();
            prop_assert_eq!(all, want);
        }
    }

    #[test]
    fn numbers_placeholders_in_order() {
        let mut f = Filter::new();
        f.and("a = {}", vec![Param::Int(1)])
            .and("(b LIKE {} OR c LIKE {})", vec![Param::Text("x".into()), Param::Text("y".into())]);
        assert_eq!(f.where_sql(), " WHERE a = $1 AND (b LIKE $2 OR c LIKE $3)");
        assert_eq!(f.next_placeholder(), 4);
    }

    #[test]
    fn a_division_range_is_written_into_the_statement_only_when_it_is_digits() {
        let mut f = Filter::new();
        f.within_division("p.division_code", "");
        assert!(f.is_empty(), "the whole country adds no condition");
        f.and("a = {}", vec![Param::Int(1)]).within_division("p.division_code", "4201");
        assert_eq!(
            f.where_sql(),
            " WHERE a = $1 AND p.division_code >= '420100000000' AND p.division_code <= '420199999999'"
        );
        f.within_division("x", "42' OR '1'='1").and("b = {}", vec![Param::Int(2)]);
        assert_eq!(f.params.len(), 4, "anything but digits is bound");
        assert!(f.where_sql().ends_with("x >= $2 AND x <= $3 AND b = $4"), "{}", f.where_sql());
    }
}
