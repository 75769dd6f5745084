//! Campaigns rendered into files people use: a terminal sparkline, an SVG (or PNG) timeline
//! chart, CSV for spreadsheets, GEXF for Gephi and STIX 2.1 for threat-intelligence platforms.
//!
//! # Architecture
//!
//! Every renderer is pure: it takes values and returns a `String`, bytes or a
//! `serde_json::Value`, or writes to an [`std::io::Write`]. Nothing here reads the store, the
//! clock or the network, so the same campaigns always give the same bytes (STIX ids are UUIDv5
//! for that reason). The one exception is [`timeline_png`], which rasterises text with the
//! fonts installed on the machine.
//!
//! Text from feeds (titles, accounts, sources, URLs) is hostile: every renderer removes control
//! characters from it and escapes it for its format (XML escaping for SVG and GEXF, formula
//! defusing for CSV, JSON escaping for STIX).

mod csv;
mod gexf;
mod sparkline;
mod stix;
mod svg;
mod timeline;

pub use self::csv::{campaigns_csv, write_campaigns_csv, CSV_HEADER};
pub use self::gexf::{gexf, write_gexf, NetworkEdge};
pub use self::sparkline::{campaign_sparkline, sparkline};
pub use self::stix::{stix_bundle, STIX_NAMESPACE};
pub use self::svg::{svg_to_png, timeline_png, timeline_svg, CHART_HEIGHT, CHART_WIDTH, PNG_SCALE};
pub use self::timeline::{bin_hourly, campaign_timeline, Timeline};

use infodemic_core::{Campaign, CampaignStatus};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Writing the output failed.
    #[error("cannot write the export")]
    Io(#[from] std::io::Error),
    /// The CSV writer failed (it wraps its own I/O errors).
    #[error("cannot write CSV")]
    Csv(#[from] ::csv::Error),
    /// A coordination edge's weight is NaN or infinite, which GEXF cannot carry.
    #[error("edge {account_a:?} -- {account_b:?} has a weight that is not a finite number ({weight})")]
    NonFiniteWeight {
        /// One end of the edge.
        account_a: String,
        /// The other end.
        account_b: String,
        /// The weight.
        weight: f64,
    },
    /// The SVG handed to the rasteriser does not parse (the cause is the rasteriser's, boxed
    /// so that its version is no part of this API).
    #[error("cannot read the SVG chart")]
    Svg(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The image size is zero or too large to allocate.
    #[error("cannot make a {width}x{height} image")]
    ImageSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// PNG encoding failed.
    #[error("cannot encode PNG")]
    Png(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Results of this module.
pub type Result<T, E = ExportError> = std::result::Result<T, E>;

/// Whether `c` must not reach an export: C0 and C1 controls, DEL, the non-characters XML 1.0
/// forbids, and the bidirectional overrides and isolates that could reorder a title on screen.
fn is_removed(c: char) -> bool {
    c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` on one line and safe to embed: line breaks and tabs become spaces, the characters of
/// [`is_removed`] are dropped, runs of whitespace collapse and the ends are trimmed.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else if !is_removed(c) {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Columns a character takes in a proportional-font estimate: East Asian wide characters and
/// emoji count double, so that truncation keeps CJK titles inside the chart.
fn columns(c: char) -> usize {
    let wide = matches!(u32::from(c),
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F300..=0x1FAFF | 0x20000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

/// [`one_line`] of `text`, cut to at most `max_columns` columns (see [`columns`]) with an
/// ellipsis when it was longer.
fn truncate(text: &str, max_columns: usize) -> String {
    let clean = one_line(text);
    if clean.chars().map(columns).sum::<usize>() <= max_columns {
        return clean;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in clean.chars() {
        // One column is kept for the ellipsis.
        if used + columns(c) + 1 > max_columns {
            break;
        }
        used += columns(c);
        out.push(c);
    }
    let mut out = out.trim_end().to_owned();
    out.push('…');
    out
}

/// `active`, or `merged into c7`.
fn status_text(campaign: &Campaign) -> String {
    match campaign.status {
        CampaignStatus::Active => "active".to_owned(),
        CampaignStatus::Merged { into } => format!("merged into {into}"),
    }
}

/// The `count` largest entries of a count map, largest first, ties by name.
fn top_counts(counts: &std::collections::BTreeMap<String, u32>, count: usize) -> Vec<(&str, u32)> {
    let mut entries: Vec<(&str, u32)> = counts.iter().map(|(name, n)| (name.as_str(), *n)).collect();
    entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    entries.truncate(count);
    entries
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Campaigns for the renderers' tests.

    use std::collections::BTreeMap;

    use chrono::{DateTime, TimeZone, Utc};
    use infodemic_core::{
        Alert, Campaign, CampaignEvent, CampaignId, CampaignMember, CampaignProfile, CampaignStatus, ScoreStats,
        Technique,
    };

    /// `2026-03-02T00:00:00Z` plus `hours`.
    pub(crate) fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).single().unwrap_or_default() + chrono::Duration::hours(hours)
    }

    /// Hours since the epoch of [`at`].
    pub(crate) fn hour(hours: i64) -> i64 {
        at(hours).timestamp().div_euclid(3600)
    }

    /// A campaign with hostile text, items over `span_hours` hours, two techniques.
    pub(crate) fn campaign(id: u64, span_hours: i64) -> Campaign {
        let mut hourly = BTreeMap::new();
        for offset in 0..=span_hours {
            if offset % 3 != 1 {
                hourly.insert(hour(offset), u32::try_from(offset % 7 + 1).unwrap_or(1));
            }
        }
        let size = hourly.values().sum();
        let mut scores = ScoreStats::default();
        scores.add(0.82);
        scores.add(0.97);
        Campaign {
            id: CampaignId(id),
            status: CampaignStatus::Active,
            representative: CampaignMember {
                id: "item-1".into(),
                url: "https://news.example/a?x=1&y=2".into(),
                text: "=HYPERLINK(\"http://evil\") <script>alert(1)</script> Vaccines & \u{1b}[2Jmagnets\u{7}\r\nshed \u{202e}spike".into(),
                time: Some(at(0)),
                source: "news.example".into(),
                account: Some("@anti_vax".into()),
                score: Some(0.97),
            },
            representative_similarity: 0.9,
            first_seen: at(0),
            last_seen: at(span_hours),
            size,
            sources: BTreeMap::from([
                ("news.example".into(), 5),
                ("-cmd|' /C calc'!A0".into(), 3),
                ("blog.example".into(), 5),
            ]),
            accounts: BTreeMap::from([("@anti_vax".into(), 4), ("+bot".into(), 2)]),
            languages: BTreeMap::from([("en".into(), 9), ("de".into(), 4)]),
            hourly,
            fact_checks: BTreeMap::from([("claim-7".into(), "https://factcheck.example/7".into())]),
            scores,
            techniques: vec![
                Technique { id: "T0084.001".into(), name: "Use Copypasta".into(), evidence: "12 near-identical posts".into() },
                Technique { id: "T0049".into(), name: "Flood Information Space".into(), evidence: "burst of 40 posts in an hour".into() },
            ],
            history: vec![
                CampaignEvent::Opened { at: at(0), item: "item-1".into() },
                CampaignEvent::Technique { at: at(2), id: "T0084.001".into() },
            ],
            profile: CampaignProfile {
                terms: BTreeMap::from([("magnets".into(), 3.0), ("vaccines".into(), 2.0), ("@shed".into(), 1.0)]),
                ..CampaignProfile::default()
            },
        }
    }

    /// What a real XML parser sees in a document: each element with its attributes (unescaped),
    /// and each non-blank run of text (entity references resolved), in document order.
    #[derive(Debug, Default)]
    pub(crate) struct ParsedXml {
        pub(crate) elements: Vec<(String, Vec<(String, String)>)>,
        pub(crate) texts: Vec<String>,
    }

    impl ParsedXml {
        /// Elements named `name`.
        pub(crate) fn count(&self, name: &str) -> usize {
            self.elements.iter().filter(|(element, _)| element == name).count()
        }

        /// The value of `attribute` on each element named `name`.
        pub(crate) fn values(&self, name: &str, attribute: &str) -> Vec<&str> {
            self.elements
                .iter()
                .filter(|(element, _)| element == name)
                .filter_map(|(_, attributes)| {
                    attributes.iter().find(|(key, _)| key == attribute).map(|(_, value)| value.as_str())
                })
                .collect()
        }
    }

    /// Parses `document` with quick-xml's reader, panicking on anything malformed; also checks
    /// that no character XML 1.0 forbids appears.
    pub(crate) fn parse_xml(document: &str) -> ParsedXml {
        use quick_xml::events::Event;

        for c in document.chars() {
            assert!(!c.is_control() || matches!(c, '\n' | '\t' | '\r'), "control character {c:?} in the document");
        }
        let mut reader = quick_xml::Reader::from_str(document);
        let mut parsed = ParsedXml::default();
        let mut text = String::new();
        let mut depth = 0usize;
        loop {
            let event = reader.read_event().unwrap_or_else(|error| panic!("malformed XML: {error}"));
            if !matches!(event, Event::Text(_) | Event::GeneralRef(_)) && !text.trim().is_empty() {
                parsed.texts.push(std::mem::take(&mut text).trim().to_owned());
            }
            if !matches!(event, Event::Text(_) | Event::GeneralRef(_)) {
                text.clear();
            }
            match event {
                Event::Start(ref element) | Event::Empty(ref element) => {
                    if matches!(event, Event::Start(_)) {
                        depth += 1;
                    }
                    let name = element.name().as_ref().to_owned();
                    let attributes = element
                        .attributes()
                        .map(|attribute| {
                            let attribute = attribute.unwrap_or_else(|error| panic!("malformed attribute: {error}"));
                            let key = attribute.key.as_ref().to_owned();
                            let value = attribute
                                .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                                .unwrap_or_else(|error| panic!("bad attribute value: {error}"));
                            (key, value.into_owned())
                        })
                        .collect();
                    parsed.elements.push((name, attributes));
                }
                Event::End(_) => depth -= 1,
                Event::Text(content) => text.push_str(&content.xml10_content()),
                Event::GeneralRef(reference) => {
                    let raw = format!("&{};", reference.xml10_content());
                    let resolved = quick_xml::escape::unescape(&raw)
                        .unwrap_or_else(|error| panic!("unknown entity {raw}: {error}"));
                    text.push_str(&resolved);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "unclosed elements");
        parsed
    }

    /// An alert on `campaign` `hours` after [`at`]'s origin.
    pub(crate) fn alert(campaign: u64, seq: u64, hours: i64) -> Alert {
        Alert {
            seq,
            campaign: CampaignId(campaign),
            at: at(hours),
            kind: "ears-c2".into(),
            summary: "surge <b>&</b> \u{1b}]52;c;x\u{7} more".into(),
            size: 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_removes_controls_and_bidi_overrides() {
        assert_eq!(one_line("  a\r\n\tb \u{1b}[2J\u{9b}c\u{202e}d\u{7f}  "), "a b [2Jcd");
        assert_eq!(one_line("\u{feff}ok"), "\u{feff}ok");
    }

    #[test]
    fn truncation_counts_wide_characters_and_adds_an_ellipsis() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("exactly ten", 11), "exactly ten");
        assert_eq!(truncate("one two three", 8), "one two…");
        assert_eq!(truncate("疫苗疫苗疫苗", 7), "疫苗疫…");
    }
}
