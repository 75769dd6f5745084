//! Reddit's public listing JSON: the newest posts of a subreddit
//! (`https://www.reddit.com/r/NAME/new.json?limit=100`), paged backwards with `after`, and
//! forwards in time with `before` (the posts just newer than the newest one seen: what a
//! monitor polls, so that more than 100 posts between two polls are not lost).
//!
//! Reddit's plain JSON escapes `&`, `<` and `>` as entities inside every string (the
//! `raw_json=1` parameter turns that off; [`listing_url`] does not send it), so titles and
//! texts are unescaped here, and `selftext_html` is HTML escaped once more on top.
//!
//! Stickied posts (moderator announcements pinned on top) are skipped. Posts marked
//! `over_18` are kept: [`RawPost`] has no field for the flag. `[deleted]` authors become no
//! author; `[deleted]` and `[removed]` bodies become no body.

use chrono::DateTime;
use scraper::Html;
use serde::Deserialize;
use url::Url;

use super::html_page::{push_link, selector};
use super::{RawPost, SourceError};

/// Where relative Reddit links (permalinks, crossposts) resolve.
pub const REDDIT_BASE: &str = "https://www.reddit.com/";

/// One page of a listing, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// The posts, stickied ones left out.
    pub posts: Vec<RawPost>,
    /// The fullname to pass as `after` for the next (older) page; `None` on the last page.
    pub after: Option<String>,
    /// The fullname of the newest post on the page, to pass as `before` next time; `None` for
    /// an empty page.
    pub newest: Option<String>,
}

/// The newest posts of `subreddit` (`name`, `r/name` or `/r/name/`), 100 per page, older than
/// the post `after` (a fullname such as `t3_1abcde`) when given.
///
/// # Errors
/// [`SourceError::Shape`] when the subreddit name is not 2–21 letters, digits or underscores
/// (not starting with an underscore), or `after` is not a fullname.
pub fn listing_url(subreddit: &str, after: Option<&str>) -> Result<Url, SourceError> {
    listing(subreddit, after.map(|after| ("after", after)))
}

/// The posts of `subreddit` just newer than the post `before` (a fullname), 100 per page, the
/// newest page when `before` is `None`. A post that was deleted since gives an empty page: the
/// caller then goes back to the newest page.
///
/// # Errors
/// As [`listing_url`].
pub fn newer_listing_url(subreddit: &str, before: Option<&str>) -> Result<Url, SourceError> {
    listing(subreddit, before.map(|before| ("before", before)))
}

fn listing(subreddit: &str, anchor: Option<(&str, &str)>) -> Result<Url, SourceError> {
    let name = subreddit.trim().trim_matches('/');
    let name = name.strip_prefix("r/").unwrap_or(name);
    let valid = (2..=21).contains(&name.len())
        && !name.starts_with('_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(SourceError::Shape(format!("invalid subreddit name `{subreddit}`")));
    }
    let mut url = Url::parse(REDDIT_BASE).map_err(|e| SourceError::Shape(e.to_string()))?;
    url.path_segments_mut()
        .map_err(|()| SourceError::Shape("Reddit base URL cannot have a path".to_owned()))?
        .clear()
        .extend(["r", name, "new.json"]);
    url.query_pairs_mut().append_pair("limit", "100");
    if let Some((parameter, anchor)) = anchor.map(|(p, a)| (p, a.trim())).filter(|(_, a)| !a.is_empty()) {
        let fullname = anchor.split_once('_').is_some_and(|(kind, id)| {
            kind.len() == 2 && kind.starts_with('t') && !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !fullname {
            return Err(SourceError::Shape(format!("invalid Reddit fullname `{anchor}`")));
        }
        url.query_pairs_mut().append_pair(parameter, anchor);
    }
    Ok(url)
}

#[derive(Deserialize)]
struct Listing {
    data: ListingData,
}

#[derive(Deserialize)]
struct ListingData {
    #[serde(default)]
    children: Vec<serde_json::Value>,
    #[serde(default)]
    after: Option<String>,
}

#[derive(Deserialize)]
struct Child {
    kind: String,
    data: Post,
}

#[derive(Deserialize)]
struct Post {
    name: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    selftext: Option<String>,
    #[serde(default)]
    selftext_html: Option<String>,
    #[serde(default)]
    url: Option<String>,
    permalink: String,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    created_utc: Option<f64>,
    #[serde(default)]
    is_self: bool,
    #[serde(default)]
    stickied: bool,
}

/// Reads a listing page.
///
/// A child that is not a post (`kind` other than `t3`) or lacks `name` or `permalink` is
/// skipped; so are stickied posts.
///
/// # Errors
/// [`SourceError::Json`] when the body is not JSON; [`SourceError::Shape`] when it is an
/// API error (`{"message": "Forbidden", "error": 403}`) or not a listing.
pub fn parse_listing(bytes: &[u8]) -> Result<Page, SourceError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| SourceError::Json(e.to_string()))?;
    if let Some(error) = value.get("error") {
        let message = value.get("message").and_then(serde_json::Value::as_str).unwrap_or_default();
        let reason = value.get("reason").and_then(serde_json::Value::as_str).unwrap_or_default();
        return Err(SourceError::Shape(format!("Reddit API error {error}: {message} {reason}").trim().to_owned()));
    }
    if value.get("kind").and_then(serde_json::Value::as_str) != Some("Listing") {
        return Err(SourceError::Shape("not a Reddit listing".to_owned()));
    }
    let listing = Listing::deserialize(value).map_err(|e| SourceError::Shape(format!("Reddit listing: {e}")))?;
    let mut page =
        Page { posts: Vec::new(), after: listing.data.after.filter(|after| !after.is_empty()), newest: None };
    for child in listing.data.children {
        match Child::deserialize(child) {
            Ok(child) if child.kind == "t3" => {
                if child.data.stickied {
                    continue;
                }
                // Newest first: the first post is the anchor of the next forward page.
                if page.newest.is_none() && !child.data.name.is_empty() {
                    page.newest = Some(child.data.name.clone());
                }
                if let Some(post) = post_to_raw(child.data)? {
                    page.posts.push(post);
                }
            }
            Ok(_) => {}
            Err(error) => tracing::debug!(message = "skipping unreadable Reddit child", %error),
        }
    }
    Ok(page)
}

fn post_to_raw(post: Post) -> Result<Option<RawPost>, SourceError> {
    let base = Url::parse(REDDIT_BASE).map_err(|e| SourceError::Shape(e.to_string()))?;
    let Some(url) = base.join(post.permalink.trim()).ok().filter(|url| url.scheme() == "https") else {
        return Ok(None);
    };
    let own = url.as_str();
    let html = post
        .selftext_html
        .as_deref()
        .map(unescape)
        .filter(|html| !matches!(crate::html_text::html_to_text(html).as_str(), "" | "[deleted]" | "[removed]"));
    let text = if html.is_some() {
        None
    } else {
        post.selftext
            .as_deref()
            .map(unescape)
            .map(|text| text.trim().to_owned())
            .filter(|text| !matches!(text.as_str(), "" | "[deleted]" | "[removed]"))
    };
    let mut links = Vec::new();
    if let Some(html) = &html {
        let anchors = selector("a[href]")?;
        for anchor in Html::parse_fragment(html).select(&anchors) {
            if let Some(href) = anchor.attr("href").filter(|href| !is_profile_or_subreddit(&base, href)) {
                push_link(&mut links, &base, href, own);
            }
        }
    }
    if !post.is_self {
        if let Some(shared) = post.url.as_deref().map(unescape) {
            push_link(&mut links, &base, &shared, own);
        }
    }
    let published = post
        .created_utc
        .filter(|seconds| seconds.is_finite() && seconds.abs() < 1e12)
        .and_then(|seconds| DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64));
    Ok(Some(RawPost {
        url: url.to_string(),
        id: Some(post.name),
        title: post.title.as_deref().map(unescape).map(|title| title.trim().to_owned()).filter(|t| !t.is_empty()),
        html,
        text,
        author: post
            .author
            .map(|author| author.trim().to_owned())
            .filter(|author| !author.is_empty() && author != "[deleted]")
            .map(|author| format!("u/{author}")),
        published,
        links,
        language: None,
    }))
}

/// Whether `href` is a Reddit user profile (`/u/name`, `/user/name`) or a subreddit's front
/// page (`/r/name`): the Reddit equivalents of mentions and hashtags.
fn is_profile_or_subreddit(base: &Url, href: &str) -> bool {
    let Ok(url) = base.join(href.trim()) else {
        return false;
    };
    let reddit = url.host_str().is_some_and(|host| host == "reddit.com" || host.ends_with(".reddit.com"));
    if !reddit {
        return false;
    }
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|s| !s.is_empty()).collect()).unwrap_or_default();
    matches!(segments.as_slice(), ["u" | "user", ..] | ["r", _])
}

/// Undoes Reddit's entity escaping: `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;` / `&#x27;`.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(position) = rest.find('&') {
        out.push_str(&rest[..position]);
        rest = &rest[position..];
        let replaced =
            [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&#39;", '\''), ("&#x27;", '\'')]
                .into_iter()
                .find(|(entity, _)| rest.starts_with(entity));
        match replaced {
            Some((entity, character)) => {
                out.push(character);
                rest = &rest[entity.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_pages_ask_for_posts_newer_than_a_fullname() {
        let url = newer_listing_url("r/HealthNewsDesk", Some("t3_1j4a1b2")).unwrap();
        assert_eq!(url.as_str(), "https://www.reddit.com/r/HealthNewsDesk/new.json?limit=100&before=t3_1j4a1b2");
        assert_eq!(newer_listing_url("HealthNewsDesk", None).unwrap().query(), Some("limit=100"));
        assert!(newer_listing_url("HealthNewsDesk", Some("x&y=1")).is_err());
    }

    #[test]
    fn listing_urls_are_validated() {
        assert_eq!(listing_url("Health", None).unwrap().as_str(), "https://www.reddit.com/r/Health/new.json?limit=100");
        assert_eq!(
            listing_url("/r/public_health/", Some("t3_1abc2d")).unwrap().as_str(),
            "https://www.reddit.com/r/public_health/new.json?limit=100&after=t3_1abc2d"
        );
        assert!(listing_url("de", None).is_ok());
        for bad in ["", "a", "_hidden", "has space", "../../api", "a".repeat(22).as_str(), "r/", "gesundheit/new"] {
            assert!(matches!(listing_url(bad, None), Err(SourceError::Shape(_))), "{bad:?}");
        }
        for bad in ["x", "t3_", "t3_a&b=c", "abc_def"] {
            assert!(listing_url("Health", Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unescapes_once() {
        assert_eq!(unescape("Q&amp;A &lt;b&gt; &amp;amp; &#39;x&#x27; & &bogus;"), "Q&A <b> &amp; 'x' & &bogus;");
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape("trailing &"), "trailing &");
    }

    #[test]
    fn api_errors_and_wrong_shapes() {
        let forbidden = br#"{"reason": "private", "message": "Forbidden", "error": 403}"#;
        assert!(
            matches!(parse_listing(forbidden), Err(SourceError::Shape(m)) if m.contains("403") && m.contains("private"))
        );
        assert!(matches!(parse_listing(br#"{"kind": "t3", "data": {}}"#), Err(SourceError::Shape(_))));
        assert!(matches!(parse_listing(br#"{"kind": "Listing", "data": 3}"#), Err(SourceError::Shape(_))));
        assert!(matches!(parse_listing(b"<!doctype html>"), Err(SourceError::Json(_))));
        let empty = br#"{"kind": "Listing", "data": {"after": null, "children": []}}"#;
        assert_eq!(parse_listing(empty).unwrap(), Page::default());
    }

    #[test]
    fn odd_children_are_skipped() {
        let json = br#"{"kind": "Listing", "data": {"after": "", "children": [
            {"kind": "t1", "data": {"name": "t1_c", "permalink": "/r/x/comments/a/b/c/"}},
            {"kind": "t3", "data": {"name": "t3_nolink"}},
            {"kind": "t3", "data": {"name": "t3_ok", "permalink": "/r/x/comments/ok/t/", "created_utc": 1e300, "author": "[deleted]", "selftext": "[removed]", "is_self": true, "url": "https://www.reddit.com/r/x/comments/ok/t/"}}
        ]}}"#;
        let page = parse_listing(json).unwrap();
        assert_eq!(page.after, None);
        assert_eq!(page.posts.len(), 1);
        let post = &page.posts[0];
        assert_eq!(post.url, "https://www.reddit.com/r/x/comments/ok/t/");
        assert_eq!((post.author.as_ref(), post.published, post.text.as_ref(), post.links.len()), (None, None, None, 0));
    }

    #[test]
    fn profile_and_subreddit_links() {
        let base = Url::parse(REDDIT_BASE).unwrap();
        assert!(is_profile_or_subreddit(&base, "/u/someone"));
        assert!(is_profile_or_subreddit(&base, "https://old.reddit.com/r/Health/"));
        assert!(!is_profile_or_subreddit(&base, "/r/Health/comments/abc/title/"));
        assert!(!is_profile_or_subreddit(&base, "https://example.org/r/x"));
    }
}
