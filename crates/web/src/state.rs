use std::sync::Arc;

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
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig { secure_cookies: false, session_idle_minutes: 30, body_limit: 2 * 1024 * 1024 }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> AppState {
        AppState { db, config: Arc::new(config) }
    }
}
