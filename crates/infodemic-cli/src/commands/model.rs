//! `infodemic model info|verify`: what the model is, and whether its files are intact.

use std::io::{self, Write};
use std::time::Instant;

use clap::{Args, Subcommand};
use infodemic_classifier::selftest::{self, cpu_int8_path, SelftestReport};
use infodemic_classifier::{Classify, ModelManifest, OnnxClassifier, SessionOptions};
use infodemic_pipeline::locate_model_dir;
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::exit::Exit;
use crate::output::write_json_line;

#[derive(Debug, Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub command: ModelCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// The manifest: identity, labels, thresholds, languages, training data, metrics
    Info {
        /// The manifest as one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Check every file against its sha256, load the graph and tokenizer, and run the self-test
    Verify {
        /// The result as one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Score the model's recorded texts and compare with the outputs its build recorded:
    /// does this machine score as ours does? Exit 1 when a deviation is over tolerance
    Selftest {
        /// The result as one JSON object
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct Verified {
    model_dir: String,
    runtime: String,
    id: String,
    version: String,
    files_checked: usize,
    load_ms: u128,
    test_score: f32,
    /// The self-test, for models that record one.
    selftest: Option<SelftestJson>,
}

#[derive(Serialize)]
struct SelftestJson {
    #[serde(flatten)]
    report: SelftestReport,
    cpu_int8_path: Option<&'static str>,
}

pub fn run(args: &ModelArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    match args.command {
        ModelCommand::Info { json } => info(global, json),
        ModelCommand::Verify { json } => verify(global, json),
        ModelCommand::Selftest { json } => selftest_command(global, json),
    }
}

fn info(global: &GlobalArgs, json: bool) -> anyhow::Result<Exit> {
    let dir = locate_model_dir(global.model.as_deref())?;
    let manifest = ModelManifest::read(&dir.path)?;
    let mut out = crate::output::stdout();
    if json {
        write_json_line(&mut out, &manifest)?;
        return Ok(Exit::Success);
    }
    let model = &manifest.model;
    writeln!(out, "{} {}  ({})", model.id, model.version, dir.path.display())?;
    if !model.description.is_empty() {
        writeln!(out, "{}", model.description)?;
    }
    writeln!(out)?;
    for (key, value) in &model.extra {
        writeln!(out, "{key:<14}{}", plain(value))?;
    }
    writeln!(out, "{:<14}{}", "labels", model.labels.join(", "))?;
    writeln!(out, "{:<14}{} tokens per window, {}-d embedding", "limits", model.max_tokens, model.embedding_dim)?;
    let languages = if model.languages.is_empty() { "not stated".to_owned() } else { model.languages.join(", ") };
    writeln!(out, "{:<14}{languages}", "languages")?;
    writeln!(out, "\nthresholds")?;
    match &manifest.thresholds {
        Some(thresholds) => {
            for (name, threshold) in [("review", &thresholds.review), ("flag", &thresholds.flag)] {
                let figures: Vec<String> = threshold.figures.iter().map(|(k, v)| format!("{k} {}", plain(v))).collect();
                writeln!(out, "  {name:<8}{:.3}  {}", threshold.value, figures.join(", "))?;
            }
        }
        None => writeln!(out, "  flag    {:.3}  (one threshold: review = flag)", manifest.flag_threshold())?,
    }
    if let Some(calibration) = &manifest.calibration {
        writeln!(out, "\ncalibration")?;
        for (key, value) in calibration {
            writeln!(out, "  {key:<20}{}", plain(value))?;
        }
    }
    writeln!(out, "\ntraining")?;
    for (key, value) in &manifest.training {
        writeln!(out, "  {key:<20}{}", plain(value))?;
    }
    writeln!(out, "\nvalidation metrics")?;
    for (set, metrics) in &manifest.metrics {
        let figures: Vec<String> = metrics.iter().map(|(k, v)| format!("{k} {}", plain(v))).collect();
        writeln!(out, "  {set}: {}", figures.join(", "))?;
    }
    writeln!(out, "\nfiles")?;
    for entry in [&manifest.files.graph, &manifest.files.tokenizer] {
        writeln!(out, "  {:<16}sha256 {}", entry.path, entry.sha256)?;
    }
    Ok(Exit::Success)
}

/// TOML values as people read them: strings without quotes, floats shortened.
fn plain(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => format!("{f:.4}"),
        toml::Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn verify(global: &GlobalArgs, json: bool) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let loaded = global.load_model(SessionOptions::default())?;
    let load_ms = started.elapsed().as_millis();
    let mut classifier = loaded.classifier;
    let test = classifier.classify(&["Drinking bleach cures COVID-19.".to_owned()])?;
    let selftest = run_selftest(&mut classifier, loaded.selftest.as_deref())?;
    let verified = Verified {
        model_dir: loaded.model_dir.path.display().to_string(),
        runtime: loaded.library.path.display().to_string(),
        id: classifier.model().id.clone(),
        version: classifier.model().version.clone(),
        files_checked: 2 + usize::from(loaded.selftest.is_some()),
        load_ms,
        test_score: test.first().map_or(f32::NAN, |c| c.score),
        selftest,
    };
    let mut out = crate::output::stdout();
    if json {
        write_json_line(&mut out, &verified)?;
    } else {
        writeln!(out, "ok: {} {} ({})", verified.id, verified.version, verified.model_dir)?;
        writeln!(out, "  graph and tokenizer match their sha256 in model.toml")?;
        writeln!(out, "  graph interface and tokenizer vocabulary match the manifest")?;
        writeln!(out, "  loaded with {} in {} ms", verified.runtime, verified.load_ms)?;
        writeln!(out, "  test text scored {:.4}", verified.test_score)?;
        match &verified.selftest {
            Some(s) => print_selftest(&mut out, s)?,
            None => writeln!(out, "  no self-test recorded for this model")?,
        }
    }
    Ok(if verified.selftest.as_ref().is_some_and(|s| !s.report.passed) { Exit::Failure } else { Exit::Success })
}

fn run_selftest(classifier: &mut OnnxClassifier, recorded: Option<&[u8]>) -> anyhow::Result<Option<SelftestJson>> {
    let Some(bytes) = recorded else { return Ok(None) };
    let cases = selftest::parse_cases(bytes)?;
    let tolerance = classifier.manifest().selftest.unwrap_or_default();
    let report = selftest::run(classifier, &cases, tolerance)?;
    Ok(Some(SelftestJson { report, cpu_int8_path: cpu_int8_path() }))
}

fn print_selftest(out: &mut impl Write, s: &SelftestJson) -> io::Result<()> {
    let r = &s.report;
    let verdict = if r.passed { "passed" } else { "FAILED" };
    writeln!(out, "  self-test {verdict}: {} recorded texts scored here, one at a time", r.cases)?;
    writeln!(
        out,
        "    largest score deviation {:.2e} (tolerance {:.0e}), worst on {:?}",
        r.max_score_deviation,
        r.tolerance.score,
        infodemic_core::text::ellipsize(&r.worst_text, 60)
    )?;
    writeln!(
        out,
        "    smallest embedding cosine {:.6} (tolerance {}), flag decisions changed: {}",
        r.min_embedding_cosine, r.tolerance.embedding_cosine, r.decisions_changed
    )?;
    if let Some(path) = s.cpu_int8_path {
        writeln!(out, "    this CPU's int8 kernels: {path}")?;
    }
    if !r.passed {
        writeln!(
            out,
            "    this machine does not score as the build machine did: scores here are not comparable with \
             those stored elsewhere (report it with the lines above)"
        )?;
    }
    Ok(())
}

fn selftest_command(global: &GlobalArgs, json: bool) -> anyhow::Result<Exit> {
    let loaded = global.load_model(SessionOptions { intra_threads: 1, batch_size: Some(1) })?;
    let mut classifier = loaded.classifier;
    let Some(result) = run_selftest(&mut classifier, loaded.selftest.as_deref())? else {
        anyhow::bail!("model {} records no self-test ([files.selftest] in its model.toml)", classifier.model().id);
    };
    let mut out = crate::output::stdout();
    if json {
        write_json_line(&mut out, &result)?;
    } else {
        writeln!(
            out,
            "{} {} ({})",
            classifier.model().id,
            classifier.model().version,
            loaded.model_dir.path.display()
        )?;
        print_selftest(&mut out, &result)?;
    }
    Ok(if result.report.passed { Exit::Success } else { Exit::Failure })
}
