//! Importers over the sample files in `tests/fixtures/claims/imports`, and over the real
//! Cheng et al. 2021 `news.csv` when it is available (it is not part of the repository).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::path::PathBuf;

use infodemic_claims::import::{read_cheng_news, read_claimreview_json, read_csv, CHENG_DATASET, CHENG_REVIEWER};
use infodemic_claims::{ClaimOrigin, Verdict};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/claims/imports").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
fn csv_sample() {
    let claims = read_csv(&fixture("claims.csv"), "claims.csv").unwrap();
    let verdicts: Vec<Verdict> = claims.iter().map(|c| c.verdict).collect();
    use Verdict::*;
    assert_eq!(verdicts, [False, False, Misleading, False, Mixed], "the sixth row repeats the second");
    assert_eq!(claims[2].language.as_deref(), Some("es"));
    assert_eq!(claims[3].review_url, None);
    assert_eq!(claims[4].published, None);
    assert!(claims.iter().all(|c| c.origin == ClaimOrigin::Import { file: "claims.csv".into() }));
}

#[test]
fn claimreview_json_lines_sample() {
    let claims = read_claimreview_json(&fixture("claimreviews.jsonl"), "claimreviews.jsonl").unwrap();
    let summary: Vec<(&str, Verdict, Option<&str>)> =
        claims.iter().map(|c| (c.text.as_str(), c.verdict, c.reviewer.as_deref())).collect();
    assert_eq!(
        summary,
        [
            ("Cocaine kills the coronavirus", Verdict::False, Some("Example Checks")),
            ("Mosquito bites can transmit the coronavirus", Verdict::Unproven, Some("Example Checks")),
            ("Hand dryers kill the coronavirus", Verdict::MostlyFalse, None),
        ]
    );
}

#[test]
fn fact_check_tools_sample() {
    let claims = read_claimreview_json(&fixture("factcheck-tools.json"), "export.json").unwrap();
    let summary: Vec<(Verdict, Option<&str>, Option<&str>)> =
        claims.iter().map(|c| (c.verdict, c.reviewer.as_deref(), c.language.as_deref())).collect();
    assert_eq!(
        summary,
        [
            (Verdict::False, Some("Example Checks"), Some("en")),
            (Verdict::False, Some("Faits Exemple"), Some("fr")),
            (Verdict::Misleading, Some("verificat.example.de"), Some("de")),
        ]
    );
    assert_eq!(claims[0].text, claims[1].text);
    assert_ne!(claims[0].id, claims[1].id, "two reviews of one claim are two records");
    assert_eq!(claims[2].claimant.as_deref(), Some("Blog post"));
}

/// The real data set: `INFODEMIC_CHENG_NEWS` names `news.csv`, else the shared copy of the
/// development machine is used when present; elsewhere the test checks nothing.
#[test]
fn cheng_news_when_available() {
    let path = std::env::var_os("INFODEMIC_CHENG_NEWS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/datasets/covid19-rumor-cheng2020/news.csv"));
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipped: {} not found (set INFODEMIC_CHENG_NEWS)", path.display());
        return;
    };
    let claims = read_cheng_news(&bytes).unwrap();
    // At the pinned commit (6ba8adf), 3041 rows are labelled F; 93 repeat an earlier text
    // after normalisation (case, spacing, punctuation) and are dropped.
    assert_eq!(claims.len(), 2948);
    assert!(claims.iter().all(|c| c.verdict == Verdict::False
        && c.reviewer.as_deref() == Some(CHENG_REVIEWER)
        && c.origin == ClaimOrigin::Dataset { name: CHENG_DATASET.into() }
        && !c.text.is_empty()
        && !c.text.starts_with('\u{feff}')));
}
