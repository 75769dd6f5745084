//! The words a campaign's lexical signal compares: lowercase alphanumeric tokens, English
//! stop words dropped, plurals folded (Harman's S-stemmer: conservative, so "vaccine" and
//! "vaccines" meet while "virus" keeps its s).

use std::collections::BTreeMap;

/// At most this many distinct terms are read from one text: a long article is represented by
/// its first words (headlines and ledes carry the narrative), and a hostile one stays bounded.
pub const MAX_TERMS_PER_TEXT: usize = 400;

/// Tokens longer than this are not words (hashes, base64, run-together URLs).
const MAX_TOKEN_CHARS: usize = 40;

/// English function words (scikit-learn's list, shortened to the words feeds carry): they
/// would make every headline resemble every other.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "almost",
    "also",
    "am",
    "among",
    "an",
    "and",
    "any",
    "are",
    "aren",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "com",
    "could",
    "couldn",
    "d",
    "did",
    "didn",
    "do",
    "does",
    "doesn",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "either",
    "else",
    "etc",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "however",
    "htm",
    "html",
    "http",
    "https",
    "i",
    "if",
    "in",
    "into",
    "is",
    "isn",
    "it",
    "its",
    "itself",
    "just",
    "let",
    "ll",
    "m",
    "may",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "per",
    "re",
    "s",
    "said",
    "same",
    "say",
    "says",
    "she",
    "should",
    "shouldn",
    "so",
    "some",
    "such",
    "t",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "ve",
    "very",
    "via",
    "was",
    "wasn",
    "we",
    "were",
    "weren",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "won",
    "would",
    "wouldn",
    "www",
    "yet",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// Harman's S-stemmer (1991), folding English plurals only, with one addition: "es" after a
/// sibilant goes whole ("viruses" → "virus", where Harman gives "viruse").
fn stem(word: &str) -> String {
    let len = word.chars().count();
    if len <= 3 {
        return word.to_owned();
    }
    if let Some(base) = word.strip_suffix("ies") {
        if !word.ends_with("eies") && !word.ends_with("aies") {
            return format!("{base}y");
        }
    }
    if let Some(base) = word.strip_suffix("es") {
        // "viruses", "boxes", "churches": the plural added "es" to a sibilant.
        if ["s", "x", "z", "ch", "sh"].iter().any(|end| base.ends_with(end)) {
            return base.to_owned();
        }
        if !word.ends_with("aes") && !word.ends_with("ees") && !word.ends_with("oes") {
            return format!("{base}e");
        }
    }
    if let Some(base) = word.strip_suffix('s') {
        if !word.ends_with("us") && !word.ends_with("ss") {
            return base.to_owned();
        }
    }
    word.to_owned()
}

/// The terms of `text` with their counts: lowercase alphanumeric runs (an apostrophe splits,
/// so "5G's" is "5g" and a one-letter "s"), stop words and one-letter tokens removed, plurals
/// folded.
pub fn term_counts(text: &str) -> BTreeMap<String, u32> {
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    let mut word = String::new();
    let flush = |word: &mut String, counts: &mut BTreeMap<String, u32>| {
        if !word.is_empty() {
            let chars = word.chars().count();
            if (2..=MAX_TOKEN_CHARS).contains(&chars) && !is_stop_word(word) {
                let term = stem(word);
                if counts.len() < MAX_TERMS_PER_TEXT || counts.contains_key(&term) {
                    *counts.entry(term).or_default() += 1;
                }
            }
            word.clear();
        }
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else {
            flush(&mut word, &mut counts);
        }
    }
    flush(&mut word, &mut counts);
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]), "STOP_WORDS must stay sorted");
    }

    #[test]
    fn terms_are_lowercase_stemmed_and_without_stop_words() {
        let counts = term_counts("The Vaccines and the VIRUS: bleach cures viruses! It's 5G's fault");
        let terms: Vec<&str> = counts.keys().map(String::as_str).collect();
        assert_eq!(terms, ["5g", "bleach", "cure", "fault", "vaccine", "virus"]);
        assert_eq!(counts["virus"], 2);
    }

    #[test]
    fn plural_folding_is_conservative() {
        assert_eq!(stem("news"), "new");
        assert_eq!(stem("virus"), "virus");
        assert_eq!(stem("glass"), "glass");
        assert_eq!(stem("glasses"), "glass");
        assert_eq!(stem("boxes"), "box");
        assert_eq!(stem("studies"), "study");
        assert_eq!(stem("vaccines"), "vaccine");
        assert_eq!(stem("toes"), "toe");
    }

    #[test]
    fn hostile_text_stays_bounded() {
        let long: String = (0..10_000).map(|i| format!("word{i} ")).collect();
        assert!(term_counts(&long).len() <= MAX_TERMS_PER_TEXT);
        assert!(term_counts(&"x".repeat(100_000)).is_empty());
    }
}
