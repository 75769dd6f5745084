//! `infodemic eval --data FILE`: the model against labeled texts (CSV or JSON lines).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use infodemic_classifier::{Classify, SessionOptions};
use infodemic_core::metrics::{evaluate_decisions, roc_auc, BinaryReport};
use serde::Serialize;
use serde_json::Value;

use crate::cli::GlobalArgs;
use crate::exit::{Exit, UsageError};
use crate::output::write_json_line;
use crate::progress::counter;

/// Texts scored per round.
const CHUNK: usize = 256;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labeled texts: CSV with a header row, or JSON lines
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,

    /// Input format [default: from the extension; .csv is CSV, anything else JSON lines]
    #[arg(long, value_enum)]
    pub format: Option<InputFormat>,

    /// Column or field holding the text [default: the first of text, tweet, content, claim]
    #[arg(long, value_name = "NAME")]
    pub text_field: Option<String>,

    /// Column or field holding the label: 1/misinformation/fake/true vs 0/reliable/real/false
    #[arg(long, value_name = "NAME", default_value = "label")]
    pub label_field: String,

    /// Column or field naming each text's kind (debunk, guidance, question...): when present,
    /// flag and review rates are reported per kind
    #[arg(long, value_name = "NAME", default_value = "kind")]
    pub kind_field: String,

    /// Column or field pairing a false claim with its own debunk: when present, how often the
    /// claim scores above its debunk (and the ROC AUC of claims against their debunks)
    #[arg(long, value_name = "NAME", default_value = "pair")]
    pub pair_field: String,

    /// One JSON object instead of the report
    #[arg(long)]
    pub json: bool,

    /// Texts per inference run [default: from the model, see `classify --help`]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub batch_size: Option<u16>,

    /// Threads for inference [default: all cores]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Csv,
    Jsonl,
}

const TEXT_FIELDS: &[&str] = &["text", "tweet", "content", "claim"];

/// `1`, `true`, `misinformation`, `fake` → misinformation; `0`, `false`, `reliable`, `real` →
/// reliable.
pub fn parse_label(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => parse_label_text(s),
        _ => None,
    }
}

fn parse_label_text(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "misinformation" | "fake" => Some(true),
        "0" | "false" | "reliable" | "real" => Some(false),
        _ => None,
    }
}

/// One labeled text of an evaluation file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Labeled {
    text: String,
    label: bool,
    /// Its kind (`kind` column), when the file has one.
    kind: Option<String>,
    /// Its pair (`pair` column): a false claim and its debunk share one.
    pair: Option<String>,
}

/// Optional columns of an evaluation file.
struct Fields<'a> {
    text: Option<&'a str>,
    label: &'a str,
    kind: &'a str,
    pair: &'a str,
}

/// Reads the labeled texts; every problem names its line.
fn read_labeled(path: &Path, format: InputFormat, fields: &Fields<'_>) -> Result<Vec<Labeled>, UsageError> {
    let (text_field, label_field) = (fields.text, fields.label);
    let nonempty = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let bytes = std::fs::read(path).map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    let mut out = Vec::new();
    match format {
        InputFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes.as_slice());
            let headers = reader.headers().map_err(|e| UsageError(format!("{}: {e}", path.display())))?.clone();
            let find = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
            let text_column = match text_field {
                Some(name) => find(name),
                None => TEXT_FIELDS.iter().find_map(|name| find(name)),
            }
            .ok_or_else(|| {
                UsageError(format!(
                    "{}: no text column (looked for {:?})",
                    path.display(),
                    text_field.map_or(TEXT_FIELDS.to_vec(), |f| vec![f])
                ))
            })?;
            let label_column = find(label_field)
                .ok_or_else(|| UsageError(format!("{}: no `{label_field}` column", path.display())))?;
            let (kind_column, pair_column) = (find(fields.kind), find(fields.pair));
            for (index, record) in reader.records().enumerate() {
                let line = index + 2;
                let record = record.map_err(|e| UsageError(format!("{} line {line}: {e}", path.display())))?;
                let text = record.get(text_column).unwrap_or_default().trim().to_owned();
                let label = record.get(label_column).and_then(parse_label_text).ok_or_else(|| {
                    UsageError(format!(
                        "{} line {line}: label {:?} is not 1/misinformation/fake or 0/reliable/real",
                        path.display(),
                        record.get(label_column).unwrap_or_default()
                    ))
                })?;
                if !text.is_empty() {
                    let kind = nonempty(kind_column.and_then(|c| record.get(c)));
                    let pair = nonempty(pair_column.and_then(|c| record.get(c)));
                    out.push(Labeled { text, label, kind, pair });
                }
            }
        }
        InputFormat::Jsonl => {
            let text = String::from_utf8_lossy(&bytes);
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let bad = |why: String| UsageError(format!("{} line {}: {why}", path.display(), index + 1));
                let object: serde_json::Map<String, Value> =
                    serde_json::from_str(line).map_err(|e| bad(format!("invalid JSON object: {e}")))?;
                let text = match text_field {
                    Some(name) => object.get(name),
                    None => TEXT_FIELDS.iter().find_map(|name| object.get(*name)),
                }
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no text field".to_owned()))?;
                let label = object
                    .get(label_field)
                    .and_then(parse_label)
                    .ok_or_else(|| bad(format!("no usable `{label_field}`")))?;
                let field = |name: &str| match object.get(name) {
                    Some(Value::String(s)) => nonempty(Some(s)),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                out.push(Labeled { text: text.to_owned(), label, kind: field(fields.kind), pair: field(fields.pair) });
            }
        }
    }
    if out.is_empty() {
        return Err(UsageError(format!("{}: no labeled texts", path.display())));
    }
    Ok(out)
}

#[derive(Serialize)]
struct EvalJson<'a> {
    model: String,
    data: String,
    flag: &'a BinaryReport,
    review: &'a BinaryReport,
    /// Per kind, when the file names kinds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kinds: Vec<KindReport>,
    /// Claims against their own debunks, when the file pairs them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pairs: Option<PairReport>,
}

/// How one kind of text fared.
#[derive(Debug, PartialEq, Serialize)]
struct KindReport {
    kind: String,
    n: usize,
    /// Of them, labeled misinformation.
    positives: usize,
    /// Share flagged.
    flag_rate: f64,
    /// Share worth a review.
    review_rate: f64,
    mean_score: f64,
}

/// False claims against the debunks that refute them.
#[derive(Debug, PartialEq, Serialize)]
struct PairReport {
    /// Pairs with one misinformation text and one reliable text.
    pairs: usize,
    /// Share of pairs whose claim scores above its debunk.
    claim_above_debunk: f64,
    /// ROC AUC of the paired claims against the paired debunks.
    roc_auc: Option<f64>,
}

fn kind_reports(rows: &[Labeled], scored: &[Scored]) -> Vec<KindReport> {
    let mut kinds: Vec<&str> = rows.iter().filter_map(|r| r.kind.as_deref()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
        .into_iter()
        .map(|kind| {
            let members: Vec<(&Labeled, &Scored)> =
                rows.iter().zip(scored).filter(|(r, _)| r.kind.as_deref() == Some(kind)).collect();
            let n = members.len();
            let share = |count: usize| count as f64 / n as f64;
            KindReport {
                kind: kind.to_owned(),
                n,
                positives: members.iter().filter(|(r, _)| r.label).count(),
                flag_rate: share(members.iter().filter(|(_, s)| s.flagged).count()),
                review_rate: share(members.iter().filter(|(_, s)| s.review).count()),
                mean_score: members.iter().map(|(_, s)| f64::from(s.score)).sum::<f64>() / n as f64,
            }
        })
        .collect()
}

fn pair_report(rows: &[Labeled], scored: &[Scored]) -> Option<PairReport> {
    let mut by_pair: std::collections::BTreeMap<&str, (Vec<f32>, Vec<f32>)> = std::collections::BTreeMap::new();
    for (row, s) in rows.iter().zip(scored) {
        if let Some(pair) = row.pair.as_deref() {
            let entry = by_pair.entry(pair).or_default();
            if row.label {
                entry.0.push(s.score)
            } else {
                entry.1.push(s.score)
            }
        }
    }
    let pairs: Vec<(f32, f32)> =
        by_pair.values().filter(|(c, d)| c.len() == 1 && d.len() == 1).map(|(c, d)| (c[0], d[0])).collect();
    if pairs.is_empty() {
        return None;
    }
    let above = pairs.iter().filter(|(c, d)| c > d).count() as f64 / pairs.len() as f64;
    let scores: Vec<f32> = pairs.iter().map(|p| p.0).chain(pairs.iter().map(|p| p.1)).collect();
    let labels: Vec<bool> = pairs.iter().map(|_| true).chain(pairs.iter().map(|_| false)).collect();
    Some(PairReport { pairs: pairs.len(), claim_above_debunk: above, roc_auc: roc_auc(&scores, &labels) })
}

/// What the model decided for one text.
struct Scored {
    score: f32,
    flagged: bool,
    review: bool,
}

pub fn run(args: &EvalArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let format = args.format.unwrap_or_else(|| {
        if args.data.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            InputFormat::Csv
        } else {
            InputFormat::Jsonl
        }
    });
    let fields = Fields {
        text: args.text_field.as_deref(),
        label: &args.label_field,
        kind: &args.kind_field,
        pair: &args.pair_field,
    };
    let labeled = read_labeled(&args.data, format, &fields)?;
    let mut options = SessionOptions { batch_size: args.batch_size.map(usize::from), ..SessionOptions::default() };
    if let Some(threads) = args.threads {
        options.intra_threads = usize::from(threads);
    }
    let mut classifier = global.load_model(options)?.classifier;
    classifier.set_evidence(false);
    let (flag, review) = (classifier.manifest().flag_threshold(), classifier.manifest().review_threshold());
    let model = format!("{} {}", classifier.model().id, classifier.model().version);
    let progress = counter(global.quiet, "texts scored");
    let mut scored = Vec::with_capacity(labeled.len());
    for chunk in labeled.chunks(CHUNK) {
        let texts: Vec<String> = chunk.iter().map(|row| row.text.clone()).collect();
        scored.extend(classifier.classify(&texts)?.into_iter().map(|c| Scored {
            score: c.score,
            flagged: c.flagged,
            review: c.review,
        }));
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    let labels: Vec<bool> = labeled.iter().map(|row| row.label).collect();
    let scores: Vec<f32> = scored.iter().map(|s| s.score).collect();
    let flags: Vec<bool> = scored.iter().map(|s| s.flagged).collect();
    let reviews: Vec<bool> = scored.iter().map(|s| s.review).collect();
    let at_flag = evaluate_decisions(&scores, &flags, &labels, flag);
    let at_review = evaluate_decisions(&scores, &reviews, &labels, review);
    let kinds = kind_reports(&labeled, &scored);
    let pairs = pair_report(&labeled, &scored);
    let mut out = crate::output::stdout();
    if args.json {
        let data = args.data.display().to_string();
        write_json_line(&mut out, &EvalJson { model, data, flag: &at_flag, review: &at_review, kinds, pairs })?;
    } else {
        print_report(&mut out, &at_flag, &model)?;
        if (review - flag).abs() > f32::EPSILON {
            writeln!(
                out,
                "\nat the review threshold {review:.3}: precision {:.4}, recall {:.4}, F1 {:.4}",
                at_review.precision, at_review.recall, at_review.f1
            )?;
        }
        print_kinds(&mut out, &kinds, pairs.as_ref())?;
    }
    out.flush()?;
    Ok(Exit::Success)
}

fn print_kinds(out: &mut impl Write, kinds: &[KindReport], pairs: Option<&PairReport>) -> io::Result<()> {
    if !kinds.is_empty() {
        writeln!(out, "\nper kind{:>30}{:>10}{:>10}{:>12}", "n", "flagged", "review", "mean score")?;
        for k in kinds {
            let label = if k.positives == k.n { " (misinformation)" } else { "" };
            writeln!(
                out,
                "  {:<28}{:>8}{:>9.1}%{:>9.1}%{:>12.3}",
                format!("{}{label}", k.kind),
                k.n,
                100.0 * k.flag_rate,
                100.0 * k.review_rate,
                k.mean_score
            )?;
        }
    }
    if let Some(p) = pairs {
        let auc = p.roc_auc.map_or_else(|| "n/a".to_owned(), |a| format!("{a:.4}"));
        writeln!(
            out,
            "\nclaims against their own debunks: {} pairs, claim scored higher in {:.1}%, ROC AUC {auc}",
            p.pairs,
            100.0 * p.claim_above_debunk
        )?;
    }
    Ok(())
}

/// The human report of one evaluation.
pub fn print_report(out: &mut impl Write, report: &BinaryReport, model: &str) -> io::Result<()> {
    let cm = &report.confusion;
    writeln!(
        out,
        "{} texts ({} misinformation, {} reliable), model {model}, threshold {:.3}",
        report.n,
        report.positives,
        report.n - report.positives,
        report.threshold
    )?;
    writeln!(out, "precision  {:.4}", report.precision)?;
    writeln!(out, "recall     {:.4}", report.recall)?;
    writeln!(out, "F1         {:.4}", report.f1)?;
    writeln!(out, "macro F1   {:.4}", report.macro_f1)?;
    writeln!(out, "accuracy   {:.4}", report.accuracy)?;
    match report.roc_auc {
        Some(auc) => writeln!(out, "ROC AUC    {auc:.4}")?,
        None => writeln!(out, "ROC AUC    n/a (one class only)")?,
    }
    writeln!(out, "ECE        {:.4}  (15 bins)", report.ece)?;
    writeln!(out, "\nconfusion matrix (rows: actual, columns: predicted)")?;
    writeln!(out, "{:<16}{:>10}{:>16}", "", "reliable", "misinformation")?;
    writeln!(out, "{:<16}{:>10}{:>16}", "reliable", cm.true_negative, cm.false_positive)?;
    writeln!(out, "{:<16}{:>10}{:>16}", "misinformation", cm.false_negative, cm.true_positive)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: Fields<'static> = Fields { text: None, label: "label", kind: "kind", pair: "pair" };

    #[test]
    fn kinds_and_pairs_are_read_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = dir.path().join("d.jsonl");
        std::fs::write(
            &jsonl,
            concat!(
                "{\"text\":\"MMR causes autism\",\"label\":1,\"kind\":\"false_claim\",\"pair\":\"p1\"}\n",
                "{\"text\":\"No, MMR does not cause autism\",\"label\":0,\"kind\":\"debunk\",\"pair\":\"p1\"}\n",
                "{\"text\":\"Garlic cures flu\",\"label\":1,\"kind\":\"false_claim\",\"pair\":7}\n",
                "{\"text\":\"Garlic does not cure flu\",\"label\":0,\"kind\":\"debunk\",\"pair\":7}\n",
                "{\"text\":\"Hello\",\"label\":0,\"kind\":\"chatter\",\"pair\":null}\n",
            ),
        )
        .unwrap();
        let rows = read_labeled(&jsonl, InputFormat::Jsonl, &FIELDS).unwrap();
        assert_eq!(rows[3].pair.as_deref(), Some("7"));
        assert_eq!(rows[4].pair, None);
        let scored: Vec<Scored> = [(0.9, true), (0.2, false), (0.3, false), (0.6, true), (0.8, true)]
            .into_iter()
            .map(|(score, flagged)| Scored { score, flagged, review: flagged })
            .collect();
        let kinds = kind_reports(&rows, &scored);
        let names: Vec<&str> = kinds.iter().map(|k| k.kind.as_str()).collect();
        assert_eq!(names, ["chatter", "debunk", "false_claim"]);
        assert_eq!((kinds[1].n, kinds[1].flag_rate), (2, 0.5), "one debunk of two was flagged");
        assert_eq!(kinds[2].positives, 2);
        let pairs = pair_report(&rows, &scored).unwrap();
        assert_eq!((pairs.pairs, pairs.claim_above_debunk), (2, 0.5));
        assert_eq!(pairs.roc_auc, Some(0.75));
    }

    #[test]
    fn labels_in_every_usual_spelling() {
        for (value, expected) in [
            (Value::from(1), Some(true)),
            (Value::from(0), Some(false)),
            (Value::from(true), Some(true)),
            (Value::from("fake"), Some(true)),
            (Value::from("Misinformation"), Some(true)),
            (Value::from("real"), Some(false)),
            (Value::from(" reliable "), Some(false)),
            (Value::from("maybe"), None),
            (Value::from(2), None),
        ] {
            assert_eq!(parse_label(&value), expected, "{value}");
        }
    }

    #[test]
    fn reads_csv_with_a_tweet_column_and_jsonl() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("d.csv");
        std::fs::write(&csv, "id,tweet,label\n1,\"Bleach cures it, they say\",fake\n2,Cases rose,real\n").unwrap();
        let rows = read_labeled(&csv, InputFormat::Csv, &FIELDS).unwrap();
        let plain = |text: &str, label| Labeled { text: text.to_owned(), label, kind: None, pair: None };
        assert_eq!(rows, [plain("Bleach cures it, they say", true), plain("Cases rose", false)]);
        let jsonl = dir.path().join("d.jsonl");
        std::fs::write(&jsonl, "{\"text\":\"a\",\"label\":1}\n\n{\"text\":\"b\",\"label\":\"reliable\"}\n").unwrap();
        assert_eq!(read_labeled(&jsonl, InputFormat::Jsonl, &FIELDS).unwrap().len(), 2);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("d.csv");
        std::fs::write(&csv, "text,label\nok,1\nbad,perhaps\n").unwrap();
        let error = read_labeled(&csv, InputFormat::Csv, &FIELDS).unwrap_err().to_string();
        assert!(error.contains("line 3"), "{error}");
        std::fs::write(&csv, "body,label\nx,1\n").unwrap();
        assert!(read_labeled(&csv, InputFormat::Csv, &FIELDS).unwrap_err().to_string().contains("no text column"));
    }
}
