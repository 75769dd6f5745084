//! Data-driven extraction tests over `tests/fixtures/claims/pages`: every `NAME.html` is
//! extracted as if served at `https://fixtures.example.org/claims/NAME/`, and the result
//! must equal `NAME.expected.json`. After a deliberate change, rewrite the expectations with
//! `UPDATE_EXPECT=1 cargo test -p infodemic-claims --test claimreview_pages` and review the
//! diff. A second table pins the facts each fixture exists to show, so a wrong expectation
//! cannot be blessed by accident.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::path::{Path, PathBuf};

use infodemic_claims::claimreview::{extract_report, Extraction};
use infodemic_claims::{DebunkedClaim, Verdict};
use serde_json::{json, Value};
use url::Url;

fn pages_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/claims/pages")
}

fn page_url(name: &str) -> Url {
    Url::parse(&format!("https://fixtures.example.org/claims/{name}/")).unwrap()
}

fn extract_fixture(name: &str) -> Extraction {
    let path = pages_dir().join(format!("{name}.html"));
    let html = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    extract_report(&html, &page_url(name))
}

fn as_json(extraction: &Extraction) -> Value {
    json!({
        "blocks": extraction.blocks,
        "malformed_blocks": extraction.malformed_blocks,
        "skipped_reviews": extraction.skipped_reviews,
        "claims": extraction.claims,
    })
}

fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(pages_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "html"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn check_expected(name: &str, actual: &Value, expected_path: &Path) {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        let text = serde_json::to_string_pretty(actual).unwrap() + "\n";
        std::fs::write(expected_path, text).unwrap();
        return;
    }
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(expected_path)
            .unwrap_or_else(|e| panic!("{name}: read {} ({e}); run with UPDATE_EXPECT=1", expected_path.display())),
    )
    .unwrap();
    assert_eq!(
        actual,
        &expected,
        "{name}: extraction differs from {}\nactual:\n{}",
        expected_path.display(),
        serde_json::to_string_pretty(actual).unwrap()
    );
}

#[test]
fn every_page_matches_its_expectation() {
    let names = fixture_names();
    assert!(names.len() >= 8, "{names:?}");
    for name in &names {
        let extraction = extract_fixture(name);
        check_expected(name, &as_json(&extraction), &pages_dir().join(format!("{name}.expected.json")));
    }
}

/// One fixture's point: its claims' verdicts and reviewers, and its block counts.
struct Expect {
    name: &'static str,
    verdicts: &'static [Verdict],
    reviewers: &'static [&'static str],
    blocks: usize,
    malformed: usize,
}

#[test]
fn each_fixture_shows_what_it_is_for() {
    use Verdict::*;
    let table = [
        Expect { name: "politifact-like", verdicts: &[False], reviewers: &["PolitiMeter"], blocks: 2, malformed: 0 },
        Expect { name: "fullfact-like", verdicts: &[False], reviewers: &["Full Check"], blocks: 1, malformed: 0 },
        Expect {
            name: "afp-like",
            verdicts: &[Misleading],
            reviewers: &["Agence Exemple Fact Check"],
            blocks: 1,
            malformed: 0,
        },
        Expect {
            name: "healthfeedback-like",
            verdicts: &[False],
            reviewers: &["Health Check Feedback"],
            blocks: 2,
            malformed: 0,
        },
        Expect {
            name: "spanish-like",
            verdicts: &[False, Misleading],
            reviewers: &["Verifica Ejemplo", "Verifica Ejemplo"],
            blocks: 2,
            malformed: 0,
        },
        Expect {
            name: "two-reviews",
            verdicts: &[Misleading, Mixed],
            reviewers: &["Snoops Example", "Snoops Example"],
            blocks: 2,
            malformed: 0,
        },
        Expect {
            name: "broken-jsonld",
            verdicts: &[False],
            reviewers: &["Lead Checks Example"],
            blocks: 3,
            malformed: 1,
        },
        Expect { name: "no-claimreview", verdicts: &[], reviewers: &[], blocks: 1, malformed: 0 },
    ];
    for expect in &table {
        let extraction = extract_fixture(expect.name);
        let verdicts: Vec<Verdict> = extraction.claims.iter().map(|c| c.verdict).collect();
        let reviewers: Vec<&str> = extraction.claims.iter().filter_map(|c| c.reviewer.as_deref()).collect();
        assert_eq!(verdicts, expect.verdicts, "{}", expect.name);
        assert_eq!(reviewers, expect.reviewers, "{}", expect.name);
        assert_eq!(
            (extraction.blocks, extraction.malformed_blocks),
            (expect.blocks, expect.malformed),
            "{}",
            expect.name
        );
        for claim in &extraction.claims {
            assert!(!claim.text.contains('&'), "{}: entity left in {:?}", expect.name, claim.text);
            assert!(claim.review_url.as_deref().is_some_and(|u| u.starts_with("https://")), "{}", expect.name);
        }
    }
    let names = fixture_names();
    assert_eq!(names.len(), table.len(), "every fixture page has a row: {names:?}");
}

#[test]
fn details_of_the_richer_pages() {
    let claims = |name: &str| -> Vec<DebunkedClaim> { extract_fixture(name).claims };

    let politifact = &claims("politifact-like")[0];
    assert!(politifact.text.starts_with("Says \"5G towers\" are spreading"), "{}", politifact.text);
    assert!(politifact.text.contains("that's why"), "{}", politifact.text);
    assert_eq!(politifact.rating.as_deref(), Some("Pants on Fire!"));
    assert_eq!(politifact.claimant.as_deref(), Some("Facebook posts"));
    assert_eq!(politifact.appearances, ["https://social.example.com/posts/5g-wuhan-1234"]);
    assert_eq!(politifact.language.as_deref(), Some("en-US"), "from <html lang>");

    let afp = &claims("afp-like")[0];
    assert_eq!(afp.published.unwrap().to_rfc3339(), "2020-07-09T15:32:00+00:00");
    assert_eq!(afp.appearances.len(), 2, "appearance and firstAppearance, duplicates merged: {:?}", afp.appearances);
    assert_eq!(afp.claim_date.unwrap().to_rfc3339(), "2020-07-01T00:00:00+00:00");

    let spanish = claims("spanish-like");
    assert_eq!(spanish[0].text, "El dióxido de cloro (MMS) cura la COVID-19 y lo oculta la industria farmacéutica");
    assert_eq!(spanish[0].language.as_deref(), Some("es"));
    assert_eq!(spanish[1].rating.as_deref(), Some("Engañoso"));

    let two = claims("two-reviews");
    assert_eq!(
        two[1].review_url.as_deref(),
        Some("https://fixtures.example.org/fact-check/hospital-corridor-photo-vaccine/#second-claim"),
        "relative URLs resolve against the page"
    );
    assert_eq!(two[1].rating, None, "a numeric-only rating has no words");

    let broken = extract_fixture("broken-jsonld");
    assert_eq!(broken.skipped_reviews, 1, "a ClaimReview without claimReviewed");
    assert_eq!(broken.claims[0].claim_date, None, "an unparseable date is left out");

    let fullfact = &claims("fullfact-like")[0];
    assert!(fullfact.rating.as_deref().unwrap().starts_with("Incorrect. There is no evidence"));
    assert_eq!(fullfact.language.as_deref(), Some("en-GB"));
}
