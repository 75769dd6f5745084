//! Sources: where items come from.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// Name of a source (a feed), unique within a catalogue: `who-news`, or `example.org/feed.xml`
/// for a URL crawled without a catalogue.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourceId(String);

/// A string that cannot name a source.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid source id `{0}`: use 1 to 200 printable characters without spaces")]
pub struct SourceIdError(pub String);

impl SourceId {
    /// Validates and wraps a source id.
    pub fn new(id: impl Into<String>) -> Result<Self, SourceIdError> {
        let id = id.into();
        let valid = !id.is_empty() && id.len() <= 200 && id.chars().all(|c| !c.is_control() && !c.is_whitespace());
        if valid {
            Ok(Self(id))
        } else {
            Err(SourceIdError(id))
        }
    }

    /// The id a feed URL gets when it is crawled without a catalogue entry: host and path,
    /// which is what a user recognises in a table.
    pub fn for_url(url: &Url) -> Self {
        let mut id = match url.host_str() {
            Some(host) => format!("{host}{}", url.path()),
            None => format!("{}:{}", url.scheme(), url.path()),
        };
        if let Some(port) = url.port() {
            if let Some(host) = url.host_str() {
                id = format!("{host}:{port}{}", url.path());
            }
        }
        let id: String =
            id.trim_end_matches('/').chars().filter(|c| !c.is_control() && !c.is_whitespace()).take(200).collect();
        Self(if id.is_empty() { "unnamed".to_owned() } else { id })
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SourceId {
    type Error = SourceIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<SourceId> for String {
    fn from(value: SourceId) -> Self {
        value.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceId({})", self.0)
    }
}

/// The format a feed is expected to have. The parser detects the real format; this is a
/// hint for people reading the catalogue and for later source kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FeedKind {
    /// RSS 0.9x, 1.0 (RDF) or 2.0.
    #[default]
    Rss,
    /// Atom 1.0.
    Atom,
    /// JSON Feed 1.x.
    Json,
    /// YouTube channel feed (Atom with media descriptions).
    Youtube,
    /// Mastodon public timeline: `https://INSTANCE/tags/NAME` or `https://INSTANCE/@ACCOUNT`.
    Mastodon,
    /// Reddit subreddit: `https://www.reddit.com/r/NAME`.
    Reddit,
    /// Telegram public channel preview: `https://t.me/s/NAME`.
    Telegram,
    /// Any HTML page whose items are picked by CSS selectors (`selectors` in the catalogue).
    Html,
}

impl FeedKind {
    /// Whether the feed-rs parser reads it.
    pub fn is_syndication_feed(self) -> bool {
        matches!(self, FeedKind::Rss | FeedKind::Atom | FeedKind::Json | FeedKind::Youtube)
    }

    /// Kebab-case name, as in catalogues.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Rss => "rss",
            FeedKind::Atom => "atom",
            FeedKind::Json => "json",
            FeedKind::Youtube => "youtube",
            FeedKind::Mastodon => "mastodon",
            FeedKind::Reddit => "reddit",
            FeedKind::Telegram => "telegram",
            FeedKind::Html => "html",
        }
    }
}

/// Which items of a feed are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RelevanceFilter {
    /// Keep everything from authorities, medical news and misinformation outlets; only
    /// health-related items from fact-checkers and other general sources.
    #[default]
    Auto,
    /// Keep every item.
    All,
    /// Keep only health-related items.
    Health,
}

/// What kind of publisher a source is; lets users filter and weigh sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FeedCategory {
    /// A public-health authority (WHO, CDC, ECDC, ministries).
    Authority,
    /// Medical or health news.
    MedicalNews,
    /// A fact-checker's (health) section.
    FactChecker,
    /// An outlet documented as a frequent source of health misinformation.
    MisinformationOutlet,
    /// Anything else, and feeds given on the command line.
    #[default]
    Other,
}

impl FeedCategory {
    /// Every category.
    pub const ALL: [FeedCategory; 5] = [
        FeedCategory::Authority,
        FeedCategory::MedicalNews,
        FeedCategory::FactChecker,
        FeedCategory::MisinformationOutlet,
        FeedCategory::Other,
    ];

    /// The category of a kebab-case name ([`Self::as_str`]); `None` for an unknown name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|category| category.as_str() == name)
    }

    /// Kebab-case name, as in catalogues.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedCategory::Authority => "authority",
            FeedCategory::MedicalNews => "medical-news",
            FeedCategory::FactChecker => "fact-checker",
            FeedCategory::MisinformationOutlet => "misinformation-outlet",
            FeedCategory::Other => "other",
        }
    }
}

/// One feed to crawl, fully resolved (absolute URL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedSpec {
    /// Unique id of the source.
    pub id: SourceId,
    /// Human-readable name.
    pub name: String,
    /// Where to fetch it: `http`, `https` or `file`.
    pub url: Url,
    /// Expected format.
    pub kind: FeedKind,
    /// Publisher category.
    pub category: FeedCategory,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Expected main language (ISO 639-1), if known.
    pub language: Option<String>,
    /// Fetch each item's page and keep its main text (for feeds that carry only summaries).
    pub full_text: bool,
    /// Which items to keep.
    pub relevance: RelevanceFilter,
    /// CSS selectors of an `html` source (`item`, `title`, `link`, `text`, `time`, `author`).
    pub selectors: BTreeMap<String, String>,
}

impl FeedSpec {
    /// Whether an item that `is_health` says is (not) about health is kept.
    pub fn keeps(&self, is_health: bool) -> bool {
        match self.relevance {
            RelevanceFilter::All => true,
            RelevanceFilter::Health => is_health,
            RelevanceFilter::Auto => match self.category {
                FeedCategory::FactChecker | FeedCategory::Other => is_health,
                FeedCategory::Authority | FeedCategory::MedicalNews | FeedCategory::MisinformationOutlet => true,
            },
        }
    }
}

impl FeedSpec {
    /// A feed given only by its URL: the user chose it, so every item is kept.
    pub fn from_url(url: Url) -> Self {
        Self {
            id: SourceId::for_url(&url),
            name: url.to_string(),
            url,
            kind: FeedKind::default(),
            category: FeedCategory::default(),
            tags: Vec::new(),
            language: None,
            full_text: false,
            relevance: RelevanceFilter::All,
            selectors: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_id_for_url_keeps_host_port_and_path() {
        let url = Url::parse("http://127.0.0.1:8080/feeds/rss2.xml").unwrap();
        assert_eq!(SourceId::for_url(&url).as_str(), "127.0.0.1:8080/feeds/rss2.xml");
        let url = Url::parse("file:///tmp/a%20b.xml").unwrap();
        assert_eq!(SourceId::for_url(&url).as_str(), "file:/tmp/a%20b.xml");
    }

    #[test]
    fn source_id_rejects_spaces_and_empty() {
        assert!(SourceId::new("who news").is_err());
        assert!(SourceId::new("").is_err());
        assert!(SourceId::new("who-news").is_ok());
    }
}
