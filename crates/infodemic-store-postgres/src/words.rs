//! The words of an item, as the full-text filter sees them.
//!
//! `--text` matches from the start of a word, case-insensitively (`ItemQuery::matches`). The
//! index holds every word of the lowercased title and text (runs of letters and digits), and a
//! query asks for items holding a word that *starts* with each word of the needle: a superset
//! of the answer, which the caller then filters exactly. Lowercasing and splitting are the
//! same on both sides, so no matching item is missed.

use std::collections::BTreeSet;

/// Longer words are cut to this many characters (PostgreSQL refuses lexemes over 2 KiB);
/// queries match by prefix, so a cut word is still found.
const MAX_WORD_CHARS: usize = 200;

fn split(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| word.chars().take(MAX_WORD_CHARS).collect())
}

/// The distinct words of an item's title and text.
pub(crate) fn of_item(title: &str, text: &str) -> Vec<String> {
    let title = title.to_lowercase();
    let text = text.to_lowercase();
    let words: BTreeSet<String> = split(&title).chain(split(&text)).collect();
    words.into_iter().collect()
}

/// The `tsquery` that finds candidates for `needle`: every word of it as a prefix. `None` when
/// the needle has no word (punctuation only): every item is a candidate then.
pub(crate) fn prefix_query(needle: &str) -> Option<String> {
    let needle = needle.to_lowercase();
    // Words are letters and digits only: no quote or backslash can reach the query syntax.
    let terms: Vec<String> = split(&needle).map(|word| format!("'{word}':*")).collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercase_runs_of_letters_and_digits() {
        assert_eq!(of_item("New 5G-towers", "Vaccines, vaccines! Ärzte"), ["5g", "new", "towers", "vaccines", "ärzte"]);
        let long = "a".repeat(500);
        assert_eq!(of_item(&long, "")[0].chars().count(), MAX_WORD_CHARS);
    }

    #[test]
    fn a_needle_becomes_prefixes_of_its_words() {
        assert_eq!(prefix_query("Vaccines, anti").as_deref(), Some("'vaccines':* & 'anti':*"));
        assert_eq!(prefix_query("-towers").as_deref(), Some("'towers':*"));
        assert_eq!(prefix_query("it's").as_deref(), Some("'it':* & 's':*"));
        assert_eq!(prefix_query(" -- "), None);
    }
}
