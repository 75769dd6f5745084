use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{infodemic, json_lines, run, stdout};

/// Control characters a hostile feed puts in its titles and authors: OSC 52 (write the
/// clipboard), OSC 8 (a disguised link), a C1 CSI, a cursor move and a carriage return.
const HOSTILE_TITLE: &str =
    "Vaccine news \u{1b}]52;c;ZXZpbA==\u{7} \u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\ \u{9b}31m\u{1b}[2A\rend";

fn hostile_feed() -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
        <item><title>{}</title><link>https://hostile.example/a</link><author>x@example.org ({})</author>
        <description>Health agencies recommend measles vaccination for every child before school starts.</description></item>
        <item><title>=HYPERLINK("https://evil.example","Click")</title><link>https://hostile.example/b</link>
        <description>@SUM(A1) spreadsheet formula injection in a description about vaccines.</description></item>
        </channel></rss>"#,
        escape(HOSTILE_TITLE),
        escape(HOSTILE_TITLE)
    )
}

fn has_controls(text: &str) -> bool {
    text.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_never_reach_the_terminal_and_csv_cells_are_not_formulas() {
    let server = MockServer::start().await;
    Mock::given(path("/hostile.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_string(hostile_feed()))
        .mount(&server)
        .await;
    let data = tempfile::tempdir().unwrap();
    let mut crawl = infodemic(data.path());
    crawl.args(["crawl", "--url", &format!("{}/hostile.xml", server.uri())]);
    let output = run(crawl).await;
    assert!(output.status.success(), "{output:?}");
    assert!(!has_controls(&stdout(&output)), "crawl summary");

    // The store keeps the text as the feed gave it; only what is shown is made safe.
    let mut json = infodemic(data.path());
    json.args(["query", "--json"]);
    let items = json_lines(&run(json).await);
    let id = items.iter().find(|i| i["url"] == "https://hostile.example/a").unwrap()["id"].as_str().unwrap().to_owned();

    for args in [vec!["query"], vec!["show", id.as_str()], vec!["feeds", "list"], vec!["stats"]] {
        let mut command = infodemic(data.path());
        command.args(&args);
        let output = run(command).await;
        assert!(output.status.success(), "{args:?}: {output:?}");
        let text = stdout(&output);
        assert!(!has_controls(&text), "{args:?} printed a control character: {text:?}");
    }
    let mut show = infodemic(data.path());
    show.args(["show", &id]);
    assert!(stdout(&run(show).await).contains("Vaccine news"), "the text around the controls stays");

    let mut csv = infodemic(data.path());
    csv.args(["query", "--csv"]);
    let output = run(csv).await;
    let text = stdout(&output);
    assert!(!has_controls(&text.replace("\r\n", "\n")), "{text:?}");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let formula = rows.iter().find(|r| &r[column("url")] == "https://hostile.example/b").unwrap();
    assert!(formula[column("title")].starts_with("'=HYPERLINK"), "{:?}", &formula[column("title")]);
    assert!(formula[column("text")].starts_with("'@SUM"), "{:?}", &formula[column("text")]);
}
