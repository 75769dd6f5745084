//! The review page in real headless Chromium, driven over WebDriver (chromedriver): a running
//! `watch` crawls flagged and hostile fixture items; the page must show hostile titles as text,
//! run no script but its own, and record verdicts from the keyboard under the name typed in
//! its header. Screenshots land in `target/test-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`bash scripts/setup.sh --browser`); the
//! test fails, never skips, without them.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use wiremock::matchers::path;
use wiremock::{Mock, ResponseTemplate};

use crate::support::{fixture_server, infodemic, json_lines, run, stderr, stdout, workspace};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The name `watch` records when a form carries none.
const DEFAULT_REVIEWER: &str = "watch-default";
/// The name typed into the page's header.
const REVIEWER: &str = "Ada Checker";
/// How long the first poll cycle (model load, crawl, scoring) may take.
const CRAWL_TIMEOUT: Duration = Duration::from_secs(180);
/// How long a page may take to react to a key or to load.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

const HOSTILE_SCRIPT_TITLE: &str = "Vaccines contain microchips that alter your DNA <script>window.__pwned=1</script>";
const HOSTILE_IMG_TITLE: &str =
    "Bleach cures coronavirus, Big Pharma hides it <img src=x onerror=\"window.__pwned=2\">";
const HOSTILE_TEXT_TAIL: &str = "<script>window.__pwned=4</script>";

/// A fictional outlet whose titles carry markup. The markup is escaped twice: the feed parser
/// reads titles and descriptions as HTML (one `<script>` level would be stripped as a tag), so
/// this way the stored title holds the markup as text, which is what the page must show.
/// The second item's link is `javascript:`; the crawler keeps only http(s) links.
const HOSTILE_FEED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- FICTIONAL hostile misinformation-style outlet for the review page test. -->
<rss version="2.0">
  <channel>
    <title>Hostile Health Truth</title>
    <link>https://hostile.example.org/</link>
    <description>Fictional fixture: markup in titles, a javascript: link.</description>
    <language>en</language>
    <item>
      <title>Vaccines contain microchips that alter your DNA &amp;lt;script&amp;gt;window.__pwned=1&amp;lt;/script&amp;gt;</title>
      <link>https://hostile.example.org/2026/03/microchips</link>
      <guid isPermaLink="false">hostile-1</guid>
      <pubDate>Sun, 08 Mar 2026 10:00:00 +0000</pubDate>
      <description>SHOCKING: doctors finally admit the vaccine contains microchips that alter your DNA. They don't want you to know. Share before it's deleted! &amp;lt;script&amp;gt;window.__pwned=4&amp;lt;/script&amp;gt;</description>
    </item>
    <item>
      <title>Bleach cures coronavirus, Big Pharma hides it &amp;lt;img src=x onerror=&amp;quot;window.__pwned=2&amp;quot;&amp;gt;</title>
      <link>javascript:window.__pwned=3</link>
      <guid isPermaLink="false">hostile-2</guid>
      <pubDate>Mon, 09 Mar 2026 10:00:00 +0000</pubDate>
      <description>This miracle cure costs pennies: a cup of diluted bleach a day kills the virus. The government hides it because Big Pharma can't profit from it.</description>
    </item>
  </channel>
</rss>
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_page_in_headless_chromium() {
    for (program, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(program).is_file(),
            "{program} is missing: this test needs Debian's {package}; run `bash scripts/setup.sh --browser`"
        );
    }
    let server = fixture_server().await;
    Mock::given(path("/browser/hostile.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_string(HOSTILE_FEED))
        .mount(&server)
        .await;
    let data = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    for (route, id) in [("/feeds/misinfo.xml", "truth-daily"), ("/browser/hostile.xml", "hostile")] {
        let mut add = infodemic(data.path());
        add.args(["feeds", "add", &format!("{}{route}", server.uri()), "--id", id]);
        let output = run(add).await;
        assert!(output.status.success(), "{}", stderr(&output));
    }

    let mut processes = Processes { watch: None, chromedriver: None, logs: scratch.path().to_owned() };
    let watch_log = std::fs::File::create(scratch.path().join("watch.log")).unwrap();
    processes.watch = Some(
        infodemic(data.path())
            .args(["watch", "--quiet", "--concurrency", "2", "--reviewer", DEFAULT_REVIEWER])
            .env("INFODEMIC_LOG", "info")
            .stdout(Stdio::null())
            .stderr(watch_log)
            .spawn()
            .unwrap(),
    );

    // The service is up once service.json exists; the queue is full once both feeds are
    // crawled and scored: the three claims of misinfo.xml and the two hostile items.
    let address = eventually("watch to write service.json", CRAWL_TIMEOUT, &mut processes, || async {
        let info = std::fs::read(data.path().join("service.json")).ok()?;
        let info: Value = serde_json::from_slice(&info).ok()?;
        info["address"].as_str().map(str::to_owned)
    })
    .await;
    let log = scratch.path().join("watch.log");
    let queue = eventually("five items in the review queue", CRAWL_TIMEOUT, &mut processes, || async {
        let cycle_done = std::fs::read_to_string(&log).unwrap_or_default().contains("Poll cycle finished.");
        let mut queue = infodemic(data.path());
        queue.args(["review", "queue", "--json"]);
        let output = run(queue).await;
        let items = if output.status.success() { json_lines(&output) } else { Vec::new() };
        // After the first cycle nothing more comes: fail now rather than at the timeout.
        assert!(items.len() >= 5 || !cycle_done, "the crawl is done but the queue holds {items:#?}");
        (items.len() >= 5).then_some(items)
    })
    .await;
    assert_eq!(queue.len(), 5, "{queue:?}");
    let base = format!("http://{address}");
    let hostile_id = |title: &str| -> String {
        let item = queue.iter().find(|item| item["title"] == title);
        item.unwrap_or_else(|| panic!("no queued item titled {title:?}: {queue:?}"))["id"].as_str().unwrap().to_owned()
    };
    let script_item = hostile_id(HOSTILE_SCRIPT_TITLE);
    let img_item = hostile_id(HOSTILE_IMG_TITLE);
    let javascript_url = queue.iter().find(|item| item["id"] == img_item.as_str()).unwrap()["url"].clone();
    assert!(!javascript_url.as_str().unwrap().starts_with("javascript:"), "stored link: {javascript_url}");

    // The headers, seen by a plain HTTP client.
    let page_url = format!("{base}/review");
    let headers = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).http_status_as_error(false).build().into();
        let response = agent.get(&page_url).call().unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.headers().clone()
    })
    .await
    .unwrap();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let csp = header("content-security-policy");
    assert!(csp.contains("script-src 'self'"), "Content-Security-Policy: {csp:?}");
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"), "{csp:?}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("content-type").starts_with("text/html"));

    // chromedriver on a free port, in a process group of its own with the Chromium it starts.
    let driver_port = free_port();
    let browser_profile = scratch.path().join("chromium-profile");
    std::fs::create_dir(&browser_profile).unwrap();
    processes.chromedriver = Some({
        use std::os::unix::process::CommandExt as _;
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={driver_port}"))
            .arg(format!("--log-path={}", scratch.path().join("chromedriver.log").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap()
    });
    eventually("chromedriver to accept connections", PAGE_TIMEOUT, &mut processes, || async {
        std::net::TcpStream::connect(("127.0.0.1", driver_port)).ok().map(drop)
    })
    .await;
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".to_owned(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": CHROMIUM,
            // Without the network flags Chromium reaches for Google's hosts at every start.
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                format!("--user-data-dir={}", browser_profile.display()),
                "--window-size=1280,900",
                "--lang=en-US",
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .unwrap_or_else(|e| panic!("no WebDriver session: {e}\n{}", processes.log("chromedriver.log")));

    // The browser steps run as a task of their own, so that a failed assertion still lets the
    // session close before the processes go.
    let context =
        Steps { client: client.clone(), base: base.clone(), data_dir: data.path().to_owned(), script_item, img_item };
    let outcome = tokio::spawn(context.run()).await;
    let _ = client.close().await;
    if let Err(failure) = outcome {
        let log = processes.log("watch.log");
        drop(processes);
        let payload = failure.into_panic();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "the browser steps panicked".to_owned());
        panic!("{message}\n--- watch log ---\n{log}");
    }

    // SIGTERM: watch stops cleanly and takes service.json with it.
    let watch = processes.watch.take().unwrap();
    let exit = tokio::task::spawn_blocking(move || terminate(watch)).await.unwrap();
    assert!(exit.is_some_and(|status| status.success()), "watch exit: {exit:?}");
    assert!(!data.path().join("service.json").exists());
    drop(processes);
}

/// What the browser steps need.
struct Steps {
    client: Client,
    base: String,
    data_dir: PathBuf,
    script_item: String,
    img_item: String,
}

impl Steps {
    async fn run(self) {
        let artifacts = workspace().join("target/test-artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        let client = &self.client;
        let base = &self.base;

        // The queue: the script selects the first row; hostile titles are text; no script ran
        // but ours.
        client.goto(&format!("{base}/review")).await.unwrap();
        self.wait_until("the first row selected", "return document.querySelector('li.queue-item.selected') !== null")
            .await;
        let rows = self.row_ids().await;
        assert_eq!(rows.len(), 5, "{rows:?}");
        assert_eq!(self.selected().await, (0, rows[0].clone()));
        self.assert_no_injection().await;
        let title = |id: &str| format!("li.queue-item[data-id=\"{id}\"] h2.title a.open");
        let shown = client.find(Locator::Css(&title(&self.script_item))).await.unwrap().text().await.unwrap();
        assert_eq!(shown, HOSTILE_SCRIPT_TITLE);
        let shown = client.find(Locator::Css(&title(&self.img_item))).await.unwrap().text().await.unwrap();
        assert_eq!(shown, HOSTILE_IMG_TITLE);
        let body = client.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
        assert!(body.contains("<script>window.__pwned=1</script>"), "{body}");
        std::fs::write(artifacts.join("review-queue.png"), client.screenshot().await.unwrap()).unwrap();

        // The hostile items' own pages: markup as text there too, and no javascript: link.
        for (id, title) in [(&self.script_item, HOSTILE_SCRIPT_TITLE), (&self.img_item, HOSTILE_IMG_TITLE)] {
            client.goto(&format!("{base}/review/items/{id}")).await.unwrap();
            let heading = client.find(Locator::Css("article.item h1")).await.unwrap().text().await.unwrap();
            assert_eq!(heading, title);
            self.assert_no_injection().await;
        }
        client.goto(&format!("{base}/review/items/{}", self.script_item)).await.unwrap();
        let text = client.find(Locator::Css("section.text div.body")).await.unwrap().text().await.unwrap();
        assert!(text.ends_with(HOSTILE_TEXT_TAIL), "{text}");

        // The reviewer's name, typed into the header, then `f` on the selected (first) row.
        client.goto(&format!("{base}/review")).await.unwrap();
        self.wait_until("the first row selected", "return document.querySelector('li.queue-item.selected') !== null")
            .await;
        let reviewer = client.find(Locator::Css("#reviewer")).await.unwrap();
        assert_eq!(reviewer.prop("value").await.unwrap().as_deref(), Some(DEFAULT_REVIEWER));
        reviewer.clear().await.unwrap();
        reviewer.send_keys(REVIEWER).await.unwrap();
        let copied = client
            .execute("return Array.from(document.querySelectorAll('input.reviewer-field')).map(f => f.value)", vec![])
            .await
            .unwrap();
        assert!(copied.as_array().unwrap().iter().all(|v| v == REVIEWER), "{copied}");
        let url = client.current_url().await.unwrap();
        assert_eq!((url.path(), url.query()), ("/review", None), "letters typed into the name record nothing");
        // Leave the text field the way a reviewer does: click the row (its score, not a button).
        client.find(Locator::Css("li.queue-item.selected span.score")).await.unwrap().click().await.unwrap();
        let (index, first) = self.selected().await;
        assert_eq!((index, &first), (0, &rows[0]));
        self.press('f').await;
        self.wait_for_queue_without(&first).await;
        let url = client.current_url().await.unwrap();
        assert_eq!((url.path(), url.query()), ("/review", Some("at=0")), "{url}");
        let after_first = self.row_ids().await;
        assert_eq!(after_first, rows[1..].to_vec(), "the reviewed row left, the others kept their order");
        assert_eq!(self.selected().await, (0, rows[1].clone()), "the row that took its place is selected");
        let shown = self.show(&first).await;
        assert_eq!(shown["verdict"], "false", "{shown}");
        let last = shown["verdicts"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["verdict"].as_str(), last["reviewer"].as_str()), (Some("false"), Some(REVIEWER)), "{last}");

        // `j` then `m`: the second row gets the verdict, under the name this browser remembered.
        let reviewer = client.find(Locator::Css("#reviewer")).await.unwrap();
        assert_eq!(reviewer.prop("value").await.unwrap().as_deref(), Some(REVIEWER), "kept in localStorage");
        self.press('j').await;
        let (index, second) = self.selected().await;
        assert_eq!((index, &second), (1, &rows[2]), "j selects the next row");
        self.press('m').await;
        self.wait_for_queue_without(&second).await;
        let url = client.current_url().await.unwrap();
        assert_eq!(url.query(), Some("at=1"), "{url}");
        assert_eq!(self.row_ids().await, vec![rows[1].clone(), rows[3].clone(), rows[4].clone()]);
        assert_eq!(self.selected().await, (1, rows[3].clone()));
        let shown = self.show(&second).await;
        assert_eq!(shown["verdict"], "misleading", "{shown}");
        let events = shown["verdicts"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{shown}");
        assert_eq!(events[0]["reviewer"], REVIEWER);
        let skipped = self.show(&rows[1]).await;
        assert!(skipped["verdict"].is_null() && skipped["verdicts"].as_array().unwrap().is_empty(), "{skipped}");

        // The reviewed item's page shows the verdict and who gave it.
        client.goto(&format!("{base}/review/items/{first}")).await.unwrap();
        let current = client.find(Locator::Css("section.verdict p.current")).await.unwrap().text().await.unwrap();
        assert!(current.contains("false"), "{current}");
        let history = client.find(Locator::Css("section.history tbody")).await.unwrap().text().await.unwrap();
        assert!(history.contains(REVIEWER) && history.contains("false"), "{history}");
        self.assert_no_injection().await;
        std::fs::write(artifacts.join("review-item.png"), client.screenshot().await.unwrap()).unwrap();

        // A phone-size window: the queue still fits its width.
        client.set_window_size(390, 844).await.unwrap();
        client.goto(&format!("{base}/review")).await.unwrap();
        self.wait_until("the first row selected", "return document.querySelector('li.queue-item.selected') !== null")
            .await;
        let widths =
            client.execute("return [window.innerWidth, document.documentElement.scrollWidth]", vec![]).await.unwrap();
        let (inner, scroll) = (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
        assert!(inner <= 400.0, "the window did not shrink: {widths}");
        assert!(scroll <= inner, "the queue is wider than a phone: {widths}");
        std::fs::write(artifacts.join("review-queue-phone.png"), client.screenshot().await.unwrap()).unwrap();
    }

    /// Nothing from a feed became markup: no script but ours, no image, no `javascript:`
    /// link, and none of the payloads ran.
    async fn assert_no_injection(&self) {
        let found = self
            .client
            .execute(
                "return {
                    pwned: typeof window.__pwned,
                    scripts: Array.from(document.querySelectorAll('script')).map(s => s.getAttribute('src')),
                    images: document.querySelectorAll('img').length,
                    handlers: document.querySelectorAll('[onerror], [onload], [onclick]').length,
                    javascript: Array.from(document.querySelectorAll('[href], [src], [action]'))
                        .map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))
                        .filter(v => /^\\s*javascript:/i.test(v)),
                }",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            found,
            json!({
                "pwned": "undefined",
                "scripts": ["/review/assets/review.js"],
                "images": 0,
                "handlers": 0,
                "javascript": [],
            }),
            "at {}",
            self.client.current_url().await.unwrap()
        );
    }

    /// The queue's item ids, top to bottom.
    async fn row_ids(&self) -> Vec<String> {
        let ids = self
            .client
            .execute("return Array.from(document.querySelectorAll('li.queue-item')).map(r => r.dataset.id)", vec![])
            .await
            .unwrap();
        serde_json::from_value(ids).unwrap()
    }

    /// The selected row: its index and item id; exactly one row is selected.
    async fn selected(&self) -> (usize, String) {
        let selected = self
            .client
            .execute(
                "const rows = Array.from(document.querySelectorAll('li.queue-item'));
                 return rows.map((r, i) => [i, r.dataset.id]).filter((_, i) => rows[i].classList.contains('selected'))",
                vec![],
            )
            .await
            .unwrap();
        let selected: Vec<(usize, String)> = serde_json::from_value(selected).unwrap();
        assert_eq!(selected.len(), 1, "one selected row: {selected:?}");
        selected.into_iter().next().unwrap()
    }

    /// One key, pressed and released on whatever has the focus, as a keyboard would.
    async fn press(&self, key: char) {
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(keys).await.unwrap();
        self.client.release_actions().await.unwrap();
    }

    /// After a verdict: the page reloaded into a queue without `id`, with a row selected.
    async fn wait_for_queue_without(&self, id: &str) {
        let condition = format!(
            "return document.readyState === 'complete' && document.getElementById('queue') !== null
                && document.querySelector('li.queue-item[data-id=\"{id}\"]') === null
                && document.querySelector('li.queue-item.selected') !== null
                || document.title.startsWith('Refused')"
        );
        self.wait_until(&format!("the queue to reload without {id}"), &condition).await;
        let title = self.client.title().await.unwrap();
        if title.starts_with("Refused") {
            let url = self.client.current_url().await.unwrap();
            let body = self.client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
            panic!("the review page refused its own verdict form for {id} ({url}): {body}");
        }
    }

    /// Polls a script until it returns true; on timeout, fails with what the page shows.
    async fn wait_until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            // A script run while the page navigates may fail: that is "not yet".
            if matches!(self.client.execute(script, vec![]).await, Ok(Value::Bool(true))) {
                return;
            }
            if Instant::now() > deadline {
                let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
                let body = self.client.source().await.unwrap_or_default();
                panic!("timed out waiting for {what}; at {url}:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `infodemic show ID --json`, through the running service.
    async fn show(&self, id: &str) -> Value {
        let mut show = infodemic(&self.data_dir);
        show.args(["show", id, "--json"]);
        let output = run(show).await;
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_str(stdout(&output).trim()).unwrap()
    }
}

/// Polls `probe` until it gives a value; fails when `watch` or chromedriver exits meanwhile,
/// or on timeout, with their logs.
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, processes: &mut Processes, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        for (name, log) in [("watch", "watch.log"), ("chromedriver", "chromedriver.log")] {
            let child = if name == "watch" { &mut processes.watch } else { &mut processes.chromedriver };
            if let Some(exit) = child.as_mut().and_then(|child| child.try_wait().unwrap()) {
                panic!("waiting for {what}: {name} exited ({exit}):\n{}", processes.log(log));
            }
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}:\n{}", processes.log("watch.log"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// SIGTERM, then up to 30 s for a clean exit, then SIGKILL; the status of a clean exit.
fn terminate(child: Child) -> Option<std::process::ExitStatus> {
    let pid = child.id().to_string();
    stop(child, &pid, Duration::from_secs(30))
}

/// Sends SIGTERM to `target` (a pid, or `-PGID` for a process group), waits up to `grace`
/// for `child` to exit, then sends SIGKILL to `target`; the exit status if `child` exited in
/// time. (A thread waits on the child: no sleeping loop.)
fn stop(child: Child, target: &str, grace: Duration) -> Option<std::process::ExitStatus> {
    let signal = |name: &str| {
        let _ = Command::new("kill").args([name, "--", target]).stderr(Stdio::null()).status();
    };
    signal("-TERM");
    let (exited, exit) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let mut child = child;
        let status = child.wait().ok();
        let _ = exited.send(());
        status
    });
    let in_time = exit.recv_timeout(grace).is_ok();
    if !in_time || target.starts_with('-') {
        // A process group also holds the browser processes the driver started.
        signal("-KILL");
    }
    let status = waiter.join().ok().flatten();
    status.filter(|_| in_time)
}

/// The test's processes, stopped even when an assertion fails: chromedriver with its whole
/// process group (the Chromium it started), `watch` with SIGTERM so it removes service.json.
struct Processes {
    watch: Option<Child>,
    chromedriver: Option<Child>,
    logs: PathBuf,
}

impl Processes {
    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.logs.join(name)).unwrap_or_default()
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        if let Some(driver) = self.chromedriver.take() {
            let group = format!("-{}", driver.id());
            stop(driver, &group, Duration::from_secs(5));
        }
        if let Some(watch) = self.watch.take() {
            terminate(watch);
        }
    }
}
