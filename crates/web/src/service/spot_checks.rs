//! Spot-checks of hour records (抽查): an official draws a random sample of the confirmed
//! records of a region and period (the seed recorded, so the draw can be repeated), records
//! a finding for each, completes the check with a conclusion and publishes it. Until then
//! only officials whose scope covers the region see it; the published result is public with
//! names masked. Records found untrue or doubtful go to their organization, which corrects
//! them through the correction flow.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wushe_domain::privacy::mask;
use wushe_domain::volunteering::hours;
use wushe_domain::volunteering::spot_check::{self as rules, CheckStatus, Finding, SampleSize, Tally};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::volunteering::spot_checks::{
    self as store, CheckFilter, CheckRow, CheckViewer, FlaggedViewer, ItemRow, NewCheck, NewFinding,
};
use wushe_store::{regions, Page, Paged};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

fn require_supervisor(user: &CurrentUser) -> Result<(), AppError> {
    if user.role.supervises_volunteering() {
        Ok(())
    } else {
        Err(AppError::Forbidden("只有民政部门可以开展志愿服务记录抽查".into()))
    }
}

fn field(e: (&'static str, String)) -> AppError {
    AppError::validation(e.0, e.1)
}

/// The name of a region prefix ("" = 全部区域).
pub async fn region_name(state: &AppState, region: &str) -> Result<String, AppError> {
    if region.is_empty() {
        return Ok("全部区域".into());
    }
    Ok(match wushe_domain::codes::division::DivisionCode::parse(region) {
        Ok(c) => regions::get(&state.db, &c).await?.map_or_else(|| region.to_string(), |d| d.name),
        Err(_) => region.to_string(),
    })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SpotCheckInput {
    /// Region to check (code prefix inside your scope; default: your whole scope).
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[schema(max_length = 50)]
    pub region: Option<String>,
    /// Title (default: region and period).
    #[serde(default, deserialize_with = "crate::text::line::opt")]
    #[schema(max_length = 200)]
    pub title: Option<String>,
    /// First service day checked (YYYY-MM-DD).
    pub period_from: NaiveDate,
    /// Last service day checked (inclusive, not in the future).
    pub period_to: NaiveDate,
    /// Records to sample (1–1000), or
    pub sample_size: Option<u32>,
    /// a percentage of the population (1–100, rounded up, at most 1000 records).
    pub sample_percent: Option<u32>,
    /// Seed of the draw (4–64 visible ASCII characters, e.g. a published lottery number);
    /// default: 16 random bytes in hex. Recorded with the check: the same seed over the same
    /// records draws the same sample.
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[schema(max_length = 50)]
    pub seed: Option<String>,
}

/// Draw the sample and record the check (in progress).
pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: SpotCheckInput,
) -> Result<i64, AppError> {
    require_supervisor(user)?;
    let region = match input.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => {
            let code = crate::service::regions::parse_code("抽查区域", r)?;
            if !user.covers(code.prefix()) {
                return Err(AppError::Forbidden(format!("区划 {} 不在您的管辖范围内", code.prefix())));
            }
            if !regions::exists(&state.db, &code).await? {
                return Err(AppError::validation("抽查区域", format!("区划代码 {} 不存在", code.prefix())));
            }
            code.prefix().to_string()
        }
        None => user.scope_division.clone(),
    };
    let today = crate::service::registry::today();
    rules::check_period(input.period_from, input.period_to, today).map_err(field)?;
    let size = SampleSize::new(input.sample_size, input.sample_percent).map_err(field)?;
    let seed = match input.seed.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            rules::check_seed(s).map_err(field)?;
            s.to_string()
        }
        None => rules::seed_from_bytes(rand::random()),
    };
    let name = region_name(state, &region).await?;
    let title = match input.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if t.chars().count() <= 100 => t.to_string(),
        Some(_) => return Err(AppError::validation("标题", "不能超过 100 个字符")),
        None => format!("{name}{}至{}志愿服务记录抽查", input.period_from, input.period_to),
    };
    let drawn_at = wushe_store::time::now();
    let mut drawing = rules::Drawing::new(&seed, rules::MAX_SAMPLE);
    store::population(&state.db, &region, input.period_from, input.period_to, drawn_at, |id| drawing.push(id)).await?;
    let population = drawing.population();
    if population == 0 {
        return Err(AppError::Conflict(format!(
            "{name}在 {} 至 {} 没有已确认的志愿服务记录，无法抽查",
            input.period_from, input.period_to
        )));
    }
    let (drawn, digest) = drawing.finish(size.of(population));
    let orgs: std::collections::HashMap<i64, i64> =
        store::organizations_of(&state.db, &drawn).await?.into_iter().collect();
    let sample: Vec<(i64, i64)> = drawn.iter().map(|id| (*id, orgs.get(id).copied().unwrap_or_default())).collect();
    let mut tx = state.db.begin().await?;
    let id = store::insert(
        &mut tx,
        &NewCheck {
            region: &region,
            title: &title,
            period_from: input.period_from,
            period_to: input.period_to,
            sample_mode: size.mode(),
            sample_param: i64::from(size.param()),
            seed: &seed,
            population: population as i64,
            population_digest: &digest,
            drawn_at,
            created_by: user.id,
            created_by_name: &user.display_name,
            sample: &sample,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "create",
            entity: "spot_check",
            entity_id: Some(id.to_string()),
            division_code: &region,
            organization_id: None,
            summary: serde_json::json!({ "title": title, "period": [input.period_from, input.period_to],
                "seed": seed, "population": population, "population_digest": digest, "sample": drawn }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

// ---------- views ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct SpotCheckView {
    pub id: i64,
    pub region: String,
    pub region_name: String,
    pub title: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    /// "50 条" or "5%": what was asked for.
    pub sample_rule: String,
    /// Records drawn.
    pub sample_size: i64,
    /// Records in force in the region and period when the sample was drawn.
    pub population: i64,
    /// SHA-256 of the population's record ids in ascending order, comma-separated.
    pub population_digest: String,
    /// Seed of the draw: each record ranks by SHA-256("seed:record id"); the lowest are drawn.
    pub seed: String,
    pub drawn_at: DateTime<Utc>,
    /// in_progress | completed | published
    pub status: String,
    pub status_label: String,
    pub genuine: i64,
    pub untrue: i64,
    pub doubtful: i64,
    pub unchecked: i64,
    pub conclusion: Option<String>,
    pub created_by_name: String,
    pub completed_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
}

async fn view(state: &AppState, c: CheckRow) -> Result<SpotCheckView, AppError> {
    let status = CheckStatus::parse(&c.status).unwrap_or(CheckStatus::InProgress);
    let rule = SampleSize::from_parts(&c.sample_mode, u32::try_from(c.sample_param).unwrap_or(0))
        .map_or_else(String::new, SampleSize::label);
    Ok(SpotCheckView {
        region_name: region_name(state, &c.region).await?,
        id: c.id,
        region: c.region,
        title: c.title,
        period_from: c.period_from,
        period_to: c.period_to,
        sample_rule: rule,
        sample_size: c.sample_size,
        population: c.population,
        population_digest: c.population_digest,
        seed: c.seed,
        drawn_at: c.drawn_at,
        status: c.status,
        status_label: status.label().into(),
        genuine: c.genuine,
        untrue: c.untrue,
        doubtful: c.doubtful,
        unchecked: c.unchecked,
        conclusion: c.conclusion,
        created_by_name: c.created_by_name,
        completed_at: c.completed_at,
        published_at: c.published_at,
    })
}

/// A sampled record as officials see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SampledRecord {
    pub position: i64,
    pub record_id: i64,
    pub record_uid: String,
    pub person_id: i64,
    pub person_name: String,
    pub volunteer_number: String,
    pub organization_id: i64,
    pub organization_name: String,
    pub activity_id: i64,
    pub activity_title: String,
    pub division_code: String,
    pub service_date: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub credited_minutes: i64,
    pub hours: String,
    /// genuine | untrue | doubtful (absent: not checked yet)
    pub finding: Option<String>,
    pub finding_label: Option<String>,
    pub note: Option<String>,
    pub checked_by_name: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
    /// The record has been corrected since (a newer record supersedes it).
    pub superseded: bool,
    /// The record was voided since (作废: superseded with no successor).
    pub voided: bool,
    /// The latest correction request about it: pending | approved | rejected.
    pub correction_status: Option<String>,
}

fn sampled(i: ItemRow) -> SampledRecord {
    let label = i.finding.as_deref().and_then(Finding::parse).map(|f| f.label().to_string());
    SampledRecord {
        position: i.position,
        record_id: i.record_id,
        record_uid: i.record_uid,
        person_id: i.person_id,
        person_name: i.person_name,
        volunteer_number: i.volunteer_number,
        organization_id: i.organization_id,
        organization_name: i.organization_name,
        activity_id: i.activity_id,
        activity_title: i.activity_title,
        division_code: i.division_code,
        service_date: i.service_date,
        started_at: i.started_at,
        ended_at: i.ended_at,
        hours: hours::hours_label(i.credited_minutes),
        credited_minutes: i.credited_minutes,
        finding: i.finding,
        finding_label: label,
        note: i.note,
        checked_by_name: i.checked_by_name,
        checked_at: i.checked_at,
        superseded: i.superseded,
        voided: i.voided,
        correction_status: i.correction_status,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpotCheckDetail {
    pub check: SpotCheckView,
    pub items: Vec<SampledRecord>,
    /// Whether the caller may record findings, complete and publish (officials covering
    /// the region).
    pub may_act: bool,
}

fn viewer(user: &CurrentUser) -> Result<CheckViewer, AppError> {
    require_supervisor(user)?;
    Ok(CheckViewer::Region(user.scope_division.clone()))
}

#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SpotCheckParams {
    /// in_progress | completed | published
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub status: Option<String>,
    /// Checks of this region (or inside it).
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub region: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

impl SpotCheckParams {
    fn filter(&self) -> Result<CheckFilter, AppError> {
        let status = match self.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(
                CheckStatus::parse(s)
                    .ok_or_else(|| AppError::validation("status", format!("未知的抽查状态「{s}」")))?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        let region = match self.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => Some(crate::service::regions::parse_code("region", r)?.prefix().to_string()),
            None => None,
        };
        Ok(CheckFilter { status, region })
    }
}

async fn views(state: &AppState, p: Paged<CheckRow>) -> Result<Paged<SpotCheckView>, AppError> {
    let mut items = Vec::with_capacity(p.items.len());
    for c in p.items {
        items.push(view(state, c).await?);
    }
    Ok(Paged { items, total: p.total, capped: p.capped, page: p.page })
}

/// Checks of regions inside the caller's scope, in any stage.
pub async fn list(state: &AppState, user: &CurrentUser, p: &SpotCheckParams) -> Result<Paged<SpotCheckView>, AppError> {
    let v = viewer(user)?;
    let res = store::list(&state.db, &v, &p.filter()?, &crate::service::page(p.page, p.per_page)?).await?;
    views(state, res).await
}

/// One check with its sample (officials covering its region).
pub async fn detail(state: &AppState, user: &CurrentUser, id: i64) -> Result<SpotCheckDetail, AppError> {
    let v = viewer(user)?;
    let c = store::get(&state.db, &v, id).await.map_err(|e| match e {
        wushe_store::StoreError::NotFound => AppError::NotFound("抽查不存在或不在您的管辖范围内".into()),
        e => e.into(),
    })?;
    let items = store::items(&state.db, id).await?.into_iter().map(sampled).collect();
    Ok(SpotCheckDetail { check: view(state, c).await?, items, may_act: true })
}

/// A check the caller may act on, inside the write transaction.
async fn acting_on(tx: &mut wushe_store::Tx, user: &CurrentUser, id: i64) -> Result<CheckRow, AppError> {
    require_supervisor(user)?;
    let c = store::get_tx(tx, id).await?;
    if !user.covers(&c.region) {
        return Err(AppError::NotFound("抽查不存在或不在您的管辖范围内".into()));
    }
    Ok(c)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FindingInput {
    /// genuine (属实) | untrue (不属实) | doubtful (存疑); the Chinese labels are accepted too.
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub finding: String,
    /// Required for untrue and doubtful: what was found.
    #[serde(default, deserialize_with = "crate::text::note::opt")]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Record (or change) the finding for one sampled record while the check is in progress.
pub async fn set_finding(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    check_id: i64,
    record_id: i64,
    input: FindingInput,
) -> Result<(), AppError> {
    let finding = Finding::parse(&input.finding).ok_or_else(|| {
        AppError::validation("finding", format!("未知的核查结论「{}」，应为属实、不属实或存疑", input.finding))
    })?;
    let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    finding.check_note(note).map_err(field)?;
    let mut tx = state.db.begin().await?;
    let c = acting_on(&mut tx, user, check_id).await?;
    if !CheckStatus::parse(&c.status).is_some_and(CheckStatus::takes_findings) {
        return Err(AppError::Conflict("抽查已完成，核查结论不能再修改".into()));
    }
    store::set_finding(
        &mut tx,
        check_id,
        record_id,
        &NewFinding { finding: finding.as_str(), note, by: user.id, by_name: &user.display_name },
    )
    .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "finding",
            entity: "spot_check",
            entity_id: Some(check_id.to_string()),
            division_code: &c.region,
            organization_id: None,
            summary: serde_json::json!({ "record": record_id, "finding": finding.as_str(), "note": note }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Complete a check: every sampled record has a finding; the conclusion is written.
pub async fn complete(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    id: i64,
    conclusion: &str,
) -> Result<(), AppError> {
    let conclusion = conclusion.trim();
    let mut tx = state.db.begin().await?;
    let c = acting_on(&mut tx, user, id).await?;
    if c.status != CheckStatus::InProgress.as_str() {
        return Err(AppError::Conflict("抽查已完成，不能重复完成".into()));
    }
    let findings = store::findings_tx(&mut tx, id).await?;
    let parsed: Vec<Option<Finding>> = findings.iter().map(|f| f.1.as_deref().and_then(Finding::parse)).collect();
    let tally = Tally::of(parsed.iter().map(Option::as_ref));
    rules::check_completion(&tally, conclusion).map_err(field)?;
    store::complete(&mut tx, id, conclusion, user.id).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "complete",
            entity: "spot_check",
            entity_id: Some(id.to_string()),
            division_code: &c.region,
            organization_id: None,
            summary: serde_json::json!({ "genuine": tally.genuine, "untrue": tally.untrue,
                                         "doubtful": tally.doubtful, "conclusion": conclusion }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Publish a completed check: it appears on the public list.
pub async fn publish(state: &AppState, user: &CurrentUser, meta: &RequestMeta, id: i64) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let c = acting_on(&mut tx, user, id).await?;
    if c.status != CheckStatus::Completed.as_str() {
        return Err(AppError::Conflict(match CheckStatus::parse(&c.status) {
            Some(CheckStatus::Published) => "该抽查结果已公开".into(),
            _ => "请先填写全部核查结论并完成抽查，再公开结果".into(),
        }));
    }
    store::publish(&mut tx, id, user.id).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "publish",
            entity: "spot_check",
            entity_id: Some(id.to_string()),
            division_code: &c.region,
            organization_id: None,
            summary: serde_json::json!({ "title": c.title }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// Records in force in the region and period at the time of the draw, as found now.
    pub population: i64,
    /// The population found now is the one the draw recorded (same fingerprint).
    pub population_matches: bool,
    /// Drawing again with the recorded seed gives the recorded sample, in the same order.
    pub sample_matches: bool,
    /// The records drawn again.
    pub redrawn: Vec<i64>,
}

/// Repeat the draw: the population as of the moment of the draw, ranked by the seed.
pub async fn verify(state: &AppState, user: &CurrentUser, id: i64) -> Result<Verification, AppError> {
    let d = detail(state, user, id).await?;
    let c = &d.check;
    let n = usize::try_from(c.sample_size).unwrap_or(0);
    let mut drawing = rules::Drawing::new(&c.seed, n);
    store::population(&state.db, &c.region, c.period_from, c.period_to, c.drawn_at, |id| drawing.push(id)).await?;
    let population = drawing.population();
    let (redrawn, digest) = drawing.finish(n);
    let recorded: Vec<i64> = d.items.iter().map(|i| i.record_id).collect();
    Ok(Verification {
        population: population as i64,
        population_matches: digest == c.population_digest,
        sample_matches: redrawn == recorded,
        redrawn,
    })
}

// ---------- the public ----------

/// A sampled record as the public sees it: the volunteer's name masked, no identifiers.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicSampledRecord {
    pub position: i64,
    /// 张*
    pub volunteer: String,
    pub organization_name: String,
    pub activity_title: String,
    pub service_date: NaiveDate,
    pub hours: String,
    pub finding_label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicSpotCheck {
    pub id: i64,
    pub region: String,
    pub region_name: String,
    pub title: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub population: i64,
    pub sample_size: i64,
    pub seed: String,
    pub population_digest: String,
    pub genuine: i64,
    pub untrue: i64,
    pub doubtful: i64,
    pub conclusion: String,
    pub published_at: Option<DateTime<Utc>>,
    /// The day of publication (Beijing time).
    pub published_on: Option<NaiveDate>,
}

fn public_view(v: SpotCheckView) -> PublicSpotCheck {
    PublicSpotCheck {
        id: v.id,
        region: v.region,
        region_name: v.region_name,
        title: v.title,
        period_from: v.period_from,
        period_to: v.period_to,
        population: v.population,
        sample_size: v.sample_size,
        seed: v.seed,
        population_digest: v.population_digest,
        genuine: v.genuine,
        untrue: v.untrue,
        doubtful: v.doubtful,
        conclusion: v.conclusion.unwrap_or_default(),
        published_on: v.published_at.map(wushe_domain::time::local_date),
        published_at: v.published_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicSpotCheckDetail {
    pub check: PublicSpotCheck,
    pub items: Vec<PublicSampledRecord>,
}

/// Published checks, newest publication first.
pub async fn public_list(state: &AppState, p: &SpotCheckParams) -> Result<Paged<PublicSpotCheck>, AppError> {
    let mut f = p.filter()?;
    f.status = None;
    let res = store::list(&state.db, &CheckViewer::Public, &f, &crate::service::page(p.page, p.per_page)?).await?;
    let v = views(state, res).await?;
    Ok(Paged { items: v.items.into_iter().map(public_view).collect(), total: v.total, capped: v.capped, page: v.page })
}

/// One published check with its sample, names masked.
pub async fn public_detail(state: &AppState, id: i64) -> Result<PublicSpotCheckDetail, AppError> {
    let c = store::get(&state.db, &CheckViewer::Public, id).await.map_err(|e| match e {
        wushe_store::StoreError::NotFound => AppError::NotFound("抽查结果不存在或尚未公开".into()),
        e => e.into(),
    })?;
    let items = store::items(&state.db, id)
        .await?
        .into_iter()
        .map(|i| PublicSampledRecord {
            position: i.position,
            volunteer: mask::mask_name(&i.person_name),
            organization_name: i.organization_name,
            activity_title: i.activity_title,
            service_date: i.service_date,
            hours: hours::hours_label(i.credited_minutes),
            finding_label: i.finding.as_deref().and_then(Finding::parse).map_or("", |f| f.label()).to_string(),
        })
        .collect();
    Ok(PublicSpotCheckDetail { check: public_view(view(state, c).await?), items })
}

// ---------- the organizations' follow-up ----------

/// A record of the organization found untrue or doubtful, to correct.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlaggedRecord {
    #[serde(flatten)]
    pub record: SampledRecord,
    pub spot_check_id: i64,
    pub check_title: String,
    /// Where to ask for the correction (POST, see `requestCorrection`).
    pub correction_url: String,
}

/// Records found untrue or doubtful in completed checks: an organization's own (its staff),
/// or those of the caller's region (officials).
pub async fn flagged(state: &AppState, user: &CurrentUser, page: &Page) -> Result<Paged<FlaggedRecord>, AppError> {
    let v = match (user.role.runs_activities(), user.organization_id) {
        (true, Some(org)) => FlaggedViewer::Organization(org),
        _ if user.role.supervises_volunteering() => FlaggedViewer::Region(user.scope_division.clone()),
        _ => return Err(AppError::Forbidden("只有举办活动的组织和民政部门可以查看抽查发现的问题".into())),
    };
    let res = store::flagged(&state.db, &v, page).await?;
    Ok(Paged {
        items: res
            .items
            .into_iter()
            .map(|f| FlaggedRecord {
                spot_check_id: f.item.spot_check_id,
                check_title: f.check_title,
                correction_url: format!("/api/v1/service-records/{}/corrections", f.item.record_id),
                record: sampled(f.item),
            })
            .collect(),
        total: res.total,
        capped: res.capped,
        page: res.page,
    })
}
