//! Unified social credit code (统一社会信用代码), GB 32100-2015.
//!
//! 18 characters from `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S, V, Z):
//! position 1 registration authority (5 = civil affairs), 2 organization type
//! (51 社会团体, 52 社会服务机构, 53 基金会 under civil affairs), 3–8 division code of the
//! registering authority, 9–17 organization code (GB 11714, with its own check
//! character), 18 check character (ISO 7064 MOD 31-3).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{is_province_prefix, CodeError};

/// The GB 32100 alphabet; a character's value is its index.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// 3^(i−1) mod 31 for i = 1..=17.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// GB 11714 weights for the 8 body characters of an organization code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Division code used by registration authorities at national level (e.g. organizations
/// registered with the Ministry of Civil Affairs): GB/T 2260 "100000 中华人民共和国".
const NATIONAL_DIVISION: &str = "100000";

fn value_of(c: char) -> Option<u32> {
    ALPHABET.find(c).map(|i| i as u32)
}

/// Computes the GB 32100 check character for the first 17 characters.
/// Returns `None` unless `first17` is 17 characters of [`ALPHABET`].
pub fn check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut n = 0usize;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += value_of(c)? * w;
        n += 1;
    }
    if n != 17 || first17.chars().count() != 17 {
        return None;
    }
    let v = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(v as usize)
}

/// Computes the GB 11714 check character of an organization code from its first
/// 8 characters (digits 0–9, letters A–Z valued 10–35). `X` stands for 10.
/// Returns `None` unless `first8` is 8 characters from `0-9A-Z`.
#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
pub fn org_code_check_char(first8: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut n = 0usize;
    for (c, w) in first8.chars().zip(ORG_WEIGHTS) {
        let v = match c {
            '0'..='9' | 'A'..='Z' => c.to_digit(36)?,
            _ => return None,
        };
        sum += v * w;
        n += 1;
    }
    if n != 8 || first8.chars().count() != 8 {
        return None;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10).expect("0..=9"),
    })
}

/// A valid, normalized (upper-case) unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

impl CreditCode {
    /// Parses and validates a credit code; input is trimmed and upper-cased.
    ///
    /// Positions 3–8 must be six digits whose first two name a province (or the national
    /// code 100000); the county part is not looked up, since the registering authority's
    /// code may no longer exist.
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn parse(input: &str) -> Result<CreditCode, CodeError> {
        let s = input.trim().to_ascii_uppercase();
        if s.is_empty() {
            return Err(CodeError::Empty);
        }
        let count = s.chars().count();
        if count != 18 {
            return Err(CodeError::Length { expected: 18, actual: count });
        }
        if let Some(c) = s.chars().find(|&c| value_of(c).is_none()) {
            return Err(CodeError::CreditCodeChar(c));
        }
        // All characters are ASCII from here on.
        let division = &s[2..8];
        if !division.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::CreditCodeDivision(division.to_string()));
        }
        if division != NATIONAL_DIVISION && !is_province_prefix(&division[..2]) {
            return Err(CodeError::CreditCodeProvince(division[..2].to_string()));
        }

        let expected = check_char(&s[..17]).expect("alphabet checked above");
        let actual = s[17..].chars().next().expect("18 chars");
        if expected != actual {
            return Err(CodeError::CheckChar { expected, actual });
        }

        let org_expected = org_code_check_char(&s[8..16]).expect("alphabet checked above");
        let org_actual = s[16..17].chars().next().expect("18 chars");
        if org_expected != org_actual {
            return Err(CodeError::OrgCodeCheck { expected: org_expected, actual: org_actual });
        }
        Ok(CreditCode(s))
    }

    /// The normalized 18-character code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the value, returning the normalized code.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Position 1: registration authority ('5' = civil affairs, '9' = market regulation, …).
    pub fn registration_authority(&self) -> char {
        char::from(self.0.as_bytes()[0])
    }

    /// Positions 1–2: authority and organization type, e.g. "51" 社会团体,
    /// "52" 社会服务机构, "53" 基金会.
    pub fn org_type(&self) -> &str {
        &self.0[..2]
    }

    /// Positions 3–8: division code of the registration authority (6 digits).
    pub fn division_code(&self) -> &str {
        &self.0[2..8]
    }

    /// Positions 9–17: the embedded GB 11714 organization code (9 characters).
    pub fn org_code(&self) -> &str {
        &self.0[8..17]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for CreditCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CreditCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        CreditCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_char(first17).unwrap())
    }

    fn body(authority_type: &str, division: &str, org8: &str) -> String {
        format!("{authority_type}{division}{org8}{}", org_code_check_char(org8).unwrap())
    }

    #[test]
    fn rules_examples_pass() {
        let a = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(a.registration_authority(), '9');
        assert_eq!(a.org_type(), "91");
        assert_eq!(a.division_code(), "350100");
        assert_eq!(a.org_code(), "M000100Y4");
        let b = CreditCode::parse("91110108551385082Q").unwrap();
        assert_eq!(b.division_code(), "110108");
        assert_eq!(b.org_code(), "551385082");
        assert_eq!(b.to_string(), "91110108551385082Q");
    }

    #[test]
    fn check_chars_of_examples() {
        assert_eq!(check_char("91350100M000100Y4"), Some('3'));
        assert_eq!(check_char("91110108551385082"), Some('Q'));
        // Letters count A=10 … Z=35 in GB 11714: M=22, Y=34.
        assert_eq!(org_code_check_char("M000100Y"), Some('4'));
        assert_eq!(org_code_check_char("55138508"), Some('2'));
        assert_eq!(check_char("91350100M000100Y"), None);
        assert_eq!(check_char("91350100M000100I4"), None);
        assert_eq!(org_code_check_char("m000100Y"), None);
        assert_eq!(org_code_check_char("M000100"), None);
    }

    #[test]
    fn org_code_check_maps_10_to_x_and_11_to_0() {
        // Σ = 0 → 11 − 0 = 11 → '0'.
        assert_eq!(org_code_check_char("00000000"), Some('0'));
        // Σ = 2·6 = 12 ≡ 1 → 10 → 'X'.
        assert_eq!(org_code_check_char("00000006"), Some('X'));
        // Σ = 2·5 = 10 → 1; Σ = 2 → 9; Σ = 4 → 7.
        assert_eq!(org_code_check_char("00000005"), Some('1'));
        assert_eq!(org_code_check_char("00000001"), Some('9'));
        assert_eq!(org_code_check_char("00000010"), Some('7'));
        // Letters: A = 10 at weight 3 → Σ = 30 ≡ 8 → 3.
        assert_eq!(org_code_check_char("A0000000"), Some('3'));
    }

    #[test]
    fn lower_case_is_upper_cased() {
        let c = CreditCode::parse(" 91350100m000100y43 ").unwrap();
        assert_eq!(c.as_str(), "91350100M000100Y43");
    }

    #[test]
    fn civil_affairs_codes() {
        let s = with_check(&body("51", "420106", "MJ000001"));
        let c = CreditCode::parse(&s).unwrap();
        assert_eq!(c.registration_authority(), '5');
        assert_eq!(c.org_type(), "51");
        // National organizations registered with the Ministry use division 100000.
        let s = with_check(&body("53", "100000", "50000123"));
        assert_eq!(CreditCode::parse(&s).unwrap().division_code(), "100000");
        // A vanished county code is fine: only the province is checked.
        let s = with_check(&body("52", "420120", "MJ000002"));
        assert!(CreditCode::parse(&s).is_ok());
    }

    #[test]
    fn illegal_characters() {
        let e = CreditCode::parse("91350100M000100I43").unwrap_err();
        assert_eq!(e.to_string(), "含有非法字符「I」（统一社会信用代码不使用 I、O、S、V、Z）");
        let e = CreditCode::parse("91350100M000100o43").unwrap_err();
        assert_eq!(e, CodeError::CreditCodeChar('O'));
        let e = CreditCode::parse("91350100M000100-43").unwrap_err();
        assert!(e.to_string().starts_with("含有非法字符「-」"));
    }

    #[test]
    fn wrong_length() {
        assert_eq!(CreditCode::parse("91350100M000100Y4").unwrap_err().to_string(), "长度应为 18 位，实际为 17 位");
        assert_eq!(CreditCode::parse("  ").unwrap_err(), CodeError::Empty);
    }

    #[test]
    fn bad_check_char() {
        let e = CreditCode::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(e.to_string(), "校验位错误：应为 3，实际为 4");
    }

    #[test]
    fn bad_org_code_check_char() {
        // Valid overall check, but the embedded org code check is wrong.
        let s = with_check("91350100M000100Y5");
        let e = CreditCode::parse(&s).unwrap_err();
        assert_eq!(e, CodeError::OrgCodeCheck { expected: '4', actual: '5' });
        assert_eq!(e.to_string(), "组织机构代码校验位错误：应为 4，实际为 5");
    }

    #[test]
    fn bad_division() {
        let s = with_check(&body("51", "990100", "MJ000001"));
        assert_eq!(
            CreditCode::parse(&s).unwrap_err().to_string(),
            "登记管理机关行政区划码前两位 99 不是有效的省级代码"
        );
        let s = with_check(&body("51", "42A100", "MJ000001"));
        assert_eq!(CreditCode::parse(&s).unwrap_err(), CodeError::CreditCodeDivision("42A100".into()));
        // 10xxxx other than 100000 is not a division.
        let s = with_check(&body("51", "100100", "MJ000001"));
        assert!(matches!(CreditCode::parse(&s).unwrap_err(), CodeError::CreditCodeProvince(_)));
    }

    #[test]
    fn deserialize_validates() {
        use serde::de::value::{Error, StrDeserializer};
        use serde::de::IntoDeserializer;
        let de: StrDeserializer<'_, Error> = "91110108551385082q".into_deserializer();
        assert_eq!(CreditCode::deserialize(de).unwrap().as_str(), "91110108551385082Q");
        let bad: StrDeserializer<'_, Error> = "91110108551385082R".into_deserializer();
        assert!(CreditCode::deserialize(bad).is_err());
    }
}
