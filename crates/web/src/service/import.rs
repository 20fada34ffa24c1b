//! Bulk import from Excel (.xlsx) and CSV for organizations, volunteers, social workers and
//! beneficiaries.
//!
//! Every row is checked first — field rules, duplicates within the file, conflicts with what
//! is already registered — and every problem is reported by row and column. A file with any
//! problem writes nothing; a clean file is written in one transaction. Rows already
//! registered with the same facts are skipped, so importing the same file twice creates no
//! duplicates. Progress is kept per job for the UI's progress bar.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};

use calamine::{Data, Reader};
use serde::Serialize;
use sha2::{Digest, Sha256};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::registry::organizations as orgs;

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::people::{
    self, BeneficiaryInput, Checker, FieldError, PersonInput, Plan, SocialWorkerInput, ValidEntry, VolunteerInput,
};
use crate::service::registry::{self as reg, NewOrgInput, ValidOrg};
use crate::state::AppState;

/// Largest import upload (a 200,000-row .xlsx is about 15 MB).
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;
/// Most rows one import takes.
pub const MAX_ROWS: usize = 200_000;
/// Most problems listed in a report (all are counted).
pub const MAX_REPORTED: usize = 1000;
/// Entries written per step (progress is updated between steps, inside one transaction).
const STEP: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Organizations,
    Volunteers,
    SocialWorkers,
    Beneficiaries,
}

/// A template column: header (also the field name in error messages), whether required,
/// an example value, and a hint.
pub struct Column {
    pub header: &'static str,
    pub required: bool,
    pub example: &'static str,
    pub hint: &'static str,
}

const fn col(header: &'static str, required: bool, example: &'static str, hint: &'static str) -> Column {
    Column { header, required, example, hint }
}

const PERSON: [Column; 5] = [
    col("姓名", true, "张晓明", "2–30 个字"),
    col("身份证号", true, "420106199001011234", "18 位，末位校验码；请以文本格式填写"),
    col("联系电话", true, "13812345678", "手机或带区号的固定电话"),
    col("所在区划", true, "420106001001", "区县或以下的统计用区划代码（6/9/12 位）"),
    col("住址", false, "积玉桥街道和平大道 1 号", ""),
];

/// Only a beneficiary may have no phone (as `people::Checker` checks it; volunteers and social
/// workers must keep one). The template, the UI's `*` and the header check all read `required`.
static BENEFICIARY_PHONE: Column = col("联系电话", false, "13812345678", "手机或带区号的固定电话");

const VOLUNTEER: [Column; 8] = [
    col("技能", false, "助老服务、心理疏导", "多个用顿号分隔，取值见技能字典"),
    col("服务时间", false, "周末上午", ""),
    col("纬度", false, "", "可选，如 30.5560"),
    col("经度", false, "", "可选，如 114.3150"),
    col("监护人姓名", false, "", "未满 18 周岁必填"),
    col("监护人电话", false, "", "未满 18 周岁必填"),
    col("监护人同意日期", false, "", "未满 18 周岁必填，YYYY-MM-DD"),
    col("所属组织", false, "", "组织的统一社会信用代码；组织工作人员导入时固定为本组织"),
];

const SOCIAL_WORKER: [Column; 6] = [
    col("资格等级", true, "社会工作师", "助理社会工作师 / 社会工作师 / 高级社会工作师"),
    col("证书编号", false, "SW2024420106001", ""),
    col("登记日期", true, "2024-05-10", "YYYY-MM-DD，登记有效期 3 年"),
    col("继续教育学时", false, "24", "本登记周期内已完成的学时"),
    col("所在机构", false, "", "机构的统一社会信用代码"),
    col("所在社工站", false, "420106001", "街道或乡镇的区划代码（9 位）"),
];

const BENEFICIARY: [Column; 7] = [
    col(
        "对象类别",
        true,
        "低保、高龄",
        "多个用顿号分隔：低保、特困、低保边缘、困境儿童、留守儿童、留守老人、残疾人、高龄、失能、孤儿、其他",
    ),
    col("监护人姓名", false, "", "未满 18 周岁必填"),
    col("监护关系", false, "", "如 父亲、母亲、祖父母"),
    col("监护人电话", false, "", "未满 18 周岁必填"),
    col("同意人", true, "张晓明", "同意采集信息的本人或监护人"),
    col("同意日期", true, "2026-11-01", "YYYY-MM-DD"),
    col("服务机构", false, "", "机构的统一社会信用代码"),
];

const ORGANIZATION: [Column; 12] = [
    col("组织名称", true, "武昌区阳光社会工作服务中心", ""),
    col("统一社会信用代码", false, "", "18 位，末位校验码"),
    col(
        "组织类型",
        true,
        "社会工作服务机构",
        "慈善组织、社会工作服务机构、志愿服务组织、基金会、社会团体、社会服务机构、社区社会组织等",
    ),
    col("其他类型", false, "", "同时具有的其他类型或认定，用顿号分隔"),
    col("活动区域", true, "420106", "统计用区划代码"),
    col("登记管理机关", true, "武汉市武昌区民政局", ""),
    col("登记日期", true, "2020-06-01", "YYYY-MM-DD"),
    col("法定代表人", false, "", ""),
    col("联系人", false, "", ""),
    col("联系电话", false, "", ""),
    col("地址", false, "", ""),
    col("文号", false, "", "登记文书编号"),
];

impl ImportKind {
    pub const ALL: [ImportKind; 4] =
        [ImportKind::Organizations, ImportKind::Volunteers, ImportKind::SocialWorkers, ImportKind::Beneficiaries];

    pub fn parse(s: &str) -> Option<ImportKind> {
        ImportKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Organizations => "organizations",
            ImportKind::Volunteers => "volunteers",
            ImportKind::SocialWorkers => "social_workers",
            ImportKind::Beneficiaries => "beneficiaries",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ImportKind::Organizations => "社会组织",
            ImportKind::Volunteers => "志愿者",
            ImportKind::SocialWorkers => "社会工作者",
            ImportKind::Beneficiaries => "服务对象",
        }
    }

    pub fn columns(self) -> Vec<&'static Column> {
        let (own, person): (&'static [Column], bool) = match self {
            ImportKind::Organizations => (&ORGANIZATION, false),
            ImportKind::Volunteers => (&VOLUNTEER, true),
            ImportKind::SocialWorkers => (&SOCIAL_WORKER, true),
            ImportKind::Beneficiaries => (&BENEFICIARY, true),
        };
        let mut out: Vec<&'static Column> = Vec::new();
        if person {
            out.extend(PERSON.iter().map(|c| match self {
                ImportKind::Beneficiaries if c.header == BENEFICIARY_PHONE.header => &BENEFICIARY_PHONE,
                _ => c,
            }));
        }
        out.extend(own.iter());
        out
    }

    /// Whether `user` may import this kind (the UI offers only these).
    pub fn allowed(self, user: &CurrentUser) -> bool {
        match self {
            ImportKind::Organizations => user.role.manages_registry(),
            ImportKind::SocialWorkers => user.role.registers_social_workers(),
            ImportKind::Volunteers | ImportKind::Beneficiaries => user.role.works_with_people(),
        }
    }
}

/// The downloadable template: the headers and one hint row per column (required or
/// optional, the rule, an example), which the import recognizes and skips — so a template
/// imported unchanged writes nothing, rather than a made-up example person.
pub fn template(kind: ImportKind) -> crate::export::Table {
    let cols = kind.columns();
    crate::export::Table {
        title: format!("{}导入模板", kind.label()),
        headers: cols.iter().map(|c| c.header).collect(),
        rows: vec![cols
            .iter()
            .map(|c| {
                let mut s = String::from(if c.required { "必填。" } else { "选填。" });
                s.push_str(c.hint);
                if !c.example.is_empty() {
                    s.push_str(&format!("{}例：{}", if c.hint.is_empty() { "" } else { "。" }, c.example));
                }
                s
            })
            .collect()],
    }
}

/// One problem: spreadsheet row number (the header is row 1) and column header.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub kind: String,
    /// Data rows read (empty rows and the hint row of the template are not counted).
    pub rows: usize,
    /// Nothing was written when this is false.
    pub written: bool,
    pub created: usize,
    /// Volunteers already registered who joined the organization.
    pub joined: usize,
    /// Rows already registered with the same facts (re-imports).
    pub skipped: usize,
    pub error_count: usize,
    /// The first problems (up to 1,000), by row.
    pub errors: Vec<RowError>,
    /// SHA-256 of the file, as recorded in the audit log.
    pub file_sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Reading,
    Checking,
    Writing,
    Done,
    Failed,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Reading => "读取文件",
            Phase::Checking => "逐行校验",
            Phase::Writing => "写入数据",
            Phase::Done => "已完成",
            Phase::Failed => "失败",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub phase: Phase,
    pub done: usize,
    pub total: usize,
    /// Set when finished (phase done).
    pub report: Option<ImportReport>,
    /// Set when the import could not run at all (phase failed).
    pub failure: Option<String>,
}

impl Progress {
    pub fn percent(&self) -> u32 {
        // Reading counts as the first 5 %, checking up to 50 %, writing up to 100 %.
        let frac = if self.total == 0 { 0.0 } else { self.done as f64 / self.total as f64 };
        let p = match self.phase {
            Phase::Reading => 2.0,
            Phase::Checking => 5.0 + 45.0 * frac,
            Phase::Writing => 50.0 + 50.0 * frac,
            Phase::Done | Phase::Failed => 100.0,
        };
        p.clamp(0.0, 100.0) as u32
    }
}

/// A running or finished import, visible to the user who started it.
pub struct Job {
    pub user_id: i64,
    pub kind: ImportKind,
    pub file_name: String,
    pub progress: Mutex<Progress>,
}

impl Job {
    fn set(&self, phase: Phase, done: usize, total: usize) {
        // A thread that panicked holding the lock left whole numbers behind: keep reporting.
        let mut p = self.progress.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        p.phase = phase;
        p.done = done;
        p.total = total;
    }

    pub fn snapshot(&self) -> Progress {
        self.progress.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// Imports by id. Finished jobs are kept (small: a report lists at most 1,000 problems)
/// until the map holds more than 200, then the oldest finished ones go.
#[derive(Clone, Default)]
pub struct Jobs(Arc<Mutex<Vec<JobEntry>>>);

type JobEntry = (String, Arc<Job>);

impl Jobs {
    fn insert(&self, id: String, job: Arc<Job>) {
        let mut v = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if v.len() >= 200 {
            if let Some(pos) = v.iter().position(|(_, j)| matches!(j.snapshot().phase, Phase::Done | Phase::Failed)) {
                v.remove(pos);
            }
        }
        v.push((id, job));
    }

    /// The job, if it belongs to `user_id`.
    pub fn get(&self, id: &str, user_id: i64) -> Option<Arc<Job>> {
        let v = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        v.iter().find(|(k, j)| k == id && j.user_id == user_id).map(|(_, j)| j.clone())
    }
}

/// Start an import in the background; returns the job id to poll.
pub fn start(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    kind: ImportKind,
    file_name: String,
    bytes: Vec<u8>,
) -> Result<String, AppError> {
    user.require(kind.allowed(user))?;
    let id = crate::random_token(12);
    let job = Arc::new(Job {
        user_id: user.id,
        kind,
        file_name,
        progress: Mutex::new(Progress { phase: Phase::Reading, done: 0, total: 0, report: None, failure: None }),
    });
    state.imports.insert(id.clone(), job.clone());
    let (state, user, meta) = (state.clone(), user.clone(), meta.clone());
    tokio::spawn(async move {
        let res = run(&state, &user, &meta, kind, &bytes, Some(&job)).await;
        let mut p = job.progress.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match res {
            Ok(r) => {
                p.phase = Phase::Done;
                p.report = Some(r);
            }
            Err(e) => {
                if let AppError::Internal(m) = &e {
                    tracing::error!(error = %m, "import failed");
                }
                p.phase = Phase::Failed;
                p.failure = Some(e.to_string());
            }
        }
    });
    Ok(id)
}

/// Run an import to the end (the API calls this directly; the UI through [`start`]).
pub async fn run(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    kind: ImportKind,
    bytes: &[u8],
    job: Option<&Job>,
) -> Result<ImportReport, AppError> {
    user.require(kind.allowed(user))?;
    let progress = |phase, done, total| {
        if let Some(j) = job {
            j.set(phase, done, total);
        }
    };
    let sha = hex::encode(Sha256::digest(bytes));
    let table = read_table(bytes)?;
    let rows = map_rows(kind, table)?;
    let total = rows.len();
    let mut report =
        ImportReport { kind: kind.as_str().into(), rows: total, file_sha256: sha.clone(), ..Default::default() };
    let mut errors: Vec<RowError> = Vec::new();
    progress(Phase::Checking, 0, total);

    let outcome = if kind == ImportKind::Organizations {
        import_orgs(state, user, meta, rows, &mut errors, &progress).await?
    } else {
        import_people(state, user, kind, rows, &mut errors, &progress).await?
    };
    report.error_count = errors.len();
    errors.sort_by_key(|e| e.row);
    errors.truncate(MAX_REPORTED);
    report.errors = errors;
    if let Some((mut tx, created, joined, skipped)) = outcome {
        audit::append(
            &mut tx,
            &meta.actor(Some(user)),
            &Event {
                action: "import",
                entity: kind.as_str(),
                entity_id: None,
                division_code: &user.scope_division,
                organization_id: user.organization_id,
                summary: serde_json::json!({"rows": total, "created": created, "joined": joined, "skipped": skipped,
                    "file_sha256": sha}),
            },
        )
        .await?;
        tx.commit().await?;
        report.written = true;
        report.created = created;
        report.joined = joined;
        report.skipped = skipped;
    }
    progress(Phase::Done, total, total);
    Ok(report)
}

type Outcome = Option<(wushe_store::Tx, usize, usize, usize)>;

/// One data row: its spreadsheet row number and cells by header.
struct Row {
    number: usize,
    cells: HashMap<&'static str, String>,
}

impl Row {
    fn get(&self, h: &str) -> String {
        self.cells.get(h).cloned().unwrap_or_default()
    }

    fn opt(&self, h: &str) -> Option<String> {
        self.cells.get(h).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    }
}

/// Read the first sheet of an .xlsx file, or a UTF-8 CSV file, as rows of text.
fn read_table(bytes: &[u8]) -> Result<Vec<Vec<String>>, AppError> {
    if bytes.is_empty() {
        return Err(AppError::validation("文件", "文件为空"));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let mut wb = calamine::Xlsx::new(Cursor::new(bytes))
            .map_err(|e| AppError::validation("文件", format!("无法读取 Excel 文件：{e}")))?;
        let range = wb
            .worksheet_range_at(0)
            .ok_or_else(|| AppError::validation("文件", "Excel 文件中没有工作表"))?
            .map_err(|e| AppError::validation("文件", format!("无法读取工作表：{e}")))?;
        Ok(range.rows().map(|r| r.iter().map(cell_text).collect()).collect())
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Err(AppError::validation("文件", "不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后导入"))
    } else {
        let text = std::str::from_utf8(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes)).map_err(|_| {
            AppError::validation(
                "文件",
                "CSV 文件须为 UTF-8 编码（Excel 中选择「CSV UTF-8（逗号分隔）」另存），或直接上传 .xlsx",
            )
        })?;
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        let mut out = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| AppError::validation("文件", format!("CSV 格式错误：{e}")))?;
            out.push(rec.iter().map(str::to_string).collect());
        }
        Ok(out)
    }
}

/// Cell text as a person typed it: whole numbers without `.0`, dates as YYYY-MM-DD.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        // 18-digit ID numbers typed as numbers have lost their last digits: the check-digit
        // rule then names the problem.
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) => t.date().format("%Y-%m-%d").to_string(),
            None => dt.to_string(),
        },
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn map_rows(kind: ImportKind, table: Vec<Vec<String>>) -> Result<Vec<Row>, AppError> {
    let cols = kind.columns();
    let mut it = table.into_iter().enumerate();
    let header = loop {
        match it.next() {
            None => return Err(AppError::validation("文件", "文件中没有表头，请使用下载的导入模板")),
            Some((_, r)) if r.iter().all(|c| c.trim().is_empty()) => continue,
            Some((_, r)) => break r,
        }
    };
    let mut index: Vec<(usize, &'static str)> = Vec::new();
    let mut unknown = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().trim_start_matches('*').trim_start_matches('＊').trim();
        if h.is_empty() {
            continue;
        }
        match cols.iter().find(|c| c.header == h) {
            Some(c) => index.push((i, c.header)),
            None => unknown.push(h.to_string()),
        }
    }
    if !unknown.is_empty() {
        return Err(AppError::validation(
            "表头",
            format!("不认识的列「{}」，请使用下载的{}导入模板", unknown.join("」「"), kind.label()),
        ));
    }
    let missing: Vec<&str> =
        cols.iter().filter(|c| c.required && !index.iter().any(|(_, h)| *h == c.header)).map(|c| c.header).collect();
    if !missing.is_empty() {
        return Err(AppError::validation("表头", format!("缺少必填列「{}」", missing.join("」「"))));
    }
    let mut rows = Vec::new();
    for (i, r) in it {
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        // The template's hint row.
        if r.iter().any(|c| c.starts_with("必填。") || c.starts_with("选填。")) {
            continue;
        }
        let cells = index.iter().map(|(ci, h)| (*h, r.get(*ci).cloned().unwrap_or_default())).collect();
        rows.push(Row { number: i + 1, cells });
        if rows.len() > MAX_ROWS {
            return Err(AppError::validation("文件", format!("单个文件最多导入 {MAX_ROWS} 行，请拆分后导入")));
        }
    }
    if rows.is_empty() {
        return Err(AppError::validation("文件", "文件中没有数据行"));
    }
    Ok(rows)
}

/// Organization ids by credit code, for the "所属组织 / 所在机构 / 服务机构" columns, inside
/// the importer's scope.
struct OrgCodes<'a> {
    state: &'a AppState,
    user: &'a CurrentUser,
    cache: HashMap<String, Option<i64>>,
}

impl OrgCodes<'_> {
    async fn resolve(&mut self, row: &Row, header: &str, errors: &mut Vec<RowError>) -> Result<Option<i64>, AppError> {
        let Some(code) = row.opt(header).map(|c| c.to_ascii_uppercase()) else {
            return Ok(None);
        };
        if self.user.organization_id.is_some() {
            return Ok(None);
        }
        if !self.cache.contains_key(&code) {
            let f = orgs::OrgFilter { q: Some(code.clone()), ..Default::default() };
            let found = orgs::select_all(&self.state.db, &self.user.scope(), &f, 2).await?;
            let id = found.into_iter().find(|o| o.credit_code.as_deref() == Some(code.as_str())).map(|o| o.id);
            self.cache.insert(code.clone(), id);
        }
        let id = self.cache[&code];
        if id.is_none() {
            errors.push(RowError {
                row: row.number,
                column: header.into(),
                message: format!("统一社会信用代码 {code} 对应的组织未登记或不在您的管辖范围内"),
            });
        }
        Ok(id)
    }
}

fn person_input(r: &Row) -> PersonInput {
    PersonInput {
        name: r.get("姓名"),
        citizen_id: r.get("身份证号"),
        phone: r.opt("联系电话"),
        division_code: r.get("所在区划"),
        address: r.opt("住址"),
    }
}

/// The column a field error belongs to (the location spans two columns).
fn field_column(field: &str) -> String {
    if field == "位置" {
        "纬度".into()
    } else {
        field.into()
    }
}

async fn import_people(
    state: &AppState,
    user: &CurrentUser,
    kind: ImportKind,
    rows: Vec<Row>,
    errors: &mut Vec<RowError>,
    progress: &(dyn Fn(Phase, usize, usize) + Sync),
) -> Result<Outcome, AppError> {
    let total = rows.len();
    let mut checker = Checker::new(state, user);
    let mut codes = OrgCodes { state, user, cache: HashMap::new() };
    let mut entries: Vec<(usize, ValidEntry)> = Vec::with_capacity(total);
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(total);
    for (i, r) in rows.iter().enumerate() {
        let before = errors.len();
        let res = match kind {
            ImportKind::Volunteers => {
                let org = codes.resolve(r, "所属组织", errors).await?;
                let num = |h: &str| -> Result<Option<f64>, ()> {
                    r.opt(h).map(|v| v.parse::<f64>().map_err(|_| ())).transpose()
                };
                let (lat, lng) = match (num("纬度"), num("经度")) {
                    (Ok(a), Ok(b)) => (a, b),
                    _ => {
                        errors.push(RowError {
                            row: r.number,
                            column: "纬度".into(),
                            message: "经纬度应为数字".into(),
                        });
                        (None, None)
                    }
                };
                let input = VolunteerInput {
                    person: person_input(r),
                    skills: r.opt("技能").into_iter().collect(),
                    availability: r.opt("服务时间"),
                    latitude: lat,
                    longitude: lng,
                    guardian_name: r.opt("监护人姓名"),
                    guardian_phone: r.opt("监护人电话"),
                    guardian_consent_on: r.opt("监护人同意日期"),
                    organization_id: org,
                };
                checker.volunteer(&input).await?
            }
            ImportKind::SocialWorkers => {
                let org = codes.resolve(r, "所在机构", errors).await?;
                let ce = match r.opt("继续教育学时").map(|v| v.parse::<i64>()) {
                    None => Ok(None),
                    Some(Ok(h)) => Ok(Some(h)),
                    Some(Err(_)) => Err(()),
                };
                if ce.is_err() {
                    errors.push(RowError {
                        row: r.number, column: "继续教育学时".into(), message: "应为整数".into()
                    });
                }
                let input = SocialWorkerInput {
                    person: person_input(r),
                    credential_level: r.get("资格等级"),
                    certificate_number: r.opt("证书编号"),
                    registered_on: r.get("登记日期"),
                    ce_hours: ce.unwrap_or(None),
                    employer_org_id: org,
                    station_code: r.opt("所在社工站"),
                };
                checker.social_worker(&input).await?
            }
            ImportKind::Beneficiaries => {
                let org = codes.resolve(r, "服务机构", errors).await?;
                let input = BeneficiaryInput {
                    person: person_input(r),
                    categories: r.opt("对象类别").into_iter().collect(),
                    guardian_name: r.opt("监护人姓名"),
                    guardian_relation: r.opt("监护关系"),
                    guardian_phone: r.opt("监护人电话"),
                    consent_given_by: r.get("同意人"),
                    consent_on: r.get("同意日期"),
                    serving_org_id: org,
                };
                checker.beneficiary(&input).await?
            }
            ImportKind::Organizations => unreachable!("organizations are imported by import_orgs"),
        };
        match res {
            Ok(entry) if errors.len() == before => {
                let key = entry.person.id.as_str().to_string();
                if let Some(first) = seen.get(&key) {
                    errors.push(RowError {
                        row: r.number,
                        column: "身份证号".into(),
                        message: format!("与第 {first} 行的身份证号重复"),
                    });
                } else {
                    seen.insert(key, r.number);
                    entries.push((r.number, entry));
                }
            }
            Ok(_) => {}
            Err(field_errors) => errors.extend(field_errors.into_iter().map(|FieldError { field, message }| {
                RowError { row: r.number, column: field_column(&field), message }
            })),
        }
        if i % 1000 == 0 {
            progress(Phase::Checking, i, total);
        }
    }
    progress(Phase::Checking, total, total);

    let mut tx = state.db.begin_bulk().await?;
    let valid: Vec<ValidEntry> = entries.iter().map(|(_, e)| e.clone()).collect();
    let plans = people::plan(&mut tx, state, user, &valid).await?;
    for ((row, _), p) in entries.iter().zip(&plans) {
        if let Plan::Conflict(c) = p {
            errors.push(RowError { row: *row, column: c.field.clone(), message: c.message.clone() });
        }
    }
    if !errors.is_empty() {
        tx.rollback().await?;
        return Ok(None);
    }
    let (mut created, mut joined, mut skipped) = (0, 0, 0);
    for (i, (chunk, plan_chunk)) in valid.chunks(STEP).zip(plans.chunks(STEP)).enumerate() {
        progress(Phase::Writing, i * STEP, total);
        let w = people::apply(&mut tx, state, user, chunk, plan_chunk).await?;
        created += w.created.len();
        joined += w.joined;
        skipped += w.skipped;
    }
    progress(Phase::Writing, total, total);
    Ok(Some((tx, created, joined, skipped)))
}

async fn import_orgs(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    rows: Vec<Row>,
    errors: &mut Vec<RowError>,
    progress: &(dyn Fn(Phase, usize, usize) + Sync),
) -> Result<Outcome, AppError> {
    let total = rows.len();
    let mut valid: Vec<(usize, ValidOrg)> = Vec::with_capacity(total);
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let input = NewOrgInput {
            name: r.get("组织名称"),
            credit_code: r.opt("统一社会信用代码"),
            org_type: r.get("组织类型"),
            other_types: r
                .opt("其他类型")
                .map(|s| {
                    s.split(['、', ',', '，', ';', '；'])
                        .map(|t| t.trim().to_string())
                        .filter(|t| !t.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            division_code: r.get("活动区域"),
            registration_authority: r.get("登记管理机关"),
            registered_on: r.get("登记日期"),
            legal_representative: r.opt("法定代表人"),
            contact_person: r.opt("联系人"),
            contact_phone: r.opt("联系电话"),
            address: r.opt("地址"),
            document_number: r.opt("文号"),
        };
        match reg::validate_new_org(state, user, input).await {
            Ok(v) => {
                let key = match &v.credit_code {
                    Some(c) => c.as_str().to_string(),
                    None => format!("{}@{}", wushe_domain::registry::search::fold(&v.name), v.code.full()),
                };
                if let Some(first) = seen.get(&key) {
                    errors.push(RowError {
                        row: r.number,
                        column: if v.credit_code.is_some() { "统一社会信用代码" } else { "组织名称" }.into(),
                        message: format!("与第 {first} 行重复"),
                    });
                } else {
                    seen.insert(key, r.number);
                    valid.push((r.number, v));
                }
            }
            Err(AppError::Validation { field, message }) => {
                errors.push(RowError { row: r.number, column: field, message })
            }
            Err(AppError::Forbidden(message)) => {
                errors.push(RowError { row: r.number, column: "活动区域".into(), message })
            }
            Err(e) => return Err(e),
        }
        if i % 500 == 0 {
            progress(Phase::Checking, i, total);
        }
    }
    let mut tx = state.db.begin_bulk().await?;
    let existing = orgs::existing_for_import(
        &mut tx,
        &valid.iter().filter_map(|(_, v)| v.credit_code.as_ref().map(|c| c.as_str().to_string())).collect::<Vec<_>>(),
        &valid.iter().filter(|(_, v)| v.credit_code.is_none()).map(|(_, v)| v.name.clone()).collect::<Vec<_>>(),
    )
    .await?;
    let mut to_write = Vec::new();
    let mut skipped = 0;
    for (row, v) in valid {
        let hit = match &v.credit_code {
            Some(c) => existing.iter().find(|e| e.credit_code.as_deref() == Some(c.as_str())),
            None => existing
                .iter()
                .find(|e| e.credit_code.is_none() && e.name == v.name && e.division_code == v.code.full()),
        };
        match hit {
            Some(e) if e.name == v.name => skipped += 1,
            Some(e) => errors.push(RowError {
                row,
                column: "统一社会信用代码".into(),
                message: format!("该代码已登记为「{}」，与本行名称不一致", e.name),
            }),
            None => to_write.push(v),
        }
    }
    if !errors.is_empty() {
        tx.rollback().await?;
        return Ok(None);
    }
    let actor = meta.actor(Some(user));
    let n = to_write.len();
    for (i, v) in to_write.iter().enumerate() {
        reg::write_new_org(&mut tx, &actor, Some(user.id), v).await?;
        if i % 200 == 0 {
            progress(Phase::Writing, i, n);
        }
    }
    Ok(Some((tx, n, 0, skipped)))
}
