//! Every parse, search and mask function of the domain takes any text without panicking:
//! CJK, full-width forms, combining marks, emoji, control characters, and the lengths where
//! byte and character counts differ (six CJK characters are 18 bytes, an ID number's length).

use chrono::NaiveDate;
use proptest::prelude::*;
use wushe_domain::codes::citizen_id::{self, CitizenId};
use wushe_domain::codes::credit_code::{self, CreditCode};
use wushe_domain::codes::division::DivisionCode;
use wushe_domain::privacy::mask;
use wushe_domain::registry::person;
use wushe_domain::registry::search;
use wushe_domain::volunteering::certificate::{self, CertificateNumber};

/// Characters that break byte-offset code: multi-byte CJK and full-width forms, combining
/// marks, 4-byte emoji, controls, and the ASCII the parsers look for.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec!['0', '1', '3', '8', '9', 'X', 'x', 'V', '-', ' ', '+', 'A', 'N']),
        2 => prop::char::range('\u{4E00}', '\u{9FFF}'),
        2 => prop::char::range('\u{FF01}', '\u{FF5E}'),
        1 => prop::char::range('\u{0300}', '\u{036F}'),
        1 => prop::char::range('\u{1F300}', '\u{1FAFF}'),
        1 => prop::char::range('\u{0}', '\u{1F}'),
        1 => any::<char>(),
    ]
}

fn tricky_text() -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..40).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_parser_panics(s in tricky_text()) {
        let today = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        let _ = search::classify_term(&s);
        let _ = search::fold(&s);
        let _ = search::grams(&s);
        let _ = search::query_grams(&s);
        let _ = search::contains(&s, &s);
        let _ = person::normalize_name(&s);
        let _ = person::normalize_phone(&s);
        let _ = person::normalize_skill_key(&s);
        let _ = person::normalize_skill_label(&s);
        let _ = person::parse_volunteer_number(&s);
        let _ = person::check_volunteer_number(&s);
        let _ = CitizenId::parse(&s, today);
        let _ = citizen_id::check_char(&s);
        let _ = CreditCode::parse(&s);
        let _ = credit_code::check_char(&s);
        let _ = credit_code::org_code_check_char(&s);
        let _ = DivisionCode::parse(&s);
        let _ = DivisionCode::parse_exact(&s);
        let _ = CertificateNumber::parse(&s);
        let _ = certificate::check_char(&s);
        let _ = certificate::check_reason(&s);
        let _ = wushe_domain::volunteering::spot_check::check_seed(&s);
        let _ = wushe_domain::accounts::normalize_username(&s);
        let _ = wushe_domain::accounts::check_password_strength(&s);
        let _ = wushe_domain::accounts::division_range(&s);
        let _ = wushe_domain::stats::regions_of(&s);
        let _ = mask::mask_id_number(&s);
        let _ = mask::mask_phone(&s);
        let _ = mask::mask_name(&s);
        let _ = mask::mask_name_ends(&s);
        let _ = wushe_domain::text::clean(&s, 10, false);
        let _ = wushe_domain::text::clean(&s, 10, true);
    }

    /// The text policy's output is trimmed, within its bound and free of controls.
    #[test]
    fn clean_text_is_clean(s in tricky_text(), max in 0usize..30, multiline: bool) {
        if let Ok(t) = wushe_domain::text::clean(&s, max, multiline) {
            prop_assert!(t.chars().count() <= max);
            prop_assert_eq!(t.trim(), t.as_str());
            prop_assert!(t.chars().all(|c| !c.is_control() || (multiline && (c == '\n' || c == '\t'))));
        }
    }
}
