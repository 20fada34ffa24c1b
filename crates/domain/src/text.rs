//! The one input policy for free text: surrounding whitespace trimmed, control characters
//! refused (newline and tab allowed only where a field has several lines), a maximum length
//! counted in characters. Every text a client sends passes here before any rule of its own,
//! so no NUL byte or terminal escape reaches the database, a log or an export.

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    TooLong { max: usize, got: usize },
    Control(char),
}

impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextError::TooLong { max, got } => write!(f, "不能超过 {max} 个字（现有 {got} 个）"),
            TextError::Control(c) if *c == '\n' || *c == '\t' => write!(f, "只能填写一行，不能包含换行或制表符"),
            TextError::Control(c) => write!(f, "不能包含控制字符（U+{:04X}）", u32::from(*c)),
        }
    }
}

/// Whether `c` is refused in a text: every control character (C0, DEL, C1), except newline
/// and tab in multi-line text. Carriage returns are folded to newlines first.
fn refused(c: char, multiline: bool) -> bool {
    c.is_control() && !(multiline && (c == '\n' || c == '\t'))
}

/// The text as stored: trimmed, `\r\n` and `\r` folded to `\n` in multi-line text, within
/// `max` characters and free of refused characters.
pub fn clean(input: &str, max: usize, multiline: bool) -> Result<String, TextError> {
    let trimmed = input.trim();
    let text = if multiline && trimmed.contains('\r') {
        trimmed.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        trimmed.to_string()
    };
    if let Some(c) = text.chars().find(|c| refused(*c, multiline)) {
        return Err(TextError::Control(c));
    }
    let got = text.chars().count();
    if got > max {
        return Err(TextError::TooLong { max, got });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_what_is_allowed() {
        assert_eq!(clean("  武昌区 心连心  ", 10, false).unwrap(), "武昌区 心连心");
        assert_eq!(clean("第一行\r\n第二行\r第三\t行", 20, true).unwrap(), "第一行\n第二行\n第三\t行");
        assert_eq!(clean("", 10, false).unwrap(), "");
    }

    #[test]
    fn refuses_control_characters_and_overlong_text() {
        assert_eq!(clean("a\u{0}b", 10, false), Err(TextError::Control('\u{0}')));
        assert_eq!(clean("a\u{1b}[31mb", 10, true), Err(TextError::Control('\u{1b}')));
        assert_eq!(clean("a\u{9b}b", 10, true), Err(TextError::Control('\u{9b}')));
        assert_eq!(clean("a\nb", 10, false), Err(TextError::Control('\n')));
        assert_eq!(clean("社会工作服务", 5, false), Err(TextError::TooLong { max: 5, got: 6 }));
        assert_eq!(clean(&"字".repeat(5), 5, false).unwrap(), "字".repeat(5));
    }
}
