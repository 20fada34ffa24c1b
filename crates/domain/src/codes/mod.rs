//! Identity numbers and codes: citizen ID (GB 11643), unified social credit code
//! (GB 32100) and statistical division codes (NBS / GB/T 2260).
//!
//! Error messages are Chinese and name the rule that was broken; they never name the
//! field, so callers can prepend it ("身份证号：长度应为 18 位，实际为 17 位").

pub mod citizen_id;
pub mod credit_code;
pub mod division;

use thiserror::Error;

/// Why a code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodeError {
    /// Input was empty (after trimming).
    #[error("不能为空")]
    Empty,
    /// Wrong number of characters.
    #[error("长度应为 {expected} 位，实际为 {actual} 位")]
    Length { expected: usize, actual: usize },
    /// A position that must be a digit holds something else (position is 1-based).
    #[error("第 {position} 位应为数字，实际为「{found}」")]
    NotDigit { position: usize, found: char },
    /// Last character of a citizen ID is neither a digit nor X.
    #[error("第 18 位校验位应为数字或 X，实际为「{found}」")]
    BadCheckCharFormat { found: char },
    /// The check character does not match the computed one.
    #[error("校验位错误：应为 {expected}，实际为 {actual}")]
    CheckChar { expected: char, actual: char },
    /// The first two digits do not name a province-level division.
    #[error("前两位 {0} 不是有效的省级代码")]
    Province(String),
    /// Birth date digits do not form a real calendar date.
    #[error("出生日期 {0} 不是有效日期")]
    BirthDateInvalid(String),
    /// Birth date is after "today".
    #[error("出生日期不能晚于今天")]
    BirthDateInFuture,
    /// Birth date is before 1900-01-01.
    #[error("出生日期不能早于 1900 年")]
    BirthDateTooEarly,
    /// A character outside the GB 32100 alphabet.
    #[error("含有非法字符「{0}」（{hint}）", hint = credit_char_hint(*.0))]
    CreditCodeChar(char),
    /// Positions 3–4 of a credit code do not name a province-level division.
    #[error("登记管理机关行政区划码前两位 {0} 不是有效的省级代码")]
    CreditCodeProvince(String),
    /// Positions 3–8 of a credit code are not six digits.
    #[error("第 3–8 位登记管理机关行政区划码应为 6 位数字，实际为「{0}」")]
    CreditCodeDivision(String),
    /// The embedded GB 11714 organization code has a wrong check character.
    #[error("组织机构代码校验位错误：应为 {expected}，实际为 {actual}")]
    OrgCodeCheck { expected: char, actual: char },
    /// Division code of a wrong shape (length or non-digits).
    #[error("区划代码应为 2、4、6、9 或 12 位数字")]
    DivisionFormat,
    /// Division code with province part "00".
    #[error("省级代码不能为 00")]
    DivisionProvinceZero,
    /// Division code with a nonzero part below a zero part, e.g. 420000000001.
    #[error("区划代码 {0} 层级不一致：上级部分为 0 时下级部分也必须为 0")]
    DivisionStructure(String),
}

fn credit_char_hint(c: char) -> &'static str {
    if matches!(c, 'I' | 'O' | 'S' | 'V' | 'Z') {
        "统一社会信用代码不使用 I、O、S、V、Z"
    } else {
        "统一社会信用代码只由数字和大写字母组成，且不使用 I、O、S、V、Z"
    }
}

/// Province-level prefixes valid in GB 11643 / GB/T 2260:
/// 11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, 81, 82.
pub fn is_province_prefix(two_digits: &str) -> bool {
    let b = two_digits.as_bytes();
    if b.len() != 2 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = (b[0] - b'0') * 10 + (b[1] - b'0');
    matches!(n, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81 | 82)
}
