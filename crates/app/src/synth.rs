//! Deterministic synthetic demo data: Chinese names, valid citizen IDs and unified social
//! credit codes, mobile numbers and organization names, from a small seeded PRNG
//! (SplitMix64), so the same seed always yields the same data set.

use chrono::{Datelike, Duration, NaiveDate};
use wushe_domain::codes::credit_code::{self, ALPHABET};
use wushe_domain::codes::{citizen_id, is_province_prefix};
use wushe_domain::registry::OrgType;

/// Surnames with weights roughly proportional to their frequency (per 10,000 people), the
/// common compound surnames at a low weight.
const SURNAMES: &[(&str, u32)] = &[
    ("王", 710),
    ("李", 700),
    ("张", 660),
    ("刘", 540),
    ("陈", 450),
    ("杨", 310),
    ("黄", 220),
    ("赵", 200),
    ("吴", 200),
    ("周", 190),
    ("徐", 130),
    ("孙", 130),
    ("马", 110),
    ("朱", 110),
    ("胡", 100),
    ("郭", 100),
    ("何", 90),
    ("林", 90),
    ("罗", 90),
    ("高", 90),
    ("郑", 80),
    ("梁", 80),
    ("谢", 70),
    ("宋", 70),
    ("唐", 70),
    ("许", 60),
    ("韩", 60),
    ("冯", 60),
    ("邓", 60),
    ("曹", 50),
    ("彭", 50),
    ("曾", 50),
    ("肖", 50),
    ("田", 50),
    ("董", 50),
    ("袁", 40),
    ("潘", 40),
    ("于", 40),
    ("蒋", 40),
    ("蔡", 40),
    ("余", 40),
    ("杜", 40),
    ("叶", 40),
    ("程", 40),
    ("苏", 30),
    ("魏", 30),
    ("吕", 30),
    ("丁", 30),
    ("任", 30),
    ("沈", 30),
    ("姚", 30),
    ("卢", 30),
    ("姜", 30),
    ("崔", 30),
    ("钟", 30),
    ("谭", 30),
    ("陆", 30),
    ("汪", 30),
    ("范", 20),
    ("金", 20),
    ("石", 20),
    ("廖", 20),
    ("贾", 20),
    ("夏", 20),
    ("韦", 20),
    ("付", 20),
    ("方", 20),
    ("白", 20),
    ("邹", 20),
    ("孟", 20),
    ("熊", 20),
    ("秦", 20),
    ("邱", 20),
    ("江", 20),
    ("尹", 20),
    ("薛", 20),
    ("闫", 20),
    ("段", 20),
    ("雷", 20),
    ("侯", 20),
    ("龙", 20),
    ("史", 20),
    ("陶", 10),
    ("黎", 10),
    ("贺", 10),
    ("顾", 10),
    ("毛", 10),
    ("郝", 10),
    ("龚", 10),
    ("邵", 10),
    ("万", 10),
    ("钱", 10),
    ("严", 10),
    ("覃", 10),
    ("武", 10),
    ("戴", 10),
    ("莫", 10),
    ("孔", 10),
    ("向", 10),
    ("汤", 10),
    ("欧阳", 3),
    ("司马", 1),
    ("诸葛", 1),
    ("上官", 1),
    ("东方", 1),
    ("皇甫", 1),
];

/// Common given-name characters.
const GIVEN: &[char] = &[
    '伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀', '霞',
    '平', '刚', '桂', '英', '华', '玉', '兰', '萍', '红', '鹏', '辉', '建', '国', '文', '宇', '浩', '然', '子', '涵',
    '欣', '怡', '梓', '轩', '博', '睿', '泽', '晨', '思', '雨', '佳', '一', '诺', '嘉', '琪', '雪', '婷', '倩', '颖',
    '琳', '晶', '慧', '莉', '燕', '凤', '梅', '琴', '云', '莹', '淑', '珍', '丹', '蕾', '瑶', '璐', '露', '薇', '妍',
    '彤', '悦', '可', '心', '馨', '宁', '安', '康', '健', '斌', '彬', '峰', '波', '飞', '凯', '俊', '帅', '亮', '海',
    '江', '山', '林', '森', '松', '柏', '毅', '坤', '鑫', '昊', '天', '宏', '志', '远', '航', '翔', '阳', '光', '东',
    '春', '秋', '冬', '立', '新', '成', '荣', '德', '福', '顺', '利', '兴', '和', '祥', '瑞', '庆', '永', '长', '金',
    '宝', '珠', '家', '豪', '晓', '少', '佩', '婉', '清', '楠', '楚', '君', '芸', '芬', '菊', '荷', '莲', '蓉', '琦',
    '琼', '瑜', '璇', '蕊', '菲', '茜', '媛', '婧', '晴', '紫', '若', '依', '沐', '奕', '辰', '铭', '皓', '烨', '煜',
    '哲', '逸', '霖', '恒', '旭', '钰', '凡', '帆', '晗', '萱', '彦', '宸', '诗', '语', '韵', '雅', '蓝', '茹', '玲',
];

/// Name stems of organizations.
const STEMS: &[&str] = &[
    "阳光",
    "同心",
    "益家",
    "乐善",
    "春晖",
    "善缘",
    "暖心",
    "启明",
    "和美",
    "邻里",
    "爱心",
    "仁爱",
    "心连心",
    "向日葵",
    "彩虹",
    "晨光",
    "明德",
    "博爱",
    "至善",
    "安康",
    "颐年",
    "长青",
    "夕阳红",
    "童心",
    "萌芽",
    "繁星",
    "星光",
    "朝阳",
    "微光",
    "手拉手",
    "惠民",
    "民心",
    "馨安",
    "众善",
    "德馨",
    "弘善",
    "善行",
    "益心",
    "恒爱",
    "友邻",
    "睦邻",
    "乐龄",
    "福寿",
    "蒲公英",
    "绿叶",
    "齐心",
    "携手",
    "守望",
    "聚力",
    "润心",
    "关爱",
    "怡康",
    "知行",
    "共享",
    "筑梦",
    "点亮",
];

const CHARITY_SUFFIXES: &[&str] = &["慈善会", "公益服务中心", "慈善服务中心", "公益发展中心"];
const SOCIAL_WORK_SUFFIXES: &[&str] = &["社会工作服务中心", "社会工作服务社", "社工服务中心", "社会工作发展中心"];
const VOLUNTEER_SUFFIXES: &[&str] = &["志愿者协会", "志愿服务队", "志愿服务协会", "青年志愿者协会"];
const FOUNDATION_SUFFIXES: &[&str] = &["慈善基金会", "公益基金会", "教育基金会", "助学基金会"];
const ASSOCIATION_SUFFIXES: &[&str] =
    &["老年人协会", "书画协会", "文化艺术协会", "体育协会", "摄影协会", "读书会", "助残协会", "家庭教育促进会"];
const SOCIAL_SERVICE_SUFFIXES: &[&str] =
    &["养老服务中心", "康复服务中心", "托育服务中心", "心理咨询服务中心", "家庭服务中心", "助残服务中心"];
const COMMUNITY_SUFFIXES: &[&str] =
    &["老年人协会", "文体队", "邻里互助会", "志愿服务队", "睦邻服务社", "舞蹈队", "健身队", "读书会"];
const HUB_SUFFIXES: &[&str] = &["社会组织联合会", "社会组织服务中心", "社会组织孵化基地", "公益创投服务中心"];
const INDUSTRY_SUFFIXES: &[&str] = &[
    "餐饮行业协会",
    "物业管理行业协会",
    "建筑业协会",
    "家政服务行业协会",
    "电子商务协会",
    "个体劳动者协会",
    "养老服务行业协会",
    "物流协会",
    "旅游协会",
    "工商业联合会商会",
];

/// Mobile prefixes (first three digits).
const MOBILE_PREFIXES: &[u16] = &[
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159, 170, 171, 173, 175,
    176, 177, 178, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 198, 199,
];

/// Suffixes that fit an organization type (the last part of its name).
fn suffixes(t: OrgType) -> &'static [&'static str] {
    match t {
        OrgType::CharityOrganization => CHARITY_SUFFIXES,
        OrgType::SocialWorkAgency => SOCIAL_WORK_SUFFIXES,
        OrgType::VolunteerOrganization => VOLUNTEER_SUFFIXES,
        OrgType::Foundation => FOUNDATION_SUFFIXES,
        OrgType::Association => ASSOCIATION_SUFFIXES,
        OrgType::SocialServiceOrganization => SOCIAL_SERVICE_SUFFIXES,
        OrgType::CommunitySocialOrganization => COMMUNITY_SUFFIXES,
        OrgType::HubOrganization => HUB_SUFFIXES,
        OrgType::IndustryAssociation => INDUSTRY_SUFFIXES,
    }
}

/// A deterministic generator of synthetic demo data.
pub struct Synth {
    state: u64,
    surname_total: u64,
}

impl Synth {
    pub fn new(seed: u64) -> Synth {
        Synth { state: seed, surname_total: SURNAMES.iter().map(|&(_, w)| u64::from(w)).sum() }
    }

    /// SplitMix64.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `lo..hi` (half-open); `lo` when the range is empty.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let n = hi - lo;
        // Lemire's multiply-shift, with rejection of the biased zone.
        let zone = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= zone {
                return lo + (m >> 64) as u64;
            }
        }
    }

    /// True with probability `p` (0 never, 1 always).
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// A uniformly chosen element. Panics on an empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        assert!(!items.is_empty(), "pick from an empty list");
        &items[self.range(0, items.len() as u64) as usize]
    }

    fn digit(&mut self) -> char {
        char::from(b'0' + self.range(0, 10) as u8)
    }

    fn surname(&mut self) -> &'static str {
        let mut r = self.range(0, self.surname_total);
        for &(s, w) in SURNAMES {
            let w = u64::from(w);
            if r < w {
                return s;
            }
            r -= w;
        }
        SURNAMES[0].0
    }

    /// A realistic Chinese name: a weighted common surname (a few compound ones) and one or
    /// two given-name characters; 2–4 characters in all.
    pub fn person_name(&mut self) -> String {
        let mut name = self.surname().to_string();
        name.push(*self.pick(GIVEN));
        if self.chance(0.7) {
            name.push(*self.pick(GIVEN));
        }
        name
    }

    /// A valid 18-character citizen ID issued in `county6`, born on a random date in the
    /// years `birth_year_range` (inclusive; clamped to 1900-01-01 … today), with a random
    /// sequence 001–999 and the correct check character.
    ///
    /// Panics unless `county6` is 6 digits starting with a province code.
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn citizen_id(&mut self, county6: &str, birth_year_range: (i32, i32)) -> String {
        assert!(
            county6.len() == 6 && county6.bytes().all(|b| b.is_ascii_digit()) && is_province_prefix(&county6[..2]),
            "county code {county6} must be 6 digits starting with a province code"
        );
        let (y0, y1) = (birth_year_range.0.min(birth_year_range.1), birth_year_range.0.max(birth_year_range.1));
        let min = NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date");
        let today = wushe_domain::time::today();
        let start = NaiveDate::from_ymd_opt(y0, 1, 1).unwrap_or(min).clamp(min, today);
        let end = NaiveDate::from_ymd_opt(y1, 12, 31).unwrap_or(today).clamp(start, today);
        let days = (end - start).num_days() as u64;
        let birth = start + Duration::days(self.range(0, days + 1) as i64);
        let seq = self.range(1, 1000);
        let first17 = format!("{county6}{:04}{:02}{:02}{seq:03}", birth.year(), birth.month(), birth.day());
        let check = citizen_id::check_char(&first17).expect("17 digits");
        format!("{first17}{check}")
    }

    /// A plausible 11-digit mainland mobile number.
    pub fn mobile(&mut self) -> String {
        let mut s = self.pick(MOBILE_PREFIXES).to_string();
        for _ in 0..8 {
            s.push(self.digit());
        }
        s
    }

    /// A valid unified social credit code: `registration_type` (authority and type, e.g.
    /// "51" 社会团体, "52" 社会服务机构, "53" 基金会), the division `county6`, a random 8-character
    /// organization-code body from the GB 32100 alphabet with its GB 11714 check character,
    /// and the overall check character.
    ///
    /// Panics unless `registration_type` is 2 alphabet characters and `county6` 6 digits.
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn credit_code(&mut self, registration_type: &str, county6: &str) -> String {
        assert!(
            registration_type.chars().count() == 2 && registration_type.chars().all(|c| ALPHABET.contains(c)),
            "registration type {registration_type} must be 2 characters of the credit-code alphabet"
        );
        assert!(county6.len() == 6 && county6.bytes().all(|b| b.is_ascii_digit()), "county code must be 6 digits");
        let alphabet: Vec<char> = ALPHABET.chars().collect();
        let body: String = (0..8).map(|_| *self.pick(&alphabet)).collect();
        let org_check = credit_code::org_code_check_char(&body).expect("alphabet body");
        let first17 = format!("{registration_type}{county6}{body}{org_check}");
        let check = credit_code::check_char(&first17).expect("alphabet code");
        format!("{first17}{check}")
    }

    /// A plausible organization name in `county_name` (a county, city, province or
    /// community name): "武昌区阳光社会工作服务中心", "湖北省乐善慈善基金会",
    /// "积玉桥社区老年人协会". Hub and industry organizations are usually named after the
    /// place alone ("洪山区社会组织联合会", "江岸区餐饮行业协会").
    pub fn org_name(&mut self, county_name: &str, org_type: OrgType) -> String {
        let suffix = *self.pick(suffixes(org_type));
        let plain = matches!(org_type, OrgType::HubOrganization | OrgType::IndustryAssociation)
            || (org_type == OrgType::CommunitySocialOrganization && self.chance(0.5));
        if plain && !self.chance(0.1) {
            format!("{county_name}{suffix}")
        } else {
            format!("{county_name}{}{suffix}", self.pick(STEMS))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use wushe_domain::codes::citizen_id::CitizenId;
    use wushe_domain::codes::credit_code::CreditCode;
    use wushe_domain::registry::person::{normalize_name, normalize_phone};

    use super::*;

    const COUNTIES: &[&str] = &["420106", "420111", "420102", "420120", "421002", "110105", "650102"];

    #[test]
    fn same_seed_same_data() {
        let run = |seed| {
            let mut s = Synth::new(seed);
            (0..200)
                .map(|_| {
                    format!(
                        "{} {} {} {} {} {}",
                        s.person_name(),
                        s.citizen_id("420106", (1940, 2010)),
                        s.mobile(),
                        s.credit_code("52", "420106"),
                        s.org_name("武昌区", OrgType::SocialWorkAgency),
                        s.range(0, 1000),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn ten_thousand_valid_citizen_ids() {
        let mut s = Synth::new(7);
        let today = wushe_domain::time::today();
        let mut seen = HashSet::new();
        for i in 0..10_000 {
            let county = COUNTIES[i % COUNTIES.len()];
            let id = s.citizen_id(county, (1930, 2015));
            let parsed = CitizenId::parse(&id, today).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(parsed.as_str(), id);
            assert_eq!(parsed.address_code(), county);
            assert!((1930..=2015).contains(&parsed.birth_date().year()), "{id}");
            seen.insert(id);
        }
        assert!(seen.len() > 9_990, "IDs should rarely repeat: {}", seen.len());
    }

    #[test]
    fn citizen_id_ranges_are_clamped() {
        let mut s = Synth::new(1);
        let today = wushe_domain::time::today();
        for _ in 0..500 {
            let id = s.citizen_id("420106", (today.year(), today.year() + 5));
            let parsed = CitizenId::parse(&id, today).unwrap();
            assert!(parsed.birth_date() <= today);
            let old = s.citizen_id("420106", (1800, 1900));
            assert_eq!(CitizenId::parse(&old, today).unwrap().birth_date().year(), 1900);
            // A reversed range works too.
            let id = s.citizen_id("420106", (1990, 1980));
            assert!((1980..=1990).contains(&CitizenId::parse(&id, today).unwrap().birth_date().year()));
        }
    }

    #[test]
    #[should_panic(expected = "must be 6 digits starting with a province code")]
    fn citizen_id_needs_a_county() {
        Synth::new(1).citizen_id("990101", (1980, 1990));
    }

    #[test]
    fn ten_thousand_valid_credit_codes() {
        let mut s = Synth::new(9);
        let mut seen = HashSet::new();
        for i in 0..10_000 {
            let county = COUNTIES[i % COUNTIES.len()];
            let kind = ["51", "52", "53"][i % 3];
            let code = s.credit_code(kind, county);
            let parsed = CreditCode::parse(&code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.registration_authority(), '5');
            assert_eq!(parsed.org_type(), kind);
            assert_eq!(parsed.division_code(), county);
            seen.insert(code);
        }
        assert_eq!(seen.len(), 10_000);
        assert!(CreditCode::parse(&s.credit_code("53", "100000")).is_ok());
    }

    #[test]
    #[should_panic(expected = "credit-code alphabet")]
    fn credit_code_needs_a_valid_type() {
        Synth::new(1).credit_code("5I", "420106");
    }

    #[test]
    fn names_are_realistic() {
        let mut s = Synth::new(3);
        let mut surnames = HashSet::new();
        let mut compound = 0;
        for _ in 0..20_000 {
            let n = s.person_name();
            let len = n.chars().count();
            assert!((2..=4).contains(&len), "{n}");
            assert_eq!(normalize_name(&n).as_deref(), Ok(n.as_str()));
            let sur = SURNAMES
                .iter()
                .map(|&(sur, _)| sur)
                .filter(|sur| n.starts_with(sur))
                .max_by_key(|sur| sur.len())
                .unwrap_or_else(|| panic!("{n} starts with no known surname"));
            if sur.chars().count() == 2 {
                compound += 1;
            }
            surnames.insert(sur);
        }
        assert!(surnames.len() >= 60, "{}", surnames.len());
        assert!((1..200).contains(&compound), "compound surnames should be rare: {compound}");
        let wang = (0..10_000).filter(|_| s.person_name().starts_with('王')).count();
        assert!((400..1000).contains(&wang), "王 about 7 %: {wang}");
    }

    #[test]
    fn word_lists_are_big_enough_and_distinct() {
        let given: HashSet<_> = GIVEN.iter().collect();
        assert!(given.len() >= 150, "{}", given.len());
        let surnames: HashSet<_> = SURNAMES.iter().map(|(s, _)| s).collect();
        assert_eq!(surnames.len(), SURNAMES.len());
        assert!(surnames.len() >= 60);
        for c in ["欧阳", "司马", "诸葛"] {
            assert!(surnames.contains(&c));
        }
        let stems: HashSet<_> = STEMS.iter().collect();
        assert_eq!(stems.len(), STEMS.len());
        assert!(stems.len() >= 40);
    }

    #[test]
    fn mobiles_are_plausible() {
        let mut s = Synth::new(5);
        for _ in 0..5_000 {
            let m = s.mobile();
            assert_eq!(m.len(), 11);
            assert!(MOBILE_PREFIXES.contains(&m[..3].parse().unwrap()), "{m}");
            assert_eq!(normalize_phone(&m).as_deref(), Ok(m.as_str()));
        }
    }

    #[test]
    fn org_names_fit_their_type() {
        let mut s = Synth::new(11);
        let mut names = HashSet::new();
        for t in OrgType::ALL {
            for _ in 0..200 {
                let n = s.org_name("武昌区", t);
                assert!(n.starts_with("武昌区"), "{n}");
                assert!(suffixes(t).iter().any(|suf| n.ends_with(suf)), "{t:?}: {n}");
                names.insert(n);
            }
        }
        assert!(names.len() > 500, "names should vary: {}", names.len());
        let n = s.org_name("积玉桥社区", OrgType::CommunitySocialOrganization);
        assert!(n.starts_with("积玉桥社区"));
        let n = s.org_name("湖北省", OrgType::Foundation);
        assert!(n.ends_with("基金会"));
    }

    #[test]
    fn range_chance_pick() {
        let mut s = Synth::new(0);
        let mut hit = [false; 7];
        for _ in 0..10_000 {
            let x = s.range(3, 10);
            assert!((3..10).contains(&x));
            hit[(x - 3) as usize] = true;
        }
        assert!(hit.iter().all(|&h| h));
        assert_eq!(s.range(5, 5), 5);
        assert_eq!(s.range(5, 1), 5);
        assert!(s.range(0, u64::MAX) < u64::MAX);
        assert!((0..1000).all(|_| !s.chance(0.0)));
        assert!((0..1000).all(|_| s.chance(1.0)));
        let heads = (0..10_000).filter(|_| s.chance(0.3)).count();
        assert!((2_700..3_300).contains(&heads), "{heads}");
        let items = ["a", "b", "c"];
        let picked: HashSet<_> = (0..100).map(|_| *s.pick(&items)).collect();
        assert_eq!(picked.len(), 3);
    }
}
