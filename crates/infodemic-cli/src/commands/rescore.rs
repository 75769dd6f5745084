//! `infodemic rescore`: the current model applied to stored items, so that a better model
//! reaches what was crawled before it.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use infodemic_classifier::{ClassifierHandle, ModelManifest, SessionOptions};
use infodemic_core::{ItemQuery, ModelRef, SourceId};
use infodemic_pipeline::{locate_model_dir, rescore, rescore_dry_run, RescoreOptions, RescoreSummary};
use infodemic_store::{IngestStore, ScoreStore};
use infodemic_store_postgres::PgStore;
use tokio_util::sync::CancellationToken;

use crate::cli::GlobalArgs;
use crate::commands::crawl::stop_on_signals;
use crate::commands::query::source_arg;
use crate::exit::Exit;
use crate::output::write_json_line;
use crate::progress::RescoreProgress;
use crate::when::when_arg;

#[derive(Debug, Args)]
pub struct RescoreArgs {
    /// Only items published at or after: a date (2026-11-01), a time (RFC 3339) or a span back from now (7d, 12h)
    #[arg(long, value_name = "WHEN", value_parser = when_arg)]
    pub since: Option<DateTime<Utc>>,

    /// Only items published before (same forms as --since)
    #[arg(long, value_name = "WHEN", value_parser = when_arg)]
    pub until: Option<DateTime<Utc>>,

    /// Only items from this source id (repeatable)
    #[arg(long = "source", value_name = "ID", value_parser = source_arg)]
    pub sources: Vec<SourceId>,

    /// Rescore every item in the filter, also those the current model scored already
    #[arg(long)]
    pub all: bool,

    /// Stop after rescoring this many items (run again to continue)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,

    /// Count what would be rescored; load no model, write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Threads for inference [default: all cores]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,

    /// Print the summary as one JSON object
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &RescoreArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let options = RescoreOptions {
        filter: ItemQuery {
            since: args.since,
            until: args.until,
            sources: args.sources.clone(),
            limit: None,
            ..ItemQuery::default()
        },
        all: args.all,
        limit: args.limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        ..RescoreOptions::default()
    };
    let summary = match &global.store {
        Some(url) => rescore_in(Some(PgStore::connect(url)?), args, global, &options)?,
        None => rescore_in(global.open_existing_store()?, args, global, &options)?,
    };
    let mut stdout = crate::output::stdout();
    if args.json {
        write_json_line(&mut stdout, &summary)?;
    } else {
        print_summary(&mut stdout, &summary)?;
    }
    stdout.flush()?;
    Ok(if summary.interrupted { Exit::Interrupted } else { Exit::Success })
}

/// Rescores `store` (`None`: no store yet, nothing to rescore).
fn rescore_in<S: ScoreStore + IngestStore + Clone + 'static>(
    store: Option<S>,
    args: &RescoreArgs,
    global: &GlobalArgs,
    options: &RescoreOptions,
) -> anyhow::Result<RescoreSummary> {
    Ok(match store {
        // Nothing stored yet: nothing to rescore.
        None => RescoreSummary {
            model: model_name(&manifest_model(global)?),
            dry_run: args.dry_run,
            flagged_after: (!args.dry_run).then_some(0),
            ..RescoreSummary::default()
        },
        // The manifest names the model; the runtime and the graph are not needed to count.
        Some(store) if args.dry_run => rescore_dry_run(&store, &manifest_model(global)?, options)?,
        Some(store) => {
            let mut session = SessionOptions::default();
            if let Some(threads) = args.threads {
                session.intra_threads = usize::from(threads);
            }
            let model = global.load_model(session)?;
            let classifier =
                ClassifierHandle::spawn(Box::new(model.classifier), 2).context("cannot start the classifier thread")?;
            let progress = RescoreProgress::new(global.quiet || args.json);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let summary = runtime.block_on(async {
                let cancel = CancellationToken::new();
                tokio::spawn(stop_on_signals(cancel.clone()));
                rescore(&store, &classifier, options, &progress, cancel).await
            });
            progress.finish();
            summary?
        }
    })
}

/// The current model as its manifest names it.
fn manifest_model(global: &GlobalArgs) -> anyhow::Result<ModelRef> {
    let dir = locate_model_dir(global.model.as_deref())?;
    let manifest = ModelManifest::read(&dir.path)?;
    Ok(ModelRef { id: manifest.model.id, version: manifest.model.version })
}

fn model_name(model: &ModelRef) -> String {
    format!("{}@{}", model.id, model.version)
}

fn print_summary(out: &mut impl Write, summary: &RescoreSummary) -> std::io::Result<()> {
    let what = match (summary.dry_run, summary.interrupted) {
        (true, _) => "Would rescore",
        (false, true) => "Interrupted after rescoring",
        (false, false) => "Rescored",
    };
    writeln!(
        out,
        "{what} {} of {} items with {} in {:.1} s; {} already scored by it",
        summary.items_rescored, summary.items_seen, summary.model, summary.elapsed_secs, summary.items_current
    )?;
    match summary.flagged_after {
        _ if summary.items_rescored == 0 => {}
        Some(after) => writeln!(out, "Flagged among them: {} before, {after} now", summary.flagged_before)?,
        None => writeln!(out, "Flagged among them now: {}", summary.flagged_before)?,
    }
    if summary.claims_reembedded > 0 {
        let verb = if summary.dry_run { "would be" } else { "were" };
        writeln!(out, "{} stored claims {verb} embedded again with the current model", summary.claims_reembedded)?;
    }
    if summary.items_remaining > 0 {
        writeln!(out, "{} items are left: run `infodemic rescore` again to continue", summary.items_remaining)?;
    }
    Ok(())
}
