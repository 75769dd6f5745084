//! `infodemic migrate --to postgres://...`: the embedded store's items into PostgreSQL.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use infodemic_pipeline::{migrate_campaigns, migrate_claims, migrate_items, migrate_reviews, MigrateSummary};
use infodemic_store_postgres::PgStore;
use tokio_util::sync::CancellationToken;

use crate::cli::GlobalArgs;
use crate::commands::crawl::stop_on_signals;
use crate::exit::{Exit, UsageError};
use crate::output::write_json_line;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The PostgreSQL database to copy the embedded store (of --data-dir) into (postgres://...)
    #[arg(long, value_name = "URL")]
    pub to: String,

    /// Print the summary as one JSON object
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &MigrateArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    if !infodemic_store_postgres::is_postgres_url(&args.to) {
        return Err(UsageError("--to expects a postgres:// URL".to_owned()).into());
    }
    let Some(source) = global.open_existing_store()? else {
        return Err(UsageError(format!("no embedded store in {} to migrate", global.data_dir()?.display())).into());
    };
    let target = PgStore::connect(&args.to)?;
    let progress = crate::progress::counter(global.quiet || args.json, "items migrated");
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let summary: MigrateSummary = runtime.block_on(async {
        let cancel = CancellationToken::new();
        tokio::spawn(stop_on_signals(cancel.clone()));
        let bar = progress.clone();
        tokio::task::spawn_blocking(move || {
            let mut summary = migrate_items(&source, &target, &|read| bar.set_position(read as u64), &cancel)?;
            if summary.interrupted {
                return Ok(summary);
            }
            for spec in source.subscriptions()? {
                target.put_subscription(&spec)?;
            }
            summary.claims = migrate_claims(&source, &target)?;
            // Campaigns have one writer: not while a campaign worker groups into the target.
            if !target.become_campaign_writer()? {
                return Err(infodemic_store::StoreError::NotTheWriter(
                    "a campaign worker is writing campaigns to the target: stop it, then run `migrate` again"
                        .to_owned(),
                )
                .into());
            }
            summary.campaigns = migrate_campaigns(&source, &target)?;
            summary.verdicts = migrate_reviews(&source, &target)?;
            target.sync_verdict_sequence()?;
            Ok::<_, infodemic_pipeline::PipelineError>(summary)
        })
        .await
        .context("the migration task failed")?
        .map_err(anyhow::Error::from)
    })?;
    progress.finish_and_clear();
    let mut stdout = crate::output::stdout();
    if args.json {
        write_json_line(&mut stdout, &summary)?;
    } else {
        writeln!(
            stdout,
            "{} items read: {} stored, {} already there; {} appearances, {} feed states, {} new claims, \
             {} campaigns, {} verdict events{}",
            summary.items_read,
            summary.items_stored,
            summary.items_present,
            summary.appearances,
            summary.feed_states,
            summary.claims,
            summary.campaigns,
            summary.verdicts,
            if summary.interrupted { " (interrupted: run again to continue)" } else { "" }
        )?;
    }
    stdout.flush()?;
    Ok(if summary.interrupted { Exit::Interrupted } else { Exit::Success })
}
