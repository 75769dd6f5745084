//! `--store postgres://`: the same commands, the same answers, the items in PostgreSQL.
//!
//! The server is the test PostgreSQL that `scripts/postgres.sh` starts (`INFODEMIC_TEST_POSTGRES`);
//! without it these tests fail. Each test uses a database of its own.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::support::{infodemic, json_lines, stderr};

/// A new, empty database on the test server, as a `--store` URL.
pub(crate) fn fresh_database() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let server = std::env::var("INFODEMIC_TEST_POSTGRES")
        .expect("INFODEMIC_TEST_POSTGRES is not set: run `eval \"$(bash scripts/postgres.sh start)\"` first");
    let name = format!("e2e_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    // One statement each: PostgreSQL runs neither inside a transaction block.
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
    admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// `infodemic ARGS --json` against `store` (or the data dir when `None`), which must succeed.
pub(crate) fn run_json(data: &Path, store: Option<&str>, args: &[&str]) -> Vec<Value> {
    let mut command = infodemic(data);
    command.args(args).arg("--json");
    if let Some(url) = store {
        command.args(["--store", url]);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    json_lines(&output)
}

/// A replay stream: one claim from five sources within an hour.
fn write_claim_stream(path: &Path) {
    let lines: Vec<String> = (0..5)
        .map(|i| {
            serde_json::json!({
                "id": format!("claim-{i}"), "text": "drinking bleach cures the coronavirus in hours, doctors hide it",
                "time": format!("2026-12-01T08:{:02}:00Z", i * 9), "url": format!("https://s{i}.example/{i}"),
                "source": format!("s{i}.example")
            })
            .to_string()
        })
        .collect();
    std::fs::write(path, lines.join("\n")).unwrap();
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect()
}

/// An unscored crawl of the sample feeds into PostgreSQL answers `query`, `show` and `stats`
/// exactly as the same crawl into the embedded store does, and a second crawl adds nothing;
/// `rescore` then scores both alike, and a second `rescore` finds nothing left.
#[test]
fn a_crawl_into_postgres_answers_like_the_embedded_store() {
    let url = fresh_database();
    let (pg_data, sled_data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // One feed at a time: which of two syndicated copies is stored first, and the fetch times
    // of items without a date, are then the same in both crawls.
    let crawl = ["crawl", "--no-score", "--feeds", "feeds/samples.toml", "--concurrency", "1"];
    let into_pg = run_json(pg_data.path(), Some(&url), &crawl).remove(0);
    let into_sled = run_json(sled_data.path(), None, &crawl).remove(0);
    let stored = into_pg["items_new"].as_u64().unwrap();
    assert!(stored > 10, "{into_pg}");
    for field in ["items_new", "items_duplicate", "items_unscored", "feeds_total"] {
        assert_eq!(into_pg[field], into_sled[field], "{field}");
    }
    assert!(!pg_data.path().join("store").exists(), "nothing went to the data directory");

    for query in [
        vec!["query", "--limit", "1000"],
        vec!["query", "--limit", "5"],
        vec!["query", "--text", "vaccin", "--limit", "1000"],
        vec!["query", "--source", "sample-npha-news", "--limit", "1000"],
        vec!["query", "--since", "2020-01-01", "--sort", "score", "--limit", "7"],
    ] {
        let (pg, sled) = (run_json(pg_data.path(), Some(&url), &query), run_json(sled_data.path(), None, &query));
        assert_eq!(ids(&pg), ids(&sled), "{query:?}");
    }
    let all = run_json(pg_data.path(), Some(&url), &["query", "--limit", "1000"]);
    assert_eq!(all.len() as u64, stored);
    let first = all[0]["id"].as_str().unwrap();
    let mut shown = run_json(pg_data.path(), Some(&url), &["show", first]).remove(0);
    let mut expected = run_json(sled_data.path(), None, &["show", first]).remove(0);
    // The two crawls ran at different moments; everything else is the same.
    for item in [&mut shown, &mut expected] {
        item.as_object_mut().unwrap().remove("fetched_at");
    }
    assert_eq!(shown, expected);

    let (pg_stats, sled_stats) = (
        run_json(pg_data.path(), Some(&url), &["stats"]).remove(0),
        run_json(sled_data.path(), None, &["stats"]).remove(0),
    );
    for field in ["total", "per_day", "per_source", "per_label", "per_language", "feeds", "feeds_failing"] {
        assert_eq!(pg_stats[field], sled_stats[field], "{field}");
    }

    let again = run_json(pg_data.path(), Some(&url), &crawl).remove(0);
    assert_eq!(again["items_new"], 0, "{again}");
    let after: BTreeSet<String> =
        ids(&run_json(pg_data.path(), Some(&url), &["query", "--limit", "1000"])).into_iter().collect();
    assert_eq!(after.len() as u64, stored);

    let (pg, sled) =
        (run_json(pg_data.path(), Some(&url), &["rescore"]), run_json(sled_data.path(), None, &["rescore"]));
    let (pg, sled) = (&pg[0], &sled[0]);
    assert_eq!(pg["items_rescored"].as_u64(), Some(stored), "{pg}");
    for field in ["items_seen", "items_rescored", "flagged_before", "flagged_after", "model"] {
        assert_eq!(pg[field], sled[field], "{field}");
    }
    assert!(pg["flagged_after"].as_u64().unwrap() > 0, "the samples hold misinformation: {pg}");
    let by_score = ["query", "--sort", "score", "--limit", "1000"];
    let (pg_items, sled_items) =
        (run_json(pg_data.path(), Some(&url), &by_score), run_json(sled_data.path(), None, &by_score));
    assert_eq!(ids(&pg_items), ids(&sled_items), "the score order moved with the scores");
    let scores = |items: &[Value]| items.iter().map(|item| item["score"].clone()).collect::<Vec<_>>();
    assert_eq!(scores(&pg_items), scores(&sled_items));
    let flagged = run_json(pg_data.path(), Some(&url), &["query", "--flagged", "--limit", "1000"]);
    assert_eq!(Some(flagged.len() as u64), pg["flagged_after"].as_u64());
    let pg_stats = run_json(pg_data.path(), Some(&url), &["stats"]).remove(0);
    let sled_stats = run_json(sled_data.path(), None, &["stats"]).remove(0);
    for field in ["total", "per_source", "per_label"] {
        assert_eq!(pg_stats[field], sled_stats[field], "{field} after rescore");
    }
    let again = run_json(pg_data.path(), Some(&url), &["rescore"]).remove(0);
    assert_eq!((again["items_rescored"].as_u64(), again["items_current"].as_u64()), (Some(0), Some(stored)));
    let verified = run_json(pg_data.path(), Some(&url), &["stats", "--verify"]).remove(0);
    assert_eq!(verified["total"]["items"].as_u64(), Some(stored), "verified, then counted");

    // Review: the same queue; a verdict, a second reviewer's, an undo; the queue moves on.
    let queue = ["review", "queue", "--limit", "100"];
    let (pg_queue, sled_queue) =
        (run_json(pg_data.path(), Some(&url), &queue), run_json(sled_data.path(), None, &queue));
    assert_eq!(ids(&pg_queue), ids(&sled_queue));
    let first = pg_queue[0]["id"].as_str().unwrap().to_owned();
    for (data, store) in [(pg_data.path(), Some(url.as_str())), (sled_data.path(), None)] {
        run_json(data, store, &["review", &first, "--verdict", "false", "--reviewer", "ana"]);
        run_json(data, store, &["review", &first, "--verdict", "true", "--reviewer", "ben"]);
        run_json(data, store, &["review", "undo", &first, "--reviewer", "ben"]);
    }
    let (pg_shown, sled_shown) =
        (run_json(pg_data.path(), Some(&url), &["show", &first]), run_json(sled_data.path(), None, &["show", &first]));
    assert_eq!(pg_shown[0]["verdict"], "false");
    for field in ["verdict", "agreement"] {
        assert_eq!(pg_shown[0][field], sled_shown[0][field], "{field}");
    }
    assert_eq!(pg_shown[0]["standing"].as_array().unwrap().len(), 1, "ben's verdict was undone");
    let events = |shown: &Value| {
        shown["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["action"].clone(), e["verdict"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(events(&pg_shown[0]), events(&sled_shown[0]));
    assert_eq!(events(&pg_shown[0]).len(), 3);
    let after = run_json(pg_data.path(), Some(&url), &queue);
    assert_eq!(ids(&after), ids(&pg_queue)[1..].to_vec(), "the reviewed item left the queue");

    // A dataset export: the same rows, the reviewed one with its verdict.
    let export = |data: &Path, store: Option<&str>| {
        let file = data.join("export.jsonl");
        let mut command = infodemic(data);
        command.args(["export", "--format", "jsonl", "--out", file.to_str().unwrap()]);
        if let Some(url) = store {
            command.args(["--store", url]);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let text = std::fs::read_to_string(file).unwrap();
        let rows: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        rows
    };
    let (pg_rows, sled_rows) = (export(pg_data.path(), Some(&url)), export(sled_data.path(), None));
    assert_eq!(pg_rows.len() as u64, stored);
    assert_eq!(ids(&pg_rows), ids(&sled_rows));
    let row = pg_rows.iter().find(|row| row["id"] == first.as_str()).unwrap();
    assert_eq!((&row["verdict"], &row["verdict_count"]), (&Value::from("false"), &Value::from(1)), "{row}");
}

/// A command that reads the embedded store (`migrate`'s source) while a PostgreSQL store is
/// named says so, and never falls back to the data directory.
#[test]
fn commands_the_postgres_store_does_not_serve_say_so() {
    let url = fresh_database();
    let data = tempfile::tempdir().unwrap();
    let output =
        infodemic(data.path()).args(["migrate", "--to", url.as_str(), "--store", url.as_str()]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("embedded store"), "{}", stderr(&output));
    assert!(!data.path().join("store").exists(), "migrate opened the data directory");
    // A URL that is not PostgreSQL's is a usage error; a server that is not there, an error
    // that names it.
    let output = infodemic(data.path()).args(["query", "--store", "/var/lib/db"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let output = infodemic(data.path())
        .args(["query", "--store", "postgres://ann:s3cret@127.0.0.1:1/news?connect_timeout=2"])
        .output()
        .unwrap();
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(message.contains("127.0.0.1:1") && !message.contains("s3cret"), "{message}");
}

/// `migrate --to` copies the embedded store: the same answers from PostgreSQL afterwards, and a
/// second run (a resumed one) stores nothing twice.
#[test]
fn migrate_copies_the_embedded_store_and_resumes_without_duplicates() {
    let url = fresh_database();
    let data = tempfile::tempdir().unwrap();
    run_json(data.path(), None, &["crawl", "--no-score", "--feeds", "feeds/samples.toml"]);
    let before = run_json(data.path(), None, &["query", "--limit", "1000"]);
    // Claims, a subscription and campaigns go too.
    run_json(data.path(), None, &["claims", "import", "tests/fixtures/claims/imports/claims.csv"]);
    let feed = ["feeds", "add", "http://127.0.0.1:9/feed.xml", "--id", "who-news", "--category", "authority"];
    let output = infodemic(data.path()).args(feed).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let stream = data.path().join("stream.jsonl");
    write_claim_stream(&stream);
    run_json(data.path(), None, &["campaigns", "replay", stream.to_str().unwrap(), "--all"]);
    let campaigns_before = run_json(data.path(), None, &["campaigns", "--limit", "0", "--status", "all"]);
    assert!(!campaigns_before.is_empty());
    let reviewed = before[0]["id"].as_str().unwrap().to_owned();
    run_json(data.path(), None, &["review", &reviewed, "--verdict", "false", "--reviewer", "ana"]);
    run_json(data.path(), None, &["review", &reviewed, "--verdict", "misleading", "--reviewer", "ben"]);

    let first = run_json(data.path(), None, &["migrate", "--to", url.as_str()]).remove(0);
    assert_eq!(first["items_read"].as_u64(), Some(before.len() as u64), "{first}");
    assert_eq!(first["items_stored"], first["items_read"], "{first}");
    let after = run_json(data.path(), Some(&url), &["query", "--limit", "1000"]);
    assert_eq!(after, before, "every item, whole, in the same order");
    let (pg, sled) =
        (run_json(data.path(), Some(&url), &["stats"]).remove(0), run_json(data.path(), None, &["stats"]).remove(0));
    for field in ["total", "per_day", "per_source", "per_label", "feeds"] {
        assert_eq!(pg[field], sled[field], "{field}");
    }
    // The syndicated copy in the samples: stored once, its other copy an appearance.
    let leaked = run_json(data.path(), None, &["query", "--text", "insider admits", "--limit", "10"]);
    let id = leaked[0]["id"].as_str().unwrap();
    let appearances = run_json(data.path(), None, &["show", id]).remove(0)["appearances"].clone();
    assert!(!appearances.as_array().unwrap().is_empty(), "{appearances}");
    assert_eq!(run_json(data.path(), Some(&url), &["show", id]).remove(0)["appearances"], appearances);

    assert_eq!(first["claims"], 5, "{first}");
    let campaigns_after = run_json(data.path(), Some(&url), &["campaigns", "--limit", "0", "--status", "all"]);
    assert_eq!(campaigns_after, campaigns_before, "campaigns, members and history, whole");
    assert_eq!(
        run_json(data.path(), Some(&url), &["alerts"]),
        run_json(data.path(), None, &["alerts"]),
        "the same alerts"
    );
    // Verdicts: the same log and head; a verdict recorded after the copy comes after it.
    let (pg_shown, sled_shown) =
        (run_json(data.path(), Some(&url), &["show", &reviewed]), run_json(data.path(), None, &["show", &reviewed]));
    for field in ["verdict", "agreement", "standing", "verdicts"] {
        assert_eq!(pg_shown[0][field], sled_shown[0][field], "{field}");
    }
    run_json(data.path(), Some(&url), &["review", &reviewed, "--verdict", "false", "--reviewer", "ben"]);
    let shown = run_json(data.path(), Some(&url), &["show", &reviewed]).remove(0);
    let seqs: Vec<u64> = shown["verdicts"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.len() == 3 && seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(shown["agreement"], "agreed", "{shown}");
    let feeds = run_json(data.path(), Some(&url), &["feeds", "list"]);
    assert!(feeds.iter().any(|f| f["id"] == "who-news" && f["category"] == "authority"), "{feeds:?}");

    let again = run_json(data.path(), None, &["migrate", "--to", url.as_str()]).remove(0);
    assert_eq!((again["claims"].as_u64(), again["campaigns"].as_u64()), (Some(0), first["campaigns"].as_u64()));
    assert_eq!(first["verdicts"], 2, "{first}");
    let shown = run_json(data.path(), Some(&url), &["show", &reviewed]).remove(0);
    assert_eq!(shown["verdicts"].as_array().unwrap().len(), 3, "the verdict recorded since is kept");
    assert_eq!(shown["agreement"], "agreed", "the head follows the whole log: {shown}");
    assert_eq!(run_json(data.path(), Some(&url), &["campaigns", "--limit", "0", "--status", "all"]), campaigns_before);
    assert_eq!(again["items_stored"], 0, "{again}");
    assert_eq!(again["items_present"], first["items_read"], "{again}");
    assert_eq!(run_json(data.path(), Some(&url), &["query", "--limit", "1000"]).len(), before.len());
}

/// `store` in the data directory's config.toml selects PostgreSQL as `--store` does; the flag
/// wins over the file; a misspelt key is the user's error, naming the file.
#[test]
fn the_config_file_names_the_store() {
    let url = fresh_database();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("config.toml"), format!("store = \"{url}\"\n")).unwrap();
    let add = ["feeds", "add", "http://127.0.0.1:9/feed.xml", "--id", "who-news"];
    let output = infodemic(data.path()).args(add).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let feeds = run_json(data.path(), None, &["feeds", "list"]);
    assert_eq!(feeds.len(), 1);
    assert!(!data.path().join("store").exists(), "nothing went to the data directory");
    let elsewhere = fresh_database();
    assert!(run_json(data.path(), Some(&elsewhere), &["feeds", "list"]).is_empty(), "--store wins");

    std::fs::write(data.path().join("config.toml"), format!("stor = \"{url}\"\n")).unwrap();
    let output = infodemic(data.path()).args(["feeds", "list"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("config.toml") && stderr(&output).contains("stor"), "{}", stderr(&output));
}

/// `import` and `campaigns replay` into PostgreSQL give what they give into the embedded store:
/// the same import summary and verdicts, the same campaigns.
#[test]
fn import_and_replay_into_postgres_answer_like_the_embedded_store() {
    let url = fresh_database();
    let (pg_data, sled_data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let labels = "tests/fixtures/import/labels.jsonl";
    let import = ["import", labels, "--origin", "dataset-x", "-q"];
    let (pg, sled) = (run_json(pg_data.path(), Some(&url), &import), run_json(sled_data.path(), None, &import));
    for field in ["rows_read", "items_added", "verdicts_recorded"] {
        assert_eq!(pg[0][field], sled[0][field], "{field}: {}", pg[0]);
    }
    assert!(pg[0]["items_added"].as_u64().unwrap() > 0, "{}", pg[0]);
    let reviewed = ["query", "--limit", "100"];
    let (pg_items, sled_items) =
        (run_json(pg_data.path(), Some(&url), &reviewed), run_json(sled_data.path(), None, &reviewed));
    assert_eq!(ids(&pg_items), ids(&sled_items));
    for id in ids(&pg_items) {
        let (a, b) =
            (run_json(pg_data.path(), Some(&url), &["show", &id]), run_json(sled_data.path(), None, &["show", &id]));
        assert_eq!(a[0]["verdict"], b[0]["verdict"], "{id}");
    }

    let stream = pg_data.path().join("stream.jsonl");
    write_claim_stream(&stream);
    let replay = ["campaigns", "replay", stream.to_str().unwrap(), "--all"];
    let (pg, sled) = (run_json(pg_data.path(), Some(&url), &replay), run_json(sled_data.path(), None, &replay));
    assert_eq!(pg, sled, "the same campaign for each line");
    let list = ["campaigns", "--limit", "0"];
    assert_eq!(run_json(pg_data.path(), Some(&url), &list), run_json(sled_data.path(), None, &list));
}

/// A crawl that scores, into PostgreSQL, gives what it gives into the embedded store: the same
/// summary (items, flags, claims learnt from fact-checkers' pages, campaigns), the same items by
/// score, the same campaigns; a campaign worker holding the campaign lock makes it refuse.
#[test]
fn a_scored_crawl_into_postgres_answers_like_the_embedded_store() {
    let url = fresh_database();
    let (pg_data, sled_data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let crawl = ["crawl", "--feeds", "feeds/samples.toml", "--concurrency", "1"];
    let (pg, sled) = (run_json(pg_data.path(), Some(&url), &crawl), run_json(sled_data.path(), None, &crawl));
    for field in ["items_new", "items_flagged", "items_matching_claims", "claims_added", "items_in_campaigns"] {
        assert_eq!(pg[0][field], sled[0][field], "{field}: {}", pg[0]);
    }
    assert!(pg[0]["items_flagged"].as_u64().unwrap() > 0, "{}", pg[0]);
    let by_score = ["query", "--sort", "score", "--limit", "1000"];
    let (pg_items, sled_items) =
        (run_json(pg_data.path(), Some(&url), &by_score), run_json(sled_data.path(), None, &by_score));
    assert_eq!(ids(&pg_items), ids(&sled_items));
    let list = ["campaigns", "--limit", "0", "--status", "all"];
    assert_eq!(run_json(pg_data.path(), Some(&url), &list), run_json(sled_data.path(), None, &list));
    run_json(pg_data.path(), Some(&url), &["stats", "--verify"]);

    // Another process holds the campaign lock, as a campaign worker does (class "camp" in ASCII,
    // keyed by the schema): a scoring crawl is refused.
    let mut holder = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    holder.batch_execute("SELECT pg_advisory_lock(1667329392, hashtext(current_schema()))").unwrap();
    let output = infodemic(pg_data.path()).args(crawl).args(["--store", url.as_str()]).output().unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("campaign worker"), "{}", stderr(&output));
}
