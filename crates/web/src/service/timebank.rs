//! Time bank and points: earning from confirmed service, gifts to direct relatives, spending
//! coins on services received, love-supermarket outlets, goods and redemptions, and a
//! person's accounts. Every movement is a double-entry posting (`store::timebank::ledger`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wushe_domain::accounts::Role;
use wushe_domain::timebank::ledger::{self as rules, Ledger, Movement, MovementError, SystemAccount};
use wushe_domain::timebank::rules::{coins_label, UNITS_PER_COIN};
use wushe_domain::timebank::{PointRules, TimebankRules};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::timebank::ledger::{self, EntryRow, PostError, Posting, Side};
use wushe_store::timebank::supermarket::{self, GoodsRow, OutletRow};
use wushe_store::{settings, StoreError, Tx};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::volunteering::{POINT_RULES_KEY, TIMEBANK_RULES_KEY};
use crate::state::AppState;

fn refused(e: PostError, l: Ledger) -> AppError {
    match e {
        PostError::Rule(m) => AppError::Conflict(m.message(l)),
        PostError::Store(s) => s.into(),
    }
}

/// Rules the earning of one confirmation follows (read once per job).
#[derive(Debug, Clone, Default)]
pub struct EarnRules {
    pub timebank: TimebankRules,
    pub points: PointRules,
}

impl EarnRules {
    pub async fn load(tx: &mut Tx) -> Result<EarnRules, StoreError> {
        Ok(EarnRules {
            timebank: settings::get_tx(tx, TIMEBANK_RULES_KEY).await?,
            points: settings::get_tx(tx, POINT_RULES_KEY).await?,
        })
    }
}

/// Points for every confirmed record, coins for time-bank activities (from the depositor
/// age, up to the storage cap). Runs inside the confirmation's transaction.
#[allow(clippy::too_many_arguments)]
pub async fn earn(
    tx: &mut Tx,
    r: &EarnRules,
    person_id: i64,
    record_id: i64,
    timebank: bool,
    minutes: i64,
    division_code: &str,
    by: i64,
) -> Result<(), AppError> {
    let points = r.points.earned(minutes);
    if points > 0 {
        let m = Movement::Earn { units: points };
        ledger::post(
            tx,
            &posting(
                Ledger::Points,
                &m,
                Side::System(SystemAccount::Issuance),
                Side::Person(person_id),
                None,
                Some(record_id),
                division_code,
                by,
            ),
        )
        .await
        .map_err(|e| refused(e, Ledger::Points))?;
    }
    if timebank && minutes > 0 {
        let birth = wushe_store::volunteering::signups::birth_date(tx, person_id).await?;
        let age = wushe_domain::volunteering::activity::age_on(birth, crate::service::registry::today());
        if r.timebank.deposits_at(age) {
            let balance = ledger::balance_tx(tx, Ledger::Coins, person_id).await?;
            let units = r.timebank.deposit_units(minutes, balance);
            if units > 0 {
                let m = Movement::Earn { units };
                let p = posting(
                    Ledger::Coins,
                    &m,
                    Side::System(SystemAccount::Issuance),
                    Side::Person(person_id),
                    Some(r.timebank.cap_units()),
                    Some(record_id),
                    division_code,
                    by,
                );
                ledger::post(tx, &p).await.map_err(|e| refused(e, Ledger::Coins))?;
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn posting<'a>(
    l: Ledger,
    m: &'a Movement,
    from: Side,
    to: Side,
    cap: Option<i64>,
    record_id: Option<i64>,
    division_code: &'a str,
    by: i64,
) -> Posting<'a> {
    Posting { ledger: l, movement: m, from, to, cap, memo: None, record_id, division_code, by: Some(by) }
}

/// Take back what a superseded record earned (as far as the balance allows: what was already
/// spent stays spent, and the shortfall is noted on the reversal).
pub async fn reverse_earnings(
    tx: &mut Tx,
    person_id: i64,
    record_id: i64,
    division_code: &str,
    by: i64,
) -> Result<(), AppError> {
    for l in [Ledger::Points, Ledger::Coins] {
        let earned = wushe_store::timebank::ledger::earned_by_record(tx, l, person_id, record_id).await?;
        if earned <= 0 {
            continue;
        }
        let balance = ledger::balance_tx(tx, l, person_id).await?;
        let units = earned.min(balance);
        if units <= 0 {
            continue;
        }
        let m = Movement::Reverse { units };
        let memo = (units < earned).then(|| format!("应扣回 {earned}，余额仅 {balance}，已全部扣回余额"));
        let p = Posting {
            ledger: l,
            movement: &m,
            from: Side::Person(person_id),
            to: Side::System(SystemAccount::Lapsed),
            cap: None,
            memo: memo.as_deref(),
            record_id: Some(record_id),
            division_code,
            by: Some(by),
        };
        ledger::post(tx, &p).await.map_err(|e| refused(e, l))?;
    }
    Ok(())
}

// ---------- a person's accounts ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub person_id: i64,
    /// Time coins, in minutes of service (60 = one coin).
    pub coin_units: i64,
    /// "12.5"
    pub coins: String,
    pub points: i64,
    #[schema(value_type = Vec<Object>)]
    pub coin_entries: Vec<EntryRow>,
    #[schema(value_type = Vec<Object>)]
    pub point_entries: Vec<EntryRow>,
}

/// The person's own accounts, or those of a person in the caller's scope.
pub async fn account(state: &AppState, user: &CurrentUser, person_id: i64) -> Result<AccountView, AppError> {
    if user.person_id != Some(person_id) {
        require_in_scope(state, user, person_id).await?;
    }
    let coin_units = ledger::balance(&state.db, Ledger::Coins, person_id).await?;
    Ok(AccountView {
        person_id,
        coin_units,
        coins: coins_label(coin_units),
        points: ledger::balance(&state.db, Ledger::Points, person_id).await?,
        coin_entries: ledger::entries(&state.db, Ledger::Coins, person_id, 200).await?,
        point_entries: ledger::entries(&state.db, Ledger::Points, person_id, 200).await?,
    })
}

/// Staff act only for people they may see in the registry (any role).
async fn require_in_scope(state: &AppState, user: &CurrentUser, person_id: i64) -> Result<(), AppError> {
    user.require(user.role.works_with_people())?;
    wushe_store::registry::people::person_in_scope(&state.db, &user.scope(), person_id)
        .await?
        .then_some(())
        .ok_or_else(|| AppError::NotFound("记录不存在或不在您的管辖范围内".into()))
}

// ---------- movements ----------

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TransferInput {
    /// The relative receiving the coins.
    pub to_person_id: i64,
    /// Coins (may have one decimal: 1.5).
    pub coins: f64,
}

fn units_of(coins: f64) -> Result<i64, AppError> {
    let u = (coins * UNITS_PER_COIN as f64).round() as i64;
    if !(coins.is_finite() && u > 0) {
        return Err(AppError::validation("coins", "时间币数量应大于 0"));
    }
    Ok(u)
}

/// A volunteer gives coins to a direct relative (recorded by station staff beforehand).
pub async fn transfer(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: TransferInput,
) -> Result<i64, AppError> {
    let from = user
        .person_id
        .filter(|_| user.role == Role::Volunteer)
        .ok_or_else(|| AppError::Forbidden("请使用志愿者本人账号转赠时间币".into()))?;
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
    let m = Movement::Transfer { units };
    let p = Posting {
        ledger: Ledger::Coins,
        movement: &m,
        from: Side::Person(from),
        to: Side::Person(input.to_person_id),
        cap: Some(tb.cap_units()),
        memo: rel.as_deref(),
        record_id: None,
        division_code: &user.scope_division,
        by: Some(user.id),
    };
    let tid = ledger::post(&mut tx, &p).await.map_err(|e| refused(e, Ledger::Coins))?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "transfer",
            entity: "timebank",
            entity_id: Some(tid.to_string()),
            division_code: &user.scope_division,
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
    pub memo: String,
}

/// Station or organization staff record a service an elder received, paid in coins.
pub async fn spend(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: SpendInput,
) -> Result<i64, AppError> {
    require_in_scope(state, user, input.person_id).await?;
    let units = units_of(input.coins)?;
    let memo = input.memo.trim();
    if memo.is_empty() || memo.chars().count() > 200 {
        return Err(AppError::validation("memo", "请填写所享受的服务（不超过 200 个字符）"));
    }
    let tb: TimebankRules = settings::get(&state.db, TIMEBANK_RULES_KEY).await?;
    let mut tx = state.db.begin().await?;
    let birth = wushe_store::volunteering::signups::birth_date(&mut tx, input.person_id).await?;
    let age = wushe_domain::volunteering::activity::age_on(birth, crate::service::registry::today());
    tb.may_spend(age).map_err(|e| {
        AppError::Conflict(format!("兑换服务须年满 {} 周岁：{}", tb.withdraw_from_age, e.message(Ledger::Coins)))
    })?;
    let m = Movement::Spend { units };
    let p = Posting {
        ledger: Ledger::Coins,
        movement: &m,
        from: Side::Person(input.person_id),
        to: Side::System(SystemAccount::ServicesReceived),
        cap: None,
        memo: Some(memo),
        record_id: None,
        division_code: &user.scope_division,
        by: Some(user.id),
    };
    let tid = ledger::post(&mut tx, &p).await.map_err(|e| refused(e, Ledger::Coins))?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "spend",
            entity: "timebank",
            entity_id: Some(tid.to_string()),
            division_code: &user.scope_division,
            organization_id: user.organization_id,
            summary: serde_json::json!({ "person": input.person_id, "units": units, "memo": memo }),
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
    user.require(matches!(user.role, Role::Admin | Role::Official | Role::SocialWorker))?;
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

// ---------- love supermarkets ----------

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct OutletInput {
    pub name: String,
    pub division_code: String,
    pub address: String,
}

fn runs_outlets(user: &CurrentUser) -> Result<(), AppError> {
    user.require(matches!(user.role, Role::Admin | Role::Official | Role::SocialWorker))
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
    let code = crate::service::regions::parse_code("所在区划", &input.division_code)?;
    if !code.is_within(&user.scope_division) {
        return Err(AppError::Forbidden(format!("所在区划 {} 不在您的管辖范围内", code.prefix())));
    }
    if !wushe_store::regions::exists(&state.db, &code).await? {
        return Err(AppError::validation("所在区划", format!("区划代码 {} 不存在", code.prefix())));
    }
    let mut tx = state.db.begin().await?;
    let id = supermarket::create_outlet(&mut tx, name, code.full(), input.address.trim(), Some(user.id)).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "create",
            entity: "outlet",
            entity_id: Some(id.to_string()),
            division_code: code.full(),
            organization_id: None,
            summary: serde_json::json!({ "name": name }),
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

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct GoodsInput {
    pub name: String,
    pub points: i64,
    pub stock: i64,
}

async fn outlet_in_scope(tx: &mut Tx, user: &CurrentUser, outlet_id: i64) -> Result<OutletRow, AppError> {
    let o = supermarket::outlet_tx(tx, outlet_id).await?;
    if !o.division_code.starts_with(&user.scope_division) {
        return Err(AppError::NotFound("记录不存在或不在您的管辖范围内".into()));
    }
    Ok(o)
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
    if !(1..=1_000_000).contains(&input.points) {
        return Err(AppError::validation("所需积分", "应在 1–1,000,000 之间"));
    }
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

pub async fn goods(state: &AppState, outlet_id: i64) -> Result<Vec<GoodsRow>, AppError> {
    Ok(supermarket::goods(&state.db, outlet_id).await?)
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

/// Redeem points for goods: the points and the stock are taken together or not at all.
pub async fn redeem(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: RedeemInput,
) -> Result<i64, AppError> {
    let person = match input.person_id {
        Some(p) if user.person_id != Some(p) => {
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
    let g = supermarket::goods_tx(&mut tx, input.goods_id).await?;
    let o = supermarket::outlet_tx(&mut tx, g.outlet_id).await?;
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
