//! Schema.org `ClaimReview` objects (JSON-LD) to [`DebunkedClaim`]s, shared by the page
//! extractor and the JSON importer.
//!
//! # Architecture
//! Publishers fill the same vocabulary in many shapes: a value may be a string, an object or
//! an array of either; an author may be a reference (`{"@id": ...}`) to a node elsewhere in
//! the `@graph`; `@type` may be `"ClaimReview"`, `"schema:ClaimReview"`, a full IRI or an
//! array. The helpers here accept every shape and never fail on an odd value: a field that
//! cannot be read is left empty. Only a review without claim text is unusable
//! ([`claim_from_review`] returns `None`), and the caller decides whether that is an error.

use std::collections::HashMap;

use serde_json::{Map, Value};
use url::Url;

use crate::date::parse_date;
use crate::verdict::RatingScale;
use crate::{ClaimId, ClaimOrigin, DebunkedClaim, Verdict};

/// What a review is read against.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    /// Resolves relative URLs; also the review URL when the review has none (pages only).
    pub base_url: Option<&'a Url>,
    /// Where the claims come from.
    pub origin: ClaimOrigin,
    /// Language when the review does not say (a page's `<html lang>`).
    pub default_language: Option<String>,
    /// Nodes of the document by `@id`, to resolve references.
    pub nodes: HashMap<String, &'a Map<String, Value>>,
}

impl<'a> Context<'a> {
    /// A context with the nodes of `document` indexed.
    pub fn new(document: &'a Value, base_url: Option<&'a Url>, origin: ClaimOrigin) -> Self {
        let mut nodes = HashMap::new();
        collect_nodes(document, &mut nodes);
        Self { base_url, origin, default_language: None, nodes }
    }

    /// The object itself, or the node it refers to when it is only `{"@id": ...}`.
    fn resolve(&self, object: &'a Map<String, Value>) -> &'a Map<String, Value> {
        match (object.len(), object.get("@id").and_then(Value::as_str)) {
            (1, Some(id)) => self.nodes.get(id).copied().unwrap_or(object),
            _ => object,
        }
    }
}

/// Indexes every object with an `@id` and at least one other property.
fn collect_nodes<'a>(value: &'a Value, nodes: &mut HashMap<String, &'a Map<String, Value>>) {
    match value {
        Value::Object(object) => {
            if let Some(id) = object.get("@id").and_then(Value::as_str) {
                if object.len() > 1 {
                    nodes.entry(id.to_owned()).or_insert(object);
                }
            }
            object.values().for_each(|child| collect_nodes(child, nodes));
        }
        Value::Array(items) => items.iter().for_each(|child| collect_nodes(child, nodes)),
        _ => {}
    }
}

/// The local names of an object's `@type` (`ClaimReview` for `schema:ClaimReview` or
/// `https://schema.org/ClaimReview`).
pub(crate) fn type_names(object: &Map<String, Value>) -> Vec<&str> {
    let local = |name: &'_ str| -> usize { name.rfind(['/', ':', '#']).map_or(0, |i| i + 1) };
    match object.get("@type") {
        Some(Value::String(name)) => vec![&name[local(name)..]],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).map(|name| &name[local(name)..]).collect(),
        _ => Vec::new(),
    }
}

/// Whether the object is typed `name`.
pub(crate) fn has_type(object: &Map<String, Value>, name: &str) -> bool {
    type_names(object).iter().any(|t| t.eq_ignore_ascii_case(name))
}

/// Every `ClaimReview` object in `value`: itself, inside arrays, `@graph`, or nested in any
/// property (`mainEntity`, `review`, `hasPart`). A review's own properties are not searched.
pub(crate) fn find_claim_reviews<'a>(value: &'a Value, out: &mut Vec<&'a Map<String, Value>>) {
    match value {
        Value::Object(object) if has_type(object, "ClaimReview") => out.push(object),
        Value::Object(object) => object.values().for_each(|child| find_claim_reviews(child, out)),
        Value::Array(items) => items.iter().for_each(|child| find_claim_reviews(child, out)),
        _ => {}
    }
}

/// The claim a review is about, or `None` when it carries no claim text (neither
/// `claimReviewed` nor the reviewed claim's `text` or `name`).
pub(crate) fn claim_from_review(review: &Map<String, Value>, context: &Context<'_>) -> Option<DebunkedClaim> {
    let item = review.get("itemReviewed").and_then(|v| first_object(v, context));
    let text = review
        .get("claimReviewed")
        .and_then(text_of)
        .or_else(|| item.and_then(|item| item.get("text").or_else(|| item.get("name"))).and_then(text_of))?;

    let rating = review.get("reviewRating").and_then(|v| first_object(v, context));
    let rating_text = rating.and_then(|r| r.get("alternateName").or_else(|| r.get("name"))).and_then(text_of);
    let number = |key: &str| rating.and_then(|r| r.get(key)).and_then(number_of);
    let verdict = Verdict::from_rating(
        rating_text.as_deref(),
        number("ratingValue"),
        number("bestRating"),
        number("worstRating"),
    );

    let review_url =
        review.get("url").and_then(|v| url_of(v, context.base_url)).or_else(|| context.base_url.map(Url::to_string));
    let reviewer = review
        .get("author")
        .and_then(|v| reviewer_of(v, context))
        .or_else(|| review.get("publisher").and_then(|v| reviewer_of(v, context)));
    let language = review
        .get("inLanguage")
        .and_then(text_of)
        .or_else(|| item.and_then(|item| item.get("inLanguage")).and_then(text_of))
        .or_else(|| context.default_language.clone());

    let claimant = item.and_then(|item| item.get("author")).and_then(|v| claimant_of(v, context));
    let claim_date = item.and_then(|item| item.get("datePublished")).and_then(Value::as_str).and_then(parse_date);
    let mut appearances = Vec::new();
    if let Some(item) = item {
        for key in ["appearance", "firstAppearance"] {
            if let Some(value) = item.get(key) {
                collect_urls(value, context, &mut appearances);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    appearances.retain(|url| seen.insert(url.clone()));

    Some(DebunkedClaim {
        id: ClaimId::of(&text, review_url.as_deref(), &context.origin),
        text,
        verdict,
        rating: rating_text,
        reviewer,
        review_url,
        published: review.get("datePublished").and_then(Value::as_str).and_then(parse_date),
        claimant,
        claim_date,
        appearances,
        language,
        origin: context.origin.clone(),
    })
}

/// The first object of a value that is an object or an array, references resolved.
fn first_object<'a>(value: &'a Value, context: &Context<'a>) -> Option<&'a Map<String, Value>> {
    match value {
        Value::Object(object) => Some(context.resolve(object)),
        Value::Array(items) => items.iter().find_map(Value::as_object).map(|object| context.resolve(object)),
        _ => None,
    }
}

/// Plain text of a value: a string (entities decoded, whitespace collapsed), a number, an
/// object's `@value` or `name`, or the first of an array that has one. `None` when empty.
pub(crate) fn text_of(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => plain_text(text),
        Value::Number(number) => number.to_string(),
        Value::Object(object) => return object.get("@value").or_else(|| object.get("name")).and_then(text_of),
        Value::Array(items) => return items.iter().find_map(text_of),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// A string as plain text: HTML entities and stray tags that some publishers leave in
/// JSON-LD strings (`&quot;`, `&#8217;`, `<em>`) decoded or dropped, whitespace collapsed.
pub(crate) fn plain_text(text: &str) -> String {
    if text.contains(['&', '<']) {
        let fragment = scraper::Html::parse_fragment(text);
        let decoded: String = fragment.root_element().text().collect();
        infodemic_core::text::collapse_whitespace(&decoded)
    } else {
        infodemic_core::text::collapse_whitespace(text)
    }
}

/// A number, or a string holding one (`"1"`, `" 2.5 "`).
fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// An absolute http(s) URL from a string or an object's `url`/`@id`, resolved against `base`.
fn url_of(value: &Value, base: Option<&Url>) -> Option<String> {
    let text = match value {
        Value::String(text) => text.trim(),
        Value::Object(object) => return object.get("url").or_else(|| object.get("@id")).and_then(|v| url_of(v, base)),
        Value::Array(items) => return items.iter().find_map(|v| url_of(v, base)),
        _ => return None,
    };
    if text.is_empty() {
        return None;
    }
    let url = match base {
        Some(base) => base.join(text).ok()?,
        None => Url::parse(text).ok()?,
    };
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// Names of the people or organisations in a value (a string, an object, or an array of
/// either), each with whether it is typed `Organization`.
fn names_of(value: &Value, context: &Context<'_>) -> Vec<(String, bool)> {
    match value {
        Value::String(name) => {
            let name = plain_text(name);
            if name.is_empty() {
                Vec::new()
            } else {
                vec![(name, false)]
            }
        }
        Value::Object(object) => {
            let object = context.resolve(object);
            let is_organization = type_names(object).iter().any(|t| t.ends_with("Organization"));
            object.get("name").and_then(text_of).map(|name| vec![(name, is_organization)]).unwrap_or_default()
        }
        Value::Array(items) => items.iter().flat_map(|item| names_of(item, context)).collect(),
        _ => Vec::new(),
    }
}

/// The reviewing organisation: the first author typed `Organization`, else the first name.
fn reviewer_of(value: &Value, context: &Context<'_>) -> Option<String> {
    let names = names_of(value, context);
    let organization = names.iter().find(|(_, is_organization)| *is_organization);
    organization.or_else(|| names.first()).map(|(name, _)| name.clone())
}

/// Who made the claim: every name, joined with ", ".
fn claimant_of(value: &Value, context: &Context<'_>) -> Option<String> {
    let mut names: Vec<String> = names_of(value, context).into_iter().map(|(name, _)| name).collect();
    names.dedup();
    (!names.is_empty()).then(|| names.join(", "))
}

/// URLs of appearances: strings, or objects with `url`.
fn collect_urls(value: &Value, context: &Context<'_>, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| collect_urls(item, context, out)),
        Value::Object(object) => {
            let object = context.resolve(object);
            out.extend(object.get("url").or_else(|| object.get("@id")).and_then(|v| url_of(v, context.base_url)));
        }
        other => out.extend(url_of(other, context.base_url)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin() -> ClaimOrigin {
        ClaimOrigin::Import { file: "t.json".into() }
    }

    fn claims(document: &Value) -> Vec<DebunkedClaim> {
        let context = Context::new(document, None, origin());
        let mut reviews = Vec::new();
        find_claim_reviews(document, &mut reviews);
        reviews.into_iter().filter_map(|review| claim_from_review(review, &context)).collect()
    }

    #[test]
    fn type_names_accept_every_spelling() {
        for t in [
            json!("ClaimReview"),
            json!("schema:ClaimReview"),
            json!("https://schema.org/ClaimReview"),
            json!(["Review", "ClaimReview"]),
        ] {
            let object = json!({ "@type": t });
            assert!(has_type(object.as_object().unwrap(), "ClaimReview"), "{t}");
        }
        assert!(!has_type(json!({"@type": "Review"}).as_object().unwrap(), "ClaimReview"));
    }

    #[test]
    fn references_resolve_through_the_graph() {
        let document = json!({"@graph": [
            {"@id": "#org", "@type": "Organization", "name": "Example Checks"},
            {"@type": "ClaimReview", "claimReviewed": "Onions absorb viruses", "author": {"@id": "#org"},
             "url": "https://example.org/r/onions",
             "reviewRating": {"@type": "Rating", "alternateName": "False", "ratingValue": "1"},
             "itemReviewed": {"@type": "Claim", "author": [{"@type": "Person", "name": "A"}, "B"],
                              "appearance": [{"url": "https://social.example.com/p/1"}, "https://social.example.com/p/2"]}}
        ]});
        let found = claims(&document);
        assert_eq!(found.len(), 1);
        let claim = &found[0];
        assert_eq!(claim.reviewer.as_deref(), Some("Example Checks"));
        assert_eq!(claim.verdict, Verdict::False);
        assert_eq!(claim.claimant.as_deref(), Some("A, B"));
        assert_eq!(claim.appearances, ["https://social.example.com/p/1", "https://social.example.com/p/2"]);
    }

    #[test]
    fn entities_in_strings_are_decoded() {
        assert_eq!(plain_text("Vaccines &quot;shed&quot; &amp; <em>spread</em>\n it"), "Vaccines \"shed\" & spread it");
        assert_eq!(plain_text("It&#8217;s   fine"), "It\u{2019}s fine");
        assert_eq!(plain_text("children < 5 years"), "children < 5 years");
    }

    #[test]
    fn review_without_claim_text_is_skipped() {
        let document = json!({"@type": "ClaimReview", "claimReviewed": "  ", "url": "https://example.org/r"});
        assert!(claims(&document).is_empty());
    }

    #[test]
    fn claim_text_falls_back_to_the_reviewed_claim() {
        let document = json!({"@type": "ClaimReview", "itemReviewed": {"@type": "Claim", "name": "Zinc cures it"}});
        assert_eq!(claims(&document)[0].text, "Zinc cures it");
    }
}
