//! `publish::claim_review` output checked against the schema.org vocabulary itself, not
//! against our reading of it: `tests/data/schemaorg/vocabulary-subset.jsonld` is an
//! unchanged subset of schema.org release 30.0 (see `SOURCE.txt` there, CC BY-SA 3.0).
//!
//! The validator walks the JSON-LD: every `@type` is a schema.org type; every property is
//! a schema.org property whose `domainIncludes` holds the node's type or a supertype; a
//! node value is of a type (or subtype) in the property's `rangeIncludes`; a string or
//! number is allowed only where the range holds a data type accepting it (Text, URL,
//! Date, DateTime, Number), URLs parse, dates are ISO 8601. A property the output starts
//! using must be added to the subset (`extract.py`), which keeps the check honest.
//! Negative tests show the validator catches a property on the wrong type, a misspelt
//! property, a wrong range, a bad date, a null.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use infodemic_claims::import::read_claimreview_json;
use infodemic_claims::publish::{claim_review, Publisher};
use infodemic_claims::Verdict;
use infodemic_core::review::VerdictLabel;
use infodemic_core::{
    Classification, ContentHash, Evidence, Item, ItemId, ModelRef, ReviewAction, ReviewState, ScoredItem, SourceId,
    VerdictEvent, VerdictScale,
};
use serde_json::{json, Map, Value};
use url::Url;

// ---------------------------------------------------------------------------------------
// The vocabulary.

#[derive(Debug)]
struct Class {
    supers: Vec<String>,
    /// Tagged `schema:DataType` in the vocabulary (Text, Number, Date...).
    data_type: bool,
}

#[derive(Debug)]
struct Property {
    domain: Vec<String>,
    range: Vec<String>,
    superseded: bool,
}

#[derive(Debug)]
struct Vocabulary {
    classes: HashMap<String, Class>,
    properties: HashMap<String, Property>,
}

/// `{"@id": "schema:X"}` or a list of them, as names (`X`); other vocabularies' ids kept whole.
fn ids(value: Option<&Value>) -> Vec<String> {
    let one = |v: &Value| v["@id"].as_str().map(|id| id.strip_prefix("schema:").unwrap_or(id).to_owned());
    match value {
        None => Vec::new(),
        Some(Value::Array(values)) => values.iter().filter_map(one).collect(),
        Some(value) => one(value).into_iter().collect(),
    }
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(values) => values.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

impl Vocabulary {
    fn load() -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/schemaorg/vocabulary-subset.jsonld");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let document: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(document["@context"]["schema"], "https://schema.org/");
        let mut vocabulary = Self { classes: HashMap::new(), properties: HashMap::new() };
        for node in document["@graph"].as_array().unwrap() {
            let id = node["@id"].as_str().unwrap().strip_prefix("schema:").unwrap().to_owned();
            let types = strings(&node["@type"]);
            if types.contains(&"rdf:Property") {
                let property = Property {
                    domain: ids(node.get("schema:domainIncludes")),
                    range: ids(node.get("schema:rangeIncludes")),
                    superseded: node.get("schema:supersededBy").is_some(),
                };
                vocabulary.properties.insert(id, property);
            } else if types.contains(&"rdfs:Class") {
                let class =
                    Class { supers: ids(node.get("rdfs:subClassOf")), data_type: types.contains(&"schema:DataType") };
                vocabulary.classes.insert(id, class);
            }
        }
        vocabulary
    }

    /// `name` and every supertype of it.
    fn ancestors(&self, name: &str) -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut todo = vec![name.to_owned()];
        while let Some(next) = todo.pop() {
            if let Some(class) = self.classes.get(&next) {
                todo.extend(class.supers.iter().cloned());
            }
            seen.insert(next);
        }
        seen
    }

    fn is_data_type(&self, name: &str) -> bool {
        self.ancestors(name).iter().any(|a| self.classes.get(a).is_some_and(|c| c.data_type))
    }

    fn is_subtype(&self, name: &str, of: &str) -> bool {
        self.ancestors(name).contains(of)
    }

    /// Problems with a JSON-LD document, each with its path; empty when it is valid.
    fn check(&self, document: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        match document {
            Value::Object(root) => {
                if root.get("@context") != Some(&json!("https://schema.org")) {
                    problems.push("$: @context is not \"https://schema.org\"".to_owned());
                }
                self.check_node(root, "$", &mut problems);
            }
            _ => problems.push("$: not an object".to_owned()),
        }
        problems
    }

    fn check_node(&self, node: &Map<String, Value>, path: &str, problems: &mut Vec<String>) {
        let Some(node_type) = node.get("@type").and_then(Value::as_str) else {
            problems.push(format!("{path}: no single @type"));
            return;
        };
        if !self.classes.contains_key(node_type) || self.is_data_type(node_type) {
            problems.push(format!("{path}: @type {node_type} is not a schema.org type"));
            return;
        }
        let lineage = self.ancestors(node_type);
        for (key, value) in node {
            let at = format!("{path}.{key}");
            match key.as_str() {
                "@type" => continue,
                "@context" if path == "$" => continue,
                _ if key.starts_with('@') => {
                    problems.push(format!("{at}: unexpected keyword"));
                    continue;
                }
                _ => {}
            }
            let Some(property) = self.properties.get(key) else {
                problems.push(format!("{at}: {key} is not a schema.org property (or not in the subset)"));
                continue;
            };
            if property.superseded {
                problems.push(format!("{at}: {key} is superseded"));
            }
            if !property.domain.iter().any(|d| lineage.contains(d)) {
                problems.push(format!("{at}: {key} is not a property of {node_type} (domain {:?})", property.domain));
            }
            let values = match value {
                Value::Array(values) if values.is_empty() => {
                    problems.push(format!("{at}: empty list"));
                    continue;
                }
                Value::Array(values) => values.iter().collect(),
                value => vec![value],
            };
            for value in values {
                self.check_value(key, property, value, &at, problems);
            }
        }
    }

    fn check_value(&self, key: &str, property: &Property, value: &Value, at: &str, problems: &mut Vec<String>) {
        let range = &property.range;
        let allows = |data_type: &str| range.iter().any(|r| self.is_subtype(r, data_type));
        match value {
            Value::Object(object) => {
                let node_type = object.get("@type").and_then(Value::as_str).unwrap_or_default();
                let fits = range.iter().any(|r| !self.is_data_type(r) && self.is_subtype(node_type, r));
                if !fits {
                    problems.push(format!("{at}: a {node_type} node where {key} takes {range:?}"));
                }
                self.check_node(object, at, problems);
            }
            Value::String(text) => {
                if text.trim().is_empty() {
                    problems.push(format!("{at}: empty string"));
                }
                let accepted = range.iter().any(|r| match r.as_str() {
                    "Text" => true,
                    "URL" => Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
                    "DateTime" => DateTime::parse_from_rfc3339(text).is_ok(),
                    "Date" => NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
                    _ => false,
                });
                if !accepted {
                    problems.push(format!("{at}: {text:?} is not a value of {key} ({range:?})"));
                }
            }
            Value::Number(number) => {
                let integer_ok = number.is_u64() || number.is_i64();
                if !(allows("Number") || (integer_ok && allows("Integer"))) {
                    problems.push(format!("{at}: a number where {key} takes {range:?}"));
                }
            }
            Value::Bool(_) if allows("Boolean") => {}
            Value::Bool(_) => problems.push(format!("{at}: a boolean where {key} takes {range:?}")),
            Value::Null => problems.push(format!("{at}: null")),
            Value::Array(_) => problems.push(format!("{at}: nested list")),
        }
    }
}

/// Google's ClaimReview structured-data requirements (developers.google.com/search/docs/
/// appearance/structured-data/factcheck): required `claimReviewed`, `reviewRating` with
/// `alternateName`, `url`; recommended `author`, `itemReviewed`, `datePublished`.
fn google_problems(review: &Value, has_url: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let text = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    if review["@type"] != "ClaimReview" {
        problems.push("not a ClaimReview".to_owned());
    }
    if !text(&review["claimReviewed"]) {
        problems.push("claimReviewed missing".to_owned());
    }
    let rating = &review["reviewRating"];
    if rating["@type"] != "Rating" || !text(&rating["alternateName"]) {
        problems.push("reviewRating.alternateName missing".to_owned());
    }
    let value = rating["ratingValue"].as_f64();
    let (best, worst) = (rating["bestRating"].as_f64(), rating["worstRating"].as_f64());
    let in_scale = matches!((value, best, worst), (Some(v), Some(b), Some(w)) if w <= v && v <= b);
    if !in_scale {
        problems.push(format!("ratingValue {value:?} not within worstRating {worst:?}..=bestRating {best:?}"));
    }
    if has_url != text(&review["url"]) {
        problems.push(format!("url present: {}, expected: {has_url}", text(&review["url"])));
    }
    let author = &review["author"];
    if !matches!(author["@type"].as_str(), Some("Organization" | "Person")) || !text(&author["name"]) {
        problems.push("author without @type and name".to_owned());
    }
    if review["itemReviewed"]["@type"] != "Claim" {
        problems.push("itemReviewed is not a Claim".to_owned());
    }
    if !text(&review["datePublished"]) {
        problems.push("datePublished missing".to_owned());
    }
    problems
}

// ---------------------------------------------------------------------------------------
// Realistic reviewed items.

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

struct Case {
    scored: ScoredItem,
    events: Vec<VerdictEvent>,
    scale: VerdictScale,
    publisher: Publisher,
    /// What infodemic's own ClaimReview reader makes of the published rating.
    read_back: Verdict,
}

fn item(url: &str, title: &str, text: &str, evidence: &[&str]) -> ScoredItem {
    let canonical_url = url.to_owned();
    ScoredItem {
        item: Item {
            id: ItemId::from_canonical_url(&canonical_url),
            url: url.to_owned(),
            canonical_url,
            title: title.to_owned(),
            text: text.to_owned(),
            published: Some(time("2024-02-27T18:30:00+01:00")),
            fetched_at: time("2024-02-27T18:45:10Z"),
            author: Some("Dr. Wellness".to_owned()),
            source: SourceId::new("wellness.example.net/feed").unwrap(),
            language: Some("en".to_owned()),
            content_hash: ContentHash::of(title, text),
            links: Vec::new(),
            simhash: None,
        },
        classification: Classification {
            score: 0.91,
            flagged: true,
            review: true,
            embedding: Vec::new(),
            model: ModelRef { id: "infodemic-health".to_owned(), version: "3".to_owned() },
            language: Some("en".to_owned()),
            language_supported: true,
            evidence: evidence
                .iter()
                .enumerate()
                .map(|(i, text)| Evidence { text: (*text).to_owned(), score: 0.9 - i as f32 / 10.0, embedding: vec![] })
                .collect(),
            claim_match: None,
            claim: Some(0.95),
            refute: Some(0.02),
            reasons: Vec::new(),
        },
    }
}

fn verdict(seq: u64, item: &ScoredItem, reviewer: &str, verdict: &str, at: &str, note: Option<&str>) -> VerdictEvent {
    VerdictEvent {
        seq,
        item: item.item.id,
        action: ReviewAction::Verdict,
        verdict: verdict.to_owned(),
        reviewer: reviewer.to_owned(),
        time: time(at),
        note: note.map(str::to_owned),
        undoes: None,
        model: item.classification.model.clone(),
        score: Some(item.classification.score),
    }
}

fn checks_org() -> Publisher {
    Publisher {
        name: "Example Health Checks".to_owned(),
        url: Some("https://checks.example.org".to_owned()),
        review_url_template: Some("https://checks.example.org/reviews/{id}".to_owned()),
    }
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();

    // A vaccine myth with evidence sentences, rated false with a note.
    let scored = item(
        "https://wellness.example.net/2024/02/vaccines-magnetic",
        "What they won't tell you about the new vaccines",
        "Thousands report that the injection site turns magnetic. Vaccines contain metals that \
         make your arm magnetic, doctors admit. Share before it is deleted.",
        &["Vaccines contain metals that make your arm magnetic, doctors admit.", "Share before it is deleted."],
    );
    let events = vec![verdict(
        11,
        &scored,
        "ana",
        "false",
        "2024-02-28T09:12:00Z",
        Some("Vaccine ingredients are published; none is magnetic, and the doses are micrograms.\nSee the EMA product information."),
    )];
    cases.push(Case {
        scored,
        events,
        scale: VerdictScale::default(),
        publisher: checks_org(),
        read_back: Verdict::False,
    });

    // No title, no evidence, Portuguese, no author or date; two reviewers, the later one stands.
    let mut scored = item(
        "https://social.example.com/@saude/112233",
        "",
        "Chá de limão com bicarbonato cura a dengue em três dias, segundo médicos de Cuba.",
        &[],
    );
    scored.item.published = None;
    scored.item.author = None;
    scored.item.language = Some("pt".to_owned());
    let events = vec![
        verdict(20, &scored, "ana", "false", "2024-03-01T10:00:00Z", None),
        verdict(23, &scored, "bruno", "misleading", "2024-03-01T11:30:00Z", Some("Não há estudo; Cuba não o afirma.")),
    ];
    cases.push(Case {
        scored,
        events,
        scale: VerdictScale::default(),
        publisher: checks_org(),
        read_back: Verdict::Misleading,
    });

    // Markup in the title, a missing-context verdict, and a publisher with no URLs.
    let scored = item(
        "https://blog.example.org/posts/vitamin-d</script>",
        "Vitamin D stops COVID</script><script>alert(1)</script>",
        "",
        &[],
    );
    let events = vec![verdict(31, &scored, "chen", "missing-context", "2024-03-05T16:00:00-05:00", None)];
    let bare = Publisher { name: "Example Health Checks".to_owned(), url: None, review_url_template: None };
    cases.push(Case {
        scored,
        events,
        scale: VerdictScale::default(),
        publisher: bare,
        read_back: Verdict::Misleading,
    });

    // A data directory's own scale: a verdict with rating 2 under another name.
    let scored = item(
        "https://news.example.com/health/fasting-cancer",
        "Fasting starves cancer, study finds",
        "A small mouse study is reported as proof that fasting cures cancer in people.",
        &["Fasting cures cancer in people, a new study proves."],
    );
    let mut scale = VerdictScale::default();
    scale.labels.push(VerdictLabel {
        name: "overstated".to_owned(),
        description: "Goes beyond what the evidence shows.".to_owned(),
        key: Some('v'),
        misinformation: Some(true),
        claim: true,
        rating: Some(2),
    });
    assert_eq!(scale.validate(), Ok(()));
    let events = vec![verdict(40, &scored, "dee", "overstated", "2024-03-07T08:00:00Z", Some("Mice, not people."))];
    cases.push(Case { scored, events, scale, publisher: checks_org(), read_back: Verdict::MostlyFalse });

    // A true claim.
    let scored = item(
        "https://health.example.gov/measles",
        "Measles vaccine: two doses are 97% effective",
        "",
        &["Two doses of MMR vaccine are about 97% effective at preventing measles."],
    );
    let events = vec![verdict(50, &scored, "ana", "true", "2024-03-08T12:00:00Z", None)];
    cases.push(Case {
        scored,
        events,
        scale: VerdictScale::default(),
        publisher: checks_org(),
        read_back: Verdict::True,
    });

    cases
}

fn publish(case: &Case) -> Value {
    let state = ReviewState::derive(&case.events);
    claim_review(&case.scored, &state, &case.events, &case.scale, &case.publisher)
        .unwrap_or_else(|| panic!("no ClaimReview for {}", case.scored.item.url))
}

fn first_review() -> Value {
    publish(&cases()[0])
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn the_vocabulary_subset_has_what_the_validator_needs() {
    let vocabulary = Vocabulary::load();
    for name in ["ClaimReview", "Review", "CreativeWork", "Thing", "Claim", "Rating", "Organization", "Person"] {
        assert!(vocabulary.classes.contains_key(name), "{name}");
        assert!(!vocabulary.is_data_type(name), "{name}");
    }
    assert!(vocabulary.is_subtype("ClaimReview", "Thing"));
    assert!(vocabulary.is_subtype("Claim", "CreativeWork"));
    assert!(!vocabulary.is_subtype("Claim", "Review"));
    assert!(vocabulary.is_data_type("URL"), "URL is Text");
    assert!(vocabulary.is_data_type("DateTime"));
}

#[test]
fn every_published_review_is_valid_schema_org() {
    let vocabulary = Vocabulary::load();
    for case in cases() {
        let review = publish(&case);
        let problems = vocabulary.check(&review);
        assert!(problems.is_empty(), "{}:\n{}\n{review:#}", case.scored.item.url, problems.join("\n"));
    }
}

#[test]
fn every_published_review_meets_googles_claimreview_requirements() {
    for case in cases() {
        let review = publish(&case);
        let has_url = case.publisher.review_url_template.is_some();
        let problems = google_problems(&review, has_url);
        assert!(problems.is_empty(), "{}: {problems:?}\n{review:#}", case.scored.item.url);
        let claim = review["claimReviewed"].as_str().unwrap();
        assert!(claim.chars().count() <= 500, "{claim}");
        // The machine name is kept next to the words people see.
        let label = case.scale.get(&case.events.last().unwrap().verdict).unwrap();
        assert_eq!(review["reviewRating"]["name"], label.name.as_str());
        assert_eq!(review["reviewRating"]["ratingValue"], label.rating.unwrap());
    }
}

#[test]
fn published_reviews_read_back_through_the_claimreview_importer() {
    for case in cases() {
        let review = publish(&case);
        let claims = read_claimreview_json(review.to_string().as_bytes(), "published.json").unwrap();
        assert_eq!(claims.len(), 1, "{review:#}");
        let claim = &claims[0];
        let published = review["claimReviewed"].as_str().unwrap();
        // The reader strips markup from what it reads (pages hold HTML in JSON-LD strings).
        if !published.contains('<') {
            assert_eq!(claim.text, published);
        }
        assert_eq!(claim.verdict, case.read_back, "{review:#}");
        assert_eq!(claim.reviewer.as_deref(), Some("Example Health Checks"));
        assert_eq!(claim.review_url.as_deref(), review["url"].as_str());
        assert_eq!(claim.claimant, case.scored.item.author);
        assert_eq!(claim.language, case.scored.item.language);
        assert!(claim.appearances.iter().any(|url| Url::parse(url).is_ok()), "{:?}", claim.appearances);
    }
}

#[test]
fn unpublishable_verdicts_give_nothing() {
    let cases = cases();
    let case = &cases[0];
    for name in ["not-health", "not-a-claim"] {
        let events = vec![verdict(60, &case.scored, "ana", name, "2024-03-09T12:00:00Z", None)];
        let state = ReviewState::derive(&events);
        assert_eq!(claim_review(&case.scored, &state, &events, &case.scale, &case.publisher), None, "{name}");
    }
    let state = ReviewState::derive(&[]);
    assert_eq!(claim_review(&case.scored, &state, &[], &case.scale, &case.publisher), None);
}

/// The validator's verdict on `review` after `change`: it must name `expected`.
fn assert_caught(change: impl FnOnce(&mut Value), expected: &str) {
    let vocabulary = Vocabulary::load();
    let mut review = first_review();
    assert!(vocabulary.check(&review).is_empty(), "the unchanged review is valid");
    change(&mut review);
    let problems = vocabulary.check(&review);
    assert!(problems.iter().any(|p| p.contains(expected)), "expected a problem naming {expected:?}, got {problems:?}");
}

#[test]
fn the_validator_catches_a_property_on_the_wrong_type() {
    assert_caught(
        |review| {
            let rating = review.as_object_mut().unwrap().remove("reviewRating").unwrap();
            review["itemReviewed"]["reviewRating"] = rating;
        },
        "reviewRating is not a property of Claim",
    );
    // headline is CreativeWork's; Rating is an Intangible.
    assert_caught(|review| review["reviewRating"]["headline"] = json!("False"), "headline is not a property of Rating");
}

#[test]
fn the_validator_catches_misspelt_properties_and_types() {
    assert_caught(
        |review| {
            let claim = review.as_object_mut().unwrap().remove("claimReviewed").unwrap();
            review["claimReview"] = claim;
        },
        "claimReview is not a schema.org property",
    );
    assert_caught(|review| review["@type"] = json!("ClaimReveiw"), "@type ClaimReveiw is not a schema.org type");
    assert_caught(|review| review["itemReviewed"]["@type"] = json!("Text"), "@type Text is not a schema.org type");
}

#[test]
fn the_validator_catches_values_outside_the_range() {
    assert_caught(
        |review| review["author"] = json!({"@type": "Rating", "ratingValue": 1}),
        "a Rating node where author",
    );
    assert_caught(|review| review["author"] = json!("Example Health Checks"), "is not a value of author");
    assert_caught(|review| review["datePublished"] = json!("yesterday"), "is not a value of datePublished");
    assert_caught(|review| review["datePublished"] = json!("28/02/2024"), "is not a value of datePublished");
    assert_caught(|review| review["url"] = json!("checks/reviews/1"), "is not a value of url");
    assert_caught(|review| review["reviewRating"]["ratingValue"] = json!(true), "a boolean where ratingValue");
    assert_caught(|review| review["itemReviewed"]["appearance"]["headline"] = json!(7), "a number where headline");
    assert_caught(|review| review["itemReviewed"]["datePublished"] = Value::Null, "null");
    assert_caught(|review| review["claimReviewed"] = json!(" "), "empty string");
    assert_caught(|review| review["@context"] = json!("http://schema.org/"), "@context");
}

#[test]
fn markup_stays_data() {
    let review = publish(&cases()[2]);
    let title = "Vitamin D stops COVID</script><script>alert(1)</script>";
    assert_eq!(review["claimReviewed"], title);
    assert_eq!(review["itemReviewed"]["appearance"]["headline"], title);
    // serde_json leaves `<` and `/` alone: the caller must escape before writing HTML.
    assert!(review.to_string().contains("</script>"));
}
