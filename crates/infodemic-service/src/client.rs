//! The CLI's side: [`ItemReader`] (and subscription changes) over the local API.

use std::path::Path;
use std::time::Duration;

use infodemic_core::{
    Alert, Appearance, Campaign, CampaignHead, CampaignId, CampaignMember, FeedSpec, FeedState, ItemId, ItemQuery,
    NewVerdict, QueueEntry, QueueRequest, RecordedVerdicts, ScoredItem, VerdictEvent, VerdictScale,
};
use infodemic_store::{CampaignReader, ItemReader, ReviewHead, ReviewLog, StoreError, StoreStats};
use serde::de::DeserializeOwned;

use crate::{ServiceError, ServiceInfo};

/// A connection to the running service.
#[derive(Debug)]
pub struct ServiceClient {
    base: String,
    token: String,
    agent: ureq::Agent,
    /// The PostgreSQL store the service serves; `None` for the data directory's own.
    store: Option<String>,
}

impl ServiceClient {
    /// The service announced in `data_dir`, if one is running there and answers.
    ///
    /// # Errors
    /// A malformed info file.
    pub fn discover(data_dir: &Path) -> Result<Option<Self>, ServiceError> {
        let Some(info) = ServiceInfo::read(data_dir)? else { return Ok(None) };
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(60))).build(),
        );
        let client = Self { base: format!("http://{}", info.address), token: info.token, agent, store: info.store };
        // A file left by a process that died is not a service, and whatever listens on its port
        // now is not either unless it proves it holds the token (without being sent it).
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| ServiceError::Info(format!("no random nonce: {e}")))?;
        let nonce = hex::encode(nonce);
        let answer = client
            .agent
            .get(format!("{}/v1/health?nonce={nonce}", client.base))
            .call()
            .ok()
            .and_then(|mut response| response.body_mut().with_config().limit(1024).read_to_string().ok());
        match answer {
            Some(proof) if proof.trim() == crate::health_proof(&client.token, &nonce) => Ok(Some(client)),
            Some(_) => {
                tracing::warn!(
                    message = "A process that is not the service answers on the address of service.json; ignored.",
                    address = %client.base
                );
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// The PostgreSQL store the service serves (its URL without the password), `None` when it
    /// serves the data directory's embedded store.
    pub fn store_url(&self) -> Option<&str> {
        self.store.as_deref()
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, StoreError> {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
            .map_err(remote)?;
        response.body_mut().read_json().map_err(remote)
    }

    fn post<T: DeserializeOwned>(&self, path: &str, body: &impl serde::Serialize) -> Result<T, StoreError> {
        let mut response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .send_json(body)
            .map_err(remote)?;
        response.body_mut().read_json().map_err(remote)
    }

    /// Runs a job on the service and waits for its summary, however long it takes (a crawl
    /// of many feeds can take minutes).
    fn job(&self, path: &str, body: &impl serde::Serialize) -> Result<serde_json::Value, StoreError> {
        let mut response = self
            .agent
            .post(format!("{}{path}", self.base))
            .config()
            .timeout_global(None)
            .http_status_as_error(false)
            .build()
            .header("Authorization", format!("Bearer {}", self.token))
            .send_json(body)
            .map_err(remote)?;
        let status = response.status();
        if status.is_success() {
            return response.body_mut().read_json().map_err(remote);
        }
        let message = response.body_mut().with_config().limit(64 * 1024).read_to_string().unwrap_or_default();
        Err(StoreError::Remote(format!("{status}: {}", message.trim())))
    }

    /// Crawls feeds in the running `watch`; answers the crawl's summary (as `crawl --json`).
    ///
    /// # Errors
    /// The service's answer when the crawl did not run (busy, failed, refused).
    pub fn crawl(&self, request: &crate::CrawlRequest) -> Result<serde_json::Value, StoreError> {
        self.job("/v1/jobs/crawl", request)
    }

    /// Imports debunked claims in the running `watch` (embedded by its model), in requests of
    /// at most [`crate::jobs::MAX_CLAIMS_PER_REQUEST`]; answers each request's summary.
    ///
    /// # Errors
    /// The service's answer when an import did not run; the requests before it were imported.
    pub fn import_claims(
        &self,
        claims: &[infodemic_core::DebunkedClaim],
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        claims
            .chunks(crate::jobs::MAX_CLAIMS_PER_REQUEST)
            .map(|chunk| self.job("/v1/jobs/claims", &crate::ClaimsRequest { claims: chunk.to_vec() }))
            .collect()
    }

    /// The stored claims nearest to `text`, as `claims match --json` prints them.
    ///
    /// # Errors
    /// The service's answer when the match did not run.
    pub fn match_claims(&self, text: &str, top: usize) -> Result<serde_json::Value, StoreError> {
        self.job("/v1/jobs/claims/match", &crate::jobs::MatchRequest { text: text.to_owned(), top })
    }

    /// Embeds again, in the running `watch`, the claims another model embedded.
    ///
    /// # Errors
    /// The service's answer when it did not run.
    pub fn reembed_claims(&self) -> Result<serde_json::Value, StoreError> {
        self.job("/v1/jobs/claims/reembed", &serde_json::json!({}))
    }

    /// Every stored debunked claim.
    ///
    /// # Errors
    /// The service's answer.
    pub fn claims(&self) -> Result<Vec<infodemic_core::DebunkedClaim>, StoreError> {
        self.get("/v1/claims")
    }

    /// Every subscribed feed.
    ///
    /// # Errors
    /// The service's error, or an unreachable service.
    pub fn subscriptions(&self) -> Result<Vec<FeedSpec>, StoreError> {
        self.get("/v1/feeds/subscriptions")
    }

    /// Subscribes; `true` when new.
    ///
    /// # Errors
    /// The service's error, or an unreachable service.
    pub fn put_subscription(&self, spec: &FeedSpec) -> Result<bool, StoreError> {
        self.post("/v1/feeds/subscriptions", spec)
    }

    /// Unsubscribes; `true` when it was subscribed.
    ///
    /// # Errors
    /// The service's error, or an unreachable service.
    pub fn remove_subscription(&self, id: &str) -> Result<bool, StoreError> {
        let mut response = self
            .agent
            .delete(format!("{}/v1/feeds/subscriptions/{}", self.base, encode_segment(id)))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
            .map_err(remote)?;
        response.body_mut().read_json().map_err(remote)
    }
}

#[allow(clippy::needless_pass_by_value)] // Used as `map_err(remote)`.
fn remote(error: ureq::Error) -> StoreError {
    StoreError::Remote(error.to_string())
}

/// Source ids may hold `/` and `:` (`host:port/path`): percent-encode for a path segment.
fn encode_segment(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl ItemReader for ServiceClient {
    fn get(&self, id: ItemId) -> Result<Option<ScoredItem>, StoreError> {
        match self
            .agent
            .get(format!("{}/v1/items/{id}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
        {
            Ok(mut response) => response.body_mut().read_json().map(Some).map_err(remote),
            Err(ureq::Error::StatusCode(404)) => Ok(None),
            Err(error) => Err(remote(error)),
        }
    }

    fn query(&self, query: &ItemQuery) -> Result<Vec<ScoredItem>, StoreError> {
        self.post("/v1/items/query", query)
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        self.get("/v1/stats")
    }

    fn appearances(&self, id: ItemId) -> Result<Vec<Appearance>, StoreError> {
        self.get(&format!("/v1/items/{id}/appearances"))
    }

    fn feed_states(&self) -> Result<Vec<FeedState>, StoreError> {
        self.get("/v1/feeds/states")
    }
}

impl CampaignReader for ServiceClient {
    fn campaigns(&self) -> Result<Vec<Campaign>, StoreError> {
        self.get("/v1/campaigns")
    }

    fn campaign_heads(&self) -> Result<Vec<CampaignHead>, StoreError> {
        self.get("/v1/campaign-heads")
    }

    fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>, StoreError> {
        match self
            .agent
            .get(format!("{}/v1/campaigns/{id}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
        {
            Ok(mut response) => response.body_mut().read_json().map(Some).map_err(remote),
            Err(ureq::Error::StatusCode(404)) => Ok(None),
            Err(error) => Err(remote(error)),
        }
    }

    fn campaign_members(&self, id: CampaignId, limit: Option<usize>) -> Result<Vec<CampaignMember>, StoreError> {
        match limit {
            Some(limit) => self.get(&format!("/v1/campaigns/{id}/members?limit={limit}")),
            None => self.get(&format!("/v1/campaigns/{id}/members")),
        }
    }

    fn campaign_of(&self, member_id: &str) -> Result<Option<CampaignId>, StoreError> {
        self.get(&format!("/v1/campaign-of/{}", encode_segment(member_id)))
    }

    fn campaigns_of(&self, member_ids: &[String]) -> Result<Vec<Option<CampaignId>>, StoreError> {
        self.post("/v1/campaign-of", &member_ids)
    }

    fn alerts(&self) -> Result<Vec<Alert>, StoreError> {
        self.get("/v1/alerts")
    }
}

impl ReviewLog for ServiceClient {
    /// The service's scale: it checks every verdict sent to it.
    fn verdict_scale(&self, _local: &VerdictScale) -> Result<VerdictScale, StoreError> {
        self.get("/v1/verdict-scale")
    }

    fn verdicts(&self, item: ItemId) -> Result<Vec<VerdictEvent>, StoreError> {
        self.get(&format!("/v1/items/{item}/verdicts"))
    }

    fn review_heads(&self, limit: Option<usize>) -> Result<Vec<ReviewHead>, StoreError> {
        match limit {
            Some(limit) => self.get(&format!("/v1/reviewed?limit={limit}")),
            None => self.get("/v1/reviewed"),
        }
    }

    fn review_heads_of(&self, items: &[ItemId]) -> Result<Vec<Option<ReviewHead>>, StoreError> {
        self.post("/v1/reviewed/of", &items)
    }

    fn review_queue(&self, request: &QueueRequest) -> Result<Vec<QueueEntry>, StoreError> {
        self.post("/v1/review/queue", request)
    }

    /// Checked against the service's scale, not `_scale`.
    fn record_verdicts(
        &self,
        batch: &[NewVerdict],
        _scale: &VerdictScale,
        all_or_nothing: bool,
    ) -> Result<RecordedVerdicts, StoreError> {
        self.post("/v1/verdicts", &crate::server::VerdictBatch { verdicts: batch.to_vec(), all_or_nothing })
    }

    fn undo_verdicts(&self, items: &[ItemId], reviewer: &str) -> Result<RecordedVerdicts, StoreError> {
        self.post(
            "/v1/verdicts/undo",
            &crate::server::UndoBatch { items: items.to_vec(), reviewer: reviewer.to_owned() },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_encoded_for_paths() {
        assert_eq!(encode_segment("127.0.0.1:80/feeds/a.xml"), "127.0.0.1%3A80%2Ffeeds%2Fa.xml");
        assert_eq!(encode_segment("who-news"), "who-news");
    }
}
