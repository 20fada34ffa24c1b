//! The time bank (时间银行) and love supermarkets (爱心超市) in the UI, phone first: a
//! volunteer's or resident's own account (balances, coins about to expire, statements, gifts
//! to relatives, spending coins on a service), station staff's lookup of people's accounts
//! (recording and removing relatives, services paid in coins), the outlets with their goods,
//! redemption (by the holder, or at the counter by the outlet's keepers) and goods
//! management. The handlers call the same services as the API.

use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_domain::timebank::ledger::{Ledger, DIRECT_RELATIONS};
use wushe_domain::timebank::rules::coins_label;
use wushe_store::timebank::supermarket::RedemptionRow;
use wushe_store::Page;

use super::volunteering::fmt_time;
use super::{render, set_flash, take_flash, url_encode, Layout};
use crate::api::timebank::{parse_ledger, HolderParams};
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::timebank::{
    self as svc, AccountView, GoodsInput, GoodsPatch, HolderView, OutletInput, RedeemInput, RelationInput,
    RestockInput, SpendInput, TransferInput,
};
use crate::state::AppState;

/// Services elders commonly take from a time bank (the form also takes any other).
const SERVICES: [&str; 8] = ["助餐", "助洁", "助浴", "助医陪诊", "代购代办", "上门理发", "精神慰藉", "康复护理"];

/// A page again with its error (the status of the error).
fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    res
}

/// Errors a form shows next to itself; anything else is the error page.
fn shown(e: AppError) -> Result<(StatusCode, String), AppError> {
    match e {
        e @ (AppError::Validation { .. } | AppError::Conflict(_)) => Ok((e.status(), e.to_string())),
        e => Err(e),
    }
}

/// "1.5" coins typed into a form.
fn coins_typed(s: &str) -> Result<f64, AppError> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| AppError::validation("时间币", "应为数字，如 1 或 1.5"))
}

fn int_typed(field: &str, s: &str) -> Result<i64, AppError> {
    s.trim().parse::<i64>().map_err(|_| AppError::validation(field, "应为整数"))
}

// ---------- an account (own, or a person's for staff) ----------

pub struct LineView {
    at: String,
    kind_label: String,
    counterparty: String,
    amount: String,
    incoming: bool,
    balance: String,
    memo: String,
}

pub struct RedemptionView {
    at: String,
    goods_name: String,
    outlet_id: i64,
    outlet_name: String,
    person_name: String,
    quantity: i64,
    points: i64,
}

impl From<RedemptionRow> for RedemptionView {
    fn from(r: RedemptionRow) -> Self {
        RedemptionView {
            at: fmt_time(r.created_at),
            goods_name: r.goods_name,
            outlet_id: r.outlet_id,
            outlet_name: r.outlet_name,
            person_name: r.person_name,
            quantity: r.quantity,
            points: r.points,
        }
    }
}

/// What the forms had typed (kept when a form is shown again with its problem).
#[derive(Default)]
pub struct MoveForm {
    to_person_id: String,
    coins: String,
    service: String,
    memo: String,
    person_id: String,
    payer_person_id: String,
    relative: String,
    relation: String,
}

#[derive(Template)]
#[template(path = "timebank/account.html")]
struct AccountPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    acc: AccountView,
    /// The holder's own page (gifts and spending from their account); otherwise staff.
    own: bool,
    /// Where this page lives (tabs and the pager add to it).
    base: String,
    tab: &'static str,
    lines: Vec<LineView>,
    total: i64,
    page: u32,
    pages: u32,
    page_base: String,
    expired: String,
    /// Who this account may pay a service for: (person id, label).
    servable: Vec<(i64, String)>,
    /// Whose coins may pay for this person's service (staff form): (person id, label).
    payers: Vec<(i64, String)>,
    can_relate: bool,
    can_record_spend: bool,
    services: [&'static str; 8],
    relations: [&'static str; 3],
    redemptions: Vec<RedemptionView>,
    form: MoveForm,
}

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    ledger: String,
    page: Option<u32>,
}

#[allow(clippy::too_many_arguments)]
async fn account_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    person_id: i64,
    own: bool,
    q: &AccountQuery,
    error: Option<String>,
    form: MoveForm,
) -> Result<Response, AppError> {
    let l = parse_ledger(Some(&q.ledger)).unwrap_or(Ledger::Coins);
    let acc = svc::account(state, user, person_id).await?;
    let page = Page::new(q.page, Some(20));
    let st = svc::statement(state, user, person_id, l, &page).await?;
    let redemptions = svc::person_redemptions(state, user, person_id).await?.into_iter().map(Into::into).collect();
    let amount = |units: i64| match l {
        Ledger::Coins => coins_label(units.abs()),
        Ledger::Points => units.abs().to_string(),
    };
    let lines = st
        .items
        .iter()
        .map(|s| LineView {
            at: fmt_time(s.at),
            kind_label: s.kind_label.clone(),
            counterparty: s.counterparty.clone(),
            amount: format!("{}{}", if s.amount >= 0 { "+" } else { "−" }, amount(s.amount)),
            incoming: s.amount >= 0,
            balance: amount(s.balance_after),
            memo: s.memo.clone().unwrap_or_default(),
        })
        .collect();
    let mut servable = Vec::new();
    if acc.may_spend {
        servable.push((person_id, format!("本人（{}）", acc.name)));
    }
    let mut payers = vec![(person_id, format!("本人（{}）", acc.name))];
    for r in &acc.relatives {
        if r.may_be_served && acc.transfers_allowed {
            servable.push((r.person_id, format!("{}：{}（{} 岁，我代付）", r.relation, r.name, r.age)));
        }
        if acc.transfers_allowed {
            payers.push((r.person_id, format!("{}：{} 代付", r.relation, r.name)));
        }
    }
    let base = if own { "/timebank".to_string() } else { format!("/timebank/people/{person_id}") };
    let title = if own { "我的时间银行".to_string() } else { format!("{} 的时间银行账户", acc.name) };
    let layout = if own {
        Layout::new(session, Some(user), &title, "timebank").await?.crumb("/", "首页").crumb("", "我的时间银行")
    } else {
        Layout::new(session, Some(user), &title, "timebank_people")
            .await?
            .crumb("/", "首页")
            .crumb("/timebank/people", "时间银行")
            .crumb("", acc.name.clone())
    };
    let tab = match l {
        Ledger::Coins => "coins",
        Ledger::Points => "points",
    };
    render(&AccountPage {
        flash: take_flash(session).await,
        error,
        own,
        page_base: format!("{base}?ledger={tab}&"),
        base,
        tab,
        lines,
        total: st.total,
        page: st.page.page,
        pages: st.pages(),
        expired: coins_label(acc.expired_units),
        servable,
        payers,
        can_relate: !own && user.role.keeps_timebank(),
        can_record_spend: !own && user.role.works_with_people(),
        services: SERVICES,
        relations: DIRECT_RELATIONS,
        redemptions,
        form,
        acc,
        layout,
    })
}

/// The holder's own registry person, or why this page is not theirs.
fn holder(user: &CurrentUser) -> Result<i64, AppError> {
    match user.person_id {
        Some(p) if user.role.holds_timebank_account() => Ok(p),
        _ if user.role.holds_timebank_account() => {
            Err(AppError::Forbidden("您的账号尚未关联登记信息，请联系所在社区或社工站".into()))
        }
        _ => Err(AppError::Forbidden("“我的时间银行”是志愿者或居民本人的页面；工作人员请使用“时间银行”查询".into())),
    }
}

/// `GET /timebank`: the volunteer's or resident's own time bank.
pub async fn mine(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Query(q): Query<AccountQuery>,
) -> Result<Response, AppError> {
    let me = holder(&user)?;
    account_page(&state, &session, &user, me, true, &q, None, MoveForm::default()).await
}

#[derive(Deserialize, Default)]
pub struct TransferForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    to_person_id: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    coins: String,
}

/// `POST /timebank/transfer`: give coins to a recorded direct relative.
pub async fn transfer(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<TransferForm>,
) -> Result<Response, AppError> {
    let me = holder(&user)?;
    let done = async {
        let input =
            TransferInput { to_person_id: int_typed("转赠给", &f.to_person_id)?, coins: coins_typed(&f.coins)? };
        svc::transfer(&state, &user, &meta, input).await
    }
    .await;
    match done {
        Ok(_) => {
            set_flash(&session, &format!("已转赠 {} 个时间币", f.coins.trim())).await;
            Ok(Redirect::to("/timebank").into_response())
        }
        Err(e) => {
            let (status, m) = shown(e)?;
            let form = MoveForm { to_person_id: f.to_person_id, coins: f.coins, ..Default::default() };
            let q = AccountQuery::default();
            Ok(with_status(account_page(&state, &session, &user, me, true, &q, Some(m), form).await?, status))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct SpendForm {
    /// The person served.
    #[serde(deserialize_with = "crate::text::label::one", default)]
    person_id: String,
    /// Whose coins pay (staff form); the holder's own otherwise.
    #[serde(deserialize_with = "crate::text::label::one", default)]
    payer_person_id: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    coins: String,
    /// One of the common services, or empty with `memo` typed.
    #[serde(deserialize_with = "crate::text::line::one", default)]
    service: String,
    #[serde(deserialize_with = "crate::text::line::one", default)]
    memo: String,
}

impl SpendForm {
    fn memo(&self) -> String {
        match (self.service.trim(), self.memo.trim()) {
            ("", m) => m.to_string(),
            (s, "") => s.to_string(),
            (s, m) => format!("{s}：{m}"),
        }
    }

    fn kept(self) -> MoveForm {
        MoveForm {
            coins: self.coins,
            service: self.service,
            memo: self.memo,
            person_id: self.person_id,
            payer_person_id: self.payer_person_id,
            ..Default::default()
        }
    }
}

/// `POST /timebank/spend`: the holder pays coins for a service (their own, or a recorded
/// direct relative's).
pub async fn spend(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<SpendForm>,
) -> Result<Response, AppError> {
    let me = holder(&user)?;
    let done = async {
        let served = if f.person_id.trim().is_empty() { me } else { int_typed("服务对象", &f.person_id)? };
        let input =
            SpendInput { person_id: served, coins: coins_typed(&f.coins)?, memo: f.memo(), payer_person_id: Some(me) };
        svc::spend(&state, &user, &meta, input).await
    }
    .await;
    match done {
        Ok(_) => {
            set_flash(&session, &format!("已用 {} 个时间币兑换服务：{}", f.coins.trim(), f.memo())).await;
            Ok(Redirect::to("/timebank").into_response())
        }
        Err(e) => {
            let (status, m) = shown(e)?;
            let q = AccountQuery::default();
            Ok(with_status(account_page(&state, &session, &user, me, true, &q, Some(m), f.kept()).await?, status))
        }
    }
}

// ---------- staff: people's accounts ----------

pub struct HolderRow {
    id: i64,
    name: String,
    citizen_id: String,
    age: u32,
    region: String,
    coins: String,
    points: i64,
}

impl From<HolderView> for HolderRow {
    fn from(h: HolderView) -> Self {
        HolderRow {
            id: h.id,
            name: h.name,
            citizen_id: h.citizen_id,
            age: h.age,
            region: h.region_name.unwrap_or_default(),
            coins: h.coins,
            points: h.points,
        }
    }
}

#[derive(Template)]
#[template(path = "timebank/people.html")]
struct PeoplePage {
    layout: Layout,
    error: Option<String>,
    q: String,
    role: String,
    items: Vec<HolderRow>,
    total: String,
    page: u32,
    pages: u32,
    page_base: String,
}

#[derive(Deserialize, Default)]
pub struct PeopleQuery {
    #[serde(deserialize_with = "crate::text::line::one", default)]
    q: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    role: String,
    page: Option<u32>,
}

/// `GET /timebank/people`: volunteers' or beneficiaries' accounts in the caller's scope.
pub async fn people(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Query(p): Query<PeopleQuery>,
) -> Result<Response, AppError> {
    user.require(user.role.works_with_people())?;
    let params = HolderParams { role: Some(p.role.clone()), q: Some(p.q.clone()), page: p.page, per_page: Some(20) };
    let page = Page::new(p.page, Some(20));
    let found = match params.role() {
        Ok(role) => svc::holders(&state, &user, role, Some(&p.q), &page).await,
        Err(e) => Err(e),
    };
    let (res, error) = match found {
        Ok(r) => (Some(r), None),
        Err(e @ AppError::Validation { .. }) => (None, Some(e)),
        Err(e) => return Err(e),
    };
    let layout = Layout::new(&session, Some(&user), "时间银行", "timebank_people")
        .await?
        .crumb("/", "首页")
        .crumb("", "时间银行");
    let status = error.as_ref().map(AppError::status);
    let mut out = PeoplePage {
        layout,
        error: error.map(|e| e.to_string()),
        page_base: format!("/timebank/people?q={}&role={}&", url_encode(p.q.trim()), url_encode(p.role.trim())),
        q: p.q,
        role: p.role,
        items: Vec::new(),
        total: "0".into(),
        page: 1,
        pages: 1,
    };
    if let Some(res) = res {
        out.total = res.total_label();
        out.page = res.page.page;
        out.pages = res.pages();
        out.items = res.items.into_iter().map(Into::into).collect();
    }
    let html = render(&out)?;
    Ok(match status {
        Some(s) => with_status(html, s),
        None => html,
    })
}

/// `GET /timebank/people/{id}`: a person's accounts (staff, in scope).
pub async fn person(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<AccountQuery>,
) -> Result<Response, AppError> {
    user.require(user.role.works_with_people())?;
    account_page(&state, &session, &user, id, false, &q, None, MoveForm::default()).await
}

#[derive(Deserialize, Default)]
pub struct RelationForm {
    /// The relative's ID number, phone or volunteer number.
    #[serde(deserialize_with = "crate::text::label::one", default)]
    relative: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    relation: String,
}

/// `POST /timebank/people/{id}/relations`: record a direct relative of the person.
pub async fn add_relation(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<RelationForm>,
) -> Result<Response, AppError> {
    user.require(user.role.keeps_timebank())?;
    let done = async {
        let relative = svc::find_person(&state, &user, "亲属", &f.relative).await?;
        let input = RelationInput { person_id: id, relative_id: relative.id, relation: f.relation.clone() };
        svc::add_relation(&state, &user, &meta, input).await?;
        Ok::<_, AppError>(relative.name)
    }
    .await;
    match done {
        Ok(name) => {
            set_flash(&session, &format!("已登记亲属：{name}（{}）", f.relation.trim())).await;
            Ok(Redirect::to(&format!("/timebank/people/{id}")).into_response())
        }
        Err(e) => {
            let (status, m) = shown(e)?;
            let form = MoveForm { relative: f.relative, relation: f.relation, ..Default::default() };
            let q = AccountQuery::default();
            Ok(with_status(account_page(&state, &session, &user, id, false, &q, Some(m), form).await?, status))
        }
    }
}

/// `POST /timebank/people/{id}/relations/{relative_id}/remove`: remove a relation recorded by
/// mistake or no longer true (both directions; past gifts stay in the ledger).
pub async fn remove_relation(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path((id, relative_id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    user.require(user.role.keeps_timebank())?;
    match svc::remove_relation(&state, &user, &meta, id, relative_id).await {
        Ok(r) => {
            set_flash(&session, &format!("已解除亲属关系：{}（{}）", r.relative_name, r.relation)).await;
            Ok(Redirect::to(&format!("/timebank/people/{id}")).into_response())
        }
        Err(e) => {
            // nothing (any more) between the two, e.g. the form sent twice: said on the page
            let (status, m) = match e {
                e @ AppError::NotFound(_) => (e.status(), e.to_string()),
                e => shown(e)?,
            };
            let q = AccountQuery::default();
            let page = account_page(&state, &session, &user, id, false, &q, Some(m), MoveForm::default()).await?;
            Ok(with_status(page, status))
        }
    }
}

/// `POST /timebank/people/{id}/spend`: staff record a service the person received, paid in
/// the person's coins or a relative's.
pub async fn record_spend(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<SpendForm>,
) -> Result<Response, AppError> {
    user.require(user.role.works_with_people())?;
    let done = async {
        let payer = if f.payer_person_id.trim().is_empty() { id } else { int_typed("付币人", &f.payer_person_id)? };
        let input =
            SpendInput { person_id: id, coins: coins_typed(&f.coins)?, memo: f.memo(), payer_person_id: Some(payer) };
        svc::spend(&state, &user, &meta, input).await
    }
    .await;
    match done {
        Ok(_) => {
            set_flash(&session, &format!("已记录：{} 个时间币兑换服务（{}）", f.coins.trim(), f.memo())).await;
            Ok(Redirect::to(&format!("/timebank/people/{id}")).into_response())
        }
        Err(e) => {
            let (status, m) = shown(e)?;
            let q = AccountQuery::default();
            Ok(with_status(account_page(&state, &session, &user, id, false, &q, Some(m), f.kept()).await?, status))
        }
    }
}

// ---------- love supermarkets ----------

pub struct OutletCard {
    id: i64,
    name: String,
    address: String,
    division_code: String,
}

#[derive(Template)]
#[template(path = "timebank/outlets.html")]
struct OutletsPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    items: Vec<OutletCard>,
    region: String,
    can_create: bool,
    form_name: String,
    form_division: String,
    form_address: String,
}

#[derive(Deserialize, Default)]
pub struct OutletsQuery {
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    region: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct OutletForm {
    #[serde(deserialize_with = "crate::text::line::one", default)]
    name: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    division_code: String,
    #[serde(deserialize_with = "crate::text::line::one", default)]
    address: String,
}

async fn outlets_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    region: Option<String>,
    error: Option<String>,
    form: OutletForm,
) -> Result<Response, AppError> {
    // the caller's own region first (a volunteer's street, a station's township)
    let region = region.unwrap_or_else(|| user.scope_division.clone());
    let (items, error) = match svc::outlets(state, Some(&region)).await {
        Ok(v) => (v, error),
        Err(e @ AppError::Validation { .. }) => (Vec::new(), Some(e.to_string())),
        Err(e) => return Err(e),
    };
    let layout =
        Layout::new(session, Some(user), "爱心超市", "outlets").await?.crumb("/", "首页").crumb("", "爱心超市");
    render(&OutletsPage {
        layout,
        flash: take_flash(session).await,
        error,
        items: items
            .into_iter()
            .map(|o| OutletCard { id: o.id, name: o.name, address: o.address, division_code: o.division_code })
            .collect(),
        region,
        can_create: user.role.keeps_timebank(),
        form_name: form.name,
        form_division: if form.division_code.is_empty() { user.scope_division.clone() } else { form.division_code },
        form_address: form.address,
    })
}

/// `GET /outlets`: love supermarkets of a region.
pub async fn outlets(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Query(q): Query<OutletsQuery>,
) -> Result<Response, AppError> {
    let region = q.region.map(|r| r.trim().to_string());
    let page = outlets_page(&state, &session, &user, region, None, OutletForm::default()).await?;
    Ok(page)
}

/// `POST /outlets`: open a love supermarket (station staff, officials).
pub async fn create_outlet(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<OutletForm>,
) -> Result<Response, AppError> {
    let input =
        OutletInput { name: f.name.clone(), division_code: f.division_code.clone(), address: f.address.clone() };
    match svc::create_outlet(&state, &user, &meta, input).await {
        Ok(id) => {
            set_flash(&session, "爱心超市已开设，请添加物品").await;
            Ok(Redirect::to(&format!("/outlets/{id}")).into_response())
        }
        Err(e) => {
            let (status, m) = shown(e)?;
            Ok(with_status(outlets_page(&state, &session, &user, None, Some(m), f).await?, status))
        }
    }
}

pub struct GoodsLine {
    id: i64,
    name: String,
    points: i64,
    stock: i64,
    active: bool,
}

#[derive(Template)]
#[template(path = "timebank/outlet.html")]
struct OutletPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    id: i64,
    name: String,
    address: String,
    division_code: String,
    goods: Vec<GoodsLine>,
    /// The caller redeems their own points here.
    my_points: Option<i64>,
    /// The caller keeps this outlet (goods, counter).
    keeper: bool,
    redemptions: Vec<RedemptionView>,
    form: CounterForm,
}

#[derive(Deserialize, Default)]
pub struct CounterForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    goods_id: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    quantity: String,
    /// At the counter: the person's ID number, phone or volunteer number.
    #[serde(deserialize_with = "crate::text::line::one", default)]
    q: String,
}

async fn outlet_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    id: i64,
    error: Option<String>,
    form: CounterForm,
) -> Result<Response, AppError> {
    let o = svc::outlet(state, id).await?;
    let keeper = svc::keeps_outlet(user, &o);
    let goods = svc::goods(state, id)
        .await?
        .into_iter()
        .filter(|g| keeper || g.active)
        .map(|g| GoodsLine { id: g.id, name: g.name, points: g.points, stock: g.stock, active: g.active })
        .collect();
    let my_points = match user.person_id.filter(|_| user.role.holds_timebank_account()) {
        Some(p) => Some(svc::account(state, user, p).await?.points),
        None => None,
    };
    let redemptions = if keeper {
        svc::outlet_redemptions(state, user, id).await?.into_iter().map(Into::into).collect()
    } else {
        Vec::new()
    };
    let layout = Layout::new(session, Some(user), &o.name, "outlets")
        .await?
        .crumb("/", "首页")
        .crumb("/outlets", "爱心超市")
        .crumb("", o.name.clone());
    render(&OutletPage {
        layout,
        flash: take_flash(session).await,
        error,
        id,
        name: o.name,
        address: o.address,
        division_code: o.division_code,
        goods,
        my_points,
        keeper,
        redemptions,
        form,
    })
}

/// `GET /outlets/{id}`: the goods with their point prices and stock.
pub async fn outlet(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    outlet_page(&state, &session, &user, id, None, CounterForm::default()).await
}

/// Back to the outlet page after a goods form: a message, or the page again with the problem.
async fn after_goods(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    outlet_id: i64,
    done: Result<String, AppError>,
    form: CounterForm,
) -> Result<Response, AppError> {
    match done {
        Ok(msg) => {
            set_flash(session, &msg).await;
            Ok(Redirect::to(&format!("/outlets/{outlet_id}")).into_response())
        }
        Err(e) => {
            let (status, m) = shown(e)?;
            Ok(with_status(outlet_page(state, session, user, outlet_id, Some(m), form).await?, status))
        }
    }
}

/// `POST /outlets/{id}/redeem`: redeem points for goods, the holder's own or (with `q`) a
/// person's at the counter.
pub async fn redeem(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<CounterForm>,
) -> Result<Response, AppError> {
    let done = async {
        let goods_id = int_typed("物品", &f.goods_id)?;
        let quantity = if f.quantity.trim().is_empty() { 1 } else { int_typed("数量", &f.quantity)? };
        let g = svc::goods(&state, id).await?.into_iter().find(|g| g.id == goods_id);
        let g = g.ok_or_else(|| AppError::validation("物品", "该物品不在本爱心超市"))?;
        let (person, name) = if f.q.trim().is_empty() {
            (None, None)
        } else {
            user.require(user.role.keeps_timebank())?;
            let h = svc::find_person(&state, &user, "兑换人", &f.q).await?;
            (Some(h.id), Some(h.name))
        };
        svc::redeem(&state, &user, &meta, RedeemInput { goods_id, quantity, person_id: person }).await?;
        Ok(match name {
            Some(n) => format!("{n} 已兑换 {} × {quantity}，扣 {} 积分", g.name, g.points * quantity),
            None => format!("已兑换 {} × {quantity}，扣 {} 积分，请到店领取", g.name, g.points * quantity),
        })
    }
    .await;
    after_goods(&state, &session, &user, id, done, f).await
}

#[derive(Deserialize, Default)]
pub struct GoodsForm {
    #[serde(deserialize_with = "crate::text::line::one", default)]
    name: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    points: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    stock: String,
}

/// `POST /outlets/{id}/goods`: add goods (the outlet's keepers).
pub async fn add_goods(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<GoodsForm>,
) -> Result<Response, AppError> {
    let done = async {
        let input = GoodsInput {
            name: f.name.clone(),
            points: int_typed("所需积分", &f.points)?,
            stock: int_typed("库存", &f.stock)?,
        };
        svc::add_goods(&state, &user, &meta, id, input).await?;
        Ok(format!("已上架：{}", f.name.trim()))
    }
    .await;
    after_goods(&state, &session, &user, id, done, CounterForm::default()).await
}

#[derive(Deserialize, Default)]
pub struct PriceForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    points: String,
}

async fn outlet_of_goods(state: &AppState, goods_id: i64) -> Result<i64, AppError> {
    Ok(svc::one_goods(state, goods_id).await?.outlet_id)
}

/// `POST /goods/{id}/price`: change a good's point price.
pub async fn set_price(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(goods_id): Path<i64>,
    Form(f): Form<PriceForm>,
) -> Result<Response, AppError> {
    let outlet = outlet_of_goods(&state, goods_id).await?;
    let done = async {
        let patch = GoodsPatch { points: Some(int_typed("所需积分", &f.points)?), active: None };
        let g = svc::update_goods(&state, &user, &meta, goods_id, patch).await?;
        Ok(format!("「{}」现需 {} 积分", g.name, g.points))
    }
    .await;
    after_goods(&state, &session, &user, outlet, done, CounterForm::default()).await
}

#[derive(Deserialize, Default)]
pub struct ActiveForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    active: String,
}

/// `POST /goods/{id}/active`: put goods on the shelf (`active=1`) or take them off.
pub async fn set_active(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(goods_id): Path<i64>,
    Form(f): Form<ActiveForm>,
) -> Result<Response, AppError> {
    let outlet = outlet_of_goods(&state, goods_id).await?;
    let active = f.active.trim() == "1";
    let done = async {
        let g = svc::update_goods(&state, &user, &meta, goods_id, GoodsPatch { points: None, active: Some(active) })
            .await?;
        Ok(format!("「{}」已{}", g.name, if g.active { "上架" } else { "下架" }))
    }
    .await;
    after_goods(&state, &session, &user, outlet, done, CounterForm::default()).await
}

#[derive(Deserialize, Default)]
pub struct RestockForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    quantity: String,
    #[serde(deserialize_with = "crate::text::note::one", default)]
    note: String,
}

/// `POST /goods/{id}/restock`: add to the stock (or correct it down).
pub async fn restock(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(goods_id): Path<i64>,
    Form(f): Form<RestockForm>,
) -> Result<Response, AppError> {
    let outlet = outlet_of_goods(&state, goods_id).await?;
    let done = async {
        let input = RestockInput { quantity: int_typed("数量", &f.quantity)?, note: Some(f.note.clone()) };
        let g = svc::restock(&state, &user, &meta, goods_id, input).await?;
        Ok(format!("「{}」库存现为 {} 件", g.name, g.stock))
    }
    .await;
    after_goods(&state, &session, &user, outlet, done, CounterForm::default()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spend_memo_joins_service_and_note() {
        let f =
            |service: &str, memo: &str| SpendForm { service: service.into(), memo: memo.into(), ..Default::default() };
        assert_eq!(f("助浴", "").memo(), "助浴");
        assert_eq!(f("", "修水龙头").memo(), "修水龙头");
        assert_eq!(f("助洁", "擦窗").memo(), "助洁：擦窗");
        assert!(coins_typed("1.5").is_ok() && coins_typed("一个").is_err() && coins_typed("inf").is_err());
    }
}
