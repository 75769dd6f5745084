//! Real texts for the campaign measurements (`campaigns_scale`, `planted_campaigns`), read from
//! `../shared/datasets` (never copied into the repository), and the reposting variations
//! (prefixes, hashtags, word drops, synonym swaps, clause reorderings) that make repeats look
//! like real reposts rather than exact copies. Shared by the two binaries through `mod`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use infodemic_pipeline::CampaignItem;

/// The default dataset directory: `../shared/datasets` next to the workspace root.
pub fn default_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets")
}

/// xorshift64* (Vigna 2016): small, seeded, deterministic.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high.saturating_sub(low) + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// One line of `rumor-stories-dev/stream.jsonl`.
#[derive(Clone, Debug)]
pub struct StreamLine {
    pub text: String,
    pub url: String,
    pub host: String,
}

/// The 8,067 headlines of the COVID story-clustering dev stream.
pub fn load_stream(data: &Path) -> Result<Vec<StreamLine>, Box<dyn std::error::Error>> {
    let path = data.join("rumor-stories-dev/stream.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line)?;
        let field = |key: &str| value.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        lines.push(StreamLine { text: field("text"), url: field("url"), host: field("host") });
    }
    Ok(lines)
}

/// Claim texts of Cheng et al.'s `news.csv` (id, label, text, count; no header), with their
/// label (`F`, `T`, `U`).
pub fn load_cheng(data: &Path) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let path = data.join("covid19-rumor-cheng2020/news.csv");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut claims = Vec::new();
    for record in reader.records() {
        let record = record?;
        if let (Some(label), Some(text)) = (record.get(1), record.get(2)) {
            if !text.trim().is_empty() {
                claims.push((label.trim().to_owned(), clean(text)));
            }
        }
    }
    Ok(claims)
}

/// Tweets of CONSTRAINT 2021's training split with their label (`fake`, `real`).
pub fn load_constraint(data: &Path) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let path = data.join("constraint2021/Constraint_Train.csv");
    let mut reader = csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut tweets = Vec::new();
    for record in reader.records() {
        let record = record?;
        if let (Some(text), Some(label)) = (record.get(1), record.get(2)) {
            if !text.trim().is_empty() {
                tweets.push((label.trim().to_owned(), clean(text)));
            }
        }
    }
    Ok(tweets)
}

/// One line, single spaces, no byte-order mark.
fn clean(text: &str) -> String {
    text.trim_start_matches('\u{feff}').split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `count` most frequent hosts of the stream (ties by name): the source pool.
pub fn host_pool(stream: &[StreamLine], count: usize) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for line in stream.iter().filter(|l| !l.host.is_empty()) {
        *counts.entry(line.host.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked.into_iter().take(count).map(|(host, _)| host.to_owned()).collect()
}

const PREFIXES: &[&str] = &[
    "BREAKING:",
    "URGENT!!",
    "Must read:",
    "WAKE UP PEOPLE!",
    "They don't want you to know this:",
    "Forwarded as received:",
    "Read this before it's gone.",
    "My cousin is a nurse and she confirmed:",
    "Please share:",
    "THIS:",
];

const SUFFIXES: &[&str] = &[
    "Share before they delete this!",
    "Pass it on!!",
    "RT if you agree",
    "Do your own research.",
    "The media won't report this.",
    "#covid19 #truth",
    "#plandemic #wakeup",
    "#vaccine #health",
    "#coronavirus",
    "Copied from a friend.",
];

/// Pairs swapped in both directions (lowercase; the first letter's case is kept).
const SYNONYMS: &[(&str, &str)] = &[
    ("coronavirus", "covid-19"),
    ("vaccine", "jab"),
    ("vaccines", "jabs"),
    ("doctors", "physicians"),
    ("doctor", "physician"),
    ("people", "folks"),
    ("children", "kids"),
    ("government", "govt"),
    ("says", "claims"),
    ("said", "claimed"),
    ("shows", "proves"),
    ("study", "research"),
    ("kills", "destroys"),
    ("cure", "remedy"),
    ("cures", "heals"),
    ("dangerous", "deadly"),
    ("hospital", "clinic"),
    ("hospitals", "clinics"),
    ("died", "passed away"),
    ("masks", "face coverings"),
    ("virus", "bug"),
    ("scientists", "experts"),
    ("prevent", "stop"),
    ("infected", "sick"),
    ("fake", "bogus"),
    ("big", "huge"),
    ("new", "latest"),
    ("confirmed", "verified"),
];

/// A repost of `text`: each kind of change applied with its own probability, at least one.
pub fn paraphrase(text: &str, rng: &mut Rng) -> String {
    let mut out = text.to_owned();
    let mut changed = false;
    for _ in 0..4 {
        if rng.chance(0.35) {
            out = swap_synonyms(&out, rng);
            changed = true;
        }
        if rng.chance(0.3) {
            out = drop_words(&out, rng);
            changed = true;
        }
        if rng.chance(0.25) {
            out = reorder_clauses(&out);
            changed = true;
        }
        if rng.chance(0.35) {
            out = format!("{} {out}", rng.pick(PREFIXES));
            changed = true;
        }
        if rng.chance(0.35) {
            out = format!("{out} {}", rng.pick(SUFFIXES));
            changed = true;
        }
        if changed {
            break;
        }
    }
    if !changed {
        out = format!("{out} {}", rng.pick(SUFFIXES));
    }
    out
}

/// Copypasta with a frame: the exact text with a prefix and/or a suffix.
pub fn framed(text: &str, rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("{} {text}", rng.pick(PREFIXES)),
        1 => format!("{text} {}", rng.pick(SUFFIXES)),
        _ => format!("{} {text} {}", rng.pick(PREFIXES), rng.pick(SUFFIXES)),
    }
}

/// Swaps one to three words found in [`SYNONYMS`].
pub fn swap_synonyms(text: &str, rng: &mut Rng) -> String {
    let mut words: Vec<String> = text.split(' ').map(str::to_owned).collect();
    let mut spots: Vec<(usize, &str)> = Vec::new();
    for (index, word) in words.iter().enumerate() {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '-').to_lowercase();
        for (a, b) in SYNONYMS {
            if bare == *a {
                spots.push((index, b));
            } else if bare == *b {
                spots.push((index, a));
            }
        }
    }
    if spots.is_empty() {
        return text.to_owned();
    }
    rng.shuffle(&mut spots);
    for (index, replacement) in spots.into_iter().take(rng.between(1, 3)) {
        let word = &words[index];
        let start = word.find(|c: char| c.is_alphanumeric()).unwrap_or(0);
        let end = word.rfind(|c: char| c.is_alphanumeric()).map_or(word.len(), |i| i + 1);
        let capital = word[start..].starts_with(char::is_uppercase);
        let mut new = replacement.to_owned();
        if capital {
            new = new[..1].to_uppercase() + &new[1..];
        }
        words[index] = format!("{}{new}{}", &word[..start], &word[end.max(start)..]);
    }
    words.join(" ")
}

/// Drops one or two words (never below six words).
pub fn drop_words(text: &str, rng: &mut Rng) -> String {
    let mut words: Vec<&str> = text.split(' ').collect();
    for _ in 0..rng.between(1, 2) {
        if words.len() <= 6 {
            break;
        }
        let index = rng.below(words.len());
        words.remove(index);
    }
    words.join(" ")
}

/// Swaps the two halves around the first clause break (", ", "; ", ". ", " - "), when both
/// halves have three words or more.
pub fn reorder_clauses(text: &str) -> String {
    for separator in [". ", "; ", ", ", " - "] {
        if let Some(at) = text.find(separator) {
            let (first, second) = (&text[..at], &text[at + separator.len()..]);
            if first.split(' ').count() >= 3 && second.split(' ').count() >= 3 {
                let second = second.trim_end_matches(['.', '!', '?']);
                let first = first.trim_end_matches(['.', '!', '?']);
                return format!("{second}{separator}{first}.");
            }
        }
    }
    text.to_owned()
}

/// A campaign item as the replay command builds one: a SimHash of the text, no embedding, no
/// score.
pub fn campaign_item(
    id: String,
    text: String,
    time: DateTime<Utc>,
    url: String,
    source: String,
    account: Option<String>,
    links: Vec<String>,
) -> CampaignItem {
    CampaignItem {
        simhash: infodemic_core::simhash::simhash(&text),
        id,
        text,
        time: Some(time),
        seen_at: time,
        url,
        source,
        account,
        language: Some("en".to_owned()),
        links,
        embedding: None,
        score: None,
        fact_check: None,
    }
}

/// Peak and current resident memory of this process, in MiB, from `/proc/self/status`.
pub fn memory_mib() -> (Option<f64>, Option<f64>) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return (None, None) };
    let read = |key: &str| {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    (read("VmHWM:"), read("VmRSS:"))
}

/// Bytes of the files under `path`.
pub fn disk_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => disk_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}
