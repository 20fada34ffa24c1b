//! Folding and n-grams for Chinese fragment search.
//!
//! Names are indexed by the distinct unigrams, bigrams and trigrams (by character) of their
//! folded form. A query of one character looks up its unigram, one of two its bigram, a
//! longer one each of its trigrams: a fragment of two or three characters (社工, 慈善会) is a
//! single index lookup, and a longer one intersects trigrams, which are far more selective
//! than bigrams (two common bigrams such as 工作 and 作服 can be rare together). The grams are
//! necessary but do not fix the order, so candidates are confirmed with [`contains`] (or an
//! SQL `LIKE` on the folded name).

use std::collections::HashSet;

use super::fold_width;

/// Punctuation and symbols dropped by [`fold`] (besides ASCII punctuation, whitespace and
/// control characters). 々, 〆 and 〇 (U+3005–U+3007) are kept: they occur in names.
fn is_dropped(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || c.is_ascii_punctuation()
        || matches!(c,
            '\u{00A1}'..='\u{00BF}'     // Latin-1 punctuation and signs, incl. · « »
            | '×' | '÷'
            | '\u{200B}'..='\u{200F}'   // zero-width spaces and marks
            | '\u{2010}'..='\u{206F}'   // general punctuation: dashes, quotes, •, ‧, …
            | '\u{2190}'..='\u{21FF}'   // arrows
            | '\u{2200}'..='\u{22FF}'   // mathematical operators, incl. ∙ ⋅
            | '\u{3001}'..='\u{3004}'   // 、。〃〄
            | '\u{3008}'..='\u{3020}'   // 〈〉《》「」『』【】〔〕 …
            | '\u{3030}' | '\u{303D}'
            | '\u{30FB}'                // ・
            | '\u{FE10}'..='\u{FE1F}'   // vertical forms
            | '\u{FE30}'..='\u{FE6F}'   // CJK compatibility and small forms
            | '\u{FEFF}'
            | '\u{FF5F}'..='\u{FF65}'   // half-width CJK punctuation
            | '\u{FFE0}'..='\u{FFEE}') // full-width signs ￥ ￠ …
}

fn fold_char(c: char) -> Option<char> {
    let c = fold_width(c);
    if is_dropped(c) {
        None
    } else {
        Some(c.to_ascii_lowercase())
    }
}

/// The search form of a string: full-width ASCII folded to half-width, ASCII lower-cased,
/// whitespace and common punctuation (including the middle dot of names) removed.
/// `fold(fold(s)) == fold(s)`, and folding works character by character, so a substring of
/// a folded string is its own folded form.
pub fn fold(s: &str) -> String {
    s.chars().filter_map(fold_char).collect()
}

fn push_distinct(out: &mut Vec<String>, seen: &mut HashSet<String>, g: String) {
    if seen.insert(g.clone()) {
        out.push(g);
    }
}

/// The longest gram indexed; a query longer than this intersects grams of this length.
pub const MAX_GRAM: usize = 3;

/// The grams indexed for a name: the distinct unigrams, then bigrams, then trigrams of its
/// folded form, each in order of first occurrence.
pub fn grams(s: &str) -> Vec<String> {
    let chars: Vec<char> = fold(s).chars().collect();
    let mut out = Vec::with_capacity(chars.len() * MAX_GRAM);
    let mut seen = HashSet::with_capacity(chars.len() * MAX_GRAM);
    for n in 1..=MAX_GRAM {
        for w in chars.windows(n) {
            push_distinct(&mut out, &mut seen, w.iter().collect());
        }
    }
    out
}

/// The grams to look up for a query: nothing for an empty (folded) query, the query itself
/// when it is at most [`MAX_GRAM`] characters long, otherwise its distinct trigrams in order
/// of first occurrence.
pub fn query_grams(q: &str) -> Vec<String> {
    let chars: Vec<char> = fold(q).chars().collect();
    let n = chars.len().min(MAX_GRAM);
    if n == 0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(chars.len() + 1 - n);
    let mut seen = HashSet::with_capacity(chars.len() + 1 - n);
    for w in chars.windows(n) {
        push_distinct(&mut out, &mut seen, w.iter().collect());
    }
    out
}

/// Whether the folded `name` contains the folded query (an empty query matches everything).
pub fn contains(name: &str, q: &str) -> bool {
    fold(name).contains(&fold(q))
}

/// How a people search term is matched, decided by its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchTerm {
    /// 18 characters: 17 digits and a digit or `X` (exact, through the blind index).
    CitizenId(String),
    /// A mainland phone number, normalized (exact, through the blind index).
    Phone(String),
    /// A volunteer number, or another code of letters, digits and dashes.
    Number(String),
    /// A name fragment.
    Name(String),
}

/// Classify a search term by its shape. Works on characters, never byte offsets: any text,
/// of any script, is a valid query (six CJK characters are 18 bytes, the length of an ID
/// number, and byte slicing them panicked).
pub fn classify_term(q: &str) -> SearchTerm {
    let upper: String = q.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
    let chars: Vec<char> = upper.chars().collect();
    if chars.len() == 18
        && chars[..17].iter().all(char::is_ascii_digit)
        && (chars[17].is_ascii_digit() || chars[17] == 'X')
    {
        return SearchTerm::CitizenId(upper);
    }
    if let Some(v) = super::person::parse_volunteer_number(&upper) {
        return SearchTerm::Number(v);
    }
    if upper.chars().any(|c| c.is_ascii_digit()) {
        if let Ok(phone) = super::person::normalize_phone(q) {
            return SearchTerm::Phone(phone);
        }
        if upper.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return SearchTerm::Number(upper);
        }
    }
    SearchTerm::Name(q.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn terms_classified_by_shape_on_characters() {
        assert_eq!(classify_term("社会工作服务"), SearchTerm::Name("社会工作服务".into()));
        assert_eq!(classify_term("１２３４５６"), SearchTerm::Name("１２３４５６".into()));
        assert_eq!(classify_term("420106199001010015"), SearchTerm::CitizenId("420106199001010015".into()));
        assert_eq!(classify_term("42010619900101001x"), SearchTerm::CitizenId("42010619900101001X".into()));
        assert_eq!(classify_term("138 1234 5678"), SearchTerm::Phone("13812345678".into()));
        assert_eq!(classify_term("AB-12"), SearchTerm::Number("AB-12".into()));
        assert_eq!(classify_term(" 张三 "), SearchTerm::Name("张三".into()));
    }

    #[test]
    fn folding() {
        assert_eq!(fold("  武昌区 阳光社会工作服务中心 "), "武昌区阳光社会工作服务中心");
        assert_eq!(fold("ＡＢＣ公益（武汉）"), "abc公益武汉");
        assert_eq!(fold("买买提·艾力"), "买买提艾力");
        assert_eq!(fold("《慈善》——「社工」、Hello, World!"), "慈善社工helloworld");
        assert_eq!(fold("全国房地产 CIO 联盟"), "全国房地产cio联盟");
        assert_eq!(fold("王〇々"), "王〇々");
        assert_eq!(fold("a\u{200B}b\u{FEFF}c\u{3000}d"), "abcd");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn grams_of_a_name() {
        assert_eq!(grams("社工社工"), strs(&["社", "工", "社工", "工社", "社工社", "工社工"]));
        assert_eq!(grams("慈善"), strs(&["慈", "善", "慈善"]));
        assert_eq!(grams("慈善会"), strs(&["慈", "善", "会", "慈善", "善会", "慈善会"]));
        assert_eq!(grams("王"), strs(&["王"]));
        assert!(grams(" ，").is_empty());
        let g = grams("武昌区阳光社会工作服务中心");
        assert!(g.contains(&"社会".to_string()));
        assert!(g.contains(&"阳".to_string()));
    }

    #[test]
    fn query_grams_by_length() {
        assert!(query_grams("  ").is_empty());
        assert_eq!(query_grams("社"), strs(&["社"]));
        assert_eq!(query_grams("社工"), strs(&["社工"]));
        assert_eq!(query_grams("慈善会"), strs(&["慈善会"]));
        assert_eq!(query_grams("社会工作"), strs(&["社会工", "会工作"]));
        assert_eq!(query_grams("哈哈哈哈"), strs(&["哈哈哈"]));
        assert_eq!(query_grams("ＣＩＯ联盟"), strs(&["cio", "io联", "o联盟"]));
    }

    #[test]
    fn two_character_fragments_are_found() {
        for (name, q) in [
            ("洪山区社工服务中心", "社工"),
            ("湖北省乐善慈善基金会", "慈善"),
            ("积玉桥社区老年人协会", "老年"),
            ("积玉桥社区老年人协会", "老年人协"),
            ("洪山区社工服务中心", "服务中心"),
        ] {
            let g = grams(name);
            assert!(query_grams(q).iter().all(|x| g.contains(x)), "{name} {q}");
            assert!(contains(name, q));
        }
        assert!(!contains("湖北省乐善慈善基金会", "善慈会"));
        assert!(contains("Anna Lee", "alee"));
    }
}
