//! Officials' figures for a region, read from the statistics rollups (and, for coins, the
//! balances of the region's people), with the same figures per direct sub-region.

use serde::Serialize;
use utoipa::ToSchema;
use wushe_domain::stats::metric;
use wushe_domain::volunteering::activity::ServiceCategory;
use wushe_store::regions;
use wushe_store::stats;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Figure {
    pub key: String,
    pub label: String,
    pub value: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolunteeringStats {
    /// Region code prefix ("" = the whole deployment).
    pub region: String,
    pub year: i32,
    /// Confirmed hours, records, check-ins, activities published in the year.
    pub totals: Vec<Figure>,
    /// Confirmed minutes per month (January first).
    pub minutes_by_month: Vec<i64>,
    /// Confirmed minutes per service category in the year.
    pub minutes_by_category: Vec<Figure>,
    /// Confirmed minutes per direct sub-region in the year.
    pub minutes_by_subregion: Vec<Figure>,
    /// Statistics deltas not yet folded in (the figures trail the writes by this much).
    pub pending_deltas: i64,
    /// The region's name.
    pub region_name: String,
    /// Activities published in the year.
    pub activities: i64,
    /// Volunteers registered with their home in the region at the end of the year (today,
    /// for the current year).
    pub registered_volunteers: i64,
    /// Volunteers at home in the region with a confirmed service in force in the year, each
    /// counted once (summed from per-volunteer parts, never from sub-regions' counts).
    pub active_volunteers: i64,
    /// Certificates issued in the year, net of revocations.
    pub certificates: i64,
    /// Volunteers by their highest approved star (1–5) at the end of the year.
    pub stars_by_level: Vec<Figure>,
    /// Time-bank coins held now by people at home in the region, in minutes (60 = 1 coin).
    pub timebank_coin_minutes: i64,
    /// The same in coins, e.g. "12.5".
    pub timebank_coins: String,
    /// The same figures for each direct sub-region (for drilling down).
    pub subregions: Vec<SubregionStats>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubregionStats {
    pub code: String,
    pub name: String,
    pub activities: i64,
    pub registered_volunteers: i64,
    pub active_volunteers: i64,
    pub volunteer_minutes: i64,
    pub service_records: i64,
    pub certificates: i64,
    /// Volunteers holding an approved star (any level) at the end of the year.
    pub star_volunteers: i64,
    pub timebank_coin_minutes: i64,
}

/// Officials' figures for a region in their scope, read from the rollups (and, for coins,
/// from the balances of the region's people).
pub async fn region_stats(
    state: &AppState,
    user: &CurrentUser,
    region: Option<&str>,
    year: Option<i32>,
) -> Result<VolunteeringStats, AppError> {
    user.require(user.role.oversees_volunteering())?;
    let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => crate::service::regions::parse_code("region", r)?.prefix().to_string(),
        None => user.scope_division.clone(),
    };
    if !user.covers(&region) {
        return Err(AppError::Forbidden(format!("区划 {region} 不在您的管辖范围内")));
    }
    let this_year = chrono::Datelike::year(&crate::service::registry::today());
    let year = year.unwrap_or(this_year);
    if !(wushe_domain::stats::FIRST_YEAR..=this_year + 1).contains(&year) {
        return Err(AppError::validation(
            "year",
            format!("年份应在 {}–{} 之间", wushe_domain::stats::FIRST_YEAR, this_year + 1),
        ));
    }
    let db = &state.db;
    let y = wushe_domain::stats::year_key(year);
    let mut totals = Vec::new();
    for (key, label) in [
        (metric::VOLUNTEER_MINUTES, "确认服务时长（分钟）"),
        (metric::SERVICE_RECORDS, "服务记录（条）"),
        (metric::CHECKINS, "签到（人次）"),
        (metric::ACTIVITIES, "发布活动（个）"),
        (metric::CERTIFICATES, "出具证明（份）"),
    ] {
        totals.push(Figure { key: key.into(), label: label.into(), value: stats::value(db, key, &region, &y).await? });
    }
    let total_of = |k: &str| totals.iter().find(|f| f.key == k).map_or(0, |f| f.value);
    let (activities, certificates) = (total_of(metric::ACTIVITIES), total_of(metric::CERTIFICATES));
    let months: Vec<String> = (1..=12).map(|m| wushe_domain::stats::month_key(year, m)).collect();
    let minutes_by_month = stats::series(db, metric::VOLUNTEER_MINUTES, &region, &months).await?;
    let mut minutes_by_category = Vec::new();
    for c in ServiceCategory::ALL {
        let v = stats::value(db, &metric::minutes_in(c.as_str()), &region, &y).await?;
        minutes_by_category.push(Figure { key: c.as_str().into(), label: c.label().into(), value: v });
    }
    let child_len = wushe_domain::stats::LEVEL_LENGTHS.iter().copied().find(|l| *l > region.len());
    let mut minutes_by_subregion = Vec::new();
    if let Some(len) = child_len {
        for (code, v) in stats::children(db, metric::VOLUNTEER_MINUTES, &region, len, &y).await? {
            let label = match wushe_domain::codes::division::DivisionCode::parse(&code) {
                Ok(dc) => regions::get(db, &dc).await?.map_or(code.clone(), |d| d.name),
                Err(_) => code.clone(),
            };
            minutes_by_subregion.push(Figure { key: code, label, value: v });
        }
    }
    let mut stars_by_level = Vec::new();
    for star in 1..=5u8 {
        stars_by_level.push(Figure {
            key: star.to_string(),
            label: format!("{star}星"),
            value: stats::through_year(db, &metric::star_volunteers(star), &region, year).await?,
        });
    }
    let coins = wushe_store::volunteering::counts::coins_outstanding(db, &region).await?;
    Ok(VolunteeringStats {
        region_name: crate::service::spot_checks::region_name(state, &region).await?,
        activities,
        registered_volunteers: stats::through_year(db, metric::REGISTERED_VOLUNTEERS, &region, year).await?,
        active_volunteers: stats::value(db, metric::ACTIVE_VOLUNTEERS, &region, &y).await?,
        certificates,
        stars_by_level,
        timebank_coin_minutes: coins,
        timebank_coins: wushe_domain::timebank::rules::coins_label(coins),
        subregions: subregion_stats(state, &region, year).await?,
        region,
        year,
        totals,
        minutes_by_month,
        minutes_by_category,
        minutes_by_subregion,
        pending_deltas: stats::pending(db).await?,
    })
}

/// Every direct sub-region (from the division table, so regions without figures show as
/// zero), each figure one grouped read over the children.
async fn subregion_stats(state: &AppState, region: &str, year: i32) -> Result<Vec<SubregionStats>, AppError> {
    use std::collections::HashMap;
    let db = &state.db;
    let kids = if region.is_empty() {
        regions::children(db, None).await?
    } else {
        match wushe_domain::codes::division::DivisionCode::parse(region) {
            Ok(code) => regions::children(db, Some(&code)).await?,
            Err(_) => Vec::new(),
        }
    };
    let Some(len) = kids.first().map(|k| k.code.len()) else {
        return Ok(Vec::new());
    };
    let y = wushe_domain::stats::year_key(year);
    let map = |rows: Vec<(String, i64)>| rows.into_iter().collect::<HashMap<String, i64>>();
    let of_year = |m: &'static str| {
        let y = y.clone();
        async move { stats::children(db, m, region, len, &y).await.map(map) }
    };
    let activities = of_year(metric::ACTIVITIES).await?;
    let active = of_year(metric::ACTIVE_VOLUNTEERS).await?;
    let minutes = of_year(metric::VOLUNTEER_MINUTES).await?;
    let records = of_year(metric::SERVICE_RECORDS).await?;
    let certificates = of_year(metric::CERTIFICATES).await?;
    let registered = map(stats::children_through_year(db, metric::REGISTERED_VOLUNTEERS, region, len, year).await?);
    let mut starred: HashMap<String, i64> = HashMap::new();
    for star in 1..=5u8 {
        for (code, v) in stats::children_through_year(db, &metric::star_volunteers(star), region, len, year).await? {
            *starred.entry(code).or_default() += v;
        }
    }
    let coins = map(wushe_store::volunteering::counts::coins_outstanding_by_child(db, region, len).await?);
    let get = |m: &HashMap<String, i64>, k: &str| m.get(k).copied().unwrap_or(0);
    Ok(kids
        .into_iter()
        .map(|k| SubregionStats {
            activities: get(&activities, &k.code),
            registered_volunteers: get(&registered, &k.code),
            active_volunteers: get(&active, &k.code),
            volunteer_minutes: get(&minutes, &k.code),
            service_records: get(&records, &k.code),
            certificates: get(&certificates, &k.code),
            star_volunteers: get(&starred, &k.code),
            timebank_coin_minutes: get(&coins, &k.code),
            code: k.code,
            name: k.name,
        })
        .collect())
}
