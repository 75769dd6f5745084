//! A generic HTML source: a page (a news list, a press-release index) whose entries are
//! picked by CSS selectors from the feed's configuration.
//!
//! Each element matched by [`HtmlSelectors::item`] becomes one [`RawPost`]; the other
//! selectors are evaluated inside it. An item without a usable `http(s)` link is skipped, as
//! are later items that repeat an earlier item's link. Relative links resolve against the
//! document's `<base href>` if it has one, else against the page's URL.
//!
//! Also home to the small helpers the other HTML-based sources share: [`parse_date`] and the
//! link list builder.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use serde::{Deserialize, Serialize};
use url::Url;

use super::{RawPost, SourceError};

/// The link selector used when the configuration names none.
pub const DEFAULT_LINK_SELECTOR: &str = "a[href]";

/// Which elements of a page are items, and where each item keeps its parts.
///
/// Every selector but `item` is evaluated inside an item element; a part that is not found
/// is left empty. Check a configuration with [`HtmlSelectors::validate`] when it is loaded.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HtmlSelectors {
    /// The elements that are items (one post each), e.g. `article.news-item`.
    pub item: String,
    /// The item's title; by default the text of its link element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The item's link: the first match with an `href` (the item itself counts when it
    /// matches); by default [`DEFAULT_LINK_SELECTOR`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The item's text (a teaser or the whole body); every match is kept, as HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The item's date: the `datetime` attribute of the first match, else its text, read by
    /// [`parse_date`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// The item's author or byline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

impl HtmlSelectors {
    /// Checks that every selector parses.
    ///
    /// # Errors
    /// [`SourceError::Selector`] naming the first selector that does not parse.
    pub fn validate(&self) -> Result<(), SourceError> {
        Compiled::new(self).map(|_| ())
    }
}

/// The selectors of an [`HtmlSelectors`], parsed.
struct Compiled {
    item: Selector,
    title: Option<Selector>,
    link: Selector,
    text: Option<Selector>,
    time: Option<Selector>,
    author: Option<Selector>,
}

impl Compiled {
    fn new(selectors: &HtmlSelectors) -> Result<Self, SourceError> {
        let optional = |css: &Option<String>| css.as_deref().map(selector).transpose();
        Ok(Self {
            item: selector(&selectors.item)?,
            title: optional(&selectors.title)?,
            link: selector(selectors.link.as_deref().unwrap_or(DEFAULT_LINK_SELECTOR))?,
            text: optional(&selectors.text)?,
            time: optional(&selectors.time)?,
            author: optional(&selectors.author)?,
        })
    }
}

/// Parses a CSS selector, or says which one is wrong.
pub(super) fn selector(css: &str) -> Result<Selector, SourceError> {
    if css.trim().is_empty() {
        return Err(SourceError::Selector { selector: css.to_owned(), message: "empty selector".to_owned() });
    }
    Selector::parse(css).map_err(|e| SourceError::Selector { selector: css.to_owned(), message: e.to_string() })
}

/// Picks the items of `html` (fetched from `page_url`) with `selectors`.
///
/// Items come in document order. An item without a link, or whose link repeats an earlier
/// item's, is skipped; a date that cannot be read is left empty. A page where no element
/// matches `item` yields no posts, not an error (the selectors may simply be out of date: the
/// caller decides whether that deserves a warning).
///
/// # Errors
/// [`SourceError::Selector`] when a selector does not parse.
pub fn parse(html: &str, page_url: &Url, selectors: &HtmlSelectors) -> Result<Vec<RawPost>, SourceError> {
    let compiled = Compiled::new(selectors)?;
    let document = Html::parse_document(html);
    let base = document_base(&document, page_url)?;
    let anchors = selector("a[href]")?;
    let mut posts: Vec<RawPost> = Vec::new();
    for item in document.select(&compiled.item) {
        let Some((link_element, url)) = item_link(item, &compiled.link, &base) else {
            tracing::debug!(message = "html item without a usable link", page = %page_url);
            continue;
        };
        if posts.iter().any(|post| post.url == url.as_str()) {
            continue;
        }
        let title = match &compiled.title {
            Some(title) => item.select(title).next().map(element_text),
            None => link_element.map(element_text),
        }
        .filter(|title| !title.is_empty());
        let mut links = Vec::new();
        let mut html_parts = Vec::new();
        if let Some(text) = &compiled.text {
            for part in item.select(text) {
                html_parts.push(part.html());
                for anchor in part.select(&anchors) {
                    if let Some(href) = anchor.attr("href") {
                        push_link(&mut links, &base, href, url.as_str());
                    }
                }
            }
        }
        let published = compiled.time.as_ref().and_then(|time| item.select(time).next()).and_then(|element| {
            element.attr("datetime").and_then(parse_date).or_else(|| parse_date(&element_text(element)))
        });
        let author = compiled
            .author
            .as_ref()
            .and_then(|author| item.select(author).next())
            .map(element_text)
            .filter(|author| !author.is_empty());
        posts.push(RawPost {
            url: url.to_string(),
            id: item.value().id().map(str::to_owned),
            title,
            html: (!html_parts.is_empty()).then(|| html_parts.join("\n")),
            text: None,
            author,
            published,
            links,
            language: None,
        });
    }
    Ok(posts)
}

/// The URL relative links of `document` resolve against: its `<base href>`, else `page_url`.
fn document_base(document: &Html, page_url: &Url) -> Result<Url, SourceError> {
    let base = selector("base[href]")?;
    Ok(document
        .select(&base)
        .next()
        .and_then(|element| element.attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .filter(is_web_url)
        .unwrap_or_else(|| page_url.clone()))
}

/// The item's link element (`None` when it is the item itself) and its absolute URL.
fn item_link<'a>(item: ElementRef<'a>, link: &Selector, base: &Url) -> Option<(Option<ElementRef<'a>>, Url)> {
    let resolve = |element: ElementRef<'a>| element.attr("href").and_then(|href| resolve_web_url(base, href));
    if link.matches(&item) {
        if let Some(url) = resolve(item) {
            return Some((None, url));
        }
    }
    item.select(link).find_map(|element| resolve(element).map(|url| (Some(element), url)))
}

/// The text of an element, whitespace collapsed.
pub(super) fn element_text(element: ElementRef<'_>) -> String {
    infodemic_core::text::collapse_whitespace(&element.text().collect::<String>())
}

/// Whether `url` is `http` or `https` (what a post can link to usefully).
fn is_web_url(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host().is_some()
}

/// `href` resolved against `base`, if that gives an `http(s)` URL; the fragment is dropped
/// when the rest is the base itself (an in-page anchor).
pub(super) fn resolve_web_url(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    base.join(href).ok().filter(is_web_url)
}

/// Adds `href` (resolved against `base`) to `links` unless it is not a web URL, or is the
/// post's own URL (`own_url`) or a link already there: both compared by [`same_page`].
pub(super) fn push_link(links: &mut Vec<String>, base: &Url, href: &str, own_url: &str) {
    let Some(url) = resolve_web_url(base, href) else {
        return;
    };
    if same_page(&url, own_url) || links.iter().any(|known| same_page(&url, known)) {
        return;
    }
    links.push(url.to_string());
}

/// Whether `url` and `other` name the same page (fragments and a trailing slash ignored).
pub(super) fn same_page(url: &Url, other: &str) -> bool {
    let Ok(other) = Url::parse(other) else {
        return false;
    };
    let without_fragment = |url: &Url| {
        let mut url = url.clone();
        url.set_fragment(None);
        url.to_string().trim_end_matches('/').to_owned()
    };
    without_fragment(url) == without_fragment(&other)
}

/// Escapes text for use inside HTML element content or a quoted attribute.
pub(super) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Reads a date leniently, as pages write them: RFC 3339 (`2026-03-02T09:15:00+01:00`),
/// RFC 2822 (`Mon, 02 Mar 2026 09:15:00 +0000`), an ISO date-time without offset or a bare
/// ISO date (`2026-03-02`, read as UTC), and English day-month-year or month-day-year dates
/// (`2 March 2026`, `2nd Mar 2026`, `March 2, 2026`). When the whole text is not a date, the
/// first date found inside it is used (`Published 2 March 2026 by Jo`). Times without an
/// offset are taken as UTC; `None` when nothing can be read.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() || text.len() > 200 {
        return None;
    }
    parse_whole_date(text).or_else(|| {
        let words: Vec<&str> = text.split_whitespace().collect();
        (1..=3).rev().find_map(|width| {
            words.windows(width).find_map(|window| {
                let candidate = window.join(" ");
                parse_whole_date(candidate.trim_matches(|c: char| matches!(c, '(' | ')' | '|' | ';' | '·' | '—')))
            })
        })
    })
}

/// Years a page date can plausibly have; anything else is a misreading (`February 2026` read
/// as day 20 of the year 26).
const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// [`parse_date`] for a string that is exactly one date.
fn parse_whole_date(text: &str) -> Option<DateTime<Utc>> {
    parse_date_formats(text).filter(|time| PLAUSIBLE_YEARS.contains(&time.year()))
}

fn parse_date_formats(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(time) = DateTime::parse_from_rfc2822(text) {
        return Some(time.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc());
        }
    }
    let cleaned = strip_ordinals(text.trim_end_matches(['.', ',']));
    for format in ["%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y"] {
        if let Ok(date) = NaiveDate::parse_from_str(&cleaned, format) {
            return date.and_hms_opt(0, 0, 0).map(|time| time.and_utc());
        }
    }
    None
}

/// `2nd March` → `2 March`: drops English ordinal suffixes after a day number.
fn strip_ordinals(text: &str) -> String {
    text.split_whitespace()
        .map(|word| {
            let (core, comma) = word.strip_suffix(',').map_or((word, ""), |core| (core, ","));
            let lower = core.to_ascii_lowercase();
            for suffix in ["st", "nd", "rd", "th"] {
                if let Some(number) = lower.strip_suffix(suffix) {
                    if !number.is_empty() && number.len() <= 2 && number.bytes().all(|b| b.is_ascii_digit()) {
                        return format!("{number}{comma}");
                    }
                }
            }
            word.to_owned()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://example.org/news/index.html").unwrap()
    }

    fn selectors(item: &str) -> HtmlSelectors {
        HtmlSelectors { item: item.to_owned(), title: None, link: None, text: None, time: None, author: None }
    }

    fn date(text: &str) -> Option<String> {
        parse_date(text).map(|time| time.to_rfc3339())
    }

    #[test]
    fn dates_are_read_leniently() {
        assert_eq!(date("2026-03-02T09:15:00+01:00").as_deref(), Some("2026-03-02T08:15:00+00:00"));
        assert_eq!(date("Mon, 02 Mar 2026 09:15:00 +0000").as_deref(), Some("2026-03-02T09:15:00+00:00"));
        assert_eq!(date("2026-03-02").as_deref(), Some("2026-03-02T00:00:00+00:00"));
        assert_eq!(date("2026-03-02T09:15:00").as_deref(), Some("2026-03-02T09:15:00+00:00"));
        assert_eq!(date("2 March 2026").as_deref(), Some("2026-03-02T00:00:00+00:00"));
        assert_eq!(date("02 Mar 2026").as_deref(), Some("2026-03-02T00:00:00+00:00"));
        assert_eq!(date("2nd March 2026").as_deref(), Some("2026-03-02T00:00:00+00:00"));
        assert_eq!(date("March 2, 2026").as_deref(), Some("2026-03-02T00:00:00+00:00"));
        assert_eq!(date("Published 21st February 2026 by J. Doe").as_deref(), Some("2026-02-21T00:00:00+00:00"));
        assert_eq!(date("Updated: 2026-02-21.").as_deref(), Some("2026-02-21T00:00:00+00:00"));
    }

    #[test]
    fn odd_dates_are_none_not_panics() {
        for odd in [
            "",
            "   ",
            "yesterday",
            "31 February 2026",
            "2026-13-45",
            "99999999-01-01",
            "0th March 2026",
            "th",
            "1st",
            "💉 3 März 2026",
            "-1 March 2026",
            "February 2026",
            "1 January 0026",
            "2026-03-02T25:00:00Z",
            &"9".repeat(500),
        ] {
            assert_eq!(parse_date(odd), None, "{odd:?}");
        }
    }

    #[test]
    fn selectors_are_validated() {
        assert!(selectors("article").validate().is_ok());
        let err = selectors("article[").validate().unwrap_err();
        assert!(matches!(err, SourceError::Selector { ref selector, .. } if selector == "article["), "{err}");
        let mut bad_time = selectors("li");
        bad_time.time = Some("time[[datetime]".to_owned());
        assert!(
            matches!(bad_time.validate(), Err(SourceError::Selector { selector, .. }) if selector == "time[[datetime]")
        );
        assert!(selectors("  ").validate().is_err());
    }

    #[test]
    fn selectors_deserialize_strictly() {
        let parsed: HtmlSelectors = serde_json::from_str(r#"{"item": "li.news", "time": "time"}"#).unwrap();
        assert_eq!(parsed.item, "li.news");
        assert_eq!(parsed.time.as_deref(), Some("time"));
        assert_eq!(parsed.link, None);
        assert!(serde_json::from_str::<HtmlSelectors>(r#"{"item": "li", "titel": "h2"}"#).is_err());
        let back = serde_json::to_string(&parsed).unwrap();
        assert_eq!(serde_json::from_str::<HtmlSelectors>(&back).unwrap(), parsed);
    }

    #[test]
    fn items_without_links_are_skipped_and_links_resolved() {
        let html = r#"<ul>
            <li><a href="/a">First</a></li>
            <li>No link here</li>
            <li><a href="mailto:x@example.org">Mail</a></li>
            <li><a href="javascript:void(0)">JS</a> <a href="b.html">Second</a></li>
            <li><a href="/a#comments">First again</a></li>
        </ul>"#;
        let posts = parse(html, &page(), &selectors("li")).unwrap();
        let urls: Vec<&str> = posts.iter().map(|p| p.url.as_str()).collect();
        assert_eq!(
            urls,
            ["https://example.org/a", "https://example.org/news/b.html", "https://example.org/a#comments"]
        );
        assert_eq!(posts[1].title.as_deref(), Some("Second"));
    }

    #[test]
    fn base_href_and_item_as_link() {
        let html = r#"<html><head><base href="https://cdn.example.org/press/"></head><body>
            <a class="card" href="one">One <time datetime="2026-01-05">5 Jan</time></a>
            <a class="card" href="one">Duplicate</a>
        </body></html>"#;
        let mut config = selectors("a.card");
        config.time = Some("time".to_owned());
        let posts = parse(html, &page(), &config).unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].url, "https://cdn.example.org/press/one");
        assert_eq!(posts[0].published.map(|t| t.to_rfc3339()).as_deref(), Some("2026-01-05T00:00:00+00:00"));
    }

    #[test]
    fn empty_or_garbage_pages_yield_nothing() {
        for html in ["", "not html at all \u{0}\u{1}", "<li><a href=\"/x\">x</a>"] {
            assert!(parse(html, &page(), &selectors("article")).unwrap().is_empty());
        }
    }

    #[test]
    fn links_skip_own_url_and_repeats() {
        let base = page();
        let mut links = Vec::new();
        for href in [
            "/x",
            "https://example.org/x",
            "/x#part",
            "/own/",
            "/own#top",
            "",
            "#frag",
            "tel:123",
            "https://other.example.org",
        ] {
            push_link(&mut links, &base, href, "https://example.org/own");
        }
        assert_eq!(links, ["https://example.org/x", "https://other.example.org/"]);
    }

    #[test]
    fn escapes_html() {
        assert_eq!(escape_html(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
