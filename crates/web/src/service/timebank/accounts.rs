//! A person's accounts: balances, entries, coins about to expire, relatives, statements,
//! and finding account holders in the caller's scope.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use wushe_domain::registry::person::PersonRole;
use wushe_domain::timebank::ledger::{Ledger, Movement};
use wushe_domain::timebank::lots::Lots;
use wushe_domain::timebank::rules::coins_label;
use wushe_domain::timebank::TimebankRules;
use wushe_store::registry::people::PeopleFilter;
use wushe_store::timebank::ledger::{self, EntryRow, StatementRow};
use wushe_store::timebank::supermarket;
use wushe_store::{settings, Page, Paged};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::service::volunteering::TIMEBANK_RULES_KEY;
use crate::state::AppState;

use super::{inconsistent, not_found, require_in_scope};

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

pub(super) fn beijing_date(t: DateTime<Utc>) -> NaiveDate {
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
