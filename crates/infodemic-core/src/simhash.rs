//! SimHash fingerprints: texts that differ by a few words (syndicated copies, reposts with a
//! line added) get fingerprints a few bits apart, so near-duplicates are found by Hamming
//! distance instead of exact hashes.

use crate::text::fingerprint_text;

/// Fingerprints at most this many bits apart are near-duplicates. Web-scale systems use 3 of
/// 64 bits for long pages (Manku et al., 2007); feed items are short (50-300 words), where two
/// small edits already move a fingerprint by ~8 bits (test below), while unrelated texts sit
/// around 32 ± 4 bits apart (binomial), so 10 bits keeps false merges below 1e-7.
pub const NEAR_DUPLICATE_BITS: u32 = 10;

/// Texts shorter than this many words are too short for a meaningful fingerprint.
pub const MIN_WORDS: usize = 8;

/// FNV-1a, 64 bit: stable across builds and platforms (unlike `std`'s hasher), which matters
/// because fingerprints are stored.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The 64-bit SimHash of `text` over the words and word trigrams of its normalised form
/// (words keep short texts stable under small edits, trigrams keep word order); `None` for
/// texts under [`MIN_WORDS`] words.
pub fn simhash(text: &str) -> Option<u64> {
    let normalised = fingerprint_text(text);
    let words: Vec<&str> = normalised.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() < MIN_WORDS {
        return None;
    }
    let mut weights = [0i32; 64];
    // Hashed in place: building a string per word and trigram was a third of this function.
    let features =
        words.iter().map(|w| fnv1a(w.as_bytes())).chain(words.windows(3).map(|w| trigram_hash(w[0], w[1], w[2])));
    for hash in features {
        for (bit, weight) in weights.iter_mut().enumerate() {
            *weight += if hash >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    Some(weights.iter().enumerate().filter(|(_, &w)| w > 0).fold(0u64, |acc, (bit, _)| acc | 1 << bit))
}

/// Resemblance of two texts that confirms a fingerprint match: Jaccard similarity of their
/// word trigram sets (after [`fingerprint_text`]). SimHash bits are not independent (common
/// words pull every fingerprint the same way), so among many candidates some unrelated texts
/// land within a few bits; this check, run only on candidates, keeps them apart.
pub fn resemblance(a: &str, b: &str) -> f64 {
    jaccard(&shingles(a), &shingles(b))
}

/// The word trigrams of a text, for [`jaccard`]: each trigram's 64-bit FNV-1a hash, sorted and
/// without repeats. Hashes rather than strings: computing and comparing them allocates nothing
/// per trigram (a dedupe of 50,000 items spent a fifth of its time building trigram strings),
/// and two distinct trigrams of two feed items share a hash with odds of about 1e-15.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shingles(Vec<u64>);

impl Shingles {
    /// Distinct trigrams.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text had fewer than three words.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The word trigrams of `text` (after [`fingerprint_text`]), for [`jaccard`]: computed once
/// when one text is compared with many.
pub fn shingles(text: &str) -> Shingles {
    let normalised = fingerprint_text(text);
    let words: Vec<&str> = normalised.split(' ').filter(|w| !w.is_empty()).collect();
    let mut hashes: Vec<u64> = words.windows(3).map(|w| trigram_hash(w[0], w[1], w[2])).collect();
    hashes.sort_unstable();
    hashes.dedup();
    Shingles(hashes)
}

/// FNV-1a of `a b c`, as [`fnv1a`] of the joined string, without joining.
fn trigram_hash(a: &str, b: &str, c: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(a.as_bytes());
    feed(b" ");
    feed(b.as_bytes());
    feed(b" ");
    feed(c.as_bytes());
    hash
}

/// Jaccard similarity of two shingle sets (0 when both are empty): one merge of the two sorted
/// lists.
pub fn jaccard(a: &Shingles, b: &Shingles) -> f64 {
    let (a, b) = (&a.0, &b.0);
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        return 0.0;
    }
    common as f64 / union as f64
}

/// Trigram resemblance at or above which a fingerprint match is a near-duplicate.
pub const MIN_RESEMBLANCE: f64 = 0.5;

/// Bits in which two fingerprints differ.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Whether two fingerprints are near-duplicates.
pub fn is_near_duplicate(a: u64, b: u64) -> bool {
    distance(a, b) <= NEAR_DUPLICATE_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "Health officials confirmed on Tuesday that the measles vaccination campaign will \
        open in all 42 district clinics next week, with walk-in appointments for children and adults \
        who missed their second dose, and extended opening hours on Saturdays until the end of March.";

    #[test]
    fn a_lightly_edited_copy_is_near() {
        let copy = ARTICLE.replace("Tuesday", "Wednesday").replace("until the end of March", "until end of March");
        let (a, b) = (simhash(ARTICLE).unwrap(), simhash(&copy).unwrap());
        assert!(is_near_duplicate(a, b), "distance {}", distance(a, b));
        let case_and_spacing = ARTICLE.to_uppercase().replace(' ', "  ");
        assert_eq!(simhash(&case_and_spacing), Some(a));
    }

    #[test]
    fn a_different_story_is_far() {
        let other = "A new study of 4,000 adults found that the updated RSV vaccine cut hospital \
            admissions among people over 75 by 71 percent during the first winter after approval.";
        let (a, b) = (simhash(ARTICLE).unwrap(), simhash(other).unwrap());
        assert!(distance(a, b) > 16, "distance {}", distance(a, b));
    }

    #[test]
    fn resemblance_confirms_copies_and_rejects_strangers() {
        let copy = ARTICLE.replace("Tuesday", "Wednesday");
        assert!(resemblance(ARTICLE, &copy) >= MIN_RESEMBLANCE);
        let other = "Officials confirmed on Tuesday that the flu season started early in all district clinics.";
        assert!(resemblance(ARTICLE, other) < MIN_RESEMBLANCE);
    }

    #[test]
    fn jaccard_counts_shared_trigrams_over_all_trigrams() {
        // Trigrams: "a b c", "b c d" against "b c d", "c d e": one shared of three.
        let (first, second) = (shingles("a b c d"), shingles("B c, d e"));
        assert_eq!((first.len(), second.len()), (2, 2));
        assert!((jaccard(&first, &second) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(jaccard(&first, &first), 1.0);
        // Repeated trigrams count once, as in a set.
        assert_eq!(shingles("a b c a b c a b c").len(), 3);
        assert_eq!(jaccard(&shingles("two words"), &shingles("")), 0.0);
        assert!(shingles("two words").is_empty());
        // The hash of a trigram is that of the joined words.
        assert_eq!(trigram_hash("x", "y", "z"), fnv1a(b"x y z"));
    }

    /// Fingerprints are stored and compared with later ones: a change of the hashing would
    /// make every stored item look new. The values were taken before the hashing stopped
    /// allocating a string per feature.
    #[test]
    fn fingerprints_stay_as_stored() {
        let pinned = [
            (
                "Garlic water cures the virus overnight, a doctor says, and hospitals hide it from you.",
                0xef63_5918_922f_a1d9,
            ),
            (
                "Die Gesundheitsbehörde empfiehlt die Impfung für alle Kinder unter fünf Jahren ab sofort.",
                0x1afc_5d83_8447_24e1,
            ),
            ("one two three four five six seven eight", 0x9a01_c318_6c62_dd49),
        ];
        for (text, fingerprint) in pinned {
            assert_eq!(simhash(text), Some(fingerprint), "{text}");
        }
    }

    #[test]
    fn short_texts_have_no_fingerprint() {
        assert_eq!(simhash("Vaccines work."), None);
    }
}
