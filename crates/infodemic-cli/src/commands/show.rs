//! `infodemic show ID`: everything stored about one item.

use std::io::Write;

use clap::Args;
use infodemic_core::ItemId;

use crate::cli::GlobalArgs;
use crate::exit::{Exit, UsageError};
use crate::output::{score_cell, write_json_line, ItemRow};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Item id (16 hex characters, as listed by `infodemic query`)
    #[arg(value_name = "ID", value_parser = id_arg)]
    pub id: ItemId,

    /// One JSON object, embedding included
    #[arg(long)]
    pub json: bool,
}

fn id_arg(value: &str) -> Result<ItemId, String> {
    value.parse().map_err(|e: infodemic_core::IdParseError| e.to_string())
}

pub fn run(args: &ShowArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let backend = global.open_backend(false)?;
    let found = match &backend {
        Some(backend) => backend
            .reader()
            .get(args.id)?
            .map(|scored| (scored, backend.reader().appearances(args.id), backend.reviews().verdicts(args.id))),
        None => None,
    };
    let Some((scored, appearances, verdicts)) = found else {
        return Err(UsageError(format!("no item with id {}", args.id)).into());
    };
    let appearances = appearances?;
    let verdicts = verdicts?;
    let review = infodemic_core::ReviewState::derive(&verdicts);
    let mut out = crate::output::stdout();
    if args.json {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            item: ItemRow<'a>,
            links: &'a [String],
            appearances: &'a [infodemic_core::Appearance],
            /// The current verdict, or null.
            verdict: Option<&'a str>,
            /// Whether the reviewers with a standing verdict agree.
            agreement: infodemic_core::Agreement,
            /// Each reviewer's standing verdict.
            standing: &'a [infodemic_core::review::StandingVerdict],
            /// Every event, oldest first.
            verdicts: &'a [infodemic_core::VerdictEvent],
        }
        let shown = Shown {
            item: ItemRow::new(&scored, true),
            links: &scored.item.links,
            appearances: &appearances,
            verdict: review.current.as_deref(),
            agreement: review.agreement,
            standing: &review.standing,
            verdicts: &verdicts,
        };
        write_json_line(&mut out, &shown)?;
        return Ok(Exit::Success);
    }
    let (item, class) = (&scored.item, &scored.classification);
    let field = |out: &mut dyn Write, name: &str, value: &str| writeln!(out, "{name:<14}{value}");
    field(&mut out, "id", &item.id.to_string())?;
    field(&mut out, "title", &item.title)?;
    field(&mut out, "url", &item.url)?;
    if item.canonical_url != item.url {
        field(&mut out, "canonical", &item.canonical_url)?;
    }
    field(&mut out, "source", item.source.as_str())?;
    field(&mut out, "author", item.author.as_deref().unwrap_or("-"))?;
    field(&mut out, "published", &item.published.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339()))?;
    field(&mut out, "fetched", &item.fetched_at.to_rfc3339())?;
    field(&mut out, "language", item.language.as_deref().unwrap_or("unknown"))?;
    let verdict = if class.flagged {
        "flagged: likely misinformation"
    } else if class.review {
        "worth a review"
    } else if !class.language_supported {
        "not scored: the model was not trained for this language"
    } else {
        "not flagged"
    };
    field(&mut out, "score", &format!("{} ({verdict})", score_cell(class)))?;
    for (index, reason) in class.reasons.iter().enumerate() {
        field(&mut out, if index == 0 { "why" } else { "" }, reason)?;
    }
    if let Some(claim) = class.claim {
        let refute = class.refute.map_or_else(String::new, |r| format!(", refutes a claim {r:.2}"));
        field(&mut out, "heads", &format!("states a checkable claim {claim:.2}{refute}"))?;
    }
    field(&mut out, "model", &format!("{} {}", class.model.id, class.model.version))?;
    field(&mut out, "content hash", &item.content_hash.to_string())?;
    field(&mut out, "embedding", &format!("{} dimensions", class.embedding.len()))?;
    for (index, evidence) in class.evidence.iter().enumerate() {
        let name = if index == 0 { "evidence" } else { "" };
        field(&mut out, name, &format!("{:.3}  {}", evidence.score, evidence.text))?;
    }
    if let Some(claim) = &class.claim_match {
        field(&mut out, "known claim", &format!("{} [{}]", claim.claim, claim.verdict))?;
        if let Some(stance) = claim.stance {
            field(&mut out, "", &format!("this item {} it", stance.as_str()))?;
        }
        field(&mut out, "", &format!("similarity {:.3} to: {}", claim.similarity, claim.matched_text))?;
        let reviewer = claim.reviewer.as_deref().unwrap_or("unknown reviewer");
        field(&mut out, "", &format!("{reviewer} {}", claim.review_url.as_deref().unwrap_or("")))?;
    }
    for (index, link) in item.links.iter().enumerate() {
        field(&mut out, if index == 0 { "links" } else { "" }, link)?;
    }
    for (index, appearance) in appearances.iter().enumerate() {
        let relation = match appearance.relation {
            infodemic_core::Relation::SameContent => "same text".to_owned(),
            infodemic_core::Relation::NearDuplicate { distance } => format!("near copy, {distance} bits apart"),
        };
        let line = format!(
            "{} {} ({relation}, seen {})",
            appearance.source,
            appearance.url,
            appearance.seen_at.format("%Y-%m-%d %H:%M")
        );
        field(&mut out, if index == 0 { "also seen" } else { "" }, &line)?;
    }
    match &review.current {
        Some(current) => field(&mut out, "verdict", &format!("{current} ({})", review.agreement))?,
        None => field(&mut out, "verdict", "not reviewed (infodemic review ID --verdict VERDICT)")?,
    }
    if review.agreement == infodemic_core::Agreement::Disagreed {
        for standing in &review.standing {
            field(&mut out, "", &format!("{}: {}", standing.reviewer, standing.verdict))?;
        }
    }
    for (index, event) in verdicts.iter().enumerate() {
        let action = match event.action {
            infodemic_core::ReviewAction::Verdict => event.verdict.clone(),
            infodemic_core::ReviewAction::Undo => format!("undid {}", event.verdict),
        };
        let seen = event.score.map_or_else(|| "-".to_owned(), |s| format!("{s:.2}"));
        let note = event.note.as_deref().map_or_else(String::new, |n| format!(": {n}"));
        let line = format!(
            "{} {} {action} (saw {seen}, {} {}){note}",
            event.time.format("%Y-%m-%d %H:%M"),
            event.reviewer,
            event.model.id,
            event.model.version
        );
        field(&mut out, if index == 0 { "history" } else { "" }, &line)?;
    }
    writeln!(out)?;
    writeln!(out, "{}", item.text)?;
    out.flush()?;
    Ok(Exit::Success)
}
