//! One error type for the web layer, rendered two ways: a JSON envelope under `/api`, an HTML
//! page (or an htmx fragment) everywhere else. Handlers return `AppError`; the
//! [`render_errors`] middleware picks the rendering from the request.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use wushe_store::error::{ConstraintKind, Violation};
use wushe_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A field failed a rule: names the field and the rule.
    #[error("{field}：{message}")]
    Validation { field: String, message: String },
    #[error("{0}")]
    BadRequest(String),
    /// A body that is JSON but not of the request's shape: names the JSON field (400, like
    /// any request the server cannot read; a rule of the service is `Validation`, 422).
    #[error("JSON 字段不符合要求：{field}：{message}")]
    Malformed { field: String, message: String },
    #[error("请先登录")]
    Unauthenticated,
    #[error("登录已过期，请重新登录")]
    SessionExpired,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Locked(String),
    #[error("页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试")]
    Csrf,
    #[error("请求体过大")]
    PayloadTooLarge,
    #[error("请求地址过长（不能超过 {0} 字节）")]
    UriTooLong(usize),
    #[error("请求头过大（不能超过 {0} 个、共 {1} 字节）")]
    HeadersTooLarge(usize, usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("请求过于频繁，请稍后再试")]
    TooManyRequests,
    /// The write could not be completed now (the writer is stopping or the database
    /// refused the batch); nothing was acknowledged, so retrying is safe.
    #[error("{0}")]
    Unavailable(String),
    /// The cause is logged with the request id; the user sees only the request id.
    #[error("服务器内部错误")]
    Internal(String),
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Validation { field: field.into(), message: message.into() }
    }

    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(e.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) | AppError::Malformed { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated | AppError::SessionExpired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Locked(_) => StatusCode::LOCKED,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            AppError::HeadersTooLarge(..) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation { .. } => "validation_failed",
            AppError::BadRequest(_) | AppError::Malformed { .. } => "bad_request",
            AppError::Unauthenticated => "unauthenticated",
            AppError::SessionExpired => "session_expired",
            AppError::Forbidden(_) => "forbidden",
            AppError::Csrf => "csrf_failed",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Locked(_) => "locked",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UriTooLong(_) => "uri_too_long",
            AppError::HeadersTooLarge(..) => "headers_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::TooManyRequests => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            AppError::Validation { field, .. } | AppError::Malformed { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if let Some(v) = e.violation() {
            return constraint_refusal(v);
        }
        match e {
            StoreError::NotFound => AppError::NotFound("记录不存在或不在您的管辖范围内".into()),
            StoreError::Conflict(m) => AppError::Conflict(m),
            e @ StoreError::Unavailable(_) => AppError::Unavailable(format!("{e}，请稍后重试")),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// A constraint the database enforced, as a client error. The services check first and word
/// the refusal themselves; this is the last guard, so that a check they missed is still a
/// 4xx naming what it can, never a 500.
fn constraint_refusal(v: Violation) -> AppError {
    match v.kind {
        ConstraintKind::ForeignKey => {
            AppError::validation(v.column.unwrap_or_else(|| "关联记录".into()), "引用的记录不存在（或已被删除）")
        }
        ConstraintKind::Unique => AppError::Conflict(match v.column {
            Some(c) => format!("{c}：已有相同的记录"),
            None => "已有相同的记录".into(),
        }),
        ConstraintKind::NotNull => AppError::validation(v.column.unwrap_or_else(|| "必填字段".into()), "不能为空"),
        ConstraintKind::Check => AppError::validation(v.column.unwrap_or_else(|| "字段".into()), "不符合取值规则"),
    }
}

/// The JSON error envelope of the API (also in the OpenAPI spec).
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code, e.g. `validation_failed`.
    pub code: String,
    /// Message for people, in Chinese.
    pub message: String,
    /// The field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Quote this id when reporting a problem.
    pub request_id: String,
}

/// Carried in the response extensions until [`render_errors`] renders it.
#[derive(Clone, Debug)]
struct PendingError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let pending = PendingError {
            status: self.status(),
            code: self.code(),
            message: self.to_string(),
            field: self.field().map(str::to_string),
        };
        let mut res = self.status().into_response();
        res.extensions_mut().insert(pending);
        res
    }
}

/// Longest request target answered; longer is 414. Headers: at most this many and this many
/// bytes, else 431. All three lie below hyper's own limits (a 64 KiB URI, 100 headers,
/// ~400 KB of head), so the refusal is ours and carries the envelope; only a request past
/// hyper's limits gets hyper's bare answer.
pub const MAX_URI_BYTES: usize = 8 * 1024;
pub const MAX_HEADERS: usize = 64;
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Refuse a request whose target or headers are too large, before anything reads them.
pub async fn refuse_oversized(req: Request, next: Next) -> Response {
    if req.uri().to_string().len() > MAX_URI_BYTES {
        return AppError::UriTooLong(MAX_URI_BYTES).into_response();
    }
    let bytes: usize = req.headers().iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
    if req.headers().len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return AppError::HeadersTooLarge(MAX_HEADERS, MAX_HEADER_BYTES).into_response();
    }
    next.run(req).await
}

/// A handler that panicked: the cause is logged and the client gets the 500 envelope (with
/// the request id, added by [`render_errors`]) instead of a dropped connection.
pub fn panic_response(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let cause = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    AppError::Internal(format!("panic: {cause}")).into_response()
}

/// Messages for errors raised outside our handlers (router, extractors, layers).
fn default_error(status: StatusCode) -> Option<(&'static str, &'static str)> {
    Some(match status {
        StatusCode::NOT_FOUND => ("not_found", "页面或资源不存在"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "不支持该请求方法"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "请求体过大"),
        StatusCode::URI_TOO_LONG => ("uri_too_long", "请求地址过长"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ("headers_too_large", "请求头过大"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "请求内容类型不受支持"),
        StatusCode::BAD_REQUEST => ("bad_request", "请求格式错误"),
        StatusCode::UNPROCESSABLE_ENTITY => ("validation_failed", "请求内容无法处理"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "请求超时"),
        StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "请求过于频繁，请稍后再试"),
        StatusCode::INTERNAL_SERVER_ERROR => ("internal", "服务器内部错误"),
        _ => return None,
    })
}

pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Render every error response of the app: JSON under `/api`, HTML elsewhere; htmx requests
/// get a small fragment (with `HX-Retarget` to the page's message area).
pub async fn render_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let htmx = req.headers().contains_key("hx-request");
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let pending = match res.extensions().get::<PendingError>() {
        Some(p) => p.clone(),
        None => {
            // A page or JSON a handler rendered on purpose (a form shown again with its
            // error) stays; plain-text bodies from axum rejections and layers get ours.
            let ct = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            if ct.starts_with("text/html") || ct.starts_with("application/json") {
                return res;
            }
            let Some((code, message)) = default_error(status) else { return res };
            PendingError { status, code, message: message.to_string(), field: None }
        }
    };
    let mut headers = res.headers().clone();
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::CONTENT_TYPE);
    let mut out = if is_api_path(&path) {
        let body = ErrorBody {
            error: ErrorDetail {
                code: pending.code.to_string(),
                message: pending.message.clone(),
                field: pending.field.clone(),
                request_id: request_id.clone(),
            },
        };
        (pending.status, axum::Json(body)).into_response()
    } else if htmx {
        let html = format!(
            "<div class=\"alert alert-danger\" role=\"alert\">{}<small class=\"d-block text-muted\">请求编号：{}</small></div>",
            crate::ui::escape(&pending.message),
            crate::ui::escape(&request_id)
        );
        let mut r = (pending.status, Html(html)).into_response();
        r.headers_mut().insert("hx-retarget", HeaderValue::from_static("#messages"));
        r.headers_mut().insert("hx-reswap", HeaderValue::from_static("innerHTML"));
        r
    } else if pending.code == "unauthenticated" || pending.code == "session_expired" {
        let to = format!("/login?next={}&reason={}", crate::ui::url_encode(&path), pending.code);
        axum::response::Redirect::to(&to).into_response()
    } else {
        crate::ui::error_page(pending.status, &pending.message, &request_id)
    };
    for (k, v) in headers.iter() {
        if k == header::SET_COOKIE || k.as_str().starts_with("x-") || k == header::RETRY_AFTER {
            out.headers_mut().append(k, v.clone());
        }
    }
    out
}
