//! The review page over real HTTP: escaping, headers, CSRF, the Host check, the login off
//! loopback, and verdicts recorded through it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use chrono::{TimeZone, Utc};
use infodemic_core::{Classification, ContentHash, Evidence, Item, ItemId, ModelRef, ScoredItem, SourceId};
use infodemic_service::{serve, ServeOptions, ServiceInfo};
use infodemic_store::SledStore;
use tokio_util::sync::CancellationToken;

fn hostile(url: &str, title: &str) -> ScoredItem {
    ScoredItem {
        item: Item {
            id: ItemId::from_canonical_url(url),
            url: url.to_owned(),
            canonical_url: url.to_owned(),
            title: title.to_owned(),
            text: "Bleach cures the virus <script>alert(1)</script>".to_owned(),
            published: Some(Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()),
            fetched_at: Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap(),
            author: Some("<b>author</b>".to_owned()),
            source: SourceId::new("outlet").unwrap(),
            language: Some("en".to_owned()),
            content_hash: ContentHash::of(url, title),
            links: Vec::new(),
            simhash: None,
        },
        classification: Classification {
            score: 0.9,
            flagged: true,
            review: true,
            embedding: vec![1.0],
            model: ModelRef { id: "m".to_owned(), version: "1".to_owned() },
            language: Some("en".to_owned()),
            language_supported: true,
            evidence: vec![Evidence {
                text: "<img src=x onerror=alert(2)>".to_owned(),
                score: 0.9,
                embedding: Vec::new(),
            }],
            claim_match: None,
            claim: None,
            refute: None,
            reasons: vec!["\"><svg onload=alert(3)>".to_owned()],
        },
    }
}

struct Running {
    _dir: tempfile::TempDir,
    info: ServiceInfo,
    cancel: CancellationToken,
    ids: Vec<ItemId>,
}

async fn start(listen: &str) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("store")).unwrap();
    let items = [
        hostile("javascript:alert(4)", "<script>window.__pwned=1</script> Bleach cures"),
        hostile("https://outlet.example/b", "Second <i>item</i>"),
    ];
    store.commit(&items, &[], &[]).unwrap();
    let cancel = CancellationToken::new();
    let options = ServeOptions { listen: listen.parse().unwrap(), ..ServeOptions::default() };
    let handle = serve(store, dir.path(), cancel.clone(), options).await.unwrap();
    let info = handle.info.clone();
    tokio::spawn(handle.stopped());
    Running { _dir: dir, info, cancel, ids: items.iter().map(|s| s.item.id).collect() }
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build())
}

/// The port the service bound, for URLs that must name 127.0.0.1.
fn port(info: &ServiceInfo) -> u16 {
    info.address.rsplit(':').next().unwrap().parse().unwrap()
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn answer(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Answer { status, headers, body }
}

async fn get(url: String, headers: Vec<(&'static str, String)>) -> Answer {
    tokio::task::spawn_blocking(move || {
        let mut request = agent().get(&url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        answer(request.call().unwrap())
    })
    .await
    .unwrap()
}

async fn post_form(url: String, headers: Vec<(&'static str, String)>, form: Vec<(&'static str, String)>) -> Answer {
    tokio::task::spawn_blocking(move || {
        let mut request = agent().post(&url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        answer(request.send_form(pairs).unwrap())
    })
    .await
    .unwrap()
}

/// The CSRF token the page put in its forms.
fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    page[start..start + 64].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_content_is_text_and_the_page_is_locked_down() {
    let running = start("127.0.0.1:0").await;
    let base = format!("http://127.0.0.1:{}", port(&running.info));
    let page = get(format!("{base}/review"), vec![]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));

    let body = &page.body;
    assert!(body.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"), "the title is text");
    assert!(body.contains("&lt;img src=x onerror=alert(2)&gt;"), "the evidence is text");
    assert!(body.contains("&quot;&gt;&lt;svg onload=alert(3)&gt;"), "the reason is text");
    assert!(!body.contains("<script>window") && !body.contains("<img src=x") && !body.contains("<svg"));
    // One script, ours; no inline script, no inline handler, no javascript: link.
    assert_eq!(body.matches("<script").count(), 1, "{body}");
    assert!(body.contains("<script src=\"/review/assets/review.js\""));
    assert!(!body.contains("href=\"javascript:"), "{body}");
    assert!(body.contains("data-id=\"") && body.contains("class=\"queue-item\""));

    let item = get(format!("{base}/review/items/{}", running.ids[0]), vec![]).await;
    assert_eq!(item.status, 200);
    assert!(!item.body.contains("href=\"javascript:"), "a javascript: URL is never a link");
    assert!(item.body.contains("&lt;b&gt;author&lt;/b&gt;"));
    assert!(item.header("content-security-policy").is_some());

    let script = get(format!("{base}/review/assets/review.js"), vec![]).await;
    assert_eq!(script.status, 200);
    assert!(script.header("content-type").unwrap().starts_with("text/javascript"));
    running.cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_need_the_csrf_token_and_a_same_origin_request() {
    let running = start("127.0.0.1:0").await;
    let base = format!("http://127.0.0.1:{}", port(&running.info));
    let page = get(format!("{base}/review"), vec![]).await;
    let csrf = csrf_of(&page.body);
    let id = running.ids[0];
    let url = format!("{base}/review/items/{id}/verdict");
    let form = |csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("verdict", "false".to_owned()),
            ("reviewer", "ana".to_owned()),
            ("return_to", "/review?at=0".to_owned()),
        ]
    };

    let forged = post_form(url.clone(), vec![], form("0".repeat(64).as_str())).await;
    assert_eq!(forged.status, 403);
    let cross = post_form(url.clone(), vec![("origin", "http://evil.example".to_owned())], form(&csrf)).await;
    assert_eq!(cross.status, 403, "a token leaked to another origin is not enough");
    let cross_site = post_form(url.clone(), vec![("sec-fetch-site", "cross-site".to_owned())], form(&csrf)).await;
    assert_eq!(cross_site.status, 403);
    let rebound =
        get(format!("{base}/review"), vec![("host", format!("rebind.example:{}", port(&running.info)))]).await;
    assert_eq!(rebound.status, 421, "a foreign Host (DNS rebinding) sees nothing");
    assert!(!rebound.body.contains(&csrf));

    let recorded = post_form(url.clone(), vec![("origin", base.clone())], form(&csrf)).await;
    assert_eq!(recorded.status, 303, "{}", recorded.body);
    assert_eq!(recorded.header("location"), Some("/review?at=0"));

    let unknown = post_form(url, vec![], vec![("csrf", csrf.clone()), ("verdict", "fake".to_owned())]).await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.body.contains("unknown verdict"), "{}", unknown.body);

    // The verdict is in the log, through the API (bearer token), and the queue moved on.
    let token = running.info.token.clone();
    let events =
        get(format!("{base}/v1/items/{id}/verdicts"), vec![("authorization", format!("Bearer {token}"))]).await;
    let events: serde_json::Value = serde_json::from_str(&events.body).unwrap();
    assert_eq!(events[0]["verdict"], "false");
    assert_eq!(events[0]["reviewer"], "ana");
    let page = get(format!("{base}/review"), vec![]).await;
    assert!(!page.body.contains(&format!("data-id=\"{id}\"")), "the reviewed item left the queue");
    let unauthorized = get(format!("{base}/v1/items/{id}/verdicts"), vec![]).await;
    assert_eq!(unauthorized.status, 401);
    running.cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_the_page_asks_for_the_token() {
    // 0.0.0.0 is not loopback: the service must ask for the token (the test still talks to it
    // on 127.0.0.1).
    let running = start("0.0.0.0:0").await;
    let base = format!("http://127.0.0.1:{}", port(&running.info));
    let page = get(format!("{base}/review"), vec![]).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), Some("/review/login"));

    let wrong = post_form(format!("{base}/review/login"), vec![], vec![("token", "guess".to_owned())]).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("set-cookie").is_none());
    let login = post_form(format!("{base}/review/login"), vec![], vec![("token", running.info.token.clone())]).await;
    assert_eq!(login.status, 303);
    let cookie = login.header("set-cookie").unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains(&running.info.token), "the cookie is not the token");
    let session = cookie.split(';').next().unwrap().to_owned();
    let page = get(format!("{base}/review"), vec![("cookie", session)]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("queue-item"));
    running.cancel.cancel();
}
