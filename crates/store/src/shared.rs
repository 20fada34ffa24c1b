//! What a database's transactions share beyond one transaction: values nearly every
//! group-commit batch reads and that change only through this program's own transactions
//! (settings, ledger system accounts), kept so that a batch does not ask again what the
//! batch before it was told (docs/decisions/0009).
//!
//! One per open [`Db`](crate::Db), so that tests with a database each never share answers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a setting read from the database is believed: a deployment is one process and
/// its own changes are seen at once (see [`Shared::settings_changed`]); this bounds how late
/// a change made outside it (by hand, or by a second server on the same PostgreSQL) is seen.
pub const SETTINGS_TTL: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub struct Shared {
    settings: Mutex<Settings>,
    /// Ledger system accounts' ids by (ledger, key): committed accounts are never deleted
    /// and never change id.
    system_accounts: Mutex<HashMap<(String, String), i64>>,
}

#[derive(Debug, Default)]
struct Settings {
    /// Moves whenever a transaction that wrote a setting commits.
    epoch: u64,
    /// The stored JSON by key (None: never set), and when it was read.
    values: HashMap<String, (Option<String>, Instant)>,
}

impl Shared {
    /// The epoch to keep with a setting about to be read from the database.
    pub fn settings_epoch(&self) -> u64 {
        self.settings.lock().map(|s| s.epoch).unwrap_or(u64::MAX)
    }

    /// A setting as last read, if still believed.
    pub fn setting(&self, key: &str) -> Option<Option<String>> {
        let s = self.settings.lock().ok()?;
        let (json, at) = s.values.get(key)?;
        (at.elapsed() < SETTINGS_TTL).then(|| json.clone())
    }

    /// Keep a setting read from the database under `epoch`, unless a write of settings
    /// committed since: then the read may be older than that write.
    pub fn keep_setting(&self, epoch: u64, key: &str, json: Option<String>) {
        if let Ok(mut s) = self.settings.lock() {
            if s.epoch == epoch {
                s.values.insert(key.to_string(), (json, Instant::now()));
            }
        }
    }

    /// A transaction that wrote settings has committed: forget every setting kept.
    pub fn settings_changed(&self) {
        if let Ok(mut s) = self.settings.lock() {
            s.epoch += 1;
            s.values.clear();
        }
    }

    pub fn system_account(&self, ledger: &str, key: &str) -> Option<i64> {
        self.system_accounts.lock().ok()?.get(&(ledger.to_string(), key.to_string())).copied()
    }

    /// Keep system accounts' ids once the transaction that found or made them committed.
    pub fn keep_system_accounts(&self, found: &HashMap<(String, String), i64>) {
        if let Ok(mut m) = self.system_accounts.lock() {
            m.extend(found.iter().map(|(k, v)| (k.clone(), *v)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_older_than_a_committed_write_is_not_kept() {
        let s = Shared::default();
        let e = s.settings_epoch();
        s.settings_changed();
        s.keep_setting(e, "k", Some("1".into()));
        assert_eq!(s.setting("k"), None);
        let e = s.settings_epoch();
        s.keep_setting(e, "k", Some("2".into()));
        assert_eq!(s.setting("k"), Some(Some("2".into())));
        s.settings_changed();
        assert_eq!(s.setting("k"), None);
    }

    #[test]
    fn a_setting_never_set_is_kept_as_unset() {
        let s = Shared::default();
        s.keep_setting(s.settings_epoch(), "k", None);
        assert_eq!(s.setting("k"), Some(None));
    }
}
