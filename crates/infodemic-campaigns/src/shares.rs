//! Stored campaign members as CooRTweet shares: what counts as "the same object" when
//! accounts post items rather than retweets. An object is a near-identical text (its first
//! words, once hashtags, mentions and links are set aside: copypasta with a tag or a "share
//! this" appended is the same text) or a hashtag.

use infodemic_core::text::fingerprint_text;
use infodemic_core::CampaignMember;

use crate::coordination::Share;

/// Words of a text that name it as an object: enough to tell texts apart, few enough that an
/// appended line does not.
pub const OBJECT_WORDS: usize = 8;
/// Texts with fewer words are too short to call two posts the same text.
pub const MIN_OBJECT_WORDS: usize = 4;
/// Hashtags read from one item.
const MAX_TAGS: usize = 16;

/// The shares of `members`: one per object each member carries, under its account (else its
/// source). Members without a time are left out: coordination is about time.
pub fn member_shares<'a>(members: impl IntoIterator<Item = &'a CampaignMember>) -> Vec<Share> {
    let mut shares = Vec::new();
    for member in members {
        let Some(time) = member.time else { continue };
        let account = member.account.clone().unwrap_or_else(|| member.source.clone());
        let mut push = |object: String| {
            shares.push(Share {
                object_id: object,
                account_id: account.clone(),
                content_id: member.id.clone(),
                timestamp: time.timestamp(),
            });
        };
        let mut words = Vec::new();
        let mut tags = Vec::new();
        for token in member.text.split_whitespace() {
            if let Some(tag) = token.strip_prefix('#') {
                let tag = fingerprint_text(tag).replace(' ', "");
                if !tag.is_empty() && tags.len() < MAX_TAGS && !tags.contains(&tag) {
                    tags.push(tag);
                }
            } else if !token.starts_with('@') && !token.contains("://") {
                words.push(token);
            }
        }
        let text = fingerprint_text(&words.join(" "));
        let first: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).take(OBJECT_WORDS).collect();
        if first.len() >= MIN_OBJECT_WORDS {
            push(format!("text:{}", first.join(" ")));
        }
        for tag in tags {
            push(format!("#{tag}"));
        }
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn member(id: &str, account: Option<&str>, text: &str, seconds: i64) -> CampaignMember {
        CampaignMember {
            id: id.to_owned(),
            url: String::new(),
            text: text.to_owned(),
            time: DateTime::from_timestamp(1_700_000_000 + seconds, 0),
            source: "feed".to_owned(),
            account: account.map(str::to_owned),
            score: None,
        }
    }

    #[test]
    fn appended_lines_tags_and_links_leave_the_text_object_alone() {
        let members = [
            member("a", Some("@x"), "Bleach cures the virus in hours, doctors hide it", 0),
            member(
                "b",
                Some("@y"),
                "bleach cures the virus in hours doctors hide it #WakeUp https://t.co/x share now",
                5,
            ),
            member("c", None, "Too short", 9),
        ];
        let shares = member_shares(&members);
        let objects: Vec<(&str, &str)> = shares.iter().map(|s| (s.account_id.as_str(), s.object_id.as_str())).collect();
        assert_eq!(
            objects,
            [
                ("@x", "text:bleach cures the virus in hours doctors hide"),
                ("@y", "text:bleach cures the virus in hours doctors hide"),
                ("@y", "#wakeup"),
            ]
        );
        let undated = CampaignMember { time: None, ..members[0].clone() };
        assert!(member_shares([&undated]).is_empty());
    }
}
