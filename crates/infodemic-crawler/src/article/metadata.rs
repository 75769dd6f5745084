//! Metadata read from the whole document: title, byline, publication time, language and
//! canonical URL, from `<meta>` tags, `<link rel=canonical>`, `<time datetime>`, schema.org
//! microdata and JSON-LD; and whether the page declares a paywall.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use infodemic_core::text::{collapse_whitespace, fingerprint_text};
use scraper::node::Element;
use url::Url;

use super::jsonld::{json_author, json_string_value, json_value_after_key};
use super::page::{has_token, FlatKind, Page};

/// Everything but the text.
pub(super) struct Metadata {
    pub(super) title: Option<String>,
    pub(super) byline: Option<String>,
    pub(super) published: Option<DateTime<Utc>>,
    pub(super) language: Option<String>,
    pub(super) canonical_url: Option<Url>,
    /// The page says its content is for subscribers.
    pub(super) paywalled: bool,
}

/// Raw metadata candidates, in the order they were met.
#[derive(Default)]
struct Candidates {
    og_title: Option<String>,
    site_name: Option<String>,
    title_tag: Option<String>,
    first_h1: Option<String>,
    rel_authors: Vec<String>,
    meta_author: Option<String>,
    itemprop_author: Option<String>,
    byline_class: Option<String>,
    author_class: Option<String>,
    jsonld_author: Option<String>,
    published_meta: Option<String>,
    published_jsonld: Option<String>,
    published_itemprop: Option<String>,
    time_in_article: Option<String>,
    time_anywhere: Option<String>,
    other_date: Option<String>,
    language: Option<String>,
    canonical: Option<String>,
    paywalled: bool,
}

/// Nodes read to take the text of a metadata element (a byline, a headline).
const META_TEXT_NODES: usize = 400;

fn set_once(slot: &mut Option<String>, value: Option<String>) {
    if slot.is_none() {
        *slot = value.map(|v| collapse_whitespace(&v)).filter(|v| !v.is_empty());
    }
}

impl Page<'_> {
    pub(super) fn metadata(&self, page_url: &Url) -> Metadata {
        let found = self.candidates();
        let site_name = found.site_name.as_deref();
        let title = found
            .og_title
            .as_deref()
            .map(|t| strip_site_suffix(t, site_name))
            .or_else(|| found.first_h1.clone())
            .or_else(|| found.title_tag.as_deref().map(|t| strip_site_suffix(t, site_name)))
            .filter(|t| !t.is_empty());

        let rel_authors = {
            let mut names: Vec<String> = Vec::new();
            for name in found.rel_authors.iter().filter_map(|n| clean_byline(n)) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            (!names.is_empty()).then(|| names.join(", "))
        };
        let byline = rel_authors
            .or_else(|| found.meta_author.as_deref().and_then(clean_byline))
            .or_else(|| found.itemprop_author.as_deref().and_then(clean_byline))
            .or_else(|| found.jsonld_author.as_deref().and_then(clean_byline))
            .or_else(|| found.byline_class.as_deref().and_then(clean_byline))
            .or_else(|| found.author_class.as_deref().and_then(clean_byline));

        let published = [
            &found.published_meta,
            &found.published_jsonld,
            &found.published_itemprop,
            &found.time_in_article,
            &found.time_anywhere,
            &found.other_date,
        ]
        .into_iter()
        .flatten()
        .find_map(|raw| parse_datetime(raw));

        let canonical_url = found
            .canonical
            .as_deref()
            .and_then(|href| page_url.join(href.trim()).ok())
            .filter(|url| matches!(url.scheme(), "http" | "https"));

        Metadata { title, byline, published, language: found.language, canonical_url, paywalled: found.paywalled }
    }

    fn candidates(&self) -> Candidates {
        let mut found = Candidates::default();
        let mut article_until = 0;
        for index in 0..self.nodes.len() {
            let Some(element) = self.element(index) else { continue };
            let tag = element.name();
            let in_article = index < article_until;
            if tag == "article" && !in_article {
                article_until = self.end(index);
            }
            match tag {
                "html" => {
                    set_once(
                        &mut found.language,
                        element.attr("lang").or_else(|| element.attr("xml:lang")).map(str::to_owned),
                    );
                }
                "meta" => self.meta_candidate(element, &mut found),
                "link" if has_token(element.attr("rel"), "canonical") => {
                    set_once(&mut found.canonical, element.attr("href").map(str::to_owned));
                }
                "title" if found.title_tag.is_none() => {
                    found.title_tag = Some(self.text_of(index, META_TEXT_NODES)).filter(|t| !t.is_empty());
                }
                "h1" if found.first_h1.is_none() => {
                    found.first_h1 = Some(self.text_of(index, META_TEXT_NODES)).filter(|t| !t.is_empty());
                }
                "script" if element.attr("type").is_some_and(|t| t.to_ascii_lowercase().contains("ld+json")) => {
                    let json = self.text_of_script(index);
                    if found.published_jsonld.is_none() {
                        found.published_jsonld = json_string_value(&json, "datePublished");
                    }
                    if found.jsonld_author.is_none() {
                        found.jsonld_author = json_author(&json);
                    }
                    found.paywalled |= json_value_after_key(&json, "isAccessibleForFree").is_some_and(|value| {
                        let value = value.trim_start_matches('"');
                        value.get(..5).is_some_and(|word| word.eq_ignore_ascii_case("false"))
                    });
                }
                "time" => {
                    let datetime = element.attr("datetime").map(str::to_owned);
                    if in_article {
                        set_once(&mut found.time_in_article, datetime.clone());
                    }
                    set_once(&mut found.time_anywhere, datetime);
                }
                _ => {}
            }
            if tag != "link" && tag != "meta" && has_token(element.attr("rel"), "author") && found.rel_authors.len() < 8
            {
                found.rel_authors.push(self.text_of(index, META_TEXT_NODES));
            }
            if let Some(itemprop) = element.attr("itemprop") {
                if tag != "meta" && has_token(Some(itemprop), "author") && found.itemprop_author.is_none() {
                    found.itemprop_author = self.itemprop_author(index, element);
                }
                if has_token(Some(itemprop), "datepublished") && tag != "meta" {
                    set_once(
                        &mut found.published_itemprop,
                        element.attr("datetime").or_else(|| element.attr("content")).map(str::to_owned),
                    );
                }
            }
            if tag != "meta" && tag != "link" && tag != "body" && tag != "html" {
                if found.byline_class.is_none() && has_token(element.attr("class"), "byline") {
                    found.byline_class = Some(self.text_of(index, META_TEXT_NODES)).filter(|t| !t.is_empty());
                }
                if found.author_class.is_none()
                    && (has_token(element.attr("class"), "author") || has_token(element.attr("class"), "author-name"))
                {
                    found.author_class = Some(self.text_of(index, META_TEXT_NODES)).filter(|t| !t.is_empty());
                }
            }
        }
        found
    }

    fn meta_candidate(&self, element: &Element, found: &mut Candidates) {
        let Some(key) = element.attr("property").or_else(|| element.attr("name")).or_else(|| element.attr("itemprop"))
        else {
            return;
        };
        let content = element.attr("content").map(str::to_owned);
        match key.trim().to_ascii_lowercase().as_str() {
            "og:title" => set_once(&mut found.og_title, content),
            "article:content_tier" => {
                found.paywalled |= content.is_some_and(|tier| tier.trim().eq_ignore_ascii_case("locked"));
            }
            "og:site_name" => set_once(&mut found.site_name, content),
            // `article:author` is often a profile URL, which is no name.
            "author" | "article:author" if !content.as_deref().is_some_and(|c| c.trim_start().starts_with("http")) => {
                set_once(&mut found.meta_author, content);
            }
            "article:published_time" | "og:article:published_time" | "article:published" => {
                set_once(&mut found.published_meta, content);
            }
            "datepublished" => set_once(&mut found.published_itemprop, content),
            "date"
            | "dc.date"
            | "dc.date.issued"
            | "dcterms.date"
            | "dcterms.issued"
            | "dcterms.created"
            | "citation_publication_date"
            | "parsely-pub-date"
            | "sailthru.date"
            | "pubdate"
            | "publishdate"
            | "publish-date" => set_once(&mut found.other_date, content),
            _ => {}
        }
    }

    /// The name in an `itemprop=author` element: its `itemprop=name` descendant, its
    /// `content`, or its text.
    fn itemprop_author(&self, index: usize, element: &Element) -> Option<String> {
        let end = self.end(index).min(index + META_TEXT_NODES);
        for inner in index + 1..end {
            if let Some(child) = self.element(inner) {
                if has_token(child.attr("itemprop"), "name") {
                    return child
                        .attr("content")
                        .map(str::to_owned)
                        .or_else(|| Some(self.text_of(inner, META_TEXT_NODES)));
                }
            }
        }
        element.attr("content").map(str::to_owned).or_else(|| Some(self.text_of(index, META_TEXT_NODES)))
    }

    fn text_of_script(&self, index: usize) -> String {
        let end = self.end(index);
        let mut text = String::new();
        for node in self.nodes.get(index + 1..end).unwrap_or_default() {
            if let FlatKind::Text(piece) = node.kind {
                text.push_str(piece);
            }
        }
        text
    }
}

/// Removes a trailing " | Site" (or " - Site", " — Site"...) from a headline: when the tail
/// is the page's `og:site_name`, or reads like a name (at most four capitalised words) after
/// a headline of at least three words.
fn strip_site_suffix(title: &str, site_name: Option<&str>) -> String {
    const SEPARATORS: &[&str] = &[" | ", " – ", " — ", " - ", " :: ", " · ", " • ", " « ", " » "];
    let mut title = collapse_whitespace(title);
    let site = site_name.map(fingerprint_text).filter(|s| !s.is_empty());
    loop {
        let cut =
            SEPARATORS.iter().filter_map(|sep| title.rfind(sep).map(|at| (at, sep.len()))).max_by_key(|(at, _)| *at);
        let Some((at, sep_len)) = cut else { break };
        let (head, tail) = (title[..at].trim(), title[at + sep_len..].trim());
        let tail_words: Vec<&str> = tail.split_whitespace().collect();
        let is_site = site.as_deref().is_some_and(|s| fingerprint_text(tail) == s);
        let looks_like_name = !tail_words.is_empty()
            && tail_words.len() <= 4
            && tail_words.iter().all(|w| w.chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit()));
        let head_words = head.split_whitespace().count();
        if head_words >= 1 && (is_site || (looks_like_name && head_words >= 3)) {
            title = head.to_owned();
        } else {
            break;
        }
    }
    title
}

/// A byline without "By", dates after a separator, or surrounding punctuation; `None` when
/// nothing name-like is left.
fn clean_byline(raw: &str) -> Option<String> {
    let mut text = collapse_whitespace(raw);
    if let Some(cut) = text.find(['|', '·', '•']) {
        text.truncate(cut);
    }
    let lowered = text.to_lowercase();
    for prefix in ["written by ", "posted by ", "by: ", "by ", "por ", "par ", "von "] {
        if lowered.starts_with(prefix) && text.is_char_boundary(prefix.len()) {
            text = text[prefix.len()..].to_owned();
            break;
        }
    }
    let text = text.trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '—' | '–'));
    let words = text.split_whitespace().count();
    (words > 0 && words <= 12 && text.chars().count() <= 120).then(|| text.to_owned())
}

/// Parses the date formats pages use for publication times; a zone-less time is taken as UTC.
fn parse_datetime(raw: &str) -> Option<DateTime<Utc>> {
    let text = raw.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(parsed.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M:%S %z"] {
        if let Ok(parsed) = DateTime::parse_from_str(text, format) {
            return Some(parsed.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(parsed) = NaiveDateTime::parse_from_str(text, format) {
            return Some(parsed.and_utc());
        }
    }
    if let Ok(parsed) = DateTime::parse_from_rfc2822(text) {
        return Some(parsed.with_timezone(&Utc));
    }
    let day = text.get(..10).and_then(|prefix| NaiveDate::parse_from_str(prefix, "%Y-%m-%d").ok())?;
    day.and_hms_opt(0, 0, 0).map(|midnight| midnight.and_utc())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

    use super::*;

    #[test]
    fn site_suffixes_are_stripped_only_when_they_name_a_site() {
        assert_eq!(
            strip_site_suffix("Measles cases rise in Europe | World Health Organization", None),
            "Measles cases rise in Europe"
        );
        assert_eq!(
            strip_site_suffix("Measles cases rise - Health News - The Daily", Some("The Daily")),
            "Measles cases rise"
        );
        assert_eq!(
            strip_site_suffix("Ivermectin is no COVID cure - here is why", None),
            "Ivermectin is no COVID cure - here is why"
        );
        assert_eq!(strip_site_suffix("Measles | CDC", Some("CDC")), "Measles");
        assert_eq!(strip_site_suffix("Measles | CDC", None), "Measles | CDC");
    }

    #[test]
    fn bylines_lose_by_and_trailing_dates() {
        assert_eq!(clean_byline(" By  Jane Doe | 3 March 2024").as_deref(), Some("Jane Doe"));
        assert_eq!(clean_byline("Por María López").as_deref(), Some("María López"));
        assert_eq!(clean_byline("   "), None);
    }

    #[test]
    fn dates_in_the_formats_pages_use() {
        let expected = "2024-03-05T10:30:00Z".parse::<DateTime<Utc>>().unwrap();
        for raw in [
            "2024-03-05T10:30:00Z",
            "2024-03-05T11:30:00+01:00",
            "2024-03-05T10:30:00.000+0000",
            "2024-03-05 10:30:00",
            "Tue, 05 Mar 2024 10:30:00 GMT",
        ] {
            assert_eq!(parse_datetime(raw), Some(expected), "{raw}");
        }
        assert_eq!(parse_datetime("2024-03-05"), Some("2024-03-05T00:00:00Z".parse().unwrap()));
        assert_eq!(parse_datetime("last Tuesday"), None);
        assert_eq!(parse_datetime("2024-13-45T99"), None);
    }
}
