//! People: one row per real person, found by the blind index of the citizen ID, with the
//! roles they hold (volunteer, social worker, beneficiary). ID numbers and phones are
//! encrypted with AAD bound to the row's uid; lists read only the masked copies.
//!
//! Lists and loads take the caller's [`Scope`](wushe_domain::accounts::Scope) and the role
//! being worked on: officials and station staff see people whose home region is in their
//! scope, organization staff only the people of their own organization (its volunteers, its
//! employed social workers, the beneficiaries it serves).
//!
//! One file per group of statements; this module holds the blind indexes, the sealing of
//! phones and the small writes that registration and edits share.

mod details;
mod edits;
mod insert;
mod lists;

pub use details::*;
pub use edits::*;
pub use insert::*;
pub use lists::*;

use wushe_domain::codes::citizen_id::CitizenId;
use wushe_domain::privacy::mask;

use crate::crypto::{Aad, KeyRing};
use crate::{on_tx, StoreError, Tx};

pub const GRAM_KIND: &str = "person";

/// Rows per multi-row INSERT.
const BATCH: usize = 500;

const CERTIFICATE_TAKEN: &str = "证书编号已登记在另一位社会工作者名下";

/// Blind-index domains.
const ID_KIND: &str = "citizen_id";
const PHONE_KIND: &str = "phone";

pub fn id_index(keys: &KeyRing, id: &CitizenId) -> String {
    keys.blind_index(ID_KIND, id.as_str())
}

/// `phone` must be normalized (`normalize_phone`).
pub fn phone_index(keys: &KeyRing, phone: &str) -> String {
    keys.blind_index(PHONE_KIND, phone)
}

/// A person's phone as stored: the blind index (exact search), the ciphertext bound to the
/// row's uid, the masked copy lists show. Registration, import and edits all seal phones
/// here, so the three never drift apart.
struct SealedPhone {
    index: String,
    cipher: Vec<u8>,
    masked: String,
}

/// `phone` must be normalized (`normalize_phone`).
fn seal_phone(keys: &KeyRing, uid: &str, phone: &str) -> SealedPhone {
    SealedPhone {
        index: phone_index(keys, phone),
        cipher: keys.encrypt(&Aad { table: "people", column: "phone", row: uid }, phone),
        masked: mask::mask_phone(phone),
    }
}

/// A guardian's phone as stored in `table` (volunteers or beneficiaries): ciphertext bound
/// to the person's uid and the masked copy; guardians are not searched, so no blind index.
fn seal_guardian_phone(keys: &KeyRing, table: &str, uid: &str, phone: &str) -> (Vec<u8>, String) {
    (keys.encrypt(&Aad { table, column: "guardian_phone", row: uid }, phone), mask::mask_phone(phone))
}

/// The category index rows behind the category filter: `(person_id, category key)`.
async fn insert_categories(tx: &mut Tx, cats: &[(i64, &str)]) -> Result<(), StoreError> {
    for cc in cats.chunks(BATCH) {
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO beneficiary_categories (person_id, category) ");
            qb.push_values(cc, |mut b, (p, cat)| {
                b.push_bind(*p).push_bind(*cat);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

async fn uids_of(tx: &mut Tx, ids: &[i64]) -> Result<std::collections::HashMap<i64, String>, StoreError> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let rows: Vec<(i64, String)> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new("SELECT id, uid FROM people WHERE id IN (");
            let mut sep = qb.separated(", ");
            for i in chunk {
                sep.push_bind(*i);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}
