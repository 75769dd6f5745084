//! The enrich stage: pages found in a batch's items are fetched. Items of `full_text` feeds get
//! their page's main text; fact-checkers' pages are read for ClaimReview markup, and the claims
//! not known yet are embedded, stored, and sent on with the batch for the matcher.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::StreamExt;
use infodemic_core::{Appearance, DebunkedClaim, FeedState, Item, ItemId};
use infodemic_crawler::article;
use infodemic_crawler::charset::to_utf8;
use infodemic_crawler::politeness::host_key;
use infodemic_crawler::{Fetched, Fetcher};
use tokio::sync::mpsc;
use url::Url;

use super::accept::Batch;
use super::{blocking, forward, CrawlSummary, Scoring, ScoringStore};
use crate::Result;

/// Pages found in content fetched and read together: bounds the bodies held at once (each up
/// to the body cap).
const PAGES_PER_CHUNK: usize = 16;

/// A batch with its full texts, and the claims its fact-check pages taught.
pub(super) struct EnrichedBatch {
    /// New items, with their pages' main text where wanted and found.
    pub items: Vec<Item>,
    /// The new states of the feeds in the batch.
    pub states: Vec<FeedState>,
    /// Copies of known items found in this batch.
    pub appearances: Vec<Appearance>,
    /// Claims learnt from this batch's fact-check pages (already stored), with their
    /// embeddings: the matcher learns them before scoring this batch.
    pub claims: Vec<(DebunkedClaim, Vec<f32>)>,
}

/// Fetches pages found in content.
pub(super) struct Enricher<'a, C> {
    /// `None` (an unscored crawl): no claim can be embedded, so none is harvested.
    scoring: Option<Scoring<'a, C>>,
    fetcher: Arc<Fetcher>,
    concurrency: usize,
    summary: CrawlSummary,
}

impl<'a, C: ScoringStore + Clone + 'static> Enricher<'a, C> {
    /// Fetches with `fetcher`, `concurrency` hosts at a time.
    pub(super) fn new(scoring: Option<Scoring<'a, C>>, fetcher: Arc<Fetcher>, concurrency: usize) -> Self {
        Self { scoring, fetcher, concurrency, summary: CrawlSummary::default() }
    }

    /// Enriches every batch from `input` and hands it to `output`.
    ///
    /// # Errors
    /// Store or classifier failures (while storing or embedding claims); a page that cannot be
    /// fetched or read is not an error.
    pub(super) async fn run(
        mut self,
        mut input: mpsc::Receiver<Batch>,
        output: mpsc::Sender<EnrichedBatch>,
    ) -> Result<CrawlSummary> {
        while let Some(batch) = input.recv().await {
            if output.is_closed() {
                break;
            }
            let Batch { mut items, states, fact_check_pages, full_text, appearances } = batch;
            if !full_text.is_empty() {
                self.fetch_full_text(&mut items, &full_text).await;
            }
            let claims = match self.scoring.clone() {
                Some(scoring) if !fact_check_pages.is_empty() => self.harvest_claims(scoring, fact_check_pages).await?,
                _ => Vec::new(),
            };
            if !forward(&output, EnrichedBatch { items, states, appearances, claims }).await {
                break;
            }
        }
        Ok(self.summary)
    }

    /// Replaces the summary of each marked item with the main text of its page, when the page
    /// yields a longer text. A page that cannot be fetched or read leaves the summary.
    async fn fetch_full_text(&mut self, items: &mut [Item], wanted: &HashSet<ItemId>) {
        let targets: Vec<(usize, Url)> = items
            .iter()
            .enumerate()
            .filter(|(_, item)| wanted.contains(&item.id))
            .filter_map(|(index, item)| Url::parse(&item.url).ok().map(|url| (index, url)))
            .collect();
        let mut pages = Vec::new();
        // A chunk of pages at a time: their bodies (up to the body cap each) are read and
        // dropped before the next chunk is fetched.
        for chunk in targets.chunks(PAGES_PER_CHUNK) {
            for (index, final_url, bytes, content_type) in
                fetch_pages(&self.fetcher, chunk.to_vec(), self.concurrency).await
            {
                let html = String::from_utf8_lossy(&to_utf8(&bytes, content_type.as_deref())).into_owned();
                let text = tokio::task::spawn_blocking(move || article::extract(&html, &final_url).map(|a| a.text))
                    .await
                    .ok()
                    .flatten();
                pages.push((index, text));
            }
        }
        for (index, text) in pages {
            if let Some(text) = text {
                let item = &mut items[index];
                if text.len() > item.text.len() {
                    item.text = infodemic_core::text::collapse_whitespace(&text);
                    self.summary.full_texts += 1;
                }
            }
        }
    }

    /// Fetches fact-checkers' article pages, reads their ClaimReview markup, embeds and
    /// stores the claims not known yet, and returns them with their embeddings. A page that
    /// cannot be fetched is skipped: claims are a bonus, not the feed's content.
    async fn harvest_claims(
        &mut self,
        Scoring { classifier, store }: Scoring<'_, C>,
        pages: Vec<Url>,
    ) -> Result<Vec<(DebunkedClaim, Vec<f32>)>> {
        let targets: Vec<(usize, Url)> = pages.into_iter().enumerate().collect();
        let mut claims: Vec<DebunkedClaim> = Vec::new();
        // A chunk of pages at a time, so that at most that many bodies are held at once.
        for chunk in targets.chunks(PAGES_PER_CHUNK) {
            let bodies: Vec<(Url, Vec<u8>)> = fetch_pages(&self.fetcher, chunk.to_vec(), self.concurrency)
                .await
                .into_iter()
                .map(|(_, url, bytes, _)| (url, bytes))
                .collect();
            self.summary.claim_pages_fetched += bodies.len();
            claims.extend(
                blocking(move || {
                    bodies
                        .iter()
                        .flat_map(|(url, bytes)| {
                            infodemic_claims::claimreview::extract(&String::from_utf8_lossy(bytes), url)
                        })
                        .collect::<Vec<_>>()
                })
                .await?,
            );
        }
        let claims_store = store.clone();
        let fresh: Vec<DebunkedClaim> = blocking(move || {
            let known: std::collections::HashSet<infodemic_core::ClaimId> =
                claims_store.claim_entries()?.into_iter().map(|entry| entry.claim.id).collect();
            let fresh = infodemic_core::claim::dedupe(claims).into_iter().filter(|c| !known.contains(&c.id)).collect();
            Ok::<_, infodemic_store::StoreError>(fresh)
        })
        .await??;
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = fresh.iter().map(|c| c.text.clone()).collect();
        let embeddings: Vec<Vec<f32>> = classifier.classify(texts).await?.into_iter().map(|c| c.embedding).collect();
        let embedded: Vec<(DebunkedClaim, Vec<f32>)> = fresh.into_iter().zip(embeddings).collect();
        let store = store.clone();
        let model = classifier.model().clone();
        let (added, embedded) =
            blocking(move || store.put_claims(&embedded, &model).map(|added| (added, embedded))).await??;
        self.summary.claims_added += added;
        Ok(embedded)
    }
}

/// Fetches pages found in content (articles, fact-checks): hosts in parallel (bounded),
/// each host's pages in turn, so the per-host politeness holds and a host that fails for
/// network reasons is given up for the rest of the batch instead of costing a timeout per page.
async fn fetch_pages(
    fetcher: &Arc<Fetcher>,
    urls: Vec<(usize, Url)>,
    concurrency: usize,
) -> Vec<(usize, Url, Vec<u8>, Option<String>)> {
    let mut by_host: HashMap<String, Vec<(usize, Url)>> = HashMap::new();
    for (index, url) in urls {
        by_host.entry(host_key(&url)).or_default().push((index, url));
    }
    futures::stream::iter(by_host.into_values())
        .map(|pages| {
            let fetcher = Arc::clone(fetcher);
            async move {
                let mut fetched = Vec::new();
                for (index, url) in pages {
                    match fetcher.fetch_discovered(&url).await {
                        Ok(Fetched::Body { bytes, final_url, content_type, .. }) => {
                            fetched.push((index, final_url, bytes, content_type));
                        }
                        Ok(Fetched::NotModified) => {}
                        Err(error) => {
                            tracing::info!(message = "Page not fetched.", %url, %error);
                            if error.is_network() {
                                break;
                            }
                        }
                    }
                }
                fetched
            }
        })
        .buffer_unordered(concurrency)
        .flat_map(futures::stream::iter)
        .collect()
        .await
}
