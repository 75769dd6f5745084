//! `infodemic eval --data FILE`: the model against labeled texts (CSV or JSON lines).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use infodemic_classifier::{Classify, SessionOptions};
use infodemic_core::metrics::{evaluate, BinaryReport};
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

/// Reads `(text, label)` pairs; every problem names its line.
fn read_labeled(
    path: &Path,
    format: InputFormat,
    text_field: Option<&str>,
    label_field: &str,
) -> Result<Vec<(String, bool)>, UsageError> {
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
                    out.push((text, label));
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
                out.push((text.to_owned(), label));
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
}

pub fn run(args: &EvalArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let format = args.format.unwrap_or_else(|| {
        if args.data.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            InputFormat::Csv
        } else {
            InputFormat::Jsonl
        }
    });
    let labeled = read_labeled(&args.data, format, args.text_field.as_deref(), &args.label_field)?;
    let mut options = SessionOptions { batch_size: args.batch_size.map(usize::from), ..SessionOptions::default() };
    if let Some(threads) = args.threads {
        options.intra_threads = usize::from(threads);
    }
    let mut classifier = global.load_model(options)?.classifier;
    classifier.set_evidence(false);
    let (flag, review) = (classifier.manifest().flag_threshold(), classifier.manifest().review_threshold());
    let model = format!("{} {}", classifier.model().id, classifier.model().version);
    let progress = counter(global.quiet, "texts scored");
    let mut scores = Vec::with_capacity(labeled.len());
    for chunk in labeled.chunks(CHUNK) {
        let texts: Vec<String> = chunk.iter().map(|(text, _)| text.clone()).collect();
        scores.extend(classifier.classify(&texts)?.into_iter().map(|c| c.score));
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    let labels: Vec<bool> = labeled.iter().map(|(_, label)| *label).collect();
    let at_flag = evaluate(&scores, &labels, flag);
    let at_review = evaluate(&scores, &labels, review);
    let mut out = io::stdout().lock();
    if args.json {
        let data = args.data.display().to_string();
        write_json_line(&mut out, &EvalJson { model, data, flag: &at_flag, review: &at_review })?;
    } else {
        print_report(&mut out, &at_flag, &model)?;
        if (review - flag).abs() > f32::EPSILON {
            writeln!(
                out,
                "\nat the review threshold {review:.3}: precision {:.4}, recall {:.4}, F1 {:.4}",
                at_review.precision, at_review.recall, at_review.f1
            )?;
        }
    }
    out.flush()?;
    Ok(Exit::Success)
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
        let rows = read_labeled(&csv, InputFormat::Csv, None, "label").unwrap();
        assert_eq!(rows, [("Bleach cures it, they say".to_owned(), true), ("Cases rose".to_owned(), false)]);
        let jsonl = dir.path().join("d.jsonl");
        std::fs::write(&jsonl, "{\"text\":\"a\",\"label\":1}\n\n{\"text\":\"b\",\"label\":\"reliable\"}\n").unwrap();
        assert_eq!(read_labeled(&jsonl, InputFormat::Jsonl, None, "label").unwrap().len(), 2);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("d.csv");
        std::fs::write(&csv, "text,label\nok,1\nbad,perhaps\n").unwrap();
        let error = read_labeled(&csv, InputFormat::Csv, None, "label").unwrap_err().to_string();
        assert!(error.contains("line 3"), "{error}");
        std::fs::write(&csv, "body,label\nx,1\n").unwrap();
        assert!(read_labeled(&csv, InputFormat::Csv, None, "label")
            .unwrap_err()
            .to_string()
            .contains("no text column"));
    }
}
