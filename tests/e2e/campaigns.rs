use std::io::Write as _;
use std::path::Path;

use crate::support::{infodemic, json_lines, run, stderr, stdout, workspace};

/// A replay stream: one claim copied and reworded by five sources within an hour, among
/// unrelated lines, one undated.
fn write_stream(path: &Path, offset_minutes: i64, prefix: &str) {
    let claim = "drinking bleach cures the coronavirus in hours and doctors hide it";
    let variants = ["", " share before they delete this", " #wakeup", " must read", " they lied"];
    let background = [
        "city council approves new budget for road repairs",
        "local team wins the regional football final",
        "museum opens an exhibition of medieval maps",
        "heavy rain expected across the north this weekend",
        "bakery celebrates fifty years with free bread",
    ];
    let mut file = std::fs::File::create(path).unwrap();
    for i in 0..5 {
        let minute = offset_minutes + i * 9;
        let time = chrono::DateTime::from_timestamp(1_700_000_000 + minute * 60, 0).unwrap().to_rfc3339();
        let line = serde_json::json!({
            "id": format!("{prefix}claim-{i}"), "text": format!("{claim}{}", variants[i as usize]),
            "time": time, "url": format!("https://s{i}.example/{prefix}{i}"), "source": format!("s{i}.example"),
            "account": format!("@acct{i}")
        });
        writeln!(file, "{line}").unwrap();
        let other = serde_json::json!({
            "id": format!("{prefix}other-{i}"), "text": background[i as usize],
            "time": if i == 2 { serde_json::Value::Null } else { time.into() },
            "url": format!("https://news.example/{prefix}{i}"), "host": "news.example"
        });
        writeln!(file, "{other}").unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_streams_form_campaigns_that_list_show_plot_and_export() {
    let data = tempfile::tempdir().unwrap();
    let first = data.path().join("first.jsonl");
    let second = data.path().join("second.jsonl");
    write_stream(&first, 0, "a-");
    write_stream(&second, 120, "b-");

    let mut replay = infodemic(data.path());
    replay.args(["campaigns", "replay", first.to_str().unwrap(), "--all", "--json"]);
    let output = run(replay).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 10, "one line per input");
    let campaign_of = |lines: &[serde_json::Value], id: &str| {
        lines.iter().find(|l| l["id"] == id).unwrap()["campaign"].as_str().unwrap().to_owned()
    };
    let claim = campaign_of(&lines, "a-claim-0");
    for i in 1..5 {
        assert_eq!(campaign_of(&lines, &format!("a-claim-{i}")), claim, "{lines:?}");
    }
    for i in 0..5 {
        assert_ne!(campaign_of(&lines, &format!("a-other-{i}")), claim);
    }

    // The second file continues the same campaign: state lives in the data dir.
    let mut replay = infodemic(data.path());
    replay.args(["campaigns", "replay", second.to_str().unwrap(), "--all", "--json"]);
    let lines = json_lines(&run(replay).await);
    assert_eq!(campaign_of(&lines, "b-claim-3"), claim);

    let mut list = infodemic(data.path());
    list.args(["campaigns", "--json", "--min-size", "2"]);
    let campaigns = json_lines(&run(list).await);
    let listed = campaigns.iter().find(|c| c["id"] == claim.as_str()).unwrap();
    assert_eq!(listed["size"], 10);
    assert_eq!(listed["sources"].as_array().unwrap().len(), 5);
    for key in ["first_seen", "last_seen", "representative"] {
        assert!(!listed[key].is_null(), "{key} missing: {listed}");
    }
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    assert!(items.iter().all(|i| i["id"].is_string() && i["url"].as_str().unwrap().starts_with("https://s")));
    assert!(listed["techniques"].as_array().unwrap().iter().any(|t| t["id"] == "T0084.001"), "{listed}");

    let mut show = infodemic(data.path());
    show.args(["campaigns", "show", "a-claim-2", "--json", "--window", "1h"]);
    let shown = json_lines(&run(show).await).remove(0);
    assert_eq!(shown["id"], claim.as_str(), "an item id shows its campaign");
    assert!(shown["history"].as_array().unwrap().iter().any(|e| e["event"] == "alert"), "{shown}");
    assert!(!shown["edges"].as_array().unwrap().is_empty(), "copies by accounts minutes apart: {shown}");
    let mut show = infodemic(data.path());
    show.args(["campaigns", "show", &claim]);
    let text = stdout(&run(show).await);
    assert!(text.contains("Timeline:") && text.contains("Use Copypasta") && text.contains("History:"), "{text}");

    let mut alerts = infodemic(data.path());
    alerts.args(["alerts", "--json"]);
    let alerts = json_lines(&run(alerts).await);
    assert!(alerts.iter().any(|a| a["campaign"] == claim.as_str() && a["kind"] == "opening"), "{alerts:?}");

    for file in ["timeline.svg", "timeline.png"] {
        let out = data.path().join(file);
        let mut plot = infodemic(data.path());
        plot.args(["campaigns", "plot", &claim, "--out", out.to_str().unwrap()]);
        let output = run(plot).await;
        assert!(output.status.success(), "{}", stderr(&output));
        let bytes = std::fs::read(&out).unwrap();
        if file.ends_with(".png") {
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        } else {
            assert!(String::from_utf8(bytes).unwrap().contains("<svg"));
        }
    }

    let export = |format: &str| {
        let mut command = infodemic(data.path());
        command.args(["campaigns", "export", "--format", format]);
        command
    };
    let stix: serde_json::Value = serde_json::from_slice(&run(export("stix")).await.stdout).unwrap();
    assert_eq!(stix["type"], "bundle");
    assert!(stix["objects"].as_array().unwrap().iter().any(|o| o["type"] == "campaign"));
    let gexf = stdout(&run(export("gexf")).await);
    assert!(gexf.contains("<gexf") && gexf.contains("@acct0"), "{gexf}");
    let csv = stdout(&run(export("csv")).await);
    assert!(csv.lines().count() >= 2 && csv.contains(&claim), "{csv}");
    let json = json_lines(&run(export("json")).await);
    assert!(json.iter().any(|c| c["id"] == claim.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_all_only_what_the_model_flags_for_review_is_assigned() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("mixed.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"id": "m1", "text": "5G towers spread the coronavirus, the government is hiding it from you", "time": "2026-11-20T10:00:00Z", "url": "https://x.example/1", "source": "x"}"#,
            "\n",
            r#"{"id": "m2", "text": "The library is closed on Monday for the public holiday.", "time": "2026-11-20T11:00:00Z", "url": "https://y.example/2", "source": "y"}"#,
            "\n"
        ),
    )
    .unwrap();
    let mut replay = infodemic(data.path());
    replay.args(["campaigns", "replay", file.to_str().unwrap(), "--json"]);
    let output = run(replay).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = json_lines(&output);
    assert!(lines[0]["campaign"].is_string(), "{lines:?}");
    assert!(lines[1]["campaign"].is_null(), "{lines:?}");
}

#[test]
fn bad_replay_lines_are_named_and_nothing_is_assigned() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("bad.jsonl");
    std::fs::write(&file, "{\"id\": \"ok\", \"text\": \"fine\"}\n{\"text\": \"no id\"}\n{oops\n").unwrap();
    let output =
        infodemic(data.path()).args(["campaigns", "replay", file.to_str().unwrap(), "--all"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("line 2") && message.contains("line 3") && message.contains("nothing was assigned"));
    let listed = infodemic(data.path()).args(["campaigns", "--json"]).output().unwrap();
    assert!(stdout(&listed).trim().is_empty(), "{}", stdout(&listed));
}

#[test]
fn coordination_reads_coortweet_shares_and_prints_the_edges() {
    let data = tempfile::tempdir().unwrap();
    let shares = workspace().join("crates/infodemic-campaigns/tests/fixtures/coordination/shares.csv");
    let output = infodemic(data.path())
        .args(["campaigns", "coordination", shares.to_str().unwrap(), "--window", "10s", "--min-participation", "2"])
        .arg("--json")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let edges = json_lines(&output);
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(workspace().join("crates/infodemic-campaigns/tests/fixtures/coordination/network.json"))
            .unwrap(),
    )
    .unwrap();
    let expected = expected["edges"].as_array().unwrap();
    assert_eq!(edges.len(), expected.len());
    for (edge, want) in edges.iter().zip(expected) {
        for key in ["account_a", "account_b", "weight", "objects"] {
            assert_eq!(edge[key], want[key], "{key}: {edge} vs {want}");
        }
    }
    let filtered = infodemic(data.path())
        .args(["campaigns", "coordination", shares.to_str().unwrap(), "--filtered", "--json"])
        .output()
        .unwrap();
    assert!(json_lines(&filtered).iter().all(|e| e["weight_threshold"] == 1));

    let missing = infodemic(data.path()).args(["campaigns", "coordination", "/nonexistent.csv"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
}
