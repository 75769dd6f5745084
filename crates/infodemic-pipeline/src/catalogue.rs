//! The feed catalogue: a TOML list of `[[feed]]` tables.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use infodemic_core::{FeedCategory, FeedKind, FeedSpec, RelevanceFilter, SourceId};
use infodemic_crawler::sources::opml;
use serde::Deserialize;
use url::Url;

use crate::{PipelineError, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    #[serde(default)]
    feed: Vec<RawFeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    id: String,
    name: Option<String>,
    url: String,
    #[serde(default)]
    kind: FeedKind,
    #[serde(default)]
    category: FeedCategory,
    #[serde(default)]
    tags: Vec<String>,
    language: Option<String>,
    #[serde(default)]
    full_text: bool,
    #[serde(default)]
    relevance: RelevanceFilter,
    #[serde(default)]
    selectors: BTreeMap<String, String>,
    #[allow(dead_code)] // Documentation for people reading the catalogue.
    note: Option<String>,
}

/// Reads a catalogue. A `url` without a scheme is a path relative to the catalogue file and
/// becomes a `file://` URL, which is how the offline samples work.
///
/// # Errors
/// An unreadable file, invalid TOML, unknown keys, invalid ids or URLs, duplicate ids.
pub fn load_catalogue(path: &Path) -> Result<Vec<FeedSpec>> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| PipelineError::CatalogueRead { path: path.to_path_buf(), source })?;
    let invalid = |message: String| PipelineError::Catalogue { path: path.to_path_buf(), message };
    let raw: RawCatalogue = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let base_dir = std::path::absolute(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let mut ids = HashSet::new();
    let mut feeds = Vec::with_capacity(raw.feed.len());
    for entry in raw.feed {
        let id = SourceId::new(entry.id.clone()).map_err(|e| invalid(e.to_string()))?;
        if !ids.insert(id.clone()) {
            return Err(invalid(format!("feed id `{id}` appears twice")));
        }
        let url = resolve_url(&entry.url, &base_dir)
            .ok_or_else(|| invalid(format!("feed `{id}`: `{}` is neither a URL nor a path", entry.url)))?;
        if entry.kind == FeedKind::Html && !entry.selectors.contains_key("item") {
            return Err(invalid(format!("feed `{id}`: an html source needs `selectors.item`")));
        }
        feeds.push(FeedSpec {
            name: entry.name.unwrap_or_else(|| id.to_string()),
            id,
            url,
            kind: entry.kind,
            category: entry.category,
            tags: entry.tags,
            language: entry.language,
            full_text: entry.full_text,
            relevance: entry.relevance,
            selectors: entry.selectors,
        });
    }
    Ok(feeds)
}

/// Feeds of an OPML document (OPML 1 or 2, nested folders): the folder becomes a tag, ids
/// come from the URLs.
///
/// # Errors
/// A document that is not OPML.
pub fn feeds_from_opml(bytes: &[u8]) -> std::result::Result<Vec<FeedSpec>, String> {
    let outlines = opml::parse(bytes).map_err(|e| e.to_string())?;
    Ok(outlines
        .into_iter()
        .map(|outline| {
            let mut spec = FeedSpec::from_url(outline.xml_url);
            spec.name = outline.title;
            spec.relevance = RelevanceFilter::Auto;
            spec.tags = outline.category.into_iter().collect();
            spec
        })
        .collect())
}

/// An OPML 2.0 document of `feeds`, grouped by their first tag.
pub fn feeds_to_opml(feeds: &[FeedSpec], title: &str) -> String {
    let outlines: Vec<opml::Outline> = feeds
        .iter()
        .map(|spec| opml::Outline {
            title: spec.name.clone(),
            xml_url: spec.url.clone(),
            html_url: None,
            category: spec.tags.first().cloned(),
        })
        .collect();
    opml::write(&outlines, title)
}

fn resolve_url(raw: &str, base_dir: &Path) -> Option<Url> {
    match Url::parse(raw) {
        Ok(url) if matches!(url.scheme(), "http" | "https" | "file") => Some(url),
        Ok(_) => None,
        Err(_) => Url::from_file_path(base_dir.join(raw)).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("feeds.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn relative_urls_become_file_urls_next_to_the_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            r#"
[[feed]]
id = "local"
url = "samples/a.xml"
category = "authority"

[[feed]]
id = "remote"
name = "Remote"
url = "https://example.org/feed.xml"
"#,
        );
        let feeds = load_catalogue(&path).unwrap();
        assert_eq!(feeds.len(), 2);
        assert_eq!(feeds[0].url.scheme(), "file");
        assert!(feeds[0].url.path().ends_with("/samples/a.xml"));
        assert_eq!(feeds[0].category, FeedCategory::Authority);
        assert_eq!(feeds[1].name, "Remote");
    }

    #[test]
    fn rejects_duplicates_unknown_keys_and_bad_schemes() {
        let dir = tempfile::tempdir().unwrap();
        for (text, needle) in [
            (
                "[[feed]]\nid = \"a\"\nurl = \"https://e.org\"\n[[feed]]\nid = \"a\"\nurl = \"https://e.org/2\"\n",
                "twice",
            ),
            ("[[feed]]\nid = \"a\"\nurl = \"https://e.org\"\ncolour = \"red\"\n", "unknown field"),
            ("[[feed]]\nid = \"a\"\nurl = \"ftp://e.org/x\"\n", "neither a URL"),
            ("[[feed]]\nid = \"a b\"\nurl = \"https://e.org\"\n", "invalid source id"),
        ] {
            let error = load_catalogue(&write(dir.path(), text)).unwrap_err().to_string();
            assert!(error.contains(needle), "{error}");
        }
    }

    #[test]
    fn shipped_catalogues_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../feeds");
        let catalogue = load_catalogue(&root.join("catalogue.toml")).unwrap();
        assert!(catalogue.len() >= 20);
        let samples = load_catalogue(&root.join("samples.toml")).unwrap();
        for feed in &samples {
            let path = feed.url.to_file_path().unwrap();
            assert!(path.is_file(), "{} missing", path.display());
        }
    }
}
