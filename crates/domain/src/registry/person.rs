//! People in the registry: normalization of names and phone numbers, social-work
//! credentials, beneficiary categories and the public volunteer number.
//!
//! Validation messages are Chinese and, like the account rules, name the field.

use chrono::NaiveDate;

use super::{add_years, fold_width};

/// Characters accepted as the middle dot of minority and foreign names; all become `·`
/// (U+00B7).
const DOTS: [char; 7] = ['·', '•', '・', '‧', '∙', '⋅', '･'];

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'     // Extension A
        | '\u{4E00}'..='\u{9FFF}'   // URO
        | '\u{F900}'..='\u{FAFF}'   // compatibility ideographs
        | '\u{20000}'..='\u{323AF}' // Extensions B–H and compatibility supplement
        | '〇')
}

/// ASCII letters and the letters of Latin-1 Supplement / Latin Extended-A and -B.
fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic() || (('\u{00C0}'..='\u{024F}').contains(&c) && c.is_alphabetic())
}

/// Normalizes a personal name: trims, folds full-width letters to half-width, turns every
/// middle-dot look-alike (`•`, `・`, …) into `·`, and collapses whitespace — one space is
/// kept only between two Latin letters (`Anna  Lee` → `Anna Lee`), spaces next to Chinese
/// characters or the dot are dropped (`张 三` → `张三`, `买买提 · 艾力` → `买买提·艾力`).
///
/// Accepts 2–30 characters of Chinese characters, Latin letters, spaces and `·`; the dot
/// may not start or end the name or be doubled.
pub fn normalize_name(input: &str) -> Result<String, &'static str> {
    let mut out: Vec<char> = Vec::new();
    let mut pending_space = false;
    for c in input.chars() {
        let c = fold_width(c);
        let c = if DOTS.contains(&c) { '·' } else { c };
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if !(is_cjk(c) || is_latin(c) || c == '·') {
            return Err("姓名只能包含汉字、英文字母、空格和间隔号「·」");
        }
        if pending_space && is_latin(c) && out.last().is_some_and(|&p| is_latin(p)) {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    if out.is_empty() {
        return Err("姓名不能为空");
    }
    if out.first() == Some(&'·') || out.last() == Some(&'·') || out.windows(2).any(|w| w == ['·', '·']) {
        return Err("姓名中的间隔号「·」不能在开头、结尾或连续出现");
    }
    if !(2..=30).contains(&out.len()) {
        return Err("姓名应为 2–30 个字");
    }
    Ok(out.into_iter().collect())
}

/// Normalizes a mainland phone number.
///
/// - Mobile: `1[3-9]` + 9 digits, returned as 11 digits (`138 1234 5678`,
///   `+86-138-1234-5678`, `8613812345678` → `13812345678`).
/// - Landline: area code + 7–8 digit local number, returned as `区号-号码`. The area code has
///   3 digits for 010 and 02X (Beijing and the big cities), 4 otherwise (`02787654321` →
///   `027-87654321`, `0710 3456789` → `0710-3456789`); the local number starts with 2–9. In
///   international form the trunk 0 is restored (`+86 27 8765 4321` → `027-87654321`).
///
/// Spaces, dashes and parentheses are ignored; full-width digits are folded; a `+86` or
/// `0086` prefix is dropped.
pub fn normalize_phone(input: &str) -> Result<String, &'static str> {
    let folded: String = input.chars().map(fold_width).collect();
    let s = folded.trim();
    if s.is_empty() {
        return Err("电话号码不能为空");
    }
    let (mut intl, rest) = match s.strip_prefix("+86").or_else(|| s.strip_prefix("0086")) {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut digits = String::with_capacity(12);
    for c in rest.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !(c.is_whitespace() || matches!(c, '-' | '‐' | '‑' | '–' | '—' | '(' | ')')) {
            return Err("电话号码只能包含数字、空格和短横线，可带 +86 前缀");
        }
    }
    if !intl && digits.len() == 13 && digits.starts_with("861") {
        digits.drain(..2);
        intl = true;
    }
    if intl && !digits.starts_with(['0', '1']) {
        digits.insert(0, '0');
    }
    let b = digits.as_bytes();
    match b.first() {
        Some(b'1') => {
            if b.len() == 11 && (b'3'..=b'9').contains(&b[1]) {
                Ok(digits)
            } else {
                Err("手机号码应为 11 位数字，以 13–19 开头")
            }
        }
        Some(b'0') => {
            let area_len = if digits.starts_with("010") || digits.starts_with("02") { 3 } else { 4 };
            let local_len = b.len().saturating_sub(area_len);
            if b.len() > 1 && b[1] != b'0' && (7..=8).contains(&local_len) && (b'2'..=b'9').contains(&b[area_len]) {
                Ok(format!("{}-{}", &digits[..area_len], &digits[area_len..]))
            } else {
                Err("固定电话应为区号加 7–8 位号码，如 027-87654321")
            }
        }
        _ => Err("电话号码应为 11 位手机号码或带区号的固定电话"),
    }
}

keyed_enum! {
    /// Social-work professional credential (社会工作者职业资格).
    pub enum CredentialLevel ("社会工作者职业资格等级") {
        /// 助理社会工作师 (junior)
        Assistant = "assistant", "助理社会工作师";
        /// 社会工作师 (intermediate)
        Intermediate = "intermediate", "社会工作师";
        /// 高级社会工作师 (senior)
        Senior = "senior", "高级社会工作师";
    }
}

/// Years a social worker's registration stays valid (one continuing-education cycle).
pub const REGISTRATION_YEARS: u32 = 3;

impl CredentialLevel {
    /// Continuing-education hours required per 3-year registration cycle: 72 for
    /// 助理社会工作师, 90 for 社会工作师 and 高级社会工作师.
    pub fn required_ce_hours(self) -> u32 {
        match self {
            CredentialLevel::Assistant => 72,
            CredentialLevel::Intermediate | CredentialLevel::Senior => 90,
        }
    }
}

/// Last day a registration made on `registered` is valid: the same month and day 3 years
/// later (29 February → 28 February).
pub fn registration_valid_until(registered: NaiveDate) -> NaiveDate {
    add_years(registered, REGISTRATION_YEARS)
}

/// Continuing-education status for a cycle: (hours required, requirement met).
pub fn ce_status(level: CredentialLevel, hours_in_cycle: u32) -> (u32, bool) {
    let required = level.required_ce_hours();
    (required, hours_in_cycle >= required)
}

keyed_enum! {
    /// Categories of beneficiaries (服务对象); a person may be in several.
    pub enum BeneficiaryCategory ("服务对象类别") {
        /// 低保 (最低生活保障对象)
        SubsistenceAllowance = "subsistence_allowance", "低保";
        /// 特困 (特困供养人员)
        ExtremePoverty = "extreme_poverty", "特困";
        /// 低保边缘
        LowIncomeMargin = "low_income_margin", "低保边缘";
        /// 困境儿童
        ChildrenInDifficulty = "children_in_difficulty", "困境儿童";
        /// 留守儿童
        LeftBehindChildren = "left_behind_children", "留守儿童";
        /// 留守老人
        LeftBehindElderly = "left_behind_elderly", "留守老人";
        /// 残疾人
        Disabled = "disabled", "残疾人";
        /// 高龄
        AdvancedAge = "advanced_age", "高龄";
        /// 失能 (needs long-term care)
        DisabledCare = "disabled_care", "失能";
        /// 孤儿
        Orphan = "orphan", "孤儿";
        /// 其他
        Other = "other", "其他";
    }
}

/// One entry of the volunteer skill dictionary (table `skills`, kept by administrators). The
/// key is stored with volunteers and never changes; the label may be renamed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkillEntry {
    pub key: String,
    pub label: String,
    pub sort_order: i64,
    /// Inactive skills are no longer offered or accepted as new choices, but volunteers keep
    /// them and their labels are still shown.
    pub active: bool,
}

/// The skill dictionary as loaded for one request or import.
#[derive(Debug, Clone, Default)]
pub struct SkillDictionary {
    entries: Vec<SkillEntry>,
}

impl SkillDictionary {
    /// Entries in display order (sort order, then key).
    pub fn new(mut entries: Vec<SkillEntry>) -> SkillDictionary {
        entries.sort_by(|a, b| a.sort_order.cmp(&b.sort_order).then_with(|| a.key.cmp(&b.key)));
        SkillDictionary { entries }
    }

    pub fn entries(&self) -> &[SkillEntry] {
        &self.entries
    }

    pub fn active(&self) -> impl Iterator<Item = &SkillEntry> {
        self.entries.iter().filter(|e| e.active)
    }

    /// The entry whose key or label is `s` (trimmed), active or not: for filtering by skills
    /// volunteers already hold.
    pub fn find(&self, s: &str) -> Option<&SkillEntry> {
        let s = s.trim();
        self.entries.iter().find(|e| e.key == s || e.label == s)
    }

    /// The active entry whose key or label is `s`: what a new choice may be.
    pub fn find_active(&self, s: &str) -> Option<&SkillEntry> {
        self.find(s).filter(|e| e.active)
    }

    /// The label of a key; the key itself if the dictionary lacks it.
    pub fn label<'a>(&'a self, key: &'a str) -> &'a str {
        self.entries.iter().find(|e| e.key == key).map_or(key, |e| e.label.as_str())
    }

    /// Another entry (not `except_key`) whose key or label equals `s`: keys and labels share
    /// one namespace, since forms and spreadsheets may give either.
    pub fn clash(&self, s: &str, except_key: Option<&str>) -> Option<&SkillEntry> {
        self.entries.iter().find(|e| Some(e.key.as_str()) != except_key && (e.key == s || e.label == s))
    }
}

/// A new skill key: 2–32 characters of lower-case ASCII letters, digits and `_`, starting
/// with a letter (stored comma-separated with volunteers, used in URLs and the API).
pub fn normalize_skill_key(input: &str) -> Result<String, &'static str> {
    let k = input.trim().to_ascii_lowercase();
    if k.is_empty() {
        return Err("不能为空");
    }
    let ok = k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && (2..=32).contains(&k.len());
    if ok {
        Ok(k)
    } else {
        Err("应为 2–32 位小写英文字母、数字或下划线，以字母开头，如 elder_care")
    }
}

/// A skill label: 1–20 characters without the separators of skill lists (commas, `、`,
/// semicolons, `|`, spaces), which would split it when typed into a form or a spreadsheet.
pub fn normalize_skill_label(input: &str) -> Result<String, &'static str> {
    let l = input.trim();
    if l.is_empty() {
        return Err("不能为空");
    }
    if l.chars().count() > 20 {
        return Err("不能超过 20 个字");
    }
    if l.chars().any(|c| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；' | '|')) {
        return Err("不能包含空格、逗号、顿号、分号或竖线");
    }
    Ok(l.to_string())
}

/// The roles a person can hold in the registry (one person record, several roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonRole {
    Volunteer,
    SocialWorker,
    Beneficiary,
}

impl PersonRole {
    pub const ALL: [PersonRole; 3] = [PersonRole::Volunteer, PersonRole::SocialWorker, PersonRole::Beneficiary];

    pub fn as_str(self) -> &'static str {
        match self {
            PersonRole::Volunteer => "volunteer",
            PersonRole::SocialWorker => "social_worker",
            PersonRole::Beneficiary => "beneficiary",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PersonRole::Volunteer => "志愿者",
            PersonRole::SocialWorker => "社会工作者",
            PersonRole::Beneficiary => "服务对象",
        }
    }
}

/// Age below which a volunteer needs a guardian's consent (志愿服务条例: minors take part in
/// activities suited to their age with their guardian's consent).
pub const ADULT_AGE: u32 = 18;

/// Whether a person of `age` needs a guardian recorded with consent: every minor, as a
/// volunteer or as a beneficiary (PIPL treats all data of children under 14 as sensitive,
/// and minors act through their guardian).
pub fn needs_guardian(age: u32) -> bool {
    age < ADULT_AGE
}

/// Parses a list of dictionary values separated by `,`, `，`, `、`, `;`, `；`, `|` or spaces
/// (keys or Chinese labels, as typed in a form or a spreadsheet cell), without repeats.
/// `Err` names the first unknown value.
pub fn parse_list<T: Copy + PartialEq>(input: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    for part in input.split([',', '，', '、', ';', '；', '|', ' ', '\u{3000}']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let v = parse(part).ok_or_else(|| part.to_string())?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// ISO 7064 MOD 11-2 check character over a string of ASCII digits (`X` stands for 10),
/// the scheme of the citizen ID's last character. `None` if `digits` is empty or holds
/// anything but ASCII digits.
#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
pub fn mod11_2_check_char(digits: &str) -> Option<char> {
    if digits.is_empty() {
        return None;
    }
    let mut p = 0u32;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        p = (p + u32::from(b - b'0')) * 2 % 11;
    }
    Some(match (12 - p) % 11 {
        10 => 'X',
        d => char::from_digit(d, 10).expect("0..=9"),
    })
}

/// Largest volunteer serial number per county (8 digits).
pub const MAX_VOLUNTEER_SERIAL: u64 = 99_999_999;

/// The public volunteer number (志愿者编号), never the ID number: `V`, the 6-digit county
/// code, the 8-digit zero-padded serial and an ISO 7064 MOD 11-2 check character over those
/// 14 digits (`X` for 10), e.g. `V42010600000001` + check.
///
/// # Panics
///
/// If `county6` is not six ASCII digits or `serial` exceeds [`MAX_VOLUNTEER_SERIAL`]: both
/// come from the system (a validated division code and a sequence), never from input.
#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
pub fn volunteer_number(county6: &str, serial: u64) -> String {
    assert!(county6.len() == 6 && county6.bytes().all(|b| b.is_ascii_digit()), "county code must be 6 digits");
    assert!(serial <= MAX_VOLUNTEER_SERIAL, "volunteer serial exceeds 8 digits");
    let body = format!("{county6}{serial:08}");
    let check = mod11_2_check_char(&body).expect("14 digits");
    format!("V{body}{check}")
}

/// Whether `s` is a volunteer number in canonical form: `V`, 14 digits, correct check
/// character (upper-case `X`). See [`parse_volunteer_number`] for user input.
pub fn check_volunteer_number(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('V') else {
        return false;
    };
    if rest.len() != 15 || !rest.is_char_boundary(14) {
        return false;
    }
    let (body, check) = rest.split_at(14);
    mod11_2_check_char(body).is_some_and(|c| check.len() == 1 && check.starts_with(c))
}

/// Normalizes user input (trims, folds full-width, upper-cases) and returns the canonical
/// volunteer number if it is valid.
pub fn parse_volunteer_number(input: &str) -> Option<String> {
    let s: String = input.trim().chars().map(fold_width).map(|c| c.to_ascii_uppercase()).collect();
    let s = s.trim().to_string();
    check_volunteer_number(&s).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::citizen_id;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn names_normalized() {
        assert_eq!(normalize_name("  张三 ").unwrap(), "张三");
        assert_eq!(normalize_name("张 三").unwrap(), "张三");
        assert_eq!(normalize_name("欧阳娜娜").unwrap(), "欧阳娜娜");
        assert_eq!(normalize_name("买买提 • 艾力").unwrap(), "买买提·艾力");
        assert_eq!(normalize_name("阿依古丽・吐尔逊").unwrap(), "阿依古丽·吐尔逊");
        assert_eq!(normalize_name("古丽‧热合曼").unwrap(), "古丽·热合曼");
        assert_eq!(normalize_name("Ａｎｎａ　　Ｌｅｅ").unwrap(), "Anna Lee");
        assert_eq!(normalize_name(" Anna \t Lee ").unwrap(), "Anna Lee");
        assert_eq!(normalize_name("José Müller").unwrap(), "José Müller");
        assert_eq!(normalize_name("王〇").unwrap(), "王〇");
        assert_eq!(normalize_name("𠮷田").unwrap(), "𠮷田");
    }

    #[test]
    fn names_rejected() {
        assert_eq!(normalize_name("   ").unwrap_err(), "姓名不能为空");
        assert_eq!(normalize_name("张").unwrap_err(), "姓名应为 2–30 个字");
        assert_eq!(normalize_name(&"张".repeat(31)).unwrap_err(), "姓名应为 2–30 个字");
        assert!(normalize_name(&"张".repeat(30)).is_ok());
        assert_eq!(normalize_name("张三3").unwrap_err(), "姓名只能包含汉字、英文字母、空格和间隔号「·」");
        assert!(normalize_name("张三，").is_err());
        assert!(normalize_name("김민준").is_err());
        assert_eq!(normalize_name("·艾力").unwrap_err(), "姓名中的间隔号「·」不能在开头、结尾或连续出现");
        assert!(normalize_name("艾力·").is_err());
        assert!(normalize_name("买买提··艾力").is_err());
        assert!(normalize_name("买买提· ·艾力").is_err());
    }

    #[test]
    fn mobiles() {
        for input in ["13812345678", " 138 1234 5678 ", "138-1234-5678", "+86 138 1234 5678", "+8613812345678"] {
            assert_eq!(normalize_phone(input).unwrap(), "13812345678", "{input}");
        }
        assert_eq!(normalize_phone("008613812345678").unwrap(), "13812345678");
        assert_eq!(normalize_phone("8613812345678").unwrap(), "13812345678");
        assert_eq!(normalize_phone("１３８１２３４５６７８").unwrap(), "13812345678");
        assert_eq!(normalize_phone("19912345678").unwrap(), "19912345678");
        assert_eq!(normalize_phone("12812345678").unwrap_err(), "手机号码应为 11 位数字，以 13–19 开头");
        assert!(normalize_phone("1381234567").is_err());
        assert!(normalize_phone("138123456789").is_err());
    }

    #[test]
    fn landlines() {
        assert_eq!(normalize_phone("027-87654321").unwrap(), "027-87654321");
        assert_eq!(normalize_phone("02787654321").unwrap(), "027-87654321");
        assert_eq!(normalize_phone("(027) 8765 4321").unwrap(), "027-87654321");
        assert_eq!(normalize_phone("010-12345678").unwrap_err(), "固定电话应为区号加 7–8 位号码，如 027-87654321");
        assert_eq!(normalize_phone("010-62345678").unwrap(), "010-62345678");
        assert_eq!(normalize_phone("0710-3456789").unwrap(), "0710-3456789");
        assert_eq!(normalize_phone("07103456789").unwrap(), "0710-3456789");
        assert_eq!(normalize_phone("0710-34567890").unwrap(), "0710-34567890");
        assert_eq!(normalize_phone("+86 27 8765 4321").unwrap(), "027-87654321");
        assert_eq!(normalize_phone("+86 710 345 6789").unwrap(), "0710-3456789");
        assert!(normalize_phone("0710-345678").is_err());
        assert!(normalize_phone("0710-345678901").is_err());
        assert!(normalize_phone("0027-87654321").is_err());
        assert!(normalize_phone("0").is_err());
    }

    #[test]
    fn phones_rejected() {
        assert_eq!(normalize_phone("  ").unwrap_err(), "电话号码不能为空");
        assert_eq!(normalize_phone("138x1234x5678").unwrap_err(), "电话号码只能包含数字、空格和短横线，可带 +86 前缀");
        assert_eq!(normalize_phone("87654321").unwrap_err(), "电话号码应为 11 位手机号码或带区号的固定电话");
        assert!(normalize_phone("+1 650 253 0000").is_err());
    }

    #[test]
    fn credentials() {
        assert_eq!(CredentialLevel::ALL.len(), 3);
        assert_eq!(CredentialLevel::Assistant.label(), "助理社会工作师");
        assert_eq!(CredentialLevel::parse("社会工作师"), Some(CredentialLevel::Intermediate));
        assert_eq!(CredentialLevel::parse("senior"), Some(CredentialLevel::Senior));
        assert_eq!(CredentialLevel::Assistant.required_ce_hours(), 72);
        assert_eq!(CredentialLevel::Intermediate.required_ce_hours(), 90);
        assert_eq!(CredentialLevel::Senior.required_ce_hours(), 90);
        assert_eq!(ce_status(CredentialLevel::Assistant, 72), (72, true));
        assert_eq!(ce_status(CredentialLevel::Assistant, 71), (72, false));
        assert_eq!(ce_status(CredentialLevel::Senior, 89), (90, false));
        assert_eq!(ce_status(CredentialLevel::Intermediate, 120), (90, true));
    }

    #[test]
    fn registration_validity() {
        assert_eq!(registration_valid_until(d(2024, 5, 10)), d(2027, 5, 10));
        assert_eq!(registration_valid_until(d(2024, 2, 29)), d(2027, 2, 28));
        assert_eq!(registration_valid_until(d(2025, 12, 31)), d(2028, 12, 31));
    }

    #[test]
    fn lists() {
        let p = BeneficiaryCategory::parse;
        assert_eq!(
            parse_list("低保、特困，orphan", p),
            Ok(vec![
                BeneficiaryCategory::SubsistenceAllowance,
                BeneficiaryCategory::ExtremePoverty,
                BeneficiaryCategory::Orphan
            ])
        );
        assert_eq!(parse_list(" ", p), Ok(vec![]));
        assert_eq!(parse_list("低保|特困|低保", p).unwrap().len(), 2);
        assert_eq!(parse_list("低保、唱歌", p), Err("唱歌".to_string()));
        assert!(needs_guardian(17));
        assert!(!needs_guardian(18));
    }

    fn dict() -> SkillDictionary {
        let e = |key: &str, label: &str, sort_order, active| SkillEntry {
            key: key.into(),
            label: label.into(),
            sort_order,
            active,
        };
        SkillDictionary::new(vec![
            e("legal", "法律咨询", 20, true),
            e("elder_care", "助老服务", 10, true),
            e("old", "旧技能", 30, false),
        ])
    }

    #[test]
    fn skill_dictionary() {
        let d = dict();
        assert_eq!(d.entries().iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["elder_care", "legal", "old"]);
        assert_eq!(d.find_active(" 法律咨询 ").map(|e| e.key.as_str()), Some("legal"));
        assert_eq!(d.find_active("elder_care").map(|e| e.label.as_str()), Some("助老服务"));
        assert!(d.find_active("old").is_none(), "inactive: not a new choice");
        assert_eq!(d.find("旧技能").map(|e| e.key.as_str()), Some("old"));
        assert_eq!(d.label("old"), "旧技能");
        assert_eq!(d.label("gone"), "gone");
        assert_eq!(d.active().count(), 2);
        assert_eq!(
            parse_list("助老服务、legal", |s| d.find_active(s).map(|e| e.key.as_str())),
            Ok(vec!["elder_care", "legal"])
        );
        assert_eq!(d.clash("legal", None).map(|e| e.key.as_str()), Some("legal"));
        assert_eq!(d.clash("法律咨询", Some("legal")), None, "an entry does not clash with itself");
        assert_eq!(d.clash("法律咨询", Some("old")).map(|e| e.key.as_str()), Some("legal"));
    }

    #[test]
    fn skill_keys_and_labels() {
        assert_eq!(normalize_skill_key(" First_Aid2 ").unwrap(), "first_aid2");
        assert!(normalize_skill_key("2x").is_err());
        assert!(normalize_skill_key("a").is_err());
        assert!(normalize_skill_key("急救").is_err());
        assert!(normalize_skill_key("a,b").is_err());
        assert_eq!(normalize_skill_key("").unwrap_err(), "不能为空");
        assert_eq!(normalize_skill_label(" 急救培训 ").unwrap(), "急救培训");
        assert!(normalize_skill_label("急救、培训").is_err());
        assert!(normalize_skill_label("急救 培训").is_err());
        assert!(normalize_skill_label(&"急".repeat(21)).is_err());
    }

    #[test]
    fn beneficiary_categories() {
        assert_eq!(BeneficiaryCategory::ALL.len(), 11);
        assert_eq!(BeneficiaryCategory::DisabledCare.as_str(), "disabled_care");
        assert_eq!(BeneficiaryCategory::DisabledCare.label(), "失能");
        assert_eq!(BeneficiaryCategory::parse("低保边缘"), Some(BeneficiaryCategory::LowIncomeMargin));
        assert_eq!(BeneficiaryCategory::parse("left_behind_elderly"), Some(BeneficiaryCategory::LeftBehindElderly));
        let keys: std::collections::HashSet<_> = BeneficiaryCategory::ALL.iter().map(|c| c.as_str()).collect();
        let labels: std::collections::HashSet<_> = BeneficiaryCategory::ALL.iter().map(|c| c.label()).collect();
        assert_eq!(keys.len(), 11);
        assert_eq!(labels.len(), 11);
    }

    #[test]
    fn mod11_2_matches_citizen_id_check() {
        for first17 in ["11010519491231002", "42010619800101123", "00000000000000000", "99999999999999999"] {
            assert_eq!(mod11_2_check_char(first17), citizen_id::check_char(first17), "{first17}");
        }
        assert_eq!(mod11_2_check_char(""), None);
        assert_eq!(mod11_2_check_char("12a"), None);
    }

    #[test]
    fn volunteer_numbers() {
        let n = volunteer_number("420106", 1);
        assert_eq!(n.len(), 16);
        assert!(n.starts_with("V42010600000001"));
        assert!(check_volunteer_number(&n));
        assert_eq!(&n[15..], mod11_2_check_char("42010600000001").unwrap().to_string());
        assert!(check_volunteer_number(&volunteer_number("420106", MAX_VOLUNTEER_SERIAL)));
        // Not an ID number, not lower case, not the wrong length.
        assert!(!check_volunteer_number("11010519491231002X"));
        assert!(!check_volunteer_number(&n.to_lowercase()));
        assert!(!check_volunteer_number(&n[..15]));
        assert!(!check_volunteer_number(&format!("{n}0")));
        assert!(!check_volunteer_number("V4201060000000一"));
        assert!(!check_volunteer_number(""));
        assert_eq!(parse_volunteer_number(&format!("  {} ", n.to_lowercase())), Some(n.clone()));
        let full_width: String = n.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
        assert_eq!(parse_volunteer_number(&full_width), Some(n));
        assert_eq!(parse_volunteer_number("V420106000000010"), None);
    }

    #[test]
    fn volunteer_number_with_x() {
        let (serial, n) = (0..100u64)
            .map(|s| (s, volunteer_number("420106", s)))
            .find(|(_, n)| n.ends_with('X'))
            .expect("some serial has check X");
        assert!(check_volunteer_number(&n), "{serial}");
        assert!(!check_volunteer_number(&n.replace('X', "x")));
    }

    #[test]
    #[should_panic(expected = "county code must be 6 digits")]
    fn volunteer_number_rejects_bad_county() {
        volunteer_number("4201", 1);
    }

    #[test]
    #[should_panic(expected = "volunteer serial exceeds 8 digits")]
    fn volunteer_number_rejects_big_serial() {
        volunteer_number("420106", MAX_VOLUNTEER_SERIAL + 1);
    }
}
