//! Mastodon's public REST API (no authentication): hashtag and account timelines.
//!
//! [`timeline_url`] and [`lookup_url`] build the requests, [`parse_account_id`] and
//! [`parse_statuses`] read the answers. Paging goes forward in time: pass the previous
//! [`Page::newest_id`] as `min_id` to get the statuses right after it. Not `since_id`: that
//! gives the newest page, and a busy timeline's statuses between the two pages would be lost
//! for good; with `min_id` the next poll goes on from where this one stopped.
//!
//! # Boosts
//! A boost (a status whose `reblog` holds another status) becomes a post with the
//! **boosted** status's content, title, author, date, language and URL, so that every boost
//! of one status names the same page and dedupes to one item. The **booster** is kept in
//! [`RawPost::id`]: it is the boost's own status id (`/api/v1/statuses/:id` on the
//! instance gives the booster and the time of the boost), which is also what
//! [`Page::newest_id`] counts.
//!
//! # Text
//! The status's `content` HTML is kept as [`RawPost::html`]; the descriptions (alt texts) of
//! its media attachments are appended to it as escaped `<p>` paragraphs, so a status that is
//! only an image with a description still has text. A content warning (`spoiler_text`)
//! becomes the title.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use scraper::Html;
use serde::Deserialize;
use url::Url;

use super::html_page::{escape_html, push_link, selector};
use super::{RawPost, SourceError};

/// The most statuses Mastodon returns per request.
pub const MAX_LIMIT: u8 = 40;

/// A public timeline to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timeline {
    /// Public statuses with a hashtag (with or without the leading `#`).
    Hashtag(String),
    /// An account's statuses, boosts included and replies excluded.
    Account {
        /// The account's id on the instance (see [`lookup_url`] and [`parse_account_id`]).
        id: String,
    },
}

/// One page of statuses, in the order the API gave them (newest first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// The statuses that could be read as posts.
    pub posts: Vec<RawPost>,
    /// The greatest status id on the page (boosts counted by their own id), for the next
    /// request's `min_id`; `None` for an empty page.
    pub newest_id: Option<String>,
}

/// The request for `timeline` on `instance`: `/api/v1/timelines/tag/:hashtag` or
/// `/api/v1/accounts/:id/statuses?exclude_replies=true&exclude_reblogs=false`, with
/// `limit` (clamped to `1..=`[`MAX_LIMIT`]) and `min_id` (statuses right after it) when given.
///
/// Only the scheme, host and port of `instance` are used. An instance URL that cannot be a
/// base (`mailto:…`) is returned with just the query changed; fetching it fails.
pub fn timeline_url(instance: &Url, timeline: &Timeline, min_id: Option<&str>, limit: u8) -> Url {
    let mut url = api_url(instance, &[]);
    if let Ok(mut segments) = url.path_segments_mut() {
        match timeline {
            Timeline::Hashtag(tag) => {
                segments.extend(["api", "v1", "timelines", "tag", tag.trim().trim_start_matches('#')]);
            }
            Timeline::Account { id } => {
                segments.extend(["api", "v1", "accounts", id.trim(), "statuses"]);
            }
        }
    }
    {
        let mut query = url.query_pairs_mut();
        if let Timeline::Account { .. } = timeline {
            query.append_pair("exclude_replies", "true").append_pair("exclude_reblogs", "false");
        }
        query.append_pair("limit", &limit.clamp(1, MAX_LIMIT).to_string());
        if let Some(min_id) = min_id.map(str::trim).filter(|id| !id.is_empty()) {
            query.append_pair("min_id", min_id);
        }
    }
    url
}

/// The request that finds an account's id: `/api/v1/accounts/lookup?acct=…`. `acct` is
/// `name` (an account of `instance`) or `name@other.instance`, with or without a leading `@`.
pub fn lookup_url(instance: &Url, acct: &str) -> Url {
    let mut url = api_url(instance, &["api", "v1", "accounts", "lookup"]);
    url.query_pairs_mut().append_pair("acct", acct.trim().trim_start_matches('@'));
    url
}

/// `instance` with its path replaced by `segments`, no query and no fragment.
fn api_url(instance: &Url, segments: &[&str]) -> Url {
    let mut url = instance.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.clear().extend(segments);
    }
    url
}

/// Reads the account id from the answer to [`lookup_url`].
///
/// # Errors
/// [`SourceError::Json`] when the body is not JSON; [`SourceError::Shape`] when it is an
/// API error (`{"error": "Record not found"}`) or has no `id`.
pub fn parse_account_id(bytes: &[u8]) -> Result<String, SourceError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| SourceError::Json(e.to_string()))?;
    if let Some(error) = api_error(&value) {
        return Err(error);
    }
    match value.get("id") {
        Some(serde_json::Value::String(id)) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
        Some(serde_json::Value::Number(id)) => Ok(id.to_string()),
        _ => Err(SourceError::Shape("account lookup answer has no `id`".to_owned())),
    }
}

/// `{"error": "…"}` as a [`SourceError::Shape`].
fn api_error(value: &serde_json::Value) -> Option<SourceError> {
    let message = value.as_object()?.get("error")?;
    let message = message.as_str().map_or_else(|| message.to_string(), str::to_owned);
    Some(SourceError::Shape(format!("Mastodon API error: {message}")))
}

/// Reads a page of statuses (the answer to [`timeline_url`]).
///
/// A status that does not have the documented shape, or has no absolute URL, is skipped
/// (logged at debug level); the rest of the page is still read.
///
/// # Errors
/// [`SourceError::Json`] when the body is not JSON; [`SourceError::Shape`] when it is an
/// API error or not an array.
pub fn parse_statuses(bytes: &[u8]) -> Result<Page, SourceError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| SourceError::Json(e.to_string()))?;
    if let Some(error) = api_error(&value) {
        return Err(error);
    }
    let serde_json::Value::Array(values) = value else {
        return Err(SourceError::Shape("Mastodon timeline is not a JSON array".to_owned()));
    };
    let mut page = Page::default();
    for value in values {
        let status = match Status::deserialize(value) {
            Ok(status) => status,
            Err(error) => {
                tracing::debug!(message = "skipping unreadable Mastodon status", %error);
                continue;
            }
        };
        if page.newest_id.as_deref().is_none_or(|newest| compare_ids(&status.id, newest) == Ordering::Greater) {
            page.newest_id = Some(status.id.clone());
        }
        match status_to_post(&status)? {
            Some(post) => page.posts.push(post),
            None => tracing::debug!(message = "skipping Mastodon status without a URL", id = %status.id),
        }
    }
    Ok(page)
}

/// Orders status ids: numerically for Mastodon's decimal ids (a longer id is greater), which
/// also orders the fixed-length sortable ids of other servers (Pleroma, Akkoma).
pub fn compare_ids(left: &str, right: &str) -> Ordering {
    let left = left.trim_start_matches('0');
    let right = right.trim_start_matches('0');
    left.len().cmp(&right.len()).then_with(|| left.cmp(right))
}

#[derive(Deserialize)]
struct Status {
    id: String,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    spoiler_text: Option<String>,
    account: Account,
    #[serde(default)]
    reblog: Option<Box<Status>>,
    #[serde(default)]
    card: Option<Card>,
    #[serde(default)]
    media_attachments: Vec<Media>,
    #[serde(default)]
    mentions: Vec<Linked>,
    #[serde(default)]
    tags: Vec<Linked>,
}

#[derive(Deserialize)]
struct Account {
    acct: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct Card {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct Media {
    #[serde(default)]
    description: Option<String>,
}

/// A mention or a tag: its page is a profile or a hashtag timeline, never a shared link.
#[derive(Deserialize)]
struct Linked {
    #[serde(default)]
    url: Option<String>,
}

/// The post for `status` (its boosted status's content for a boost); `None` without a URL.
fn status_to_post(wrapper: &Status) -> Result<Option<RawPost>, SourceError> {
    let status = wrapper.reblog.as_deref().unwrap_or(wrapper);
    let Some(url) = [&status.url, &status.uri].into_iter().flatten().find_map(|candidate| {
        Url::parse(candidate.trim()).ok().filter(|url| url.scheme() == "https" || url.scheme() == "http")
    }) else {
        return Ok(None);
    };
    let content = status.content.as_deref().unwrap_or_default();
    let links = content_links(status, &url)?;
    let mut html = content.trim().to_owned();
    for description in status.media_attachments.iter().filter_map(|media| media.description.as_deref()) {
        let description = description.trim();
        if !description.is_empty() {
            html.push_str(&format!("<p>{}</p>", escape_html(description)));
        }
    }
    Ok(Some(RawPost {
        url: url.to_string(),
        id: Some(wrapper.id.clone()),
        title: status.spoiler_text.as_deref().map(str::trim).filter(|title| !title.is_empty()).map(str::to_owned),
        html: (!html.is_empty()).then_some(html),
        text: None,
        author: author(&status.account),
        published: status
            .created_at
            .as_deref()
            .and_then(|time| DateTime::parse_from_rfc3339(time.trim()).ok())
            .map(|time| time.with_timezone(&Utc)),
        links,
        language: status.language.as_deref().and_then(language_code),
    }))
}

/// `@name@instance (Display Name)`: the account's full address (local accounts get the host
/// of their profile URL), then its display name when it has one.
fn author(account: &Account) -> Option<String> {
    let acct = account.acct.trim().trim_start_matches('@');
    if acct.is_empty() {
        return None;
    }
    let host =
        account.url.as_deref().and_then(|url| Url::parse(url).ok()).and_then(|url| url.host_str().map(str::to_owned));
    let address = match host {
        Some(host) if !acct.contains('@') => format!("@{acct}@{host}"),
        _ => format!("@{acct}"),
    };
    let display_name = account.display_name.as_deref().map(str::trim).unwrap_or_default();
    Some(if display_name.is_empty() { address } else { format!("{address} ({display_name})") })
}

/// The links of the status's content (not mentions, hashtags or profiles), then its card's.
fn content_links(status: &Status, own_url: &Url) -> Result<Vec<String>, SourceError> {
    let anchors = selector("a[href]")?;
    let skipped: Vec<Url> = status
        .mentions
        .iter()
        .chain(&status.tags)
        .filter_map(|linked| linked.url.as_deref())
        .chain(status.account.url.as_deref())
        .filter_map(|url| Url::parse(url).ok())
        .collect();
    let mut links = Vec::new();
    let fragment = Html::parse_fragment(status.content.as_deref().unwrap_or_default());
    for anchor in fragment.select(&anchors) {
        let element = anchor.value();
        let marked = element.classes().any(|class| matches!(class, "mention" | "hashtag" | "u-url"))
            || element.attr("rel").is_some_and(|rel| rel.split_whitespace().any(|rel| rel == "tag"));
        let Some(href) = element.attr("href") else { continue };
        let text = anchor.text().collect::<String>();
        let text = text.trim_start();
        if marked || text.starts_with('@') || text.starts_with('#') {
            continue;
        }
        if own_url
            .join(href.trim())
            .is_ok_and(|url| skipped.iter().any(|skip| super::html_page::same_page(&url, skip.as_str())))
        {
            continue;
        }
        push_link(&mut links, own_url, href, own_url.as_str());
    }
    if let Some(card_url) = status.card.as_ref().and_then(|card| card.url.as_deref()) {
        push_link(&mut links, own_url, card_url, own_url.as_str());
    }
    Ok(links)
}

/// `en`, `en-GB`, `EN_us` → `en`; anything that is not a 2–3 letter code → `None`.
fn language_code(language: &str) -> Option<String> {
    let primary = language.trim().split(['-', '_']).next().unwrap_or_default();
    ((2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance() -> Url {
        Url::parse("https://example.social/some/path?x=1#f").unwrap()
    }

    #[test]
    fn timeline_urls() {
        let tag = timeline_url(&instance(), &Timeline::Hashtag("#Vaccines".to_owned()), None, 40);
        assert_eq!(tag.as_str(), "https://example.social/api/v1/timelines/tag/Vaccines?limit=40");
        let tag = timeline_url(&instance(), &Timeline::Hashtag("a/b c".to_owned()), Some("1099"), 200);
        assert_eq!(tag.as_str(), "https://example.social/api/v1/timelines/tag/a%2Fb%20c?limit=40&min_id=1099");
        let account = timeline_url(&instance(), &Timeline::Account { id: "10942".to_owned() }, Some(" "), 0);
        assert_eq!(
            account.as_str(),
            "https://example.social/api/v1/accounts/10942/statuses?exclude_replies=true&exclude_reblogs=false&limit=1"
        );
    }

    #[test]
    fn lookup_urls() {
        assert_eq!(
            lookup_url(&instance(), "@alice@other.example").as_str(),
            "https://example.social/api/v1/accounts/lookup?acct=alice%40other.example"
        );
        assert_eq!(lookup_url(&instance(), "bob").as_str(), "https://example.social/api/v1/accounts/lookup?acct=bob");
    }

    #[test]
    fn account_ids() {
        assert_eq!(parse_account_id(br#"{"id": "109", "acct": "a"}"#).unwrap(), "109");
        assert!(
            matches!(parse_account_id(br#"{"error": "Record not found"}"#), Err(SourceError::Shape(m)) if m.contains("Record not found"))
        );
        assert!(matches!(parse_account_id(br#"{"acct": "a"}"#), Err(SourceError::Shape(_))));
        assert!(matches!(parse_account_id(b"<html>"), Err(SourceError::Json(_))));
    }

    #[test]
    fn ids_compare_numerically() {
        assert_eq!(compare_ids("99", "100"), Ordering::Less);
        assert_eq!(compare_ids("116000000000000002", "116000000000000010"), Ordering::Less);
        assert_eq!(compare_ids("0100", "100"), Ordering::Equal);
        assert_eq!(compare_ids("AbC", "AbD"), Ordering::Less);
    }

    #[test]
    fn newest_id_is_numeric_max_and_bad_statuses_are_skipped() {
        let json = br#"[
            {"id": "99", "url": "https://example.social/@a/99", "content": "<p>a</p>", "account": {"acct": "a"}},
            {"id": "100", "url": null, "uri": "https://example.social/users/a/statuses/100", "account": {"acct": "a"}},
            {"id": "101", "account": "not an object"},
            {"id": "98", "url": null, "uri": null, "account": {"acct": "a"}}
        ]"#;
        let page = parse_statuses(json).unwrap();
        assert_eq!(page.newest_id.as_deref(), Some("100"));
        assert_eq!(page.posts.len(), 2);
        assert_eq!(page.posts[1].url, "https://example.social/users/a/statuses/100");
        assert_eq!(page.posts[0].author.as_deref(), Some("@a"));
        assert_eq!(page.posts[1].html, None);
    }

    #[test]
    fn empty_and_wrong_pages() {
        assert_eq!(parse_statuses(b"[]").unwrap(), Page::default());
        assert!(matches!(
            parse_statuses(br#"{"error": "This method requires an authenticated user"}"#),
            Err(SourceError::Shape(_))
        ));
        assert!(matches!(parse_statuses(br#"{"id": "1"}"#), Err(SourceError::Shape(_))));
        assert!(matches!(parse_statuses(b""), Err(SourceError::Json(_))));
    }

    #[test]
    fn media_descriptions_are_escaped_and_appended() {
        let json = br#"[{"id": "5", "url": "https://example.social/@a/5", "content": "",
            "account": {"acct": "a", "url": "https://example.social/@a", "display_name": ""},
            "media_attachments": [{"description": "Chart <b>&</b> table"}, {"description": null}, {"description": " "}]}]"#;
        let post = &parse_statuses(json).unwrap().posts[0];
        assert_eq!(post.html.as_deref(), Some("<p>Chart &lt;b&gt;&amp;&lt;/b&gt; table</p>"));
        assert_eq!(post.author.as_deref(), Some("@a@example.social"));
    }

    #[test]
    fn language_codes() {
        assert_eq!(language_code("en").as_deref(), Some("en"));
        assert_eq!(language_code("pt-BR").as_deref(), Some("pt"));
        assert_eq!(language_code(""), None);
        assert_eq!(language_code("english"), None);
    }
}
