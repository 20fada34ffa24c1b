//! Time bank and points: earning from confirmed service, gifts to direct relatives, spending
//! coins on services received, coin expiry, love-supermarket outlets, goods and redemptions,
//! and a person's accounts. Every movement is a double-entry posting
//! (`store::timebank::ledger`); coins leave an account oldest first (`domain::timebank::lots`)
//! and coins past their expiry are taken before anything else.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wushe_domain::privacy::mask;
use wushe_domain::registry::person::PersonRole;
use wushe_domain::timebank::ledger::{self as rules, Ledger, Movement, MovementError, SystemAccount};
use wushe_domain::timebank::lots::{Lot, Lots};
use wushe_domain::timebank::rules::{coins_label, UNITS_PER_COIN};
use wushe_domain::timebank::{PointRules, TimebankRules};
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::registry::people::PeopleFilter;
use wushe_store::timebank::ledger::{self, EntryRow, PostError, Posting, Side, StatementRow};
use wushe_store::timebank::supermarket::{self, GoodsRow, OutletRow, RedemptionRow};
use wushe_store::{settings, Db, Page, Paged, StoreError, Tx};

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

/// What one confirmed record may earn.
#[derive(Debug, Clone, Copy)]
pub struct Earning<'a> {
    pub person_id: i64,
    pub record_id: i64,
    pub timebank: bool,
    pub minutes: i64,
    pub division_code: &'a str,
    pub by: i64,
    pub at: DateTime<Utc>,
}

/// Points for every confirmed record (posted together), coins for time-bank activities
/// (from the depositor age, up to the storage cap, one by one since each depends on the
/// balance). Runs inside the confirmations' transaction.
pub async fn earn(tx: &mut Tx, r: &EarnRules, records: &[Earning<'_>]) -> Result<(), AppError> {
    let points: Vec<(Movement, &Earning)> = records
        .iter()
        .map(|e| (Movement::Earn { units: r.points.earned(e.minutes) }, e))
        .filter(|(m, _)| m.units() > 0)
        .collect();
    let postings: Vec<Posting> = points
        .iter()
        .map(|(m, e)| {
            let to = Side::Person(e.person_id);
            posting(
                Ledger::Points,
                m,
                Side::System(SystemAccount::Issuance),
                to,
                None,
                Some(e.record_id),
                e.division_code,
                e.by,
                e.at,
            )
        })
        .collect();
    ledger::post_many(tx, &postings).await.map_err(|e| refused(e, Ledger::Points))?;
    for e in records.iter().filter(|e| e.timebank && e.minutes > 0) {
        let birth = wushe_store::volunteering::signups::birth_date(tx, e.person_id).await?;
        let age = wushe_domain::volunteering::activity::age_on(birth, crate::service::registry::today());
        if r.timebank.deposits_at(age) {
            // coins past their expiry no longer count against the cap
            expire_person(tx, &r.timebank, e.person_id, wushe_store::time::now(), &system_actor()).await?;
            let balance = ledger::balance_tx(tx, Ledger::Coins, e.person_id).await?;
            let units = r.timebank.deposit_units(e.minutes, balance);
            if units > 0 {
                let m = Movement::Earn { units };
                let p = posting(
                    Ledger::Coins,
                    &m,
                    Side::System(SystemAccount::Issuance),
                    Side::Person(e.person_id),
                    Some(r.timebank.cap_units()),
                    Some(e.record_id),
                    e.division_code,
                    e.by,
                    e.at,
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
    at: DateTime<Utc>,
) -> Posting<'a> {
    Posting {
        ledger: l,
        movement: m,
        from,
        to,
        cap,
        memo: None,
        record_id,
        division_code,
        by: Some(by),
        at: Some(at),
        lots: &[],
    }
}

/// Take back what a superseded record earned (as far as the balance allows: what was already
/// spent stays spent, and the shortfall is noted on the reversal). Coins go oldest first,
/// after any that expired.
pub async fn reverse_earnings(
    tx: &mut Tx,
    person_id: i64,
    record_id: i64,
    division_code: &str,
    by: i64,
) -> Result<(), AppError> {
    let tb: TimebankRules = settings::get_tx(tx, crate::service::volunteering::TIMEBANK_RULES_KEY).await?;
    for l in [Ledger::Points, Ledger::Coins] {
        let earned = wushe_store::timebank::ledger::earned_by_record(tx, l, person_id, record_id).await?;
        if earned <= 0 {
            continue;
        }
        let mut held = match l {
            Ledger::Coins => Some(coin_lots(tx, &tb, person_id, &system_actor()).await?),
            Ledger::Points => None,
        };
        let balance = match &held {
            Some(h) => h.balance(),
            None => ledger::balance_tx(tx, l, person_id).await?,
        };
        let units = earned.min(balance);
        if units <= 0 {
            continue;
        }
        let parts = match held.as_mut() {
            Some(h) => take(h, units)?,
            None => Vec::new(),
        };
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
            at: None,
            lots: &parts,
        };
        ledger::post(tx, &p).await.map_err(|e| refused(e, l))?;
    }
    Ok(())
}

// ---------- coin lots and expiry ----------

/// Who the expiry job acts as in the audit log.
fn system_actor() -> Actor {
    Actor { username: Some("system".into()), role: Some("system".into()), ..Default::default() }
}

fn inconsistent(person_id: i64) -> AppError {
    AppError::internal(format!("时间币账户 {person_id} 的分录无法按先进先出还原"))
}

/// Take `units` from lots, oldest first; the refusal names the balance.
fn take(lots: &mut Lots, units: i64) -> Result<Vec<Lot>, AppError> {
    lots.take(units).map_err(|o| {
        AppError::Conflict(MovementError::Insufficient { balance: o.balance, needed: o.needed }.message(Ledger::Coins))
    })
}

/// Expire what is due of a person's coins (when the rules set an expiry): one movement to the
/// lapsed account taking the lots past their expiry, audited. Returns the units expired.
/// Runs inside the caller's transaction, with the account held.
pub async fn expire_person(
    tx: &mut Tx,
    tb: &TimebankRules,
    person_id: i64,
    now: DateTime<Utc>,
    actor: &Actor,
) -> Result<i64, AppError> {
    if tb.expiry().is_none() {
        return Ok(0);
    }
    ledger::lock(tx, Ledger::Coins, person_id).await?;
    Ok(expire_held(tx, tb, person_id, now, actor).await?.0)
}

/// The person's coin lots after expiring what is due (the account is held by the caller).
async fn expire_held(
    tx: &mut Tx,
    tb: &TimebankRules,
    person_id: i64,
    now: DateTime<Utc>,
    actor: &Actor,
) -> Result<(i64, Lots), AppError> {
    let mut held =
        Lots::replay(ledger::flows_tx(tx, Ledger::Coins, person_id).await?).map_err(|_| inconsistent(person_id))?;
    let Some(months) = tb.expiry() else {
        return Ok((0, held));
    };
    let due = held.due(months, now);
    if due == 0 {
        return Ok((0, held));
    }
    let parts = held.take(due).map_err(|_| inconsistent(person_id))?;
    let division = supermarket::division_of(tx, person_id).await?;
    let m = Movement::Expire { units: due };
    let memo = format!("存入满 {months} 个月未使用");
    let p = Posting {
        ledger: Ledger::Coins,
        movement: &m,
        from: Side::Person(person_id),
        to: Side::System(SystemAccount::Lapsed),
        cap: None,
        memo: Some(&memo),
        record_id: None,
        division_code: &division,
        by: actor.user_id,
        at: None,
        lots: &parts,
    };
    let tid = ledger::post(tx, &p).await.map_err(|e| refused(e, Ledger::Coins))?;
    audit::append(
        tx,
        actor,
        &Event {
            action: "expire",
            entity: "timebank",
            entity_id: Some(tid.to_string()),
            division_code: &division,
            organization_id: None,
            summary: serde_json::json!({
                "person": person_id, "units": due,
                "deposited": parts.iter().map(|l| l.deposited_at).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    Ok((due, held))
}

/// Hold a person's coin account, expire what is due, and return the lots left to take from.
async fn coin_lots(tx: &mut Tx, tb: &TimebankRules, person_id: i64, actor: &Actor) -> Result<Lots, AppError> {
    ledger::lock(tx, Ledger::Coins, person_id).await?;
    Ok(expire_held(tx, tb, person_id, wushe_store::time::now(), actor).await?.1)
}

/// What one run of the expiry job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ExpiryRun {
    pub people: i64,
    pub units: i64,
}

/// Expire every coin past its expiry at `now` (the background job; idempotent: a second run
/// at the same instant finds nothing due). Each person's expiry is its own transaction.
pub async fn expire_due(db: &Db, now: DateTime<Utc>) -> Result<ExpiryRun, AppError> {
    let tb: TimebankRules = settings::get(db, crate::service::volunteering::TIMEBANK_RULES_KEY).await?;
    let mut run = ExpiryRun::default();
    let Some(months) = tb.expiry() else {
        return Ok(run);
    };
    let Some(cutoff) = now.checked_sub_months(chrono::Months::new(months)) else {
        return Ok(run);
    };
    let actor = system_actor();
    let mut after = 0;
    loop {
        let batch = ledger::expiry_candidates(db, cutoff, after, 500).await?;
        let Some(last) = batch.last() else { break };
        after = *last;
        for person in batch {
            // read without holding anything; only people with coins due take the write lock
            let due = Lots::replay(ledger::flows(db, Ledger::Coins, person).await?)
                .map_err(|_| inconsistent(person))?
                .due(months, now);
            if due == 0 {
                continue;
            }
            let mut tx = db.begin().await?;
            ledger::lock(&mut tx, Ledger::Coins, person).await?;
            let (n, _) = expire_held(&mut tx, &tb, person, now, &actor).await?;
            tx.commit().await?;
            if n > 0 {
                run.people += 1;
                run.units += n;
            }
        }
    }
    Ok(run)
}

// ---------- a person's accounts ----------

/// Coins expiring on one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExpiringCoins {
    /// Beijing date on which they expire.
    pub expires_on: NaiveDate,
    pub units: i64,
    /// "1.5"
    pub coins: String,
}

/// A recorded direct relative.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RelativeView {
    pub person_id: i64,
    pub name: String,
    /// How the relative is related to the account holder: 父母 / 配偶 / 子女.
    pub relation: String,
    pub age: i64,
    /// The relative is old enough to spend coins on being served.
    pub may_be_served: bool,
}

/// How many days ahead the account shows coins about to expire.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;

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
    /// Months after which coins expire (absent: they never do).
    pub expiry_months: Option<u32>,
    /// Coins past their expiry that the expiry job has not yet taken (units); they can no
    /// longer be spent or given.
    pub expired_units: i64,
    /// Coins expiring within the next 30 days, soonest first (即将过期).
    pub expiring_soon: Vec<ExpiringCoins>,
    pub name: String,
    pub age: i64,
    /// Old enough to spend coins on being served.
    pub may_spend: bool,
    pub withdraw_from_age: u32,
    /// Coins may be given to recorded direct relatives.
    pub transfers_allowed: bool,
    pub relatives: Vec<RelativeView>,
}

fn beijing_date(t: DateTime<Utc>) -> NaiveDate {
    wushe_domain::time::local_date(t)
}

/// The person's own accounts, or those of a person in the caller's scope.
pub async fn account(state: &AppState, user: &CurrentUser, person_id: i64) -> Result<AccountView, AppError> {
    if user.person_id != Some(person_id) {
        require_in_scope(state, user, person_id).await?;
    }
    let tb: TimebankRules = settings::get(&state.db, TIMEBANK_RULES_KEY).await?;
    let holder = supermarket::holder(&state.db, person_id).await.map_err(not_found)?;
    let today = crate::service::registry::today();
    let age = wushe_domain::volunteering::activity::age_on(holder.birth_date, today);
    let coin_units = ledger::balance(&state.db, Ledger::Coins, person_id).await?;
    let (mut expired_units, mut expiring_soon) = (0, Vec::new());
    if let Some(months) = tb.expiry() {
        let held = Lots::replay(ledger::flows(&state.db, Ledger::Coins, person_id).await?)
            .map_err(|_| inconsistent(person_id))?;
        let now = Utc::now();
        expired_units = held.due(months, now);
        for (at, units) in held.expiring(months, now, Duration::days(EXPIRING_WITHIN_DAYS)) {
            let on = beijing_date(at);
            match expiring_soon.last_mut() {
                Some(ExpiringCoins { expires_on, units: u, coins }) if *expires_on == on => {
                    *u += units;
                    *coins = coins_label(*u);
                }
                _ => expiring_soon.push(ExpiringCoins { expires_on: on, units, coins: coins_label(units) }),
            }
        }
    }
    let relatives = supermarket::relatives(&state.db, person_id)
        .await?
        .into_iter()
        .map(|r| {
            let age = wushe_domain::volunteering::activity::age_on(r.birth_date, today);
            RelativeView {
                person_id: r.person_id,
                name: r.name,
                relation: r.relation,
                age,
                may_be_served: tb.may_spend(age).is_ok(),
            }
        })
        .collect();
    Ok(AccountView {
        person_id,
        coin_units,
        coins: coins_label(coin_units),
        points: ledger::balance(&state.db, Ledger::Points, person_id).await?,
        coin_entries: ledger::entries(&state.db, Ledger::Coins, person_id, 200).await?,
        point_entries: ledger::entries(&state.db, Ledger::Points, person_id, 200).await?,
        expiry_months: tb.expiry(),
        expired_units,
        expiring_soon,
        name: holder.name,
        age,
        may_spend: tb.may_spend(age).is_ok(),
        withdraw_from_age: tb.withdraw_from_age,
        transfers_allowed: tb.transfer_to_relatives,
        relatives,
    })
}

fn not_found(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::NotFound("记录不存在或不在您的管辖范围内".into()),
        e => e.into(),
    }
}

/// Staff act only for people they may see in the registry (any role).
async fn require_in_scope(state: &AppState, user: &CurrentUser, person_id: i64) -> Result<(), AppError> {
    user.require(user.role.works_with_people())?;
    wushe_store::registry::people::person_in_scope(&state.db, &user.scope(), person_id)
        .await?
        .then_some(())
        .ok_or_else(|| AppError::NotFound("记录不存在或不在您的管辖范围内".into()))
}

/// One line of a statement, labelled.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementLine {
    pub transaction_id: i64,
    pub at: DateTime<Utc>,
    /// earn | transfer | spend | redeem | reverse | expire
    pub kind: String,
    /// 服务获得、转赠、兑换服务……
    pub kind_label: String,
    /// Who or what is on the other side: a relative, an activity, 时间银行服务, 爱心超市, 到期失效.
    pub counterparty: String,
    /// Units in (+) or out (−): minutes for coins, points for points.
    pub amount: i64,
    /// The balance after this line.
    pub balance_after: i64,
    pub memo: Option<String>,
}

impl From<StatementRow> for StatementLine {
    fn from(r: StatementRow) -> Self {
        let counterparty = match (&r.counterparty_name, r.counterparty_system.as_deref()) {
            (Some(n), _) => n.clone(),
            (None, Some("issuance")) => r.activity_title.clone().unwrap_or_else(|| "志愿服务".into()),
            (None, Some("services_received")) => "时间银行服务".into(),
            (None, Some("redemptions")) => "爱心超市".into(),
            (None, Some("lapsed")) if r.kind == "expire" => "到期失效".into(),
            (None, Some("lapsed")) => "记录更正".into(),
            _ => "—".into(),
        };
        StatementLine {
            transaction_id: r.transaction_id,
            at: r.created_at,
            kind_label: Movement::kind_label(&r.kind).to_string(),
            kind: r.kind,
            counterparty,
            amount: r.amount,
            balance_after: r.balance_after,
            memo: r.memo,
        }
    }
}

/// A person's statement on one ledger, newest first (own, or in the caller's scope).
pub async fn statement(
    state: &AppState,
    user: &CurrentUser,
    person_id: i64,
    l: Ledger,
    page: &Page,
) -> Result<Paged<StatementLine>, AppError> {
    if user.person_id != Some(person_id) {
        require_in_scope(state, user, person_id).await?;
    }
    let res = ledger::statement(&state.db, l, person_id, page).await?;
    Ok(Paged {
        items: res.items.into_iter().map(Into::into).collect(),
        total: res.total,
        capped: res.capped,
        page: res.page,
    })
}

/// A person found by station staff, with their balances.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolderView {
    pub id: i64,
    pub name: String,
    /// Masked.
    pub citizen_id: String,
    pub age: u32,
    pub region_name: Option<String>,
    pub coin_units: i64,
    pub coins: String,
    pub points: i64,
}

/// Find volunteers or beneficiaries in the caller's scope (a name fragment, ID number, phone
/// or volunteer number), with their coin and point balances.
pub async fn holders(
    state: &AppState,
    user: &CurrentUser,
    role: PersonRole,
    q: Option<&str>,
    page: &Page,
) -> Result<Paged<HolderView>, AppError> {
    if role == PersonRole::SocialWorker {
        return Err(AppError::validation("role", "应为 volunteer（志愿者）或 beneficiary（服务对象）"));
    }
    if q.is_some_and(|q| q.chars().count() > 60) {
        return Err(AppError::validation("q", "搜索内容不能超过 60 个字符"));
    }
    let f = PeopleFilter { q: q.map(str::trim).filter(|q| !q.is_empty()).map(str::to_string), ..Default::default() };
    let res = crate::service::people::list(state, user, role, &f, page).await?;
    let ids: Vec<i64> = res.items.iter().map(|p| p.id).collect();
    let coins: std::collections::HashMap<i64, i64> =
        ledger::balances(&state.db, Ledger::Coins, &ids).await?.into_iter().collect();
    let points: std::collections::HashMap<i64, i64> =
        ledger::balances(&state.db, Ledger::Points, &ids).await?.into_iter().collect();
    Ok(Paged {
        items: res
            .items
            .into_iter()
            .map(|p| {
                let c = coins.get(&p.id).copied().unwrap_or(0);
                HolderView {
                    id: p.id,
                    coin_units: c,
                    coins: coins_label(c),
                    points: points.get(&p.id).copied().unwrap_or(0),
                    name: p.name,
                    citizen_id: p.citizen_id,
                    age: p.age,
                    region_name: p.region_name,
                }
            })
            .collect(),
        total: res.total,
        capped: res.capped,
        page: res.page,
    })
}

/// The one volunteer or beneficiary in the caller's scope that `q` names (an ID number,
/// phone or volunteer number; a name when it is unique), for counter and relative forms.
pub async fn find_person(state: &AppState, user: &CurrentUser, field: &str, q: &str) -> Result<HolderView, AppError> {
    let q = q.trim();
    if q.is_empty() {
        return Err(AppError::validation(field, "请输入身份证号、手机号或志愿者编号"));
    }
    let mut found: Vec<HolderView> = Vec::new();
    for role in [PersonRole::Volunteer, PersonRole::Beneficiary] {
        for h in holders(state, user, role, Some(q), &Page::new(None, Some(5))).await?.items {
            if !found.iter().any(|f| f.id == h.id) {
                found.push(h);
            }
        }
    }
    match found.len() {
        0 => Err(AppError::validation(
            field,
            format!("在您的管辖范围内未找到「{q}」（可输入身份证号、手机号或志愿者编号）"),
        )),
        1 => Ok(found.remove(0)),
        n => Err(AppError::validation(field, format!("「{q}」对应 {n} 人，请改用身份证号或志愿者编号"))),
    }
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

// ---------- love supermarkets ----------

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coins_typed_become_units() {
        assert_eq!(units_of(1.5).unwrap(), 90);
        assert!(units_of(0.0).is_err() && units_of(f64::NAN).is_err() && units_of(-1.0).is_err());
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 31, 17, 0, 0).unwrap();
        assert_eq!(beijing_date(t), NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
    }
}
