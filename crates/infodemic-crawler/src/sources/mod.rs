//! Sources beyond RSS, Atom and JSON Feed: public posts and pages, parsed into [`RawPost`]s
//! that `normalize::normalize_post` turns into items.
//!
//! Every parser here is a pure function of the bytes it is given (and the URL they came
//! from): fetching, paging and politeness live elsewhere.

use chrono::{DateTime, Utc};

pub mod html_page;
pub mod mastodon;
pub mod opml;
pub mod reddit;
pub mod telegram;

/// One post or page entry as a source gives it, before normalisation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawPost {
    /// The post's own URL, absolute.
    pub url: String,
    /// The source's id for it (Mastodon status id, Reddit fullname, `channel/123` on Telegram).
    pub id: Option<String>,
    /// A title, where the source has one.
    pub title: Option<String>,
    /// Content as HTML, to be turned into plain text.
    pub html: Option<String>,
    /// Content as plain text, where the source gives that instead.
    pub text: Option<String>,
    /// Author or account (`@name@instance`, `u/name`, channel name).
    pub author: Option<String>,
    /// When it was posted.
    pub published: Option<DateTime<Utc>>,
    /// Links shared in the post, absolute, in order, without duplicates.
    pub links: Vec<String>,
    /// Language the source declares (ISO 639-1), if any.
    pub language: Option<String>,
}

/// Why a source's response could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// Not the JSON the API documents.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// Not the HTML or XML shape expected.
    #[error("unexpected document: {0}")]
    Shape(String),
    /// A CSS selector in the configuration does not parse.
    #[error("invalid CSS selector `{selector}`: {message}")]
    Selector {
        /// The selector.
        selector: String,
        /// What is wrong.
        message: String,
    },
}
