//! Keyed pseudonyms: the same account maps to the same pseudonym in every export made with the
//! same key, and nobody without the key can tell whose it is (HMAC-SHA256; a plain hash of a
//! handle could be reversed by hashing a list of handles).

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::row::ExportRow;

/// Bytes of key.
pub const KEY_BYTES: usize = 32;
/// Hex characters of a pseudonym: 64 bits, so collisions stay negligible for millions of
/// accounts.
const PSEUDONYM_HEX: usize = 16;

/// Replaces what identifies people in a row.
pub struct Pseudonymizer {
    key: [u8; KEY_BYTES],
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer { key: <hidden> }")
    }
}

impl Pseudonymizer {
    /// A pseudonymizer with `key` (keep it secret: it is what makes pseudonyms irreversible).
    pub fn new(key: [u8; KEY_BYTES]) -> Self {
        Self { key }
    }

    /// `kind:hex`: the pseudonym of `value` (kinds keep an author and a URL with the same
    /// text apart).
    pub fn pseudonym(&self, kind: &str, value: &str) -> String {
        // HMAC takes keys of any length: constructing it cannot fail.
        let Ok(mut mac) = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&self.key) else {
            return format!("{kind}:unavailable");
        };
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.trim().to_lowercase().as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("{kind}:{}", &hex::encode(digest)[..PSEUDONYM_HEX])
    }

    /// Replaces the author, handles in the title and text (`@name`, `@name@instance`,
    /// `u/name`), and the URL when it is an individual's (a social post or profile).
    pub fn apply(&self, row: &mut ExportRow) {
        if let Some(author) = &row.author {
            row.author = Some(self.pseudonym("author", author));
        }
        row.title = self.replace_handles(&row.title);
        row.text = self.replace_handles(&row.text);
        if let Some(evidence) = &row.evidence {
            row.evidence = Some(self.replace_handles(evidence));
        }
        if is_personal_url(&row.url) {
            row.url = self.pseudonym("url", &row.url);
        }
    }

    /// Every `@handle` (with an optional `@instance`) and `u/name` replaced by its pseudonym.
    fn replace_handles(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some((start, len)) = next_handle(rest) {
            out.push_str(&rest[..start]);
            out.push_str(&self.pseudonym("account", &rest[start..start + len]));
            rest = &rest[start + len..];
        }
        out.push_str(rest);
        out
    }
}

fn handle_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.' || c == '-'
}

/// The next handle in `text`: its byte offset and length. `@` must start a word (an e-mail
/// address's `@` does not), and the handle holds at least one letter or digit.
fn next_handle(text: &str) -> Option<(usize, usize)> {
    let mut previous: Option<char> = None;
    for (index, c) in text.char_indices() {
        let word_start = previous.is_none_or(|p| !handle_char(p) && p != '/');
        let reddit = c == 'u' && text[index..].starts_with("u/") && word_start;
        if (c == '@' && word_start) || reddit {
            let body_start = index + if reddit { 2 } else { 1 };
            let mut end = body_start;
            let mut ats = 0;
            for (offset, d) in text[body_start..].char_indices() {
                // One more `@` for a fediverse handle (`@name@instance.social`).
                if d == '@' && ats == 0 && !reddit && offset > 0 {
                    ats += 1;
                } else if !handle_char(d) {
                    break;
                }
                end = body_start + offset + d.len_utf8();
            }
            // A trailing `.` or `-` ends the sentence, not the handle.
            while end > body_start && text[..end].ends_with(['.', '-', '@']) {
                end -= 1;
            }
            if text[body_start..end].chars().any(char::is_alphanumeric) {
                return Some((index, end - index));
            }
        }
        previous = Some(c);
    }
    None
}

/// Whether a URL points at one person's post or profile: social platforms (Mastodon-style
/// `/@name`, Reddit, Telegram, X/Twitter, Facebook, Instagram, TikTok, YouTube channels).
/// News and authority pages are kept: they are publications, not people.
pub fn is_personal_url(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else { return false };
    let host = parsed.host_str().unwrap_or("").trim_start_matches("www.").to_ascii_lowercase();
    let path = parsed.path();
    const SOCIAL: [&str; 12] = [
        "reddit.com",
        "old.reddit.com",
        "t.me",
        "telegram.me",
        "twitter.com",
        "x.com",
        "facebook.com",
        "instagram.com",
        "tiktok.com",
        "threads.net",
        "bsky.app",
        "youtube.com",
    ];
    SOCIAL.contains(&host.as_str()) || path.starts_with("/@") || path.starts_with("/users/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(author: Option<&str>, url: &str, text: &str) -> ExportRow {
        let scored = infodemic_core::ScoredItem {
            item: infodemic_core::Item {
                id: infodemic_core::ItemId([1; 8]),
                url: url.to_owned(),
                canonical_url: url.to_owned(),
                title: "t".to_owned(),
                text: text.to_owned(),
                published: None,
                fetched_at: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
                author: author.map(str::to_owned),
                source: infodemic_core::SourceId::new("s").unwrap_or_else(|_| unreachable!()),
                language: None,
                content_hash: infodemic_core::ContentHash::of("t", text),
                links: Vec::new(),
                simhash: None,
            },
            classification: infodemic_core::Classification {
                score: 0.5,
                flagged: false,
                review: false,
                embedding: Vec::new(),
                model: infodemic_core::ModelRef { id: "m".to_owned(), version: "1".to_owned() },
                language: None,
                language_supported: true,
                evidence: Vec::new(),
                claim_match: None,
                claim: None,
                refute: None,
                reasons: Vec::new(),
            },
        };
        ExportRow::new(&scored, &crate::RowContext::default())
    }

    #[test]
    fn pseudonyms_are_stable_per_key_and_differ_across_keys() {
        let a = Pseudonymizer::new([1; KEY_BYTES]);
        let b = Pseudonymizer::new([2; KEY_BYTES]);
        assert_eq!(a.pseudonym("author", "Dr Ann"), a.pseudonym("author", " dr ann "));
        assert_ne!(a.pseudonym("author", "Dr Ann"), b.pseudonym("author", "Dr Ann"));
        assert_ne!(a.pseudonym("author", "x"), a.pseudonym("url", "x"));
        assert!(a.pseudonym("author", "Dr Ann").starts_with("author:"));
        assert!(!format!("{a:?}").contains('1'), "the key never shows in logs");
    }

    #[test]
    fn authors_handles_and_personal_urls_are_replaced() {
        let p = Pseudonymizer::new([7; KEY_BYTES]);
        let mut r = row(
            Some("Jane Doe"),
            "https://mastodon.social/@jane/1234",
            "Thanks @jane@mastodon.social and @bob_99. Mail me at x@example.org, says u/sceptic.",
        );
        p.apply(&mut r);
        assert!(r.author.as_deref().is_some_and(|a| a.starts_with("author:")));
        assert!(r.url.starts_with("url:"), "{}", r.url);
        for name in ["jane", "bob_99", "sceptic"] {
            assert!(!r.text.contains(name), "{name} left in: {}", r.text);
        }
        assert!(r.text.contains("x@example.org"), "an e-mail's @ is not a handle: {}", r.text);
        assert!(r.text.contains(". Mail"), "the sentence's full stop is kept: {}", r.text);
        assert_eq!(r.text.matches("account:").count(), 3, "{}", r.text);
    }

    #[test]
    fn publications_keep_their_urls() {
        assert!(!is_personal_url("https://www.who.int/news/item/1"));
        assert!(is_personal_url("https://www.reddit.com/r/health/comments/abc"));
        assert!(is_personal_url("https://t.me/s/channel/12"));
        assert!(!is_personal_url("not a url"));
    }
}
