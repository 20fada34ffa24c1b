//! The registry's pure rules: organization types and the status state machine, personal
//! data normalization (names, phones, social-work credentials, beneficiary categories,
//! volunteer numbers) and the n-gram folding behind Chinese fragment search.

use chrono::{Months, NaiveDate};

/// Defines a closed list of values with a stable snake_case key (stored in the database and
/// used by the API, also as the serde form) and a Chinese label: `ALL`, `as_str`, `label`,
/// `parse` (key or label), `Display` (the label), `Serialize`/`Deserialize` (the key).
macro_rules! keyed_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $key:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// All values, in declaration order.
            pub const ALL: [$name; [$($key),+].len()] = [$($name::$variant),+];

            /// The stable snake_case key, as stored in the database and used in the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $key, )+
                }
            }

            /// The Chinese label shown to people.
            pub fn label(self) -> &'static str {
                match self {
                    $( $name::$variant => $label, )+
                }
            }

            /// Parses a key (`as_str`) or a Chinese label (`label`), ignoring surrounding
            /// whitespace; labels are accepted so that imported spreadsheets may use either.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $name::ALL.into_iter().find(|v| v.as_str() == s || v.label() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        /// Deserializes from the key only (the API form), never from the label.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                $name::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| serde::de::Error::custom(format!("未知的{}「{}」", $what, s)))
            }
        }
    };
}

pub mod org;
pub mod person;
pub mod search;

pub use org::{
    check_transition, initial_history, standing, validate_history, CharityBasis, OrgStatus, OrgType, RegistryError,
    RegistryRules, Standing, StatusEvent,
};
pub use person::{BeneficiaryCategory, CredentialLevel, PersonRole, SkillDictionary, SkillEntry};

/// Folds a full-width ASCII form (U+FF01–U+FF5E) to its half-width character and the
/// ideographic space (U+3000) to a space; other characters are returned unchanged.
pub(crate) fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// `date` plus whole years, on the same month and day; 29 February becomes 28 February in
/// a common year. Saturates at the largest representable date.
pub fn add_years(date: NaiveDate, years: u32) -> NaiveDate {
    years.checked_mul(12).and_then(|m| date.checked_add_months(Months::new(m))).unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_width_maps_full_width_ascii() {
        let folded: String = "ＡＢｃ０９！～　中".chars().map(fold_width).collect();
        assert_eq!(folded, "ABc09!~ 中");
    }

    #[test]
    fn add_years_keeps_day_and_clamps_leap_day() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(add_years(d(2026, 3, 1), 1), d(2027, 3, 1));
        assert_eq!(add_years(d(2024, 2, 29), 1), d(2025, 2, 28));
        assert_eq!(add_years(d(2024, 2, 29), 4), d(2028, 2, 29));
        assert_eq!(add_years(d(2024, 12, 31), 0), d(2024, 12, 31));
        assert_eq!(add_years(d(2024, 1, 1), u32::MAX), NaiveDate::MAX);
    }
}
