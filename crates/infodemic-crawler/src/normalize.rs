//! Feed entries to [`Item`]s: canonical URL, plain text, time, author, language, hash.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed, Text};
use infodemic_core::language::{detect_language, primary_subtag};
use infodemic_core::{text, url_canon, ContentHash, FeedSpec, Item, ItemId};
use url::Url;

use crate::html_text::{html_links, html_to_text};
use crate::sources::RawPost;

/// The items of one feed, and how many entries could not become items.
#[derive(Debug, Default)]
pub struct Normalized {
    /// One item per distinct canonical URL, in feed order.
    pub items: Vec<Item>,
    /// Entries without a usable link, or without any text.
    pub skipped: usize,
    /// Entries whose canonical URL repeated an earlier entry of the same feed.
    pub duplicates_in_feed: usize,
}

/// Normalises every entry of `feed`. Relative links resolve against `base` (the URL the
/// feed was fetched from, after redirects).
pub fn normalize_feed(feed: Feed, spec: &FeedSpec, base: &Url, fetched_at: DateTime<Utc>) -> Normalized {
    let feed_language = feed.language.clone();
    let mut seen = HashSet::new();
    let mut out = Normalized::default();
    for entry in feed.entries {
        match normalize_entry(&entry, spec, base, feed_language.as_deref(), fetched_at) {
            Some(item) if seen.insert(item.canonical_url.clone()) => out.items.push(item),
            Some(_) => out.duplicates_in_feed += 1,
            None => out.skipped += 1,
        }
    }
    out
}

/// Normalises one entry; `None` when it has no usable link or no text at all.
pub fn normalize_entry(
    entry: &Entry,
    spec: &FeedSpec,
    base: &Url,
    feed_language: Option<&str>,
    fetched_at: DateTime<Utc>,
) -> Option<Item> {
    let url = entry_link(entry, base)?;
    let canonical_url = url_canon::canonicalize(&url).to_string();
    let title = entry.title.as_ref().map(text_of).unwrap_or_default();
    let body_html = entry
        .content
        .as_ref()
        .and_then(|content| content.body.as_deref())
        .filter(|body| !body.trim().is_empty())
        .or_else(|| entry.summary.as_ref().map(|summary| summary.content.as_str()))
        // YouTube and podcast feeds carry their text as a media description.
        .or_else(|| entry.media.iter().find_map(|m| m.description.as_ref()).map(|d| d.content.as_str()))
        .unwrap_or_default();
    let body = html_to_text(body_html);
    if title.is_empty() && body.is_empty() {
        return None;
    }
    let author = entry
        .authors
        .iter()
        .chain(&entry.contributors)
        .find_map(|person| person.name.as_deref().map(text::collapse_whitespace))
        .filter(|name| !name.is_empty());
    let declared_language = entry.language.as_deref().or(feed_language).or(spec.language.as_deref());
    let language = detect_language(&format!("{title} {body}")).or_else(|| declared_language.map(primary_subtag));
    let simhash = infodemic_core::simhash::simhash(&format!("{title} {body}"));
    Some(Item {
        id: ItemId::from_canonical_url(&canonical_url),
        url: url.to_string(),
        content_hash: ContentHash::of(&title, &body),
        canonical_url,
        title,
        text: body,
        published: entry.published.or(entry.updated),
        fetched_at,
        author,
        source: spec.id.clone(),
        language,
        links: html_links(body_html, &url, url.as_str()),
        simhash,
    })
}

/// Normalises the posts of one source page, like [`normalize_feed`] does for entries.
pub fn normalize_posts(posts: Vec<RawPost>, spec: &FeedSpec, fetched_at: DateTime<Utc>) -> Normalized {
    let mut seen = HashSet::new();
    let mut out = Normalized::default();
    for post in posts {
        match normalize_post(post, spec, fetched_at) {
            Some(item) if seen.insert(item.canonical_url.clone()) => out.items.push(item),
            Some(_) => out.duplicates_in_feed += 1,
            None => out.skipped += 1,
        }
    }
    out
}

/// Normalises a post of a source beyond RSS (Mastodon, Reddit, Telegram, HTML pages); `None`
/// without a usable URL or any text. Posts have no titles: the first sentence stands in.
pub fn normalize_post(post: RawPost, spec: &FeedSpec, fetched_at: DateTime<Utc>) -> Option<Item> {
    let url = Url::parse(&post.url).ok().filter(|u| matches!(u.scheme(), "http" | "https"))?;
    let canonical_url = url_canon::canonicalize(&url).to_string();
    let body = match (&post.html, &post.text) {
        (Some(html), _) => html_to_text(html),
        (None, Some(text)) => text::collapse_whitespace(text),
        (None, None) => String::new(),
    };
    let title =
        post.title.as_deref().map(html_to_text).filter(|t| !t.is_empty()).unwrap_or_else(|| first_sentence(&body));
    if title.is_empty() && body.is_empty() {
        return None;
    }
    let language = detect_language(&format!("{title} {body}"))
        .or_else(|| post.language.as_deref().or(spec.language.as_deref()).map(primary_subtag));
    let simhash = infodemic_core::simhash::simhash(&format!("{title} {body}"));
    Some(Item {
        id: ItemId::from_canonical_url(&canonical_url),
        url: url.to_string(),
        content_hash: ContentHash::of(&title, &body),
        canonical_url,
        title,
        text: body,
        published: post.published,
        fetched_at,
        author: post.author,
        source: spec.id.clone(),
        language,
        simhash,
        links: post.links,
    })
}

/// The first sentence, at most 120 characters.
fn first_sentence(text: &str) -> String {
    let end = text.find(['.', '!', '?', '\n']).map_or(text.len(), |i| i + 1);
    text::ellipsize(text[..end].trim(), 120)
}

fn text_of(value: &Text) -> String {
    html_to_text(&value.content)
}

/// The entry's web page: its alternate link, else its first link, else an id that is a URL.
fn entry_link(entry: &Entry, base: &Url) -> Option<Url> {
    let href = entry
        .links
        .iter()
        .find(|link| link.rel.as_deref().is_none_or(|rel| rel == "alternate"))
        .or_else(|| entry.links.first())
        .map(|link| link.href.as_str())
        .or_else(|| Some(entry.id.as_str()).filter(|id| id.starts_with("http")))?;
    let url = base.join(href.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_feed;

    fn spec() -> FeedSpec {
        FeedSpec::from_url(Url::parse("https://example.org/feed.xml").unwrap())
    }

    fn normalize(xml: &str) -> Normalized {
        let feed = parse_feed(xml.as_bytes()).unwrap();
        normalize_feed(feed, &spec(), &Url::parse("https://example.org/feed.xml").unwrap(), Utc::now())
    }

    #[test]
    fn resolves_relative_links_and_strips_tracking() {
        let out = normalize(
            r#"<rss version="2.0"><channel><title>t</title>
            <item><title>A</title><link>/news/a?utm_source=x</link><description>&lt;p&gt;Body text&lt;/p&gt;</description></item>
            </channel></rss>"#,
        );
        assert_eq!(out.items.len(), 1);
        let item = &out.items[0];
        assert_eq!(item.canonical_url, "https://example.org/news/a");
        assert_eq!(item.url, "https://example.org/news/a?utm_source=x");
        assert_eq!(item.text, "Body text");
        assert_eq!(item.id, ItemId::from_canonical_url("https://example.org/news/a"));
    }

    #[test]
    fn duplicate_links_in_one_feed_are_counted_once() {
        let out = normalize(
            r#"<rss version="2.0"><channel><title>t</title>
            <item><title>A</title><link>https://e.org/a?utm_medium=1</link></item>
            <item><title>A again</title><link>https://e.org/a#x</link></item>
            <item><title>No link</title></item>
            </channel></rss>"#,
        );
        assert_eq!(out.items.len(), 1);
        assert_eq!(out.duplicates_in_feed, 1);
        assert_eq!(out.skipped, 1);
    }

    #[test]
    fn detects_language_of_long_enough_text() {
        let out = normalize(
            r#"<rss version="2.0"><channel><title>t</title>
            <item><title>Campaña de vacunación</title><link>https://e.org/es</link>
            <description>El ministerio de salud anuncia una nueva campaña de vacunación contra el sarampión para todos los niños menores de cinco años en las escuelas.</description></item>
            </channel></rss>"#,
        );
        assert_eq!(out.items[0].language.as_deref(), Some("es"));
    }
}
