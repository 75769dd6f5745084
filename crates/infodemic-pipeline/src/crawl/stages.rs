//! How much waits between the crawl's stages, for `/metrics`: where a backlog builds up says
//! which stage is the slow one.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

/// Fetched and parsed feeds waiting for dedupe.
pub const FETCHED: &str = "crawl_fetched";
/// Deduplicated feeds waiting to be accepted into a batch.
pub const DEDUPED: &str = "crawl_deduped";
/// Batches waiting for article text (enrich).
pub const BATCHED: &str = "crawl_batched";
/// Batches waiting for the classifier.
pub const ENRICHED: &str = "crawl_enriched";
/// Scored batches waiting for the store's commit.
pub const SCORED: &str = "crawl_scored";

/// The queues between the crawl's stages, named for what waits in them.
pub const STAGE_QUEUES: [&str; 5] = [FETCHED, DEDUPED, BATCHED, ENRICHED, SCORED];

type Probe = Box<dyn Fn() -> usize + Send + Sync>;

/// The depths of the current crawl's stage queues. Each crawl attaches its channels when it
/// starts; a finished crawl's queues read as empty (the probes hold weak senders, so they never
/// keep a channel open). Clones share the same queues.
#[derive(Clone, Default)]
pub struct StageQueues(Arc<Mutex<Vec<(&'static str, Probe)>>>);

impl StageQueues {
    /// Messages waiting in `queue` (one of [`STAGE_QUEUES`]) now: 0 when no crawl runs.
    pub fn depth(&self, queue: &str) -> usize {
        let probes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        probes.iter().find(|(name, _)| *name == queue).map_or(0, |(_, probe)| probe())
    }

    /// Reads `queue`'s depth from `sender` from now on, in place of an earlier crawl's.
    pub(crate) fn attach<T: Send + 'static>(&self, queue: &'static str, sender: &mpsc::Sender<T>) {
        let weak = sender.downgrade();
        let probe: Probe =
            Box::new(move || weak.upgrade().map_or(0, |sender| sender.max_capacity() - sender.capacity()));
        let mut probes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        probes.retain(|(name, _)| *name != queue);
        probes.push((queue, probe));
    }
}

impl fmt::Debug for StageQueues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for queue in STAGE_QUEUES {
            map.entry(&queue, &self.depth(queue));
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn depth_follows_the_channel_and_a_later_crawl_replaces_it() {
        let queues = StageQueues::default();
        assert_eq!(queues.depth(SCORED), 0);
        let (first, mut first_rx) = mpsc::channel::<u8>(4);
        queues.attach(SCORED, &first);
        first.send(1).await.unwrap();
        first.send(2).await.unwrap();
        assert_eq!(queues.depth(SCORED), 2);
        assert_eq!(queues.depth(FETCHED), 0);
        first_rx.recv().await.unwrap();
        assert_eq!(queues.depth(SCORED), 1);

        // The next crawl's channel, not the sum of both.
        let (second, _second_rx) = mpsc::channel::<u8>(4);
        queues.attach(SCORED, &second);
        assert_eq!(queues.depth(SCORED), 0);
        second.send(3).await.unwrap();
        assert_eq!(queues.depth(SCORED), 1);

        // A finished crawl's queue reads as empty, and the probe does not keep it open.
        drop(second);
        assert_eq!(queues.depth(SCORED), 0);
        drop(first);
        assert_eq!(first_rx.recv().await, Some(2));
        assert_eq!(first_rx.recv().await, None);
    }
}
