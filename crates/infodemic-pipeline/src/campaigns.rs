//! The campaign stage: assigns items worth a review to campaigns, raises surge alerts, names
//! DISARM techniques, and commits all of it with the store's grouping state.
//!
//! The grouping is pure (`infodemic-campaigns`); this module loads its state from the store,
//! runs it on the blocking pool (it is CPU work next to sled writes) and writes what changed
//! in one transaction per batch, so a run stopped anywhere resumes where the store says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use infodemic_campaigns::surge::{SurgeConfig, SurgeDetector, SurgeKind};
use infodemic_campaigns::{techniques, Grouper, GrouperState, GroupingConfig, GroupingInput};
use infodemic_core::{Alert, CampaignCounters, CampaignEvent, CampaignId, ScoredItem};
use infodemic_store::{CampaignCommit, CampaignWriter};
use serde::Serialize;

use crate::crawl::blocking;
use crate::{PipelineError, Result};

/// The campaign stage's settings.
#[derive(Clone, Debug, Default)]
pub struct CampaignSettings {
    /// The grouping's knobs.
    pub grouping: GroupingConfig,
    /// The surge rules' knobs.
    pub surge: SurgeConfig,
    /// Where alerts are sent besides the store.
    pub sinks: Vec<AlertSink>,
}

/// Somewhere an alert is sent as it is raised. A sink that fails is logged, never the run's
/// end: the alert is in the store either way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlertSink {
    /// A shell command run once per alert (`sh -c`), with the alert as JSON on its stdin and
    /// `INFODEMIC_ALERT_CAMPAIGN`, `INFODEMIC_ALERT_KIND` and `INFODEMIC_ALERT_SUMMARY` in its
    /// environment. Feed text never reaches the command line, only stdin and the environment.
    Command(String),
    /// An http(s) URL the alert is POSTed to as JSON.
    Webhook(url::Url),
}

/// A sink gets this long per alert.
const SINK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// One item to assign, owned (from a crawl, or a line of a replayed file).
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignItem {
    /// Its id: an item id (hex) for crawled items, the line's id for replays.
    pub id: String,
    /// The text compared.
    pub text: String,
    /// Publication time, if known.
    pub time: Option<DateTime<Utc>>,
    /// When it was seen (stands in for a missing `time`).
    pub seen_at: DateTime<Utc>,
    /// Its URL.
    pub url: String,
    /// Its source.
    pub source: String,
    /// The account that posted it.
    pub account: Option<String>,
    /// Detected language.
    pub language: Option<String>,
    /// Links it shares.
    pub links: Vec<String>,
    /// Near-duplicate fingerprint.
    pub simhash: Option<u64>,
    /// Sentence embedding.
    pub embedding: Option<Vec<f32>>,
    /// The model's score.
    pub score: Option<f32>,
    /// A fact-check it matched: claim id and the fact-check's URL (or claim text).
    pub fact_check: Option<(String, String)>,
}

impl CampaignItem {
    /// The campaign view of a scored item.
    pub fn from_scored(scored: &ScoredItem) -> Self {
        let item = &scored.item;
        let classification = &scored.classification;
        Self {
            id: item.id.to_string(),
            text: item.classifier_input(),
            // A publication time after the fetch is a feed's mistake; it would make every later
            // item look late to the surge rules.
            time: item.published.map(|published| published.min(item.fetched_at)),
            seen_at: item.fetched_at,
            url: item.url.clone(),
            source: item.source.to_string(),
            account: item.author.clone(),
            language: item.language.clone(),
            links: item.links.clone(),
            simhash: item.simhash,
            embedding: (!classification.embedding.is_empty()).then(|| classification.embedding.clone()),
            score: classification.shown_score(),
            fact_check: classification
                .claim_match
                .as_ref()
                .map(|m| (m.claim_id.clone(), m.review_url.clone().unwrap_or_else(|| m.claim.clone()))),
        }
    }
}

impl CampaignItem {
    /// The grouping's view of the item, borrowed.
    pub fn grouping_input(&self) -> GroupingInput<'_> {
        GroupingInput {
            id: &self.id,
            url: &self.url,
            text: &self.text,
            time: self.time,
            seen_at: self.seen_at,
            source: &self.source,
            account: self.account.as_deref(),
            language: self.language.as_deref(),
            links: &self.links,
            simhash: self.simhash,
            embedding: self.embedding.as_deref(),
            score: self.score,
            fact_check: self.fact_check.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        }
    }
}

/// Where one item went.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CampaignAssignment {
    /// The item's id.
    pub id: String,
    /// Its campaign (resolved through merges).
    pub campaign: CampaignId,
    /// True when the item opened the campaign.
    pub opened: bool,
    /// True when the item had been assigned before (a replayed line seen again).
    pub already_assigned: bool,
}

/// What one batch did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CampaignBatchReport {
    /// Per item, in input order.
    pub assignments: Vec<CampaignAssignment>,
    /// Campaigns opened.
    pub opened: usize,
    /// Alerts raised.
    pub alerts: Vec<Alert>,
}

struct Inner {
    store: Arc<dyn CampaignWriter>,
    grouper: Grouper,
    surge: SurgeConfig,
    detectors: HashMap<CampaignId, SurgeDetector>,
    next_alert: u64,
}

/// The campaign stage. Cheap to clone; one batch runs at a time.
#[derive(Clone)]
pub struct CampaignTracker {
    inner: Arc<Mutex<Inner>>,
    sinks: Arc<[AlertSink]>,
}

impl std::fmt::Debug for CampaignTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CampaignTracker").finish_non_exhaustive()
    }
}

impl CampaignTracker {
    /// Loads the grouping state from the store.
    ///
    /// # Errors
    /// Store failures; a surge configuration out of range.
    pub async fn open<S: CampaignWriter + Clone + 'static>(store: &S, settings: CampaignSettings) -> Result<Self> {
        settings.surge.validate().map_err(|e| PipelineError::Campaigns(e.to_string()))?;
        let sinks: Arc<[AlertSink]> = settings.sinks.clone().into();
        let store: Arc<dyn CampaignWriter> = Arc::new(store.clone());
        let inner = blocking(move || {
            let snapshot = store.grouping_snapshot()?;
            let state = GrouperState { docs: snapshot.counters.docs, next_id: snapshot.counters.next_id };
            let grouper = Grouper::restore(settings.grouping, state, snapshot.terms, snapshot.campaigns);
            Ok::<_, PipelineError>(Inner {
                next_alert: snapshot.counters.next_alert.max(1),
                store,
                grouper,
                surge: settings.surge,
                detectors: HashMap::new(),
            })
        })
        .await??;
        Ok(Self { inner: Arc::new(Mutex::new(inner)), sinks })
    }

    /// The campaign that holds `id`'s items now (itself, or its successor after merges).
    pub fn resolve(&self, id: CampaignId) -> CampaignId {
        match self.inner.lock() {
            Ok(inner) => inner.grouper.resolve(id),
            Err(_) => id,
        }
    }

    /// Assigns the scored items worth a review (the others are not campaign material).
    ///
    /// # Errors
    /// Store failures.
    pub async fn assign_scored(&self, scored: &[ScoredItem]) -> Result<CampaignBatchReport> {
        let items: Vec<CampaignItem> =
            scored.iter().filter(|s| s.classification.review).map(CampaignItem::from_scored).collect();
        if items.is_empty() {
            return Ok(CampaignBatchReport::default());
        }
        self.assign(items).await
    }

    /// Assigns `items` in order and commits the batch.
    ///
    /// # Errors
    /// Store failures.
    pub async fn assign(&self, items: Vec<CampaignItem>) -> Result<CampaignBatchReport> {
        let inner = Arc::clone(&self.inner);
        let report = blocking(move || {
            let mut inner = inner.lock().map_err(|_| PipelineError::Task("campaign state poisoned".into()))?;
            inner.assign(&items)
        })
        .await??;
        // Sent after the commit: a sink never hears of an alert the store does not keep.
        for alert in &report.alerts {
            for sink in self.sinks.iter() {
                sink.send(alert).await;
            }
        }
        Ok(report)
    }
}

impl AlertSink {
    async fn send(&self, alert: &Alert) {
        let outcome = match self {
            AlertSink::Command(command) => run_command(command, alert).await,
            AlertSink::Webhook(url) => post_webhook(url, alert).await,
        };
        if let Err(error) = outcome {
            tracing::warn!(message = "Alert sink failed.", sink = ?self, campaign = %alert.campaign, %error);
        }
    }
}

async fn run_command(command: &str, alert: &Alert) -> std::result::Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let json = serde_json::to_vec(alert).map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("INFODEMIC_ALERT_CAMPAIGN", alert.campaign.to_string())
        .env("INFODEMIC_ALERT_KIND", &alert.kind)
        .env("INFODEMIC_ALERT_SUMMARY", &alert.summary)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A command that does not read its input is fine.
            let _ = stdin.write_all(&json).await;
        }
        child.wait().await
    };
    match tokio::time::timeout(SINK_TIMEOUT, run).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("`{command}` exited with {status}")),
        Ok(Err(error)) => Err(format!("`{command}`: {error}")),
        Err(_) => Err(format!("`{command}` took longer than {} s and was stopped", SINK_TIMEOUT.as_secs())),
    }
}

async fn post_webhook(url: &url::Url, alert: &Alert) -> std::result::Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(SINK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let response = client.post(url.clone()).json(alert).send().await.map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("{url} answered {}", response.status()))
    }
}

impl Inner {
    fn assign(&mut self, items: &[CampaignItem]) -> Result<CampaignBatchReport> {
        let mut report = CampaignBatchReport::default();
        let mut commit = CampaignCommit::default();
        let mut batch_ids: HashMap<&str, CampaignId> = HashMap::new();
        for item in items {
            let earlier = match batch_ids.get(item.id.as_str()) {
                Some(id) => Some(*id),
                None => self.store.campaign_of(&item.id)?,
            };
            if let Some(campaign) = earlier {
                report.assignments.push(CampaignAssignment {
                    id: item.id.clone(),
                    campaign: self.grouper.resolve(campaign),
                    opened: false,
                    already_assigned: true,
                });
                continue;
            }
            let assignment = self.grouper.assign(&item.grouping_input());
            let id = assignment.campaign;
            batch_ids.insert(&item.id, id);
            report.opened += usize::from(assignment.opened);
            let at = item.time.unwrap_or(item.seen_at);
            if !assignment.merged.is_empty() {
                self.rebuild_surge_state(id, &assignment.merged, at);
            }
            let surge_summary = self.observe_surge(id, at, &mut commit);
            if let Some(campaign) = self.grouper.campaign_mut(id) {
                let found = techniques::newly_detected(campaign, surge_summary.as_deref());
                for technique in found {
                    campaign.history.push(CampaignEvent::Technique { at, id: technique.id.clone() });
                    campaign.techniques.push(technique);
                }
                let member = infodemic_core::CampaignMember {
                    id: item.id.clone(),
                    url: item.url.clone(),
                    text: infodemic_core::text::ellipsize(&item.text, 280),
                    time: item.time,
                    source: item.source.clone(),
                    account: item.account.clone(),
                    score: item.score,
                };
                commit.members.push((id, campaign.size, member));
            }
            report.assignments.push(CampaignAssignment {
                id: item.id.clone(),
                campaign: id,
                opened: assignment.opened,
                already_assigned: false,
            });
        }
        // Detector state goes into the profiles of the campaigns it changed.
        for (id, detector) in &self.detectors {
            if let Some(campaign) = self.grouper.campaign_mut(*id) {
                campaign.profile.surge = serde_json::to_string(detector).unwrap_or_default();
            }
        }
        self.detectors.clear();
        // Reported as the campaigns stand after the batch: an item whose campaign a later item
        // merged into another is reported under the successor.
        for assignment in &mut report.assignments {
            assignment.campaign = self.grouper.resolve(assignment.campaign);
        }
        let changes = self.grouper.take_changes();
        commit.counters =
            CampaignCounters { docs: changes.state.docs, next_id: changes.state.next_id, next_alert: self.next_alert };
        commit.campaigns = changes.campaigns;
        commit.terms = changes.document_frequencies;
        report.alerts.clone_from(&commit.alerts);
        self.store.commit_campaigns(&commit)?;
        Ok(report)
    }

    /// After a merge the survivor's volume is both campaigns' volume: its detector is rebuilt
    /// from the merged hourly counts (without the item being assigned, which is observed next),
    /// so the merged flow is not mistaken for a surge against the survivor's old baseline.
    /// Signals raised while replaying history are not alerts: they were (or were not) raised
    /// when it happened.
    fn rebuild_surge_state(&mut self, survivor: CampaignId, retired: &[CampaignId], at: DateTime<Utc>) {
        for id in retired {
            self.detectors.remove(id);
        }
        let Some(campaign) = self.grouper.campaign(survivor) else { return };
        let mut hourly = campaign.hourly.clone();
        let hour = infodemic_campaigns::surge::hour_index(at);
        if let Some(count) = hourly.get_mut(&hour) {
            *count = count.saturating_sub(1);
        }
        let mut detector = SurgeDetector::new();
        for (hour, count) in hourly {
            let _replayed = detector.observe(hour, count, &self.surge);
        }
        self.detectors.insert(survivor, detector);
    }

    /// Feeds the campaign's surge detector; returns the summary of a volume surge it raised.
    fn observe_surge(&mut self, id: CampaignId, at: DateTime<Utc>, commit: &mut CampaignCommit) -> Option<String> {
        let campaign = self.grouper.campaign(id)?;
        let detector = match self.detectors.entry(id) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                // A state that does not decode (written by another version) starts afresh:
                // the worst case is one repeated alert, never a failed run.
                let restored = serde_json::from_str(&campaign.profile.surge).unwrap_or_default();
                entry.insert(restored)
            }
        };
        let signals = detector.observe_at(at, 1, &self.surge);
        let size = campaign.size;
        let mut surge_summary = None;
        for signal in signals {
            let summary = signal.summary();
            let kind = match signal.kind {
                SurgeKind::Opening { .. } => "opening",
                SurgeKind::Ears { .. } => "ears-c2",
                SurgeKind::Cusum { .. } => "cusum",
            };
            if signal.is_surge() {
                surge_summary = Some(summary.clone());
            }
            let alert = Alert { seq: self.next_alert, campaign: id, at, kind: kind.to_owned(), summary, size };
            self.next_alert = self.next_alert.saturating_add(1);
            tracing::info!(message = "Campaign alert.", campaign = %id, kind, summary = %alert.summary);
            self.grouper.record_event(id, CampaignEvent::Alert { at, summary: alert.summary.clone() });
            commit.alerts.push(alert);
        }
        surge_summary
    }
}

/// Makes sure this process still writes the store's campaigns (on PostgreSQL the lock is lost
/// with its connection, and taken again here); `who` names the process for the error when
/// another one took the lock meanwhile.
///
/// # Errors
/// [`infodemic_store::StoreError::NotTheWriter`] when another process holds the lock, or
/// storage failures.
pub(crate) async fn claim_campaign_writer<S: CampaignWriter + Clone + 'static>(store: &S, who: &str) -> Result<()> {
    let claim = store.clone();
    if blocking(move || claim.claim_writer()).await?? {
        return Ok(());
    }
    Err(infodemic_store::StoreError::NotTheWriter(format!(
        "another process took the campaign lock while {who} was disconnected from the store"
    ))
    .into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use infodemic_store::SledStore;

    fn item(id: &str, text: &str, minutes: i64, source: &str) -> CampaignItem {
        let time = DateTime::from_timestamp(1_700_000_000 + minutes * 60, 0).unwrap();
        CampaignItem {
            id: id.to_owned(),
            text: text.to_owned(),
            time: Some(time),
            seen_at: time,
            url: format!("https://{source}/{id}"),
            source: source.to_owned(),
            account: None,
            language: Some("en".to_owned()),
            links: Vec::new(),
            simhash: infodemic_core::simhash::simhash(text),
            embedding: None,
            score: Some(0.9),
            fact_check: None,
        }
    }

    /// Five copies of one claim from five sources within an hour, around unrelated items.
    fn stream() -> Vec<CampaignItem> {
        let claim = "drinking bleach cures the coronavirus in hours doctors hide it";
        let mut items = Vec::new();
        for i in 0..5 {
            let background = [
                "city council approves new budget for road repairs",
                "local team wins the regional football final",
                "museum opens an exhibition of medieval maps",
                "heavy rain expected across the north this weekend",
                "bakery celebrates fifty years with free bread",
            ][i];
            items.push(item(&format!("b{i}"), background, i as i64 * 7, "other.example"));
            items.push(item(
                &format!("c{i}"),
                &format!("{claim} {}", ["", "share now", "!!", "wake up", "must read"][i]),
                i as i64 * 10,
                &format!("s{i}.example"),
            ));
        }
        items
    }

    async fn open_tracker(dir: &std::path::Path, sinks: Vec<AlertSink>) -> (SledStore, CampaignTracker) {
        let (store, _) = SledStore::open(dir).unwrap();
        let tracker =
            CampaignTracker::open(&store, CampaignSettings { sinks, ..CampaignSettings::default() }).await.unwrap();
        (store, tracker)
    }

    #[tokio::test]
    async fn a_restart_between_batches_gives_the_ids_of_one_run() {
        let one = tempfile::tempdir().unwrap();
        let (_store, tracker) = open_tracker(one.path(), Vec::new()).await;
        let whole: Vec<CampaignAssignment> = tracker.assign(stream()).await.unwrap().assignments;
        let claim_campaigns: std::collections::BTreeSet<_> =
            whole.iter().filter(|a| a.id.starts_with('c')).map(|a| a.campaign).collect();
        assert_eq!(claim_campaigns.len(), 1, "{whole:?}");

        let two = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(two.path()).unwrap();
        let mut split = Vec::new();
        let items = stream();
        for chunk in items.chunks(3) {
            // A tracker per chunk, restored from the store: what a restarted process sees
            // (`tests/e2e/campaigns.rs` restarts the binary itself).
            let tracker = CampaignTracker::open(&store, CampaignSettings::default()).await.unwrap();
            split.extend(tracker.assign(chunk.to_vec()).await.unwrap().assignments);
        }
        assert_eq!(split, whole);

        let tracker = CampaignTracker::open(&store, CampaignSettings::default()).await.unwrap();
        let again = tracker.assign(stream()).await.unwrap();
        assert!(again.assignments.iter().all(|a| a.already_assigned), "replaying is idempotent");
        let campaign = store.campaign(*claim_campaigns.iter().next().unwrap()).unwrap().unwrap();
        assert_eq!(campaign.size, 5);
        assert_eq!(store.campaign_members(campaign.id, None).unwrap().len(), 5);
        assert!(campaign.techniques.iter().any(|t| t.id == "T0084.001"), "{:?}", campaign.techniques);
        let alerts = store.alerts().unwrap();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!((alerts[0].campaign, alerts[0].kind.as_str()), (campaign.id, "opening"));
    }

    #[tokio::test]
    async fn alerts_reach_a_command_and_a_webhook() {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .and(wiremock::matchers::path("/hook"))
            .respond_with(wiremock::ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("alert.json");
        let env_out = dir.path().join("alert.env");
        let command = format!(
            "cat > '{}' && printf '%s %s' \"$INFODEMIC_ALERT_CAMPAIGN\" \"$INFODEMIC_ALERT_KIND\" > '{}'",
            out.display(),
            env_out.display()
        );
        let hook = url::Url::parse(&format!("{}/hook", server.uri())).unwrap();
        let (_store, tracker) =
            open_tracker(&dir.path().join("store"), vec![AlertSink::Command(command), AlertSink::Webhook(hook)]).await;
        let report = tracker.assign(stream()).await.unwrap();
        assert_eq!(report.alerts.len(), 1);
        let sent: Alert = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(sent, report.alerts[0]);
        assert_eq!(std::fs::read_to_string(&env_out).unwrap(), format!("{} opening", sent.campaign));
        let received = server.received_requests().await.unwrap();
        let posted: Alert = serde_json::from_slice(&received[0].body).unwrap();
        assert_eq!(posted, sent);
    }

    #[tokio::test]
    async fn a_failing_sink_does_not_fail_the_batch() {
        let dir = tempfile::tempdir().unwrap();
        let (store, tracker) = open_tracker(dir.path(), vec![AlertSink::Command("exit 3".to_owned())]).await;
        let report = tracker.assign(stream()).await.unwrap();
        assert_eq!(report.alerts.len(), 1);
        assert_eq!(store.alerts().unwrap().len(), 1, "the alert is stored either way");
    }
}
