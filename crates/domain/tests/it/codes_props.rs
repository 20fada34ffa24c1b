//! Property tests for the code validators.

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use wushe_domain::codes::citizen_id::{self, CitizenId};
use wushe_domain::codes::credit_code::{self, CreditCode, ALPHABET};
use wushe_domain::codes::division::{DivisionCode, Level};

const PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
}

fn province() -> impl Strategy<Value = String> {
    proptest::sample::select(PROVINCES).prop_map(str::to_string)
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n).prop_map(|v| v.into_iter().map(|d| char::from(b'0' + d)).collect())
}

/// A random valid citizen ID: valid province, any 4 digits, a date in 1900–2020,
/// any sequence, computed check character.
fn valid_citizen_id() -> impl Strategy<Value = String> {
    let start = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    let end = NaiveDate::from_ymd_opt(2020, 12, 31).unwrap();
    let days = (end - start).num_days();
    (province(), digits(4), 0..=days, digits(3)).prop_map(move |(p, county, d, seq)| {
        let date = start + Duration::days(d);
        let first17 = format!("{p}{county}{}{seq}", date.format("%Y%m%d"));
        let check = citizen_id::check_char(&first17).unwrap();
        format!("{first17}{check}")
    })
}

fn alphabet_string(n: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = ALPHABET.chars().collect();
    proptest::collection::vec(proptest::sample::select(chars), n).prop_map(|v| v.into_iter().collect())
}

/// A random valid credit code: any authority/type, valid province + 4 digits, org code
/// body from the alphabet with its GB 11714 check char (redrawn if that is not in the
/// GB 32100 alphabet — it always is: digits and X), computed overall check.
fn valid_credit_code() -> impl Strategy<Value = String> {
    (alphabet_string(2), province(), digits(4), alphabet_string(8)).prop_map(|(head, p, county, org8)| {
        let org_check = credit_code::org_code_check_char(&org8).unwrap();
        let first17 = format!("{head}{p}{county}{org8}{org_check}");
        let check = credit_code::check_char(&first17).unwrap();
        format!("{first17}{check}")
    })
}

fn replace_at(s: &str, pos: usize, c: char) -> String {
    s.chars().enumerate().map(|(i, x)| if i == pos { c } else { x }).collect()
}

/// A random valid division code at a random level.
fn valid_division() -> impl Strategy<Value = String> {
    (1u8..=5, 1u32..100, 1u32..100, 1u32..100, 1u32..1000, 1u32..1000).prop_map(|(level, p, c, x, t, v)| {
        let full = format!("{p:02}{c:02}{x:02}{t:03}{v:03}");
        full[..Level::from_u8(level).unwrap().prefix_len()].to_string()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_citizen_ids_pass(id in valid_citizen_id()) {
        let parsed = CitizenId::parse(&id, today());
        prop_assert!(parsed.is_ok(), "{id}: {:?}", parsed);
        prop_assert_eq!(parsed.unwrap().into_string(), id);
    }

    #[test]
    fn lower_case_x_is_normalized(id in valid_citizen_id()) {
        let lower = id.to_lowercase();
        prop_assert_eq!(CitizenId::parse(&lower, today()).unwrap().into_string(), id);
    }

    #[test]
    fn any_single_char_change_in_citizen_id_fails(id in valid_citizen_id(), pos in 0usize..18) {
        let original = id.chars().nth(pos).unwrap();
        let allowed: &[char] = if pos == 17 {
            &['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X']
        } else {
            &['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
        };
        for &c in allowed.iter().filter(|&&c| c != original) {
            let changed = replace_at(&id, pos, c);
            prop_assert!(
                CitizenId::parse(&changed, today()).is_err(),
                "{} (from {}) passed", changed, id
            );
        }
    }

    #[test]
    fn generated_credit_codes_pass(code in valid_credit_code()) {
        let parsed = CreditCode::parse(&code);
        prop_assert!(parsed.is_ok(), "{code}: {:?}", parsed);
        let lower = code.to_lowercase();
        prop_assert_eq!(CreditCode::parse(&lower).unwrap().into_string(), code);
    }

    #[test]
    fn any_single_char_change_in_credit_code_fails(code in valid_credit_code(), pos in 0usize..18) {
        let original = code.chars().nth(pos).unwrap();
        for c in ALPHABET.chars().filter(|&c| c != original) {
            let changed = replace_at(&code, pos, c);
            prop_assert!(
                CreditCode::parse(&changed).is_err(),
                "{} (from {}) passed", changed, code
            );
        }
    }

    #[test]
    fn division_round_trips(input in valid_division()) {
        let code = DivisionCode::parse(&input).unwrap();
        prop_assert_eq!(code.prefix(), input.as_str());
        prop_assert_eq!(code.full().len(), 12);
        prop_assert!(code.full().starts_with(&input));
        prop_assert!(code.full()[input.len()..].bytes().all(|b| b == b'0'));
        prop_assert_eq!(code.level().prefix_len(), input.len());
        prop_assert_eq!(&DivisionCode::parse(code.full()).unwrap(), &code);
        prop_assert_eq!(&DivisionCode::parse(code.prefix()).unwrap(), &code);
        prop_assert_eq!(code.to_string(), input.clone());
    }

    #[test]
    fn division_parent_and_level_consistent(input in valid_division()) {
        let code = DivisionCode::parse(&input).unwrap();
        let ancestors = code.ancestors();
        prop_assert_eq!(ancestors.len(), code.level() as usize - 1);
        for (i, a) in ancestors.iter().enumerate() {
            prop_assert_eq!(a.level() as usize, i + 1);
            prop_assert!(code.is_within(a.prefix()));
        }
        match code.parent() {
            None => prop_assert_eq!(code.level(), Level::Province),
            Some(parent) => {
                prop_assert_eq!(parent.level() as u8 + 1, code.level() as u8);
                prop_assert!(code.is_within(parent.prefix()));
                prop_assert!(!parent.is_within(code.prefix()));
                prop_assert_eq!(Some(&parent), ancestors.last());
            }
        }
        prop_assert!(code.is_within(""));
        prop_assert!(code.is_within(code.prefix()));
    }
}
