//! The big-screen check-in QR: the organizer's page and the rotating code htmx polls.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use tower_sessions::Session;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::service::volunteering::{self as svc, ActivityView};
use crate::state::AppState;
use crate::ui::{render, Layout};

use super::local;

#[derive(Template)]
#[template(path = "volunteering/qr.html")]
struct QrPage {
    layout: Layout,
    a: ActivityView,
    fragment: String,
}

#[derive(Template)]
#[template(path = "volunteering/qr_code.html")]
struct QrFragment {
    svg: String,
    code: String,
    url: String,
    valid_until: String,
}

/// The check-in page's address for a code: absolute when the request names its host.
fn checkin_url(headers: &HeaderMap, activity_id: i64, code: &str) -> String {
    let path = format!("/checkin?a={activity_id}&c={code}");
    match crate::ui::request_origin(headers) {
        Some(origin) => format!("{origin}{path}"),
        None => path,
    }
}

/// An SVG QR code of `text` (no XML declaration, so it can sit inside HTML).
fn qr_svg(text: &str) -> Result<String, AppError> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).map_err(AppError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(320, 320)
        .dark_color(qrcode::render::svg::Color("#000"))
        .light_color(qrcode::render::svg::Color("#fff"))
        .build();
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen("<svg ", "<svg role=\"img\" aria-label=\"签到二维码\" ", 1))
}

async fn qr_fragment(state: &AppState, user: &CurrentUser, headers: &HeaderMap, id: i64) -> Result<String, AppError> {
    let (code, valid_until) = svc::checkin_code(state, user, id).await?;
    let url = checkin_url(headers, id, &code);
    QrFragment { svg: qr_svg(&url)?, code, url, valid_until: local(valid_until).format("%H:%M:%S").to_string() }
        .render()
        .map_err(AppError::internal)
}

/// `GET /activities/{id}/qr`: the organizer's screen with the rotating check-in code.
pub async fn qr(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let fragment = qr_fragment(&state, &user, &headers, id).await?;
    let d = svc::activity_detail(&state, Some(&user), id).await?;
    let layout = Layout::new(&session, Some(&user), &format!("签到二维码 - {}", d.activity.title), "activities")
        .await?
        .crumb("/", "首页")
        .crumb("/activities", "志愿活动")
        .crumb(format!("/activities/{id}"), d.activity.title.clone())
        .crumb("", "签到二维码");
    render(&QrPage { layout, a: d.activity, fragment })
}

/// `GET /activities/{id}/qr/code`: the QR and code alone (htmx polls it every 10 s).
pub async fn qr_code(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let html = qr_fragment(&state, &user, &headers, id).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_url_is_absolute_only_for_a_sane_host() {
        let mut h = HeaderMap::new();
        assert_eq!(checkin_url(&h, 7, "123456"), "/checkin?a=7&c=123456");
        h.insert(header::HOST, "wushe.example.cn:8080".parse().unwrap());
        assert_eq!(checkin_url(&h, 7, "123456"), "http://wushe.example.cn:8080/checkin?a=7&c=123456");
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(checkin_url(&h, 7, "1").starts_with("https://"));
        h.insert(header::HOST, "evil\"host".parse().unwrap());
        assert_eq!(checkin_url(&h, 7, "1"), "/checkin?a=7&c=1");
        let svg = qr_svg("http://x/checkin?a=1&c=2").unwrap();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
    }
}
