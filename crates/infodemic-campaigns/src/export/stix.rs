//! Campaigns as a STIX 2.1 bundle for threat-intelligence platforms (OpenCTI, MISP, ...).
//!
//! Per campaign: a `campaign` object; an `attack-pattern` per DISARM technique (shared between
//! campaigns) with a `uses` relationship; the representative item's URL as a `url` observable
//! inside an `observed-data`, `related-to` the campaign; a `note` per surge alert. One
//! `identity` names the producer. No indicators: campaigns are narratives, not detection rules.
//!
//! Ids are UUIDv5 from [`STIX_NAMESPACE`] and the campaign id (or technique id, alert number),
//! so exporting the same campaign again gives the same ids, as STIX versioning expects; `url`
//! observables use STIX's own namespace and canonical value, so other producers' ids match.
//! `created` and `modified` come from the campaign's own history (never later than the export
//! time), so an unchanged campaign exports to identical objects.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use infodemic_core::{Alert, Campaign, CampaignEvent, CampaignId, CampaignStatus};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{one_line, status_text, top_counts, truncate};

/// Namespace of infodemic's STIX ids (UUIDv5). Never change it: ids would change with it.
pub const STIX_NAMESPACE: Uuid = Uuid::from_u128(0x622a_0913_4c99_4f2b_8b25_59bf_fc36_df0b);

/// STIX 2.1's namespace for the deterministic ids of cyber-observable objects (section 2.9).
const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00ab_edb4_aa42_466c_9c01_fed2_3315_a9b7);

/// `created` of the objects that do not come from a campaign (the producer, techniques): fixed,
/// since a STIX object's `created` never changes between versions.
const FIXED_CREATED: &str = "2020-01-01T00:00:00.000Z";

/// Columns of representative text in a campaign's name.
const NAME_COLUMNS: usize = 80;

/// `type--UUIDv5(namespace, type:key)`.
fn stix_id(kind: &str, key: &str) -> String {
    format!("{kind}--{}", Uuid::new_v5(&STIX_NAMESPACE, format!("{kind}:{key}").as_bytes()))
}

/// RFC 3339 in UTC with milliseconds and `Z`, as STIX requires.
fn timestamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Whether `url` is an absolute http(s) URL, the only kind worth an observable.
fn web_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|parsed| matches!(parsed.scheme(), "http" | "https"))
}

/// The campaign's `created` and `modified`: its opening and its latest event (item, alert,
/// merge), neither after the export time.
fn versions(campaign: &Campaign, generated_at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let created = campaign.first_seen.min(generated_at);
    let latest = campaign.history.iter().map(event_time).fold(campaign.last_seen, DateTime::max);
    (created, latest.min(generated_at).max(created))
}

fn event_time(event: &CampaignEvent) -> DateTime<Utc> {
    match event {
        CampaignEvent::Opened { at, .. }
        | CampaignEvent::Absorbed { at, .. }
        | CampaignEvent::MergedInto { at, .. }
        | CampaignEvent::Alert { at, .. }
        | CampaignEvent::Technique { at, .. } => *at,
    }
}

/// Objects in the order they are added, each id once.
#[derive(Default)]
struct Objects {
    list: Vec<Value>,
    ids: BTreeSet<String>,
}

impl Objects {
    fn push(&mut self, object: Value) {
        let id = object.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        if self.ids.insert(id) {
            self.list.push(object);
        }
    }
}

/// The bundle of `campaigns` and those of `alerts` that belong to them (directly or through a
/// campaign they absorbed). `generated_at` caps every timestamp and makes the bundle's id.
pub fn stix_bundle(campaigns: &[Campaign], alerts: &[Alert], generated_at: DateTime<Utc>) -> Value {
    let identity = stix_id("identity", "infodemic");
    let mut objects = Objects::default();
    objects.push(json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity,
        "created": FIXED_CREATED,
        "modified": FIXED_CREATED,
        "name": "infodemic",
        "description": "infodemic health-disinformation monitor: groups flagged posts into campaigns",
        "identity_class": "system",
    }));

    // Campaign id to its STIX id, for alerts and merges: each exported campaign and the ones it
    // absorbed (an exported campaign's own id wins over an absorber's).
    let mut stix_ids: BTreeMap<CampaignId, String> = BTreeMap::new();
    let mut exported: Vec<&Campaign> = Vec::new();
    for campaign in campaigns {
        if exported.iter().any(|earlier| earlier.id == campaign.id) {
            continue;
        }
        exported.push(campaign);
        stix_ids.insert(campaign.id, stix_id("campaign", &campaign.id.to_string()));
    }
    for campaign in &exported {
        for event in &campaign.history {
            if let CampaignEvent::Absorbed { from, .. } = event {
                let absorber = stix_id("campaign", &campaign.id.to_string());
                stix_ids.entry(*from).or_insert(absorber);
            }
        }
    }

    let mut attack_patterns: BTreeMap<String, Value> = BTreeMap::new();
    let mut relationships = Vec::new();
    for campaign in &exported {
        let (created, modified) = versions(campaign, generated_at);
        let campaign_stix = stix_id("campaign", &campaign.id.to_string());
        objects.push(campaign_object(campaign, &campaign_stix, &identity, created, modified));

        for technique in &campaign.techniques {
            let technique_id = one_line(&technique.id);
            if technique_id.is_empty() {
                continue;
            }
            let pattern = stix_id("attack-pattern", &technique_id);
            attack_patterns.entry(technique_id.clone()).or_insert_with(|| {
                let name = one_line(&technique.name);
                json!({
                    "type": "attack-pattern",
                    "spec_version": "2.1",
                    "id": pattern,
                    "created_by_ref": identity,
                    "created": FIXED_CREATED,
                    "modified": FIXED_CREATED,
                    "name": if name.is_empty() { technique_id.clone() } else { name },
                    "external_references": [{ "source_name": "DISARM", "external_id": technique_id }],
                })
            });
            // When the technique was first detected, else when the campaign opened.
            let detected = campaign
                .history
                .iter()
                .find_map(|event| match event {
                    CampaignEvent::Technique { at, id } if one_line(id) == technique_id => Some(*at),
                    _ => None,
                })
                .map_or(created, |at| at.clamp(created, modified));
            let mut relationship = relationship(
                &identity,
                "uses",
                &campaign_stix,
                &pattern,
                detected,
                &format!("{}:uses:{technique_id}", campaign.id),
            );
            let evidence = one_line(&technique.evidence);
            if !evidence.is_empty() {
                relationship["description"] = Value::String(evidence);
            }
            relationships.push(relationship);
        }

        let representative = &campaign.representative;
        let url = one_line(&representative.url);
        if web_url(&url) {
            // The SCO's id: UUIDv5 of the JSON of its id-contributing property (`value`).
            let canonical = json!({ "value": url }).to_string();
            let url_id = format!("url--{}", Uuid::new_v5(&SCO_NAMESPACE, canonical.as_bytes()));
            objects.push(json!({ "type": "url", "spec_version": "2.1", "id": url_id, "value": url }));
            let seen = representative.time.unwrap_or(campaign.first_seen);
            let observed_at = seen.clamp(created, modified);
            let observed = stix_id("observed-data", &format!("{}:{url}", campaign.id));
            objects.push(json!({
                "type": "observed-data",
                "spec_version": "2.1",
                "id": observed,
                "created_by_ref": identity,
                "created": timestamp(observed_at),
                "modified": timestamp(observed_at),
                "first_observed": timestamp(seen),
                "last_observed": timestamp(seen),
                "number_observed": 1,
                "object_refs": [url_id],
            }));
            let mut related = relationship(
                &identity,
                "related-to",
                &campaign_stix,
                &observed,
                observed_at,
                &format!("{}:representative:{url}", campaign.id),
            );
            related["description"] = Value::String("the campaign's representative item".to_owned());
            relationships.push(related);
        }

        if let CampaignStatus::Merged { into } = campaign.status {
            if let Some(successor) = stix_ids.get(&into).filter(|successor| **successor != campaign_stix) {
                let mut merged = relationship(
                    &identity,
                    "related-to",
                    &campaign_stix,
                    successor,
                    modified,
                    &format!("{}:merged-into:{into}", campaign.id),
                );
                merged["description"] = Value::String(format!("{} was merged into {into}", campaign.id));
                relationships.push(merged);
            }
        }
    }
    for pattern in attack_patterns.into_values() {
        objects.push(pattern);
    }
    for relationship in relationships {
        objects.push(relationship);
    }

    let mut own_alerts: Vec<&Alert> = alerts.iter().filter(|alert| stix_ids.contains_key(&alert.campaign)).collect();
    own_alerts.sort_by_key(|alert| (alert.seq, alert.campaign));
    for alert in own_alerts {
        let Some(campaign_stix) = stix_ids.get(&alert.campaign) else { continue };
        let at = alert.at.min(generated_at);
        let content = one_line(&alert.summary);
        objects.push(json!({
            "type": "note",
            "spec_version": "2.1",
            "id": stix_id("note", &format!("alert:{}:{}", alert.campaign, alert.seq)),
            "created_by_ref": identity,
            "created": timestamp(at),
            "modified": timestamp(at),
            "abstract": format!("Surge alert {} ({}) on {} at size {}", alert.seq, one_line(&alert.kind), alert.campaign, alert.size),
            "content": if content.is_empty() { "surge alert".to_owned() } else { content },
            "authors": ["infodemic"],
            "object_refs": [campaign_stix],
        }));
    }

    let bundle_key =
        format!("{}:{}", timestamp(generated_at), objects.ids.iter().cloned().collect::<Vec<_>>().join(","));
    json!({
        "type": "bundle",
        "id": stix_id("bundle", &bundle_key),
        "objects": objects.list,
    })
}

fn relationship(identity: &str, kind: &str, source: &str, target: &str, at: DateTime<Utc>, key: &str) -> Value {
    json!({
        "type": "relationship",
        "spec_version": "2.1",
        "id": stix_id("relationship", key),
        "created_by_ref": identity,
        "created": timestamp(at),
        "modified": timestamp(at),
        "relationship_type": kind,
        "source_ref": source,
        "target_ref": target,
    })
}

fn campaign_object(
    campaign: &Campaign,
    id: &str,
    identity: &str,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
) -> Value {
    let representative = &campaign.representative;
    let text = truncate(&representative.text, NAME_COLUMNS);
    let name = if text.is_empty() {
        format!("infodemic campaign {}", campaign.id)
    } else {
        format!("infodemic campaign {}: {text}", campaign.id)
    };
    let mut references = vec![json!({ "source_name": "infodemic", "external_id": campaign.id.to_string() })];
    let mut item = Map::new();
    item.insert("source_name".into(), "infodemic representative item".into());
    let item_id = one_line(&representative.id);
    if !item_id.is_empty() {
        item.insert("external_id".into(), item_id.into());
    }
    let url = one_line(&representative.url);
    if web_url(&url) {
        item.insert("url".into(), url.into());
    }
    item.insert("description".into(), truncate(&representative.text, 500).into());
    references.push(Value::Object(item));
    for (claim, check) in &campaign.fact_checks {
        let check = one_line(check);
        let mut reference = json!({ "source_name": "fact-check", "external_id": one_line(claim) });
        if web_url(&check) {
            reference["url"] = check.into();
        } else if !check.is_empty() {
            reference["description"] = check.into();
        }
        references.push(reference);
    }
    json!({
        "type": "campaign",
        "spec_version": "2.1",
        "id": id,
        "created_by_ref": identity,
        "created": timestamp(created),
        "modified": timestamp(modified),
        "name": name,
        "description": description(campaign),
        "first_seen": timestamp(campaign.first_seen),
        "last_seen": timestamp(campaign.last_seen.max(campaign.first_seen)),
        "labels": ["health-disinformation", if matches!(campaign.status, CampaignStatus::Active) { "active" } else { "merged" }],
        "external_references": references,
    })
}

/// A paragraph for analysts: size, spread, scores, terms and the representative item.
fn description(campaign: &Campaign) -> String {
    let list = |entries: Vec<(&str, u32)>| {
        entries.iter().map(|(name, count)| format!("{} ({count})", one_line(name))).collect::<Vec<_>>().join(", ")
    };
    let mut text = format!(
        "Health-disinformation campaign {} ({}): {} items from {} sources",
        campaign.id,
        status_text(campaign),
        campaign.size,
        campaign.sources.len()
    );
    if !campaign.sources.is_empty() {
        text.push_str(&format!(" ({})", list(top_counts(&campaign.sources, 5))));
    }
    text.push_str(&format!(", {} accounts", campaign.accounts.len()));
    if !campaign.languages.is_empty() {
        text.push_str(&format!(", languages {}", list(top_counts(&campaign.languages, usize::MAX))));
    }
    text.push('.');
    if let Some(mean) = campaign.scores.mean() {
        text.push_str(&format!(" Model score mean {mean:.3}, max {:.3}.", campaign.scores.max));
    }
    let terms = campaign.top_terms(8);
    if !terms.is_empty() {
        let terms: Vec<String> = terms.iter().map(|term| one_line(term)).collect();
        text.push_str(&format!(" Top terms: {}.", terms.join(", ")));
    }
    let representative = &campaign.representative;
    text.push_str(&format!(
        " Representative item ({}): {}",
        one_line(&representative.source),
        truncate(&representative.text, 500)
    ));
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::export::fixtures::{alert, at, campaign};

    fn objects_of<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
        bundle["objects"].as_array().unwrap().iter().filter(|object| object["type"] == kind).collect()
    }

    #[test]
    fn ids_are_deterministic_uuid5() {
        let first = stix_id("campaign", "c12");
        assert_eq!(first, stix_id("campaign", "c12"));
        assert_ne!(first, stix_id("campaign", "c13"));
        let uuid = Uuid::parse_str(first.strip_prefix("campaign--").unwrap()).unwrap();
        assert_eq!(uuid.get_version_num(), 5);
        // The STIX specification's own example of a deterministic SCO id (section 2.9).
        let canonical = json!({ "value": "https://example.com/" }).to_string();
        assert_eq!(Uuid::new_v5(&SCO_NAMESPACE, canonical.as_bytes()).get_version_num(), 5);
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        assert_eq!(timestamp(at(5)), "2026-03-02T05:00:00.000Z");
    }

    #[test]
    fn bundle_has_campaigns_techniques_relationships_and_notes() {
        let mut merged = campaign(7, 4);
        merged.status = CampaignStatus::Merged { into: CampaignId(12) };
        let mut absorber = campaign(12, 30);
        absorber.history.push(CampaignEvent::Absorbed { at: at(10), from: CampaignId(3) });
        let alerts = [alert(12, 1, 5), alert(3, 2, 6), alert(99, 3, 7)];
        let bundle = stix_bundle(&[absorber.clone(), merged, absorber], &alerts, at(100));
        assert_eq!(bundle["type"], "bundle");
        assert!(bundle["id"].as_str().unwrap().starts_with("bundle--"));
        assert_eq!(objects_of(&bundle, "identity").len(), 1);
        let campaigns = objects_of(&bundle, "campaign");
        assert_eq!(campaigns.len(), 2);
        let c12 = campaigns[0];
        assert_eq!(c12["id"], stix_id("campaign", "c12"));
        let name = c12["name"].as_str().unwrap();
        assert!(name.starts_with("infodemic campaign c12: =HYPERLINK("), "{name}");
        assert!(!name.contains('\u{1b}') && name.chars().count() <= 110, "{name}");
        assert_eq!(c12["first_seen"], "2026-03-02T00:00:00.000Z");
        assert_eq!(c12["last_seen"], "2026-03-03T06:00:00.000Z");
        assert_eq!(c12["created"], "2026-03-02T00:00:00.000Z");
        assert_eq!(c12["modified"], "2026-03-03T06:00:00.000Z");
        // Two techniques shared by both campaigns: two attack patterns, four `uses`.
        let patterns = objects_of(&bundle, "attack-pattern");
        assert_eq!(patterns.len(), 2);
        assert_eq!(patterns[0]["external_references"][0], json!({ "source_name": "DISARM", "external_id": "T0049" }));
        let relationships = objects_of(&bundle, "relationship");
        let uses = relationships.iter().filter(|relationship| relationship["relationship_type"] == "uses").count();
        assert_eq!(uses, 4);
        assert!(relationships.iter().any(|relationship| relationship["description"] == "c7 was merged into c12"));
        // Same representative URL in both: one url observable, two observed-data.
        assert_eq!(objects_of(&bundle, "url").len(), 1);
        assert_eq!(objects_of(&bundle, "observed-data").len(), 2);
        // Alerts on c12 and on c3 (absorbed by c12); c99's is not in the bundle.
        let notes = objects_of(&bundle, "note");
        assert_eq!(notes.len(), 2);
        assert!(notes.iter().all(|note| note["object_refs"] == json!([stix_id("campaign", "c12")])));
        assert_eq!(notes[0]["content"], "surge <b>&</b> ]52;c;x more");
        for object in bundle["objects"].as_array().unwrap() {
            assert_eq!(object["spec_version"], "2.1", "{object}");
        }
    }

    #[test]
    fn exports_are_stable_and_capped_at_the_export_time() {
        let campaigns = [campaign(12, 30)];
        let first = stix_bundle(&campaigns, &[], at(100));
        let again = stix_bundle(&campaigns, &[], at(200));
        assert_eq!(first["objects"], again["objects"]);
        assert_ne!(first["id"], again["id"]);
        // Exported before the last item's time: modified is the export time, not later.
        let early = stix_bundle(&campaigns, &[], at(10));
        let campaign = objects_of(&early, "campaign")[0];
        assert_eq!(campaign["modified"], "2026-03-02T10:00:00.000Z");
        assert_eq!(campaign["last_seen"], "2026-03-03T06:00:00.000Z");
    }
}
