//! Per-client rate limits on the endpoints strangers can reach: login, token issue and the
//! public lookups (organizations, certificate verification). A client over its quota gets
//! 429 with `Retry-After`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

/// Limits per client IP, shared by the whole app.
#[derive(Clone)]
pub struct Limits {
    login: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    public: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl Limits {
    /// `login_per_minute` attempts at login and token issue, `public_per_minute` public
    /// lookups, each with a burst of the same size.
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn new(login_per_minute: u32, public_per_minute: u32) -> Limits {
        let q = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("nonzero"));
        Limits {
            login: Arc::new(RateLimiter::keyed(q(login_per_minute))),
            public: Arc::new(RateLimiter::keyed(q(public_per_minute))),
        }
    }

    fn for_request(&self, method: &Method, path: &str) -> Option<&DefaultKeyedRateLimiter<IpAddr>> {
        if (path == "/login" || path == "/api/v1/auth/token") && method == Method::POST {
            Some(&self.login)
        } else if path.starts_with("/api/v1/public/") || path.starts_with("/public/") || path.starts_with("/verify") {
            Some(&self.public)
        } else {
            None
        }
    }
}

pub async fn limit(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    let Some(limiter) = limits.for_request(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    // Without a peer address (in-process calls) all requests share one bucket.
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    match limiter.check_key(&ip) {
        Ok(()) => next.run(req).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1);
            let mut res = AppError::TooManyRequests.into_response();
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                res.headers_mut().insert("retry-after", v);
            }
            res
        }
    }
}
