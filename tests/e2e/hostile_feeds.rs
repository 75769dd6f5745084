use std::time::{Duration, Instant};

use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{fixture, infodemic, json_lines, run, stderr};

/// The binary, with the real model, against feeds built to make it work without end: a
/// description of 20,000 short sentences (one scoring window per pair before the cap), 20,000
/// items, 100,000 nested elements, and server times beyond any calendar, beside a good feed.
/// The crawl ends in bounded time, the good feed is stored, and the store verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_feeds_cost_bounded_work_and_leave_the_good_feed_stored() {
    let server = MockServer::start().await;
    let item = |i: usize, text: &str| {
        format!("<item><title>Vaccine note {i}</title><link>https://hostile.example/{i}</link><description>{text}</description></item>")
    };
    let rss = |items: String| format!(r#"<rss version="2.0"><channel><title>t</title>{items}</channel></rss>"#);
    let sentences: String = (0..20_000).map(|i| format!("Vaccine fact number {i} is here. ")).collect();
    let nested = format!("{}measles{}", "&lt;b&gt;".repeat(100_000), "&lt;/b&gt;".repeat(100_000));
    let many: String = (0..20_000).map(|i| item(i, &format!("Flu shot clinic {i} opens."))).collect();
    let routes = [
        ("/sentences.xml", rss(item(1, &sentences)), ("Cache-Control", "max-age=99999999999999")),
        ("/nested.xml", rss(item(2, &nested)), ("Retry-After", "99999999999999999999")),
        ("/many.xml", rss(many), ("Expires", "Fri, 31 Dec 9999 23:59:59 GMT")),
    ];
    let mut args = vec!["crawl".to_owned(), "--json".to_owned(), "--max-body-mib".to_owned(), "16".to_owned()];
    for (route, body, (name, value)) in routes {
        Mock::given(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_string(body).insert_header(name, value))
            .mount(&server)
            .await;
        args.extend(["--url".to_owned(), format!("{}{route}", server.uri())]);
    }
    Mock::given(path("/good.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(fixture("reliable.xml")))
        .mount(&server)
        .await;
    args.extend(["--url".to_owned(), format!("{}/good.xml", server.uri())]);

    let data = tempfile::tempdir().unwrap();
    let mut crawl = infodemic(data.path());
    crawl.args(&args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let started = Instant::now();
    let child = crawl.spawn().unwrap();
    // Memory: the kernel's high-water mark of the process, read until it exits.
    let status_path = format!("/proc/{}/status", child.id());
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap());
    let mut peak_kib = 0u64;
    while !waiting.is_finished() {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            if let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        assert!(started.elapsed() < Duration::from_secs(600), "bounded time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let output = waiting.await.unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = json_lines(&output).remove(0);
    eprintln!("hostile crawl: peak RSS {} MiB", peak_kib / 1024);
    assert!(peak_kib > 0 && peak_kib < 768 * 1024, "peak RSS {} MiB", peak_kib / 1024);
    assert!(summary["feeds_failed"].as_array().unwrap().is_empty(), "{summary}");
    assert_eq!(summary["feeds_ok"], 4);
    let many =
        summary["feeds_partial"].as_array().unwrap().iter().find(|p| p["source"].as_str().unwrap().contains("many"));
    assert_eq!(many.unwrap()["entries"], 20_000, "the cap is said: {summary}");
    eprintln!("hostile crawl took {:.1} s", started.elapsed().as_secs_f64());

    let mut query = infodemic(data.path());
    query.args(["query", "--json", "--limit", "100000"]);
    let items = json_lines(&run(query).await);
    assert_eq!(items.iter().filter(|i| i["source"].as_str().unwrap().ends_with("good.xml")).count(), 3);
    let long = items.iter().find(|i| i["url"] == "https://hostile.example/1").unwrap();
    assert!(long["score"].is_number(), "the long text is scored: {long}");

    let mut verify = infodemic(data.path());
    verify.args(["stats", "--verify", "--json"]);
    assert!(run(verify).await.status.success());
}
