//! Masking of personal data for display (RULES.md, "Personal information").
//!
//! All functions work on characters, not bytes, and never reveal more than half of a
//! value except for the fixed formats the rules prescribe (18-character ID numbers and
//! 11-digit mobile numbers).

/// Keeps `head` leading and `tail` trailing characters, replacing the rest with `*`.
fn keep_ends(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    let head = head.min(n);
    let tail = tail.min(n - head);
    let mut out = String::with_capacity(n);
    out.extend(&chars[..head]);
    out.extend(std::iter::repeat_n('*', n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// Masks an ID number: 18 characters keep the first 6 and last 4
/// (`110101199003071234` → `110101********1234`). Other lengths reveal at most half
/// (at most 6 leading and 4 trailing characters).
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    if n == 18 {
        return keep_ends(&chars, 6, 4);
    }
    let reveal = n / 2;
    let tail = (reveal / 2).min(4);
    let head = (reveal - tail).min(6);
    keep_ends(&chars, head, tail)
}

/// Masks a phone number: an 11-digit mainland mobile keeps the first 3 and last 4
/// (`13812345678` → `138****5678`); anything else keeps only the last 4 characters
/// (fewer for short values, never more than half).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    let n = chars.len();
    if n == 11 && chars[0] == '1' && chars.iter().all(char::is_ascii_digit) {
        return keep_ends(&chars, 3, 4);
    }
    keep_ends(&chars, 0, (n / 2).min(4))
}

/// Masks a personal name, keeping the first character (`张三` → `张*`,
/// `欧阳娜娜` → `欧***`); a single-character name becomes `*`.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_string(),
        _ => keep_ends(&chars, 1, 0),
    }
}

/// Masks a name on a public verification page, keeping the first and, from three
/// characters on, the last character (`李小华` → `李*华`, `欧阳娜娜` → `欧**娜`, `张三` → `张*`):
/// enough for the holder to recognize, never enough to identify.
pub fn mask_name_ends(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_string(),
        2 => keep_ends(&chars, 1, 0),
        _ => keep_ends(&chars, 1, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers() {
        assert_eq!(mask_id_number("110101199003071234"), "110101********1234");
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        // Old 15-digit numbers: at most half revealed.
        assert_eq!(mask_id_number("110105491231002"), "1101********002");
        assert_eq!(mask_id_number("E12345678"), "E1*****78");
        assert_eq!(mask_id_number("1234"), "1**4");
        assert_eq!(mask_id_number("12"), "1*");
        assert_eq!(mask_id_number("1"), "*");
        assert_eq!(mask_id_number(""), "");
    }

    #[test]
    fn id_numbers_never_reveal_more_than_half_except_18() {
        for n in 0..40usize {
            if n == 18 {
                continue;
            }
            let s: String = "ABCDEFGHJKLMNPQRTUWXY0123456789abcdefghij".chars().take(n).collect();
            let masked = mask_id_number(&s);
            assert_eq!(masked.chars().count(), n);
            let revealed = masked.chars().filter(|c| *c != '*').count();
            assert!(revealed * 2 <= n, "{n}: {masked}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone(" 13812345678 "), "138****5678");
        assert_eq!(mask_phone("010-12345678"), "********5678");
        assert_eq!(mask_phone("+8613812345678"), "**********5678");
        assert_eq!(mask_phone("12345"), "***45");
        assert_eq!(mask_phone("1"), "*");
        assert_eq!(mask_phone(""), "");
    }

    #[test]
    fn names() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name("阿卜杜·热合曼"), "阿******");
        assert_eq!(mask_name("Alice"), "A****");
    }

    #[test]
    fn names_with_both_ends() {
        assert_eq!(mask_name_ends("李小华"), "李*华");
        assert_eq!(mask_name_ends("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name_ends("张三"), "张*");
        assert_eq!(mask_name_ends("李"), "*");
        assert_eq!(mask_name_ends(""), "");
    }
}
