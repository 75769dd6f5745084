//! `infodemic claims`: the local index of debunked claims that items are matched against.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use infodemic_claims::import;
use infodemic_classifier::{Classify, SessionOptions};
use infodemic_core::text::ellipsize;
use infodemic_core::{DebunkedClaim, Verdict};
use infodemic_pipeline::{import_claims, reembed_claims, ClaimMatcher};
use infodemic_store::ScoreStore;

use crate::cli::GlobalArgs;
use crate::exit::{Exit, UsageError};
use crate::output::{new_table, write_json_line};
use crate::progress::counter;

#[derive(Debug, Args)]
pub struct ClaimsArgs {
    #[command(subcommand)]
    pub command: ClaimsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ClaimsCommand {
    /// Add fact-checked claims from a file: ClaimReview JSON (object, array, JSON lines, Fact
    /// Check Tools export), CSV (columns claim, rating/verdict, reviewer, url, date, language),
    /// or the Cheng et al. 2021 news.csv
    Import {
        /// The file
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Its format [default: csv for .csv, claimreview otherwise]
        #[arg(long, value_enum)]
        format: Option<ClaimFormat>,
        /// One JSON object instead of a sentence
        #[arg(long)]
        json: bool,
    },
    /// List the stored claims
    List {
        /// Only this verdict (false, mostly_false, misleading, mixed, true...)
        #[arg(long, value_parser = verdict_arg)]
        verdict: Option<Verdict>,
        /// At most this many
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// JSON lines
        #[arg(long)]
        json: bool,
    },
    /// Embed again, with the current model, the claims another model embedded (crawl, watch,
    /// rescore and match do it by themselves before matching)
    Reembed {
        /// One JSON object instead of a sentence
        #[arg(long)]
        json: bool,
    },
    /// The known debunked claims nearest to a text
    Match {
        /// The text
        #[arg(value_name = "TEXT")]
        text: String,
        /// How many
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// JSON lines
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClaimFormat {
    /// schema.org ClaimReview JSON or a Fact Check Tools export
    Claimreview,
    /// CSV with a header row
    Csv,
    /// Cheng et al. 2021 COVID-19 rumour dataset, news.csv (no header; label F kept)
    Cheng,
}

fn verdict_arg(value: &str) -> Result<Verdict, String> {
    value.parse().map_err(|e: infodemic_core::VerdictParseError| e.to_string())
}

pub fn run(args: &ClaimsArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    match &args.command {
        ClaimsCommand::Import { file, format, json } => import_file(global, file, *format, *json),
        ClaimsCommand::List { verdict, limit, json } => list(global, *verdict, *limit, *json),
        ClaimsCommand::Reembed { json } => reembed(global, *json),
        ClaimsCommand::Match { text, top, json } => match_text(global, text, *top, *json),
    }
}

fn import_file(
    global: &GlobalArgs,
    file: &std::path::Path,
    format: Option<ClaimFormat>,
    json: bool,
) -> anyhow::Result<Exit> {
    let bytes = std::fs::read(file).map_err(|e| UsageError(format!("cannot read {}: {e}", file.display())))?;
    let name = file.display().to_string();
    let format = format.unwrap_or(if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        ClaimFormat::Csv
    } else {
        ClaimFormat::Claimreview
    });
    let claims: Vec<DebunkedClaim> = match format {
        ClaimFormat::Claimreview => import::read_claimreview_json(&bytes, &name),
        ClaimFormat::Csv => import::read_csv(&bytes, &name),
        ClaimFormat::Cheng => import::read_cheng_news(&bytes),
    }
    .map_err(|e| UsageError(format!("{name}: {e}")))?;
    match global.open_backend(true)?.context("no store")? {
        crate::context::Backend::Local(store) => import_into(global, &store, claims, json),
        crate::context::Backend::Service(client) => import_in_watch(global, &client, &claims, json),
        crate::context::Backend::Postgres(store) => import_into(global, &store, claims, json),
    }
}

/// The import, embedded by this process's model, into `store`.
fn import_into<S: ScoreStore + ?Sized>(
    global: &GlobalArgs,
    store: &S,
    claims: Vec<DebunkedClaim>,
    json: bool,
) -> anyhow::Result<Exit> {
    let mut classifier = global.load_model(SessionOptions::default())?.classifier;
    classifier.set_evidence(false);
    let progress = counter(global.quiet || json, "claims embedded");
    let report = import_claims(store, &mut classifier, claims, |n| progress.inc(n as u64))?;
    progress.finish_and_clear();
    let mut out = crate::output::stdout();
    if json {
        write_json_line(&mut out, &report)?;
    } else {
        writeln!(
            out,
            "{} claims read ({} debunked): {} added, {} already known; {} claims stored in all",
            report.read,
            report.debunked,
            report.added,
            report.known,
            store.claim_entries()?.len()
        )?;
    }
    Ok(Exit::Success)
}

/// The import, run by the `watch` that holds the store (embedded by its model); the same
/// summary as an import of its own.
fn import_in_watch(
    global: &GlobalArgs,
    client: &infodemic_service::ServiceClient,
    claims: &[DebunkedClaim],
    json: bool,
) -> anyhow::Result<Exit> {
    let waiting = crate::progress::spinner(global.quiet || json, "importing in the running watch");
    let answers = client.import_claims(claims);
    waiting.finish_and_clear();
    let mut report = infodemic_pipeline::ClaimImport::default();
    for answer in answers? {
        let part: infodemic_pipeline::ClaimImport =
            serde_json::from_value(answer).context("the running watch answered with an unreadable summary")?;
        report.read += part.read;
        report.added += part.added;
        report.known += part.known;
        report.debunked += part.debunked;
    }
    let stored = infodemic_store::ItemReader::stats(client)?.claims;
    let mut out = crate::output::stdout();
    if json {
        write_json_line(&mut out, &report)?;
    } else {
        writeln!(
            out,
            "{} claims read ({} debunked): {} added, {} already known; {} claims stored in all",
            report.read, report.debunked, report.added, report.known, stored
        )?;
    }
    Ok(Exit::Success)
}

fn reembed(global: &GlobalArgs, json: bool) -> anyhow::Result<Exit> {
    let report = match global.open_backend(false)? {
        None => return Err(UsageError("no claims stored yet: infodemic claims import FILE".to_owned()).into()),
        Some(crate::context::Backend::Service(client)) => {
            let waiting = crate::progress::spinner(global.quiet || json, "embedding in the running watch");
            let answer = client.reembed_claims();
            waiting.finish_and_clear();
            serde_json::from_value(answer?).context("the running watch answered with an unreadable summary")?
        }
        Some(crate::context::Backend::Postgres(store)) => reembed_in(global, &store, json)?,
        Some(crate::context::Backend::Local(store)) => reembed_in(global, &store, json)?,
    };
    let report: infodemic_pipeline::ClaimReembed = report;
    let mut out = crate::output::stdout();
    if json {
        write_json_line(&mut out, &report)?;
    } else {
        writeln!(
            out,
            "{} of {} claims embedded again with {} (the others were embedded by it already)",
            report.reembedded, report.claims, report.model
        )?;
    }
    Ok(Exit::Success)
}

/// Claims of `store` embedded again by this process's model where another model embedded them.
fn reembed_in<S: ScoreStore + ?Sized>(
    global: &GlobalArgs,
    store: &S,
    json: bool,
) -> anyhow::Result<infodemic_pipeline::ClaimReembed> {
    let mut classifier = global.load_model(SessionOptions::default())?.classifier;
    classifier.set_evidence(false);
    let progress = counter(global.quiet || json, "claims embedded");
    let report = reembed_claims(store, &mut classifier, |n| progress.inc(n as u64))?;
    progress.finish_and_clear();
    Ok(report)
}

fn list(global: &GlobalArgs, verdict: Option<Verdict>, limit: usize, json: bool) -> anyhow::Result<Exit> {
    let mut claims: Vec<DebunkedClaim> = match global.open_backend(false)? {
        Some(crate::context::Backend::Postgres(store)) => store.claim_entries()?.into_iter().map(|e| e.claim).collect(),
        Some(crate::context::Backend::Local(store)) => store.claims()?.into_iter().map(|(claim, _)| claim).collect(),
        Some(crate::context::Backend::Service(client)) => client.claims()?,
        None => Vec::new(),
    };
    claims.retain(|claim| verdict.is_none_or(|v| claim.verdict == v));
    claims.sort_by(|a, b| b.published.cmp(&a.published).then(a.text.cmp(&b.text)));
    claims.truncate(limit);
    let mut out = crate::output::stdout();
    if json {
        for claim in &claims {
            write_json_line(&mut out, claim)?;
        }
        return Ok(Exit::Success);
    }
    if claims.is_empty() {
        writeln!(out, "No claims. Import some: infodemic claims import FILE (or crawl fact-checkers' feeds)")?;
        return Ok(Exit::Success);
    }
    let mut table = new_table(&["ID", "VERDICT", "REVIEWER", "CLAIM"]);
    for claim in &claims {
        table.add_row(vec![
            claim.id.to_string(),
            claim.verdict.name().to_owned(),
            ellipsize(claim.reviewer.as_deref().unwrap_or("-"), 24),
            ellipsize(&claim.text, 100),
        ]);
    }
    writeln!(out, "{table}")?;
    Ok(Exit::Success)
}

/// The claims of `store` nearest to `text`, by this process's model.
fn nearest_in<S: ScoreStore + ?Sized>(
    global: &GlobalArgs,
    store: &S,
    text: &str,
    top: usize,
) -> anyhow::Result<Vec<Nearest>> {
    let mut classifier = global.load_model(SessionOptions::default())?.classifier;
    classifier.set_evidence(false);
    // Claims another model embedded are not comparable with this model's embedding.
    reembed_claims(store, &mut classifier, |_| {})?;
    let matcher = ClaimMatcher::from_store(store)?;
    let embedding = classifier.classify(&[text.to_owned()])?.remove(0).embedding;
    let threshold = matcher.threshold();
    Ok(matcher
        .nearest(&embedding, top)
        .into_iter()
        .map(|(claim, similarity)| Nearest { similarity, claim: claim.clone(), matches: similarity >= threshold })
        .collect())
}

/// One claim near a text, as `claims match --json` prints it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Nearest {
    similarity: f32,
    claim: DebunkedClaim,
    matches: bool,
}

fn match_text(global: &GlobalArgs, text: &str, top: usize, json: bool) -> anyhow::Result<Exit> {
    let nearest: Vec<Nearest> = match global.open_backend(false)? {
        None => return Err(UsageError("no claims stored yet: infodemic claims import FILE".to_owned()).into()),
        Some(crate::context::Backend::Service(client)) => serde_json::from_value(client.match_claims(text, top)?)
            .context("the running watch answered with an unreadable match")?,
        Some(crate::context::Backend::Postgres(store)) => nearest_in(global, &store, text, top)?,
        Some(crate::context::Backend::Local(store)) => nearest_in(global, &store, text, top)?,
    };
    let mut out = crate::output::stdout();
    for found in &nearest {
        if json {
            write_json_line(&mut out, found)?;
        } else {
            let marker = if found.matches { "MATCH" } else { "" };
            let (similarity, claim) = (found.similarity, &found.claim);
            writeln!(out, "{similarity:.3}  {marker:<5}  [{}] {}", claim.verdict, ellipsize(&claim.text, 100))?;
        }
    }
    if nearest.is_empty() && !json {
        writeln!(out, "No debunked claims stored.")?;
    }
    Ok(Exit::Success)
}
