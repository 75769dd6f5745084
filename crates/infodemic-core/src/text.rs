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
