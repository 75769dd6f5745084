//! The items an export writes: pages of the store (or of the running service) in newest-first
//! order, each item with what the store knows of it, filtered. Every format of `export` reads
//! through this, so filters mean the same everywhere.

use std::collections::HashMap;

use infodemic_core::{
    CampaignHead, CampaignId, CampaignStatus, FeedCategory, ItemCursor, ItemQuery, ReviewFilter, ScoredItem, SortOrder,
};
use infodemic_export::{RowContext, Thresholds};
use infodemic_store::ReviewHead;

use super::ExportFilters;
use crate::context::Backend;

/// Items per page: memory holds one page at a time.
const PAGE: usize = 1_000;
/// Merges followed to a live campaign (chains are short; the bound guards a cycle).
const MAX_MERGE_HOPS: usize = 32;

/// One item with its context.
pub struct Scanned {
    pub scored: ScoredItem,
    pub context: RowContext,
    pub head: Option<ReviewHead>,
}

/// Pages through the items that pass the filters.
pub struct Scan<'a> {
    backend: &'a Backend,
    filters: &'a ExportFilters,
    query: ItemQuery,
    after: Option<ItemCursor>,
    done: bool,
    heads: HashMap<CampaignId, CampaignHead>,
    categories: HashMap<String, FeedCategory>,
    feed_urls: HashMap<String, String>,
    thresholds: HashMap<(String, String), Thresholds>,
    /// Items read from the store, matched or not (for progress).
    pub read: u64,
}

impl<'a> Scan<'a> {
    /// A scan of `backend` with `filters`; `reviewed_only` narrows it to reviewed items (what
    /// ClaimReview and labeled exports hold).
    pub fn new(
        backend: &'a Backend,
        filters: &'a ExportFilters,
        reviewed_only: bool,
        thresholds: HashMap<(String, String), Thresholds>,
    ) -> anyhow::Result<Self> {
        let review_state = if reviewed_only || filters.reviewed || !filters.verdicts.is_empty() {
            ReviewFilter::Reviewed
        } else if filters.unreviewed {
            ReviewFilter::Unreviewed
        } else {
            ReviewFilter::Any
        };
        let query = ItemQuery {
            flagged_only: filters.flagged,
            review_only: filters.review,
            min_score: filters.min_score,
            since: filters.since,
            until: filters.until,
            sources: filters.sources.clone(),
            text: filters.text.clone(),
            limit: Some(PAGE),
            order: SortOrder::Newest,
            review_state,
            after: None,
        };
        let heads = backend.campaigns().campaign_heads()?.into_iter().map(|head| (head.id, head)).collect();
        let categories =
            backend.subscriptions()?.into_iter().map(|spec| (spec.id.as_str().to_owned(), spec.category)).collect();
        let feed_urls = backend
            .reader()
            .feed_states()?
            .into_iter()
            .map(|state| (state.source.as_str().to_owned(), state.url))
            .collect();
        Ok(Self {
            backend,
            filters,
            query,
            after: None,
            done: false,
            heads,
            categories,
            feed_urls,
            thresholds,
            read: 0,
        })
    }

    /// The campaign heads, by id (for splits).
    pub fn campaign_heads(&self) -> &HashMap<CampaignId, CampaignHead> {
        &self.heads
    }

    /// The live campaign of an assigned one.
    fn live(&self, mut id: CampaignId) -> Option<CampaignId> {
        for _ in 0..MAX_MERGE_HOPS {
            match self.heads.get(&id)?.status {
                CampaignStatus::Active => return Some(id),
                CampaignStatus::Merged { into } => id = into,
            }
        }
        None
    }

    /// The next page of matching items; empty when the scan is over.
    pub fn next_page(&mut self) -> anyhow::Result<Vec<Scanned>> {
        while !self.done {
            let page = self.backend.reader().query(&ItemQuery { after: self.after, ..self.query.clone() })?;
            let Some(last) = page.last() else {
                self.done = true;
                break;
            };
            self.after = Some(ItemCursor::of(last));
            self.read += page.len() as u64;
            let ids: Vec<_> = page.iter().map(|s| s.item.id).collect();
            let members: Vec<String> = ids.iter().map(ToString::to_string).collect();
            let reviews = self.backend.reviews().review_heads_of(&ids)?;
            let campaigns = self.backend.campaigns().campaigns_of(&members)?;
            let mut out = Vec::with_capacity(page.len());
            for ((scored, head), campaign) in page.into_iter().zip(reviews).zip(campaigns) {
                let campaign = campaign.and_then(|c| self.live(c));
                if let Some(scanned) = self.keep(scored, head, campaign) {
                    out.push(scanned);
                }
            }
            if !out.is_empty() {
                return Ok(out);
            }
        }
        Ok(Vec::new())
    }

    /// The item with its context, if it passes the filters the store could not apply.
    fn keep(&self, scored: ScoredItem, head: Option<ReviewHead>, campaign: Option<CampaignId>) -> Option<Scanned> {
        let filters = self.filters;
        let source = scored.item.source.as_str();
        let category = self.categories.get(source).copied();
        if !filters.categories.is_empty() && !category.is_some_and(|c| filters.categories.contains(&c)) {
            return None;
        }
        if !filters.languages.is_empty()
            && !scored
                .item
                .language
                .as_ref()
                .is_some_and(|l| filters.languages.iter().any(|w| w.eq_ignore_ascii_case(l)))
        {
            return None;
        }
        if filters.campaign.is_some() && campaign != filters.campaign {
            return None;
        }
        if !filters.verdicts.is_empty() && !head.as_ref().is_some_and(|h| filters.verdicts.contains(&h.current)) {
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
