//! Claims out of fact-checkers' pages: the schema.org `ClaimReview` markup in their
//! `<script type="application/ld+json">` blocks.
//!
//! # Architecture
//! A page is parsed once with scraper; each JSON-LD block is parsed on its own, so one
//! malformed block (a trailing comma, a truncated template) costs that block only: it is
//! counted in [`Extraction::malformed_blocks`] and logged, and the page's other blocks still
//! count. Reviews are found anywhere in a block (an object, an array, `@graph`, or nested
//! under `mainEntity`) and read by the same code as the JSON importer.

use scraper::{ElementRef, Html};
use serde_json::Value;
use url::Url;

use crate::jsonld::{self, Context};
use crate::{ClaimOrigin, DebunkedClaim};
use infodemic_core::claim;

/// What [`extract_report`] found on a page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extraction {
    /// The claims reviewed on the page, deduplicated by id, in page order.
    pub claims: Vec<DebunkedClaim>,
    /// JSON-LD blocks on the page.
    pub blocks: usize,
    /// Blocks that were not valid JSON, and were skipped.
    pub malformed_blocks: usize,
    /// `ClaimReview`s without claim text, skipped.
    pub skipped_reviews: usize,
}

/// The claims reviewed on a fact-checker's page. Malformed blocks are skipped; use
/// [`extract_report`] to count them.
pub fn extract(html: &str, page_url: &Url) -> Vec<DebunkedClaim> {
    extract_report(html, page_url).claims
}

/// The claims reviewed on a page, with counts of the JSON-LD blocks read and skipped.
///
/// A review without its own `url` gets the page URL as review URL; relative URLs resolve
/// against the page; a review without `inLanguage` gets the page's `<html lang>`.
pub fn extract_report(html: &str, page_url: &Url) -> Extraction {
    let document = Html::parse_document(html);
    let page_language =
        document.root_element().value().attr("lang").map(str::trim).filter(|lang| !lang.is_empty()).map(str::to_owned);
    let origin = ClaimOrigin::ClaimReview { page_url: page_url.to_string() };
    let mut extraction = Extraction::default();
    let mut claims = Vec::new();
    for script in document.root_element().descendants().filter_map(ElementRef::wrap) {
        if !is_json_ld(script) {
            continue;
        }
        extraction.blocks += 1;
        let source: String = script.text().collect();
        let value: Value = match serde_json::from_str(unwrap_block(&source)) {
            Ok(value) => value,
            Err(error) => {
                extraction.malformed_blocks += 1;
                tracing::debug!(message = "malformed JSON-LD block skipped", page_url = %page_url, %error);
                continue;
            }
        };
        let mut context = Context::new(&value, Some(page_url), origin.clone());
        context.default_language.clone_from(&page_language);
        let mut reviews = Vec::new();
        jsonld::find_claim_reviews(&value, &mut reviews);
        for review in reviews {
            match jsonld::claim_from_review(review, &context) {
                Some(claim) => claims.push(claim),
                None => extraction.skipped_reviews += 1,
            }
        }
    }
    extraction.claims = claim::dedupe(claims);
    if extraction.malformed_blocks > 0 || extraction.skipped_reviews > 0 {
        tracing::debug!(
            message = "page had unusable JSON-LD",
            page_url = %page_url,
            malformed_blocks = extraction.malformed_blocks,
            skipped_reviews = extraction.skipped_reviews,
        );
    }
    extraction
}

/// Whether the element is `<script type="application/ld+json">` (any case, parameters allowed).
fn is_json_ld(element: ElementRef<'_>) -> bool {
    element.value().name() == "script"
        && element.value().attr("type").is_some_and(|kind| {
            kind.split(';').next().is_some_and(|media| media.trim().eq_ignore_ascii_case("application/ld+json"))
        })
}

/// The JSON inside a block, without the HTML comment or CDATA wrappers some CMSs add.
fn unwrap_block(source: &str) -> &str {
    let mut text = source.trim();
    for (open, close) in [("<!--", "-->"), ("//<![CDATA[", "//]]>"), ("<![CDATA[", "]]>")] {
        if let Some(inner) = text.strip_prefix(open) {
            text = inner.strip_suffix(close).unwrap_or(inner).trim();
        }
    }
    text.strip_suffix(';').unwrap_or(text).trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    fn page_url() -> Url {
        Url::parse("https://checks.example.org/fact-check/garlic/").unwrap()
    }

    #[test]
    fn single_review_with_page_url_fallback_and_page_language() {
        let html = r#"<html lang="en-GB"><head><script type="application/ld+json">
            {"@context": "https://schema.org", "@type": "ClaimReview",
             "claimReviewed": "Garlic cures COVID-19",
             "reviewRating": {"@type": "Rating", "alternateName": "False"},
             "author": {"@type": "Organization", "name": "Example Checks"}}
            </script></head><body></body></html>"#;
        let claims = extract(html, &page_url());
        assert_eq!(claims.len(), 1);
        assert_eq!(claims[0].review_url.as_deref(), Some("https://checks.example.org/fact-check/garlic/"));
        assert_eq!(claims[0].language.as_deref(), Some("en-GB"));
        assert_eq!(claims[0].verdict, Verdict::False);
        assert_eq!(claims[0].origin, ClaimOrigin::ClaimReview { page_url: page_url().to_string() });
    }

    #[test]
    fn wrapped_and_malformed_blocks() {
        let html = r#"<script type="application/ld+json; charset=utf-8"><!--
            {"@type": "ClaimReview", "claimReviewed": "A", "url": "/r/a"} --></script>
            <SCRIPT TYPE="Application/LD+JSON">//<![CDATA[
            [{"@type": "ClaimReview", "claimReviewed": "B"}]
            //]]></SCRIPT>
            <script type="application/ld+json">{"@type": "ClaimReview", "claimReviewed": "C",}</script>
            <script type="application/ld+json">{"@type": "ClaimReview"}</script>
            <script type="text/javascript">{"@type": "ClaimReview", "claimReviewed": "D"}</script>"#;
        let extraction = extract_report(html, &page_url());
        let texts: Vec<&str> = extraction.claims.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["A", "B"]);
        assert_eq!(extraction.claims[0].review_url.as_deref(), Some("https://checks.example.org/r/a"));
        assert_eq!((extraction.blocks, extraction.malformed_blocks, extraction.skipped_reviews), (4, 1, 1));
    }

    #[test]
    fn the_same_review_twice_is_one_claim() {
        let block = r#"<script type="application/ld+json">{"@type": "ClaimReview", "claimReviewed": "A"}</script>"#;
        assert_eq!(extract(&format!("{block}{block}"), &page_url()).len(), 1);
    }

    #[test]
    fn not_html_at_all() {
        assert!(extract("\u{0}\u{1}garbage<<<", &page_url()).is_empty());
        assert!(extract("", &page_url()).is_empty());
    }

    /// Pieces of fact-check pages that random concatenation turns into hostile ones.
    const FRAGMENTS: &[&str] = &[
        r#"<script type="application/ld+json">"#,
        "</script>",
        r#"{"@context":"https://schema.org","@type":"ClaimReview","#,
        r#""claimReviewed":"Garlic cures COVID-19","#,
        r#""reviewRating":{"@type":"Rating","alternateName":"False","ratingValue":1,"bestRating":5},"#,
        r#""itemReviewed":{"@type":"Claim","datePublished":"2020-03-01","appearance":[{"url":"http://x"}]},"#,
        r#""datePublished":"9999-99-99","#,
        r#""url":"javascript:alert(1)","#,
        r#""@graph":["#,
        "]",
        "}",
        ",",
        "[",
        "null",
        "\\u0000",
        r#""@type":["ClaimReview","Thing"]"#,
        "<html><body>",
        "<!-- -->",
    ];

    proptest::proptest! {
        #[test]
        fn any_page_is_read_without_a_panic(parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..40)) {
            let html = parts.concat();
            let _ = extract(&html, &page_url());
            let _ = extract_report(&html, &page_url());
        }
    }
}
