//! Volunteer service certificates (志愿服务记录证明, 民政部令第67号): "who records certifies"
//! — only the organization that recorded the hours issues a certificate for them, free of
//! charge. This module holds the certificate number (unguessable, with a check character so
//! a mistyped number is caught before any lookup), the status machine and the settings.
//!
//! Number: the issue year (4 digits), 12 random characters of Crockford's base32 (60 bits:
//! nobody finds a valid number by trying) and one check character (Luhn mod 32 over the
//! whole string), 17 characters in all. Shown in groups, `2026-7KQ2-M9XD-4HTR-C`; typed in
//! any case, with or without the dashes, and with I/L read as 1 and O as 0.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Crockford's base32: no I, L, O or U, so a number read aloud or copied by hand has no
/// look-alike characters.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random characters after the year.
pub const RANDOM_LEN: usize = 12;
/// Year + random + check.
pub const NUMBER_LEN: usize = 4 + RANDOM_LEN + 1;

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// Luhn mod N (N = 32): the sum over the characters from the right, every second one
/// doubled and folded back into base 32. Detects every single-character error and every
/// swap of two adjacent characters except 0 ↔ Z.
fn luhn_sum(chars: &[u8], double_first_from_right: bool) -> u32 {
    let mut factor = if double_first_from_right { 2 } else { 1 };
    let mut sum = 0;
    for &c in chars.iter().rev() {
        let addend = factor * value_of(c).unwrap_or(0);
        sum += addend / 32 + addend % 32;
        factor = 3 - factor;
    }
    sum
}

/// The check character for the characters before it (all in the alphabet).
pub fn check_char(body: &str) -> Option<char> {
    let b = body.as_bytes();
    if b.is_empty() || !b.iter().all(|&c| value_of(c).is_some()) {
        return None;
    }
    let r = luhn_sum(b, true) % 32;
    Some(char::from(ALPHABET[((32 - r) % 32) as usize]))
}

/// Why a typed certificate number was refused (before any lookup).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("请输入证明编号")]
    Empty,
    #[error("证明编号应为 {NUMBER_LEN} 位（不计连字符），实际为 {0} 位")]
    Length(usize),
    #[error("证明编号第 {position} 位「{found}」不是有效字符")]
    Char { position: usize, found: char },
    #[error("证明编号前 4 位应为出具年份")]
    Year,
    #[error("证明编号校验位不符，请核对是否输错")]
    Check,
}

/// A well-formed certificate number, in its canonical form (17 upper-case characters, no dashes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CertificateNumber(String);

impl CertificateNumber {
    /// A new number for `year` from 60 random bits (the caller supplies the randomness;
    /// the domain does no I/O).
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn generate(year: i32, random: u64) -> CertificateNumber {
        let mut s = format!("{:04}", year.clamp(0, 9999));
        for i in 0..RANDOM_LEN {
            s.push(char::from(ALPHABET[((random >> (5 * i)) & 31) as usize]));
        }
        let c = check_char(&s).expect("alphabet characters only");
        s.push(c);
        CertificateNumber(s)
    }

    /// Read a number as typed: case, spaces and dashes do not matter; I and L are read as 1,
    /// O as 0 (Crockford).
    pub fn parse(input: &str) -> Result<CertificateNumber, NumberError> {
        let mut s = String::with_capacity(NUMBER_LEN);
        for c in input.chars().filter(|c| !c.is_whitespace() && !matches!(c, '-' | '－' | '—')) {
            s.push(match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            });
        }
        if s.is_empty() {
            return Err(NumberError::Empty);
        }
        let n = s.chars().count();
        if n != NUMBER_LEN {
            return Err(NumberError::Length(n));
        }
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii() || value_of(*c as u8).is_none()) {
            return Err(NumberError::Char { position: i + 1, found: c });
        }
        if !s.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
            return Err(NumberError::Year);
        }
        if !luhn_sum(s.as_bytes(), false).is_multiple_of(32) {
            return Err(NumberError::Check);
        }
        Ok(CertificateNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Grouped for reading: `2026-7KQ2-M9XD-4HTR-C`.
    pub fn display(&self) -> String {
        let s = &self.0;
        format!("{}-{}-{}-{}-{}", &s[..4], &s[4..8], &s[8..12], &s[12..16], &s[16..])
    }
}

impl std::fmt::Display for CertificateNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    /// Asked for by the volunteer, waiting for the organization.
    Requested,
    /// Approved and shown inside the organization for the publicity period before issue.
    Publicity,
    /// Issued: it has a number and verifies as valid.
    Issued,
    /// Refused by the organization (with a reason).
    Declined,
    /// Withdrawn after issue (with a reason): verifies as revoked.
    Revoked,
}

impl CertificateStatus {
    pub const ALL: [CertificateStatus; 5] =
        [Self::Requested, Self::Publicity, Self::Issued, Self::Declined, Self::Revoked];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Publicity => "publicity",
            Self::Issued => "issued",
            Self::Declined => "declined",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Requested => "待审核",
            Self::Publicity => "公示中",
            Self::Issued => "已出具",
            Self::Declined => "未出具",
            Self::Revoked => "已撤销",
        }
    }

    /// Still being handled: a volunteer has at most one such request per organization.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Requested | Self::Publicity)
    }
}

/// Settings: the optional in-unit publicity (公示) before issue, off by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRules {
    /// Show an approved certificate inside the organization before issuing it.
    pub publicity: bool,
    /// Length of the publicity period in days (RULES.md: 7).
    pub publicity_days: u32,
}

impl Default for CertificateRules {
    fn default() -> Self {
        CertificateRules { publicity: false, publicity_days: 7 }
    }
}

impl CertificateRules {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(1..=30).contains(&self.publicity_days) {
            return Err(("publicity_days", "公示期应为 1–30 天".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateAction {
    /// The organization issues (or, with publicity on, starts the publicity; issuing again
    /// after the period ends issues).
    Issue,
    Decline,
    Revoke,
}

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Publicity starts and ends at the instant given.
    Publicize {
        until: DateTime<Utc>,
    },
    Issue,
    Decline,
    Revoke,
}

impl Outcome {
    pub fn status(self) -> CertificateStatus {
        match self {
            Outcome::Publicize { .. } => CertificateStatus::Publicity,
            Outcome::Issue => CertificateStatus::Issued,
            Outcome::Decline => CertificateStatus::Declined,
            Outcome::Revoke => CertificateStatus::Revoked,
        }
    }
}

/// The next step from `from`, or why the action does not apply. `publicity_until` is the
/// end of a running publicity period.
pub fn transition(
    from: CertificateStatus,
    action: CertificateAction,
    rules: &CertificateRules,
    publicity_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Outcome, String> {
    use CertificateAction as A;
    use CertificateStatus as S;
    match (from, action) {
        (S::Requested, A::Issue) if rules.publicity => {
            Ok(Outcome::Publicize { until: now + Duration::days(i64::from(rules.publicity_days)) })
        }
        (S::Requested, A::Issue) => Ok(Outcome::Issue),
        (S::Publicity, A::Issue) => match publicity_until {
            Some(until) if now < until => {
                Err(format!("公示期至 {} 结束，期满后才能出具", crate::time::format_local(until, "%Y-%m-%d %H:%M")))
            }
            _ => Ok(Outcome::Issue),
        },
        (S::Requested | S::Publicity, A::Decline) => Ok(Outcome::Decline),
        (S::Issued, A::Revoke) => Ok(Outcome::Revoke),
        (S::Issued, A::Issue) => Err("该证明已出具".into()),
        (s, _) => Err(format!("证明当前为「{}」，不能执行此操作", s.label())),
    }
}

/// A decline or revocation needs a reason the volunteer can read (2–200 characters).
pub fn check_reason(reason: &str) -> Result<&str, String> {
    let r = reason.trim();
    let n = r.chars().count();
    if !(2..=200).contains(&n) {
        return Err("请填写原因（2–200 个字符）".into());
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use CertificateAction as A;
    use CertificateStatus as S;

    #[test]
    fn numbers_round_trip_and_read_as_typed() {
        let n = CertificateNumber::generate(2026, 0x0123_4567_89AB_CDEF);
        assert_eq!(n.as_str().len(), NUMBER_LEN);
        assert!(n.as_str().starts_with("2026"));
        assert_eq!(CertificateNumber::parse(n.as_str()), Ok(n.clone()));
        assert_eq!(CertificateNumber::parse(&n.display()), Ok(n.clone()));
        assert_eq!(CertificateNumber::parse(&n.display().to_lowercase()), Ok(n.clone()));
        let d = n.display();
        assert_eq!(d.len(), NUMBER_LEN + 4);
        assert_eq!(&d[4..5], "-");
    }

    #[test]
    fn look_alikes_are_read_as_digits() {
        // a number whose random part holds 1s and 0s, typed with I, L and O
        let n = CertificateNumber::generate(2026, 0);
        assert_eq!(&n.as_str()[4..16], "000000000000");
        let typed = format!("2O26{}{}", "o".repeat(12), &n.as_str()[16..]);
        assert_eq!(CertificateNumber::parse(&typed), Ok(n));
    }

    #[test]
    fn refusals() {
        assert_eq!(CertificateNumber::parse("  "), Err(NumberError::Empty));
        assert_eq!(CertificateNumber::parse("2026ABC"), Err(NumberError::Length(7)));
        let n = CertificateNumber::generate(2026, 42).as_str().to_string();
        let with_u = format!("{}U{}", &n[..5], &n[6..]);
        assert_eq!(CertificateNumber::parse(&with_u), Err(NumberError::Char { position: 6, found: 'U' }));
        let with_year = format!("A{}", &n[1..]);
        assert!(matches!(CertificateNumber::parse(&with_year), Err(NumberError::Year | NumberError::Check)));
        let last = n.chars().last().unwrap();
        let other = if last == '0' { '1' } else { '0' };
        let wrong = format!("{}{other}", &n[..16]);
        assert_eq!(CertificateNumber::parse(&wrong), Err(NumberError::Check));
        assert!(NumberError::Check.to_string().contains("校验位"));
    }

    fn t(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, d, 2, 0, 0).unwrap()
    }

    #[test]
    fn lifecycle_without_publicity() {
        let r = CertificateRules::default();
        assert!(!r.publicity, "publicity is off by default");
        assert_eq!(transition(S::Requested, A::Issue, &r, None, t(1)), Ok(Outcome::Issue));
        assert_eq!(transition(S::Requested, A::Decline, &r, None, t(1)), Ok(Outcome::Decline));
        assert_eq!(transition(S::Issued, A::Revoke, &r, None, t(1)), Ok(Outcome::Revoke));
        assert!(transition(S::Requested, A::Revoke, &r, None, t(1)).is_err());
        assert!(transition(S::Issued, A::Issue, &r, None, t(1)).is_err());
        assert!(transition(S::Issued, A::Decline, &r, None, t(1)).is_err());
        assert!(transition(S::Revoked, A::Issue, &r, None, t(1)).is_err());
        assert!(transition(S::Revoked, A::Revoke, &r, None, t(1)).is_err());
        assert!(transition(S::Declined, A::Issue, &r, None, t(1)).is_err());
    }

    #[test]
    fn publicity_comes_before_issue() {
        let r = CertificateRules { publicity: true, publicity_days: 7 };
        let Ok(Outcome::Publicize { until }) = transition(S::Requested, A::Issue, &r, None, t(1)) else {
            panic!("publicity expected")
        };
        assert_eq!(until, t(8));
        let early = transition(S::Publicity, A::Issue, &r, Some(until), t(7)).unwrap_err();
        assert!(early.contains("2026-05-08 10:00"), "{early}");
        assert_eq!(transition(S::Publicity, A::Issue, &r, Some(until), t(8)), Ok(Outcome::Issue));
        assert_eq!(transition(S::Publicity, A::Decline, &r, Some(until), t(2)), Ok(Outcome::Decline));
        assert_eq!(Outcome::Publicize { until }.status(), S::Publicity);
    }

    #[test]
    fn names_round_trip_and_settings() {
        for s in CertificateStatus::ALL {
            assert_eq!(CertificateStatus::parse(s.as_str()), Some(s));
        }
        assert!(S::Requested.is_pending() && S::Publicity.is_pending() && !S::Issued.is_pending());
        assert!(CertificateRules::default().validate().is_ok());
        assert_eq!(CertificateRules { publicity: true, publicity_days: 0 }.validate().unwrap_err().0, "publicity_days");
        assert!(check_reason(" 好 ").is_err());
        assert_eq!(check_reason(" 记录有误 "), Ok("记录有误"));
    }
}
