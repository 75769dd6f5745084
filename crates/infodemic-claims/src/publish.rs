//! Reviewers' verdicts published as schema.org `ClaimReview` JSON-LD, the markup search
//! engines and fact-check aggregators read (Google's ClaimReview structured data, the
//! Fact Check Explorer).
//!
//! [`claim_review`] is a pure transform: it reads an item, its review log and the verdict
//! scale and returns a JSON value; rendering a page, choosing which items to publish (for
//! example leaving out those whose reviewers disagree, see
//! [`ReviewState::agreement`](infodemic_core::ReviewState)) and serving it are the caller's.
//!
//! Every string that comes from a feed is bounded and made one line; nothing is invented:
//! what is unknown is left out rather than written as `null` or an empty string.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use infodemic_core::review::{MAX_NOTE_CHARS, MAX_VERDICT_NAME_CHARS};
use infodemic_core::{Item, ReviewAction, ReviewState, ScoredItem, VerdictEvent, VerdictLabel, VerdictScale};

/// The longest `claimReviewed`, in characters: a sentence or two, as fact-checkers write it.
pub const MAX_CLAIM_CHARS: usize = 500;
/// How much of an item's text stands for the claim when it has neither evidence nor title.
pub const MAX_TEXT_CLAIM_CHARS: usize = 300;
/// The longest appearance `headline`, in characters.
pub const MAX_HEADLINE_CHARS: usize = 300;
/// The longest name of a person or organisation, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest URL published, in bytes; a longer one is left out, since a cut URL is wrong.
pub const MAX_URL_BYTES: usize = 2048;
/// `reviewRating.bestRating`: verdict ratings are on 1 (false) to 5 (true).
pub const BEST_RATING: u8 = 5;
/// `reviewRating.worstRating`.
pub const WORST_RATING: u8 = 1;

/// Who publishes the reviews: the fact-checking organisation running infodemic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    /// The organisation's name (`author.name`).
    pub name: String,
    /// Its home page (`author.url`), if any.
    #[serde(default)]
    pub url: Option<String>,
    /// Where an item's review is published, e.g. `https://checks.example.org/items/{id}`;
    /// `{id}` is replaced by the item id. Without it the review has no `url`, which Google
    /// requires for ClaimReview rich results.
    #[serde(default)]
    pub review_url_template: Option<String>,
}

/// The schema.org `ClaimReview` of an item's current verdict, as a JSON-LD object.
///
/// `notes` are the item's review events: the note of the event that gave the current
/// verdict becomes `reviewBody`. `None` when the item has no current verdict, when the
/// verdict is not in `scale` or has no rating (`not-health`, `not-a-claim` are not
/// publishable), or when the item has no text at all to state the claim with.
///
/// The review (`datePublished`, `reviewRating`) is the most recent standing verdict; the
/// claim (`claimReviewed`) is the item's top evidence sentence, else its title, else the
/// start of its text; `itemReviewed` is a `Claim` whose `appearance` and `firstAppearance`
/// are the item, the earliest appearance infodemic knows of.
///
/// # Embedding in HTML
/// The value is data, not markup: strings from feeds are carried as they are, so a title
/// holding `</script><script>` stays that text. Serialising it with `serde_json` does not
/// make it safe inside `<script type="application/ld+json">`, where `</script>` ends the
/// element whatever the JSON says. A caller writing it into a page must escape `<`, `>` and
/// `&` as `\u003c`, `\u003e`, `\u0026` (still valid JSON) after serialising.
pub fn claim_review(
    scored: &ScoredItem,
    state: &ReviewState,
    notes: &[VerdictEvent],
    scale: &VerdictScale,
    publisher: &Publisher,
) -> Option<Value> {
    state.current.as_ref()?;
    // `ReviewState::derive` makes the last standing verdict the current one.
    let standing = state.standing.last()?;
    let label = scale.get(&standing.verdict)?;
    let rating = label.rating?;
    let item = &scored.item;
    let claim = claim_text(scored)?;

    let mut review = Map::new();
    review.insert("@context".into(), "https://schema.org".into());
    review.insert("@type".into(), "ClaimReview".into());
    if let Some(url) = review_url(publisher, item) {
        review.insert("url".into(), url.into());
    }
    review.insert("identifier".into(), item.id.to_string().into());
    review.insert("claimReviewed".into(), claim.into());
    review.insert("datePublished".into(), iso_8601(standing.time).into());
    if let Some(author) = organization(publisher) {
        review.insert("author".into(), author);
    }
    review.insert("reviewRating".into(), rating_node(label, rating));
    review.insert("itemReviewed".into(), claim_node(item));
    let note = notes
        .iter()
        .find(|event| event.seq == standing.seq && event.item == item.id && event.action == ReviewAction::Verdict)
        .and_then(|event| event.note.as_deref())
        .and_then(|note| bounded_text(note, MAX_NOTE_CHARS));
    if let Some(note) = note {
        review.insert("reviewBody".into(), note.into());
    }
    Some(Value::Object(review))
}

/// What the review says is claimed: never empty.
fn claim_text(scored: &ScoredItem) -> Option<String> {
    let evidence = scored.classification.evidence.iter().find_map(|e| one_line(&e.text, MAX_CLAIM_CHARS));
    evidence
        .or_else(|| one_line(&scored.item.title, MAX_CLAIM_CHARS))
        .or_else(|| one_line(&scored.item.text, MAX_TEXT_CLAIM_CHARS))
}

fn review_url(publisher: &Publisher, item: &Item) -> Option<String> {
    let template = publisher.review_url_template.as_deref()?;
    web_url(&template.replace("{id}", &item.id.to_string()))
}

/// `author`: the publishing organisation; left out without a name.
fn organization(publisher: &Publisher) -> Option<Value> {
    let mut node = Map::new();
    node.insert("@type".into(), "Organization".into());
    node.insert("name".into(), one_line(&publisher.name, MAX_NAME_CHARS)?.into());
    if let Some(url) = publisher.url.as_deref().and_then(web_url) {
        node.insert("url".into(), url.into());
    }
    Some(Value::Object(node))
}

fn rating_node(label: &VerdictLabel, rating: u8) -> Value {
    let mut node = Map::new();
    node.insert("@type".into(), "Rating".into());
    node.insert("ratingValue".into(), rating.into());
    node.insert("bestRating".into(), BEST_RATING.into());
    node.insert("worstRating".into(), WORST_RATING.into());
    // Google shows `alternateName` in results, so it gets the words; `name` keeps the
    // scale's machine name for programs reading the feed back.
    if let Some(name) = one_line(&label.name, MAX_VERDICT_NAME_CHARS) {
        node.insert("alternateName".into(), display_name(&name).into());
        node.insert("name".into(), name.into());
    }
    if let Some(description) = one_line(&label.description, MAX_NAME_CHARS) {
        node.insert("description".into(), description.into());
    }
    Value::Object(node)
}

/// What the claim and its appearance both say of the item: when, by whom, in what language.
fn insert_item_facts(node: &mut Map<String, Value>, item: &Item) {
    if let Some(published) = item.published {
        node.insert("datePublished".into(), iso_8601(published).into());
    }
    if let Some(author) = person(item) {
        node.insert("author".into(), author);
    }
    if let Some(language) = language(item) {
        node.insert("inLanguage".into(), language.into());
    }
}

/// `itemReviewed`: the claim, as it appeared in the item.
fn claim_node(item: &Item) -> Value {
    let mut node = Map::new();
    node.insert("@type".into(), "Claim".into());
    insert_item_facts(&mut node, item);
    if let Some(appearance) = appearance(item) {
        node.insert("firstAppearance".into(), appearance.clone());
        node.insert("appearance".into(), appearance);
    }
    Value::Object(node)
}

/// The item as a `CreativeWork`; `None` when neither its URL nor its title is usable.
fn appearance(item: &Item) -> Option<Value> {
    let url = web_url(&item.canonical_url).or_else(|| web_url(&item.url));
    let headline = one_line(&item.title, MAX_HEADLINE_CHARS);
    if url.is_none() && headline.is_none() {
        return None;
    }
    let mut node = Map::new();
    node.insert("@type".into(), "CreativeWork".into());
    if let Some(url) = url {
        node.insert("url".into(), url.into());
    }
    if let Some(headline) = headline {
        node.insert("headline".into(), headline.into());
    }
    insert_item_facts(&mut node, item);
    Some(Value::Object(node))
}

/// The item's author. Feeds do not say whether it is a person or an organisation; `Person`
/// because that is what RSS (`author`: an email address) and Atom (a Person construct)
/// define it as.
fn person(item: &Item) -> Option<Value> {
    let name = one_line(item.author.as_deref()?, MAX_NAME_CHARS)?;
    let mut node = Map::new();
    node.insert("@type".into(), "Person".into());
    node.insert("name".into(), name.into());
    Some(Value::Object(node))
}

/// The item's language when it looks like a language tag (`en`, `pt-BR`).
fn language(item: &Item) -> Option<String> {
    let tag = item.language.as_deref()?.trim();
    let well_formed = !tag.is_empty()
        && tag.len() <= 35
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !tag.starts_with('-');
    well_formed.then(|| tag.to_owned())
}

/// An absolute http(s) URL, normalised; `None` for anything else (a relative link, a
/// `javascript:` URL) or one longer than [`MAX_URL_BYTES`].
fn web_url(text: &str) -> Option<String> {
    let url = Url::parse(text.trim()).ok()?;
    let web = matches!(url.scheme(), "http" | "https") && url.host_str().is_some();
    let url = String::from(url);
    (web && url.len() <= MAX_URL_BYTES).then_some(url)
}

/// `2024-03-01T10:00:00Z`: ISO 8601, as schema.org's `DateTime`.
fn iso_8601(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `missing-context` as people read it: `Missing context`.
fn display_name(name: &str) -> String {
    let spaced = name.replace(['-', '_'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `text` on one line (whitespace runs collapsed, control characters dropped), cut to
/// `max_chars`; `None` when nothing is left.
fn one_line(text: &str, max_chars: usize) -> Option<String> {
    let words: Vec<String> =
        text.split_whitespace().map(|word| word.chars().filter(|c| !c.is_control()).collect()).collect();
    let line = words.iter().filter(|word| !word.is_empty()).map(String::as_str).collect::<Vec<_>>().join(" ");
    (!line.is_empty()).then(|| truncate(&line, max_chars))
}

/// Multi-line text (a reviewer's note): control characters other than newlines and tabs
/// dropped, trimmed, cut to `max_chars`.
fn bounded_text(text: &str, max_chars: usize) -> Option<String> {
    let kept: String = text.chars().filter(|&c| !c.is_control() || c == '\n' || c == '\t').collect();
    let kept = kept.trim();
    (!kept.is_empty()).then(|| truncate(kept, max_chars))
}

/// At most `max_chars` characters, cut at a character boundary; a cut text ends in `…` so
/// readers see that it goes on.
fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

    use super::*;
    use infodemic_core::{Classification, ContentHash, Evidence, ItemId, ModelRef, SourceId};

    fn time(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn scored(title: &str, text: &str, evidence: &[&str]) -> ScoredItem {
        let canonical_url = "https://news.example.com/health/garlic-cures-flu".to_owned();
        ScoredItem {
            item: Item {
                id: ItemId::from_canonical_url(&canonical_url),
                url: format!("{canonical_url}?utm_source=feed"),
                canonical_url,
                title: title.to_owned(),
                text: text.to_owned(),
                published: Some(time(1_709_280_000)),
                fetched_at: time(1_709_283_600),
                author: Some("Jane Doe".to_owned()),
                source: SourceId::new("news.example.com/feed").unwrap(),
                language: Some("en".to_owned()),
                content_hash: ContentHash::of(title, text),
                links: Vec::new(),
                simhash: None,
            },
            classification: Classification {
                score: 0.93,
                flagged: true,
                review: true,
                embedding: Vec::new(),
                model: ModelRef { id: "m".to_owned(), version: "1".to_owned() },
                language: Some("en".to_owned()),
                language_supported: true,
                evidence: evidence
                    .iter()
                    .map(|text| Evidence { text: (*text).to_owned(), score: 0.9, embedding: Vec::new() })
                    .collect(),
                claim_match: None,
                claim: None,
                refute: None,
                reasons: Vec::new(),
            },
        }
    }

    fn event(seq: u64, item: ItemId, verdict: &str, note: Option<&str>) -> VerdictEvent {
        VerdictEvent {
            seq,
            item,
            action: ReviewAction::Verdict,
            verdict: verdict.to_owned(),
            reviewer: "ana".to_owned(),
            time: time(1_709_370_000 + seq as i64),
            note: note.map(str::to_owned),
            undoes: None,
            model: ModelRef { id: "m".to_owned(), version: "1".to_owned() },
            score: Some(0.93),
        }
    }

    fn publisher() -> Publisher {
        Publisher {
            name: "Example Checks".to_owned(),
            url: Some("https://checks.example.org/".to_owned()),
            review_url_template: Some("https://checks.example.org/items/{id}".to_owned()),
        }
    }

    fn review_of(scored: &ScoredItem, events: &[VerdictEvent]) -> Option<Value> {
        let state = ReviewState::derive(events);
        claim_review(scored, &state, events, &VerdictScale::default(), &publisher())
    }

    #[test]
    fn no_verdict_publishes_nothing() {
        let item = scored("Garlic cures flu", "", &[]);
        assert_eq!(review_of(&item, &[]), None);
    }

    #[test]
    fn verdicts_without_a_rating_publish_nothing() {
        let item = scored("Garlic cures flu", "", &[]);
        assert_eq!(review_of(&item, &[event(1, item.item.id, "not-health", None)]), None);
        assert_eq!(review_of(&item, &[event(1, item.item.id, "not-a-claim", None)]), None);
        // A verdict the scale no longer has is not guessed at either.
        assert_eq!(review_of(&item, &[event(1, item.item.id, "retired-verdict", None)]), None);
    }

    #[test]
    fn the_fields_are_present() {
        let item = scored(
            "Garlic cures flu, says viral post",
            "A post claims that eating raw garlic cures the flu within a day.",
            &["Eating raw garlic cures the flu within a day."],
        );
        let id = item.item.id;
        let events =
            [event(1, id, "false", Some("first look")), event(2, id, "missing-context", Some("No trial shows it."))];
        let review = review_of(&item, &events).unwrap();
        assert_eq!(review["@context"], "https://schema.org");
        assert_eq!(review["@type"], "ClaimReview");
        assert_eq!(review["url"], format!("https://checks.example.org/items/{id}"));
        assert_eq!(review["identifier"], id.to_string());
        assert_eq!(review["claimReviewed"], "Eating raw garlic cures the flu within a day.");
        assert_eq!(review["datePublished"], "2024-03-02T09:00:02Z");
        assert_eq!(review["reviewBody"], "No trial shows it.");
        assert_eq!(review["author"]["@type"], "Organization");
        assert_eq!(review["author"]["name"], "Example Checks");
        assert_eq!(review["author"]["url"], "https://checks.example.org/");
        let rating = &review["reviewRating"];
        assert_eq!(rating["@type"], "Rating");
        assert_eq!(rating["ratingValue"], 3);
        assert_eq!(rating["bestRating"], 5);
        assert_eq!(rating["worstRating"], 1);
        assert_eq!(rating["alternateName"], "Missing context");
        assert_eq!(rating["name"], "missing-context");
        let claim = &review["itemReviewed"];
        assert_eq!(claim["@type"], "Claim");
        assert_eq!(claim["datePublished"], "2024-03-01T08:00:00Z");
        assert_eq!(claim["author"]["@type"], "Person");
        assert_eq!(claim["author"]["name"], "Jane Doe");
        let appearance = &claim["appearance"];
        assert_eq!(appearance["@type"], "CreativeWork");
        assert_eq!(appearance["url"], "https://news.example.com/health/garlic-cures-flu");
        assert_eq!(appearance["headline"], "Garlic cures flu, says viral post");
        assert_eq!(appearance["datePublished"], "2024-03-01T08:00:00Z");
        assert_eq!(appearance["inLanguage"], "en");
        assert_eq!(claim["firstAppearance"], *appearance);
    }

    #[test]
    fn unknowns_are_left_out_not_null() {
        let mut item = scored("", "Some text that makes a claim about vaccines and more.", &[]);
        item.item.published = None;
        item.item.author = Some("  ".to_owned());
        item.item.language = None;
        item.item.canonical_url = "not a url".to_owned();
        item.item.url = "javascript:alert(1)".to_owned();
        let events = [event(1, item.item.id, "false", None)];
        let state = ReviewState::derive(&events);
        let bare = Publisher { name: "Example Checks".to_owned(), url: None, review_url_template: None };
        let review = claim_review(&item, &state, &events, &VerdictScale::default(), &bare).unwrap();
        assert_eq!(review["claimReviewed"], "Some text that makes a claim about vaccines and more.");
        let text = review.to_string();
        assert!(!text.contains("null"), "{text}");
        for key in ["url", "reviewBody"] {
            assert!(review.get(key).is_none(), "{key} in {text}");
        }
        assert!(review["author"].get("url").is_none());
        let claim = review["itemReviewed"].as_object().unwrap();
        assert_eq!(claim.keys().collect::<Vec<_>>(), ["@type"], "{text}");
    }

    #[test]
    fn an_item_with_no_words_publishes_nothing() {
        let item = scored(" ", "\n", &["  "]);
        assert_eq!(review_of(&item, &[event(1, item.item.id, "false", None)]), None);
    }

    #[test]
    fn feed_strings_are_bounded_at_character_boundaries() {
        let long = "é".repeat(2000);
        let mut item = scored(&long, &long, &[]);
        item.item.author = Some("Ж".repeat(1000));
        let review = review_of(&item, &[event(1, item.item.id, "false", Some(&"n".repeat(9000)))]).unwrap();
        let chars = |key: &Value| key.as_str().unwrap().chars().count();
        assert_eq!(chars(&review["claimReviewed"]), MAX_CLAIM_CHARS);
        assert!(review["claimReviewed"].as_str().unwrap().ends_with('…'));
        assert_eq!(chars(&review["itemReviewed"]["appearance"]["headline"]), MAX_HEADLINE_CHARS);
        assert_eq!(chars(&review["itemReviewed"]["author"]["name"]), MAX_NAME_CHARS);
        assert_eq!(chars(&review["reviewBody"]), MAX_NOTE_CHARS);
        // Falling back to the text takes its start only.
        let item = scored("", &long, &[]);
        let review = review_of(&item, &[event(1, item.item.id, "false", None)]).unwrap();
        assert_eq!(chars(&review["claimReviewed"]), MAX_TEXT_CLAIM_CHARS);
    }

    #[test]
    fn markup_in_titles_is_carried_as_plain_json_text() {
        let title = "Cure</script><script>alert(1)</script>";
        let item = scored(title, "", &[]);
        let review = review_of(&item, &[event(1, item.item.id, "false", None)]).unwrap();
        assert_eq!(review["claimReviewed"], title);
        assert_eq!(review["itemReviewed"]["appearance"]["headline"], title);
        // Round-trips as the same string: JSON-LD is data; escaping for HTML is the caller's.
        let parsed: Value = serde_json::from_str(&review.to_string()).unwrap();
        assert_eq!(parsed["claimReviewed"], title);
    }

    #[test]
    fn the_note_is_the_one_of_the_current_verdict() {
        let item = scored("Garlic cures flu", "", &[]);
        let id = item.item.id;
        let mut ben = event(2, id, "false", None);
        ben.reviewer = "ben".to_owned();
        let events = [event(1, id, "misleading", Some("ana's note")), ben];
        let review = review_of(&item, &events).unwrap();
        assert_eq!(review["reviewRating"]["name"], "false");
        assert!(review.get("reviewBody").is_none(), "ben gave no note: {review}");
    }

    #[test]
    fn verdict_names_read_as_words() {
        assert_eq!(display_name("missing-context"), "Missing context");
        assert_eq!(display_name("false"), "False");
        assert_eq!(truncate("abc def", 5), "abc…");
        assert_eq!(one_line(" a\n\tb\u{7}c ", 10).as_deref(), Some("a bc"));
    }
}
