//! Who is asking: the signed-in user from a session cookie or a Bearer token, the request's
//! origin for the audit log, and the CSRF guard on every unsafe request.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use wushe_domain::accounts::{Role, Scope};
use wushe_store::accounts::audit::Actor;
use wushe_store::accounts::{tokens, users};

use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "wushe_sid";
pub const CSRF_KEY: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

/// What the session remembers of a signed-in user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthSession {
    pub user_id: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = String)]
    pub role: Role,
    pub role_label: &'static str,
    /// Division prefix of the user's scope; empty = the whole deployment.
    pub scope_division: String,
    pub organization_id: Option<i64>,
    /// Name of the scope's region (全国 for the whole deployment).
    pub scope_name: String,
    /// The registry person behind the account (volunteers' own logins).
    pub person_id: Option<i64>,
    #[serde(skip)]
    pub via_token: bool,
}

impl CurrentUser {
    pub fn scope(&self) -> Scope {
        Scope { division: self.scope_division.clone(), organization_id: self.organization_id }
    }

    pub fn from_row(u: users::UserRow, via_token: bool) -> CurrentUser {
        let role = u.role();
        CurrentUser {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role,
            role_label: role.label(),
            scope_name: if u.scope_division.is_empty() { "全国".into() } else { u.scope_division.clone() },
            scope_division: u.scope_division,
            organization_id: u.organization_id,
            person_id: u.person_id,
            via_token,
        }
    }

    /// Whether a region (12-digit code or prefix) lies within the user's scope.
    pub fn covers(&self, division_code: &str) -> bool {
        wushe_domain::accounts::in_scope(&self.scope_division, division_code)
    }

    pub fn require(&self, allowed: bool) -> Result<(), AppError> {
        if allowed {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("您的角色（{}）无权进行此操作", self.role.label())))
        }
    }
}

/// Where a request came from, for the audit log.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl RequestMeta {
    pub fn actor(&self, user: Option<&CurrentUser>) -> Actor {
        Actor {
            user_id: user.map(|u| u.id),
            username: user.map(|u| u.username.clone()),
            role: user.map(|u| u.role.as_str().to_string()),
            ip: self.ip.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip =
            parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
        Ok(RequestMeta { ip, request_id })
    }
}

/// The bearer token a request presents, if its `Authorization` header uses that scheme
/// (case-insensitive, RFC 9110). This one test decides both how the request is authenticated
/// and whether it is exempt from CSRF: a request with a bearer token is authenticated by the
/// token alone (a bad one is 401, never a fall-back to the cookie); any other request that
/// rides on the session cookie needs the CSRF token, whatever else it carries (`Basic …` from
/// a reverse proxy, an empty header). If the two decisions diverged, a cookie-authenticated
/// request could skip the CSRF check.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim_start();
    let (scheme, token) = v.split_once(' ').unwrap_or((v, ""));
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn has_session_cookie(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.split(';').any(|p| p.trim().starts_with(&format!("{SESSION_COOKIE}="))))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(cached) = parts.extensions.get::<CurrentUser>() {
            return Ok(cached.clone());
        }
        let user = if let Some(secret) = bearer(&parts.headers) {
            let key = Signed::Token(tokens::hash_token(secret));
            match state.signed_in.get(&key) {
                Some(user) => user,
                None => {
                    let epoch = users::auth_epoch();
                    let found = users::authenticate(&state.db, users::Credential::Token(secret)).await?;
                    let Some(found) = found else {
                        return Err(AppError::Unauthenticated);
                    };
                    if !found.user.active {
                        return Err(AppError::Forbidden("账户已停用".into()));
                    }
                    state.signed_in.put(key, epoch, found, true)
                }
            }
        } else {
            let session = Session::from_request_parts(parts, state).await.map_err(|(_, m)| AppError::internal(m))?;
            let auth: Option<AuthSession> =
                session.get(wushe_store::accounts::sessions::SESSION_AUTH_KEY).await.map_err(AppError::internal)?;
            let Some(auth) = auth else {
                let fresh = session.get::<String>(CSRF_KEY).await.map_err(AppError::internal)?.is_none();
                return Err(if fresh && has_session_cookie(&parts.headers) {
                    AppError::SessionExpired
                } else {
                    AppError::Unauthenticated
                });
            };
            let key = Signed::Session(auth.user_id);
            match state.signed_in.get(&key) {
                Some(user) => user,
                None => {
                    let epoch = users::auth_epoch();
                    match users::authenticate(&state.db, users::Credential::Session(auth.user_id)).await? {
                        Some(found) if found.user.active => state.signed_in.put(key, epoch, found, false),
                        _ => {
                            session.flush().await.map_err(AppError::internal)?;
                            return Err(AppError::SessionExpired);
                        }
                    }
                }
            }
        };
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// Who presented a credential, as [`SignedInCache`] files it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Signed {
    /// An API token, by its hash (the secret itself is not kept).
    Token(String),
    /// A signed-in session's user.
    Session(i64),
}

/// Users recently found behind a credential, so that a system sending thousands of requests
/// a minute with one token does not ask the database each time who it is (docs/decisions/
/// 0010). An answer is used only while nothing that
/// decides it has changed since it was read (`users::auth_epoch`: an account deactivated or
/// linked to a person, a token revoked, committed by this process), never past its token's
/// expiry, and for a minute at most, which bounds how long an edit made to the database
/// behind the program's back goes unseen. Refusals are not kept.
#[derive(Default)]
pub struct SignedInCache {
    entries: std::sync::Mutex<std::collections::HashMap<Signed, Cached>>,
}

struct Cached {
    user: CurrentUser,
    epoch: u64,
    until: std::time::Instant,
    token_expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl SignedInCache {
    /// How long an answer is kept at most.
    const KEEP: std::time::Duration = std::time::Duration::from_secs(60);
    /// Entries kept at most; beyond, the stale ones go, and if none is stale, all.
    const MAX: usize = 10_000;

    fn entries(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<Signed, Cached>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &Signed) -> Option<CurrentUser> {
        let epoch = users::auth_epoch();
        let entries = self.entries();
        let c = entries.get(key)?;
        let fresh = c.epoch == epoch
            && c.until > std::time::Instant::now()
            && c.token_expires_at.is_none_or(|e| e > wushe_store::time::now());
        fresh.then(|| c.user.clone())
    }

    /// Keep what `users::authenticate` found, read at `epoch`; returns the user.
    fn put(&self, key: Signed, epoch: u64, found: users::Authenticated, via_token: bool) -> CurrentUser {
        let mut user = CurrentUser::from_row(found.user, via_token);
        if let Some(name) = found.scope_name {
            user.scope_name = name;
        }
        let now = std::time::Instant::now();
        let mut entries = self.entries();
        if entries.len() >= Self::MAX {
            entries.retain(|_, c| c.epoch == epoch && c.until > now);
            if entries.len() >= Self::MAX {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Cached { user: user.clone(), epoch, until: now + Self::KEEP, token_expires_at: found.token_expires_at },
        );
        user
    }
}

/// Sign `user_id` in on this session under a new session id (no fixation) and without the
/// old CSRF token; used at login and after a password change.
pub async fn start_session(session: &Session, user_id: i64) -> Result<(), AppError> {
    session.cycle_id().await.map_err(AppError::internal)?;
    session.remove::<String>(CSRF_KEY).await.map_err(AppError::internal)?;
    session
        .insert(wushe_store::accounts::sessions::SESSION_AUTH_KEY, AuthSession { user_id })
        .await
        .map_err(AppError::internal)
}

/// The CSRF token of this session, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, AppError> {
    if let Some(t) = session.get::<String>(CSRF_KEY).await.map_err(AppError::internal)? {
        return Ok(t);
    }
    let t = crate::random_token(24);
    session.insert(CSRF_KEY, &t).await.map_err(AppError::internal)?;
    Ok(t)
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reject unsafe requests that ride on a session cookie without the session's CSRF token
/// (header `X-CSRF-Token`, or form field `_csrf`, which a multipart form sends first).
/// Requests with a bearer token (see [`bearer`]) carry no ambient credential and pass; the
/// login form is always checked (login CSRF).
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    if is_safe(req.method()) {
        return next.run(req).await;
    }
    let is_login = req.uri().path() == "/login";
    if bearer(req.headers()).is_some() || (!is_login && !has_session_cookie(req.headers())) {
        return next.run(req).await;
    }
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return AppError::Csrf.into_response();
    };
    let expected = match session.get::<String>(CSRF_KEY).await {
        Ok(Some(t)) => t,
        _ => return AppError::Csrf.into_response(),
    };
    if let Some(sent) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        if constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            return next.run(req).await;
        }
        return AppError::Csrf.into_response();
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        // Upload forms sent without JavaScript carry the token as their first field.
        return match multipart_token(req).await {
            (Some(t), req) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => next.run(req).await,
            _ => AppError::Csrf.into_response(),
        };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return AppError::Csrf.into_response();
    }
    // Read the form to find the token, then hand the same bytes on to the handler.
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, 2 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return AppError::PayloadTooLarge.into_response(),
    };
    let sent = form_urlencoded_field(&bytes, CSRF_FIELD);
    match sent {
        Some(t) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => {
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        }
        _ => AppError::Csrf.into_response(),
    }
}

fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Most bytes of a multipart body read to find its CSRF field (the first field is small).
const MULTIPART_TOKEN_WINDOW: usize = 64 * 1024;

/// The CSRF field of a multipart form and the request with its body unchanged. The field
/// must come first (browsers send fields in document order, and every upload form starts
/// with it), so only the leading bytes are read: a large upload is neither buffered here
/// nor exempt from the body limits of its route.
async fn multipart_token(req: Request) -> (Option<String>, Request) {
    use http_body_util::BodyExt;

    let (parts, mut body) = req.into_parts();
    let mut head: Vec<u8> = Vec::new();
    let mut token = None;
    if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE) {
        loop {
            let ended = match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        head.extend_from_slice(&data);
                    }
                    false
                }
                Some(Err(_)) => break,
                None => true,
            };
            match first_multipart_field(content_type, &head).await {
                FirstField::Token(t) => {
                    token = Some(t);
                    break;
                }
                FirstField::Other => break,
                FirstField::Incomplete if ended || head.len() > MULTIPART_TOKEN_WINDOW => break,
                FirstField::Incomplete => {}
            }
        }
    }
    let body = Body::new(Prefixed { head: Some(head.into()), rest: body });
    (token, Request::from_parts(parts, body))
}

enum FirstField {
    Token(String),
    /// The first field is something else (or the body is not multipart at all).
    Other,
    /// More bytes are needed.
    Incomplete,
}

/// Parse the first field of a multipart body from its leading bytes.
async fn first_multipart_field(content_type: &axum::http::HeaderValue, head: &[u8]) -> FirstField {
    use axum::extract::{FromRequest, Multipart};

    let Ok(req) = Request::builder().header(header::CONTENT_TYPE, content_type).body(Body::from(head.to_vec())) else {
        return FirstField::Other;
    };
    let Ok(mut mp) = Multipart::from_request(req, &()).await else {
        return FirstField::Other;
    };
    match mp.next_field().await {
        Ok(Some(field)) if field.name() == Some(CSRF_FIELD) => match field.text().await {
            Ok(t) => FirstField::Token(t),
            Err(_) => FirstField::Incomplete,
        },
        Ok(Some(_)) => FirstField::Other,
        Ok(None) | Err(_) => FirstField::Incomplete,
    }
}

/// A body whose leading bytes were already read: those bytes, then the rest as it arrives.
struct Prefixed {
    head: Option<axum::body::Bytes>,
    rest: Body,
}

impl http_body::Body for Prefixed {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if let Some(head) = self.head.take().filter(|h| !h.is_empty()) {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(head))));
        }
        std::pin::Pin::new(&mut self.rest).poll_frame(cx)
    }
}

/// The signed-in user if there is one: for pages and endpoints the public may also use.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(u) => Ok(MaybeUser(Some(u))),
            Err(AppError::Unauthenticated | AppError::SessionExpired) => Ok(MaybeUser(None)),
            Err(e) => Err(e),
        }
    }
}
