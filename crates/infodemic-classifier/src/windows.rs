//! Long texts: split into sentences and score windows of adjacent sentences, so an article
//! is read whole, not only its first 128 tokens.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

/// Splits `text` into sentences (Unicode UAX #29 sentence boundaries); blank pieces are
/// dropped.
pub fn sentence_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut offset = 0;
    for piece in text.split_sentence_bounds() {
        let span = offset..offset + piece.len();
        offset += piece.len();
        if !piece.trim().is_empty() {
            spans.push(span);
        }
    }
    spans
}

/// The windows a long text is scored by: every pair of adjacent sentences (a single
/// sentence when there is only one). Pairs keep a claim's immediate context; a wider window
/// lets calm sentences dilute a false claim the model would catch alone (measured: a claim
/// scoring 0.998 alone scored 0.77 after one calm sentence and 0.23 after two). A pair
/// longer than the token limit is truncated by the caller. Returns sentence index ranges.
///
/// At most [`MAX_WINDOWS`]: a text of more sentences (over 5,000 words, or a hostile one of
/// thousands of short sentences) is scored by pairs spread evenly over it, every k-th pair,
/// so its cost is bounded whatever its length; sentences between two of them are not scored.
pub fn sentence_windows(sentences: usize) -> Vec<Range<usize>> {
    match sentences {
        0 => Vec::new(),
        1 => std::iter::once(0..1).collect(),
        n => {
            let pairs = n - 1;
            let stride = pairs.div_ceil(MAX_WINDOWS);
            (0..pairs).step_by(stride).map(|start| start..start + 2).collect()
        }
    }
}

/// Windows scored per text at most (each one inference).
pub const MAX_WINDOWS: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_capped_and_spread_over_the_whole_text() {
        assert_eq!(sentence_windows(MAX_WINDOWS + 1).len(), MAX_WINDOWS, "every pair up to the cap");
        let windows = sentence_windows(400_000);
        assert!(windows.len() <= MAX_WINDOWS);
        assert_eq!(windows[0], 0..2);
        assert!(windows.last().unwrap().end > 400_000 - 400_000 / MAX_WINDOWS, "{:?}", windows.last());
    }

    #[test]
    fn splits_sentences_and_keeps_byte_ranges() {
        let text = "Vaccines work. They save lives!  Really? ";
        let spans = sentence_spans(text);
        let pieces: Vec<&str> = spans.iter().map(|s| text[s.clone()].trim()).collect();
        assert_eq!(pieces, ["Vaccines work.", "They save lives!", "Really?"]);
    }

    #[test]
    fn windows_are_adjacent_pairs() {
        assert_eq!(sentence_windows(4), [0..2, 1..3, 2..4]);
        assert_eq!(sentence_windows(1), vec![std::ops::Range { start: 0, end: 1 }]);
        assert!(sentence_windows(0).is_empty());
    }
}
