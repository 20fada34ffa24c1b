//! Love supermarkets: outlets, their goods (price, shelf, stock) and redeeming points for
//! goods, by the holder or at the counter.

use serde::Deserialize;
use utoipa::ToSchema;
use wushe_domain::timebank::ledger::{Ledger, Movement, MovementError, SystemAccount};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::timebank::ledger::{self, Posting, Side};
use wushe_store::timebank::supermarket::{self, GoodsRow, OutletRow, RedemptionRow};
use wushe_store::{StoreError, Tx};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

use super::{not_found, refused, require_in_scope};

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct OutletInput {
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub name: String,
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub division_code: String,
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub address: String,
}

fn runs_outlets(user: &CurrentUser) -> Result<(), AppError> {
    user.require(user.role.keeps_timebank())
}

pub async fn create_outlet(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: OutletInput,
) -> Result<i64, AppError> {
    runs_outlets(user)?;
    let name = input.name.trim();
    if name.chars().count() < 2 || name.chars().count() > 100 {
        return Err(AppError::validation("名称", "应为 2–100 个字符"));
    }
    let address = input.address.trim();
    if address.is_empty() || address.chars().count() > 200 {
        return Err(AppError::validation("地址", "不能为空，且不超过 200 个字符"));
    }
    let code = crate::service::regions::parse_code("所在区划", &input.division_code)?;
    if !user.covers(code.prefix()) {
        return Err(AppError::Forbidden(format!("所在区划 {} 不在您的管辖范围内", code.prefix())));
    }
    if !wushe_store::regions::exists(&state.db, &code).await? {
        return Err(AppError::validation("所在区划", format!("区划代码 {} 不存在", code.prefix())));
    }
    let mut tx = state.db.begin().await?;
    let id = supermarket::create_outlet(&mut tx, name, code.full(), address, Some(user.id)).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "create",
            entity: "outlet",
            entity_id: Some(id.to_string()),
            division_code: code.full(),
            organization_id: None,
            summary: serde_json::json!({ "name": name, "address": address }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn outlets(state: &AppState, region: Option<&str>) -> Result<Vec<OutletRow>, AppError> {
    let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => crate::service::regions::parse_code("region", r)?.prefix().to_string(),
        None => String::new(),
    };
    Ok(supermarket::outlets(&state.db, &region).await?)
}

/// One outlet (everyone may see where to redeem and what).
pub async fn outlet(state: &AppState, id: i64) -> Result<OutletRow, AppError> {
    supermarket::outlet(&state.db, id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::NotFound(format!("爱心超市 {id} 不存在")),
        e => e.into(),
    })
}

/// Whether the caller keeps this outlet (manages goods, redeems at its counter).
pub fn keeps_outlet(user: &CurrentUser, o: &OutletRow) -> bool {
    user.role.keeps_timebank() && user.covers(&o.division_code)
}

/// The latest redemptions at an outlet (its keepers only: they name the people).
pub async fn outlet_redemptions(
    state: &AppState,
    user: &CurrentUser,
    outlet_id: i64,
) -> Result<Vec<RedemptionRow>, AppError> {
    let o = outlet(state, outlet_id).await?;
    user.require(keeps_outlet(user, &o))?;
    Ok(supermarket::redemptions_at(&state.db, outlet_id, 50).await?)
}

/// A person's latest redemptions (own, or in the caller's scope).
pub async fn person_redemptions(
    state: &AppState,
    user: &CurrentUser,
    person_id: i64,
) -> Result<Vec<RedemptionRow>, AppError> {
    if user.person_id != Some(person_id) {
        require_in_scope(state, user, person_id).await?;
    }
    Ok(supermarket::redemptions_of(&state.db, person_id, 50).await?)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct GoodsInput {
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub name: String,
    pub points: i64,
    pub stock: i64,
}

async fn outlet_in_scope(tx: &mut Tx, user: &CurrentUser, outlet_id: i64) -> Result<OutletRow, AppError> {
    let o = supermarket::outlet_tx(tx, outlet_id).await.map_err(not_found)?;
    if !user.covers(&o.division_code) {
        return Err(AppError::NotFound("记录不存在或不在您的管辖范围内".into()));
    }
    Ok(o)
}

fn check_points(points: i64) -> Result<(), AppError> {
    if !(1..=1_000_000).contains(&points) {
        return Err(AppError::validation("所需积分", "应在 1–1,000,000 之间"));
    }
    Ok(())
}

pub async fn add_goods(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    outlet_id: i64,
    input: GoodsInput,
) -> Result<i64, AppError> {
    runs_outlets(user)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation("物品名称", "不能为空，且不超过 100 个字符"));
    }
    check_points(input.points)?;
    if !(0..=1_000_000).contains(&input.stock) {
        return Err(AppError::validation("库存", "应在 0–1,000,000 之间"));
    }
    let mut tx = state.db.begin().await?;
    let o = outlet_in_scope(&mut tx, user, outlet_id).await?;
    let id = supermarket::add_goods(&mut tx, outlet_id, name, input.points, input.stock).await?;
    audit::append(&mut tx, &meta.actor(Some(user)), &Event {
        action: "create",
        entity: "goods",
        entity_id: Some(id.to_string()),
        division_code: &o.division_code,
        organization_id: None,
        summary: serde_json::json!({ "outlet": outlet_id, "name": name, "points": input.points, "stock": input.stock }),
    })
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// One good (everyone may see goods and prices).
pub async fn one_goods(state: &AppState, goods_id: i64) -> Result<GoodsRow, AppError> {
    supermarket::goods_by_id(&state.db, goods_id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::NotFound(format!("物品 {goods_id} 不存在")),
        e => e.into(),
    })
}

pub async fn goods(state: &AppState, outlet_id: i64) -> Result<Vec<GoodsRow>, AppError> {
    Ok(supermarket::goods(&state.db, outlet_id).await?)
}

/// A change of a good's price or shelf state.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct GoodsPatch {
    /// New price in points (redemptions already made keep theirs).
    pub points: Option<i64>,
    /// On the shelf (true) or taken off (false).
    pub active: Option<bool>,
}

/// The goods and its outlet, if the caller keeps the outlet.
async fn kept_goods(tx: &mut Tx, user: &CurrentUser, goods_id: i64) -> Result<(GoodsRow, OutletRow), AppError> {
    runs_outlets(user)?;
    let g = supermarket::goods_tx(tx, goods_id).await.map_err(not_found)?;
    let o = outlet_in_scope(tx, user, g.outlet_id).await?;
    Ok((g, o))
}

/// Change a good's price or take it off the shelf (audited with before and after).
pub async fn update_goods(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    goods_id: i64,
    patch: GoodsPatch,
) -> Result<GoodsRow, AppError> {
    if let Some(p) = patch.points {
        check_points(p)?;
    }
    let mut tx = state.db.begin().await?;
    let (g, o) = kept_goods(&mut tx, user, goods_id).await?;
    if let Some(p) = patch.points.filter(|p| *p != g.points) {
        supermarket::set_price(&mut tx, goods_id, p).await?;
    }
    if let Some(a) = patch.active.filter(|a| *a != g.active) {
        supermarket::set_active(&mut tx, goods_id, a).await?;
    }
    let after = supermarket::goods_tx(&mut tx, goods_id).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "update",
            entity: "goods",
            entity_id: Some(goods_id.to_string()),
            division_code: &o.division_code,
            organization_id: None,
            summary: serde_json::json!({
                "before": { "points": g.points, "active": g.active },
                "after": { "points": after.points, "active": after.active },
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RestockInput {
    /// Items added (negative to correct the count down, e.g. after a stocktake).
    pub quantity: i64,
    /// Why (donor, stocktake …).
    #[serde(deserialize_with = "crate::text::note::opt", default)]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Add to a good's stock, or correct it down (never below zero); audited.
pub async fn restock(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    goods_id: i64,
    input: RestockInput,
) -> Result<GoodsRow, AppError> {
    if input.quantity == 0 || input.quantity.unsigned_abs() > 1_000_000 {
        return Err(AppError::validation("数量", "应为非零整数，绝对值不超过 1,000,000"));
    }
    let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 200) {
        return Err(AppError::validation("说明", "不超过 200 个字符"));
    }
    let mut tx = state.db.begin().await?;
    let (g, o) = kept_goods(&mut tx, user, goods_id).await?;
    let stock = supermarket::restock(&mut tx, goods_id, input.quantity).await.map_err(|e| match e {
        StoreError::Conflict(_) => AppError::Conflict(format!("库存不能小于 0：现有 {} 件", g.stock)),
        e => e.into(),
    })?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "restock",
            entity: "goods",
            entity_id: Some(goods_id.to_string()),
            division_code: &o.division_code,
            organization_id: None,
            summary: serde_json::json!({ "quantity": input.quantity, "before": g.stock, "after": stock, "note": note }),
        },
    )
    .await?;
    let after = supermarket::goods_tx(&mut tx, goods_id).await?;
    tx.commit().await?;
    Ok(after)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RedeemInput {
    pub goods_id: i64,
    #[serde(default = "one")]
    pub quantity: i64,
    /// Staff at the counter: whose points (volunteers redeem their own).
    pub person_id: Option<i64>,
}

fn one() -> i64 {
    1
}

/// Redeem points for goods: the points and the stock are taken together or not at all. A
/// volunteer or resident redeems their own points; at the counter, the outlet's keepers
/// redeem for a person in their scope.
pub async fn redeem(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: RedeemInput,
) -> Result<i64, AppError> {
    let counter = input.person_id.is_some_and(|p| user.person_id != Some(p));
    let person = match input.person_id {
        Some(p) if counter => {
            runs_outlets(user)?;
            require_in_scope(state, user, p).await?;
            p
        }
        Some(p) => p,
        None => user.person_id.ok_or_else(|| AppError::validation("person_id", "请指定兑换人"))?,
    };
    if !(1..=100).contains(&input.quantity) {
        return Err(AppError::validation("数量", "一次兑换 1–100 件"));
    }
    let mut tx = state.db.begin().await?;
    let g = supermarket::goods_tx(&mut tx, input.goods_id).await.map_err(not_found)?;
    let o = if counter {
        outlet_in_scope(&mut tx, user, g.outlet_id).await?
    } else {
        supermarket::outlet_tx(&mut tx, g.outlet_id).await?
    };
    if !g.active {
        return Err(AppError::Conflict(format!("「{}」已下架", g.name)));
    }
    if !supermarket::take_stock(&mut tx, g.id, input.quantity).await? {
        return Err(AppError::Conflict(MovementError::OutOfStock { left: g.stock }.message(Ledger::Points)));
    }
    let points = g.points * input.quantity;
    let m = Movement::Redeem { units: points };
    let memo = format!("{} × {}（{}）", g.name, input.quantity, o.name);
    let p = Posting {
        ledger: Ledger::Points,
        movement: &m,
        from: Side::Person(person),
        to: Side::System(SystemAccount::Redemptions),
        cap: None,
        memo: Some(&memo),
        record_id: None,
        division_code: &o.division_code,
        by: Some(user.id),
        at: None,
        lots: &[],
    };
    // a refusal here drops the transaction, so the stock taken above is put back
    let tid = ledger::post(&mut tx, &p).await.map_err(|e| refused(e, Ledger::Points))?;
    let id = supermarket::record_redemption(&mut tx, g.id, person, input.quantity, points, tid, Some(user.id)).await?;
    audit::append(&mut tx, &meta.actor(Some(user)), &Event {
        action: "redeem",
        entity: "redemption",
        entity_id: Some(id.to_string()),
        division_code: &o.division_code,
        organization_id: None,
        summary: serde_json::json!({ "person": person, "goods": g.id, "quantity": input.quantity, "points": points }),
    })
    .await?;
    tx.commit().await?;
    Ok(id)
}
