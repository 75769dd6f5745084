//! Whether an item is flagged, and why: one pure function over the model's outputs, the
//! model's thresholds and the item's source category, so that `show` can say exactly what
//! decided and nothing is overridden out of sight.
//!
//! The rules, in order:
//! 1. a text in a language the model was not trained for is never flagged;
//! 2. the score is shifted by the source category's prior (a logit offset, documented per
//!    category in the model's manifest, 0 for unknown sources), and compared with the review
//!    and flag thresholds;
//! 3. a model with a claim head flags only texts that state a checkable claim (claim
//!    probability at or above its gate): questions, greetings and notices are never flagged,
//!    whatever the score;
//! 4. a match with a known debunked claim makes an item worth a review when the item does not
//!    refute it (applied by the claim matcher, recorded here as a reason).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::FeedCategory;

/// Thresholds and priors a model ships with (`model.toml`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DecisionPolicy {
    /// Adjusted score at or above this: worth a review.
    pub review: f32,
    /// Adjusted score at or above this: likely misinformation.
    pub flag: f32,
    /// Claim probability a flagged text needs (models with a claim head).
    pub claim_gate: Option<f32>,
    /// Logit offset per source category (missing categories: 0).
    pub source_prior: BTreeMap<FeedCategory, f32>,
}

/// What the model said about one text, before any decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelOutputs {
    /// Calibrated P(misinformation).
    pub score: f32,
    /// P(states a checkable claim), for models with that head.
    pub claim: Option<f32>,
    /// P(refutes a claim), for models with that head.
    pub refute: Option<f32>,
    /// Whether the model was trained for the text's language.
    pub language_supported: bool,
}

/// The decision and its reasons, as people read them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Likely misinformation.
    pub flagged: bool,
    /// Worth a fact-checker's look (implied by `flagged`).
    pub review: bool,
    /// The score the thresholds were compared with (the model's, shifted by the source prior).
    pub adjusted_score: f32,
    /// Why, one sentence each, most decisive first.
    pub reasons: Vec<String>,
}

impl DecisionPolicy {
    /// The logit offset for a source category (0 when none is configured).
    pub fn prior(&self, category: Option<FeedCategory>) -> f32 {
        category.and_then(|c| self.source_prior.get(&c)).copied().unwrap_or(0.0)
    }

    /// Decides for one text. `category` is the source's category when the text came from a
    /// feed (`None` for texts given on the command line: no prior).
    pub fn decide(&self, outputs: ModelOutputs, category: Option<FeedCategory>) -> Decision {
        let mut reasons = Vec::new();
        if !outputs.language_supported {
            reasons.push("not scored: the model was not trained for this language".to_owned());
            return Decision { flagged: false, review: false, adjusted_score: outputs.score, reasons };
        }
        let offset = self.prior(category);
        let adjusted = shift(outputs.score, offset);
        let over_flag = adjusted >= self.flag;
        let mut review = adjusted >= self.review;
        let gate = self.claim_gate.zip(outputs.claim);
        let is_claim = gate.is_none_or(|(gate, claim)| claim >= gate);
        if let Some((gate, claim)) = gate.filter(|_| !is_claim) {
            reasons.push(format!("not a checkable claim (claim {claim:.2} < {gate:.2}): never flagged"));
            // Questions and chatter are not worth a review on their score alone either.
            review = false;
        }
        let score = if offset == 0.0 { "score" } else { "score after the source prior" };
        reasons.push(if over_flag {
            format!("{score} {adjusted:.2} >= flag threshold {:.2}", self.flag)
        } else if adjusted >= self.review {
            format!("{score} {adjusted:.2} >= review threshold {:.2} (flag at {:.2})", self.review, self.flag)
        } else {
            format!("{score} {adjusted:.2} < review threshold {:.2}", self.review)
        });
        if let Some(category) = category.filter(|_| offset != 0.0) {
            reasons.push(format!(
                "source category {}: prior {offset:+.1} on the logit moved the score from {:.2} to {adjusted:.2}",
                category.as_str(),
                outputs.score
            ));
        }
        if let Some((gate, claim)) = gate.filter(|_| is_claim && over_flag) {
            reasons.push(format!("states a checkable claim (claim {claim:.2} >= {gate:.2})"));
        }
        if let Some(refute) = outputs.refute.filter(|&r| r >= REFUTE_GATE) {
            reasons.push(format!("refutes a claim (refute {refute:.2})"));
        }
        let mut flagged = over_flag && is_claim;
        flagged &= outputs.language_supported;
        review |= flagged;
        Decision { flagged, review, adjusted_score: adjusted, reasons }
    }
}

/// Refute probability at or above which a text counts as refuting what it is about.
pub const REFUTE_GATE: f32 = 0.5;

/// `sigmoid(logit(p) + offset)`, safe at 0 and 1.
fn shift(p: f32, offset: f32) -> f32 {
    if offset == 0.0 {
        return p;
    }
    let p = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
    let z = (p / (1.0 - p)).ln() + f64::from(offset);
    #[allow(clippy::cast_possible_truncation)] // A probability fits an f32.
    let shifted = (1.0 / (1.0 + (-z).exp())) as f32;
    shifted
}

/// How an item stands toward a known claim it matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stance {
    /// The item asserts the claim (or something close).
    Repeats,
    /// The item refutes it (a fact-check, a correction).
    Refutes,
    /// The item is about it without clearly doing either (news, questions).
    Mentions,
}

impl Stance {
    /// The stance of a text toward a claim it matched: refuting when the model's refute head
    /// says so, repeating when the text is itself flagged (it asserts a false claim), else
    /// mentioning (news, questions, reports).
    pub fn of(refute: Option<f32>, flagged: bool) -> Self {
        if refute.is_some_and(|r| r >= REFUTE_GATE) {
            Stance::Refutes
        } else if flagged {
            Stance::Repeats
        } else {
            Stance::Mentions
        }
    }

    /// Lowercase name, as in JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Repeats => "repeats",
            Stance::Refutes => "refutes",
            Stance::Mentions => "mentions",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> DecisionPolicy {
        DecisionPolicy {
            review: 0.3,
            flag: 0.6,
            claim_gate: Some(0.5),
            source_prior: BTreeMap::from([
                (FeedCategory::FactChecker, -1.0),
                (FeedCategory::MisinformationOutlet, 0.5),
            ]),
        }
    }

    fn outputs(score: f32, claim: f32) -> ModelOutputs {
        ModelOutputs { score, claim: Some(claim), refute: Some(0.1), language_supported: true }
    }

    #[test]
    fn a_confident_claim_is_flagged_with_its_reasons() {
        let d = policy().decide(outputs(0.9, 0.95), None);
        assert!(d.flagged && d.review);
        assert!(d.reasons[0].starts_with("score 0.90 >= flag threshold 0.60"), "{:?}", d.reasons);
        assert!(d.reasons[1].starts_with("states a checkable claim"), "{:?}", d.reasons);
    }

    #[test]
    fn questions_and_chatter_are_never_flagged_whatever_the_score() {
        let d = policy().decide(outputs(0.99, 0.1), None);
        assert!(!d.flagged && !d.review);
        assert!(d.reasons[0].starts_with("not a checkable claim"), "{:?}", d.reasons);
    }

    #[test]
    fn the_source_prior_shifts_the_score_visibly_both_ways() {
        let checker = policy().decide(outputs(0.7, 0.9), Some(FeedCategory::FactChecker));
        assert!(!checker.flagged, "0.7 at -1 logit is below 0.6: {checker:?}");
        assert!((checker.adjusted_score - 0.4619).abs() < 1e-3);
        assert!(checker.reasons[0].starts_with("score after the source prior 0.46 >= review"), "{:?}", checker.reasons);
        assert!(checker.reasons[1].contains("fact-checker"), "{:?}", checker.reasons);
        let outlet = policy().decide(outputs(0.55, 0.9), Some(FeedCategory::MisinformationOutlet));
        assert!(outlet.flagged, "0.55 at +0.5 logit passes 0.6: {outlet:?}");
        let unknown = policy().decide(outputs(0.55, 0.9), Some(FeedCategory::Other));
        assert!(!unknown.flagged && unknown.review && (unknown.adjusted_score - 0.55).abs() < 1e-6);
    }

    #[test]
    fn unsupported_languages_and_models_without_heads() {
        let mut o = outputs(0.99, 0.99);
        o.language_supported = false;
        assert!(!policy().decide(o, None).flagged);
        let old = ModelOutputs { score: 0.7, claim: None, refute: None, language_supported: true };
        let d = policy().decide(old, None);
        assert!(d.flagged, "no claim head: the score alone decides");
        assert_eq!(d.reasons, vec!["score 0.70 >= flag threshold 0.60".to_owned()]);
    }

    #[test]
    fn refutations_are_named() {
        let o = ModelOutputs { score: 0.1, claim: Some(0.9), refute: Some(0.95), language_supported: true };
        let d = policy().decide(o, None);
        assert!(!d.flagged);
        assert!(d.reasons.iter().any(|r| r.starts_with("refutes a claim")), "{:?}", d.reasons);
        assert_eq!(Stance::of(Some(0.95), true), Stance::Refutes);
        assert_eq!(Stance::of(Some(0.2), true), Stance::Repeats);
        assert_eq!(Stance::of(None, false), Stance::Mentions);
    }

    #[test]
    fn shifting_is_bounded() {
        assert!(shift(1.0, 5.0) <= 1.0 && shift(0.0, -5.0) >= 0.0);
        assert!(shift(0.5, 0.0) == 0.5);
    }
}
