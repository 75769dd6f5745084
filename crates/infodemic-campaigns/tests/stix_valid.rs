//! The STIX 2.1 export against the OASIS `stix2` Python library, parsing strictly
//! (`allow_custom=False`): every object, property and id must be what the specification allows.
//!
//! The library lives in `.venv-stix/` of the workspace, which `bash scripts/setup.sh
//! --python-reference` creates (stix2==3.0.2 from PyPI); `INFODEMIC_STIX_PYTHON` names another
//! interpreter that has it. Without either, the test fails and says so.

// Tests: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, TimeZone, Utc};
use infodemic_campaigns::export::stix_bundle;
use infodemic_core::{
    Alert, Campaign, CampaignEvent, CampaignId, CampaignMember, CampaignProfile, CampaignStatus, ScoreStats, Technique,
};
use serde_json::Value;

/// Parses the bundle on stdin strictly, then checks what the library lets through: every
/// reference resolves inside the bundle, timestamps have milliseconds and `Z`, `modified` is
/// not before `created`. Prints the number of objects of each type as JSON.
const VALIDATOR: &str = r#"
import collections, json, re, sys
import stix2
text = sys.stdin.read()
bundle = stix2.parse(text, allow_custom=False, version="2.1")
assert bundle.type == "bundle", bundle.type
ids = {obj.id for obj in bundle.objects}
assert len(ids) == len(bundle.objects), "duplicate ids"
stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
for obj in json.loads(text)["objects"]:
    assert obj.get("spec_version") == "2.1", obj["id"]
    for key in ("created", "modified", "first_seen", "last_seen", "first_observed", "last_observed"):
        assert key not in obj or stamp.match(obj[key]), "%s.%s: %s" % (obj["id"], key, obj[key])
    assert obj.get("modified", "") >= obj.get("created", ""), obj["id"]
    for key, value in obj.items():
        refs = value if key.endswith("_refs") else [value] if key.endswith("_ref") else []
        for ref in refs:
            assert ref in ids, "%s.%s points outside the bundle: %s" % (obj["id"], key, ref)
print(json.dumps(collections.Counter(obj.type for obj in bundle.objects)))
"#;

fn python() -> PathBuf {
    match std::env::var_os("INFODEMIC_STIX_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv-stix/bin/python"),
    }
}

/// Runs [`VALIDATOR`] on `bundle`; the counts of object types, or the validator's complaint.
fn validate(bundle: &Value) -> Result<BTreeMap<String, u64>, String> {
    let python = python();
    let how = "run `bash scripts/setup.sh --python-reference` (it creates .venv-stix/ with stix2==3.0.2), \
               or set INFODEMIC_STIX_PYTHON to a Python that has the stix2 package";
    let mut child = Command::new(&python)
        .args(["-c", VALIDATOR])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run the STIX validator {}: {error}; {how}", python.display()));
    child.stdin.take().unwrap().write_all(bundle.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named 'stix2'") {
        panic!("{} has no stix2 package; {how}", python.display());
    }
    if !output.status.success() {
        return Err(stderr.into_owned());
    }
    Ok(serde_json::from_slice(&output.stdout).unwrap())
}

fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 30, 15).unwrap() + Duration::hours(hours) + Duration::milliseconds(123)
}

/// A campaign with feed text that is hostile to every format, techniques and a fact-check.
fn campaign(id: u64, status: CampaignStatus, url: &str) -> Campaign {
    let mut scores = ScoreStats::default();
    scores.add(0.91);
    Campaign {
        id: CampaignId(id),
        status,
        representative: CampaignMember {
            id: format!("item-{id}"),
            url: url.to_owned(),
            text: "<script>alert(1)</script> \"Vaccines\" & magnets\u{1b}[2J\u{0}\r\n\u{202e}=cmd|' /C calc'!A0 疫苗"
                .to_owned(),
            time: Some(at(1)),
            source: "news.example".to_owned(),
            account: Some("@anti_vax".to_owned()),
            score: Some(0.91),
        },
        representative_similarity: 0.8,
        first_seen: at(0),
        last_seen: at(30),
        size: 14,
        sources: BTreeMap::from([("news.example".to_owned(), 9), ("=evil.example".to_owned(), 5)]),
        accounts: BTreeMap::from([("@anti_vax".to_owned(), 14)]),
        languages: BTreeMap::from([("en".to_owned(), 14)]),
        hourly: BTreeMap::from([(at(0).timestamp() / 3600, 4), (at(30).timestamp() / 3600, 10)]),
        fact_checks: BTreeMap::from([
            ("claim-1".to_owned(), "https://factcheck.example/1".to_owned()),
            ("claim-2".to_owned(), "Magnets do not stick to vaccinated arms".to_owned()),
        ]),
        scores,
        techniques: vec![
            Technique {
                id: "T0049".to_owned(),
                name: "Flood Information Space".to_owned(),
                evidence: "40 posts in an hour".to_owned(),
            },
            Technique { id: "T0084.001".to_owned(), name: "Use Copypasta".to_owned(), evidence: String::new() },
        ],
        history: vec![
            CampaignEvent::Opened { at: at(0), item: format!("item-{id}") },
            CampaignEvent::Technique { at: at(3), id: "T0049".to_owned() },
            CampaignEvent::Alert { at: at(30), summary: "surge".to_owned() },
        ],
        profile: CampaignProfile {
            terms: BTreeMap::from([("magnets".to_owned(), 2.0), ("vaccines".to_owned(), 1.0)]),
            ..CampaignProfile::default()
        },
    }
}

fn alert(campaign: u64, seq: u64, hours: i64) -> Alert {
    Alert {
        seq,
        campaign: CampaignId(campaign),
        at: at(hours),
        kind: "cusum".to_owned(),
        summary: "items rose to 10 an hour \u{1b}]52;c;x\u{7} <b>".to_owned(),
        size: 14,
    }
}

#[test]
fn bundles_parse_strictly_with_the_stix2_library() {
    let mut absorber = campaign(12, CampaignStatus::Active, "https://news.example/story?a=1&b=\"2\"");
    absorber.history.push(CampaignEvent::Absorbed { at: at(20), from: CampaignId(7) });
    let merged = campaign(7, CampaignStatus::Merged { into: CampaignId(12) }, "javascript:alert(1)");
    let campaigns = [absorber, merged];
    let alerts = [alert(12, 1, 30), alert(7, 2, 10), alert(99, 3, 5)];
    let bundle = stix_bundle(&campaigns, &alerts, at(48));

    let counts =
        validate(&bundle).unwrap_or_else(|complaint| panic!("stix2 rejected the bundle:\n{complaint}\n{bundle:#}"));
    let expected: BTreeMap<String, u64> = [
        ("identity", 1),
        ("campaign", 2),
        ("attack-pattern", 2),
        // 2 x 2 `uses`, c12's representative, c7 merged into c12.
        ("relationship", 6),
        // Only c12's URL is http(s); c7's `javascript:` is no observable.
        ("url", 1),
        ("observed-data", 1),
        // Alerts on c12 and on c7; c99 is not in the bundle.
        ("note", 2),
    ]
    .into_iter()
    .map(|(kind, count)| (kind.to_owned(), count))
    .collect();
    assert_eq!(counts, expected);

    // Re-exporting later gives the same objects, so platforms see no new versions.
    assert_eq!(stix_bundle(&campaigns, &alerts, at(500))["objects"], bundle["objects"]);
}

#[test]
fn empty_and_edge_case_bundles_are_valid_too() {
    let empty = stix_bundle(&[], &[], at(0));
    assert_eq!(validate(&empty).unwrap().get("identity"), Some(&1));

    // Exported before its own last item (clock skew in a feed), no techniques, no scores, an
    // empty representative.
    let mut odd = campaign(3, CampaignStatus::Active, "");
    odd.techniques.clear();
    odd.scores = ScoreStats::default();
    odd.representative.text = String::new();
    odd.representative.time = None;
    odd.last_seen = odd.first_seen - Duration::hours(1);
    let bundle = stix_bundle(&[odd], &[], at(-5));
    let counts =
        validate(&bundle).unwrap_or_else(|complaint| panic!("stix2 rejected the bundle:\n{complaint}\n{bundle:#}"));
    assert_eq!(counts.get("campaign"), Some(&1));
}

#[test]
fn the_validator_rejects_what_stix_does_not_allow() {
    let mut bundle = stix_bundle(&[campaign(1, CampaignStatus::Active, "https://a.example/")], &[], at(40));
    bundle["objects"][1]["x_custom"] = Value::String("custom property".to_owned());
    assert!(validate(&bundle).is_err());
    let mut bundle = stix_bundle(&[campaign(1, CampaignStatus::Active, "https://a.example/")], &[], at(40));
    bundle["objects"][1]["created"] = Value::String("2026-03-02T08:30:15Z".to_owned());
    assert!(validate(&bundle).is_err());
}
