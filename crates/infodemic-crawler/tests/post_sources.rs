//! Data-driven tests of the post sources over `tests/fixtures/posts` and `tests/fixtures/opml`
//! (hand-written, fictional; `tests/fixtures/posts/README.md` lists what each must yield).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use infodemic_crawler::html_text::html_to_text;
use infodemic_crawler::sources::html_page::{self, HtmlSelectors};
use infodemic_crawler::sources::{mastodon, opml, reddit, telegram, RawPost, SourceError};
use url::Url;

fn fixture(path: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn fixture_text(path: &str) -> String {
    String::from_utf8(fixture(path)).unwrap()
}

fn time(text: &str) -> Option<DateTime<Utc>> {
    Some(DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc))
}

fn text_of(post: &RawPost) -> String {
    post.html.as_deref().map(html_to_text).or_else(|| post.text.clone()).unwrap_or_default()
}

/// What every parser promises about every post.
fn assert_post_invariants(name: &str, posts: &[RawPost]) {
    for post in posts {
        let url = Url::parse(&post.url).unwrap_or_else(|e| panic!("{name}: {} is not absolute: {e}", post.url));
        assert!(matches!(url.scheme(), "http" | "https"), "{name}: {}", post.url);
        assert!(!post.links.contains(&post.url), "{name}: own URL in links of {}", post.url);
        for (i, link) in post.links.iter().enumerate() {
            let parsed = Url::parse(link).unwrap_or_else(|e| panic!("{name}: link {link} is not absolute: {e}"));
            assert!(matches!(parsed.scheme(), "http" | "https"), "{name}: {link}");
            assert!(!post.links[..i].contains(link), "{name}: duplicate link {link}");
            assert!(!link.contains("/tags/") && !link.contains("?q=%23"), "{name}: hashtag link {link}");
        }
        assert!(post.id.is_some() || name == "html-page", "{name}: {} has no id", post.url);
    }
}

#[test]
fn mastodon_hashtag_timeline() {
    let page = mastodon::parse_statuses(&fixture("posts/mastodon-hashtag.json")).unwrap();
    assert_post_invariants("mastodon", &page.posts);
    // Numerically greatest, although "99876543210987654" is lexically greater.
    assert_eq!(page.newest_id.as_deref(), Some("116020000000000050"));
    let ids: Vec<&str> = page.posts.iter().map(|p| p.id.as_deref().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "116020000000000050",
            "116020000000000040",
            "116020000000000030",
            "116020000000000020",
            "116020000000000010",
            "99876543210987654"
        ]
    );

    // A boost: the original's URL, content, author and date; the boost's own id.
    let boost = &page.posts[0];
    assert_eq!(boost.url, "https://health.example.org/@dr_amara/115990000000000123");
    assert_eq!(boost.author.as_deref(), Some("@dr_amara@health.example.org (Dr Amara Osei)"));
    assert_eq!(boost.published, time("2026-03-01T18:42:10Z"));
    assert_eq!(boost.language.as_deref(), Some("en"));
    assert!(text_of(boost).contains("measles cases doubled"), "{}", text_of(boost));
    // The content link and the card are one link.
    assert_eq!(boost.links, ["https://example.org/reports/measles-2026?utm_source=mastodon"]);

    // Mention and hashtags are not links; the card repeats the content link.
    let mention = &page.posts[1];
    assert_eq!(mention.url, "https://example.social/@lena/116020000000000040");
    assert_eq!(mention.author.as_deref(), Some("@lena@example.social (Lena ✨)"));
    assert_eq!(mention.links, ["https://factcheck.example.org/2026/02/detox-foot-pads"]);
    assert_eq!(mention.published, time("2026-03-02T08:30:05.123Z"));
    assert_eq!(mention.title, None);

    // Content warning as title; media description appended; own URL and fragment repeat left out.
    let warned = &page.posts[2];
    assert_eq!(warned.title.as_deref(), Some("Vaccine misinformation (quoted, debunked)"));
    assert_eq!(warned.links, ["https://example.org/vaccines/ingredients"]);
    assert!(text_of(warned).ends_with("stamped FALSE"), "{}", text_of(warned));

    let german = &page.posts[3];
    assert_eq!(german.language.as_deref(), Some("de"));
    assert_eq!(german.author.as_deref(), Some("@jan@gesund.example.net (Jan Becker)"));
    assert_eq!(german.published, time("2026-03-01T20:10:00Z"));
    assert_eq!(german.links, ["https://example.org/de/grippe-studie"]);

    // No `url`: the `uri` is used; a hashtag-only text gets the image description.
    let image = &page.posts[4];
    assert_eq!(image.url, "https://pics.example.social/objects/5f0c2a9e-7d1b-4c1e-9a47-2b8f6f2b9e10");
    assert!(image.links.is_empty(), "{:?}", image.links);
    assert_eq!(text_of(image), "#vaccines Poster: free flu vaccination, Saturday 7 March 2026, 9:00–13:00, Town Hall");

    let bot = &page.posts[5];
    assert_eq!(bot.author.as_deref(), Some("@clinicbot@example.social"));
    assert_eq!(bot.language.as_deref(), Some("en"));
    assert_eq!(bot.links, ["https://example.org/clinics/hours"]);
    assert!(text_of(bot).starts_with("💉 Clinic hours"), "{}", text_of(bot));
}

#[test]
fn mastodon_account_lookup_and_paging_urls() {
    let id = mastodon::parse_account_id(&fixture("posts/mastodon-account-lookup.json")).unwrap();
    assert_eq!(id, "109876543210987654");
    let instance = Url::parse("https://example.social").unwrap();
    assert_eq!(
        mastodon::lookup_url(&instance, "@healthwatch").as_str(),
        "https://example.social/api/v1/accounts/lookup?acct=healthwatch"
    );
    let page = mastodon::parse_statuses(&fixture("posts/mastodon-hashtag.json")).unwrap();
    let next = mastodon::timeline_url(
        &instance,
        &mastodon::Timeline::Account { id },
        page.newest_id.as_deref(),
        mastodon::MAX_LIMIT,
    );
    assert_eq!(
        next.as_str(),
        "https://example.social/api/v1/accounts/109876543210987654/statuses?exclude_replies=true&exclude_reblogs=false&limit=40&min_id=116020000000000050"
    );
    // The other fixtures are not timelines.
    assert!(matches!(
        mastodon::parse_statuses(&fixture("posts/mastodon-account-lookup.json")),
        Err(SourceError::Shape(_))
    ));
    assert!(matches!(mastodon::parse_statuses(&fixture("posts/telegram-channel.html")), Err(SourceError::Json(_))));
}

#[test]
fn reddit_listing() {
    let page = reddit::parse_listing(&fixture("posts/reddit-new.json")).unwrap();
    assert_post_invariants("reddit", &page.posts);
    assert_eq!(page.after.as_deref(), Some("t3_1j45sp1"));
    let ids: Vec<&str> = page.posts.iter().map(|p| p.id.as_deref().unwrap()).collect();
    // The stickied weekly thread (t3_1j4m0d1) is left out.
    assert_eq!(ids, ["t3_1j4a1b2", "t3_1j49zq8", "t3_1j48kk3", "t3_1j47ccx", "t3_1j46rem", "t3_1j45sp1"]);

    let self_post = &page.posts[0];
    assert_eq!(
        self_post.url,
        "https://www.reddit.com/r/HealthNewsDesk/comments/1j4a1b2/qa_does_alkaline_water_really_cure_anything/"
    );
    assert_eq!(self_post.title.as_deref(), Some("Q&A: does alkaline water <really> cure anything?"));
    assert_eq!(self_post.author.as_deref(), Some("u/curious_kestrel"));
    assert_eq!(self_post.published, time("2026-03-02T09:00:00Z"));
    let html = self_post.html.as_deref().unwrap();
    assert!(html.starts_with("<!-- SC_OFF --><div class=\"md\"><p>"), "{html}");
    assert!(text_of(self_post).contains("alkaline water & lemon \"neutralise\" cancer"), "{}", text_of(self_post));
    assert_eq!(
        self_post.links,
        [
            "https://example.org/alkaline-myth",
            "https://www.reddit.com/r/AskDocs/comments/1j3k9x0/alkaline_water_and_cancer/"
        ]
    );

    let link_post = &page.posts[1];
    assert_eq!(
        link_post.links,
        ["https://example.org/news/2026/03/measles-outbreak?utm_source=reddit&utm_medium=social"]
    );
    assert_eq!((link_post.html.as_ref(), link_post.text.as_ref()), (None, None));

    let deleted = &page.posts[2];
    assert_eq!((deleted.author.as_ref(), deleted.html.as_ref(), deleted.text.as_ref()), (None, None, None));
    assert_eq!(deleted.title.as_deref(), Some("My doctor said the flu shot gave me the flu, is that true?"));

    let crosspost = &page.posts[3];
    assert_eq!(
        crosspost.links,
        ["https://www.reddit.com/r/conspiracy_fiction/comments/1j3zz99/they_are_hiding_the_cure/"]
    );
    assert!(crosspost.title.as_deref().unwrap().starts_with('🚨'));

    let removed = &page.posts[4];
    assert_eq!((removed.html.as_ref(), removed.text.as_ref()), (None, None));
    assert_eq!(removed.author.as_deref(), Some("u/miracle_remedies"));

    let spanish = &page.posts[5];
    assert_eq!(
        spanish.url,
        "https://www.reddit.com/r/HealthNewsDesk/comments/1j45sp1/nueva_campa%C3%B1a_de_vacunaci%C3%B3n_contra_el/"
    );
    assert_eq!(spanish.links, ["https://example.org/es/sarampion"]);

    let next = reddit::listing_url("HealthNewsDesk", page.after.as_deref()).unwrap();
    assert_eq!(next.as_str(), "https://www.reddit.com/r/HealthNewsDesk/new.json?limit=100&after=t3_1j45sp1");
    assert!(matches!(reddit::parse_listing(&fixture("posts/mastodon-hashtag.json")), Err(SourceError::Shape(_))));
}

#[test]
fn telegram_channel_preview() {
    let html = fixture_text("posts/telegram-channel.html");
    let posts = telegram::parse(&html).unwrap();
    assert_post_invariants("telegram", &posts);
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_deref().unwrap()).collect();
    // 103 (photo without caption) and 108 (poll) have no text.
    assert_eq!(
        ids,
        [
            "vaxfacts_demo/101",
            "vaxfacts_demo/102",
            "vaxfacts_demo/104",
            "vaxfacts_demo/105",
            "vaxfacts_demo/106",
            "vaxfacts_demo/107"
        ]
    );

    let first = &posts[0];
    assert_eq!(first.url, "https://t.me/vaxfacts_demo/101");
    assert_eq!(first.author.as_deref(), Some("VaxFacts Demo"));
    assert_eq!(first.published, time("2026-03-01T08:00:12Z"));
    assert_eq!(first.links, ["https://example.org/vaccination-week"]);
    assert!(text_of(first).starts_with("💉 Spring vaccination week"), "{}", text_of(first));

    let forwarded = &posts[1];
    assert_eq!(forwarded.url, "https://t.me/vaxfacts_demo/102");
    assert_eq!(forwarded.author.as_deref(), Some("Natural Cures Daily"));
    assert!(forwarded.links.is_empty());

    let caption = &posts[2];
    assert_eq!(
        text_of(caption),
        "Fact check of yesterday's viral chart: the \"vaccine injury\" figures are raw, unverified reports & not confirmed cases."
    );

    let preview = &posts[3];
    assert_eq!(preview.links, ["https://example.org/news/measles-situation-report?utm_source=telegram"]);

    let russian = &posts[4];
    assert!(text_of(russian).starts_with("Минздрав напоминает"), "{}", text_of(russian));
    assert_eq!(russian.links, ["https://example.org/ru/kor"]);

    let reply = &posts[5];
    assert!(!text_of(reply).contains("figures to 28 February"), "{}", text_of(reply));
    assert_eq!(
        reply.links,
        ["https://t.me/vaxfacts_demo/105", "https://example.org/news/measles-situation-report#errata"]
    );

    assert_eq!(telegram::older_page_url(&html).unwrap().as_str(), "https://t.me/s/vaxfacts_demo?before=101");
    assert_eq!(telegram::channel_url("@vaxfacts_demo").unwrap().as_str(), "https://t.me/s/vaxfacts_demo");
    assert!(matches!(telegram::parse(&fixture_text("posts/html-page.html")), Err(SourceError::Shape(_))));
}

#[test]
fn html_news_list_page() {
    let selectors: HtmlSelectors = serde_json::from_slice(&fixture("posts/html-page.selectors.json")).unwrap();
    selectors.validate().unwrap();
    let page_url = Url::parse("https://example.org/news/").unwrap();
    let posts = html_page::parse(&fixture_text("posts/html-page.html"), &page_url, &selectors).unwrap();
    assert_post_invariants("html-page", &posts);
    let urls: Vec<&str> = posts.iter().map(|p| p.url.as_str()).collect();
    // The maintenance notice has no link; the sidebar is outside `main`.
    assert_eq!(
        urls,
        [
            "https://example.org/news/2026/03/measles-vaccination-week",
            "https://example.org/news/2026/02/no-bleach-does-not-cure",
            "https://example.org/news/2026/02/flu-season-update?utm_source=newslist#top",
            "https://example.org/news/2026/02/5g-and-health",
            "https://example.org/press/2026/02/annual-report.html"
        ]
    );

    let first = &posts[0];
    assert_eq!(first.id.as_deref(), Some("news-2026-031"));
    assert_eq!(
        first.title.as_deref().map(|t| t.replace('\u{a0}', " ")).as_deref(),
        Some("Measles vaccination week: clinics open from 9 March")
    );
    assert_eq!(first.author.as_deref(), Some("Press Office"));
    assert_eq!(first.published, time("2026-03-02T08:30:00Z"));
    assert_eq!(first.links, ["https://records.example.org/check?lang=en", "https://example.org/topics/vaccines/mmr"]);
    assert!(text_of(first).starts_with("Free MMR vaccination"), "{}", text_of(first));

    let published: Vec<Option<DateTime<Utc>>> = posts.iter().map(|p| p.published).collect();
    assert_eq!(
        published,
        [
            time("2026-03-02T08:30:00Z"),
            time("2026-02-27T00:00:00Z"),
            time("2026-02-20T00:00:00Z"),
            None,
            time("2026-02-10T00:00:00Z")
        ]
    );
    assert!(posts[1].links.is_empty(), "in-page anchor kept: {:?}", posts[1].links);
    assert_eq!(posts[1].author.as_deref().map(|a| a.replace('\u{a0}', " ")).as_deref(), Some("Dr Ines Varga"));
    assert_eq!(posts[2].links, ["https://example.org/data/flu-weekly.csv"]);
    assert_eq!(posts[3].title.as_deref(), Some("Q&A: 5G and health"));
    assert_eq!(posts[3].author.as_deref(), Some("Science Desk"));
    assert_eq!((posts[4].html.as_ref(), posts[4].author.as_ref()), (None, None));
}

#[test]
fn html_page_with_out_of_date_selectors_yields_nothing() {
    let selectors: HtmlSelectors = serde_json::from_str(r#"{"item": "div.story"}"#).unwrap();
    let page_url = Url::parse("https://example.org/news/").unwrap();
    assert!(html_page::parse(&fixture_text("posts/html-page.html"), &page_url, &selectors).unwrap().is_empty());
}

#[test]
fn opml_feed_list() {
    let outlines = opml::parse(&fixture("opml/feeds.opml")).unwrap();
    let rows: Vec<(&str, &str, Option<&str>, Option<&str>)> = outlines
        .iter()
        .map(|o| (o.title.as_str(), o.xml_url.as_str(), o.html_url.as_ref().map(Url::as_str), o.category.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            (
                "Example Public Health Agency – News",
                "https://example.org/news/feed.xml",
                Some("https://example.org/news/"),
                Some("Health agencies")
            ),
            ("Measles tracker", "http://example.org/measles/rss", None, Some("Health agencies")),
            (
                "Northshire Health Board",
                "https://northshire.example.org/rss.xml",
                Some("https://northshire.example.org/"),
                Some("Health agencies/Regional")
            ),
            (
                "Example Fact Check & Co",
                "https://factcheck.example.org/feed/?lang=en&type=all",
                Some("https://factcheck.example.org/"),
                Some("Fact-checkers")
            ),
            ("Vérifié Santé", "https://verifie.example.org/atom.xml", None, Some("Fact-checkers")),
            ("Misinformation watch", "https://watch.example.org/feed.json", None, Some("Misinformation watch")),
            (
                "#vaccines on example.social",
                "https://example.social/tags/vaccines.rss",
                Some("https://example.social/tags/vaccines"),
                None
            ),
        ]
    );
}

#[test]
fn opml_round_trip_of_the_fixture() {
    let outlines = opml::parse(&fixture("opml/feeds.opml")).unwrap();
    let written = opml::write(&outlines, "Health news & fact checks");
    let mut grouped = outlines;
    // `write` puts uncategorised feeds first, then the categories in order of appearance.
    grouped.sort_by_key(|o| o.category.is_some());
    assert_eq!(opml::parse(written.as_bytes()).unwrap(), grouped);
    assert_eq!(opml::write(&grouped, "Health news & fact checks"), written);
}

#[test]
fn malformed_opml_and_other_documents_are_errors() {
    let message = opml::parse(&fixture("opml/feeds-malformed.opml")).unwrap_err().to_string();
    assert!(message.contains("not well-formed") && message.contains("outline"), "{message}");
    for name in ["opml/feeds-malformed.opml", "posts/telegram-channel.html", "posts/reddit-new.json", "feeds/rss2.xml"]
    {
        let result = opml::parse(&fixture(name));
        assert!(matches!(result, Err(SourceError::Shape(_))), "{name}: {result:?}");
    }
}
