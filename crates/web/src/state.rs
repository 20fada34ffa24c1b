use std::sync::Arc;

use wushe_store::crypto::KeyRing;
use wushe_store::Db;

/// Settings of the web layer, from the app's configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Idle minutes before a session expires.
    pub session_idle_minutes: i64,
    /// Largest accepted request body, bytes.
    pub body_limit: usize,
    /// Login and token attempts per client IP per minute.
    pub login_per_minute: u32,
    /// Public lookups per client IP per minute.
    pub public_per_minute: u32,
    /// The site's public address (`https://wushe.example.gov.cn`), printed in certificates'
    /// QR codes; empty: the address the request came to.
    pub public_url: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            session_idle_minutes: 30,
            body_limit: 2 * 1024 * 1024,
            login_per_minute: 30,
            public_per_minute: 120,
            public_url: String::new(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Keys for personal data (encryption and blind indexes).
    pub keys: Arc<KeyRing>,
    pub config: Arc<WebConfig>,
    pub limits: crate::ratelimit::Limits,
    /// Imports running in the background, for the UI's progress bar.
    pub imports: crate::service::import::Jobs,
    /// The group-commit writer of the hot write paths (check-ins, hour confirmations).
    pub writes: wushe_store::group_commit::GroupCommit,
    /// Who is behind recently seen credentials.
    pub signed_in: Arc<crate::auth::SignedInCache>,
}

impl AppState {
    pub fn new(db: Db, keys: KeyRing, config: WebConfig) -> AppState {
        let limits = crate::ratelimit::Limits::new(config.login_per_minute, config.public_per_minute);
        let writes = wushe_store::group_commit::GroupCommit::start(db.clone());
        AppState {
            db,
            keys: Arc::new(keys),
            config: Arc::new(config),
            limits,
            imports: Default::default(),
            writes,
            signed_in: Default::default(),
        }
    }
}
