//! Movements between people: gifts of coins to direct relatives, coins spent on services
//! received, and the relations that allow them.

use serde::Deserialize;
use utoipa::ToSchema;
use wushe_domain::privacy::mask;
use wushe_domain::timebank::ledger::{self as rules, Ledger, Movement, MovementError, SystemAccount};
use wushe_domain::timebank::rules::UNITS_PER_COIN;
use wushe_domain::timebank::TimebankRules;
use wushe_store::accounts::audit::{self, Event};
use wushe_store::settings;
use wushe_store::timebank::ledger::{self, Posting, Side};
use wushe_store::timebank::supermarket;

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::volunteering::TIMEBANK_RULES_KEY;
use crate::state::AppState;

use super::expiry::coin_lots;
use super::{inconsistent, not_found, refused, require_in_scope, take};

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TransferInput {
    /// The relative receiving the coins.
    pub to_person_id: i64,
    /// Coins (may have one decimal: 1.5).
    pub coins: f64,
}

pub(super) fn units_of(coins: f64) -> Result<i64, AppError> {
    let u = (coins * UNITS_PER_COIN as f64).round() as i64;
    if !(coins.is_finite() && u > 0) {
        return Err(AppError::validation("coins", "时间币数量应大于 0"));
    }
    Ok(u)
}

/// The caller's own registry person, for movements from their own account.
fn own_person(user: &CurrentUser, what: &str) -> Result<i64, AppError> {
    user.person_id
        .filter(|_| user.role.holds_timebank_account())
        .ok_or_else(|| AppError::Forbidden(format!("请使用志愿者或居民本人账号{what}")))
}

/// Give coins to a direct relative (recorded by station staff beforehand). The oldest coins
/// go, and keep their deposit dates.
pub async fn transfer(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: TransferInput,
) -> Result<i64, AppError> {
    let from = own_person(user, "转赠时间币")?;
    let units = units_of(input.coins)?;
    let tb: TimebankRules = settings::get(&state.db, TIMEBANK_RULES_KEY).await?;
    if !tb.transfer_to_relatives {
        return Err(AppError::Conflict("本地规则不允许转赠时间币".into()));
    }
    let mut tx = state.db.begin().await?;
    let rel = supermarket::relation(&mut tx, from, input.to_person_id).await?;
    if !rel.as_deref().is_some_and(rules::is_direct_relation) {
        return Err(AppError::Conflict(MovementError::NotRelatives.message(Ledger::Coins)));
    }
    // both accounts are held in id order (two gifts crossing wait instead of deadlocking);
    // the relative's expired coins go first so they do not count against the cap
    let actor = meta.actor(Some(user));
    let mut held = None;
    let (first, second) =
        if from < input.to_person_id { (from, input.to_person_id) } else { (input.to_person_id, from) };
    for p in [first, second] {
        let lots = coin_lots(&mut tx, &tb, p, &actor).await?;
        if p == from {
            held = Some(lots);
        }
    }
    let mut held = held.ok_or_else(|| inconsistent(from))?;
    let parts = take(&mut held, units)?;
    let m = Movement::Transfer { units };
    let division = supermarket::division_of(&mut tx, from).await?;
    let memo = format!("转赠给{}", rel.as_deref().unwrap_or_default());
    let p = Posting {
        ledger: Ledger::Coins,
        movement: &m,
        from: Side::Person(from),
        to: Side::Person(input.to_person_id),
        cap: Some(tb.cap_units()),
        memo: Some(&memo),
        record_id: None,
        division_code: &division,
        by: Some(user.id),
        at: None,
        lots: &parts,
    };
    let tid = ledger::post(&mut tx, &p).await.map_err(|e| refused(e, Ledger::Coins))?;
    audit::append(
        &mut tx,
        &actor,
        &Event {
            action: "transfer",
            entity: "timebank",
            entity_id: Some(tid.to_string()),
            division_code: &division,
            organization_id: None,
            summary: serde_json::json!({ "from": from, "to": input.to_person_id, "units": units }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(tid)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SpendInput {
    /// The elder served.
    pub person_id: i64,
    pub coins: f64,
    /// What service was received.
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub memo: String,
    /// Whose coins pay, when not the elder's own: a recorded direct relative paying on the
    /// elder's behalf (by the rules for gifts to relatives).
    #[serde(default)]
    pub payer_person_id: Option<i64>,
}

/// A service an elder received, paid in coins: recorded by station or organization staff for
/// a person in their scope, or by the elder (or a direct relative paying for them) from
/// their own login. The elder must be old enough to be served from the time bank.
pub async fn spend(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: SpendInput,
) -> Result<i64, AppError> {
    let served = input.person_id;
    let payer = input.payer_person_id.unwrap_or(served);
    // a holder pays from their own account (for a relative only as checked below); staff
    // record for people in their scope
    let by_holder = user.person_id == Some(payer) && user.role.holds_timebank_account();
    if !by_holder {
        require_in_scope(state, user, served).await?;
        if payer != served {
            require_in_scope(state, user, payer).await?;
        }
    }
    let units = units_of(input.coins)?;
    let memo = input.memo.trim();
    if memo.is_empty() || memo.chars().count() > 200 {
        return Err(AppError::validation("memo", "请填写所享受的服务（不超过 200 个字符）"));
    }
    let tb: TimebankRules = settings::get(&state.db, TIMEBANK_RULES_KEY).await?;
    let mut tx = state.db.begin().await?;
    let mut note = memo.to_string();
    if payer != served {
        // paying for someone else follows the rules for gifts: direct relatives only
        let rel = supermarket::relation(&mut tx, payer, served).await?;
        if !tb.transfer_to_relatives {
            return Err(AppError::Conflict("本地规则不允许用时间币为亲属代付".into()));
        }
        if !rel.as_deref().is_some_and(rules::is_direct_relation) {
            return Err(AppError::Conflict("只能为已登记的直系亲属（父母、配偶、子女）代付时间币".into()));
        }
        let name = supermarket::holder(&state.db, served).await.map_err(not_found)?.name;
        note = format!("{memo}（为{}{name}代付）", rel.unwrap_or_default());
    }
    let birth = wushe_store::volunteering::signups::birth_date(&mut tx, served).await.map_err(not_found)?;
    let age = wushe_domain::volunteering::activity::age_on(birth, crate::service::registry::today());
    tb.may_spend(age).map_err(|e| {
        AppError::Conflict(format!("兑换服务须年满 {} 周岁：{}", tb.withdraw_from_age, e.message(Ledger::Coins)))
    })?;
    let actor = meta.actor(Some(user));
    let mut held = coin_lots(&mut tx, &tb, payer, &actor).await?;
    let parts = take(&mut held, units)?;
    let division = supermarket::division_of(&mut tx, served).await?;
    let m = Movement::Spend { units };
    let p = Posting {
        ledger: Ledger::Coins,
        movement: &m,
        from: Side::Person(payer),
        to: Side::System(SystemAccount::ServicesReceived),
        cap: None,
        memo: Some(&note),
        record_id: None,
        division_code: &division,
        by: Some(user.id),
        at: None,
        lots: &parts,
    };
    let tid = ledger::post(&mut tx, &p).await.map_err(|e| refused(e, Ledger::Coins))?;
    audit::append(
        &mut tx,
        &actor,
        &Event {
            action: "spend",
            entity: "timebank",
            entity_id: Some(tid.to_string()),
            division_code: &division,
            organization_id: user.organization_id,
            summary: serde_json::json!({ "person": served, "payer": payer, "units": units, "memo": memo }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(tid)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RelationInput {
    pub person_id: i64,
    pub relative_id: i64,
    /// How the relative is related to the person: 父母 / 配偶 / 子女.
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub relation: String,
}

/// Station staff or officials record a direct-relative relation (checked against the
/// household register offline).
pub async fn add_relation(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: RelationInput,
) -> Result<(), AppError> {
    user.require(user.role.keeps_timebank())?;
    let back = rules::reverse_relation(&input.relation).ok_or_else(|| {
        AppError::validation(
            "relation",
            format!("「{}」不是直系亲属关系：应为 父母、配偶 或 子女", input.relation.trim()),
        )
    })?;
    if input.person_id == input.relative_id {
        return Err(AppError::validation("relative_id", "不能与本人建立亲属关系"));
    }
    require_in_scope(state, user, input.person_id).await?;
    require_in_scope(state, user, input.relative_id).await?;
    let mut tx = state.db.begin().await?;
    supermarket::add_relation(&mut tx, input.person_id, input.relative_id, input.relation.trim(), back, Some(user.id))
        .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "add_relation",
            entity: "person",
            entity_id: Some(input.person_id.to_string()),
            division_code: &user.scope_division,
            organization_id: None,
            summary: serde_json::json!({ "relative": input.relative_id, "relation": input.relation.trim() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A relation just removed: who the relative was and how they were related to the person.
#[derive(Debug, Clone)]
pub struct RemovedRelation {
    pub relative_id: i64,
    pub relative_name: String,
    /// How the relative was related to the person: 父母 / 配偶 / 子女.
    pub relation: String,
}

/// Station staff or officials remove a direct-relative relation recorded by mistake (or no
/// longer true, e.g. after a divorce), both directions at once. Only future gifts and
/// services paid for the relative are affected: past transfers and spending stay in the
/// ledger as they were (ledger entries are never changed).
pub async fn remove_relation(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    person_id: i64,
    relative_id: i64,
) -> Result<RemovedRelation, AppError> {
    user.require(user.role.keeps_timebank())?;
    require_in_scope(state, user, person_id).await?;
    require_in_scope(state, user, relative_id).await?;
    let relative = supermarket::holder(&state.db, relative_id).await?;
    let mut tx = state.db.begin().await?;
    let relation = supermarket::remove_relation(&mut tx, person_id, relative_id)
        .await?
        .ok_or_else(|| AppError::NotFound("两人之间没有登记亲属关系".into()))?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "remove_relation",
            entity: "person",
            entity_id: Some(person_id.to_string()),
            division_code: &user.scope_division,
            organization_id: None,
            summary: serde_json::json!({
                "relative": relative_id,
                "relative_name": mask::mask_name(&relative.name),
                "relation": relation,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(RemovedRelation { relative_id, relative_name: relative.name, relation })
}
