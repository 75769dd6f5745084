//! Benchmarks live in `benches/benches`; run them with `cargo bench -p infodemic-benches`.
//!
//! - `classify`: texts/s of the real model at batch sizes 1, 8 and 32, on the sample feeds'
//!   items (realistic, mixed-length health news and claims).
//! - `parse`: items/s of feed parsing + normalisation (RSS 2.0, Atom, JSON Feed).
//!
//! Whole-pipeline bench binaries (`cargo run --release -p infodemic-benches --bin NAME`):
//! - `ingest`: items/s of fetch + parse + dedupe + store over 1,000 local feeds, no model.
//! - `large_feeds`: seconds per large real feed (hundreds of items), fetched, parsed,
//!   scored by the real model and stored.
//! - `classify_vs_python`: the model against the Python reference, texts/s.
//! - `review_queue`: p50/p99 of the review page over a store of 100,000 items.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `bodies[i]` at `/feed/{i}.xml` on a local port until the runtime stops; returns the
/// base URL. A stand-in for many feed hosts: no keep-alive, no validators.
///
/// # Errors
/// When no local port can be bound.
pub async fn serve_feeds(bodies: Arc<Vec<Vec<u8>>>) -> std::io::Result<String> {
    serve_feeds_on(bodies, std::net::Ipv4Addr::LOCALHOST).await
}

/// [`serve_feeds`] on another loopback address (127.0.0.2, ...): several stand for several
/// hosts.
///
/// # Errors
/// When no port can be bound there.
pub async fn serve_feeds_on(bodies: Arc<Vec<Vec<u8>>>, ip: std::net::Ipv4Addr) -> std::io::Result<String> {
    let listener = TcpListener::bind((ip, 0)).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let bodies = Arc::clone(&bodies);
            tokio::spawn(async move {
                let mut request = vec![0u8; 2048];
                let Ok(n) = socket.read(&mut request).await else { return };
                let line = String::from_utf8_lossy(&request[..n]);
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let index = path
                    .strip_prefix("/feed/")
                    .and_then(|p| p.strip_suffix(".xml"))
                    .and_then(|p| p.parse::<usize>().ok());
                let (head, body): (String, &[u8]) = match index.and_then(|i| bodies.get(i)) {
                    Some(body) => (
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        ),
                        body,
                    ),
                    None => ("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(), &[]),
                };
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body).await;
            });
        }
    });
    Ok(format!("http://{address}"))
}

/// `feeds` synthetic feeds of `items` items each ([`synthetic_feed`]), served from `hosts`
/// loopback addresses (127.0.0.1, 127.0.0.2, ...), feed `f` from address `f % hosts`, so no
/// single host carries them all. Returns the feeds' URLs in order.
///
/// # Errors
/// When a port cannot be bound.
pub async fn serve_synthetic_feeds(feeds: usize, items: usize, hosts: usize) -> std::io::Result<Vec<String>> {
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..feeds).map(|f| synthetic_feed(f, items).into_bytes()).collect());
    let hosts = hosts.clamp(1, 250);
    let mut bases = Vec::with_capacity(hosts);
    for host in 0..hosts {
        let ip = std::net::Ipv4Addr::new(127, 0, 0, u8::try_from(host + 1).unwrap_or(1));
        bases.push(serve_feeds_on(Arc::clone(&bodies), ip).await?);
    }
    Ok((0..feeds).map(|f| format!("{}/feed/{f}.xml", bases[f % hosts])).collect())
}

/// Peak resident memory of this process, MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

use chrono::{TimeZone, Utc};
use infodemic_core::{Classification, ContentHash, Evidence, Item, ItemId, ModelRef, ScoredItem, SourceId};

/// Health texts of the kinds feeds carry: false claims, guidance, news, debunks.
const TOPICS: [&str; 8] = [
    "Garlic water cures the virus overnight, a doctor says, and hospitals hide it.",
    "The health ministry updated its vaccination schedule for children under five.",
    "Wearing a mask for an hour lowers oxygen to dangerous levels, a post claims.",
    "Researchers report a measles outbreak in three districts; clinics extend hours.",
    "A viral video says 5G towers spread the disease; engineers explain why not.",
    "Ivermectin in high doses is promoted online as a cure; regulators warn against it.",
    "The regional hospital opens a new cardiology ward funded by the city council.",
    "Drinking diluted bleach is sold as a detox; poison centres report more calls.",
];

/// A deterministic spread of scores in 0..1 (a multiplicative hash of the index).
pub fn synthetic_score(index: usize) -> f32 {
    ((index as u64).wrapping_mul(2_654_435_761) % 100_000) as f32 / 100_000.0
}

/// Item `index` of a synthetic store: 40 sources, 500 authors, 1 to 12 paragraphs, scores
/// spread over 0..1 (half worth a review), one item every 5 minutes from 2026-01-01.
pub fn synthetic_item(index: usize) -> ScoredItem {
    let url = format!("https://outlet{}.example.org/{index}", index % 40);
    let topic = TOPICS[index % TOPICS.len()];
    // 1 to 12 paragraphs: posts to articles.
    let text = std::iter::repeat_n(topic, 1 + index % 12).collect::<Vec<_>>().join(" ");
    let score = synthetic_score(index);
    let time = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default()
        + chrono::Duration::minutes(index as i64 * 5);
    ScoredItem {
        item: Item {
            id: ItemId::from_canonical_url(&url),
            url: url.clone(),
            canonical_url: url.clone(),
            title: format!("{} (#{index})", &topic[..topic.len().min(60)]),
            content_hash: ContentHash::of(&url, &text),
            text,
            published: Some(time),
            fetched_at: time,
            author: Some(format!("author {}", index % 500)),
            source: SourceId::new(format!("outlet-{}", index % 40)).unwrap_or_else(|_| unreachable!()),
            language: Some("en".to_owned()),
            links: Vec::new(),
            simhash: None,
        },
        classification: Classification {
            score,
            flagged: score >= 0.8,
            review: score >= 0.5,
            embedding: vec![0.0; 384],
            model: ModelRef { id: "bench".to_owned(), version: "1".to_owned() },
            language: Some("en".to_owned()),
            language_supported: true,
            evidence: vec![Evidence { text: topic.to_owned(), score, embedding: Vec::new() }],
            claim_match: None,
            claim: None,
            refute: None,
            reasons: vec![format!("score {score:.2} at or above the flag threshold 0.80")],
        },
    }
}

/// The value after `name` on the command line, else `default`.
pub fn arg(name: &str, default: usize) -> usize {
    string_arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The value after `name` on the command line.
pub fn string_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// Words of health news and posts, most common first: texts draw from them with a Zipf-like
/// skew, so some words are in most items and most words in few, as in real feeds.
const VOCABULARY: &str = "the of and to in a is that for on with as was by it from are this be at have an \
    has not but they their said health people new more after about who says can will one vaccine \
    covid virus hospital doctors study patients cases public cancer children report risk care \
    treatment medical disease government officials data cure deaths outbreak experts research \
    pandemic vaccines doctor claims drug scientists infection measles mask masks immune clinic \
    nurses trial symptoms flu mrna booster variant nhs cdc who ministry guidance advice misleading \
    false fact check video viral post shared online social media natural remedy garlic lemon \
    vitamin zinc ivermectin hydroxychloroquine bleach detox miracle hidden truth suppressed big \
    pharma microchips 5g towers radiation autism infertility shedding spike protein myocarditis \
    heart attack sudden died athletes excess mortality lockdown freedom mandate school teachers \
    parents babies pregnancy breastfeeding dose doses schedule polio tuberculosis malaria dengue \
    cholera ebola mpox hiv hepatitis diabetes obesity insulin blood pressure stroke dementia \
    alzheimer mental depression anxiety suicide opioid fentanyl overdose alcohol smoking vaping \
    tobacco nutrition diet sugar salt fasting supplements herbal homeopathy chiropractic \
    acupuncture essential oils colloidal silver chlorine dioxide turmeric ginger honey onion \
    antibiotics resistance superbug pneumonia asthma allergy eczema skin cream sunscreen fluoride \
    water tap chemtrails graphene nanoparticles dna altered gene therapy experimental poison \
    toxic ingredients aluminium mercury formaldehyde adjuvant placebo efficacy adverse events \
    vaers yellow card pharmacovigilance regulator fda ema approval emergency authorisation \
    clinical endpoint peer review preprint retracted journal lancet bmj nejm university \
    professor nobel whistleblower leaked documents cover up depopulation agenda bill gates \
    globalists plandemic scamdemic hoax";

/// Item `index` of `total` in a store shaped like a newsroom's year: 300 sources of very
/// different volume (Zipf: the largest has a sixth of the items), one year of times in
/// arrival order (a tenth at midnight, as feeds with dates but no times give), two thirds
/// short posts (8 to 50 words) and a third articles (80 to 400 words), scores skewed low
/// (about 5% flagged, 16% worth a review), 384-float embeddings, 3% in a language the model
/// does not score. Deterministic in `index`.
pub fn realistic_item(index: usize, total: usize) -> ScoredItem {
    let words: Vec<&str> = VOCABULARY.split_whitespace().collect();
    let mut rng = fastrand::Rng::with_seed(0x5eed_u64 ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    // Zipf over 300 sources by inverse transform of the harmonic weights.
    let harmonic: f64 = (1..=300).map(|r| 1.0 / r as f64).sum();
    let mut pick = rng.f64() * harmonic;
    let mut source_rank = 1;
    while source_rank < 300 {
        pick -= 1.0 / source_rank as f64;
        if pick <= 0.0 {
            break;
        }
        source_rank += 1;
    }
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let year_micros = 365 * 24 * 3_600 * 1_000_000i64;
    let mut time = start + chrono::Duration::microseconds(year_micros / total.max(1) as i64 * index as i64);
    if rng.u8(..10) == 0 {
        time = time.date_naive().and_hms_opt(0, 0, 0).map_or(time, |t| t.and_utc());
    }
    let score = rng.f32().powi(4);
    let supported = rng.u8(..100) >= 3;
    let length = if rng.u8(..3) < 2 { rng.usize(8..=50) } else { rng.usize(80..=400) };
    let mut text = (0..length)
        .map(|_| words[((rng.f64().powi(3)) * words.len() as f64) as usize % words.len()])
        .collect::<Vec<_>>()
        .join(" ");
    // Flagged items repeat one of 2,000 narratives (a campaign pushes one story), with an
    // embedding near the narrative's: the campaign stage has something to group.
    let narrative = (score >= 0.8).then(|| rng.u64(..2_000));
    let mut embedding: Vec<f32> = (0..384).map(|_| rng.f32() - 0.5).collect();
    if let Some(narrative) = narrative {
        let mut story = fastrand::Rng::with_seed(narrative);
        let claim: Vec<&str> = (0..14).map(|_| words[story.usize(60..words.len())]).collect();
        text = format!("{} {text}", claim.join(" "));
        for value in &mut embedding {
            *value = (story.f32() - 0.5) + (*value * 0.1);
        }
    }
    let norm = embedding.iter().map(|v| v * v).sum::<f32>().sqrt().max(f32::EPSILON);
    embedding.iter_mut().for_each(|v| *v /= norm);
    let title: String = text.split(' ').take(rng.usize(5..=12)).collect::<Vec<_>>().join(" ");
    let url = format!("https://source{source_rank}.example.org/{index}");
    ScoredItem {
        item: Item {
            id: ItemId::from_canonical_url(&url),
            url: url.clone(),
            canonical_url: url.clone(),
            title: title.clone(),
            content_hash: ContentHash::of(&url, &text),
            published: Some(time),
            fetched_at: time,
            author: Some(format!("author {}", rng.u32(..5_000))),
            source: SourceId::new(format!("source-{source_rank}")).unwrap_or_else(|_| unreachable!()),
            language: Some(if supported { "en" } else { "sw" }.to_owned()),
            links: Vec::new(),
            simhash: Some(rng.u64(..)),
            text,
        },
        classification: Classification {
            score,
            flagged: supported && score >= 0.8,
            review: supported && score >= 0.5,
            embedding,
            model: ModelRef { id: "bench".to_owned(), version: "1".to_owned() },
            language: Some(if supported { "en" } else { "sw" }.to_owned()),
            language_supported: supported,
            evidence: vec![Evidence { text: title, score, embedding: Vec::new() }],
            claim_match: None,
            claim: None,
            refute: None,
            reasons: vec![format!("score {score:.2}")],
        },
    }
}

/// Words of a feed item (splitmix64): nine in ten from the health-news vocabulary with the
/// skew of real text (a few words everywhere, most rare), one in ten made up (names, numbers,
/// typos), so that every item's text differs enough that neither the content hash nor
/// SimHash merges them: the bench measures ingest, not dedupe.
fn words(seed: u64, n: usize) -> Vec<String> {
    let vocabulary: Vec<&str> = VOCABULARY.split_whitespace().collect();
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..n)
        .map(|_| {
            let bits = next();
            if bits % 10 == 0 {
                let len = 3 + (bits >> 60) as usize % 7;
                (0..len).map(|i| char::from(b'a' + ((bits >> (i * 6 + 4)) % 26) as u8)).collect()
            } else {
                let uniform = (bits >> 11) as f64 / (1u64 << 53) as f64;
                let index = (uniform.powi(3) * vocabulary.len() as f64) as usize;
                vocabulary[index.min(vocabulary.len() - 1)].to_owned()
            }
        })
        .collect()
}

/// An RSS feed of `items` distinct items of 60 pseudo-random words (no two alike, so the
/// bench measures ingest, not dedupe).
pub fn synthetic_feed(feed: usize, items: usize) -> String {
    let mut body =
        String::from(r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench</title>"#);
    for item in 0..items {
        let words = words((feed * 1000 + item) as u64, 60);
        body.push_str(&format!(
            "<item><title>Item {item} of feed {feed}</title><link>https://bench.example.org/{feed}/{item}</link>\
             <pubDate>Sat, 28 Nov 2026 12:{:02}:00 GMT</pubDate><description>&lt;p&gt;Feed {feed} item {item}: {}.&lt;/p&gt;</description></item>",
            item % 60,
            words.join(" ")
        ));
    }
    body.push_str("</channel></rss>");
    body
}
