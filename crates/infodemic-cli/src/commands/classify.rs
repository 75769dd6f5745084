//! `infodemic classify [FILE]`: score texts, one per line (plain or JSON lines), optionally
//! against their labels.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;

use clap::Args;
use infodemic_classifier::{Classify, SessionOptions};
use infodemic_core::metrics::{evaluate_decisions, BinaryReport};
use infodemic_core::text::ellipsize;
use serde::Serialize;
use serde_json::Value;

use crate::cli::GlobalArgs;
use crate::commands::eval::{parse_label, print_report};
use crate::exit::{Exit, UsageError};
use crate::output::{score_cell, write_json_line, EvidenceRow};
use crate::progress::counter;

/// Texts read and scored per round: bounds memory on large inputs.
const CHUNK: usize = 512;

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Input file; stdin when absent or `-`. Plain text (one text per line) or JSON lines with
    /// a `text` field (and optionally `label` and `id`)
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// One JSON object per input text, in input order
    #[arg(long)]
    pub json: bool,

    /// Compare with the `label` of every line (1/misinformation/fake vs 0/reliable/real) and
    /// print precision, recall, F1, ROC AUC and the confusion matrix
    #[arg(long)]
    pub eval: bool,

    /// Skip the evidence sentences of texts worth a review (faster: one inference per text)
    #[arg(long)]
    pub no_evidence: bool,

    /// Decision threshold [default: the model's, from its manifest]
    #[arg(long, value_parser = threshold_arg)]
    pub threshold: Option<f32>,

    /// Texts per inference run [default: 8 for a batch-invariant model, else 1, so that a
    /// text's score never depends on what it is scored with]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub batch_size: Option<u16>,

    /// Threads for inference [default: all cores]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

fn threshold_arg(value: &str) -> Result<f32, String> {
    match value.parse::<f32>() {
        Ok(t) if (0.0..=1.0).contains(&t) => Ok(t),
        _ => Err(format!("`{value}` is not a number in 0..1")),
    }
}

/// One input text.
#[derive(Debug)]
struct Input {
    line: usize,
    text: String,
    label: Option<bool>,
    id: Option<Value>,
}

#[derive(Serialize)]
struct Output<'a> {
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    /// Calibrated probability of misinformation; null for a language the model does not know.
    score: Option<f32>,
    flagged: bool,
    review: bool,
    label: &'static str,
    language: Option<&'a str>,
    language_supported: bool,
    /// P(states a checkable claim), for models with a claim head.
    #[serde(skip_serializing_if = "Option::is_none")]
    claim: Option<f32>,
    /// P(refutes a claim), for models with a refute head.
    #[serde(skip_serializing_if = "Option::is_none")]
    refute: Option<f32>,
    /// Why it was (not) flagged.
    reasons: &'a [String],
    evidence: Vec<EvidenceRow<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<&'static str>,
}

#[derive(Serialize)]
struct EvalOutput<'a> {
    model: String,
    #[serde(flatten)]
    report: &'a BinaryReport,
}

fn label_name(misinformation: bool) -> &'static str {
    if misinformation {
        "misinformation"
    } else {
        "reliable"
    }
}

fn parse_line(line_number: usize, line: &str) -> Result<Option<Input>, UsageError> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if !trimmed.starts_with('{') {
        return Ok(Some(Input { line: line_number, text: trimmed.to_owned(), label: None, id: None }));
    }
    let bad = |why: String| UsageError(format!("line {line_number}: {why}"));
    let mut object = match serde_json::from_str::<Value>(trimmed) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err(bad("expected a JSON object".to_owned())),
        Err(error) => return Err(bad(format!("invalid JSON: {error}"))),
    };
    let text = match object.remove("text") {
        Some(Value::String(text)) => text,
        Some(_) => return Err(bad("`text` must be a string".to_owned())),
        None => return Err(bad("no `text` field".to_owned())),
    };
    let label = match object.get("label") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            parse_label(value)
                .ok_or_else(|| bad(format!("label {value} is neither 1/misinformation/fake nor 0/reliable/real")))?,
        ),
    };
    Ok(Some(Input { line: line_number, text, label, id: object.remove("id") }))
}

pub fn run(args: &ClassifyArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let reader: Box<dyn BufRead> = match args.file.as_deref() {
        None => Box::new(io::stdin().lock()),
        Some(path) if path.as_os_str() == "-" => Box::new(io::stdin().lock()),
        Some(path) => Box::new(BufReader::new(
            File::open(path).map_err(|e| UsageError(format!("cannot open {}: {e}", path.display())))?,
        )),
    };
    let mut options = SessionOptions { batch_size: args.batch_size.map(usize::from), ..SessionOptions::default() };
    if let Some(threads) = args.threads {
        options.intra_threads = usize::from(threads);
    }
    let mut classifier = global.load_model(options)?.classifier;
    classifier.set_evidence(!args.no_evidence && !args.eval);
    // `--threshold` replaces the flag threshold of the model's policy (the claim gate stays).
    let mut policy = classifier.policy();
    if let Some(threshold) = args.threshold {
        policy.flag = threshold;
        policy.review = policy.review.min(threshold);
    }
    let threshold = policy.flag;
    let model_name = format!("{} {}", classifier.model().id, classifier.model().version);

    let progress = counter(global.quiet || !args.eval, "texts scored");
    let mut out = io::BufWriter::new(crate::output::stdout());
    let (mut scores, mut flags, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    let mut chunk: Vec<Input> = Vec::with_capacity(CHUNK);
    let mut lines = reader.lines().enumerate();
    loop {
        let next = lines.next();
        let at_end = next.is_none();
        if let Some((index, line)) = next {
            let line = line.map_err(|e| UsageError(format!("cannot read input line {}: {e}", index + 1)))?;
            if let Some(input) = parse_line(index + 1, &line)? {
                if args.eval && input.label.is_none() {
                    return Err(UsageError(format!(
                        "line {}: no label; --eval needs a `label` on every line (JSON lines with `text` and `label`)",
                        input.line
                    ))
                    .into());
                }
                chunk.push(input);
            }
        }
        if chunk.len() < CHUNK && !at_end {
            continue;
        }
        let texts: Vec<String> = chunk.iter().map(|input| input.text.clone()).collect();
        let mut classifications = classifier.classify(&texts)?;
        progress.inc(chunk.len() as u64);
        for (input, class) in chunk.iter().zip(&mut classifications) {
            class.redecide(&policy, None);
            let (flagged, review) = (class.flagged, class.review);
            if args.eval {
                scores.push(class.score);
                flags.push(flagged);
                labels.push(input.label.unwrap_or_default());
            } else if args.json {
                let output = Output {
                    line: input.line,
                    id: input.id.as_ref(),
                    score: class.shown_score(),
                    flagged,
                    review,
                    label: label_name(flagged),
                    language: class.language.as_deref(),
                    language_supported: class.language_supported,
                    claim: class.claim,
                    refute: class.refute,
                    reasons: &class.reasons,
                    evidence: class.evidence.iter().map(|e| EvidenceRow { text: &e.text, score: e.score }).collect(),
                    expected: input.label.map(label_name),
                };
                write_json_line(&mut out, &output)?;
            } else {
                let level = if flagged {
                    "FLAG"
                } else if review {
                    "review"
                } else {
                    ""
                };
                writeln!(out, "{:<9}  {level:<6}  {}", score_cell(class), ellipsize(&input.text, 100))?;
            }
        }
        chunk.clear();
        if at_end {
            break;
        }
    }
    progress.finish_and_clear();
    if args.eval {
        if scores.is_empty() {
            return Err(UsageError("no labeled texts in the input".to_owned()).into());
        }
        let report = evaluate_decisions(&scores, &flags, &labels, threshold);
        if args.json {
            write_json_line(&mut out, &EvalOutput { model: model_name, report: &report })?;
        } else {
            print_report(&mut out, &report, &model_name)?;
        }
    }
    out.flush()?;
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_json_lines() {
        assert!(parse_line(1, "   ").unwrap().is_none());
        let plain = parse_line(2, " hello ").unwrap().unwrap();
        assert_eq!((plain.text.as_str(), plain.label), ("hello", None));
        let json = parse_line(3, r#"{"text":"t","label":"fake","id":7}"#).unwrap().unwrap();
        assert_eq!((json.text.as_str(), json.label, json.id), ("t", Some(true), Some(Value::from(7))));
        assert_eq!(parse_line(4, r#"{"text":"t","label":0}"#).unwrap().unwrap().label, Some(false));
    }

    #[test]
    fn reports_bad_lines_with_their_number() {
        for (line, needle) in [
            (r#"{"text": 3}"#, "must be a string"),
            (r#"{"label": 1}"#, "no `text`"),
            (r#"{"text":"t","label":"maybe"}"#, "neither"),
            ("{not json", "invalid JSON"),
        ] {
            let error = parse_line(9, line).unwrap_err().to_string();
            assert!(error.starts_with("line 9:") && error.contains(needle), "{error}");
        }
    }
}
