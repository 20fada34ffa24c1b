//! The organizer's activity form: the form as typed with its slot rows, its problems per
//! field, and creating the activity from it.

use std::collections::HashMap;

use crate::ui::Form;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use wushe_domain::volunteering::activity::ServiceCategory;

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::volunteering::{self as svc, ActivityInput, SlotInput};
use crate::state::AppState;
use crate::ui::{render, set_flash, Layout};

use super::{category_options, number, parse_local, with_status};

/// Field problems of the activity form (Chinese field names, as the service names them).
#[derive(Default)]
pub struct Problems {
    list: Vec<(String, String)>,
    by_field: HashMap<String, Vec<String>>,
}

impl Problems {
    fn push(&mut self, field: &str, message: String) {
        // the service calls the slot list "slots"
        let field = if field == "slots" { "时段" } else { field };
        self.by_field.entry(field.to_string()).or_default().push(message.clone());
        self.list.push((field.to_string(), message));
    }

    fn take(&mut self, e: AppError) -> Option<AppError> {
        match e {
            AppError::Validation { field, message } => {
                self.push(&field, message);
                None
            }
            e => Some(e),
        }
    }

    fn err(&self, field: &str) -> String {
        self.by_field.get(field).map(|v| v.join("；")).unwrap_or_default()
    }

    fn invalid(&self, field: &str) -> &'static str {
        if self.by_field.contains_key(field) {
            " is-invalid"
        } else {
            ""
        }
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[derive(Default, Clone)]
pub struct SlotForm {
    starts: String,
    ends: String,
    capacity: String,
}

/// The activity form as typed (time slots repeat their field names, one row each).
#[derive(Default)]
pub struct ActivityForm {
    title: String,
    content: String,
    category: String,
    division_code: String,
    address: String,
    latitude: String,
    longitude: String,
    checkin_radius_m: String,
    min_age: String,
    risky: bool,
    timebank: bool,
    auto_approve: bool,
    recruit_until: String,
    organization_id: String,
    slots: Vec<SlotForm>,
    publish: bool,
}

/// Slot rows the form shows at least.
const MIN_SLOT_ROWS: usize = 3;

impl ActivityForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> ActivityForm {
        let mut f = ActivityForm::default();
        let (mut starts, mut ends, mut caps) = (Vec::new(), Vec::new(), Vec::new());
        for (k, v) in pairs {
            match k.as_str() {
                "title" => f.title = v,
                "content" => f.content = v,
                "category" => f.category = v,
                "division_code" => f.division_code = v,
                "address" => f.address = v,
                "latitude" => f.latitude = v,
                "longitude" => f.longitude = v,
                "checkin_radius_m" => f.checkin_radius_m = v,
                "min_age" => f.min_age = v,
                "recruit_until" => f.recruit_until = v,
                "organization_id" => f.organization_id = v,
                "risky" => f.risky = true,
                "timebank" => f.timebank = true,
                "auto_approve" => f.auto_approve = true,
                "publish" => f.publish = true,
                "slot_starts" => starts.push(v),
                "slot_ends" => ends.push(v),
                "slot_capacity" => caps.push(v),
                _ => {}
            }
        }
        let n = starts.len().max(ends.len()).max(caps.len());
        for i in 0..n {
            let get = |v: &Vec<String>| v.get(i).cloned().unwrap_or_default();
            f.slots.push(SlotForm { starts: get(&starts), ends: get(&ends), capacity: get(&caps) });
        }
        f
    }

    /// Pad to the minimum number of rows for display (and drop empty rows beyond it).
    fn padded(mut self) -> ActivityForm {
        self.slots
            .retain(|s| !(s.starts.trim().is_empty() && s.ends.trim().is_empty() && s.capacity.trim().is_empty()));
        while self.slots.len() < MIN_SLOT_ROWS {
            self.slots.push(SlotForm::default());
        }
        self
    }

    /// The service's input, or the problems the form already shows (every one of them).
    fn input(&self, problems: &mut Problems) -> Option<ActivityInput> {
        let mut ok = true;
        let mut take = |r: Result<Option<f64>, AppError>| match r {
            Ok(v) => v,
            Err(e) => {
                ok = false;
                problems.take(e);
                None
            }
        };
        let latitude = take(number("坐标", &self.latitude, "数字（纬度，如 30.55）"));
        let longitude = take(number("坐标", &self.longitude, "数字（经度，如 114.30）"));
        let mut ints = |field: &str, s: &str, what: &str| match number::<i64>(field, s, what) {
            Ok(v) => v,
            Err(e) => {
                ok = false;
                problems.take(e);
                None
            }
        };
        let checkin_radius_m = ints("签到范围", &self.checkin_radius_m, "整数（米）");
        let min_age = ints("最低年龄", &self.min_age, "整数（周岁）");
        let organization_id = ints("举办组织", &self.organization_id, "组织编号（数字）");
        let recruit_until = match parse_local("报名截止", &self.recruit_until) {
            Ok(v) => v,
            Err(e) => {
                ok = false;
                problems.take(e);
                None
            }
        };
        let mut slots = Vec::new();
        for (i, s) in self.slots.iter().enumerate() {
            if s.starts.trim().is_empty() && s.ends.trim().is_empty() && s.capacity.trim().is_empty() {
                continue;
            }
            let row = i + 1;
            let starts = parse_local("时段", &s.starts);
            let ends = parse_local("时段", &s.ends);
            let cap = number::<i64>("时段", &s.capacity, "整数（名额）");
            match (starts, ends, cap) {
                (Ok(Some(st)), Ok(Some(en)), Ok(Some(c))) => {
                    slots.push(SlotInput { starts_at: st, ends_at: en, capacity: c })
                }
                (st, en, c) => {
                    ok = false;
                    let why = [st.err(), en.err(), c.err()]
                        .into_iter()
                        .flatten()
                        .map(|e| match e {
                            AppError::Validation { message, .. } => message,
                            e => e.to_string(),
                        })
                        .next()
                        .unwrap_or_else(|| "开始时间、结束时间和名额都要填写".into());
                    problems.push("时段", format!("第 {row} 行：{why}"));
                }
            }
        }
        if slots.is_empty() && ok {
            problems.push("时段", "至少填写一个时段（开始时间、结束时间和名额）".into());
            ok = false;
        }
        ok.then(|| ActivityInput {
            title: self.title.clone(),
            content: self.content.clone(),
            category: self.category.clone(),
            division_code: self.division_code.clone(),
            address: self.address.clone(),
            latitude,
            longitude,
            checkin_radius_m,
            required_skills: Vec::new(),
            min_age,
            risky: self.risky,
            timebank: self.timebank,
            auto_approve: self.auto_approve,
            recruit_until,
            slots,
            publish: self.publish,
            organization_id,
        })
    }
}

#[derive(Template)]
#[template(path = "volunteering/new.html")]
struct NewPage {
    layout: Layout,
    form: ActivityForm,
    error: Option<String>,
    problems: Problems,
    categories: Vec<(&'static str, &'static str)>,
    /// Administrators name the organization; staff run their own.
    needs_org: bool,
}

async fn new_page(
    session: &Session,
    user: &CurrentUser,
    form: ActivityForm,
    problems: Problems,
    error: Option<String>,
) -> Result<Response, AppError> {
    let layout = Layout::new(session, Some(user), "发布志愿活动", "activities")
        .await?
        .crumb("/", "首页")
        .crumb("/activities", "志愿活动")
        .crumb("", "发布活动");
    render(&NewPage {
        layout,
        form: form.padded(),
        error,
        problems,
        categories: category_options(),
        needs_org: user.organization_id.is_none(),
    })
}

/// `GET /activities/new`
pub async fn new_form(session: Session, user: CurrentUser) -> Result<Response, AppError> {
    user.require(user.role.runs_activities())?;
    let form = ActivityForm {
        division_code: user.scope_division.clone(),
        category: ServiceCategory::Community.as_str().into(),
        auto_approve: true,
        ..Default::default()
    };
    new_page(&session, &user, form, Problems::default(), None).await
}

/// `POST /activities`
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    user.require(user.role.runs_activities())?;
    let f = ActivityForm::from_pairs(pairs);
    let mut problems = Problems::default();
    let Some(input) = f.input(&mut problems) else {
        let res = new_page(&session, &user, f, problems, None).await?;
        return Ok(with_status(res, StatusCode::UNPROCESSABLE_ENTITY));
    };
    let title = input.title.trim().to_string();
    let published = input.publish;
    match svc::create_activity(&state, &user, &meta, input).await {
        Ok(id) => {
            let what = if published { "已发布" } else { "已保存为草稿" };
            set_flash(&session, &format!("{what}：{title}")).await;
            Ok(Redirect::to(&format!("/activities/{id}")).into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            problems.take(e);
            let res = new_page(&session, &user, f, problems, None).await?;
            Ok(with_status(res, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e @ AppError::Conflict(_)) => {
            let (status, m) = (e.status(), e.to_string());
            Ok(with_status(new_page(&session, &user, f, problems, Some(m)).await?, status))
        }
        Err(e) => Err(e),
    }
}
