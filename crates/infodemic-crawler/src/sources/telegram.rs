//! Public Telegram channels, read from their web preview (`https://t.me/s/NAME`), which
//! shows the latest ~20 messages; [`older_page_url`] pages backwards.
//!
//! Each `.tgme_widget_message[data-post]` becomes one post:
//! - URL: the message's date link (`https://t.me/NAME/123`), else one built from
//!   `data-post`; id: `data-post` (`NAME/123`).
//! - Text: the HTML of its `.tgme_widget_message_text` (a photo's or video's caption is that
//!   text too); the quoted text of the message it replies to is not part of it.
//! - Author: the channel's name (`.tgme_widget_message_owner_name`); for a forwarded message,
//!   the original's (`.tgme_widget_message_forwarded_from_name`), as Mastodon boosts take
//!   the boosted author: the forwarding channel stays in the URL and id.
//! - Links: the text's links (hashtag searches and `@mentions` left out), then the link
//!   preview's.
//!
//! **Messages without text are skipped**: a photo, video, sticker or poll without a caption
//! has nothing to classify. Service messages ("channel created") are skipped for the same
//! reason.

use scraper::{ElementRef, Html};
use url::Url;

use super::html_page::{element_text, parse_date, push_link, resolve_web_url, selector};
use super::{RawPost, SourceError};

/// Where Telegram's relative links resolve.
pub const TELEGRAM_BASE: &str = "https://t.me/";

/// The web preview of the public channel `name` (`name`, `@name` or `t.me/name`):
/// `https://t.me/s/name`.
///
/// # Errors
/// [`SourceError::Shape`] when `name` is not a Telegram username (4–32 letters, digits and
/// underscores, starting with a letter, not ending with an underscore).
pub fn channel_url(name: &str) -> Result<Url, SourceError> {
    let trimmed = name.trim();
    let trimmed =
        ["https://", "http://"].iter().fold(trimmed, |name, scheme| name.strip_prefix(scheme).unwrap_or(name));
    let trimmed = trimmed.strip_prefix("t.me/").unwrap_or(trimmed);
    let trimmed = trimmed.strip_prefix("s/").unwrap_or(trimmed).trim_end_matches('/').trim_start_matches('@');
    let valid = (4..=32).contains(&trimmed.len())
        && trimmed.starts_with(|c: char| c.is_ascii_alphabetic())
        && !trimmed.ends_with('_')
        && trimmed.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(SourceError::Shape(format!("invalid Telegram channel name `{name}`")));
    }
    Url::parse(&format!("{TELEGRAM_BASE}s/{trimmed}")).map_err(|e| SourceError::Shape(e.to_string()))
}

/// The page of older messages (`https://t.me/s/NAME?before=123`), from the page's
/// `link[rel=prev]` or its "load more" link; `None` on the oldest page.
pub fn older_page_url(html: &str) -> Option<Url> {
    let document = Html::parse_document(html);
    let base = Url::parse(TELEGRAM_BASE).ok()?;
    ["link[rel=prev][href]", "a.tme_messages_more[href]"].into_iter().filter_map(|css| selector(css).ok()).find_map(
        |selector| {
            document.select(&selector).filter_map(|element| element.attr("href")).find_map(|href| {
                resolve_web_url(&base, href).filter(|url| url.query().is_some_and(|q| q.contains("before=")))
            })
        },
    )
}

/// Reads the messages of a channel preview page, in page order (oldest first).
///
/// # Errors
/// [`SourceError::Shape`] when the page is not a channel preview: no message and no
/// channel header (`.tgme_channel_info`), such as the "channel not found" page.
pub fn parse(html: &str) -> Result<Vec<RawPost>, SourceError> {
    let document = Html::parse_document(html);
    let base = Url::parse(TELEGRAM_BASE).map_err(|e| SourceError::Shape(e.to_string()))?;
    let messages = selector(".tgme_widget_message[data-post]")?;
    let text_selector = selector(".tgme_widget_message_text")?;
    let date = selector("a.tgme_widget_message_date")?;
    let time = selector(".tgme_widget_message_date time[datetime]")?;
    let owner = selector(".tgme_widget_message_owner_name")?;
    let forwarded = selector(".tgme_widget_message_forwarded_from_name")?;
    let preview = selector("a.tgme_widget_message_link_preview[href]")?;
    let anchors = selector("a[href]")?;
    let mut posts = Vec::new();
    let mut found_any = false;
    for message in document.select(&messages) {
        found_any = true;
        let Some(data_post) = message.attr("data-post").map(str::trim).filter(|id| id.contains('/')) else {
            continue;
        };
        let Some(text) = message.select(&text_selector).find(|text| !inside_reply(*text)) else {
            tracing::debug!(message = "skipping Telegram message without text", post = data_post);
            continue;
        };
        if element_text(text).is_empty() {
            continue;
        }
        let url = message
            .select(&date)
            .filter_map(|link| link.attr("href"))
            .find_map(|href| resolve_web_url(&base, href))
            .or_else(|| base.join(data_post).ok());
        let Some(url) = url else { continue };
        let author = message
            .select(&forwarded)
            .chain(message.select(&owner))
            .map(element_text)
            .find(|name| !name.is_empty())
            .or_else(|| data_post.split('/').next().map(str::to_owned));
        let mut links = Vec::new();
        for anchor in text.select(&anchors) {
            let label = element_text(anchor);
            let Some(href) = anchor.attr("href") else { continue };
            if label.starts_with('#') || label.starts_with('@') || href.trim_start().starts_with("?q=") {
                continue;
            }
            push_link(&mut links, &base, href, url.as_str());
        }
        for link_preview in message.select(&preview) {
            if let Some(href) = link_preview.attr("href") {
                push_link(&mut links, &base, href, url.as_str());
            }
        }
        posts.push(RawPost {
            url: url.to_string(),
            id: Some(data_post.to_owned()),
            title: None,
            html: Some(text.inner_html().trim().to_owned()),
            text: None,
            author,
            published: message.select(&time).filter_map(|time| time.attr("datetime")).find_map(parse_date),
            links,
            language: None,
        });
    }
    if !found_any && document.select(&selector(".tgme_channel_info")?).next().is_none() {
        return Err(SourceError::Shape("not a Telegram channel preview page".to_owned()));
    }
    Ok(posts)
}

/// Whether `element` is part of the quoted message a reply shows.
fn inside_reply(element: ElementRef<'_>) -> bool {
    element
        .ancestors()
        .filter_map(ElementRef::wrap)
        .any(|ancestor| ancestor.value().classes().any(|class| class == "tgme_widget_message_reply"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_urls_are_validated() {
        for good in ["healthwatch", "@healthwatch", "t.me/healthwatch", "https://t.me/s/healthwatch/", " healthwatch "]
        {
            assert_eq!(channel_url(good).unwrap().as_str(), "https://t.me/s/healthwatch", "{good:?}");
        }
        for bad in ["", "abc", "1channel", "chan_", "has space", "a/b", "name?x=1", &"a".repeat(33), "канал_новостей"]
        {
            assert!(matches!(channel_url(bad), Err(SourceError::Shape(_))), "{bad:?}");
        }
    }

    #[test]
    fn older_page_from_more_link_or_none() {
        let html =
            r#"<a class="tme_messages_more js-messages_more" data-before="40" href="/s/healthwatch?before=40"></a>"#;
        assert_eq!(older_page_url(html).unwrap().as_str(), "https://t.me/s/healthwatch?before=40");
        assert_eq!(older_page_url(r#"<link rel="next" href="/s/x?after=3">"#), None);
        assert_eq!(older_page_url(""), None);
    }

    #[test]
    fn not_a_channel_page_is_an_error() {
        let html = r#"<html><body><div class="tgme_page"><div class="tgme_page_title">Channel not found</div></div></body></html>"#;
        assert!(matches!(parse(html), Err(SourceError::Shape(_))));
        assert!(matches!(parse(""), Err(SourceError::Shape(_))));
        let empty_channel =
            r#"<div class="tgme_channel_info"><div class="tgme_channel_info_header_title">X</div></div>"#;
        assert!(parse(empty_channel).unwrap().is_empty());
    }

    #[test]
    fn reply_quote_is_not_the_text() {
        let html = r#"<div class="tgme_widget_message" data-post="chan/9">
            <a class="tgme_widget_message_reply" href="https://t.me/chan/8"><div class="tgme_widget_message_text">quoted</div></a>
            <div class="tgme_widget_message_text">the reply</div>
            <a class="tgme_widget_message_date" href="https://t.me/chan/9"><time datetime="2026-02-01T08:00:00+00:00">08:00</time></a>
        </div>"#;
        let posts = parse(html).unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].html.as_deref(), Some("the reply"));
        assert_eq!(posts[0].author.as_deref(), Some("chan"));
        assert_eq!(posts[0].url, "https://t.me/chan/9");
        assert!(posts[0].links.is_empty());
    }

    #[test]
    fn url_falls_back_to_data_post() {
        let html = r#"<div class="tgme_widget_message" data-post="chan/10"><div class="tgme_widget_message_text">hi</div></div>
            <div class="tgme_widget_message" data-post="nonsense"><div class="tgme_widget_message_text">skipped</div></div>"#;
        let posts = parse(html).unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].url, "https://t.me/chan/10");
        assert_eq!(posts[0].published, None);
    }
}
