//! Feed entries to [`Item`]s: canonical URL, plain text, time, author, language, hash.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed, FeedType, Text};
use infodemic_core::language::{detect_language, primary_subtag};
use infodemic_core::{text, url_canon, ContentHash, FeedSpec, Item, ItemId};
use sha2::{Digest, Sha256};
use url::Url;

use crate::html_text::{html_links, html_to_text};
use crate::sources::RawPost;

/// Entries read from one document; the rest are counted as dropped. The largest real feeds
/// hold a few hundred; 100,000 entries would be one store transaction and one scoring job.
pub const MAX_ENTRIES: usize = 2_000;
/// Characters kept of a title.
pub const MAX_TITLE_CHARS: usize = 1_000;
/// Characters kept of an item's text: longer than any article (about 15,000 words), bounded
/// for the scoring windows a hostile 9 MB description would give.
pub const MAX_TEXT_CHARS: usize = 100_000;
/// Bytes of an entry's HTML parsed for its text and links (the text cap above, with room for
/// markup).
pub const MAX_HTML_BYTES: usize = 1_000_000;

/// The items of one feed, and how many entries could not become items.
#[derive(Debug, Default)]
pub struct Normalized {
    /// One item per distinct canonical URL, in feed order.
    pub items: Vec<Item>,
    /// Entries without any text (an entry without a link is kept under the feed URL).
    pub skipped: usize,
    /// Entries repeating an earlier entry of the same feed: its link, with the same or largely
    /// the same text.
    pub duplicates_in_feed: usize,
    /// Entries the document holds, counted apart from the parser (syndication feeds; 0 when
    /// not counted).
    pub entries_in_document: usize,
}

impl Normalized {
    /// Entries of the document that did not become an item of their own: without a usable
    /// link or text, repeating another entry's link, or missed by the parser.
    pub fn entries_dropped(&self) -> usize {
        self.entries_in_document.saturating_sub(self.items.len() + self.duplicates_in_feed).max(self.skipped)
    }
}

/// Normalises every entry of `feed`. Relative links resolve against `base` (the URL the
/// feed was fetched from, after redirects).
///
/// Identity: an entry is its canonical link. Two entries of one feed on the same link are one
/// item when their text is the same or largely so (a feed that repeats or updates an entry); with
/// different text they are two posts on one page (a linkblog's `#anchors`, a podcast whose
/// every episode links to its home page), and the later one is told apart by its fragment, else
/// its entry id. An entry without any link is kept under the feed's own URL, told apart by its
/// entry id.
pub fn normalize_feed(feed: Feed, spec: &FeedSpec, base: &Url, fetched_at: DateTime<Utc>) -> Normalized {
    let language = feed.language;
    // Atom `type="text"` and JSON Feed titles are plain text: `<blink>` in one is a word, not
    // markup. RSS titles say nothing, and carry escaped HTML often enough to be read as HTML.
    let plain_titles = matches!(feed.feed_type, FeedType::Atom | FeedType::JSON);
    let mut out = Normalized::default();
    // Per canonical link, the entries kept on it; every canonical URL given.
    let mut on_link: HashMap<String, Vec<Seen>> = HashMap::new();
    let mut given: HashSet<String> = HashSet::new();
    if feed.entries.len() > MAX_ENTRIES {
        tracing::info!(
            message = "Feed entries over the cap left out.",
            entries = feed.entries.len(),
            kept = MAX_ENTRIES
        );
    }
    for entry in feed.entries.iter().take(MAX_ENTRIES) {
        let Some((mut item, fragment)) =
            normalize_entry(entry, spec, base, language.as_deref(), plain_titles, fetched_at)
        else {
            out.skipped += 1;
            continue;
        };
        let link = item.canonical_url.clone();
        let kept = on_link.entry(link.clone()).or_default();
        // Shingles of this entry, computed once and only if a cheaper test did not decide.
        let mut shingles = None;
        if kept.iter_mut().any(|earlier| earlier.same_story(&out.items[earlier.index], &item, &mut shingles)) {
            out.duplicates_in_feed += 1;
            continue;
        }
        if !kept.is_empty() {
            let told_apart = fragment
                .map(|f| format!("{link}#{f}"))
                .filter(|c| !given.contains(c))
                .unwrap_or_else(|| entry_key(&link, entry));
            if given.contains(&told_apart) {
                out.duplicates_in_feed += 1;
                continue;
            }
            item.id = ItemId::from_canonical_url(&told_apart);
            item.canonical_url = told_apart;
        }
        kept.push(Seen { index: out.items.len(), shingles: None });
        given.insert(item.canonical_url.clone());
        out.items.push(item);
    }
    out
}

/// Trigram resemblance above which two entries on one link are one story, updated: a rewrite
/// keeps much of its wording (an update of a fixture story measures 0.36), different posts share
/// next to none of it.
const UPDATE_RESEMBLANCE: f64 = 0.3;

/// An entry kept on a link, to compare later entries on the same link with: its place in the
/// items, and its shingles once a comparison needed them (most links are never repeated).
struct Seen {
    index: usize,
    shingles: Option<infodemic_core::simhash::Shingles>,
}

impl Seen {
    /// Whether `item` tells the same story as `earlier` (this entry's item): the same text, a
    /// near-duplicate of it, or a rewrite that keeps much of its wording.
    fn same_story(
        &mut self,
        earlier: &Item,
        item: &Item,
        item_shingles: &mut Option<infodemic_core::simhash::Shingles>,
    ) -> bool {
        use infodemic_core::simhash::{is_near_duplicate, jaccard, shingles};
        if earlier.content_hash == item.content_hash
            || earlier.simhash.zip(item.simhash).is_some_and(|(a, b)| is_near_duplicate(a, b))
        {
            return true;
        }
        let mine = self.shingles.get_or_insert_with(|| shingles(&story_text(earlier)));
        let theirs = item_shingles.get_or_insert_with(|| shingles(&story_text(item)));
        jaccard(mine, theirs) >= UPDATE_RESEMBLANCE
    }
}

fn story_text(item: &Item) -> String {
    format!("{} {}", item.title, item.text)
}

/// `canonical` told apart by the entry's id (a hash of it: ids are often long `tag:` URIs).
fn entry_key(canonical: &str, entry: &Entry) -> String {
    let digest = Sha256::digest(entry.id.as_bytes());
    format!("{canonical}#entry-{}", hex::encode(&digest[..8]))
}

/// Normalises the posts of one source page, like [`normalize_feed`] does for entries.
pub fn normalize_posts(posts: Vec<RawPost>, spec: &FeedSpec, fetched_at: DateTime<Utc>) -> Normalized {
    unique(posts.into_iter().map(|post| normalize_post(post, spec, fetched_at)))
}

/// Keeps the first item per canonical URL, counting repeats and entries that gave none.
fn unique(items: impl Iterator<Item = Option<Item>>) -> Normalized {
    let mut seen = HashSet::new();
    let mut out = Normalized::default();
    for item in items {
        match item {
            Some(item) if seen.insert(item.canonical_url.clone()) => out.items.push(item),
            Some(_) => out.duplicates_in_feed += 1,
            None => out.skipped += 1,
        }
    }
    out
}

/// What every source gives for one item, before the derived fields.
struct Parts {
    url: Url,
    title: String,
    body: String,
    published: Option<DateTime<Utc>>,
    author: Option<String>,
    declared_language: Option<String>,
    links: Vec<String>,
}

/// The item of `parts`: canonical URL and id, content hash, SimHash, and the language
/// detected (else the one declared); `None` without any text.
fn build(parts: Parts, spec: &FeedSpec, fetched_at: DateTime<Utc>) -> Option<Item> {
    let Parts { url, title, body, published, author, declared_language, links } = parts;
    if title.is_empty() && body.is_empty() {
        return None;
    }
    let title = text::ellipsize(&title, MAX_TITLE_CHARS);
    let body = text::ellipsize(&body, MAX_TEXT_CHARS);
    let canonical_url = url_canon::canonicalize(&url).to_string();
    let published = published.filter(|at| plausible_publication(*at, fetched_at));
    let both = format!("{title} {body}");
    let language = detect_language(&both).or_else(|| declared_language.as_deref().map(primary_subtag));
    Some(Item {
        id: ItemId::from_canonical_url(&canonical_url),
        url: url.to_string(),
        content_hash: ContentHash::of(&title, &body),
        simhash: infodemic_core::simhash::simhash(&both),
        canonical_url,
        title,
        text: body,
        published,
        fetched_at,
        author,
        source: spec.id.clone(),
        language,
        links,
    })
}

/// The longest prefix of `text` of at most `max_bytes`, cut at a character boundary.
fn prefix(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let end = (0..=max_bytes).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    &text[..end]
}

/// Publication times a feed may claim: from 1970 to two days after the fetch (time zones and
/// clocks are often off by hours). Anything else (year 1, year 9999) is a broken or hostile
/// date, and the item's time is unknown instead.
fn plausible_publication(at: DateTime<Utc>, fetched_at: DateTime<Utc>) -> bool {
    let latest = fetched_at.checked_add_signed(chrono::Duration::days(2)).unwrap_or(fetched_at);
    at.timestamp() >= 0 && at <= latest
}

/// Normalises one entry, with its link's fragment (which [`normalize_feed`] may need to tell
/// entries apart); `None` when it has no text at all. An entry without a usable link gets the
/// feed's URL, told apart by its entry id.
pub fn normalize_entry(
    entry: &Entry,
    spec: &FeedSpec,
    base: &Url,
    feed_language: Option<&str>,
    plain_titles: bool,
    fetched_at: DateTime<Utc>,
) -> Option<(Item, Option<String>)> {
    let link = entry_link(entry, base);
    let fragment = link.as_ref().and_then(|url| url.fragment()).filter(|f| !f.is_empty()).map(str::to_owned);
    let url = link.clone().unwrap_or_else(|| base.clone());
    let body_html = entry
        .content
        .as_ref()
        .and_then(|content| content.body.as_deref())
        .filter(|body| !body.trim().is_empty())
        .or_else(|| entry.summary.as_ref().map(|summary| summary.content.as_str()))
        // YouTube and podcast feeds carry their text as a media description.
        .or_else(|| entry.media.iter().find_map(|m| m.description.as_ref()).map(|d| d.content.as_str()))
        .map(|html| prefix(html, MAX_HTML_BYTES))
        .unwrap_or_default();
    let author = entry
        .authors
        .iter()
        .chain(&entry.contributors)
        .find_map(|person| person.name.as_deref().map(text::collapse_whitespace))
        .filter(|name| !name.is_empty());
    let declared_language = entry.language.as_deref().or(feed_language).or(spec.language.as_deref());
    let parts = Parts {
        links: html_links(body_html, &url, url.as_str()),
        // Podcast and video feeds may title an entry only in its media.
        title: entry
            .title
            .as_ref()
            .or_else(|| entry.media.iter().find_map(|m| m.title.as_ref()))
            .map(|title| title_text(title, plain_titles))
            .unwrap_or_default(),
        body: html_to_text(body_html),
        published: entry.published.or(entry.updated),
        author,
        declared_language: declared_language.map(str::to_owned),
        url,
    };
    let mut item = build(parts, spec, fetched_at)?;
    if link.is_none() {
        item.canonical_url = entry_key(&item.canonical_url, entry);
        item.id = ItemId::from_canonical_url(&item.canonical_url);
    }
    Some((item, fragment))
}

/// Normalises a post of a source beyond RSS (Mastodon, Reddit, Telegram, HTML pages); `None`
/// without a usable URL or any text. Posts have no titles: the first sentence stands in.
pub fn normalize_post(post: RawPost, spec: &FeedSpec, fetched_at: DateTime<Utc>) -> Option<Item> {
    let url = Url::parse(&post.url).ok().filter(|u| matches!(u.scheme(), "http" | "https"))?;
    let body = match (&post.html, &post.text) {
        (Some(html), _) => html_to_text(prefix(html, MAX_HTML_BYTES)),
        (None, Some(text)) => text::collapse_whitespace(text),
        (None, None) => String::new(),
    };
    let title =
        post.title.as_deref().map(html_to_text).filter(|t| !t.is_empty()).unwrap_or_else(|| first_sentence(&body));
    let parts = Parts {
        url,
        title,
        body,
        published: post.published,
        author: post.author,
        declared_language: post.language.or_else(|| spec.language.clone()),
        links: post.links,
    };
    build(parts, spec, fetched_at)
}

/// The first sentence, at most 120 characters.
fn first_sentence(text: &str) -> String {
    let end = text.find(['.', '!', '?', '\n']).map_or(text.len(), |i| i + 1);
    text::ellipsize(text[..end].trim(), 120)
}

fn title_text(title: &Text, plain: bool) -> String {
    if plain && title.content_type.as_str().starts_with("text/plain") {
        text::collapse_whitespace(&title.content)
    } else {
        html_to_text(&title.content)
    }
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
    fn a_repeated_entry_is_one_item_and_posts_sharing_a_page_are_told_apart() {
        let out = normalize(
            r#"<rss version="2.0"><channel><title>t</title>
            <item><title>A</title><link>https://e.org/a?utm_medium=1</link></item>
            <item><title>A</title><link>https://e.org/a</link></item>
            <item><title>A second post</title><link>https://e.org/a#p2</link></item>
            <item><title>Episode 3</title><link>https://e.org/a</link><guid>ep3</guid></item>
            <item><title>No link</title><guid isPermaLink="false">n1</guid></item>
            <item><title>No link either</title><guid isPermaLink="false">n2</guid></item>
            <item><link>https://e.org/empty</link></item>
            </channel></rss>"#,
        );
        let canonical: Vec<&str> = out.items.iter().map(|i| i.canonical_url.as_str()).collect();
        assert_eq!(canonical.len(), 5, "{canonical:?}");
        assert_eq!(canonical[0], "https://e.org/a");
        assert_eq!(canonical[1], "https://e.org/a#p2");
        assert!(canonical[2].starts_with("https://e.org/a#entry-"), "{canonical:?}");
        assert!(canonical[3].starts_with("https://example.org/feed.xml#entry-"), "{canonical:?}");
        assert_ne!(canonical[3], canonical[4]);
        assert_eq!(out.items[3].url, "https://example.org/feed.xml");
        assert_eq!(out.duplicates_in_feed, 1);
        assert_eq!(out.skipped, 1, "the entry without any text");
        // Identity is stable from one crawl to the next.
        let again = normalize(
            r#"<rss version="2.0"><channel><title>t</title>
            <item><title>No link</title><guid isPermaLink="false">n1</guid></item></channel></rss>"#,
        );
        assert_eq!(again.items[0].id, out.items[3].id);
    }

    #[test]
    fn entries_titles_and_texts_are_capped() {
        let long_text = "Word. ".repeat(MAX_TEXT_CHARS);
        let long_title = "t".repeat(MAX_TITLE_CHARS * 3);
        let mut xml = String::from(r#"<rss version="2.0"><channel><title>t</title>"#);
        xml.push_str(&format!(
            "<item><title>{long_title}</title><link>https://e.org/long</link><description>{long_text}</description></item>"
        ));
        for i in 0..MAX_ENTRIES + 10 {
            xml.push_str(&format!("<item><title>Item {i}</title><link>https://e.org/{i}</link></item>"));
        }
        xml.push_str("</channel></rss>");
        let out = normalize(&xml);
        assert_eq!(out.items.len(), MAX_ENTRIES);
        assert!(out.items[0].title.chars().count() <= MAX_TITLE_CHARS);
        assert!(out.items[0].text.chars().count() <= MAX_TEXT_CHARS);
        assert!(out.items[0].text.len() > MAX_TEXT_CHARS / 2, "kept up to the cap");
        assert_eq!(prefix("éé", 3), "é");
    }

    #[test]
    fn publication_times_out_of_any_plausible_range_are_unknown() {
        let out = normalize(
            r#"<rss version="2.0"><channel><title>t</title>
            <item><title>A</title><link>https://e.org/a</link><pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate></item>
            <item><title>B</title><link>https://e.org/b</link><pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate></item>
            <item><title>C</title><link>https://e.org/c</link><pubDate>Tue, 03 Mar 2026 09:15:00 GMT</pubDate></item>
            </channel></rss>"#,
        );
        let published: Vec<Option<DateTime<Utc>>> = out.items.iter().map(|i| i.published).collect();
        assert_eq!(published[..2], [None, None]);
        assert!(published[2].is_some());
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
