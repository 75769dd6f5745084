//! What a model reads: the text without the cues that identify a source rather than a claim.
//!
//! Mirrors `models/train/textprep.py` exactly (the patterns use only syntax both regex engines
//! share; the parity test runs both sides on the same texts). Models trained on prepared text
//! say so in their manifest (`[model] text_preparation = "strip-source-cues"`); the others read
//! the text as it is.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// The preparation a manifest may name.
pub const STRIP_SOURCE_CUES: &str = "strip-source-cues";

#[allow(clippy::expect_used)] // Constant patterns: a typo fails every test at once.
static URL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)(?:https?://|www\.)\S+").expect("URL pattern"));
#[allow(clippy::expect_used)]
static HANDLE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(^|[^\w@])@\w+").expect("handle pattern"));
#[allow(clippy::expect_used)]
static HASH: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(^|[^\w#])#(\w)").expect("hashtag pattern"));
#[allow(clippy::expect_used)]
static SPACE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+").expect("space pattern"));

/// URLs and @handles removed, `#` dropped before a word (the word kept), whitespace collapsed.
///
/// The model never sees links, handles or hashtag marks, so it cannot learn them as label cues
/// (official accounts' posts are full of links; the training data's reliable class was mostly
/// such posts).
pub fn strip_source_cues(text: &str) -> String {
    let text = URL.replace_all(text, " ");
    let text = HANDLE.replace_all(&text, "$1 ");
    let text = HASH.replace_all(&text, "$1$2");
    SPACE.replace_all(&text, " ").trim().to_owned()
}

/// The text as the model named by `preparation` reads it.
pub(crate) fn prepare<'a>(preparation: Option<&str>, text: &'a str) -> Cow<'a, str> {
    match preparation {
        Some(STRIP_SOURCE_CUES) => Cow::Owned(strip_source_cues(text)),
        _ => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_handles_and_hash_marks_go_words_stay() {
        assert_eq!(
            strip_source_cues("RT @CDCgov: Get your #FluShot today! https://t.co/abc"),
            "RT : Get your FluShot today!"
        );
        assert_eq!(
            strip_source_cues("email me at a@b.com #1 www.example.org/x?y=1 done"),
            "email me at a@b.com 1 done"
        );
        assert_eq!(strip_source_cues("C# and ##double #a#b @x@y"), "C# and ##double a#b @y");
        assert_eq!(strip_source_cues("  \t x \n "), "x");
        assert_eq!(strip_source_cues("HTTPS://EXAMPLE.ORG/A"), "");
    }

    #[test]
    fn only_models_that_ask_for_it_get_prepared_text() {
        assert_eq!(prepare(None, "see https://x.org"), "see https://x.org");
        assert_eq!(prepare(Some("something-else"), "@a b"), "@a b");
        assert_eq!(prepare(Some(STRIP_SOURCE_CUES), "@a b"), "b");
    }
}
