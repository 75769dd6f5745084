//! Text normalisation shared by the crawler (plain text out of markup) and dedupe (fingerprints).

/// Collapses every run of whitespace (including non-breaking spaces) to one space and trims.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace() || c == '\u{a0}') {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The form of a text used to decide that two items carry the same content: lowercase,
/// alphanumeric words only, single spaces. Punctuation and spacing differences vanish.
pub fn fingerprint_text(text: &str) -> String {
    let lowered: String =
        text.chars().map(|c| if c.is_alphanumeric() { c.to_lowercase().next().unwrap_or(c) } else { ' ' }).collect();
    collapse_whitespace(&lowered)
}

/// Shortens `text` to at most `max_chars` characters on a char boundary, adding `…` when cut.
pub fn ellipsize(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_whitespace_handles_nbsp_and_newlines() {
        assert_eq!(collapse_whitespace("  a\u{a0}\u{a0}b\n\tc  "), "a b c");
        assert_eq!(collapse_whitespace(""), "");
    }

    #[test]
    fn fingerprint_drops_punctuation_and_case() {
        assert_eq!(fingerprint_text("Hello, WORLD!!  ok"), "hello world ok");
        assert_eq!(fingerprint_text("Élan vital"), "élan vital");
    }

    #[test]
    fn ellipsize_respects_char_boundaries() {
        assert_eq!(ellipsize("héllo wörld", 5), "héll…");
        assert_eq!(ellipsize("short", 10), "short");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn collapsed_text_has_single_inner_spaces_only(text in "\\PC{0,80}") {
            let collapsed = collapse_whitespace(&text);
            prop_assert_eq!(&collapse_whitespace(&collapsed), &collapsed, "idempotent");
            prop_assert!(!collapsed.starts_with(' ') && !collapsed.ends_with(' '));
            prop_assert!(!collapsed.contains("  "));
            prop_assert!(!collapsed.chars().any(|c| c.is_whitespace() && c != ' '));
            let words: Vec<&str> = text.split_whitespace().collect();
            prop_assert_eq!(collapsed.split(' ').filter(|w| !w.is_empty()).count(), words.iter().map(|w| w.split('\u{a0}').filter(|p| !p.is_empty()).count()).sum::<usize>());
        }

        #[test]
        fn fingerprints_ignore_case_spacing_and_punctuation(text in "[a-zA-Z .,!?\n\t]{0,60}") {
            let fingerprint = fingerprint_text(&text);
            prop_assert_eq!(&fingerprint_text(&fingerprint), &fingerprint, "idempotent");
            prop_assert_eq!(&fingerprint_text(&text.to_uppercase()), &fingerprint);
            prop_assert_eq!(fingerprint_text(&text.replace(' ', "  ,")), fingerprint);
        }

        #[test]
        fn ellipsized_text_fits(text in "\\PC{0,50}", max in 1usize..30) {
            let short = ellipsize(&text, max);
            prop_assert!(short.chars().count() <= max);
            if text.chars().count() <= max {
                prop_assert_eq!(short, text);
            }
        }
    }
}

/// Whether a spreadsheet would run a cell starting like `text` as a formula (or the start of
/// one): `=`, `+`, `-`, `@`, a tab or a carriage return first, as OWASP lists them. The one rule
/// every CSV writer of the project follows.
pub fn starts_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A CSV cell a spreadsheet shows as text: one that [`starts_like_formula`] gets a leading `'`.
pub fn csv_cell(text: &str) -> std::borrow::Cow<'_, str> {
    if starts_like_formula(text) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}
