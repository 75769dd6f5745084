//! `export --format claimreview|labeled`: reviewed items, for publication and for training.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Context;
use infodemic_claims::publish::{claim_review, Publisher};
use infodemic_core::{Agreement, ReviewState, ScoredItem, VerdictScale};
use infodemic_store::ReviewHead;

use super::{scan, ExportArgs, ExportFormat};
use crate::cli::GlobalArgs;
use crate::exit::{Exit, UsageError};

/// One line of the labeled export: what `models/train/data_v3.py --reviews` reads.
#[derive(serde::Serialize)]
struct LabeledRow<'a> {
    id: String,
    title: &'a str,
    text: &'a str,
    url: &'a str,
    source: &'a str,
    language: Option<&'a str>,
    published: Option<String>,
    verdict: &'a str,
    /// 1: false or misleading; 0: accurate, out of scope or no claim; -1: unknown (unproven).
    mis: i8,
    /// 0 when the text states no checkable claim.
    claim: i8,
    agreement: &'static str,
    reviewers: u32,
    model: &'a infodemic_core::ModelRef,
    score: Option<f32>,
}

/// What was written and what was left out, reported on stderr.
#[derive(Default)]
struct Tally {
    written: usize,
    disputed: usize,
    unrated: usize,
    missing: usize,
}

pub fn run(args: &ExportArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let publisher = match args.format {
        ExportFormat::Claimreview => Some(publisher(args)?),
        _ => None,
    };
    let Some(backend) = global.open_backend(false)? else {
        return Err(UsageError("the store is empty: nothing reviewed to export".to_owned()).into());
    };
    let scale = backend.reviews().verdict_scale(&global.verdict_scale()?)?;
    let mut scan = scan(&backend, &args.filters, true, HashMap::new())?;
    let mut buffer: Vec<u8> = Vec::new();
    let mut tally = Tally::default();
    let mut reviews = Vec::new();
    let mut reviewed = 0usize;
    let limit = args.filters.limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    'pages: loop {
        let page = scan.next_page()?;
        if page.is_empty() {
            break;
        }
        for scanned in page {
            if tally.written >= limit {
                break 'pages;
            }
            let Some(head) = &scanned.head else { continue };
            reviewed += 1;
            if head.agreement == Agreement::Disagreed && !args.include_disputed {
                tally.disputed += 1;
                continue;
            }
            match &publisher {
                Some(publisher) => {
                    let events = backend.reviews().verdicts(head.item)?;
                    let state = ReviewState::derive(&events);
                    match claim_review(&scanned.scored, &state, &events, &scale, publisher) {
                        Some(review) => {
                            reviews.push(review);
                            tally.written += 1;
                        }
                        None => tally.unrated += 1,
                    }
                }
                None => {
                    if write_labeled(&mut buffer, &scanned.scored, head, &scale)? {
                        tally.written += 1;
                    } else {
                        tally.missing += 1;
                    }
                }
            }
        }
    }
    if publisher.is_some() {
        if args.jsonl {
            for review in &reviews {
                serde_json::to_writer(&mut buffer, review)?;
                buffer.push(b'\n');
            }
        } else {
            serde_json::to_writer_pretty(&mut buffer, &reviews)?;
            buffer.push(b'\n');
        }
    }
    write_output(args.output.as_deref(), &buffer)?;
    let mut err = std::io::stderr().lock();
    let what = match args.format {
        ExportFormat::Claimreview => "ClaimReview object(s)",
        _ => "labeled row(s)",
    };
    writeln!(err, "{} {what} written from {reviewed} reviewed item(s).", tally.written)?;
    if tally.disputed > 0 {
        writeln!(err, "{} item(s) left out: reviewers disagree (--include-disputed to keep them).", tally.disputed)?;
    }
    if tally.unrated > 0 {
        writeln!(err, "{} item(s) left out: their verdict rates no claim (not-health, not-a-claim).", tally.unrated)?;
    }
    if tally.missing > 0 {
        writeln!(err, "{} item(s) left out: their verdict is not on the scale.", tally.missing)?;
    }
    Ok(Exit::Success)
}

/// The author of reviews exported without `--publisher`.
const UNNAMED_PUBLISHER: &str = "infodemic user (publisher not named)";

fn publisher(args: &ExportArgs) -> anyhow::Result<Publisher> {
    // ClaimReview names who reviewed; without --publisher the author is a placeholder that
    // says so, and the user is told (a publishable file needs the real name).
    let name = match args.publisher.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => name,
        None => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "warning: no --publisher (or INFODEMIC_PUBLISHER): the reviews' author is \"{UNNAMED_PUBLISHER}\"; \
                 name your organisation before publishing"
            );
            UNNAMED_PUBLISHER
        }
    };
    if let Some(template) = &args.review_url {
        let probe = template.replace("{id}", "0123456789abcdef");
        let parsed = url::Url::parse(&probe).map_err(|e| UsageError(format!("--review-url: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || !template.contains("{id}") {
            return Err(UsageError("--review-url must be an http(s) address holding {id}".to_owned()).into());
        }
    }
    if let Some(url) = &args.publisher_url {
        url::Url::parse(url).map_err(|e| UsageError(format!("--publisher-url: {e}")))?;
    }
    Ok(Publisher {
        name: name.to_owned(),
        url: args.publisher_url.clone(),
        review_url_template: args.review_url.clone(),
    })
}

/// One labeled line; `false` when the item's verdict is not on this scale.
fn write_labeled(
    out: &mut Vec<u8>,
    scored: &ScoredItem,
    head: &ReviewHead,
    scale: &VerdictScale,
) -> anyhow::Result<bool> {
    let current = head.current.as_str();
    let Some(label) = scale.get(current) else { return Ok(false) };
    let item = &scored.item;
    let row = LabeledRow {
        id: item.id.to_string(),
        title: &item.title,
        text: &item.text,
        url: &item.url,
        source: item.source.as_str(),
        language: item.language.as_deref(),
        published: item.published.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        verdict: current,
        mis: match label.misinformation {
            Some(true) => 1,
            Some(false) => 0,
            None => -1,
        },
        claim: i8::from(label.claim),
        agreement: head.agreement.as_str(),
        reviewers: head.reviewers,
        model: &scored.classification.model,
        score: scored.classification.shown_score(),
    };
    serde_json::to_writer(&mut *out, &row)?;
    out.push(b'\n');
    Ok(true)
}

/// Stdout, or a file replaced whole.
fn write_output(path: Option<&std::path::Path>, bytes: &[u8]) -> anyhow::Result<()> {
    let Some(path) = path else {
        let mut out = crate::output::stdout();
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(());
    };
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = path.with_file_name(format!(".{file_name}.partial"));
    std::fs::write(&temp, bytes).with_context(|| format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
