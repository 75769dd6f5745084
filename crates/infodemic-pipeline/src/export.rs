//! Exports: the items that pass an export's filters, each with what the store knows of it,
//! paged out of the store (or the running service) in newest-first order, one page in memory
//! at a time. Every format of `infodemic export` reads through [`ExportScan`], so filters mean
//! the same everywhere; [`write_dataset`] feeds a dataset [`Export`].

use std::collections::HashMap;

use infodemic_core::{
    CampaignHead, CampaignId, CampaignStatus, FeedCategory, FeedSpec, ItemCursor, ItemQuery, ReviewFilter, ScoredItem,
    SortOrder,
};
use infodemic_export::{Export, ExportRow, RowContext, StoryGrouper, StoryMap, Thresholds};
use infodemic_store::{CampaignReader, ItemReader, ReviewHead, ReviewLog};

use crate::PipelineError;

/// Items per page: memory holds one page at a time.
pub const EXPORT_PAGE: usize = 1_000;
/// Merges followed to a live campaign (chains are short; the bound guards a cycle).
const MAX_MERGE_HOPS: usize = 32;

/// Where an export reads: the store, or a client of the running service.
#[derive(Clone, Copy)]
pub struct ExportSources<'a> {
    /// Items and feed states.
    pub items: &'a dyn ItemReader,
    /// Campaigns.
    pub campaigns: &'a dyn CampaignReader,
    /// Verdicts.
    pub reviews: &'a dyn ReviewLog,
}

impl std::fmt::Debug for ExportSources<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExportSources")
    }
}

/// Which items an export holds: the store's filters (`query`) and those applied per row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportFilter {
    /// What the store filters (its order, limit and cursor are the scan's).
    pub query: ItemQuery,
    /// Only sources of these categories (subscribed sources; others have none).
    pub categories: Vec<FeedCategory>,
    /// Only these languages (case-insensitive).
    pub languages: Vec<String>,
    /// Only members of this campaign (after merges).
    pub campaign: Option<CampaignId>,
    /// Only items whose current verdict is one of these.
    pub verdicts: Vec<String>,
}

/// One item with its context.
#[derive(Debug)]
pub struct Scanned {
    /// The item.
    pub scored: ScoredItem,
    /// What the store knows of it.
    pub context: RowContext,
    /// Its review state, when reviewed.
    pub head: Option<ReviewHead>,
}

/// Pages through the items that pass a filter.
pub struct ExportScan<'a> {
    sources: ExportSources<'a>,
    filter: ExportFilter,
    after: Option<ItemCursor>,
    done: bool,
    heads: HashMap<CampaignId, CampaignHead>,
    categories: HashMap<String, FeedCategory>,
    feed_urls: HashMap<String, String>,
    thresholds: HashMap<(String, String), Thresholds>,
    read: u64,
}

impl std::fmt::Debug for ExportScan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportScan").field("filter", &self.filter).field("read", &self.read).finish_non_exhaustive()
    }
}

impl<'a> ExportScan<'a> {
    /// A scan; `subscriptions` give sources their categories, `thresholds` the models'
    /// thresholds by (id, version). A filter on verdicts reads reviewed items only.
    ///
    /// # Errors
    /// Store (or service) failures.
    pub fn new(
        sources: ExportSources<'a>,
        mut filter: ExportFilter,
        subscriptions: &[FeedSpec],
        thresholds: HashMap<(String, String), Thresholds>,
    ) -> Result<Self, PipelineError> {
        if !filter.verdicts.is_empty() {
            filter.query.review_state = ReviewFilter::Reviewed;
        }
        filter.query.order = SortOrder::Newest;
        filter.query.limit = Some(EXPORT_PAGE);
        let heads = sources.campaigns.campaign_heads()?.into_iter().map(|head| (head.id, head)).collect();
        let categories = subscriptions.iter().map(|spec| (spec.id.as_str().to_owned(), spec.category)).collect();
        let feed_urls = sources
            .items
            .feed_states()?
            .into_iter()
            .map(|state| (state.source.as_str().to_owned(), state.url))
            .collect();
        Ok(Self { sources, filter, after: None, done: false, heads, categories, feed_urls, thresholds, read: 0 })
    }

    /// The campaign heads, by id (what splits know of stories).
    pub fn campaign_heads(&self) -> &HashMap<CampaignId, CampaignHead> {
        &self.heads
    }

    /// Items read from the store so far, kept or not.
    pub fn read(&self) -> u64 {
        self.read
    }

    /// The campaign `id` lives on after merges.
    pub fn live(&self, mut id: CampaignId) -> Option<CampaignId> {
        for _ in 0..MAX_MERGE_HOPS {
            match self.heads.get(&id)?.status {
                CampaignStatus::Active => return Some(id),
                CampaignStatus::Merged { into } => id = into,
            }
        }
        None
    }

    /// The next page of kept items; empty when the scan is over.
    ///
    /// # Errors
    /// Store (or service) failures.
    pub fn next_page(&mut self) -> Result<Vec<Scanned>, PipelineError> {
        while !self.done {
            let page = self.sources.items.query(&ItemQuery { after: self.after, ..self.filter.query.clone() })?;
            let Some(last) = page.last() else {
                self.done = true;
                break;
            };
            self.after = Some(ItemCursor::of(last));
            self.read += page.len() as u64;
            let ids: Vec<_> = page.iter().map(|s| s.item.id).collect();
            let members: Vec<String> = ids.iter().map(ToString::to_string).collect();
            let reviews = self.sources.reviews.review_heads_of(&ids)?;
            let campaigns = self.sources.campaigns.campaigns_of(&members)?;
            let mut kept = Vec::with_capacity(page.len());
            for ((scored, head), campaign) in page.into_iter().zip(reviews).zip(campaigns) {
                let campaign = campaign.and_then(|c| self.live(c));
                if let Some(scanned) = self.keep(scored, head, campaign) {
                    kept.push(scanned);
                }
            }
            if !kept.is_empty() {
                return Ok(kept);
            }
        }
        Ok(Vec::new())
    }

    /// The item with its context, if it passes the filters the store could not apply.
    fn keep(&self, scored: ScoredItem, head: Option<ReviewHead>, campaign: Option<CampaignId>) -> Option<Scanned> {
        let filter = &self.filter;
        let source = scored.item.source.as_str();
        let category = self.categories.get(source).copied();
        if !filter.categories.is_empty() && !category.is_some_and(|c| filter.categories.contains(&c)) {
            return None;
        }
        let language = scored.item.language.as_deref();
        if !filter.languages.is_empty()
            && !language.is_some_and(|l| filter.languages.iter().any(|w| w.eq_ignore_ascii_case(l)))
        {
            return None;
        }
        if filter.campaign.is_some() && campaign != filter.campaign {
            return None;
        }
        if !filter.verdicts.is_empty() && !head.as_ref().is_some_and(|h| filter.verdicts.contains(&h.current)) {
            return None;
        }
        let model = &scored.classification.model;
        let context = RowContext {
            category,
            feed_url: self.feed_urls.get(source).cloned(),
            campaign,
            verdict: head.as_ref().map(|h| h.current.clone()),
            reviewers: head.as_ref().map_or(0, |h| h.reviewers),
            agreement: head.as_ref().map(|h| h.agreement),
            thresholds: self.thresholds.get(&(model.id.clone(), model.version.clone())).copied(),
        };
        Some(Scanned { scored, context, head })
    }
}

/// The stories of every kept item of `scan` (a first pass, for splits): members of one
/// campaign, and texts whose SimHash fingerprints are within
/// [`infodemic_export::STORY_SIMHASH_BITS`], are one story. Holds a few dozen bytes per item.
///
/// # Errors
/// Store failures.
pub fn group_stories(scan: &mut ExportScan<'_>, limit: Option<u64>) -> Result<StoryMap, PipelineError> {
    let limit = limit.unwrap_or(u64::MAX);
    let mut grouper = StoryGrouper::default();
    let mut seen = 0u64;
    'pages: loop {
        let page = scan.next_page()?;
        if page.is_empty() {
            break;
        }
        for scanned in page {
            if seen >= limit {
                break 'pages;
            }
            seen += 1;
            let item = &scanned.scored.item;
            let id = item.id.to_string();
            grouper.add(&id, item.effective_time(), item.source.as_str(), scanned.context.campaign, item.simhash);
        }
    }
    Ok(grouper.finish())
}

/// Writes every kept item of `scan` into `export`, at most `limit` rows, each with its story
/// from `stories` when splitting; `progress` hears of each row written.
///
/// # Errors
/// Store failures, or the export's (a file that cannot be written).
pub fn write_dataset(
    scan: &mut ExportScan<'_>,
    export: &mut Export,
    stories: Option<&StoryMap>,
    limit: Option<u64>,
    progress: &dyn Fn(u64),
) -> Result<(), PipelineError> {
    let limit = limit.unwrap_or(u64::MAX);
    loop {
        let page = scan.next_page()?;
        if page.is_empty() {
            return Ok(());
        }
        for scanned in page {
            if export.rows() >= limit {
                return Ok(());
            }
            let row = ExportRow::new(&scanned.scored, &scanned.context);
            let story = stories.and_then(|stories| stories.story(&row.id));
            export.write(row, scanned.scored.item.effective_time(), story)?;
            progress(export.rows());
        }
    }
}
