//! Certificate numbers: every generated number reads back; the check character catches
//! every single mistyped character and every swap of two neighbours (but the one pair
//! Luhn mod 32 cannot tell apart, 0 and Z).

use proptest::prelude::*;
use wushe_domain::volunteering::certificate::{CertificateNumber, NumberError, NUMBER_LEN};

const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

proptest! {
    #[test]
    fn generated_numbers_parse(year in 2000i32..2100, random in any::<u64>()) {
        let n = CertificateNumber::generate(year, random);
        prop_assert_eq!(n.as_str().len(), NUMBER_LEN);
        prop_assert_eq!(CertificateNumber::parse(&n.display()), Ok(n.clone()));
        prop_assert_eq!(CertificateNumber::parse(&n.as_str().to_lowercase()), Ok(n));
    }

    #[test]
    fn one_wrong_character_is_caught(random in any::<u64>(), pos in 0usize..NUMBER_LEN, k in 1usize..32) {
        let n = CertificateNumber::generate(2026, random);
        let mut b = n.as_str().as_bytes().to_vec();
        let old = ALPHABET.iter().position(|&c| c == b[pos]).unwrap();
        b[pos] = ALPHABET[(old + k) % 32];
        let typo = String::from_utf8(b).unwrap();
        prop_assert!(CertificateNumber::parse(&typo).is_err(), "{} accepted", typo);
    }

    #[test]
    fn swapped_neighbours_are_caught(random in any::<u64>(), pos in 0usize..NUMBER_LEN - 1) {
        let n = CertificateNumber::generate(2026, random);
        let mut b = n.as_str().as_bytes().to_vec();
        let pair = [b[pos], b[pos + 1]];
        prop_assume!(pair[0] != pair[1] && pair != *b"0Z" && pair != *b"Z0");
        b.swap(pos, pos + 1);
        let typo = String::from_utf8(b).unwrap();
        let r = CertificateNumber::parse(&typo);
        prop_assert!(matches!(r, Err(NumberError::Check | NumberError::Year)), "{} gave {:?}", typo, r);
    }

    #[test]
    fn numbers_do_not_repeat_for_different_randomness(a in any::<u64>(), b in any::<u64>()) {
        // the 60 low bits are the random part
        prop_assume!(a & ((1 << 60) - 1) != b & ((1 << 60) - 1));
        prop_assert_ne!(CertificateNumber::generate(2026, a), CertificateNumber::generate(2026, b));
    }
}
