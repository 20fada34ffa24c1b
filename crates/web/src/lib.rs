//! Wushe's HTTP layer: the JSON API under `/api/v1` (OpenAPI at `/api/openapi.json`, Swagger
//! UI at `/api/docs`) and the server-rendered Chinese UI, over one set of services.

pub mod api;
pub mod assets;
pub mod auth;
pub mod certificate_pdf;
pub mod error;
pub mod export;
pub mod ratelimit;
pub mod service;
pub mod state;
pub mod text;
pub mod ui;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware, Router};
use rand::RngCore;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use utoipa_swagger_ui::SwaggerUi;
use wushe_store::accounts::sessions::DbSessionStore;

pub use state::{AppState, WebConfig};

/// A random URL-safe token of `bytes` random bytes, hex-encoded.
pub fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// The whole application: UI, API, docs, static assets and the middleware around them.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api::router();
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(auth::SESSION_COOKIE)
        .with_secure(state.config.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(state.config.session_idle_minutes)));
    let body_limit = state.config.body_limit;

    let app = Router::new()
        .merge(ui::router())
        .merge(api)
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
        .route("/healthz", get(healthz))
        .route("/static/{hash}/{name}", get(assets::serve))
        .layer(middleware::from_fn(auth::csrf_guard))
        .layer(middleware::from_fn_with_state(state.limits.clone(), ratelimit::limit))
        .layer(sessions)
        // Inner to outer: body limits, timeout, compression, then `outer_layers`.
        // Extractors enforce `body_limit` (imports raise it on their own routes).
        .layer(RequestBodyLimitLayer::new(body_limit.max(service::import::BODY_LIMIT)))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(60)))
        .layer(CompressionLayer::new())
        .with_state(state);
    outer_layers(app)
}

/// The layers every answer passes, outermost last: panics caught and oversized requests
/// refused (inside the error rendering, so both answer with the envelope and the request id),
/// error rendering (needs the request id), tracing, and the request id itself.
pub fn outer_layers(app: Router) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    app.layer(CatchPanicLayer::custom(error::panic_response))
        .layer(middleware::from_fn(error::refuse_oversized))
        .layer(middleware::from_fn(error::render_errors))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(x_request_id.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(TraceLayer::new_for_http()),
        )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    /// A handler that panics answers 500 with the envelope and the request id; the
    /// connection is not just dropped.
    #[tokio::test]
    async fn a_panic_becomes_the_error_envelope() {
        async fn boom() -> &'static str {
            panic!("slice at byte 17")
        }
        let app = super::outer_layers(axum::Router::new().route("/api/v1/boom", axum::routing::get(boom)));
        let res = app.oneshot(Request::get("/api/v1/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let id = res.headers().get("x-request-id").unwrap().to_str().unwrap().to_string();
        let body: serde_json::Value =
            serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["request_id"], id.as_str());
        assert!(!body["error"]["message"].as_str().unwrap().contains("byte 17"), "the cause stays in the log");
    }
}
