//! argon2id password hashing. Both calls are CPU-bound by design: callers run them on a
//! blocking thread (`tokio::task::spawn_blocking`), never on an async worker.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
fn hasher() -> Argon2<'static> {
    // OWASP's argon2id floor: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing cannot fail with valid params")
        .to_string()
}

pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the user does not exist, so that "no such user" and "wrong
/// password" take the same time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("wushe-dummy-password-0"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let h = super::hash("Wushe@2026");
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("Wushe@2026", &h));
        assert!(!super::verify("wushe@2026", &h));
        assert!(!super::verify("x", "not a hash"));
    }
}
