//! Statistical division codes (统计用区划代码, NBS): 12 digits = province 2 + city 2 +
//! county 2 + township 3 + village 3. The first 6 digits are the GB/T 2260 county code.
//!
//! Codes are stored in the 12-digit form and shown in the "prefix" form, i.e. only the
//! significant digits for the level (2, 4, 6, 9 or 12): `42`, `4201`, `420106`, …

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::CodeError;

/// Byte ranges of the five groups in the 12-digit form.
const GROUPS: [(usize, usize); 5] = [(0, 2), (2, 4), (4, 6), (6, 9), (9, 12)];

/// Level of a division.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Province = 1,
    City = 2,
    County = 3,
    Township = 4,
    Village = 5,
}

impl Level {
    /// All levels, top down.
    pub const ALL: [Level; 5] = [Level::Province, Level::City, Level::County, Level::Township, Level::Village];

    /// 1 → Province … 5 → Village.
    pub fn from_u8(n: u8) -> Option<Level> {
        match n {
            1 => Some(Level::Province),
            2 => Some(Level::City),
            3 => Some(Level::County),
            4 => Some(Level::Township),
            5 => Some(Level::Village),
            _ => None,
        }
    }

    /// 省级 / 地级 / 县级 / 乡级 / 村级.
    pub fn label(self) -> &'static str {
        match self {
            Level::Province => "省级",
            Level::City => "地级",
            Level::County => "县级",
            Level::Township => "乡级",
            Level::Village => "村级",
        }
    }

    /// Number of significant digits at this level: 2, 4, 6, 9, 12.
    pub fn prefix_len(self) -> usize {
        GROUPS[self as usize - 1].1
    }
}

impl Level {
    /// The level a code of this many digits names (12 digits: village).
    pub fn for_len(len: usize) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.prefix_len() == len)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Kind of a township-level unit, from digits 7–9: 001–099 街道, 100–199 镇, 200–399 乡.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TownshipKind {
    /// 街道 (001–099)
    Subdistrict,
    /// 镇 (100–199)
    Town,
    /// 乡 (200–399)
    Township,
    /// Other township-level units (400–999, e.g. development zones).
    Other,
}

impl TownshipKind {
    /// 街道 / 镇 / 乡 / 其他乡级单位.
    pub fn label(self) -> &'static str {
        match self {
            TownshipKind::Subdistrict => "街道",
            TownshipKind::Town => "镇",
            TownshipKind::Township => "乡",
            TownshipKind::Other => "其他乡级单位",
        }
    }
}

/// Kind of a village-level unit, from digits 10–12: 001–199 居委会, 200–399 村委会.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VillageKind {
    /// 居委会 (001–199)
    ResidentsCommittee,
    /// 村委会 (200–399)
    VillagersCommittee,
    /// Other village-level units (400–999).
    Other,
}

impl VillageKind {
    /// 居委会 / 村委会 / 其他村级单位.
    pub fn label(self) -> &'static str {
        match self {
            VillageKind::ResidentsCommittee => "居委会",
            VillageKind::VillagersCommittee => "村委会",
            VillageKind::Other => "其他村级单位",
        }
    }
}

/// A structurally valid statistical division code: its 12-digit form and its level.
///
/// The level is explicit because the 12-digit form alone is ambiguous in the real table:
/// cities without counties carry a county entry with the same digits (东莞市 `4419` and
/// `441900`), and 金门县 has placeholder township and village entries (`350527000`,
/// `350527000000`). The significant-digit ("prefix") form is unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode {
    full: String,
    level: Level,
}

impl DivisionCode {
    /// Parses user input: 2, 4, 6 or 9 digits name that level (`420106` is a county); 12
    /// digits take the level of their last nonzero group (`420106000000` is the county).
    ///
    /// Rejects other lengths, non-digits, and a zero province or city group at or above the
    /// level (e.g. `420000000001`). County and township groups may be zero (`441900`,
    /// `441900003`, `350527000`). The code is not looked up in any table.
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn parse(input: &str) -> Result<DivisionCode, CodeError> {
        let s = input.trim();
        let level = Level::for_len(s.len()).ok_or(CodeError::DivisionFormat)?; // 12: refined below
        let mut c = Self::exact(s, level)?;
        if s.len() == 12 {
            let last = GROUPS
                .iter()
                .rposition(|(a, b)| c.full[*a..*b].bytes().any(|x| x != b'0'))
                .expect("province group checked nonzero");
            c.level = Level::from_u8(last as u8 + 1).expect("five groups");
        }
        c.check_structure()?;
        Ok(c)
    }

    /// Parses a code whose length alone gives its level (12 digits = village), as the NBS
    /// table lists them; used when loading the table.
    pub fn parse_exact(input: &str) -> Result<DivisionCode, CodeError> {
        let s = input.trim();
        let level = Level::for_len(s.len()).ok_or(CodeError::DivisionFormat)?;
        let c = Self::exact(s, level)?;
        c.check_structure()?;
        Ok(c)
    }

    fn exact(s: &str, level: Level) -> Result<DivisionCode, CodeError> {
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::DivisionFormat);
        }
        let mut full = String::with_capacity(12);
        full.push_str(s);
        while full.len() < 12 {
            full.push('0');
        }
        if &full[..2] == "00" {
            return Err(CodeError::DivisionProvinceZero);
        }
        Ok(DivisionCode { full, level })
    }

    /// Province and city groups must be nonzero at or above the level.
    fn check_structure(&self) -> Result<(), CodeError> {
        if self.level >= Level::City && &self.full[2..4] == "00" {
            return Err(CodeError::DivisionStructure(self.full.clone()));
        }
        Ok(())
    }

    pub fn level(&self) -> Level {
        self.level
    }

    /// The 12-digit form.
    pub fn full(&self) -> &str {
        &self.full
    }

    /// The significant digits for the level (2, 4, 6, 9 or 12 digits): unique per division.
    pub fn prefix(&self) -> &str {
        &self.full[..self.level.prefix_len()]
    }

    /// The enclosing division one level up; `None` for a province.
    pub fn parent(&self) -> Option<DivisionCode> {
        let level = Level::from_u8(self.level as u8 - 1)?;
        self.ancestor_at(level)
    }

    /// This code truncated to `level`; `None` if `level` is below this code's level.
    pub fn ancestor_at(&self, level: Level) -> Option<DivisionCode> {
        if level > self.level {
            return None;
        }
        let mut full = self.full[..level.prefix_len()].to_string();
        while full.len() < 12 {
            full.push('0');
        }
        Some(DivisionCode { full, level })
    }

    /// All enclosing divisions, province first (not including `self`).
    pub fn ancestors(&self) -> Vec<DivisionCode> {
        Level::ALL.iter().take_while(|l| **l < self.level).filter_map(|l| self.ancestor_at(*l)).collect()
    }

    /// True when this code lies within the scope given by a prefix (e.g. "4201");
    /// the empty prefix is the national scope and contains everything.
    pub fn is_within(&self, scope_prefix: &str) -> bool {
        self.prefix().starts_with(scope_prefix)
    }

    /// Kind of the township part (街道/镇/乡) for township- and village-level codes;
    /// `None` above township level.
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn township_kind(&self) -> Option<TownshipKind> {
        if self.level() < Level::Township {
            return None;
        }
        let n: u16 = self.full[6..9].parse().expect("digits");
        Some(match n {
            1..=99 => TownshipKind::Subdistrict,
            100..=199 => TownshipKind::Town,
            200..=399 => TownshipKind::Township,
            _ => TownshipKind::Other,
        })
    }

    /// Kind of a village-level code (居委会/村委会); `None` for other levels.
    #[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
    pub fn village_kind(&self) -> Option<VillageKind> {
        if self.level != Level::Village {
            return None;
        }
        let n: u16 = self.full[9..12].parse().expect("digits");
        Some(match n {
            1..=199 => VillageKind::ResidentsCommittee,
            200..=399 => VillageKind::VillagersCommittee,
            _ => VillageKind::Other,
        })
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

impl Serialize for DivisionCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.prefix())
    }
}

impl<'de> Deserialize<'de> for DivisionCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        DivisionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dc(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }

    #[test]
    fn cities_without_counties() {
        // 东莞市 4419: townships sit directly below the city.
        let t = DivisionCode::parse("441900003").unwrap();
        assert_eq!(t.level(), Level::Township);
        assert_eq!(t.prefix(), "441900003");
        assert_eq!(t.parent().unwrap().prefix(), "441900");
        let chain: Vec<String> = t.ancestors().iter().map(|a| a.prefix().to_string()).collect();
        assert_eq!(chain, vec!["44", "4419", "441900"]);
        // the table's county entry 441900 and the city 4419 stay distinct
        assert_eq!(DivisionCode::parse("441900").unwrap().level(), Level::County);
        assert_eq!(DivisionCode::parse("441900000000").unwrap().prefix(), "4419");
        // 金门县 placeholders
        assert_eq!(DivisionCode::parse_exact("350527000000").unwrap().prefix(), "350527000000");
        let v = DivisionCode::parse("441900003001").unwrap();
        assert_eq!(v.level(), Level::Village);
        assert_eq!(v.parent().unwrap().prefix(), "441900003");
        assert!(DivisionCode::parse("420000001000").is_err());
    }

    #[test]
    fn levels_and_forms() {
        let cases = [
            ("42", Level::Province, "420000000000", "42"),
            ("4201", Level::City, "420100000000", "4201"),
            ("420106", Level::County, "420106000000", "420106"),
            ("420106001", Level::Township, "420106001000", "420106001"),
            ("420106001001", Level::Village, "420106001001", "420106001001"),
            ("420100000000", Level::City, "420100000000", "4201"),
            // short forms name their level, even with a zero group (金门县 placeholders)
            ("420106000", Level::Township, "420106000000", "420106000"),
        ];
        for (input, level, full, prefix) in cases {
            let c = dc(input);
            assert_eq!(c.level(), level, "{input}");
            assert_eq!(c.full(), full, "{input}");
            assert_eq!(c.prefix(), prefix, "{input}");
            assert_eq!(c.to_string(), prefix);
        }
    }

    #[test]
    fn level_helpers() {
        assert_eq!(Level::from_u8(3), Some(Level::County));
        assert_eq!(Level::from_u8(0), None);
        assert_eq!(Level::from_u8(6), None);
        let labels: Vec<_> = Level::ALL.iter().map(|l| l.label()).collect();
        assert_eq!(labels, ["省级", "地级", "县级", "乡级", "村级"]);
        let lens: Vec<_> = Level::ALL.iter().map(|l| l.prefix_len()).collect();
        assert_eq!(lens, [2, 4, 6, 9, 12]);
        assert_eq!(Level::Township as u8, 4);
    }

    #[test]
    fn rejects_bad_input() {
        for bad in
            ["", "4", "420", "42010", "4201060", "42010600", "4201060010", "4201060010010", "42a1", "４２", "-42"]
        {
            let e = DivisionCode::parse(bad).unwrap_err();
            assert_eq!(e, CodeError::DivisionFormat, "{bad}");
            assert_eq!(e.to_string(), "区划代码应为 2、4、6、9 或 12 位数字");
        }
        assert_eq!(DivisionCode::parse("00").unwrap_err(), CodeError::DivisionProvinceZero);
        assert_eq!(DivisionCode::parse("000106").unwrap_err(), CodeError::DivisionProvinceZero);
        let e = DivisionCode::parse("420000000001").unwrap_err();
        assert_eq!(e, CodeError::DivisionStructure("420000000001".into()));
        assert!(e.to_string().contains("层级不一致"));
        assert!(DivisionCode::parse("420006").is_err());
        assert!(DivisionCode::parse("420000001").is_err()); // a city group of 00 is never valid below a province
        assert!(DivisionCode::parse("4200").is_err());
    }

    #[test]
    fn parents_and_ancestors() {
        let v = dc("420106001001");
        assert_eq!(v.parent(), Some(dc("420106001")));
        assert_eq!(dc("42").parent(), None);
        let anc: Vec<String> = v.ancestors().iter().map(|c| c.prefix().to_string()).collect();
        assert_eq!(anc, ["42", "4201", "420106", "420106001"]);
        assert!(dc("42").ancestors().is_empty());
        assert_eq!(v.ancestor_at(Level::City), Some(dc("4201")));
        assert_eq!(dc("4201").ancestor_at(Level::County), None);
    }

    #[test]
    fn scopes() {
        let v = dc("420106001001");
        assert!(v.is_within(""));
        assert!(v.is_within("42"));
        assert!(v.is_within("4201"));
        assert!(v.is_within("420106001001"));
        assert!(!v.is_within("4202"));
        assert!(!v.is_within("43"));
        assert!(!dc("4201").is_within("420106"));
    }

    #[test]
    fn kinds() {
        assert_eq!(dc("420106001").township_kind(), Some(TownshipKind::Subdistrict));
        assert_eq!(dc("420106099").township_kind(), Some(TownshipKind::Subdistrict));
        assert_eq!(dc("420106100").township_kind(), Some(TownshipKind::Town));
        assert_eq!(dc("420106199").township_kind(), Some(TownshipKind::Town));
        assert_eq!(dc("420106200").township_kind(), Some(TownshipKind::Township));
        assert_eq!(dc("420106399").township_kind(), Some(TownshipKind::Township));
        assert_eq!(dc("420106400").township_kind(), Some(TownshipKind::Other));
        assert_eq!(dc("420106").township_kind(), None);
        assert_eq!(dc("420106101201").township_kind(), Some(TownshipKind::Town));
        assert_eq!(TownshipKind::Subdistrict.label(), "街道");
        assert_eq!(TownshipKind::Town.label(), "镇");
        assert_eq!(TownshipKind::Township.label(), "乡");

        assert_eq!(dc("420106001001").village_kind(), Some(VillageKind::ResidentsCommittee));
        assert_eq!(dc("420106001199").village_kind(), Some(VillageKind::ResidentsCommittee));
        assert_eq!(dc("420106101200").village_kind(), Some(VillageKind::VillagersCommittee));
        assert_eq!(dc("420106101399").village_kind(), Some(VillageKind::VillagersCommittee));
        assert_eq!(dc("420106101400").village_kind(), Some(VillageKind::Other));
        assert_eq!(dc("420106101").village_kind(), None);
        assert_eq!(VillageKind::ResidentsCommittee.label(), "居委会");
        assert_eq!(VillageKind::VillagersCommittee.label(), "村委会");
    }

    #[test]
    fn serde_uses_prefix_form() {
        use serde::de::value::{Error, StrDeserializer};
        use serde::de::IntoDeserializer;
        let de: StrDeserializer<'_, Error> = "420100000000".into_deserializer();
        let c = DivisionCode::deserialize(de).unwrap();
        assert_eq!(c.to_string(), "4201");
        let bad: StrDeserializer<'_, Error> = "420".into_deserializer();
        assert!(DivisionCode::deserialize(bad).is_err());
    }
}
