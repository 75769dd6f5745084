//! Progress bars on a terminal; nothing when stderr is not one.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use infodemic_pipeline::{CrawlEvent, CrawlObserver, RescoreEvent, RescoreObserver};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Shows crawl progress: feeds done out of total, items stored and flagged so far.
#[derive(Debug)]
pub struct CrawlProgress {
    bar: ProgressBar,
    stored: AtomicUsize,
    flagged: AtomicUsize,
    failed: AtomicUsize,
}

impl CrawlProgress {
    pub fn new(quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() },
        );
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} feeds  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Self { bar, stored: AtomicUsize::new(0), flagged: AtomicUsize::new(0), failed: AtomicUsize::new(0) }
    }

    fn message(&self) {
        self.bar.set_message(format!(
            "{} stored, {} flagged, {} failed",
            self.stored.load(Ordering::Relaxed),
            self.flagged.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed)
        ));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl CrawlObserver for CrawlProgress {
    fn on_event(&self, event: &CrawlEvent) {
        match event {
            CrawlEvent::Started { feeds } => self.bar.set_length(*feeds as u64),
            CrawlEvent::FeedDone { error, .. } => {
                if error.is_some() {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                }
                self.bar.inc(1);
            }
            CrawlEvent::BatchCommitted { stored, flagged, .. } => {
                self.stored.fetch_add(*stored, Ordering::Relaxed);
                self.flagged.fetch_add(*flagged, Ordering::Relaxed);
            }
            CrawlEvent::Stopping => {
                self.bar.println("interrupted: committing what was fetched (Ctrl-C again to quit now)")
            }
            CrawlEvent::CampaignsAssigned { .. }
            | CrawlEvent::CycleFinished(_)
            | CrawlEvent::CycleFailed { .. }
            | CrawlEvent::Idle { .. } => {}
        }
        self.message();
    }
}

/// Shows rescore progress: items rescored out of those to rescore, flagged so far.
#[derive(Debug)]
pub struct RescoreProgress {
    bar: ProgressBar,
    flagged: AtomicUsize,
}

impl RescoreProgress {
    pub fn new(quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() },
        );
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} items  {msg} ({per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Self { bar, flagged: AtomicUsize::new(0) }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl RescoreObserver for RescoreProgress {
    fn on_event(&self, event: &RescoreEvent) {
        match event {
            RescoreEvent::Started { items } => self.bar.set_length(*items as u64),
            RescoreEvent::BatchCommitted { rescored, flagged } => {
                let flagged = self.flagged.fetch_add(*flagged, Ordering::Relaxed) + flagged;
                self.bar.inc(*rescored as u64);
                self.bar.set_message(format!("{flagged} flagged"));
            }
            RescoreEvent::Stopping => {
                self.bar.println("interrupted: finishing the batch in progress (Ctrl-C again to quit now)")
            }
        }
    }
}

/// A counter for work of unknown length (classify from stdin).
pub fn counter(quiet: bool, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        None,
        if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() },
    );
    bar.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} [{{elapsed_precise}}] {{pos}} {what} ({{per_sec}})"))
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}

/// The progress of a long upkeep when the store opens (a store an older build wrote): shown
/// only once the store reports some.
pub fn upkeep(quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        None,
        if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] upgrading the store, {msg}: {pos}/{len} items ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}

/// A spinner with the time spent, for work done elsewhere (a job of the running `watch`).
pub fn spinner(quiet: bool, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        None,
        if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() },
    );
    bar.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} [{{elapsed_precise}}] {what}"))
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
