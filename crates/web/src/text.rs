//! Text fields of requests, read under the one input policy of `wushe_domain::text`
//! (trimmed; control characters refused, newline and tab allowed in multi-line sizes; a
//! maximum length). A request field that takes text names one size here in
//! `#[serde(deserialize_with = "crate::text::<size>::<shape>")]` and the same maximum in
//! `#[schema(max_length = …)]`, so the spec states the bound the server enforces. Passwords
//! are the one deliberate exception (never trimmed; see `check_password_strength`).
//!
//! A field's own rules (required, shorter, a pattern) stay in its service, which reports every
//! problem of a form at once; these sizes are the outer bound, refused while the body is read.

macro_rules! size {
    ($(#[$doc:meta])* $name:ident, $max:expr, $multiline:expr) => {
        $(#[$doc])*
        pub mod $name {
            use serde::{Deserialize, Deserializer};

            /// Most characters a field of this size takes.
            pub const MAX: usize = $max;

            /// The value under the policy, from code (imports, the UI's own forms).
            pub fn clean(s: &str) -> Result<String, wushe_domain::text::TextError> {
                wushe_domain::text::clean(s, $max, $multiline)
            }

            fn cleaned<E: serde::de::Error>(s: String) -> Result<String, E> {
                clean(&s).map_err(E::custom)
            }

            pub fn one<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
                cleaned(String::deserialize(d)?)
            }

            pub fn opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
                Option::<String>::deserialize(d)?.map(cleaned).transpose()
            }

            /// A patch field: absent (the field's `default`) keeps, `null` clears.
            pub fn patch<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
                opt(d).map(Some)
            }

            pub fn many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
                Vec::<String>::deserialize(d)?.into_iter().map(cleaned).collect()
            }

            pub fn opt_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
                Option::<Vec<String>>::deserialize(d)?.map(|v| v.into_iter().map(cleaned).collect()).transpose()
            }
        }
    };
}

size!(
    /// A short single-line value: a code, a date, a key, a phone, a relation.
    label, 50, false
);
size!(
    /// A single line: a name, a title, an address, an authority, a document number, a query.
    line, 200, false
);
size!(
    /// A note of several lines: a reason, a remark, a conclusion.
    note, 2000, true
);
size!(
    /// Long text of several lines: an activity's content.
    long_text, 10000, true
);

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug)]
    struct Form {
        #[serde(deserialize_with = "super::line::one")]
        title: String,
        #[serde(default, deserialize_with = "super::note::opt")]
        note: Option<String>,
        #[serde(default, deserialize_with = "super::label::patch")]
        phone: Option<Option<String>>,
    }

    #[test]
    fn fields_are_read_under_the_policy() {
        let f: Form = serde_json::from_str(r#"{"title": "  积玉桥街道  ", "note": "一\r\n二"}"#).unwrap();
        assert_eq!((f.title.as_str(), f.note.as_deref(), f.phone), ("积玉桥街道", Some("一\n二"), None));
        let f: Form = serde_json::from_str(r#"{"title": "t", "phone": null}"#).unwrap();
        assert_eq!(f.phone, Some(None));
        assert!(serde_json::from_str::<Form>(r#"{"title": "a\u0000b"}"#).is_err());
        assert!(serde_json::from_str::<Form>(r#"{"title": "一\n二"}"#).is_err());
        let long = format!(r#"{{"title": "{}"}}"#, "字".repeat(201));
        assert!(serde_json::from_str::<Form>(&long).is_err());
    }
}
