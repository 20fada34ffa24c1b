//! Property tests for the registry rules: volunteer numbers, fragment-search grams, name and
//! phone normalization, and the organization status state machine.

use chrono::{Datelike, Duration, NaiveDate};
use proptest::prelude::*;
use proptest::sample::Index;
use wushe_domain::registry::org::{
    check_transition, standing, validate_history, OrgStatus, RegistryRules, StatusEvent,
};
use wushe_domain::registry::person::{
    check_volunteer_number, normalize_name, normalize_phone, registration_valid_until, volunteer_number,
    MAX_VOLUNTEER_SERIAL,
};
use wushe_domain::registry::search::{contains, fold, grams, query_grams, MAX_GRAM};

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n).prop_map(|v| v.into_iter().map(|d| char::from(b'0' + d)).collect())
}

fn replace_at(s: &str, pos: usize, c: char) -> String {
    s.chars().enumerate().map(|(i, x)| if i == pos { c } else { x }).collect()
}

/// Names mixing a small set of Chinese characters (so grams repeat), Latin letters in both
/// widths, digits, spaces, middle dots and punctuation.
fn messy_name() -> impl Strategy<Value = String> {
    "[社工慈善会王李欧阳买提艾力中心a-zA-Z0-9ａ-ｚＡ-Ｚ０-９ 　·•・，、（）《》「」.,!-]{0,24}"
}

/// Mostly acceptable names: Chinese characters, Latin letters in both widths, spaces and dots.
fn name_like() -> impl Strategy<Value = String> {
    "[ 　]{0,2}[王李欧阳买提艾力古丽a-zA-Zａ-ｚ]{1,6}([ 　]{0,2}[·•・]?[ 　]{0,2}[王李买提艾力古丽a-zA-Zａ-ｚ]{1,6}){0,3}[ 　]{0,2}"
}

proptest! {
    #[test]
    fn generated_volunteer_numbers_validate(county in digits(6), serial in 0..=MAX_VOLUNTEER_SERIAL) {
        let n = volunteer_number(&county, serial);
        prop_assert_eq!(n.len(), 16);
        prop_assert!(n.starts_with('V'));
        prop_assert_eq!(&n[1..7], county.as_str());
        prop_assert_eq!(n[7..15].parse::<u64>().unwrap(), serial);
        prop_assert!(check_volunteer_number(&n), "{}", n);
    }

    #[test]
    fn any_single_character_change_fails(
        county in digits(6),
        serial in 0..=MAX_VOLUNTEER_SERIAL,
        pos in 1usize..16,
        new in proptest::sample::select("0123456789X".chars().collect::<Vec<_>>()),
    ) {
        let n = volunteer_number(&county, serial);
        let old = n.chars().nth(pos).unwrap();
        // Body positions 1–14 take digits only; the check position 15 takes a digit or X.
        prop_assume!(new != old && (pos == 15 || new != 'X'));
        let changed = replace_at(&n, pos, new);
        prop_assert!(!check_volunteer_number(&changed), "{} → {}", n, changed);
    }

    #[test]
    fn query_grams_of_any_fragment_are_indexed(name in messy_name(), a in any::<Index>(), b in any::<Index>()) {
        let folded: Vec<char> = fold(&name).chars().collect();
        prop_assume!(!folded.is_empty());
        let (i, j) = (a.index(folded.len()), b.index(folded.len()));
        let (start, end) = (i.min(j), i.max(j) + 1);
        let q: String = folded[start..end].iter().collect();
        let g = grams(&name);
        let qg = query_grams(&q);
        prop_assert!(!qg.is_empty());
        for x in &qg {
            prop_assert!(g.contains(x), "{:?} not in grams of {:?} (q = {:?})", x, name, q);
        }
        prop_assert!(contains(&name, &q));
    }

    #[test]
    fn grams_are_distinct_and_at_most_max_gram_chars(name in messy_name()) {
        let g = grams(&name);
        let set: std::collections::HashSet<_> = g.iter().collect();
        prop_assert_eq!(set.len(), g.len());
        prop_assert!(g.iter().all(|x| (1..=MAX_GRAM).contains(&x.chars().count())));
    }

    #[test]
    fn fold_is_idempotent(s in messy_name()) {
        let f = fold(&s);
        prop_assert_eq!(fold(&f), f.clone());
        prop_assert!(!f.chars().any(|c| c.is_whitespace() || c.is_ascii_uppercase()));
    }

    #[test]
    fn normalize_name_is_idempotent(s in prop_oneof![messy_name(), name_like()]) {
        if let Ok(n) = normalize_name(&s) {
            prop_assert_eq!(normalize_name(&n), Ok(n.clone()));
            let len = n.chars().count();
            prop_assert!((2..=30).contains(&len));
            prop_assert!(!n.starts_with(' ') && !n.ends_with(' ') && !n.contains("  "));
        }
    }

    #[test]
    fn mobiles_normalize_in_any_format(second in 3u8..10, rest in digits(9), fmt in 0usize..5) {
        let m = format!("1{second}{rest}");
        let input = match fmt {
            0 => m.clone(),
            1 => format!("+86 {} {} {}", &m[..3], &m[3..7], &m[7..]),
            2 => format!("{}-{}-{}", &m[..3], &m[3..7], &m[7..]),
            3 => format!("86{m}"),
            _ => m.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect(),
        };
        prop_assert_eq!(normalize_phone(&input), Ok(m.clone()));
        prop_assert_eq!(normalize_phone(&m), Ok(m.clone()));
    }

    #[test]
    fn registration_validity_is_three_years(days in 0i64..60_000) {
        let reg = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + Duration::days(days);
        let until = registration_valid_until(reg);
        prop_assert_eq!(until.year(), reg.year() + 3);
        prop_assert_eq!(until.month(), reg.month());
        if (reg.month(), reg.day()) == (2, 29) {
            prop_assert_eq!(until.day(), 28);
        } else {
            prop_assert_eq!(until.day(), reg.day());
        }
    }

    /// Random attempts against the state machine: whatever it accepts forms a valid history
    /// whose standing is consistent.
    #[test]
    fn accepted_histories_are_consistent(
        attempts in proptest::collection::vec((0usize..6, 0i64..500), 0..30),
        min_years in 0u32..3,
    ) {
        let rules = RegistryRules { fundraising_min_years: min_years };
        let mut history: Vec<StatusEvent> = Vec::new();
        let mut day = NaiveDate::from_ymd_opt(2016, 9, 1).unwrap();
        for (s, gap) in attempts {
            let to = OrgStatus::ALL[s];
            let on = day + Duration::days(gap);
            if check_transition(&history, to, on, &rules).is_ok() {
                history.push(StatusEvent::new(to, on));
                day = on;
            }
        }
        prop_assert!(validate_history(&history, &rules).is_ok());
        let st = standing(&history);
        prop_assert_eq!(st.status, history.last().map(|e| e.status));
        prop_assert_eq!(st.registered_on, history.first().map(|e| e.effective));
        prop_assert_eq!(st.active, st.status.is_some_and(OrgStatus::is_active));
        prop_assert!(!st.fundraising_qualified || st.is_charity);
        prop_assert_eq!(st.resumes_to.is_some(), st.status == Some(OrgStatus::Suspended));
        if let Some(first) = history.first() {
            prop_assert_eq!(first.status, OrgStatus::Registered);
        }
        prop_assert!(history.windows(2).all(|w| w[0].effective <= w[1].effective && w[0].status != w[1].status));
        prop_assert!(history.iter().rev().skip(1).all(|e| !e.status.is_terminal()));
        if let Some(fq) = history.iter().find(|e| e.status == OrgStatus::FundraisingQualified) {
            let since = st.charity_since.unwrap();
            prop_assert!(fq.effective >= wushe_domain::registry::add_years(since, min_years));
        }
        if let Some(last) = history.last() {
            if last.status.is_terminal() {
                for to in OrgStatus::ALL {
                    prop_assert!(check_transition(&history, to, last.effective + Duration::days(1), &rules).is_err());
                }
            }
        }
    }
}
