//! Citizen identity number (公民身份号码), GB 11643-1999.
//!
//! 18 characters: 6-digit address code, 8-digit birth date (YYYYMMDD), 3-digit sequence
//! (odd = male), check character (ISO 7064 MOD 11-2; `X` stands for 10).
//!
//! The address code is the county where and when the number was issued. Counties merge
//! and codes disappear, but people keep their numbers for life, so only the province
//! prefix is checked — never the full 6-digit code against today's division table.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{is_province_prefix, CodeError};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// Gender as encoded in the 17th digit (odd = male, even = female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// "男" or "女".
    pub fn label(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
        }
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Computes the GB 11643 check character for the first 17 characters.
/// Returns `None` unless `first17` is exactly 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    Some(char::from(CHECK_CHARS[(sum % 11) as usize]))
}

/// A valid, normalized citizen ID number (trimmed, check character `X` upper-case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId(String);

impl CitizenId {
    /// Parses and validates a citizen ID. `today` bounds the birth date from above
    /// (pass the current date in China).
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn parse(input: &str, today: NaiveDate) -> Result<CitizenId, CodeError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(CodeError::Empty);
        }
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(CodeError::Length { expected: 18, actual: chars.len() });
        }
        if let Some((i, &c)) = chars[..17].iter().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(CodeError::NotDigit { position: i + 1, found: c });
        }
        let last = match chars[17] {
            'x' => 'X',
            c if c.is_ascii_digit() || c == 'X' => c,
            c => return Err(CodeError::BadCheckCharFormat { found: c }),
        };
        // All 18 characters are ASCII from here on, so byte slicing is safe.
        let first17 = &s[..17];

        let province = &s[..2];
        if !is_province_prefix(province) {
            return Err(CodeError::Province(province.to_string()));
        }

        let date_digits = &s[6..14];
        let birth =
            date_from_digits(date_digits).ok_or_else(|| CodeError::BirthDateInvalid(date_digits.to_string()))?;
        if birth < min_birth_date() {
            return Err(CodeError::BirthDateTooEarly);
        }
        if birth > today {
            return Err(CodeError::BirthDateInFuture);
        }

        let expected = check_char(first17).expect("17 ASCII digits checked above");
        if expected != last {
            return Err(CodeError::CheckChar { expected, actual: last });
        }

        let mut normalized = String::with_capacity(18);
        normalized.push_str(first17);
        normalized.push(last);
        Ok(CitizenId(normalized))
    }

    /// The normalized 18-character number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the value, returning the normalized number.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The 6-digit address code (county of issue; may no longer exist).
    pub fn address_code(&self) -> &str {
        &self.0[..6]
    }

    /// Date of birth (digits 7–14).
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn birth_date(&self) -> NaiveDate {
        date_from_digits(&self.0[6..14]).expect("birth date validated on parse")
    }

    /// Gender from the 17th digit: odd = male, even = female.
    pub fn gender(&self) -> Gender {
        let d = self.0.as_bytes()[16] - b'0';
        if d % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// Age in completed years (周岁) on `date`; 0 if `date` is before the birth date.
    /// Someone born on 29 February turns a year older on 1 March in common years.
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        let birth = self.birth_date();
        if date <= birth {
            return 0;
        }
        let mut years = date.year() - birth.year();
        if (date.month(), date.day()) < (birth.month(), birth.day()) {
            years -= 1;
        }
        u32::try_from(years).unwrap_or(0)
    }
}

#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
fn min_birth_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid constant date")
}

/// Parses `YYYYMMDD` (8 ASCII digits) into a real date.
fn date_from_digits(d: &str) -> Option<NaiveDate> {
    if d.len() != 8 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = d[..4].parse().ok()?;
    let month: u32 = d[4..6].parse().ok()?;
    let day: u32 = d[6..8].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CitizenId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for CitizenId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Deserializing validates fully, with "today" taken as the current date in China (UTC+8).
impl<'de> Deserialize<'de> for CitizenId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        CitizenId::parse(&s, crate::time::today()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
    }

    /// Builds a full ID from 17 digits by appending the correct check char.
    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_char(first17).unwrap())
    }

    fn err(input: &str) -> CodeError {
        CitizenId::parse(input, today()).unwrap_err()
    }

    #[test]
    fn rules_example_passes() {
        let id = CitizenId::parse("11010519491231002X", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.address_code(), "110105");
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.gender().label(), "女");
        assert_eq!(id.to_string(), "11010519491231002X");
    }

    #[test]
    fn lower_case_x_accepted_and_stored_upper() {
        let id = CitizenId::parse("  11010519491231002x ", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn vanished_county_codes_pass() {
        for prefix in ["420120", "420121"] {
            let s = with_check(&format!("{prefix}19800101123"));
            let id = CitizenId::parse(&s, today()).unwrap();
            assert_eq!(id.address_code(), prefix);
            assert_eq!(id.gender(), Gender::Male);
        }
    }

    #[test]
    fn check_char_matches_example() {
        assert_eq!(check_char("11010519491231002"), Some('X'));
        assert_eq!(check_char("1101051949123100"), None);
        assert_eq!(check_char("1101051949123100A"), None);
    }

    #[test]
    fn bad_check_digit() {
        let e = err("110105194912310023");
        assert_eq!(e, CodeError::CheckChar { expected: 'X', actual: '3' });
        assert_eq!(e.to_string(), "校验位错误：应为 X，实际为 3");
    }

    #[test]
    fn wrong_length() {
        let e = err("11010519491231002");
        assert_eq!(e.to_string(), "长度应为 18 位，实际为 17 位");
        assert_eq!(err("").to_string(), "不能为空");
        // Length counts characters, not bytes.
        assert_eq!(err("一二三四五六七八九十一二三四五六七八").to_string(), "第 1 位应为数字，实际为「一」");
    }

    #[test]
    fn non_digit_and_bad_last_char() {
        assert_eq!(err("1101051949A231002X").to_string(), "第 11 位应为数字，实际为「A」");
        assert_eq!(err("11010519491231002Y").to_string(), "第 18 位校验位应为数字或 X，实际为「Y」");
    }

    #[test]
    fn future_birth_date_fails() {
        let e = err(&with_check("11010520250602001"));
        assert_eq!(e, CodeError::BirthDateInFuture);
        assert_eq!(e.to_string(), "出生日期不能晚于今天");
        // Born today is fine.
        assert!(CitizenId::parse(&with_check("11010520250601001"), today()).is_ok());
    }

    #[test]
    fn birth_before_1900_fails() {
        let e = err(&with_check("11010518991231001"));
        assert_eq!(e.to_string(), "出生日期不能早于 1900 年");
        assert!(CitizenId::parse(&with_check("11010519000101001"), today()).is_ok());
    }

    #[test]
    fn impossible_dates_fail() {
        assert_eq!(err(&with_check("11010520010230001")).to_string(), "出生日期 20010230 不是有效日期");
        assert_eq!(err(&with_check("11010519491331001")).to_string(), "出生日期 19491331 不是有效日期");
        assert_eq!(err(&with_check("11010519490229001")).to_string(), "出生日期 19490229 不是有效日期");
        // 2000 was a leap year.
        assert!(CitizenId::parse(&with_check("11010520000229001"), today()).is_ok());
    }

    #[test]
    fn bad_province_fails() {
        let e = err(&with_check("99010519491231001"));
        assert_eq!(e.to_string(), "前两位 99 不是有效的省级代码");
        for p in ["10", "16", "20", "24", "38", "47", "55", "66", "70", "72", "83"] {
            assert!(matches!(err(&with_check(&format!("{p}010519491231001"))), CodeError::Province(_)));
        }
        for p in ["11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71", "81", "82"] {
            assert!(CitizenId::parse(&with_check(&format!("{p}010519491231001")), today()).is_ok());
        }
    }

    #[test]
    fn age_on() {
        let id = CitizenId::parse(&with_check("11010519900307123"), today()).unwrap();
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(id.age_on(d(2020, 3, 6)), 29);
        assert_eq!(id.age_on(d(2020, 3, 7)), 30);
        assert_eq!(id.age_on(d(1980, 1, 1)), 0);
        let leap = CitizenId::parse(&with_check("11010520000229002"), today()).unwrap();
        assert_eq!(leap.gender(), Gender::Female);
        assert_eq!(leap.age_on(d(2001, 2, 28)), 0);
        assert_eq!(leap.age_on(d(2001, 3, 1)), 1);
        assert_eq!(leap.age_on(d(2004, 2, 29)), 4);
    }

    #[test]
    fn deserialize_validates_and_normalizes() {
        use serde::de::value::{Error, StrDeserializer};
        use serde::de::IntoDeserializer;
        let de: StrDeserializer<'_, Error> = "11010519491231002x".into_deserializer();
        let id = CitizenId::deserialize(de).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        let bad: StrDeserializer<'_, Error> = "110105194912310023".into_deserializer();
        let e = CitizenId::deserialize(bad).unwrap_err();
        assert_eq!(e.to_string(), "校验位错误：应为 X，实际为 3");
    }
}
